using System.Diagnostics;
using System.Reflection;
using System.Text.Json;
using AgentGovernance.GraphFake;
using AgentGovernance.Tests.Support;
using Xunit.Abstractions;

namespace AgentGovernance.Tests.Graph;

/// <summary>
/// Living beside other modules, each in a fresh PowerShell 7.6 process (tests/GraphProbe): Import-Module
/// loads none of the Graph SDK; a Graph-backed preview works after Microsoft.Graph.Core 3.x and Kiota
/// 1.x (what Microsoft.Graph PowerShell 2.x ships) were loaded into the session first; and, as the
/// control, the same Graph part loaded into the default context instead fails in that session.
/// </summary>
public sealed class GraphIsolationTests
{
    private static readonly string[] GraphStack = { "Microsoft.Graph", "Microsoft.Graph.Core", "Microsoft.Kiota.Abstractions", "Azure.Identity", "Azure.Core", "Microsoft.Identity.Client", "AgentGovernance.Graph" };

    private readonly ITestOutputHelper _log;

    public GraphIsolationTests(ITestOutputHelper log) => _log = log;

    private static string Metadata(string key) => typeof(GraphIsolationTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().First(a => a.Key == key).Value!;

    private static string Package(string id, string version, string tfm, string file) => Path.Combine(Metadata("NuGetPackageRoot"), id.ToLowerInvariant(), version, "lib", tfm, file);

    private static string[] Preload => new[]
    {
        "--preload", Package("Microsoft.Kiota.Abstractions", "1.22.1", "net8.0", "Microsoft.Kiota.Abstractions.dll"),
        "--preload", Package("Microsoft.Graph.Core", "3.2.4", "net6.0", "Microsoft.Graph.Core.dll"),
    };

    private static JsonElement Probe(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Metadata("GraphProbe"));
        start.ArgumentList.Add("--module");
        start.ArgumentList.Add(Repo.ModuleManifest);
        foreach (var a in args) start.ArgumentList.Add(a);
        using var p = Process.Start(start)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        Assert.True(p.WaitForExit(120_000), "the probe did not finish");
        Assert.True(p.ExitCode == 0, stderr.Result);
        using var doc = JsonDocument.Parse(stdout.Result);
        return doc.RootElement.Clone();
    }

    private static IEnumerable<(string Name, string Version, string? Context)> Assemblies(JsonElement r, string key) =>
        r.GetProperty(key).EnumerateArray().Select(a => (a.GetProperty("name").GetString()!, a.GetProperty("version").GetString()!, a.GetProperty("context").GetString()));

    [Fact]
    public void ImportModuleLoadsNoneOfTheGraphSdk()
    {
        var r = Probe();
        Assert.Empty(r.GetProperty("importErrors").EnumerateArray());
        var loaded = Assemblies(r, "afterImport").ToList();
        Assert.Contains(loaded, a => a.Name == "AgentGovernance");
        Assert.DoesNotContain(loaded, a => GraphStack.Contains(a.Name));
        var ms = r.GetProperty("importMs").GetDouble();
        _log.WriteLine($"Import-Module: {ms:0} ms; {loaded.Count} assemblies loaded, none of: {string.Join(", ", GraphStack)}");
        Assert.True(ms < 10_000, $"Import-Module took {ms:0} ms");
    }

    [Fact]
    public void AGraphPreviewWorksAfterGraphCore3AndKiota1WereLoadedFirst()
    {
        using var graph = new FakeGraph(Fabrikam.Build());
        using var temp = new TempDir();
        var change = temp.Write("public.json", $"{{ \"schema\": \"agentgovernance/change@1\", \"operations\": [ {{ \"op\": \"setVisibility\", \"group\": \"{Fabrikam.Data}\", \"visibility\": \"Public\" }} ] }}");
        var r = Probe(Preload.Concat(new[] { "--endpoint", graph.BaseUrl, "--token", graph.Token, "--change", change }).ToArray());

        Assert.False(r.TryGetProperty("preloadErrors", out _), r.ToString());
        Assert.Equal("1.22.1.0", r.GetProperty("preloadedKiota")[0].GetString());
        Assert.Empty(r.GetProperty("previewErrors").EnumerateArray());
        Assert.Equal(new[] { "Critical", "3" }, r.GetProperty("preview").EnumerateArray().Select(e => e.GetString()));

        var loaded = Assemblies(r, "afterPreview").ToList();
        foreach (var a in loaded.Where(a => GraphStack.Contains(a.Name))) _log.WriteLine($"{a.Name} {a.Version} in {a.Context}");
        // Two of each: the other module's in the default context, ours in the module's own context.
        Assert.Contains(loaded, a => a.Name == "Microsoft.Graph.Core" && a.Version.StartsWith("3.", StringComparison.Ordinal) && a.Context == "Default");
        Assert.Contains(loaded, a => a.Name == "Microsoft.Graph.Core" && a.Version.StartsWith("4.", StringComparison.Ordinal) && a.Context == "AgentGovernance.Providers.Graph.GraphLoadContext");
        Assert.Contains(loaded, a => a.Name == "Microsoft.Kiota.Abstractions" && a.Version.StartsWith("1.", StringComparison.Ordinal) && a.Context == "Default");
        Assert.Contains(loaded, a => a.Name == "Microsoft.Kiota.Abstractions" && a.Version.StartsWith("2.", StringComparison.Ordinal) && a.Context == "AgentGovernance.Providers.Graph.GraphLoadContext");
        Assert.Contains(loaded, a => a.Name == "Microsoft.Graph" && a.Context == "AgentGovernance.Providers.Graph.GraphLoadContext");
        // The module itself is shared (one AgentGovernance, in the default context).
        Assert.Single(loaded, a => a.Name == "AgentGovernance");
        Assert.Contains(graph.Requests, q => q.StartsWith("GET /v1.0/organization", StringComparison.Ordinal));
    }

    [Fact]
    public void TheControlTheSameGraphPartInTheDefaultContextFailsInThatSession()
    {
        var control = Path.Combine(Repo.ModuleFolder, "graph", "AgentGovernance.Graph.dll");
        var clean = Probe("--control", control);
        Assert.Equal("loaded", clean.GetProperty("control").GetString());
        var conflicted = Probe(Preload.Concat(new[] { "--control", control }).ToArray());
        var failure = conflicted.GetProperty("control").GetString()!;
        _log.WriteLine(failure);
        Assert.StartsWith("FileLoadException", failure);
        Assert.Contains("Microsoft.Kiota.Abstractions, Version=2.", failure);
    }
}
