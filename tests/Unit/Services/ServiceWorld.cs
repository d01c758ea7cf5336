using System.Text;
using AgentGovernance.Apply;
using AgentGovernance.Approval;
using AgentGovernance.Changes;
using AgentGovernance.Directory;
using AgentGovernance.Exposure;
using AgentGovernance.Ledger;
using AgentGovernance.Policy;
using AgentGovernance.Providers;
using AgentGovernance.Stores;
using AgentGovernance.Tests.Support;

namespace AgentGovernance.Tests.Services;

/// <summary>
/// The approval and apply services driven directly, without a runspace: the tiny tenant as a snapshot
/// file (the directory changes are applied to), a folder store and ledger signer in a temporary folder,
/// and a policy whose approvers hold in-memory keys.
/// </summary>
internal sealed class ServiceWorld : IDisposable
{
    /// <summary>Keys made once per run: carol (in the tenant), erin and frank (not in it), bob (the requester), sp-bot (the agent), mallory (listed nowhere).</summary>
    private static readonly Lazy<Dictionary<string, SigningKey>> KeySet = new(() => new[]
        {
            "carol@tiny.example", "erin@example.org", "frank@example.org", "bob@tiny.example", "sp-bot", "mallory@example.org",
        }.ToDictionary(n => n, _ => SigningKey.NewEcdsa(), StringComparer.Ordinal));

    private static readonly string[] DefaultApprovers = { "carol@tiny.example", "erin@example.org", "frank@example.org", "bob@tiny.example", "sp-bot" };

    private readonly List<IDisposable> _open = new();

    public ServiceWorld(string extraPolicy = "")
    {
        Temp = new TempDir();
        SnapshotWriter.WriteFile(SnapshotReader.ParseText(CmdletTestData.Snapshot), SnapshotPath);
        Policy = PolicyWith(extraPolicy);
        OpenStore = () => FolderStore.Open(StorePath);
    }

    public TempDir Temp { get; }

    public string SnapshotPath => Temp["tiny.snapshot.json"];

    public string StorePath => Temp["store"];

    public string SignerPath => Temp["keys/signer.json"];

    public GovernancePolicy Policy { get; set; }

    /// <summary>Opens the store every handle of the world works on (a folder store in <see cref="StorePath"/> unless replaced).</summary>
    public Func<IGovernanceStore> OpenStore { get; set; }

    public static SigningKey Key(string name) => KeySet.Value[name.Contains('@') || name == "sp-bot" ? name : KeySet.Value.Keys.Single(k => k.StartsWith(name + "@", StringComparison.Ordinal))];

    /// <summary>A policy whose approvers are <see cref="DefaultApprovers"/>, with extra .psd1 lines.</summary>
    public static GovernancePolicy PolicyWith(string extra = "", IEnumerable<string>? approvers = null)
    {
        var sb = new StringBuilder("@{\n    AgentIdentities = @('alice@tiny.example')\n    Approvers = @(\n");
        foreach (var a in approvers ?? DefaultApprovers)
        {
            sb.Append($"        @{{ Id = '{a}'; PublicKey = '{KeySet.Value[a].PublicKey.Base64}' }}\n");
        }

        sb.Append("    )\n").Append(extra).Append("}\n");
        return PolicyReader.Parse(sb.ToString(), "policy.psd1");
    }

    /// <summary>The directory as the snapshot file holds it now.</summary>
    public AccessSnapshot Directory => SnapshotReader.ReadFile(SnapshotPath);

    /// <summary>A fresh handle on the store (what one command opens), disposed with the world.</summary>
    public GovernanceHandle Handle(bool writes = true, GovernancePolicy? policy = null, IGovernanceStore? store = null)
    {
        var handle = GovernanceHandle.Open(store ?? OpenStore(), SignerPath, policy ?? Policy, Directory, writes);
        _open.Add(handle);
        return handle;
    }

    public ApprovalService Approvals(bool writes = true, GovernancePolicy? policy = null) => Handle(writes, policy).Approvals;

