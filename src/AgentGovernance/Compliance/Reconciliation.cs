using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json;
using AgentGovernance.Ledger;

namespace AgentGovernance.Compliance;

/// <summary>How an access-changing event of Entra's audit log stands against the ledger.</summary>
[Newtonsoft.Json.JsonConverter(typeof(Newtonsoft.Json.Converters.StringEnumConverter))]
public enum ReconciliationClass
{
    /// <summary>A ledger apply (or revert) operation matches its target and time.</summary>
    Governed,

    /// <summary>No ledger operation matches: the change was made around the pipeline.</summary>
    AroundPipeline,

    /// <summary>Made by this module's own app identity, and no ledger operation matches: the strongest tamper signal.</summary>
    OwnIdentity,
}

/// <summary>One <c>directoryAudit</c> of Entra's audit log (Microsoft Graph <c>auditLogs/directoryAudits</c>), the fields the reconciliation reads.</summary>
public sealed class DirectoryAuditEvent
{
    internal DirectoryAuditEvent(string id, DateTimeOffset time, string activity, string? category, string? result, string? byUser, string? byApp,
        string? byAppName, IReadOnlyList<(string Id, string? Type, string? Name)> targets, IReadOnlyList<string> modified)
    {
        Id = id;
        Time = time;
        Activity = activity;
        Category = category;
        Result = result;
        InitiatedByUser = byUser;
        InitiatedByAppId = byApp;
        InitiatedByAppName = byAppName;
        Targets = targets.Select(t => t.Id).ToList();
        TargetNames = targets.Select(t => t.Name ?? t.Id).ToList();
        ModifiedProperties = modified;
    }

    public string Id { get; }

    /// <summary>activityDateTime (UTC).</summary>
    public DateTimeOffset Time { get; }

    /// <summary>activityDisplayName ("Add member to group").</summary>
    public string Activity { get; }

    public string? Category { get; }

    public string? Result { get; }

    /// <summary>initiatedBy.user: the userPrincipalName, else the id.</summary>
    public string? InitiatedByUser { get; }

    /// <summary>initiatedBy.app.appId.</summary>
    public string? InitiatedByAppId { get; }

    public string? InitiatedByAppName { get; }

    /// <summary>targetResources[].id.</summary>
    public IReadOnlyList<string> Targets { get; }

    public IReadOnlyList<string> TargetNames { get; }

    /// <summary>targetResources[].modifiedProperties[].displayName.</summary>
    public IReadOnlyList<string> ModifiedProperties { get; }

    public string InitiatedBy => InitiatedByUser ?? (InitiatedByAppId is null ? "(unknown)" : $"app {InitiatedByAppName ?? InitiatedByAppId} ({InitiatedByAppId})");

    /// <summary>Whether the activity changes who can reach what: members, roles, app roles, consent, group visibility.</summary>
    public bool ChangesAccess =>
        AccessActivities.Contains(Activity)
        || (Activity.Equals("Update group", StringComparison.OrdinalIgnoreCase) && ModifiedProperties.Any(p => p.Equals("Visibility", StringComparison.OrdinalIgnoreCase)));

    internal static readonly HashSet<string> AccessActivities = new(StringComparer.OrdinalIgnoreCase)
    {
        "Add member to group", "Remove member from group", "Add owner to group", "Remove owner from group",
        "Add member to role", "Remove member from role", "Add eligible member to role", "Remove eligible member from role",
        "Add app role assignment to group", "Remove app role assignment from group",
        "Add app role assignment grant to user", "Remove app role assignment from user",
        "Add app role assignment to service principal", "Remove app role assignment from service principal",
        "Consent to application", "Add delegated permission grant", "Remove delegated permission grant",
    };

    public override string ToString() => $"{GovernanceClock.Format(Time)} {Activity} by {InitiatedBy} on {string.Join(", ", Targets)}";

    /// <summary>
    /// The events of a JSON text: a Graph list response (<c>{ "value": [...], "@odata.nextLink": ... }</c>), an array of
    /// such responses, or an array of directoryAudit objects (the Entra portal's JSON download). FormatException when it is none.
    /// </summary>
    internal static List<DirectoryAuditEvent> ParseAll(string json, out string? nextLink)
    {
        nextLink = null;
        try
        {
            using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 64 });
            var list = new List<DirectoryAuditEvent>();
            void Page(JsonElement page, ref string? next)
            {
                if (page.TryGetProperty("value", out var value) && value.ValueKind == JsonValueKind.Array)
                {
                    list.AddRange(value.EnumerateArray().Select(One));
                    if (page.TryGetProperty("@odata.nextLink", out var n) && n.ValueKind == JsonValueKind.String)
                    {
                        next = n.GetString();
                    }
                }
                else
                {
                    list.Add(One(page));
                }
            }

