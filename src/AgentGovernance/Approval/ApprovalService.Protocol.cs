using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Text;
using System.Threading;
using AgentGovernance.Exposure;
using AgentGovernance.Policy;

namespace AgentGovernance.Approval;

/// <summary>
/// A decision about to be signed: the request as stored, who signs it, what they are shown and warned
/// about; or why it may not be made (then already recorded in the ledger).
/// </summary>
internal sealed class DecisionPreview
{
    internal DecisionPreview(ApprovalRequest request, DecisionKind kind, string keyId, PolicyApprover? approver, GovernanceException? refusal,
        IReadOnlyList<string> prompt, IReadOnlyList<string> warnings)
    {
        Request = request;
        Kind = kind;
        KeyId = keyId;
        Approver = approver;
        Refusal = refusal;
        Prompt = prompt;
        Warnings = warnings;
    }

    public ApprovalRequest Request { get; }

    public DecisionKind Kind { get; }

    public string KeyId { get; }

    /// <summary>The policy's approver the key belongs to (null when the policy lists no such key: then <see cref="Refusal"/> says so).</summary>
    public PolicyApprover? Approver { get; }

    /// <summary>Why the decision may not be made (recorded as ApprovalRefused), or null.</summary>
    public GovernanceException? Refusal { get; }

    /// <summary>The stored request as the approver reads it before signing, one neutral line each (what you see is what you sign).</summary>
    public IReadOnlyList<string> Prompt { get; }

    /// <summary>What the approver should know before signing (e.g. the quorum is met already).</summary>
    public IReadOnlyList<string> Warnings { get; }
}

/// <summary>How a wait for a decision ended.</summary>
internal enum WaitEnd
{
    /// <summary>The request is no longer pending (approved, denied, expired, invalid, applied).</summary>
    Decided,

    /// <summary>The wait's time (its timeout, or the request's expiry) ran out while it was still pending.</summary>
    TimedOut,

    /// <summary>The caller cancelled the wait (Ctrl+C).</summary>
    Cancelled,
}

/// <summary>One look at a request while waiting for its decision.</summary>
internal readonly struct WaitProgress
{
    public WaitProgress(ApprovalRequest request, DateTimeOffset deadline, TimeSpan remaining)
    {
        Request = request;
        Deadline = deadline;
        Remaining = remaining;
    }

    public ApprovalRequest Request { get; }

    public DateTimeOffset Deadline { get; }

    public TimeSpan Remaining { get; }
}

/// <summary>What a wait for a decision found.</summary>
internal sealed class WaitResult
{
    internal WaitResult(ApprovalRequest request, WaitEnd end, TimeSpan elapsed, int polls)
    {
        Request = request;
        End = end;
        Elapsed = elapsed;
        Polls = polls;
    }

    /// <summary>The request as last read.</summary>
    public ApprovalRequest Request { get; }

    public WaitEnd End { get; }

    /// <summary>How long the wait took (wall-clock time).</summary>
    public TimeSpan Elapsed { get; }

    /// <summary>How often the store was read again.</summary>
    public int Polls { get; }
}

/// <summary>The decision protocol (preview, refusal, signing) and the wait for a decision.</summary>
internal sealed partial class ApprovalService
{
    /// <summary>The shortest time between two looks at the store while waiting.</summary>
    internal static readonly TimeSpan MinimumPollInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>How far past its deadline a wait takes its last look (the clock counts in milliseconds).</summary>
    private static readonly TimeSpan JustPast = TimeSpan.FromMilliseconds(1);

    /// <summary>
    /// Waits <c>interval</c> unless cancelled first; true when cancelled. Tests replace it to move the
    /// module's clock instead of sleeping.
    /// </summary>
    internal Func<TimeSpan, CancellationToken, bool> Sleep { get; set; } = (interval, token) => token.WaitHandle.WaitOne(interval);

    /// <summary>
    /// Checks whether the holder of <paramref name="keyId"/> may decide <paramref name="request"/> as it
    /// stands, and renders it for them. A refusal is recorded in the ledger (with the request's expiry when
    /// that is why) and returned, not thrown: the caller reports it about the request.
    /// </summary>
    public DecisionPreview PreviewDecision(ApprovalRequest request, string keyId, DecisionKind kind)
    {
        var approver = _policy.FindApproverByKey(keyId);
        var refusal = CheckDecision(request, approver, keyId, kind);
        if (refusal is not null)
        {
            if (refusal.ErrorId == "ApprovalExpired")
            {
                RecordExpired(request);
            }

            RecordRefusal(request.RequestId, request.ChangeId, approver?.Id ?? keyId, kind, refusal);
            return new DecisionPreview(request, kind, keyId, approver, refusal, Array.Empty<string>(), Array.Empty<string>());
        }

        var warnings = new List<string>();
        if (request.Status == ApprovalStatus.Approved && kind == DecisionKind.Approve)
        {
            warnings.Add($"{request.RequestId} already has its quorum ({request.Quorum}); your approval is recorded as well.");
        }

        var prompt = Render(request, approver!.Id).Split(new[] { Environment.NewLine }, StringSplitOptions.None);
        return new DecisionPreview(request, kind, keyId, approver, null, prompt, warnings);
    }

