using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace AgentGovernance.GraphFake;

/// <summary>
/// auditLogs/directoryAudits as Microsoft documents it: the directoryAudit resource (id, activityDateTime,
/// activityDisplayName, category, result, initiatedBy.user/app, targetResources[].modifiedProperties), newest
/// first, $filter on activityDateTime with ge and le (other filters are a 400 here), pages with an absolute
/// @odata.nextLink. What the log keeps is what the test added: retention is the test's to model.
/// <para>
/// Purview's audit log query API as Graph documents it (security/auditLog/queries): POST an auditLogQuery
/// (filterStartDateTime, filterEndDateTime, operationFilters, recordTypeFilters) and get it back 201 with status
/// notStarted; each GET of the query moves it on (running for <see cref="AuditQueryRunningPolls"/> reads, then
/// succeeded, or <see cref="AuditQueryOutcome"/>); GET .../records pages the auditLogRecord objects that matched
/// when the query was created (a record added later, with an old createdDateTime, is a late record: only a later
/// query sees it). 403 when <see cref="AuditQueryDenied"/>; records before succeeded are a 400.
/// </para>
/// </summary>
public sealed partial class FakeGraph
{
    private static readonly Regex TimeClause = new(@"^activityDateTime (ge|le) (\S+)$", RegexOptions.CultureInvariant);
    private readonly List<JsonObject> _audits = new();

    /// <summary>The $filter of each request to auditLogs/directoryAudits (a nextLink keeps it).</summary>
    public List<string> AuditLogFilters { get; } = new();

    /// <summary>Adds directoryAudit objects to the log.</summary>
    public void AddDirectoryAudits(params JsonObject[] audits)
    {
        lock (_gate)
        {
            _audits.AddRange(audits);
        }
    }

