using System.Management.Automation;
using System.Text;
using AgentGovernance.Apply;
using AgentGovernance.Approval;
using AgentGovernance.Json;
using AgentGovernance.Ledger;
using AgentGovernance.Stores;
using AgentGovernance.Tests.Support;

namespace AgentGovernance.Tests.Cmdlets;

/// <summary>
/// The insider of issue 11 (items 1-4): someone who can read and write the store folder (requests,
/// decisions, ledger, checkpoints, the signers folder) but holds no approver key and no ledger-signer key.
/// Each attack is carried out on the files, as such a person would, and then the pipeline is run.
/// </summary>
[Collection(ClockCollection.Name)]
public sealed class InsiderAttackTests : ApplyTestBase
{
    private const string Cmd = "InvokeApprovedChangeCommand";

    public InsiderAttackTests(HostFixture fixture)
        : base(fixture)
    {
    }

    private string LedgerFile => Path.Combine(StorePath, "ledger.jsonl");

    private string CheckpointFile => Path.Combine(StorePath, "checkpoints.jsonl");

    private string StoreId
    {
        get
        {
            using var store = FolderStore.Open(StorePath);
            return store.StoreId;
        }
    }

    /// <summary>Connects with the test's ledger signer pinned in the policy (LedgerSigners), the way the about topic says to run.</summary>
    private void ConnectPinned(string extraPolicy = "")
    {
        using var signer = LedgerSigner.OpenOrCreate(Temp["keys/signer.json"]);
        ConnectForApply(extraPolicy: $"    LedgerSigners = '{signer.PublicKey.Base64}'\n" + extraPolicy);
    }


    /// <summary>
    /// Re-writes the ledger from the given entries on, chained and hashed as the codec does (plain SHA-256:
    /// no key needed); signed with <paramref name="signer"/> when the insider made a key of their own.
    /// </summary>
    private void Rewrite(List<LedgerEntry> entries, LedgerSigner? signer = null)
    {
        using var codec = new LedgerCodec();
        var prev = LedgerCodec.Genesis(StoreId);
        var sb = new MemoryStream();
        long seq = 0;
        foreach (var e in entries)
        {
            var ev = new LedgerEvent(e.Event, e.Actor, e.ChangeId, e.RequestId, new Dictionary<string, object?>());
            var line = codec.Encode(++seq, GovernanceClock.Format(e.Time), ev, e.DetailsJson, prev, signer, out var hash);
            sb.Write(line);
            prev = hash;
        }

        File.WriteAllBytes(LedgerFile, sb.ToArray());
    }

    private List<LedgerEntry> Entries()
    {
        using var store = FolderStore.Open(StorePath);
        return new AuditLedger(store, null).Read().ToList();
    }

    /// <summary>Appends entries an insider made up, correctly chained and hashed.</summary>
    private void Forge(LedgerSigner? signer, params (string Event, string RequestId, Dictionary<string, object?> Details)[] forged)
    {
        var entries = Entries();
        var last = entries[^1];
        using var codec = new LedgerCodec();
        var prev = last.Hash;
        var seq = last.Sequence;
        using var fs = new FileStream(LedgerFile, FileMode.Append);
        foreach (var (evt, requestId, details) in forged)
        {
            var ev = new LedgerEvent(evt, "runbook@tiny.example", null, requestId, details);
            fs.Write(codec.Encode(++seq, GovernanceClock.Format(GovernanceClock.UtcNow), ev, CanonicalJson.Serialize(details), prev, signer, out var hash));
            prev = hash;
        }
    }

    private void AssertTampered(RunResult result)
    {
        var error = SingleError(result, "LedgerTampered", Cmd, ErrorCategory.SecurityError);
        Assert.Contains("does not verify", error.Exception.Message);
    }

    private ApprovalRequest ApprovedThenDenied()
    {
        var request = Approved();
        Assert.Equal(ApprovalStatus.Approved, request.Status);
        Assert.Empty(Deny(request.RequestId, "frank").Errors);
        Assert.Equal(ApprovalStatus.Denied, Get(request.RequestId).Status);
        return request;
    }

