using System.Diagnostics;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Reflection;
using System.Runtime.Loader;
using System.Text.Json;

// GraphProbe --module <psd1> [--preload <dll>]... [--endpoint <url> --token <t> --change <file>] [--control <graph dll>]
// Writes one JSON object: import time, the assemblies loaded after import and after the preview, and the preview's outcome.
var module = string.Empty;
var preload = new List<string>();
string? endpoint = null, token = null, change = null, control = null;
for (var i = 0; i < args.Length; i += 2)
{
    switch (args[i])
    {
        case "--module": module = args[i + 1]; break;
        case "--preload": preload.Add(args[i + 1]); break;
        case "--endpoint": endpoint = args[i + 1]; break;
        case "--token": token = args[i + 1]; break;
        case "--change": change = args[i + 1]; break;
        case "--control": control = args[i + 1]; break;
        default: Console.Error.WriteLine("unknown argument " + args[i]); return 2;
    }
}

var result = new Dictionary<string, object?>();
using var runspace = RunspaceFactory.CreateRunspace(InitialSessionState.CreateDefault2());
runspace.Open();

List<Dictionary<string, string?>> Loaded() => AppDomain.CurrentDomain.GetAssemblies()
    .Select(a => new Dictionary<string, string?>
    {
        ["name"] = a.GetName().Name,
        ["version"] = a.GetName().Version?.ToString(),
        ["context"] = AssemblyLoadContext.GetLoadContext(a) is { } c ? (c == AssemblyLoadContext.Default ? "Default" : c.GetType().FullName) : null,
    })
    .OrderBy(a => a["name"], StringComparer.Ordinal).ToList();

(List<object?> Output, List<string> Errors) Run(string script, params object[] args)
{
    using var ps = PowerShell.Create();
    ps.Runspace = runspace;
    ps.AddScript(script);
    foreach (var a in args) ps.AddArgument(a);
    var output = new List<object?>();
    var errors = new List<string>();
    try
    {
        output.AddRange(ps.Invoke().Select(o => o?.BaseObject));
    }
    catch (RuntimeException e)
    {
        errors.Add(e.ErrorRecord.FullyQualifiedErrorId + ": " + e.Message);
    }

    errors.AddRange(ps.Streams.Error.Select(e => e.FullyQualifiedErrorId + ": " + e));
    return (output, errors);
}

// Another module's Graph SDK, loaded into this runspace first (as Microsoft.Graph PowerShell 2.x does).
foreach (var p in preload)
{
    var (_, errors) = Run("param($p) $null = [System.Reflection.Assembly]::LoadFrom($p)", p);
    if (errors.Count > 0) { result["preloadErrors"] = errors; }
}

if (preload.Count > 0)
{
    // In use, not just loaded: a Kiota 1.x object made by the runspace.
    var (made, errors) = Run("[Microsoft.Kiota.Abstractions.RequestInformation]::new().GetType().Assembly.GetName().Version.ToString()");
    result["preloadedKiota"] = made.Select(o => o?.ToString()).ToList();
    if (errors.Count > 0) { result["preloadErrors"] = errors; }
}

if (control is not null)
{
    // The control experiment: the module imported, then its Graph part loaded the naive way, into the default context.
    result["importErrors"] = Run("param($m) Import-Module $m", module).Errors;
    try
    {
        var graph = Assembly.LoadFrom(control);
        var factory = graph.GetType("AgentGovernance.Graph.GraphDirectoryFactory", throwOnError: true)!;
        _ = Activator.CreateInstance(factory);
        // Touch the SDK: building a client binds Microsoft.Graph.Core and Kiota.
        var sdk = Assembly.LoadFrom(Path.Combine(Path.GetDirectoryName(control)!, "Microsoft.Graph.dll"));
        var client = sdk.GetType("Microsoft.Graph.GraphServiceClient", throwOnError: true)!;
        RuntimeHelpersRun(client);
        result["control"] = "loaded";
    }
    catch (Exception e)
    {
        result["control"] = e.GetType().Name + ": " + e.Message;
    }

    Console.WriteLine(JsonSerializer.Serialize(result));
    return 0;
}

var watch = Stopwatch.StartNew();
var import = Run("param($m) Import-Module $m", module);
watch.Stop();
result["importMs"] = watch.Elapsed.TotalMilliseconds;
result["importErrors"] = import.Errors;
result["afterImport"] = Loaded();

if (endpoint is not null)
{
    var preview = Run("""
        param($endpoint, $token, $change)
        Connect-AgentGovernance -TenantId probe.example -AccessToken ([System.Net.NetworkCredential]::new('', $token).SecurePassword) -GraphEndpoint $endpoint
        $report = Import-AccessChange -Path $change | Test-ExposureRisk
        $report.RiskLevel.ToString()
        $report.PrincipalsGained
        """, endpoint, token!, change!);
    result["previewErrors"] = preview.Errors;
    result["preview"] = preview.Output.Select(o => o?.ToString()).ToList();
    result["afterPreview"] = Loaded();
}

Console.WriteLine(JsonSerializer.Serialize(result));
return 0;

static void RuntimeHelpersRun(Type client) =>
    _ = Activator.CreateInstance(client, new object?[] { new HttpClient(), null, "https://graph.microsoft.com/v1.0" });
