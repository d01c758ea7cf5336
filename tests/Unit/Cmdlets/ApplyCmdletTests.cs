using System.Management.Automation;
using AgentGovernance.Apply;
using AgentGovernance.Approval;
using AgentGovernance.Directory;
using AgentGovernance.Ledger;
using AgentGovernance.Tests.Support;

namespace AgentGovernance.Tests.Cmdlets;

/// <summary>
/// Invoke-ApprovedChange and Undo-ApprovedChange on a snapshot file: S1 (quorum), S4 (used once), S5
/// (stale approvals), S7 (write-ahead ledger), S9 (reducing access), every refusal, -WhatIf and -Confirm.
/// </summary>
public sealed class ApplyCmdletTests : ApplyTestBase
{
    private const string Cmd = "InvokeApprovedChangeCommand";

    public ApplyCmdletTests(HostFixture fixture)
        : base(fixture)
    {
    }

    [Fact]
    public void AnApprovedChangeIsAppliedWithItsIntentEachOperationAndItsOutcomeInTheLedger()
    {
        ConnectForApply();
        var request = Approved();
        Assert.False(HasGrant(Directory, "site-secret", "g-eng", "read"));

        var result = Invoke(request.RequestId);

        Assert.Empty(result.Errors);
        var applied = result.Single<ApplyResult>();
        Assert.Equal(ApplyOutcome.Applied, applied.Outcome);
        Assert.Equal(1, applied.Changed);
        Assert.Equal("revoke read on site-secret from g-eng", applied.Operations.Single().Inverse!.ToString());
        Assert.Null(applied.AccessExpiresAt);
        Assert.True(HasGrant(Directory, "site-secret", "g-eng", "read"));
        var log = Log("-RequestId " + request.RequestId).Skip(5).ToList();
        Assert.Equal(new[] { LedgerEvents.ApplyStarted, LedgerEvents.OperationApplied, LedgerEvents.ApplyCompleted }, log.Select(e => e.Event));
        Assert.Equal((applied.FirstSequence, applied.LastSequence), (log[0].Sequence, log[2].Sequence));
        Assert.Equal(ApprovalStatus.Applied, Get(request.RequestId).Status);
        Assert.True(RunClean("Test-GovernanceAuditLog -Quiet").Single<bool>());

        // The session sees the change: a preview of the same change finds nothing left to do.
        var again = RunClean("Import-AccessChange change.json | Test-ExposureRisk");
        Assert.Equal(0, again.Single<Exposure.ExposureReport>().PrincipalsGained);
    }

    [Fact]
    public void ATimeBoxedChangeRecordsWhenItsAccessEnds()
    {
        ConnectForApply();
        var request = Approved(CmdletTestData.SmallChange, "-RequestedBy bob@tiny.example", "carol");

        var applied = Invoke(request.RequestId).Single<ApplyResult>();

        Assert.NotNull(applied.AccessExpiresAt);
        Assert.InRange(applied.AccessExpiresAt!.Value - DateTimeOffset.UtcNow, TimeSpan.FromHours(7.9), TimeSpan.FromHours(8));
        Assert.Equal(applied.AccessExpiresAt!.Value.ToUnixTimeSeconds(), Get(request.RequestId).AccessExpiresAt!.Value.ToUnixTimeSeconds());
    }

    [Fact]
    public void AnApprovalIsUsedOnce()
    {
        ConnectForApply();
        var request = Approved();
        Invoke(request.RequestId);
        var bytes = File.ReadAllBytes(SnapshotFile);

        var twice = Invoke(request.RequestId);

        SingleError(twice, "AlreadyApplied", Cmd, ErrorCategory.InvalidOperation);
        Assert.Equal(bytes, File.ReadAllBytes(SnapshotFile));
        Assert.Equal("AlreadyApplied", Log("-Event ApplyRefused").Single().Details["reason"]);
        SingleError(Approve(request.RequestId, "frank"), "AlreadyApplied", "ApproveAccessChangeCommand", ErrorCategory.InvalidOperation);
    }

    [Theory]
    [InlineData("quorum")]
    [InlineData("denied")]
    [InlineData("tampered")]
    public void WithoutAValidQuorumNothingIsApplied(string how)
    {
        ConnectForApply();
        var request = Open();
        Approve(request.RequestId, "carol");
        var (errorId, category) = how switch
        {
            "quorum" => ("QuorumNotMet", ErrorCategory.PermissionDenied),
            "denied" => ("RequestDenied", ErrorCategory.PermissionDenied),
            _ => ("RequestTampered", ErrorCategory.SecurityError),
        };
        if (how == "denied")
        {
            Approve(request.RequestId, "erin");
            Deny(request.RequestId, "frank");
        }
        else if (how == "tampered")
        {
            Approve(request.RequestId, "erin");
            var file = Path.Combine(StorePath, "requests", request.RequestId + ".json");
            File.WriteAllText(file, File.ReadAllText(file).Replace("\"title\":\"Let Engineering read the exports\"", "\"title\":\"Harmless\""));
        }

        var bytes = File.ReadAllBytes(SnapshotFile);
        var result = Invoke(request.RequestId);

        SingleError(result, errorId, Cmd, category);
        Assert.Equal(bytes, File.ReadAllBytes(SnapshotFile));
        Assert.Empty(Log("-Event ApplyStarted"));
    }

