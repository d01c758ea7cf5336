using System.Text;
using AgentGovernance.Approval;
using AgentGovernance.Ledger;
using AgentGovernance.Stores;
using AgentGovernance.Tests.Support;

namespace AgentGovernance.Tests.Stores;

/// <summary>
/// The folder store: documents written once and atomically, one lock that a dead holder does not keep,
/// and several processes requesting and approving at once against one folder without losing anything.
/// </summary>
public sealed class FolderStoreTests : IDisposable
{
    private readonly TempDir _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void AStoreKeepsItsIdAndDocumentsAreWrittenOnce()
    {
        var store = FolderStore.Open(_temp["store"]);
        var again = FolderStore.Open(_temp["store"]);

        Assert.Equal(store.StoreId, again.StoreId);
        store.CreateRequest("req-1", Encoding.UTF8.GetBytes("{}"));
        Assert.Equal("RequestExists", Assert.Throws<GovernanceException>(() => again.CreateRequest("req-1", Encoding.UTF8.GetBytes("{\"x\":1}"))).ErrorId);
        Assert.Equal("{}", Encoding.UTF8.GetString(store.ReadRequest("req-1")!));
        Assert.Equal(new[] { "req-1" }, store.ListRequests());
        store.AddDecision("req-1", "dec-1", new byte[] { 1 });
        Assert.Equal("DecisionExists", Assert.Throws<GovernanceException>(() => store.AddDecision("req-1", "dec-1", new byte[] { 2 })).ErrorId);
    }

    [Theory]
    [InlineData("../escape")]
    [InlineData(".hidden")]
    [InlineData("a/b")]
    [InlineData("")]
    public void IdsThatWouldEscapeTheFolderAreRefused(string id)
    {
        var store = FolderStore.Open(_temp["store"]);

        Assert.Equal("InvalidId", Assert.Throws<GovernanceException>(() => store.CreateRequest(id, new byte[] { 1 })).ErrorId);
    }

    [Fact]
    public void AFolderThatHoldsSomethingElseIsNotTakenForAStore()
    {
        System.IO.Directory.CreateDirectory(_temp["store"]);
        File.WriteAllText(_temp["store/store.json"], "{\"hello\":1}");

        Assert.Equal("StoreInvalid", Assert.Throws<GovernanceException>(() => FolderStore.Open(_temp["store"])).ErrorId);
    }

    [Fact]
    public async Task TheLockIsExclusiveAndABusyStoreSaysSo()
    {
        var store = FolderStore.Open(_temp["store"]);
        using (store.Lock(TimeSpan.FromSeconds(1)))
        {
            var busy = await Task.Run(() => Assert.Throws<GovernanceException>(() => FolderStore.Open(_temp["store"]).Lock(TimeSpan.FromMilliseconds(200))));
            Assert.Equal("StoreBusy", busy.ErrorId);
        }

        using (store.Lock(TimeSpan.FromMilliseconds(200)))
        {
        }
    }

    [Fact]
    public void AHolderKilledWhileHoldingTheLockDoesNotBlockOthers()
    {
        var storePath = _temp["store"];
        var store = FolderStore.Open(storePath);
        var script = _temp.Write("hold.ps1", "param($p) $l = [AgentGovernance.Stores.FolderStore]::Open($p).Lock([TimeSpan]::FromSeconds(30)); 'locked'; [System.Threading.Thread]::Sleep(120000)");
        using var holder = WorkerProcess.Start(script, new[] { storePath });
        Assert.True(holder.WaitForLine("locked", TimeSpan.FromSeconds(60)), holder.Describe());

        Assert.Equal("StoreBusy", Assert.Throws<GovernanceException>(() => store.Lock(TimeSpan.FromMilliseconds(300))).ErrorId);
        holder.Kill();

        using (store.Lock(TimeSpan.FromSeconds(5)))
        {
        }
    }

