using System.Management.Automation;
using AgentGovernance.Directory;
using AgentGovernance.Policy;

namespace AgentGovernance.Commands;

/// <summary>Chooses the directory (a snapshot, or a live tenant through Microsoft Graph) and the policy for this session.</summary>
[Cmdlet(VerbsCommunications.Connect, "AgentGovernance", DefaultParameterSetName = SnapshotObject)]
[OutputType(typeof(GovernanceSession))]
public sealed partial class ConnectAgentGovernanceCommand : GovernanceCmdlet
{
    private const string SnapshotObject = "Snapshot";
    private const string SnapshotFile = "SnapshotPath";

    [Parameter(ParameterSetName = SnapshotObject, Position = 0, ValueFromPipeline = true)]
    public AccessSnapshot? Snapshot { get; set; }

    [Parameter(ParameterSetName = SnapshotFile, Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string SnapshotPath { get; set; } = string.Empty;

    [Parameter]
    public GovernancePolicy? Policy { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? PolicyPath { get; set; }

    /// <summary>The folder for approval requests, decisions and the ledger (created if missing); a network share works.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? StorePath { get; set; }

    /// <summary>The key that signs ledger checkpoints (created on first use); keep it apart from the store.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? LedgerSignerPath { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void EndProcessing()
    {
        if (Policy is not null && PolicyPath is not null)
        {
            ThrowTerminatingError(new ErrorRecord(new PSArgumentException("Give -Policy or -PolicyPath, not both."), "PolicyAmbiguous", ErrorCategory.InvalidArgument, null));
        }

        try
        {
            if (IsGraphSet)
            {
                ConnectGraph();
                return;
            }

            var snapshot = Snapshot;
            if (ParameterSetName == SnapshotFile)
            {
                if (FileSystemPath(SnapshotPath) is not { } path)
                {
                    return;
                }

                WriteVerbose($"Reading snapshot {path}");
                snapshot = ReadSnapshot(path);
            }

            var previous = GovernanceSession.Current;
            if (ResolvePolicy(previous) is not { } policy)
            {
                return;
            }

            // A new snapshot replaces a live connection; a policy-only call keeps whichever directory the session had.
            var provider = snapshot is null ? previous?.Provider : null;
            snapshot ??= provider is null ? previous?.Snapshot : null;
            if (!ResolveStore(previous, Providers.Graph.GraphLoader.SignInOf(previous?.Provider), out var storePath, out var signerPath, out var tableStore))
            {
                return;
            }

            Commit(new GovernanceSession(snapshot, policy, storePath, signerPath, provider, tableStore), previous);
        }
        catch (GovernanceException e)
        {
            ThrowGovernanceError(e);
        }
    }

    /// <summary>Makes <paramref name="session"/> the runspace's, closing a live connection the new session no longer uses.</summary>
    private void Commit(GovernanceSession session, GovernanceSession? previous)
    {
        GovernanceSession.Set(session);
        if (previous?.Provider is { } old && !ReferenceEquals(old, session.Provider))
        {
            old.Dispose();
        }

        WriteVerbose($"Connected: directory {session.Directory}, policy {session.PolicySource}, store {session.StorePath}.");
        if (PassThru)
        {
            WriteObject(session);
        }
    }

    /// <summary>The store and ledger signer given (the store opened now, so a folder that cannot be one fails here), else the session's; false after an error record.</summary>
    /// <param name="graphSignIn">The credential of the Graph connection the session will have, for -StoreGraphSignIn.</param>
    private bool ResolveStore(GovernanceSession? previous, Providers.IEntraTokenSource? graphSignIn, out string? storePath, out string? signerPath, out Stores.TableStoreOptions? tableStore)
    {
        storePath = previous?.StorePath;
        signerPath = previous?.LedgerSignerPath;
        tableStore = previous?.TableStore;
        if (TableStoreOptionsGiven(graphSignIn, out var table))
        {
            if (StorePath is not null)
            {
                throw new GovernanceException("StoreAmbiguous", GovernanceErrorKind.InvalidArgument,
                    "Give -StorePath (a folder store) or the table store's -StoreEndpoint / -StoreConnectionString, not both.");
            }

            // Opened now, so a table that cannot be reached or a credential that is refused fails here.
            using (Stores.TableStoreLoader.Open(table!, MyInvocation.MyCommand.Module?.ModuleBase))
            {
            }

            tableStore = table;
            storePath = null;
        }
        else if (StorePath is not null)
        {
            tableStore = null;
            if (FileSystemFolder(StorePath) is not { } folder)
            {
                return false;
            }

            using (Stores.FolderStore.Open(folder))
            {
            }

            storePath = folder;
        }

        if (LedgerSignerPath is not null)
        {
            signerPath = FileSystemPath(LedgerSignerPath);
            if (signerPath is null)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The policy given with -Policy or -PolicyPath, else the session's, else the defaults; null when -PolicyPath was refused.</summary>
    private GovernancePolicy? ResolvePolicy(GovernanceSession? previous)
    {
        if (Policy is not null)
        {
            return Policy;
        }

        if (PolicyPath is not null)
        {
            return FileSystemPath(PolicyPath) is { } policyFile ? PolicyReader.ReadFile(policyFile) : null;
        }

        return previous?.Policy ?? GovernancePolicy.Default;
    }
}
