using System.Text;
using System.Text.Json;
using AgentGovernance.Agents;
using AgentGovernance.Approval;
using AgentGovernance.Directory;
using AgentGovernance.Policy;
using AgentGovernance.Stores;
using AgentGovernance.Tests.Support;

namespace AgentGovernance.Tests.Agents;

/// <summary>The tools in this process (no transport), for what needs a server configured otherwise than the class fixture's.</summary>
public sealed class AgentToolsTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private AgentTools Tools(string? requestedBy, out GovernancePolicy policy, out AccessSnapshot snapshot, string extraPolicy = "")
    {
        var policyText = McpServerFixture.Policy().TrimEnd().TrimEnd('}') + extraPolicy + "}\n";
        policy = PolicyReader.ReadFile(_dir.Write("policy.psd1", policyText));
        snapshot = SnapshotReader.ReadFile(Repo.DemoSnapshot);
        return new AgentTools(new AgentToolsConfig(McpServerFixture.Agent, requestedBy, snapshot, policy, _dir["store"], _dir["ledger.key"]));
    }

    private const string Document = """
        { "schema": "agentgovernance/change@1", "title": "t", "justification": "j",
          "suggestedBy": { "type": "user", "id": "u-dana.gupta", "displayName": "Dana Gupta" },
          "requestedBy": "margaret.chen@contoso.com",
          "operations": [ { "op": "grant", "resource": "site-support-kb", "principal": "u-alice", "role": "read" } ] }
        """;

    private static string Args(object value) => JsonSerializer.Serialize(value);

    /// <summary>
    /// Without -RequestedBy the requester is the user running the server, never the one a change document
    /// the agent sends names: else the agent would choose the requester, and with it who may not approve.
    /// </summary>
    [Fact]
    public void The_requester_is_never_taken_from_the_agents_text()
    {
        var tools = Tools(null, out var policy, out var snapshot, "    AllowUnresolvedRequester = $true\n");
        var result = tools.Call(AgentTools.Propose, Args(new { script = Document, format = "Json", justification = "j" }));
        Assert.False(result.IsError, result.Text);
        var id = JsonDocument.Parse(result.Text).RootElement.GetProperty("requestId").GetString()!;
        using var approvals = new ApprovalService(FolderStore.Open(_dir["store"]), null, policy, snapshot);
        var request = approvals.Get(id);
        Assert.Equal(Identities.CurrentUser, request.RequestedBy);
        Assert.NotEqual("margaret.chen@contoso.com", request.Change.RequestedBy);
        Assert.Equal("agent", request.Change.SuggestedBy!.Type);
        Assert.Equal(McpServerFixture.Agent, request.Change.SuggestedBy.Id);
    }

    [Fact]
    public void Arguments_that_are_not_an_object_or_not_json_are_refused_and_recorded()
    {
        var tools = Tools("alice@contoso.com", out _, out _);
        foreach (var bad in new[] { "[1,2]", "{\"operations\": [", "\"text\"", new string('[', 100) + new string(']', 100) })
        {
            var result = tools.Call(AgentTools.Preview, bad);
            Assert.True(result.IsError);
            Assert.Equal("McpArgumentsInvalid", JsonDocument.Parse(result.Text).RootElement.GetProperty("error").GetString());
        }

        var ledger = new AgentGovernance.Ledger.AuditLedger(FolderStore.Open(_dir["store"]), null).Read().Where(e => e.Event == "AgentToolCalled").ToList();
        Assert.Equal(4, ledger.Count);
        Assert.All(ledger, e => Assert.Equal("McpArgumentsInvalid", e.Details["outcome"]));
        Assert.Equal(4, ledger.Select(e => (string)e.Details["argumentsHash"]!).Distinct().Count());
    }
}
