using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Text.Json;
using AgentGovernance.Approval;
using AgentGovernance.Json;
using AgentGovernance.Stores;

namespace AgentGovernance.Ledger;

/// <summary>
/// The append-only audit ledger of a store: chains entries, writes them durably, and seals each
/// append with a checkpoint signed by the <see cref="LedgerSigner"/>.
/// </summary>
internal sealed class AuditLedger
{
    /// <summary>How long a writer waits for the store's lock before StoreBusy.</summary>
    public static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(30);

    private readonly IGovernanceStore _store;
    private readonly LedgerSigner? _signer;
    private readonly IReadOnlyList<PublicKey> _pinned;
    private readonly string? _witnessPath;

    /// <summary>The head this writer verified in full (or wrote itself) last, while it held the lock.</summary>
    private (long Sequence, string Hash)? _verified;

    /// <summary>The checkpoint lines stored at the verified head that this writer checked or wrote (a table store's tail read returns them again).</summary>
    private List<byte[]> _checkedAtHead = new();

    /// <summary>The signers a tail check trusts: the pinned ones, else the store's registered ones, read again when an entry names one not read yet.</summary>
    private List<PublicKey>? _trusted;

    /// <param name="pinned">The policy's LedgerSigners: the only keys whose entries and checkpoints count (none: the store's registered signers).</param>
    /// <param name="witnessPath">This machine's witness for the store (default: the signer's).</param>
    public AuditLedger(IGovernanceStore store, LedgerSigner? signer, IReadOnlyList<PublicKey>? pinned = null, string? witnessPath = null)
    {
        _store = store;
        _signer = signer;
        _pinned = pinned ?? Array.Empty<PublicKey>();
        _witnessPath = witnessPath ?? signer?.WitnessPath(store.StoreId);
    }

    public IGovernanceStore Store => _store;

    /// <summary>Appends the events in order, durably, under the store's lock, and signs a checkpoint of the new head.</summary>
    public IReadOnlyList<LedgerEntry> Append(IReadOnlyList<LedgerEvent> events)
    {
        if (events.Count == 0)
        {
            return Array.Empty<LedgerEntry>();
        }

        if (_store is ILedgerTailStore && _signer is not null)
        {
            return AppendGrouped(events);
        }

        using (_store.Lock(LockTimeout))
        {
            return AppendLocked(events, checkpoint: true);
        }
    }

    /// <summary>
    /// The appends of this process waiting for a table store's lock: whoever gets the lock appends the waiting
    /// ones of its group with its own, in one transaction under one checkpoint (group commit), so that the
    /// threads of one runbook worker take one place in the race between processes, not one each.
    /// </summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, List<PendingAppend>> Waiting = new(StringComparer.Ordinal);

    /// <summary>How many appends of this process wait for the lock of the store at <paramref name="location"/> (for tests).</summary>
    internal static int WaitingFor(string location)
    {
        if (!Waiting.TryGetValue(location, out var queue))
        {
            return 0;
        }

        lock (queue)
        {
            return queue.Count;
        }
    }

    private static readonly TimeSpan GroupWaitSlice = TimeSpan.FromMilliseconds(10);

    /// <summary>At most this many entries go in one group's transaction, with its checkpoint: the service's 100 actions.</summary>
    internal const int MaxGroupEntries = 99;

    /// <summary>And at most about this many bytes of details (the first append of a group goes whatever its size).</summary>
    internal const int MaxGroupDetailBytes = 1024 * 1024;

    /// <summary>What this process's appends cost, for the bench and tests: appends written by another append's transaction.</summary>
    internal static long Carried;

