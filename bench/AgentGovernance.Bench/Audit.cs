using System.Diagnostics;
using System.Globalization;
using AgentGovernance.Compliance;
using AgentGovernance.Directory;
using AgentGovernance.Exposure;
using AgentGovernance.Policy;

namespace AgentGovernanceBench;

/// <summary>
/// The compliance audit's exposure pass against one effective-access pass over every sensitive resource
/// (and directory role) of the same tenant, each in a fresh process so its peak working set is its own:
/// <c>dotnet run -c Release --project bench/AgentGovernance.Bench -- audit --snapshot &lt;file&gt; [--rounds 3]</c>.
/// Each child loads the snapshot, then times its pass (wall clock and the process's CPU time); "load" is the load
/// alone (the floor of both peaks). <c>--together</c> starts the access and audit children of a round at the same
/// time, so that both passes run under the same load of the machine (on a shared machine, the only fair pairing).
/// </summary>
internal static class AuditBench
{
    public static int Run(string[] args)
    {
        string? snapshot = null;
        var rounds = 3;
        var together = false;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--snapshot": snapshot = args[++i]; break;
                case "--rounds": rounds = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--together": together = true; break;
                case "--child": return Child(args[++i], args[++i]);
                default: Console.Error.WriteLine("audit: unknown option " + args[i]); return 2;
            }
        }

        if (snapshot is null || !File.Exists(snapshot))
        {
            Console.Error.WriteLine("audit: --snapshot <file> (bench/TenantGen makes one)");
            return 2;
        }

        Console.WriteLine($"snapshot {snapshot} ({new FileInfo(snapshot).Length / (1024 * 1024)} MiB); {rounds} round(s), each child a fresh process{(together ? ", access and audit started together" : "")}; load {File.ReadAllText("/proc/loadavg").Trim()}");
        var results = new Dictionary<string, List<(double Ms, double Cpu, long Peak, string Extra)>>();
        void Record(int round, string what, string line)
        {
            var parts = line.Split(' ').Select(p => p.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1]);
            (results.TryGetValue(what, out var list) ? list : results[what] = new()).Add(
                (double.Parse(parts["ms"], CultureInfo.InvariantCulture), double.Parse(parts["cpu"], CultureInfo.InvariantCulture), long.Parse(parts["peak"], CultureInfo.InvariantCulture), parts.GetValueOrDefault("extra", "")));
            Console.WriteLine($"  round {round + 1} {what,-6} {line} (load {File.ReadAllText("/proc/loadavg").Trim()})");
        }

        for (var r = 0; r < rounds; r++)
        {
            Record(r, "load", Spawn("load", snapshot));
            if (together)
            {
                var access = Task.Run(() => Spawn("access", snapshot));
                var audit = Task.Run(() => Spawn("audit", snapshot));
                Record(r, "access", access.Result);
                Record(r, "audit", audit.Result);
            }
            else
            {
                Record(r, "access", Spawn("access", snapshot));
                Record(r, "audit", Spawn("audit", snapshot));
            }
        }

        double Median(IEnumerable<double> xs) { var s = xs.OrderBy(x => x).ToList(); return s[s.Count / 2]; }
        var accessMs = Median(results["access"].Select(x => x.Ms));
        var auditMs = Median(results["audit"].Select(x => x.Ms));
        var accessCpu = Median(results["access"].Select(x => x.Cpu));
        var auditCpu = Median(results["audit"].Select(x => x.Cpu));
        var peakAccess = results["access"].Max(x => x.Peak) / (1024.0 * 1024);
        var peakAudit = results["audit"].Max(x => x.Peak) / (1024.0 * 1024);
        var peakLoad = results["load"].Max(x => x.Peak) / (1024.0 * 1024);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"median pass: access {accessMs:0} ms (CPU {accessCpu:0} ms), audit {auditMs:0} ms (CPU {auditCpu:0} ms): audit/access {auditMs / accessMs:0.00}x wall, {auditCpu / accessCpu:0.00}x CPU (goal <= 2x). peak working set: load {peakLoad:0} MiB, access {peakAccess:0} MiB, audit {peakAudit:0} MiB ({peakAudit / peakAccess:0.00}x); load after {File.ReadAllText("/proc/loadavg").Trim()}"));
        return 0;
    }

    private static string Spawn(string what, string snapshot)
    {
        var self = typeof(AuditBench).Assembly.Location;
        var info = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true };
        foreach (var a in new[] { self, "audit", "--child", what, snapshot })
        {
            info.ArgumentList.Add(a);
        }

        using var p = Process.Start(info)!;
        var output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return output.Split('\n').FirstOrDefault(l => l.StartsWith("CHILD", StringComparison.Ordinal))?.Trim() ?? throw new InvalidOperationException($"child {what} wrote no result (exit {p.ExitCode})");
    }

    private static int Child(string what, string path)
    {
        var snapshot = SnapshotReader.ReadFile(path);
        var policy = GovernancePolicy.Default;
        var watch = Stopwatch.StartNew();
        var cpu = CpuClock.NowMs();
        string extra;
        switch (what)
        {
            case "load":
                extra = $"resources:{snapshot.ResourceCount}";
                break;
            case "access":
                // One effective-access pass over what the audit looks at: every sensitive resource and every directory role.
                var state = new GraphState(snapshot);
                long entries = 0, audited = 0;
                for (var r = 0; r < snapshot.ResourceCount; r++)
                {
                    if (policy.IsSensitive(snapshot.ResourceSensitivity[r]) || string.Equals(snapshot.ResourceTypes[r], "directoryRole", StringComparison.OrdinalIgnoreCase))
                    {
                        entries += EffectiveAccess.ForResource(state, r).Count;
                        audited++;
                    }
                }

                extra = $"resources:{audited},entries:{entries}";
                break;
            case "audit":
                var findings = ComplianceAudit.Run(new AuditInputs(snapshot, policy));
                extra = $"findings:{findings.Count}";
                break;
            default:
                Console.Error.WriteLine("unknown child " + what);
                return 2;
        }

        var ms = watch.Elapsed.TotalMilliseconds;
        cpu = CpuClock.NowMs() - cpu;
        using var self = Process.GetCurrentProcess();
        self.Refresh();
        GC.KeepAlive(snapshot);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"CHILD ms={ms:0} cpu={cpu:0} peak={self.PeakWorkingSet64} extra={extra}"));
        return 0;
    }
}
