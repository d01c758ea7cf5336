using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Threading;
using AgentGovernance.Stores;
using Azure;
using Azure.Data.Tables;

namespace AgentGovernance.Table;

/// <summary>
/// The store in one Azure Table Storage table. Every entity is inserted once and never updated or
/// deleted, so a writer needs only Add and Read (a SAS "ra", or the Storage Table Data Contributor role):
/// <code>
/// PartitionKey  RowKey                          what
/// store         id                              the store's id (Id)
/// ledger        0000000000000000042 (seq, D19)  one ledger line (chunked: D0..Dn)
/// ledger        0000000000000000042~&lt;random&gt;   a signed checkpoint of entry 42 (Checkpoint = true), beside it
/// checkpoint    &lt;ticks D19&gt;-&lt;random&gt;          a checkpoint line of a store written before 0.1.0 (read, never written)
/// signer        &lt;keyId&gt;                         a checkpoint signer's public key (Key)
/// request       &lt;requestId&gt;                     an approval request document
/// decision      &lt;requestId&gt;|&lt;decisionId&gt;        a signed decision document
/// document      &lt;slot&gt;|&lt;id&gt;                    a document of a slot (compliance: a report by its hash)
/// </code>
/// A ledger append is an insert at sequence+1 (a batch of inserts, one partition, at most 100 actions):
/// a 409 means another writer took that sequence, reported as StoreConflict so the ledger re-reads the
/// head, verifies it and chains again. There is no head row to update, so no writer can move it.
/// The checkpoint of an append is inserted in the same entity-group transaction as its entries, under a
/// RowKey that sorts right after the entry it seals, so one range query from a sequence on returns what
/// every writer appended since, entries and checkpoints (<see cref="ILedgerTailStore"/>).
/// </summary>
internal sealed partial class TableStore : IGovernanceStore, ILedgerTailStore
{
    internal const string StorePartition = "store";
    internal const string LedgerPartition = "ledger";
    /// <summary>Where checkpoints were kept before they moved beside their entries: read still, never written.</summary>
    internal const string CheckpointPartition = "checkpoint";
    internal const string SignerPartition = "signer";
    internal const string RequestPartition = "request";
    internal const string DecisionPartition = "decision";
    internal const string DocumentPartition = "document";

    /// <summary>A binary property holds at most 64 KiB; an entity at most 1 MiB (with its keys and names).</summary>
    internal const int ChunkSize = 64 * 1024;

    internal const int MaxChunks = 15;

    /// <summary>The service refuses a batch of more than 100 actions or 4 MiB; Azurite does not, so we count.</summary>
    internal const int MaxBatchActions = 100;

    internal const int MaxBatchBytes = 3 * 1024 * 1024;

    // One lock per table (and per request) in this process; across processes the ledger's inserts decide, and the request leases.
    private static readonly ConcurrentDictionary<string, SemaphoreSlim> ProcessLocks = new(StringComparer.Ordinal);

    private readonly TableClient _table;
    private readonly SemaphoreSlim _lock;
    private long _knownTail;

    // The signers this handle registered (or found registered with the same key): registered once per handle.
    private readonly ConcurrentDictionary<string, string> _registered = new(StringComparer.Ordinal);

    internal TableStore(TableClient table, string location, string storeId)
    {
        _table = table;
        Location = location;
        StoreId = storeId;
        _lock = ProcessLocks.GetOrAdd(location, _ => new SemaphoreSlim(1, 1));
    }

    public string Kind => "azureTable";

    public string Location { get; }

    public string StoreId { get; }

    internal TableClient Client => _table;

