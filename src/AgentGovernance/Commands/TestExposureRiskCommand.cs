using System.Diagnostics;
using System.Management.Automation;
using AgentGovernance.Changes;
using AgentGovernance.Directory;
using AgentGovernance.Exposure;
using AgentGovernance.Policy;

namespace AgentGovernance.Commands;

/// <summary>Previews a change: who would newly reach what, how bad it is, and why.</summary>
[Cmdlet(VerbsDiagnostic.Test, "ExposureRisk")]
[OutputType(typeof(ExposureReport))]
public sealed class TestExposureRiskCommand : GovernanceCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    public AccessChange Change { get; set; } = null!;

    /// <summary>The directory to preview on; the session's (a snapshot, or the live tenant's current state) when left out.</summary>
    [Parameter]
    public AccessSnapshot? Snapshot { get; set; }

    /// <summary>The policy; the session's (or the built-in defaults) when left out.</summary>
    [Parameter]
    public GovernancePolicy? Policy { get; set; }

    protected override void ProcessRecord()
    {
        var policy = CurrentPolicy(Policy);
        try
        {
            var watch = Stopwatch.StartNew();
            var snapshot = RequireState(Snapshot, Change, policy);
            var report = ExposureEngine.Assess(snapshot, Change, policy);
            watch.Stop();
            WriteVerbose($"Assessed {Change.Id} on {snapshot.TenantId} in {watch.Elapsed.TotalMilliseconds:0.0} ms: {report.Change.Operations.Count} operation(s), {report.ResourcesAffected} resource(s) change, risk {report.RiskLevel}, {report.RequiredApprovals} approval(s) needed.");
            foreach (var note in report.Notes)
            {
                WriteWarning(note);
            }

            if (report.Blocked)
            {
                WriteWarning($"Policy blocks this change outright ({string.Join(", ", report.BlockingRules)}): it cannot be approved as it stands.");
            }

            WriteObject(report);
        }
        catch (GovernanceException e)
        {
            WriteGovernanceError(e, Change);
        }
    }
}
