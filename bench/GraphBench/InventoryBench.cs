using System.Diagnostics;
using System.Globalization;
using System.Security;
using AgentGovernance.Graph;
using AgentGovernance.GraphFake;
using AgentGovernance.Providers.Graph;

/// <summary>
/// The permission inventory on the loopback Graph: N group sites with one drive of M items each (5% shared),
/// crawled by Export -FromGraph with the inventory, against the paging minimum of the same reads; then an
/// -Update after k sharing changes, against the minimum of what changed. Memory: the process's peak working
/// set and the managed heap after the tenant is built (the fake holds every item) and after the crawl.
/// </summary>
internal static class InventoryBench
{
    /// <summary>N group sites with one drive of M items each, 5% shared with a user; 2,000 users, 10 service principals.</summary>
    public static (FakeTenant Tenant, List<string> Users, List<FakeItem> Items, int Shared, Random Rng) Tenant(int n, int items)
    {
        var t = Generated.Tenant(users: 2000, groups: 0, servicePrincipals: 10);
        var users = t.Users.Keys.OrderBy(x => x, StringComparer.Ordinal).ToList();
        var rng = new Random(7);
        var shared = 0;
        var allItems = new List<FakeItem>();
        for (var i = 0; i < n; i++)
        {
            var id = FakeTenant.NewId(5_000_000 + i);
            var g = t.AddGroup(id, $"Site group {i}", unified: true, visibility: "Private", users[rng.Next(users.Count)]);
            g.Owners.Add(users[rng.Next(users.Count)]);
            var site = new FakeSite($"fabrikam.example,site-{i},1", $"Site {i}");
            t.GroupSites[id] = site;
            var drive = t.SiteDrive(site);
            for (var k = 0; k < items; k++)
            {
                var item = t.AddItem(drive, $"01I{i}X{k}", $"file {k}.docx");
                allItems.Add(item);
                if (rng.Next(20) == 0)
                {
                t.Share(item, new FakePermission { Id = t.NextId(), Role = "read", User = users[rng.Next(users.Count)] });
                shared++;
                }
            }
        }

        return (t, users, allItems, shared, rng);
    }

    /// <summary>
    /// The crawler alone: Export-AccessSnapshot -FromGraph's engine against a loopback Graph in another
    /// process (GraphBench serve --sites N), so this process's peak working set is the crawler's own.
    /// </summary>
    public static int Crawl(string endpoint, string token)
    {
        var secure = new SecureString();
        foreach (var c in token) secure.AppendChar(c);
        using var live = new GraphDirectoryFactory().Connect(new GraphConnectionOptions("fabrikam.example", GraphSignIn.AccessToken) { AccessToken = secure, GraphEndpoint = new Uri(endpoint) });
        var journal = Path.Combine(Path.GetTempPath(), $"graphbench-crawl-{Environment.ProcessId}.journal");
        GC.Collect();
        var heapBefore = GC.GetTotalMemory(true);
        var watch = Stopwatch.StartNew();
        var snapshot = live.Export(new GraphExportOptions(journal) { Inventory = true }, null, CancellationToken.None);
        watch.Stop();
        var heapAfter = GC.GetTotalMemory(true);
        File.Delete(journal);
        File.Delete(journal + ".drives");
        Console.WriteLine($"| {snapshot.Inventory.Count:N0} drives | {snapshot.ResourceCount:N0} resources | {live.Statistics.Requests:N0} requests | heap {heapBefore >> 20:N0} MB before, {heapAfter >> 20:N0} MB after (the snapshot) | crawler peak working set {Process.GetCurrentProcess().PeakWorkingSet64 >> 20:N0} MB | {watch.Elapsed.TotalSeconds:0.0} s |");
        GC.KeepAlive(snapshot);
        return 0;
    }

