using System.Management.Automation;
using AgentGovernance.Directory;
using AgentGovernance.GraphFake;
using AgentGovernance.Tests.Support;
using Xunit.Abstractions;

namespace AgentGovernance.Tests.Graph;

/// <summary>Export-AccessSnapshot -FromGraph: delta queries with @removed, a journal to resume from, and the request counts of an export.</summary>
public sealed class GraphExportTests : GraphTestBase
{
    private readonly ITestOutputHelper _log;

    public GraphExportTests(HostFixture fixture, ITestOutputHelper log)
        : base(fixture) => _log = log;

    private RunResult Export(string path, bool resume = false) =>
        Ps.Run("param($p, $r) Export-AccessSnapshot -FromGraph -Path $p -Resume:$r -Verbose", path, resume);

    [Fact]
    public void TheExportIsTheTenantAsDeltaLeavesIt()
    {
        Graph.DeltaPageSize = 2;
        Graph.DeltaMembersPerPart = 2; // Platform's members come in two parts, on different pages
        Tenant.RemovedDuringSync.Add((Fabrikam.Eng, Fabrikam.Alice));
        Tenant.DeletedDuringSync.Add(Fabrikam.Dave);
        ConnectClean();
        var path = Temp["fabrikam.snapshot.json"];
        var result = Export(path);
        Assert.Empty(result.Errors);
        Assert.False(File.Exists(path + ".journal"), "the journal is deleted once the snapshot is written");

        var s = SnapshotReader.ReadFile(path);
        Assert.Equal(Tenant.Id, s.TenantId);
        Assert.Equal("Fabrikam", s.TenantDisplayName);
        Assert.Null(s.FindPrincipal(Fabrikam.Dave)); // deleted while the sync ran: @removed
        Assert.Equal(new[] { Fabrikam.Platform }, s.GetMembers(Fabrikam.Eng)); // Alice's membership @removed
        Assert.Equal(new[] { Fabrikam.Bob, Fabrikam.PipelineApp }.OrderBy(x => x), s.GetMembers(Fabrikam.Platform).OrderBy(x => x));
        Assert.True(s.FindPrincipal(Fabrikam.Joe)!.IsGuest);
        Assert.Equal(GroupVisibility.Private, s.FindPrincipal(Fabrikam.Data)!.Visibility);

        var site = s.FindResource("sites/fabrikam.example,site-data,1")!;
        Assert.Equal(Fabrikam.Data, site.Group);
        Assert.Equal(Sensitivity.HighlyConfidential, site.Sensitivity);
        Assert.Equal(new[] { Fabrikam.Carol }, site.Owners);
        Assert.Contains(s.Grants, g => g.ResourceId == site.Id && g.PrincipalId == Fabrikam.Data && g.Role == "write");
        Assert.Contains(s.Grants, g => g.ResourceId == "roleDefinitions/" + Fabrikam.GlobalAdmin && g.PrincipalId == Fabrikam.Carol && g.Role == "member");
        Assert.Equal(Sensitivity.HighlyConfidential, s.FindResource("roleDefinitions/" + Fabrikam.GlobalAdmin)!.Sensitivity);
        Assert.Equal(new[] { Fabrikam.Erin, Fabrikam.Platform }.OrderBy(x => x),
            s.Grants.Where(g => g.ResourceId == "servicePrincipals/" + Fabrikam.HelperBot).Select(g => g.PrincipalId).OrderBy(x => x));

        Assert.Contains(result.Warnings, w => w.Contains("devices, contacts", StringComparison.Ordinal));
        // Delta with $select, never one group's members at a time.
        Assert.Contains(Graph.Requests, r => r.StartsWith("GET /v1.0/groups/delta()?$select=", StringComparison.Ordinal) && r.Contains("members", StringComparison.Ordinal));
        Assert.DoesNotContain(Graph.Requests.Concat(Graph.Steps), r => r.Contains("/members", StringComparison.Ordinal) && !r.Contains("delta", StringComparison.Ordinal));

        // The same tenant exported again gives the same bytes.
        var again = Temp["again.snapshot.json"];
        Assert.Empty(Export(again).Errors);
        // Times aside (capturedAt, each drive's crawledAt), and the directory's and sites' delta tokens, which Graph gives anew each round.
        static string Timeless(string text) => System.Text.RegularExpressions.Regex.Replace(
            System.Text.RegularExpressions.Regex.Replace(text, "\"(capturedAt|crawledAt)\": \"[^\"]*\"", "\"$1\": \"T\""), "(\\$deltatoken=D|sites/delta\\?token=T)[0-9]+", "$1");
        Assert.Equal(Timeless(File.ReadAllText(path)), Timeless(File.ReadAllText(again)));
    }