    public static TableStore Open(TableClient table, string location, string? storeIdForNew, bool createTable)
    {
        if (createTable)
        {
            Call(location, () => table.CreateIfNotExists());
        }

        var existing = ReadStoreId(table, location);
        if (existing is null)
        {
            var id = storeIdForNew ?? Guid.NewGuid().ToString("N");
            var entity = new TableEntity(StorePartition, "id") { ["Id"] = id, ["Schema"] = "agentgovernance/store@1" };
            try
            {
                Call(location, () => table.AddEntity(entity));
            }
            catch (RequestFailedException e) when (e.Status == 409)
            {
                // Another writer created it a moment before: theirs stands.
            }

            existing = ReadStoreId(table, location)
                ?? throw new GovernanceException("StoreUnavailable", GovernanceErrorKind.ReadError, $"The store '{location}' has no id after creating it.", location);
        }

        return new TableStore(table, location, existing);
    }

    private static string? ReadStoreId(TableClient table, string location)
    {
        var found = Call(location, () => table.GetEntityIfExists<TableEntity>(StorePartition, "id"));
        if (!found.HasValue)
        {
            return null;
        }

        var id = found.Value!.GetString("Id");
        if (string.IsNullOrEmpty(id) || id!.Length > 64 || id.Any(c => !(c < 128 && char.IsLetterOrDigit(c)) && c != '-'))
        {
            throw new GovernanceException("StoreInvalid", GovernanceErrorKind.InvalidData, $"The store '{location}' has an id that is not valid.", location);
        }

        return id;
    }

    public IDisposable Lock(TimeSpan timeout)
    {
        if (!_lock.Wait(timeout))
        {
            throw new GovernanceException("StoreBusy", GovernanceErrorKind.InvalidOperation,
                $"The store '{Location}' stayed locked by another writer in this process for {timeout.TotalSeconds:0} s.", Location);
        }

        return new Releaser(_lock);
    }

    public void CreateRequest(string requestId, byte[] document) =>
        InsertOnce(RequestPartition, SafeId(requestId), document, "RequestExists", $"A request with id '{requestId}' already exists.");

    public byte[]? ReadRequest(string requestId)
    {
        var found = Call(Location, () => _table.GetEntityIfExists<TableEntity>(RequestPartition, SafeId(requestId)));
        return found.HasValue ? Chunks.Join(found.Value!, Location) : null;
    }

    public IReadOnlyList<string> ListRequests() =>
        Query($"PartitionKey eq '{RequestPartition}'", new[] { "RowKey" }).Select(e => e.RowKey).OrderBy(k => k, StringComparer.Ordinal).ToList();

    public void CreateDocument(string slot, string id, byte[] document) =>
        InsertOnce(DocumentPartition, SafeId(slot) + "|" + SafeId(id), document, "DocumentExists", $"A {slot} document with id '{id}' already exists.");

    public byte[]? ReadDocument(string slot, string id)
    {
        var found = Call(Location, () => _table.GetEntityIfExists<TableEntity>(DocumentPartition, SafeId(slot) + "|" + SafeId(id)));
        return found.HasValue ? Chunks.Join(found.Value!, Location) : null;
    }

    public void AddDecision(string requestId, string decisionId, byte[] document) =>
        InsertOnce(DecisionPartition, SafeId(requestId) + "|" + SafeId(decisionId), document, "DecisionExists", $"A decision with id '{decisionId}' already exists.");

    public IReadOnlyList<byte[]> ReadDecisions(string requestId)
    {
        // '|' + 1 is '}': every RowKey "<requestId>|..." and nothing else.
        var id = SafeId(requestId);
        return Query($"PartitionKey eq '{DecisionPartition}' and RowKey gt '{id}|' and RowKey lt '{id}}}'")
            .OrderBy(e => e.RowKey, StringComparer.Ordinal)
            .Select(e => Chunks.Join(e, Location))
            .ToList();
    }

    public byte[]? ReadLedgerHead()
    {
        // From the last tail this handle saw (entries are never removed by us), else the whole partition.
        TableEntity? last = null;
        foreach (var e in Query($"PartitionKey eq '{LedgerPartition}' and RowKey ge '{Key(Math.Max(_knownTail, 0))}'"))
        {
            if (!IsCheckpointRow(e))
            {
                last = e;
            }
        }

        if (last is null && _knownTail > 0)
        {
            // The entry we saw last is gone: read everything, so the ledger above sees what is there (and its verifier, what is not).
            _knownTail = 0;
            return ReadLedgerHead();
        }

        if (last is null)
        {
            return null;
        }

        if (long.TryParse(last.RowKey, out var seq))
        {
            _knownTail = seq;
        }

        return Chunks.Join(last, Location);
    }

