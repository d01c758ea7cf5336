using System;
using System.Collections.Generic;
using System.Linq;
using AgentGovernance.Directory;

namespace AgentGovernance.Exposure;

/// <summary>How an access is given: a grant, a tenant-wide audience, or a Public group's connected resource.</summary>
[Newtonsoft.Json.JsonConverter(typeof(Newtonsoft.Json.Converters.StringEnumConverter))]
public enum AccessVia
{
    Grant,
    Audience,
    PublicGroup,
}

/// <summary>
/// One shortest path that gives a principal its highest role on a resource: the principal, the
/// groups it goes through, and what gives the access at the end (user → group → group → grant).
/// </summary>
public sealed class AccessPath
{
    internal AccessPath(IReadOnlyList<string> steps, AccessVia via, string grantedTo, string role, AccessRole level)
    {
        Steps = steps;
        Via = via;
        GrantedTo = grantedTo;
        Role = role;
        Level = level;
    }

    /// <summary>Principal ids from the principal to the group holding the grant (or the principal alone).</summary>
    public IReadOnlyList<string> Steps { get; }

    public AccessVia Via { get; }

    /// <summary>The principal, group, audience or Public group the access comes from.</summary>
    public string GrantedTo { get; }

    /// <summary>The role name as granted.</summary>
    public string Role { get; }

    public AccessRole Level { get; }

    /// <summary>Number of hops: 1 for a direct grant or an audience.</summary>
    public int Length => Via == AccessVia.Grant ? Steps.Count : Steps.Count + 1;

    public override string ToString() => Via switch
    {
        AccessVia.Grant => string.Join(" -> ", Steps) + " : " + Role,
        AccessVia.Audience => string.Join(" -> ", Steps) + " -> " + GrantedTo + " : " + Role,
        _ => string.Join(" -> ", Steps) + $" : {Role} ({GrantedTo} is Public)",
    };
}

/// <summary>A principal's highest role on a resource, with the path that explains it.</summary>
public sealed class EffectiveAccessEntry
{
    internal EffectiveAccessEntry(AccessSnapshot s, int principal, int resource, AccessPath path)
    {
        PrincipalId = s.PrincipalId(principal);
        DisplayName = s.PrincipalName(principal);
        PrincipalType = s.Types[principal];
        UserType = s.Types[principal] == PrincipalType.User ? (s.IsGuest(principal) ? "Guest" : "Member") : null;
        ResourceId = s.ResourceIds[resource];
        ResourceName = s.ResourceNames[resource] ?? ResourceId;
        Sensitivity = s.ResourceSensitivity[resource];
        Role = path.Level;
        Path = path;
    }

    public string PrincipalId { get; }

    public string DisplayName { get; }

    public PrincipalType PrincipalType { get; }

    public string? UserType { get; }

    public string ResourceId { get; }

    public string ResourceName { get; }

    public Sensitivity Sensitivity { get; }

    public AccessRole Role { get; }

    public AccessPath Path { get; }

    public override string ToString() => $"{PrincipalId} {Role} {ResourceId}";
}

/// <summary>Who can reach a resource, what a principal can reach, and why (shortest paths).</summary>
public static class EffectiveAccess
{
    private static readonly AccessRole[] Levels = { AccessRole.Owner, AccessRole.Write, AccessRole.Read };

    public static IReadOnlyList<EffectiveAccessEntry> ForResource(AccessSnapshot snapshot, string resourceId) =>
        ForResource(new GraphState(snapshot), ResolveResource(snapshot, resourceId));

    public static IReadOnlyList<EffectiveAccessEntry> ForPrincipal(AccessSnapshot snapshot, string principalId)
    {
        var p = ExposureEngine.Principal(snapshot, principalId, allowAudience: true);
        if (p < AccessSnapshot.FirstPrincipal)
        {
            throw new GovernanceException("AudienceNotAPrincipal", GovernanceErrorKind.InvalidArgument,
                $"'{principalId}' is an audience, not a principal: it reaches the resources granted to it and, for everyone, every member of it. To see who reaches a resource, use -ResourceId.", principalId);
        }

        return ForPrincipal(new GraphState(snapshot), p);
    }

    public static AccessPath? Explain(AccessSnapshot snapshot, string principalId, string resourceId) =>
        Explain(new GraphState(snapshot), principalId, resourceId);

