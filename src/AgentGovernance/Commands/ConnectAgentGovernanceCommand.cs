using System.Management.Automation;
using AgentGovernance.Directory;
using AgentGovernance.Policy;

namespace AgentGovernance.Commands;

/// <summary>Chooses the directory (a snapshot) and the policy for this session.</summary>
[Cmdlet(VerbsCommunications.Connect, "AgentGovernance", DefaultParameterSetName = SnapshotObject)]
[OutputType(typeof(GovernanceSession))]
public sealed class ConnectAgentGovernanceCommand : GovernanceCmdlet
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
            var snapshot = Snapshot;
            if (ParameterSetName == SnapshotFile)
            {
                if (FileSystemPath(SnapshotPath) is not { } path)
                {
                    return;
                }

                WriteVerbose($"Reading snapshot {path}");
                snapshot = SnapshotReader.ReadFile(path);
            }

            var previous = GovernanceSession.Current;
            GovernancePolicy? policy = Policy;
            if (policy is null && PolicyPath is not null)
            {
                if (FileSystemPath(PolicyPath) is not { } policyFile)
                {
                    return;
                }

                policy = PolicyReader.ReadFile(policyFile);
            }

            policy ??= previous?.Policy ?? GovernancePolicy.Default;
            snapshot ??= previous?.Snapshot;
            string? storePath = previous?.StorePath;
            if (StorePath is not null)
            {
                if (FileSystemFolder(StorePath) is not { } folder)
                {
                    return;
                }

                // Open it now, so a folder that cannot be made or a file that is not a store fails here, not at the first approval.
                using (Stores.FolderStore.Open(folder))
                {
                }

                storePath = folder;
            }

            var signerPath = LedgerSignerPath is null ? previous?.LedgerSignerPath : FileSystemPath(LedgerSignerPath);
            if (LedgerSignerPath is not null && signerPath is null)
            {
                return;
            }

            var session = new GovernanceSession(snapshot, policy, storePath, signerPath);
            GovernanceSession.Set(session);
            WriteVerbose($"Connected: directory {session.Directory}, policy {session.PolicySource}, store {session.StorePath}.");
            if (PassThru)
            {
                WriteObject(session);
            }
        }
        catch (GovernanceException e)
        {
            ThrowGovernanceError(e);
        }
    }
}
