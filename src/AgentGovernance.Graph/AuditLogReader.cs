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

        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartArray();
            foreach (var item in page.Items)
            {
                item.WriteTo(w);
            }

            w.WriteEndArray();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }
}
