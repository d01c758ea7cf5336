using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Runtime;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using AgentGovernance.Directory;
using AgentGovernance.Exposure;

namespace AgentGovernanceBench;

/// <summary>
/// The engine's benchmarks (bench/README.md): snapshot load against one bare Utf8JsonReader pass,
/// and ExposureEngine.Assess on a mix of changes against a naive full before/after recomputation,
/// which also checks the engine's Gained/Lost sets exactly.
/// <code>dotnet run -c Release --project bench/AgentGovernance.Bench -- [--quick] [--users N] ...</code>
/// </summary>
internal static class Program
{
    private const string Usage =
        """
        usage: dotnet run -c Release --project bench/AgentGovernance.Bench -- [options]
          --quick                 small tenant (20,000 users), runs in seconds
          --users N --groups N --resources N --seed N
                                  the tenant to generate (default 300,000 / 50,000 / 100,000 / 42);
                                  written once to bench/data/ and reused
          --snapshot PATH         use this snapshot file instead (not generated)
          --per-kind N            changes per kind (default 4; 13 kinds)
          --rounds N              measured rounds over all changes (default 7; warm-up 3 more)
          --load-reps N           measured snapshot loads (default 5; warm-up 1 more)
          --naive-per-kind N      changes per kind timed with the naive baseline and verified
                                  against it (default: all; the targeted baseline always runs on all)
          --memory-runs N         fresh processes per peak-memory measurement (default 3)
          --load-only             only the snapshot load (part 1), no previews
          --markdown PATH         also write the result tables to PATH
          --detail                print every change
        """;

    public static int Main(string[] args)
    {
        Options o;
        try
        {
            if (args.Length >= 1 && args[0] == "audit")
            {
                return AuditBench.Run(args.Skip(1).ToArray());
            }

            if (args.Length >= 3 && args[0] == "--child")
            {
                return Child(args[1], args[2]);
            }

            o = Options.Parse(args);
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine("AgentGovernance.Bench: " + e.Message);
            Console.Error.WriteLine(Usage);
            return 2;
        }

        if (o.Help)
        {
            Console.WriteLine(Usage);
            return 0;
        }

        return new Runner(o).Run();
    }

    /// <summary>One measurement in a fresh process, so that its peak working set is its own.</summary>
    private static int Child(string what, string path)
    {
        using var self = Process.GetCurrentProcess();
        var startPeak = self.PeakWorkingSet64;
        object? keep;
        switch (what)
        {
            case "bare":
                keep = Bench.BarePassFile(path);
                break;
            case "load":
                keep = SnapshotReader.ReadFile(path);
                break;
            case "deserialise":
                keep = Deserialise.ReadFile(path);
                break;
            default:
                Console.Error.WriteLine("unknown child " + what);
                return 2;
        }

        self.Refresh();
        var peak = self.PeakWorkingSet64;
        var info = GC.GetGCMemoryInfo(GCKind.Any);
        var heap = GC.GetTotalMemory(forceFullCollection: true);
        GC.KeepAlive(keep);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"CHILD startPeak={startPeak} peak={peak} heapAfter={heap} gcCommitted={info.TotalCommittedBytes} gcCount={GC.CollectionCount(0)}/{GC.CollectionCount(1)}/{GC.CollectionCount(2)}"));
        return 0;
    }
}

internal sealed class Options
{
    public bool Quick;
    public bool Help;
    public bool Detail;
    public int Users = 300_000;
    public int Groups = 50_000;
    public int Resources = 100_000;
    public ulong Seed = 42;
    public string? Snapshot;
    public int PerKind = 4;
    public int Rounds = 7;
    public int WarmupRounds = 3;
    public int LoadReps = 5;
    public int NaivePerKind = int.MaxValue;
    public int MemoryRuns = 3;
    public string? Markdown;
    public bool LoadOnly;
    public readonly List<string> Args = new();

    public static Options Parse(string[] args)
    {
        var o = new Options();
        o.Args.AddRange(args);
        if (args.Contains("--quick"))
        {
            o.Quick = true;
            o.Users = 20_000;
            o.Groups = 3_400;
            o.Resources = 6_700;
            o.NaivePerKind = int.MaxValue;
        }

        for (var i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"option {args[i]} needs a value.");
            int Count() => int.TryParse(Value(), NumberStyles.AllowThousands, CultureInfo.InvariantCulture, out var n) && n > 0
                ? n : throw new ArgumentException($"{args[i - 1]}: '{args[i]}' is not a positive count.");
            switch (args[i])
            {
                case "--quick": break;
                case "--detail": o.Detail = true; break;
                case "--load-only": o.LoadOnly = true; break;
                case "-h" or "--help": o.Help = true; break;
                case "--users": o.Users = Count(); break;
                case "--groups": o.Groups = Count(); break;
                case "--resources": o.Resources = Count(); break;
                case "--seed":
                    o.Seed = ulong.TryParse(Value(), NumberStyles.None, CultureInfo.InvariantCulture, out var seed)
                        ? seed : throw new ArgumentException($"--seed: '{args[i]}' is not a non-negative integer.");
                    break;
                case "--snapshot": o.Snapshot = Value(); break;
                case "--per-kind": o.PerKind = Count(); break;
                case "--rounds": o.Rounds = Count(); break;
                case "--load-reps": o.LoadReps = Count(); break;
                case "--naive-per-kind": o.NaivePerKind = Count(); break;
                case "--memory-runs": o.MemoryRuns = Count(); break;
                case "--markdown": o.Markdown = Value(); break;
                default: throw new ArgumentException($"unknown option '{args[i]}'.");
            }
        }

