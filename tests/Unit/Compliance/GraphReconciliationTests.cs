using System.Text.Json.Nodes;
using AgentGovernance.Compliance;
using AgentGovernance.Tests.Graph;
using AgentGovernance.Tests.Support;

namespace AgentGovernance.Tests.Compliance;

/// <summary>Reconciliation on a live session: Invoke-ComplianceAudit reads auditLogs/directoryAudits from the loopback Graph itself.</summary>
[Collection(ClockCollection.Name)]
public sealed class GraphReconciliationTests : GraphTestBase
{
    public GraphReconciliationTests(HostFixture fixture)
        : base(fixture)
    {
    }

    private static JsonObject Audit(string id, DateTimeOffset at, string activity, string target, string group) => new()
    {
        ["id"] = id,
        ["category"] = "GroupManagement",
        ["correlationId"] = Guid.NewGuid().ToString(),
        ["result"] = "success",
        ["activityDisplayName"] = activity,
        ["activityDateTime"] = at.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture),
        ["loggedByService"] = "Core Directory",
        ["initiatedBy"] = new JsonObject { ["user"] = new JsonObject { ["id"] = "u-admin", ["userPrincipalName"] = "admin@fabrikam.example" }, ["app"] = null },
        ["targetResources"] = new JsonArray(
            new JsonObject { ["id"] = target, ["type"] = "User", ["displayName"] = target, ["modifiedProperties"] = new JsonArray() },
            new JsonObject { ["id"] = group, ["type"] = "Group", ["displayName"] = group, ["groupType"] = "azureAD", ["modifiedProperties"] = new JsonArray() }),
        ["additionalDetails"] = new JsonArray(),
    };

    [Fact]
    public void ALiveSessionReadsTheAuditLogThroughGraphFilteredOnTheWindowAndEveryPage()
    {
        using var clock = new TestClock(DateTimeOffset.UtcNow);
        var now = clock.Now;
        // More events than one page holds, so the reader follows @odata.nextLink; one before the first window.
        Graph.AddDirectoryAudits(Enumerable.Range(0, 120).Select(i => Audit($"e{i:D3}", now.AddMinutes(-10 - i), "Add member to group", $"u-{i}", "g-eng")).ToArray());
        Graph.AddDirectoryAudits(Audit("e-old", now.AddDays(-8), "Add member to group", "u-old", "g-eng"));
        // A store of this test's own: the cursor of another test's audit would narrow the window.
        var connected = Ps.Run("param($endpoint, $token) Connect-AgentGovernance -TenantId fabrikam.example -AccessToken ([System.Net.NetworkCredential]::new('', $token).SecurePassword) -GraphEndpoint $endpoint -StorePath store -LedgerSignerPath keys/signer.json",
            Graph.BaseUrl, Graph.Token);
        Assert.Empty(connected.Errors);
        Temp.Write("tiny.json", CmdletTestData.Snapshot);

        var findings = RunCleanHere("Invoke-ComplianceAudit -Snapshot (Import-AccessSnapshot tiny.json) -OutputPath r.json");

        var around = findings.Where(f => f.CheckId == "AUD401").ToList();
        Assert.Equal(120, around.Count);
        Assert.DoesNotContain(around, f => f.Target == "e-old");
        var filter = Assert.Single(Graph.AuditLogFilters.Distinct());
        Assert.Matches(@"^activityDateTime ge \S+Z and activityDateTime le \S+Z$", filter);
        Assert.True(Graph.AuditLogFilters.Count >= 2, "the reader followed the nextLink");
        using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Temp["r.json"]));
        Assert.Equal(120, doc.RootElement.GetProperty("reconciliation").GetProperty("aroundPipeline").GetInt32());
    }

    private List<ComplianceFinding> RunCleanHere(string script)
    {
        var result = Ps.Run(script);
        Assert.True(result.Errors.Count == 0, string.Join("\n", result.Errors.Select(e => e.FullyQualifiedErrorId + ": " + e)));
        return result.Objects<ComplianceFinding>().ToList();
    }
}
