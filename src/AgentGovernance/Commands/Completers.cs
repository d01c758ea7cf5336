using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace AgentGovernance.Commands;

/// <summary>Completes resource ids from the session's snapshot.</summary>
public sealed class ResourceIdCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var snapshot = GovernanceSession.Current?.Snapshot;
        if (snapshot is null)
        {
            return Array.Empty<CompletionResult>();
        }

        var word = wordToComplete.Trim('\'', '"');
        return snapshot.Resources
            .Where(r => r.Id.StartsWith(word, StringComparison.OrdinalIgnoreCase))
            .Take(100)
            .Select(r => new CompletionResult(r.Id, r.Id, CompletionResultType.ParameterValue, $"{r.DisplayName} ({r.Type}, {r.Sensitivity})"))
            .ToList();
    }
}

/// <summary>Completes principal ids (and user principal names) from the session's snapshot.</summary>
public sealed class PrincipalIdCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var snapshot = GovernanceSession.Current?.Snapshot;
        if (snapshot is null)
        {
            return Array.Empty<CompletionResult>();
        }

        var word = wordToComplete.Trim('\'', '"');
        var groupsOnly = parameterName == "GroupId";
        return snapshot.Principals
            .Where(p => (!groupsOnly || p.Type == Directory.PrincipalType.Group)
                        && (p.Id.StartsWith(word, StringComparison.OrdinalIgnoreCase)
                            || (p.UserPrincipalName?.StartsWith(word, StringComparison.OrdinalIgnoreCase) ?? false)))
            .Take(100)
            .Select(p => new CompletionResult(p.Id, p.Id, CompletionResultType.ParameterValue, $"{p.DisplayName} ({p.Type})"))
            .ToList();
    }
}

/// <summary>Completes approval request ids from the session's store, pending ones first.</summary>
public sealed class RequestIdCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var word = wordToComplete.Trim('\'', '"');
        var session = GovernanceSession.Current ?? GovernanceSession.Defaults;
        if (!System.IO.Directory.Exists(session.StorePath))
        {
            return Array.Empty<CompletionResult>();
        }

        try
        {
            using var approvals = new Approval.ApprovalService(Stores.FolderStore.Open(session.StorePath), null, session.Policy, session.Snapshot);
            return approvals.List()
                .Where(r => r.RequestId.StartsWith(word, StringComparison.OrdinalIgnoreCase))
                .OrderBy(r => r.Status == Approval.ApprovalStatus.Pending ? 0 : 1)
                .ThenByDescending(r => r.CreatedAt)
                .Take(100)
                .Select(r => new CompletionResult(r.RequestId, r.RequestId, CompletionResultType.ParameterValue, $"{r.Status} {r.Quorum} {r.Title ?? r.ChangeId}"))
                .ToList();
        }
        catch (GovernanceException)
        {
            return Array.Empty<CompletionResult>();
        }
    }
}