    public static async Task<int> RunAsync(string sites, int items, string? markdown)
    {
        await Task.Yield();
        var lines = new List<string>
        {
            "| sites | items | shared | export requests | paging minimum | ratio | heap after build | heap after crawl | peak working set | crawl time | update after k changes: requests / minimum |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
        };
        foreach (var n in sites.Split(',').Select(x => int.Parse(x, CultureInfo.InvariantCulture)))
        {
            var (t, users, allItems, shared, rng) = Tenant(n, items);

            using var graph = new FakeGraph(t) { DeltaPageSize = 200, MaxPageSize = 999 };
            var token = new SecureString();
            foreach (var c in graph.Token) token.AppendChar(c);
            var options = new GraphConnectionOptions("fabrikam.example", GraphSignIn.AccessToken) { AccessToken = token, GraphEndpoint = new Uri(graph.BaseUrl) };
            using var live = new GraphDirectoryFactory().Connect(options);
            var journal = Path.Combine(Path.GetTempPath(), $"graphbench-inventory-{Environment.ProcessId}-{n}.journal");
            GC.Collect();
            var heapBuilt = GC.GetTotalMemory(true);
            var before = graph.RequestCount;
            var watch = Stopwatch.StartNew();
            var snapshot = live.Export(new GraphExportOptions(journal) { Inventory = true }, null, CancellationToken.None);
            watch.Stop();
            var export = graph.RequestCount - before;
            var heapCrawled = GC.GetTotalMemory(true);
            var peak = Process.GetCurrentProcess().PeakWorkingSet64;

            static int Batches(int x) => (x + 19) / 20;
            var drivePages = (items + 1 + graph.DeltaPageSize - 1) / graph.DeltaPageSize; // the root comes too
            var minimum = graph.DeltaPages("users") + graph.DeltaPages("groups") + graph.DeltaPages("servicePrincipals")
                + 1 + Batches(t.RoleDefinitions.Count) + Batches(t.ServicePrincipals.Values.Count(s => s.AppRoles.Count > 0)) + 2 * Batches(t.GroupSites.Count)
                + (n + 998) / 999 + Batches(n) + drivePages * Batches(n) + Batches(shared)
                + Batches(shared) // the shared files' own labels (extractSensitivityLabels), read for the files kept
                + 1 + 1 + Batches(t.Users.Count); // the sites' and the directory roles' delta links (latest) and each user's OneDrive (none here: 404 each)

            // -Update after k sharing changes spread over k drives.
            var changes = Math.Max(1, n / 100);
            foreach (var item in allItems.Where((_, i) => i % (allItems.Count / changes) == 0).Take(changes))
            {
                t.Share(item, new FakePermission { Id = t.NextId(), Role = "write", User = users[rng.Next(users.Count)] });
            }

            File.Delete(journal + ".drives");
            before = graph.RequestCount;
            live.Export(new GraphExportOptions(journal) { Previous = snapshot }, null, CancellationToken.None);
            var update = graph.RequestCount - before;
            // Users, groups, service principals and directory roles from their delta links (one page each: nothing changed
            // there); what has no delta again (the role definitions, custom roles' assignments, app-role assignments, the
            // sites' application permissions); no group's site (no group changed); the sites' delta round.
            var directory = 1 + 1 + 1 + 1
                + 1 + Batches(t.RoleDefinitions.Count(d => !d.BuiltIn)) + Batches(t.ServicePrincipals.Values.Count(s => s.AppRoles.Count > 0)) + Batches(t.GroupSites.Count) + 1;
            var updateMinimum = directory + Batches(n) + 2 * Batches(changes); // one delta page per drive, the changed items' permissions and labels
            File.Delete(journal);
            File.Delete(journal + ".drives");

            lines.Add($"| {n:N0} | {allItems.Count:N0} | {shared:N0} | {export:N0} | {minimum:N0} | {(double)export / minimum:0.00}× | {heapBuilt >> 20:N0} MB | {heapCrawled >> 20:N0} MB | {peak >> 20:N0} MB | {watch.Elapsed.TotalSeconds:0.0} s | k = {changes}: {update:N0} / {updateMinimum:N0} (drive part {update - directory:N0}) |");
            Console.Error.WriteLine($"{n:N0} sites done ({live.Statistics})");
        }

        foreach (var line in lines) Console.WriteLine(line);
        if (markdown is not null) File.WriteAllLines(markdown, lines);
        return 0;
    }
}
