using System.Runtime.Loader;
using System.Security.Cryptography;
using System.Text;
using AgentGovernance.Approval;
using AgentGovernance.Ledger;
using AgentGovernance.Stores;
using AgentGovernance.Tests.Support;
using Azure;
using Azure.Data.Tables;
using Azure.Data.Tables.Sas;

namespace AgentGovernance.Tests.Table;

/// <summary>
/// The table store on Azurite, reached only through the module's loader (table/ in the built module, its
/// own load context): ledger inserts, documents past the entity limits, a writer with an Add+Read SAS,
/// and what an insider with the account key can do to the entities (each must be found by the verifier).
/// </summary>
[Collection("Azurite")]
public sealed class TableStoreTests : IDisposable
{
    private readonly Azurite _azurite;
    private readonly TempDir _temp = new();
    private readonly string _table;
    private readonly IGovernanceStore _store;
    private readonly LedgerSigner _signer;
    private readonly AuditLedger _ledger;

    public TableStoreTests(Azurite azurite)
    {
        _azurite = azurite;
        _table = azurite.NewTable();
        _store = Open(new TableStoreOptions { ConnectionString = azurite.ConnectionString, Table = _table });
        _signer = LedgerSigner.OpenOrCreate(_temp["keys/signer.json"]);
        _ledger = new AuditLedger(_store, _signer);
    }

    public void Dispose()
    {
        _store.Dispose();
        _signer.Dispose();
        _temp.Dispose();
    }

    private static IGovernanceStore Open(TableStoreOptions options) => TableStoreLoader.Open(options, Repo.ModuleFolder);

    /// <summary>The insider's own client: the account key, the SDK, no module in between.</summary>
    private TableClient Insider => new(_azurite.ConnectionString, _table);

    private string Witness => LedgerSigner.WitnessPathFor(Path.GetDirectoryName(_signer.Path)!, _store.StoreId);

    private LedgerVerification Verify() => LedgerVerifier.Verify(_store, Array.Empty<PublicKey>(), Witness);

    private static LedgerEvent Event(int i) =>
        new(LedgerEvents.Approved, $"user{i}@contoso.com", "sha256:" + new string('a', 64), $"req-{i}", new Dictionary<string, object?> { ["summary"] = $"entry {i}", ["n"] = i });

    private void Fill(int appends, int perAppend = 1)
    {
        var n = 0;
        for (var a = 0; a < appends; a++)
        {
            _ledger.Append(Enumerable.Range(0, perAppend).Select(_ => Event(++n)).ToList());
        }
    }

    [Fact]
    public void A_document_of_a_slot_is_written_once_and_read_back_as_written()
    {
        var report = Encoding.UTF8.GetBytes("{\"schema\":\"agentgovernance/compliance-report@1\",\"findings\":[]}");
        Assert.Null(_store.ReadDocument("compliance", "ab12"));

        _store.CreateDocument("compliance", "ab12", report);

        Assert.Equal(report, _store.ReadDocument("compliance", "ab12"));
        Assert.Null(_store.ReadDocument("other", "ab12"));
        Assert.Equal("DocumentExists", Assert.Throws<GovernanceException>(() => _store.CreateDocument("compliance", "ab12", new byte[] { 1 })).ErrorId);
        Assert.Equal("InvalidId", Assert.Throws<GovernanceException>(() => _store.CreateDocument("compliance", "../x", report)).ErrorId);
        Assert.Equal(report, _store.ReadDocument("compliance", "ab12"));
    }

    [Fact]
    public void The_store_runs_in_the_modules_own_load_context_beside_another_Azure_Core()
    {
        // The tests' own Azure.Data.Tables 12.11.0 brings an older Azure.Core into the default context first.
        var ours = typeof(TableClient).Assembly;
        _ = new TableClient(_azurite.ConnectionString, _table).Name;
        var defaultCore = AssemblyLoadContext.Default.Assemblies.Single(a => a.GetName().Name == "Azure.Core");

        var storeContext = AssemblyLoadContext.GetLoadContext(_store.GetType().Assembly)!;
        Assert.NotSame(AssemblyLoadContext.Default, storeContext);
        var storeCore = storeContext.Assemblies.Single(a => a.GetName().Name == "Azure.Core");
        Assert.NotEqual(defaultCore.GetName().Version, storeCore.GetName().Version);
        Assert.StartsWith(Path.Combine(Repo.ModuleFolder, "table"), storeCore.Location);
        Assert.Equal("12.13.0.0", storeContext.Assemblies.Single(a => a.GetName().Name == "Azure.Data.Tables").GetName().Version!.ToString());
        Assert.NotEqual(ours.GetName().Version, storeContext.Assemblies.Single(a => a.GetName().Name == "Azure.Data.Tables").GetName().Version);
        Assert.Equal("azureTable", _store.Kind);
        Assert.Same(typeof(IGovernanceStore).Assembly, _store.GetType().GetInterfaces().Single(i => i.Name == "IGovernanceStore").Assembly);
    }

