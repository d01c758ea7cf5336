using System.Management.Automation;
using AgentGovernance.Policy;

namespace AgentGovernance.Commands;

/// <summary>Reads a policy (.psd1 data file) as data, without running any of it.</summary>
[Cmdlet(VerbsData.Import, "GovernancePolicy")]
[OutputType(typeof(GovernancePolicy))]
public sealed class ImportGovernancePolicyCommand : GovernanceCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("PSPath", "LiteralPath")]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = string.Empty;

    protected override void ProcessRecord()
    {
        if (FileSystemPath(Path) is not { } file)
        {
            return;
        }

        try
        {
            WriteObject(PolicyReader.ReadFile(file));
        }
        catch (GovernanceException e)
        {
            WriteGovernanceError(e, file);
        }
    }
}
