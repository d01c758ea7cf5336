using System.Text.Json;
using AgentGovernance.Compliance;
using AgentGovernance.GraphFake;
using AgentGovernance.Tests.Graph;
using AgentGovernance.Tests.Support;

namespace AgentGovernance.Tests.Compliance;

/// <summary>
/// Invoke-ComplianceAudit on a live session without a snapshot: it audits over the session's permission inventory
/// (Connect-AgentGovernance -InventoryPath), and each exposure finding on a resource stands only once a live read of
/// that resource's permissions on the loopback Graph still shows it. Without an inventory it says how to get one.
/// </summary>
[Collection(ClockCollection.Name)]
public sealed class InventoryAuditTests : GraphTestBase
{
    private readonly string _dataDrive;
    private readonly FakeItem _finance, _plan;

    public InventoryAuditTests(HostFixture fixture)
        : base(fixture)
    {
        var t = Tenant;
        _dataDrive = t.SiteDrive(t.GroupSites[Fabrikam.Data]);
        // Data Ops (Highly Confidential): a folder shared with the whole organization, a file shared with Joe (a guest).
        _finance = t.AddItem(_dataDrive, "01FINANCE", "Finance", folder: true);
        t.Share(_finance, new FakePermission { Id = "p-org", Role = "read", LinkScope = "organization" });
        _plan = t.AddItem(_dataDrive, "01PLAN", "plan.docx");
        t.Share(_plan, new FakePermission { Id = "p-joe", Role = "read", User = Fabrikam.Joe });
        // roadmap.docx's SharePoint group is a gap of the inventory's own, not this test's.
        t.Items[$"{Fabrikam.Drive}/{Fabrikam.Roadmap}"].Permissions.RemoveAll(p => p.SiteGroup is not null);
    }

    private string Item(FakeItem item) => $"drives/{_dataDrive}/items/{item.Id}";

    private RunResult ConnectLive(string? inventory) => Ps.Run(
        "param($endpoint, $token, $inventory) $a = @{ TenantId = 'fabrikam.example'; AccessToken = [System.Net.NetworkCredential]::new('', $token).SecurePassword; GraphEndpoint = $endpoint; StorePath = 'store'; LedgerSignerPath = 'keys/signer.json' }; " +
        "if ($inventory) { $a.InventoryPath = $inventory }; Connect-AgentGovernance @a",
        Graph.BaseUrl, Graph.Token, inventory);

    [Fact]
    public void WithoutAnInventoryALiveSessionIsRefusedWithTheCommandsThatGiveItOne()
    {
        Assert.Empty(ConnectLive(null).Errors);
        var result = Ps.Run("Invoke-ComplianceAudit");
        var error = Assert.Single(result.Errors);
        Assert.StartsWith("AuditNeedsSnapshot,", error.FullyQualifiedErrorId);
        Assert.Equal(System.Management.Automation.ErrorCategory.InvalidOperation, error.CategoryInfo.Category);
        Assert.Contains("Export-AccessSnapshot -FromGraph", error.ToString());
        Assert.Contains("-InventoryPath", error.ToString());
    }

    [Fact]
    public void ALiveSessionAuditsOverItsInventoryAndConfirmsEachResourcesFindingsByReadingItAgainLive()
    {
        ConnectClean();
        var path = Temp["inventory.json"];
        Assert.Empty(Ps.Run("param($p) Export-AccessSnapshot -FromGraph -Path $p", path).Errors);
        Assert.Empty(ConnectLive(path).Errors);

        // Since the crawl the organization link on Finance was removed: the inventory still has it, Graph no longer does.
        _finance.Permissions.RemoveAll(p => p.Id == "p-org");
        var before = Graph.Requests.Concat(Graph.Steps).Count(r => r.Contains("/permissions", StringComparison.Ordinal));

        var result = Ps.Run("Invoke-ComplianceAudit -OutputPath r.json, r.html -Verbose");
        Assert.True(result.Errors.Count == 0, string.Join("\n", result.Errors.Select(e => e.FullyQualifiedErrorId + ": " + e)));
        var findings = result.Objects<ComplianceFinding>().ToList();

        // Joe still reads plan.docx live: confirmed. Finance's tenant-wide link is gone live: no AUD001 from the stale inventory.
        Assert.Contains(findings, f => f.CheckId == "AUD003" && f.Target == Item(_plan));
        Assert.DoesNotContain(findings, f => f.Target == Item(_finance) && f.CheckId == "AUD001");
        Assert.True(Graph.Requests.Concat(Graph.Steps).Count(r => r.Contains("/permissions", StringComparison.Ordinal)) > before, "the resources were read again live");

        using var doc = JsonDocument.Parse(File.ReadAllText(Temp["r.json"]));
        Assert.Equal("agentgovernance/compliance-report@2", doc.RootElement.GetProperty("schema").GetString());
        var coverage = doc.RootElement.GetProperty("directoryCoverage");
        Assert.Equal("inventory", coverage.GetProperty("source").GetString());
        Assert.Equal(path, coverage.GetProperty("inventory").GetString());
        Assert.False(coverage.GetProperty("stale").GetBoolean());
        Assert.True(coverage.GetProperty("ageMinutes").GetInt64() < 60);
        var reread = coverage.GetProperty("readLive").EnumerateArray().ToDictionary(r => r.GetProperty("resource").GetString()!, r => r.GetProperty("outcome").GetString()!);
        Assert.StartsWith("confirmed: AUD003", reread[Item(_plan)]);
        Assert.StartsWith("no finding any more", reread[Item(_finance)]);
        Assert.Contains("Audited over the permission inventory", File.ReadAllText(Temp["r.html"]));

        // A day and more on, the inventory is older than the policy's Inventory.MaxAge (one day): the audit says so.
        using var clock = new TestClock(DateTimeOffset.UtcNow.AddDays(2));
        var stale = Ps.Run("Invoke-ComplianceAudit -OutputPath r.json");
        Assert.Contains(stale.Warnings, w => w.Contains("older than the policy's Inventory.MaxAge", StringComparison.Ordinal));
        using var again = JsonDocument.Parse(File.ReadAllText(Temp["r.json"]));
        Assert.True(again.RootElement.GetProperty("directoryCoverage").GetProperty("stale").GetBoolean());
    }
}
