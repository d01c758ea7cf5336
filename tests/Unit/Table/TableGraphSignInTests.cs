using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using AgentGovernance.GraphFake;
using AgentGovernance.Tests.Cmdlets;
using AgentGovernance.Tests.Support;
using Azure.Data.Tables;
using Fabrikam = AgentGovernance.GraphFake.Fabrikam;

namespace AgentGovernance.Tests.Table;

/// <summary>
/// -StoreGraphSignIn: the table store signs in with the credential the session signed in to Microsoft Graph
/// with, asked for a token for https://storage.azure.com/ (not Graph's token), across the two parts' load
/// contexts. Against an Azurite over HTTPS that checks bearer tokens (--oauth basic: issuer, audience,
/// lifetime), with the Graph sign-in a managed identity whose endpoint (App Service's IDENTITY_ENDPOINT) is a
/// loopback fake that hands out a token per resource and records what it was asked for.
/// </summary>
public sealed class TableGraphSignInTests : CmdletTestBase
{
    private const string Tenant = "00000000-0000-0000-0000-0000000000f1";

    private const string SignInScript = """
        param($graph, $store, $table, $graphToken)
        $ErrorActionPreference = 'Stop'
        # The attack this guards against: Graph's own token sent to the store. Azurite refuses it (its audience is Graph).
        try {
            Connect-AgentGovernance -StoreEndpoint $store -StoreTable "$($table)x" -StoreAccessToken ([System.Net.NetworkCredential]::new('', $graphToken).SecurePassword)
            'graph token accepted'
        } catch { "graph token refused: $($_.FullyQualifiedErrorId)" }
        $s = Connect-AgentGovernance -TenantId fabrikam.example -ManagedIdentity -GraphEndpoint $graph -StoreEndpoint $store -StoreTable $table -StoreGraphSignIn -PassThru
        "connected $($s.StoreKind) $($s.StorePath)"
        # A later call keeps the Graph sign-in and lends it to a store given now.
        $s = Connect-AgentGovernance -StoreEndpoint $store -StoreTable "$($table)y" -StoreGraphSignIn -PassThru
        "again $($s.StoreKind) $($s.StorePath)"
        """;

    public TableGraphSignInTests(HostFixture fixture)
        : base(fixture)
    {
    }

    [Fact]
    public void The_store_signs_in_with_the_Graph_sign_in_s_credential_for_the_storage_audience()
    {
        var (certificate, key) = LoopbackCertificate();
        using var azurite = Azurite.WithOAuth(certificate, key);
        var graphToken = Jwt("https://graph.microsoft.com");
        using var graph = new FakeGraph(Fabrikam.Build(), graphToken);
        using var identity = new FakeManagedIdentity(resource => resource.StartsWith("https://storage.azure.com", StringComparison.Ordinal) ? Jwt("https://storage.azure.com") : graphToken);
        var table = "gs" + Guid.NewGuid().ToString("N").Substring(0, 10);

        var script = Temp.Write("signin.ps1", SignInScript);
        using var worker = WorkerProcess.Start(script, new[] { graph.BaseUrl, azurite.Endpoint, table, graphToken }, environment: new Dictionary<string, string>
        {
            ["SSL_CERT_FILE"] = certificate, // trust Azurite's certificate (read by .NET on Linux when the process starts)
            ["IDENTITY_ENDPOINT"] = identity.Endpoint,
            ["IDENTITY_HEADER"] = FakeManagedIdentity.Header,
        });
        Assert.True(worker.WaitForExit(TimeSpan.FromMinutes(3)), worker.Describe());
        Assert.True(worker.ExitCode == 0, worker.Describe());
        Assert.Contains("graph token refused: StoreAccessDenied,AgentGovernance.Commands.ConnectAgentGovernanceCommand", worker.Output);
        Assert.Contains($"connected azureTable {azurite.Endpoint}/{table}", worker.Output);
        Assert.Contains($"again azureTable {azurite.Endpoint}/{table}y", worker.Output);

        // The managed identity was asked for Graph (the sign-in) and for storage (the store), nothing else.
        Assert.Contains(identity.Resources, r => r.StartsWith(graph.BaseUrl.Substring(0, graph.BaseUrl.IndexOf("/v1.0", StringComparison.Ordinal)), StringComparison.Ordinal));
        Assert.Contains("https://storage.azure.com", identity.Resources);
        Assert.All(identity.Headers, h => Assert.Equal(FakeManagedIdentity.Header, h));

        // What the worker wrote under the bearer token is there: the store's id row, in both tables.
        foreach (var name in new[] { table, table + "y" })
        {
            var client = new TableClient(Azurite.ConnectionStringFor(azurite.Endpoint), name, Trusting());
            Assert.NotNull(client.GetEntity<TableEntity>("store", "id").Value.GetString("Id"));
        }
    }