        return o;
    }
}

/// <summary>The measured operations and the statistics over them.</summary>
internal static class Bench
{
    public static readonly JsonReaderOptions ReaderOptions = new() { CommentHandling = JsonCommentHandling.Disallow, MaxDepth = 64 };

    /// <summary>The baseline of the load: the file read the way SnapshotReader reads it, then one Utf8JsonReader pass counting tokens.</summary>
    public static long BarePassFile(string path) => BarePass(File.ReadAllBytes(path));

    public static long BarePass(byte[] bytes)
    {
        var reader = new Utf8JsonReader(bytes, ReaderOptions);
        long tokens = 0;
        while (reader.Read())
        {
            tokens++;
        }

        return tokens;
    }

    public static double Ms(long start, long end) => (end - start) * 1000.0 / Stopwatch.Frequency;

    public static double Median(IReadOnlyList<double> xs) => Percentile(xs, 50);

    /// <summary>Nearest-rank percentile.</summary>
    public static double Percentile(IReadOnlyList<double> xs, double p)
    {
        if (xs.Count == 0)
        {
            return double.NaN;
        }

        var sorted = xs.OrderBy(x => x).ToArray();
        var rank = (int)Math.Ceiling(p / 100.0 * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }

    public static void FullCollect()
    {
        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
    }
}

/// <summary>Wall-clock and process CPU times of repeated runs, in milliseconds.</summary>
internal sealed class Timings
{
    public List<double> Wall { get; } = new();

    public List<double> Cpu { get; } = new();

    public static (long Wall, double Cpu) Start() => (Stopwatch.GetTimestamp(), CpuClock.NowMs());

    public static (double Wall, double Cpu) Elapsed((long Wall, double Cpu) start)
    {
        var cpu = CpuClock.NowMs();
        var wall = Stopwatch.GetTimestamp();
        return (Bench.Ms(start.Wall, wall), cpu - start.Cpu);
    }

    public void Stop((long Wall, double Cpu) start)
    {
        var (wall, cpu) = Elapsed(start);
        Wall.Add(wall);
        Cpu.Add(cpu);
    }
}

/// <summary>Runs the whole benchmark and writes its tables.</summary>
internal sealed class Runner
{
    private readonly Options _o;
    private readonly StringBuilder _md = new();
    private readonly List<(string Goal, string Measured, bool Met, bool MetCpu)> _goals = new();
    private bool _mismatch;

    public Runner(Options o) => _o = o;

    public int Run()
    {
        var total = Stopwatch.StartNew();
        var path = _o.Snapshot ?? EnsureTenant();
        Environment(path);
        var snapshot = LoadBenchmark(path);
        if (!_o.LoadOnly)
        {
            AssessBenchmark(snapshot);
        }

        Goals();
        Line($"Total run time {total.Elapsed.TotalSeconds:F0} s.");
        if (_o.Markdown is { } md)
        {
            File.WriteAllText(md, _md.ToString());
            Console.WriteLine($"(tables written to {md})");
        }

        if (_mismatch)
        {
            Console.WriteLine("FAILED: the engine's diff differs from the naive recomputation (see above).");
            return 1;
        }

        return 0;
    }

    // ---- output ------------------------------------------------------------------------------

    private void Line(string text = "")
    {
        Console.WriteLine(text);
        _md.AppendLine(text);
    }

    private void Table(string[] header, IEnumerable<string[]> rows)
    {
        var all = new List<string[]> { header };
        all.AddRange(rows);
        var widths = new int[header.Length];
        foreach (var row in all)
        {
            for (var i = 0; i < row.Length; i++)
            {
                widths[i] = Math.Max(widths[i], row[i].Length);
            }
        }

        string Format(string[] row) => "| " + string.Join(" | ", row.Select((c, i) => i == 0 ? c.PadRight(widths[i]) : c.PadLeft(widths[i]))) + " |";
        Line(Format(header));
        Line("|" + string.Join("|", widths.Select((w, i) => i == 0 ? new string('-', w + 2) : new string('-', w + 1) + ":")) + "|");
        foreach (var row in all.Skip(1))
        {
            Line(Format(row));
        }

        Line();
    }

    private static string F(double ms) => ms switch
    {
        >= 10_000 => (ms / 1000).ToString("F1", CultureInfo.InvariantCulture) + " s",
        >= 100 => ms.ToString("F0", CultureInfo.InvariantCulture) + " ms",
        >= 10 => ms.ToString("F1", CultureInfo.InvariantCulture) + " ms",
        _ => ms.ToString("F2", CultureInfo.InvariantCulture) + " ms",
    };

    private static string MiB(double bytes) => (Math.Abs(bytes) < 524288 ? 0 : bytes / 1048576.0).ToString("N0", CultureInfo.InvariantCulture) + " MiB";

    private static string X(double ratio) => ratio >= 100
        ? ratio.ToString("N0", CultureInfo.InvariantCulture) + "×"
        : ratio.ToString("F2", CultureInfo.InvariantCulture) + "×";

    private static string N(long n) => n.ToString("N0", CultureInfo.InvariantCulture);

    // ---- tenant and environment ---------------------------------------------------------------

