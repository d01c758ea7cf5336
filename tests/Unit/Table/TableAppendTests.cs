using System.Text;
using AgentGovernance.Approval;
using AgentGovernance.Ledger;
using AgentGovernance.Stores;
using AgentGovernance.Tests.Support;
using Azure.Data.Tables;

namespace AgentGovernance.Tests.Table;

/// <summary>
/// A table store's append, as the throughput work made it: one read of the rows after the head the writer
/// verified, and one transaction of the entries with their checkpoint (stored beside the entry it seals).
/// And the insider's attacks on that shortcut: whatever is changed at or after the verified head between two
/// appends, the writer refuses to chain (LedgerTampered) and writes nothing.
/// </summary>
[Collection("Azurite")]
public sealed class TableAppendTests : IDisposable
{
    private readonly Azurite _azurite;
    private readonly TempDir _temp = new();
    private readonly FaultProxy _proxy;
    private readonly string _table;
    private readonly IGovernanceStore _store;
    private readonly LedgerSigner _signer;
    private readonly AuditLedger _ledger;

    public TableAppendTests(Azurite azurite)
    {
        _azurite = azurite;
        _proxy = new FaultProxy(azurite.Port, TimeSpan.FromSeconds(3));
        _table = azurite.NewTable("a");
        _store = TableStoreLoader.Open(new TableStoreOptions { ConnectionString = Azurite.ConnectionStringFor(_proxy.Endpoint), Table = _table }, Repo.ModuleFolder);
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

    private TableClient Insider => new(_azurite.ConnectionString, _table);

    private static LedgerEvent Event(int i) =>
        new(LedgerEvents.Approved, $"user{i}@contoso.com", "sha256:" + new string('c', 64), $"req-{i}", new Dictionary<string, object?> { ["summary"] = $"entry {i}" });

    private LedgerVerification Verify() =>
        LedgerVerifier.Verify(_store, Array.Empty<PublicKey>(), LedgerSigner.WitnessPathFor(Path.GetDirectoryName(_signer.Path)!, _store.StoreId));

    private List<TableEntity> LedgerRows() => Insider.Query<TableEntity>("PartitionKey eq 'ledger'").ToList();

    private static string Key(long seq) => seq.ToString("D19");

    /// <summary>A second writer (its own handle and signer) appends one entry.</summary>
    private void OtherWriterAppends(int i)
    {
        using var other = TableStoreLoader.Open(new TableStoreOptions { ConnectionString = _azurite.ConnectionString, Table = _table }, Repo.ModuleFolder);
        using var signer = LedgerSigner.OpenOrCreate(_temp["keys/other.json"]);
        new AuditLedger(other, signer).Append(Event(i));
    }

    [Fact]
    public void An_append_after_the_first_is_one_read_and_one_transaction_with_its_checkpoint_beside_the_entry()
    {
        _ledger.Append(Event(1));
        var before = _proxy.Seen.Count;
        for (var i = 2; i <= 6; i++)
        {
            _ledger.Append(Event(i));
        }

        var seen = _proxy.Seen;
        Assert.Equal(10, seen.Count - before);
        Assert.Equal(1 + 5, seen.Count(s => s.Method == "POST" && s.Path.Contains("$batch", StringComparison.Ordinal)));

        // Every entry has its checkpoint right after it, and the ledger verifies whole, every entry sealed.
        var rows = LedgerRows().Select(r => r.RowKey).ToList();
        Assert.Equal(12, rows.Count);
        for (var i = 1; i <= 6; i++)
        {
            Assert.Equal(Key(i), rows[2 * (i - 1)]);
            Assert.StartsWith(Key(i) + "~", rows[(2 * (i - 1)) + 1]);
        }

        Assert.Equal(6, _store.ReadCheckpoints().Count);
        Assert.Equal(6, _store.ReadLedger().Count());
        var result = Verify();
        Assert.True(result.IsValid, result.Message);
        Assert.Equal(6, result.LastSealedSequence);
    }

    /// <summary>Reads of the whole ledger partition (a full verification's) through the proxy so far.</summary>
    private int FullLedgerReads() =>
        _proxy.Seen.Count(s => s.Method == "GET" && Uri.UnescapeDataString(s.Path).Contains("PartitionKey eq 'ledger'", StringComparison.Ordinal) &&
                               !Uri.UnescapeDataString(s.Path).Contains("RowKey ge", StringComparison.Ordinal));

    [Fact]
    public void A_conflict_re_reads_only_the_rows_after_the_verified_head_and_chains_onto_the_other_writers_entry()
    {
        _ledger.Append(Event(1));
        _ledger.Append(Event(2));
        OtherWriterAppends(3);
        var before = _proxy.Seen.Count;
        var fullReadsBefore = FullLedgerReads();
        var appended = _ledger.Append(Event(4));
        Assert.Equal(4, appended.Sequence);

        // The tail read from entry 2 found entry 3, verified it (reading the registered signers once, for the
        // new signer), and inserted #4: three requests, none of them a read of the whole ledger.
        var seen = _proxy.Seen;
        Assert.Equal(3, seen.Count - before);
        Assert.Equal(fullReadsBefore, FullLedgerReads());
        Assert.Single(seen, s => s.Method == "GET" && Uri.UnescapeDataString(s.Path).Contains($"PartitionKey eq 'ledger' and RowKey ge '{Key(2)}'", StringComparison.Ordinal));
        Assert.True(Verify().IsValid, Verify().Message);
        Assert.Equal(4, Verify().LastSealedSequence);
    }

    [Fact]
    public void A_lost_race_is_one_read_of_the_rows_after_the_head_and_the_retry_inserts_without_reading_again()
    {
        _ledger.Append(Event(1));
        _ledger.Append(Event(2));
        static int TailReadsFrom2(IReadOnlyCollection<(TableFault Fault, string Method, string Path)> seen) =>
            seen.Count(s => s.Method == "GET" && Uri.UnescapeDataString(s.Path).Contains($"PartitionKey eq 'ledger' and RowKey ge '{Key(2)}'", StringComparison.Ordinal));
        static int Batches(IReadOnlyCollection<(TableFault Fault, string Method, string Path)> seen) => seen.Count(s => s.Method == "POST" && s.Path.Contains("$batch", StringComparison.Ordinal));
        static int EntityReads(IReadOnlyCollection<(TableFault Fault, string Method, string Path)> seen) => seen.Count(s => Uri.UnescapeDataString(s.Path).Contains("RowKey='", StringComparison.Ordinal));
        var now = _proxy.Seen;
        var before = (All: now.Count, TailReads: TailReadsFrom2(now), Batches: Batches(now), EntityReads: EntityReads(now));
        var thread = Environment.CurrentManagedThreadId;
        var raced = false;
        AuditLedger.Conflicts = 0;

        // Between this writer's tail read (nothing new after #2) and its insert of #3, another writer inserts #3.
        FaultInjection.Hook = point =>
        {
            if (point == "TableStore.Ledger.Sending" && Environment.CurrentManagedThreadId == thread && !raced)
            {
                raced = true;
                OtherWriterAppends(3);
            }
        };
        LedgerEntry appended;
        try
        {
            appended = _ledger.Append(Event(4));
        }
        finally
        {
            FaultInjection.Hook = null;
        }

        Assert.True(raced);
        Assert.Equal(4, appended.Sequence);
        Assert.Equal(1, AuditLedger.Conflicts);

        // The tail read, the refused insert, one read of the rows after #2 (it finds #3 and tells the lost race
        // from a retry of this writer's own insert), the registered signers (a new one), the insert of #4. The
        // retry reads nothing again, and no entity is read on its own.
        var seen = _proxy.Seen;
        Assert.Equal(5, seen.Count - before.All);
        Assert.Equal(2, TailReadsFrom2(seen) - before.TailReads);
        Assert.Equal(2, Batches(seen) - before.Batches);
        Assert.Equal(before.EntityReads, EntityReads(seen));
        var result = Verify();
        Assert.True(result.IsValid, result.Message);
        Assert.Equal(4, result.LastSealedSequence);
        Assert.Equal("user3@contoso.com", _ledger.Read().Single(e => e.Sequence == 3).Actor);
    }

    [Fact]
    public void The_appends_of_one_process_that_wait_for_its_lock_go_in_one_transaction_per_signer_each_told_its_own_entry()
    {
        _ledger.Append(Event(1));
        using var otherSigner = LedgerSigner.OpenOrCreate(_temp["keys/other.json"]);
        var carried = AuditLedger.Carried;
        var results = new LedgerEntry[8];
        var threads = new List<Thread>();
        int batchesBefore;
        using (_store.Lock(TimeSpan.FromSeconds(5)))
        {
            // Eight appends wait for the lock: six by this machine's signer, two by another's (not grouped with them).
            for (var i = 0; i < 8; i++)
            {
                var n = i;
                var thread = new Thread(() => results[n] = new AuditLedger(_store, n < 6 ? _signer : otherSigner).Append(Event(10 + n)));
                thread.Start();
                threads.Add(thread);
            }

            for (var wait = System.Diagnostics.Stopwatch.StartNew(); AuditLedger.WaitingFor(_store.Location) < 8; Thread.Sleep(5))
            {
                Assert.True(wait.Elapsed < TimeSpan.FromSeconds(20), "the appends did not all wait for the lock");
            }

            batchesBefore = _proxy.Seen.Count(s => s.Method == "POST" && s.Path.Contains("$batch", StringComparison.Ordinal));
        }

        threads.ForEach(t => t.Join());

        // Two transactions: one for the six appends of one signer, one for the other two.
        Assert.Equal(2, _proxy.Seen.Count(s => s.Method == "POST" && s.Path.Contains("$batch", StringComparison.Ordinal)) - batchesBefore);
        Assert.Equal(carried + 5 + 1, AuditLedger.Carried);
        Assert.Equal(Enumerable.Range(2, 8).Select(s => (long)s), results.Select(r => r.Sequence).OrderBy(s => s));
        for (var i = 0; i < 8; i++)
        {
            Assert.Equal($"req-{10 + i}", results[i].RequestId);
            Assert.Equal((i < 6 ? _signer : otherSigner).PublicKey.KeyId, results[i].Signer);
        }

        // One checkpoint per transaction, sealing its last entry; every entry chained, signed and sealed.
        Assert.Equal(3, _store.ReadCheckpoints().Count);
        var result = Verify();
        Assert.True(result.IsValid, result.Message);
        Assert.Equal(9, result.Entries);
        Assert.Equal(9, result.LastSealedSequence);
    }

    [Fact]
    public void Entries_appended_through_AppendLedger_alone_and_old_checkpoints_are_still_read()
    {
        // A checkpoint in the partition of stores written before checkpoints moved beside their entries is read too.
        _ledger.Append(Event(1));
        var old = Insider.Query<TableEntity>("PartitionKey eq 'ledger'").Single(r => r.RowKey.Contains('~'));
        Insider.DeleteEntity(old.PartitionKey, old.RowKey);
        var moved = new TableEntity("checkpoint", "0638000000000000000-abc") { ["D0"] = old.GetBinary("D0"), ["Parts"] = 1, ["Length"] = old.GetInt32("Length") };
        Insider.AddEntity(moved);
        Assert.Single(_store.ReadCheckpoints());
        Assert.True(Verify().IsValid, Verify().Message);
        Assert.Equal(1, Verify().LastSealedSequence);
    }

    [Fact]
    public void An_insider_who_rewrites_the_verified_head_between_two_appends_stops_the_writer()
    {
        _ledger.Append(Event(1));
        _ledger.Append(Event(2));
        var head = Insider.GetEntity<TableEntity>("ledger", Key(2)).Value;
        var forged = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(head.GetBinary("D0")).Replace("user2@contoso.com", "mallory@contoso.com"));
        head["D0"] = forged;
        head["Length"] = forged.Length;
        Insider.UpdateEntity(head, head.ETag, Azure.Data.Tables.TableUpdateMode.Replace);

        Assert.Equal("LedgerTampered", Assert.Throws<GovernanceException>(() => _ledger.Append(Event(3))).ErrorId);
        Assert.Equal(4, LedgerRows().Count);
    }

