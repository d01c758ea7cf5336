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

    /// <summary>
    /// EntryUnreadable, EntryEdited, EntriesMissing, EntriesReordered, ChainBroken, EntryUnsigned, EntrySignerUntrusted,
    /// EntrySignatureInvalid, LedgerTruncated, LedgerRewritten, LedgerRolledBack, CheckpointForged, CheckpointSignerUntrusted,
    /// CheckpointUnreadable, AnchorInvalid, AnchorForged, AnchorSignerUntrusted.
    /// </summary>
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

    /// <summary>The hash of the last entry, when the chain is intact up to it.</summary>
    internal string? HeadHash { get; set; }

    /// <summary>Anchors (exported checkpoints kept outside the store) that were compared.</summary>
    public int AnchorsChecked { get; set; }

    public override string ToString() => Message;
}

/// <summary>How <see cref="LedgerVerifier.Verify(IGovernanceStore, LedgerVerifyOptions)"/> reads the ledger.</summary>
internal sealed class LedgerVerifyOptions
{
    public IReadOnlyList<PublicKey> Pinned { get; set; } = Array.Empty<PublicKey>();

    /// <summary>The key of the writer itself: trusted besides the store's registered signers when nothing is pinned.</summary>
    public PublicKey? OwnKey { get; set; }

    public string? WitnessPath { get; set; }

    /// <summary>
    /// Skip the signature checks of the entries this machine's witness says it verified in full before
    /// (their hashes are still chained, and the witness's hash must match, else LedgerRewritten).
    /// Test-GovernanceAuditLog never skips.
    /// </summary>
    public bool TrustWitnessPrefix { get; set; }

    /// <summary>Called with every entry, fully read, in order, up to the first that does not verify.</summary>
    public Action<LedgerEntry>? OnEntry { get; set; }

    /// <summary>Anchor lines (exported checkpoints) to compare the store with.</summary>
    public IReadOnlyList<byte[]>? Anchors { get; set; }
}

/// <summary>Verifies a store's ledger: the hash chain, the signed checkpoints, and the local witness.</summary>
internal static class LedgerVerifier
{
    public static LedgerVerification Verify(IGovernanceStore store, IReadOnlyList<PublicKey> pinnedSigners, string? witnessPath) =>
        Verify(store, new LedgerVerifyOptions { Pinned = pinnedSigners, WitnessPath = witnessPath });

    /// <summary>The signers whose entries and checkpoints count: the policy's LedgerSigners, else those registered in the store (and the writer's own key).</summary>
    internal static List<PublicKey> Trusted(IGovernanceStore store, IReadOnlyList<PublicKey> pinned, PublicKey? own, List<string> warnings)
    {
        if (pinned.Count > 0)
        {
            return pinned.ToList();
        }

        warnings.Add("Ledger signers are not pinned: the policy lists no LedgerSigners, so the signers registered in the store itself are trusted. " +
                     "Add the signer keys to the policy (LedgerSigners) so that someone who can write the store cannot add their own.");
        var keys = RegisteredSigners(store, warnings);
        if (own is not null && !keys.Contains(own))
        {
            keys.Add(own);
        }

        return keys;
    }