    private IReadOnlyList<LedgerEntry> AppendGrouped(IReadOnlyList<LedgerEvent> events)
    {
        // Appends are grouped only with those that would write, verify and witness exactly as this one: the same
        // store, signer key, pinned signers and witness.
        var group = string.Join("|", _store.StoreId, _signer!.PublicKey.KeyId, _witnessPath ?? string.Empty, string.Join(",", _pinned.Select(k => k.KeyId)));
        var queue = Waiting.GetOrAdd(_store.Location, _ => new List<PendingAppend>());
        var mine = new PendingAppend(events, group);
        lock (queue)
        {
            queue.Add(mine);
        }

        // The lock in slices, so that an append another one carried returns once it is written, not when this
        // thread gets the lock (which may be long: the lock lets a thread that just released it take it again).
        IDisposable? held = null;
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (held is null)
        {
            try
            {
                held = _store.Lock(GroupWaitSlice);
            }
            catch (GovernanceException e) when (e.ErrorId == "StoreBusy")
            {
                if (mine.Done.IsSet)
                {
                    return mine.Outcome(); // taken by the holder of the lock: its outcome is this one's
                }

                if (waited.Elapsed >= LockTimeout)
                {
                    lock (queue)
                    {
                        if (queue.Remove(mine))
                        {
                            // Never taken: nothing of it was written.
                            throw new GovernanceException("StoreBusy", GovernanceErrorKind.InvalidOperation,
                                $"The store '{_store.Location}' stayed locked by another writer in this process for {LockTimeout.TotalSeconds:0} s.", _store.Location, e);
                        }
                    }

                    return mine.Outcome();
                }
            }
        }

        using (held)
        {
            if (mine.Done.IsSet)
            {
                return mine.Outcome();
            }

            var taken = new List<PendingAppend>();
            lock (queue)
            {
                var entries = 0;
                var bytes = 0L;
                foreach (var p in queue)
                {
                    if (p == mine || (p.Group == group && entries + p.Events.Count <= MaxGroupEntries && bytes + p.DetailBytes <= MaxGroupDetailBytes))
                    {
                        taken.Add(p);
                        entries += p.Events.Count;
                        bytes += p.DetailBytes;
                    }
                }

                if (!taken.Contains(mine))
                {
                    taken = new List<PendingAppend> { mine };
                }

                queue.RemoveAll(taken.Contains);
            }

            IReadOnlyList<LedgerEntry> written;
            try
            {
                written = AppendLocked(taken.SelectMany(p => p.Events).ToList(), checkpoint: true);
            }
            catch (Exception e)
            {
                foreach (var p in taken)
                {
                    p.Fail(e);
                }

                throw;
            }

            var at = 0;
            foreach (var p in taken)
            {
                p.Succeed(written.Skip(at).Take(p.Events.Count).ToList());
                at += p.Events.Count;
                if (p != mine)
                {
                    System.Threading.Interlocked.Increment(ref Carried);
                }
            }

            return mine.Outcome();
        }
    }

    /// <summary>One append waiting in <see cref="Waiting"/>, and what became of it.</summary>
    private sealed class PendingAppend
    {
        private IReadOnlyList<LedgerEntry>? _entries;
        private Exception? _error;

        public PendingAppend(IReadOnlyList<LedgerEvent> events, string group)
        {
            Events = events;
            Group = group;
            DetailBytes = events.Sum(e => (long)CanonicalJson.Serialize(e.Details).Length + 512);
        }

        public IReadOnlyList<LedgerEvent> Events { get; }

        public string Group { get; }

        public long DetailBytes { get; }

        public System.Threading.ManualResetEventSlim Done { get; } = new(false);

        public void Succeed(IReadOnlyList<LedgerEntry> entries)
        {
            _entries = entries;
            Done.Set();
        }

        public void Fail(Exception error)
        {
            _error = error;
            Done.Set();
        }

        /// <summary>The entries written, or the failure of the append that carried these events (rethrown in this thread, the same ErrorId).</summary>
        public IReadOnlyList<LedgerEntry> Outcome()
        {
            Done.Wait();
            return _error switch
            {
                null => _entries!,
                GovernanceException g => throw new GovernanceException(g.ErrorId, g.Kind, g.Message, g.Target, g),
                _ => throw new InvalidOperationException("The ledger append that carried this one failed: " + _error.Message, _error),
            };
        }
    }

