using System;
using System.Linq;
using System.Management.Automation;
using System.Threading;
using AgentGovernance.Approval;
using AgentGovernance.Changes;
using AgentGovernance.Directory;
using AgentGovernance.Exposure;
using AgentGovernance.Policy;

namespace AgentGovernance.Commands;

/// <summary>
/// Opens an approval request for a change: bound to its id and to the hash of the exposure report the
/// approvers will see. Never prompts; with -Wait it polls until the request is decided or time runs out.
/// </summary>
[Cmdlet(VerbsLifecycle.Request, "HumanApproval", DefaultParameterSetName = ChangeSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(ApprovalRequest))]
public sealed partial class RequestHumanApprovalCommand : GovernanceCmdlet
{
    private const string ChangeSet = "Change";
    private const string ReportSet = "Report";
    private readonly CancellationTokenSource _stopping = new();

    [Parameter(ParameterSetName = ChangeSet, Mandatory = true, Position = 0, ValueFromPipeline = true)]
    public AccessChange Change { get; set; } = null!;

    /// <summary>A report from Test-ExposureRisk: its change is requested as assessed there.</summary>
    [Parameter(ParameterSetName = ReportSet, Mandatory = true, Position = 0, ValueFromPipeline = true)]
    public ExposureReport Report { get; set; } = null!;

    /// <summary>The directory to assess the change on; the session's when left out.</summary>
    [Parameter(ParameterSetName = ChangeSet)]
    public AccessSnapshot? Snapshot { get; set; }

    [Parameter]
    public GovernancePolicy? Policy { get; set; }

    /// <summary>Who asks for the change, when the change does not say (it is then also who may not approve it).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? RequestedBy { get; set; }

    /// <summary>How long the request stays open; the policy's ApprovalExpiry when left out, and never longer.</summary>
    [Parameter]
    [DurationTransformation]
    public TimeSpan? ExpiresIn { get; set; }

    /// <summary>Takes the break-glass path for a change policy blocks: more approvals, break-glass approvers only, loud in the ledger.</summary>
    [Parameter]
    public SwitchParameter BreakGlass { get; set; }

    /// <summary>Why breaking the glass is needed (required with -BreakGlass).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Reason { get; set; }

    /// <summary>Waits (polling the store) until the request is approved, denied or expired, or -Timeout passes.</summary>
    [Parameter]
    public SwitchParameter Wait { get; set; }

    /// <summary>How long -Wait waits at most; until the request expires when left out.</summary>
    [Parameter]
    [DurationTransformation]
    public TimeSpan? Timeout { get; set; }

    /// <summary>How often -Wait looks at the store (default 5 seconds; at least 100 ms).</summary>
    [Parameter]
    [DurationTransformation]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Tells the approvers through the policy's Notifications channels once the request is open (a failed send never fails the request).</summary>
    [Parameter]
    public SwitchParameter Notify { get; set; }

    protected override void ProcessRecord()
    {
        if (PollInterval < ApprovalService.MinimumPollInterval)
        {
            ThrowGovernanceError(new GovernanceException("PollIntervalTooShort", GovernanceErrorKind.InvalidArgument, "-PollInterval must be at least 100 ms."));
        }

        if (BreakGlass.IsPresent != (Reason is not null))
        {
            WriteGovernanceError(new GovernanceException(BreakGlass ? "BreakGlassReasonRequired" : "ReasonWithoutBreakGlass", GovernanceErrorKind.InvalidArgument,
                BreakGlass ? "-BreakGlass needs -Reason: say what is on fire and who asked." : "-Reason goes with -BreakGlass."));
            return;
        }

        var policy = CurrentPolicy(Policy);
        if (Notify && !policy.Notifications.Any)
        {
            WriteGovernanceError(SendApprovalNotificationCommand.NoChannel(policy));
            return;
        }

        ExposureReport report;
        try
        {
            report = ParameterSetName == ReportSet ? Report : ExposureEngine.Assess(RequireState(Snapshot, Change, policy), Change, policy);
        }
        catch (GovernanceException e)
        {
            WriteGovernanceError(e, Change);
            return;
        }

        report = ApprovalService.Strictest(report, policy);
        var change = report.Change;
        if (!ShouldProcess($"{change.Title ?? change.Id} ({report.RiskLevel}, {report.RequiredApprovals} approval(s))", "Open an approval request"))
        {
            return;
        }

        try
        {
            using var governance = OpenGovernance(policy, report.Snapshot);
            var approvals = governance.Approvals;
            var request = approvals.Open(report, new OpenRequestOptions
            {
                RequestedBy = RequestedBy,
                ExpiresIn = ExpiresIn,
                BreakGlassReason = BreakGlass ? Reason : null,
                DirectoryKind = Snapshot is null && Session.Provider is { } live ? live.Kind : "snapshot",
                DirectoryLocation = Snapshot is null && Session.Provider is { } where ? where.Location : report.Snapshot.Source,
            });
            WriteVerbose($"Opened {request.RequestId} for {request.ChangeId}: {request.RequiredApprovals} approval(s) from {string.Join(", ", request.EligibleApprovers)} by {GovernanceClock.Format(request.ExpiresAt)}.");
            if (request.BreakGlass)
            {
                WriteWarning($"BREAK-GLASS request {request.RequestId}: it needs {request.RequiredApprovals} approvals from break-glass approvers, and the ledger marks it.");
            }

            if (Notify)
            {
                NotifyOpened(approvals, request);
            }

            WriteObject(Wait ? WaitForDecision(approvals, request) : request);
        }
        catch (GovernanceException e)
        {
            WriteGovernanceError(e, change);
        }
    }

    protected override void StopProcessing() => _stopping.Cancel();

    /// <summary>Waits for the decision (ApprovalService.WaitForDecision), telling its progress; Ctrl+C stops the wait.</summary>
    private ApprovalRequest WaitForDecision(ApprovalService approvals, ApprovalRequest request)
    {
        var progress = new ProgressRecord(1, $"Waiting for approval of {request.RequestId}", "Pending");
        WaitResult waited;
        try
        {
            waited = approvals.WaitForDecision(request, Timeout, PollInterval, look =>
            {
                progress.StatusDescription = $"{look.Request.Quorum} approval(s); waiting until {GovernanceClock.Format(look.Deadline)}";
                progress.SecondsRemaining = (int)look.Remaining.TotalSeconds;
                WriteProgress(progress);
            }, _stopping.Token);
        }
        finally
        {
            progress.RecordType = ProgressRecordType.Completed;
            WriteProgress(progress);
        }

        request = waited.Request;
        WriteVerbose($"{request.RequestId} is {request.Status} after {waited.Elapsed.TotalSeconds:0} s ({request.Quorum}).");
        if (waited.End != WaitEnd.Decided)
        {
            WriteError(new ErrorRecord(new TimeoutException($"Request {request.RequestId} is still pending ({request.Quorum} approvals) after waiting {waited.Elapsed.TotalSeconds:0} s."),
                "ApprovalTimeout", ErrorCategory.OperationTimeout, request));
        }

        return request;
    }
}
