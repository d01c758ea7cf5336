using System.Management.Automation;
using System.Net.Http.Headers;
using System.Text.Json;
using AgentGovernance.Directory;
using AgentGovernance.Exposure;
using AgentGovernance.GraphFake;
using AgentGovernance.Tests.Support;

namespace AgentGovernance.Tests.Graph;

/// <summary>
/// The permission inventory (Export-AccessSnapshot -FromGraph, -Update) on a loopback Graph whose drive
/// delta follows driveitem-delta.md: nextLink pages and a deltaLink, the Prefer headers' shared facet and
/// sharedChanged annotation, permission gaps, the deleted facet, and 410 with a Location to resync from.
/// </summary>
public sealed class GraphInventoryTests : GraphTestBase
{
    /// <summary>What the crawl must send (driveitem-delta.md, "Scanning permissions hierarchies").</summary>
    private const string Prefer = "deltashowremovedasdeleted, deltatraversepermissiongaps, deltashowsharingchanges, hierarchicalsharing";

    private readonly string _dataDrive;
    private readonly string _teamDrive;
    private readonly FakeItem _finance, _budget, _plan, _notes, _secret, _hidden, _deck;

    public GraphInventoryTests(HostFixture fixture)
        : base(fixture)
    {
        var t = Tenant;
        _dataDrive = t.SiteDrive(t.GroupSites[Fabrikam.Data]);
        _teamDrive = t.SiteDrive(t.GroupSites[Fabrikam.Team]);
        // Data Ops' library: a folder shared with the organization (its file inherits), a file shared with
        // Alice, a file shared with no one, and behind a folder the app cannot see through, a file shared with Joe.
        _finance = t.AddItem(_dataDrive, "01FINANCE", "Finance", folder: true);
        t.Share(_finance, new FakePermission { Id = "p-org", Role = "read", LinkScope = "organization" });
        _budget = t.AddItem(_dataDrive, "01BUDGET", "budget.xlsx", parent: _finance.Id);
        _budget.Permissions.Add(new FakePermission { Id = "p-org", Role = "read", LinkScope = "organization", Inherited = true });
        _plan = t.AddItem(_dataDrive, "01PLAN", "plan.docx");
        t.Share(_plan, new FakePermission { Id = "p-alice", Role = "write", User = Fabrikam.Alice });
        _notes = t.AddItem(_dataDrive, "01NOTES", "notes.txt");
        _secret = t.AddItem(_dataDrive, "01SECRET", "Restricted", folder: true);
        _secret.BehindGap = true;
        _hidden = t.AddItem(_dataDrive, "01HIDDEN", "salaries.xlsx", parent: _secret.Id);
        _hidden.BehindGap = true;
        t.Share(_hidden, new FakePermission { Id = "p-joe", Role = "read", User = Fabrikam.Joe });
        _deck = t.AddItem(_teamDrive, "01DECK", "deck.pptx");
        t.Share(_deck, new FakePermission { Id = "p-eng", Role = "read", Group = Fabrikam.Eng });
    }

    private RunResult Export(string path, bool update = false, bool resume = false) =>
        Ps.Run("param($p, $u, $r) Export-AccessSnapshot -FromGraph -Path $p -Update:$u -Resume:$r -Verbose", path, update, resume);

    private int PermissionReads() => Graph.Requests.Concat(Graph.Steps).Count(r => r.StartsWith("GET ", StringComparison.Ordinal) && r.Contains("/items/", StringComparison.Ordinal) && r.Contains("/permissions", StringComparison.Ordinal));

    private int DriveDeltas() => Graph.Requests.Concat(Graph.Steps).Count(r => r.StartsWith("GET ", StringComparison.Ordinal) && r.Contains("/root/delta", StringComparison.Ordinal));

    private static string Item(string drive, FakeItem item) => $"drives/{drive}/items/{item.Id}";

