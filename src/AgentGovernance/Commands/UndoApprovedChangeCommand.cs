using System.Linq;
using System.Management.Automation;
using AgentGovernance.Apply;

namespace AgentGovernance.Commands;

/// <summary>
/// Reverts an applied change with the inverses recorded when it was applied. Reducing access needs no
/// new approval when the policy allows emergency revocation (the default); it is always in the ledger.
/// </summary>
[Cmdlet(VerbsCommon.Undo, "ApprovedChange", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(ApplyResult))]
public sealed class UndoApprovedChangeCommand : GovernanceCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(RequestIdCompleter))]
    public string RequestId { get; set; } = string.Empty;

    protected override void ProcessRecord()
    {
        var whatIf = WhatIfInEffect;
        RunApply(RequestId, writes: !whatIf, (apply, directory) =>
        {
            using var prepared = apply.PrepareUndo(RequestId, "undo", audit: !whatIf);
            if (whatIf)
            {
                var plan = prepared.RollBackRecovery ? null : UndoPlan.Of(prepared.Recovering!);
                foreach (var pair in plan?.Immediate ?? prepared.Recovering!.Applied.Where(a => a.Value.Changed).ToList())
                {
                    ShouldProcess($"{pair.Value.Inverse} in {directory.Location}", "Undo");
                }

                WarnWithheld(plan?.Withheld.Select(w => w.Value.Inverse!).ToList(), RequestId);
                return false;
            }

            var result = apply.ExecuteUndo(prepared, "undo", op => ShouldProcess($"{op.Inverse} in {directory.Location}", "Undo"));
            WarnWithheld(result.Withheld, RequestId);
            WriteObject(result);
            return true;
        });
    }
}
