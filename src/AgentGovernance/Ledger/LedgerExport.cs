using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;
using AgentGovernance.Json;

namespace AgentGovernance.Ledger;

[Newtonsoft.Json.JsonConverter(typeof(Newtonsoft.Json.Converters.StringEnumConverter))]
public enum LedgerExportFormat
{
    /// <summary>JSON lines: one entry per line, as a SIEM ingests them.</summary>
    Json,

    /// <summary>Comma-separated values with a header row (RFC 4180 quoting).</summary>
    Csv,

    /// <summary>ArcSight Common Event Format, one event per line (Microsoft Sentinel, ArcSight).</summary>
    Cef,

    /// <summary>
    /// An anchor: one checkpoint of the verified ledger's head, signed now by this machine's ledger signer, for a
    /// runbook to push to append-only storage outside the store (Test-GovernanceAuditLog -Anchor compares).
    /// </summary>
    Anchor,
}

/// <summary>Writes ledger entries for other tools. The entry's own hash and the previous hash go with each one, so the copy can be checked too.</summary>
internal static class LedgerExport
{
    private static readonly string[] CsvColumns = { "seq", "time", "event", "actor", "changeId", "requestId", "summary", "details", "prev", "hash" };

    public static void Write(TextWriter w, IEnumerable<LedgerEntry> entries, LedgerExportFormat format, string version)
    {
        if (format == LedgerExportFormat.Csv)
        {
            w.Write(string.Join(",", CsvColumns));
            w.Write("\r\n");
        }

        foreach (var e in entries)
        {
            switch (format)
            {
                case LedgerExportFormat.Json:
                    w.Write(Json(e));
                    w.Write('\n');
                    break;
                case LedgerExportFormat.Csv:
                    w.Write(string.Join(",", new[] { e.Sequence.ToString(CultureInfo.InvariantCulture), Time(e), e.Event, e.Actor, e.ChangeId, e.RequestId, e.Summary, e.DetailsJson, e.PreviousHash, e.Hash }
                        .Map(Csv)));
                    w.Write("\r\n");
                    break;
                default:
                    w.Write(Cef(e, version));
                    w.Write('\n');
                    break;
            }
        }

        w.Flush();
    }

    /// <summary>The entry as its canonical JSON (the same object the ledger hashed, with its hash).</summary>
    internal static string Json(LedgerEntry e)
    {
        using var details = System.Text.Json.JsonDocument.Parse(e.DetailsJson);
        var doc = new Dictionary<string, object?>
        {
            ["seq"] = e.Sequence,
            ["time"] = Time(e),
            ["event"] = e.Event,
            ["actor"] = e.Actor,
            ["details"] = details.RootElement,
            ["prev"] = e.PreviousHash,
            ["hash"] = e.Hash,
        };
        if (e.ChangeId is not null)
        {
            doc["changeId"] = e.ChangeId;
        }

        if (e.RequestId is not null)
        {
            doc["requestId"] = e.RequestId;
        }

        return CanonicalJson.Serialize(doc);
    }

    /// <summary>
    /// CEF:Version|Device Vendor|Device Product|Device Version|Signature ID|Name|Severity|Extension, with the
    /// header's | and \ escaped, the extension's = and \ escaped, and line breaks as \n (ArcSight CEF 25).
    /// </summary>
    internal static string Cef(LedgerEntry e, string version)
    {
        var sb = new StringBuilder("CEF:0|AgentGovernance|AgentGovernance|");
        sb.Append(Header(version)).Append('|').Append(Header(e.Event)).Append('|').Append(Header(e.Summary.Length > 0 ? e.Summary : e.Event)).Append('|')
            .Append(Severity(e.Event).ToString(CultureInfo.InvariantCulture)).Append('|');
        var first = true;
        void Ext(string key, string? value)
        {
            if (value is null)
            {
                return;
            }

            sb.Append(first ? string.Empty : " ").Append(key).Append('=').Append(Extension(value));
            first = false;
        }

        Ext("rt", e.Time.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture));
        Ext("suser", e.Actor);
        Ext("cn1Label", "seq");
        Ext("cn1", e.Sequence.ToString(CultureInfo.InvariantCulture));
        Ext("cs1Label", "changeId");
        Ext("cs1", e.ChangeId);
        Ext("cs2Label", "requestId");
        Ext("cs2", e.RequestId);
        Ext("cs3Label", "hash");
        Ext("cs3", e.Hash);
        Ext("cs4Label", "prev");
        Ext("cs4", e.PreviousHash);
        Ext("cs5Label", "details");
        Ext("cs5", e.DetailsJson);
        Ext("msg", e.Summary);
        return sb.ToString();
    }

    /// <summary>CEF severity 0-10: what a SOC should look at first.</summary>
    internal static int Severity(string eventType) => eventType switch
    {
        LedgerEvents.BreakGlassRequested or LedgerEvents.ApplyFailed or LedgerEvents.EmergencyRevocation => 9,
        LedgerEvents.ApprovalRefused or LedgerEvents.ApplyRefused or LedgerEvents.ApplyRolledBack or LedgerEvents.ApplyRecovered => 7,
        LedgerEvents.ApplyStarted or LedgerEvents.OperationApplied or LedgerEvents.ApplyCompleted => 5,
        LedgerEvents.Approved or LedgerEvents.Denied or LedgerEvents.UndoStarted or LedgerEvents.UndoCompleted or LedgerEvents.OperationReverted => 4,
        _ => 3,
    };

    private static string Time(LedgerEntry e) => GovernanceClock.Format(e.Time);

    private static string Csv(string? value)
    {
        if (value is null)
        {
            return string.Empty;
        }

        // Quoted when needed; a leading = + - @ is prefixed so a spreadsheet never runs it as a formula.
        var safe = value.Length > 0 && "=+-@".IndexOf(value[0]) >= 0 ? "'" + value : value;
        return safe.IndexOfAny(new[] { ',', '"', '\r', '\n' }) >= 0 || safe != value ? "\"" + safe.Replace("\"", "\"\"") + "\"" : safe;
    }

    private static string Header(string value) => Lines(value.Replace("\\", "\\\\").Replace("|", "\\|"));

    private static string Extension(string value) => Lines(value.Replace("\\", "\\\\").Replace("=", "\\="));

    private static string Lines(string value) => value.Replace("\r\n", "\\n").Replace("\n", "\\n").Replace("\r", "\\r");

    private static IEnumerable<string> Map(this IEnumerable<string?> values, Func<string?, string> f)
    {
        foreach (var v in values)
        {
            yield return f(v);
        }
    }
}
