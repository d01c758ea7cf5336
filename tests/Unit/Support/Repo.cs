using System.Reflection;

namespace AgentGovernance.Tests.Support;

/// <summary>Where the repository and the built module are (baked in at build time).</summary>
public static class Repo
{
    private static string Metadata(string key) =>
        typeof(Repo).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().First(a => a.Key == key).Value!;

    public static string Root => Path.GetFullPath(Metadata("RepoRoot"));

    public static string ModuleFolder => Path.GetFullPath(Metadata("ModuleOut"));

    public static string ModuleManifest => Path.Combine(ModuleFolder, "AgentGovernance.psd1");

    /// <summary>The worker process the multi-process and crash tests start (dotnet &lt;this&gt; script.ps1).</summary>
    public static string Worker => Path.GetFullPath(Metadata("Worker"));

    public static string Examples => Path.Combine(Root, "examples");

    public static string DemoSnapshot => Path.Combine(Examples, "contoso.snapshot.json");

    public static string Incident => Path.Combine(Examples, "changes", "forum-4411.json");
}