    [Fact]
    public void AProcessKilledWhileWritingADocumentLeavesNoTornFile()
    {
        var storePath = _temp["store"];
        var store = FolderStore.Open(storePath);
        var script = _temp.Write("write.ps1", "param($p) [AgentGovernance.Stores.FolderStore]::Open($p).CreateRequest('req-torn', [Text.Encoding]::UTF8.GetBytes('{\"complete\":true}'))");
        using var writer = WorkerProcess.Start(script, new[] { storePath }, crashAt: "AtomicFile.Flushed:req-torn.json");
        Assert.True(writer.WaitForExit(TimeSpan.FromSeconds(60)));

        Assert.NotEqual(0, writer.ExitCode);
        Assert.Null(store.ReadRequest("req-torn"));
        Assert.Empty(store.ListRequests());
        store.CreateRequest("req-torn", Encoding.UTF8.GetBytes("{\"complete\":true}"));
        Assert.Equal("{\"complete\":true}", Encoding.UTF8.GetString(store.ReadRequest("req-torn")!));
    }

    [Fact]
    public void SeveralProcessesRequestingAndApprovingAtOnceLoseNothingAndTheLedgerVerifies()
    {
        const int workers = 4, each = 4;
        var storePath = _temp["store"];
        _temp.WriteSnapshot("tiny.json");
        var policy = _temp.Write("policy.psd1", ApprovalTestData.Policy(new[] { "carol@tiny.example", "erin@example.org", "frank@example.org" }));
        var script = _temp.Write("work.ps1", """
            param($store, $snapshot, $policy, $signer, $keyA, $keyB, $pass, $n, $tag)
            $pw = [System.Net.NetworkCredential]::new('', $pass).SecurePassword
            Connect-AgentGovernance -SnapshotPath $snapshot -PolicyPath $policy -StorePath $store -LedgerSignerPath $signer
            for ($i = 0; $i -lt [int]$n; $i++) {
                $r = New-AccessChange -Grant -ResourceId site-secret -PrincipalId g-eng -Title "$tag-$i" -RequestedBy bob@tiny.example | Request-HumanApproval
                $null = $r | Approve-AccessChange -KeyPath $keyA -Passphrase $pw -Force
                $r = $r | Approve-AccessChange -KeyPath $keyB -Passphrase $pw -Force
                "$($r.RequestId) $($r.Status)"
            }
            """);
        var keys = ApprovalTestData.Keys;
        var pairs = new[] { ("carol@tiny.example", "erin@example.org"), ("erin@example.org", "frank@example.org"), ("frank@example.org", "carol@tiny.example"), ("carol@tiny.example", "frank@example.org") };
        var processes = Enumerable.Range(0, workers).Select(w => WorkerProcess.Start(script, new[]
        {
            storePath, _temp["tiny.json"], policy, _temp[$"machine{w}/signer.json"], keys[pairs[w].Item1].Path, keys[pairs[w].Item2].Path,
            ApprovalTestData.Passphrase, each.ToString(System.Globalization.CultureInfo.InvariantCulture), "w" + w,
        })).ToList();
        try
        {
            foreach (var p in processes)
            {
                Assert.True(p.WaitForExit(TimeSpan.FromMinutes(3)), p.Describe());
                Assert.True(p.ExitCode == 0, p.Describe());
                Assert.Equal(each, p.Output.Count(l => l.EndsWith(" Approved", StringComparison.Ordinal)));
            }
        }
        finally
        {
            processes.ForEach(p => p.Dispose());
        }

        var store = FolderStore.Open(storePath);
        var ledger = new AuditLedger(store, null).Read().ToList();
        Assert.Equal(workers * each * 5, ledger.Count);
        Assert.Equal(workers * each, ledger.Count(e => e.Event == LedgerEvents.ApprovalRequested));
        Assert.Equal(workers * each * 2, ledger.Count(e => e.Event == LedgerEvents.Approved));
        Assert.Equal(workers * each, store.ListRequests().Count);
        foreach (var w in Enumerable.Range(0, workers))
        {
            var result = LedgerVerifier.Verify(store, Array.Empty<PublicKey>(), LedgerSigner.WitnessPathFor(_temp[$"machine{w}"], store.StoreId));
            Assert.True(result.IsValid, result.Message);
            Assert.True(result.WitnessChecked);
            Assert.Equal(0, result.UnsealedEntries);
        }

        Assert.Equal(workers, store.ReadSigners().Count);
        using var approvals = new ApprovalService(store, null, PolicyReader(policy), Directory.SnapshotReader.ReadFile(_temp["tiny.json"]));
        Assert.All(approvals.List(), r => Assert.Equal(ApprovalStatus.Approved, r.Status));
    }

    private static Policy.GovernancePolicy PolicyReader(string path) => global::AgentGovernance.Policy.PolicyReader.ReadFile(path);
}
