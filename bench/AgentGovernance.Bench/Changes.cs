using AgentGovernance.Changes;
using AgentGovernance.Directory;
using Prng = TenantGen.Prng;

namespace AgentGovernanceBench;

/// <summary>A benchmark change: its kind, the change, and a short description.</summary>
internal sealed record BenchChange(string Kind, AccessChange Change, string Description);

/// <summary>
/// Picks the benchmark's changes from a loaded tenant, deterministically (SplitMix64 seeded from the
/// tenant seed): the same tenant gives the same changes on every machine.
/// </summary>
internal static class ChangeCatalog
{
    public const string SmallGrant = "grant (user, read)";
    public const string NestIntoBig = "addMember (group into big group)";
    public const string OrgLink = "createLink organization";
    public const string AnonLink = "createLink anonymous";
    public const string PublicSwitch = "setVisibility Public";
    public const string Revoke = "revoke";
    public const string RemoveFromBig = "removeMember (from big group)";

    public static readonly string[] Kinds = [SmallGrant, NestIntoBig, OrgLink, AnonLink, PublicSwitch, Revoke, RemoveFromBig];

    /// <summary>Up to perKind changes of each kind, interleaved by kind.</summary>
    public static List<BenchChange> Pick(AccessSnapshot s, int perKind, ulong seed, TextWriter log)
    {
        var rng = Prng.Derive(seed, 900);
        var n = s.PrincipalSlots;
        var enabledMembers = new List<int>();
        var groups = new List<int>();
        for (var p = AccessSnapshot.FirstPrincipal; p < n; p++)
        {
            if (s.Types[p] == PrincipalType.User && s.IsEnabled(p) && !s.IsGuest(p)) enabledMembers.Add(p);
            if (s.Types[p] == PrincipalType.Group) groups.Add(p);
        }

        var sensitive = Enumerable.Range(0, s.ResourceCount).Where(r => s.ResourceSensitivity[r] >= Sensitivity.Confidential).ToList();

        // "Big" groups: among the 1% largest groups by transitive membership (enabled users and
        // service principals through nesting; at least 20 candidates), those whose ancestors (the group
        // and every group containing it) hold the most grants, so that nesting into or removing from
        // them touches many resources, several of them granted to very large groups.
        var closure = new ClosureCounter(s);
        var bySize = groups.Select(g => (Group: g, Size: closure.Size(g)))
            .OrderByDescending(x => x.Size).ThenBy(x => x.Group).Take(Math.Max(20, groups.Count / 100)).ToList();
        var big = bySize
            .Select(x => (x.Group, x.Size, Grants: AncestorGrants(s, x.Group)))
            .OrderByDescending(x => x.Grants).ThenByDescending(x => x.Size).ThenBy(x => x.Group)
            .Take(perKind).ToList();
        log.WriteLine($"  big groups (of the {bySize.Count} largest, from {bySize[^1].Size:N0} principals; principals / grants on it and its ancestors): " +
                      string.Join(", ", big.Select(x => $"{s.PrincipalId(x.Group)} {x.Size:N0}/{x.Grants:N0}")));

        var perKindLists = Kinds.ToDictionary(k => k, _ => new List<BenchChange>());

        // 1. A user gets read on a resource.
        for (var i = 0; i < perKind; i++)
        {
            var u = enabledMembers[rng.NextInt(enabledMembers.Count)];
            var r = rng.NextInt(s.ResourceCount);
            Add(perKindLists, SmallGrant, AccessOperation.Grant(s.ResourceIds[r], s.PrincipalId(u), "read"),
                $"{s.PrincipalId(u)} read {s.ResourceIds[r]}");
        }

        // 2. A mid-size group (100-2,000 enabled principals through nesting) nested into a big group.
        for (var i = 0; i < perKind && big.Count > 0; i++)
        {
            var target = big[i % big.Count].Group;
            for (var attempt = 0; attempt < 10_000; attempt++)
            {
                var g = groups[rng.NextInt(groups.Count)];
                if (g == target || s.MembersOf(target).IndexOf(g) >= 0)
                {
                    continue;
                }

                var size = closure.Size(g);
                if (size is >= 100 and <= 2_000)
                {
                    Add(perKindLists, NestIntoBig, AccessOperation.AddMember(s.PrincipalId(target), s.PrincipalId(g)),
                        $"{s.PrincipalId(g)} ({size:N0} principals) into {s.PrincipalId(target)}");
                    break;
                }
            }
        }

        // 3. An organization-wide read link on a sensitive resource.
        for (var i = 0; i < perKind && sensitive.Count > 0; i++)
        {
            var r = sensitive[rng.NextInt(sensitive.Count)];
            Add(perKindLists, OrgLink, AccessOperation.CreateLink(s.ResourceIds[r], LinkScope.Organization, "read"),
                $"{s.ResourceIds[r]} ({s.ResourceSensitivity[r]})");
        }

        // 4. An anonymous read link on any resource.
        for (var i = 0; i < perKind; i++)
        {
            var r = rng.NextInt(s.ResourceCount);
            Add(perKindLists, AnonLink, AccessOperation.CreateLink(s.ResourceIds[r], LinkScope.Anonymous, "read"),
                $"{s.ResourceIds[r]} ({s.ResourceSensitivity[r]})");
        }

        // 5. A Private group with at least one connected resource made Public.
        var connectable = groups.Where(g => s.Visibility[g] == GroupVisibility.Private && s.ConnectedOf(g).Length > 0).ToList();
        for (var i = 0; i < perKind && connectable.Count > 0; i++)
        {
            var g = connectable[rng.NextInt(connectable.Count)];
            Add(perKindLists, PublicSwitch, AccessOperation.SetVisibility(s.PrincipalId(g), GroupVisibility.Public),
                $"{s.PrincipalId(g)} ({s.ConnectedOf(g).Length} connected)");
        }

        // 6. An existing grant revoked (any grantee: user, group, service principal or audience).
        for (var i = 0; i < perKind && s.GrantCount > 0; i++)
        {
            var g = rng.NextInt(s.GrantCount);
            var p = s.GrantPrincipal[g];
            Add(perKindLists, Revoke, AccessOperation.Revoke(s.ResourceIds[s.GrantResource[g]], s.PrincipalId(p), s.RoleNames[s.GrantRoleName[g]]),
                $"{s.RoleNames[s.GrantRoleName[g]]} on {s.ResourceIds[s.GrantResource[g]]} from {s.PrincipalId(p)} ({s.Types[p]})");
        }

        // 7. A direct member removed from a big group (a nested group when it has one, every other time).
        for (var i = 0; i < perKind && big.Count > 0; i++)
        {
            var target = big[i % big.Count].Group;
            var members = s.MembersOf(target).ToArray();
            var nested = members.Where(m => s.Types[m] == PrincipalType.Group).ToArray();
            var m = i % 2 == 1 && nested.Length > 0 ? nested[rng.NextInt(nested.Length)] : members[rng.NextInt(members.Length)];
            Add(perKindLists, RemoveFromBig, AccessOperation.RemoveMember(s.PrincipalId(target), s.PrincipalId(m)),
                $"{s.PrincipalId(m)} ({s.Types[m]}) from {s.PrincipalId(target)}");
        }

        // Interleave the kinds so that measurement rounds mix them.
        var all = new List<BenchChange>();
        for (var i = 0; i < perKind; i++)
        {
            foreach (var k in Kinds)
            {
                if (i < perKindLists[k].Count)
                {
                    all.Add(perKindLists[k][i]);
                }
            }
        }

        return all;
    }