    [Fact]
    public void RewritingTheLedgerWithoutTheDenialAndDeletingItsDecisionAndCheckpointsDoesNotApply()
    {
        ConnectPinned();
        var request = ApprovedThenDenied();
        var denial = Entries().Single(e => e.Event == LedgerEvents.Denied);

        // The insider: the ledger without the Denied line (each later prev/hash recomputed), no checkpoints, no decision file.
        Rewrite(Entries().Where(e => e.Event != LedgerEvents.Denied).ToList());
        File.Delete(CheckpointFile);
        File.Delete(System.IO.Directory.GetFiles(Path.Combine(StorePath, "decisions", request.RequestId)).Single(f => Path.GetFileNameWithoutExtension(f) == (string)denial.Details["decisionId"]!));
        var before = File.ReadAllBytes(SnapshotFile);

        AssertTampered(Invoke(request.RequestId));
        Assert.Equal(before, File.ReadAllBytes(SnapshotFile));

        var verdict = RunClean("Test-GovernanceAuditLog -Quiet").Single<bool>();
        Assert.False(verdict);

        // And on a machine that never signed for this store (no witness): the entries carry no signature.
        using var store = FolderStore.Open(StorePath);
        using var signer = LedgerSigner.OpenOrCreate(Temp["keys/signer.json"]);
        var elsewhere = LedgerVerifier.Verify(store, new[] { signer.PublicKey }, null);
        Assert.Equal("EntryUnsigned", elsewhere.Problem);
        Assert.Equal(1, elsewhere.FirstBadSequence);
    }

    [Fact]
    public void ReSigningTheRewrittenLedgerWithTheInsidersOwnRegisteredKeyDoesNotApply()
    {
        ConnectPinned();
        var request = ApprovedThenDenied();
        var denial = Entries().Single(e => e.Event == LedgerEvents.Denied);
        using var mine = LedgerSigner.OpenOrCreate(Temp["insider/signer.json"]);
        Rewrite(Entries().Where(e => e.Event != LedgerEvents.Denied).ToList(), mine);
        File.Delete(CheckpointFile);
        using (var store = FolderStore.Open(StorePath))
        {
            store.RegisterSigner(mine.PublicKey.KeyId, mine.PublicKey.Base64);
            new AuditLedger(store, mine).Seal(Entries().Count, Entries()[^1].Hash);
        }

        File.Delete(System.IO.Directory.GetFiles(Path.Combine(StorePath, "decisions", request.RequestId)).Single(f => Path.GetFileNameWithoutExtension(f) == (string)denial.Details["decisionId"]!));

        AssertTampered(Invoke(request.RequestId));
        var test = Run("Test-GovernanceAuditLog");
        var result = test.Single<LedgerVerification>();
        Assert.Contains(result.Problems, p => p.Code == "EntrySignerUntrusted" && p.Sequence == 1);
    }

    [Fact]
    public void DeletingARecordedDenialsDecisionFileIsTamperingNotAbsence()
    {
        ConnectPinned();
        var request = ApprovedThenDenied();
        var denial = Entries().Single(e => e.Event == LedgerEvents.Denied);
        File.Delete(System.IO.Directory.GetFiles(Path.Combine(StorePath, "decisions", request.RequestId)).Single(f => Path.GetFileNameWithoutExtension(f) == (string)denial.Details["decisionId"]!));
        var before = File.ReadAllBytes(SnapshotFile);

        var shown = Get(request.RequestId);
        Assert.Equal(ApprovalStatus.Invalid, shown.Status);
        Assert.Contains(shown.Problems, p => p.StartsWith("DecisionMissing:", StringComparison.Ordinal) && p.Contains("a denial"));

        var error = SingleError(Invoke(request.RequestId), "RequestTampered", Cmd, ErrorCategory.SecurityError);
        Assert.Contains("DecisionMissing", error.Exception.Message);
        Assert.Equal(before, File.ReadAllBytes(SnapshotFile));
    }

    [Fact]
    public void AForgedApplyStartedAndRolledBackDoNotMakeAUsedApprovalApplicableAgain()
    {
        ConnectPinned();
        var request = Approved();
        Assert.Empty(Invoke(request.RequestId).Errors);
        Assert.Equal(ApprovalStatus.Applied, Get(request.RequestId).Status);

        // Unsigned, then signed with a key of the insider's own that the policy does not pin.
        Forge(null,
            (LedgerEvents.ApplyStarted, request.RequestId, new Dictionary<string, object?> { ["summary"] = "apply", ["operations"] = new List<object?>() }),
            (LedgerEvents.ApplyRolledBack, request.RequestId, new Dictionary<string, object?> { ["summary"] = "rolled back" }));

        // Readers keep working, read-only, and say what they see.
        var shown = RunClean("Get-ApprovalRequest $args[0] 3>$null", request.RequestId).Single<ApprovalRequest>();
        Assert.Equal(ApprovalStatus.Invalid, shown.Status);
        Assert.Contains(shown.Problems, p => p.StartsWith("LedgerTampered:", StringComparison.Ordinal) && p.Contains("EntryUnsigned"));
        AssertTampered(Invoke(request.RequestId));
    }

