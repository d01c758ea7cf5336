using System.Management.Automation;
using AgentGovernance.Directory;
using AgentGovernance.Exposure;

namespace AgentGovernance.Commands;

/// <summary>
/// Who can reach a resource (-ResourceId), what a principal can reach (-PrincipalId), or both: how
/// one principal reaches one resource. Each entry carries the shortest path that gives the access.
/// </summary>
/// <remarks>
/// One parameter set on purpose: objects piped in may carry a ResourceId (a report's resources), a
/// PrincipalId, or both (this cmdlet's own entries, a report's gained entries), and each binds as it is.
/// </remarks>
[Cmdlet(VerbsCommon.Get, "EffectiveAccess")]
[OutputType(typeof(EffectiveAccessEntry))]
public sealed class GetEffectiveAccessCommand : GovernanceCmdlet
{
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(ResourceIdCompleter))]
    public string ResourceId { get; set; } = string.Empty;

    /// <summary>A principal id or a user's UPN.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(PrincipalIdCompleter))]
    public string PrincipalId { get; set; } = string.Empty;

    [Parameter]
    public AccessSnapshot? Snapshot { get; set; }

    protected override void ProcessRecord()
    {
        if (ResourceId.Length == 0 && PrincipalId.Length == 0)
        {
            WriteGovernanceError(new GovernanceException("ResourceOrPrincipalRequired", GovernanceErrorKind.InvalidArgument,
                "Give -ResourceId (who reaches it), -PrincipalId (what it reaches), or both (how it reaches it)."));
            return;
        }

        if (Snapshot is null && LiveDirectory is not null && ResourceId.Length == 0)
        {
            WriteGovernanceError(new GovernanceException("LiveDirectoryNeedsResource", GovernanceErrorKind.InvalidArgument,
                $"The session reads a live tenant, where what '{PrincipalId}' reaches across every site, file and role cannot be listed without reading the whole tenant. " +
                "Give -ResourceId too, or export a snapshot (Export-AccessSnapshot -FromGraph) and pass it with -Snapshot.", PrincipalId));
            return;
        }

        try
        {
            var snapshot = ResourceId.Length > 0 ? RequireResourceState(Snapshot, ResourceId) : RequireSnapshot(Snapshot);
            if (PrincipalId.Length == 0)
            {
                WriteObject(EffectiveAccess.ForResource(snapshot, ResourceId), enumerateCollection: true);
                return;
            }

            if (ResourceId.Length > 0 && snapshot.FindResource(ResourceId) is null)
            {
                throw new GovernanceException("UnknownResource", GovernanceErrorKind.ObjectNotFound,
                    $"'{ResourceId}' is not a resource in the snapshot of {snapshot.TenantId}.", ResourceId);
            }

            foreach (var entry in EffectiveAccess.ForPrincipal(snapshot, PrincipalId))
            {
                if (ResourceId.Length == 0 || entry.ResourceId == ResourceId)
                {
                    WriteObject(entry);
                }
            }
        }
        catch (GovernanceException e)
        {
            WriteGovernanceError(e);
        }
    }
}
