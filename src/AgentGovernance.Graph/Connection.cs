using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Runtime.InteropServices;
using System.Security;
using System.Security.Cryptography.X509Certificates;
using System.Threading;
using System.Threading.Tasks;
using AgentGovernance.Providers;
using AgentGovernance.Providers.Graph;
using Azure.Core;
using Azure.Identity;
using Microsoft.Graph;
using Microsoft.Graph.Authentication;
using Microsoft.Kiota.Abstractions.Authentication;
using Microsoft.Kiota.Http.HttpClientLibrary.Middleware;
using Microsoft.Kiota.Http.HttpClientLibrary.Middleware.Options;

namespace AgentGovernance.Graph;

/// <summary>What the module's loader creates in the Graph load context (see GraphLoader).</summary>
public sealed class GraphDirectoryFactory : IGraphDirectoryFactory
{
    public IGraphDirectory Connect(GraphConnectionOptions options) => GraphDirectory.Open(options);
}

/// <summary>Builds the SDK client for a connection: the sign-in, the middleware, the endpoint.</summary>
internal static class Connection
{
    public static Transport Create(GraphConnectionOptions o, GraphRequestStatistics stats)
    {
        var endpoint = o.Endpoint;
        var hosts = new[] { endpoint.Host };
        IAuthenticationProvider auth;
        if (o.SignIn == GraphSignIn.AccessToken)
        {
            auth = new BaseBearerTokenAuthenticationProvider(new FixedToken(Plain(o.AccessToken, "-AccessToken"), hosts));
        }
        else
        {
            var credential = Credential(o);
            auth = new AzureIdentityAuthenticationProvider(credential, hosts, null, true, Scope(o));
            o.SignedIn?.Invoke(new CredentialTokens(credential));
        }

        // The SDK's own middleware (retry on 429/503/504 honouring Retry-After, redirect, compression), our wire handler last.
        var handlers = GraphClientFactory.CreateDefaultHandlers(new GraphClientOptions());
        for (var i = 0; i < handlers.Count; i++)
        {
            if (handlers[i] is RetryHandler)
            {
                handlers[i] = new RetryHandler(new RetryHandlerOption { MaxRetry = Math.Min(10, Math.Max(0, o.MaxRetries)), Delay = 3 });
            }
        }

        var wire = new WireHandler(stats, o.RequestTimeout, new HttpClientHandler { AllowAutoRedirect = false, AutomaticDecompression = DecompressionMethods.None });
        var http = GraphClientFactory.Create(handlers, "v1.0", GraphClientFactory.Global_Cloud, null, wire, true);
        http.BaseAddress = new Uri(endpoint.ToString().TrimEnd('/') + "/");
        http.Timeout = Timeout.InfiniteTimeSpan; // each attempt is timed by the wire handler
        var client = new GraphServiceClient(http, auth, endpoint.ToString().TrimEnd('/'));
        return new Transport(client, o, stats) { HttpClient = http, Authentication = auth };
    }

    /// <summary>The .default scope of the Graph resource of the endpoint: what was granted to the app (or consented for the user).</summary>
    private static string Scope(GraphConnectionOptions o)
    {
        var resource = o.GraphEndpoint is null ? GraphConnectionOptions.DefaultEndpoint(o.Environment) : o.Endpoint;
        return resource.GetLeftPart(UriPartial.Authority) + "/.default";
    }