    [Fact]
    public void Each_entry_is_one_insert_at_its_zero_padded_sequence_and_the_ledger_verifies()
    {
        Fill(5, 3);
        // Each append's checkpoint is stored beside its last entry ("<seq>~<random>").
        var rows = Insider.Query<TableEntity>("PartitionKey eq 'ledger'").Select(e => e.RowKey).ToList();
        Assert.Equal(Enumerable.Range(1, 15).Select(i => i.ToString("D19")).ToList(), rows.Where(k => !k.Contains('~')).ToList());
        Assert.Equal(new[] { 3, 6, 9, 12, 15 }.Select(i => i.ToString("D19")).ToList(), rows.Where(k => k.Contains('~')).Select(k => k.Substring(0, 19)).ToList());
        var result = Verify();
        Assert.True(result.IsValid, result.Message);
        Assert.Equal(15, result.Entries);
        Assert.Equal(Enumerable.Range(1, 15).Select(i => (long)i).ToList(), _ledger.Read().Select(e => e.Sequence).ToList());

        // A second handle (another writer) chains onto the tail it finds.
        using var other = Open(new TableStoreOptions { ConnectionString = _azurite.ConnectionString, Table = _table });
        Assert.Equal(_store.StoreId, other.StoreId);
        new AuditLedger(other, _signer).Append(Event(16));
        Fill(1);
        Assert.True(Verify().IsValid, Verify().Message);
        Assert.Equal(17, Verify().Entries);
    }

    [Fact]
    public void An_append_of_more_than_100_lines_is_split_into_batches_the_service_accepts()
    {
        _ledger.Append(Enumerable.Range(1, 250).Select(Event).ToList());
        var result = Verify();
        Assert.True(result.IsValid, result.Message);
        Assert.Equal(250, result.Entries);
    }

    [Fact]
    public void An_append_at_a_taken_sequence_is_a_conflict_and_the_ledger_chains_onto_the_new_head()
    {
        Fill(2);
        // Another writer takes #3 (a signed entry) between our head read and our insert: the store refuses ours, writes nothing.
        var head = _store.ReadLedgerHead()!;
        using var codec = new LedgerCodec();
        var entry = codec.Decode(new ArraySegment<byte>(head), out _, out _)!;
        using var other = Open(new TableStoreOptions { ConnectionString = _azurite.ConnectionString, Table = _table });
        new AuditLedger(other, _signer).Append(Event(3));
        var mine = codec.Encode(3, GovernanceClock.Format(GovernanceClock.UtcNow), Event(30), "{}", entry.Hash, out _);
        var e = Assert.Throws<GovernanceException>(() => _store.AppendLedger(new[] { mine }, durable: true));
        Assert.Equal("StoreConflict", e.ErrorId);

        // The same insert again (a retry whose first answer was lost) is not a conflict.
        var taken = other.ReadLedgerHead()!;
        other.AppendLedger(new[] { taken.Concat(new[] { (byte)'\n' }).ToArray() }, durable: true);

        // The ledger re-reads the head and chains after it.
        var appended = _ledger.Append(Event(4));
        Assert.Equal(4, appended.Sequence);
        Assert.True(Verify().IsValid, Verify().Message);
    }

