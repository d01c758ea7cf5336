using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using AgentGovernance.Approval;
using AgentGovernance.Ledger;
using AgentGovernance.Stores;
using Azure.Data.Tables;

// AgentGovernance.TableBench [--writers 8] [--appends 100] [--decisions 200] [--threads 1]
//   Starts Azurite (tests/Azurite, in memory, a free loopback port), then:
//   1. 8 writer processes append ledger entries (one entry per append, signed, checkpointed) to one table
//      at once; appends/s over all of them, and the ledger verified whole afterwards (no fork, none lost).
//      --threads T: each process appends from T threads at once (a runbook worker running several jobs),
//      --appends each; the process's appends that wait for its lock go in one transaction (group commit).
//   2. The store's part of a decision, one after another: the request's lease taken, the decision document
//      inserted, its ledger entry appended and checkpointed, the lease released; p50 and p99.
//   Baseline, in the same run: a bare insert of an entity of the same size (Azure.Data.Tables, no module).
// Internal mode: --writer <connection> <table> <appends> <signer> <go> <module> <threads>
const string Account = "devstoreaccount1";
const string Key = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

if (args.Length > 0 && args[0] == "--writer")
{
    return Writer(args[1], args[2], int.Parse(args[3]), args[4], args[5], args[6], int.Parse(args[7]));
}

int Opt(string name, int fallback) => Array.IndexOf(args, name) is var i and >= 0 ? int.Parse(args[i + 1]) : fallback;
var writers = Opt("--writers", 8);
var appends = Opt("--appends", 100);
var decisions = Opt("--decisions", 200);
var threads = Opt("--threads", 1);

var root = AppContext.BaseDirectory;
while (!File.Exists(Path.Combine(root, "AgentGovernance.slnx")))
{
    root = Path.GetDirectoryName(root) ?? throw new InvalidOperationException("Run it from the repository.");
}

var module = Path.Combine(root, "out", "AgentGovernance");
var main = Path.Combine(root, "tests", "Azurite", "node_modules", "azurite", "dist", "src", "table", "main.js");
if (!File.Exists(main))
{
    Console.Error.WriteLine($"Azurite is not installed ({main}): npm ci --prefix tests/Azurite");
    return 2;
}