    [Fact]
    public void AChangeThatGotWorseSinceItWasApprovedIsRefusedAsStaleAndSaysWhatChanged()
    {
        ConnectForApply();
        var request = Approved();
        // Drift: someone adds Joe (a guest) to Engineering directly in the directory after the approval.
        var drifted = SnapshotEditor.Apply(Directory, Changes.AccessOperation.AddMember("g-eng", "u-joe"));
        SnapshotWriter.WriteFile(drifted, SnapshotFile);
        var bytes = File.ReadAllBytes(SnapshotFile);

        var result = Invoke(request.RequestId);

        var error = SingleError(result, "ApprovalStale", Cmd, ErrorCategory.PermissionDenied);
        Assert.Contains("principal(s) would gain access", error.Exception.Message);
        Assert.Contains("1 guest(s), 0 when approved", error.Exception.Message);
        Assert.Contains("new finding AG004", error.Exception.Message);
        Assert.Equal(bytes, File.ReadAllBytes(SnapshotFile));
        Assert.Equal("ApprovalStale", Log("-Event ApplyRefused").Single().Details["reason"]);
    }

    [Fact]
    public void AChangeThatIsNoWorseThanApprovedIsAppliedEvenIfTheDirectoryChanged()
    {
        ConnectForApply();
        var request = Approved();
        // Drift that narrows: Bob leaves Platform, so fewer principals gain.
        SnapshotWriter.WriteFile(SnapshotEditor.Apply(Directory, Changes.AccessOperation.RemoveMember("g-platform", "u-bob")), SnapshotFile);

        Assert.Empty(Invoke(request.RequestId).Errors);
        Assert.True(HasGrant(Directory, "site-secret", "g-eng", "read"));
    }

    [Fact]
    public void AChangeApprovedUnderAnotherPolicyIsRefusedEvenWhenTheNewOneWouldBlockIt()
    {
        ConnectForApply();
        var request = Approved();
        Connect(extraPolicy: "    HardDeny = @{ AG005 = 'High' }\n");

        var error = SingleError(Invoke(request.RequestId), "PolicyChanged", Cmd, ErrorCategory.PermissionDenied);
        Assert.Contains(request.PolicyFingerprint, error.Exception.Message);
        Assert.False(HasGrant(Directory, "site-secret", "g-eng", "read"));
    }

    [Fact]
    public void WhatIfShowsEachOperationAndChangesNothing()
    {
        ConnectForApply();
        Temp.Write("three.json", ThreeOperations);
        var request = Approved(ThreeOperations);
        var bytes = File.ReadAllBytes(SnapshotFile);
        var entries = Log().Count;
        Ps.TakeScreen();

        var result = Invoke(request.RequestId, "-WhatIf");

        Assert.Empty(result.Errors);
        Assert.Empty(result.Output);
        var screen = PowerShellHost.Plain(Ps.TakeScreen());
        Assert.Contains("What if: Performing the operation \"Apply\" on target \"add u-alice to group g-data in " + SnapshotFile, screen);
        Assert.Contains("grant write on site-general to u-bob", screen);
        Assert.Contains("make group g-team Public", screen);
        Assert.Equal(bytes, File.ReadAllBytes(SnapshotFile));
        Assert.Equal(entries, Log().Count);
    }

    [Fact]
    public void AHostThatCannotConfirmAppliesNothingAndTheLedgerSaysItRolledBack()
    {
        ConnectForApply();
        var request = Approved(ThreeOperations);
        var bytes = File.ReadAllBytes(SnapshotFile);

        var result = Invoke(request.RequestId, string.Empty);

        Assert.NotEmpty(result.Errors);
        Assert.Equal(bytes, File.ReadAllBytes(SnapshotFile));
        Assert.Single(Log("-Event ApplyRolledBack"));
        Assert.Equal(ApprovalStatus.Approved, Get(request.RequestId).Status);
        Assert.True(RunClean("Test-GovernanceAuditLog -Quiet").Single<bool>());
    }

    [Fact]
    public void UndoRevertsExactlyWhatTheApplyChanged()
    {
        ConnectForApply();
        // One operation already in effect (carol owns the General site): undo must leave it alone.
        var change = ChangeWith("\"requestedBy\": \"bob@tiny.example\"",
            "{ \"op\": \"grant\", \"resource\": \"site-general\", \"principal\": \"u-carol\", \"role\": \"owner\" }, " +
            "{ \"op\": \"grant\", \"resource\": \"site-secret\", \"principal\": \"g-eng\", \"role\": \"read\" }");
        var request = Approved(change);
        var before = File.ReadAllBytes(SnapshotFile);
        var applied = Invoke(request.RequestId).Single<ApplyResult>();
        Assert.Equal(new[] { false, true }, applied.Operations.Select(o => o.Changed));

        var undo = RunClean("Undo-ApprovedChange $args[0]", request.RequestId).Single<ApplyResult>();

        Assert.Equal(ApplyOutcome.Undone, undo.Outcome);
        Assert.Equal(before, File.ReadAllBytes(SnapshotFile));
        Assert.True(HasGrant(Directory, "site-general", "u-carol", "owner"));
        Assert.Equal(ApprovalStatus.Undone, Get(request.RequestId).Status);
        Assert.Equal(new[] { LedgerEvents.UndoStarted, LedgerEvents.OperationReverted, LedgerEvents.UndoCompleted }, Log("-Event Undo*, OperationReverted").Select(e => e.Event));
        SingleError(Run("Undo-ApprovedChange $args[0]", request.RequestId), "AlreadyUndone", "UndoApprovedChangeCommand", ErrorCategory.InvalidOperation);
        SingleError(Invoke(request.RequestId), "AlreadyApplied", Cmd, ErrorCategory.InvalidOperation);
    }

