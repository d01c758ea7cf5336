using System.Management.Automation;
using AgentGovernance.Approval;
using AgentGovernance.Ledger;
using AgentGovernance.Tests.Support;

namespace AgentGovernance.Tests.Cmdlets;

/// <summary>S4: approvals expire. The module's clock is moved in-process (no user can move it).</summary>
[Collection(ClockCollection.Name)]
public sealed class ApprovalExpiryTests : ApprovalTestBase
{
    public ApprovalExpiryTests(HostFixture fixture)
        : base(fixture)
    {
    }

    [Fact]
    public void ADecisionAfterTheRequestExpiredIsRefusedAndTheExpiryIsRecordedOnce()
    {
        using var clock = new TestClock(DateTimeOffset.UtcNow);
        Connect();
        var request = Open(options: "-ExpiresIn PT2H");
        Assert.Equal(request.CreatedAt + TimeSpan.FromHours(2), request.ExpiresAt);
        Approve(request.RequestId, "carol");

        clock.Advance(TimeSpan.FromHours(2) + TimeSpan.FromSeconds(1));
        var late = Approve(request.RequestId, "erin");
        Approve(request.RequestId, "frank");

        SingleError(late, "ApprovalExpired", "ApproveAccessChangeCommand", ErrorCategory.InvalidOperation);
        var after = Get(request.RequestId);
        Assert.Equal(ApprovalStatus.Expired, after.Status);
        Assert.Equal(1, after.Approvals);
        Assert.Single(Log("-Event Expired"));
        Assert.Equal(2, Log("-Event ApprovalRefused").Count);
    }

    [Fact]
    public void AnApprovedRequestExpiresToo()
    {
        using var clock = new TestClock(DateTimeOffset.UtcNow);
        Connect();
        var request = Open();
        Approve(request.RequestId, "carol");
        Approve(request.RequestId, "erin");
        Assert.Equal(ApprovalStatus.Approved, Get(request.RequestId).Status);

        clock.Advance(TimeSpan.FromDays(1) + TimeSpan.FromMinutes(1));

        Assert.Equal(ApprovalStatus.Expired, Get(request.RequestId).Status);
        Assert.Equal(2, Get(request.RequestId).Approvals);
    }

    [Fact]
    public void TheDefaultExpiryIsThePolicysAndADecisionDatedOutsideTheWindowDoesNotCount()
    {
        using var clock = new TestClock(new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero));
        Connect(extraPolicy: "    ApprovalExpiry = 'PT8H'\n");
        var request = Open();
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 17, 0, 0, TimeSpan.Zero), request.ExpiresAt);

        // A decision signed "later" by a genuine key and slipped into the store with a ledger entry
        // still does not count: its own date is outside the window.
        clock.Advance(TimeSpan.FromHours(9));
        using var carol = ApproverKeyFile.Open(ApprovalTestData.Keys["carol@tiny.example"].Path, System.Text.Encoding.UTF8.GetBytes(ApprovalTestData.Passphrase));
        var late = ApprovalDecision.Sign(carol, request, DecisionKind.Approve, "carol@tiny.example", GovernanceClock.UtcNow, null);
        System.IO.Directory.CreateDirectory(Path.Combine(StorePath, "decisions", request.RequestId));
        File.WriteAllBytes(Path.Combine(StorePath, "decisions", request.RequestId, late.DecisionId + ".json"), late.Document);
        clock.Advance(TimeSpan.FromHours(-8.5));

        var after = Get(request.RequestId);
        Assert.Equal("ApprovalExpired", after.Decisions.Single().ProblemId);
    }

    [Fact]
    public async Task WaitStopsAtTheRequestsExpiryAndRecordsIt()
    {
        using var clock = new TestClock(DateTimeOffset.UtcNow);
        Connect();
        Temp.Write("change.json", CmdletTestData.GrantChange);
        var task = Task.Run(() => Run("Import-AccessChange change.json | Request-HumanApproval -ExpiresIn PT1M -Wait -PollInterval 00:00:00.1"));
        await Task.Delay(500);
        clock.Advance(TimeSpan.FromMinutes(2));
        var result = await task;

        Assert.Empty(result.Errors);
        Assert.Equal(ApprovalStatus.Expired, result.Single<ApprovalRequest>().Status);
        Assert.Single(Log("-Event Expired"));
    }
}
