using System.Text;
using AgentGovernance.Approval;
using AgentGovernance.Ledger;
using AgentGovernance.Stores;
using AgentGovernance.Tests.Support;

namespace AgentGovernance.Tests.Ledger;

/// <summary>
/// The ledger: append, read, verify; and every way of changing it after the fact (S7): editing,
/// deleting, reordering, truncating, re-hashing, forging checkpoints. Each must be found, and named.
/// </summary>
public sealed class LedgerTests : IDisposable
{
    private readonly TempDir _temp = new();
    private readonly FolderStore _store;
    private readonly LedgerSigner _signer;
    private readonly AuditLedger _ledger;

    public LedgerTests()
    {
        _store = FolderStore.Open(_temp["store"]);
        _signer = LedgerSigner.OpenOrCreate(_temp["keys/signer.json"]);
        _ledger = new AuditLedger(_store, _signer);
    }

    private string LedgerFile => Path.Combine(_store.Location, "ledger.jsonl");

    private string CheckpointFile => Path.Combine(_store.Location, "checkpoints.jsonl");

    private string Witness => LedgerSigner.WitnessPathFor(Path.GetDirectoryName(_signer.Path)!, _store.StoreId);

    public void Dispose()
    {
        _signer.Dispose();
        _temp.Dispose();
    }

    private static LedgerEvent Event(int i, string type = LedgerEvents.Approved) =>
        new(type, $"user{i}@contoso.com", "sha256:" + new string('a', 64), $"req-{i}", new Dictionary<string, object?> { ["summary"] = $"entry {i}", ["n"] = i, ["nested"] = new Dictionary<string, object?> { ["hash"] = "x" } });

    /// <summary>Appends <paramref name="batches"/> appends of <paramref name="perBatch"/> entries (a checkpoint after each).</summary>
    private void Fill(int batches, int perBatch = 1)
    {
        var n = 0;
        for (var b = 0; b < batches; b++)
        {
            _ledger.Append(Enumerable.Range(0, perBatch).Select(_ => Event(++n)).ToList());
        }
    }

    private LedgerVerification Verify(bool withWitness = true, IReadOnlyList<PublicKey>? pinned = null) =>
        LedgerVerifier.Verify(_store, pinned ?? Array.Empty<PublicKey>(), withWitness ? Witness : null);

    private List<string> Lines() => File.ReadAllLines(LedgerFile).ToList();

    private void WriteLines(IEnumerable<string> lines) => File.WriteAllText(LedgerFile, string.Concat(lines.Select(l => l + "\n")));

    /// <summary>What someone who can write the store but holds no key can do: recompute every hash from entry k on.</summary>
    private void Rehash(List<string> lines, int fromSeq, int? toSeq = null)
    {
        using var codec = new LedgerCodec();
        var prev = fromSeq == 1 ? LedgerCodec.Genesis(_store.StoreId) : codec.Decode(new ArraySegment<byte>(Encoding.UTF8.GetBytes(lines[fromSeq - 2])), out _, out _)!.Hash;
        for (var i = fromSeq - 1; i < (toSeq ?? lines.Count); i++)
        {
            var e = codec.Decode(new ArraySegment<byte>(Encoding.UTF8.GetBytes(lines[i])), out _, out _)!;
            var ev = new LedgerEvent(e.Event, e.Actor, e.ChangeId, e.RequestId, new Dictionary<string, object?>());
            var bytes = codec.Encode(i + 1, GovernanceClock.Format(e.Time), ev, e.DetailsJson, prev, out var hash);
            lines[i] = Encoding.UTF8.GetString(bytes).TrimEnd('\n');
            prev = hash;
        }
    }

