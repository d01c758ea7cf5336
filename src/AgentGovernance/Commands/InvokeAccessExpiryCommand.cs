using System.Collections.Generic;
using System.Management.Automation;
using AgentGovernance.Apply;

namespace AgentGovernance.Commands;

/// <summary>
/// Reverts every applied time-boxed change whose time is up. Idempotent and safe to run every few
/// minutes from a scheduler: a change is reverted once, and an undo cut off midway is finished.
/// </summary>
[Cmdlet(VerbsLifecycle.Invoke, "AccessExpiry", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(ApplyResult))]
public sealed class InvokeAccessExpiryCommand : GovernanceCmdlet
{
    protected override void EndProcessing()
    {
        var whatIf = WhatIfInEffect;
        RunApply(null, writes: !whatIf, (apply, directory) =>
        {
            int reverted = 0, skipped = 0;
            var due = new List<(Approval.ApprovalRequest Request, GovernanceException? Skipped)>(apply.Expired());
            foreach (var (request, mismatch) in due)
            {
                if (mismatch is not null)
                {
                    skipped++;
                    WriteGovernanceError(mismatch, request.RequestId);
                    continue;
                }

                var target = $"{request.RequestId} ({request.Title ?? request.ChangeId}), expired {GovernanceClock.Format(request.AccessExpiresAt!.Value)}";
                if (!ShouldProcess(target, "Revert expired access"))
                {
                    continue;
                }

                try
                {
                    using var prepared = apply.PrepareUndo(request.RequestId, "expiry");
                    var result = apply.ExecuteUndo(prepared, "expiry", _ => true);
                    WarnWithheld(result.Withheld, result.RequestId);
                    WriteObject(result);
                    reverted++;
                }
                catch (GovernanceException e)
                {
                    // One change that cannot be reverted now (busy, directory refused) does not stop the others.
                    skipped++;
                    WriteGovernanceError(e, request.RequestId);
                }
            }

            WriteVerbose($"Access expiry on {directory.Location}: {due.Count} change(s) due, {reverted} reverted, {skipped} not reverted.");
            return reverted > 0;
        });
    }
}
