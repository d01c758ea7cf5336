using System.Management.Automation;
using AgentGovernance.Changes;

namespace AgentGovernance.Commands;

/// <summary>Reads change documents (agentgovernance/change@1).</summary>
[Cmdlet(VerbsData.Import, "AccessChange", DefaultParameterSetName = "Path")]
[OutputType(typeof(AccessChange))]
public sealed class ImportAccessChangeCommand : GovernanceCmdlet
{
    [Parameter(ParameterSetName = "Path", Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [SupportsWildcards]
    public string[] Path { get; set; } = System.Array.Empty<string>();

    [Parameter(ParameterSetName = "LiteralPath", Mandatory = true, ValueFromPipelineByPropertyName = true)]
    [Alias("PSPath", "LP")]
    [ValidateNotNullOrEmpty]
    public string[] LiteralPath { get; set; } = System.Array.Empty<string>();

    protected override void ProcessRecord()
    {
        var literal = ParameterSetName == "LiteralPath";
        foreach (var file in ResolveFiles(literal ? LiteralPath : Path, literal))
        {
            try
            {
                var change = ChangeReader.ReadFile(file);
                WriteVerbose($"Read {file}: {change.Operations.Count} operation(s), id {change.Id}.");
                WriteObject(change);
            }
            catch (GovernanceException e)
            {
                WriteGovernanceError(e, file);
            }
        }
    }
}
