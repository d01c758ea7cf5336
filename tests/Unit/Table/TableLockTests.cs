using System.Diagnostics;
using AgentGovernance.Approval;
using AgentGovernance.Ledger;
using AgentGovernance.Stores;
using AgentGovernance.Tests.Cmdlets;
using AgentGovernance.Tests.Support;
using Azure.Data.Tables;

namespace AgentGovernance.Tests.Table;

/// <summary>
/// Request locks across processes (worker processes, not runspaces): racing applies of one request on a
/// table store and on a folder store, a lease holder killed with kill -9, and a quorum raced by deciders.
/// </summary>
[Collection("Azurite")]
public sealed class TableLockTests : ApplyTestBase
{
    // Connects, says it is ready, and waits for the go file, so that every worker starts its race at once.
    private const string Prologue = """
        $ErrorActionPreference = 'Stop'
        if ($store -like 'table:*') {
            $cs = [System.Net.NetworkCredential]::new('', $connection).SecurePassword
            Connect-AgentGovernance -SnapshotPath $snapshot -PolicyPath $policy -StoreConnectionString $cs -StoreTable $store.Substring(6) -LedgerSignerPath $signer
        } else {
            Connect-AgentGovernance -SnapshotPath $snapshot -PolicyPath $policy -StorePath $store -LedgerSignerPath $signer
        }
        'ready'
        while (-not [System.IO.File]::Exists($go)) { [System.Threading.Thread]::Sleep(10) }
        """;

    private const string ApplyScript = "param($snapshot, $policy, $connection, $store, $signer, $go, $request)\n" + Prologue + """

        try { $null = Invoke-ApprovedChange $request -Force; 'applied' }
        catch { "refused $($_.FullyQualifiedErrorId.Split(',')[0])" }
        """;

    private const string DecideScript = "param($snapshot, $policy, $connection, $store, $signer, $go, $key, $pass, $requests)\n" + Prologue + """

        $pw = [System.Net.NetworkCredential]::new('', $pass).SecurePassword
        foreach ($id in $requests.Split(',')) {
            try { $null = Approve-AccessChange -RequestId $id -KeyPath $key -Passphrase $pw -Force -WarningAction SilentlyContinue; "approved $id" }
            catch { "refused $id $($_.FullyQualifiedErrorId.Split(',')[0])" }
        }
        """;

    // Holds a request lock on a table store with a short lease until it is killed.
    private const string HoldScript = """
        param($connection, $table, $request, $leaseSeconds)
        $ErrorActionPreference = 'Stop'
        $options = [AgentGovernance.Stores.TableStoreOptions]::new()
        $options.ConnectionString = $connection
        $options.Table = $table
        $options.LeaseDuration = [TimeSpan]::FromSeconds([double]$leaseSeconds)
        $loader = $options.GetType().Assembly.GetType('AgentGovernance.Stores.TableStoreLoader')
        $store = $loader.GetMethod('Open').Invoke($null, @($options, (Get-Module AgentGovernance).ModuleBase))
        $held = $store.LockRequest($request, [TimeSpan]::FromSeconds(60))
        "held $PID"
        [System.Threading.Thread]::Sleep(600000)
        """;

    private readonly Azurite _azurite;

    public TableLockTests(HostFixture fixture, Azurite azurite)
        : base(fixture)
    {
        _azurite = azurite;
    }

    /// <summary>"table:&lt;name&gt;" for a new table store (the session connected to it), or the session's folder store.</summary>
    private string ConnectStore(string kind)
    {
        ConnectForApply();
        if (kind == "folder")
        {
            return StorePath;
        }

        var table = _azurite.NewTable("l");
        RunClean("Connect-AgentGovernance -StoreConnectionString ([System.Net.NetworkCredential]::new('', $args[0]).SecurePassword) -StoreTable $args[1]", _azurite.ConnectionString, table);
        return "table:" + table;
    }

    /// <summary>Starts the workers, waits until each is connected, then lets them all go at once.</summary>
    private List<WorkerProcess> Race(string script, string store, IEnumerable<string[]> extra)
    {
        var file = Temp.Write("race.ps1", script);
        var go = Temp["go-" + Guid.NewGuid().ToString("N")];
        var workers = extra.Select((args, w) => WorkerProcess.Start(file, new[]
        {
            SnapshotFile, Temp["policy.psd1"], _azurite.ConnectionString, store, Temp[$"worker{w}/signer.json"], go,
        }.Concat(args))).ToList();
        foreach (var w in workers)
        {
            Assert.True(w.WaitForLine("ready", TimeSpan.FromMinutes(3)), w.Describe());
        }

        File.WriteAllText(go, "go");
        foreach (var w in workers)
        {
            Assert.True(w.WaitForExit(TimeSpan.FromMinutes(4)), w.Describe());
            Assert.True(w.ExitCode == 0, w.Describe());
        }

        return workers;
    }

    [Theory]
    [InlineData("table")]
    [InlineData("folder")]
    public void Worker_processes_racing_one_requests_apply_apply_it_exactly_once(string kind)
    {
        var store = ConnectStore(kind);
        for (var round = 0; round < 2; round++)
        {
            var request = Approved(ThreeOperations);
            var workers = Race(ApplyScript, store, Enumerable.Range(0, 3).Select(_ => new[] { request.RequestId }));
            try
            {
                var outcomes = workers.Select(w => w.Output.Last()).ToList();
                Assert.True(outcomes.Count(o => o == "applied") == 1, string.Join(" | ", outcomes));
                Assert.All(outcomes.Where(o => o != "applied"), o => Assert.True(o is "refused AlreadyApplied" or "refused RequestBusy", o));

                var entries = Log("-RequestId " + request.RequestId);
                Assert.Single(entries, e => e.Event == LedgerEvents.ApplyStarted);
                Assert.Single(entries, e => e.Event == LedgerEvents.ApplyCompleted);
                Assert.Equal(3, entries.Count(e => e.Event == LedgerEvents.OperationApplied));
                Assert.Equal(ApprovalStatus.Applied, Get(request.RequestId).Status);
                AssertThreeOperationsInEffect(Directory);
                Assert.True(RunClean("Test-GovernanceAuditLog").Single<LedgerVerification>().IsValid);
            }
            finally
            {
                workers.ForEach(w => w.Dispose());
            }

            // The next round starts from a tenant where none of the three is in effect again.
            Assert.True(Run("Undo-ApprovedChange $args[0]", request.RequestId).Errors.Count == 0);
        }
    }

