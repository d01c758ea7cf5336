using System.Collections;
using System.Net;
using AgentGovernance.GraphFake;
using AgentGovernance.Tests.Support;
using Fabrikam = AgentGovernance.GraphFake.Fabrikam;

namespace AgentGovernance.Tests.Graph;

/// <summary>A fresh loopback Graph per test, and a runspace (one per class) connected to it with -AccessToken.</summary>
public abstract class GraphTestBase : CmdletTestBase, IDisposable
{
    protected GraphTestBase(HostFixture fixture)
        : base(fixture)
    {
        Tenant = Fabrikam.Build();
        Graph = new FakeGraph(Tenant);
    }

    protected FakeTenant Tenant { get; }

    protected FakeGraph Graph { get; }

    /// <summary>Connects the runspace's session to the loopback Graph (-TimeoutSec as given).</summary>
    protected RunResult Connect(int timeoutSec = 30, string? token = null) =>
        Ps.Run("param($endpoint, $token, $timeout) Connect-AgentGovernance -TenantId fabrikam.example -AccessToken ([System.Net.NetworkCredential]::new('', $token).SecurePassword) -GraphEndpoint $endpoint -TimeoutSec $timeout -PassThru",
            Graph.BaseUrl, token ?? Graph.Token, timeoutSec);

    protected void ConnectClean(int timeoutSec = 30)
    {
        var result = Connect(timeoutSec);
        Assert.True(result.Errors.Count == 0, string.Join("\n", result.Errors.Select(e => e.FullyQualifiedErrorId + ": " + e)));
    }

    /// <summary>A change document with these operations, as a user would write it.</summary>
    protected string ChangeFile(string name, string operations, string? extra = null) =>
        Temp.Write(name, "{ \"schema\": \"agentgovernance/change@1\", " + (extra is null ? string.Empty : extra + ", ") + "\"operations\": [ " + operations + " ] }");

    public new void Dispose()
    {
        // Leave the runspace connected to nothing live: the next test class starts clean.
        Ps.Run($"Connect-AgentGovernance -SnapshotPath '{TinyPath}'");
        Graph.Dispose();
        base.Dispose();
    }
}
