using System.Globalization;
using System.Security;
using AgentGovernance.Graph;
using AgentGovernance.GraphFake;
using AgentGovernance.Providers.Graph;

/// <summary>
/// -Update's requests against what changed: a tenant of U users, G groups and S group sites is exported
/// with its inventory, then refreshed after no change, one changed user, one membership added, one site
/// created, a service principal created, a directory role assigned, each against the full export of the
/// same tenant. Requests are HTTP requests on the wire ($batch counts one). The part Graph has no delta
/// query for (role definitions and custom roles' assignments, app-role assignments, the sites' application
/// permissions) is shown apart; on a full export it also counts every role's assignments and every service principal.
/// </summary>
internal static class UpdateBench
{
    public static int Run(int users, int groups, int sites, string? markdown)
    {
        var t = Generated.Tenant(users, groups, servicePrincipals: 50);
        var ids = t.Users.Keys.OrderBy(x => x, StringComparer.Ordinal).ToList();
        var rng = new Random(11);
        for (var i = 0; i < sites; i++)
        {
            var id = FakeTenant.NewId(6_000_000 + i);
            var g = t.AddGroup(id, $"Team {i}", unified: true, visibility: "Private", ids[rng.Next(ids.Count)]);
            g.Owners.Add(ids[rng.Next(ids.Count)]);
            var site = new FakeSite($"fabrikam.example,team-{i},1", $"Team {i}");
            t.GroupSites[id] = site;
            var drive = t.SiteDrive(site);
            var item = t.AddItem(drive, $"01T{i}", "plan.docx");
            t.Share(item, new FakePermission { Id = t.NextId(), Role = "read", Group = id });
        }

        using var graph = new FakeGraph(t) { DeltaPageSize = 200, MaxPageSize = 999 };
        var token = new SecureString();
        foreach (var c in graph.Token) token.AppendChar(c);
        using var live = new GraphDirectoryFactory().Connect(new GraphConnectionOptions("fabrikam.example", GraphSignIn.AccessToken) { AccessToken = token, GraphEndpoint = new Uri(graph.BaseUrl) });
        var journal = Path.Combine(Path.GetTempPath(), $"graphbench-update-{Environment.ProcessId}.journal");

        int Count(Func<int> run)
        {
            var before = graph.RequestCount;
            var steps = graph.Steps.Count;
            run();
            // What the requests were, by kind (a $batch by the kinds of its steps), on stderr.
            var kinds = graph.Requests.Skip(before).Where(r => !r.Contains("$batch", StringComparison.Ordinal)).Select(Kind)
                .Concat(graph.Steps.Skip(steps).Select(r => "in $batch: " + Kind(r)));
            Console.Error.WriteLine(string.Join(", ", kinds.GroupBy(k => k).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key} {g.Count()}")));
            File.Delete(journal);
            File.Delete(journal + ".drives");
            return graph.RequestCount - before;
        }

        var snapshot = live.Export(new GraphExportOptions(journal) { Inventory = true }, null, CancellationToken.None);
        File.Delete(journal);
        File.Delete(journal + ".drives");
        int Full() => Count(() => live.Export(new GraphExportOptions(journal) { Inventory = true }, null, CancellationToken.None).PrincipalCount);
        int Update() => Count(() => (snapshot = live.Export(new GraphExportOptions(journal) { Previous = snapshot }, null, CancellationToken.None)).PrincipalCount);

        static string Kind(string request)
        {
            var path = request.Split(' ')[1].Split('?')[0].Replace("/v1.0/", string.Empty, StringComparison.Ordinal).Split('/');
            return string.Join("/", path.Select((x, i) => i % 2 == 1 && path[0] is "users" or "groups" or "sites" or "drives" or "servicePrincipals" && x is not ("delta" or "delta()" or "getAllSites") ? "{id}" : x));
        }

        static int Batches(int n) => (n + 19) / 20;
        var rows = new List<(string What, int Requests)>
        {
            ("full export (-FromGraph)", Full()),
            ("-Update, nothing changed", Update()),
        };
        t.AddUser(FakeTenant.NewId(7_000_001), "New Hire");
        rows.Add(("-Update, 1 user created", Update()));
        t.Groups.Values.First(g => !g.Unified).Members.Add(ids[0]);
        rows.Add(("-Update, 1 member added to a group", Update()));
        var team = t.Groups.Values.First(g => g.Unified);
        team.Members.Add(ids[1]);
        rows.Add(("-Update, 1 member added to a Microsoft 365 group", Update()));
        var newGroup = FakeTenant.NewId(7_100_000);
        t.AddGroup(newGroup, "New team", unified: true, visibility: "Private", ids[2]);
        t.GroupSites[newGroup] = new FakeSite("fabrikam.example,team-new,1", "New team");
        t.SiteDrive(t.GroupSites[newGroup]);
        rows.Add(("-Update, 1 team (group and site) created", Update()));
        t.AddServicePrincipal(FakeTenant.NewId(7_200_000), "New App", "app-new");
        rows.Add(("-Update, 1 service principal created", Update()));
        t.RoleAssignments.Add(new FakeRoleAssignment(t.NextId(), t.RoleDefinitions[0].Id, ids[3]));
        rows.Add(("-Update, 1 directory role assigned", Update()));

        var apps = Batches(t.ServicePrincipals.Values.Count(s => s.AppRoles.Count > 0));
        var fullNoDelta = graph.DeltaPages("servicePrincipals") + 1 + Batches(t.RoleDefinitions.Count) + apps + Batches(t.GroupSites.Count);
        var noDelta = 1 + Batches(t.RoleDefinitions.Count(d => !d.BuiltIn)) + apps + Batches(t.GroupSites.Count);
        var lines = new List<string>
        {
            $"| {t.Users.Count:N0} users, {t.Groups.Count:N0} groups, {t.GroupSites.Count:N0} sites with a drive each | requests | of which without a delta query |",
            "|---|---:|---:|",
        };
        lines.AddRange(rows.Select((r, i) => $"| {r.What} | {r.Requests:N0} | {(i == 0 ? fullNoDelta : noDelta):N0} |"));
        foreach (var line in lines) Console.WriteLine(line);
        if (markdown is not null) File.WriteAllLines(markdown, lines);
        Console.Error.WriteLine(live.Statistics);
        return 0;
    }
}
