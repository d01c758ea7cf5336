using System.Management.Automation;
using AgentGovernance.Directory;
using AgentGovernance.Exposure;
using AgentGovernance.GraphFake;
using AgentGovernance.Policy;
using AgentGovernance.Tests.Support;

namespace AgentGovernance.Tests.Graph;

/// <summary>
/// -Update of the permission inventory on a loopback Graph whose users/groups delta, sites/delta and
/// /users/{id}/drive follow user-delta.md, group-delta.md, site-delta.md and drive-get.md: the directory
/// continued from its stored delta links, sites created and deleted since, and users' OneDrives.
/// </summary>
public sealed class GraphInventoryUpdateTests : GraphTestBase
{
    private readonly string _dataDrive;
    private readonly FakeItem _plan;

    public GraphInventoryUpdateTests(HostFixture fixture)
        : base(fixture)
    {
        _dataDrive = Tenant.SiteDrive(Tenant.GroupSites[Fabrikam.Data]);
        _plan = Tenant.AddItem(_dataDrive, "01PLAN", "plan.docx");
        Tenant.Share(_plan, new FakePermission { Id = "p-eng", Role = "read", Group = Fabrikam.Eng });
    }

    private RunResult Export(string path, bool update = false) =>
        Ps.Run("param($p, $u) Export-AccessSnapshot -FromGraph -Path $p -Update:$u", path, update);

    private static void Clean(RunResult r) => Assert.True(r.Errors.Count == 0, string.Join("\n", r.Errors.Select(e => e.FullyQualifiedErrorId + ": " + e)));

    private int Wire() => Graph.Requests.Count;

    private int GroupSiteReads() => Graph.Requests.Concat(Graph.Steps).Count(r => r.Contains("/sites/root", StringComparison.Ordinal));

    /// <summary>What a preview can tell apart in a snapshot: principals with their kind and state, memberships, resources, grants and owners.</summary>
    private static List<string> Facts(AccessSnapshot s)
    {
        var facts = new List<string>();
        foreach (var p in s.Principals)
        {
            facts.Add($"p {p.Id} {p.Type} {p.DisplayName} {p.UserPrincipalName}");
            facts.AddRange(s.GetMembers(p.Id).Select(m => $"m {p.Id} {m}"));
        }

        foreach (var r in s.Resources) facts.Add($"r {r.Id} {r.Type} {r.DisplayName} {r.Sensitivity} {r.Group} {string.Join(",", r.Owners.OrderBy(o => o, StringComparer.Ordinal))}");
        facts.AddRange(s.Grants.Select(g => $"g {g.ResourceId} {g.PrincipalId} {g.Role}"));
        facts.Sort(StringComparer.Ordinal);
        return facts;
    }

    [Fact]
    public void UpdateReadsOnlyTheDirectoryChangesAndEndsWhereAFullExportDoes()
    {
        ConnectClean();
        var path = Temp["inventory.json"];
        Clean(Export(path));
        var first = SnapshotReader.ReadFile(path);
        Assert.Equal(new[] { "directoryRoles", "groups", "servicePrincipals", "sites", "users" }, first.InventoryDeltaLinks.Keys.OrderBy(k => k, StringComparer.Ordinal));
        Assert.Contains("\"deltaLinks\"", File.ReadAllText(path), StringComparison.Ordinal);

        // A user joins, one leaves the tenant, a member is added to a nested group and one removed, a group is renamed.
        var frank = FakeTenant.NewId(7);
        Tenant.AddUser(frank, "Frank New");
        Tenant.Groups[Fabrikam.Platform].Members.Add(frank);
        Tenant.Groups[Fabrikam.Eng].Members.Remove(Fabrikam.Alice);
        Tenant.Users.Remove(Fabrikam.Dave);
        Tenant.Groups[Fabrikam.Platform].Members.Remove(Fabrikam.Dave);
        Graph.DirectoryDelta.Clear();
        var sites = GroupSiteReads();
        Clean(Export(path, update: true));
        Assert.Contains(Graph.DirectoryDelta, d => d.StartsWith("users D", StringComparison.Ordinal));
        Assert.Contains(Graph.DirectoryDelta, d => d.StartsWith("groups D", StringComparison.Ordinal));
        Assert.DoesNotContain(Graph.DirectoryDelta, d => d is "users full" or "groups full");
        Assert.Equal(sites, GroupSiteReads()); // no Microsoft 365 group changed: their sites are not read again

        var updated = SnapshotReader.ReadFile(path);
        Assert.Contains(frank, updated.GetMembers(Fabrikam.Platform));
        Assert.DoesNotContain(Fabrikam.Alice, updated.GetMembers(Fabrikam.Eng));
        Assert.Null(updated.FindPrincipal(Fabrikam.Dave));

        // The same tenant exported afresh says the same.
        var fresh = Temp["fresh.json"];
        Clean(Export(fresh));
        Assert.Equal(Facts(SnapshotReader.ReadFile(fresh)), Facts(updated));
    }