    private string EnsureTenant()
    {
        var root = RepoRoot();
        var dir = Path.Combine(root, "bench", "data");
        var name = string.Create(CultureInfo.InvariantCulture, $"tenant-{_o.Users}u-{_o.Groups}g-{_o.Resources}r-seed{_o.Seed}.snapshot.json");
        var path = Path.Combine(dir, name);
        if (File.Exists(path))
        {
            return path;
        }

        System.IO.Directory.CreateDirectory(dir);
        Console.WriteLine($"Generating {path} with TenantGen (once; later runs reuse it)...");
        var tmp = path + ".tmp";
        var rc = TenantGen.Large.Run(tmp, _o.Users, _o.Groups, _o.Resources, _o.Seed);
        if (rc != 0)
        {
            throw new InvalidOperationException("TenantGen failed with exit code " + rc);
        }

        File.Move(tmp, path, overwrite: true);
        Bench.FullCollect();
        return path;
    }

    private static string RepoRoot()
    {
        foreach (var start in new[] { System.IO.Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var d = new DirectoryInfo(start); d is not null; d = d.Parent)
            {
                if (File.Exists(Path.Combine(d.FullName, "AgentGovernance.slnx")))
                {
                    return d.FullName;
                }
            }
        }

        return System.IO.Directory.GetCurrentDirectory();
    }

    private void Environment(string path)
    {
        var memTotal = "?";
        try
        {
            var line = File.ReadLines("/proc/meminfo").FirstOrDefault(l => l.StartsWith("MemTotal:", StringComparison.Ordinal));
            if (line is not null)
            {
                var kb = long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
                memTotal = (kb / 1048576.0).ToString("F1", CultureInfo.InvariantCulture) + " GiB";
            }
        }
        catch (IOException)
        {
        }

        var engineOptimized = IsOptimized(typeof(ExposureEngine).Assembly);
        var benchOptimized = IsOptimized(typeof(Program).Assembly);
        Line("## AgentGovernance benchmarks");
        Line();
        Line($"- command: `dotnet run -c Release --project bench/AgentGovernance.Bench --{(_o.Args.Count == 0 ? string.Empty : " " + string.Join(' ', _o.Args))}`");
        Line($"- machine: {System.Environment.ProcessorCount} logical processors, {memTotal} memory (GC sees {MiB(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes)}); {RuntimeInformation.OSDescription} {RuntimeInformation.OSArchitecture}");
        Line($"- runtime: {RuntimeInformation.FrameworkDescription}; {(GCSettings.IsServerGC ? "Server" : "Workstation")} GC, latency mode {GCSettings.LatencyMode}; " +
             $"engine assembly {(engineOptimized ? "optimized" : "NOT OPTIMIZED (Debug build: figures are meaningless)")}, bench {(benchOptimized ? "optimized" : "NOT OPTIMIZED")}");
        var file = new FileInfo(path);
        Line($"- load average at start: {LoadAverage()} (1 min; anything above 0 is other processes competing for the {System.Environment.ProcessorCount} cores; wall-clock figures include it, CPU-time figures do not)");
        Line($"- tenant: `{Path.GetFileName(path)}`, {MiB(file.Length)} ({N(file.Length)} bytes)");
    }

    private static bool IsOptimized(Assembly a) => a.GetCustomAttribute<DebuggableAttribute>() is not { IsJITOptimizerDisabled: true };

    // ---- 1. snapshot load -----------------------------------------------------------------------

