using AgentGovernance.Ledger;
using AgentGovernance.Stores;
using AgentGovernance.Tests.Support;

namespace AgentGovernance.Tests.Cmdlets;

/// <summary>examples/quickstart.ps1, run as a user would run it, end to end on the demo tenant.</summary>
public sealed class QuickstartTests
{
    [Fact]
    public void TheQuickstartRunsTheIncidentEndToEndAndTheLedgerVerifies()
    {
        using var temp = new TempDir();
        using var ps = new PowerShellHost();
        var work = temp["work"];

        var result = ps.Run("& $args[0] -WorkFolder $args[1] -ModulePath $args[2]", Path.Combine(Repo.Examples, "quickstart.ps1"), work, Repo.ModuleManifest);

        Assert.True(result.Errors.Count == 0, string.Join("\n", result.Errors.Select(e => e.FullyQualifiedErrorId + ": " + e)));
        var lines = result.Objects<string>().ToList();
        Assert.Contains("Bob approving his own request: ApproverIsRequester,AgentGovernance.Commands.ApproveAccessChangeCommand", lines);
        Assert.Contains("Applying the denied request: RequestDenied,AgentGovernance.Commands.InvokeApprovedChangeCommand", lines);
        var store = FolderStore.Open(Path.Combine(work, "store"));
        var entries = new AuditLedger(store, null).Read().ToList();
        Assert.Equal(new[] { LedgerEvents.ApplyStarted, LedgerEvents.OperationApplied, LedgerEvents.ApplyCompleted, LedgerEvents.UndoStarted, LedgerEvents.OperationReverted, LedgerEvents.UndoCompleted },
            entries.Select(e => e.Event).Where(e => e.StartsWith("Apply", StringComparison.Ordinal) || e.StartsWith("Undo", StringComparison.Ordinal) || e.StartsWith("Operation", StringComparison.Ordinal)).Where(e => e != LedgerEvents.ApplyRefused));
        Assert.Equal("expiry", entries.Single(e => e.Event == LedgerEvents.UndoStarted).Details["trigger"]);
        var verdict = LedgerVerifier.Verify(store, Array.Empty<global::AgentGovernance.Approval.PublicKey>(), LedgerSigner.WitnessPathFor(Path.Combine(work, "keys"), store.StoreId));
        Assert.True(verdict.IsValid, verdict.Message);
        Assert.True(verdict.WitnessChecked);
        // The working copy is back where it started: the time-boxed grant expired.
        Assert.DoesNotContain(Directory.SnapshotReader.ReadFile(Path.Combine(work, "contoso.snapshot.json")).Grants, g => g.ResourceId == "site-userdata" && g.PrincipalId == "g-dataplatform");
    }
}