    [Fact]
    public void EntriesAreChainedSequencedAndReadBackAsWritten()
    {
        Fill(3, 2);

        var entries = _ledger.Read().ToList();

        Assert.Equal(Enumerable.Range(1, 6).Select(i => (long)i), entries.Select(e => e.Sequence));
        Assert.Equal(LedgerCodec.Genesis(_store.StoreId), entries[0].PreviousHash);
        for (var i = 1; i < entries.Count; i++)
        {
            Assert.Equal(entries[i - 1].Hash, entries[i].PreviousHash);
        }

        Assert.Equal("entry 4", entries[3].Summary);
        Assert.Equal(4L, entries[3].Details["n"]);
        Assert.Equal("req-4", entries[3].RequestId);
        var result = Verify();
        Assert.True(result.IsValid, result.Message);
        Assert.Equal(6, result.Entries);
        Assert.Equal(3, result.Checkpoints);
        Assert.Equal(6, result.LastSealedSequence);
        Assert.True(result.WitnessChecked);
    }

    [Fact]
    public void EachLineIsTheEntrysCanonicalJsonAndTheHashIsOverItWithoutTheHash()
    {
        Fill(1);
        var line = Lines()[0];
        var entry = _ledger.Read().Single();

        Assert.Equal(Json.CanonicalJson.Canonicalize(line), line);
        var without = System.Text.RegularExpressions.Regex.Replace(line, ",\"hash\":\"sha256:[0-9a-f]{64}\"", string.Empty);
        without = System.Text.RegularExpressions.Regex.Replace(without, ",\"sig\":\"[A-Za-z0-9+/=]+\"", string.Empty);
        Assert.Equal(entry.Hash, Json.Hashing.Sha256Id(Encoding.UTF8.GetBytes(without)));
        Assert.Contains("\"signer\":\"" + _signer.PublicKey.KeyId + "\"", line);
        Assert.True(entry.SignedBy(_signer.PublicKey));
    }

    [Fact]
    public void AnEntryRespacedByHandButUnchangedStillVerifies()
    {
        Fill(2);
        var lines = Lines();
        lines[0] = lines[0].Replace(",\"", ", \"").Replace("{\"actor", "{ \"actor");
        WriteLines(lines);

        var result = Verify();

        Assert.True(result.IsValid, result.Message);
    }

    [Fact]
    public void AnEditedEntryIsFoundAndNamed()
    {
        Fill(5);
        var lines = Lines();
        lines[2] = lines[2].Replace("user3@contoso.com", "mallory@contoso.com");
        WriteLines(lines);

        var result = Verify();

        Assert.False(result.IsValid);
        Assert.Equal("EntryEdited", result.Problem);
        Assert.Equal(3, result.FirstBadSequence);
        Assert.Contains("Entry 3", result.Message);
    }

    [Fact]
    public void ADeletedEntryIsFound()
    {
        Fill(5);
        var lines = Lines();
        lines.RemoveAt(1);
        WriteLines(lines);

        var result = Verify();

        Assert.Equal("EntriesMissing", result.Problem);
        Assert.Equal(2, result.FirstBadSequence);
    }

    [Fact]
    public void ReorderedEntriesAreFound()
    {
        Fill(5);
        var lines = Lines();
        (lines[1], lines[2]) = (lines[2], lines[1]);
        WriteLines(lines);

        var result = Verify();

        Assert.Equal("EntriesMissing", result.Problem);
        Assert.Equal(2, result.FirstBadSequence);
    }

    [Fact]
    public void AnEntryReplacedWithAValidlyHashedOneBreaksTheChainAfterIt()
    {
        Fill(5);
        var lines = Lines();
        lines[1] = lines[1].Replace("user2@contoso.com", "mallory@contoso.com");
        Rehash(lines, 2, toSeq: 2);
        WriteLines(lines);

        var result = Verify();

        // Entry 2 itself is the one its checkpoint no longer vouches for; entry 3 no longer follows it.
        Assert.Equal("LedgerRewritten", result.Problem);
        Assert.Equal(2, result.FirstBadSequence);
        Assert.Contains(result.Problems, p => p.Code == "ChainBroken" && p.Sequence == 3);
    }

    [Fact]
    public void ACopiedEntryIsFound()
    {
        Fill(3);
        var lines = Lines();
        lines.Insert(2, lines[1]);
        WriteLines(lines);

        Assert.Equal("EntriesReordered", Verify().Problem);
    }