    private AccessSnapshot LoadBenchmark(string path)
    {
        Line();
        Line("### 1. Snapshot load");
        Line();
        Console.WriteLine("(measuring: warm-up, then interleaved bare passes, loads and deserialise-and-resolve runs)");

        var bytes = File.ReadAllBytes(path);
        long tokens = Bench.BarePass(bytes);
        bytes = null;

        // Warm-up (excluded): JIT and the file in the page cache.
        Bench.BarePassFile(path);
        var snapshot = SnapshotReader.ReadFile(path);
        snapshot = null;
        GC.KeepAlive(Deserialise.ReadFile(path));
        Bench.FullCollect();

        var bareFile = new Timings();
        var loadFile = new Timings();
        var bareMem = new Timings();
        var parseMem = new Timings();
        var deserFile = new Timings();
        var load0 = LoadAverage();
        for (var i = 0; i < _o.LoadReps; i++)
        {
            Bench.FullCollect();
            var t = Timings.Start();
            var n = Bench.BarePassFile(path);
            bareFile.Stop(t);
            if (n != tokens) throw new InvalidOperationException("token count changed");

            Bench.FullCollect();
            t = Timings.Start();
            snapshot = SnapshotReader.ReadFile(path);
            loadFile.Stop(t);
            snapshot = null;

            Bench.FullCollect();
            t = Timings.Start();
            var resolved = Deserialise.ReadFile(path);
            deserFile.Stop(t);
            GC.KeepAlive(resolved);

            // The same two from bytes already in memory (no file read in either).
            Bench.FullCollect();
            bytes = File.ReadAllBytes(path);
            t = Timings.Start();
            Bench.BarePass(bytes);
            bareMem.Stop(t);
            t = Timings.Start();
            snapshot = SnapshotReader.Parse(bytes, path);
            parseMem.Stop(t);
            snapshot = null;
            bytes = null;
        }

        var load1 = LoadAverage();

        // In-process memory: bytes allocated during, and managed heap retained after, each.
        Bench.FullCollect();
        var heap0 = GC.GetTotalMemory(true);
        var alloc0 = GC.GetTotalAllocatedBytes(true);
        Bench.BarePassFile(path);
        var bareAlloc = GC.GetTotalAllocatedBytes(true) - alloc0;
        var bareRetained = GC.GetTotalMemory(true) - heap0;
        Bench.FullCollect();
        heap0 = GC.GetTotalMemory(true);
        alloc0 = GC.GetTotalAllocatedBytes(true);
        snapshot = SnapshotReader.ReadFile(path);
        var loadAlloc = GC.GetTotalAllocatedBytes(true) - alloc0;
        var loadRetained = GC.GetTotalMemory(true) - heap0;

        // Peak working set: a fresh process per measurement (a process's peak never goes down).
        var barePeak = new List<double>();
        var loadPeak = new List<double>();
        var deserPeak = new List<double>();
        var baseline = new List<double>();
        for (var i = 0; i < _o.MemoryRuns; i++)
        {
            var b = RunChild("bare", path);
            var l = RunChild("load", path);
            var d = RunChild("deserialise", path);
            barePeak.Add(b.Peak);
            loadPeak.Add(l.Peak);
            deserPeak.Add(d.Peak);
            baseline.Add(l.StartPeak);
        }

        var ratioFile = Bench.Median(loadFile.Wall) / Bench.Median(bareFile.Wall);
        var ratioMem = Bench.Median(parseMem.Wall) / Bench.Median(bareMem.Wall);
        var ratioFileCpu = Bench.Median(loadFile.Cpu) / Bench.Median(bareFile.Cpu);
        var ratioMemCpu = Bench.Median(parseMem.Cpu) / Bench.Median(bareMem.Cpu);
        var ratioDeser = Bench.Median(loadFile.Wall) / Bench.Median(deserFile.Wall);
        var ratioDeserCpu = Bench.Median(loadFile.Cpu) / Bench.Median(deserFile.Cpu);
        // Per-pair ratios (each load against the runs just before it): the spread the load of the machine causes.
        var pairBare = loadFile.Wall.Select((w, i) => w / bareFile.Wall[i]).ToList();
        var pairDeser = loadFile.Wall.Select((w, i) => w / deserFile.Wall[i]).ToList();
        Line($"{snapshot.UserCount:N0} users ({snapshot.GuestCount:N0} guests, {snapshot.DisabledUserCount:N0} disabled), {snapshot.ServicePrincipalCount:N0} service principals, " +
             $"{snapshot.GroupCount:N0} groups, {snapshot.ResourceCount:N0} resources; {snapshot.MembershipCount:N0} memberships + {snapshot.GrantCount:N0} grants = " +
             $"{snapshot.MembershipCount + (long)snapshot.GrantCount:N0} edges; {tokens:N0} JSON tokens.");
        Line($"Time: {_o.LoadReps} measured runs of each after 1 warm-up, interleaved, full GC before each; median and worst wall-clock time, and median CPU time " +
             $"of the process (all threads, GC included). Load average {load0} before, {load1} after.");
        Line();
        Table(
            ["load", "wall median", "wall worst", "vs bare", "CPU median", "vs bare"],
            [
                ["bare pass: File.ReadAllBytes + one Utf8JsonReader pass (baseline)", F(Bench.Median(bareFile.Wall)), F(bareFile.Wall.Max()), X(1), F(Bench.Median(bareFile.Cpu)), X(1)],
                ["SnapshotReader.ReadFile (what Import-AccessSnapshot does)", F(Bench.Median(loadFile.Wall)), F(loadFile.Wall.Max()), X(ratioFile), F(Bench.Median(loadFile.Cpu)), X(ratioFileCpu)],
                ["deserialise-and-resolve: File.ReadAllBytes + JsonSerializer into classes + ids through dictionaries", F(Bench.Median(deserFile.Wall)), F(deserFile.Wall.Max()), X(Bench.Median(deserFile.Wall) / Bench.Median(bareFile.Wall)), F(Bench.Median(deserFile.Cpu)), X(Bench.Median(deserFile.Cpu) / Bench.Median(bareFile.Cpu))],
                ["bytes already in memory: one Utf8JsonReader pass (baseline)", F(Bench.Median(bareMem.Wall)), F(bareMem.Wall.Max()), X(1), F(Bench.Median(bareMem.Cpu)), X(1)],
                ["bytes already in memory: SnapshotReader.Parse", F(Bench.Median(parseMem.Wall)), F(parseMem.Wall.Max()), X(ratioMem), F(Bench.Median(parseMem.Cpu)), X(ratioMemCpu)],
            ]);
        Line($"Load ÷ deserialise-and-resolve: wall {X(ratioDeser)}, CPU {X(ratioDeserCpu)}. Per interleaved pair (wall), load ÷ bare: " +
             $"median {X(Bench.Median(pairBare))}, {X(pairBare.Min())}–{X(pairBare.Max())}; load ÷ deserialise: median {X(Bench.Median(pairDeser))}, {X(pairDeser.Min())}–{X(pairDeser.Max())}.");
        Line();
        Line($"Memory: peak working set of a fresh process that does only that one thing (median / worst of {_o.MemoryRuns}; " +
             $"the runtime alone: {MiB(Bench.Median(baseline))}); managed bytes allocated during it, and managed heap retained after it (full GC, result alive), measured in-process.");
        Line();
        Table(
            ["memory", "bare pass (baseline)", "SnapshotReader.ReadFile", "load − bare", "deserialise-and-resolve"],
            [
                ["peak working set, median", MiB(Bench.Median(barePeak)), MiB(Bench.Median(loadPeak)), MiB(Bench.Median(loadPeak) - Bench.Median(barePeak)), MiB(Bench.Median(deserPeak))],
                ["peak working set, worst", MiB(barePeak.Max()), MiB(loadPeak.Max()), MiB(loadPeak.Max() - barePeak.Max()), MiB(deserPeak.Max())],
                ["managed bytes allocated", MiB(bareAlloc), MiB(loadAlloc), MiB(loadAlloc - bareAlloc), ""],
                ["managed heap retained after", MiB(bareRetained), MiB(loadRetained), MiB(loadRetained - bareRetained), ""],
            ]);

        _goals.Add(("load ≤ 6× one bare Utf8JsonReader pass (file, median; issue 16)",
            $"wall {X(ratioFile)} ({F(Bench.Median(loadFile.Wall))} vs {F(Bench.Median(bareFile.Wall))}), CPU {X(ratioFileCpu)}; bytes in memory: wall {X(ratioMem)}, CPU {X(ratioMemCpu)}",
            ratioFile <= 6, ratioFileCpu <= 6));
        _goals.Add(("load ≤ 0.35× deserialise-and-resolve (file, median; issue 16)",
            $"wall {X(ratioDeser)} ({F(Bench.Median(loadFile.Wall))} vs {F(Bench.Median(deserFile.Wall))}), CPU {X(ratioDeserCpu)}",
            ratioDeser <= 0.35, ratioDeserCpu <= 0.35));
        _goals.Add(("load peak memory ≤ 500 MiB (issue 16)", $"{MiB(loadPeak.Max())} peak working set (worst of {_o.MemoryRuns})", loadPeak.Max() <= 500 * 1048576.0, loadPeak.Max() <= 500 * 1048576.0));
        return snapshot;
    }

