using AgentGovernance.Exposure;
using AgentGovernance.GraphFake;
using AgentGovernance.Tests.Support;

namespace AgentGovernance.Tests.Graph;

/// <summary>Previews on the live tenant: Connect-AgentGovernance -TenantId, then Test-ExposureRisk reads Graph.</summary>
public sealed class GraphPreviewTests : GraphTestBase
{
    public GraphPreviewTests(HostFixture fixture)
        : base(fixture)
    {
    }

    [Fact]
    public void ConnectReadsTheOrganizationAndTheSessionPointsAtGraph()
    {
        var result = Connect();
        Assert.Empty(result.Errors);
        dynamic session = Assert.Single(result.Output).BaseObject;
        Assert.Equal(Tenant.Id, (string)session.TenantId);
        Assert.Equal($"{Graph.BaseUrl} (tenant {Tenant.Id})", (string)session.Directory);
        Assert.Equal("graph", (string)session.Provider.Kind);
        Assert.Contains(Graph.Requests, r => r.StartsWith("GET /v1.0/organization", StringComparison.Ordinal));
    }

    [Fact]
    public void AWrongTokenIsRefusedAtConnectWithAnErrorRecord()
    {
        var result = Connect(token: "not-the-token");
        var error = SingleError(result, "GraphUnauthorized", "ConnectAgentGovernanceCommand", System.Management.Automation.ErrorCategory.SecurityError);
        Assert.Contains("/organization", error.Exception.Message);
    }

    [Fact]
    public void GrantOnAFileToANestedGroupCountsWhoGainsThroughTheNesting()
    {
        ConnectClean();
        var file = ChangeFile("grant.json", $"{{ \"op\": \"grant\", \"resource\": \"{Fabrikam.PayrollId}\", \"principal\": \"{Fabrikam.Eng}\", \"role\": \"read\" }}", "\"requestedBy\": \"bob.stone@fabrikam.example\"");
        var result = Ps.RunClean("param($f) Import-AccessChange -Path $f | Test-ExposureRisk", file);
        var report = (ExposureReport)Assert.Single(result.Output).BaseObject;
        var payroll = Assert.Single(report.Resources);
        Assert.Equal(Fabrikam.PayrollId, payroll.ResourceId);
        Assert.Equal("payroll.xlsx", payroll.DisplayName);
        // Alice (direct), Bob (through Platform) and the Pipeline App; Dave is disabled, and the device is not a principal.
        Assert.Equal(new[] { Fabrikam.Alice, Fabrikam.Bob, Fabrikam.PipelineApp }.OrderBy(x => x), payroll.Gained.Select(g => g.PrincipalId).OrderBy(x => x));
        Assert.Contains(report.Findings, f => f.RuleId == "AG007"); // Bob, the requester, gains
        Assert.Contains(report.Notes, n => n.Contains("sensitivity label of a file", StringComparison.Ordinal));
        Assert.Contains(report.Notes, n => n.Contains("not users, groups or service principals (device)", StringComparison.Ordinal));
        Assert.Contains(result.Warnings, w => w.Contains("sensitivity label of a file", StringComparison.Ordinal));
        Assert.NotEmpty(Graph.Steps); // reads went in $batch calls
    }

    [Fact]
    public void AddingAGuestToAGroupFindsTheAppRoleHeldAboveIt()
    {
        ConnectClean();
        var file = ChangeFile("add.json", $"{{ \"op\": \"addMember\", \"group\": \"{Fabrikam.Platform}\", \"member\": \"{Fabrikam.Joe}\" }}");
        var report = (ExposureReport)Assert.Single(Ps.RunClean("param($f) Import-AccessChange -Path $f | Test-ExposureRisk", file).Output).BaseObject;
        var app = Assert.Single(report.Resources);
        Assert.Equal("servicePrincipals/" + Fabrikam.HelperBot, app.ResourceId);
        Assert.Equal(Fabrikam.Joe, Assert.Single(app.Gained).PrincipalId);
        Assert.Equal(1, report.GainedGuests);
        Assert.Contains(report.Notes, n => n.Contains("cannot be listed from Graph without reading every site", StringComparison.Ordinal));
    }

    [Fact]
    public void MakingALabelledGroupPublicOpensItsSiteToEveryMemberUser()
    {
        ConnectClean();
        var file = ChangeFile("public.json", $"{{ \"op\": \"setVisibility\", \"group\": \"{Fabrikam.Data}\", \"visibility\": \"Public\" }}");
        var report = (ExposureReport)Assert.Single(Ps.RunClean("param($f) Import-AccessChange -Path $f | Test-ExposureRisk", file).Output).BaseObject;
        var site = Assert.Single(report.Resources);
        Assert.Equal("sites/fabrikam.example,site-data,1", site.ResourceId);
        Assert.Equal(AgentGovernance.Directory.Sensitivity.HighlyConfidential, site.Sensitivity);
        // Every enabled member user but Carol (already a member): Alice, Bob, Erin. Not Joe (guest), not Dave (disabled).
        Assert.Equal(new[] { Fabrikam.Alice, Fabrikam.Bob, Fabrikam.Erin }.OrderBy(x => x), site.Gained.Select(g => g.PrincipalId).OrderBy(x => x));
        Assert.Equal(RiskLevel.Critical, report.RiskLevel);
        Assert.Contains(report.Findings, f => f.RuleId == "AG002");
    }

    [Fact]
    public void AnAnonymousLinkOnTheLiveTenantIsBlocked()
    {
        ConnectClean();
        var file = ChangeFile("link.json", $"{{ \"op\": \"createLink\", \"resource\": \"{Fabrikam.PayrollId}\", \"scope\": \"anonymous\", \"role\": \"read\" }}");
        var report = (ExposureReport)Assert.Single(Ps.RunClean("param($f) Import-AccessChange -Path $f | Test-ExposureRisk", file).Output).BaseObject;
        Assert.True(report.GainedAnonymous);
        Assert.Contains(report.Findings, f => f.RuleId == "AG001");
    }
}
