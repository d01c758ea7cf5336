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

    private string? _written;

    protected override void ProcessRecord()
    {
        var snapshot = RequireSnapshot(Snapshot);
        if (FileSystemPath(Path) is not { } path)
        {
            return;
        }

        if (_written is not null && string.Equals(_written, path, System.StringComparison.OrdinalIgnoreCase))
        {
            WriteGovernanceError(new GovernanceException("SeveralSnapshotsOneFile", GovernanceErrorKind.InvalidArgument,
                $"The snapshot of {snapshot.TenantId} was not written: an earlier snapshot of this pipeline went to '{path}', and a snapshot file holds one snapshot."), snapshot);
            return;
        }

        if (!ShouldProcess(path, $"Write the snapshot of {snapshot.TenantId} ({snapshot.PrincipalCount} principals, {snapshot.ResourceCount} resources)"))
        {
            return;
        }

        try
        {
            SnapshotWriter.WriteFile(snapshot, path, overwrite: !NoClobber);
            _written = path;
            if (PassThru)
            {
                WriteFileItem(path);
            }
        }
        catch (GovernanceException e)
        {
            WriteGovernanceError(e, path);
        }
    }
}
