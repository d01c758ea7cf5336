using AgentGovernance.Changes;
using AgentGovernance.Directory;

namespace AgentGovernanceBench;

/// <summary>
/// The second baseline: a plain recompute of exactly the resources a change can touch, in
/// straightforward code. No copy of the tenant: each state is the snapshot seen through small
/// dictionaries of what the change edited (member lists, grant lists, visibilities). The resources a
/// change can touch: the resource of a grant, revoke or link; every resource connected to a group whose
/// visibility changes; every resource granted to the group of an added or removed member or to a group
/// above it (in either state). Each is evaluated in full in both states (audiences expanded to their
/// members, group grants to their closures, each group's closure once per state) and diffed. Written
/// independently of the engine, like <see cref="Naive"/>.
/// </summary>
internal static class Targeted
{
    private readonly record struct GrantRow(int Principal, byte Level, string Role);

    public static Naive.Result Diff(AccessSnapshot s, AccessChange change)
    {
        var before = new State(s);
        var after = new State(s);
        var affected = new SortedSet<int>();
        var memberGroups = new List<int>();
        foreach (var op in change.Operations)
        {
            switch (op.Op)
            {
                case OperationKind.Grant:
                case OperationKind.CreateLink:
                {
                    var r = ResourceIndex(s, op.Resource!);
                    var p = op.Op == OperationKind.Grant ? PrincipalIndex(s, op.Principal!)
                        : op.Scope == LinkScope.Anonymous ? AccessSnapshot.AnyoneIndex : AccessSnapshot.EveryoneExceptExternalIndex;
                    var grants = after.Grants(r);
                    if (!grants.Any(g => g.Principal == p && g.Role == op.Role))
                    {
                        after.SetGrants(r, [.. grants, new GrantRow(p, Naive.Level(op.Role!), op.Role!)]);
                    }

                    affected.Add(r);
                    break;
                }

                case OperationKind.Revoke:
                {
                    var r = ResourceIndex(s, op.Resource!);
                    var p = PrincipalIndex(s, op.Principal!);
                    after.SetGrants(r, after.Grants(r).Where(g => !(g.Principal == p && g.Role == op.Role)).ToArray());
                    affected.Add(r);
                    break;
                }

                case OperationKind.AddMember:
                case OperationKind.RemoveMember:
                {
                    var g = PrincipalIndex(s, op.Group!);
                    var m = PrincipalIndex(s, op.Member!);
                    if (op.Op == OperationKind.AddMember)
                    {
                        if (!after.Members(g).Contains(m))
                        {
                            after.SetMembers(g, [.. after.Members(g), m]);
                            after.SetParents(m, [.. after.Parents(m), g]);
                        }
                    }
                    else
                    {
                        after.SetMembers(g, after.Members(g).ToArray().Where(x => x != m).ToArray());
                        after.SetParents(m, after.Parents(m).ToArray().Where(x => x != g).ToArray());
                    }

                    memberGroups.Add(g);
                    break;
                }

                case OperationKind.SetVisibility:
                {
                    var g = PrincipalIndex(s, op.Group!);
                    after.SetVisibility(g, op.Visibility!.Value);
                    for (var r = 0; r < s.ResourceCount; r++)
                    {
                        if (s.ResourceGroup[r] == g)
                        {
                            affected.Add(r);
                        }
                    }

                    break;
                }

                default:
                    throw new InvalidOperationException("unknown operation " + op.Op);
            }
        }

        // Resources granted to a changed group or to any group above it, before or after every operation.
        foreach (var g in memberGroups)
        {
            foreach (var state in new[] { before, after })
            {
                foreach (var a in state.Ancestors(g))
                {
                    foreach (var gi in s.GrantsOfPrincipal(a))
                    {
                        affected.Add(s.GrantResource[gi]);
                    }

                    foreach (var (r, _) in after.EditedGrants)
                    {
                        if (state.Grants(r).Any(x => x.Principal == a))
                        {
                            affected.Add(r);
                        }
                    }
                }
            }
        }

        var eb = new Access(before);
        var ea = new Access(after);
        var result = new Naive.Result();
        var seen = new int[s.PrincipalSlots];
        var stamp = 0;
        foreach (var r in affected)
        {
            eb.Evaluate(r);
            ea.Evaluate(r);
            stamp++;
            Compare(eb.Touched, r, eb, ea, seen, stamp, result);
            Compare(ea.Touched, r, eb, ea, seen, stamp, result);
        }

        result.Gained.Sort();
        result.Lost.Sort();
        result.ResourcesEvaluated = affected.Count;
        return result;
    }

    private static void Compare(List<int> touched, int r, Access eb, Access ea, int[] seen, int stamp, Naive.Result result)
    {
        foreach (var p in touched)
        {
            if (seen[p] == stamp)
            {
                continue;
            }

            seen[p] = stamp;
            var rb = eb.RoleOf(p);
            var ra = ea.RoleOf(p);
            if (ra > rb)
            {
                result.Gained.Add(new Naive.Delta(r, p, rb, ra));
            }
            else if (ra < rb)
            {
                result.Lost.Add(new Naive.Delta(r, p, rb, ra));
            }
        }
    }

    private static int ResourceIndex(AccessSnapshot s, string id) =>
        s.TryGetResourceIndex(id, out var r) ? r : throw new InvalidOperationException("targeted: unknown resource " + id);

    private static int PrincipalIndex(AccessSnapshot s, string id) =>
        s.TryGetPrincipalIndex(id, out var p) ? p : throw new InvalidOperationException("targeted: unknown principal " + id);