    [Fact]
    public void AnInterruptedExportResumesFromItsJournal()
    {
        Graph.DeltaPageSize = 2;
        ConnectClean();
        var path = Temp["resume.snapshot.json"];
        var fault = new Fault { Path = "/groups/delta()?$skiptoken=X4", Status = 503, Code = "ServiceUnavailable", RetryAfter = 0, Times = 1000 };
        Graph.Fail(fault);
        var failed = Export(path);
        SingleError(failed, "GraphUnavailable", "ExportAccessSnapshotCommand", ErrorCategory.ReadError);
        Assert.Contains(failed.Warnings, w => w.Contains("-Resume", StringComparison.Ordinal));
        Assert.True(File.Exists(path + ".journal"));
        Assert.False(File.Exists(path));

        fault.Times = 0; // Graph is back
        var userPages = Graph.Requests.Count(r => r.StartsWith("GET /v1.0/users/delta", StringComparison.Ordinal));
        var firstGroupPage = Graph.Requests.Count(r => r.StartsWith("GET /v1.0/groups/delta()?$select", StringComparison.Ordinal));
        var resumed = Export(path, resume: true);
        Assert.Empty(resumed.Errors);
        Assert.Equal(userPages, Graph.Requests.Count(r => r.StartsWith("GET /v1.0/users/delta", StringComparison.Ordinal))); // not read again
        Assert.Equal(firstGroupPage, Graph.Requests.Count(r => r.StartsWith("GET /v1.0/groups/delta()?$select", StringComparison.Ordinal)));
        Assert.False(File.Exists(path + ".journal"));

        var s = SnapshotReader.ReadFile(path);
        Assert.Equal(Tenant.Users.Count, s.UserCount);
        Assert.Equal(Tenant.Groups.Count, s.GroupCount);
        Assert.Equal(new[] { Fabrikam.Alice, Fabrikam.Platform }.OrderBy(x => x), s.GetMembers(Fabrikam.Eng).OrderBy(x => x));

        var nothing = Export(Temp["none.snapshot.json"], resume: true);
        SingleError(nothing, "ExportJournalNotFound", "ExportAccessSnapshotCommand", ErrorCategory.ObjectNotFound);
    }

    [Fact]
    public void WhatIfReadsNothingAndWritesNothing()
    {
        ConnectClean();
        var before = Graph.RequestCount;
        var result = Ps.Run("param($p) Export-AccessSnapshot -FromGraph -Path $p -WhatIf", Temp["whatif.json"]);
        Assert.Empty(result.Errors);
        Assert.Equal(before, Graph.RequestCount);
        Assert.Empty(Temp.Files());
        Assert.Contains($"Read tenant {Tenant.Id} through Microsoft Graph", Ps.TakeScreen());
    }

    [Fact]
    public void FromGraphNeedsALiveConnection()
    {
        Ps.RunClean($"Connect-AgentGovernance -SnapshotPath '{TinyPath}'");
        SingleError(Export(Temp["x.json"]), "NotConnectedToGraph", "ExportAccessSnapshotCommand", ErrorCategory.InvalidOperation);
    }

    /// <summary>
    /// Requests per 10,000 directory objects: the export against the paging minimum of the same reads
    /// (every delta page the server needs, the rest 20 per $batch) and against listing each group's
    /// members one by one, measured on the same server in the same run.
    /// </summary>
    [Fact]
    public async Task AnExportOfTenThousandObjectsNeedsTheMinimumOfRequests()
    {
        using var graph = new FakeGraph(Generated.Tenant(users: 8_000, groups: 1_500, servicePrincipals: 500)) { DeltaPageSize = 200, MaxPageSize = 999 };
        var t = graph.Tenant;
        Assert.True(Ps.Run("param($e, $k) Connect-AgentGovernance -TenantId fabrikam.example -AccessToken ([System.Net.NetworkCredential]::new('', $k).SecurePassword) -GraphEndpoint $e",
            graph.BaseUrl, graph.Token).Errors.Count == 0);
        var before = graph.RequestCount;
        var result = Export(Temp["large.snapshot.json"]);
        Assert.Empty(result.Errors);
        var export = graph.RequestCount - before;

        static int Batches(int n) => (n + 19) / 20;
        var minimum = graph.DeltaPages("users") + graph.DeltaPages("groups") + graph.DeltaPages("servicePrincipals")
            + 1 + Batches(t.RoleDefinitions.Count) + Batches(t.ServicePrincipals.Values.Count(s => s.AppRoles.Count > 0))
            + 2 * Batches(t.GroupSites.Count) // each group's site, then its application permissions
            + 1 + Batches(t.GroupSites.Count) + Batches(t.Drives.Count) // the inventory: sites/getAllSites, each site's drives, each drive's one delta page
            + 1 + Batches(t.Users.Count); // the sites' delta link (token=latest), and each user's OneDrive (GET /users/{id}/drive; there is no listing of them)

        // The baseline reads the same roles, apps and sites as the export does (export - delta pages).
        var deltaPages = graph.DeltaPages("users") + graph.DeltaPages("groups") + graph.DeltaPages("servicePrincipals");
        before = graph.RequestCount;
        var members = await PerGroupCrawl.RunAsync(graph.BaseUrl, graph.Token);
        var perGroup = graph.RequestCount - before + (export - deltaPages);
        Assert.Equal(t.Groups.Values.Sum(g => g.Members.Count), members);

        var objects = t.Users.Count + t.Groups.Count + t.ServicePrincipals.Count;
        _log.WriteLine($"{objects} objects: export {export} requests, paging minimum {minimum}, per-group listing {perGroup}");
        Assert.Equal(10_000, objects);
        Assert.True(export <= 1.2 * minimum, $"export {export} requests, minimum {minimum}");
        // Memberships by delta pages against one listing per group (the rest, OneDrive lookups included, is the same in both).
        Assert.True(perGroup - (export - deltaPages) >= 10 * deltaPages, $"per-group {perGroup}, export {export}, of which delta pages {deltaPages}");
        var s = SnapshotReader.ReadFile(Temp["large.snapshot.json"]);
        Assert.Equal(members, s.MembershipCount);
    }
}