var listener = new TcpListener(IPAddress.Loopback, 0);
listener.Start();
var port = ((IPEndPoint)listener.LocalEndpoint).Port;
listener.Stop();
var azurite = Process.Start(new ProcessStartInfo("node", new[] { main, "--tableHost", "127.0.0.1", "--tablePort", port.ToString(), "--inMemoryPersistence", "--skipApiVersionCheck", "--disableProductStyleUrl", "--loose" })
{
    RedirectStandardOutput = true, RedirectStandardError = true,
})!;
azurite.OutputDataReceived += (_, _) => { };
azurite.ErrorDataReceived += (_, _) => { };
azurite.BeginOutputReadLine();
azurite.BeginErrorReadLine();
var temp = Directory.CreateTempSubdirectory("tablebench");
try
{
    for (var until = DateTime.UtcNow.AddSeconds(60); ; Thread.Sleep(100))
    {
        try
        {
            using var c = new TcpClient();
            c.Connect(IPAddress.Loopback, port);
            break;
        }
        catch (SocketException) when (DateTime.UtcNow < until)
        {
        }
    }

    var cs = $"DefaultEndpointsProtocol=http;AccountName={Account};AccountKey={Key};TableEndpoint=http://127.0.0.1:{port}/{Account};";
    Console.WriteLine($"load before: {File.ReadAllText("/proc/loadavg").Trim()}");

    // Baseline: bare inserts of a ledger-entry-sized entity.
    var bare = new TableClient(cs, "bare");
    bare.CreateIfNotExists();
    var payload = new byte[700];
    var bareTimes = new List<double>();
    for (var i = 0; i < 300; i++)
    {
        var w = Stopwatch.StartNew();
        bare.AddEntity(new TableEntity("p", i.ToString("D19")) { ["D0"] = payload, ["Parts"] = 1, ["Length"] = payload.Length });
        if (i >= 50)
        {
            bareTimes.Add(w.Elapsed.TotalMilliseconds);
        }
    }

    // Baseline of an append's write: one entity-group transaction of an entry and its checkpoint.
    var bareTx = new List<double>();
    for (var i = 0; i < 300; i++)
    {
        var w = Stopwatch.StartNew();
        bare.SubmitTransaction(new[]
        {
            new TableTransactionAction(TableTransactionActionType.Add, new TableEntity("t", i.ToString("D19")) { ["D0"] = payload, ["Parts"] = 1, ["Length"] = payload.Length }),
            new TableTransactionAction(TableTransactionActionType.Add, new TableEntity("t", i.ToString("D19") + "~c") { ["D0"] = new byte[300], ["Parts"] = 1, ["Length"] = 300, ["Checkpoint"] = true }),
        });
        if (i >= 50)
        {
            bareTx.Add(w.Elapsed.TotalMilliseconds);
        }
    }

    // 1. Writers.
    var table = "bench" + Guid.NewGuid().ToString("N").Substring(0, 8);
    using (TableStoreLoader.Open(new TableStoreOptions { ConnectionString = cs, Table = table }, module))
    {
    }

    var go = Path.Combine(temp.FullName, "go");
    var self = typeof(Program).Assembly.Location;
    var procs = Enumerable.Range(0, writers).Select(w => Process.Start(new ProcessStartInfo("dotnet",
        new[] { self, "--writer", cs, table, appends.ToString(), Path.Combine(temp.FullName, $"w{w}", "signer.json"), go, module, threads.ToString() })
    {
        RedirectStandardOutput = true,
    })!).ToList();
    foreach (var p in procs)
    {
        if (p.StandardOutput.ReadLine() != "ready")
        {
            throw new InvalidOperationException("a writer did not start");
        }
    }

    Console.WriteLine("writers ready");
    var loadDuring = File.ReadAllText("/proc/loadavg").Trim();
    var perWriter = new List<string>();
    var wall = Stopwatch.StartNew();
    File.WriteAllText(go, "go");
    foreach (var p in procs)
    {
        var line = p.StandardOutput.ReadLine() ?? "fail";
        p.WaitForExit();
        if (p.ExitCode != 0 || !line.StartsWith("done", StringComparison.Ordinal))
        {
            throw new InvalidOperationException("a writer failed: " + line);
        }

        perWriter.Add(line.Substring(4).Trim());
    }

    var seconds = wall.Elapsed.TotalSeconds;
    using var store = TableStoreLoader.Open(new TableStoreOptions { ConnectionString = cs, Table = table }, module);
    Console.WriteLine($"writers done in {seconds:0.00} s");
    var verification = LedgerVerifier.Verify(store, Array.Empty<PublicKey>(), null);
    var count = store.ReadLedger().Count();

    // 2. Decisions, one after another.
    using var signer = LedgerSigner.OpenOrCreate(Path.Combine(temp.FullName, "d", "signer.json"));
    var ledger = new AuditLedger(store, signer);
    var decisionTimes = new List<double>();
    var document = new byte[1200];
    for (var i = 0; i < decisions + 20; i++)
    {
        var id = $"req-bench-{i}";
        var w = Stopwatch.StartNew();
        using (store.LockRequest(id, TimeSpan.FromSeconds(30)))
        using (store.Lock(AuditLedger.LockTimeout))
        {
            store.AddDecision(id, "d1", document);
            ledger.AppendLocked(new[] { new LedgerEvent(LedgerEvents.Approved, "carol@contoso.com", "sha256:" + new string('c', 64), id, new Dictionary<string, object?> { ["summary"] = "approved" }) });
        }

        if (i >= 20)
        {
            decisionTimes.Add(w.Elapsed.TotalMilliseconds);
        }
    }

    double Pct(List<double> xs, double p)
    {
        var s = xs.OrderBy(x => x).ToList();
        return s[Math.Min(s.Count - 1, (int)Math.Ceiling(p * s.Count) - 1)];
    }

    var total = writers * appends * threads;
    Console.WriteLine($"load while writing: {loadDuring}; after: {File.ReadAllText("/proc/loadavg").Trim()}");
    Console.WriteLine($"writers: {writers} processes x {threads} threads x {appends} appends = {total} in {seconds:0.00} s: {total / seconds:0} appends/s");
    Console.WriteLine($"one append, per writer: {string.Join("; ", perWriter)}");
    Console.WriteLine($"ledger after: {count} entries (expected {total}), verifies: {verification.IsValid} {verification.Message}");
    Console.WriteLine($"bare insert: p50 {Pct(bareTimes, 0.5):0.00} ms, p99 {Pct(bareTimes, 0.99):0.00} ms");
    Console.WriteLine($"bare transaction (entry + checkpoint): p50 {Pct(bareTx, 0.5):0.00} ms, p99 {Pct(bareTx, 0.99):0.00} ms");
    Console.WriteLine($"decision (store's part): p50 {Pct(decisionTimes, 0.5):0.00} ms ({Pct(decisionTimes, 0.5) / Pct(bareTimes, 0.5):0.0}x a bare insert), p99 {Pct(decisionTimes, 0.99):0.00} ms ({Pct(decisionTimes, 0.99) / Pct(bareTimes, 0.99):0.0}x)");
    return verification.IsValid && count == total ? 0 : 1;
}
finally
{
    azurite.Kill(entireProcessTree: true);
    azurite.WaitForExit();
    temp.Delete(recursive: true);
}

