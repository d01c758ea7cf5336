using System;
using System.IO;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace AgentGovernance.Providers.Graph;

/// <summary>Made by AgentGovernance.Graph.dll: opens a connection to a tenant.</summary>
internal interface IGraphDirectoryFactory
{
    IGraphDirectory Connect(GraphConnectionOptions options);
}

/// <summary>
/// Finds the Graph part of the module (graph/ beside AgentGovernance.dll) and loads it on first use,
/// never at Import-Module. On PowerShell 7 it goes into the module's own AssemblyLoadContext, so the
/// Graph SDK, Kiota, Azure.Identity and MSAL it ships are ours alone whatever Microsoft.Graph
/// PowerShell, Az or PnP loaded first (msgraph-sdk-powershell #1143, #2622, #3394).
/// </summary>
internal static class GraphLoader
{
    public const string FolderName = "graph";
    public const string AssemblyFile = "AgentGovernance.Graph.dll";
    private const string FactoryType = "AgentGovernance.Graph.GraphDirectoryFactory";

    private static readonly object Gate = new();
    private static IGraphDirectoryFactory? _factory;

    /// <summary>The folder the Graph part is laid out in: graph/ in the module's folder (where the manifest is), else beside AgentGovernance.dll.</summary>
    public static string Folder(string? moduleBase) =>
        Path.Combine(moduleBase ?? Path.GetDirectoryName(typeof(GraphLoader).Assembly.Location) ?? ".", FolderName);

    /// <summary>True on .NET (PowerShell 7), false on .NET Framework (Windows PowerShell 5.1).</summary>
    public static bool Supported => !RuntimeInformation.FrameworkDescription.StartsWith(".NET Framework", StringComparison.Ordinal);

    /// <param name="options">The tenant and sign-in.</param>
    /// <param name="moduleBase">The module's folder (PowerShell's ModuleBase): the Graph part is in its graph/ folder.</param>
    public static IGraphDirectory Connect(GraphConnectionOptions options, string? moduleBase)
    {
        IEntraTokenSource? tokens = null;
        var given = options.SignedIn;
        options.SignedIn = source =>
        {
            tokens = source;
            given?.Invoke(source);
        };

        var directory = Factory(moduleBase).Connect(options);
        if (tokens is not null)
        {
            SignIns.Add(directory, tokens);
        }

        return directory;
    }

    /// <summary>The credential a live connection signed in with, for the table store (-StoreGraphSignIn); null for -AccessToken, or no connection.</summary>
    public static IEntraTokenSource? SignInOf(IDirectoryProvider? provider) =>
        provider is IGraphDirectory directory && SignIns.TryGetValue(directory, out var tokens) ? tokens : null;

    // Each connection's credential, for as long as the connection lives (IGraphDirectory is the Graph part's, and stays as it is).
    private static readonly ConditionalWeakTable<IGraphDirectory, IEntraTokenSource> SignIns = new();

    private static IGraphDirectoryFactory Factory(string? moduleBase)
    {
        lock (Gate)
        {
            if (_factory is not null)
            {
                return _factory;
            }

            if (!Supported)
            {
                throw new GovernanceException("GraphNotSupported", GovernanceErrorKind.InvalidOperation,
                    "Reading and changing a live tenant through Microsoft Graph needs PowerShell 7.4 or later: Windows PowerShell 5.1 has no " +
                    "AssemblyLoadContext to keep this module's Graph SDK apart from other modules'. Snapshots work here: export one with " +
                    "PowerShell 7 (Export-AccessSnapshot -FromGraph) and use Connect-AgentGovernance -SnapshotPath.");
            }

            var path = Path.Combine(Folder(moduleBase), AssemblyFile);
            if (!File.Exists(path))
            {
                throw new GovernanceException("GraphComponentMissing", GovernanceErrorKind.ObjectNotFound,
                    $"The Graph part of the module is missing: '{path}' does not exist. Reinstall the module (or build it with 'dotnet build -c Release').", path);
            }

            _factory = Load(path);
            return _factory;
        }
    }

    // Kept out of line so that Windows PowerShell never compiles a method that names AssemblyLoadContext.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static IGraphDirectoryFactory Load(string path)
    {
        var context = new GraphLoadContext(path, typeof(GraphLoader).Assembly);
        var assembly = context.LoadFromAssemblyPath(path);
        var type = assembly.GetType(FactoryType, throwOnError: true)!;
        return (IGraphDirectoryFactory)Activator.CreateInstance(type)!;
    }
}