    [Fact]
    public void TruncatingTheTailIsFoundByTheCheckpoints()
    {
        Fill(6);
        WriteLines(Lines().Take(4));

        var result = Verify(withWitness: false);

        Assert.Equal("LedgerTruncated", result.Problem);
        Assert.Equal(5, result.FirstBadSequence);
        Assert.Contains("cut off", result.Message);
    }

    [Fact]
    public void TruncatingTheTailAndItsCheckpointsIsFoundByTheWitness()
    {
        Fill(6);
        WriteLines(Lines().Take(4));
        File.WriteAllText(CheckpointFile, string.Concat(File.ReadAllLines(CheckpointFile).Take(4).Select(l => l + "\n")));

        Assert.True(Verify(withWitness: false).IsValid);
        var result = Verify();

        Assert.Equal("LedgerTruncated", result.Problem);
        Assert.Contains("This machine signed a checkpoint of entry 6", result.Message);
    }

    [Fact]
    public void ReHashingTheTailIsFoundByTheCheckpoints()
    {
        Fill(6);
        var lines = Lines();
        lines[3] = lines[3].Replace("user4@contoso.com", "mallory@contoso.com");
        Rehash(lines, 4);
        WriteLines(lines);

        var result = Verify(withWitness: false);

        Assert.False(result.IsValid);
        Assert.Equal("LedgerRewritten", result.Problem);
        Assert.Equal(4, result.FirstBadSequence);
    }

    [Fact]
    public void ReHashingTheTailAndDroppingItsCheckpointsIsFoundByTheWitnessAndByTheMissingSignaturesElsewhere()
    {
        Fill(6);
        var lines = Lines();
        lines[3] = lines[3].Replace("user4@contoso.com", "mallory@contoso.com");
        Rehash(lines, 4);
        WriteLines(lines);
        File.WriteAllText(CheckpointFile, string.Concat(File.ReadAllLines(CheckpointFile).Take(3).Select(l => l + "\n")));

        Assert.Contains(Verify().Problems, p => p.Code == "LedgerRewritten");
        // Before ledger@2 this verified elsewhere (only unsealed); now the re-hashed entries carry no signature.
        var elsewhere = Verify(withWitness: false);
        Assert.False(elsewhere.IsValid);
        Assert.Equal("EntryUnsigned", elsewhere.Problem);
        Assert.Equal(4, elsewhere.FirstBadSequence);
    }

    [Fact]
    public void AForgedCheckpointIsFound()
    {
        Fill(3);
        var cps = File.ReadAllLines(CheckpointFile);
        cps[1] = cps[1].Replace("\"seq\":2", "\"seq\":3");
        File.WriteAllText(CheckpointFile, string.Concat(cps.Select(l => l + "\n")));

        var result = Verify();

        Assert.Equal("CheckpointForged", result.Problem);
    }

    [Fact]
    public void CheckpointsOfAnotherSignerFailWhenThePolicyPinsTheSigners()
    {
        Fill(2);
        using var other = LedgerSigner.OpenOrCreate(_temp["other/signer.json"]);
        new AuditLedger(_store, other).Append(Event(3));

        Assert.True(Verify().IsValid);
        var pinned = Verify(pinned: new[] { _signer.PublicKey });
        Assert.Contains(pinned.Problems, p => p.Code == "CheckpointSignerUntrusted" && p.Sequence == 3);
        Assert.Contains(pinned.Problems, p => p.Code == "EntrySignerUntrusted" && p.Sequence == 3);
        Assert.True(Verify(pinned: new[] { _signer.PublicKey, other.PublicKey }).IsValid);
        Assert.True(Verify(pinned: new[] { _signer.PublicKey, other.PublicKey }).SignersPinned);
        Assert.Contains(Verify().Warnings, w => w.Contains("not pinned"));
    }

    [Fact]
    public void AnAppendCutOffByACrashIsReportedAndRepairedByTheNextAppend()
    {
        Fill(2);
        File.AppendAllText(LedgerFile, "{\"actor\":\"half");

        var torn = Verify();
        Assert.True(torn.IsValid, torn.Message);
        Assert.Contains(torn.Warnings, w => w.Contains("incomplete line"));

        Fill(1);
        var repaired = Verify();
        Assert.True(repaired.IsValid, repaired.Message);
        Assert.DoesNotContain(repaired.Warnings, w => w.Contains("incomplete line"));
        Assert.Equal(3, repaired.Entries);
    }

