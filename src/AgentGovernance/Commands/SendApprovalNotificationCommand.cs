using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using AgentGovernance.Approval;
using AgentGovernance.Notifications;
using AgentGovernance.Policy;
using AgentGovernance.Providers.Graph;

namespace AgentGovernance.Commands;

/// <summary>
/// What a scheduler runs every few minutes: for each approval request, sends what is due and was not
/// sent yet (the announcement, quorum progress, the reminder before expiry, the outcome) through the
/// policy's channels, and records every send in the ledger.
/// </summary>
[Cmdlet(VerbsCommunications.Send, "ApprovalNotification", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(NotificationResult))]
public sealed class SendApprovalNotificationCommand : GovernanceCmdlet
{
    /// <summary>Only these requests (exact ids); every request in the store when left out.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(RequestIdCompleter))]
    public string[]? RequestId { get; set; }

    /// <summary>The policy whose Notifications section names the channels; the session's when left out.</summary>
    [Parameter]
    public GovernancePolicy? Policy { get; set; }

    protected override void ProcessRecord()
    {
        var policy = CurrentPolicy(Policy);
        if (!policy.Notifications.Any)
        {
            ThrowGovernanceError(NoChannel(policy));
        }

        try
        {
            using var approvals = OpenApprovals(policy);
            using var notifier = new Notifier(policy.Notifications, approvals.Ledger, Session.Provider as IGraphMailer);
            var requests = RequestId is null ? approvals.List((id, e) => WriteGovernanceError(e, id)) : RequestId.Select(id => Get(approvals, id)).Where(r => r is not null).Select(r => r!);
            var sent = Notifier.SentKeys(approvals.Ledger.Read());
            var now = GovernanceClock.UtcNow;
            foreach (var request in requests.ToList())
            {
                var keys = sent.TryGetValue(request.RequestId, out var k) ? k : new HashSet<string>(StringComparer.Ordinal);
                var due = notifier.Due(request, keys, now);
                WriteVerbose($"{request.RequestId} is {request.Status} ({request.Quorum}): {(due.Count == 0 ? "nothing due" : string.Join(", ", due.Select(d => d.Key)))}.");
                foreach (var content in due)
                {
                    if (!ShouldProcess($"{request.RequestId} via {string.Join(" then ", policy.Notifications.Channels)}", $"Send the {content.Key} notification"))
                    {
                        continue;
                    }

                    Emit(this, notifier.Send(content));
                }
            }
        }
        catch (GovernanceException e)
        {
            WriteGovernanceError(e);
        }
    }

    internal static GovernanceException NoChannel(GovernancePolicy policy) => new("NotificationNoChannel", GovernanceErrorKind.InvalidOperation,
        $"The policy {policy.Source ?? "(built-in defaults)"} has no Notifications section, so there is nowhere to send to. Add Notifications = @{{ Teams = @{{ WebhookUrlFile = '...' }} }} (docs/policy.md).",
        policy.Source);

    /// <summary>Writes the results; a notification no channel could deliver is a NotificationFailed error (the request itself is untouched).</summary>
    internal static void Emit(GovernanceCmdlet cmdlet, IReadOnlyList<NotificationResult> results, bool asObjects = true)
    {
        foreach (var r in results)
        {
            cmdlet.WriteVerbose($"{r.Key} via {r.Channel} to {string.Join(", ", r.Recipients)}: {r.Status} after {r.Attempts} attempt(s){(r.Error is null ? string.Empty : " (" + r.Error + ")")}.");
            if (asObjects)
            {
                cmdlet.WriteObject(r);
            }
        }

        if (results.Count > 0 && !results[results.Count - 1].Sent)
        {
            var last = results[results.Count - 1];
            var why = string.Join("; ", results.Select(r => $"{r.Channel}: {r.Error}"));
            var e = new GovernanceException("NotificationFailed", GovernanceErrorKind.WriteError,
                $"The {last.Key} notification of {last.RequestId} could not be sent on any channel ({why}). The ledger records it; the next Send-ApprovalNotification tries again.", last.RequestId);
            if (asObjects)
            {
                cmdlet.WriteError(new ErrorRecord(e, e.ErrorId, ErrorCategory.ConnectionError, last.RequestId));
            }
            else
            {
                cmdlet.WriteWarning($"{e.ErrorId}: {e.Message}");
            }
        }
    }

    private ApprovalRequest? Get(ApprovalService approvals, string id)
    {
        try
        {
            return approvals.Get(id);
        }
        catch (GovernanceException e)
        {
            WriteGovernanceError(e, id);
            return null;
        }
    }
}