    public void AppendLedger(IReadOnlyList<byte[]> lines, bool durable) => Append(lines, null);

    public void AppendLedger(IReadOnlyList<byte[]> lines, byte[] checkpoint) => Append(lines, checkpoint);

    private void Append(IReadOnlyList<byte[]> lines, byte[]? checkpoint)
    {
        if (lines.Count == 0)
        {
            return;
        }

        var entities = new List<TableEntity>(lines.Count + 1);
        long previous = -1;
        foreach (var raw in lines)
        {
            var line = WithoutLineEnd(raw);
            var seq = SequenceOf(line);
            if (previous >= 0 && seq != previous + 1)
            {
                throw new GovernanceException("LedgerInvalid", GovernanceErrorKind.InvalidData,
                    $"The lines to append to '{Location}' are not consecutive (#{previous} then #{seq}); nothing was written.", Location);
            }

            previous = seq;
            entities.Add(Chunks.Split(new TableEntity(LedgerPartition, Key(seq)), line, Location));
        }

        TableEntity? separate = null;
        if (checkpoint is not null)
        {
            // In the last batch, with the entries it seals: both are written, or neither. A client whose
            // transactions the service refuses (a SAS on Azurite: 403 on $batch) inserts it after them, as a
            // checkpoint written on its own is: until then its entries are signed but not yet sealed.
            var entity = CheckpointEntity(WithoutLineEnd(checkpoint), previous);
            if (TransactionsAllowed || entities.Count > 1)
            {
                entities.Add(entity);
            }
            else
            {
                separate = entity;
            }
        }

        // Every batch is one partition and at most 100 actions and 3 MiB, whatever the service would accept.
        foreach (var batch in Batches(entities))
        {
            FaultInjection.Point("TableStore.Ledger.Sending");
            SubmitInserts(batch);
            FaultInjection.Point("TableStore.Ledger.Sent");
        }

        _knownTail = previous;
        if (separate is not null)
        {
            FaultInjection.Point("TableStore.Checkpoint.Sending");
            InsertOnce(separate, Chunks.Join(separate, Location), "CheckpointExists", "A checkpoint with that key already exists.");
            FaultInjection.Point("TableStore.Checkpoint.Sent");
        }
    }

    /// <summary>
    /// False for a SAS: Azurite refuses a transaction ($batch) under a table SAS (403 AuthorizationFailure), so an
    /// append of one entry is one insert and its checkpoint a second. An append of several entries is a transaction
    /// whatever the credential, as it must be all or nothing.
    /// </summary>
    internal bool TransactionsAllowed { get; set; } = true;

    /// <summary>One read from <paramref name="fromSequence"/> on: the entries and the checkpoints stored beside them.</summary>
    public LedgerTail ReadLedgerTail(long fromSequence)
    {
        if (_readAfterConflict is { } kept)
        {
            _readAfterConflict = null;
            if (kept.From == fromSequence)
            {
                return kept.Tail; // read just now, after the lost race: nothing older than a read would be
            }
        }

        var entries = new List<(long, byte[])>();
        var checkpoints = new List<(long, byte[])>();
        foreach (var e in Query($"PartitionKey eq '{LedgerPartition}' and RowKey ge '{Key(Math.Max(fromSequence, 0))}'"))
        {
            var place = long.TryParse(e.RowKey.Length >= 19 ? e.RowKey.Substring(0, 19) : e.RowKey, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var s) ? s : -1;
            (IsCheckpointRow(e) ? checkpoints : entries).Add((place, Chunks.Join(e, Location)));
        }

        return new LedgerTail(entries, checkpoints);
    }