    private static (double Peak, double StartPeak) RunChild(string what, string path)
    {
        var exe = System.Environment.ProcessPath ?? throw new InvalidOperationException("no process path");
        var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(exe).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
        {
            psi.ArgumentList.Add(typeof(Program).Assembly.Location);
        }

        psi.ArgumentList.Add("--child");
        psi.ArgumentList.Add(what);
        psi.ArgumentList.Add(path);
        psi.Environment["DOTNET_gcServer"] = "0";
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("cannot start " + exe);
        var output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        var line = output.Split('\n').FirstOrDefault(l => l.StartsWith("CHILD ", StringComparison.Ordinal))
                   ?? throw new InvalidOperationException($"child '{what}' failed (exit {p.ExitCode}): {output}");
        var fields = line.Substring(6).Split(' ').Select(f => f.Split('=')).ToDictionary(f => f[0], f => f[1]);
        return (double.Parse(fields["peak"], CultureInfo.InvariantCulture), double.Parse(fields["startPeak"], CultureInfo.InvariantCulture));
    }

    // ---- 2. exposure preview --------------------------------------------------------------------

    private sealed class Measured
    {
        public required BenchChange Change { get; init; }

        public List<double> Samples { get; } = new();

        public List<double> CpuSamples { get; } = new();

        public int Gen2 { get; set; }

        public double? NaiveCpuMs { get; set; }

        public int Resources { get; set; }

        public int Gained { get; set; }

        public int Lost { get; set; }

        public RiskLevel Risk { get; set; }

        public bool Anonymous { get; set; }

        /// <summary>Distinct principals gained / lost; "+ anyone" when the anonymous audience newly reaches something.</summary>
        public string GainedLost => $"{N(Gained)}{(Anonymous ? " + anyone" : string.Empty)} / {N(Lost)}";

        public double? NaiveMs { get; set; }

        public string? Verified { get; set; }

        /// <summary>(resource, principal) entries in the diff: Gained plus Lost over all resources.</summary>
        public long Entries { get; set; }

        public double TargetedMs { get; set; }

        public double TargetedCpuMs { get; set; }

        public string TargetedVerified { get; set; } = "";

        public double Median => Bench.Median(Samples);

        public double VsTargeted => TargetedMs / Bench.Median(Samples);
    }

