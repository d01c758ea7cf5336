using AgentGovernance.Apply;
using AgentGovernance.Approval;
using AgentGovernance.GraphFake;
using AgentGovernance.Tests.Support;

namespace AgentGovernance.Tests.Graph;

/// <summary>The whole pipeline on the live (loopback) tenant: request, approve, apply through Graph, undo; the pipeline is the one the snapshot uses.</summary>
public sealed class GraphPipelineTests : GraphTestBase
{
    public GraphPipelineTests(HostFixture fixture)
        : base(fixture)
    {
    }

    [Fact]
    public void AnApprovedChangeIsAppliedThroughGraphAndUndoneWithItsExactInverse()
    {
        Temp.Write("policy.psd1", ApprovalTestData.Policy(new[] { "erin@example.org", "frank@example.org" }));
        var connect = Ps.Run(
            "param($endpoint, $token) Connect-AgentGovernance -TenantId fabrikam.example -AccessToken ([System.Net.NetworkCredential]::new('', $token).SecurePassword) -GraphEndpoint $endpoint -PolicyPath policy.psd1 -StorePath store -LedgerSignerPath keys/signer.json",
            Graph.BaseUrl, Graph.Token);
        Assert.True(connect.Errors.Count == 0, string.Join("; ", connect.Errors));
        var change = ChangeFile("add.json", $"{{ \"op\": \"addMember\", \"group\": \"{Fabrikam.Eng}\", \"member\": \"{Fabrikam.Joe}\" }}", "\"requestedBy\": \"bob.stone@fabrikam.example\"");
        var vars = ApprovalTestData.Variables();

        var request = Ps.RunClean("param($f) Import-AccessChange -Path $f | Request-HumanApproval", vars, change).Single<ApprovalRequest>();
        Assert.Equal("graph", request.DirectoryKind);
        Ps.RunClean("Approve-AccessChange $args[0] -KeyPath $key_erin -Passphrase $pw -Force", vars, request.RequestId);
        Ps.RunClean("Approve-AccessChange $args[0] -KeyPath $key_frank -Passphrase $pw -Force", vars, request.RequestId);
        Assert.DoesNotContain(Fabrikam.Joe, Tenant.Groups[Fabrikam.Eng].Members);

        var applied = Ps.RunClean("Invoke-ApprovedChange $args[0] -Force", vars, request.RequestId).Single<ApplyResult>();

        Assert.Equal(ApplyOutcome.Applied, applied.Outcome);
        Assert.Contains(Fabrikam.Joe, Tenant.Groups[Fabrikam.Eng].Members);
        Assert.Contains(Graph.Requests.Concat(Graph.Steps), r => r == $"POST /v1.0/groups/{Fabrikam.Eng}/members/$ref");
        Assert.Equal($"{Graph.BaseUrl} (tenant {Tenant.Id})", applied.Directory);

        var undone = Ps.RunClean("Undo-ApprovedChange $args[0]", vars, request.RequestId).Single<ApplyResult>();

        Assert.Equal(ApplyOutcome.Undone, undone.Outcome);
        Assert.DoesNotContain(Fabrikam.Joe, Tenant.Groups[Fabrikam.Eng].Members);
        Assert.Contains(Graph.Requests.Concat(Graph.Steps), r => r == $"DELETE /v1.0/groups/{Fabrikam.Eng}/members/{Fabrikam.Joe}/$ref");
        Assert.True(Ps.RunClean("Test-GovernanceAuditLog -Quiet").Single<bool>());
    }
}