    [Fact]
    public void AChangedMicrosoft365GroupHasItsSiteReadAgainAndItsOwnersFollowTheDelta()
    {
        ConnectClean();
        var path = Temp["owners.json"];
        Clean(Export(path));
        Tenant.Groups[Fabrikam.Data].Owners.Add(Fabrikam.Bob);
        var sites = GroupSiteReads();
        Clean(Export(path, update: true));
        Assert.Equal(sites + 1, GroupSiteReads()); // Data Ops only
        var s = SnapshotReader.ReadFile(path);
        var site = s.FindResource("sites/" + Tenant.GroupSites[Fabrikam.Data].Id)!;
        Assert.Equal(new[] { Fabrikam.Bob, Fabrikam.Carol }.OrderBy(x => x, StringComparer.Ordinal), site.Owners.OrderBy(x => x, StringComparer.Ordinal));
        Assert.Equal(Sensitivity.HighlyConfidential, site.Sensitivity);
        Assert.Equal(Facts(SnapshotReader.ReadFile(path)), Facts(FreshExport()));
    }

    private AccessSnapshot FreshExport()
    {
        var fresh = Temp["fresh-" + Guid.NewGuid().ToString("N") + ".json"];
        Clean(Export(fresh));
        return SnapshotReader.ReadFile(fresh);
    }

    [Fact]
    public void AnExpiredDirectoryLinkIsReadAgainInFull()
    {
        ConnectClean();
        var path = Temp["expired.json"];
        Clean(Export(path));
        Tenant.Groups[Fabrikam.Eng].Members.Add(Fabrikam.Erin);
        Graph.ExpireDirectoryTokens();
        Graph.DirectoryDelta.Clear();
        var result = Export(path, update: true);
        Clean(result);
        Assert.Contains(result.Warnings, w => w.Contains("delta link of the users was no longer valid", StringComparison.Ordinal) && w.Contains("read again in full", StringComparison.Ordinal));
        Assert.Contains("users full", Graph.DirectoryDelta);
        Assert.Contains("groups full", Graph.DirectoryDelta);
        Assert.Contains(Fabrikam.Erin, SnapshotReader.ReadFile(path).GetMembers(Fabrikam.Eng));
        Assert.Equal(Facts(SnapshotReader.ReadFile(path)), Facts(FreshExport()));
    }

