using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using AgentGovernance.Approval;
using AgentGovernance.Exposure;

namespace AgentGovernance.Notifications;

/// <summary>What a notification is about. The stable names are what the ledger records as <c>kind</c>.</summary>
[Newtonsoft.Json.JsonConverter(typeof(Newtonsoft.Json.Converters.StringEnumConverter))]
public enum NotificationKind
{
    /// <summary>A request was opened: to the approvers.</summary>
    Requested,

    /// <summary>A decision arrived and the quorum moved: to the approvers and the requester.</summary>
    Progress,

    /// <summary>The request expires soon and is still pending: to the approvers.</summary>
    Reminder,

    /// <summary>The request was approved, denied, expired, applied or undone: to the requester and the approvers.</summary>
    Outcome,
}

/// <summary>
/// One notification as data, before it is a card or a mail: every piece of text from the directory or a
/// document is kept apart (<see cref="Untrusted"/>), so each renderer escapes it for its target.
/// </summary>
internal sealed class NotificationContent
{
    private NotificationContent(ApprovalRequest request, NotificationKind kind, string headline, string key)
    {
        Request = request;
        Kind = kind;
        Headline = headline;
        Key = key;
    }

    public ApprovalRequest Request { get; }

    public NotificationKind Kind { get; }

    /// <summary>Our own words: "Approval requested: High risk, 0/2 approvals".</summary>
    public string Headline { get; }

    /// <summary>What makes this notification one of a kind for its request (Requested, Progress:1, Reminder, Outcome:Approved): sent once.</summary>
    public string Key { get; }

    /// <summary>Generated facts only (enums, counts, ids, times): safe as they are.</summary>
    public List<(string Title, string Value)> Facts { get; } = new();

    /// <summary>Labelled lines of directory or document text; the renderers escape the value.</summary>
    public List<(string Label, string Value)> Untrusted { get; } = new();

    /// <summary>The exact command that approves (the signed decision is the approval; nothing in the notification is).</summary>
    public string ApproveCommand => $"Approve-AccessChange -RequestId {Request.RequestId} -KeyPath <your key file> -Passphrase (Read-Host -AsSecureString)";

    public string DenyCommand => $"Deny-AccessChange -RequestId {Request.RequestId} -KeyPath <your key file> -Passphrase (Read-Host -AsSecureString) -Comment '<why>'";

    /// <summary>The first 16 hex digits of the report hash in groups of four: what an approver compares with Get-ApprovalRequest.</summary>
    public static string Fingerprint(string reportHash)
    {
        var hex = reportHash.StartsWith("sha256:", StringComparison.Ordinal) ? reportHash.Substring(7) : reportHash;
        hex = hex.Length > 16 ? hex.Substring(0, 16) : hex;
        return string.Join(" ", Enumerable.Range(0, (hex.Length + 3) / 4).Select(i => hex.Substring(i * 4, Math.Min(4, hex.Length - i * 4))));
    }

    /// <summary>The notification of <paramref name="kind"/> for the request as it stands now.</summary>
    public static NotificationContent Describe(ApprovalRequest request, NotificationKind kind)
    {
        var risk = request.RiskLevel;
        var (headline, key) = kind switch
        {
            NotificationKind.Requested => ($"{(request.BreakGlass ? "BREAK-GLASS approval" : "Approval")} requested: {risk} risk, {request.Quorum} approvals", "Requested"),
            NotificationKind.Progress => ($"Decision recorded: {request.Quorum} approvals, {request.DeniedBy.Count} denial(s), still {request.Status}", $"Progress:{request.Approvals}"),
            NotificationKind.Reminder => ($"Reminder: request expires at {GovernanceClock.Format(request.ExpiresAt)} with {request.Quorum} approvals", "Reminder"),
            _ => ($"Request {request.Status}: {request.Quorum} approvals", $"Outcome:{request.Status}"),
        };

        var content = new NotificationContent(request, kind, headline, key);
        var e = request.Exposure;
        content.Untrusted.Add(("Change", Sentence(request)));
        content.Untrusted.Add(("Requested by", request.RequestedBy));
        if (request.BreakGlassReason is { } reason)
        {
            content.Untrusted.Add(("Break-glass reason", reason));
        }

        if (kind == NotificationKind.Requested || kind == NotificationKind.Reminder)
        {
            content.Untrusted.Add(("Approvers", string.Join(", ", request.EligibleApprovers)));
        }

        foreach (var d in request.Decisions.Where(d => d.Valid))
        {
            content.Untrusted.Add((d.Kind == Approval.DecisionKind.Approve ? "Approved by" : "Denied by", d.Approver + (d.Comment is { } c ? ": " + c : string.Empty)));
        }

        foreach (var f in e.Findings.OrderByDescending(f => f.Severity).ThenBy(f => f.RuleId, StringComparer.Ordinal).Take(3))
        {
            content.Untrusted.Add(($"{f.RuleId} {f.Severity}{(f.HardDeny ? " (blocks)" : string.Empty)}", f.Message));
        }

        // What the preview could see: Complete, or Partial with what it could not (Unknown: a request
        // opened before coverage was recorded).
        content.Untrusted.Add(("Coverage", e.Coverage + (e.CoverageReasons.Count > 0 ? ": " + string.Join("; ", e.CoverageReasons.Take(3)) : string.Empty)));
        foreach (var note in e.Notes.Take(2))
        {
            content.Untrusted.Add(("Note", note));
        }

        content.Facts.Add(("Request", request.RequestId));
        content.Facts.Add(("Status", request.Status.ToString()));
        content.Facts.Add(("Risk", risk + (e.Blocked ? " (policy blocks it: break-glass)" : string.Empty)));
        content.Facts.Add(("Approvals", $"{request.Quorum} required"));
        content.Facts.Add(("Gain access", FormattableString.Invariant(
            $"{e.PrincipalsGained} principal(s): {e.GainedMembers} member(s), {e.GainedGuests} guest(s), {e.GainedServicePrincipals} service principal(s), {e.GainedAgents} agent(s){(e.GainedAnonymous ? ", ANONYMOUS links" : string.Empty)}")));
        content.Facts.Add(("Lose access", e.PrincipalsLost.ToString(CultureInfo.InvariantCulture)));
        content.Facts.Add(("Findings", string.Join(", ", e.Findings.GroupBy(f => f.Severity).OrderByDescending(g => g.Key).Select(g => $"{g.Count()} {g.Key}")) is { Length: > 0 } s ? s : "none"));
        content.Facts.Add(("Report fingerprint", Fingerprint(request.ReportHash)));
        content.Facts.Add(("Expires", GovernanceClock.Format(request.ExpiresAt)));
        return content;
    }

    /// <summary>The change in a sentence: its title, or its first operations.</summary>
    private static string Sentence(ApprovalRequest request)
    {
        var ops = request.Change.Operations;
        var what = string.Join("; ", ops.Take(3)) + (ops.Count > 3 ? $"; and {ops.Count - 3} more operation(s)" : string.Empty);
        return request.Title is { } title ? $"{title} ({what})" : what;
    }
}
