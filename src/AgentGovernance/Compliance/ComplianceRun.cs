using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using AgentGovernance.Ledger;

namespace AgentGovernance.Compliance;

/// <summary>A finding as a past run recorded it in the ledger.</summary>
public sealed class RecordedFinding
{
    internal RecordedFinding(string id, ComplianceSeverity severity, FindingStatus status, string evidenceHash, string message)
    {
        Id = id;
        Severity = severity;
        Status = status;
        EvidenceHash = evidenceHash;
        Message = message;
    }

    public string Id { get; }

    public string CheckId => Id.Split(':')[0];

    public ComplianceSeverity Severity { get; }

    public FindingStatus Status { get; }

    public string EvidenceHash { get; }

    public string Message { get; }

    public override string ToString() => $"{Id} {Severity} {Status}";
}

/// <summary>A past compliance audit, as its <c>ComplianceAudited</c> ledger entry records it (Get-ComplianceAuditResult).</summary>
public sealed class ComplianceRun
{
    private ComplianceRun(LedgerEntry entry, string tenantId, string reportHash, DateTimeOffset auditedAt, IReadOnlyList<RecordedFinding> findings, IReadOnlyList<string> resolved)
    {
        Sequence = entry.Sequence;
        Actor = entry.Actor;
        TenantId = tenantId;
        ReportHash = reportHash;
        AuditedAt = auditedAt;
        Findings = findings;
        Resolved = resolved;
        Summary = entry.Summary;
    }

    /// <summary>The ledger entry's sequence number.</summary>
    public long Sequence { get; }

    public DateTimeOffset AuditedAt { get; }

    /// <summary>Who ran the audit.</summary>
    public string Actor { get; }

    public string TenantId { get; }

    /// <summary>The SHA-256 of the report's canonical JSON: the report file of that run must hash to it.</summary>
    public string ReportHash { get; }

    public IReadOnlyList<RecordedFinding> Findings { get; }

    /// <summary>Ids of the findings of the run before that were gone.</summary>
    public IReadOnlyList<string> Resolved { get; }

    public string Summary { get; }

    /// <summary>The reconciliation cursor: the audit log was read up to this time (the next audit reads on from it, less the overlap); null when it never ran.</summary>
    public DateTimeOffset? ReconciledThrough { get; private set; }

    /// <summary>The cursor of SharePoint's sharing events (Purview's audit log query API): read up to this time; null when never read.</summary>
    public DateTimeOffset? SharingReconciledThrough { get; private set; }

    public int Critical => Findings.Count(f => f.Severity == ComplianceSeverity.Critical);

    public int High => Findings.Count(f => f.Severity == ComplianceSeverity.High);

    public int Medium => Findings.Count(f => f.Severity == ComplianceSeverity.Medium);

    public int Low => Findings.Count(f => f.Severity == ComplianceSeverity.Low);

    public int New => Findings.Count(f => f.Status == FindingStatus.New);

    public override string ToString() => $"#{Sequence} {GovernanceClock.Format(AuditedAt)} {Summary}";

    /// <summary>The run a ComplianceAudited entry records; null for an entry of another kind or one this version cannot read.</summary>
    internal static ComplianceRun? From(LedgerEntry entry)
    {
        if (entry.Event != LedgerEvents.ComplianceAudited)
        {
            return null;
        }

        var d = entry.Details;
        if (d["tenantId"] is not string tenant || d["reportHash"] is not string hash || d["auditedAt"] is not string at
            || !DateTimeOffset.TryParse(at, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var time))
        {
            return null;
        }

        var findings = new List<RecordedFinding>();
        foreach (var item in d["findings"] as IEnumerable ?? Array.Empty<object>())
        {
            if (item is IDictionary f && f["id"] is string id && f["evidenceHash"] is string evidence
                && Enum.TryParse<ComplianceSeverity>(f["severity"] as string, out var severity) && Enum.TryParse<FindingStatus>(f["status"] as string, out var status))
            {
                findings.Add(new RecordedFinding(id, severity, status, evidence, f["message"] as string ?? string.Empty));
            }
        }

        var resolved = (d["resolved"] as IEnumerable ?? Array.Empty<object>()).OfType<string>().ToList();
        return new ComplianceRun(entry, tenant, hash, time, findings, resolved)
        {
            ReconciledThrough = GovernanceClock.TryParse(d["reconciledThrough"] as string, out var through) ? through : null,
            SharingReconciledThrough = GovernanceClock.TryParse(d["sharingReconciledThrough"] as string, out var shared) ? shared : null,
        };
    }

    /// <summary>
    /// Sets each finding's status against this (the previous) run, and adds a Resolved finding for each of
    /// its findings that is gone. Accepted findings are set by exceptions, not here.
    /// </summary>
    internal List<ComplianceFinding> Compare(IReadOnlyList<ComplianceFinding> current)
    {
        var before = Findings.ToDictionary(f => f.Id, StringComparer.Ordinal);
        var result = new List<ComplianceFinding>(current.Count);
        foreach (var f in current)
        {
            f.Status = before.ContainsKey(f.Id) ? FindingStatus.Persisting : FindingStatus.New;
            result.Add(f);
        }

        var now = new HashSet<string>(current.Select(f => f.Id), StringComparer.Ordinal);
        foreach (var gone in Findings.Where(f => !now.Contains(f.Id)))
        {
            // An event of the audit log is reported by the audits whose window holds it; one that is out of the
            // window now is not resolved (the stored report of its run keeps it), so it is not called so.
            if (ComplianceCheck.All.FirstOrDefault(c => c.Id == gone.CheckId) is { } check && check.Category != "Reconciliation")
            {
                result.Add(new ComplianceFinding(check, gone.Severity, gone.Id.Substring(check.Id.Length + 1), null,
                    $"Resolved since the audit of {GovernanceClock.Format(AuditedAt)}: {gone.Message}",
                    new Dictionary<string, object?> { ["previousSequence"] = Sequence, ["previousEvidenceHash"] = gone.EvidenceHash })
                {
                    Status = FindingStatus.Resolved,
                });
            }
        }

        return result;
    }
}
