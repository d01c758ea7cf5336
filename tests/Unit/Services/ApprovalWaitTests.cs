using System.Diagnostics;
using AgentGovernance.Apply;
using AgentGovernance.Approval;
using AgentGovernance.Ledger;
using AgentGovernance.Tests.Support;

namespace AgentGovernance.Tests.Services;

/// <summary>
/// The wait for a decision (ApprovalService.WaitForDecision) and approval expiry, on the module's clock
/// moved by the test (the service's sleep is replaced, so no test sleeps), and cancellation as Ctrl+C gives it.
/// </summary>
[Collection(ClockCollection.Name)]
public sealed class ApprovalWaitTests : IDisposable
{
    private readonly ServiceWorld _world = new();
    private readonly TestClock _clock = new(DateTimeOffset.UtcNow);

    public void Dispose()
    {
        _clock.Dispose();
        _world.Dispose();
    }

    /// <summary>A sleep that moves the module's clock on by the interval and runs <paramref name="each"/> (the world elsewhere).</summary>
    private Func<TimeSpan, CancellationToken, bool> FakeSleep(List<TimeSpan> slept, Action<int>? each = null) => (interval, token) =>
    {
        slept.Add(interval);
        _clock.Advance(interval);
        each?.Invoke(slept.Count);
        return token.IsCancellationRequested;
    };

    [Fact]
    public void TheWaitEndsWhenTheQuorumIsMetElsewhere()
    {
        var request = _world.Open();
        var approvals = _world.Approvals();
        var slept = new List<TimeSpan>();
        approvals.Sleep = FakeSleep(slept, n => _world.Decide(request.RequestId, n == 1 ? "carol" : "erin"));
        var looks = new List<WaitProgress>();

        var result = approvals.WaitForDecision(request, TimeSpan.FromHours(1), TimeSpan.FromSeconds(5), looks.Add, CancellationToken.None);

        Assert.Equal(WaitEnd.Decided, result.End);
        Assert.Equal(ApprovalStatus.Approved, result.Request.Status);
        Assert.Equal(2, result.Polls);
        Assert.Equal(new[] { "0/2", "1/2" }, looks.Select(l => l.Request.Quorum));
        Assert.All(slept, s => Assert.Equal(TimeSpan.FromSeconds(5), s));
    }

    [Fact]
    public void TheWaitEndsWhenItIsDenied()
    {
        var request = _world.Open();
        var approvals = _world.Approvals();
        approvals.Sleep = FakeSleep(new List<TimeSpan>(), _ => _world.Decide(request.RequestId, "carol", DecisionKind.Deny));

        var result = approvals.WaitForDecision(request, null, TimeSpan.FromSeconds(5), null, CancellationToken.None);

        Assert.Equal(WaitEnd.Decided, result.End);
        Assert.Equal(ApprovalStatus.Denied, result.Request.Status);
        Assert.Equal(1, result.Polls);
    }

    [Fact]
    public void TheWaitGivesUpAtItsTimeoutAndNeverSleepsPastIt()
    {
        var request = _world.Open();
        var approvals = _world.Approvals();
        var slept = new List<TimeSpan>();
        approvals.Sleep = FakeSleep(slept);
        var start = _clock.Now;

        var result = approvals.WaitForDecision(request, TimeSpan.FromSeconds(12), TimeSpan.FromSeconds(5), null, CancellationToken.None);

        Assert.Equal(WaitEnd.TimedOut, result.End);
        Assert.Equal(ApprovalStatus.Pending, result.Request.Status);
        Assert.Equal(new[] { 5.0, 5.0, 2.001 }, slept.Select(s => s.TotalSeconds));
        Assert.Equal(start + TimeSpan.FromMilliseconds(12_001), _clock.Now);
    }

    [Fact]
    public void TheWaitNeverOutlastsTheRequestAndRecordsItsExpiryOnce()
    {
        var request = _world.Open(options: new OpenRequestOptions { ExpiresIn = TimeSpan.FromMinutes(1) });
        var approvals = _world.Approvals();
        approvals.Sleep = FakeSleep(new List<TimeSpan>());
        var looks = new List<WaitProgress>();

        var result = approvals.WaitForDecision(request, TimeSpan.FromDays(1), TimeSpan.FromSeconds(20), looks.Add, CancellationToken.None);

        Assert.Equal(request.ExpiresAt, looks[0].Deadline);
        Assert.Equal(ApprovalStatus.Expired, result.Request.Status);
        Assert.Equal(WaitEnd.Decided, result.End);
        approvals.WaitForDecision(result.Request, null, TimeSpan.FromSeconds(20), null, CancellationToken.None);
        Assert.Single(_world.Ledger(), e => e.Event == LedgerEvents.Expired);
    }

