using System.Management.Automation;
using AgentGovernance.Apply;
using AgentGovernance.Approval;
using AgentGovernance.Ledger;
using AgentGovernance.Tests.Support;

namespace AgentGovernance.Tests.Cmdlets;

/// <summary>Access that expires by itself (the clock moved in-process), and an operation that fails midway (a fault injected in-process).</summary>
[Collection(ClockCollection.Name)]
public sealed class ApplyExpiryAndFaultTests : ApplyTestBase
{
    public ApplyExpiryAndFaultTests(HostFixture fixture)
        : base(fixture)
    {
    }

    [Fact]
    public void ExpiredAccessIsRevertedOnceAndAccessNotYetDueIsLeftAlone()
    {
        using var clock = new TestClock(DateTimeOffset.UtcNow);
        ConnectForApply();
        var small = Approved(CmdletTestData.SmallChange, "-RequestedBy bob@tiny.example", "carol");
        var longer = Approved(ChangeWith("\"requestedBy\": \"bob@tiny.example\", \"duration\": \"P1D\"", "{ \"op\": \"grant\", \"resource\": \"site-general\", \"principal\": \"sp-app\", \"role\": \"read\" }"), keys: "carol");
        var permanent = Approved();
        foreach (var r in new[] { small, longer, permanent })
        {
            Assert.Empty(Invoke(r.RequestId).Errors);
        }

        Assert.Empty(RunClean("Invoke-AccessExpiry").Output);
        clock.Advance(TimeSpan.FromHours(8) + TimeSpan.FromSeconds(1));

        var first = RunClean("Invoke-AccessExpiry -Verbose");
        var second = RunClean("Invoke-AccessExpiry -Verbose");

        var reverted = first.Single<ApplyResult>();
        Assert.Equal((small.RequestId, "Expiry", ApplyOutcome.Undone), (reverted.RequestId, reverted.Action, reverted.Outcome));
        Assert.Contains(first.Verbose, v => v.Contains("1 change(s) due, 1 reverted, 0 not reverted"));
        Assert.Empty(second.Output);
        Assert.Contains(second.Verbose, v => v.Contains("0 change(s) due"));
        Assert.False(HasGrant(Directory, "site-general", "u-joe", "read"));
        Assert.True(HasGrant(Directory, "site-general", "sp-app", "read"));
        Assert.True(HasGrant(Directory, "site-secret", "g-eng", "read"));
        Assert.Equal(ApprovalStatus.Undone, Get(small.RequestId).Status);
        Assert.Equal("expiry", Log("-Event UndoStarted").Single().Details["trigger"]);
        Assert.StartsWith("access expired and was reverted", Log("-Event UndoCompleted").Single().Summary);

        clock.Advance(TimeSpan.FromDays(1));
        Assert.Equal(longer.RequestId, RunClean("Invoke-AccessExpiry").Single<ApplyResult>().RequestId);
        Assert.True(RunClean("Test-GovernanceAuditLog -Quiet").Single<bool>());
    }

    [Fact]
    public void WhatIfListsWhatWouldExpireAndRevertsNothing()
    {
        using var clock = new TestClock(DateTimeOffset.UtcNow);
        ConnectForApply();
        var small = Approved(CmdletTestData.SmallChange, "-RequestedBy bob@tiny.example", "carol");
        Invoke(small.RequestId);
        clock.Advance(TimeSpan.FromHours(9));
        Ps.TakeScreen();

        RunClean("Invoke-AccessExpiry -WhatIf");

        Assert.Contains("Revert expired access", PowerShellHost.Plain(Ps.TakeScreen()));
        Assert.True(HasGrant(Directory, "site-general", "u-joe", "read"));
        Assert.Equal(ApprovalStatus.Applied, Get(small.RequestId).Status);
    }

    [Fact]
    public void ApprovalsThatExpiredBeforeTheApplyAreRefused()
    {
        using var clock = new TestClock(DateTimeOffset.UtcNow);
        ConnectForApply();
        var request = Approved();
        clock.Advance(TimeSpan.FromDays(1) + TimeSpan.FromSeconds(1));

        SingleError(Invoke(request.RequestId), "ApprovalExpired", "InvokeApprovedChangeCommand", ErrorCategory.PermissionDenied);
        Assert.False(HasGrant(Directory, "site-secret", "g-eng", "read"));
    }

    [Fact]
    public void WhenAnOperationFailsTheOnesAppliedBeforeItAreRevertedAndTheLedgerSaysSo()
    {
        ConnectForApply();
        var request = Approved(ThreeOperations);
        var before = File.ReadAllBytes(SnapshotFile);
        var writes = 0;
        FaultInjection.Hook = point =>
        {
            if (point == "SnapshotFile.Writing" && ++writes == 3)
            {
                throw new GovernanceException("DirectoryWriteFailed", GovernanceErrorKind.WriteError, "injected: the directory refused the third write");
            }
        };
        RunResult result;
        try
        {
            result = Invoke(request.RequestId);
        }
        finally
        {
            FaultInjection.Hook = null;
        }

        var error = SingleError(result, "ApplyFailed", "InvokeApprovedChangeCommand", ErrorCategory.WriteError);
        Assert.Contains("failed at operation 3", error.Exception.Message);
        Assert.Equal(before, File.ReadAllBytes(SnapshotFile));
        var events = Log("-RequestId " + request.RequestId).Select(e => e.Event).SkipWhile(e => e != LedgerEvents.ApplyStarted).ToList();
        Assert.Equal(new[]
        {
            LedgerEvents.ApplyStarted, LedgerEvents.OperationApplied, LedgerEvents.OperationApplied, LedgerEvents.ApplyFailed,
            LedgerEvents.OperationReverted, LedgerEvents.OperationReverted, LedgerEvents.ApplyRolledBack,
        }, events);
        // Nothing is in effect, the approvals were not used: it can be applied once the directory takes writes again.
        Assert.Equal(ApprovalStatus.Approved, Get(request.RequestId).Status);
        Assert.Equal(ApplyOutcome.Applied, Invoke(request.RequestId).Single<ApplyResult>().Outcome);
        AssertThreeOperationsInEffect(Directory);
        Assert.True(RunClean("Test-GovernanceAuditLog -Quiet").Single<bool>());
    }
}
