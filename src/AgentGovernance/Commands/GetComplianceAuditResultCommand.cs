using System.Linq;
using System.Management.Automation;
using AgentGovernance.Compliance;

namespace AgentGovernance.Commands;

/// <summary>Past compliance audits, as the ledger records them (ComplianceAudited entries), oldest first.</summary>
[Cmdlet(VerbsCommon.Get, "ComplianceAuditResult")]
[OutputType(typeof(ComplianceRun))]
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
                WriteObject(run);
            }
        }
        catch (GovernanceException e)
        {
            WriteGovernanceError(e);
        }
    }
}