    /// <summary>The apply service on the snapshot file (or on <paramref name="directory"/>).</summary>
    public ApplyService Apply(IDirectoryProvider? directory = null, GovernancePolicy? policy = null, IGovernanceStore? store = null)
    {
        var d = directory ?? new SnapshotFileProvider(SnapshotPath);
        _open.Add(d);
        return Handle(policy: policy, store: store).Apply(d);
    }

    /// <summary>Opens a request for a change document, assessed on the directory as it is.</summary>
    public ApprovalRequest Open(string changeJson = CmdletTestData.GrantChange, OpenRequestOptions? options = null, GovernancePolicy? policy = null)
    {
        var p = policy ?? Policy;
        var change = ChangeReader.ParseText(changeJson);
        var report = ApprovalService.Strictest(ExposureEngine.Assess(Directory, change, p), p);
        return Approvals(policy: p).Open(report, options ?? new OpenRequestOptions { DirectoryLocation = SnapshotPath });
    }

    public ApprovalRequest Decide(string requestId, string approver, DecisionKind kind = DecisionKind.Approve, GovernancePolicy? policy = null) =>
        Approvals(policy: policy).Decide(requestId, Key(approver), kind, null);

    /// <summary>A request with its quorum (carol and erin by default).</summary>
    public ApprovalRequest Approved(string changeJson = CmdletTestData.GrantChange, params string[] approvers)
    {
        var request = Open(changeJson);
        foreach (var a in approvers.Length == 0 ? new[] { "carol", "erin" } : approvers)
        {
            request = Decide(request.RequestId, a);
        }

        return request;
    }

    public ApprovalRequest Get(string requestId) => Approvals(writes: false).Get(requestId);

    /// <summary>The whole ledger as the store holds it.</summary>
    public List<LedgerEntry> Ledger()
    {
        using var store = OpenStore();
        return new AuditLedger(store, null).Read().ToList();
    }

    /// <summary>The whole ledger verified as Test-GovernanceAuditLog verifies it.</summary>
    public LedgerVerification Verify()
    {
        using var handle = GovernanceHandle.Open(OpenStore(), SignerPath, Policy, null, writes: false);
        return handle.Verify();
    }

    public static bool HasGrant(AccessSnapshot s, string resource, string principal, string role) =>
        s.Grants.Any(g => g.ResourceId == resource && g.PrincipalId == principal && g.Role == role);

    /// <summary>Three operations, none in effect in the tiny tenant (as the cmdlet tests' crash change).</summary>
    public static string ThreeOperations => CmdletTestData.Change(
        "{ \"op\": \"addMember\", \"group\": \"g-data\", \"member\": \"u-alice\" }, " +
        "{ \"op\": \"grant\", \"resource\": \"site-general\", \"principal\": \"u-bob\", \"role\": \"write\" }, " +
        "{ \"op\": \"setVisibility\", \"group\": \"g-team\", \"visibility\": \"Public\" }",
        "\"requestedBy\": \"bob@tiny.example\", \"title\": \"Three steps\"");

    /// <summary>A harmless grant for eight hours, asked for by bob.</summary>
    public static string TimeBoxed => CmdletTestData.Change(
        "{ \"op\": \"grant\", \"resource\": \"site-general\", \"principal\": \"u-joe\", \"role\": \"read\" }",
        "\"requestedBy\": \"bob@tiny.example\", \"title\": \"Joe reads the general site\", \"duration\": \"PT8H\"");

    public void Dispose()
    {
        for (var i = _open.Count - 1; i >= 0; i--)
        {
            _open[i].Dispose();
        }

        Temp.Dispose();
    }
}

/// <summary>A directory that counts its writes and can fail one operation or run a hook after each write.</summary>
internal sealed class WatchedDirectory : IDirectoryProvider
{
    private readonly IDirectoryProvider _inner;

    public WatchedDirectory(IDirectoryProvider inner) => _inner = inner;

    public List<string> Writes { get; } = new();

    /// <summary>Called after each write, with how many there were.</summary>
    public Action<int>? AfterWrite { get; set; }

    /// <summary>The 1-based write that fails with a GovernanceException (0: none).</summary>
    public int FailAt { get; set; }