    private static void Add(Dictionary<string, List<BenchChange>> lists, string kind, AccessOperation op, string description) =>
        lists[kind].Add(new BenchChange(kind, new AccessChange([op], title: $"bench: {kind}: {description}"), description));

    /// <summary>Grants held by the group and by every group that contains it, through any nesting.</summary>
    private static int AncestorGrants(AccessSnapshot s, int group)
    {
        var seen = new HashSet<int> { group };
        var queue = new Queue<int>();
        queue.Enqueue(group);
        var grants = 0;
        while (queue.Count > 0)
        {
            var g = queue.Dequeue();
            grants += s.GrantsOfPrincipal(g).Length;
            foreach (var parent in s.ParentsOf(g))
            {
                if (seen.Add(parent))
                {
                    queue.Enqueue(parent);
                }
            }
        }

        return grants;
    }
}

/// <summary>Counts the enabled users and service principals in a group through any nesting.</summary>
internal sealed class ClosureCounter(AccessSnapshot s)
{
    private readonly int[] _visit = new int[s.PrincipalSlots];
    private readonly Stack<int> _stack = new();
    private int _stamp;

    public int Size(int group)
    {
        _stamp++;
        _stack.Push(group);
        _visit[group] = _stamp;
        var count = 0;
        while (_stack.Count > 0)
        {
            foreach (var m in s.MembersOf(_stack.Pop()))
            {
                if (_visit[m] == _stamp)
                {
                    continue;
                }

                _visit[m] = _stamp;
                if (s.Types[m] == PrincipalType.Group)
                {
                    _stack.Push(m);
                }
                else if (s.IsEnabled(m))
                {
                    count++;
                }
            }
        }

        return count;
    }
}
