using AgentGovernance.Apply;
using AgentGovernance.Approval;
using AgentGovernance.Changes;
using AgentGovernance.Directory;
using AgentGovernance.Exposure;
using AgentGovernance.GraphFake;
using AgentGovernance.Policy;
using AgentGovernance.Tests.Support;

namespace AgentGovernance.Tests.Graph;

/// <summary>Issue 12, coverage: what a live preview could not see is in the report, raises a widening change's risk, and is compared at apply time.</summary>
public sealed class GraphCoverageTests : GraphTestBase
{
    public GraphCoverageTests(HostFixture fixture)
        : base(fixture)
    {
    }

    private ExposureReport Preview(string operation)
    {
        var file = ChangeFile("change.json", operation, "\"requestedBy\": \"bob.stone@fabrikam.example\"");
        return (ExposureReport)Assert.Single(Ps.RunClean("param($f) Import-AccessChange -Path $f | Test-ExposureRisk", file).Output).BaseObject;
    }

    [Fact]
    public void AddingAMemberToAGroupWhoseSharePointGrantsGraphCannotListIsNeverNone()
    {
        // The incident's shape: a group with nothing Graph can list granted to it.
        var quiet = FakeTenant.NewId(17);
        Tenant.AddGroup(quiet, "Quiet", members: Fabrikam.Bob);
        ConnectClean();
        var report = Preview($"{{ \"op\": \"addMember\", \"group\": \"{quiet}\", \"member\": \"{Fabrikam.Erin}\" }}");
        Assert.Empty(report.Resources);
        Assert.Equal(Coverage.Partial, report.Coverage);
        Assert.Contains(report.CoverageReasons, r => r.Contains("no reverse lookup", StringComparison.Ordinal));
        Assert.Equal(RiskLevel.High, report.RiskLevel);
        Assert.Equal(GovernancePolicy.Default.RequiredApprovals(RiskLevel.High), report.RequiredApprovals);
        var finding = Assert.Single(report.Findings, f => f.RuleId == ExposureReport.CoverageRuleId);
        Assert.Contains("Coverage is Partial", finding.Message, StringComparison.Ordinal);
        Assert.False(report.Blocked);

        // Removing the member cannot widen: coverage is still said, the risk is not raised for it.
        var remove = Preview($"{{ \"op\": \"removeMember\", \"group\": \"{quiet}\", \"member\": \"{Fabrikam.Bob}\" }}");
        Assert.Equal(Coverage.Partial, remove.Coverage);
        Assert.Equal(RiskLevel.None, remove.RiskLevel);
    }

    [Fact]
    public void AGrantWhoseEveryGranteeIsReadIsComplete()
    {
        ConnectClean();
        var report = Preview($"{{ \"op\": \"grant\", \"resource\": \"{Fabrikam.PayrollId}\", \"principal\": \"{Fabrikam.Alice}\", \"role\": \"read\" }}");
        Assert.Equal(Coverage.Complete, report.Coverage);
        Assert.Empty(report.CoverageReasons);
        Assert.DoesNotContain(report.Findings, f => f.RuleId == ExposureReport.CoverageRuleId);
    }

    [Fact]
    public void ASharePointGroupsMembersUnlistedMakeItPartial()
    {
        ConnectClean();
        var report = Preview($"{{ \"op\": \"grant\", \"resource\": \"{Fabrikam.RoadmapId}\", \"principal\": \"{Fabrikam.Alice}\", \"role\": \"read\" }}");
        Assert.Equal(Coverage.Partial, report.Coverage);
        Assert.Contains(report.CoverageReasons, r => r.Contains("SharePoint groups on " + Fabrikam.RoadmapId, StringComparison.Ordinal));
        Assert.True(report.RiskLevel >= RiskLevel.High);
    }