    private static bool IsCheckpointRow(TableEntity e) => e.RowKey.Length > 20 && e.RowKey[19] == '~' && e.GetBoolean("Checkpoint") == true;

    private TableEntity CheckpointEntity(byte[] line, long sequence)
    {
        var key = Key(sequence) + "~" + Convert.ToHexString(RandomNumberGenerator.GetBytes(6)).ToLowerInvariant();
        var entity = Chunks.Split(new TableEntity(LedgerPartition, key), line, Location);
        entity["Checkpoint"] = true;
        return entity;
    }

    private static byte[] WithoutLineEnd(byte[] raw) =>
        raw.Length > 0 && raw[raw.Length - 1] == (byte)'\n' ? raw.AsSpan(0, raw.Length - 1).ToArray() : raw;

    public IEnumerable<ArraySegment<byte>> ReadLedger(Action<byte[]>? tornTail = null)
    {
        // Inserts are atomic, so there is never a torn tail here. A row that is not a checkpoint is a line
        // (an odd row an insider added is returned, and fails verification).
        foreach (var e in Query($"PartitionKey eq '{LedgerPartition}'"))
        {
            if (!IsCheckpointRow(e))
            {
                yield return new ArraySegment<byte>(Chunks.Join(e, Location));
            }
        }
    }

    /// <summary>
    /// A checkpoint written on its own (Copy-GovernanceStore, a seal without an append): beside the entry it
    /// names, where the writers' tail reads find it.
    /// </summary>
    public void AppendCheckpoint(byte[] line)
    {
        var body = WithoutLineEnd(line);
        var entity = CheckpointEntity(body, SequenceOf(body));
        FaultInjection.Point("TableStore.Checkpoint.Sending");
        InsertOnce(entity, body, "CheckpointExists", "A checkpoint with that key already exists.");
        FaultInjection.Point("TableStore.Checkpoint.Sent");
    }

    public IReadOnlyList<byte[]> ReadCheckpoints() =>
        Query($"PartitionKey eq '{LedgerPartition}' and Checkpoint eq true").Where(IsCheckpointRow)
            .Concat(Query($"PartitionKey eq '{CheckpointPartition}'"))
            .Select(e => Chunks.Join(e, Location)).ToList();

    public void RegisterSigner(string keyId, string publicKey)
    {
        if (_registered.TryGetValue(keyId, out var known) && known == publicKey)
        {
            return; // this handle registered it, or found it registered with this key
        }

        var id = SafeId(keyId.Replace("sha256:", string.Empty));
        var found = Call(Location, () => _table.GetEntityIfExists<TableEntity>(SignerPartition, id));
        if (found.HasValue)
        {
            if (found.Value!.GetString("Key") != publicKey)
            {
                throw new GovernanceException("SignerConflict", GovernanceErrorKind.SecurityError,
                    $"The store '{Location}' already has a different public key registered as signer '{keyId}'.", keyId);
            }

            _registered[keyId] = publicKey;
            return;
        }

        try
        {
            Call(Location, () => _table.AddEntity(new TableEntity(SignerPartition, id) { ["Key"] = publicKey }));
            _registered[keyId] = publicKey;
        }
        catch (RequestFailedException e) when (e.Status == 409)
        {
            RegisterSigner(keyId, publicKey); // registered a moment before: check it is the same key
        }
    }

    public IReadOnlyList<string> ReadSigners() =>
        Query($"PartitionKey eq '{SignerPartition}'").Select(e => e.GetString("Key")).Where(k => k is not null).Select(k => k!).ToList();

    public void Dispose()
    {
    }