            if (doc.RootElement.ValueKind == JsonValueKind.Array)
            {
                foreach (var item in doc.RootElement.EnumerateArray())
                {
                    Page(item, ref nextLink);
                }
            }
            else
            {
                Page(doc.RootElement, ref nextLink);
            }

            return list;
        }
        catch (Exception e) when (e is JsonException || e is KeyNotFoundException || e is InvalidOperationException)
        {
            throw new FormatException(e.Message, e);
        }
    }

    private static DirectoryAuditEvent One(JsonElement e)
    {
        static string? S(JsonElement o, string name) => o.ValueKind == JsonValueKind.Object && o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        static JsonElement O(JsonElement o, string name) => o.ValueKind == JsonValueKind.Object && o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Object ? v : default;
        var id = S(e, "id") ?? throw new FormatException("a directoryAudit without an id");
        if (!DateTimeOffset.TryParse(S(e, "activityDateTime"), System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var time))
        {
            throw new FormatException($"directoryAudit {id}: activityDateTime is not a time");
        }

        var by = O(e, "initiatedBy");
        var user = O(by, "user");
        var app = O(by, "app");
        var targets = new List<(string, string?, string?)>();
        var modified = new List<string>();
        if (e.TryGetProperty("targetResources", out var t) && t.ValueKind == JsonValueKind.Array)
        {
            foreach (var r in t.EnumerateArray())
            {
                if (S(r, "id") is { } tid)
                {
                    targets.Add((tid, S(r, "type"), S(r, "displayName") ?? S(r, "userPrincipalName")));
                }

                if (r.ValueKind == JsonValueKind.Object && r.TryGetProperty("modifiedProperties", out var m) && m.ValueKind == JsonValueKind.Array)
                {
                    modified.AddRange(m.EnumerateArray().Select(p => S(p, "displayName")).OfType<string>());
                }
            }
        }

        return new DirectoryAuditEvent(id, time.ToUniversalTime(), S(e, "activityDisplayName") ?? string.Empty, S(e, "category"), S(e, "result"),
            S(user, "userPrincipalName") ?? S(user, "id"), S(app, "appId"), S(app, "displayName"), targets, modified);
    }
}

/// <summary>
/// Reconciliation: every access-changing event of Entra's audit log in the window, put in one of three classes
/// against the ledger's apply and revert operations (a match is the same target within <see cref="Tolerance"/>).
/// </summary>
internal static class Reconciliation
{
    /// <summary>How far apart a ledger operation and its audit event may be (the ledger records after Graph answers; clocks differ).</summary>
    public static readonly TimeSpan Tolerance = TimeSpan.FromMinutes(15);

    /// <summary>How far back of the previous audit's cursor each run reads again: Entra's audit events arrive minutes late.</summary>
    public static readonly TimeSpan Overlap = TimeSpan.FromMinutes(30);

    /// <summary>The window of the first reconciliation of a store.</summary>
    public static readonly TimeSpan FirstWindow = TimeSpan.FromDays(7);

    /// <summary>The ledger's apply and revert operations: (time, the ids the operation names).</summary>
    public static List<(DateTimeOffset Time, HashSet<string> Ids, long Sequence)> LedgerOperations(IEnumerable<LedgerEntry> entries)
    {
        var ops = new List<(DateTimeOffset, HashSet<string>, long)>();
        foreach (var e in entries)
        {
            if (e.Event is not (LedgerEvents.OperationApplied or LedgerEvents.OperationReverted) || e.Details["operation"] is not System.Collections.IDictionary op)
            {
                continue;
            }

            var ids = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            foreach (var key in new[] { "resource", "principal", "group", "member" })
            {
                if (op[key] is string s)
                {
                    ids.Add(s);
                }
            }

            ops.Add((e.Time, ids, e.Sequence));
        }

        return ops;
    }