    [Fact]
    public void ACheckpointTornByAMachineCrashIsSkippedAndCutOffByTheNextAppend()
    {
        // A checkpoint has no fsync of its own (issue 16): after a machine crash its last line can be torn.
        Fill(2);
        File.AppendAllText(CheckpointFile, "{\"hash\":\"sha256:12");
        var torn = Verify();
        Assert.True(torn.IsValid, torn.Message);

        Fill(1);
        var sealedAgain = Verify();
        Assert.True(sealedAgain.IsValid, sealedAgain.Message);
        Assert.Equal(3, sealedAgain.Checkpoints);
        Assert.Equal(3, sealedAgain.LastSealedSequence);
        Assert.All(File.ReadAllLines(CheckpointFile), l => Assert.StartsWith("{", l));
    }

    [Fact]
    public void ACheckpointLostByAMachineCrashLeavesTheEntriesUnsealedUntilTheNextAppend()
    {
        Fill(2);
        var cps = File.ReadAllLines(CheckpointFile);
        File.WriteAllText(CheckpointFile, cps[0] + "\n");

        var lagging = Verify();
        Assert.True(lagging.IsValid, lagging.Message);
        Assert.Equal(1, lagging.LastSealedSequence);
        Assert.Contains(lagging.Warnings, w => w.Contains("not yet sealed"));

        Fill(1);
        var sealedAgain = Verify();
        Assert.True(sealedAgain.IsValid, sealedAgain.Message);
        Assert.Equal(3, sealedAgain.LastSealedSequence);
        Assert.DoesNotContain(sealedAgain.Warnings, w => w.Contains("not yet sealed"));
    }

    [Fact]
    public void ACheckpointForgedAfterAWritersLastAppendIsRefusedOnEveryLaterAppend()
    {
        // The writer reads only the checkpoints after those it checked: one it refused must be read again next time.
        Fill(2);
        var cps = File.ReadAllLines(CheckpointFile);
        File.AppendAllText(CheckpointFile, cps[1].Replace("\"seq\":2", "\"seq\":3") + "\n");
        var before = File.ReadAllBytes(LedgerFile);

        Assert.Equal("LedgerTampered", Assert.Throws<GovernanceException>(() => _ledger.Append(Event(3))).ErrorId);
        Assert.Equal("LedgerTampered", Assert.Throws<GovernanceException>(() => _ledger.Append(Event(3))).ErrorId);
        Assert.Equal(before, File.ReadAllBytes(LedgerFile));
    }

    [Fact]
    public void NothingIsChainedOntoAHeadThatDoesNotVerify()
    {
        Fill(2);
        var lines = Lines();
        lines[1] = lines[1].Replace("user2", "mallory");
        WriteLines(lines);
        var before = File.ReadAllBytes(LedgerFile);

        var e = Assert.Throws<GovernanceException>(() => _ledger.Append(Event(3)));

        Assert.Equal("LedgerTampered", e.ErrorId);
        Assert.Equal(before, File.ReadAllBytes(LedgerFile));
    }

    [Fact]
    public void ALedgerCopiedIntoAnotherStoreDoesNotVerifyThere()
    {
        Fill(2);
        using var temp2 = new TempDir();
        var other = FolderStore.Open(temp2["store"]);
        File.Copy(LedgerFile, Path.Combine(other.Location, "ledger.jsonl"));

        var result = LedgerVerifier.Verify(other, Array.Empty<PublicKey>(), null);

        Assert.Equal("ChainBroken", result.Problem);
        Assert.Equal(1, result.FirstBadSequence);
    }

    [Theory]
    [InlineData("not json", "EntryUnreadable")]
    [InlineData("{\"seq\":1}", "EntryUnreadable")]
    [InlineData("[1,2]", "EntryUnreadable")]
    public void LinesThatAreNotEntriesAreNamed(string line, string code)
    {
        Fill(1);
        File.AppendAllText(LedgerFile, line + "\n");

        var result = Verify();

        Assert.Equal(code, result.Problem);
        Assert.Equal(2, result.FirstBadSequence);
    }