    internal static AccessPath? Explain(GraphState state, string principalId, string resourceId)
    {
        var s = state.Snapshot;
        var p = ExposureEngine.Principal(s, principalId, allowAudience: true);
        var r = ResolveResource(s, resourceId);
        if (p == AccessSnapshot.AnyoneIndex)
        {
            var grants = new List<GrantEntry>();
            state.ResourceGrants(r, grants);
            var best = grants.Where(g => g.Principal == p).OrderByDescending(g => g.Level).FirstOrDefault();
            return best.Role is null ? null : new AccessPath(new[] { Audiences.Anyone }, AccessVia.Grant, Audiences.Anyone, best.Role, best.Level);
        }

        return p < AccessSnapshot.FirstPrincipal ? null : Reach(state, p, r).TryGetValue(r, out var path) ? path : null;
    }

    /// <summary>Every principal (enabled users, service principals, and the anonymous audience) that reaches the resource.</summary>
    internal static IReadOnlyList<EffectiveAccessEntry> ForResource(GraphState state, int r)
    {
        var s = state.Snapshot;
        var n = s.PrincipalSlots;
        var assigned = new bool[n];
        var parent = new int[n];
        var level = new AccessRole[n];
        var via = new int[n]; // the principal holding the grant at the end of the path
        var role = new string?[n];
        var grants = new List<GrantEntry>();
        state.ResourceGrants(r, grants);
        var connected = s.ResourceGroup[r];
        var publicGroup = connected >= 0 && state.Visibility(connected) == GroupVisibility.Public;
        var order = new List<int>();
        var queue = new Queue<int>();

        void Assign(int p, AccessRole lvl, int from, int grantee, string roleName)
        {
            assigned[p] = true;
            level[p] = lvl;
            parent[p] = from;
            via[p] = grantee;
            role[p] = roleName;
            order.Add(p);
        }

        foreach (var lvl in Levels)
        {
            queue.Clear();
            // Distance 1: direct grantees, then the audiences.
            foreach (var g in grants)
            {
                if (g.Level != lvl || assigned[g.Principal])
                {
                    continue;
                }

                if (g.Principal == AccessSnapshot.AnyoneIndex)
                {
                    Assign(g.Principal, lvl, -1, g.Principal, g.Role);
                    continue;
                }

                if (g.Principal < AccessSnapshot.FirstPrincipal)
                {
                    continue; // everyone and everyoneExceptExternal: below
                }

                var t = s.Types[g.Principal];
                if (t != PrincipalType.Group && !s.IsEnabled(g.Principal))
                {
                    continue;
                }

                Assign(g.Principal, lvl, -1, g.Principal, g.Role);
                if (t == PrincipalType.Group)
                {
                    queue.Enqueue(g.Principal);
                }
            }

            foreach (var g in grants)
            {
                if (g.Level != lvl || (g.Principal != AccessSnapshot.EveryoneIndex && g.Principal != AccessSnapshot.EveryoneExceptExternalIndex))
                {
                    continue;
                }

                foreach (var u in g.Principal == AccessSnapshot.EveryoneIndex ? s.EnabledUsers : s.EnabledMembers)
                {
                    if (!assigned[u])
                    {
                        Assign(u, lvl, -1, g.Principal, g.Role);
                    }
                }
            }

            if (lvl == AccessRole.Read && publicGroup)
            {
                foreach (var u in s.EnabledMembers)
                {
                    if (!assigned[u])
                    {
                        Assign(u, lvl, -1, -2 - connected, "read");
                    }
                }
            }

            while (queue.Count > 0)
            {
                var g = queue.Dequeue();
                foreach (var m in state.Members(g))
                {
                    if (assigned[m] || (s.Types[m] != PrincipalType.Group && !s.IsEnabled(m)))
                    {
                        continue;
                    }

                    Assign(m, lvl, g, via[g], role[g]!);
                    if (s.Types[m] == PrincipalType.Group)
                    {
                        queue.Enqueue(m);
                    }
                }
            }
        }

        var result = new List<EffectiveAccessEntry>();
        order.Sort();
        foreach (var p in order)
        {
            if (s.Types[p] == PrincipalType.Group)
            {
                continue;
            }

            result.Add(new EffectiveAccessEntry(s, p, r, PathTo(s, p, parent, via[p], role[p]!, level[p])));
        }

        return result;
    }

    /// <summary>Every resource the principal reaches, with its highest role and a shortest path.</summary>
    internal static IReadOnlyList<EffectiveAccessEntry> ForPrincipal(GraphState state, int p)
    {
        var s = state.Snapshot;
        return Reach(state, p, -1).OrderBy(kv => kv.Key).Select(kv => new EffectiveAccessEntry(s, p, kv.Key, kv.Value)).ToList();
    }

