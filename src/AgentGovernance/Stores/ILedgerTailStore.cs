using System;
using System.Collections.Generic;

namespace AgentGovernance.Stores;

/// <summary>
/// A store whose ledger writers do not share one lock (the table store: many processes and machines) and
/// that keeps each checkpoint beside the entry it seals. <see cref="Ledger.AuditLedger"/> uses it to make an
/// append two round-trips: one read of what is new since the head this writer verified, and one atomic
/// insert of the entries with their checkpoint.
/// </summary>
internal interface ILedgerTailStore
{
    /// <summary>
    /// In one read: the ledger lines stored at sequence <paramref name="fromSequence"/> and after, in order, and
    /// the checkpoint lines stored beside them (each with the sequence its place names). What is returned is
    /// only what the store says; the caller checks every line.
    /// </summary>
    LedgerTail ReadLedgerTail(long fromSequence);

    /// <summary>
    /// Appends the lines (as <see cref="IGovernanceStore.AppendLedger"/>, StoreConflict when the first line's
    /// sequence was taken meanwhile, nothing written) and, in the same atomic write, the checkpoint line of
    /// the last one: the checkpoint is never stored without the entries it seals, nor they without it.
    /// </summary>
    void AppendLedger(IReadOnlyList<byte[]> lines, byte[] checkpoint);
}

/// <summary>What <see cref="ILedgerTailStore.ReadLedgerTail"/> found.</summary>
internal sealed class LedgerTail
{
    public LedgerTail(IReadOnlyList<(long Sequence, byte[] Line)> entries, IReadOnlyList<(long Sequence, byte[] Line)> checkpoints)
    {
        Entries = entries;
        Checkpoints = checkpoints;
    }

    /// <summary>The ledger lines, with the sequence of the place each is stored at (without line ends).</summary>
    public IReadOnlyList<(long Sequence, byte[] Line)> Entries { get; }

    /// <summary>The checkpoint lines, with the sequence of the place each is stored at (without line ends).</summary>
    public IReadOnlyList<(long Sequence, byte[] Line)> Checkpoints { get; }
}