    [Fact]
    public void An_insider_who_replaces_the_verified_head_with_an_entry_they_signed_and_registered_stops_the_writer()
    {
        _ledger.Append(Event(1));
        _ledger.Append(Event(2));

        // The signers are not pinned, so the insider registers a key of their own and writes a new entry 2,
        // chained onto entry 1 and validly signed: only its hash tells it from the entry the writer verified.
        using var codec = new LedgerCodec();
        var one = codec.Decode(new ArraySegment<byte>(_store.ReadLedger().First().ToArray()), out _, out _)!;
        using var mallory = LedgerSigner.OpenOrCreate(_temp["keys/mallory.json"]);
        Insider.AddEntity(new TableEntity("signer", mallory.PublicKey.KeyId.Replace("sha256:", string.Empty)) { ["Key"] = mallory.PublicKey.Base64 });
        var line = codec.Encode(2, GovernanceClock.Format(GovernanceClock.UtcNow), Event(20), "{}", one.Hash, mallory, out _);
        var body = line.AsSpan(0, line.Length - 1).ToArray();
        Insider.UpsertEntity(new TableEntity("ledger", Key(2)) { ["D0"] = body, ["Parts"] = 1, ["Length"] = body.Length }, Azure.Data.Tables.TableUpdateMode.Replace);

        Assert.Equal("LedgerTampered", Assert.Throws<GovernanceException>(() => _ledger.Append(Event(3))).ErrorId);
        Assert.Equal(4, LedgerRows().Count);
    }

