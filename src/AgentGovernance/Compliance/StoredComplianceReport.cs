using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Text.Json;

namespace AgentGovernance.Compliance;

/// <summary>
/// The full report of a past audit as the store keeps it (<c>compliance/&lt;hash&gt;</c>), checked against
/// the hash its <c>ComplianceAudited</c> ledger entry records (Get-ComplianceAuditResult -Full).
/// </summary>
public sealed class StoredComplianceReport
{
    internal StoredComplianceReport(ComplianceRun run, string location, byte[] document)
    {
        Sequence = run.Sequence;
        AuditedAt = run.AuditedAt;
        TenantId = run.TenantId;
        ReportHash = run.ReportHash;
        Location = location;
        Bytes = document.Length;
        using var doc = JsonDocument.Parse(document);
        Report = Tree(doc.RootElement) as PSObject ?? new PSObject();
        var findings = doc.RootElement.TryGetProperty("findings", out var f) && f.ValueKind == JsonValueKind.Array ? f.GetArrayLength() : 0;
        Findings = findings;
        Json = JsonSerializer.Serialize(doc.RootElement, new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>The ledger entry of the run.</summary>
    public long Sequence { get; }

    public DateTimeOffset AuditedAt { get; }

    public string TenantId { get; }

    /// <summary>The hash the ledger records; the stored document hashes to it (else ReportTampered, and no object).</summary>
    public string ReportHash { get; }

    /// <summary>Where in the store: <c>compliance/&lt;hex&gt;</c>.</summary>
    public string Location { get; }

    /// <summary>The stored document's size in bytes.</summary>
    public int Bytes { get; }

    /// <summary>How many findings the report lists (Resolved included).</summary>
    public int Findings { get; }

    /// <summary>The report (agentgovernance/compliance-report@2) as objects: <c>.Report.findings</c>, <c>.Report.summary</c>...</summary>
    public PSObject Report { get; }

    /// <summary>The report as indented JSON (the same content as Invoke-ComplianceAudit -OutputPath report.json wrote).</summary>
    public string Json { get; }

    public override string ToString() => $"#{Sequence} {GovernanceClock.Format(AuditedAt)} {ReportHash}";

    private static object? Tree(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => Object(e),
        JsonValueKind.Array => e.EnumerateArray().Select(Tree).ToArray(),
        JsonValueKind.String => e.GetString(),
        JsonValueKind.Number => e.TryGetInt64(out var l) ? l : e.GetDouble(),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => null,
    };

    private static PSObject Object(JsonElement e)
    {
        var o = new PSObject();
        foreach (var p in e.EnumerateObject())
        {
            o.Properties.Add(new PSNoteProperty(p.Name, Tree(p.Value)));
        }

        return o;
    }
}