    [Fact]
    public void UpdateCrawlsSitesCreatedSinceAndDropsDeletedOnes()
    {
        ConnectClean();
        var path = Temp["sites.json"];
        Clean(Export(path));
        Assert.Contains("latest", Graph.SiteDelta); // the first crawl takes the sites' delta link before listing them

        // A new team with a shared file; Team (group and site) deleted.
        var launch = FakeTenant.NewId(19);
        Tenant.AddGroup(launch, "Launch", unified: true, visibility: "Private", members: Fabrikam.Erin);
        Tenant.GroupSites[launch] = new FakeSite("fabrikam.example,site-launch,1", "Launch");
        var drive = Tenant.SiteDrive(Tenant.GroupSites[launch]);
        var brief = Tenant.AddItem(drive, "01BRIEF", "brief.docx");
        Tenant.Share(brief, new FakePermission { Id = "p-joe", Role = "write", User = Fabrikam.Joe });
        var teamDrive = Tenant.SiteDrive(Tenant.GroupSites[Fabrikam.Team]);
        Tenant.GroupSites.Remove(Fabrikam.Team);
        Tenant.Groups.Remove(Fabrikam.Team);
        var allSites = Graph.Requests.Count(r => r.Contains("getAllSites", StringComparison.Ordinal));
        var result = Export(path, update: true);
        Clean(result);
        Assert.Equal(allSites, Graph.Requests.Count(r => r.Contains("getAllSites", StringComparison.Ordinal))); // sites/delta, not a full listing
        Assert.Contains(Graph.SiteDelta, d => d.StartsWith('T'));

        var s = SnapshotReader.ReadFile(path);
        Assert.True(s.Inventory.Any(d => d.Id == drive && d.Site == "sites/fabrikam.example,site-launch,1"), string.Join("; ", s.Inventory.Select(d => d.Id + " " + d.Site)) + " | " + string.Join(" | ", result.Warnings) + " | " + string.Join(",", Graph.SiteDelta));
        Assert.DoesNotContain(s.Inventory, d => d.Id == teamDrive);
        Assert.Contains(s.Grants, g => g.ResourceId == $"drives/{drive}/items/01BRIEF" && g.PrincipalId == Fabrikam.Joe && g.Role == "write");
        Assert.Equal(Fabrikam.Data, s.FindResource($"drives/{_dataDrive}/items/01PLAN")!.Group);
        Assert.Equal(Facts(s), Facts(FreshExport()));
    }

    private int Reads(string part) => Graph.Requests.Concat(Graph.Steps).Count(r => r.Contains(part, StringComparison.Ordinal));

    [Fact]
    public void UpdateContinuesServicePrincipalsAndDirectoryRolesFromTheirDeltaLinks()
    {
        const string Reader = "88d8e3e3-8f55-4a1e-953a-9b9898b8876b", Custom = "c0ffee00-0000-0000-0000-000000000001";
        Tenant.RoleDefinitions.Add(new FakeRoleDefinition(Reader, "Directory Readers"));
        Tenant.RoleDefinitions.Add(new FakeRoleDefinition(Custom, "Label Auditors", BuiltIn: false));
        Tenant.RoleAssignments.Add(new FakeRoleAssignment("ra-bob", Reader, Fabrikam.Bob));
        Tenant.RoleAssignments.Add(new FakeRoleAssignment("ra-joe", Custom, Fabrikam.Joe));
        Tenant.GroupSites[Fabrikam.Data].AppPermissions.Add(("app-pipeline", "write"));
        ConnectClean();
        var path = Temp["roles.json"];
        Clean(Export(path));
        Assert.Contains("directoryRoles latest", Graph.DirectoryDelta); // the full export reads the holders from roleManagement and takes the latest link

        // Erin becomes Global Administrator, Bob is no longer a Directory Reader, Alice joins the custom role (scoped
        // assignments are no members), a new application with an app role arrives, and Pipeline App keeps its site permission.
        Tenant.RoleAssignments.Add(new FakeRoleAssignment("ra-erin", Fabrikam.GlobalAdmin, Fabrikam.Erin));
        Tenant.RoleAssignments.Add(new FakeRoleAssignment("ra-alice-au", Fabrikam.GlobalAdmin, Fabrikam.Alice, "/administrativeUnits/au1"));
        Tenant.RoleAssignments.RemoveAll(a => a.Id == "ra-bob");
        Tenant.RoleAssignments.Add(new FakeRoleAssignment("ra-alice", Custom, Fabrikam.Alice));
        var survey = FakeTenant.NewId(23);
        Tenant.AddServicePrincipal(survey, "Survey App", "app-survey", "bbbbbbbb-0000-0000-0000-000000000002");
        Tenant.AppRoleAssignments.Add(new FakeAppRoleAssignment("ara-alice", survey, Fabrikam.Alice, "bbbbbbbb-0000-0000-0000-000000000002"));
        Graph.DirectoryDelta.Clear();
        var assignments = Reads("roleAssignments");
        var result = Export(path, update: true);
        Clean(result);
        Assert.Contains(Graph.DirectoryDelta, d => d.StartsWith("servicePrincipals D", StringComparison.Ordinal));
        Assert.Contains(Graph.DirectoryDelta, d => d.StartsWith("directoryRoles D", StringComparison.Ordinal));
        Assert.DoesNotContain(Graph.DirectoryDelta, d => d is "servicePrincipals full" or "directoryRoles full");
        Assert.Equal(assignments + 1, Reads("roleAssignments")); // the custom role's only: unifiedRoleAssignment has no delta
        Assert.Contains(result.Warnings, w => w.Contains("no delta query", StringComparison.Ordinal) && w.Contains("the application permissions of sites (2)", StringComparison.Ordinal));

        var s = SnapshotReader.ReadFile(path);
        var admin = "roleDefinitions/" + Fabrikam.GlobalAdmin;
        Assert.Contains(s.Grants, g => g.ResourceId == admin && g.PrincipalId == Fabrikam.Erin);
        Assert.DoesNotContain(s.Grants, g => g.ResourceId == admin && g.PrincipalId == Fabrikam.Alice);
        Assert.DoesNotContain(s.Grants, g => g.ResourceId == "roleDefinitions/" + Reader && g.PrincipalId == Fabrikam.Bob);
        Assert.Contains(s.Grants, g => g.ResourceId == "roleDefinitions/" + Custom && g.PrincipalId == Fabrikam.Alice);
        Assert.Contains(s.Grants, g => g.ResourceId == "servicePrincipals/" + survey && g.PrincipalId == Fabrikam.Alice);
        Assert.Contains(s.Grants, g => g.ResourceId == "sites/" + Tenant.GroupSites[Fabrikam.Data].Id && g.PrincipalId == Fabrikam.PipelineApp && g.Role == "write");
        Assert.Equal(Facts(s), Facts(FreshExport()));

        // Nothing changed since: the next -Update reads no service principal and no built-in role again.
        Graph.DirectoryDelta.Clear();
        Clean(Export(path, update: true));
        Assert.Equal(Facts(SnapshotReader.ReadFile(path)), Facts(FreshExport()));
    }

