using AgentGovernance.Exposure;
using AgentGovernance.Tests.Support;

namespace AgentGovernance.Tests.Cmdlets;

public sealed class SmokeTests
{
    [Fact]
    public void IncidentFlowFromTheIssueWorks()
    {
        using var ps = new PowerShellHost();
        var result = ps.RunClean(@"
            $snapshot = Import-AccessSnapshot -Path ./examples/contoso.snapshot.json
            Import-AccessChange -Path ./examples/changes/forum-4411.json | Test-ExposureRisk -Snapshot $snapshot");
        var report = result.Single<ExposureReport>();
        Assert.Equal(RiskLevel.Critical, report.RiskLevel);
    }
}