    internal static string Key(long sequence) => sequence.ToString("D19", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Splits the inserts into batches of one partition, at most 100 actions and 3 MiB each.</summary>
    internal static IEnumerable<List<TableEntity>> Batches(IReadOnlyList<TableEntity> entities)
    {
        var batch = new List<TableEntity>();
        var bytes = 0;
        foreach (var e in entities)
        {
            var size = Chunks.Size(e);
            if (batch.Count > 0 && (batch.Count == MaxBatchActions || bytes + size > MaxBatchBytes || batch[0].PartitionKey != e.PartitionKey))
            {
                yield return batch;
                batch = new List<TableEntity>();
                bytes = 0;
            }

            batch.Add(e);
            bytes += size;
        }

        if (batch.Count > 0)
        {
            yield return batch;
        }
    }

    private void SubmitInserts(List<TableEntity> batch)
    {
        if (batch.Count > MaxBatchActions || batch.Any(e => e.PartitionKey != batch[0].PartitionKey))
        {
            throw new InvalidOperationException("A batch must be one partition and at most 100 actions.");
        }

        try
        {
            if (batch.Count == 1)
            {
                Call(Location, () => _table.AddEntity(batch[0]));
            }
            else
            {
                Call(Location, () => _table.SubmitTransaction(batch.Select(e => new TableTransactionAction(TableTransactionActionType.Add, e)).ToList()));
            }

            _losses = 0;
        }
        catch (RequestFailedException e) when (e.Status == 409)
        {
            // Either another writer took the sequence, or a retry of ours met our own insert (the first try
            // reached the service and its answer was lost): the stored bytes tell which. A batch is atomic.
            // One range read from the head this append chained onto answers that, and is what the ledger's
            // retry reads next (what the other writers appended since): kept for it, so a lost race costs one
            // read, not two.
            var first = batch[0];
            var sequence = long.Parse(first.RowKey, System.Globalization.CultureInfo.InvariantCulture);
            PaceAfterLoss();
            var tail = ReadLedgerTail(sequence - 1);
            var ours = Chunks.Join(first, Location);
            if (tail.Entries.Any(t => t.Sequence == sequence && t.Line.AsSpan().SequenceEqual(ours)))
            {
                return;
            }

            _readAfterConflict = (sequence - 1, tail);
            throw new GovernanceException("StoreConflict", GovernanceErrorKind.InvalidOperation,
                $"Another writer appended ledger entry #{sequence} to '{Location}' first; nothing was written.", Location, e);
        }
    }

    /// <summary>The tail read when an append lost a race (from the sequence it chained onto), for the ledger's retry; used once.</summary>
    private (long From, LedgerTail Tail)? _readAfterConflict;

    /// <summary>The races this handle lost in a row (0 after an append went in).</summary>
    private int _losses;

    [ThreadStatic]
    private static Random? _jitter;

    /// <summary>
    /// After the first loss in a row none (the winner is done, its rows are there to read); after more, a short
    /// random wait that grows with them (0 to 2n ms, at most 20), so that writers that keep meeting spread out
    /// instead of all reading and inserting again in the same millisecond. Before the read, so the read is fresh.
    /// (A window doubling up to 64 ms was tried: 8 writers' p99 grew from 6 s to 21 s, as the unlucky waited longest.)
    /// </summary>
    private void PaceAfterLoss()
    {
        _losses++;
        if (_losses > 1)
        {
            _jitter ??= new Random(Guid.NewGuid().GetHashCode());
            Thread.Sleep(_jitter.Next(0, (2 * Math.Min(_losses, 10)) + 1));
        }
    }

    private void InsertOnce(string partition, string rowKey, byte[] document, string existsId, string existsMessage) =>
        InsertOnce(Chunks.Split(new TableEntity(partition, rowKey), document, Location), document, existsId, existsMessage);

    private void InsertOnce(TableEntity entity, byte[] document, string existsId, string existsMessage)
    {
        var (partition, rowKey) = (entity.PartitionKey, entity.RowKey);
        try
        {
            Call(Location, () => _table.AddEntity(entity));
        }
        catch (RequestFailedException e) when (e.Status == 409)
        {
            var stored = Call(Location, () => _table.GetEntityIfExists<TableEntity>(partition, rowKey));
            if (stored.HasValue && Chunks.Join(stored.Value!, Location).AsSpan().SequenceEqual(document))
            {
                return; // our own insert, retried after its answer was lost
            }

            throw new GovernanceException(existsId, GovernanceErrorKind.InvalidOperation, existsMessage, rowKey, e);
        }
    }

    private IEnumerable<TableEntity> Query(string filter, IEnumerable<string>? select = null)
    {
        var pages = Call(Location, () => _table.Query<TableEntity>(filter, maxPerPage: 1000, select: select).AsPages());
        using var pageEnum = pages.GetEnumerator();
        while (true)
        {
            if (!Call(Location, () => pageEnum.MoveNext()))
            {
                yield break;
            }

            foreach (var e in pageEnum.Current.Values)
            {
                yield return e;
            }
        }
    }

    /// <summary>The "seq" of a canonical ledger line (a top-level number).</summary>
    internal static long SequenceOf(byte[] line)
    {
        try
        {
            var reader = new Utf8JsonReader(line);
            if (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
            {
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    var isSeq = reader.ValueTextEquals("seq");
                    reader.Read();
                    if (isSeq && reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var seq) && seq > 0)
                    {
                        return seq;
                    }

                    reader.Skip();
                }
            }
        }
        catch (JsonException)
        {
        }

        throw new GovernanceException("LedgerInvalid", GovernanceErrorKind.InvalidData, "A line to append to the ledger has no positive 'seq'; nothing was written.");
    }