    [Fact]
    public void CancellingTheTokenStopsARealWaitAtOnce()
    {
        var request = _world.Open();
        var approvals = _world.Approvals(); // the real sleep: the token's wait handle
        using var stop = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        var watch = Stopwatch.StartNew();

        var result = approvals.WaitForDecision(request, null, TimeSpan.FromMinutes(10), null, stop.Token);

        Assert.Equal(WaitEnd.Cancelled, result.End);
        Assert.Equal(0, result.Polls);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), $"took {watch.Elapsed}");
        Assert.Equal(ApprovalStatus.Pending, result.Request.Status);
    }

    [Fact]
    public void AWaitCancelledBeforeItStartsDoesNotLookAtTheStore()
    {
        var request = _world.Open();
        var approvals = _world.Approvals();
        var slept = new List<TimeSpan>();
        approvals.Sleep = FakeSleep(slept);

        var result = approvals.WaitForDecision(request, null, TimeSpan.FromSeconds(5), null, new CancellationToken(canceled: true));

        Assert.Equal(WaitEnd.Cancelled, result.End);
        Assert.Empty(slept);
    }

    [Fact]
    public void APollIntervalUnder100MillisecondsIsRefused()
    {
        var request = _world.Open();

        var e = Assert.Throws<GovernanceException>(() => _world.Approvals().WaitForDecision(request, null, TimeSpan.FromMilliseconds(99), null, CancellationToken.None));

        Assert.Equal("PollIntervalTooShort", e.ErrorId);
    }

    [Fact]
    public void AnApprovalAfterTheRequestExpiredIsRefusedAndTheExpiryRecorded()
    {
        var request = _world.Open();
        _world.Decide(request.RequestId, "carol");
        _clock.Advance(_world.Policy.ApprovalExpiryTimeSpan + TimeSpan.FromSeconds(1));
        var approvals = _world.Approvals();

        var stored = approvals.Get(request.RequestId);
        var preview = approvals.PreviewDecision(stored, ServiceWorld.Key("erin").PublicKey.KeyId, DecisionKind.Approve);

        Assert.Equal(ApprovalStatus.Expired, stored.Status);
        Assert.Equal("ApprovalExpired", preview.Refusal?.ErrorId);
        var tail = _world.Ledger().Skip(4).Select(e => e.Event);
        Assert.Equal(new[] { LedgerEvents.Expired, LedgerEvents.ApprovalRefused }, tail);
    }

    [Fact]
    public void AnExpiredApprovalDoesNotApply()
    {
        var request = _world.Approved();
        _clock.Advance(_world.Policy.ApprovalExpiryTimeSpan + TimeSpan.FromSeconds(1));
        var bytes = File.ReadAllBytes(_world.SnapshotPath);

        var e = Assert.Throws<GovernanceException>(() => _world.Apply().PrepareApply(request.RequestId));

        Assert.Equal("ApprovalExpired", e.ErrorId);
        Assert.Equal(bytes, File.ReadAllBytes(_world.SnapshotPath));
        Assert.Equal("ApprovalExpired", _world.Ledger().Last().Details["reason"]);
    }

    [Fact]
    public void ATimeBoxedChangeIsRevertedOnceItsTimeIsUp()
    {
        var request = _world.Approved(ServiceWorld.TimeBoxed, "carol");
        var apply = _world.Apply();
        using (var prepared = apply.PrepareApply(request.RequestId))
        {
            Assert.Equal(_clock.Now + TimeSpan.FromHours(8), apply.Execute(prepared, _ => true).AccessExpiresAt);
        }

        Assert.Empty(apply.Expired());
        _clock.Advance(TimeSpan.FromHours(8));
        var due = Assert.Single(apply.Expired());
        Assert.Null(due.Skipped);
        using (var prepared = apply.PrepareUndo(request.RequestId, "expiry"))
        {
            Assert.Equal(ApplyOutcome.Undone, apply.ExecuteUndo(prepared, "expiry", _ => true).Outcome);
        }

        Assert.False(ServiceWorld.HasGrant(_world.Directory, "site-general", "u-joe", "read"));
        Assert.Empty(_world.Apply().Expired());
        Assert.Equal("expiry", _world.Ledger().Last(e => e.Event == LedgerEvents.UndoCompleted).Details["trigger"]);
    }
}
