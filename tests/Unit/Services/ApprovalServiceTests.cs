using AgentGovernance.Approval;
using AgentGovernance.Ledger;
using AgentGovernance.Tests.Support;

namespace AgentGovernance.Tests.Services;

/// <summary>
/// ApprovalService driven directly (no runspace): opening requests, the decision protocol (preview,
/// refusal, signing, quorum, veto), tampering with the store, and decisions under a changed policy.
/// </summary>
public sealed class ApprovalServiceTests : IDisposable
{
    private readonly ServiceWorld _world = new();

    public void Dispose() => _world.Dispose();

    [Fact]
    public void OpenRecordsTheRequestAndItsThreeEntriesUnderThePolicyFingerprint()
    {
        var request = _world.Open();

        Assert.Equal(ApprovalStatus.Pending, request.Status);
        Assert.Equal(2, request.RequiredApprovals);
        Assert.Equal("bob@tiny.example", request.RequestedBy);
        Assert.DoesNotContain("bob@tiny.example", request.EligibleApprovers);
        Assert.DoesNotContain("sp-bot", request.EligibleApprovers);
        var ledger = _world.Ledger();
        Assert.Equal(new[] { LedgerEvents.ChangeProposed, LedgerEvents.RiskAssessed, LedgerEvents.ApprovalRequested }, ledger.Select(e => e.Event));
        Assert.All(ledger, e => Assert.Equal(_world.Policy.Fingerprint, e.Details["policyFingerprint"]));
        Assert.True(_world.Verify().IsValid);
    }

    [Fact]
    public void OpenRefusesADurationLongerThanThePolicyAllowsAndWritesNothing()
    {
        _world.Policy = ServiceWorld.PolicyWith("    MaxDuration = 'PT4H'\n");

        var e = Assert.Throws<GovernanceException>(() => _world.Open(ServiceWorld.TimeBoxed));

        Assert.Equal("DurationTooLong", e.ErrorId);
        Assert.Empty(_world.Ledger());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(100 * 24)]
    public void OpenRefusesAnExpiryThatIsNotPositiveOrLongerThanThePolicys(int hours)
    {
        var e = Assert.Throws<GovernanceException>(() => _world.Open(options: new OpenRequestOptions { ExpiresIn = TimeSpan.FromHours(hours) }));

        Assert.Equal("ExpiryTooLong", e.ErrorId);
    }

    [Fact]
    public void OpenRefusesBreakGlassForAChangeThePolicyDoesNotBlock()
    {
        var e = Assert.Throws<GovernanceException>(() => _world.Open(options: new OpenRequestOptions { BreakGlassReason = "Auditors need the export before 09:00 (ticket 42)" }));

        Assert.Equal("BreakGlassNotNeeded", e.ErrorId);
    }

    [Fact]
    public void OpenRefusesAChangeThatCouldNeverGetItsQuorum()
    {
        // Two approvals needed, but of the two approvers one is the requester and one the suggesting agent.
        _world.Policy = ServiceWorld.PolicyWith(approvers: new[] { "bob@tiny.example", "sp-bot" });

        var e = Assert.Throws<GovernanceException>(() => _world.Open());

        Assert.Equal("NotEnoughApprovers", e.ErrorId);
        Assert.Contains("only 0 of the policy's 2", e.Message);
    }

    [Fact]
    public void OneApprovalLeavesItPendingAndASecondDistinctOneMeetsTheQuorum()
    {
        var request = _world.Open();

        var first = _world.Decide(request.RequestId, "carol");
        Assert.Equal(ApprovalStatus.Pending, first.Status);
        Assert.Equal("1/2", first.Quorum);

        var second = _world.Decide(request.RequestId, "erin");
        Assert.Equal(ApprovalStatus.Approved, second.Status);
        Assert.True(second.QuorumMet);
        Assert.Equal(new[] { "carol@tiny.example", "erin@example.org" }, second.ApprovedBy.OrderBy(a => a, StringComparer.Ordinal));
        var approved = _world.Ledger().Where(e => e.Event == LedgerEvents.Approved).ToList();
        Assert.Equal(2, approved.Count);
        Assert.Equal(true, approved[1].Details["quorumMet"]);
        Assert.True(_world.Verify().IsValid);
    }

    [Fact]
    public void TheSameApproverCountsOnceAndTheSecondTryIsRecordedAsRefused()
    {
        var request = _world.Open();
        _world.Decide(request.RequestId, "carol");

        var e = Assert.Throws<GovernanceException>(() => _world.Decide(request.RequestId, "carol"));

        Assert.Equal("AlreadyDecided", e.ErrorId);
        Assert.Equal("1/2", _world.Get(request.RequestId).Quorum);
        var refused = Assert.Single(_world.Ledger(), x => x.Event == LedgerEvents.ApprovalRefused);
        Assert.Equal("AlreadyDecided", refused.Details["reason"]);
    }