    /// <summary>
    /// Walks up from the principal through the groups that contain it (breadth first, so paths are
    /// shortest) and keeps, per resource, the highest role and the first (shortest) path to it.
    /// </summary>
    private static Dictionary<int, AccessPath> Reach(GraphState state, int p, int onlyResource)
    {
        var s = state.Snapshot;
        var best = new Dictionary<int, (AccessRole Level, int Length, AccessPath Path)>();
        if (s.Types[p] != PrincipalType.Group && !s.IsEnabled(p))
        {
            return new Dictionary<int, AccessPath>();
        }

        var parent = new Dictionary<int, int> { [p] = -1 };
        var depth = new Dictionary<int, int> { [p] = 1 };
        var queue = new Queue<int>();
        queue.Enqueue(p);
        var grants = new List<GrantEntry>();

        void Offer(int resource, AccessRole lvl, int length, Func<AccessPath> path)
        {
            if (onlyResource >= 0 && resource != onlyResource)
            {
                return;
            }

            if (!best.TryGetValue(resource, out var cur) || lvl > cur.Level || (lvl == cur.Level && length < cur.Length))
            {
                best[resource] = (lvl, length, path());
            }
        }

        while (queue.Count > 0)
        {
            var x = queue.Dequeue();
            state.PrincipalGrants(x, grants);
            foreach (var g in grants)
            {
                var holder = x;
                var grant = g;
                Offer(g.Resource, g.Level, depth[x], () => new AccessPath(Chain(s, parent, holder), AccessVia.Grant, s.PrincipalId(holder), grant.Role, grant.Level));
            }

            foreach (var up in state.Parents(x))
            {
                if (!parent.ContainsKey(up))
                {
                    parent[up] = x;
                    depth[up] = depth[x] + 1;
                    queue.Enqueue(up);
                }
            }
        }

        if (s.Types[p] == PrincipalType.User)
        {
            var member = !s.IsGuest(p);
            foreach (var audience in member ? new[] { AccessSnapshot.EveryoneIndex, AccessSnapshot.EveryoneExceptExternalIndex } : new[] { AccessSnapshot.EveryoneIndex })
            {
                state.PrincipalGrants(audience, grants);
                foreach (var g in grants)
                {
                    var grant = g;
                    Offer(g.Resource, g.Level, 2, () => new AccessPath(new[] { s.PrincipalId(p) }, AccessVia.Audience, s.PrincipalId(audience), grant.Role, grant.Level));
                }
            }

            if (member)
            {
                for (var g = AccessSnapshot.FirstPrincipal; g < s.PrincipalSlots; g++)
                {
                    if (s.Types[g] != PrincipalType.Group || state.Visibility(g) != GroupVisibility.Public)
                    {
                        continue;
                    }

                    var group = g;
                    foreach (var r in s.ConnectedOf(g))
                    {
                        Offer(r, AccessRole.Read, 2, () => new AccessPath(new[] { s.PrincipalId(p) }, AccessVia.PublicGroup, s.PrincipalId(group), "read", AccessRole.Read));
                    }
                }
            }
        }

        return best.ToDictionary(kv => kv.Key, kv => kv.Value.Path);
    }

    private static IReadOnlyList<string> Chain(AccessSnapshot s, Dictionary<int, int> parent, int holder)
    {
        var steps = new List<string>();
        for (var x = holder; x >= 0; x = parent[x])
        {
            steps.Add(s.PrincipalId(x));
        }

        steps.Reverse();
        return steps;
    }

    private static AccessPath PathTo(AccessSnapshot s, int p, int[] parent, int grantee, string role, AccessRole level)
    {
        var steps = new List<string>();
        for (var x = p; x >= 0; x = parent[x])
        {
            steps.Add(s.PrincipalId(x));
        }

        if (grantee == AccessSnapshot.EveryoneIndex || grantee == AccessSnapshot.EveryoneExceptExternalIndex)
        {
            return new AccessPath(steps, AccessVia.Audience, s.PrincipalId(grantee), role, level);
        }

        if (grantee <= -2)
        {
            return new AccessPath(steps, AccessVia.PublicGroup, s.PrincipalId(-2 - grantee), role, level);
        }

        return new AccessPath(steps, AccessVia.Grant, s.PrincipalId(grantee), role, level);
    }

    private static int ResolveResource(AccessSnapshot s, string id)
    {
        if (!s.TryGetResourceIndex(id, out var r))
        {
            throw new GovernanceException("UnknownResource", GovernanceErrorKind.ObjectNotFound, $"'{id}' is not a resource in the snapshot of {s.TenantId}.", id);
        }

        return r;
    }
}
