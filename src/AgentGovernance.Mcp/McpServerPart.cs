using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using AgentGovernance.Agents;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace AgentGovernance.Mcp;

/// <summary>
/// The protocol side: the ModelContextProtocol SDK's server over the given streams, with tools/list and
/// tools/call handed to the module's tool host. Only strings cross to AgentGovernance.dll, so the SDK's
/// System.Text.Json (10.x, in this part's load context) never meets the module's.
/// </summary>
internal sealed class McpServerPart : IMcpServerPart
{
    public void Run(IAgentToolHost host, Stream input, Stream output, TextWriter log, CancellationToken cancel) =>
        RunAsync(host, input, output, log, cancel).GetAwaiter().GetResult();

    private static async Task RunAsync(IAgentToolHost host, Stream input, Stream output, TextWriter log, CancellationToken cancel)
    {
        var tools = host.Tools.Select(t => new Tool
        {
            Name = t.Name,
            Title = t.Title,
            Description = t.Description,
            InputSchema = JsonDocument.Parse(t.InputSchema).RootElement.Clone(),
            Annotations = new ToolAnnotations { ReadOnlyHint = t.Name != "propose_change", DestructiveHint = false, IdempotentHint = t.Name != "propose_change", OpenWorldHint = false },
        }).ToList();

        var options = new McpServerOptions
        {
            ServerInfo = new Implementation { Name = host.ServerName, Version = host.ServerVersion },
            ServerInstructions = host.Instructions,
            Capabilities = new ServerCapabilities { Tools = new ToolsCapability() },
            Handlers = new McpServerHandlers
            {
                ListToolsHandler = (request, ct) => new ValueTask<ListToolsResult>(new ListToolsResult { Tools = tools }),
                CallToolHandler = (request, ct) =>
                {
                    var p = request.Params;
                    var arguments = p?.Arguments is { } a ? JsonSerializer.Serialize(a) : "{}";
                    var result = host.Call(p?.Name, arguments);
                    if (result.UnknownTool)
                    {
                        throw new McpProtocolException(ErrorMessage(result.Text), McpErrorCode.InvalidParams);
                    }

                    return new ValueTask<CallToolResult>(new CallToolResult
                    {
                        Content = new List<ContentBlock> { new TextContentBlock { Text = result.Text } },
                        IsError = result.IsError,
                    });
                },
            },
        };

        await using var transport = new StreamServerTransport(input, output, host.ServerName);
        await using var server = McpServer.Create(transport, options);
        try
        {
            await server.RunAsync(cancel).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            log.WriteLine("AgentGovernance MCP server stopped.");
        }
    }

    private static string ErrorMessage(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return doc.RootElement.TryGetProperty("message", out var m) ? m.GetString() ?? "Unknown tool." : "Unknown tool.";
    }
}