    [Fact]
    public void An_insider_who_adds_an_entry_at_the_tail_signed_by_no_trusted_signer_stops_the_writer()
    {
        _ledger.Append(Event(1));
        _ledger.Append(Event(2));

        // Entry 3, chained correctly onto entry 2, signed with a key that is not registered in the store.
        var two = _store.ReadLedger().Last().ToArray();
        using var codec = new LedgerCodec();
        var hash = codec.Decode(new ArraySegment<byte>(two), out _, out _)!.Hash;
        using var mallory = LedgerSigner.OpenOrCreate(_temp["keys/mallory.json"]);
        var line = codec.Encode(3, GovernanceClock.Format(GovernanceClock.UtcNow), Event(3), "{}", hash, mallory, out _);
        var body = line.AsSpan(0, line.Length - 1).ToArray();
        Insider.AddEntity(new TableEntity("ledger", Key(3)) { ["D0"] = body, ["Parts"] = 1, ["Length"] = body.Length });

        Assert.Equal("LedgerTampered", Assert.Throws<GovernanceException>(() => _ledger.Append(Event(4))).ErrorId);
        Assert.Equal(5, LedgerRows().Count);
    }

    [Fact]
    public void A_misplaced_checkpoint_sends_the_writer_to_a_full_verification_and_a_forged_one_stops_it()
    {
        _ledger.Append(Event(1));
        _ledger.Append(Event(2));
        _ledger.Append(Event(3));

        // The checkpoint of entry 2 copied beside entry 3 names another place than where it is: the tail check
        // does not take it, the whole ledger is verified again, and as the copy is a genuine checkpoint of
        // entry 2 (harmless where it is), the ledger verifies and the append goes on.
        var cp2 = LedgerRows().Single(r => r.RowKey.StartsWith(Key(2) + "~", StringComparison.Ordinal));
        var copy = new TableEntity("ledger", Key(3) + "~000000000000") { ["D0"] = cp2.GetBinary("D0"), ["Parts"] = 1, ["Length"] = cp2.GetInt32("Length"), ["Checkpoint"] = true };
        Insider.AddEntity(copy);
        var fullReads = FullLedgerReads();
        Assert.Equal(4, _ledger.Append(Event(4)).Sequence);
        Assert.True(FullLedgerReads() > fullReads, "the misplaced checkpoint did not send the writer back to a full verification");
        Insider.DeleteEntity("ledger", copy.RowKey);

        // A checkpoint of entry 4 whose signature is not the signer's.
        var cp3 = LedgerRows().Single(r => r.RowKey.StartsWith(Key(4) + "~", StringComparison.Ordinal));
        var json = System.Text.Json.Nodes.JsonNode.Parse(cp3.GetBinary("D0"))!.AsObject();
        var signature = Convert.FromBase64String(json["signature"]!.GetValue<string>());
        signature[10] ^= 0x01;
        json["signature"] = Convert.ToBase64String(signature);
        var forged = Encoding.UTF8.GetBytes(json.ToJsonString());
        Assert.NotNull(LedgerCheckpoint.TryParse(forged, out _));
        Insider.AddEntity(new TableEntity("ledger", Key(4) + "~ffffffffffff") { ["D0"] = forged, ["Parts"] = 1, ["Length"] = forged.Length, ["Checkpoint"] = true });
        Assert.Equal("LedgerTampered", Assert.Throws<GovernanceException>(() => _ledger.Append(Event(5))).ErrorId);
        Assert.Equal(8 + 1, LedgerRows().Count);
    }

