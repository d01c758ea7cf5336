using AgentGovernance.Apply;
using AgentGovernance.Approval;
using AgentGovernance.Changes;
using AgentGovernance.Directory;
using AgentGovernance.Ledger;
using AgentGovernance.Providers;
using AgentGovernance.Stores;
using AgentGovernance.Tests.Support;

namespace AgentGovernance.Tests.Services;

/// <summary>
/// ApplyService driven directly (no runspace): the guarded apply (S1, S4, S5), rollback, undo (S9),
/// emergency revocation, and a request lease lost in the middle of an apply (issue 14).
/// </summary>
public sealed class ApplyServiceTests : IDisposable
{
    private readonly ServiceWorld _world = new();

    public void Dispose() => _world.Dispose();

    private ApplyResult Apply(string requestId, IDirectoryProvider? directory = null, Func<OperationPlan, bool>? confirm = null, IGovernanceStore? store = null)
    {
        var apply = _world.Apply(directory, store: store);
        using var prepared = apply.PrepareApply(requestId);
        return apply.Execute(prepared, confirm ?? (_ => true));
    }

    [Fact]
    public void AnApprovedChangeIsAppliedWithItsIntentAndOutcomeInTheLedger()
    {
        var request = _world.Approved();

        var result = Apply(request.RequestId);

        Assert.Equal(ApplyOutcome.Applied, result.Outcome);
        Assert.Equal(1, result.Changed);
        Assert.True(ServiceWorld.HasGrant(_world.Directory, "site-secret", "g-eng", "read"));
        Assert.Equal(ApprovalStatus.Applied, _world.Get(request.RequestId).Status);
        var tail = _world.Ledger().Skip(5).Select(e => e.Event);
        Assert.Equal(new[] { LedgerEvents.ApplyStarted, LedgerEvents.OperationApplied, LedgerEvents.ApplyCompleted }, tail);
        Assert.True(_world.Verify().IsValid);
    }

    [Fact]
    public void AnApprovalIsUsedOnce()
    {
        var request = _world.Approved();
        Apply(request.RequestId);

        var e = Assert.Throws<GovernanceException>(() => Apply(request.RequestId));

        Assert.Equal("AlreadyApplied", e.ErrorId);
    }

    [Theory]
    [InlineData(1, "QuorumNotMet")]
    [InlineData(0, "QuorumNotMet")]
    public void WithoutItsQuorumNothingIsAppliedAndTheRefusalIsRecorded(int approvals, string errorId)
    {
        var request = _world.Open();
        foreach (var a in new[] { "carol" }.Take(approvals))
        {
            _world.Decide(request.RequestId, a);
        }

        var bytes = File.ReadAllBytes(_world.SnapshotPath);

        var e = Assert.Throws<GovernanceException>(() => Apply(request.RequestId));

        Assert.Equal(errorId, e.ErrorId);
        Assert.Equal(bytes, File.ReadAllBytes(_world.SnapshotPath));
        var refused = _world.Ledger().Last();
        Assert.Equal(LedgerEvents.ApplyRefused, refused.Event);
        Assert.Equal(errorId, refused.Details["reason"]);
    }

    [Fact]
    public void ADeniedRequestIsNotApplied()
    {
        var request = _world.Approved();
        _world.Decide(request.RequestId, "frank", DecisionKind.Deny);

        Assert.Equal("RequestDenied", Assert.Throws<GovernanceException>(() => Apply(request.RequestId)).ErrorId);
        Assert.False(ServiceWorld.HasGrant(_world.Directory, "site-secret", "g-eng", "read"));
    }

