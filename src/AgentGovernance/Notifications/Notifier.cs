using System;
using System.Collections.Generic;
using System.Linq;
using AgentGovernance.Approval;
using AgentGovernance.Json;
using AgentGovernance.Ledger;
using AgentGovernance.Providers.Graph;

namespace AgentGovernance.Notifications;

/// <summary>What happened to one notification on one channel: what Send-ApprovalNotification writes, and what the ledger records.</summary>
public sealed class NotificationResult
{
    internal NotificationResult(string requestId, NotificationKind kind, string key, NotificationChannel channel, IReadOnlyList<string> recipients,
        string contentHash, string status, int attempts, string? error, NotificationChannel? fallbackFrom)
    {
        RequestId = requestId;
        Kind = kind;
        Key = key;
        Channel = channel;
        Recipients = recipients;
        ContentHash = contentHash;
        Status = status;
        Attempts = attempts;
        Error = error;
        FallbackFrom = fallbackFrom;
    }

    public string RequestId { get; }

    public NotificationKind Kind { get; }

    /// <summary>Requested, Progress:1, Reminder, Outcome:Approved: each is sent once per request.</summary>
    public string Key { get; }

    public NotificationChannel Channel { get; }

    /// <summary>Mail addresses, or the Teams channel as "teams https://host/… (sha256:…)" (never the whole webhook URL).</summary>
    public IReadOnlyList<string> Recipients { get; }

    /// <summary><c>sha256:</c> of the canonical JSON sent.</summary>
    public string ContentHash { get; }

    /// <summary>Sent, or Failed.</summary>
    public string Status { get; }

    public int Attempts { get; }

    public string? Error { get; }

    /// <summary>The channel that failed before this one was tried; null for the first channel.</summary>
    public NotificationChannel? FallbackFrom { get; }

    public bool Sent => Status == Notifier.Sent;

    public override string ToString() => $"{RequestId} {Key} {Channel} {Status}";
}

/// <summary>
/// Sends notifications about approval requests through the policy's channels: the primary first, the other
/// when it fails. Every try is in the ledger. Never throws for a failed delivery: notifications never block a request.
/// </summary>
internal sealed class Notifier : IDisposable
{
    public const string Sent = "Sent";
    public const string Failed = "Failed";

    private readonly NotificationSettings _settings;
    private readonly AuditLedger _ledger;
    private readonly HttpDelivery _http;
    private readonly IGraphMailer? _mailer;

    public Notifier(NotificationSettings settings, AuditLedger ledger, IGraphMailer? mailer, HttpDelivery? http = null)
    {
        _settings = settings;
        _ledger = ledger;
        _mailer = mailer;
        _http = http ?? Deliveries();
    }

    /// <summary>Makes the HTTP delivery of a notifier (tests shorten its backoff; one process-wide factory, like the clock).</summary>
    internal static Func<HttpDelivery> Deliveries { get; set; } = () => new HttpDelivery();

    public void Dispose() => _http.Dispose();

    /// <summary>Who hears about a notification of this kind: approvers who have not decided yet while it is open, and the requester when there is news.</summary>
    public static IReadOnlyList<string> Audience(ApprovalRequest request, NotificationKind kind)
    {
        var decided = new HashSet<string>(request.Decisions.Where(d => d.Valid).Select(d => d.Approver), StringComparer.OrdinalIgnoreCase);
        var who = new List<string>();
        if (kind == NotificationKind.Progress || kind == NotificationKind.Outcome)
        {
            who.Add(request.RequestedBy);
        }

        who.AddRange(kind == NotificationKind.Outcome || kind == NotificationKind.Progress
            ? request.EligibleApprovers
            : request.EligibleApprovers.Where(a => !decided.Contains(a)));
        return who.Distinct(StringComparer.OrdinalIgnoreCase).ToList();
    }

    /// <summary>The notifications a request is due now, given what the ledger says was already sent.</summary>
    public IReadOnlyList<NotificationContent> Due(ApprovalRequest request, ISet<string> sentKeys, DateTimeOffset now)
    {
        var due = new List<NotificationContent>();
        void Add(NotificationKind kind)
        {
            var content = NotificationContent.Describe(request, kind);
            if (!sentKeys.Contains(content.Key))
            {
                due.Add(content);
            }
        }

        switch (request.Status)
        {
            case ApprovalStatus.Pending:
                Add(NotificationKind.Requested);
                if (request.Decisions.Any(d => d.Valid))
                {
                    var lastProgress = sentKeys.Where(k => k.StartsWith("Progress:", StringComparison.Ordinal))
                        .Select(k => int.TryParse(k.Substring(9), out var n) ? n : 0).DefaultIfEmpty(-1).Max();
                    if (request.Approvals > lastProgress)
                    {
                        Add(NotificationKind.Progress);
                    }
                }

                if (now >= request.ExpiresAt - _settings.ReminderBeforeTimeSpan && now < request.ExpiresAt)
                {
                    Add(NotificationKind.Reminder);
                }

                break;
            case ApprovalStatus.Approved:
            case ApprovalStatus.Denied:
            case ApprovalStatus.Expired:
            case ApprovalStatus.Applied:
            case ApprovalStatus.Undone:
                Add(NotificationKind.Outcome);
                break;
        }

        return due;
    }

