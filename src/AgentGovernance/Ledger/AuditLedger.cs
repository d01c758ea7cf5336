using System;
using System.Collections.Generic;
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

    public AuditLedger(IGovernanceStore store, LedgerSigner? signer)
    {
        _store = store;
        _signer = signer;
    }

    public IGovernanceStore Store => _store;

    /// <summary>Appends the events in order, durably, under the store's lock, and signs a checkpoint of the new head.</summary>
    public IReadOnlyList<LedgerEntry> Append(IReadOnlyList<LedgerEvent> events)
    {
        if (events.Count == 0)
        {
            return Array.Empty<LedgerEntry>();
        }

        using (_store.Lock(LockTimeout))
        {
            return AppendLocked(events, checkpoint: true);
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
            var (lastSeq, lastHash) = Head(codec);
            try
            {
                return AppendLocked(codec, events, lastSeq, lastHash, checkpoint);
            }
            catch (GovernanceException e) when (e.ErrorId == "StoreConflict" && attempt < MaxConflictRetries)
            {
                // A store whose lock does not reach other processes (a table) refuses an append at a taken
                // sequence: re-read the new head, verify it, and chain onto it.
                System.Threading.Thread.Sleep(new Random(Guid.NewGuid().GetHashCode()).Next(1, 10 * Math.Min(attempt, 10)));
            }
        }
    }

    /// <summary>How many times an append whose sequence another writer took is chained again before the StoreConflict stands.</summary>
    public const int MaxConflictRetries = 50;

    /// <summary>
    /// Checks, under the lock, that the ledger can be written to (its last entry verifies), before a step
    /// writes anything else to the store that the entry will vouch for. LedgerTampered when it cannot.
    /// </summary>
    public void CheckHeadLocked()
    {
        using var codec = new LedgerCodec();
        Head(codec);
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
            lines.Add(codec.Encode(++lastSeq, time, e, details, lastHash, out var hash));
            entries.Add(new LedgerEntry(lastSeq, at, e.Event, e.Actor, e.ChangeId, e.RequestId, details, lastHash, hash));
            lastHash = hash;
        }

        _store.AppendLedger(lines, durable: true);
        if (checkpoint)
        {
            Seal(lastSeq, lastHash);
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
        var checkpoint = LedgerCheckpoint.Create(_signer, _store.StoreId, sequence, hash, GovernanceClock.UtcNow);
        _store.AppendCheckpoint(checkpoint.ToLine());
        _signer.WriteWitness(_store.StoreId, sequence, hash);
    }

    /// <summary>Every entry, in order. Lines that are not entries are skipped here; Test-GovernanceAuditLog reports them.</summary>
    public IEnumerable<LedgerEntry> Read()
    {
        using var codec = new LedgerCodec();
        foreach (var line in _store.ReadLedger())
        {
            var entry = codec.Decode(line, out _, out _);
            if (entry is not null)
            {
                yield return entry;
            }
        }
    }

    private (long Sequence, string Hash) Head(LedgerCodec codec)
    {
        var head = _store.ReadLedgerHead();
        if (head is null)
        {
            return (0, LedgerCodec.Genesis(_store.StoreId));
        }

        var entry = codec.Decode(new ArraySegment<byte>(head), out var matches, out var problem);
        if (entry is null || !matches)
        {
            // Never chain onto an entry that does not verify: that would bury the tampering under a valid-looking tail.
            throw new GovernanceException("LedgerTampered", GovernanceErrorKind.SecurityError,
                $"The last entry of the ledger in '{_store.Location}' does not verify ({problem ?? "its hash does not match its content"}); " +
                "nothing was written. Run Test-GovernanceAuditLog to see where the ledger was changed.", _store.Location);
        }

        return (entry.Sequence, entry.Hash);
    }
}
