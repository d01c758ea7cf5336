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

/// <summary>
/// One access event of an audit log, the fields the reconciliation reads: a <c>directoryAudit</c> of Entra's audit log
/// (Microsoft Graph <c>auditLogs/directoryAudits</c>), or an <c>auditLogRecord</c> of SharePoint sharing from Purview's
/// audit log query API (<c>security/auditLog/queries/{id}/records</c>; <see cref="IsSharing"/>).
/// </summary>
public sealed class DirectoryAuditEvent
{
    /// <summary>The <see cref="Source"/> of Entra's directory audit log.</summary>
    public const string DirectoryAudits = "auditLogs/directoryAudits";

    /// <summary>The <see cref="Source"/> of Purview's audit log query API (SharePoint sharing).</summary>
    public const string AuditLogQuery = "security/auditLog/queries";

    internal DirectoryAuditEvent(string id, DateTimeOffset time, string activity, string? category, string? result, string? byUser, string? byApp,
        string? byAppName, IReadOnlyList<(string Id, string? Type, string? Name)> targets, IReadOnlyList<string> modified, string source = DirectoryAudits)
    {
        Source = source;
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

    /// <summary>Which log it comes from: <see cref="DirectoryAudits"/> or <see cref="AuditLogQuery"/>.</summary>
    public string Source { get; }

    /// <summary>A SharePoint sharing event (an auditLogRecord): its target is a file or folder by URL (objectId), resolved to the directory's resource.</summary>
    public bool IsSharing => Source == AuditLogQuery;

    /// <summary>activityDateTime (UTC); createdDateTime for an auditLogRecord.</summary>
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

    /// <summary>targetResources[].id; for a sharing event the directory's resource id its URL resolves to (else the URL).</summary>
    public IReadOnlyList<string> Targets { get; internal set; }

    public IReadOnlyList<string> TargetNames { get; }

    /// <summary>targetResources[].modifiedProperties[].displayName.</summary>
    public IReadOnlyList<string> ModifiedProperties { get; }

    public string InitiatedBy => InitiatedByUser ?? (InitiatedByAppId is null ? "(unknown)" : $"app {InitiatedByAppName ?? InitiatedByAppId} ({InitiatedByAppId})");

    /// <summary>Whether the activity changes who can reach what: members, roles, app roles, consent, group visibility; links and invitations of SharePoint sharing.</summary>
    public bool ChangesAccess =>
        IsSharing ? SharingActivities.Contains(Activity) : AccessActivities.Contains(Activity)
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

    /// <summary>The operations of Purview's SharePoint sharing activities that change who can reach a file or folder (the query asks for these).</summary>
    internal static readonly HashSet<string> SharingActivities = new(StringComparer.OrdinalIgnoreCase)
    {
        "SharingSet", "SharingInvitationCreated", "SharingRevoked", "AddedToSecureLink", "RemovedFromSecureLink",
        "SecureLinkCreated", "SecureLinkDeleted", "AnonymousLinkCreated", "AnonymousLinkUpdated", "AnonymousLinkRemoved",
        "CompanyLinkCreated", "CompanyLinkRemoved", "AccessRequestAccepted", "SharingInvitationAccepted", "SharingInvitationRevoked",
    };

    public override string ToString() => $"{GovernanceClock.Format(Time)} {Activity} by {InitiatedBy} on {string.Join(", ", Targets)}";

    /// <summary>
    /// The events of a JSON text: a Graph list response (<c>{ "value": [...], "@odata.nextLink": ... }</c>), an array of
    /// such responses, or an array of directoryAudit objects (the Entra portal's JSON download); auditLogRecord objects
    /// (createdDateTime and operation, no activityDateTime) are sharing events. FormatException when it is none.
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

    private static string? S(JsonElement o, string name) => o.ValueKind == JsonValueKind.Object && o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static JsonElement O(JsonElement o, string name) => o.ValueKind == JsonValueKind.Object && o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Object ? v : default;

    private static DirectoryAuditEvent One(JsonElement e)
    {
        if (S(e, "activityDateTime") is null && S(e, "createdDateTime") is not null && S(e, "operation") is not null)
        {
            return Record(e);
        }

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

    /// <summary>
    /// An auditLogRecord (Graph's security namespace): id, createdDateTime, operation, auditLogRecordType, userPrincipalName
    /// or userId, objectId (for SharePoint the file's or folder's full URL), and auditData, the record's own properties in
    /// the unified audit log's schema (ApplicationId or AppId: the app that acted; TargetUserOrGroupName: whom it was shared with).
    /// </summary>
    private static DirectoryAuditEvent Record(JsonElement e)
    {
        var id = S(e, "id") ?? throw new FormatException("an auditLogRecord without an id");
        if (!DateTimeOffset.TryParse(S(e, "createdDateTime"), System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var time))
        {
            throw new FormatException($"auditLogRecord {id}: createdDateTime is not a time");
        }

        var data = O(e, "auditData");
        var url = S(e, "objectId") ?? S(data, "ObjectId") ?? string.Empty;
        var with = S(data, "TargetUserOrGroupName");
        var name = (S(data, "SourceFileName") ?? url) + (with is null ? string.Empty : $" with {with}");
        var targets = url.Length == 0 ? new List<(string, string?, string?)>() : new List<(string, string?, string?)> { (url, "url", name) };
        return new DirectoryAuditEvent(id, time.ToUniversalTime(), S(e, "operation")!, S(e, "auditLogRecordType"), null,
            S(e, "userPrincipalName") ?? S(e, "userId") ?? S(data, "UserId"), S(data, "ApplicationId") ?? S(data, "AppId"), null, targets, Array.Empty<string>(), AuditLogQuery);
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

    /// <summary>The ledger's apply and revert operations: (time, the ids the operation names, its sequence, its op).</summary>
    public static List<(DateTimeOffset Time, HashSet<string> Ids, long Sequence, string? Op)> LedgerOperations(IEnumerable<LedgerEntry> entries)
    {
        var ops = new List<(DateTimeOffset, HashSet<string>, long, string?)>();
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

            ops.Add((e.Time, ids, e.Sequence, op["op"] as string));
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

        foreach (var source in r.Sources.Where(x => x.Problem is not null && x.Attempted))
        {
            var check = ComplianceCheck.ReconciliationSourceUnread;
            findings.Add(new ComplianceFinding(check, check.Severity, source.Name, source.Title,
                $"The reconciliation did not read {source.Title} ({source.Name}): {source.Problem} Changes it records in {GovernanceClock.Format(source.From)}..{GovernanceClock.Format(source.Until)} are not reconciled, and its cursor stays where it was.",
                new Dictionary<string, object?> { ["source"] = source.Name, ["from"] = GovernanceClock.Format(source.From), ["until"] = GovernanceClock.Format(source.Until), ["problem"] = source.Problem },
                hint: source.Name == DirectoryAuditEvent.AuditLogQuery
                    ? "Grant the module's app AuditLogsQuery-SharePoint.Read.All (application permission, admin consent), or give the records as a file (-AuditLogPath)."
                    : "Grant the module's app AuditLog.Read.All, or give the log as a file (-AuditLogPath)."));
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
        IEnumerable<LedgerEntry> ledger, ICollection<string> ownAppIds, Func<string, string?>? resolveUrl = null) =>
        Run(new[] { new ReconciliationSource(DirectoryAuditEvent.DirectoryAudits, from, until) { Events = events.ToList(), Location = source } }, source, retention, ledger, ownAppIds, resolveUrl);

    /// <summary>
    /// Each source's window of events (a source not read has its Problem, and no events), de-duplicated by id, the
    /// access-changing ones classified; sharing events' URLs resolved to the directory's resources by <paramref name="resolveUrl"/>.
    /// </summary>
    public static ReconciliationResult Run(IReadOnlyList<ReconciliationSource> sources, string where, TimeSpan retention,
        IEnumerable<LedgerEntry> ledger, ICollection<string> ownAppIds, Func<string, string?>? resolveUrl)
    {
        var directory = sources.FirstOrDefault(x => x.Name == DirectoryAuditEvent.DirectoryAudits) ?? sources[0];
        var r = new ReconciliationResult(directory.From, directory.Until, where);
        r.Sources.AddRange(sources);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var ops = LedgerOperations(ledger);
        foreach (var x in sources)
        {
            foreach (var e in x.Events.OrderBy(e => e.Time))
            {
                r.Read++;
                x.Read++;
                if (!seen.Add(e.Id))
                {
                    r.Duplicates++;
                    continue;
                }

                // A file may hold both kinds: each is held to its own source's window.
                var window = e.IsSharing ? sources.FirstOrDefault(s => s.Name == DirectoryAuditEvent.AuditLogQuery) ?? x : directory;
                if (e.Time < window.From || e.Time > window.Until || !e.ChangesAccess || (e.Result is { } result && !result.Equals("success", StringComparison.OrdinalIgnoreCase)))
                {
                    continue;
                }

                if (e.IsSharing && e.Targets.Count == 1 && resolveUrl?.Invoke(e.Targets[0]) is { } resource)
                {
                    e.Targets = new[] { resource };
                }

                var (c, seq) = Classify(e, ops, ownAppIds);
                r.Events.Add((e, c, seq));
            }
        }

        r.Events.Sort((a, b) => a.Event.Time.CompareTo(b.Event.Time));
        var (from, until) = (directory.From, directory.Until);
        var kept = until - retention;
        if (directory.Name == DirectoryAuditEvent.DirectoryAudits && directory.Problem is null && from < kept)
        {
            r.Gap = $"The window since the last audit starts {GovernanceClock.Format(from)}, but the audit log keeps only {retention.TotalDays:0} days (since {GovernanceClock.Format(kept)}): changes before that cannot be reconciled.";
        }

        return r;
    }

    /// <summary>
    /// The ledger operations a SharePoint sharing event can be the record of: a link created or widened is a createLink
    /// (or the sharing link an invitation makes: a grant); an invitation or a person added to a link is a grant; a link,
    /// a person or an invitation removed is a revoke (a revert of a createLink or a grant is recorded as that revoke).
    /// SharingSet (a permission set or changed) can be any of them.
    /// </summary>
    private static string[] LedgerOpsOf(string activity) => activity switch
    {
        "AnonymousLinkCreated" or "CompanyLinkCreated" or "AnonymousLinkUpdated" => new[] { "createLink" },
        "SecureLinkCreated" or "AddedToSecureLink" => new[] { "createLink", "grant" },
        "SharingInvitationCreated" or "SharingInvitationAccepted" or "AccessRequestAccepted" => new[] { "grant" },
        "SharingRevoked" or "SharingInvitationRevoked" or "RemovedFromSecureLink" or "SecureLinkDeleted" or "AnonymousLinkRemoved" or "CompanyLinkRemoved" => new[] { "revoke" },
        _ => new[] { "createLink", "grant", "revoke" },
    };

    public static (ReconciliationClass Class, long? Sequence) Classify(DirectoryAuditEvent e, List<(DateTimeOffset Time, HashSet<string> Ids, long Sequence, string? Op)> ops, ICollection<string> ownAppIds)
    {
        foreach (var (time, ids, seq, op) in ops)
        {
            if (e.IsSharing && (op is null || Array.IndexOf(LedgerOpsOf(e.Activity), op) < 0))
            {
                continue;
            }

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

    /// <summary>The coverage of the reconciliation: each log it reads (Entra's directory audits, SharePoint sharing through Purview's query API), read or why not.</summary>
    public List<ReconciliationSource> Sources { get; } = new();

    /// <summary>Whether a source was read: its cursor moves on only then.</summary>
    public bool WasRead(string source) => Sources.Any(x => x.Name == source && x.Problem is null);

    /// <summary>Null when the whole window was readable; else why not (the log's retention already dropped its start).</summary>
    public string? Gap { get; internal set; }

    public int Count(ReconciliationClass c) => Events.Count(e => e.Class == c);
}

/// <summary>One log a reconciliation reads, with its window: read (its events), or not read and why (<see cref="Problem"/>).</summary>
public sealed class ReconciliationSource
{
    internal ReconciliationSource(string name, DateTimeOffset from, DateTimeOffset until)
    {
        Name = name;
        From = from;
        Until = until;
    }

    /// <summary><see cref="DirectoryAuditEvent.DirectoryAudits"/> or <see cref="DirectoryAuditEvent.AuditLogQuery"/>.</summary>
    public string Name { get; }

    /// <summary>What a person calls it.</summary>
    public string Title => Name == DirectoryAuditEvent.AuditLogQuery ? "SharePoint sharing (Purview audit log query)" : "Entra's directory audit log";

    /// <summary>Where it was read from: Graph's URL, or the file.</summary>
    public string? Location { get; internal set; }

    public DateTimeOffset From { get; }

    public DateTimeOffset Until { get; }

    /// <summary>Null when read; else why it was not (permission denied, the query failed, not in the file).</summary>
    public string? Problem { get; internal set; }

    /// <summary>Whether a read was tried and failed (a finding, AUD404), rather than the source not being at hand (a file without it).</summary>
    public bool Attempted { get; internal set; }

    /// <summary>Events read from it (before de-duplication).</summary>
    public int Read { get; internal set; }

    internal List<DirectoryAuditEvent> Events { get; set; } = new();
}
