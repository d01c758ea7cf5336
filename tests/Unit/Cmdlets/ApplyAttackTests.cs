using System.Management.Automation;
using AgentGovernance.Apply;
using AgentGovernance.Approval;
using AgentGovernance.Changes;
using AgentGovernance.Ledger;
using AgentGovernance.Providers;
using AgentGovernance.Tests.Support;

namespace AgentGovernance.Tests.Cmdlets;

/// <summary>
/// S5 and S9 tried as an attacker would (issue 11, items 8 and 9), through a real runspace: the
/// directory drifts between approval and apply so that the same change gives more than the approvers
/// saw, with every count unchanged; and an undo of a mixed change that would put access back.
/// </summary>
public sealed class ApplyAttackTests : ApplyTestBase
{
    private const string Cmd = "InvokeApprovedChangeCommand";

    public ApplyAttackTests(HostFixture fixture)
        : base(fixture)
    {
    }

    /// <summary>Someone changes the directory outside the pipeline (the snapshot file, through its own writer).</summary>
    private void Drift(AccessOperation op)
    {
        using var directory = new SnapshotFileProvider(SnapshotFile);
        Assert.True(directory.Apply(directory.Plan(op)).Changed);
    }

    private string Stale(ApprovalRequest request)
    {
        var bytes = File.ReadAllBytes(SnapshotFile);
        var error = SingleError(Invoke(request.RequestId), "ApprovalStale", Cmd, ErrorCategory.PermissionDenied);
        Assert.Equal(bytes, File.ReadAllBytes(SnapshotFile));
        Assert.Equal("ApprovalStale", Log("-Event ApplyRefused").Last().Details["reason"]);
        return error.Exception.Message;
    }

    private static string AddAppToData => ChangeWith("\"requestedBy\": \"bob@tiny.example\"", "{ \"op\": \"addMember\", \"group\": \"g-data\", \"member\": \"sp-app\" }");

    [Fact]
    public void ReadBecomingWriteAfterApprovalIsStale()
    {
        ConnectForApply();
        var request = Approved(AddAppToData);
        Drift(AccessOperation.Grant("site-secret", "g-data", "write"));

        var message = Stale(request);

        Assert.Contains("sp-app read→write", message);
        Assert.Contains("Secret Exports (site-secret)", message);
    }

    [Fact]
    public void WriteBecomingOwnerAfterApprovalIsStale()
    {
        ConnectForApply();
        Drift(AccessOperation.Grant("site-secret", "g-data", "write"));
        ConnectForApply(); // the session reads the directory as it is now
        var request = Approved(AddAppToData);
        Drift(AccessOperation.Grant("site-secret", "g-data", "owner"));

        Assert.Contains("sp-app write→owner", Stale(request));
    }

    [Fact]
    public void ARelabelToHighlyConfidentialAfterApprovalIsStale()
    {
        ConnectForApply();
        // sp-app reads the General site through g-platform; the change gives it write.
        var request = Approved(ChangeWith("\"requestedBy\": \"bob@tiny.example\"", "{ \"op\": \"grant\", \"resource\": \"site-general\", \"principal\": \"sp-app\", \"role\": \"write\" }"), keys: "carol");
        Assert.Equal(1, request.Exposure.PrincipalsGained);
        var text = File.ReadAllText(SnapshotFile);
        Assert.Contains("\"displayName\": \"General Site\" }", text);
        File.WriteAllText(SnapshotFile, text.Replace("\"displayName\": \"General Site\" }", "\"displayName\": \"General Site\", \"sensitivity\": \"HighlyConfidential\" }"));

        Assert.Contains("General Site (site-general) is labelled HighlyConfidential now, General when approved", Stale(request));
    }

    [Fact]
    public void AGroupWhoseMembersAreSwappedForAsManyOthersIsStale()
    {
        ConnectForApply();
        // u-dave asks; g-data (carol) would read the Confidential team site.
        var request = Approved(ChangeWith("\"requestedBy\": \"u-dave\"", "{ \"op\": \"grant\", \"resource\": \"site-team\", \"principal\": \"g-data\", \"role\": \"read\" }"));
        Drift(AccessOperation.RemoveMember("g-data", "u-carol"));
        Drift(AccessOperation.AddMember("g-data", "u-bob"));

        // The same counts, kinds, risk, findings and resources: only who gains differs.
        var now = RunClean("Import-AccessChange change.json | Test-ExposureRisk -Snapshot (Import-AccessSnapshot $args[0])", SnapshotFile).Single<Exposure.ExposureReport>();
        Assert.Equal((request.Exposure.PrincipalsGained, request.Exposure.GainedMembers, request.Exposure.RiskLevel), (now.PrincipalsGained, now.GainedMembers, now.RiskLevel));
        Assert.Equal(request.Exposure.Findings.Select(f => f.RuleId + f.ResourceId), now.Findings.Select(f => f.RuleId + f.ResourceId));

        var message = Stale(request);
        Assert.Contains("1 principal(s) would gain access the approvers did not see: u-bob (read)", message);
    }

    [Fact]
    public void DriftThatOnlyNarrowsIsNotStale()
    {
        ConnectForApply();
        var request = Approved(AddAppToData);
        Drift(AccessOperation.RemoveMember("g-data", "u-carol"));
        Drift(AccessOperation.Grant("site-general", "sp-app", "read"));

        Assert.Empty(Invoke(request.RequestId).Errors);
    }

