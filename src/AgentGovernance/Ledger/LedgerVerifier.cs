using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Linq;
using AgentGovernance.Approval;
using AgentGovernance.Stores;

namespace AgentGovernance.Ledger;

/// <summary>One thing wrong with a ledger: what (a stable code), where (the entry), and why.</summary>
public sealed class LedgerProblem
{
    internal LedgerProblem(string code, long sequence, string message)
    {
        Code = code;
        Sequence = sequence;
        Message = message;
    }

    /// <summary>EntryUnreadable, EntryEdited, EntriesMissing, EntriesReordered, ChainBroken, LedgerTruncated, LedgerRewritten, CheckpointForged, CheckpointSignerUntrusted, CheckpointUnreadable.</summary>
    public string Code { get; }

    /// <summary>The entry the problem is about (0 when it is about the ledger as a whole).</summary>
    public long Sequence { get; }

    public string Message { get; }

    public override string ToString() => Sequence > 0 ? $"#{Sequence} {Code}: {Message}" : $"{Code}: {Message}";
}

/// <summary>What <c>Test-GovernanceAuditLog</c> found: whether the ledger is whole, and if not, the first entry that is not.</summary>
public sealed class LedgerVerification
{
    internal LedgerVerification(string store, string storeId, long entries, int checkpoints, long lastSealed, bool signersPinned,
        IReadOnlyList<LedgerProblem> problems, IReadOnlyList<string> warnings, bool witnessChecked)
    {
        Store = store;
        StoreId = storeId;
        Entries = entries;
        Checkpoints = checkpoints;
        LastSealedSequence = lastSealed;
        SignersPinned = signersPinned;
        Problems = new ReadOnlyCollection<LedgerProblem>(problems.ToArray());
        Warnings = new ReadOnlyCollection<string>(warnings.ToArray());
        WitnessChecked = witnessChecked;
    }

    public string Store { get; }

    public string StoreId { get; }

    /// <summary>True when the chain, every checkpoint and this machine's witness agree: nothing was edited, removed, reordered or cut off.</summary>
    public bool IsValid => Problems.Count == 0;

    public long Entries { get; }

    /// <summary>Checkpoints whose signature verified with a trusted key.</summary>
    public int Checkpoints { get; }

    /// <summary>The last entry a valid checkpoint vouches for.</summary>
    public long LastSealedSequence { get; }

    /// <summary>Entries after the last checkpoint: appended, but not yet vouched for by a signer.</summary>
    public long UnsealedEntries => Math.Max(0, Entries - LastSealedSequence);

    /// <summary>Whether checkpoint signers were checked against the policy's LedgerSigners (else against the store's own list).</summary>
    public bool SignersPinned { get; }

    /// <summary>Whether this machine had signed checkpoints for the store, and its record was compared.</summary>
    public bool WitnessChecked { get; }

    /// <summary>The first entry that does not verify, or null.</summary>
    public long? FirstBadSequence => Problems.Count == 0 ? null : Problems.Where(p => p.Sequence > 0).Select(p => (long?)p.Sequence).Min() ?? 0;

    /// <summary>The first problem's code, or null when the ledger is valid.</summary>
    public string? Problem => Problems.Count == 0 ? null : Problems[0].Code;

    public string Message => Problems.Count == 0
        ? $"The ledger is whole: {Entries} entries, {LastSealedSequence} of them sealed by {Checkpoints} signed checkpoints."
        : Problems[0].Message;

    public IReadOnlyList<LedgerProblem> Problems { get; }

    public IReadOnlyList<string> Warnings { get; }

    public override string ToString() => Message;
}

