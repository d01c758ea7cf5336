using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace AgentGovernance.GraphFake;

/// <summary>
/// auditLogs/directoryAudits as Microsoft documents it: the directoryAudit resource (id, activityDateTime,
/// activityDisplayName, category, result, initiatedBy.user/app, targetResources[].modifiedProperties), newest
/// first, $filter on activityDateTime with ge and le (other filters are a 400 here), pages with an absolute
/// @odata.nextLink. What the log keeps is what the test added: retention is the test's to model.
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

    private Answer? AuditLogs(string method, string route, Dictionary<string, string> query, string url)
    {
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
}
