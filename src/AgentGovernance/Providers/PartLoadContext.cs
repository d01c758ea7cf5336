using System;
using System.Collections.Generic;
using System.IO;
using System.Reflection;
using System.Runtime.Loader;

namespace AgentGovernance.Providers;

/// <summary>
/// The module's own AssemblyLoadContext for a part of the module that ships its own dependencies in a
/// folder of its own (graph/ for AgentGovernance.Graph.dll, mcp/ for AgentGovernance.Mcp.dll).
/// Resolution, in order:
/// <list type="number">
/// <item>AgentGovernance itself: the copy already loaded (shared type identity for IDirectoryProvider,
/// AccessSnapshot and the rest: they are the only types that cross).</item>
/// <item>An assembly of the runtime (on the trusted platform list) at least as new as the one asked
/// for: the runtime's, as any .NET app would.</item>
/// <item>Anything in the part's folder: loaded here, never from the default context. So a Microsoft.Graph.Core
/// 3.x or Kiota 1.x (or another ModelContextProtocol) that another module loaded into the default context
/// is never bound to ours.</item>
/// </list>
/// </summary>
internal abstract class PartLoadContext : AssemblyLoadContext
{
    private readonly Assembly _module;
    private readonly string _folder;
    private readonly Dictionary<string, string> _platform;

    protected PartLoadContext(string mainAssembly, Assembly module)
    {
        _module = module;
        _folder = Path.GetDirectoryName(mainAssembly)!;
        _platform = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") is string tpa)
        {
            foreach (var file in tpa.Split(Path.PathSeparator))
            {
                if (file.Length > 0)
                {
                    _platform[Path.GetFileNameWithoutExtension(file)] = file;
                }
            }
        }
    }

    protected override Assembly? Load(AssemblyName name)
    {
        var simple = name.Name ?? string.Empty;
        if (string.Equals(simple, _module.GetName().Name, StringComparison.OrdinalIgnoreCase))
        {
            return _module;
        }

        if (_platform.TryGetValue(simple, out var platformFile) && PlatformIsNewEnough(platformFile, name))
        {
            return null; // the default context loads the runtime's own copy
        }

        var local = Path.Combine(_folder, simple + ".dll");
        return File.Exists(local) ? LoadFromAssemblyPath(local) : null;
    }

    protected override IntPtr LoadUnmanagedDll(string unmanagedDllName)
    {
        var local = Path.Combine(_folder, unmanagedDllName);
        return File.Exists(local) ? LoadUnmanagedDllFromPath(local) : IntPtr.Zero;
    }

    private static bool PlatformIsNewEnough(string file, AssemblyName wanted)
    {
        if (wanted.Version is null)
        {
            return true;
        }

        try
        {
            return AssemblyName.GetAssemblyName(file).Version is { } have && have >= wanted.Version;
        }
        catch (Exception e) when (e is IOException || e is BadImageFormatException || e is UnauthorizedAccessException)
        {
            return false;
        }
    }
}
