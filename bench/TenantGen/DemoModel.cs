using AgentGovernance.Directory;

namespace TenantGen;

/// <summary>What a demo principal is (in this namespace it hides the module's exposure-counting PrincipalKind).</summary>
internal enum PrincipalKind
{
    User,
    Group,
    ServicePrincipal,
}

internal sealed class DemoPrincipal(string id, PrincipalKind kind, string displayName)
{
    public string Id { get; } = id;

    public PrincipalKind Kind { get; } = kind;

    public string DisplayName { get; } = displayName;

    public string? UserPrincipalName { get; init; }

    public string? Mail { get; init; }

    public string? MailNickname { get; init; }

    public bool Guest { get; init; }

    public bool Disabled { get; init; }

    public bool IsAgent { get; init; }

    public GroupVisibility Visibility { get; init; }

    public List<string> Members { get; } = [];

    public bool EnabledUser => Kind == PrincipalKind.User && !Disabled;
}

internal sealed record DemoResource(
    string Id,
    string Type,
    string DisplayName,
    Sensitivity Sensitivity,
    bool PersonalData,
    string[] Owners,
    string? Group = null,
    string? WebUrl = null);

internal sealed record DemoGrant(string Resource, string Principal, string Role);

/// <summary>An in-memory tenant, small enough to hold as objects; written with <see cref="SnapshotWriter"/>.</summary>
internal sealed class DemoTenant
{
    public static readonly string[] Audiences = ["everyone", "everyoneExceptExternal", "anyone"];

    private readonly Dictionary<string, DemoPrincipal> _byId = new(StringComparer.Ordinal);

    public List<DemoPrincipal> Users { get; } = [];

    public List<DemoPrincipal> ServicePrincipals { get; } = [];

    public List<DemoPrincipal> Groups { get; } = [];

    public List<DemoResource> Resources { get; } = [];

    public List<DemoGrant> Grants { get; } = [];

    public IEnumerable<DemoPrincipal> Principals => Users.Concat(ServicePrincipals).Concat(Groups);

    public DemoPrincipal this[string id] => _byId[id];

    public bool Contains(string id) => _byId.ContainsKey(id);

    public DemoPrincipal Add(DemoPrincipal p)
    {
        if (!_byId.TryAdd(p.Id, p))
        {
            throw new InvalidOperationException($"Duplicate principal id '{p.Id}'.");
        }

        (p.Kind switch
        {
            PrincipalKind.User => Users,
            PrincipalKind.Group => Groups,
            _ => ServicePrincipals,
        }).Add(p);
        return p;
    }

    public void AddMembers(string group, params IEnumerable<string> members)
    {
        var g = _byId[group];
        foreach (var m in members)
        {
            if (!g.Members.Contains(m))
            {
                g.Members.Add(m);
            }
        }
    }

    public void Grant(string resource, string principal, string role) => Grants.Add(new DemoGrant(resource, principal, role));

    /// <summary>Checks everything formats.md requires of a snapshot; throws on the first problem.</summary>
    public void Validate()
    {
        var resources = new HashSet<string>(StringComparer.Ordinal);
        foreach (var r in Resources)
        {
            if (!resources.Add(r.Id))
            {
                throw new InvalidOperationException($"Duplicate resource id '{r.Id}'.");
            }

            foreach (var o in r.Owners)
            {
                Require(_byId.ContainsKey(o), $"resource {r.Id}: owner '{o}' is not a principal");
            }

            if (r.Group is { } g)
            {
                Require(_byId.TryGetValue(g, out var gp) && gp.Kind == PrincipalKind.Group, $"resource {r.Id}: group '{g}' is not a group");
            }
        }

        foreach (var a in Audiences)
        {
            Require(!_byId.ContainsKey(a), $"audience id '{a}' used as a principal");
        }

        foreach (var p in Principals)
        {
            foreach (var m in p.Members)
            {
                Require(p.Kind == PrincipalKind.Group, $"{p.Id}: only groups have members");
                Require(_byId.ContainsKey(m), $"group {p.Id}: member '{m}' is not a principal");
                Require(m != p.Id, $"group {p.Id} contains itself");
            }
        }

        var seen = new HashSet<(string, string, string)>();
        foreach (var gr in Grants)
        {
            Require(resources.Contains(gr.Resource), $"grant: resource '{gr.Resource}' undefined");
            Require(_byId.ContainsKey(gr.Principal) || Audiences.Contains(gr.Principal), $"grant: principal '{gr.Principal}' undefined");
            Require(gr.Role is "read" or "write" or "owner", $"grant: role '{gr.Role}'");
            Require(seen.Add((gr.Resource, gr.Principal, gr.Role)), $"duplicate grant {gr}");
        }
    }

