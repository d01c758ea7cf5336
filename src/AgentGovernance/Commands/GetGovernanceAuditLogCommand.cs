using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using AgentGovernance.Ledger;

namespace AgentGovernance.Commands;

/// <summary>Reads the audit ledger, oldest first, filtered by change, request, event, actor and time.</summary>
[Cmdlet(VerbsCommon.Get, "GovernanceAuditLog")]
[OutputType(typeof(LedgerEntry))]
public sealed class GetGovernanceAuditLogCommand : GovernanceCmdlet
{
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? ChangeId { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(RequestIdCompleter))]
    public string? RequestId { get; set; }

    /// <summary>Event types (ChangeProposed, Approved, ...); wildcards allowed.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(LedgerEventCompleter))]
    public string[]? Event { get; set; }

    /// <summary>Who acted; wildcards allowed.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [SupportsWildcards]
    public string? Actor { get; set; }

    /// <summary>Entries at or after this time.</summary>
    [Parameter]
    public DateTimeOffset? After { get; set; }

    /// <summary>Entries before this time.</summary>
    [Parameter]
    public DateTimeOffset? Before { get; set; }

    /// <summary>Only the last N matching entries.</summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int? Last { get; set; }

    protected override void ProcessRecord()
    {
        var events = Event?.Select(e => new WildcardPattern(e, WildcardOptions.IgnoreCase)).ToList();
        var actor = Actor is null ? null : new WildcardPattern(Actor, WildcardOptions.IgnoreCase);
        var tail = Last is { } n ? new Queue<LedgerEntry>(Math.Min(n, 4096)) : null;
        try
        {
            using var governance = OpenGovernance(writes: false);
            foreach (var entry in governance.Approvals.Ledger.Read((line, problem) => WriteWarning(
                $"Line {line} of the ledger is not an entry ({AgentGovernance.Approval.IdentityText.Visible(problem)}): it was skipped. The ledger was changed or damaged; Test-GovernanceAuditLog names where, and about_AgentGovernance says how to recover.")))
            {
                if ((ChangeId is not null && !string.Equals(entry.ChangeId, ChangeId, StringComparison.OrdinalIgnoreCase))
                    || (RequestId is not null && !string.Equals(entry.RequestId, RequestId, StringComparison.OrdinalIgnoreCase))
                    || (events is not null && !events.Any(p => p.IsMatch(entry.Event)))
                    || (actor is not null && !actor.IsMatch(entry.Actor))
                    || (After is { } after && entry.Time < after)
                    || (Before is { } before && entry.Time >= before))
                {
                    continue;
                }

                if (tail is null)
                {
                    WriteObject(entry);
                    continue;
                }

                tail.Enqueue(entry);
                if (tail.Count > Last!.Value)
                {
                    tail.Dequeue();
                }
            }

            if (tail is not null)
            {
                WriteObject(tail, enumerateCollection: true);
            }
        }
        catch (GovernanceException e)
        {
            WriteGovernanceError(e);
        }
    }
}

/// <summary>Completes ledger event types.</summary>
public sealed class LedgerEventCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        System.Management.Automation.Language.CommandAst commandAst, System.Collections.IDictionary fakeBoundParameters) =>
        LedgerEvents.All.Where(e => e.StartsWith(wordToComplete.Trim('\'', '"'), StringComparison.OrdinalIgnoreCase))
            .Select(e => new CompletionResult(e, e, CompletionResultType.ParameterValue, e));
}
