using AgentGovernance.Directory;
using AgentGovernance.Exposure;
using AgentGovernance.GraphFake;
using AgentGovernance.Tests.Support;

namespace AgentGovernance.Tests.Graph;

/// <summary>
/// Issue 12, fixes 1-5: the live reads against a loopback Graph whose answers follow Graph's documented
/// shapes (getByIds' default user properties, a URL fragment in $batch, drive.owner, group owners,
/// site application permissions).
/// </summary>
public sealed class GraphReadFixTests : GraphTestBase
{
    public GraphReadFixTests(HostFixture fixture)
        : base(fixture)
    {
    }

    private ExposureReport Preview(params string[] operations)
    {
        var file = ChangeFile("change.json", string.Join(", ", operations), "\"requestedBy\": \"erin.lake@fabrikam.example\"");
        return (ExposureReport)Assert.Single(Ps.RunClean("param($f) Import-AccessChange -Path $f | Test-ExposureRisk", file).Output).BaseObject;
    }

    private static string Grant(string resource, string principal, string role = "read") =>
        $"{{ \"op\": \"grant\", \"resource\": \"{resource}\", \"principal\": \"{principal}\", \"role\": \"{role}\" }}";

    private static IEnumerable<string> Gainers(ExposureReport report, string resource) =>
        report.Resources.Where(r => r.ResourceId == resource).SelectMany(r => r.Gained).Select(g => g.PrincipalId);

    [Fact]
    public void GetByIdsGivesNoUserTypeSoGuestsAndDisabledUsersAreReadWithSelect()
    {
        // The loopback's getByIds answers users with v1.0's default property set only.
        ConnectClean();
        var report = Preview(Grant(Fabrikam.PayrollId, Fabrikam.Joe), Grant(Fabrikam.PayrollId, Fabrikam.Dave));
        var payroll = Assert.Single(report.Resources);
        var joe = Assert.Single(payroll.Gained);
        Assert.Equal(Fabrikam.Joe, joe.PrincipalId);
        Assert.Equal(PrincipalKind.Guest, joe.Kind); // a guest, not a member
        Assert.Equal(1, report.GainedGuests);
        Assert.Equal(0, report.GainedMembers); // Dave is disabled: he gains nothing
        Assert.Contains(Graph.Requests.Concat(Graph.Steps), r => r.StartsWith($"GET /v1.0/users/{Fabrikam.Dave}?$select=", StringComparison.Ordinal) && r.Contains("accountEnabled", StringComparison.Ordinal));
    }

    [Fact]
    public void ADisabledHolderOfADirectoryRoleIsNotListed()
    {
        Tenant.RoleAssignments.Add(new FakeRoleAssignment("ra-dave", Fabrikam.GlobalAdmin, Fabrikam.Dave));
        ConnectClean();
        var entries = Ps.RunClean("param($r) Get-EffectiveAccess -ResourceId $r", "roleDefinitions/" + Fabrikam.GlobalAdmin).Output.Select(o => (dynamic)o.BaseObject).ToList();
        Assert.Equal(new[] { Fabrikam.Carol }, entries.Select(e => (string)e.PrincipalId));
    }

    [Fact]
    public void AGuestUpnWithHashIsPercentEncodedInsideBatch()
    {
        Tenant.Users[Fabrikam.Joe].Upn = "joe_vendor.example#EXT#@fabrikam.example";
        ConnectClean();
        // Two principals by name: the reads go in one $batch, where a raw '#' would cut the URL.
        var report = Preview(Grant(Fabrikam.PayrollId, "joe_vendor.example#EXT#@fabrikam.example"), Grant(Fabrikam.PayrollId, "alice.park@fabrikam.example"));
        Assert.Contains(Fabrikam.Joe, Gainers(report, Fabrikam.PayrollId));
        Assert.Contains(Fabrikam.Alice, Gainers(report, Fabrikam.PayrollId));
        Assert.Contains(Graph.Steps, s => s.Contains("joe_vendor.example#EXT#@fabrikam.example", StringComparison.Ordinal));
    }

    [Fact]
    public void ASiteReadFindsItsGroupMembersWriteOwnersOwner()
    {
        const string site = "sites/fabrikam.example,site-data,1";
        ConnectClean();
        // Carol is a member (write) and the owner (owner) of Data Ops: read gives her nothing new; Alice gains read.
        var report = Preview(Grant(site, Fabrikam.Carol), Grant(site, Fabrikam.Alice));
        Assert.Equal(new[] { Fabrikam.Alice }, Gainers(report, site));
        var resource = Assert.Single(report.Resources);
        Assert.Equal(Sensitivity.HighlyConfidential, resource.Sensitivity); // the group's label
        Assert.Contains(Graph.Requests.Concat(Graph.Steps), r => r.StartsWith("GET /v1.0/sites/fabrikam.example,site-data,1/drive?$select=", StringComparison.Ordinal));

        var owner = Preview(Grant(site, Fabrikam.Carol, "owner"));
        Assert.Empty(Gainers(owner, site)); // she owns the group's site already
    }

    [Fact]
    public void APublicGroupsSiteIsReadByEveryEnabledMemberUser()
    {
        const string site = "sites/fabrikam.example,site-team,1";
        Tenant.Groups[Fabrikam.Team].Visibility = "Public";
        ConnectClean();
        var report = Preview(Grant(site, Fabrikam.Alice), Grant(site, Fabrikam.Joe));
        Assert.Equal(new[] { Fabrikam.Joe }, Gainers(report, site)); // Alice reads it already; Joe is a guest
    }

    [Fact]
    public void AFileInAGroupsLibraryIsConnectedToTheGroup()
    {
        var drive = Tenant.SiteDrive(Tenant.GroupSites[Fabrikam.Team]);
        var plan = new FakeItem(drive, "01PLAN", "plan.docx");
        Tenant.Items[$"{drive}/01PLAN"] = plan;
        Tenant.Groups[Fabrikam.Team].Visibility = "Public";
        ConnectClean();
        var id = $"drives/{drive}/items/01PLAN";
        var report = Preview(Grant(id, Fabrikam.Alice), Grant(id, Fabrikam.Joe));
        Assert.Equal(new[] { Fabrikam.Joe }, Gainers(report, id)); // Alice, an enabled member user, reads a Public group's files

        var entries = Ps.RunClean("param($r) Get-EffectiveAccess -ResourceId $r", id).Output.Select(o => (dynamic)o.BaseObject).ToList();
        Assert.Contains(entries, e => (string)e.PrincipalId == Fabrikam.Alice);
    }

    [Fact]
    public void TheExportHasSiteApplicationPermissions()
    {
        Tenant.GroupSites[Fabrikam.Data].AppPermissions.Add(("app-pipeline", "write"));
        Tenant.GroupSites[Fabrikam.Team].AppPermissions.Add(("app-unknown", "read"));
        ConnectClean();
        var path = Temp["export.snapshot.json"];
        var result = Ps.Run("param($p) Export-AccessSnapshot -FromGraph -Path $p -Verbose", path);
        Assert.Empty(result.Errors);
        var s = SnapshotReader.ReadFile(path);
        Assert.Contains(s.Grants, g => g.ResourceId == "sites/fabrikam.example,site-data,1" && g.PrincipalId == Fabrikam.PipelineApp && g.Role == "write");
        Assert.Contains(result.Warnings, n => n.Contains("site application permissions name an application with no service principal", StringComparison.Ordinal));
    }
}
