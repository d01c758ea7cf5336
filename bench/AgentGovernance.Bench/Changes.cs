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
    public const string NestHugeIntoTop = "addMember (10k+ group under the most-granted big group)";
    public const string NestLargestIntoTop = "addMember (the group nearest 64k under a big group)";
    public const string RemoveDivision = "removeMember (largest division from the largest group)";
    public const string PublicMany = "setVisibility Public (most connected resources)";
    public const string OrgLinks20 = "createLink organization × 20 (one change)";
    public const string MultiOp = "multi-operation (grant, link, revoke, add, remove, visibility)";

    public static readonly string[] Kinds = [SmallGrant, NestIntoBig, OrgLink, AnonLink, PublicSwitch, Revoke, RemoveFromBig,
        NestHugeIntoTop, NestLargestIntoTop, RemoveDivision, PublicMany, OrgLinks20, MultiOp];

    /// <summary>Kinds whose changes touch one resource (the p50 ≤ 10 ms goal).</summary>
    public static readonly string[] SingleResourceKinds = [SmallGrant, OrgLink, AnonLink, Revoke];

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

        // 8. A group of 10,000+ principals nested under the big group with the most grants above it.
        var sizes = groups.Select(g => (Group: g, Size: closure.Size(g))).ToList();
        var huge = sizes.Where(x => x.Size >= 10_000).Select(x => x.Group).ToList();
        for (var i = 0; i < perKind && huge.Count > 0 && big.Count > 0; i++)
        {
            var target = big[0].Group;
            var g = huge[rng.NextInt(huge.Count)];
            if (g == target || s.MembersOf(target).IndexOf(g) >= 0)
            {
                continue;
            }

            Add(perKindLists, NestHugeIntoTop, AccessOperation.AddMember(s.PrincipalId(target), s.PrincipalId(g)),
                $"{s.PrincipalId(g)} ({closure.Size(g):N0} principals) into {s.PrincipalId(target)}");
        }

        // 9. The groups nearest 64,000 principals, each nested under a big group.
        var near64k = sizes.OrderBy(x => Math.Abs(x.Size - 64_000)).ThenBy(x => x.Group).Select(x => x.Group).Take(4 * perKind).ToList();
        for (int i = 0, j = 0; i < perKind && j < near64k.Count && big.Count > 0; j++)
        {
            var target = big[i % big.Count].Group;
            var g = near64k[j];
            if (g == target || s.MembersOf(target).IndexOf(g) >= 0)
            {
                continue;
            }

            Add(perKindLists, NestLargestIntoTop, AccessOperation.AddMember(s.PrincipalId(target), s.PrincipalId(g)),
                $"{s.PrincipalId(g)} ({closure.Size(g):N0} principals) into {s.PrincipalId(target)}");
            i++;
        }

        // 10. The largest nested members (divisions) removed from the largest group (All Staff).
        var largest = sizes.OrderByDescending(x => x.Size).ThenBy(x => x.Group).First().Group;
        var divisions = s.MembersOf(largest).ToArray().Where(m => s.Types[m] == PrincipalType.Group)
            .OrderByDescending(m => closure.Size(m)).ThenBy(m => m).Take(perKind).ToList();
        foreach (var d in divisions)
        {
            Add(perKindLists, RemoveDivision, AccessOperation.RemoveMember(s.PrincipalId(largest), s.PrincipalId(d)),
                $"{s.PrincipalId(d)} ({closure.Size(d):N0} principals) from {s.PrincipalId(largest)} ({closure.Size(largest):N0})");
        }

        // 11. The Private groups with the most connected resources made Public.
        foreach (var g in connectable.OrderByDescending(g => s.ConnectedOf(g).Length).ThenBy(g => g).Take(perKind))
        {
            Add(perKindLists, PublicMany, AccessOperation.SetVisibility(s.PrincipalId(g), GroupVisibility.Public),
                $"{s.PrincipalId(g)} ({s.ConnectedOf(g).Length} connected)");
        }

        // 12. Twenty organization links in one change.
        for (var i = 0; i < perKind && sensitive.Count >= 20; i++)
        {
            var ops = new List<AccessOperation>();
            var picked = new HashSet<int>();
            while (picked.Count < 20)
            {
                picked.Add(sensitive[rng.NextInt(sensitive.Count)]);
            }

            foreach (var r in picked.Order())
            {
                ops.Add(AccessOperation.CreateLink(s.ResourceIds[r], LinkScope.Organization, "read"));
            }

            AddMany(perKindLists, OrgLinks20, ops, $"20 links, first {s.ResourceIds[picked.Min()]}");
        }

        // 13. Multi-operation changes: a grant, an anonymous link, a revoke, a group nested into a big
        //     group, a member removed from another big group, and a Private group made Public.
        for (var i = 0; i < perKind && big.Count > 1 && connectable.Count > 0 && s.GrantCount > 0; i++)
        {
            var u = enabledMembers[rng.NextInt(enabledMembers.Count)];
            var r1 = rng.NextInt(s.ResourceCount);
            var r2 = rng.NextInt(s.ResourceCount);
            var gi = rng.NextInt(s.GrantCount);
            var into = big[i % big.Count].Group;
            var from = big[(i + 1) % big.Count].Group;
            int nest;
            do
            {
                nest = groups[rng.NextInt(groups.Count)];
            }
            while (nest == into || s.MembersOf(into).IndexOf(nest) >= 0 || closure.Size(nest) < 100);

            var fromMembers = s.MembersOf(from).ToArray();
            var removed = fromMembers[rng.NextInt(fromMembers.Length)];
            var pub = connectable[rng.NextInt(connectable.Count)];
            var ops = new List<AccessOperation>
            {
                AccessOperation.Grant(s.ResourceIds[r1], s.PrincipalId(u), "write"),
                AccessOperation.CreateLink(s.ResourceIds[r2], LinkScope.Anonymous, "read"),
                AccessOperation.Revoke(s.ResourceIds[s.GrantResource[gi]], s.PrincipalId(s.GrantPrincipal[gi]), s.RoleNames[s.GrantRoleName[gi]]),
                AccessOperation.AddMember(s.PrincipalId(into), s.PrincipalId(nest)),
                AccessOperation.RemoveMember(s.PrincipalId(from), s.PrincipalId(removed)),
                AccessOperation.SetVisibility(s.PrincipalId(pub), GroupVisibility.Public),
            };
            AddMany(perKindLists, MultiOp, ops, $"6 ops: +{s.PrincipalId(nest)} into {s.PrincipalId(into)}, -{s.PrincipalId(removed)} from {s.PrincipalId(from)}, {s.PrincipalId(pub)} Public, ...");
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

    private static void AddMany(Dictionary<string, List<BenchChange>> lists, string kind, List<AccessOperation> ops, string description) =>
        lists[kind].Add(new BenchChange(kind, new AccessChange(ops, title: $"bench: {kind}: {description}"), description));

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