    [Fact]
    public void AnEmptyLedgerIsValid()
    {
        var result = Verify();

        Assert.True(result.IsValid);
        Assert.Equal(0, result.Entries);
    }

    private LedgerVerification VerifyWithAnchors(params byte[][] anchors) =>
        LedgerVerifier.Verify(_store, new LedgerVerifyOptions { Pinned = new[] { _signer.PublicKey }, Anchors = anchors });

    [Fact]
    public void RestoringAnOlderCopyOfTheWholeStoreIsFoundOnlyByAnAnchorKeptOutsideIt()
    {
        Fill(3);
        var oldLedger = File.ReadAllBytes(LedgerFile);
        var oldCheckpoints = File.ReadAllBytes(CheckpointFile);
        Fill(2);
        var anchor = _ledger.Anchor();

        // The insider puts the older copy back, ledger and checkpoints alike.
        File.WriteAllBytes(LedgerFile, oldLedger);
        File.WriteAllBytes(CheckpointFile, oldCheckpoints);

        // From inside the store (and on a machine that never signed for it) that is a whole ledger.
        Assert.True(Verify(withWitness: false, pinned: new[] { _signer.PublicKey }).IsValid);
        var result = VerifyWithAnchors(anchor);
        Assert.False(result.IsValid);
        Assert.Equal("LedgerRolledBack", result.Problem);
        Assert.Equal(4, result.FirstBadSequence);
        Assert.Equal(1, result.AnchorsChecked);
    }

    [Fact]
    public void AnAnchorVouchesForTheVerifiedHeadAndCatchesARewriteUnderIt()
    {
        Fill(4);
        var anchor = _ledger.Anchor();
        var text = Encoding.UTF8.GetString(anchor);
        Assert.Contains("\"seq\":4", text);
        Assert.True(VerifyWithAnchors(anchor).IsValid);

        var lines = Lines();
        lines[3] = lines[3].Replace("user4@contoso.com", "mallory@contoso.com");
        Rehash(lines, 4);
        WriteLines(lines);
        Assert.Contains(VerifyWithAnchors(anchor).Problems, p => p.Code == "LedgerRewritten" && p.Sequence == 4);
    }

    [Fact]
    public void AForgedOrForeignAnchorIsNamed()
    {
        Fill(2);
        var anchor = Encoding.UTF8.GetString(_ledger.Anchor());
        Assert.Equal("AnchorForged", VerifyWithAnchors(Encoding.UTF8.GetBytes(anchor.Replace("\"seq\":2", "\"seq\":9"))).Problem);
        Assert.Equal("AnchorInvalid", VerifyWithAnchors(Encoding.UTF8.GetBytes("{\"schema\":1}")).Problem);
        using var other = LedgerSigner.OpenOrCreate(_temp["other/signer.json"]);
        var foreign = LedgerCheckpoint.Create(other, _store.StoreId, 9, "sha256:" + new string('0', 64), DateTimeOffset.UtcNow).ToLine();
        Assert.Equal("AnchorSignerUntrusted", VerifyWithAnchors(foreign).Problem);
    }

    [Fact]
    public void NoAnchorIsMadeOfALedgerThatDoesNotVerify()
    {
        Fill(2);
        var lines = Lines();
        lines[0] = lines[0].Replace("user1", "mallory");
        WriteLines(lines);
        using var fresh = LedgerSigner.OpenOrCreate(_temp["keys/signer.json"]);
        var e = Assert.Throws<GovernanceException>(() => new AuditLedger(_store, fresh).Anchor());
        Assert.Equal("LedgerTampered", e.ErrorId);
    }

