using System;
using System.Management.Automation;
using System.Security;
using AgentGovernance.Directory;
using AgentGovernance.Providers.Graph;

namespace AgentGovernance.Commands;

/// <summary>The Microsoft Graph parameter sets of Connect-AgentGovernance: the live tenant as the directory.</summary>
public sealed partial class ConnectAgentGovernanceCommand
{
    private const string AccessTokenSet = "AccessToken";
    private const string ClientSecretSet = "ClientSecret";
    private const string CertificateThumbprintSet = "CertificateThumbprint";
    private const string CertificateFileSet = "CertificatePath";
    private const string ManagedIdentitySet = "ManagedIdentity";
    private const string DeviceCodeSet = "DeviceCode";
    private const string InteractiveSet = "Interactive";

    /// <summary>The tenant: its id (a GUID) or a verified domain (contoso.onmicrosoft.com).</summary>
    [Parameter(ParameterSetName = AccessTokenSet, Mandatory = true)]
    [Parameter(ParameterSetName = ClientSecretSet, Mandatory = true)]
    [Parameter(ParameterSetName = CertificateThumbprintSet, Mandatory = true)]
    [Parameter(ParameterSetName = CertificateFileSet, Mandatory = true)]
    [Parameter(ParameterSetName = ManagedIdentitySet, Mandatory = true)]
    [Parameter(ParameterSetName = DeviceCodeSet, Mandatory = true)]
    [Parameter(ParameterSetName = InteractiveSet, Mandatory = true)]
    [ValidateNotNullOrEmpty]
    public string TenantId { get; set; } = string.Empty;

    /// <summary>The application (client) id of the app registration; for a managed identity, a user-assigned identity's client id.</summary>
    [Parameter(ParameterSetName = ClientSecretSet, Mandatory = true)]
    [Parameter(ParameterSetName = CertificateThumbprintSet, Mandatory = true)]
    [Parameter(ParameterSetName = CertificateFileSet, Mandatory = true)]
    [Parameter(ParameterSetName = ManagedIdentitySet)]
    [Parameter(ParameterSetName = DeviceCodeSet, Mandatory = true)]
    [Parameter(ParameterSetName = InteractiveSet, Mandatory = true)]
    [ValidateNotNullOrEmpty]
    public string? ClientId { get; set; }

    [Parameter(ParameterSetName = AccessTokenSet, Mandatory = true)]
    public SecureString? AccessToken { get; set; }

    [Parameter(ParameterSetName = ClientSecretSet, Mandatory = true)]
    public SecureString? ClientSecret { get; set; }

    [Parameter(ParameterSetName = CertificateThumbprintSet, Mandatory = true)]
    [ValidateNotNullOrEmpty]
    public string? CertificateThumbprint { get; set; }

    [Parameter(ParameterSetName = CertificateFileSet, Mandatory = true)]
    [ValidateNotNullOrEmpty]
    public string? CertificatePath { get; set; }

    [Parameter(ParameterSetName = CertificateFileSet)]
    public SecureString? CertificatePassword { get; set; }

    [Parameter(ParameterSetName = ManagedIdentitySet, Mandatory = true)]
    public SwitchParameter ManagedIdentity { get; set; }

    [Parameter(ParameterSetName = DeviceCodeSet, Mandatory = true)]
    public SwitchParameter UseDeviceCode { get; set; }

    [Parameter(ParameterSetName = AccessTokenSet)]
    [Parameter(ParameterSetName = ClientSecretSet)]
    [Parameter(ParameterSetName = CertificateThumbprintSet)]
    [Parameter(ParameterSetName = CertificateFileSet)]
    [Parameter(ParameterSetName = ManagedIdentitySet)]
    [Parameter(ParameterSetName = DeviceCodeSet)]
    [Parameter(ParameterSetName = InteractiveSet)]
    public GraphEnvironment Environment { get; set; } = GraphEnvironment.Global;

    /// <summary>Any Graph base URL (with the version): a proxy, an air-gapped lab, a loopback test server.</summary>
    [Parameter(ParameterSetName = AccessTokenSet)]
    [Parameter(ParameterSetName = ClientSecretSet)]
    [Parameter(ParameterSetName = CertificateThumbprintSet)]
    [Parameter(ParameterSetName = CertificateFileSet)]
    [Parameter(ParameterSetName = ManagedIdentitySet)]
    [Parameter(ParameterSetName = DeviceCodeSet)]
    [Parameter(ParameterSetName = InteractiveSet)]
    [ValidateNotNull]
    public Uri? GraphEndpoint { get; set; }

    /// <summary>How long one Graph request may take.</summary>
    [Parameter(ParameterSetName = AccessTokenSet)]
    [Parameter(ParameterSetName = ClientSecretSet)]
    [Parameter(ParameterSetName = CertificateThumbprintSet)]
    [Parameter(ParameterSetName = CertificateFileSet)]
    [Parameter(ParameterSetName = ManagedIdentitySet)]
    [Parameter(ParameterSetName = DeviceCodeSet)]
    [Parameter(ParameterSetName = InteractiveSet)]
    [ValidateRange(1, 3600)]
    public int TimeoutSec { get; set; } = 100;

