using System;
using System.Threading;
using System.Threading.Tasks;
using AgentGovernance.Stores;
using Azure.Core;
using Azure.Data.Tables;
using Azure.Identity;

namespace AgentGovernance.Table;

/// <summary>Opens a table store: made by the module's TableStoreLoader in this assembly's own load context.</summary>
internal sealed class TableStoreFactory : ITableStoreFactory
{
    public IGovernanceStore Open(TableStoreOptions options)
    {
        var table = CheckTableName(options.Table);
        var clientOptions = new TableClientOptions();
        clientOptions.Retry.Mode = RetryMode.Exponential;
        clientOptions.Retry.MaxRetries = options.MaxRetries;
        clientOptions.Retry.Delay = TimeSpan.FromMilliseconds(200);
        clientOptions.Retry.MaxDelay = TimeSpan.FromSeconds(8);
        clientOptions.Retry.NetworkTimeout = options.NetworkTimeout;
        clientOptions.Diagnostics.IsLoggingEnabled = false;
        clientOptions.Diagnostics.IsDistributedTracingEnabled = false;
        clientOptions.Diagnostics.ApplicationId = "AgentGovernance";

        var location = options.Describe();
        TableClient client;
        switch (options.Credential)
        {
            case TableCredentialKind.ConnectionString:
                client = new TableClient(Need(options.ConnectionString, "-StoreConnectionString"), table, clientOptions);
                break;
            case TableCredentialKind.Sas:
                client = new TableClient(new Uri(Endpoint(options).GetLeftPart(UriPartial.Path).TrimEnd('/') + "/" + table), new Azure.AzureSasCredential(Need(options.SasToken, "-StoreSasToken").TrimStart('?')), clientOptions);
                break;
            case TableCredentialKind.AccessToken:
                client = new TableClient(Endpoint(options), table, new StaticToken(Need(options.AccessToken, "-StoreAccessToken"), options.AccessTokenExpiresOn), clientOptions);
                break;
            case TableCredentialKind.GraphSignIn:
                client = new TableClient(Endpoint(options), table, new LentCredential(options.TokenSource ?? throw new GovernanceException("StoreCredentialInvalid", GovernanceErrorKind.InvalidArgument,
                    "-StoreGraphSignIn needs a session signed in to Microsoft Graph with a credential (Connect-AgentGovernance -TenantId with -ManagedIdentity, a certificate, " +
                    "a client secret, a device code or the browser; not -AccessToken, which holds a token for Graph alone).", "-StoreGraphSignIn"), location), clientOptions);
                break;
            case TableCredentialKind.ManagedIdentity:
                client = new TableClient(Endpoint(options), table, options.ClientId is null
                    ? new ManagedIdentityCredential(ManagedIdentityId.SystemAssigned)
                    : new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(options.ClientId)), clientOptions);
                break;
            case TableCredentialKind.Certificate:
                client = new TableClient(Endpoint(options), table, new ClientCertificateCredential(Need(options.TenantId, "-StoreTenantId"), Need(options.ClientId, "-StoreClientId"),
                    Need(options.CertificatePath, "-StoreCertificatePath")), clientOptions);
                break;
            default:
                throw new GovernanceException("StoreCredentialInvalid", GovernanceErrorKind.InvalidArgument, $"The table store credential '{options.Credential}' is not supported.");
        }

        TableStoreOptions.CheckLeaseDuration(options.LeaseDuration);

        // A SAS is for one table and cannot create it; every other credential may (Contributor can).
        var store = TableStore.Open(client, location, options.StoreIdForNew, createTable: options.Credential != TableCredentialKind.Sas);
        store.LeaseDuration = options.LeaseDuration;
        store.TransactionsAllowed = options.Credential != TableCredentialKind.Sas;
        return store;
    }

    private static Uri Endpoint(TableStoreOptions o)
    {
        if (o.Endpoint is null || (o.Endpoint.Scheme != Uri.UriSchemeHttps && !(o.Endpoint.Scheme == Uri.UriSchemeHttp && o.Endpoint.IsLoopback)))
        {
            throw new GovernanceException("StoreEndpointInvalid", GovernanceErrorKind.InvalidArgument,
                "The table store needs -StoreEndpoint: an https:// URL (http:// only to a loopback emulator such as Azurite).", o.Endpoint?.ToString());
        }

        return o.Endpoint;
    }

    private static string Need(string? value, string parameter) =>
        string.IsNullOrEmpty(value)
            ? throw new GovernanceException("StoreCredentialInvalid", GovernanceErrorKind.InvalidArgument, $"The table store's sign-in needs {parameter}.", parameter)
            : value!;

    internal static string CheckTableName(string name)
    {
        var ok = name.Length >= 3 && name.Length <= 63 && char.IsAsciiLetter(name[0]);
        foreach (var c in name)
        {
            ok &= char.IsAsciiLetterOrDigit(c);
        }

        if (!ok || name.Equals("tables", StringComparison.OrdinalIgnoreCase))
        {
            throw new GovernanceException("StoreTableInvalid", GovernanceErrorKind.InvalidArgument,
                "A table name is 3 to 63 letters and digits, starting with a letter (and not 'tables').", name);
        }

        return name;
    }

    /// <summary>
    /// The Graph connection's credential (-StoreGraphSignIn), lent across the load contexts as plain types:
    /// the table client asks it for https://storage.azure.com/.default, never for Graph's token.
    /// </summary>
    private sealed class LentCredential : TokenCredential
    {
        private readonly Providers.IEntraTokenSource _source;
        private readonly string _location;

        public LentCredential(Providers.IEntraTokenSource source, string location)
        {
            _source = source;
            _location = location;
        }

        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken)
        {
            try
            {
                var token = _source.GetToken(requestContext.Scopes, cancellationToken);
                return new AccessToken(token.Token, token.ExpiresOn);
            }
            catch (GovernanceException e) when (e.ErrorId == "SignInFailed")
            {
                throw Denied(e);
            }
        }

        public override async ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken)
        {
            try
            {
                var token = await _source.GetTokenAsync(requestContext.Scopes, cancellationToken).ConfigureAwait(false);
                return new AccessToken(token.Token, token.ExpiresOn);
            }
            catch (GovernanceException e) when (e.ErrorId == "SignInFailed")
            {
                throw Denied(e);
            }
        }

        private GovernanceException Denied(GovernanceException e) =>
            new("StoreAccessDenied", GovernanceErrorKind.PermissionDenied, $"Could not sign in to the table store '{_location}' with the Graph sign-in: {TableStore.FirstLine(e.Message)}", _location, e);
    }

    /// <summary>An access token got elsewhere (Get-AzAccessToken -ResourceUrl https://storage.azure.com/).</summary>
    private sealed class StaticToken : TokenCredential
    {
        private readonly AccessToken _token;

        public StaticToken(string token, DateTimeOffset expiresOn) => _token = new AccessToken(token, expiresOn);

        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken) => _token;

        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) => new(_token);
    }
}