    private static TokenCredential Credential(GraphConnectionOptions o)
    {
        var authority = GraphConnectionOptions.Authority(o.Environment);
        switch (o.SignIn)
        {
            case GraphSignIn.ClientSecret:
                return new ClientSecretCredential(o.TenantId, Need(o.ClientId, "-ClientId"), Plain(o.ClientSecret, "-ClientSecret"),
                    new ClientSecretCredentialOptions { AuthorityHost = authority });
            case GraphSignIn.Certificate:
                return new ClientCertificateCredential(o.TenantId, Need(o.ClientId, "-ClientId"), Certificate(o),
                    new ClientCertificateCredentialOptions { AuthorityHost = authority });
            case GraphSignIn.ManagedIdentity:
                return o.ClientId is null
                    ? new ManagedIdentityCredential(ManagedIdentityId.SystemAssigned)
                    : new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(o.ClientId));
            case GraphSignIn.DeviceCode:
                return new DeviceCodeCredential(new DeviceCodeCredentialOptions
                {
                    TenantId = o.TenantId,
                    ClientId = Need(o.ClientId, "-ClientId"),
                    AuthorityHost = authority,
                    DeviceCodeCallback = (info, _) =>
                    {
                        o.ShowMessage?.Invoke(info.Message);
                        return Task.CompletedTask;
                    },
                });
            default:
                return new InteractiveBrowserCredential(new InteractiveBrowserCredentialOptions
                {
                    TenantId = o.TenantId,
                    ClientId = Need(o.ClientId, "-ClientId"),
                    AuthorityHost = authority,
                });
        }
    }

    private static X509Certificate2 Certificate(GraphConnectionOptions o)
    {
        if (o.CertificatePath is { } path)
        {
            try
            {
                var cert = new X509Certificate2(path, o.CertificatePassword, X509KeyStorageFlags.EphemeralKeySet);
                return cert.HasPrivateKey ? cert : throw new GovernanceException("CertificateInvalid", GovernanceErrorKind.InvalidArgument,
                    $"The certificate in '{path}' has no private key: give the .pfx (with -CertificatePassword if it has one), not the .cer.", path);
            }
            catch (System.Security.Cryptography.CryptographicException e)
            {
                throw new GovernanceException("CertificateInvalid", GovernanceErrorKind.InvalidArgument, $"Cannot read the certificate '{path}': {e.Message}", path, e);
            }
        }

        var thumbprint = Need(o.CertificateThumbprint, "-CertificateThumbprint").Replace(" ", string.Empty);
        foreach (var location in new[] { StoreLocation.CurrentUser, StoreLocation.LocalMachine })
        {
            using var store = new X509Store(StoreName.My, location);
            try
            {
                store.Open(OpenFlags.ReadOnly | OpenFlags.OpenExistingOnly);
            }
            catch (System.Security.Cryptography.CryptographicException)
            {
                continue; // that store does not exist on this machine
            }

            var found = store.Certificates.Find(X509FindType.FindByThumbprint, thumbprint, validOnly: false);
            foreach (var cert in found)
            {
                if (cert.HasPrivateKey)
                {
                    return cert;
                }
            }
        }

        throw new GovernanceException("CertificateNotFound", GovernanceErrorKind.ObjectNotFound,
            $"No certificate with thumbprint {thumbprint} and a private key is in CurrentUser\\My or LocalMachine\\My. Import it there, or give -CertificatePath.", thumbprint);
    }

    private static string Need(string? value, string parameter) =>
        string.IsNullOrEmpty(value) ? throw new GovernanceException("SignInIncomplete", GovernanceErrorKind.InvalidArgument, $"This sign-in needs {parameter}.") : value!;

    internal static string Plain(SecureString? secret, string parameter)
    {
        if (secret is null || secret.Length == 0)
        {
            throw new GovernanceException("SignInIncomplete", GovernanceErrorKind.InvalidArgument, $"{parameter} is empty.");
        }

        var ptr = Marshal.SecureStringToGlobalAllocUnicode(secret);
        try
        {
            return Marshal.PtrToStringUni(ptr)!;
        }
        finally
        {
            Marshal.ZeroFreeGlobalAllocUnicode(ptr);
        }
    }

    /// <summary>
    /// The sign-in's credential lent to the table part (-StoreGraphSignIn): tokens for the scopes it asks for
    /// (https://storage.azure.com/.default), through plain types, as the table part has an Azure.Core of its own.
    /// </summary>
    private sealed class CredentialTokens : IEntraTokenSource
    {
        private readonly TokenCredential _credential;

        public CredentialTokens(TokenCredential credential) => _credential = credential;

        public EntraToken GetToken(string[] scopes, CancellationToken cancel)
        {
            try
            {
                var token = _credential.GetToken(new TokenRequestContext(scopes), cancel);
                return new EntraToken(token.Token, token.ExpiresOn);
            }
            catch (Exception e) when (e is AuthenticationFailedException || e is CredentialUnavailableException)
            {
                throw Failed(scopes, e);
            }
        }

        public async Task<EntraToken> GetTokenAsync(string[] scopes, CancellationToken cancel)
        {
            try
            {
                var token = await _credential.GetTokenAsync(new TokenRequestContext(scopes), cancel).ConfigureAwait(false);
                return new EntraToken(token.Token, token.ExpiresOn);
            }
            catch (Exception e) when (e is AuthenticationFailedException || e is CredentialUnavailableException)
            {
                throw Failed(scopes, e);
            }
        }

        private static GovernanceException Failed(string[] scopes, Exception e) =>
            new("SignInFailed", GovernanceErrorKind.PermissionDenied, $"The Graph sign-in's credential got no token for {string.Join(" ", scopes)}: {e.Message}", string.Join(" ", scopes), e);
    }

    /// <summary>A token the caller already holds (-AccessToken), sent only to the connection's Graph host.</summary>
    private sealed class FixedToken : IAccessTokenProvider
    {
        private readonly string _token;

        public FixedToken(string token, IEnumerable<string> hosts)
        {
            _token = token;
            AllowedHostsValidator = new AllowedHostsValidator(hosts);
        }

        public AllowedHostsValidator AllowedHostsValidator { get; }

        public Task<string> GetAuthorizationTokenAsync(Uri uri, Dictionary<string, object>? additionalAuthenticationContext = null, CancellationToken cancellationToken = default) =>
            Task.FromResult(AllowedHostsValidator.IsUrlHostValid(uri) ? _token : string.Empty);
    }
}
