using System.Collections.Concurrent;
using System.Management.Automation;
using System.Threading;
using System.Threading.Tasks;
using AgentGovernance.Directory;
using AgentGovernance.Providers.Graph;

namespace AgentGovernance.Commands;

/// <summary>
/// Writes an access snapshot to a file (agentgovernance/snapshot@1, stable bytes): one given, the
/// session's, or the live tenant's with its permission inventory (-FromGraph, snapshot@2), refreshed
/// from the stored delta links (-Update).
/// </summary>
[Cmdlet(VerbsData.Export, "AccessSnapshot", SupportsShouldProcess = true, DefaultParameterSetName = SnapshotSet)]
[OutputType(typeof(System.IO.FileInfo))]
public sealed class ExportAccessSnapshotCommand : GovernanceCmdlet
{
    private const string SnapshotSet = "Snapshot";
    private const string GraphSet = "FromGraph";
    private readonly CancellationTokenSource _stop = new();

    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = string.Empty;

    /// <summary>The snapshot to write; the session's when left out.</summary>
    [Parameter(ParameterSetName = SnapshotSet, ValueFromPipeline = true)]
    public AccessSnapshot? Snapshot { get; set; }

    /// <summary>Reads the whole tenant the session is connected to (Connect-AgentGovernance -TenantId).</summary>
    [Parameter(ParameterSetName = GraphSet, Mandatory = true)]
    public SwitchParameter FromGraph { get; set; }

    /// <summary>Continues an interrupted -FromGraph export from its journal.</summary>
    [Parameter(ParameterSetName = GraphSet)]
    public SwitchParameter Resume { get; set; }

    /// <summary>Refreshes the inventory in the snapshot at -Path from its drives' stored delta links: only what changed is read again.</summary>
    [Parameter(ParameterSetName = GraphSet)]
    public SwitchParameter Update { get; set; }

    [Parameter]
    public SwitchParameter NoClobber { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    private string? _written;

    protected override void ProcessRecord()
    {
        if (FromGraph)
        {
            ExportLive();
            return;
        }

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
            WriteSnapshot(snapshot, path, overwrite: !NoClobber);
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

    protected override void StopProcessing() => _stop.Cancel();

    /// <summary>Reads the live tenant on a worker thread and writes its progress records here, on the pipeline thread.</summary>
    private void ExportLive()
    {
        if (LiveDirectory is not { } live)
        {
            ThrowGovernanceError(new GovernanceException("NotConnectedToGraph", GovernanceErrorKind.InvalidOperation,
                "-FromGraph reads the tenant the session is connected to: run Connect-AgentGovernance -TenantId ... first."));
            return;
        }

        if (FileSystemPath(Path) is not { } path)
        {
            return;
        }

        if (System.IO.Path.GetDirectoryName(path) is { } folder && !System.IO.Directory.Exists(folder))
        {
            WriteGovernanceError(new GovernanceException("FolderNotFound", GovernanceErrorKind.ObjectNotFound, $"The folder '{folder}' does not exist.", path));
            return;
        }

        AccessSnapshot? previous = null;
        if (Update)
        {
            if (NoClobber)
            {
                WriteGovernanceError(new GovernanceException("UpdateNoClobber", GovernanceErrorKind.InvalidArgument, "-Update rewrites the snapshot at -Path; leave out -NoClobber.", path));
                return;
            }

            if (!System.IO.File.Exists(path))
            {
                WriteGovernanceError(new GovernanceException("SnapshotNotFound", GovernanceErrorKind.ObjectNotFound, $"-Update refreshes the inventory in '{path}', which does not exist. Run Export-AccessSnapshot -FromGraph first.", path));
                return;
            }

            try
            {
                previous = ReadSnapshot(path);
            }
            catch (GovernanceException e)
            {
                WriteGovernanceError(e, path);
                return;
            }

            if (previous.Inventory.Count == 0 || !string.Equals(previous.TenantId, live.TenantId, System.StringComparison.OrdinalIgnoreCase))
            {
                WriteGovernanceError(new GovernanceException("SnapshotHasNoInventory", GovernanceErrorKind.InvalidData,
                    previous.Inventory.Count == 0
                        ? $"'{path}' holds no permission inventory (it is not a snapshot@2 written by Export-AccessSnapshot -FromGraph); export it without -Update."
                        : $"'{path}' is the inventory of tenant {previous.TenantId}, not of {live.TenantId}, the tenant the session is connected to.", path), path);
                return;
            }
        }

        if (NoClobber && System.IO.File.Exists(path))
        {
            WriteGovernanceError(new GovernanceException("FileExists", GovernanceErrorKind.WriteError, $"The file '{path}' already exists (leave out -NoClobber to replace it).", path));
            return;
        }

        if (!ShouldProcess(path, Update
                ? $"Refresh the permission inventory of tenant {live.TenantId} from its {previous!.Inventory.Count} drives' delta links and rewrite the snapshot"
                : $"Read tenant {live.TenantId} through Microsoft Graph with its permission inventory and write its snapshot"))
        {
            return;
        }

        var journal = path + ".journal";
        var progress = new BlockingCollection<GraphExportProgress>();
        var before = live.Statistics.Requests;
        var work = Task.Run(() =>
        {
            try
            {
                return live.Export(new GraphExportOptions(journal) { Resume = Resume, Inventory = true, Previous = previous }, progress.Add, _stop.Token);
            }
            finally
            {
                progress.CompleteAdding();
            }
        });
        var record = new ProgressRecord(1, "Export-AccessSnapshot -FromGraph", $"Reading tenant {live.TenantId}");
        foreach (var p in progress.GetConsumingEnumerable())
        {
            record.StatusDescription = p.Status;
            record.PercentComplete = p.Percent;
            WriteProgress(record);
        }

        AccessSnapshot snapshot;
        try
        {
            snapshot = work.GetAwaiter().GetResult();
        }
        catch (GovernanceException e)
        {
            WriteGovernanceError(e, path);
            WriteWarning($"The pages read so far are kept in '{journal}': run the same command with -Resume to go on from there.");
            return;
        }
        catch (System.OperationCanceledException)
        {
            WriteWarning($"Stopped. The pages read so far are kept in '{journal}': run the same command with -Resume to go on from there.");
            return;
        }
        finally
        {
            record.RecordType = ProgressRecordType.Completed;
            WriteProgress(record);
        }

        foreach (var note in snapshot.Notes)
        {
            WriteWarning(note);
        }

        WriteVerbose($"Read {snapshot.PrincipalCount} principals, {snapshot.MembershipCount} memberships, {snapshot.ResourceCount} resources, {snapshot.GrantCount} grants and {snapshot.Inventory.Count} drives with {live.Statistics.Requests - before} HTTP requests (this connection so far: {live.Statistics}).");
        try
        {
            WriteSnapshot(snapshot, path, overwrite: !NoClobber);
            System.IO.File.Delete(journal); // written: nothing left to resume
            System.IO.File.Delete(journal + ".drives");
            live.Inventory = snapshot; // this session's live previews look in the inventory just written
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