    [Fact]
    public void AnExpiredDirectoryRolesLinkReadsTheHoldersInFull()
    {
        ConnectClean();
        var path = Temp["roles-expired.json"];
        Clean(Export(path));
        Tenant.RoleAssignments.Add(new FakeRoleAssignment("ra-erin", Fabrikam.GlobalAdmin, Fabrikam.Erin));
        Graph.ExpireDirectoryTokens();
        var assignments = Reads("roleAssignments");
        var result = Export(path, update: true);
        Clean(result);
        Assert.Contains(result.Warnings, w => w.Contains("delta link of the directory roles was no longer valid", StringComparison.Ordinal));
        Assert.Equal(assignments + Tenant.RoleDefinitions.Count, Reads("roleAssignments"));
        Assert.Contains(SnapshotReader.ReadFile(path).Grants, g => g.ResourceId == "roleDefinitions/" + Fabrikam.GlobalAdmin && g.PrincipalId == Fabrikam.Erin);
        Assert.Equal(Facts(SnapshotReader.ReadFile(path)), Facts(FreshExport()));
    }

    [Fact]
    public void ASiteDeletedWhileItsGroupLivesOnLeavesTheSnapshotWithItsFilesAndGrants()
    {
        ConnectClean();
        var path = Temp["site-deleted.json"];
        Clean(Export(path));
        var site = "sites/" + Tenant.GroupSites[Fabrikam.Data].Id;
        var item = $"drives/{_dataDrive}/items/01PLAN";
        var before = SnapshotReader.ReadFile(path);
        Assert.NotNull(before.FindResource(site));
        Assert.NotNull(before.FindResource(item));

        // site-delta.md: the deleted site comes back "with the deleted facet"; Data Ops (the group) is not deleted and did not change.
        Tenant.GroupSites.Remove(Fabrikam.Data);
        var result = Export(path, update: true);
        Clean(result);
        Assert.Contains(Graph.SiteDelta, d => d.StartsWith('T'));
        Assert.Contains(result.Warnings, w => w.Contains("was deleted since the last crawl; it left the snapshot", StringComparison.Ordinal));
        var s = SnapshotReader.ReadFile(path);
        Assert.NotNull(s.FindPrincipal(Fabrikam.Data));
        Assert.Null(s.FindResource(site));
        Assert.Null(s.FindResource(item));
        Assert.DoesNotContain(s.Inventory, d => d.Id == _dataDrive);
        Assert.DoesNotContain(s.Grants, g => g.ResourceId == site || g.ResourceId == item);
        Assert.Equal(Facts(s), Facts(FreshExport()));
    }

