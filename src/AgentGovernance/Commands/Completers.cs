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


/// <summary>Completes -Role: read, write and owner, then the other role names the session's directory grants (on the resource given, when one is).</summary>
public sealed class RoleCompleter : IArgumentCompleter
{
    /// <summary>The role names the module knows: read, write and owner rank access; member is a directory role's membership.</summary>
    internal static readonly string[] Known = { "read", "write", "owner", "member" };

    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var word = wordToComplete.Trim('\'', '"');
        var resource = fakeBoundParameters["ResourceId"] as string;
        var link = fakeBoundParameters.Contains("CreateLink");
        var names = link ? new List<string> { "read", "write" } : Known.ToList();
        if (!link)
        {
            names.AddRange(GrantedRoles(GovernanceSession.Current?.Snapshot, resource).Where(r => !names.Contains(r)));
        }

        return names
            .Where(r => r.StartsWith(word, StringComparison.OrdinalIgnoreCase))
            .Select(r => new CompletionResult(r, r, CompletionResultType.ParameterValue,
                Array.IndexOf(Directory.Roles.Names, r) >= 0 ? r + " (ranks access: read < write < owner)"
                    : r == "member" ? "member (of a directory role)" : r + " (granted in this directory; counts as read)"))
            .ToList();
    }

    /// <summary>The role names a snapshot grants, on one resource or anywhere, in ordinal order.</summary>
    internal static List<string> GrantedRoles(Directory.AccessSnapshot? snapshot, string? resourceId)
    {
        if (snapshot is null)
        {
            return new List<string>();
        }

        return snapshot.Grants
            .Where(g => resourceId is null || g.ResourceId == resourceId)
            .Select(g => g.Role)
            .Distinct(StringComparer.Ordinal)
            .OrderBy(r => r, StringComparer.Ordinal)
            .ToList();
    }
}
