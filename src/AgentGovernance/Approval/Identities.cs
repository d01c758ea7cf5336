using System;
using System.Collections.Generic;
using AgentGovernance.Directory;
using AgentGovernance.Policy;

namespace AgentGovernance.Approval;

/// <summary>
/// Tells identities apart the way S2 needs: "bob@contoso.com" and "u-bob" are one person when the
/// directory says so, comparison ignores case, and an identity is an agent when the directory marks
/// it (isAgent) or the policy lists it under any of its names.
/// </summary>
internal sealed class Identities
{
    private readonly AccessSnapshot? _snapshot;
    private readonly GovernancePolicy _policy;

    public Identities(AccessSnapshot? snapshot, GovernancePolicy policy)
    {
        _snapshot = snapshot;
        _policy = policy;
    }

    /// <summary>The names the identity goes by: itself, and, when the directory knows it, its principal id and user principal name.</summary>
    public IReadOnlyList<string> Names(string identity)
    {
        var names = new List<string> { identity };
        if (_snapshot is not null && _snapshot.TryResolvePrincipal(identity, out var index) && index >= AccessSnapshot.FirstPrincipal)
        {
            names.Add(_snapshot.PrincipalId(index));
            if (_snapshot.Upn[index] is { } upn)
            {
                names.Add(upn);
            }
        }

        return names;
    }

    /// <summary>One spelling per identity: the directory's principal id when it knows the identity, else the lower-cased name.</summary>
    public string Key(string identity) =>
        _snapshot is not null && _snapshot.TryResolvePrincipal(identity, out var index) && index >= AccessSnapshot.FirstPrincipal
            ? "id:" + _snapshot.PrincipalId(index).ToLowerInvariant()
            : "name:" + identity.ToLowerInvariant();

    public bool Same(string? a, string? b) => a is not null && b is not null && Key(a) == Key(b);

    public bool IsAgent(string identity)
    {
        if (_snapshot is not null && _snapshot.TryResolvePrincipal(identity, out var index) && index >= AccessSnapshot.FirstPrincipal && _snapshot.IsAgentFlag(index))
        {
            return true;
        }

        foreach (var name in Names(identity))
        {
            if (_policy.IsListedAgent(name))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Who is running this command, as the operating system knows them (for ledger actors when nobody else is named).</summary>
    public static string CurrentUser
    {
        get
        {
            var user = Environment.UserName;
            var domain = Environment.UserDomainName;
            return string.IsNullOrEmpty(domain) || string.Equals(domain, Environment.MachineName, StringComparison.OrdinalIgnoreCase)
                ? $"{user}@{Environment.MachineName}"
                : $"{domain}\\{user}";
        }
    }
}
