using System.Management.Automation;
using AgentGovernance.Directory;

namespace AgentGovernance.Commands;

/// <summary>Writes an access snapshot to a file (agentgovernance/snapshot@1, stable bytes).</summary>
[Cmdlet(VerbsData.Export, "AccessSnapshot", SupportsShouldProcess = true)]
[OutputType(typeof(System.IO.FileInfo))]
public sealed class ExportAccessSnapshotCommand : GovernanceCmdlet
{
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = string.Empty;

    /// <summary>The snapshot to write; the session's when left out.</summary>
    [Parameter(ValueFromPipeline = true)]
    public AccessSnapshot? Snapshot { get; set; }

    [Parameter]
    public SwitchParameter NoClobber { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        var snapshot = RequireSnapshot(Snapshot);
        var path = OutputPath(Path);
        if (!ShouldProcess(path, $"Write the snapshot of {snapshot.TenantId} ({snapshot.PrincipalCount} principals, {snapshot.ResourceCount} resources)"))
        {
            return;
        }

        try
        {
            SnapshotWriter.WriteFile(snapshot, path, overwrite: !NoClobber);
            if (PassThru)
            {
                WriteObject(new System.IO.FileInfo(path));
            }
        }
        catch (GovernanceException e)
        {
            WriteGovernanceError(e, path);
        }
    }
}