    [Fact]
    public void UndoNeedsNoApprovalButIsRefusedWhenItWouldWidenAccessOrThePolicySaysNo()
    {
        ConnectForApply();
        var narrowing = Approved(ChangeWith("\"requestedBy\": \"bob@tiny.example\"", "{ \"op\": \"revoke\", \"resource\": \"site-general\", \"principal\": \"u-carol\", \"role\": \"owner\" }"), keys: "carol");
        Invoke(narrowing.RequestId);
        SingleError(Run("Undo-ApprovedChange $args[0]", narrowing.RequestId), "UndoWidensAccess", "UndoApprovedChangeCommand", ErrorCategory.PermissionDenied);

        var widening = Approved();
        Invoke(widening.RequestId);
        Connect(extraPolicy: "    EmergencyRevocation = $false\n");
        SingleError(Run("Undo-ApprovedChange $args[0]", widening.RequestId), "EmergencyRevocationDisabled", "UndoApprovedChangeCommand", ErrorCategory.PermissionDenied);
        Assert.True(HasGrant(Directory, "site-secret", "g-eng", "read"));
        SingleError(Run("Undo-ApprovedChange $args[0]", Open().RequestId), "NotApplied", "UndoApprovedChangeCommand", ErrorCategory.InvalidOperation);
    }

    [Fact]
    public void ReducingAccessNeedsNoApprovalWhenThePolicyAllowsItAndIsAuditedLoudly()
    {
        ConnectForApply();
        Temp.Write("revoke.json", ChangeWith("\"requestedBy\": \"bob@tiny.example\"", "{ \"op\": \"revoke\", \"resource\": \"site-general\", \"principal\": \"u-carol\", \"role\": \"owner\" }"));
        Temp.Write("grant.json", CmdletTestData.GrantChange);

        var result = RunClean("Import-AccessChange revoke.json | Invoke-ApprovedChange -EmergencyRevocation");

        var applied = result.Single<ApplyResult>();
        Assert.StartsWith("rev-", applied.RequestId);
        Assert.False(HasGrant(Directory, "site-general", "u-carol", "owner"));
        Assert.StartsWith("EMERGENCY REVOCATION", Log("-Event EmergencyRevocation").Single().Summary);
        SingleError(Run("Import-AccessChange grant.json | Invoke-ApprovedChange -EmergencyRevocation"), "ApprovalRequired", Cmd, ErrorCategory.PermissionDenied);
        Connect(extraPolicy: "    EmergencyRevocation = $false\n");
        SingleError(Run("Import-AccessChange revoke.json | Invoke-ApprovedChange -EmergencyRevocation"), "EmergencyRevocationDisabled", Cmd, ErrorCategory.PermissionDenied);
    }

    [Fact]
    public void ASnapshotHeldOnlyInMemoryCannotBeChanged()
    {
        ConnectForApply();
        var request = Approved();
        RunClean("[AgentGovernance.Directory.SnapshotReader]::ParseText([IO.File]::ReadAllText($args[0])) | Connect-AgentGovernance", SnapshotFile);

        SingleError(Invoke(request.RequestId), "NoWritableDirectory", Cmd, ErrorCategory.InvalidOperation);
    }

    [Fact]
    public void ARequestAssessedOnAnotherTenantIsNotAppliedHere()
    {
        ConnectForApply();
        var request = Approved();
        Temp.Write("other.json", CmdletTestData.OtherSnapshot);
        RunClean("Connect-AgentGovernance -SnapshotPath other.json");

        Assert.Equal("DirectoryMismatch", Assert.Single(Invoke(request.RequestId).Errors).FullyQualifiedErrorId.Split(',')[0]);
    }

    [Fact]
    public void TheResultViewSaysWhatWasAppliedAndHowToUndoIt()
    {
        ConnectForApply();
        var request = Approved(CmdletTestData.SmallChange, "-RequestedBy bob@tiny.example", "carol");

        var text = Ps.Render("Invoke-ApprovedChange $args[0] -Force", request.RequestId);

        Assert.Contains("Outcome         : Apply: Applied", text);
        Assert.Contains("grant read on site-general to u-joe [undo: revoke read on site-general from u-joe]", text);
        Assert.Contains("UTC (Invoke-AccessExpiry reverts it)", text);
    }
}
