using System.Diagnostics;
using AgentGovernance.Approval;
using AgentGovernance.Ledger;
using AgentGovernance.Providers;
using AgentGovernance.Stores;
using AgentGovernance.Tests.Support;
using Azure.Data.Tables;

namespace AgentGovernance.Tests.Services;

/// <summary>
/// Issue 14 on the real table store (Azurite): a worker whose request lease is taken over while it is
/// between the operations of a multi-operation apply stops before its next directory write.
/// </summary>
[Collection("Azurite")]
public sealed class ApplyLeaseTableTests : IDisposable
{
    private readonly Azurite _azurite;
    private readonly ServiceWorld _world = new();

    public ApplyLeaseTableTests(Azurite azurite) => _azurite = azurite;

    public void Dispose() => _world.Dispose();

    [Fact]
    public void An_apply_whose_table_lease_is_taken_over_midway_stops_before_its_next_write()
    {
        var table = _azurite.NewTable("lease");
        var options = new TableStoreOptions { ConnectionString = _azurite.ConnectionString, Table = table, LeaseDuration = TimeSpan.FromSeconds(3) };
        _world.OpenStore = () => TableStoreLoader.Open(options, Repo.ModuleFolder);
        var request = _world.Approved(ServiceWorld.ThreeOperations);
        var other = new TableClient(_azurite.ConnectionString, table);
        var directory = new WatchedDirectory(new SnapshotFileProvider(_world.SnapshotPath));
        Apply.PreparedChange? prepared = null;
        directory.AfterWrite = n =>
        {
            if (n != 1)
            {
                return;
            }

            // Another worker takes the request over (the next term of its lease), as one does after this
            // worker stalled past its lease; this worker's next renewal finds the later term.
            var rows = other.Query<TableEntity>($"PartitionKey eq 'lease' and RowKey ge '{request.RequestId}|' and RowKey lt '{request.RequestId}}}'")
                .OrderBy(r => r.RowKey, StringComparer.Ordinal).ToList();
            var term = long.Parse(rows.Last().RowKey.Split('|')[1], System.Globalization.CultureInfo.InvariantCulture);
            other.AddEntity(new TableEntity("lease", $"{request.RequestId}|{term + 1:D10}|{0:D10}") { ["Owner"] = "worker B", ["DurationMs"] = 30_000L });
            var watch = Stopwatch.StartNew();
            while (prepared is { LockLost: false } && watch.Elapsed < TimeSpan.FromSeconds(20))
            {
                Thread.Sleep(50);
            }
        };
        var apply = _world.Apply(directory);
        using var ready = apply.PrepareApply(request.RequestId);
        prepared = ready;
        Assert.False(ready.LockLost);

        var e = Assert.Throws<GovernanceException>(() => apply.Execute(ready, _ => true));

        Assert.Equal("RequestLockLost", e.ErrorId);
        Assert.True(ready.LockLost);
        Assert.Equal(new[] { "apply add u-alice to group g-data" }, directory.Writes);
        Assert.Equal("RequestLockLost", _world.Ledger().Last().Details["errorId"]);
        Assert.Equal(ApprovalStatus.Applying, _world.Get(request.RequestId).Status);
    }
}