    public LedgerEntry Append(LedgerEvent e) => Append(new[] { e })[0];

    /// <summary>
    /// Appends while the caller already holds the store's lock (a step that must read state and record
    /// its decision in one go, such as counting a quorum before recording the approval that meets it).
    /// </summary>
    public IReadOnlyList<LedgerEntry> AppendLocked(IReadOnlyList<LedgerEvent> events, bool checkpoint = true)
    {
        using var codec = new LedgerCodec();
        for (var attempt = 1; ; attempt++)
        {
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            var (lastSeq, lastHash) = VerifiedHead(codec);
            var headed = System.Diagnostics.Stopwatch.GetTimestamp();
            System.Threading.Interlocked.Add(ref HeadTicks, headed - started);
            try
            {
                return AppendLocked(codec, events, lastSeq, lastHash, checkpoint);
            }
            catch (GovernanceException e) when (e.ErrorId == "StoreConflict" && attempt < MaxConflictRetries)
            {
                // A store whose lock does not reach other processes (a table) refuses an append at a taken
                // sequence: verify what was appended after the head this writer verified, and chain onto it.
                // The store paces its writers (a random wait that grows with the losses in a row) and has read
                // those rows already, when it found the race lost.
                System.Threading.Interlocked.Increment(ref Conflicts);
            }
            finally
            {
                System.Threading.Interlocked.Add(ref WriteTicks, System.Diagnostics.Stopwatch.GetTimestamp() - headed);
            }
        }
    }

    /// <summary>How many times an append whose sequence another writer took is chained again before the StoreConflict stands.</summary>
    public const int MaxConflictRetries = 200;

    /// <summary>What this process's appends cost, for the bench: conflicts met, tail checks passed, full verifications.</summary>
    internal static long Conflicts, TailChecks, FullVerifications;

    /// <summary>
    /// Where an attempt's time goes, for the bench (Stopwatch ticks over every attempt of this process): finding the
    /// verified head (the tail read and its checks, or a full verification), and writing (encoding and signing
    /// the entries and checkpoint, the insert, and after a lost race the store's pause and its read of the tail).
    /// </summary>
    internal static long HeadTicks, WriteTicks;

    /// <summary>
    /// Checks, under the lock, that the ledger can be written to (it verifies in full: chain, every entry's
    /// signature, checkpoints, this machine's witness), before a step writes anything else to the store that
    /// the entry will vouch for. LedgerTampered when it does not.
    /// </summary>
    public void CheckHeadLocked()
    {
        using var codec = new LedgerCodec();
        VerifiedHead(codec);
    }

