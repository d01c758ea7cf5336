using System.Diagnostics;
using System.Globalization;
using System.Security;
using AgentGovernance.Graph;
using AgentGovernance.GraphFake;
using AgentGovernance.Providers.Graph;

// dotnet run -c Release --project bench/GraphBench -- [measure] [--objects 10000,100000] [--markdown FILE]
// dotnet run -c Release --project bench/GraphBench -- inventory [--sites 1000,10000] [--items 100] [--markdown FILE]   (the permission inventory crawl and -Update)
// dotnet run -c Release --project bench/GraphBench -- update [--users 10000] [--groups 1500] [--sites 500] [--markdown FILE]   (-Update's requests against what changed)
// dotnet run -c Release --project bench/GraphBench -- crawl --endpoint URL --token T   (the crawler alone, against `serve --sites N` in another process)
// dotnet run -c Release --project bench/GraphBench -- serve [--sites N [--items M]] [--seconds S]     (the Fabrikam demo tenant, until Ctrl+C)
var mode = args.Length > 0 && !args[0].StartsWith("--", StringComparison.Ordinal) ? args[0] : "measure";
string? Option(string name) => Array.IndexOf(args, name) is var i && i >= 0 && i + 1 < args.Length ? args[i + 1] : null;

if (mode == "serve")
{
    // --sites N [--items M]: the inventory bench's tenant instead of Fabrikam (for `crawl` from another process).
    using var graph = Option("--sites") is { } n
        ? new FakeGraph(InventoryBench.Tenant(int.Parse(n, CultureInfo.InvariantCulture), int.Parse(Option("--items") ?? "100", CultureInfo.InvariantCulture)).Tenant) { DeltaPageSize = 200, MaxPageSize = 999 }
        : new FakeGraph(Fabrikam.Build());
    Console.WriteLine($"endpoint {graph.BaseUrl}");
    Console.WriteLine($"token    {graph.Token}");
    Console.WriteLine("Fabrikam: payroll.xlsx is " + Fabrikam.PayrollId + "; All Engineering is " + Fabrikam.Eng + "; Data Ops is " + Fabrikam.Data);
    var seconds = int.Parse(Option("--seconds") ?? "1800", CultureInfo.InvariantCulture);
    Thread.Sleep(TimeSpan.FromSeconds(seconds)); // bounded: a loopback server never outlives its use
    return 0;
}

if (mode == "crawl")
{
    return InventoryBench.Crawl(Option("--endpoint") ?? throw new ArgumentException("--endpoint"), Option("--token") ?? throw new ArgumentException("--token"));
}

if (mode == "update")
{
    return UpdateBench.Run(int.Parse(Option("--users") ?? "10000", CultureInfo.InvariantCulture), int.Parse(Option("--groups") ?? "1500", CultureInfo.InvariantCulture),
        int.Parse(Option("--sites") ?? "500", CultureInfo.InvariantCulture), Option("--markdown"));
}

if (mode == "inventory")
{
    return await InventoryBench.RunAsync(Option("--sites") ?? "1000", int.Parse(Option("--items") ?? "100", CultureInfo.InvariantCulture), Option("--markdown"));
}

var sizes = (Option("--objects") ?? "10000,100000").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToList();
var lines = new List<string>
{
    "| directory objects | users / groups / service principals | memberships | export requests | paging minimum | export ÷ minimum | per-group listing | per-group ÷ export | per 10,000 objects: export / minimum / per-group | export time |",
    "|---:|---|---:|---:|---:|---:|---:|---:|---|---:|",
};
foreach (var objects in sizes)
{
    var users = objects * 80 / 100;
    var groups = objects * 15 / 100;
    var sps = objects - users - groups;
    using var graph = new FakeGraph(Generated.Tenant(users, groups, sps)) { DeltaPageSize = 200, MaxPageSize = 999 };
    var t = graph.Tenant;
    var token = new SecureString();
    foreach (var c in graph.Token) token.AppendChar(c);
    var options = new GraphConnectionOptions("fabrikam.example", GraphSignIn.AccessToken) { AccessToken = token, GraphEndpoint = new Uri(graph.BaseUrl) };
    using var live = new GraphDirectoryFactory().Connect(options);
    var journal = Path.Combine(Path.GetTempPath(), $"graphbench-{Environment.ProcessId}-{objects}.journal");
    var before = graph.RequestCount;
    var watch = Stopwatch.StartNew();
    var snapshot = live.Export(new GraphExportOptions(journal), null, CancellationToken.None);
    watch.Stop();
    File.Delete(journal);
    var export = graph.RequestCount - before;

    static int Batches(int n) => (n + 19) / 20;
    var minimum = graph.DeltaPages("users") + graph.DeltaPages("groups") + graph.DeltaPages("servicePrincipals")
        + 1 + Batches(t.RoleDefinitions.Count) + Batches(t.ServicePrincipals.Values.Count(s => s.AppRoles.Count > 0)) + 2 * Batches(t.GroupSites.Count); // each group's site, then its application permissions

    before = graph.RequestCount;
    var members = await PerGroupCrawl.RunAsync(graph.BaseUrl, graph.Token);
    var perGroup = graph.RequestCount - before + (export - (graph.DeltaPages("users") + graph.DeltaPages("groups") + graph.DeltaPages("servicePrincipals")));
    if (members != snapshot.MembershipCount)
    {
        Console.Error.WriteLine($"the per-group crawl read {members} memberships, the export {snapshot.MembershipCount}");
        return 1;
    }

    double Per10k(int n) => n * 10_000.0 / objects;
    lines.Add($"| {objects:N0} | {users:N0} / {groups:N0} / {sps:N0} | {snapshot.MembershipCount:N0} | {export:N0} | {minimum:N0} | {(double)export / minimum:0.00}× | {perGroup:N0} | {(double)perGroup / export:0.0}× | {Per10k(export):0} / {Per10k(minimum):0} / {Per10k(perGroup):0} | {watch.Elapsed.TotalSeconds:0.0} s |");
    Console.Error.WriteLine($"{objects:N0} objects done ({live.Statistics})");
}

foreach (var line in lines) Console.WriteLine(line);
if (Option("--markdown") is { } md) File.WriteAllLines(md, lines);
return 0;