    /// <summary>The snapshot seen through the edits of a change.</summary>
    private sealed class State(AccessSnapshot s)
    {
        private readonly Dictionary<int, int[]> _members = new();
        private readonly Dictionary<int, int[]> _parents = new();
        private readonly Dictionary<int, GrantRow[]> _grants = new();
        private readonly Dictionary<int, GroupVisibility> _visibility = new();

        public AccessSnapshot Snapshot => s;

        public IEnumerable<KeyValuePair<int, GrantRow[]>> EditedGrants => _grants;

        public ReadOnlySpan<int> Members(int g) => _members.TryGetValue(g, out var m) ? m : s.MembersOf(g);

        public ReadOnlySpan<int> Parents(int p) => _parents.TryGetValue(p, out var m) ? m : s.ParentsOf(p);

        public GrantRow[] Grants(int r)
        {
            if (_grants.TryGetValue(r, out var list))
            {
                return list;
            }

            var rows = new List<GrantRow>();
            foreach (var g in s.GrantsOfResource(r))
            {
                var role = s.RoleNames[s.GrantRoleName[g]];
                rows.Add(new GrantRow(s.GrantPrincipal[g], Naive.Level(role), role));
            }

            return rows.ToArray();
        }

        public GroupVisibility Visibility(int g) => _visibility.TryGetValue(g, out var v) ? v : s.Visibility[g];

        public void SetMembers(int g, int[] m) => _members[g] = m;

        public void SetParents(int p, int[] m) => _parents[p] = m;

        public void SetGrants(int r, GrantRow[] g) => _grants[r] = g;

        public void SetVisibility(int g, GroupVisibility v) => _visibility[g] = v;

        /// <summary>The group and every group above it (cycles included).</summary>
        public List<int> Ancestors(int g)
        {
            var seen = new HashSet<int> { g };
            var list = new List<int> { g };
            for (var i = 0; i < list.Count; i++)
            {
                foreach (var parent in Parents(list[i]))
                {
                    if (seen.Add(parent))
                    {
                        list.Add(parent);
                    }
                }
            }

            return list;
        }
    }

    /// <summary>Effective access of one resource at a time in one state (as <see cref="Naive"/>'s, over the overlay).</summary>
    private sealed class Access
    {
        private readonly State _t;
        private readonly AccessSnapshot _s;
        private readonly Dictionary<int, int[]> _closure = new();
        private readonly byte[] _role;
        private readonly int[] _stamp;
        private readonly int[] _visit;
        private int _current;
        private int _visitStamp;

        public Access(State t)
        {
            _t = t;
            _s = t.Snapshot;
            _role = new byte[_s.PrincipalSlots];
            _stamp = new int[_s.PrincipalSlots];
            _visit = new int[_s.PrincipalSlots];
        }

        public List<int> Touched { get; } = new();

        public byte RoleOf(int p) => _stamp[p] == _current ? _role[p] : Naive.None;

        private bool Enabled(int p) => (_s.Flags[p] & AccessSnapshot.FlagDisabled) == 0;

        private bool IsMemberUser(int p) => (_s.Flags[p] & AccessSnapshot.FlagGuest) == 0;

        public void Evaluate(int r)
        {
            _current++;
            Touched.Clear();
            foreach (var g in _t.Grants(r))
            {
                var p = g.Principal;
                if (p == AccessSnapshot.EveryoneIndex || p == AccessSnapshot.EveryoneExceptExternalIndex)
                {
                    for (var u = AccessSnapshot.FirstPrincipal; u < _s.PrincipalSlots; u++)
                    {
                        if (_s.Types[u] == PrincipalType.User && Enabled(u) && (p == AccessSnapshot.EveryoneIndex || IsMemberUser(u)))
                        {
                            Set(u, g.Level);
                        }
                    }
                }
                else if (p == AccessSnapshot.AnyoneIndex)
                {
                    Set(p, g.Level);
                }
                else if (_s.Types[p] == PrincipalType.Group)
                {
                    foreach (var m in Closure(p)) Set(m, g.Level);
                }
                else if (Enabled(p))
                {
                    Set(p, g.Level);
                }
            }

            var connected = _s.ResourceGroup[r];
            if (connected >= 0 && _t.Visibility(connected) == GroupVisibility.Public)
            {
                for (var u = AccessSnapshot.FirstPrincipal; u < _s.PrincipalSlots; u++)
                {
                    if (_s.Types[u] == PrincipalType.User && Enabled(u) && IsMemberUser(u))
                    {
                        Set(u, 1);
                    }
                }
            }
        }

        private void Set(int p, byte level)
        {
            if (_stamp[p] != _current)
            {
                _stamp[p] = _current;
                _role[p] = level;
                Touched.Add(p);
            }
            else if (level > _role[p])
            {
                _role[p] = level;
            }
        }

        private int[] Closure(int group)
        {
            if (_closure.TryGetValue(group, out var done))
            {
                return done;
            }

            _visitStamp++;
            var result = new List<int>();
            var queue = new Queue<int>();
            queue.Enqueue(group);
            _visit[group] = _visitStamp;
            while (queue.Count > 0)
            {
                foreach (var m in _t.Members(queue.Dequeue()))
                {
                    if (_visit[m] == _visitStamp)
                    {
                        continue;
                    }

                    _visit[m] = _visitStamp;
                    if (_s.Types[m] == PrincipalType.Group)
                    {
                        queue.Enqueue(m);
                    }
                    else if (Enabled(m))
                    {
                        result.Add(m);
                    }
                }
            }

            return _closure[group] = result.ToArray();
        }
    }
}