    /// <summary>A permission inventory of the tenant (snapshot@2 from Export-AccessSnapshot -FromGraph) that live previews look in.</summary>
    [Parameter(ParameterSetName = AccessTokenSet)]
    [Parameter(ParameterSetName = ClientSecretSet)]
    [Parameter(ParameterSetName = CertificateThumbprintSet)]
    [Parameter(ParameterSetName = CertificateFileSet)]
    [Parameter(ParameterSetName = ManagedIdentitySet)]
    [Parameter(ParameterSetName = DeviceCodeSet)]
    [Parameter(ParameterSetName = InteractiveSet)]
    [ValidateNotNullOrEmpty]
    public string? InventoryPath { get; set; }

    private bool IsGraphSet => ParameterSetName != SnapshotObject && ParameterSetName != SnapshotFile;

    private void ConnectGraph()
    {
        var previous = GovernanceSession.Current;
        if (ResolvePolicy(previous) is not { } policy)
        {
            return;
        }

        // The store is checked before signing in, so that a bad store costs no sign-in; but a store that signs in
        // with this very sign-in (-StoreGraphSignIn) can only be opened after it.
        string? storePath = null, signerPath = null;
        Stores.TableStoreOptions? tableStore = null;
        if (!StoreGraphSignIn && !ResolveStore(previous, null, out storePath, out signerPath, out tableStore))
        {
            return;
        }

        if (GraphEndpoint is { } endpoint && (!endpoint.IsAbsoluteUri || (endpoint.Scheme != Uri.UriSchemeHttps && !endpoint.IsLoopback)))
        {
            ThrowTerminatingError(new ErrorRecord(new PSArgumentException($"-GraphEndpoint '{endpoint}' must be an absolute https URL (plain http only for a loopback address such as http://127.0.0.1:5000/v1.0)."),
                "GraphEndpointInvalid", ErrorCategory.InvalidArgument, endpoint));
        }

        var options = new GraphConnectionOptions(TenantId, SignInKind())
        {
            Environment = Environment,
            GraphEndpoint = GraphEndpoint,
            ClientId = ClientId,
            AccessToken = AccessToken,
            ClientSecret = ClientSecret,
            CertificateThumbprint = CertificateThumbprint,
            CertificatePath = CertificatePath is null ? null : FileSystemPath(CertificatePath),
            CertificatePassword = CertificatePassword,
            RequestTimeout = TimeSpan.FromSeconds(TimeoutSec),
            ShowMessage = message => Host.UI.WriteWarningLine(message),
        };
        if (CertificatePath is not null && options.CertificatePath is null)
        {
            return;
        }

        AccessSnapshot? inventory = null;
        if (InventoryPath is not null)
        {
            if (FileSystemPath(InventoryPath) is not { } inventoryFile)
            {
                return;
            }

            inventory = ReadSnapshot(inventoryFile);
            if (inventory.Inventory.Count == 0)
            {
                ThrowGovernanceError(new GovernanceException("SnapshotHasNoInventory", GovernanceErrorKind.InvalidData,
                    $"'{inventoryFile}' holds no permission inventory (it is not a snapshot@2 written by Export-AccessSnapshot -FromGraph).", inventoryFile));
                return;
            }
        }

        WriteVerbose($"Signing in to {options.Endpoint} ({options.SignIn}) for tenant {TenantId}");
        var provider = GraphLoader.Connect(options, MyInvocation.MyCommand.Module?.ModuleBase);
        WriteVerbose($"Tenant {provider.TenantId} ({provider.TenantDisplayName ?? "no display name"}): {provider.Statistics}.");
        try
        {
            if (StoreGraphSignIn && !ResolveStore(previous, GraphLoader.SignInOf(provider), out storePath, out signerPath, out tableStore))
            {
                provider.Dispose();
                return;
            }
        }
        catch
        {
            provider.Dispose();
            throw;
        }
        if (inventory is not null)
        {
            if (!string.Equals(inventory.TenantId, provider.TenantId, StringComparison.OrdinalIgnoreCase) && !string.Equals(inventory.TenantId, TenantId, StringComparison.OrdinalIgnoreCase))
            {
                provider.Dispose();
                ThrowGovernanceError(new GovernanceException("InventoryOfAnotherTenant", GovernanceErrorKind.InvalidArgument,
                    $"-InventoryPath is the inventory of tenant {inventory.TenantId}, not of {provider.TenantId}.", InventoryPath));
                return;
            }

            provider.Inventory = inventory;
            WriteVerbose($"Live previews look in the permission inventory of {inventory.CapturedAt:yyyy-MM-dd HH:mm} UTC ({inventory.Inventory.Count} drives, {inventory.ResourceCount} resources).");
        }

        Commit(new GovernanceSession(null, policy, storePath, signerPath, provider, tableStore), previous);
    }

    private GraphSignIn SignInKind() => ParameterSetName switch
    {
        AccessTokenSet => GraphSignIn.AccessToken,
        ClientSecretSet => GraphSignIn.ClientSecret,
        CertificateThumbprintSet or CertificateFileSet => GraphSignIn.Certificate,
        ManagedIdentitySet => GraphSignIn.ManagedIdentity,
        DeviceCodeSet => GraphSignIn.DeviceCode,
        _ => GraphSignIn.InteractiveBrowser,
    };
}