    private IReadOnlyList<LedgerEntry> AppendLocked(LedgerCodec codec, IReadOnlyList<LedgerEvent> events, long lastSeq, string lastHash, bool checkpoint)
    {
        var lines = new List<byte[]>(events.Count);
        var entries = new List<LedgerEntry>(events.Count);
        var time = GovernanceClock.Format(GovernanceClock.UtcNow);
        GovernanceClock.TryParse(time, out var at);
        foreach (var e in events)
        {
            var details = CanonicalJson.Serialize(e.Details);
            lines.Add(codec.Encode(++lastSeq, time, e, details, lastHash, _signer, out var hash));
            entries.Add(new LedgerEntry(lastSeq, at, e.Event, e.Actor, e.ChangeId, e.RequestId, details, lastHash, hash, _signer!.PublicKey.KeyId, null));
            lastHash = hash;
        }

        // Registered before its first entry is written, so that a reader that trusts the registered signers
        // (no LedgerSigners pinned) never sees an entry of a signer it cannot know yet.
        _store.RegisterSigner(_signer!.PublicKey.KeyId, _signer.PublicKey.Base64);
        // Crash consistency (issue 16: one fsync per append). The entries' fsync is the only one, and the append
        // is acknowledged after it: what a caller was told is written survives a kill -9 and a machine crash.
        // The checkpoint and the witness are written after it without fsyncs of their own, so neither can be on
        // disk ahead of the entries it names (a checkpoint or witness past the ledger's end would read as
        // truncation); after a machine crash they can only lag, or the checkpoint's last line be torn (readers
        // skip it, the next checkpoint append cuts it off). A lagging checkpoint is what a kill -9 between the
        // two writes always left: every ledger@2 entry carries its own signature, so the chain still verifies,
        // its last entries are reported "not yet sealed", and the next append's checkpoint seals them.
        if (checkpoint && _store is ILedgerTailStore tail)
        {
            // A table: the checkpoint goes in the same atomic insert as the entries it seals, so an append is one
            // write and the entries are never unsealed, not even for a moment (no window).
            var sealLine = LedgerCheckpoint.Create(_signer, _store.StoreId, lastSeq, lastHash, GovernanceClock.UtcNow).ToLine();
            tail.AppendLedger(lines, sealLine);
            _verified = (lastSeq, lastHash);
            _checkedAtHead = new List<byte[]> { WithoutLineEnd(sealLine) };
            _signer.WriteWitness(_store.StoreId, lastSeq, lastHash);
            return entries;
        }

        _store.AppendLedger(lines, durable: true);
        _verified = (lastSeq, lastHash);
        _checkedAtHead = new List<byte[]>();
        if (checkpoint)
        {
            SealRegistered(lastSeq, lastHash);
        }

        return entries;
    }

    /// <summary>Signs a checkpoint of the given head and remembers it in this machine's witness.</summary>
    public void Seal(long sequence, string hash)
    {
        if (_signer is null)
        {
            return;
        }

        _store.RegisterSigner(_signer.PublicKey.KeyId, _signer.PublicKey.Base64);
        SealRegistered(sequence, hash);
    }

    /// <summary>Seal, once the signer is registered (see the crash-consistency note in AppendLocked).</summary>
    private void SealRegistered(long sequence, string hash)
    {
        var checkpoint = LedgerCheckpoint.Create(_signer!, _store.StoreId, sequence, hash, GovernanceClock.UtcNow);
        _store.AppendCheckpoint(checkpoint.ToLine());
        _signer!.WriteWitness(_store.StoreId, sequence, hash);
    }

    /// <summary>
    /// An anchor line: a checkpoint of the head of the ledger, once it verifies in full, signed now. LedgerTampered
    /// when it does not verify, LedgerEmpty when there is nothing to anchor.
    /// </summary>
    public byte[] Anchor()
    {
        using (_store.Lock(LockTimeout))
        {
            using var codec = new LedgerCodec();
            var (sequence, hash) = VerifiedHead(codec);
            if (sequence == 0)
            {
                throw new GovernanceException("LedgerEmpty", GovernanceErrorKind.InvalidOperation,
                    $"The ledger in '{_store.Location}' has no entries yet: there is nothing to anchor.", _store.Location);
            }

            _store.RegisterSigner(_signer!.PublicKey.KeyId, _signer.PublicKey.Base64);
            return LedgerCheckpoint.Create(_signer, _store.StoreId, sequence, hash, GovernanceClock.UtcNow).ToLine();
        }
    }

    /// <summary>
    /// Every entry, in order, WITHOUT verification: for tools that look at a ledger as it is. State is never
    /// derived from this; see <see cref="ReadVerified"/>.
    /// </summary>
    public IEnumerable<LedgerEntry> Read(Action<long, string>? unreadable = null)
    {
        using var codec = new LedgerCodec();
        long n = 0;
        foreach (var line in _store.ReadLedger())
        {
            n++;
            LedgerEntry? entry;
            string? problem;
            try
            {
                entry = codec.Decode(line, out _, out problem);
            }
            catch (Exception e) when (e is JsonException || e is InvalidOperationException || e is FormatException || e is DecoderFallbackException)
            {
                (entry, problem) = (null, e.Message);
            }

            if (entry is not null)
            {
                yield return entry;
            }
            else
            {
                unreadable?.Invoke(n, problem ?? "it is not an entry");
            }
        }
    }

