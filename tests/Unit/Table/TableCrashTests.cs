using AgentGovernance.Ledger;
using AgentGovernance.Tests.Cmdlets;
using AgentGovernance.Tests.Support;

namespace AgentGovernance.Tests.Table;

/// <summary>
/// kill -9 in the middle of a ledger append on a table store: a worker process requesting approvals is
/// killed at each fault-injection point of the append, and at chosen moments inside the insert's HTTP
/// request. Afterwards the ledger verifies, no append is visible in part, and the next append succeeds.
/// </summary>
[Collection("Azurite")]
public sealed class TableCrashTests : ApplyTestBase
{
    private const string RequestScript = """
        param($snapshot, $policy, $connection, $table, $signer, $change)
        $ErrorActionPreference = 'Stop'
        $cs = [System.Net.NetworkCredential]::new('', $connection).SecurePassword
        Connect-AgentGovernance -SnapshotPath $snapshot -PolicyPath $policy -StoreConnectionString $cs -StoreTable $table -LedgerSignerPath $signer
        foreach ($i in 1..50) {
            $r = Import-AccessChange $change | Request-HumanApproval
            "done $($r.RequestId)"
        }
        """;

    private readonly Azurite _azurite;

    public TableCrashTests(HostFixture fixture, Azurite azurite)
        : base(fixture)
    {
        _azurite = azurite;
    }

    public static TheoryData<string> Points() => new()
    {
        // An append's checkpoint is in the same transaction as its entries (no Checkpoint.* point on the way).
        "TableStore.Ledger.Sending", "TableStore.Ledger.Sent",

        // In flight: the insert's request is on its way, or its answer is.
        "TableStore.Ledger.Sending+300", "TableStore.Ledger.Sending+1500", "TableStore.Ledger.Sending+4000",
    };

    [Theory]
    [MemberData(nameof(Points))]
    public void A_writer_killed_in_the_middle_of_an_append_leaves_a_ledger_that_verifies_whole_entries_only_and_room_for_the_next(string point)
    {
        ConnectForApply();
        var table = _azurite.NewTable("x");
        RunClean("Connect-AgentGovernance -StoreConnectionString ([System.Net.NetworkCredential]::new('', $args[0]).SecurePassword) -StoreTable $args[1]", _azurite.ConnectionString, table);
        var before = Open().RequestId;
        Temp.Write("change.json", CmdletTestData.GrantChange);

        var script = Temp.Write("crash.ps1", RequestScript);
        using (var worker = WorkerProcess.Start(script, new[] { SnapshotFile, Temp["policy.psd1"], _azurite.ConnectionString, table, Temp["worker/signer.json"], Temp["change.json"] }, crashAt: point))
        {
            Assert.True(worker.WaitForExit(TimeSpan.FromMinutes(4)), worker.Describe());
            Assert.True(worker.ExitCode != 0, $"the worker was not killed at {point}: {worker.Describe()}");
        }

        AssertWhole(point);

        // The next append chains onto whatever the dead writer left, and the ledger still verifies.
        var after = Open().RequestId;
        AssertWhole(point);
        var log = Log();
        Assert.Contains(log, e => e.RequestId == before && e.Event == LedgerEvents.ApprovalRequested);
        Assert.Equal(LedgerEvents.ApprovalRequested, log[^1].Event);
        Assert.Equal(after, log[^1].RequestId);
    }

    private void AssertWhole(string point)
    {
        var verification = RunClean("Test-GovernanceAuditLog").Single<LedgerVerification>();
        Assert.True(verification.IsValid, point + ": " + verification.Message);
        var log = Log();
        Assert.Equal(Enumerable.Range(1, log.Count).Select(i => (long)i), log.Select(e => e.Sequence));

        // A request's three entries were one append: all of them are there, or none.
        foreach (var request in log.Where(e => e.Event == LedgerEvents.ChangeProposed).Select(e => e.RequestId))
        {
            Assert.Equal(
                new[] { LedgerEvents.ChangeProposed, LedgerEvents.RiskAssessed, LedgerEvents.ApprovalRequested },
                log.Where(e => e.RequestId == request).Select(e => e.Event));
        }

        Assert.Equal(log.Count(e => e.Event == LedgerEvents.ChangeProposed), log.Count(e => e.Event == LedgerEvents.ApprovalRequested));
    }
}
