using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.CompilerServices;
using System.Threading;
using AgentGovernance.Providers;
using AgentGovernance.Providers.Graph;

namespace AgentGovernance.Agents;

/// <summary>One tool the MCP server offers: its name, what it does, and the JSON schema of its arguments.</summary>
internal sealed class AgentToolDefinition
{
    public AgentToolDefinition(string name, string title, string description, string inputSchema)
    {
        Name = name;
        Title = title;
        Description = description;
        InputSchema = inputSchema;
    }

    public string Name { get; }

    public string Title { get; }

    public string Description { get; }

    /// <summary>JSON text (only strings cross between the module and its MCP part).</summary>
    public string InputSchema { get; }
}

/// <summary>What a tool call gave back: JSON text, and whether it is an error (a refusal) or a name no tool has.</summary>
internal sealed class AgentToolResult
{
    public AgentToolResult(string text, bool isError, bool unknownTool = false)
    {
        Text = text;
        IsError = isError;
        UnknownTool = unknownTool;
    }

    public string Text { get; }

    public bool IsError { get; }

    public bool UnknownTool { get; }
}

/// <summary>The governed side of the MCP server, in AgentGovernance.dll: the tools and what they do.</summary>
internal interface IAgentToolHost
{
    string ServerName { get; }

    string ServerVersion { get; }

    string Instructions { get; }

    IReadOnlyList<AgentToolDefinition> Tools { get; }

    /// <summary>Runs a tool on its arguments (a JSON object as text); never throws for what the agent sent.</summary>
    AgentToolResult Call(string? name, string argumentsJson);
}

/// <summary>Made by AgentGovernance.Mcp.dll: the MCP protocol (JSON-RPC over the streams) around a tool host.</summary>
internal interface IMcpServerPart
{
    /// <summary>Serves until the input ends or <paramref name="cancel"/> is cancelled. Nothing but protocol messages is written to <paramref name="output"/>.</summary>
    void Run(IAgentToolHost host, Stream input, Stream output, TextWriter log, CancellationToken cancel);
}

/// <summary>Finds the MCP part (mcp/ beside the module) and loads it into the module's own load context on first use.</summary>
internal static class McpLoader
{
    public const string FolderName = "mcp";
    public const string AssemblyFile = "AgentGovernance.Mcp.dll";
    private const string PartType = "AgentGovernance.Mcp.McpServerPart";
    private static readonly object Gate = new();
    private static IMcpServerPart? _part;

    public static string Folder(string? moduleBase) =>
        Path.Combine(moduleBase ?? Path.GetDirectoryName(typeof(McpLoader).Assembly.Location) ?? ".", FolderName);

    public static IMcpServerPart Part(string? moduleBase)
    {
        lock (Gate)
        {
            if (_part is not null)
            {
                return _part;
            }

            if (!GraphLoader.Supported)
            {
                throw new GovernanceException("McpNotSupported", GovernanceErrorKind.InvalidOperation,
                    "The MCP server needs PowerShell 7.4 or later: Windows PowerShell 5.1 has no AssemblyLoadContext to keep the MCP SDK's dependencies apart from other modules'.");
            }

            var path = Path.Combine(Folder(moduleBase), AssemblyFile);
            if (!File.Exists(path))
            {
                throw new GovernanceException("McpComponentMissing", GovernanceErrorKind.ObjectNotFound,
                    $"The MCP part of the module is missing: '{path}' does not exist. Reinstall the module (or build it with 'dotnet build -c Release').", path);
            }

            _part = Load(path);
            return _part;
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static IMcpServerPart Load(string path)
    {
        var context = new McpLoadContext(path, typeof(McpLoader).Assembly);
        var assembly = context.LoadFromAssemblyPath(path);
        var type = assembly.GetType(PartType, throwOnError: true)!;
        return (IMcpServerPart)Activator.CreateInstance(type)!;
    }
}

/// <summary>The MCP server part's context (mcp/).</summary>
internal sealed class McpLoadContext : PartLoadContext
{
    public McpLoadContext(string mainAssembly, System.Reflection.Assembly module)
        : base(mainAssembly, module)
    {
    }
}