    [Fact]
    public void AnInterruptedUpdateResumesWithTheSitesAndLinksItHadFound()
    {
        ConnectClean();
        var path = Temp["resume-update.json"];
        Clean(Export(path));
        var launch = FakeTenant.NewId(19);
        Tenant.AddGroup(launch, "Launch", unified: true, visibility: "Private", members: Fabrikam.Erin);
        Tenant.GroupSites[launch] = new FakeSite("fabrikam.example,site-launch,1", "Launch");
        var drive = Tenant.SiteDrive(Tenant.GroupSites[launch]);
        var brief = Tenant.AddItem(drive, "01BRIEF", "brief.docx");
        Tenant.Share(brief, new FakePermission { Id = "p-joe", Role = "write", User = Fabrikam.Joe });
        Tenant.Groups[Fabrikam.Eng].Members.Add(Fabrikam.Erin);

        // The new site's drive cannot be read until Graph is back: the -Update stops after the directory and the site round.
        var fault = new Fault { Path = $"/drives/{drive}/root/delta", Status = 503, Code = "ServiceUnavailable", RetryAfter = 0, Times = 1000 };
        Graph.Fail(fault);
        var failed = Export(path, update: true);
        SingleError(failed, "GraphUnavailable", "ExportAccessSnapshotCommand", ErrorCategory.ReadError);
        fault.Times = 0;
        var siteRounds = Graph.SiteDelta.Count;
        var directoryRounds = Graph.DirectoryDelta.Count;
        var resumed = Ps.Run("param($p) Export-AccessSnapshot -FromGraph -Path $p -Update -Resume", path);
        Clean(resumed);
        Assert.Equal(siteRounds, Graph.SiteDelta.Count); // the journal had the sites' round
        Assert.Equal(directoryRounds, Graph.DirectoryDelta.Count); // and the directory's

        var s = SnapshotReader.ReadFile(path);
        Assert.Contains(s.Grants, g => g.ResourceId == $"drives/{drive}/items/01BRIEF" && g.PrincipalId == Fabrikam.Joe);
        Assert.Contains(Fabrikam.Erin, s.GetMembers(Fabrikam.Eng));
        Assert.Equal(new[] { "directoryRoles", "groups", "servicePrincipals", "sites", "users" }, s.InventoryDeltaLinks.Keys.OrderBy(k => k, StringComparer.Ordinal));
        Assert.Equal(Facts(s), Facts(FreshExport()));
    }

    [Fact]
    public void WithoutAValidSitesLinkEverySiteIsListedAgain()
    {
        ConnectClean();
        var path = Temp["relist.json"];
        Clean(Export(path));
        var launch = FakeTenant.NewId(19);
        Tenant.AddGroup(launch, "Launch", unified: true, visibility: "Private", members: Fabrikam.Erin);
        Tenant.GroupSites[launch] = new FakeSite("fabrikam.example,site-launch,1", "Launch");
        var drive = Tenant.SiteDrive(Tenant.GroupSites[launch]);
        Graph.ExpireSiteTokens();
        var allSites = Graph.Requests.Count(r => r.Contains("getAllSites", StringComparison.Ordinal));
        var result = Export(path, update: true);
        Clean(result);
        Assert.Contains(result.Warnings, w => w.Contains("sites/delta link was no longer valid", StringComparison.Ordinal));
        Assert.Equal(allSites + 1, Graph.Requests.Count(r => r.Contains("getAllSites", StringComparison.Ordinal)));
        var s = SnapshotReader.ReadFile(path);
        Assert.Contains(s.Inventory, d => d.Id == drive);
        Assert.True(s.InventoryDeltaLinks.ContainsKey("sites"), "a fresh sites link is stored for the next -Update");
    }

