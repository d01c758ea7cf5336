using System;
using AgentGovernance.Directory;
using AgentGovernance.Policy;

namespace AgentGovernance.Approval;

/// <summary>
/// Tells identities apart the way S2 needs, by name: "bob@contoso.com", "BOB@contoso.com " and "u-bob"
/// are one person when the directory says so (see <see cref="IdentityResolver"/> for the rules).
/// </summary>
internal sealed class Identities
{
    private readonly IdentityResolver _resolver;

    public Identities(AccessSnapshot? snapshot, GovernancePolicy policy)
    {
        _resolver = new IdentityResolver(snapshot, policy);
        Rules = new ApproverRules(_resolver, policy);
    }

    /// <summary>Who may never approve what (S2).</summary>
    public ApproverRules Rules { get; }

    /// <summary>One key per identity: the directory's principal id when the name resolves to exactly one, else its one spelling.</summary>
    public string Key(string identity)
    {
        var resolved = _resolver.Resolve(identity);
        return resolved.Resolved ? "id:" + resolved.Principals[0] : "name:" + (resolved.Key ?? identity);
    }

    public bool Same(string? a, string? b) => a is not null && b is not null && _resolver.Same(_resolver.Resolve(a), _resolver.Resolve(b));

    public bool IsAgent(string identity) => _resolver.IsAgent(_resolver.Resolve(identity));

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