    public string Kind => _inner.Kind;

    public string Location => _inner.Location;

    public string TenantId => _inner.TenantId;

    public AccessSnapshot ReadState(AccessChange change) => _inner.ReadState(change);

    public OperationPlan Plan(AccessOperation operation) => _inner.Plan(operation);

    public AppliedOperation Apply(OperationPlan plan)
    {
        Count("apply " + plan.Operation);
        var done = _inner.Apply(plan);
        AfterWrite?.Invoke(Writes.Count);
        return done;
    }

    public AppliedOperation? Recover(OperationPlan plan) => _inner.Recover(plan);

    public void Revert(AppliedOperation applied)
    {
        Count("revert " + applied.Inverse);
        _inner.Revert(applied);
        AfterWrite?.Invoke(Writes.Count);
    }

    public void Dispose() => _inner.Dispose();

    private void Count(string what)
    {
        Writes.Add(what);
        if (Writes.Count == FailAt)
        {
            throw new GovernanceException("DirectoryWriteFailed", GovernanceErrorKind.WriteError, "the directory refused " + what);
        }
    }
}

/// <summary>
/// A folder store whose request locks are leases a test can declare lost (another worker took the
/// request over, as the table store's lease reports), everything else passed through.
/// </summary>
internal sealed class LeasedStore : IGovernanceStore
{
    private readonly IGovernanceStore _inner;

    public LeasedStore(IGovernanceStore inner) => _inner = inner;

    /// <summary>The leases handed out, newest last.</summary>
    public List<Lease> Leases { get; } = new();

    public string Kind => _inner.Kind;

    public string Location => _inner.Location;

    public string StoreId => _inner.StoreId;

    public IDisposable Lock(TimeSpan timeout) => _inner.Lock(timeout);

    /// <summary>Hands out leases already lost (taken over before the holder's next step).</summary>
    public bool LoseOnTake { get; set; }

    public IDisposable LockRequest(string requestId, TimeSpan timeout)
    {
        var lease = new Lease(_inner.LockRequest(requestId, timeout)) { Lost = LoseOnTake };
        Leases.Add(lease);
        return lease;
    }

    public void CreateRequest(string requestId, byte[] document) => _inner.CreateRequest(requestId, document);

    public byte[]? ReadRequest(string requestId) => _inner.ReadRequest(requestId);

    public IReadOnlyList<string> ListRequests() => _inner.ListRequests();

    public void AddDecision(string requestId, string decisionId, byte[] document) => _inner.AddDecision(requestId, decisionId, document);

    public IReadOnlyList<byte[]> ReadDecisions(string requestId) => _inner.ReadDecisions(requestId);

    public byte[]? ReadLedgerHead() => _inner.ReadLedgerHead();

    public void AppendLedger(IReadOnlyList<byte[]> lines, bool durable) => _inner.AppendLedger(lines, durable);

    public IEnumerable<ArraySegment<byte>> ReadLedger(Action<byte[]>? tornTail = null) => _inner.ReadLedger(tornTail);

    public void AppendCheckpoint(byte[] line) => _inner.AppendCheckpoint(line);

    public IReadOnlyList<byte[]> ReadCheckpoints() => _inner.ReadCheckpoints();

    public void RegisterSigner(string keyId, string publicKey) => _inner.RegisterSigner(keyId, publicKey);

    public IReadOnlyList<string> ReadSigners() => _inner.ReadSigners();

    public void CreateDocument(string slot, string id, byte[] document) => _inner.CreateDocument(slot, id, document);

    public byte[]? ReadDocument(string slot, string id) => _inner.ReadDocument(slot, id);

    public void Dispose() => _inner.Dispose();

    internal sealed class Lease : IRequestLock
    {
        private readonly IDisposable _inner;

        public Lease(IDisposable inner) => _inner = inner;

        public string? TakeoverReason => null;

        public bool Lost { get; set; }

        public bool Disposed { get; private set; }

        public void Dispose()
        {
            Disposed = true;
            _inner.Dispose();
        }
    }
}