    [Fact]
    public void AWriterReadsOnlyTheTailAfterItsOwnLastAppendYetNeverSealsAnEditBeforeIt()
    {
        Fill(5);
        var lines = Lines();
        lines[1] = lines[1].Replace("user2@", "userX@"); // same length: every later line stays where it was
        WriteLines(lines);

        // This writer appended entry 5 itself, which still holds that hash where it was: its next append checks
        // only what follows it. What it writes chains onto entry 5's real hash, so the edit stays visible to every reader.
        Fill(1);
        var result = Verify(withWitness: false);
        Assert.Equal("EntryEdited", result.Problem);
        Assert.Equal(2, result.FirstBadSequence);

        // A new writer (the next command) verifies the whole chain first, and refuses.
        Assert.Equal("LedgerTampered", Assert.Throws<GovernanceException>(() => new AuditLedger(_store, _signer).Append(Event(7))).ErrorId);
    }

    [Fact]
    public void ALedgerOneLinesOnlyCountUnderATrustedCheckpoint()
    {
        // A ledger written before ledger@2: unsigned lines, each append sealed by a checkpoint.
        using (var codec = new LedgerCodec())
        {
            var prev = LedgerCodec.Genesis(_store.StoreId);
            var bytes = new List<byte>();
            for (var i = 1; i <= 3; i++)
            {
                var ev = Event(i);
                bytes.AddRange(codec.Encode(i, GovernanceClock.Format(DateTimeOffset.UtcNow), ev, Json.CanonicalJson.Serialize(ev.Details), prev, out var hash));
                prev = hash;
            }

            File.WriteAllBytes(LedgerFile, bytes.ToArray());
            _ledger.Seal(2, _ledger.Read().ToList()[1].Hash);
        }

        var result = Verify(withWitness: false, pinned: new[] { _signer.PublicKey });
        Assert.Equal("EntryUnsigned", result.Problem);
        Assert.Equal(3, result.FirstBadSequence);
    }

    [Fact]
    public void ALineOfInvalidUtf8WithAMatchingHashIsTamperingWithItsPositionAndReadersGoOn()
    {
        Fill(3);
        var bytes = File.ReadAllBytes(LedgerFile);
        var starts = new List<int> { 0 };
        for (var i = 0; i < bytes.Length - 1; i++)
        {
            if (bytes[i] == (byte)'\n')
            {
                starts.Add(i + 1);
            }
        }

        // Entry 2's actor gets a byte that is not UTF-8, and the line a hash over its new bytes (what the
        // hash check alone would accept): the codec's hash is over the line without "hash" and "sig".
        var line = bytes[starts[1]..(starts[2] - 1)];
        var at = Encoding.ASCII.GetString(line).IndexOf("user2", StringComparison.Ordinal);
        line[at] = 0xFF;
        var text = Encoding.Latin1.GetString(line);
        var body = System.Text.RegularExpressions.Regex.Replace(text, ",\"hash\":\"sha256:[0-9a-f]{64}\"", string.Empty);
        body = System.Text.RegularExpressions.Regex.Replace(body, ",\"sig\":\"[A-Za-z0-9+/=]+\"", string.Empty);
        var hash = Json.Hashing.Sha256Id(Encoding.Latin1.GetBytes(body));
        var forged = Encoding.Latin1.GetBytes(System.Text.RegularExpressions.Regex.Replace(text, "\"hash\":\"sha256:[0-9a-f]{64}\"", "\"hash\":\"" + hash + "\""));
        File.WriteAllBytes(LedgerFile, bytes[..starts[1]].Concat(forged).Concat(bytes[(starts[2] - 1)..]).ToArray());

        var result = Verify();

        Assert.Equal("EntryUnreadable", result.Problem);
        Assert.Equal(2, result.FirstBadSequence);
        Assert.Contains("Line 2", result.Message);
        Assert.Contains($"byte {at + 1}", result.Message);
        var unreadable = new List<long>();
        var read = _ledger.Read((n, _) => unreadable.Add(n)).ToList();
        Assert.Equal(new long[] { 1, 3 }, read.Select(e => e.Sequence));
        Assert.Equal(new long[] { 2 }, unreadable);
        // A writer's first append (every command's) walks the whole chain.
        var before = File.ReadAllBytes(LedgerFile);
        var e = Assert.Throws<GovernanceException>(() => new AuditLedger(_store, _signer).Append(Event(4)));
        Assert.Equal("LedgerTampered", e.ErrorId);
        Assert.Equal(before, File.ReadAllBytes(LedgerFile));
    }
}