    [Fact]
    public void TheCrawlFindsEveryItemWithPermissionsOfItsOwnAndReadsOnlyThose()
    {
        Graph.DeltaPageSize = 2; // the Data Ops drive comes in several pages
        ConnectClean();
        var path = Temp["inventory.snapshot.json"];
        var result = Export(path);
        Assert.True(result.Errors.Count == 0, string.Join("\n", result.Errors));
        Assert.False(File.Exists(path + ".journal.drives"), "the crawl's journal is deleted once the snapshot is written");
        Assert.Contains("\"schema\": \"agentgovernance/snapshot@2\"", File.ReadAllText(path), StringComparison.Ordinal);

        var s = SnapshotReader.ReadFile(path);
        Assert.Equal(new[] { _dataDrive, _teamDrive, Fabrikam.Drive }.OrderBy(x => x, StringComparer.Ordinal), s.Inventory.Select(d => d.Id));
        Assert.All(s.Inventory, d => Assert.Contains("/root/delta?token=", d.DeltaLink, StringComparison.Ordinal));
        Assert.Equal("sites/" + Tenant.GroupSites[Fabrikam.Data].Id, s.Inventory.Single(d => d.Id == _dataDrive).Site);

        var finance = s.FindResource(Item(_dataDrive, _finance))!;
        Assert.Equal("driveItem", finance.Type);
        Assert.Equal(Sensitivity.HighlyConfidential, finance.Sensitivity); // the site's group label
        Assert.Equal(Fabrikam.Data, finance.Group);
        Assert.Contains(s.Grants, g => g.ResourceId == finance.Id && g.PrincipalId == Audiences.EveryoneExceptExternal && g.Role == "read");
        Assert.Contains(s.Grants, g => g.ResourceId == Item(_dataDrive, _plan) && g.PrincipalId == Fabrikam.Alice && g.Role == "write");
        Assert.Contains(s.Grants, g => g.ResourceId == Item(_dataDrive, _hidden) && g.PrincipalId == Fabrikam.Joe); // behind a permission gap
        Assert.Contains(s.Grants, g => g.ResourceId == Item(_teamDrive, _deck) && g.PrincipalId == Fabrikam.Eng);
        Assert.Null(s.FindResource(Item(_dataDrive, _budget))); // inherits from Finance
        Assert.Null(s.FindResource(Item(_dataDrive, _notes))); // shared with no one

        // Permissions read for the four shared items and Carol's two shared OneDrive files only; every drive delta carried the four Prefer values.
        Assert.Equal(6, PermissionReads());
        Assert.True(DriveDeltas() >= 4, "the Data Ops drive's pages were followed");
        Assert.NotEmpty(Graph.DrivePrefer);
        Assert.All(Graph.DrivePrefer, p => Assert.EndsWith(" " + Prefer, p, StringComparison.Ordinal));
        Assert.Contains(Graph.Requests, r => r.StartsWith("GET /v1.0/sites/getAllSites", StringComparison.Ordinal));
    }