    [Fact]
    public void UsersOneDrivesAreCrawledAndUsersWithoutOneAreSkippedQuietly()
    {
        ConnectClean();
        var path = Temp["onedrive.json"];
        var result = Export(path);
        Clean(result);
        var s = SnapshotReader.ReadFile(path);
        // Carol's OneDrive (Fabrikam.Drive) is crawled like any drive; the other users have none (404): no gap, no warning.
        var carol = Assert.Single(s.Inventory, d => d.Id == Fabrikam.Drive);
        Assert.Equal("users/" + Fabrikam.Carol, carol.Site);
        Assert.Contains(s.Grants, g => g.ResourceId == Fabrikam.PayrollId && g.PrincipalId == Fabrikam.Data && g.Role == "read");
        Assert.DoesNotContain(s.CoverageGaps, g => g.Contains("OneDrive", StringComparison.Ordinal));
        Assert.DoesNotContain(result.Warnings, w => w.Contains("OneDrive", StringComparison.Ordinal));
        var lookups = Graph.Steps.Count(r => r.StartsWith("GET /v1.0/users/", StringComparison.Ordinal) && r.Contains("/drive", StringComparison.Ordinal) && !r.Contains("/drives", StringComparison.Ordinal));
        Assert.Equal(Tenant.Users.Count, lookups); // one per user, inside $batch

        // -Update looks for new users' OneDrives only, and says the rest is not looked for again: Alice, Bob and
        // Erin (Dave is disabled, Joe a guest, Carol has hers).
        var frank = FakeTenant.NewId(7);
        Tenant.AddUser(frank, "Frank New");
        Tenant.Drives["b!frank"] = frank;
        var memo = Tenant.AddItem("b!frank", "01MEMO", "memo.docx");
        Tenant.Share(memo, new FakePermission { Id = "p-anyone", Role = "read", LinkScope = "anonymous" });
        Clean(Export(path, update: true));
        var updated = SnapshotReader.ReadFile(path);
        Assert.Contains(updated.Grants, g => g.ResourceId == "drives/b!frank/items/01MEMO" && g.PrincipalId == Audiences.Anyone);
        Assert.Contains(updated.CoverageGaps, g => g.Contains("OneDrive accounts provisioned since the last full crawl for the 3 enabled member users", StringComparison.Ordinal));
    }

    [Fact]
    public void AOneDriveTheAppMayNotReadIsAGapWithItsReason()
    {
        Tenant.OneDriveDenied = true;
        ConnectClean();
        var path = Temp["denied.json"];
        var result = Export(path);
        Clean(result);
        var s = SnapshotReader.ReadFile(path);
        Assert.DoesNotContain(s.Inventory, d => d.Id == Fabrikam.Drive);
        var gap = Assert.Single(s.CoverageGaps, g => g.Contains("OneDrive", StringComparison.Ordinal));
        Assert.Contains($"of {Tenant.Users.Count} users", gap, StringComparison.Ordinal);
        Assert.Contains("permission denied: HTTP 403", gap, StringComparison.Ordinal);
        Assert.Contains(result.Warnings, w => w.Contains("Could not read the OneDrive", StringComparison.Ordinal));
    }