    /// <summary>The keys of the notifications the ledger records as sent, per request id.</summary>
    public static Dictionary<string, HashSet<string>> SentKeys(IEnumerable<LedgerEntry> entries)
    {
        var sent = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var e in entries)
        {
            if (e.Event == LedgerEvents.NotificationSent && e.RequestId is { } id && e.Details["status"] as string == Sent && e.Details["key"] is string key)
            {
                if (!sent.TryGetValue(id, out var keys))
                {
                    sent[id] = keys = new HashSet<string>(StringComparer.Ordinal);
                }

                keys.Add(key);
            }
        }

        return sent;
    }

    /// <summary>Sends one notification: the primary channel, then the other if it fails. One result (and ledger entry) per channel tried.</summary>
    public IReadOnlyList<NotificationResult> Send(NotificationContent content)
    {
        var results = new List<NotificationResult>();
        var audience = Audience(content.Request, content.Kind);
        NotificationChannel? failed = null;
        foreach (var channel in _settings.Channels)
        {
            var result = channel == NotificationChannel.Teams ? SendTeams(content, failed) : SendMail(content, audience, failed);
            results.Add(result);
            Record(content, result);
            if (result.Sent)
            {
                break;
            }

            failed = channel;
        }

        return results;
    }

    private NotificationResult SendTeams(NotificationContent content, NotificationChannel? fallbackFrom)
    {
        var payload = NotificationRenderer.TeamsMessage(content, _settings.DocsUrl);
        var json = CanonicalJson.Serialize(payload);
        var hash = CanonicalJson.Hash(payload);
        Uri url;
        try
        {
            url = _settings.Teams!.Read();
        }
        catch (GovernanceException e)
        {
            return Result(content, NotificationChannel.Teams, new[] { "teams (" + _settings.Teams + ")" }, hash, new DeliveryOutcome(false, 0, null, $"{e.ErrorId}: {e.Message}"), fallbackFrom);
        }

        var outcome = _http.Post(url, json, authorization: null);
        return Result(content, NotificationChannel.Teams, new[] { "teams " + WebhookSecret.Redact(url) }, hash, outcome, fallbackFrom);
    }

    private NotificationResult SendMail(NotificationContent content, IReadOnlyList<string> audience, NotificationChannel? fallbackFrom)
    {
        var to = audience.Select(Address).Where(a => a is not null).Select(a => a!).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        var payload = NotificationRenderer.Mail(content, to, _settings.DocsUrl);
        var hash = CanonicalJson.Hash(payload);
        if (to.Count == 0)
        {
            return Result(content, NotificationChannel.Mail, to, hash, new DeliveryOutcome(false, 0, null,
                "NotificationNoRecipient: none of " + string.Join(", ", audience.Select(NotificationText.Plain)) + " is a mail address; map them in Notifications.Mail.Addresses."), fallbackFrom);
        }

        if (_mailer is null)
        {
            return Result(content, NotificationChannel.Mail, to, hash, new DeliveryOutcome(false, 0, null,
                "NotificationNoGraphConnection: mail goes through Microsoft Graph sendMail; connect first (Connect-AgentGovernance -TenantId ...)."), fallbackFrom);
        }

        var url = new Uri(_mailer.Endpoint.ToString().TrimEnd('/') + "/users/" + Uri.EscapeDataString(_settings.Mailbox!) + "/sendMail");
        string? authorization;
        try
        {
            authorization = _mailer.Authorization(url);
        }
        catch (Exception e) when (e is GovernanceException || e is InvalidOperationException || e is System.Net.Http.HttpRequestException)
        {
            return Result(content, NotificationChannel.Mail, to, hash, new DeliveryOutcome(false, 0, null, "NotificationNoGraphConnection: cannot get a token for Graph: " + NotificationText.Plain(e.Message)), fallbackFrom);
        }

        var outcome = _http.Post(url, CanonicalJson.Serialize(payload), authorization);
        return Result(content, NotificationChannel.Mail, to, hash, outcome, fallbackFrom);
    }

    private string? Address(string identity)
    {
        if (_settings.Addresses.TryGetValue(identity, out var mapped))
        {
            return mapped;
        }

        var at = identity.IndexOf('@');
        return at > 0 && at < identity.Length - 1 && IdentityText.Visible(identity) == identity && identity.IndexOfAny(new[] { ' ', '<', '>', ',', ';', '"' }) < 0 ? identity : null;
    }

    private static NotificationResult Result(NotificationContent content, NotificationChannel channel, IReadOnlyList<string> recipients, string hash, DeliveryOutcome outcome, NotificationChannel? fallbackFrom) =>
        new(content.Request.RequestId, content.Kind, content.Key, channel, recipients, hash, outcome.Ok ? Sent : Failed, outcome.Attempts, outcome.Error, fallbackFrom);

    private void Record(NotificationContent content, NotificationResult r)
    {
        var details = new Dictionary<string, object?>
        {
            ["summary"] = $"{r.Key} notification {(r.Sent ? "sent" : "failed")} via {r.Channel}" + (r.FallbackFrom is { } f ? $" (after {f} failed)" : string.Empty),
            ["key"] = r.Key,
            ["kind"] = r.Kind.ToString(),
            ["channel"] = r.Channel.ToString(),
            ["recipients"] = r.Recipients.Select(x => (object?)x).ToList(),
            ["contentHash"] = r.ContentHash,
            ["status"] = r.Status,
            ["attempts"] = r.Attempts,
        };
        if (r.Error is not null)
        {
            details["error"] = r.Error;
        }

        if (r.FallbackFrom is { } from)
        {
            details["fallbackFrom"] = from.ToString();
        }

        _ledger.Append(new LedgerEvent(LedgerEvents.NotificationSent, Identities.CurrentUser, content.Request.ChangeId, content.Request.RequestId, details));
    }
}
