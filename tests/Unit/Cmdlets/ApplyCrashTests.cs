using AgentGovernance.Apply;
using AgentGovernance.Approval;
using AgentGovernance.Ledger;
using AgentGovernance.Tests.Support;

namespace AgentGovernance.Tests.Cmdlets;

/// <summary>
/// kill -9 after every step of an apply and of an undo (a worker process killed at a fault-injection
/// point): the next command finds the intent without an outcome, reads the directory, and completes or
/// rolls back; nothing is applied twice, and the ledger verifies.
/// </summary>
public sealed class ApplyCrashTests : ApplyTestBase
{
    private const string ApplyScript = """
        param($snapshot, $policy, $store, $signer, $request)
        Connect-AgentGovernance -SnapshotPath $snapshot -PolicyPath $policy -StorePath $store -LedgerSignerPath $signer
        Invoke-ApprovedChange $request -Force
        """;

    private const string UndoScript = """
        param($snapshot, $policy, $store, $signer, $request)
        Connect-AgentGovernance -SnapshotPath $snapshot -PolicyPath $policy -StorePath $store -LedgerSignerPath $signer
        Undo-ApprovedChange $request
        """;

    public ApplyCrashTests(HostFixture fixture)
        : base(fixture)
    {
    }

    public static TheoryData<string> ApplyPoints() => new()
    {
        "Apply.IntentWritten", "SnapshotFile.Writing", "AtomicFile.Flushed:tiny.snapshot.json", "SnapshotFile.Written", "Apply.Operation1.Applied", "Apply.Operation1.Recorded",
        "Apply.Operation2.Applied", "Apply.Operation3.Applied", "Apply.Operation3.Recorded", "Apply.Completed",
    };

    private void Crash(string script, string point, string requestId)
    {
        var file = Temp.Write("crash.ps1", script);
        using var worker = WorkerProcess.Start(file, new[] { SnapshotFile, Temp["policy.psd1"], StorePath, Temp["worker/signer.json"], requestId }, crashAt: point);
        Assert.True(worker.WaitForExit(TimeSpan.FromMinutes(2)), worker.Describe());
        Assert.True(worker.ExitCode != 0, "the worker was not killed at " + point + ": " + worker.Describe());
    }

    [Theory]
    [MemberData(nameof(ApplyPoints))]
    public void AnApplyKilledAfterAnyStepIsCompletedByTheNextOneAndNothingIsAppliedTwice(string point)
    {
        ConnectForApply();
        var request = Approved(ThreeOperations);

        Crash(ApplyScript, point, request.RequestId);

        var status = Get(request.RequestId).Status;
        Assert.True(status is ApprovalStatus.Applying or ApprovalStatus.Applied, $"{point}: {status}");
        var result = Invoke(request.RequestId);
        var entries = Log("-RequestId " + request.RequestId);
        if (point == "Apply.Completed")
        {
            // The outcome was written before the kill: the apply is done, and the approval used.
            Assert.Equal("AlreadyApplied", Assert.Single(result.Errors).FullyQualifiedErrorId.Split(',')[0]);
        }
        else
        {
            Assert.True(result.Errors.Count == 0, point + ": " + string.Join("; ", result.Errors));
            var applied = result.Single<ApplyResult>();
            Assert.True(applied.Recovered);
            Assert.Equal(ApplyOutcome.Applied, applied.Outcome);
            Assert.Single(entries, e => e.Event == LedgerEvents.ApplyRecovered);
        }

        AssertThreeOperationsInEffect(Directory);
        foreach (var index in new[] { 0, 1, 2 })
        {
            Assert.Single(entries, e => e.Event == LedgerEvents.OperationApplied && Convert.ToInt32(e.Details["index"]) == index);
        }

        Assert.Single(entries, e => e.Event == LedgerEvents.ApplyStarted);
        Assert.Single(entries, e => e.Event == LedgerEvents.ApplyCompleted);
        Assert.Equal(ApprovalStatus.Applied, Get(request.RequestId).Status);
        var verification = RunClean("Test-GovernanceAuditLog 3>$null").Single<LedgerVerification>();
        Assert.True(verification.IsValid, verification.Message);
    }

    [Theory]
    [InlineData("Apply.Operation2.Recorded")]
    [InlineData("SnapshotFile.Written")]
    public void UndoOfAnApplyKilledMidwayRollsBackWhatItApplied(string point)
    {
        ConnectForApply();
        var before = File.ReadAllBytes(SnapshotFile);
        var request = Approved(ThreeOperations);
        Crash(ApplyScript, point, request.RequestId);

        var result = RunClean("Undo-ApprovedChange $args[0]", request.RequestId).Single<ApplyResult>();

        Assert.Equal(ApplyOutcome.RolledBack, result.Outcome);
        Assert.Equal(before, File.ReadAllBytes(SnapshotFile));
        Assert.Equal(ApprovalStatus.Approved, Get(request.RequestId).Status);
        Assert.True(RunClean("Test-GovernanceAuditLog -Quiet").Single<bool>());
    }

    [Fact]
    public void AnApplyKilledMidwayWhoseApprovalIsNoLongerGoodIsRolledBack()
    {
        ConnectForApply();
        var before = File.ReadAllBytes(SnapshotFile);
        var request = Approved(ThreeOperations);
        Crash(ApplyScript, "Apply.Operation1.Recorded", request.RequestId);
        // Meanwhile the policy now needs three approvals for this risk.
        Connect(extraPolicy: "    RequiredApprovals = @{ None = 3; Low = 3; Medium = 3; High = 3; Critical = 3 }\n");

        var result = Invoke(request.RequestId).Single<ApplyResult>();

        Assert.Equal(ApplyOutcome.RolledBack, result.Outcome);
        Assert.Contains("PolicyChanged", result.Reason);
        Assert.Equal(before, File.ReadAllBytes(SnapshotFile));
    }

    [Fact]
    public void AnUndoKilledMidwayIsFinishedByTheNextUndo()
    {
        ConnectForApply();
        var before = File.ReadAllBytes(SnapshotFile);
        var request = Approved(ThreeOperations);
        Assert.Empty(Invoke(request.RequestId).Errors);

        Crash(UndoScript, "Undo.Operation3.Reverted", request.RequestId);
        Assert.Equal(ApprovalStatus.Applied, Get(request.RequestId).Status);
        var result = RunClean("Undo-ApprovedChange $args[0]", request.RequestId).Single<ApplyResult>();

        Assert.Equal(ApplyOutcome.Undone, result.Outcome);
        Assert.Equal(before, File.ReadAllBytes(SnapshotFile));
        var reverts = Log("-Event OperationReverted -RequestId " + request.RequestId);
        Assert.Equal(3, reverts.Count);
        Assert.True(RunClean("Test-GovernanceAuditLog -Quiet").Single<bool>());
    }

    [Fact]
    public void ASecondApplyWhileTheFirstIsRunningIsToldToWait()
    {
        ConnectForApply();
        var request = Approved();
        using var holder = RunClean("[AgentGovernance.Stores.FolderStore]::Open($args[0]).LockRequest($args[1], [TimeSpan]::FromSeconds(1))", StorePath, request.RequestId).Output.Single().BaseObject as IDisposable;

        var result = Invoke(request.RequestId);

        Assert.Equal("RequestBusy", Assert.Single(result.Errors).FullyQualifiedErrorId.Split(',')[0]);
    }
}