    [Fact]
    public void ARefusedReadIsAReason()
    {
        Graph.Fail(new Fault { Path = $"/groups/{Fabrikam.Platform}/appRoleAssignments", Status = 403, Code = "Authorization_RequestDenied", Times = 5 });
        ConnectClean();
        var report = Preview($"{{ \"op\": \"addMember\", \"group\": \"{Fabrikam.Platform}\", \"member\": \"{Fabrikam.Erin}\" }}");
        Assert.Contains(report.CoverageReasons, r => r.Contains($"the app roles of group {Fabrikam.Platform} (HTTP 403)", StringComparison.Ordinal));
    }
}

/// <summary>Coverage offline: the policy's floor, the request's summary, and S5.</summary>
public sealed class CoverageEngineTests
{
    private static AccessSnapshot Tenant(params string[] gaps)
    {
        var b = new SnapshotBuilder("t.example", 8, 2);
        b.AddPrincipal("u-a", PrincipalType.User);
        b.AddPrincipal("u-b", PrincipalType.User);
        var g = b.AddPrincipal("g-x", PrincipalType.Group);
        b.AddResource("site", "site");
        b.AddMember(g, 0 + AccessSnapshot.FirstPrincipal);
        b.CoverageGaps.AddRange(gaps);
        return b.Build();
    }

    private static readonly AccessChange Add = new(new[] { AccessOperation.AddMember("g-x", "u-b") }, requestedBy: "u-a");

    [Fact]
    public void ASnapshotFileIsCompleteAndNothingIsRaised()
    {
        var report = ExposureEngine.Assess(Tenant(), Add);
        Assert.Equal(Coverage.Complete, report.Coverage);
        Assert.Equal(RiskLevel.None, report.RiskLevel);
    }

    [Fact]
    public void ThePolicySetsTheFloor()
    {
        var medium = PolicyReader.Parse("@{ IncompleteCoverageRisk = 'Medium' }");
        Assert.Equal(RiskLevel.Medium, ExposureEngine.Assess(Tenant("x"), Add, medium).RiskLevel);
        Assert.Equal(RiskLevel.High, ExposureEngine.Assess(Tenant("x"), Add).RiskLevel);
        Assert.NotEqual(GovernancePolicy.Default.Fingerprint, medium.Fingerprint);
        Assert.Throws<DocumentException>(() => PolicyReader.Parse("@{ IncompleteCoverageRisk = 'None' }"));
    }

    [Fact]
    public void ApproversSeeCoverageAndWorseCoverageIsStale()
    {
        var complete = ExposureSummary.FromReport(ExposureEngine.Assess(Tenant(), Add));
        Assert.Equal(Coverage.Complete, complete.Coverage);
        var partial = ExposureSummary.FromReport(ExposureEngine.Assess(Tenant("the members of group g-y (HTTP 403)"), Add));
        Assert.Equal(Coverage.Partial, partial.Coverage);
        Assert.Contains("Coverage Partial: the preview could not see the members of group g-y (HTTP 403).", partial.Render(), StringComparison.Ordinal);

        Assert.Empty(StaleApproval.Reasons(complete, ExposureEngine.Assess(Tenant(), Add)));
        Assert.Contains(StaleApproval.Reasons(complete, ExposureEngine.Assess(Tenant("z"), Add)), r => r.Contains("coverage Partial, approved at Complete", StringComparison.Ordinal));
        Assert.DoesNotContain(StaleApproval.Reasons(partial, ExposureEngine.Assess(Tenant("the members of group g-y (HTTP 403)"), Add)), r => r.Contains("cannot see", StringComparison.Ordinal));
        Assert.Contains(StaleApproval.Reasons(partial, ExposureEngine.Assess(Tenant("the members of group g-y (HTTP 403)", "grantees on site"), Add)),
            r => r.Contains("now cannot see grantees on site", StringComparison.Ordinal));
        // Better coverage is never stale for that.
        Assert.DoesNotContain(StaleApproval.Reasons(partial, ExposureEngine.Assess(Tenant(), Add)), r => r.Contains("coverage", StringComparison.OrdinalIgnoreCase));
    }
}
