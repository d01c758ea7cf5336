using System.Management.Automation;
using AgentGovernance.Directory;
using AgentGovernance.Exposure;

namespace AgentGovernance.Commands;

/// <summary>Who can reach a resource, or what a principal can reach, each with the path that gives it.</summary>
[Cmdlet(VerbsCommon.Get, "EffectiveAccess", DefaultParameterSetName = ResourceSet)]
[OutputType(typeof(EffectiveAccessEntry))]
public sealed class GetEffectiveAccessCommand : GovernanceCmdlet
{
    private const string ResourceSet = "Resource";
    private const string PrincipalSet = "Principal";

    [Parameter(ParameterSetName = ResourceSet, Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Parameter(ParameterSetName = PrincipalSet, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(ResourceIdCompleter))]
    public string ResourceId { get; set; } = string.Empty;

    /// <summary>A principal id or a user's UPN.</summary>
    [Parameter(ParameterSetName = PrincipalSet, Mandatory = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(PrincipalIdCompleter))]
    public string PrincipalId { get; set; } = string.Empty;

    [Parameter]
    public AccessSnapshot? Snapshot { get; set; }

    protected override void ProcessRecord()
    {
        var snapshot = RequireSnapshot(Snapshot);
        try
        {
            if (ParameterSetName == ResourceSet)
            {
                WriteObject(EffectiveAccess.ForResource(snapshot, ResourceId), enumerateCollection: true);
                return;
            }

            foreach (var entry in EffectiveAccess.ForPrincipal(snapshot, PrincipalId))
            {
                if (ResourceId.Length == 0 || entry.ResourceId == ResourceId)
                {
                    WriteObject(entry);
                }
            }

            if (ResourceId.Length > 0 && snapshot.FindResource(ResourceId) is null)
            {
                WriteGovernanceError(new GovernanceException("UnknownResource", GovernanceErrorKind.ObjectNotFound,
                    $"'{ResourceId}' is not a resource in the snapshot of {snapshot.TenantId}.", ResourceId));
            }
        }
        catch (GovernanceException e)
        {
            WriteGovernanceError(e);
        }
    }
}