    private void AssessBenchmark(AccessSnapshot s)
    {
        Line("### 2. Exposure preview: ExposureEngine.Assess (what Test-ExposureRisk calls)");
        Line();
        Bench.FullCollect();
        var picked = ChangeCatalog.Pick(s, _o.PerKind, _o.Seed, Console.Out);
        var changes = new List<Measured>();
        foreach (var c in picked)
        {
            try
            {
                var report = ExposureEngine.Assess(s, c.Change);
                changes.Add(new Measured
                {
                    Change = c, Resources = report.ResourcesAffected, Gained = report.PrincipalsGained, Lost = report.PrincipalsLost,
                    Risk = report.RiskLevel, Anonymous = report.GainedAnonymous,
                    Entries = report.Resources.Sum(x => (long)x.Gained.Count + x.Lost.Count),
                });
            }
            catch (AgentGovernance.GovernanceException e)
            {
                Console.WriteLine($"  skipped {c.Kind}: {c.Description}: {e.Message}");
            }
        }

        // Warm-up rounds (excluded), then measured rounds; each round runs every change once, kinds interleaved.
        var load0 = LoadAverage();
        for (var round = 0; round < _o.WarmupRounds + _o.Rounds; round++)
        {
            foreach (var m in changes)
            {
                var gen2 = GC.CollectionCount(2);
                var c0 = CpuClock.NowMs();
                var t0 = Stopwatch.GetTimestamp();
                var report = ExposureEngine.Assess(s, m.Change.Change);
                var t1 = Stopwatch.GetTimestamp();
                var c1 = CpuClock.NowMs();
                GC.KeepAlive(report);
                if (round >= _o.WarmupRounds)
                {
                    m.Samples.Add(Bench.Ms(t0, t1));
                    m.CpuSamples.Add(c1 - c0);
                    m.Gen2 += GC.CollectionCount(2) - gen2;
                }
            }
        }

        var load1 = LoadAverage();

        // The targeted baseline on every change (after one warm-up run; median of 3), each also verified against it.
        Console.WriteLine("(measuring the targeted baseline)");
        Targeted.Diff(s, changes[0].Change.Change);
        foreach (var m in changes)
        {
            var wall = new List<double>();
            var cpu = new List<double>();
            Naive.Result? result = null;
            for (var i = 0; i < 3; i++)
            {
                Bench.FullCollect();
                var t = Timings.Start();
                result = Targeted.Diff(s, m.Change.Change);
                var (w, c) = Timings.Elapsed(t);
                wall.Add(w);
                cpu.Add(c);
            }

            m.TargetedMs = Bench.Median(wall);
            m.TargetedCpuMs = Bench.Median(cpu);
            m.TargetedVerified = Verify(s, m.Change, result!);
            Console.WriteLine($"  targeted {F(m.TargetedMs)} (engine {F(m.Median)}, {X(m.VsTargeted)}): {m.Change.Kind}: {m.Change.Description}: {m.TargetedVerified}");
        }

        var load2 = LoadAverage();

        // The naive baseline on the first N changes of each kind (default: all; after one warm-up run), each also verified.
        Console.WriteLine("(measuring the naive baseline; it is slow)");
        var naive = changes.GroupBy(m => m.Change.Kind).SelectMany(g => g.Take(_o.NaivePerKind)).ToList();
        Bench.FullCollect();
        Naive.Diff(s, changes[0].Change.Change);
        foreach (var m in naive)
        {
            Bench.FullCollect();
            var t = Timings.Start();
            var result = Naive.Diff(s, m.Change.Change);
            var (wall, cpu) = Timings.Elapsed(t);
            m.NaiveMs = wall;
            m.NaiveCpuMs = cpu;
            m.Verified = Verify(s, m.Change, result);
            Console.WriteLine($"  naive {F(m.NaiveMs.Value)}: {m.Change.Kind}: {m.Change.Description}: {m.Verified}");
        }

        var all = changes.SelectMany(m => m.Samples).ToList();
        Line($"{changes.Count} changes ({_o.PerKind} per kind, picked deterministically from the tenant, seed {_o.Seed}), each a one-operation change; " +
             $"{_o.WarmupRounds} warm-up rounds excluded, then {_o.Rounds} measured rounds over all changes (kinds interleaved, no forced GC: collections the engine causes are in the figures; " +
             $"{changes.Sum(m => m.Gen2)} of the {all.Count} samples saw a gen-2 collection). Load average {load0} before, {load1} after the engine's rounds, {load2} after the targeted baseline, {LoadAverage()} after the naive one. " +
             $"p50 and p95 over all samples of a kind, worst is the slowest single sample. " +
             $"Naive: two full copies of the tenant (before, and after with the change applied), the effective access of every resource in both " +
             $"(each group's transitive membership computed once per copy; resources evaluated one at a time) and the diff, " +
             $"run once per sampled change ({(_o.NaivePerKind >= _o.PerKind ? "every change" : $"the first {_o.NaivePerKind} of each kind")}, after one warm-up run); " +
             $"speedup = naive time / the engine's median on the same change (wall; CPU in brackets). CPU = CPU time of the process during the call (all threads, GC included). " +
             $"Targeted: a plain recompute of exactly the resources the change can touch (Targeted.cs; median of 3 runs after a full GC, on every change); " +
             $"vs targeted = targeted time / the engine's median on the same change, min and median over the kind's changes. Entries: (resource, principal) entries in the diff.");
        Line();

        var rows = new List<string[]>();
        foreach (var kind in ChangeCatalog.Kinds)
        {
            var ms = changes.Where(m => m.Change.Kind == kind).ToList();
            if (ms.Count == 0)
            {
                continue;
            }

            rows.Add(KindRow(kind, ms));
        }

        rows.Add(KindRow("all kinds", changes));
        Table(["change kind", "changes", "resources affected (median)", "principals gained / lost (max)", "entries (max)", "p50", "p95", "worst", "CPU p50", "CPU worst",
            "targeted (median)", "vs targeted (min / median)", "naive (median)", "speedup (min)", "verified (targeted / naive)"], rows);

        {
            Line("Naive baseline and verification, per sampled change:");
            Line();
            Table(["change", "resources", "principals gained / lost", "engine median", "engine worst", "engine CPU median", "naive", "naive CPU", "speedup (CPU)", "naive diff = engine diff"],
                naive.Select(m => new[]
                {
                    $"{m.Change.Kind}: {m.Change.Description}", N(m.Resources), m.GainedLost, F(Bench.Median(m.Samples)), F(m.Samples.Max()),
                    F(Bench.Median(m.CpuSamples)), F(m.NaiveMs!.Value), F(m.NaiveCpuMs!.Value),
                    $"{X(m.NaiveMs.Value / Bench.Median(m.Samples))} ({X(m.NaiveCpuMs.Value / Bench.Median(m.CpuSamples))})", m.Verified!,
                }));
        }

        {
            Line("Every change, against the targeted baseline:");
            Line();
            Table(["change", "risk", "resources", "principals gained / lost", "entries", "median", "worst", "CPU median", "targeted", "targeted CPU", "vs targeted", "targeted diff = engine diff"],
                changes.Select(m => new[] { $"{m.Change.Kind}: {m.Change.Description}", m.Risk.ToString(), N(m.Resources), m.GainedLost, N(m.Entries),
                    F(m.Median), F(m.Samples.Max()), F(Bench.Median(m.CpuSamples)), F(m.TargetedMs), F(m.TargetedCpuMs), X(m.VsTargeted), m.TargetedVerified }));
        }

        var allCpu = changes.SelectMany(m => m.CpuSamples).ToList();
        var p50 = Bench.Median(all);
        var worst = all.Max();
        var p50Cpu = Bench.Median(allCpu);
        var worstCpu = allCpu.Max();
        var speedups = naive.Select(m => m.NaiveMs!.Value / Bench.Median(m.Samples)).ToList();
        var speedupsCpu = naive.Select(m => m.NaiveCpuMs!.Value / Bench.Median(m.CpuSamples)).ToList();
        var worstKind = changes.GroupBy(m => m.Change.Kind).OrderByDescending(g => g.SelectMany(m => m.Samples).Max()).First().Key;
        var worstKindCpu = changes.GroupBy(m => m.Change.Kind).OrderByDescending(g => g.SelectMany(m => m.CpuSamples).Max()).First().Key;
        _goals.Add(("Assess p50 ≤ 10 ms (all kinds)", $"wall {F(p50)}, CPU {F(p50Cpu)}", p50 <= 10, p50Cpu <= 10));
        _goals.Add(("Assess worst ≤ 100 ms (all kinds)", $"wall {F(worst)} ({worstKind}), CPU {F(worstCpu)} ({worstKindCpu})", worst <= 100, worstCpu <= 100));
        _goals.Add(("≥ 100× faster than naive (every sampled change)",
            $"wall: min {X(speedups.Min())}, median {X(Bench.Median(speedups))}; CPU: min {X(speedupsCpu.Min())}; over {speedups.Count} changes", speedups.Min() >= 100, speedupsCpu.Min() >= 100));
        var mismatches = naive.Count(m => !m.Verified!.StartsWith("yes", StringComparison.Ordinal));
        _goals.Add(("engine Gained/Lost = naive diff exactly", $"{naive.Count - mismatches} of {naive.Count} sampled changes", mismatches == 0, mismatches == 0));
        var tMismatches = changes.Count(m => !m.TargetedVerified.StartsWith("yes", StringComparison.Ordinal));
        _goals.Add(("engine Gained/Lost = targeted diff exactly (every change)", $"{changes.Count - tMismatches} of {changes.Count} changes", tMismatches == 0, tMismatches == 0));

        // Issue 16: never slower than the targeted recompute; >= 3x on the median change of each kind.
        var slowest = changes.OrderBy(m => m.VsTargeted).First();
        _goals.Add(("never slower than targeted (every change, engine median)", $"min {X(slowest.VsTargeted)} ({slowest.Change.Kind}: {slowest.Change.Description})",
            slowest.VsTargeted >= 1, changes.All(m => m.TargetedCpuMs >= Bench.Median(m.CpuSamples))));
        var kindMedians = changes.GroupBy(m => m.Change.Kind).Select(g => (Kind: g.Key, Ratio: Bench.Median(g.Select(m => m.VsTargeted).ToList()))).OrderBy(x => x.Ratio).ToList();
        _goals.Add(("≥ 3× faster than targeted on the median change of each kind", $"lowest kind median {X(kindMedians[0].Ratio)} ({kindMedians[0].Kind})", kindMedians[0].Ratio >= 3, kindMedians[0].Ratio >= 3));
        var single = changes.Where(m => ChangeCatalog.SingleResourceKinds.Contains(m.Change.Kind)).SelectMany(m => m.Samples).ToList();
        if (single.Count > 0)
        {
            _goals.Add(("p50 ≤ 10 ms for single-resource changes", F(Bench.Median(single)), Bench.Median(single) <= 10, true));
        }

        var small = changes.Where(m => m.Entries <= 100_000).ToList();
        if (small.Count > 0)
        {
            var w = small.OrderByDescending(m => m.Samples.Max()).First();
            _goals.Add(("worst ≤ 100 ms for diffs ≤ 100,000 entries", $"{F(w.Samples.Max())} ({w.Change.Kind}: {w.Change.Description}, {N(w.Entries)} entries)", w.Samples.Max() <= 100, true));
        }

        var large = changes.Where(m => m.Entries > 100_000).ToList();
        if (large.Count > 0)
        {
            var w = large.OrderByDescending(m => m.Samples.Max() / m.Entries).First();
            var per100k = w.Samples.Max() / w.Entries * 100_000;
            _goals.Add(("linear beyond: worst ≤ 100 ms per 100,000 entries", $"{F(per100k)} per 100k ({w.Change.Kind}: {N(w.Entries)} entries, worst {F(w.Samples.Max())})", per100k <= 100, true));
        }
    }

