using AgentGovernance.Approval;
using AgentGovernance.Notifications;
using AgentGovernance.Providers.Graph;

namespace AgentGovernance.Commands;

public sealed partial class RequestHumanApprovalCommand
{
    /// <summary>Sends the Requested notification. Failures are warnings and ledger entries: the request stands, and Send-ApprovalNotification tries again.</summary>
    private void NotifyOpened(ApprovalService approvals, ApprovalRequest request)
    {
        try
        {
            using var notifier = new Notifier(approvals.Policy.Notifications, approvals.Ledger, Session.Provider as IGraphMailer);
            var results = notifier.Send(NotificationContent.Describe(request, NotificationKind.Requested));
            SendApprovalNotificationCommand.Emit(this, results, asObjects: false);
        }
        catch (GovernanceException e)
        {
            // The ledger could not record the send (busy, tampered): the request is open all the same.
            WriteWarning($"NotificationFailed: {request.RequestId} is open, but its notification could not be sent or recorded ({e.ErrorId}: {e.Message}).");
        }
    }
}
