using System;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Threading;
using AgentGovernance.Agents;
using AgentGovernance.Approval;
using AgentGovernance.Directory;
using AgentGovernance.Policy;

namespace AgentGovernance.Commands;

/// <summary>
/// Serves the Model Context Protocol over stdio so that an agent can preview, explain and propose access
/// changes, and read a request's status, and nothing else: no tool applies, approves, denies or changes
/// the policy. The agent's identity is this cmdlet's -AgentId, never something the agent sends.
/// </summary>
[Cmdlet(VerbsLifecycle.Start, "AgentGovernanceMcpServer")]
public sealed class StartAgentGovernanceMcpServerCommand : GovernanceCmdlet
{
    private CancellationTokenSource? _stopping;

    /// <summary>Who the agent on the other end is: the suggester (of type agent) of every change it proposes.</summary>
    [Parameter(Mandatory = true)]
    [ValidateNotNullOrEmpty]
    public string AgentId { get; set; } = string.Empty;

    /// <summary>The person requests are opened for (who may then not approve them); the user running the server when left out.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? RequestedBy { get; set; }

    /// <summary>The directory previews are made on; the session's snapshot when left out.</summary>
    [Parameter]
    public AccessSnapshot? Snapshot { get; set; }

    [Parameter]
    public GovernancePolicy? Policy { get; set; }

    protected override void EndProcessing()
    {
        AgentTools tools;
        IMcpServerPart part;
        try
        {
            IdentityText.RequireKey(AgentId, "agent");
            if (RequestedBy is not null)
            {
                IdentityText.RequireKey(RequestedBy, "requester");
            }

            var policy = CurrentPolicy(Policy);
            if (policy.Approvers.Any(a => IdentityText.Key(a.Id, out _) is { } k && k == IdentityText.Key(AgentId, out _)))
            {
                throw new GovernanceException("McpAgentIsApprover", GovernanceErrorKind.InvalidArgument,
                    $"The policy lists {IdentityText.Visible(AgentId)} as an approver; an agent can never approve, so the MCP server will not act as one. Give the agent its own identity.", AgentId);
            }

            if (Snapshot is null && Session.Provider is not null && Session.Snapshot is null)
            {
                throw new GovernanceException("McpNeedsSnapshot", GovernanceErrorKind.InvalidOperation,
                    "The MCP server previews on a snapshot: export one (Export-AccessSnapshot -FromGraph) and connect with -SnapshotPath, or pass -Snapshot.");
            }

            var snapshot = RequireSnapshot(Snapshot);
            tools = new AgentTools(new AgentToolsConfig(AgentId, RequestedBy, snapshot, policy, Session.StorePath, Session.LedgerSignerPath));
            part = McpLoader.Part(MyInvocation.MyCommand.Module?.ModuleBase);
        }
        catch (GovernanceException e)
        {
            ThrowGovernanceError(e, AgentId);
            return;
        }

        // stdout is the protocol channel: everything else that writes to the console goes to stderr while the server runs.
        _stopping = new CancellationTokenSource();
        var input = Console.OpenStandardInput();
        var output = Console.OpenStandardOutput();
        var previous = Console.Out;
        Console.SetOut(Console.Error);
        try
        {
            part.Run(tools, input, output, Console.Error, _stopping.Token);
        }
        finally
        {
            Console.SetOut(previous);
        }
    }

    protected override void StopProcessing() => _stopping?.Cancel();
}