    /// <summary>
    /// Enabled users and service principals that can read <paramref name="resource"/> (formats.md's
    /// effective-access rule), optionally with extra grants applied; used to print the incident's size.
    /// </summary>
    public HashSet<string> Readers(string resource, IEnumerable<DemoGrant>? extraGrants = null)
    {
        var readers = new HashSet<string>(StringComparer.Ordinal);
        var res = Resources.Single(r => r.Id == resource);
        var start = new List<string>();
        foreach (var g in Grants.Concat(extraGrants ?? []))
        {
            if (g.Resource == resource)
            {
                start.Add(g.Principal);
            }
        }

        if (res.Group is { } cg && _byId[cg].Visibility == GroupVisibility.Public)
        {
            start.Add("everyoneExceptExternal");
        }

        // Walk membership downwards from every granted principal (cycles are fine: visited set).
        var visited = new HashSet<string>(StringComparer.Ordinal);
        var stack = new Stack<string>(start);
        while (stack.Count > 0)
        {
            var id = stack.Pop();
            if (!visited.Add(id))
            {
                continue;
            }

            switch (id)
            {
                case "everyone":
                    readers.UnionWith(Users.Where(u => !u.Disabled).Select(u => u.Id));
                    continue;
                case "everyoneExceptExternal":
                    readers.UnionWith(Users.Where(u => !u.Disabled && !u.Guest).Select(u => u.Id));
                    continue;
                case "anyone":
                    readers.Add("anyone");
                    continue;
            }

            var p = _byId[id];
            if (p.Kind == PrincipalKind.Group)
            {
                foreach (var m in p.Members)
                {
                    stack.Push(m);
                }
            }
            else if (p.Kind == PrincipalKind.ServicePrincipal || !p.Disabled)
            {
                readers.Add(id);
            }
        }

        return readers;
    }

    private static void Require(bool ok, string message)
    {
        if (!ok)
        {
            throw new InvalidOperationException("Demo tenant is invalid: " + message);
        }
    }

    public void Write(string path, string tenantId, string displayName, string capturedAt)
    {
        using var w = new SnapshotWriter(path, Principals.Count(), Resources.Count);
        w.Begin(tenantId, displayName, capturedAt);
        foreach (var u in Users)
        {
            w.User(u.Id, u.DisplayName, u.UserPrincipalName, u.Mail, u.Guest, u.Disabled, u.IsAgent);
        }

        foreach (var sp in ServicePrincipals)
        {
            w.ServicePrincipal(sp.Id, sp.DisplayName, sp.IsAgent);
        }

        foreach (var g in Groups)
        {
            w.BeginGroup(g.Id, g.DisplayName, g.Mail, g.MailNickname, g.Visibility);
            foreach (var m in g.Members)
            {
                w.Member(m);
            }

            w.EndGroup();
        }

        w.BeginResources();
        foreach (var r in Resources)
        {
            w.Resource(r.Id, r.Type, r.DisplayName, r.WebUrl, r.Sensitivity, r.PersonalData, r.Owners, r.Group);
        }

        w.BeginGrants();
        foreach (var g in Grants)
        {
            w.Grant(g.Resource, g.Principal, g.Role);
        }

        w.End();
    }
}