    [Fact]
    public void AForgedSignedApplyRolledBackWithAnUnpinnedKeyDoesNotSteer()
    {
        ConnectPinned();
        var request = Approved();
        Assert.Empty(Invoke(request.RequestId).Errors);
        using var mine = LedgerSigner.OpenOrCreate(Temp["insider/signer.json"]);
        using (var store = FolderStore.Open(StorePath))
        {
            store.RegisterSigner(mine.PublicKey.KeyId, mine.PublicKey.Base64);
        }

        Forge(mine,
            (LedgerEvents.ApplyStarted, request.RequestId, new Dictionary<string, object?> { ["summary"] = "apply", ["operations"] = new List<object?>() }),
            (LedgerEvents.ApplyRolledBack, request.RequestId, new Dictionary<string, object?> { ["summary"] = "rolled back" }));

        AssertTampered(Invoke(request.RequestId));
        Assert.Contains("EntrySignerUntrusted", SingleError(Invoke(request.RequestId), "LedgerTampered", Cmd, ErrorCategory.SecurityError).Exception.Message);
    }

    [Fact]
    public void AForgedUndoCompletedDoesNotLetTimeBoxedAccessOutliveItsExpiry()
    {
        using var clock = new TestClock(DateTimeOffset.UtcNow);
        ConnectPinned();
        var small = Approved(CmdletTestData.SmallChange, "-RequestedBy bob@tiny.example", "carol");
        Assert.Empty(Invoke(small.RequestId).Errors);
        Forge(null,
            (LedgerEvents.UndoStarted, small.RequestId, new Dictionary<string, object?> { ["summary"] = "undo", ["trigger"] = "undo" }),
            (LedgerEvents.UndoCompleted, small.RequestId, new Dictionary<string, object?> { ["summary"] = "undone" }));
        clock.Advance(TimeSpan.FromHours(8) + TimeSpan.FromSeconds(1));

        var expiry = Run("Invoke-AccessExpiry");

        // Not a silent skip: the expiry run says the ledger was tampered with (and the grant is still there for a person to see).
        var error = Assert.Single(expiry.Errors);
        Assert.Equal("LedgerTampered", error.FullyQualifiedErrorId.Split(',')[0]);
        Assert.True(HasGrant(Directory, "site-general", "u-joe", "read"));
    }

    [Fact]
    public void AWriterNeverSealsAForgedTail()
    {
        ConnectPinned();
        var request = Open();
        Forge(null, (LedgerEvents.Expired, request.RequestId, new Dictionary<string, object?> { ["summary"] = "expired" }));
        var ledger = File.ReadAllBytes(LedgerFile);
        var checkpoints = File.ReadAllBytes(CheckpointFile);

        var error = SingleError(Approve(request.RequestId, "carol"), "LedgerTampered", "ApproveAccessChangeCommand", ErrorCategory.SecurityError);

        Assert.Contains("EntryUnsigned", error.Exception.Message);
        Assert.Equal(ledger, File.ReadAllBytes(LedgerFile));
        Assert.Equal(checkpoints, File.ReadAllBytes(CheckpointFile));
    }

    [Fact]
    public void EveryStepOfAnApplyAndItsUndoRecordsThePolicyItRanUnderSignedWithTheEntry()
    {
        ConnectPinned();
        var request = Approved();
        Assert.Empty(Invoke(request.RequestId).Errors);
        var undo = Run("Undo-ApprovedChange $args[0]", request.RequestId);
        Assert.True(undo.Errors.Count == 0, string.Join("; ", undo.Errors));

        var entries = Entries().Where(e => e.RequestId == request.RequestId).ToList();
        Assert.Contains(entries, e => e.Event == LedgerEvents.UndoCompleted);
        Assert.All(entries, e => Assert.Equal(request.PolicyFingerprint, e.Details["policyFingerprint"]));
        using var signer = LedgerSigner.OpenOrCreate(Temp["keys/signer.json"]);
        Assert.All(entries, e => Assert.Equal(signer.PublicKey.KeyId, e.Signer));
    }
}