    /// <summary>The fake serves what the docs say the headers change, so the crawl's use of them can fail a test.</summary>
    [Fact]
    public async Task TheLoopbackDriveDeltaFollowsThePreferHeaders()
    {
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Graph.Token);
        async Task<(int Status, List<JsonElement> Items)> Delta(string? prefer)
        {
            var items = new List<JsonElement>();
            for (string? next = $"{Graph.BaseUrl}/drives/{_dataDrive}/root/delta"; next is not null;)
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, next);
                if (prefer is not null) request.Headers.TryAddWithoutValidation("Prefer", prefer);
                using var response = await http.SendAsync(request);
                if (!response.IsSuccessStatusCode) return ((int)response.StatusCode, items);
                using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
                items.AddRange(doc.RootElement.GetProperty("value").EnumerateArray().Select(e => e.Clone()));
                next = doc.RootElement.TryGetProperty("@odata.nextLink", out var n) ? n.GetString() : null;
            }

            return (200, items);
        }

        bool Has(List<JsonElement> items, FakeItem item) => items.Any(i => i.GetProperty("id").GetString() == item.Id);
        bool Shared(List<JsonElement> items, FakeItem item) => items.Single(i => i.GetProperty("id").GetString() == item.Id).TryGetProperty("shared", out _);

        var plain = await Delta(null);
        Assert.False(Has(plain.Items, _hidden)); // behind the gap
        Assert.True(Shared(plain.Items, _budget)); // inherits a shared folder: shared too

        var full = await Delta(Prefer);
        Assert.True(Has(full.Items, _hidden));
        Assert.False(Shared(full.Items, _budget)); // hierarchicalsharing: only the root of the hierarchy
        Assert.True(Shared(full.Items, _finance));

        Assert.Equal(400, (await Delta("deltashowsharingchanges")).Status); // needs the other two
    }

    [Fact]
    public void UpdateReadsOnlyWhatChangedSinceTheStoredTokens()
    {
        ConnectClean();
        var path = Temp["update.snapshot.json"];
        Assert.Empty(Export(path).Errors);

        // Nothing changed: one delta round for both drives, no permission read, no discovery.
        var reads = PermissionReads();
        var deltas = DriveDeltas();
        var sites = Graph.Requests.Count(r => r.Contains("getAllSites", StringComparison.Ordinal));
        Assert.Empty(Export(path, update: true).Errors);
        Assert.Equal(reads, PermissionReads());
        Assert.Equal(deltas + 3, DriveDeltas()); // the two sites' drives and Carol's OneDrive
        Assert.Equal(sites, Graph.Requests.Count(r => r.Contains("getAllSites", StringComparison.Ordinal)));

        // Two sharing changes, a deleted file and an edit that is not a sharing change.
        Tenant.Share(_notes, new FakePermission { Id = "p-bob", Role = "read", User = Fabrikam.Bob });
        Tenant.Unshare(_plan);
        Tenant.DeleteItem(_deck);
        Tenant.Edit(_budget);
        reads = PermissionReads();
        var result = Export(path, update: true);
        Assert.True(result.Errors.Count == 0, string.Join("\n", result.Errors));
        Assert.Equal(reads + 2, PermissionReads()); // notes.txt and plan.docx, whose sharing changed

        var s = SnapshotReader.ReadFile(path);
        Assert.Contains(s.Grants, g => g.ResourceId == Item(_dataDrive, _notes) && g.PrincipalId == Fabrikam.Bob);
        Assert.Null(s.FindResource(Item(_dataDrive, _plan)));
        Assert.Null(s.FindResource(Item(_teamDrive, _deck)));
        Assert.Contains(s.Grants, g => g.ResourceId == Item(_dataDrive, _finance) && g.PrincipalId == Audiences.EveryoneExceptExternal); // kept, not read again
        Assert.Contains(s.Grants, g => g.ResourceId == Item(_dataDrive, _hidden) && g.PrincipalId == Fabrikam.Joe);
    }

    [Fact]
    public void AnExpiredTokenIsAnsweredGoneAndTheDriveIsCrawledAgain()
    {
        ConnectClean();
        var path = Temp["gone.snapshot.json"];
        Assert.Empty(Export(path).Errors);
        Tenant.DeleteItem(_plan);
        Tenant.ExpireTokens(_dataDrive);
        var reads = PermissionReads();
        var result = Export(path, update: true);
        Assert.True(result.Errors.Count == 0, string.Join("\n", result.Errors));
        Assert.Contains(result.Warnings, w => w.Contains(_dataDrive, StringComparison.Ordinal) && w.Contains("crawled again", StringComparison.Ordinal));
        Assert.Equal(reads + 2, PermissionReads()); // Finance and salaries.xlsx, from the start; the team drive's token still held

        var s = SnapshotReader.ReadFile(path);
        Assert.Null(s.FindResource(Item(_dataDrive, _plan)));
        Assert.NotNull(s.FindResource(Item(_dataDrive, _finance)));
        Assert.NotNull(s.FindResource(Item(_teamDrive, _deck)));
    }

    [Fact]
    public void AnInterruptedCrawlResumesFromTheStoredPages()
    {
        Graph.DeltaPageSize = 1;
        ConnectClean();
        var path = Temp["resume.snapshot.json"];
        // The Data Ops drive is the second round the fake serves (after Carol's OneDrive, b!drive1): its fourth page fails until Graph is back.
        var fault = new Fault { Path = "$skiptoken=R2.3", Status = 503, Code = "ServiceUnavailable", RetryAfter = 0, Times = 1000 };
        Graph.Fail(fault);
        var failed = Export(path);
        SingleError(failed, "GraphUnavailable", "ExportAccessSnapshotCommand", ErrorCategory.ReadError);
        Assert.True(File.Exists(path + ".journal.drives"));

        fault.Times = 0;
        var firstPages = Graph.Requests.Concat(Graph.Steps).Count(r => r.Contains("$skiptoken=R2.1", StringComparison.Ordinal));
        var discovery = Graph.Requests.Count(r => r.Contains("getAllSites", StringComparison.Ordinal));
        var resumed = Export(path, resume: true);
        Assert.True(resumed.Errors.Count == 0, string.Join("\n", resumed.Errors));
        Assert.Equal(firstPages, Graph.Requests.Concat(Graph.Steps).Count(r => r.Contains("$skiptoken=R2.1", StringComparison.Ordinal))); // not read again
        Assert.Equal(discovery, Graph.Requests.Count(r => r.Contains("getAllSites", StringComparison.Ordinal)));
        Assert.False(File.Exists(path + ".journal.drives"));

        var s = SnapshotReader.ReadFile(path);
        Assert.Contains(s.Grants, g => g.ResourceId == Item(_dataDrive, _plan) && g.PrincipalId == Fabrikam.Alice);
        Assert.Contains(s.Grants, g => g.ResourceId == Item(_dataDrive, _hidden) && g.PrincipalId == Fabrikam.Joe);
        Assert.Equal(3, s.Inventory.Count);
    }

    private ExposureReport Preview(string operation)
    {
        var file = ChangeFile("change.json", operation, "\"requestedBy\": \"bob.stone@fabrikam.example\"");
        return (ExposureReport)Assert.Single(Ps.RunClean("param($f) Import-AccessChange -Path $f | Test-ExposureRisk", file).Output).BaseObject;
    }

    /// <summary>
    /// The incident's shape: a guest added to a group nested in a group that has a Highly Confidential file.
    /// Without an inventory the preview cannot look (Partial); with one it finds the file through the
    /// nesting, reads its permissions again live, and says so, with the inventory's age.
    /// </summary>
    [Fact]
    public void ALivePreviewLooksInTheInventoryAndReadsWhatItFindsAgainLive()
    {
        // roadmap.docx in Carol's OneDrive is shared with a SharePoint group, whose members Graph does not list: a gap of its own, not this test's.
        Tenant.Items[$"{Fabrikam.Drive}/{Fabrikam.Roadmap}"].Permissions.RemoveAll(p => p.SiteGroup is not null);
        Tenant.Share(_plan, new FakePermission { Id = "p-eng", Role = "read", Group = Fabrikam.Eng });
        ConnectClean();
        var add = $"{{ \"op\": \"addMember\", \"group\": \"{Fabrikam.Platform}\", \"member\": \"{Fabrikam.Joe}\" }}";
        var blind = Preview(add);
        Assert.Equal(Coverage.Partial, blind.Coverage);
        Assert.DoesNotContain(blind.Resources, r => r.ResourceId == Item(_dataDrive, _plan));

        var path = Temp["live.snapshot.json"];
        Assert.Empty(Export(path).Errors);
        Ps.RunClean("param($endpoint, $token, $inventory) Connect-AgentGovernance -TenantId fabrikam.example -AccessToken ([System.Net.NetworkCredential]::new('', $token).SecurePassword) -GraphEndpoint $endpoint -InventoryPath $inventory",
            Graph.BaseUrl, Graph.Token, path);
        var reads = PermissionReads();
        var report = Preview(add);
        // The inventory covers SharePoint sites' drives and users' OneDrives (only Carol has one): nothing it could not read.
        Assert.True(report.Coverage == Coverage.Complete, string.Join("; ", report.CoverageReasons));
        var plan = Assert.Single(report.Resources, r => r.ResourceId == Item(_dataDrive, _plan));
        Assert.True(report.RiskLevel >= RiskLevel.High, $"risk {report.RiskLevel}"); // a guest gains a Highly Confidential file
        Assert.True(PermissionReads() > reads, "the inventory's items were read again live");
        Assert.Contains(report.Notes, n => n.StartsWith("Inventory: the permission inventory crawled", StringComparison.Ordinal) && n.Contains("minutes old", StringComparison.Ordinal)
            && n.Contains(Item(_dataDrive, _plan), StringComparison.Ordinal));

        // Live wins over the inventory: the grant taken away since is not reported as gained.
        _plan.Permissions.RemoveAll(p => p.Group == Fabrikam.Eng);
        var now = Preview(add);
        Assert.DoesNotContain(now.Resources, r => r.ResourceId == Item(_dataDrive, _plan));
        Assert.Equal(Coverage.Complete, now.Coverage);
    }

    /// <summary>
    /// The last stop's doubt: a group read through /members or transitiveMemberOf with $select comes
    /// without visibility or groupTypes (the loopback Graph now leaves them out, as $select does). A Public
    /// group above the changed one must still count as Public: its properties are read with group-get.
    /// </summary>
    [Fact]
    public void APublicGroupAboveTheChangedOneIsPublicThoughListsLeaveItsVisibilityOut()
    {
        var open = FakeTenant.NewId(18);
        Tenant.AddGroup(open, "Open", unified: true, visibility: "Public", members: Fabrikam.Eng);
        Tenant.GroupSites[open] = new FakeSite("fabrikam.example,site-open,1", "Open");
        ConnectClean();
        var report = Preview($"{{ \"op\": \"addMember\", \"group\": \"{Fabrikam.Eng}\", \"member\": \"{Fabrikam.Erin}\" }}");
        var site = Assert.Single(report.Resources, r => r.ResourceId == "sites/fabrikam.example,site-open,1");
        var erin = Assert.Single(site.Gained, g => g.PrincipalId == Fabrikam.Erin);
        Assert.Equal((AccessRole.Read, AccessRole.Write), (erin.Before, erin.After)); // she could already read a Public group's site
        Assert.Contains(Graph.Requests.Concat(Graph.Steps), r => r.StartsWith($"GET /v1.0/groups/{open}?$select=", StringComparison.Ordinal) && r.Contains("visibility", StringComparison.Ordinal));
    }

    [Fact]
    public void AnInventoryOfAnotherTenantOrWithoutDrivesIsRefused()
    {
        var result = Ps.Run("param($endpoint, $token, $inventory) Connect-AgentGovernance -TenantId fabrikam.example -AccessToken ([System.Net.NetworkCredential]::new('', $token).SecurePassword) -GraphEndpoint $endpoint -InventoryPath $inventory",
            Graph.BaseUrl, Graph.Token, TinyPath);
        SingleError(result, "SnapshotHasNoInventory", "ConnectAgentGovernanceCommand", ErrorCategory.InvalidData);
    }

    [Fact]
    public void UpdateNeedsASnapshotWithAnInventory()
    {
        ConnectClean();
        SingleError(Export(Temp["missing.json"], update: true), "SnapshotNotFound", "ExportAccessSnapshotCommand", ErrorCategory.ObjectNotFound);
        SingleError(Export(TinyPath, update: true), "SnapshotHasNoInventory", "ExportAccessSnapshotCommand", ErrorCategory.InvalidData);
    }
}
