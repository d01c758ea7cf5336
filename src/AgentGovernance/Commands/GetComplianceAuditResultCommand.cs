using System.Linq;
using System.Management.Automation;
using AgentGovernance.Compliance;

namespace AgentGovernance.Commands;

/// <summary>Past compliance audits, as the ledger records them (ComplianceAudited entries), oldest first.</summary>
[Cmdlet(VerbsCommon.Get, "ComplianceAuditResult")]
[OutputType(typeof(ComplianceRun), typeof(StoredComplianceReport))]
public sealed class GetComplianceAuditResultCommand : GovernanceCmdlet
{
    /// <summary>Only the audits of this tenant.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? TenantId { get; set; }

    /// <summary>Only the last N audits.</summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int Last { get; set; }

    /// <summary>The full report of each run, as the store keeps it, checked against the hash in the ledger.</summary>
    [Parameter]
    public SwitchParameter Full { get; set; }

    protected override void EndProcessing()
    {
        try
        {
            using var approvals = OpenApprovals(writes: false);
            var (entries, verification) = approvals.Ledger.ReadVerified();
            if (!verification.IsValid)
            {
                WriteWarning($"The ledger does not verify ({verification.Problem} at entry {verification.FirstBadSequence}): only the audits before that entry are shown. Run Test-GovernanceAuditLog.");
            }

            var runs = entries.Select(ComplianceRun.From).OfType<ComplianceRun>()
                .Where(r => TenantId is null || string.Equals(r.TenantId, TenantId, System.StringComparison.OrdinalIgnoreCase))
                .ToList();
            foreach (var run in Last > 0 ? runs.Skip(System.Math.Max(0, runs.Count - Last)) : runs)
            {
                if (!Full)
                {
                    WriteObject(run);
                    continue;
                }

                var location = ComplianceReport.Slot + "/" + ComplianceReport.DocumentId(run.ReportHash);
                var document = approvals.Store.ReadDocument(ComplianceReport.Slot, ComplianceReport.DocumentId(run.ReportHash));
                if (document is null)
                {
                    WriteGovernanceError(new GovernanceException("ReportNotStored", GovernanceErrorKind.ObjectNotFound,
                        $"The store has no report for the audit of entry #{run.Sequence} ({location}): it ran before reports were kept, or the document was removed.", run.ReportHash), run);
                    continue;
                }

                var hash = Json.Hashing.Sha256Id(document);
                if (hash != run.ReportHash)
                {
                    WriteGovernanceError(new GovernanceException("ReportTampered", GovernanceErrorKind.SecurityError,
                        $"The stored report {location} hashes to {hash}, not to {run.ReportHash} as ledger entry #{run.Sequence} records: it is not the report of that audit.", run.ReportHash), run);
                    continue;
                }

                WriteObject(new StoredComplianceReport(run, location, document));
            }
        }
        catch (GovernanceException e)
        {
            WriteGovernanceError(e);
        }
    }
}
