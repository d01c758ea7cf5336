using System;
using System.Management.Automation;
using System.Runtime.InteropServices;
using System.Security;
using AgentGovernance.Stores;

namespace AgentGovernance.Commands;

/// <summary>The table store parameters of Connect-AgentGovernance: a store on Azure Table Storage, shared by several administrators and runbook workers.</summary>
public sealed partial class ConnectAgentGovernanceCommand
{
    /// <summary>The table service endpoint: https://&lt;account&gt;.table.core.windows.net/ (or Azurite's http://127.0.0.1:&lt;port&gt;/devstoreaccount1).</summary>
    [Parameter]
    [ValidateNotNull]
    public Uri? StoreEndpoint { get; set; }

    /// <summary>A storage connection string (account key or SAS inside; Azurite's development connection string too).</summary>
    [Parameter]
    [ValidateNotNull]
    public SecureString? StoreConnectionString { get; set; }

    /// <summary>The table that holds the store; AgentGovernance unless given.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? StoreTable { get; set; }

    /// <summary>A SAS token for the table (Add and Read are enough for every writer).</summary>
    [Parameter]
    [ValidateNotNull]
    public SecureString? StoreSasToken { get; set; }

    /// <summary>An Entra access token for https://storage.azure.com/ got elsewhere (Get-AzAccessToken -ResourceUrl https://storage.azure.com/).</summary>
    [Parameter]
    [ValidateNotNull]
    public SecureString? StoreAccessToken { get; set; }

    /// <summary>Sign in to the table with the machine's managed identity (-StoreClientId for a user-assigned one).</summary>
    [Parameter]
    public SwitchParameter StoreManagedIdentity { get; set; }

    /// <summary>Sign in to the table as an application with a certificate file (PFX or PEM): with -StoreTenantId and -StoreClientId.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? StoreCertificatePath { get; set; }

    /// <summary>
    /// Sign in to the table with the credential the session signs in to Microsoft Graph with (this call's -TenantId
    /// sign-in, else the session's): the same identity, asked for a token for https://storage.azure.com/.
    /// </summary>
    [Parameter]
    public SwitchParameter StoreGraphSignIn { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? StoreTenantId { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? StoreClientId { get; set; }

    /// <summary>
    /// How long a request lock's lease on the table store lasts without renewal (30 s unless given; 3 s to 10 min).
    /// Its holder renews it every third of this; a holder that dies blocks the request this long, and no longer.
    /// </summary>
    [Parameter]
    [DurationTransformation]
    public TimeSpan? StoreLeaseDuration { get; set; }

    /// <summary>The table store options the parameters give, or false when none of them was given.</summary>
    /// <param name="graphSignIn">The credential of the session's Graph connection (for -StoreGraphSignIn), if it has one.</param>
    private bool TableStoreOptionsGiven(Providers.IEntraTokenSource? graphSignIn, out TableStoreOptions? options)
    {
        options = null;
        var ways = (StoreConnectionString is null ? 0 : 1) + (StoreSasToken is null ? 0 : 1) + (StoreAccessToken is null ? 0 : 1)
            + (StoreManagedIdentity ? 1 : 0) + (StoreCertificatePath is null ? 0 : 1) + (StoreGraphSignIn ? 1 : 0);
        if (ways == 0 && StoreEndpoint is null && StoreTable is null && StoreLeaseDuration is null)
        {
            return false;
        }

        // Checked before anything is signed in to, so that a bad value costs no round-trip.
        if (StoreLeaseDuration is { } lease)
        {
            TableStoreOptions.CheckLeaseDuration(lease);
        }

        if (ways != 1)
        {
            throw new GovernanceException("StoreCredentialInvalid", GovernanceErrorKind.InvalidArgument,
                "The table store needs exactly one way to sign in: -StoreConnectionString, -StoreSasToken, -StoreAccessToken, -StoreManagedIdentity, -StoreCertificatePath or -StoreGraphSignIn.");
        }

        options = new TableStoreOptions { Endpoint = StoreEndpoint, Table = StoreTable ?? "AgentGovernance", TenantId = StoreTenantId, ClientId = StoreClientId };
        if (StoreLeaseDuration is { } duration)
        {
            options.LeaseDuration = duration;
        }

        if (StoreConnectionString is not null)
        {
            options.Credential = TableCredentialKind.ConnectionString;
            options.ConnectionString = Plain(StoreConnectionString);
        }
        else if (StoreSasToken is not null)
        {
            options.Credential = TableCredentialKind.Sas;
            options.SasToken = Plain(StoreSasToken);
        }
        else if (StoreAccessToken is not null)
        {
            options.Credential = TableCredentialKind.AccessToken;
            options.AccessToken = Plain(StoreAccessToken);
        }
        else if (StoreManagedIdentity)
        {
            options.Credential = TableCredentialKind.ManagedIdentity;
        }
        else if (StoreGraphSignIn)
        {
            options.Credential = TableCredentialKind.GraphSignIn;
            options.TokenSource = graphSignIn ?? throw new GovernanceException("StoreCredentialInvalid", GovernanceErrorKind.InvalidArgument,
                "-StoreGraphSignIn signs in to the table with the session's Microsoft Graph sign-in, and this session has none that can: sign in with -TenantId and " +
                "-ManagedIdentity, a certificate, a client secret, a device code or the browser (-AccessToken holds a token for Graph alone; give the store -StoreAccessToken then).", "-StoreGraphSignIn");
        }
        else
        {
            options.Credential = TableCredentialKind.Certificate;
            options.CertificatePath = FileSystemPath(StoreCertificatePath!)
                ?? throw new GovernanceException("StoreCredentialInvalid", GovernanceErrorKind.InvalidArgument, "-StoreCertificatePath is not a file system path.", StoreCertificatePath);
        }

        if (options.Credential != TableCredentialKind.ConnectionString && options.Endpoint is null)
        {
            throw new GovernanceException("StoreEndpointInvalid", GovernanceErrorKind.InvalidArgument, "The table store needs -StoreEndpoint with that sign-in.");
        }

        return true;
    }

    private static string Plain(SecureString secret)
    {
        var ptr = Marshal.SecureStringToGlobalAllocUnicode(secret);
        try
        {
            return Marshal.PtrToStringUni(ptr) ?? string.Empty;
        }
        finally
        {
            Marshal.ZeroFreeGlobalAllocUnicode(ptr);
        }
    }
}
