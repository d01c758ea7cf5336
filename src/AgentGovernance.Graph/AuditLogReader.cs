using System;
using System.Globalization;
using System.IO;
using System.Text.Json;
using System.Threading;

namespace AgentGovernance.Graph;

/// <summary>
/// Entra's audit log for the compliance audit's reconciliation: <c>GET /auditLogs/directoryAudits</c> with
/// <c>$filter=activityDateTime ge … and activityDateTime le …</c> (the filter the directoryAudit resource
/// documents), every page (@odata.nextLink), needing AuditLog.Read.All. The items go back as one JSON array
/// for the module to parse (what crosses the load context is text).
/// </summary>
public sealed partial class GraphDirectory
{
    public string ReadDirectoryAudits(DateTimeOffset from, DateTimeOffset until)
    {
        static string T(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        var url = _t.Client.RequestAdapter.BaseUrl + "/auditLogs/directoryAudits?$filter=" +
            Uri.EscapeDataString($"activityDateTime ge {T(from)} and activityDateTime le {T(until)}") + "&$top=500";
        var request = new GraphRequest(_t.Get(url), $"the audit log of {T(from)} to {T(until)} (auditLogs/directoryAudits)", "AuditLog.Read.All");
        var page = Transport.Run(() => _t.PagesAsync(new[] { request }, CancellationToken.None))[0];
        if (!page.Ok)
        {
            throw page.Failure!.ToException(write: false);
        }

        return JsonArrayOf(page.Items);
    }

    /// <summary>The items of every page as one JSON array (what crosses the load context is text).</summary>
    private static string JsonArrayOf(System.Collections.Generic.IEnumerable<JsonElement> items)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartArray();
            foreach (var item in items)
            {
                item.WriteTo(w);
            }

            w.WriteEndArray();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }
}

/// <summary>
/// SharePoint's sharing events for the reconciliation, through Microsoft Purview's audit log query API as Graph
/// documents it: <c>POST /security/auditLog/queries</c> (an auditLogQuery with filterStartDateTime,
/// filterEndDateTime and operationFilters), <c>GET /security/auditLog/queries/{id}</c> until its status is
/// succeeded (notStarted and running mean wait; failed and cancelled end it), then every page of
/// <c>GET /security/auditLog/queries/{id}/records</c> (@odata.nextLink). Needs AuditLogsQuery-SharePoint.Read.All
/// (or AuditLogsQuery.Read.All). The auditLogRecord objects go back as one JSON array.
/// </summary>
public sealed partial class GraphDirectory
{
    /// <summary>The sharing operations the query asks for (the operation names of Purview's SharePoint sharing activities).</summary>
    public static readonly string[] SharingOperations =
    {
        "SharingSet", "SharingInvitationCreated", "SharingRevoked", "AddedToSecureLink", "RemovedFromSecureLink",
        "SecureLinkCreated", "SecureLinkDeleted", "AnonymousLinkCreated", "AnonymousLinkUpdated", "AnonymousLinkRemoved",
        "CompanyLinkCreated", "CompanyLinkRemoved", "AccessRequestAccepted", "SharingInvitationAccepted", "SharingInvitationRevoked",
    };

    /// <summary>How long the query may take before the read gives up (Purview's searches take minutes on a large tenant).</summary>
    public TimeSpan AuditQueryTimeout { get; set; } = TimeSpan.FromMinutes(20);

    /// <summary>The first wait between two reads of the query's status; it doubles up to 30 seconds.</summary>
    public TimeSpan AuditQueryFirstPoll { get; set; } = TimeSpan.FromMilliseconds(250);

    public string ReadSharingAuditRecords(DateTimeOffset from, DateTimeOffset until)
    {
        static string T(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        const string permission = "AuditLogsQuery-SharePoint.Read.All";
        var window = $"{T(from)} to {T(until)}";
        var query = new Microsoft.Graph.Models.Security.AuditLogQuery
        {
            DisplayName = $"AgentGovernance reconciliation {window}",
            FilterStartDateTime = from.ToUniversalTime(),
            FilterEndDateTime = until.ToUniversalTime(),
            OperationFilters = new System.Collections.Generic.List<string>(SharingOperations),
        };
        var create = new GraphRequest(C.Security.AuditLog.Queries.ToPostRequestInformation(query), $"a Purview audit log query for SharePoint sharing of {window} (security/auditLog/queries)", permission);
        var created = Transport.Run(() => _t.BatchAsync(new[] { create }, CancellationToken.None))[0];
        if (!created.Ok)
        {
            throw created.ToException(write: false);
        }

        var id = created.Body?.Str("id") ?? throw new GovernanceException("AuditQueryFailed", GovernanceErrorKind.InvalidData,
            $"Graph created the audit log query of {window} without an id.", "security/auditLog/queries");
        var started = DateTimeOffset.UtcNow;
        var wait = AuditQueryFirstPoll;
        var latest = created.Body;
        var status = latest?.Str("status");
        while (status != "succeeded")
        {
            if (status is "failed" or "cancelled")
            {
                throw new GovernanceException("AuditQueryFailed", GovernanceErrorKind.InvalidOperation,
                    $"The Purview audit log query {id} of {window} ended {status}: its records cannot be read.", $"security/auditLog/queries/{id}");
            }

            if (DateTimeOffset.UtcNow - started > AuditQueryTimeout)
            {
                throw new GovernanceException("AuditQueryTimeout", GovernanceErrorKind.InvalidOperation,
                    $"The Purview audit log query {id} of {window} was still {status ?? "without a status"} after {AuditQueryTimeout.TotalMinutes:0} minutes.", $"security/auditLog/queries/{id}");
            }

            Thread.Sleep(wait);
            wait = wait * 2 > TimeSpan.FromSeconds(30) ? TimeSpan.FromSeconds(30) : wait * 2;
            // Never from the command's read cache: each read of the status must reach Graph.
            var poll = new GraphRequest(C.Security.AuditLog.Queries[id].ToGetRequestInformation(), $"the status of audit log query {id}", permission) { CacheKey = string.Empty };
            var answer = Transport.Run(() => _t.BatchAsync(new[] { poll }, CancellationToken.None))[0];
            if (!answer.Ok)
            {
                throw answer.ToException(write: false);
            }

            latest = answer.Body;
            status = latest?.Str("status");
        }

        // A query that reached its record limit still ends succeeded, with isRecordCountLimitExceeded (Graph's
        // auditLogQuery resource; learn.microsoft.com/graph/throttling-limits, audit log query limits): its records
        // are only part of the window, and a part read as the whole would call the rest of it quiet.
        if (latest?.Bool("isRecordCountLimitExceeded") == true)
        {
            var limit = latest is { } q && q.TryGetProperty("recordCountLimit", out var l) && l.ValueKind == System.Text.Json.JsonValueKind.Number ? l.GetRawText() : "its limit";
            throw new GovernanceException("AuditQueryTruncated", GovernanceErrorKind.ReadError,
                $"The Purview audit log query {id} of {window} stopped at {limit} records (isRecordCountLimitExceeded): the window's sharing events cannot be read whole.", $"security/auditLog/queries/{id}");
        }

        var records = new GraphRequest(C.Security.AuditLog.Queries[id].Records.ToGetRequestInformation(), $"the records of audit log query {id} ({window})", permission) { CacheKey = string.Empty };
        var page = Transport.Run(() => _t.PagesAsync(new[] { records }, CancellationToken.None))[0];
        if (!page.Ok)
        {
            throw page.Failure!.ToException(write: false);
        }

        return JsonArrayOf(page.Items);
    }
}