    [Fact]
    public void Documents_past_the_entity_limits_are_split_or_compressed_and_read_back_whole()
    {
        var chunked = RandomNumberGenerator.GetBytes(200 * 1024); // four 64 KiB parts
        _store.CreateRequest("req-big", chunked);
        Assert.Equal(chunked, _store.ReadRequest("req-big"));

        var compressible = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("{\"op\":\"grant\",\"principal\":\"g-eng\"},", 100_000))); // 3.5 MB
        _store.AddDecision("req-big", "dec-1", compressible);
        Assert.Equal(compressible, _store.ReadDecisions("req-big").Single());
        Assert.True(Insider.GetEntity<TableEntity>("decision", "req-big|dec-1").Value.GetBoolean("Gz"));

        var tooBig = RandomNumberGenerator.GetBytes(1024 * 1024);
        var e = Assert.Throws<GovernanceException>(() => _store.CreateRequest("req-huge", tooBig));
        Assert.Equal("DocumentTooLarge", e.ErrorId);
        Assert.Null(_store.ReadRequest("req-huge"));

        Assert.Equal("RequestExists", Assert.Throws<GovernanceException>(() => _store.CreateRequest("req-big", new byte[] { 1 })).ErrorId);
        Assert.Equal("InvalidId", Assert.Throws<GovernanceException>(() => _store.CreateRequest("req'or'1", new byte[] { 1 })).ErrorId);
        Assert.Equal(new[] { "req-big" }, _store.ListRequests());
    }

    [Fact]
    public void A_writer_with_an_Add_and_Read_SAS_appends_but_cannot_update_or_delete_an_entry()
    {
        Fill(2);
        var sas = Insider.GenerateSasUri(TableSasPermissions.Add | TableSasPermissions.Read, DateTimeOffset.UtcNow.AddHours(1)).Query;
        using var writer = Open(new TableStoreOptions { Credential = TableCredentialKind.Sas, Endpoint = new Uri(_azurite.Endpoint), Table = _table, SasToken = sas });
        Assert.Equal(_store.StoreId, writer.StoreId);
        using (var signer = LedgerSigner.OpenOrCreate(_temp["keys/writer.json"]))
        {
            new AuditLedger(writer, signer).Append(Event(3));
        }

        writer.CreateRequest("req-sas", new byte[] { 1, 2, 3 });
        Assert.Equal(3, new AuditLedger(writer, null).Read().Count());

        // The same SAS, used directly: updating or deleting an entry is refused.
        var direct = new TableClient(new Uri(_azurite.Endpoint + "/" + _table + sas));
        var entity = direct.GetEntity<TableEntity>("ledger", 2L.ToString("D19")).Value;
        entity["D0"] = Encoding.UTF8.GetBytes("{}");
        Assert.Equal(403, Assert.Throws<RequestFailedException>(() => direct.UpdateEntity(entity, ETag.All, TableUpdateMode.Replace)).Status);
        Assert.Equal(403, Assert.Throws<RequestFailedException>(() => direct.DeleteEntity("ledger", 3L.ToString("D19"))).Status);
        Assert.Equal(403, Assert.Throws<RequestFailedException>(() => direct.UpsertEntity(entity, TableUpdateMode.Replace)).Status);

        // A read-only SAS cannot append at all: StoreAccessDenied, nothing written.
        var readOnly = Insider.GenerateSasUri(TableSasPermissions.Read, DateTimeOffset.UtcNow.AddHours(1)).Query;
        using var reader = Open(new TableStoreOptions { Credential = TableCredentialKind.Sas, Endpoint = new Uri(_azurite.Endpoint), Table = _table, SasToken = readOnly });
        using var readerSigner = LedgerSigner.OpenOrCreate(_temp["keys/reader.json"]);
        var e = Assert.Throws<GovernanceException>(() => new AuditLedger(reader, readerSigner).Append(Event(4)));
        Assert.Equal("StoreAccessDenied", e.ErrorId);
        Assert.Contains("Storage Table Data Contributor", e.Message);
        Assert.True(Verify().IsValid, Verify().Message);
        Assert.Equal(3, Verify().Entries);
    }

    [Fact]
    public void An_insider_who_rewrites_an_entry_is_found()
    {
        Fill(4);
        var entity = Insider.GetEntity<TableEntity>("ledger", 2L.ToString("D19")).Value;
        var text = Encoding.UTF8.GetString(entity.GetBinary("D0"));
        var forged = Encoding.UTF8.GetBytes(text.Replace("user2@contoso.com", "mallory@contoso.com"));
        entity["D0"] = forged;
        entity["Length"] = forged.Length;
        Insider.UpdateEntity(entity, entity.ETag, TableUpdateMode.Replace);

        var result = Verify();
        Assert.False(result.IsValid);
        Assert.Equal(2, result.FirstBadSequence);

        // And nothing chains onto a ledger whose last entry does not verify.
        var last = Insider.GetEntity<TableEntity>("ledger", 4L.ToString("D19")).Value;
        var bad = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(last.GetBinary("D0")).Replace("entry 4", "entry 5"));
        last["D0"] = bad;
        last["Length"] = bad.Length;
        Insider.UpdateEntity(last, last.ETag, TableUpdateMode.Replace);
        using var fresh = Open(new TableStoreOptions { ConnectionString = _azurite.ConnectionString, Table = _table });
        Assert.Equal("LedgerTampered", Assert.Throws<GovernanceException>(() => new AuditLedger(fresh, _signer).Append(Event(9))).ErrorId);
    }

    [Fact]
    public void An_insider_who_deletes_entries_is_found()
    {
        Fill(5);
        Insider.DeleteEntity("ledger", 3L.ToString("D19"));
        var result = Verify();
        Assert.False(result.IsValid);
        Assert.Equal(3, result.FirstBadSequence);

        // Deleting the tail too: the signed checkpoints and this machine's witness still know entry 5.
        Insider.DeleteEntity("ledger", 4L.ToString("D19"));
        Insider.DeleteEntity("ledger", 5L.ToString("D19"));
        Assert.False(Verify().IsValid);
    }

    [Fact]
    public void A_bad_table_name_or_credential_is_an_error_with_a_stable_id()
    {
        Assert.Equal("StoreTableInvalid", Assert.Throws<GovernanceException>(() => Open(new TableStoreOptions { ConnectionString = _azurite.ConnectionString, Table = "no-dashes" })).ErrorId);
        Assert.Equal("StoreEndpointInvalid", Assert.Throws<GovernanceException>(() => Open(new TableStoreOptions
        {
            Credential = TableCredentialKind.AccessToken, Endpoint = new Uri("http://example.com/devstoreaccount1"), Table = _table, AccessToken = "x",
        })).ErrorId);
        var wrongKey = Azurite.ConnectionStringFor(_azurite.Endpoint).Replace(Azurite.Key, Convert.ToBase64String(new byte[64]));
        Assert.Equal("StoreAccessDenied", Assert.Throws<GovernanceException>(() => Open(new TableStoreOptions { ConnectionString = wrongKey, Table = _table })).ErrorId);
    }
}