    private Answer? AuditLogs(string method, string route, Dictionary<string, string> query, string url, string body)
    {
        if (route.StartsWith("/security/auditLog/queries", StringComparison.Ordinal))
        {
            return AuditLogQueries(method, route, query, url, body);
        }

        if (route != "/auditLogs/directoryAudits")
        {
            return null;
        }

        if (method != "GET")
        {
            return Error(405, "Request_BadRequest", "The audit log is read-only.");
        }

        query.TryGetValue("$filter", out var filter);
        AuditLogFilters.Add(filter ?? string.Empty);
        DateTimeOffset from = DateTimeOffset.MinValue, until = DateTimeOffset.MaxValue;
        foreach (var clause in (filter ?? string.Empty).Split(" and ", StringSplitOptions.RemoveEmptyEntries))
        {
            var m = TimeClause.Match(clause.Trim());
            if (!m.Success || !DateTimeOffset.TryParse(m.Groups[2].Value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
            {
                return Error(400, "Request_UnsupportedQuery", $"Invalid filter clause: {clause}");
            }

            if (m.Groups[1].Value == "ge") from = at; else until = at;
        }

        static DateTimeOffset Time(JsonObject a) => DateTimeOffset.Parse(a["activityDateTime"]!.GetValue<string>(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
        var selected = _audits.Where(a => Time(a) >= from && Time(a) <= until).OrderByDescending(Time).Cast<JsonNode>().ToList();
        return Page(selected, query, url);
    }

    private readonly List<JsonObject> _auditRecords = new();
    private readonly Dictionary<string, (JsonObject Query, List<JsonNode> Records, int Polls, bool Over)> _auditQueries = new(StringComparer.Ordinal);

    /// <summary>The body of each POST to security/auditLog/queries.</summary>
    public List<JsonObject> AuditQueriesCreated { get; } = new();

    /// <summary>403 on every audit log query request: the app lacks AuditLogsQuery-SharePoint.Read.All.</summary>
    public bool AuditQueryDenied { get; set; }

    /// <summary>How many reads of a query answer running before it ends.</summary>
    public int AuditQueryRunningPolls { get; set; } = 1;

    /// <summary>How a query ends: succeeded (the default), failed or cancelled.</summary>
    public string AuditQueryOutcome { get; set; } = "succeeded";

    /// <summary>
    /// The most records a query returns (recordCountLimit). Over it the query still ends succeeded, with
    /// isRecordCountLimitExceeded true and only the first that many records (Graph's auditLogQuery resource).
    /// </summary>
    public int AuditQueryRecordLimit { get; set; } = 1_000_000;

    /// <summary>Adds auditLogRecord objects to the unified audit log.</summary>
    public void AddAuditLogRecords(params JsonObject[] records)
    {
        lock (_gate)
        {
            _auditRecords.AddRange(records);
        }
    }

    private Answer AuditLogQueries(string method, string route, Dictionary<string, string> query, string url, string body)
    {
        if (AuditQueryDenied)
        {
            return Error(403, "Forbidden", "Missing application permissions: AuditLogsQuery-SharePoint.Read.All.");
        }

        var s = route.Trim('/').Split('/');
        if (s.Length == 3 && method == "POST")
        {
            var q = JsonNode.Parse(body) as JsonObject ?? new JsonObject();
            AuditQueriesCreated.Add((JsonObject)q.DeepClone());
            static DateTimeOffset? At(JsonObject o, string name) =>
                o[name]?.GetValue<string>() is { } t ? DateTimeOffset.Parse(t, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal) : null;
            if (At(q, "filterStartDateTime") is not { } from || At(q, "filterEndDateTime") is not { } until)
            {
                return Error(400, "BadRequest", "filterStartDateTime and filterEndDateTime are required.");
            }

            static HashSet<string>? Set(JsonObject o, string name) =>
                o[name] is JsonArray a && a.Count > 0 ? a.Select(v => v!.GetValue<string>()).ToHashSet(StringComparer.OrdinalIgnoreCase) : null;
            var operations = Set(q, "operationFilters");
            var types = Set(q, "recordTypeFilters");
            static DateTimeOffset Time(JsonObject r) => DateTimeOffset.Parse(r["createdDateTime"]!.GetValue<string>(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
            var matched = _auditRecords
                .Where(r => Time(r) >= from && Time(r) <= until)
                .Where(r => operations is null || operations.Contains(r["operation"]?.GetValue<string>() ?? string.Empty))
                .Where(r => types is null || types.Contains(r["auditLogRecordType"]?.GetValue<string>() ?? string.Empty))
                .OrderBy(Time).Select(r => (JsonNode)r.DeepClone()).ToList();
            var id = Guid.NewGuid().ToString();
            var created = new JsonObject
            {
                ["@odata.context"] = BaseUrl + "/$metadata#security/auditLog/queries/$entity",
                ["@odata.type"] = "#microsoft.graph.security.auditLogQuery",
                ["id"] = id,
                ["displayName"] = q["displayName"]?.DeepClone(),
                ["filterStartDateTime"] = q["filterStartDateTime"]!.DeepClone(),
                ["filterEndDateTime"] = q["filterEndDateTime"]!.DeepClone(),
                ["recordTypeFilters"] = q["recordTypeFilters"]?.DeepClone() ?? new JsonArray(),
                ["keywordFilter"] = null,
                ["serviceFilters"] = new JsonArray(),
                ["operationFilters"] = q["operationFilters"]?.DeepClone() ?? new JsonArray(),
                ["userPrincipalNameFilters"] = new JsonArray(),
                ["ipAddressFilters"] = new JsonArray(),
                ["objectIdFilters"] = new JsonArray(),
                ["administrativeUnitIdFilters"] = new JsonArray(),
                ["status"] = "notStarted",
                ["approximateReturnedRecordCount"] = null,
                ["isRecordCountLimitExceeded"] = null,
                ["recordCountLimit"] = AuditQueryRecordLimit,
            };
            var over = matched.Count > AuditQueryRecordLimit;
            matched = matched.Take(AuditQueryRecordLimit).ToList();
            _auditQueries[id] = (created, matched, 0, over);
            return Ok(created.DeepClone(), 201);
        }

        if (s.Length < 4 || method != "GET" || !_auditQueries.TryGetValue(s[3], out var state))
        {
            return s.Length >= 4 && method == "GET" ? Error(404, "NotFound", $"No audit log query {s[3]}.") : Error(405, "BadRequest", $"{method} is not supported here.");
        }

        if (s.Length == 4)
        {
            var polls = state.Polls + 1;
            _auditQueries[s[3]] = (state.Query, state.Records, polls, state.Over);
            var status = polls <= AuditQueryRunningPolls ? "running" : AuditQueryOutcome;
            state.Query["status"] = status;
            if (status == "succeeded")
            {
                state.Query["approximateReturnedRecordCount"] = state.Records.Count;
                state.Query["isRecordCountLimitExceeded"] = state.Over;
            }

            return Ok(state.Query.DeepClone());
        }

        if (s.Length == 5 && s[4] == "records")
        {
            if (state.Query["status"]?.GetValue<string>() != "succeeded")
            {
                return Error(400, "BadRequest", "The query has not succeeded: its records cannot be listed yet.");
            }

            return Page(state.Records, query, url);
        }

        return Error(404, "NotFound", $"No such route: {route}");
    }
}
