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