    /// <summary>The findings of a reconciliation: one per event made around the pipeline (AUD401) or by the module's own identity (AUD402), and AUD403 for a gap.</summary>
    public static void Findings(ReconciliationResult r, List<ComplianceFinding> findings)
    {
        foreach (var (e, c, _) in r.Events)
        {
            if (c == ReconciliationClass.Governed)
            {
                continue;
            }

            var check = c == ReconciliationClass.OwnIdentity ? ComplianceCheck.OwnIdentityAroundPipeline : ComplianceCheck.ChangedAroundPipeline;
            var what = $"{e.Activity} ({string.Join(", ", e.TargetNames.Take(ComplianceAudit.SampleSize))})";
            findings.Add(new ComplianceFinding(check, check.Severity, e.Id, what,
                c == ReconciliationClass.OwnIdentity
                    ? $"{e.Activity} at {GovernanceClock.Format(e.Time)} by this module's own identity {e.InitiatedBy}, with no ledger operation for it."
                    : $"{e.Activity} at {GovernanceClock.Format(e.Time)} by {e.InitiatedBy}, with no ledger operation for it: made around the pipeline.",
                new Dictionary<string, object?>
                {
                    ["activity"] = e.Activity,
                    ["time"] = GovernanceClock.Format(e.Time),
                    ["initiatedBy"] = e.InitiatedBy,
                    ["appId"] = e.InitiatedByAppId,
                    ["targets"] = e.Targets.Take(ComplianceAudit.SampleSize).Select(t => (object?)t).ToList(),
                    ["category"] = e.Category,
                    ["result"] = e.Result,
                },
                hint: c == ReconciliationClass.OwnIdentity
                    ? "Rotate the module's credentials, keep a copy of the store and the audit log as evidence, and find who used them."
                    : "Ask who made it and why; bring it under the pipeline (Request-HumanApproval) or revert it (its inverse through Invoke-ApprovedChange -EmergencyRevocation)."));
        }

        if (r.Gap is { } gap)
        {
            findings.Add(new ComplianceFinding(ComplianceCheck.ReconciliationIncomplete, ComplianceCheck.ReconciliationIncomplete.Severity, "auditLogs", "Entra audit log",
                gap, new Dictionary<string, object?> { ["from"] = GovernanceClock.Format(r.From), ["until"] = GovernanceClock.Format(r.Until), ["source"] = r.Source },
                hint: "Audit at least weekly (daily is usual), or export the audit log to a workspace that keeps it longer."));
        }
    }

    /// <summary>Reads the window of events, de-duplicates them by id, keeps the access-changing ones, classifies each.</summary>
    public static ReconciliationResult Run(IEnumerable<DirectoryAuditEvent> events, string source, DateTimeOffset from, DateTimeOffset until, TimeSpan retention,
        IEnumerable<LedgerEntry> ledger, ICollection<string> ownAppIds)
    {
        var r = new ReconciliationResult(from, until, source);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var ops = LedgerOperations(ledger);
        foreach (var e in events.OrderBy(e => e.Time))
        {
            r.Read++;
            if (!seen.Add(e.Id))
            {
                r.Duplicates++;
                continue;
            }

            if (e.Time < from || e.Time > until || !e.ChangesAccess || (e.Result is { } result && !result.Equals("success", StringComparison.OrdinalIgnoreCase)))
            {
                continue;
            }

            var (c, seq) = Classify(e, ops, ownAppIds);
            r.Events.Add((e, c, seq));
        }

        var kept = until - retention;
        if (from < kept)
        {
            r.Gap = $"The window since the last audit starts {GovernanceClock.Format(from)}, but the audit log keeps only {retention.TotalDays:0} days (since {GovernanceClock.Format(kept)}): changes before that cannot be reconciled.";
        }

        return r;
    }

    public static (ReconciliationClass Class, long? Sequence) Classify(DirectoryAuditEvent e, List<(DateTimeOffset Time, HashSet<string> Ids, long Sequence)> ops, ICollection<string> ownAppIds)
    {
        foreach (var (time, ids, seq) in ops)
        {
            if ((time - e.Time).Duration() <= Tolerance && e.Targets.Count > 0 && e.Targets.All(ids.Contains))
            {
                return (ReconciliationClass.Governed, seq);
            }
        }

        return (e.InitiatedByAppId is { } app && ownAppIds.Contains(app) ? ReconciliationClass.OwnIdentity : ReconciliationClass.AroundPipeline, null);
    }
}

/// <summary>What one reconciliation read and found: the window, the events by class, what it could not see.</summary>
public sealed class ReconciliationResult
{
    internal ReconciliationResult(DateTimeOffset from, DateTimeOffset until, string source)
    {
        From = from;
        Until = until;
        Source = source;
    }

    /// <summary>The window read: from the previous audit's cursor less the overlap (or the first window), to now.</summary>
    public DateTimeOffset From { get; }

    public DateTimeOffset Until { get; }

    /// <summary>Where the events came from (a file, or Graph).</summary>
    public string Source { get; }

    /// <summary>Every access-changing event in the window, de-duplicated by id, oldest first, with its class.</summary>
    public List<(DirectoryAuditEvent Event, ReconciliationClass Class, long? Sequence)> Events { get; } = new();

    /// <summary>Events read in all (access-changing or not, before de-duplication).</summary>
    public int Read { get; internal set; }

    public int Duplicates { get; internal set; }

    /// <summary>Null when the whole window was readable; else why not (the log's retention already dropped its start).</summary>
    public string? Gap { get; internal set; }

    public int Count(ReconciliationClass c) => Events.Count(e => e.Class == c);
}