    /// <summary>
    /// Signs and records the decision previewed (the request is checked again under its locks, see
    /// <see cref="Decide(string, SigningKey, DecisionKind, string?)"/>). A refused preview, or another key
    /// than the one previewed, is refused again.
    /// </summary>
    public ApprovalRequest Decide(DecisionPreview preview, SigningKey key, string? comment)
    {
        if (preview.Refusal is { } refusal)
        {
            throw refusal;
        }

        if (!string.Equals(preview.KeyId, key.PublicKey.KeyId, StringComparison.Ordinal))
        {
            throw new GovernanceException("ApproverNotEligible", GovernanceErrorKind.PermissionDenied,
                $"The decision on {preview.Request.RequestId} was shown for key {preview.KeyId}, not for {key.PublicKey.KeyId}: preview it again with the key that signs.", preview.Request.RequestId);
        }

        return Decide(preview.Request.RequestId, key, preview.Kind, comment);
    }

    /// <summary>
    /// Polls the store until <paramref name="request"/> is no longer pending, <paramref name="timeout"/> passes
    /// (never beyond the request's expiry; until the expiry when null), or <paramref name="cancellation"/>
    /// is cancelled. <paramref name="progress"/> hears of each look before the wait that follows it. A request
    /// found expired is recorded as such (once).
    /// </summary>
    public WaitResult WaitForDecision(ApprovalRequest request, TimeSpan? timeout, TimeSpan pollInterval, Action<WaitProgress>? progress, CancellationToken cancellation)
    {
        if (pollInterval < MinimumPollInterval)
        {
            throw new GovernanceException("PollIntervalTooShort", GovernanceErrorKind.InvalidArgument, $"-PollInterval must be at least {MinimumPollInterval.TotalMilliseconds:0} ms.", pollInterval);
        }

        var deadline = timeout is { } t ? GovernanceClock.UtcNow + t : request.ExpiresAt;
        if (deadline > request.ExpiresAt)
        {
            deadline = request.ExpiresAt;
        }

        var watch = Stopwatch.StartNew();
        var polls = 0;
        var cancelled = cancellation.IsCancellationRequested;
        while (!cancelled && request.Status == ApprovalStatus.Pending && GovernanceClock.UtcNow < deadline)
        {
            var remaining = deadline - GovernanceClock.UtcNow;
            progress?.Invoke(new WaitProgress(request, deadline, remaining));
            // Not much past the deadline: a -Timeout of 2 s with a poll of 5 s ends after 2 s. The last look
            // comes just after the deadline, so a request whose expiry it is reads as Expired, not Pending.
            var untilPast = remaining + JustPast;
            if (Sleep(untilPast < pollInterval ? untilPast : pollInterval, cancellation))
            {
                cancelled = true;
                break;
            }

            request = Get(request.RequestId);
            polls++;
        }

        if (request.Status == ApprovalStatus.Expired)
        {
            RecordExpired(request);
        }

        var end = cancelled ? WaitEnd.Cancelled : request.Status == ApprovalStatus.Pending ? WaitEnd.TimedOut : WaitEnd.Decided;
        return new WaitResult(request, end, watch.Elapsed, polls);
    }

    /// <summary>
    /// The report a request is opened with: the current policy decides how many approvals it needs and
    /// whether it is blocked, even for a report made under another (assessed again when they differ).
    /// </summary>
    internal static ExposureReport Strictest(ExposureReport report, GovernancePolicy policy)
    {
        var blocked = report.Findings.Any(f => f.RuleId != ExposureReport.CoverageRuleId && policy.HardDenyAt(f.RuleId) is { } at && f.Severity >= at);
        var required = Math.Max(report.RequiredApprovals, policy.RequiredApprovals(report.RiskLevel));
        return blocked == report.Blocked && required == report.RequiredApprovals ? report : ExposureEngine.Assess(report.Snapshot, report.Change, policy, report.AssessedAt);
    }

    /// <summary>The stored request as a person reads it before signing.</summary>
    internal static string Render(ApprovalRequest request, string approver)
    {
        // Every line is made of document and directory text: each is shown with its controls, newlines,
        // ESC sequences and bidi overrides visible, so no field can fake or hide a line of this prompt.
        var change = request.Change;
        var lines = new List<string>
        {
            $"Request {request.RequestId}{(request.BreakGlass ? " (BREAK-GLASS: " + request.BreakGlassReason + ")" : string.Empty)}: {change.Title ?? "(no title)"}",
        };
        if (change.Justification is not null)
        {
            lines.Add($"Why: {change.Justification}");
        }

        lines.Add($"Suggested by {change.SuggestedBy?.ToString() ?? "nobody named"}{(change.SuggestedBy?.Source is { } src ? " at " + src : string.Empty)}; requested by {request.RequestedBy}; " +
                  (change.Duration is null ? "permanent." : $"for {change.Duration}."));
        foreach (var op in change.Operations)
        {
            lines.Add("  - " + op);
        }

        var sb = new StringBuilder();
        sb.AppendLine(Display.SafeText.Lines(lines));
        sb.AppendLine(request.Exposure.Render());
        sb.AppendLine($"Change {request.ChangeId}; report {request.ReportHash}.");
        sb.Append(Display.SafeText.Show($"Approvals {request.Quorum} ({string.Join(", ", request.ApprovedBy.DefaultIfEmpty("none yet"))}); expires {GovernanceClock.Format(request.ExpiresAt)}; you sign as {approver}."));
        return sb.ToString();
    }
}
