using System.Diagnostics;
using System.Management.Automation;
using AgentGovernance.Directory;

namespace AgentGovernance.Commands;

/// <summary>Reads an access snapshot (agentgovernance/snapshot@1).</summary>
[Cmdlet(VerbsData.Import, "AccessSnapshot", DefaultParameterSetName = "Path")]
[OutputType(typeof(AccessSnapshot))]
public sealed class ImportAccessSnapshotCommand : GovernanceCmdlet
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
                var watch = Stopwatch.StartNew();
                var snapshot = ReadSnapshot(file);
                WriteVerbose($"Read {file}: {snapshot.PrincipalCount} principals, {snapshot.MembershipCount} memberships, {snapshot.ResourceCount} resources, {snapshot.GrantCount} grants in {watch.ElapsedMilliseconds} ms.");
                WriteObject(snapshot);
            }
            catch (GovernanceException e)
            {
                WriteGovernanceError(e, file);
            }
        }
    }
}