    private static string[] KindRow(string kind, List<Measured> ms)
    {
        var samples = ms.SelectMany(m => m.Samples).ToList();
        var cpu = ms.SelectMany(m => m.CpuSamples).ToList();
        var naive = ms.Where(m => m.NaiveMs is not null).ToList();
        var speedup = naive.Count == 0 ? "–" : X(naive.Min(m => m.NaiveMs!.Value / Bench.Median(m.Samples)));
        var verified = $"{ms.Count(m => m.TargetedVerified.StartsWith("yes", StringComparison.Ordinal))}/{ms.Count} / " +
                       (naive.Count == 0 ? "–" : $"{naive.Count(m => m.Verified!.StartsWith("yes", StringComparison.Ordinal))}/{naive.Count}");
        return
        [
            kind, ms.Count.ToString(CultureInfo.InvariantCulture),
            N((long)Bench.Median(ms.Select(m => (double)m.Resources).ToList())),
            $"{N(ms.Max(m => m.Gained))}{(ms.Any(m => m.Anonymous) ? " + anyone" : string.Empty)} / {N(ms.Max(m => m.Lost))}",
            N(ms.Max(m => m.Entries)),
            F(Bench.Median(samples)), F(Bench.Percentile(samples, 95)), F(samples.Max()), F(Bench.Median(cpu)), F(cpu.Max()),
            F(Bench.Median(ms.Select(m => m.TargetedMs).ToList())),
            $"{X(ms.Min(m => m.VsTargeted))} / {X(Bench.Median(ms.Select(m => m.VsTargeted).ToList()))}",
            naive.Count == 0 ? "–" : $"{F(Bench.Median(naive.Select(m => m.NaiveMs!.Value).ToList()))} (n={naive.Count})",
            speedup, verified,
        ];
    }

