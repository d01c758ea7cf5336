using System.IO;
using System.Management.Automation;
using AgentGovernance.Changes;

namespace AgentGovernance.Commands;

/// <summary>Writes change documents (agentgovernance/change@1, stable bytes).</summary>
[Cmdlet(VerbsData.Export, "AccessChange", SupportsShouldProcess = true)]
[OutputType(typeof(FileInfo))]
public sealed class ExportAccessChangeCommand : GovernanceCmdlet
{
    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    public AccessChange Change { get; set; } = null!;

    /// <summary>A file, or an existing folder where each change is written as &lt;first 16 hex digits of its id&gt;.json.</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = string.Empty;

    [Parameter]
    public SwitchParameter NoClobber { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    private readonly System.Collections.Generic.HashSet<string> _written = new(System.StringComparer.OrdinalIgnoreCase);

    protected override void ProcessRecord()
    {
        var target = SessionState.Path.GetUnresolvedProviderPathFromPSPath(Path, out var provider, out _);
        string path;
        if (provider.Name == "FileSystem" && System.IO.Directory.Exists(target))
        {
            path = System.IO.Path.Combine(target, Change.Id.Substring("sha256:".Length, 16) + ".json");
        }
        else if (FileSystemPath(Path) is { } file)
        {
            path = file;
        }
        else
        {
            return;
        }

        if (_written.Contains(path))
        {
            WriteGovernanceError(new GovernanceException("SeveralChangesOneFile", GovernanceErrorKind.InvalidArgument,
                $"Change {Change.Id} was not written: an earlier change of this pipeline went to '{path}' and a change file holds one change. Give a folder as -Path to write each change to its own file."), Change);
            return;
        }

        if (!ShouldProcess(path, $"Write change {Change.Id}"))
        {
            return;
        }

        try
        {
            ChangeWriter.WriteFile(Change, path, overwrite: !NoClobber);
            _written.Add(path);
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