/// <summary>Verifies a store's ledger: the hash chain, the signed checkpoints, and the local witness.</summary>
internal static class LedgerVerifier
{
    public static LedgerVerification Verify(IGovernanceStore store, IReadOnlyList<PublicKey> pinnedSigners, string? witnessPath)
    {
        var problems = new List<LedgerProblem>();
        var warnings = new List<string>();
        var pinned = pinnedSigners.Count > 0;
        var trusted = pinned ? pinnedSigners.ToList() : RegisteredSigners(store, warnings);
        if (!pinned)
        {
            warnings.Add("Checkpoint signers are not pinned: the policy lists no LedgerSigners, so the signers registered in the store itself are trusted. " +
                         "Add the signer keys to the policy (LedgerSigners) so that someone who can write the store cannot add their own.");
        }

        var checkpoints = ReadCheckpoints(store, problems);
        var witness = witnessPath is null ? null : LedgerSigner.ReadWitness(witnessPath, store.StoreId);

        // The hashes the checkpoints and the witness vouch for, looked up while the chain is walked.
        var wanted = new HashSet<long>(checkpoints.Select(c => c.Sequence));
        if (witness is { } w)
        {
            wanted.Add(w.Sequence);
        }

        var hashes = new Dictionary<long, string>();
        long count = 0;
        var chainIntact = true;
        var expectedPrev = LedgerCodec.Genesis(store.StoreId);
        byte[]? torn = null;
        using (var codec = new LedgerCodec())
        {
            foreach (var line in store.ReadLedger(t => torn = t))
            {
                count++;
                if (!chainIntact)
                {
                    continue;
                }

                var entry = codec.Decode(line, out var hashMatches, out var problem, verifyOnly: true);
                if (entry is null)
                {
                    chainIntact = Fail(problems, "EntryUnreadable", count, $"Line {count} of the ledger is not an entry: {problem}.");
                    continue;
                }

                if (entry.Sequence != count)
                {
                    chainIntact = entry.Sequence > count
                        ? Fail(problems, "EntriesMissing", count, $"Entry {count} is missing: line {count} holds entry {entry.Sequence}. Entries were deleted.")
                        : Fail(problems, "EntriesReordered", count, $"Line {count} holds entry {entry.Sequence} again or out of order. Entries were reordered or copied.");
                    continue;
                }

                if (!hashMatches)
                {
                    chainIntact = Fail(problems, "EntryEdited", count, $"Entry {count} ({entry.Event}) was changed after it was written: its content no longer matches its hash.");
                    continue;
                }

                if (entry.PreviousHash != expectedPrev)
                {
                    chainIntact = Fail(problems, "ChainBroken", count,
                        $"Entry {count} ({entry.Event}) does not follow entry {count - 1}: the hash it records for the entry before it differs. An entry before it was replaced, or the chain was re-hashed.");
                    continue;
                }

                expectedPrev = entry.Hash;
                if (wanted.Contains(count))
                {
                    hashes[count] = entry.Hash;
                }
            }
        }

        if (torn is not null)
        {
            warnings.Add($"The ledger ends with an incomplete line of {torn.Length} bytes: an append cut off by a crash. It was never acknowledged, and the next append removes it.");
        }

        long lastSealed = 0;
        var valid = 0;
        foreach (var c in checkpoints)
        {
            var key = trusted.FirstOrDefault(k => k.KeyId == c.KeyId);
            if (c.StoreId != store.StoreId)
            {
                Fail(problems, "CheckpointForged", 0, $"A checkpoint names another store ({c.StoreId}).");
                continue;
            }

            if (key is null)
            {
                Fail(problems, "CheckpointSignerUntrusted", c.Sequence,
                    $"The checkpoint of entry {c.Sequence} is signed by {c.KeyId}, which {(pinned ? "the policy's LedgerSigners do not list" : "is not registered in the store")}.");
                continue;
            }

            if (!c.VerifiedBy(key))
            {
                Fail(problems, "CheckpointForged", c.Sequence, $"The checkpoint of entry {c.Sequence} does not verify with its signer's key {c.KeyId}: it was forged or edited.");
                continue;
            }

            if (c.Sequence > count)
            {
                Fail(problems, "LedgerTruncated", count + 1,
                    $"The ledger ends at entry {count}, but a checkpoint signed {GovernanceClock.Format(c.Time)} vouches for entry {c.Sequence}: entries {count + 1} to {c.Sequence} were cut off.");
                continue;
            }

            if (hashes.TryGetValue(c.Sequence, out var h))
            {
                if (h != c.Hash)
                {
                    Fail(problems, "LedgerRewritten", c.Sequence,
                        $"Entry {c.Sequence} is not the entry the checkpoint signed {GovernanceClock.Format(c.Time)} vouches for: the ledger was rewritten up to there and re-hashed.");
                    continue;
                }

                valid++;
                lastSealed = Math.Max(lastSealed, c.Sequence);
            }
        }

        var witnessChecked = witness is not null;
        if (witness is { } seen)
        {
            if (seen.Sequence > count)
            {
                Fail(problems, "LedgerTruncated", count + 1,
                    $"This machine signed a checkpoint of entry {seen.Sequence}, but the ledger ends at entry {count}: entries were cut off (checkpoints included).");
            }
            else if (hashes.TryGetValue(seen.Sequence, out var h) && h != seen.Hash)
            {
                Fail(problems, "LedgerRewritten", seen.Sequence,
                    $"Entry {seen.Sequence} is not the one this machine signed a checkpoint of: the ledger was rewritten and re-hashed.");
            }
        }

        problems.Sort((a, b) => (a.Sequence == 0 ? long.MaxValue : a.Sequence).CompareTo(b.Sequence == 0 ? long.MaxValue : b.Sequence));
        if (problems.Count == 0 && count > lastSealed)
        {
            warnings.Add($"{count - lastSealed} entries at the end are not yet sealed by a checkpoint (entries {lastSealed + 1} to {count}).");
        }

        return new LedgerVerification(store.Location, store.StoreId, count, valid, lastSealed, pinned, problems, warnings, witnessChecked);
    }

    private static bool Fail(List<LedgerProblem> problems, string code, long sequence, string message)
    {
        problems.Add(new LedgerProblem(code, sequence, message));
        return false;
    }

    private static List<PublicKey> RegisteredSigners(IGovernanceStore store, List<string> warnings)
    {
        var keys = new List<PublicKey>();
        foreach (var text in store.ReadSigners())
        {
            if (PublicKey.TryParse(text, out var key, out var problem))
            {
                keys.Add(key!);
            }
            else
            {
                warnings.Add($"A signer registered in the store is not a public key ({problem}); it was ignored.");
            }
        }

        return keys;
    }

    private static List<LedgerCheckpoint> ReadCheckpoints(IGovernanceStore store, List<LedgerProblem> problems)
    {
        var list = new List<LedgerCheckpoint>();
        var n = 0;
        foreach (var line in store.ReadCheckpoints())
        {
            n++;
            var c = LedgerCheckpoint.TryParse(line, out var problem);
            if (c is null)
            {
                Fail(problems, "CheckpointUnreadable", 0, $"Checkpoint line {n} cannot be read: {problem}.");
            }
            else
            {
                list.Add(c);
            }
        }

        return list;
    }
}
