using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using AgentGovernance.Approval;
using AgentGovernance.Ledger;
using AgentGovernance.Stores;

namespace AgentGovernanceLedgerBench;

/// <summary>
/// dotnet run -c Release --project bench/AgentGovernance.LedgerBench [-- --entries N --batch B --singles S --folder DIR]
/// Appends N entries durably (B per append: one lock, one fsync, one signed checkpoint per append), then
/// verifies the whole ledger as Test-GovernanceAuditLog does; the baseline is SHA-256 over the same
/// bytes, once per entry line (what any hash chain must at least do) and once over the whole file,
/// measured in the same run. Also the latency of S single appends (one entry, fsync and checkpoint each),
/// which is what a command pays.
/// </summary>
internal static class Program
{
    public static int Main(string[] args)
    {
        long entries = 1_000_000;
        int batch = 1000, singles = 1000, rounds = 3;
        string? folder = null;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--entries": entries = long.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--batch": batch = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--singles": singles = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--rounds": rounds = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--folder": folder = args[++i]; break;
                default: Console.Error.WriteLine($"unknown option {args[i]}"); return 2;
            }
        }

        var root = folder ?? Path.Combine(Path.GetTempPath(), "ag-ledgerbench-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            Run(root, entries, batch, singles, rounds);
        }
        finally
        {
            if (folder is null)
            {
                Directory.Delete(root, recursive: true);
            }
        }

        return 0;
    }

    private static void Run(string root, long entries, int batch, int singles, int rounds)
    {
        Console.WriteLine($"ledger bench: {entries:N0} entries, {batch} per durable append; {singles} single appends; {Environment.ProcessorCount} cores; {RuntimeInfo()}");
        var store = FolderStore.Open(Path.Combine(root, "store"));
        using var signer = LedgerSigner.OpenOrCreate(Path.Combine(root, "keys", "signer.json"));
        var ledger = new AuditLedger(store, signer);
        var events = Enumerable.Range(0, batch).Select(Event).ToList();

        // Warm-up on a scratch store, so that the measured appends run jitted (tiered) code.
        var warm = new AuditLedger(FolderStore.Open(Path.Combine(root, "warm-up")), signer);
        for (var i = 0; i < Math.Max(20, 50_000 / batch); i++)
        {
            warm.Append(events);
        }

        var watch = Stopwatch.StartNew();
        for (long done = 0; done < entries; done += batch)
        {
            ledger.Append(done + batch <= entries ? events : events.Take((int)(entries - done)).ToList());
        }

        var append = watch.Elapsed.TotalSeconds;
        var file = Path.Combine(store.Location, "ledger.jsonl");
        var bytes = new FileInfo(file).Length;
        Console.WriteLine($"  file: {bytes / 1048576.0:N0} MiB, {bytes / (double)entries:N0} bytes per entry");

        // The singles go to a second store, so that the verified ledger is exactly N entries.
        var singleStore = FolderStore.Open(Path.Combine(root, "singles"));
        var singleLedger = new AuditLedger(singleStore, signer);
        var latencies = new List<double>();
        // The raw write, interleaved with the singles (issue 16's baseline): one line of the same size appended to a
        // file of its own and fsynced, as AppendLedger does for the entry alone.
        var rawSingles = new List<double>();
        var rawLine = new byte[bytes / entries];
        rawLine[^1] = (byte)'\n';
        using (var rawSingle = new FileStream(Path.Combine(root, "raw-singles.bin"), FileMode.Append, FileAccess.Write, FileShare.ReadWrite, 1))
        {
            for (var i = 0; i < singles; i++)
            {
                var r = Stopwatch.GetTimestamp();
                rawSingle.Write(rawLine, 0, rawLine.Length);
                rawSingle.Flush(flushToDisk: true);
                rawSingles.Add(Stopwatch.GetElapsedTime(r).TotalMilliseconds);

                var t = Stopwatch.GetTimestamp();
                singleLedger.Append(events[i % events.Count]);
                latencies.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
            }
        }

        var pairs = latencies.Select((l, i) => l / rawSingles[i]).OrderBy(x => x).ToList();
        rawSingles.Sort();
        latencies.Sort();
        var verify = new List<double>();
        var perLine = new List<double>();
        var whole = new List<double>();
        LedgerVerification? result = null;
        var witness = LedgerSigner.WitnessPathFor(Path.GetDirectoryName(signer.Path)!, store.StoreId);
        for (var r = 0; r < rounds; r++)
        {
            // Interleaved, each after the file is in the page cache (the first round warms it).
            perLine.Add(Time(() => HashLines(file)));
            whole.Add(Time(() => HashFile(file)));
            verify.Add(Time(() => result = LedgerVerifier.Verify(store, Array.Empty<PublicKey>(), witness)));
        }

        if (result is null || !result.IsValid || result.Entries != entries)
        {
            throw new InvalidOperationException("The ledger did not verify: " + result?.Message);
        }

        var basePerLine = perLine.Min();
        var baseWhole = whole.Min();
        var v = verify.Min();
        Console.WriteLine($"  baseline SHA-256 per entry line (read + hash): {basePerLine:N3} s; over the whole file: {baseWhole:N3} s");
        Console.WriteLine($"  append (durable, {entries / batch:N0} appends of {batch}): {append:N3} s = {entries / append:N0} entries/s = {append / basePerLine:N1}x the per-line baseline ({append / baseWhole:N1}x whole-file)");
        Console.WriteLine($"  verify (chain + {result.Checkpoints:N0} checkpoints + witness), best of {rounds}: {v:N3} s = {entries / v:N0} entries/s = {v / basePerLine:N1}x the per-line baseline ({v / baseWhole:N1}x whole-file)");
        Console.WriteLine($"  single durable append (1 entry + fsync + checkpoint): p50 {latencies[latencies.Count / 2]:N2} ms, p99 {latencies[(int)(latencies.Count * 0.99)]:N2} ms");
        Console.WriteLine($"  raw single write (one {rawLine.Length}-byte line + fsync, interleaved with the singles): p50 {rawSingles[rawSingles.Count / 2]:N2} ms, p99 {rawSingles[(int)(rawSingles.Count * 0.99)]:N2} ms");
        Console.WriteLine($"  single durable append / raw write: {latencies[latencies.Count / 2] / rawSingles[rawSingles.Count / 2]:N2}x (medians); per interleaved pair: median {pairs[pairs.Count / 2]:N2}x, p10 {pairs[pairs.Count / 10]:N2}x, p90 {pairs[pairs.Count * 9 / 10]:N2}x");

        // Where the append time goes: each part alone, over the same entries.
        var serialize = Time(() =>
        {
            for (long n = 0; n < entries; n++)
            {
                AgentGovernance.Json.CanonicalJson.Serialize(events[(int)(n % events.Count)].Details);
            }
        });
        var details = events.Select(e => AgentGovernance.Json.CanonicalJson.Serialize(e.Details)).ToList();
        var encode = Time(() =>
        {
            using var codec = new LedgerCodec();
            var prev = LedgerCodec.Genesis(store.StoreId);
            for (long n = 0; n < entries; n++)
            {
                codec.Encode(n + 1, "2026-12-02T08:00:00.000Z", events[(int)(n % events.Count)], details[(int)(n % events.Count)], prev, out prev);
            }
        });
        var raw = Path.Combine(root, "raw.bin");
        var chunk = new byte[bytes / (entries / batch)];
        var write = Time(() =>
        {
            using var fs = new FileStream(raw, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
            for (long done = 0; done < entries; done += batch)
            {
                fs.Write(chunk, 0, chunk.Length);
                fs.Flush(flushToDisk: true);
            }
        });
        Console.WriteLine($"  of which (alone, same entries): canonical details {serialize:N3} s; line encoding and hash {encode:N3} s; writing the bytes with one fsync per append {write:N3} s; the rest (lock, head read, signatures, checkpoint, witness) {append - serialize - encode - write:N3} s");
        Console.WriteLine($"  append (durable, {entries / batch:N0} appends of {batch}) / the raw write of the same bytes with one fsync per append: {append / write:N2}x");
    }

    private static LedgerEvent Event(int i) => new(
        i % 3 == 0 ? LedgerEvents.Approved : i % 3 == 1 ? LedgerEvents.RiskAssessed : LedgerEvents.ApprovalRequested,
        $"approver{i % 50}@contoso.com",
        "sha256:" + Convert.ToHexStringLower(SHA256.HashData(BitConverter.GetBytes(i))),
        $"req-20261202-{i:x8}",
        new Dictionary<string, object?>
        {
            ["summary"] = $"approved by approver{i % 50}@contoso.com: 1/2 (quorum not yet met)",
            ["ranBy"] = "CONTOSO\\runbook",
            ["decisionId"] = $"dec-{i:x20}",
            ["decisionHash"] = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(BitConverter.GetBytes(-i))),
            ["approvals"] = 1,
            ["requiredApprovals"] = 2,
            ["quorumMet"] = false,
        });

    private static double Time(Action a)
    {
        GC.Collect();
        var t = Stopwatch.GetTimestamp();
        a();
        return Stopwatch.GetElapsedTime(t).TotalSeconds;
    }

    private static void HashLines(string file)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var fs = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1);
        var buffer = new byte[1 << 20];
        int filled = 0, start = 0;
        while (true)
        {
            var read = fs.Read(buffer, filled, buffer.Length - filled);
            if (read == 0)
            {
                return;
            }

            var scan = filled;
            filled += read;
            int nl;
            while ((nl = Array.IndexOf(buffer, (byte)'\n', scan, filled - scan)) >= 0)
            {
                sha.AppendData(buffer, start, nl - start);
                sha.GetHashAndReset();
                start = scan = nl + 1;
            }

            Buffer.BlockCopy(buffer, start, buffer, 0, filled - start);
            filled -= start;
            start = 0;
        }
    }

    private static void HashFile(string file)
    {
        using var fs = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 20);
        SHA256.HashData(fs);
    }

    private static string RuntimeInfo() => System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription;
}