    /// <summary>
    /// The entries of the verified ledger, in order, up to the first that does not verify, with what was
    /// found. Signatures this machine's witness says it verified before are not checked again (their
    /// hashes are, and the witness's hash must be where it says).
    /// </summary>
    public (List<LedgerEntry> Entries, LedgerVerification Verification) ReadVerified()
    {
        var entries = new List<LedgerEntry>();
        var result = LedgerVerifier.Verify(_store, new LedgerVerifyOptions
        {
            Pinned = _pinned,
            OwnKey = _signer?.PublicKey,
            WitnessPath = _witnessPath,
            TrustWitnessPrefix = true,
            OnEntry = entries.Add,
        });
        return (entries, result);
    }

    /// <summary>The LedgerTampered error for a verification that found problems: what, and where.</summary>
    internal static GovernanceException Tampered(LedgerVerification result, string what) =>
        new("LedgerTampered", GovernanceErrorKind.SecurityError,
            $"The ledger in '{result.Store}' does not verify ({result.Problem} at entry {result.FirstBadSequence}: {result.Message}); {what}. " +
            "Run Test-GovernanceAuditLog to see where the ledger was changed; about_AgentGovernance says how to recover.", result.Store);

    /// <summary>
    /// The head to chain onto, once the whole ledger verifies. A writer's first append verifies the whole
    /// chain (signatures from where this machine's witness left off). Its later appends find the head it
    /// verified or wrote last by position and hash and check only the entries and checkpoints after it;
    /// anything unexpected there, and the whole ledger is verified again. LedgerTampered unless it is whole.
    /// </summary>
    private (long Sequence, string Hash) VerifiedHead(LedgerCodec codec)
    {
        if (_signer is null)
        {
            throw new GovernanceException("LedgerSignerRequired", GovernanceErrorKind.InvalidOperation,
                "Writing to the ledger needs the ledger signer's key; this command opened the store read-only.", _store.Location);
        }

        if (_pinned.Count > 0 && !_pinned.Contains(_signer.PublicKey))
        {
            throw new GovernanceException("LedgerSignerNotPinned", GovernanceErrorKind.PermissionDenied,
                $"This machine's ledger signer {_signer.PublicKey.KeyId} is not one of the policy's LedgerSigners, so what it writes would not verify; nothing was written. " +
                "Add its public key to the policy's LedgerSigners (Get-Content of the signer's .pub in the store's signers folder) or write from a machine that is listed.", _store.Location);
        }

        if (_store is ILedgerTailStore tailStore)
        {
            // A table: no torn tail to cut off; one read of what every writer appended since this writer's head.
            if (_verified is { } t && t.Sequence > 0 && VerifiedTableTail(tailStore, codec, t) is { } tableHead)
            {
                System.Threading.Interlocked.Increment(ref TailChecks);
                _verified = tableHead;
                return tableHead;
            }
        }
        else
        {
            // Cuts off an append torn by a crash before anything is chained on.
            _store.ReadLedgerHead();
            if (_verified is { } p && p.Sequence > 0 && VerifiedTail(codec, p) is { } head)
            {
                _verified = head;
                return head;
            }
        }

        _checkedAtHead = new List<byte[]>();
        _trusted = null;
        System.Threading.Interlocked.Increment(ref FullVerifications);

        // The tail check may have read checkpoints it did not accept: the next one reads them all again.
        StoreReading.ForgetNewCheckpoints(_store);

        // The first append of this writer: the whole chain, every checkpoint and the witness; the signatures of
        // the entries this machine's witness says it verified before are not checked again.
        var result = LedgerVerifier.Verify(_store, new LedgerVerifyOptions
        {
            Pinned = _pinned, OwnKey = _signer.PublicKey, WitnessPath = _witnessPath, TrustWitnessPrefix = true,
        });
        if (!result.IsValid || result.HeadHash is null)
        {
            // Never chain onto a ledger that does not verify: that would bury the tampering under a valid-looking tail.
            throw Tampered(result, "nothing was written");
        }

        _verified = (result.Entries, result.HeadHash);
        return _verified.Value;
    }

