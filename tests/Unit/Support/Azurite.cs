using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace AgentGovernance.Tests.Support;

/// <summary>
/// Azurite's table service (npm azurite, pinned in tests/Azurite/package-lock.json and installed there by
/// build.ps1 -Task Test or .ci/run), started once for the tests that need it: on 127.0.0.1, on a free port,
/// in memory only. Killed when the test run ends.
/// </summary>
public sealed class Azurite : IDisposable
{
    public const string Account = "devstoreaccount1";

    /// <summary>Azurite's well-known development key (public, the same for everyone).</summary>
    public const string Key = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private readonly Process _process;
    private int _tables;

    public Azurite()
        : this(Array.Empty<string>(), "http")
    {
    }

    private Azurite(string[] extra, string scheme)
    {
        Scheme = scheme;
        var main = Path.Combine(Repo.Root, "tests", "Azurite", "node_modules", "azurite", "dist", "src", "table", "main.js");
        if (!File.Exists(main))
        {
            throw new InvalidOperationException($"Azurite is not installed ({main} is missing): run 'npm ci --prefix tests/Azurite' (build.ps1 -Task Test and .ci/run do).");
        }

        Port = FreePort();
        var info = new ProcessStartInfo("node") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { main, "--tableHost", "127.0.0.1", "--tablePort", Port.ToString(), "--inMemoryPersistence", "--skipApiVersionCheck", "--disableProductStyleUrl", "--loose" }.Concat(extra))
        {
            info.ArgumentList.Add(a);
        }

        _process = Process.Start(info)!;
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var until = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            try
            {
                using var c = new TcpClient();
                c.Connect(IPAddress.Loopback, Port);
                break;
            }
            catch (SocketException) when (DateTime.UtcNow < until && !_process.HasExited)
            {
                Thread.Sleep(100);
            }
        }
    }

    /// <summary>
    /// An Azurite of its own over HTTPS (the PEM certificate and key given) that accepts OAuth bearer tokens
    /// (--oauth basic: issuer, audience and lifetime checked, the signature not).
    /// </summary>
    public static Azurite WithOAuth(string certificatePem, string keyPem) => new(new[] { "--oauth", "basic", "--cert", certificatePem, "--key", keyPem }, "https");

    public int Port { get; }

    public string Scheme { get; }

    public string Endpoint => $"{Scheme}://127.0.0.1:{Port}/{Account}";

    public string ConnectionString => ConnectionStringFor(Endpoint);

    public static string ConnectionStringFor(string endpoint) =>
        $"DefaultEndpointsProtocol={new Uri(endpoint).Scheme};AccountName={Account};AccountKey={Key};TableEndpoint={endpoint};";

    /// <summary>A table name no other test uses.</summary>
    public string NewTable(string prefix = "t") => prefix + Interlocked.Increment(ref _tables) + Guid.NewGuid().ToString("N").Substring(0, 8);

    public static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        var port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    public void Dispose()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(5000);
        }
        catch (InvalidOperationException)
        {
        }

        _process.Dispose();
    }
}

[CollectionDefinition("Azurite")]
public sealed class AzuriteCollection : ICollectionFixture<Azurite>
{
}