    [Fact]
    public void A_row_beside_an_entry_that_is_not_a_checkpoint_is_read_as_a_line_and_stops_the_writer()
    {
        _ledger.Append(Event(1));
        _ledger.Append(Event(2));

        // Shaped like a checkpoint's place, without the Checkpoint mark: it is not hidden from the verifier.
        var one = Insider.GetEntity<TableEntity>("ledger", Key(2)).Value;
        Insider.AddEntity(new TableEntity("ledger", Key(2) + "~aaaaaaaaaaaa") { ["D0"] = one.GetBinary("D0"), ["Parts"] = 1, ["Length"] = one.GetInt32("Length") });
        Assert.Equal(3, _store.ReadLedger().Count());
        Assert.False(Verify().IsValid);
        Assert.Equal("LedgerTampered", Assert.Throws<GovernanceException>(() => _ledger.Append(Event(3))).ErrorId);
    }

    [Fact]
    public void An_insider_who_deletes_the_verified_head_and_its_checkpoint_stops_the_writer()
    {
        _ledger.Append(Event(1));
        _ledger.Append(Event(2));
        foreach (var r in LedgerRows().Where(r => r.RowKey.StartsWith(Key(2), StringComparison.Ordinal)))
        {
            Insider.DeleteEntity(r.PartitionKey, r.RowKey);
        }

        // The head is gone: the whole ledger is verified again, and this machine's witness knows entry 2.
        Assert.Equal("LedgerTampered", Assert.Throws<GovernanceException>(() => _ledger.Append(Event(3))).ErrorId);
        Assert.Equal(2, LedgerRows().Count);
    }
}