    public static LedgerVerification Verify(IGovernanceStore store, LedgerVerifyOptions options)
    {
        var problems = new List<LedgerProblem>();
        var warnings = new List<string>();
        var pinned = options.Pinned.Count > 0;
        var trusted = Trusted(store, options.Pinned, options.OwnKey, warnings);
        var checkpoints = ReadCheckpoints(store, problems);
        var witnessFull = options.WitnessPath is null ? null : LedgerSigner.ReadWitnessFull(options.WitnessPath, store.StoreId);
        var witness = witnessFull is { } wf ? (Sequence: wf.Sequence, Hash: wf.Hash) : ((long Sequence, string Hash)?)null;
        var skipSignaturesTo = options.TrustWitnessPrefix && witnessFull is { Verified: true } v ? v.Sequence : 0;
        var anchors = ReadAnchors(options.Anchors, store.StoreId, trusted, problems);
        var unsigned = new List<long>();

        // The hashes the checkpoints and the witness vouch for, looked up while the chain is walked.
        var wanted = new HashSet<long>(checkpoints.Select(c => c.Sequence));
        if (witness is { } w)
        {
            wanted.Add(w.Sequence);
        }

        foreach (var a in anchors)
        {
            wanted.Add(a.Sequence);
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

                var entry = codec.Decode(line, out var hashMatches, out var problem, verifyOnly: options.OnEntry is null);
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

                if (entry.Signer is null)
                {
                    unsigned.Add(count);
                }
                else if (count > skipSignaturesTo)
                {
                    var signer = trusted.FirstOrDefault(k => k.KeyId == entry.Signer);
                    if (signer is null)
                    {
                        chainIntact = Fail(problems, "EntrySignerUntrusted", count,
                            $"Entry {count} ({entry.Event}) is signed by {entry.Signer}, which {(pinned ? "the policy's LedgerSigners do not list" : "is not registered in the store")}: it was not written by a trusted ledger signer.");
                        continue;
                    }

                    if (!entry.SignedBy(signer))
                    {
                        chainIntact = Fail(problems, "EntrySignatureInvalid", count,
                            $"Entry {count} ({entry.Event}) does not verify with its signer's key {entry.Signer}: it was written or re-hashed without the ledger signer's key.");
                        continue;
                    }
                }

                expectedPrev = entry.Hash;
                if (wanted.Contains(count))
                {
                    hashes[count] = entry.Hash;
                }

                options.OnEntry?.Invoke(entry);
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

        // An unsigned (ledger@1) entry counts only where a trusted checkpoint vouches for the chain up to it.
        var firstUnvouched = unsigned.FirstOrDefault(seq => seq > lastSealed);
        if (firstUnvouched > 0)
        {
            Fail(problems, "EntryUnsigned", firstUnvouched,
                $"Entry {firstUnvouched} is unsigned (a ledger@1 line) and no trusted checkpoint vouches for it (the last sealed entry is {lastSealed}): " +
                "anyone who can write the store can write such a line.");
        }

        foreach (var a in anchors)
        {
            if (a.Sequence > count)
            {
                Fail(problems, "LedgerRolledBack", count + 1,
                    $"The store's ledger ends at entry {count}, but an anchor signed {GovernanceClock.Format(a.Time)} by {a.KeyId} vouches for entry {a.Sequence}: " +
                    "the store is older than the anchor (restored from a copy, or cut off with its checkpoints).");
            }
            else if (hashes.TryGetValue(a.Sequence, out var h) && h != a.Hash)
            {
                Fail(problems, "LedgerRewritten", a.Sequence,
                    $"Entry {a.Sequence} is not the entry the anchor signed {GovernanceClock.Format(a.Time)} vouches for: the ledger was rewritten up to there.");
            }
        }

        // Stable: at one entry, what is wrong with the entry comes before what is wrong with its checkpoint.
        var sorted = problems.OrderBy(p => p.Sequence == 0 ? long.MaxValue : p.Sequence).ToList();
        problems.Clear();
        problems.AddRange(sorted);
        if (problems.Count == 0 && count > lastSealed)
        {
            warnings.Add($"{count - lastSealed} entries at the end are not yet sealed by a checkpoint (entries {lastSealed + 1} to {count}).");
        }

        return new LedgerVerification(store.Location, store.StoreId, count, valid, lastSealed, pinned, problems, warnings, witnessChecked)
        {
            HeadHash = chainIntact ? expectedPrev : null,
            AnchorsChecked = anchors.Count,
        };
    }

    private static List<LedgerCheckpoint> ReadAnchors(IReadOnlyList<byte[]>? lines, string storeId, List<PublicKey> trusted, List<LedgerProblem> problems)
    {
        var list = new List<LedgerCheckpoint>();
        if (lines is null)
        {
            return list;
        }

        var n = 0;
        foreach (var line in lines)
        {
            n++;
            var c = LedgerCheckpoint.TryParse(line, out var problem);
            if (c is null)
            {
                Fail(problems, "AnchorInvalid", 0, $"Anchor line {n} cannot be read: {problem}.");
                continue;
            }

            if (c.StoreId != storeId)
            {
                // An anchor file may hold several stores' anchors: only this store's count.
                continue;
            }

            var key = trusted.FirstOrDefault(k => k.KeyId == c.KeyId);
            if (key is null)
            {
                Fail(problems, "AnchorSignerUntrusted", 0, $"Anchor line {n} (entry {c.Sequence}) is signed by {c.KeyId}, which is not a trusted ledger signer.");
                continue;
            }

            if (!c.VerifiedBy(key))
            {
                Fail(problems, "AnchorForged", 0, $"Anchor line {n} (entry {c.Sequence}) does not verify with its signer's key {c.KeyId}.");
                continue;
            }

            list.Add(c);
        }

        return list;
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
