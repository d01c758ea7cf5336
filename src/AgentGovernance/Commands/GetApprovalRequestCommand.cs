using System;
using System.Linq;
using System.Management.Automation;
using AgentGovernance.Approval;

namespace AgentGovernance.Commands;

/// <summary>Lists approval requests with their decisions and whether their quorum is met.</summary>
[Cmdlet(VerbsCommon.Get, "ApprovalRequest", DefaultParameterSetName = "All")]
[OutputType(typeof(ApprovalRequest))]
public sealed class GetApprovalRequestCommand : GovernanceCmdlet
{
    /// <summary>Request ids; wildcards allowed.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(RequestIdCompleter))]
    public string[]? RequestId { get; set; }

    [Parameter]
    public ApprovalStatus[]? Status { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? ChangeId { get; set; }

    protected override void ProcessRecord()
    {
        try
        {
            using var governance = OpenGovernance(writes: false);
            var approvals = governance.Approvals;
            var patterns = RequestId?.Select(p => new WildcardPattern(p, WildcardOptions.IgnoreCase)).ToList();
            var exact = RequestId?.Where(p => !WildcardPattern.ContainsWildcardCharacters(p)).ToList();
            if (exact is { Count: > 0 } && exact.Count == RequestId!.Length)
            {
                // Ids without wildcards: read just those, and say so when one does not exist.
                foreach (var id in exact)
                {
                    try
                    {
                        Emit(approvals.Get(id));
                    }
                    catch (GovernanceException e)
                    {
                        WriteGovernanceError(e, id);
                    }
                }

                return;
            }

            foreach (var request in approvals.List((id, e) => WriteGovernanceError(e, id)))
            {
                if (patterns is null || patterns.Any(p => p.IsMatch(request.RequestId)))
                {
                    Emit(request);
                }
            }
        }
        catch (GovernanceException e)
        {
            WriteGovernanceError(e);
        }
    }

    private void Emit(ApprovalRequest request)
    {
        if ((Status is null || Status.Contains(request.Status)) && (ChangeId is null || string.Equals(ChangeId, request.ChangeId, StringComparison.OrdinalIgnoreCase)))
        {
            foreach (var problem in request.Problems)
            {
                WriteWarning($"{request.RequestId}: {problem}");
            }

            WriteObject(request);
        }
    }
}