    [Fact]
    public void A_quorum_raced_by_deciders_in_three_processes_counts_each_approver_once_and_never_a_stale_count()
    {
        var store = ConnectStore("table");
        var requests = Enumerable.Range(0, 4).Select(_ => Open().RequestId).ToList();
        var carol = ApprovalTestData.Keys["carol@tiny.example"].Path;
        var erin = ApprovalTestData.Keys["erin@example.org"].Path;
        var ids = string.Join(",", requests);

        // Carol twice (one approver racing herself to make up a quorum of two), and Erin.
        var workers = Race(DecideScript, store, new[] { carol, carol, erin }.Select(k => new[] { k, ApprovalTestData.Passphrase, ids }));
        try
        {
            var lines = workers.SelectMany(w => w.Output).ToList();
            foreach (var id in requests)
            {
                Assert.Equal(2, lines.Count(l => l == "approved " + id));
                Assert.Single(lines, l => l == $"refused {id} AlreadyDecided");

                var approved = Log("-RequestId " + id).Where(e => e.Event == LedgerEvents.Approved).ToList();
                Assert.Equal(2, approved.Count);
                Assert.Equal(2, approved.Select(e => e.Actor).Distinct().Count());

                // Each decision saw the one recorded before it: 1 of 2, then 2 of 2 and the quorum met.
                Assert.Equal(new[] { 1L, 2L }, approved.Select(e => Convert.ToInt64(e.Details["approvals"])));
                Assert.Equal(new[] { false, true }, approved.Select(e => (bool)e.Details["quorumMet"]!));
                Assert.Equal(ApprovalStatus.Approved, Get(id).Status);
                Assert.Equal(2, Get(id).Approvals);
            }

            Assert.True(RunClean("Test-GovernanceAuditLog").Single<LedgerVerification>().IsValid);
        }
        finally
        {
            workers.ForEach(w => w.Dispose());
        }
    }

    [Fact]
    public void A_lease_whose_holder_is_killed_is_taken_over_after_it_expires_and_never_before()
    {
        const double lease = 3;
        var table = _azurite.NewTable("k");
        using var store = TableStoreLoader.Open(new TableStoreOptions
        {
            ConnectionString = _azurite.ConnectionString, Table = table, LeaseDuration = TimeSpan.FromSeconds(lease),
        }, Repo.ModuleFolder);
        var insider = new TableClient(_azurite.ConnectionString, table);
        var script = Temp.Write("hold.ps1", HoldScript);
        using var holder = WorkerProcess.Start(script, new[] { _azurite.ConnectionString, table, "req-held", lease.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        Assert.True(holder.WaitForLine("held ", TimeSpan.FromMinutes(3)), holder.Describe());
        var pid = holder.Output.Single(l => l.StartsWith("held ", StringComparison.Ordinal)).Substring(5);

        // Alive, it renews: more than two lease durations later it is still held.
        var watch = Stopwatch.StartNew();
        var busy = Assert.Throws<GovernanceException>(() => store.LockRequest("req-held", TimeSpan.FromSeconds(lease * 2.5)));
        Assert.Equal("RequestBusy", busy.ErrorId);
        Assert.Contains("pid " + pid, busy.Message);
        Assert.True(watch.Elapsed >= TimeSpan.FromSeconds(lease * 2.5));
        Assert.True(Rows(insider, "req-held").Count >= 4, "the holder did not renew its lease");

        holder.Kill();
        var last = Rows(insider, "req-held").Last();
        Assert.Null(last.GetBoolean("Released"));

        // Dead, it is taken over once its lease has run out (by the service's clock), with the reason recorded.
        using (var taken = (IRequestLock)store.LockRequest("req-held", TimeSpan.FromSeconds(lease * 4)))
        {
            Assert.Contains("pid " + pid, taken.TakeoverReason);
            Assert.Contains("expired", taken.TakeoverReason);
            Assert.False(taken.Lost);
            var takeover = Rows(insider, "req-held").Single(r => r.RowKey.EndsWith("|0000000002|0000000000", StringComparison.Ordinal));
            Assert.Equal(taken.TakeoverReason, takeover.GetString("Reason"));
            Assert.True(takeover.Timestamp >= last.Timestamp + TimeSpan.FromSeconds(lease),
                $"taken over at {takeover.Timestamp:O}, before the lease renewed at {last.Timestamp:O} expired");
        }

        // Released, it is free at once, with no takeover.
        using var again = (IRequestLock)store.LockRequest("req-held", TimeSpan.FromSeconds(1));
        Assert.Null(again.TakeoverReason);
    }

    private static List<TableEntity> Rows(TableClient table, string requestId) =>
        table.Query<TableEntity>($"PartitionKey eq 'lease' and RowKey ge '{requestId}|' and RowKey lt '{requestId}}}'")
            .OrderBy(e => e.RowKey, StringComparer.Ordinal).ToList();
}
