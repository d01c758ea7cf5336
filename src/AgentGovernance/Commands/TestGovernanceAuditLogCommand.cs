using System.Management.Automation;
using AgentGovernance.Ledger;

namespace AgentGovernance.Commands;

/// <summary>
/// Verifies the whole ledger: the hash chain, every signed checkpoint, and this machine's witness of
/// the last checkpoint it signed. Reports the first entry that does not verify and why.
/// </summary>
[Cmdlet(VerbsDiagnostic.Test, "GovernanceAuditLog")]
[OutputType(typeof(LedgerVerification), typeof(bool))]
public sealed class TestGovernanceAuditLogCommand : GovernanceCmdlet
{
    /// <summary>Returns only $true or $false, and writes no error.</summary>
    [Parameter]
    public SwitchParameter Quiet { get; set; }

    protected override void EndProcessing()
    {
        try
        {
            using var approvals = OpenApprovals(writes: false);
            var session = Session;
            var result = LedgerVerifier.Verify(approvals.Store, approvals.Policy.LedgerSigners, LedgerSigner.WitnessPathFor(
                System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(session.LedgerSignerPath))!, approvals.Store.StoreId));
            if (Quiet)
            {
                WriteObject(result.IsValid);
                return;
            }

            foreach (var warning in result.Warnings)
            {
                WriteWarning(warning);
            }

            WriteObject(result);
            if (!result.IsValid)
            {
                WriteError(new ErrorRecord(new GovernanceException("LedgerInvalid", GovernanceErrorKind.SecurityError, result.Message, result.Store),
                    "LedgerInvalid", ErrorCategory.SecurityError, result)
                {
                    ErrorDetails = new ErrorDetails(result.Message)
                    {
                        RecommendedAction = $"Entry {result.FirstBadSequence} is the first that does not verify ({result.Problem}). Keep a copy of the store as evidence and investigate who could write to it.",
                    },
                });
            }
        }
        catch (GovernanceException e)
        {
            WriteGovernanceError(e);
        }
    }
}