static int Writer(string cs, string table, int appends, string signerPath, string go, string module, int threads)
{
    // One store handle and ledger per thread (as each command of a runspace opens its own), one signer key.
    var stores = Enumerable.Range(0, threads).Select(_ => TableStoreLoader.Open(new TableStoreOptions { ConnectionString = cs, Table = table }, module)).ToList();
    using var signer = LedgerSigner.OpenOrCreate(signerPath);
    Console.WriteLine("ready");
    Console.Out.Flush();
    while (!File.Exists(go))
    {
        Thread.Sleep(5);
    }

    var times = new List<double>();
    var workers = stores.Select((store, t) => new Thread(() =>
    {
        var ledger = new AuditLedger(store, signer);
        var mine = new List<double>();
        for (var i = 0; i < appends; i++)
        {
            var w = Stopwatch.StartNew();
            ledger.Append(new LedgerEvent(LedgerEvents.Approved, $"writer{Environment.ProcessId}@contoso.com", "sha256:" + new string('a', 64), $"req-{Environment.ProcessId}-{t}-{i}",
                new Dictionary<string, object?> { ["summary"] = $"entry {i}" }));
            mine.Add(w.Elapsed.TotalMilliseconds);
        }

        lock (times)
        {
            times.AddRange(mine);
        }
    })).ToList();
    workers.ForEach(w => w.Start());
    workers.ForEach(w => w.Join());
    stores.ForEach(s => s.Dispose());

    times.Sort();
    Console.WriteLine($"done p50 {times[times.Count / 2]:0.0} ms p99 {times[Math.Min(times.Count - 1, (int)(times.Count * 0.99))]:0.0} ms, " +
        $"{AuditLedger.Conflicts} conflicts, {AuditLedger.TailChecks} tail checks, {AuditLedger.FullVerifications} full verifications, {AuditLedger.Carried} carried by another's transaction, " +
        $"time in attempts: head {AuditLedger.HeadTicks * 1000.0 / Stopwatch.Frequency:0} ms, write {AuditLedger.WriteTicks * 1000.0 / Stopwatch.Frequency:0} ms");
    return 0;
}

internal partial class Program
{
}
