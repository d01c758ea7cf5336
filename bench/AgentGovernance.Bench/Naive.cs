using AgentGovernance.Changes;
using AgentGovernance.Directory;

namespace AgentGovernanceBench;

/// <summary>
/// The baseline the engine is measured against, and the oracle it is checked against: a full copy of
/// the tenant with the change applied, the effective access of EVERY resource computed before and
/// after straight from formats.md, and a diff. Written independently of the engine (it reads only
/// the snapshot's parsed arrays, never GraphState, Evaluator or EffectiveAccess).
/// <para>
/// Not a straw man: each group's transitive membership is computed once per state (memoised) and
/// each resource's roles are held in a reusable stamped array. Because the tenant-wide audiences make
/// the full effective-access table far too large to hold (a resource granted to everyone has ~290k
/// entries), resources are evaluated before and after one at a time and diffed as they go; the work
/// is the same as computing both tables and diffing them.
/// </para>
/// </summary>
internal static class Naive
{
    public const byte None = 0;

    /// <summary>read &lt; write &lt; owner; any other role name counts as read (formats.md).</summary>
    public static byte Level(string role) => role switch
    {
        "owner" => 3,
        "write" => 2,
        _ => 1,
    };

    /// <summary>One principal whose highest role on one resource changes.</summary>
    public readonly record struct Delta(int Resource, int Principal, byte Before, byte After) : IComparable<Delta>
    {
        public int CompareTo(Delta other)
        {
            var c = Resource.CompareTo(other.Resource);
            return c != 0 ? c : Principal.CompareTo(other.Principal);
        }
    }

    public sealed class Result
    {
        public List<Delta> Gained { get; } = new();

        public List<Delta> Lost { get; } = new();

        public int ResourcesEvaluated { get; set; }

        public long RoleAssignments { get; set; }
    }

    /// <summary>Copies the snapshot twice (before, and after with the change applied), evaluates every resource in both, diffs.</summary>
    public static Result Diff(AccessSnapshot s, AccessChange change)
    {
        var before = Tenant.Copy(s);
        var after = Tenant.Copy(s);
        foreach (var op in change.Operations)
        {
            after.Apply(s, op);
        }

        var eb = new Access(before);
        var ea = new Access(after);
        var result = new Result();
        var seen = new int[s.PrincipalSlots];
        var stamp = 0;
        for (var r = 0; r < before.ResourceCount; r++)
        {
            eb.Evaluate(r);
            ea.Evaluate(r);
            stamp++;
            Compare(eb.Touched, r, eb, ea, seen, stamp, result);
            Compare(ea.Touched, r, eb, ea, seen, stamp, result);
        }

        // Touched lists are in assignment order; report in (resource, principal) order.
        result.Gained.Sort();
        result.Lost.Sort();
        result.ResourcesEvaluated = before.ResourceCount;
        result.RoleAssignments = eb.Assignments + ea.Assignments;
        return result;
    }

