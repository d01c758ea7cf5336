using System;
using System.IO;
using System.Runtime.CompilerServices;
using AgentGovernance.Providers.Graph;

namespace AgentGovernance.Stores;

/// <summary>Made by AgentGovernance.Table.dll: opens (creating if need be) a store in a table.</summary>
internal interface ITableStoreFactory
{
    IGovernanceStore Open(TableStoreOptions options);
}

/// <summary>
/// Finds the table part of the module (table/ beside AgentGovernance.dll) and loads it on first use, never
/// at Import-Module, into a load context of its own (the same resolution rules as the Graph part's): so the
/// Azure.Core, Azure.Data.Tables and Azure.Identity it ships are ours alone whatever Az.* loaded first.
/// </summary>
internal static class TableStoreLoader
{
    public const string FolderName = "table";
    public const string AssemblyFile = "AgentGovernance.Table.dll";
    private const string FactoryType = "AgentGovernance.Table.TableStoreFactory";

    private static readonly object Gate = new();
    private static ITableStoreFactory? _factory;

    public static string Folder(string? moduleBase) =>
        Path.Combine(moduleBase ?? Path.GetDirectoryName(typeof(TableStoreLoader).Assembly.Location) ?? ".", FolderName);

    public static IGovernanceStore Open(TableStoreOptions options, string? moduleBase = null) => Factory(moduleBase).Open(options);

    private static ITableStoreFactory Factory(string? moduleBase)
    {
        lock (Gate)
        {
            if (_factory is not null)
            {
                return _factory;
            }

            if (!GraphLoader.Supported)
            {
                throw new GovernanceException("TableStoreNotSupported", GovernanceErrorKind.InvalidOperation,
                    "A store on Azure Table Storage needs PowerShell 7.4 or later: Windows PowerShell 5.1 has no AssemblyLoadContext to keep this " +
                    "module's Azure SDK apart from other modules'. Use a folder store (Connect-AgentGovernance -StorePath) there.");
            }

            var path = Path.Combine(Folder(moduleBase), AssemblyFile);
            if (!File.Exists(path))
            {
                throw new GovernanceException("TableComponentMissing", GovernanceErrorKind.ObjectNotFound,
                    $"The table part of the module is missing: '{path}' does not exist. Reinstall the module (or build it with 'dotnet build -c Release').", path);
            }

            _factory = Load(path);
            return _factory;
        }
    }

    // Kept out of line so that Windows PowerShell never compiles a method that names AssemblyLoadContext.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static ITableStoreFactory Load(string path)
    {
        var context = new GraphLoadContext(path, typeof(TableStoreLoader).Assembly);
        var assembly = context.LoadFromAssemblyPath(path);
        var type = assembly.GetType(FactoryType, throwOnError: true)!;
        return (ITableStoreFactory)Activator.CreateInstance(type)!;
    }
}