    [Fact]
    public void AChangeThatGotWorseSinceItWasApprovedIsStaleAndNothingIsWritten()
    {
        var request = _world.Approved();
        // Drift: Joe (a guest) joins Engineering after the approval, so the grant now reaches a guest.
        SnapshotWriter.WriteFile(SnapshotEditor.Apply(_world.Directory, AccessOperation.AddMember("g-eng", "u-joe")), _world.SnapshotPath);
        var bytes = File.ReadAllBytes(_world.SnapshotPath);

        var e = Assert.Throws<GovernanceException>(() => Apply(request.RequestId));

        Assert.Equal("ApprovalStale", e.ErrorId);
        Assert.Contains("1 guest(s), 0 when approved", e.Message);
        Assert.Equal(bytes, File.ReadAllBytes(_world.SnapshotPath));
        Assert.Equal(ApprovalStatus.Approved, _world.Get(request.RequestId).Status);
    }

    [Fact]
    public void ARequestIsNotAppliedUnderAnotherPolicyThanItWasOpenedWith()
    {
        var request = _world.Approved();
        var changed = ServiceWorld.PolicyWith("    EmergencyRevocation = $false\n");
        var apply = _world.Apply(policy: changed);

        var e = Assert.Throws<GovernanceException>(() => apply.PrepareApply(request.RequestId));

        Assert.Equal("PolicyChanged", e.ErrorId);
        Assert.False(ServiceWorld.HasGrant(_world.Directory, "site-secret", "g-eng", "read"));
        Assert.Equal(changed.Fingerprint, _world.Ledger().Last().Details["policyFingerprint"]);
    }

    [Fact]
    public void APreviewWritesNothingNotEvenARefusal()
    {
        var request = _world.Open();
        var before = _world.Ledger().Count;

        Assert.Equal("QuorumNotMet", Assert.Throws<GovernanceException>(() => _world.Apply().PrepareApply(request.RequestId, audit: false)).ErrorId);
        Assert.Equal(before, _world.Ledger().Count);
        Assert.False(System.IO.Directory.Exists(Path.Combine(_world.StorePath, "applying")));
    }

    [Fact]
    public void ADeclinedOperationRollsBackTheOnesBeforeIt()
    {
        var request = _world.Approved(ServiceWorld.ThreeOperations);
        var directory = new WatchedDirectory(new SnapshotFileProvider(_world.SnapshotPath));
        var before = File.ReadAllBytes(_world.SnapshotPath);

        var result = Apply(request.RequestId, directory, plan => plan.Operation.Op != OperationKind.Grant);

        Assert.Equal(ApplyOutcome.RolledBack, result.Outcome);
        Assert.Contains("declined", result.Reason);
        Assert.Equal(new[] { "apply add u-alice to group g-data", "revert remove u-alice from group g-data" }, directory.Writes);
        Assert.Equal(before, File.ReadAllBytes(_world.SnapshotPath));
        Assert.Equal(ApprovalStatus.Approved, _world.Get(request.RequestId).Status);
    }

    [Fact]
    public void AFailedOperationIsReportedAndWhatWasAppliedIsReverted()
    {
        var request = _world.Approved(ServiceWorld.ThreeOperations);
        var directory = new WatchedDirectory(new SnapshotFileProvider(_world.SnapshotPath)) { FailAt = 3 };
        var before = File.ReadAllBytes(_world.SnapshotPath);

        var e = Assert.Throws<GovernanceException>(() => Apply(request.RequestId, directory));

        Assert.Equal("ApplyFailed", e.ErrorId);
        Assert.Equal(5, directory.Writes.Count); // two applied, the third failed, the two reverted
        Assert.Equal(before, File.ReadAllBytes(_world.SnapshotPath));
        var ledger = _world.Ledger();
        Assert.Equal("DirectoryWriteFailed", ledger.Single(x => x.Event == LedgerEvents.ApplyFailed).Details["errorId"]);
        Assert.Equal(LedgerEvents.ApplyRolledBack, ledger.Last().Event);
    }