    [Theory]
    [InlineData("bob", "ApproverIsRequester")]
    [InlineData("sp-bot", "ApproverIsAgent")]
    [InlineData("mallory", "ApproverNotEligible")]
    public void TheRequesterTheAgentAndAnUnlistedKeyCannotDecide(string who, string errorId)
    {
        var request = _world.Open();
        var approvals = _world.Approvals();

        var preview = approvals.PreviewDecision(approvals.Get(request.RequestId), ServiceWorld.Key(who).PublicKey.KeyId, DecisionKind.Approve);

        Assert.Equal(errorId, preview.Refusal?.ErrorId);
        Assert.Empty(preview.Prompt);
        Assert.Equal(errorId, Assert.Single(_world.Ledger(), x => x.Event == LedgerEvents.ApprovalRefused).Details["reason"]);
        var signed = Assert.Throws<GovernanceException>(() => approvals.Decide(preview, ServiceWorld.Key(who), null));
        Assert.Equal(errorId, signed.ErrorId);
        Assert.Equal(0, _world.Get(request.RequestId).Approvals);
    }

    [Fact]
    public void APreviewShowsTheStoredRequestAndWarnsWhenTheQuorumIsMetAlready()
    {
        var request = _world.Approved();
        var approvals = _world.Approvals();

        var preview = approvals.PreviewDecision(approvals.Get(request.RequestId), ServiceWorld.Key("frank").PublicKey.KeyId, DecisionKind.Approve);

        Assert.Null(preview.Refusal);
        Assert.Equal("frank@example.org", preview.Approver!.Id);
        Assert.Contains("  - grant read on site-secret to g-eng", preview.Prompt);
        Assert.Contains(preview.Prompt, l => l.Contains(request.ChangeId, StringComparison.Ordinal) && l.Contains(request.ReportHash, StringComparison.Ordinal));
        Assert.Contains("already has its quorum (2/2)", Assert.Single(preview.Warnings));
        Assert.Equal(3, approvals.Decide(preview, ServiceWorld.Key("frank"), "me too").Approvals);
    }

    [Fact]
    public void ADecisionIsSignedOnlyWithTheKeyItWasPreviewedFor()
    {
        var request = _world.Open();
        var approvals = _world.Approvals();
        var preview = approvals.PreviewDecision(approvals.Get(request.RequestId), ServiceWorld.Key("carol").PublicKey.KeyId, DecisionKind.Approve);

        var e = Assert.Throws<GovernanceException>(() => approvals.Decide(preview, ServiceWorld.Key("erin"), null));

        Assert.Equal("ApproverNotEligible", e.ErrorId);
        Assert.Equal(0, _world.Get(request.RequestId).Approvals);
    }

    [Fact]
    public void ADenialVetoesTheRequestAndLaterDecisionsAreRefused()
    {
        var request = _world.Open();
        _world.Decide(request.RequestId, "carol");

        var denied = _world.Decide(request.RequestId, "erin", DecisionKind.Deny);

        Assert.Equal(ApprovalStatus.Denied, denied.Status);
        Assert.Equal(new[] { "erin@example.org" }, denied.DeniedBy);
        var e = Assert.Throws<GovernanceException>(() => _world.Decide(request.RequestId, "frank"));
        Assert.Equal("RequestDenied", e.ErrorId);
        Assert.Equal(ApprovalStatus.Denied, _world.Get(request.RequestId).Status);
    }

    [Fact]
    public void ADenialAfterTheQuorumStillVetoesIt()
    {
        var request = _world.Approved();

        var denied = _world.Decide(request.RequestId, "frank", DecisionKind.Deny);

        Assert.Equal(ApprovalStatus.Denied, denied.Status);
        Assert.Equal(2, denied.Approvals);
    }

    [Fact]
    public void AnInsiderWhoDeletesTheDenialFileMakesTheRequestInvalidNotApproved()
    {
        var request = _world.Approved();
        _world.Decide(request.RequestId, "frank", DecisionKind.Deny);
        var denial = System.IO.Directory.GetFiles(Path.Combine(_world.StorePath, "decisions"), "*", SearchOption.AllDirectories)
            .Single(f => File.ReadAllText(f).Contains("\"decision\":\"deny\"", StringComparison.Ordinal));

        File.Delete(denial);

        var after = _world.Get(request.RequestId);
        Assert.Equal(ApprovalStatus.Invalid, after.Status);
        Assert.Contains(after.Problems, p => p.StartsWith("DecisionMissing", StringComparison.Ordinal) && p.Contains("a denial", StringComparison.Ordinal));
    }