    private static string LoadAverage()
    {
        try
        {
            var parts = File.ReadAllText("/proc/loadavg").Split(' ');
            return parts[0];
        }
        catch (IOException)
        {
            return "?";
        }
        catch (UnauthorizedAccessException)
        {
            return "?";
        }
    }

    /// <summary>Compares the engine's Gained/Lost (principal, before, after) per resource with the naive diff.</summary>
    private string Verify(AccessSnapshot s, BenchChange c, Naive.Result naive)
    {
        var report = ExposureEngine.Assess(s, c.Change);
        var gained = new List<Naive.Delta>();
        var lost = new List<Naive.Delta>();
        foreach (var res in report.Resources)
        {
            if (!s.TryGetResourceIndex(res.ResourceId, out var r)) throw new InvalidOperationException("unknown resource in report");
            foreach (var d in res.Gained)
            {
                gained.Add(new Naive.Delta(r, Index(s, d.PrincipalId), (byte)d.Before, (byte)d.After));
            }

            foreach (var d in res.Lost)
            {
                lost.Add(new Naive.Delta(r, Index(s, d.PrincipalId), (byte)d.Before, (byte)d.After));
            }
        }

        gained.Sort();
        lost.Sort();
        var problems = new List<string>();
        Compare("gained", gained, naive.Gained, s, problems);
        Compare("lost", lost, naive.Lost, s, problems);
        if (problems.Count == 0)
        {
            return $"yes ({N(gained.Count)} gained, {N(lost.Count)} lost (resource, principal) entries)";
        }

        _mismatch = true;
        Console.WriteLine($"MISMATCH on {c.Kind}: {string.Join("; ", c.Change.Operations)}:");
        foreach (var p in problems.Take(20))
        {
            Console.WriteLine("    " + p);
        }

        return $"NO: {problems.Count} differences";
    }

    private static int Index(AccessSnapshot s, string id) =>
        s.TryGetPrincipalIndex(id, out var p) ? p : throw new InvalidOperationException("unknown principal in report: " + id);

    private static void Compare(string what, List<Naive.Delta> engine, List<Naive.Delta> naive, AccessSnapshot s, List<string> problems)
    {
        string Show(Naive.Delta d) => $"{s.ResourceIds[d.Resource]} {s.PrincipalId(d.Principal)} {(AccessRole)d.Before}->{(AccessRole)d.After}";
        int i = 0, j = 0;
        while (i < engine.Count || j < naive.Count)
        {
            var c = i >= engine.Count ? 1 : j >= naive.Count ? -1 : engine[i].CompareTo(naive[j]);
            if (c == 0)
            {
                if (engine[i] != naive[j])
                {
                    problems.Add($"{what}: engine {Show(engine[i])}, naive {Show(naive[j])}");
                }

                i++;
                j++;
            }
            else if (c < 0)
            {
                problems.Add($"{what}: only the engine has {Show(engine[i++])}");
            }
            else
            {
                problems.Add($"{what}: only the naive diff has {Show(naive[j++])}");
            }
        }
    }

    // ---- goals ---------------------------------------------------------------------------------

    private void Goals()
    {
        Line(_o.Quick ? "### Goals (issue 2, Scale) — NOTE: --quick uses a small tenant; the goals are for the large one" : "### Goals (issue 2, Scale)");
        Line();
        Table(["goal", "measured", "met (wall clock)", "met (CPU time)"], _goals.Select(g => new[] { g.Goal, g.Measured, g.Met ? "yes" : "NO", g.MetCpu ? "yes" : "NO" }));
    }
}