    internal static string SafeId(string id)
    {
        if (id.Length == 0 || id.Length > 128 || id[0] == '.' || id.Any(c => !(char.IsLetterOrDigit(c) && c < 128) && c != '-' && c != '_' && c != '.'))
        {
            throw new GovernanceException("InvalidId", GovernanceErrorKind.InvalidArgument, $"'{Visible(id)}' is not a valid id.", id);
        }

        return id;
    }

    private static string Visible(string s)
    {
        var b = new StringBuilder();
        foreach (var c in s.Length > 80 ? s.Substring(0, 80) : s)
        {
            b.Append(c < 0x20 || c == 0x7f || (c >= 0x200e && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069) ? $"\\u{(int)c:x4}" : c.ToString());
        }

        return b.ToString();
    }

    /// <summary>Runs a service call, turning what is not ours to handle (auth, network after the retries) into StoreUnavailable / StoreAccessDenied.</summary>
    internal static T Call<T>(string location, Func<T> call)
    {
        try
        {
            return call();
        }
        catch (RequestFailedException e) when (e.Status == 409 || e.Status == 404 && e.ErrorCode == "ResourceNotFound")
        {
            throw;
        }
        catch (RequestFailedException e) when (e.Status == 401 || e.Status == 403)
        {
            throw new GovernanceException("StoreAccessDenied", GovernanceErrorKind.PermissionDenied,
                $"The table store '{location}' refused the request ({e.Status} {e.ErrorCode}): the identity needs the Storage Table Data Contributor role " +
                "(Reader to read only), or a SAS with Add and Read.", location, e);
        }
        catch (RequestFailedException e)
        {
            throw new GovernanceException("StoreUnavailable", GovernanceErrorKind.ReadError,
                $"The table store '{location}' failed ({e.Status} {e.ErrorCode}) after its retries: {FirstLine(e.Message)}", location, e);
        }
        catch (Exception e) when (e is Azure.Identity.AuthenticationFailedException || e is Azure.Identity.CredentialUnavailableException)
        {
            throw new GovernanceException("StoreAccessDenied", GovernanceErrorKind.PermissionDenied,
                $"Could not sign in to the table store '{location}': {FirstLine(e.Message)}", location, e);
        }
        catch (AggregateException e) when (e.InnerException is RequestFailedException)
        {
            throw new GovernanceException("StoreUnavailable", GovernanceErrorKind.ReadError,
                $"The table store '{location}' could not be reached after its retries: {FirstLine(e.InnerException.Message)}", location, e);
        }
    }

    internal static void Call(string location, Action call) => Call(location, () => { call(); return 0; });