    private static void Compare(List<int> touched, int r, Access eb, Access ea, int[] seen, int stamp, Result result)
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
                result.Gained.Add(new Delta(r, p, rb, ra));
            }
            else if (ra < rb)
            {
                result.Lost.Add(new Delta(r, p, rb, ra));
            }
        }
    }

    private readonly record struct GrantRow(int Principal, byte Level, string Role);

    /// <summary>A full, mutable copy of a tenant: every group's member list, every resource's grants, every visibility.</summary>
    private sealed class Tenant
    {
        public int Slots;
        public int ResourceCount;
        public PrincipalType[] Types = [];
        public bool[] Enabled = [];
        public bool[] Guest = [];
        public GroupVisibility[] Visibility = [];
        public int[][] Members = [];
        public GrantRow[][] Grants = [];
        public int[] ResourceGroup = [];

        public static Tenant Copy(AccessSnapshot s)
        {
            var t = new Tenant { Slots = s.PrincipalSlots, ResourceCount = s.ResourceCount };
            var n = t.Slots;
            t.Types = (PrincipalType[])s.Types.Clone();
            t.Enabled = new bool[n];
            t.Guest = new bool[n];
            for (var i = 0; i < n; i++)
            {
                t.Enabled[i] = (s.Flags[i] & AccessSnapshot.FlagDisabled) == 0;
                t.Guest[i] = (s.Flags[i] & AccessSnapshot.FlagGuest) != 0;
            }

            t.Visibility = (GroupVisibility[])s.Visibility.Clone();
            t.Members = new int[n][];
            for (var i = 0; i < n; i++)
            {
                t.Members[i] = s.Members.AsSpan(s.MemberStart[i], s.MemberStart[i + 1] - s.MemberStart[i]).ToArray();
            }

            // Grants from the flat document-order lists, bucketed per resource.
            var count = new int[t.ResourceCount];
            foreach (var r in s.GrantResource)
            {
                count[r]++;
            }

            t.Grants = new GrantRow[t.ResourceCount][];
            for (var r = 0; r < t.ResourceCount; r++)
            {
                t.Grants[r] = new GrantRow[count[r]];
                count[r] = 0;
            }

            for (var g = 0; g < s.GrantResource.Length; g++)
            {
                var r = s.GrantResource[g];
                var role = s.RoleNames[s.GrantRoleName[g]];
                t.Grants[r][count[r]++] = new GrantRow(s.GrantPrincipal[g], Level(role), role);
            }

            t.ResourceGroup = (int[])s.ResourceGroup.Clone();
            return t;
        }

        public void Apply(AccessSnapshot s, AccessOperation op)
        {
            switch (op.Op)
            {
                case OperationKind.Grant:
                    AddGrant(ResourceIndex(s, op.Resource!), PrincipalIndex(s, op.Principal!), op.Role!);
                    break;
                case OperationKind.CreateLink:
                    AddGrant(ResourceIndex(s, op.Resource!), op.Scope == LinkScope.Anonymous ? AccessSnapshot.AnyoneIndex : AccessSnapshot.EveryoneExceptExternalIndex, op.Role!);
                    break;
                case OperationKind.Revoke:
                {
                    var r = ResourceIndex(s, op.Resource!);
                    var p = PrincipalIndex(s, op.Principal!);
                    Grants[r] = Grants[r].Where(g => !(g.Principal == p && g.Role == op.Role)).ToArray();
                    break;
                }

                case OperationKind.AddMember:
                {
                    var g = PrincipalIndex(s, op.Group!);
                    Members[g] = [.. Members[g], PrincipalIndex(s, op.Member!)];
                    break;
                }

                case OperationKind.RemoveMember:
                {
                    var g = PrincipalIndex(s, op.Group!);
                    var m = PrincipalIndex(s, op.Member!);
                    Members[g] = Members[g].Where(x => x != m).ToArray();
                    break;
                }

                case OperationKind.SetVisibility:
                    Visibility[PrincipalIndex(s, op.Group!)] = op.Visibility!.Value;
                    break;
                default:
                    throw new InvalidOperationException("unknown operation " + op.Op);
            }
        }

        private void AddGrant(int r, int p, string role)
        {
            if (!Grants[r].Any(g => g.Principal == p && g.Role == role))
            {
                Grants[r] = [.. Grants[r], new GrantRow(p, Level(role), role)];
            }
        }

        private static int ResourceIndex(AccessSnapshot s, string id) =>
            s.TryGetResourceIndex(id, out var r) ? r : throw new InvalidOperationException("naive: unknown resource " + id);

        private static int PrincipalIndex(AccessSnapshot s, string id) =>
            s.TryGetPrincipalIndex(id, out var p) ? p : throw new InvalidOperationException("naive: unknown principal " + id);
    }

    /// <summary>Effective access (highest role per principal) of one resource at a time, in one state.</summary>
    private sealed class Access
    {
        private readonly Tenant _t;
        private readonly int[]?[] _closure;
        private readonly int[] _enabledUsers;
        private readonly int[] _enabledMembers;
        private readonly byte[] _role;
        private readonly int[] _stamp;
        private readonly int[] _visit;
        private int _current;
        private int _visitStamp;

        public Access(Tenant t)
        {
            _t = t;
            _closure = new int[]?[t.Slots];
            var users = new List<int>();
            var members = new List<int>();
            for (var p = AccessSnapshot.FirstPrincipal; p < t.Slots; p++)
            {
                if (t.Types[p] == PrincipalType.User && t.Enabled[p])
                {
                    users.Add(p);
                    if (!t.Guest[p])
                    {
                        members.Add(p);
                    }
                }
            }

            _enabledUsers = users.ToArray();
            _enabledMembers = members.ToArray();
            _role = new byte[t.Slots];
            _stamp = new int[t.Slots];
            _visit = new int[t.Slots];
        }

        public List<int> Touched { get; } = new();

        public long Assignments { get; private set; }

        public byte RoleOf(int p) => _stamp[p] == _current ? _role[p] : None;

        public void Evaluate(int r)
        {
            _current++;
            Touched.Clear();
            foreach (var g in _t.Grants[r])
            {
                var p = g.Principal;
                if (p == AccessSnapshot.EveryoneIndex)
                {
                    foreach (var u in _enabledUsers) Set(u, g.Level);
                }
                else if (p == AccessSnapshot.EveryoneExceptExternalIndex)
                {
                    foreach (var u in _enabledMembers) Set(u, g.Level);
                }
                else if (p == AccessSnapshot.AnyoneIndex)
                {
                    Set(p, g.Level);
                }
                else if (_t.Types[p] == PrincipalType.Group)
                {
                    foreach (var m in Closure(p)) Set(m, g.Level);
                }
                else if (_t.Enabled[p])
                {
                    Set(p, g.Level);
                }
            }

            var connected = _t.ResourceGroup[r];
            if (connected >= 0 && _t.Visibility[connected] == GroupVisibility.Public)
            {
                foreach (var u in _enabledMembers) Set(u, 1);
            }
        }

        private void Set(int p, byte level)
        {
            Assignments++;
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

        /// <summary>Enabled users and service principals reached from a group through any depth of nesting (cycles included).</summary>
        private int[] Closure(int group)
        {
            if (_closure[group] is { } done)
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
                foreach (var m in _t.Members[queue.Dequeue()])
                {
                    if (_visit[m] == _visitStamp)
                    {
                        continue;
                    }

                    _visit[m] = _visitStamp;
                    if (_t.Types[m] == PrincipalType.Group)
                    {
                        queue.Enqueue(m);
                    }
                    else if (_t.Enabled[m])
                    {
                        result.Add(m);
                    }
                }
            }

            return _closure[group] = result.ToArray();
        }
    }
}
