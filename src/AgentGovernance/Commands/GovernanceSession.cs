using System.Management.Automation.Runspaces;
using System.Runtime.CompilerServices;
using AgentGovernance.Directory;
using AgentGovernance.Ledger;
using AgentGovernance.Policy;
using AgentGovernance.Providers;
using AgentGovernance.Stores;

namespace AgentGovernance.Commands;

/// <summary>What <c>Connect-AgentGovernance</c> chose for this PowerShell session (runspace).</summary>
public sealed class GovernanceSession
{
    private static readonly ConditionalWeakTable<Runspace, GovernanceSession> Sessions = new();

    internal GovernanceSession(AccessSnapshot? snapshot, GovernancePolicy policy, string? storePath = null, string? ledgerSignerPath = null, IDirectoryProvider? provider = null,
        TableStoreOptions? tableStore = null)
    {
        Snapshot = snapshot;
        Policy = policy;
        TableStore = tableStore;
        StorePath = tableStore?.Describe() ?? storePath ?? FolderStore.DefaultPath;
        LedgerSignerPath = ledgerSignerPath ?? LedgerSigner.DefaultPath;
        Provider = provider;
    }

    internal GovernanceSession WithSnapshot(AccessSnapshot snapshot) => new(snapshot, Policy, StorePath, LedgerSignerPath, Provider, TableStore);

    /// <summary>The Azure Table Storage store when connected with -StoreEndpoint or -StoreConnectionString; null for a folder store.</summary>
    internal TableStoreOptions? TableStore { get; }

    /// <summary><c>folder</c> or <c>azureTable</c>.</summary>
    public string StoreKind => TableStore is null ? "folder" : "azureTable";

    /// <summary>Opens the session's store: the table's (loaded in the module's own load context) or the folder's.</summary>
    internal IGovernanceStore OpenStore() => TableStore is { } table ? TableStoreLoader.Open(table) : FolderStore.Open(StorePath);

    /// <summary>What a PowerShell session uses before Connect-AgentGovernance: no snapshot, the built-in policy, the default store.</summary>
    internal static GovernanceSession Defaults => new(null, GovernancePolicy.Default);

    public AccessSnapshot? Snapshot { get; }

    /// <summary>The live directory (Microsoft Graph) when connected with -TenantId; previews then read current state from it.</summary>
    public IDirectoryProvider? Provider { get; }

    public GovernancePolicy Policy { get; }

    public string? TenantId => Provider?.TenantId ?? Snapshot?.TenantId;

    /// <summary>Where the directory comes from: the Graph endpoint and tenant, the snapshot file, or "(in memory)".</summary>
    public string Directory => Provider is not null ? Provider.Location : Snapshot is null ? "(none)" : Snapshot.Source ?? "(in memory)";

    /// <summary>The policy file, or "(built-in defaults)".</summary>
    public string PolicySource => Policy.Source ?? "(built-in defaults)";

    /// <summary>The folder that holds approval requests, decisions and the ledger (for a table store: its endpoint and table).</summary>
    public string StorePath { get; }

    /// <summary>The key that signs ledger checkpoints (created there on first use, readable by its owner only).</summary>
    public string LedgerSignerPath { get; }

    internal static GovernanceSession? Current =>
        Runspace.DefaultRunspace is { } rs && Sessions.TryGetValue(rs, out var s) ? s : null;

    internal static void Set(GovernanceSession session)
    {
        var rs = Runspace.DefaultRunspace;
        if (rs is null)
        {
            return;
        }

        Sessions.Remove(rs);
        Sessions.Add(rs, session);
    }
}