    internal static string FirstLine(string s)
    {
        var i = s.IndexOfAny(new[] { '\r', '\n' });
        return Visible(i < 0 ? s : s.Substring(0, i));
    }

    private sealed class Releaser : IDisposable
    {
        private SemaphoreSlim? _gate;

        public Releaser(SemaphoreSlim gate) => _gate = gate;

        public void Dispose() => Interlocked.Exchange(ref _gate, null)?.Release();
    }
}

/// <summary>
/// Bytes in an entity: binary properties D0..Dn of at most 64 KiB each (the service's limit for one
/// property), at most 15 of them; past that, gzip first (Gz = true). Larger still: DocumentTooLarge.
/// </summary>
internal static class Chunks
{
    public static TableEntity Split(TableEntity entity, byte[] data, string location)
    {
        var body = data;
        var gz = false;
        if (data.Length > TableStore.ChunkSize * TableStore.MaxChunks)
        {
            using var ms = new MemoryStream();
            using (var z = new GZipStream(ms, CompressionLevel.Optimal, leaveOpen: true))
            {
                z.Write(data, 0, data.Length);
            }

            body = ms.ToArray();
            gz = true;
            if (body.Length > TableStore.ChunkSize * TableStore.MaxChunks)
            {
                throw new GovernanceException("DocumentTooLarge", GovernanceErrorKind.InvalidData,
                    $"A document of {data.Length} bytes ({body.Length} compressed) does not fit in one entity of the table store '{location}' (at most {TableStore.ChunkSize * TableStore.MaxChunks} bytes); nothing was written.", entity.RowKey);
            }
        }

        var parts = (body.Length + TableStore.ChunkSize - 1) / TableStore.ChunkSize;
        for (var i = 0; i < Math.Max(parts, 1); i++)
        {
            var start = i * TableStore.ChunkSize;
            entity["D" + i] = body.AsSpan(start, Math.Min(TableStore.ChunkSize, body.Length - start)).ToArray();
        }

        entity["Parts"] = Math.Max(parts, 1);
        entity["Length"] = data.Length;
        if (gz)
        {
            entity["Gz"] = true;
        }

        return entity;
    }

    public static byte[] Join(TableEntity entity, string location)
    {
        var parts = entity.GetInt32("Parts") ?? -1;
        var length = entity.GetInt32("Length") ?? -1;
        if (parts < 1 || parts > TableStore.MaxChunks || length < 0)
        {
            throw Invalid(entity, location, "its Parts or Length is missing or out of range");
        }

        using var ms = new MemoryStream();
        for (var i = 0; i < parts; i++)
        {
            var chunk = entity.GetBinary("D" + i) ?? throw Invalid(entity, location, $"part D{i} is missing");
            ms.Write(chunk, 0, chunk.Length);
        }

        var body = ms.ToArray();
        if (entity.GetBoolean("Gz") == true)
        {
            try
            {
                using var z = new GZipStream(new MemoryStream(body), CompressionMode.Decompress);
                using var outStream = new MemoryStream();
                var buffer = new byte[81920];
                int n;
                while ((n = z.Read(buffer, 0, buffer.Length)) > 0)
                {
                    outStream.Write(buffer, 0, n);
                    if (outStream.Length > length)
                    {
                        throw Invalid(entity, location, "it is longer than its Length");
                    }
                }

                body = outStream.ToArray();
            }
            catch (InvalidDataException)
            {
                throw Invalid(entity, location, "its compressed data is not valid");
            }
        }

        if (body.Length != length)
        {
            throw Invalid(entity, location, $"it holds {body.Length} bytes, not the {length} it says");
        }

        return body;
    }

    public static int Size(TableEntity e) => e.Keys.Sum(k => k.Length * 2 + 8 + (e[k] is byte[] b ? b.Length : 16));

    private static GovernanceException Invalid(TableEntity e, string location, string why) =>
        new("StoreInvalid", GovernanceErrorKind.InvalidData, $"The entity {e.PartitionKey}/{e.RowKey} of the table store '{location}' is not valid: {why}.", location);
}