    [Fact]
    public void AnInventoryWrittenBeforeDeltaLinksWereStoredIsReadInFullOnce()
    {
        ConnectClean();
        var path = Temp["old.json"];
        Clean(Export(path));
        // The inventory as an earlier version wrote it: no inventory.deltaLinks.
        var text = File.ReadAllText(path);
        var at = text.IndexOf(", \"deltaLinks\": {", StringComparison.Ordinal);
        var end = text.IndexOf('}', at);
        File.WriteAllText(path, text.Remove(at, end - at + 1));
        Assert.Empty(SnapshotReader.ReadFile(path).InventoryDeltaLinks);
        Graph.DirectoryDelta.Clear();
        Clean(Export(path, update: true));
        Assert.Contains("users full", Graph.DirectoryDelta);
        Assert.Contains("groups full", Graph.DirectoryDelta);
        Assert.Equal(new[] { "directoryRoles", "groups", "servicePrincipals", "sites", "users" }, SnapshotReader.ReadFile(path).InventoryDeltaLinks.Keys.OrderBy(k => k, StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("\"deltaLinks\": { \"devices\": \"x\" }", "unknown field 'devices'")]
    [InlineData("\"deltaLinks\": { \"users\": \"\" }", "inventory.deltaLinks.users")]
    [InlineData("\"deltaLinks\": [ ]", "expected an object of delta links")]
    public void BadDeltaLinksAreRefusedNamingTheField(string field, string expected)
    {
        var text = "{ \"schema\": \"agentgovernance/snapshot@2\", \"tenant\": { \"id\": \"t\" }, \"inventory\": { \"drives\": [], " + field + " }, \"principals\": [], \"resources\": [], \"grants\": [] }";
        var e = Assert.Throws<DocumentException>(() => SnapshotReader.ParseText(text));
        Assert.Equal("SnapshotInvalid", e.ErrorId);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheInventoryMaxAgePolicyKeyIsReadStrictly()
    {
        Assert.Equal("P1D", GovernancePolicy.Default.InventoryMaxAge);
        var week = PolicyReader.Parse("@{ Inventory = @{ MaxAge = 'P7D' } }");
        Assert.Equal("P7D", week.InventoryMaxAge);
        Assert.NotEqual(GovernancePolicy.Default.Fingerprint, week.Fingerprint); // it changes what is decided
        Assert.Equal(GovernancePolicy.Default.Fingerprint, PolicyReader.Parse("@{ Inventory = @{ MaxAge = 'PT24H' } }").Fingerprint);
        Assert.Contains("PT1M to P30D", Assert.Throws<DocumentException>(() => PolicyReader.Parse("@{ Inventory = @{ MaxAge = 'P31D' } }")).Message, StringComparison.Ordinal);
        Assert.Contains("MaxAge", Assert.Throws<DocumentException>(() => PolicyReader.Parse("@{ Inventory = @{ MaxAgo = 'P1D' } }")).Message, StringComparison.Ordinal);
    }
}

/// <summary>The inventory's age limit is the policy's Inventory.MaxAge: moved clock, one preview under the default and one under a longer limit.</summary>
[Collection(ClockCollection.Name)]
public sealed class GraphInventoryAgeTests : GraphTestBase
{
    public GraphInventoryAgeTests(HostFixture fixture)
        : base(fixture)
    {
    }

    [Fact]
    public void AnInventoryOlderThanThePolicysMaxAgeMakesThePreviewPartialNamingTheKey()
    {
        using var clock = new TestClock(DateTimeOffset.UtcNow);
        ConnectClean();
        var path = Temp["aged.json"];
        var export = Ps.Run("param($p) Export-AccessSnapshot -FromGraph -Path $p", path);
        Assert.True(export.Errors.Count == 0, string.Join("\n", export.Errors));
        Ps.RunClean("param($endpoint, $token, $inventory) Connect-AgentGovernance -TenantId fabrikam.example -AccessToken ([System.Net.NetworkCredential]::new('', $token).SecurePassword) -GraphEndpoint $endpoint -InventoryPath $inventory",
            Graph.BaseUrl, Graph.Token, path);
        var change = ChangeFile("add.json", $"{{ \"op\": \"addMember\", \"group\": \"{Fabrikam.Eng}\", \"member\": \"{Fabrikam.Erin}\" }}", "\"requestedBy\": \"bob.stone@fabrikam.example\"");
        ExposureReport Preview(string script, params object[] args) => (ExposureReport)Assert.Single(Ps.RunClean(script, args).Output).BaseObject;

        var fresh = Preview("param($f) Import-AccessChange -Path $f | Test-ExposureRisk", change);
        Assert.DoesNotContain(fresh.CoverageReasons, r => r.Contains("Inventory.MaxAge", StringComparison.Ordinal));

        clock.Advance(TimeSpan.FromDays(2));
        var aged = Preview("param($f) Import-AccessChange -Path $f | Test-ExposureRisk", change);
        Assert.Equal(Coverage.Partial, aged.Coverage);
        Assert.Contains(aged.CoverageReasons, r => r.Contains("2 days ago, more than the policy's Inventory.MaxAge of P1D", StringComparison.Ordinal));

        var policy = Temp.Write("policy.psd1", "@{ Inventory = @{ MaxAge = 'P3D' } }");
        var lenient = Preview("param($f, $p) Import-AccessChange -Path $f | Test-ExposureRisk -Policy (Import-GovernancePolicy -Path $p)", change, policy);
        Assert.DoesNotContain(lenient.CoverageReasons, r => r.Contains("Inventory.MaxAge", StringComparison.Ordinal));
    }
}