    [Fact]
    public void ARequestOpenedUnderOnePolicyIsNotDecidedUnderAnother()
    {
        var request = _world.Open();
        // The same approvers, another policy: e.g. someone lowered the approvals needed after the request was opened.
        var changed = ServiceWorld.PolicyWith("    RequiredApprovals = @{ Critical = 1; High = 1 }\n");
        var approvals = _world.Approvals(policy: changed);

        var stored = approvals.Get(request.RequestId);
        var preview = approvals.PreviewDecision(stored, ServiceWorld.Key("carol").PublicKey.KeyId, DecisionKind.Approve);

        Assert.True(stored.PolicyChanged);
        Assert.Equal("PolicyChanged", preview.Refusal?.ErrorId);
        Assert.Equal("PolicyChanged", Assert.Throws<GovernanceException>(() => approvals.Decide(request.RequestId, ServiceWorld.Key("carol"), DecisionKind.Approve, null)).ErrorId);
        Assert.Equal(0, _world.Get(request.RequestId).Approvals);
        var refusals = _world.Ledger().Where(e => e.Event == LedgerEvents.ApprovalRefused).ToList();
        Assert.Equal(2, refusals.Count);
        Assert.All(refusals, r => Assert.Equal(changed.Fingerprint, r.Details["policyFingerprint"]));
    }

    [Fact]
    public void SwappedApproverKeysInThePolicyDoNotDecideAnOpenRequest()
    {
        var request = _world.Open();
        // The policy now lists mallory's key under carol's name: a substitute key.
        var swapped = PolicyReader(
            "@{\n    Approvers = @(\n" +
            $"        @{{ Id = 'carol@tiny.example'; PublicKey = '{ServiceWorld.Key("mallory").PublicKey.Base64}' }}\n" +
            $"        @{{ Id = 'erin@example.org'; PublicKey = '{ServiceWorld.Key("erin").PublicKey.Base64}' }}\n    )\n}}\n");

        var e = Assert.Throws<GovernanceException>(() => _world.Approvals(policy: swapped).Decide(request.RequestId, ServiceWorld.Key("mallory"), DecisionKind.Approve, null));

        Assert.Equal("PolicyChanged", e.ErrorId);
    }

    [Fact]
    public void AReadOnlyServiceShowsRequestsButAWritingOneRefusesAnEditedLedger()
    {
        var request = _world.Open();
        var path = Path.Combine(_world.StorePath, "ledger.jsonl");
        var lines = File.ReadAllLines(path);
        lines[1] = lines[1].Replace("\"RiskAssessed\"", "\"RiskAssessed \"", StringComparison.Ordinal);
        File.WriteAllLines(path, lines);

        var shown = _world.Get(request.RequestId);
        var e = Assert.Throws<GovernanceException>(() => _world.Decide(request.RequestId, "carol"));

        Assert.Equal(ApprovalStatus.Invalid, shown.Status);
        Assert.Contains(shown.Problems, p => p.StartsWith("LedgerTampered", StringComparison.Ordinal));
        Assert.Equal("LedgerTampered", e.ErrorId);
    }

    [Fact]
    public void ADecisionIsNotRecordedUnderALostLease()
    {
        var request = _world.Open();
        var store = new LeasedStore(AgentGovernance.Stores.FolderStore.Open(_world.StorePath)) { LoseOnTake = true };
        var before = _world.Ledger().Count;

        var e = Assert.Throws<GovernanceException>(() => _world.Handle(store: store).Approvals.Decide(request.RequestId, ServiceWorld.Key("carol"), DecisionKind.Approve, null));

        Assert.Equal("RequestLockLost", e.ErrorId);
        Assert.Equal(before, _world.Ledger().Count);
        Assert.Equal(0, _world.Get(request.RequestId).Approvals);
        Assert.False(System.IO.Directory.Exists(Path.Combine(_world.StorePath, "decisions", request.RequestId)) &&
                     System.IO.Directory.EnumerateFiles(Path.Combine(_world.StorePath, "decisions", request.RequestId)).Any());
    }

    [Fact]
    public void TheHandleOwnsStoreAndSignerAndIsDisposedOnceThroughEitherDoor()
    {
        var handle = _world.Handle();
        var approvals = handle.Approvals;

        Assert.Same(approvals, handle.Approvals);
        Assert.Same(handle, approvals.Handle);
        Assert.NotNull(handle.Signer);
        Assert.Equal(LedgerSigner.WitnessPathFor(Path.GetDirectoryName(_world.SignerPath)!, handle.Store.StoreId), handle.WitnessPath);
        approvals.Dispose();
        handle.Dispose();
        Assert.Null(_world.Handle(writes: false).Signer);
    }

    private static Policy.GovernancePolicy PolicyReader(string text) => global::AgentGovernance.Policy.PolicyReader.Parse(text, "swapped.psd1");
}
