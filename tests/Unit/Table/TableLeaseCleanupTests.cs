using AgentGovernance.Stores;
using AgentGovernance.Tests.Support;
using Azure;
using Azure.Data.Tables;
using Azure.Data.Tables.Sas;

namespace AgentGovernance.Tests.Table;

/// <summary>
/// The lease rows of a request's earlier terms (released, or expired and taken over) are removed once a new
/// term is held, where the credential may delete; under an Add+Read SAS they stay, and locking works as ever.
/// </summary>
[Collection("Azurite")]
public sealed class TableLeaseCleanupTests
{
    private readonly Azurite _azurite;

    public TableLeaseCleanupTests(Azurite azurite) => _azurite = azurite;

    private static IGovernanceStore Open(TableStoreOptions options) => TableStoreLoader.Open(options, Repo.ModuleFolder);

    private static List<(long Term, long N)> Rows(TableClient table, string requestId) =>
        table.Query<TableEntity>($"PartitionKey eq 'lease' and RowKey ge '{requestId}|' and RowKey lt '{requestId}}}'")
            .Select(r => r.RowKey.Split('|'))
            .Select(p => (long.Parse(p[1]), long.Parse(p[2])))
            .OrderBy(t => t)
            .ToList();

    private static void LockAndRelease(IGovernanceStore store, string requestId, int times)
    {
        for (var i = 0; i < times; i++)
        {
            using var held = (IRequestLock)store.LockRequest(requestId, TimeSpan.FromSeconds(10));
            Assert.Null(held.TakeoverReason);
        }
    }

    [Fact]
    public void The_rows_of_earlier_terms_are_removed_once_a_new_term_is_held()
    {
        var table = _azurite.NewTable("c");
        using var store = Open(new TableStoreOptions { ConnectionString = _azurite.ConnectionString, Table = table });
        var insider = new TableClient(_azurite.ConnectionString, table);

        LockAndRelease(store, "req-clean", 1);
        Assert.Equal(new[] { (1L, 0L), (1L, 1L) }, Rows(insider, "req-clean"));

        // Each new term removes the terms before it: only the newest term's rows (taken, released) remain.
        LockAndRelease(store, "req-clean", 3);
        Assert.Equal(new[] { (4L, 0L), (4L, 1L) }, Rows(insider, "req-clean"));

        // Another request's rows are not touched.
        LockAndRelease(store, "req-other", 1);
        LockAndRelease(store, "req-clean", 1);
        Assert.Equal(new[] { (1L, 0L), (1L, 1L) }, Rows(insider, "req-other"));
        Assert.Equal(new[] { (5L, 0L), (5L, 1L) }, Rows(insider, "req-clean"));
    }

    [Fact]
    public void Under_an_Add_and_Read_SAS_the_earlier_terms_stay_and_locking_works_as_ever()
    {
        var table = _azurite.NewTable("c");
        using (Open(new TableStoreOptions { ConnectionString = _azurite.ConnectionString, Table = table }))
        {
        }

        var insider = new TableClient(_azurite.ConnectionString, table);
        var sas = insider.GenerateSasUri(TableSasPermissions.Add | TableSasPermissions.Read, DateTimeOffset.UtcNow.AddHours(1)).Query;
        using var store = Open(new TableStoreOptions { Credential = TableCredentialKind.Sas, Endpoint = new Uri(_azurite.Endpoint), Table = table, SasToken = sas });

        LockAndRelease(store, "req-sas", 3);
        Assert.Equal(new[] { (1L, 0L), (1L, 1L), (2L, 0L), (2L, 1L), (3L, 0L), (3L, 1L) }, Rows(insider, "req-sas"));

        // The SAS itself cannot delete them (so the store did not either), and the newest row still decides.
        var direct = new TableClient(new Uri(_azurite.Endpoint + "/" + table + sas));
        Assert.Equal(403, Assert.Throws<RequestFailedException>(() => direct.DeleteEntity("lease", "req-sas|0000000001|0000000000")).Status);
        using var again = (IRequestLock)store.LockRequest("req-sas", TimeSpan.FromSeconds(5));
        Assert.Null(again.TakeoverReason);
        Assert.Equal(8, Rows(insider, "req-sas").Count + 1);
    }
}
