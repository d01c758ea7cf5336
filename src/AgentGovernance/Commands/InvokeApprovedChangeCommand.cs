using System;
using System.Management.Automation;
using AgentGovernance.Apply;
using AgentGovernance.Changes;
using AgentGovernance.Providers;

namespace AgentGovernance.Commands;

/// <summary>
/// Applies an approved change after checking, at that moment and on the directory as it is, that it is
/// still approved, unused, not blocked and no worse than what the approvers saw. Write-ahead in the
/// ledger; reverts what it applied when an operation fails; finishes or rolls back an apply whose process died.
/// </summary>
[Cmdlet(VerbsLifecycle.Invoke, "ApprovedChange", DefaultParameterSetName = RequestSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(ApplyResult))]
public sealed class InvokeApprovedChangeCommand : GovernanceCmdlet
{
    private const string RequestSet = "Request";
    private const string EmergencySet = "EmergencyRevocation";

    [Parameter(ParameterSetName = RequestSet, Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(RequestIdCompleter))]
    public string RequestId { get; set; } = string.Empty;

    /// <summary>Applies a change that only reduces access without an approval, when the policy allows emergency revocation.</summary>
    [Parameter(ParameterSetName = EmergencySet, Mandatory = true)]
    public SwitchParameter EmergencyRevocation { get; set; }

    [Parameter(ParameterSetName = EmergencySet, Mandatory = true, Position = 0, ValueFromPipeline = true)]
    public AccessChange Change { get; set; } = null!;

    /// <summary>Applies without a confirmation prompt (-WhatIf still only tells, an explicit -Confirm still asks).</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessRecord()
    {
        var whatIf = WhatIfInEffect;
        RunApply(ParameterSetName == EmergencySet ? Change : RequestId, writes: !whatIf, (apply, directory) =>
        {
            using var prepared = ParameterSetName == EmergencySet
                ? apply.PrepareEmergencyRevocation(Change, audit: !whatIf)
                : apply.PrepareApply(RequestId, audit: !whatIf);
            if (prepared.Recovering is not null)
            {
                WriteWarning($"{prepared.RequestId}: an earlier apply stopped midway (its process died). " +
                             (prepared.RollBackRecovery ? "Rolling it back: " + prepared.RecoveryReason : "Completing it: the operations already in effect are not applied again."));
            }

            if (prepared.Reassessed is { } now)
            {
                WriteVerbose($"Assessed again on {directory.Location}: {now.RiskLevel}, {now.PrincipalsGained} principal(s) gain access, {now.PrincipalsLost} lose it; no worse than approved.");
            }

            if (whatIf)
            {
                foreach (var step in prepared.Steps)
                {
                    ShouldProcess(Describe(step.Plan, directory), "Apply");
                }

                return false;
            }

            var result = apply.Execute(prepared, plan => ShouldProcessUnlessForced(Force || plan.Operation.NarrowsOnly || plan.AlreadyInEffect,
                Describe(plan, directory), $"Apply {Describe(plan, directory)}?", "Apply approved change"), WriteVerbose);
            if (result.Outcome == ApplyOutcome.RolledBack)
            {
                WriteWarning($"{result.RequestId} was rolled back: {result.Reason}.");
            }

            WriteObject(result);
            return true;
        });
    }

    internal static string Describe(OperationPlan plan, IDirectoryProvider directory) =>
        $"{plan.Operation} in {directory.Location}" + (plan.AlreadyInEffect ? " (already in effect: nothing changes)" : string.Empty);
}