    /// <summary>The head, when the entry at the verified prefix's position is the one verified and everything after it verifies; else null.</summary>
    private (long Sequence, string Hash)? VerifiedTail(LedgerCodec codec, (long Sequence, string Hash) prefix)
    {
        var warnings = new List<string>();
        var trusted = LedgerVerifier.Trusted(_store, _pinned, _signer!.PublicKey, warnings);
        var lines = StoreReading.ReadLedgerFrom(_store, prefix.Sequence - 1).Select((line, i) => (prefix.Sequence + i, line));
        if (FollowChain(codec, prefix, lines, id => trusted.Find(k => k.KeyId == id)) is not { } chain)
        {
            return null;
        }

        var (count, prev, hashes) = chain;

        // Only the checkpoints not read by an earlier tail check (or written by this writer): those before were
        // checked then, or by the full verification.
        foreach (var line in StoreReading.ReadNewCheckpoints(_store))
        {
            var c = LedgerCheckpoint.TryParse(line, out _);
            if (c is null)
            {
                return null;
            }

            if (c.Sequence <= prefix.Sequence)
            {
                continue;
            }

            var key = trusted.Find(k => k.KeyId == c.KeyId);
            if (c.StoreId != _store.StoreId || key is null || !hashes.TryGetValue(c.Sequence, out var h) || h != c.Hash || !c.VerifiedBy(key))
            {
                return null;
            }
        }

        return (count, prev);
    }

    /// <summary>
    /// The table store's tail check, on one read from the verified head on: the entry stored there must be the
    /// one verified (same sequence, same hash), every entry after it must follow it, sit at its own place and
    /// be signed by a trusted signer, and every checkpoint beside them must name its place, this store and
    /// the hash of the entry there, signed by a trusted signer. Anything else, and null: the caller verifies
    /// the whole ledger again (and refuses to write when it does not verify). The entries before the head
    /// were verified by this writer's full verification, and are not read again: changing them is found by
    /// every verification from scratch (Test-GovernanceAuditLog, a new session, another writer's first append).
    /// </summary>
    private (long Sequence, string Hash)? VerifiedTableTail(ILedgerTailStore store, LedgerCodec codec, (long Sequence, string Hash) prefix)
    {
        var tail = store.ReadLedgerTail(prefix.Sequence);
        if (FollowChain(codec, prefix, tail.Entries.Select(e => (e.Sequence, new ArraySegment<byte>(e.Line))), TrustedKey) is not { } chain)
        {
            return null;
        }

        var (count, prev, hashes) = chain;

        var atHead = new List<byte[]>();
        foreach (var (place, line) in tail.Checkpoints)
        {
            if (place == count)
            {
                atHead.Add(line);
            }

            if (place == prefix.Sequence && _checkedAtHead.Exists(l => l.AsSpan().SequenceEqual(line)))
            {
                continue; // checked by the last tail check, or written by this writer
            }

            var c = LedgerCheckpoint.TryParse(line, out _);
            var key = c is null ? null : TrustedKey(c.KeyId);
            if (c is null || c.Sequence != place || c.StoreId != _store.StoreId || key is null || !hashes.TryGetValue(c.Sequence, out var h) || h != c.Hash || !c.VerifiedBy(key))
            {
                return null;
            }
        }

        _checkedAtHead = atHead;
        return (count, prev);
    }