    [Fact]
    public void UndoOfAMixedChangeRevokesAtOnceAndNeverPutsTheRemovedMemberBack()
    {
        ConnectForApply();
        var mixed = ChangeWith("\"requestedBy\": \"bob@tiny.example\"",
            "{ \"op\": \"grant\", \"resource\": \"site-general\", \"principal\": \"sp-app\", \"role\": \"read\" }, { \"op\": \"removeMember\", \"group\": \"g-data\", \"member\": \"u-carol\" }");
        var request = Approved(mixed, keys: new[] { "erin", "frank" });
        Assert.Empty(Invoke(request.RequestId).Errors);
        Assert.DoesNotContain("u-carol", Directory.GetMembers("g-data"));

        var undo = RunClean("Undo-ApprovedChange $args[0]", request.RequestId);

        var result = undo.Single<ApplyResult>();
        Assert.False(HasGrant(Directory, "site-general", "sp-app", "read"));
        Assert.DoesNotContain("u-carol", Directory.GetMembers("g-data"));
        Assert.Equal("add u-carol to group g-data", Assert.Single(result.Withheld).ToString());
        Assert.Equal("add u-carol to group g-data", Assert.Single(result.FollowUpChange!.Operations).ToString());
        Assert.Contains(undo.Warnings, w => w.Contains("would widen access without approval") && w.Contains("add u-carol to group g-data"));
        var completed = Log("-Event UndoCompleted").Single();
        Assert.Contains("1 withheld", completed.Summary);
        Assert.Single((object?[])completed.Details["withheld"]!);
        Assert.Equal(ApprovalStatus.Undone, Get(request.RequestId).Status);

        // The follow-up is an ordinary change: restoring carol needs its own approval.
        var followUp = RunClean("$args[0].FollowUpChange | Request-HumanApproval -RequestedBy bob@tiny.example", result).Single<ApprovalRequest>();
        Assert.Equal(ApprovalStatus.Pending, followUp.Status);
        Assert.True(RunClean("Test-GovernanceAuditLog -Quiet").Single<bool>());
    }

    [Fact]
    public void UndoThatWouldOnlyPutAccessBackIsRefusedAndWhatIfSaysWhatItWithholds()
    {
        ConnectForApply();
        var request = Approved(ChangeWith("\"requestedBy\": \"bob@tiny.example\"", "{ \"op\": \"removeMember\", \"group\": \"g-data\", \"member\": \"u-carol\" }"), keys: "carol");
        Assert.Empty(Invoke(request.RequestId).Errors);

        var error = SingleError(Run("Undo-ApprovedChange $args[0]", request.RequestId), "UndoWidensAccess", "UndoApprovedChangeCommand", ErrorCategory.PermissionDenied);

        Assert.Contains("add u-carol to group g-data", error.Exception.Message);
        Assert.DoesNotContain("u-carol", Directory.GetMembers("g-data"));
        Assert.Equal(ApprovalStatus.Applied, Get(request.RequestId).Status);
    }
}

/// <summary>Expiry of a mixed time-boxed change, on a moved clock.</summary>
[Collection(ClockCollection.Name)]
public sealed class ExpiryAttackTests : ApplyTestBase
{
    public ExpiryAttackTests(HostFixture fixture)
        : base(fixture)
    {
    }

    [Fact]
    public void ExpiryOfAMixedChangeEndsTheGrantAndLeavesTheRemovedMemberOutOnce()
    {
        using var clock = new TestClock(DateTimeOffset.UtcNow);
        ConnectForApply();
        var mixed = ChangeWith("\"requestedBy\": \"bob@tiny.example\", \"duration\": \"PT2H\"",
            "{ \"op\": \"grant\", \"resource\": \"site-general\", \"principal\": \"sp-app\", \"role\": \"read\" }, { \"op\": \"removeMember\", \"group\": \"g-data\", \"member\": \"u-carol\" }");
        var request = Approved(mixed, keys: new[] { "erin", "frank" });
        Assert.Empty(Invoke(request.RequestId).Errors);
        clock.Advance(TimeSpan.FromHours(2) + TimeSpan.FromSeconds(1));

        var first = RunClean("Invoke-AccessExpiry");
        var second = RunClean("Invoke-AccessExpiry");

        var expired = first.Single<ApplyResult>();
        Assert.Equal(("Expiry", ApplyOutcome.Undone), (expired.Action, expired.Outcome));
        Assert.False(HasGrant(Directory, "site-general", "sp-app", "read"));
        Assert.DoesNotContain("u-carol", Directory.GetMembers("g-data"));
        Assert.Equal("add u-carol to group g-data", Assert.Single(expired.Withheld).ToString());
        Assert.Contains(first.Warnings, w => w.Contains("add u-carol to group g-data"));
        Assert.Empty(second.Output);
        Assert.Equal(ApprovalStatus.Undone, Get(request.RequestId).Status);
    }

    [Fact]
    public void TheExposureReportIsDatedByTheModuleClock()
    {
        using var clock = new TestClock(new DateTimeOffset(2031, 5, 6, 7, 8, 9, TimeSpan.Zero));
        ConnectForApply();

        var request = Open();

        Assert.Equal(clock.Now, request.Exposure.AssessedAt);
        Assert.Equal(clock.Now, RunClean("Import-AccessChange change.json | Test-ExposureRisk").Single<Exposure.ExposureReport>().AssessedAt);
    }
}