    [Fact]
    public void Without_a_Graph_credential_to_lend_the_store_s_Graph_sign_in_is_an_error_before_any_request()
    {
        // A snapshot session has no Graph sign-in; -AccessToken has one with a token for Graph alone.
        var r = Ps.Run("Connect-AgentGovernance -SnapshotPath $args[0] -StoreEndpoint https://account.table.core.windows.net/ -StoreGraphSignIn", TinyPath);
        AssertError(Assert.Single(r.Errors), "StoreCredentialInvalid", "ConnectAgentGovernanceCommand", System.Management.Automation.ErrorCategory.InvalidArgument);
        Assert.Contains("-StoreGraphSignIn", r.Errors[0].Exception.Message);

        using var graph = new FakeGraph(Fabrikam.Build());
        r = Ps.Run("Connect-AgentGovernance -TenantId fabrikam.example -AccessToken ([System.Net.NetworkCredential]::new('', $args[1]).SecurePassword) -GraphEndpoint $args[0] -StoreEndpoint https://account.table.core.windows.net/ -StoreGraphSignIn",
            graph.BaseUrl, graph.Token);
        AssertError(Assert.Single(r.Errors), "StoreCredentialInvalid", "ConnectAgentGovernanceCommand", System.Management.Automation.ErrorCategory.InvalidArgument);
        Assert.Contains("-AccessToken", r.Errors[0].Exception.Message);

        // Two ways to sign in to the store is one too many.
        r = Ps.Run("Connect-AgentGovernance -StoreEndpoint https://account.table.core.windows.net/ -StoreGraphSignIn -StoreManagedIdentity");
        AssertError(Assert.Single(r.Errors), "StoreCredentialInvalid", "ConnectAgentGovernanceCommand", System.Management.Automation.ErrorCategory.InvalidArgument);
        Ps.Run("Connect-AgentGovernance -SnapshotPath $args[0]", TinyPath);
    }

    /// <summary>A token shaped as Entra's (v1, unsigned): Azurite's basic OAuth checks issuer, audience and lifetime only.</summary>
    private static string Jwt(string audience)
    {
        static string Part(object o) => Convert.ToBase64String(JsonSerializer.SerializeToUtf8Bytes(o)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        return Part(new { typ = "JWT", alg = "RS256" }) + "." +
            Part(new { aud = audience, iss = $"https://sts.windows.net/{Tenant}/", iat = now - 60, nbf = now - 60, exp = now + 3600, tid = Tenant, oid = Guid.NewGuid() }) + "." +
            Part(new { sig = "not checked" });
    }

    /// <summary>A self-signed certificate for 127.0.0.1, as PEM files (Azurite's --cert and --key; the worker's SSL_CERT_FILE).</summary>
    private (string Certificate, string Key) LoopbackCertificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        _trusted = X509CertificateLoader.LoadCertificate(certificate.RawData);
        return (Temp.Write("azurite.pem", certificate.ExportCertificatePem() + "\n"), Temp.Write("azurite-key.pem", key.ExportPkcs8PrivateKeyPem() + "\n"));
    }

    private X509Certificate2? _trusted;

    /// <summary>This process's client trusts Azurite's certificate by its exact bytes (the worker, by SSL_CERT_FILE).</summary>
    private TableClientOptions Trusting() => new()
    {
        Transport = new Azure.Core.Pipeline.HttpClientTransport(new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, cert, _, _) => cert is not null && _trusted is not null && cert.RawData.AsSpan().SequenceEqual(_trusted.RawData),
        }),
    };

    /// <summary>
    /// App Service's managed identity endpoint (IDENTITY_ENDPOINT, IDENTITY_HEADER; GET ?resource=&amp;api-version=2019-08-01),
    /// on loopback: answers a token per resource, records the resources and headers it was sent.
    /// </summary>
    private sealed class FakeManagedIdentity : IDisposable
    {
        public const string Header = "identity-header-secret";

        private readonly HttpListener _listener = new();
        private readonly Func<string, string> _token;
        private readonly Task _loop;

        public FakeManagedIdentity(Func<string, string> token)
        {
            _token = token;
            var port = Azurite.FreePort();
            Endpoint = $"http://127.0.0.1:{port}/msi/token";
            _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
            _listener.Start();
            _loop = Task.Run(Loop);
        }

        public string Endpoint { get; }

        public ConcurrentQueue<string> Resources { get; } = new();

        public ConcurrentQueue<string> Headers { get; } = new();

        private async Task Loop()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await _listener.GetContextAsync();
                }
                catch (Exception e) when (e is HttpListenerException || e is ObjectDisposedException)
                {
                    return;
                }

                var resource = context.Request.QueryString["resource"] ?? string.Empty;
                Resources.Enqueue(resource);
                Headers.Enqueue(context.Request.Headers["X-IDENTITY-HEADER"] ?? string.Empty);
                var body = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string>
                {
                    ["access_token"] = _token(resource),
                    ["expires_on"] = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture),
                    ["resource"] = resource,
                    ["token_type"] = "Bearer",
                    ["client_id"] = Guid.Empty.ToString(),
                });
                context.Response.ContentType = "application/json";
                await context.Response.OutputStream.WriteAsync(body);
                context.Response.Close();
            }
        }

        public void Dispose()
        {
            _listener.Stop();
            _listener.Close();
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
    }
}
