using System.Diagnostics;
using AgentGovernance.Approval;
using AgentGovernance.Ledger;
using AgentGovernance.Stores;
using AgentGovernance.Tests.Support;
using Azure.Data.Tables;

namespace AgentGovernance.Tests.Table;

/// <summary>
/// The table store behind a fault proxy: 503 ServerBusy (with Retry-After), requests held past the client's
/// timeout, dropped connections, and inserts that succeeded but whose answer was lost. Each is retried,
/// and no entry is written twice or forks the chain.
/// </summary>
[Collection("Azurite")]
public sealed class TableRetryTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(2);
    private readonly Azurite _azurite;
    private readonly TempDir _temp = new();
    private readonly FaultProxy _proxy;
    private readonly string _table;
    private readonly IGovernanceStore _store;
    private readonly LedgerSigner _signer;
    private readonly AuditLedger _ledger;

    public TableRetryTests(Azurite azurite)
    {
        _azurite = azurite;
        _proxy = new FaultProxy(azurite.Port, Timeout + TimeSpan.FromSeconds(1));
        _table = azurite.NewTable("r");
        _store = TableStoreLoader.Open(new TableStoreOptions
        {
            ConnectionString = Azurite.ConnectionStringFor(_proxy.Endpoint), Table = _table, NetworkTimeout = Timeout,
        }, Repo.ModuleFolder);
        _signer = LedgerSigner.OpenOrCreate(_temp["keys/signer.json"]);
        _ledger = new AuditLedger(_store, _signer);
    }

    public void Dispose()
    {
        _store.Dispose();
        _signer.Dispose();
        _proxy.Dispose();
        _temp.Dispose();
    }

    private static LedgerEvent Event(int i) =>
        new(LedgerEvents.Approved, $"user{i}@contoso.com", "sha256:" + new string('b', 64), $"req-{i}", new Dictionary<string, object?> { ["summary"] = $"entry {i}" });

    /// <summary>Straight from Azurite, not through the proxy: what is really stored.</summary>
    private List<TableEntity> Stored(string partition) =>
        new TableClient(_azurite.ConnectionString, _table).Query<TableEntity>($"PartitionKey eq '{partition}'").ToList();

    private void AssertLedger(int entries)
    {
        var verification = LedgerVerifier.Verify(_store, Array.Empty<PublicKey>(), LedgerSigner.WitnessPathFor(Path.GetDirectoryName(_signer.Path)!, _store.StoreId));
        Assert.True(verification.IsValid, verification.Message);
        var rows = Stored("ledger").Where(r => !r.RowKey.Contains('~')).ToList(); // each append's checkpoint is stored beside its last entry
        Assert.Equal(entries, rows.Count);
        Assert.Equal(Enumerable.Range(1, entries).Select(i => ((long)i).ToString("D19")), rows.Select(r => r.RowKey).OrderBy(k => k, StringComparer.Ordinal));
    }

    [Fact]
    public void ServerBusy_is_retried_after_its_Retry_After_and_the_entry_is_written_once()
    {
        _ledger.Append(Event(1));
        _proxy.Next(TableFault.ServerBusy, FaultProxy.Insert);
        _proxy.Next(TableFault.ServerBusy, FaultProxy.Insert);
        var watch = Stopwatch.StartNew();
        _ledger.Append(new[] { Event(2), Event(3) });
        Assert.Equal(2, _proxy.Count(TableFault.ServerBusy));
        Assert.True(watch.Elapsed >= TimeSpan.FromSeconds(2), $"Retry-After: 1 was not waited for twice ({watch.Elapsed.TotalSeconds:0.00} s)");
        AssertLedger(3);
    }

    [Fact]
    public void An_insert_held_past_the_timeout_that_reaches_the_service_later_is_not_a_second_entry()
    {
        _ledger.Append(Event(1));
        _proxy.Next(TableFault.DelayThenForward, FaultProxy.Insert);
        _ledger.Append(Event(2));
        _ledger.Append(Event(3));
        Assert.Equal(1, _proxy.Count(TableFault.DelayThenForward));
        Thread.Sleep(_proxy.Delay + TimeSpan.FromSeconds(1)); // the held request has reached Azurite by now
        AssertLedger(3);
    }

    [Fact]
    public void A_dropped_connection_is_retried()
    {
        _proxy.Next(TableFault.Drop, FaultProxy.Insert);
        _ledger.Append(Event(1));
        _proxy.Next(TableFault.Drop);
        Assert.NotNull(_store.ReadLedgerHead());
        Assert.Equal(2, _proxy.Count(TableFault.Drop));
        AssertLedger(1);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void An_insert_whose_answer_was_lost_is_found_as_ours_not_written_twice_nor_forked(int lines)
    {
        _ledger.Append(Event(100));
        _proxy.Next(TableFault.ForwardThenDrop, FaultProxy.Insert);
        var entries = _ledger.Append(Enumerable.Range(1, lines).Select(Event).ToList());
        Assert.Equal(1, _proxy.Count(TableFault.ForwardThenDrop));

        // The retry met our own insert (409): its bytes are ours, so it is the same append, not a conflict.
        Assert.Equal(Enumerable.Range(2, lines).Select(i => (long)i), entries.Select(e => e.Sequence));
        AssertLedger(1 + lines);
        _ledger.Append(Event(200));
        AssertLedger(2 + lines);
    }

    [Fact]
    public void A_request_document_and_a_lease_whose_answers_were_lost_are_ours_on_the_retry()
    {
        _proxy.Next(TableFault.ForwardThenDrop, FaultProxy.Insert);
        _store.CreateRequest("req-lost", new byte[] { 1, 2, 3 });
        Assert.Equal(new byte[] { 1, 2, 3 }, _store.ReadRequest("req-lost"));

        _proxy.Next(TableFault.ForwardThenDrop, FaultProxy.Insert);
        using (var held = (IRequestLock)_store.LockRequest("req-lost", TimeSpan.FromSeconds(5)))
        {
            Assert.Null(held.TakeoverReason);
        }

        Assert.Equal(2, _proxy.Count(TableFault.ForwardThenDrop));
        using var again = (IRequestLock)_store.LockRequest("req-lost", TimeSpan.FromSeconds(1));
        Assert.Null(again.TakeoverReason);
    }
}