    [Fact]
    public void UndoRevertsTheAppliedChangeOnceWithoutAnotherApproval()
    {
        var request = _world.Approved();
        Apply(request.RequestId);
        var apply = _world.Apply();

        using (var prepared = apply.PrepareUndo(request.RequestId, "undo"))
        {
            var undone = apply.ExecuteUndo(prepared, "undo", _ => true);
            Assert.Equal(ApplyOutcome.Undone, undone.Outcome);
        }

        Assert.False(ServiceWorld.HasGrant(_world.Directory, "site-secret", "g-eng", "read"));
        Assert.Equal(ApprovalStatus.Undone, _world.Get(request.RequestId).Status);
        Assert.Equal("AlreadyUndone", Assert.Throws<GovernanceException>(() => apply.PrepareUndo(request.RequestId, "undo")).ErrorId);
        Assert.True(_world.Verify().IsValid);
    }

    [Fact]
    public void WhatWasNeverAppliedCannotBeUndone()
    {
        var request = _world.Approved();

        Assert.Equal("NotApplied", Assert.Throws<GovernanceException>(() => _world.Apply().PrepareUndo(request.RequestId, "undo")).ErrorId);
    }

    [Fact]
    public void UndoOfAMixedChangeRevertsTheGrantButWithholdsPuttingTheRemovedMemberBack()
    {
        var mixed = CmdletTestData.Change(
            "{ \"op\": \"grant\", \"resource\": \"site-general\", \"principal\": \"u-joe\", \"role\": \"read\" }, { \"op\": \"removeMember\", \"group\": \"g-data\", \"member\": \"u-carol\" }",
            "\"requestedBy\": \"bob@tiny.example\", \"title\": \"Mixed\"");
        var request = _world.Approved(mixed);
        Apply(request.RequestId);
        var apply = _world.Apply();

        ApplyResult undone;
        using (var prepared = apply.PrepareUndo(request.RequestId, "undo"))
        {
            undone = apply.ExecuteUndo(prepared, "undo", _ => true);
        }

        var now = _world.Directory;
        Assert.False(ServiceWorld.HasGrant(now, "site-general", "u-joe", "read"));
        Assert.DoesNotContain("u-carol", now.GetMembers("g-data"));
        Assert.Equal("add u-carol to group g-data", Assert.Single(undone.Withheld).ToString());
        Assert.NotNull(undone.FollowUpChange);
    }

    [Fact]
    public void AnEmergencyRevocationAppliesWithoutApprovalButOnlyNarrows()
    {
        var apply = _world.Apply();
        var revoke = ChangeReader.ParseText(CmdletTestData.Change("{ \"op\": \"revoke\", \"resource\": \"site-secret\", \"principal\": \"g-data\", \"role\": \"read\" }", "\"requestedBy\": \"bob@tiny.example\""));
        var widen = ChangeReader.ParseText(CmdletTestData.GrantChange);

        Assert.Equal("ApprovalRequired", Assert.Throws<GovernanceException>(() => apply.PrepareEmergencyRevocation(widen)).ErrorId);
        ApplyResult result;
        using (var prepared = apply.PrepareEmergencyRevocation(revoke))
        {
            result = apply.Execute(prepared, _ => true);
        }

        Assert.Equal(ApplyOutcome.Applied, result.Outcome);
        Assert.StartsWith("rev-", result.RequestId, StringComparison.Ordinal);
        Assert.False(ServiceWorld.HasGrant(_world.Directory, "site-secret", "g-data", "read"));
        Assert.Contains(_world.Ledger(), e => e.Event == LedgerEvents.EmergencyRevocation && e.RequestId == result.RequestId);
    }