    /// <summary>
    /// Follows the chain from the verified prefix through <paramref name="lines"/>, each with the place it is stored
    /// at: the first must be the entry verified there (same sequence, same hash); each later one must sit at its own
    /// place, follow the one before it and be signed by a key <paramref name="trustedKey"/> knows. The head and the
    /// hash of each entry by sequence; null at the first line that does not hold, or when there is none.
    /// </summary>
    private static (long Head, string Hash, Dictionary<long, string> Hashes)? FollowChain(LedgerCodec codec, (long Sequence, string Hash) prefix,
        IEnumerable<(long Place, ArraySegment<byte> Line)> lines, Func<string, PublicKey?> trustedKey)
    {
        var count = prefix.Sequence - 1;
        string? prev = null;
        var hashes = new Dictionary<long, string>();
        foreach (var (place, line) in lines)
        {
            count++;
            if (place != count)
            {
                return null;
            }

            var entry = codec.Decode(line, out var matches, out _, verifyOnly: true);
            if (entry is null || !matches || entry.Sequence != count)
            {
                return null;
            }

            if (prev is null)
            {
                if (entry.Hash != prefix.Hash)
                {
                    return null;
                }
            }
            else
            {
                var key = entry.Signer is null ? null : trustedKey(entry.Signer);
                if (entry.PreviousHash != prev || key is null || !entry.SignedBy(key))
                {
                    return null;
                }
            }

            prev = entry.Hash;
            hashes[count] = entry.Hash;
        }

        return prev is null ? null : (count, prev, hashes);
    }

    /// <summary>The trusted key with that id, reading the store's registered signers again (once) when it is not known yet and nothing is pinned.</summary>
    private PublicKey? TrustedKey(string keyId)
    {
        _trusted ??= LedgerVerifier.Trusted(_store, _pinned, _signer!.PublicKey, new List<string>());
        var key = _trusted.Find(k => k.KeyId == keyId);
        if (key is null && _pinned.Count == 0)
        {
            _trusted = LedgerVerifier.Trusted(_store, _pinned, _signer!.PublicKey, new List<string>());
            key = _trusted.Find(k => k.KeyId == keyId);
        }

        return key;
    }

    private static byte[] WithoutLineEnd(byte[] line) =>
        line.Length > 0 && line[line.Length - 1] == (byte)'\n' ? line.AsSpan(0, line.Length - 1).ToArray() : line;
}

/// <summary>Reads of a store that a store may do faster than through <see cref="IGovernanceStore"/> alone.</summary>
internal static class StoreReading
{
    /// <summary>The ledger's lines from line <paramref name="skip"/> (0-based) on.</summary>
    public static IEnumerable<ArraySegment<byte>> ReadLedgerFrom(IGovernanceStore store, long skip)
    {
        if (store is FolderStore folder)
        {
            return folder.ReadLedgerFrom(skip);
        }

        return Skip(store.ReadLedger(), skip);
    }

    /// <summary>The checkpoint lines a writer's tail check has not read yet (a folder store), or all of them.</summary>
    public static IReadOnlyList<byte[]> ReadNewCheckpoints(IGovernanceStore store) =>
        store is FolderStore folder ? folder.ReadNewCheckpoints() : store.ReadCheckpoints();

    /// <summary>Makes the next <see cref="ReadNewCheckpoints"/> return every checkpoint line.</summary>
    public static void ForgetNewCheckpoints(IGovernanceStore store)
    {
        if (store is FolderStore folder)
        {
            folder.ForgetNewCheckpoints();
        }
    }

    private static IEnumerable<ArraySegment<byte>> Skip(IEnumerable<ArraySegment<byte>> lines, long skip)
    {
        long n = 0;
        foreach (var line in lines)
        {
            if (n++ >= skip)
            {
                yield return line;
            }
        }
    }
}