    [Fact]
    public void AnApplyStopsBeforeItsNextDirectoryWriteOnceItsLeaseIsLost()
    {
        // Attack (issue 14): another worker takes the request over (its lease expired, or it could not be
        // renewed) while this one is between the operations of a multi-operation apply.
        var request = _world.Approved(ServiceWorld.ThreeOperations);
        var store = new LeasedStore(FolderStore.Open(_world.StorePath));
        var directory = new WatchedDirectory(new SnapshotFileProvider(_world.SnapshotPath));
        directory.AfterWrite = n =>
        {
            if (n == 1)
            {
                store.Leases.Last().Lost = true;
            }
        };

        var e = Assert.Throws<GovernanceException>(() => Apply(request.RequestId, directory, store: store));

        Assert.Equal("RequestLockLost", e.ErrorId);
        Assert.Equal(new[] { "apply add u-alice to group g-data" }, directory.Writes); // no second write, and no rollback under a lock it no longer holds
        var ledger = _world.Ledger();
        var stopped = ledger.Last();
        Assert.Equal(LedgerEvents.ApplyFailed, stopped.Event);
        Assert.Equal("RequestLockLost", stopped.Details["errorId"]);
        Assert.Equal(1L, Convert.ToInt64(stopped.Details["index"], System.Globalization.CultureInfo.InvariantCulture));
        // The apply stays in progress (intent without outcome): the worker that holds the request now completes or rolls it back.
        Assert.Equal(ApprovalStatus.Applying, _world.Get(request.RequestId).Status);
        Assert.True(_world.Verify().IsValid);
    }

    [Fact]
    public void AnApplyWhoseLeaseIsLostBeforeItStartsWritesNothingToTheDirectory()
    {
        var request = _world.Approved(ServiceWorld.ThreeOperations);
        var store = new LeasedStore(FolderStore.Open(_world.StorePath));
        var directory = new WatchedDirectory(new SnapshotFileProvider(_world.SnapshotPath));
        var apply = _world.Apply(directory, store: store);
        using var prepared = apply.PrepareApply(request.RequestId);
        store.Leases.Last().Lost = true;

        Assert.Equal("RequestLockLost", Assert.Throws<GovernanceException>(() => apply.Execute(prepared, _ => true)).ErrorId);

        Assert.Empty(directory.Writes);
        Assert.DoesNotContain(_world.Ledger(), x => x.Event == LedgerEvents.ApplyStarted);
        Assert.Equal(ApprovalStatus.Approved, _world.Get(request.RequestId).Status);
    }

    [Fact]
    public void ARollbackStopsOnceItsLeaseIsLost()
    {
        var request = _world.Approved(ServiceWorld.ThreeOperations);
        var store = new LeasedStore(FolderStore.Open(_world.StorePath));
        var directory = new WatchedDirectory(new SnapshotFileProvider(_world.SnapshotPath));
        // Two applied; the third is declined; the lease is lost after the first revert of the rollback.
        directory.AfterWrite = n =>
        {
            if (n == 3)
            {
                store.Leases.Last().Lost = true;
            }
        };

        var e = Assert.Throws<GovernanceException>(() => Apply(request.RequestId, directory, plan => plan.Operation.Op != OperationKind.SetVisibility, store));

        Assert.Equal("RequestLockLost", e.ErrorId);
        Assert.Equal(3, directory.Writes.Count);
        Assert.Equal(ApprovalStatus.Applying, _world.Get(request.RequestId).Status);
    }

    [Fact]
    public void AnUndoStopsOnceItsLeaseIsLost()
    {
        var request = _world.Approved(ServiceWorld.ThreeOperations);
        Apply(request.RequestId);
        var store = new LeasedStore(FolderStore.Open(_world.StorePath));
        var directory = new WatchedDirectory(new SnapshotFileProvider(_world.SnapshotPath));
        directory.AfterWrite = _ => store.Leases.Last().Lost = true;
        var apply = _world.Apply(directory, store: store);
        using var prepared = apply.PrepareUndo(request.RequestId, "undo");

        var e = Assert.Throws<GovernanceException>(() => apply.ExecuteUndo(prepared, "undo", _ => true));

        Assert.Equal("RequestLockLost", e.ErrorId);
        Assert.Single(directory.Writes);
        Assert.Equal("RequestLockLost", _world.Ledger().Last().Details["errorId"]);
    }
}
