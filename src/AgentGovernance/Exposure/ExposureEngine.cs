using System;
using System.Collections.Generic;
using System.Linq;
using AgentGovernance.Changes;
using AgentGovernance.Directory;
using AgentGovernance.Policy;

namespace AgentGovernance.Exposure;

/// <summary>
/// Previews a change: applies its operations to an overlay of the snapshot, finds the resources
/// whose access can change, and for each computes the principals whose highest role rises or falls.
/// Only the touched part of the graph is walked: the grantees of affected resources, expanded
/// through nested groups (each group's closure once per state), with the tenant-wide audiences
/// kept symbolic unless their own role changes.
/// </summary>
public static class ExposureEngine
{
    public static ExposureReport Assess(AccessSnapshot snapshot, AccessChange change, GovernancePolicy? policy = null, DateTimeOffset? now = null)
    {
        policy ??= GovernancePolicy.Default;
        var before = new GraphState(snapshot);
        var after = new GraphState(snapshot);
        var notes = new List<string>(snapshot.Notes);
        var ctx = new ChangeContext(snapshot, change, policy);
        var affected = new Affected();
        foreach (var op in change.Operations)
        {
            ApplyOperation(after, op, notes, affected, before);
        }

        var scratch = Scratch.Rent(snapshot);
        try
        {
            return Assess(snapshot, change, policy, ctx, before, after, affected, notes, scratch, now);
        }
        finally
        {
            Scratch.Return(snapshot, scratch);
        }
    }

    private static ExposureReport Assess(AccessSnapshot snapshot, AccessChange change, GovernancePolicy policy, ChangeContext ctx,
        GraphState before, GraphState after, Affected affected, List<string> notes, Scratch scratch, DateTimeOffset? now)
    {
        var evalBefore = new Evaluator(before, scratch.Before);
        var evalAfter = new Evaluator(after, scratch.After);
        var diff = new DiffBuffers(scratch.Diff);
        var resources = new List<ResourceExposure>();
        MembershipCandidates? candidates = null;
        foreach (var r in affected.All)
        {
            ResourceExposure? exposure;
            if (affected.Full.Contains(r))
            {
                exposure = Diff(snapshot, r, evalBefore, evalAfter, diff, ctx);
            }
            else
            {
                // Only memberships changed for this resource: only the changed members' closures can move.
                candidates ??= new MembershipCandidates(evalBefore, evalAfter, affected, scratch);
                exposure = DiffCandidates(snapshot, r, candidates, evalAfter, diff, ctx);
            }

            if (exposure is not null)
            {
                resources.Add(exposure);
            }
        }

        // Distinct principals over all resources, and their kinds (the anonymous audience is a flag, not a principal).
        var seen = scratch.Seen; // 1 gained, 2 lost; cleared again below
        var byKind = new int[5];
        int distinctGained = 0, distinctLost = 0;
        foreach (var res in resources)
        {
            var idx = res.GainedIndexes;
            var kinds = res.GainedKinds;
            for (var i = 0; i < idx.Length; i++)
            {
                if ((seen[idx[i]] & 1) == 0)
                {
                    seen[idx[i]] |= 1;
                    byKind[(int)kinds[i]]++;
                    if (idx[i] != AccessSnapshot.AnyoneIndex)
                    {
                        distinctGained++;
                    }
                }
            }

            foreach (var p in res.LostIndexes)
            {
                if ((seen[p] & 2) == 0)
                {
                    seen[p] |= 2;
                    if (p != AccessSnapshot.AnyoneIndex)
                    {
                        distinctLost++;
                    }
                }
            }
        }

        foreach (var res in resources)
        {
            foreach (var p in res.GainedIndexes) seen[p] = 0;
            foreach (var p in res.LostIndexes) seen[p] = 0;
        }

        var findings = Rules.Evaluate(ctx, resources);
        var coverage = snapshot.CoverageGaps.Count == 0 ? Coverage.Complete : Coverage.Partial;
        if (coverage != Coverage.Complete && CanWiden(change))
        {
            // What could not be read may be exactly what the change opens: never "None" for that reason.
            findings.Add(new Finding(ExposureReport.CoverageRuleId, policy.IncompleteCoverageRisk, "*",
                $"Coverage is {coverage}: the preview could not see everything this change reaches ({string.Join("; ", snapshot.CoverageGaps)}). " +
                $"A change that can widen access is at least {policy.IncompleteCoverageRisk} until it is previewed with full coverage (policy IncompleteCoverageRisk).",
                0, hardDeny: false));
        }

        var risk = findings.Count == 0 ? RiskLevel.None : findings.Max(f => f.Severity);
        resources.Sort((a, b) =>
        {
            var c = b.GainedCount.CompareTo(a.GainedCount);
            if (c != 0) return c;
            c = b.Sensitivity.CompareTo(a.Sensitivity);
            return c != 0 ? c : a.Index.CompareTo(b.Index);
        });
        return new ExposureReport(change, snapshot, after, resources, findings, notes, policy.RequiredApprovals(risk),
            distinctGained, distinctLost, byKind, now ?? GovernanceClock.UtcNow)
        {
            Coverage = coverage,
            CoverageReasons = snapshot.CoverageGaps,
        };
    }

    /// <summary>Whether any operation can give access: a grant, a member added, a sharing link, a visibility change (Public opens connected resources).</summary>
    internal static bool CanWiden(AccessChange change) =>
        change.Operations.Any(op => op.Op is OperationKind.Grant or OperationKind.AddMember or OperationKind.CreateLink or OperationKind.SetVisibility);

    /// <summary>Applies one operation to the overlay, checking it against the state so far, and records the resources it can affect.</summary>
    private static void ApplyOperation(GraphState after, AccessOperation op, List<string> notes, Affected affected, GraphState before)
    {
        var s = after.Snapshot;
        switch (op.Op)
        {
            case OperationKind.Grant:
            {
                var r = Resource(s, op.Resource!);
                var p = Principal(s, op.Principal!, allowAudience: true);
                if (after.HasGrant(r, p, op.Role!))
                {
                    notes.Add($"{op}: already granted; nothing changes.");
                    return;
                }

                after.AddGrant(r, p, op.Role!);
                affected.AddFull(r);
                return;
            }

            case OperationKind.Revoke:
            {
                var r = Resource(s, op.Resource!);
                var p = Principal(s, op.Principal!, allowAudience: true);
                if (!after.HasGrant(r, p, op.Role!))
                {
                    throw new GovernanceException("GrantNotFound", GovernanceErrorKind.ObjectNotFound,
                        $"Cannot {op}: '{op.Principal}' holds no '{op.Role}' grant on '{op.Resource}'.", op.Resource);
                }

                after.RemoveGrant(r, p, op.Role!);
                affected.AddFull(r);
                return;
            }

            case OperationKind.CreateLink:
            {
                var r = Resource(s, op.Resource!);
                var audience = op.Scope == LinkScope.Anonymous ? AccessSnapshot.AnyoneIndex : AccessSnapshot.EveryoneExceptExternalIndex;
                if (after.HasGrant(r, audience, op.Role!))
                {
                    notes.Add($"{op}: such a link already exists; nothing changes.");
                    return;
                }

                after.AddGrant(r, audience, op.Role!);
                affected.AddFull(r);
                return;
            }

            case OperationKind.AddMember:
            case OperationKind.RemoveMember:
            {
                var g = Group(s, op.Group!);
                var m = Principal(s, op.Member!, allowAudience: false);
                if (op.Op == OperationKind.AddMember)
                {
                    if (g == m)
                    {
                        throw new GovernanceException("ChangeInvalid", GovernanceErrorKind.InvalidArgument, $"Cannot {op}: a group cannot be a member of itself.", op.Group);
                    }

                    if (after.IsMember(g, m))
                    {
                        notes.Add($"{op}: already a member; nothing changes.");
                        return;
                    }

                    after.AddMember(g, m);
                }
                else
                {
                    if (!after.IsMember(g, m))
                    {
                        throw new GovernanceException("MemberNotFound", GovernanceErrorKind.ObjectNotFound,
                            $"Cannot {op}: '{op.Member}' is not a direct member of '{op.Group}'.", op.Group);
                    }

                    after.RemoveMember(g, m);
                }

                // Every resource granted to the group or to a group that contains it, before or after.
                AddGrantedResources(before, g, affected.All);
                AddGrantedResources(after, g, affected.All);
                affected.ChangedMembers.Add(m);
                return;
            }

            default:
            {
                var g = Group(s, op.Group!);
                if (after.Visibility(g) == op.Visibility)
                {
                    notes.Add($"{op}: the group is already {op.Visibility}; nothing changes.");
                    return;
                }

                after.SetVisibility(g, op.Visibility!.Value);
                foreach (var r in s.ConnectedOf(g))
                {
                    affected.AddFull(r);
                }

                if (s.ConnectedOf(g).Length == 0)
                {
                    notes.Add($"{op}: no resource in the snapshot is connected to {op.Group}, so no exposure changes.");
                }

                return;
            }
        }
    }

    private static void AddGrantedResources(GraphState state, int group, SortedSet<int> affected)
    {
        var grants = new List<GrantEntry>();
        foreach (var a in Ancestors(state, group))
        {
            state.PrincipalGrants(a, grants);
            foreach (var g in grants)
            {
                affected.Add(g.Resource);
            }
        }
    }

    /// <summary>The group and every group that contains it, directly or through nesting (cycles included).</summary>
    internal static List<int> Ancestors(GraphState state, int start)
    {
        var seen = new HashSet<int> { start };
        var list = new List<int> { start };
        for (var i = 0; i < list.Count; i++)
        {
            foreach (var parent in state.Parents(list[i]))
            {
                if (seen.Add(parent))
                {
                    list.Add(parent);
                }
            }
        }

        return list;
    }

    private static ResourceExposure? Diff(AccessSnapshot s, int r, Evaluator b, Evaluator a, DiffBuffers d, ChangeContext ctx)
    {
        b.Evaluate(r);
        a.Evaluate(r);
        d.Next();
        var gained = new List<int>();
        var lost = new List<int>();
        var roleBefore = d.RoleBefore;
        var roleAfter = d.RoleAfter;

        void Consider(int p)
        {
            if (!d.Mark(p))
            {
                return;
            }

            var rb = b.RoleOf(p);
            var ra = a.RoleOf(p);
            if (ra != rb)
            {
                roleBefore[p] = rb;
                roleAfter[p] = ra;
                (ra > rb ? gained : lost).Add(p);
            }
        }

        foreach (var p in b.Touched) Consider(p);
        foreach (var p in a.Touched) Consider(p);
        if (b.Everyone != a.Everyone || b.EveryoneExceptExternal != a.EveryoneExceptExternal)
        {
            // An audience's role changed: every enabled user of it is a candidate. The principals with
            // an explicit role were considered above; the rest have the audience roles alone, which
            // are the same for every member (and for every guest): compare once, then list.
            var everyoneChanged = b.Everyone != a.Everyone;
            var memberBefore = Roles.Max(b.Everyone, b.EveryoneExceptExternal);
            var memberAfter = Roles.Max(a.Everyone, a.EveryoneExceptExternal);
            foreach (var p in everyoneChanged ? s.EnabledUsers : s.EnabledMembers)
            {
                if (!d.Mark(p))
                {
                    continue;
                }

                var guest = s.IsGuest(p);
                var rb = guest ? b.Everyone : memberBefore;
                var ra = guest ? a.Everyone : memberAfter;
                if (ra != rb)
                {
                    roleBefore[p] = rb;
                    roleAfter[p] = ra;
                    (ra > rb ? gained : lost).Add(p);
                }
            }
        }

        Consider(AccessSnapshot.AnyoneIndex);
        if (gained.Count == 0 && lost.Count == 0)
        {
            return null;
        }

        return Build(s, r, gained, lost, b, a, d, ctx);
    }

    /// <summary>The exposure of one resource from the principals whose role changes (roles in the diff buffers).</summary>
    private static ResourceExposure Build(AccessSnapshot s, int r, List<int> gained, List<int> lost, Evaluator b, Evaluator a, DiffBuffers d, ChangeContext ctx)
    {
        var roleBefore = d.RoleBefore;
        var roleAfter = d.RoleAfter;
        // Snapshot order, so the same change gives the same report.
        d.Sort(gained);
        d.Sort(lost);
        var n = gained.Count + lost.Count;
        var principals = new int[n];
        var rolesBefore = new AccessRole[n];
        var rolesAfter = new AccessRole[n];
        var kinds = new PrincipalKind[n];
        for (var i = 0; i < n; i++)
        {
            var p = i < gained.Count ? gained[i] : lost[i - gained.Count];
            principals[i] = p;
            rolesBefore[i] = roleBefore[p];
            rolesAfter[i] = roleAfter[p];
            kinds[i] = ctx.KindOf(p);
        }

        var exposure = new ResourceExposure(s, r, ctx.Policy.IsSensitive(s.ResourceSensitivity[r]), principals, rolesBefore, rolesAfter, kinds, gained.Count);
        if (a.Everyone > b.Everyone)
        {
            exposure.NewAudience = Audiences.Everyone;
        }
        else if (a.EveryoneExceptExternal > b.EveryoneExceptExternal)
        {
            exposure.NewAudience = a.PublicGroup && !b.PublicGroup
                ? $"every member user (its group {s.PrincipalId(s.ResourceGroup[r])} is Public)"
                : Audiences.EveryoneExceptExternal;
        }

        return exposure;
    }

    /// <summary>
    /// The diff of a resource whose grants and connected group did not change, only memberships: a
    /// principal's role can then move only if the groups above it changed, that is if it lies in the
    /// closure of a member added or removed. Those few candidates are checked against the resource's
    /// grants through their ancestor sets, instead of expanding every group that reaches the resource.
    /// </summary>
    private static ResourceExposure? DiffCandidates(AccessSnapshot s, int r, MembershipCandidates c, Evaluator after, DiffBuffers d, ChangeContext ctx)
    {
        // The audiences and the grants are the same in both states here; read them once.
        after.EvaluateAudiences(r);
        var grants = after.Grants;

        // Roles through groups, once per class of candidates (same kind, same relevant groups above
        // them in each state): grants x classes, and the classes are few because only the groups
        // granted on the affected resources tell candidates apart.
        var classes = c.Classes;
        var viaBefore = c.ViaBefore;
        var viaAfter = c.ViaAfter;
        Array.Clear(viaBefore, 0, viaBefore.Length);
        Array.Clear(viaAfter, 0, viaAfter.Length);
        var direct = c.Direct;
        direct.Clear();
        var words = c.Words;
        foreach (var g in grants)
        {
            if (g.Principal < AccessSnapshot.FirstPrincipal)
            {
                continue;
            }

            if (s.Types[g.Principal] != PrincipalType.Group)
            {
                direct.Add(g);
                continue;
            }

            var bit = c.BitOf(g.Principal);
            if (bit < 0)
            {
                continue; // no candidate has this group above it in either state
            }

            var word = bit >> 6;
            var mask = 1UL << (bit & 63);
            for (var k = 0; k < classes.Count; k++)
            {
                var key = classes[k].Key;
                if (g.Level > viaBefore[k] && (key[1 + word] & mask) != 0) viaBefore[k] = g.Level;
                if (g.Level > viaAfter[k] && (key[1 + words + word] & mask) != 0) viaAfter[k] = g.Level;
            }
        }

        // A class whose role is the same in both states has no candidate that moves (the audiences
        // and direct grants are the same for every candidate in both states).
        var member = Roles.Max(after.Everyone, after.EveryoneExceptExternal);
        var changed = c.Changed;
        var changedCount = 0;
        var only = -1;
        for (var k = 0; k < classes.Count; k++)
        {
            var audience = classes[k].Kind switch { KindMember => member, KindGuest => after.Everyone, _ => AccessRole.None };
            var rb = Roles.Max(audience, viaBefore[k]);
            var ra = Roles.Max(audience, viaAfter[k]);
            viaBefore[k] = rb;
            viaAfter[k] = ra;
            changed[k] = rb != ra;
            if (changed[k])
            {
                changedCount++;
                only = k;
            }
        }

        if (changedCount == 0)
        {
            return null;
        }

        d.Next();
        var gained = new List<int>();
        var lost = new List<int>();

        void Consider(int p, int k)
        {
            var rb = viaBefore[k];
            var ra = viaAfter[k];
            foreach (var g in direct)
            {
                if (g.Principal == p)
                {
                    rb = Roles.Max(rb, g.Level);
                    ra = Roles.Max(ra, g.Level);
                }
            }

            if (ra != rb)
            {
                d.RoleBefore[p] = rb;
                d.RoleAfter[p] = ra;
                (ra > rb ? gained : lost).Add(p);
            }
        }

        // Candidates in snapshot order either way: one class's own (sorted) list, or a scan of all.
        if (changedCount == 1)
        {
            foreach (var p in classes[only].Members)
            {
                Consider(p, only);
            }
        }
        else
        {
            var principals = c.Principals;
            var classOf = c.ClassOf;
            for (var i = 0; i < principals.Length; i++)
            {
                if (changed[classOf[i]])
                {
                    Consider(principals[i], classOf[i]);
                }
            }
        }

        return gained.Count == 0 && lost.Count == 0 ? null : Build(s, r, gained, lost, after, after, d, ctx);
    }

    private const int KindOther = 0;
    private const int KindGuest = 1;
    private const int KindMember = 2;

    private static int Resource(AccessSnapshot s, string id)
    {
        if (!s.TryGetResourceIndex(id, out var r))
        {
            throw new GovernanceException("UnknownResource", GovernanceErrorKind.ObjectNotFound, $"'{id}' is not a resource in the snapshot of {s.TenantId}.", id);
        }

        return r;
    }

    internal static int Principal(AccessSnapshot s, string id, bool allowAudience)
    {
        if (!s.TryResolvePrincipal(id, out var p))
        {
            throw new GovernanceException("UnknownPrincipal", GovernanceErrorKind.ObjectNotFound, $"'{id}' is not a principal (id or user principal name) in the snapshot of {s.TenantId}.", id);
        }

        if (!allowAudience && p < AccessSnapshot.FirstPrincipal)
        {
            throw new GovernanceException("ChangeInvalid", GovernanceErrorKind.InvalidArgument, $"The audience '{id}' cannot be a group member; grant to it instead.", id);
        }

        return p;
    }

    private static int Group(AccessSnapshot s, string id)
    {
        var g = Principal(s, id, allowAudience: false);
        if (s.Types[g] != PrincipalType.Group)
        {
            throw new GovernanceException("NotAGroup", GovernanceErrorKind.InvalidArgument, $"'{id}' is a {s.Types[g]}, not a group.", id);
        }

        return g;
    }

    /// <summary>Which resources a change can touch, and how.</summary>
    private sealed class Affected
    {
        public SortedSet<int> All { get; } = new();

        /// <summary>Resources whose grants or connected group changed: evaluated in full.</summary>
        public HashSet<int> Full { get; } = new();

        /// <summary>Principals added to or removed from a group.</summary>
        public List<int> ChangedMembers { get; } = new();

        public void AddFull(int r)
        {
            All.Add(r);
            Full.Add(r);
        }
    }

    /// <summary>
    /// The principals a membership change can move: the closures of the members added or removed, in
    /// either state; grouped into classes that share their kind (member user, guest, other) and the
    /// set of relevant groups above them in each state. The relevant groups are those granted on the
    /// resources diffed this way; every other group above a candidate cannot change its role on them,
    /// so users in many groups still fall into a handful of classes.
    /// </summary>
    private sealed class MembershipCandidates
    {
        private readonly Dictionary<int, int> _bit = new();

        public MembershipCandidates(Evaluator before, Evaluator after, Affected affected, Scratch scratch)
        {
            var s = before.State.Snapshot;

            // The relevant groups: granted on a resource whose grants did not change (so the same in both states).
            var grants = new List<GrantEntry>();
            foreach (var r in affected.All)
            {
                if (affected.Full.Contains(r))
                {
                    continue;
                }

                after.State.ResourceGrants(r, grants);
                foreach (var g in grants)
                {
                    if (g.Principal >= AccessSnapshot.FirstPrincipal && s.Types[g.Principal] == PrincipalType.Group && !_bit.ContainsKey(g.Principal))
                    {
                        _bit.Add(g.Principal, _bit.Count);
                    }
                }
            }

            Words = (_bit.Count + 63) / 64;

            // The candidates, each once, in snapshot order.
            var arrays = scratch.Diff;
            var visit = arrays.Visit;
            var mark = arrays.NextVisit();
            var list = new List<int>();
            void Add(int p)
            {
                if (visit[p] != mark)
                {
                    visit[p] = mark;
                    list.Add(p);
                }
            }

            foreach (var m in affected.ChangedMembers)
            {
                if (s.Types[m] == PrincipalType.Group)
                {
                    foreach (var p in before.Closure(m)) Add(p);
                    foreach (var p in after.Closure(m)) Add(p);
                }
                else if (s.IsEnabled(m))
                {
                    Add(m);
                }
            }

            if (list.Count > visit.Length / 16)
            {
                // Many: a scan of the marks is cheaper than a sort.
                var sorted = new int[list.Count];
                var n = 0;
                for (var p = 0; p < visit.Length && n < sorted.Length; p++)
                {
                    if (visit[p] == mark)
                    {
                        sorted[n++] = p;
                    }
                }

                Principals = sorted;
            }
            else
            {
                list.Sort();
                Principals = list.ToArray();
            }

            // Classes: (kind, relevant groups above before, relevant groups above after).
            var ancBefore = new AncestorBits(before.State, this, arrays);
            var ancAfter = new AncestorBits(after.State, this, arrays);
            var key = new ulong[1 + 2 * Words];
            var index = new Dictionary<ulong[], int>(KeyComparer.Instance);
            var members = new List<List<int>>();
            ClassOf = new int[Principals.Length];
            for (var i = 0; i < Principals.Length; i++)
            {
                var p = Principals[i];
                Array.Clear(key, 0, key.Length);
                key[0] = (ulong)(s.Types[p] != PrincipalType.User ? KindOther : s.IsGuest(p) ? KindGuest : KindMember);
                if (Words > 0)
                {
                    foreach (var parent in before.State.Parents(p)) ancBefore.OrInto(parent, key, 1);
                    foreach (var parent in after.State.Parents(p)) ancAfter.OrInto(parent, key, 1 + Words);
                }

                if (!index.TryGetValue(key, out var k))
                {
                    k = Classes.Count;
                    var copy = (ulong[])key.Clone();
                    index.Add(copy, k);
                    var ms = new List<int>();
                    members.Add(ms);
                    Classes.Add(new Class((int)key[0], copy, ms));
                }

                members[k].Add(p);
                ClassOf[i] = k;
            }

            ViaBefore = new AccessRole[Classes.Count];
            ViaAfter = new AccessRole[Classes.Count];
            Changed = new bool[Classes.Count];
        }

        /// <summary>Every candidate, in snapshot order.</summary>
        public int[] Principals { get; }

        /// <summary>The class of each candidate (same positions as <see cref="Principals"/>).</summary>
        public int[] ClassOf { get; }

        public List<Class> Classes { get; } = new();

        /// <summary>Words of one state's bit set in a class key.</summary>
        public int Words { get; }

        // Per-resource working space (one resource at a time).
        public AccessRole[] ViaBefore { get; }

        public AccessRole[] ViaAfter { get; }

        public bool[] Changed { get; }

        public List<GrantEntry> Direct { get; } = new();

        /// <summary>The bit of a relevant group, or -1.</summary>
        public int BitOf(int group) => _bit.TryGetValue(group, out var b) ? b : -1;

        /// <summary>A class: its kind, its key (kind, before bits, after bits) and its candidates in snapshot order.</summary>
        public sealed class Class
        {
            public Class(int kind, ulong[] key, List<int> members)
            {
                Kind = kind;
                Key = key;
                Members = members;
            }

            public int Kind { get; }

            public ulong[] Key { get; }

            public List<int> Members { get; }
        }

        /// <summary>Per group, the relevant groups among the group and everything above it in one state (memoised).</summary>
        private sealed class AncestorBits
        {
            private readonly GraphState _state;
            private readonly MembershipCandidates _c;
            private readonly Scratch.Arrays _arrays;
            private readonly Dictionary<int, ulong[]?> _memo = new();
            private readonly List<int> _queue = new();

            public AncestorBits(GraphState state, MembershipCandidates c, Scratch.Arrays arrays)
            {
                _state = state;
                _c = c;
                _arrays = arrays;
            }

            public void OrInto(int group, ulong[] key, int offset)
            {
                if (!_memo.TryGetValue(group, out var bits))
                {
                    bits = Compute(group);
                    _memo.Add(group, bits);
                }

                if (bits is null)
                {
                    return;
                }

                for (var w = 0; w < bits.Length; w++)
                {
                    key[offset + w] |= bits[w];
                }
            }

            private ulong[]? Compute(int group)
            {
                ulong[]? bits = null;
                var visit = _arrays.Visit;
                var mark = _arrays.NextVisit();
                _queue.Clear();
                _queue.Add(group);
                visit[group] = mark;
                for (var i = 0; i < _queue.Count; i++)
                {
                    var g = _queue[i];
                    var b = _c.BitOf(g);
                    if (b >= 0)
                    {
                        (bits ??= new ulong[_c.Words])[b >> 6] |= 1UL << (b & 63);
                    }

                    foreach (var parent in _state.Parents(g))
                    {
                        if (visit[parent] != mark)
                        {
                            visit[parent] = mark;
                            _queue.Add(parent);
                        }
                    }
                }

                return bits;
            }
        }

        private sealed class KeyComparer : IEqualityComparer<ulong[]>
        {
            public static readonly KeyComparer Instance = new();

            public bool Equals(ulong[]? x, ulong[]? y) => x is not null && y is not null && x.AsSpan().SequenceEqual(y);

            public int GetHashCode(ulong[] key)
            {
                ulong h = 14695981039346656037UL;
                foreach (var w in key)
                {
                    h = (h ^ w) * 1099511628211UL;
                    h ^= h >> 29;
                }

                return (int)h ^ (int)(h >> 32);
            }
        }
    }

    private sealed class DiffBuffers
    {
        private readonly Scratch.Arrays _arrays;
        private readonly int[] _stamp;
        private int _current;

        public DiffBuffers(Scratch.Arrays arrays)
        {
            _arrays = arrays;
            _stamp = arrays.Stamp;
            RoleBefore = arrays.Role;
            RoleAfter = arrays.Role2;
        }

        /// <summary>Roles of the principals whose role changes on the current resource, by principal index.</summary>
        public AccessRole[] RoleBefore { get; }

        public AccessRole[] RoleAfter { get; }

        public void Next() => _current = _arrays.NextStamp();

        /// <summary>True the first time a principal is seen for the current resource.</summary>
        public bool Mark(int p)
        {
            if (_stamp[p] == _current)
            {
                return false;
            }

            _stamp[p] = _current;
            return true;
        }

        /// <summary>
        /// Sorts principal indexes. The list is usually a short unsorted head (principals with an
        /// explicit role) and a long sorted tail (an audience's members, in index order): sort the head
        /// and merge, in linear time, rather than sorting a tenant-wide list.
        /// </summary>
        public void Sort(List<int> items)
        {
            var tail = items.Count - 1;
            while (tail > 0 && items[tail - 1] < items[tail])
            {
                tail--;
            }

            if (tail <= 0)
            {
                return;
            }

            var head = items.GetRange(0, tail);
            head.Sort();
            var merged = new List<int>(items.Count);
            int i = 0, j = tail;
            while (i < head.Count || j < items.Count)
            {
                merged.Add(j >= items.Count || (i < head.Count && head[i] < items[j]) ? head[i++] : items[j++]);
            }

            items.Clear();
            items.AddRange(merged);
        }


    }
}

/// <summary>
/// Effective roles on one resource in one state. Explicit grants are expanded to principals
/// (enabled users and service principals) through nested groups; the audiences are kept as three
/// roles, applied per principal on lookup. Group closures are cached for the life of one preview.
/// </summary>
internal sealed class Evaluator
{
    private readonly GraphState _state;
    private readonly AccessSnapshot _s;
    private readonly int[] _roleStamp;
    private readonly AccessRole[] _role;
    private readonly int[] _visit;
    private readonly Scratch.Arrays _arrays;
    private readonly Dictionary<int, int[]> _closures = new();
    private readonly List<GrantEntry> _grants = new();
    private readonly Stack<int> _stack = new();
    private int _stamp;
    private int _visitStamp;

    public Evaluator(GraphState state, Scratch.Arrays arrays)
    {
        _state = state;
        _s = state.Snapshot;
        _arrays = arrays;
        _roleStamp = arrays.Stamp;
        _role = arrays.Role;
        _visit = arrays.Visit;
    }

    public GraphState State => _state;

    public List<int> Touched { get; } = new();

    public AccessRole Everyone { get; private set; }

    public AccessRole EveryoneExceptExternal { get; private set; }

    public AccessRole Anyone { get; private set; }

    /// <summary>True when the resource is read by every member user because its connected group is Public.</summary>
    public bool PublicGroup { get; private set; }

    /// <summary>The grants of the last evaluated resource.</summary>
    public List<GrantEntry> Grants => _grants;

    /// <summary>Reads the resource's grants and its audience roles, without expanding any group.</summary>
    public void EvaluateAudiences(int resource) => Evaluate(resource, expandGroups: false);

    public void Evaluate(int resource) => Evaluate(resource, expandGroups: true);

    private void Evaluate(int resource, bool expandGroups)
    {
        _stamp = _arrays.NextStamp();
        Touched.Clear();
        Everyone = EveryoneExceptExternal = Anyone = AccessRole.None;
        PublicGroup = false;
        _state.ResourceGrants(resource, _grants);
        foreach (var g in _grants)
        {
            switch (g.Principal)
            {
                case AccessSnapshot.EveryoneIndex:
                    Everyone = Roles.Max(Everyone, g.Level);
                    break;
                case AccessSnapshot.EveryoneExceptExternalIndex:
                    EveryoneExceptExternal = Roles.Max(EveryoneExceptExternal, g.Level);
                    break;
                case AccessSnapshot.AnyoneIndex:
                    Anyone = Roles.Max(Anyone, g.Level);
                    break;
                default:
                    if (!expandGroups)
                    {
                        break;
                    }

                    if (_s.Types[g.Principal] == PrincipalType.Group)
                    {
                        foreach (var p in Closure(g.Principal))
                        {
                            Set(p, g.Level);
                        }
                    }
                    else if (_s.IsEnabled(g.Principal))
                    {
                        Set(g.Principal, g.Level);
                    }

                    break;
            }
        }

        var connected = _s.ResourceGroup[resource];
        if (connected >= 0 && _state.Visibility(connected) == GroupVisibility.Public)
        {
            PublicGroup = true;
            EveryoneExceptExternal = Roles.Max(EveryoneExceptExternal, AccessRole.Read);
        }
    }

    /// <summary>The highest role of a principal on the last evaluated resource.</summary>
    public AccessRole RoleOf(int p)
    {
        if (p == AccessSnapshot.AnyoneIndex)
        {
            return Anyone;
        }

        var explicitRole = _roleStamp[p] == _stamp ? _role[p] : AccessRole.None;
        if (_s.Types[p] != PrincipalType.User || !_s.IsEnabled(p))
        {
            return explicitRole;
        }

        var audience = _s.IsGuest(p) ? Everyone : Roles.Max(Everyone, EveryoneExceptExternal);
        return Roles.Max(explicitRole, audience);
    }

    /// <summary>Enabled users and service principals in a group, through any depth of nesting.</summary>
    public int[] Closure(int group)
    {
        if (_closures.TryGetValue(group, out var cached))
        {
            return cached;
        }

        _visitStamp = _arrays.NextVisit();
        var result = new List<int>();
        _stack.Clear();
        _stack.Push(group);
        _visit[group] = _visitStamp;
        while (_stack.Count > 0)
        {
            var g = _stack.Pop();
            foreach (var m in _state.Members(g))
            {
                if (_visit[m] == _visitStamp)
                {
                    continue;
                }

                _visit[m] = _visitStamp;
                var t = _s.Types[m];
                if (t == PrincipalType.Group)
                {
                    _stack.Push(m);
                }
                else if (_s.IsEnabled(m))
                {
                    result.Add(m);
                }
            }
        }

        var array = result.ToArray();
        _closures[group] = array;
        return array;
    }

    private void Set(int p, AccessRole level)
    {
        if (_roleStamp[p] != _stamp)
        {
            _roleStamp[p] = _stamp;
            _role[p] = level;
            Touched.Add(p);
        }
        else if (level > _role[p])
        {
            _role[p] = level;
        }
    }

}

/// <summary>What the rules need to know about the change and the people around it.</summary>
internal sealed class ChangeContext
{
    private readonly bool[]? _policyAgents;

    public ChangeContext(AccessSnapshot snapshot, AccessChange change, GovernancePolicy policy)
    {
        Snapshot = snapshot;
        Change = change;
        Policy = policy;
        foreach (var a in policy.AgentIdentities)
        {
            if (snapshot.TryResolvePrincipal(a, out var p) && p >= AccessSnapshot.FirstPrincipal)
            {
                (_policyAgents ??= new bool[snapshot.PrincipalSlots])[p] = true;
            }
        }

        if (change.RequestedBy is { } requester && snapshot.TryResolvePrincipal(requester, out var r) && r >= AccessSnapshot.FirstPrincipal)
        {
            Requester = r;
        }

        if (change.SuggestedBy is { Id: { } sid } && snapshot.TryResolvePrincipal(sid, out var sp) && sp >= AccessSnapshot.FirstPrincipal)
        {
            Suggester = sp;
        }
    }

    public AccessSnapshot Snapshot { get; }

    public AccessChange Change { get; }

    public GovernancePolicy Policy { get; }

    public int Requester { get; } = -1;

    public int Suggester { get; } = -1;

    public bool IsAgent(int p) => Snapshot.IsAgentFlag(p) || (_policyAgents is not null && _policyAgents[p]);

    public PrincipalKind KindOf(int p)
    {
        if (p == AccessSnapshot.AnyoneIndex) return PrincipalKind.Anonymous;
        if (IsAgent(p)) return PrincipalKind.Agent;
        if (Snapshot.Types[p] == PrincipalType.ServicePrincipal) return PrincipalKind.ServicePrincipal;
        return Snapshot.IsGuest(p) ? PrincipalKind.Guest : PrincipalKind.Member;
    }
}

/// <summary>
/// Per-principal working arrays of one preview, kept with the snapshot and reused: a tenant of
/// hundreds of thousands of principals would otherwise allocate megabytes for every preview.
/// Stamps (counters that mark what is current) make reuse safe without clearing.
/// </summary>
internal sealed class Scratch
{
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<AccessSnapshot, System.Collections.Concurrent.ConcurrentBag<Scratch>> Pools = new();

    private Scratch(int slots)
    {
        Before = new Arrays(slots);
        After = new Arrays(slots);
        Diff = new Arrays(slots);
        Seen = new byte[slots];
    }

    public Arrays Before { get; }

    public Arrays After { get; }

    public Arrays Diff { get; }

    /// <summary>All zero between previews.</summary>
    public byte[] Seen { get; }

    public static Scratch Rent(AccessSnapshot snapshot) =>
        Pools.GetValue(snapshot, _ => new System.Collections.Concurrent.ConcurrentBag<Scratch>()).TryTake(out var s) ? s : new Scratch(snapshot.PrincipalSlots);

    public static void Return(AccessSnapshot snapshot, Scratch scratch)
    {
        var pool = Pools.GetValue(snapshot, _ => new System.Collections.Concurrent.ConcurrentBag<Scratch>());
        if (pool.Count < 4)
        {
            pool.Add(scratch);
        }
    }

    internal sealed class Arrays
    {
        private int _stamp;
        private int _visit;

        public Arrays(int slots)
        {
            Stamp = new int[slots];
            Visit = new int[slots];
            Role = new AccessRole[slots];
            Role2 = new AccessRole[slots];
        }

        public int[] Stamp { get; }

        public int[] Visit { get; }

        public AccessRole[] Role { get; }

        public AccessRole[] Role2 { get; }

        public int NextStamp()
        {
            if (_stamp == int.MaxValue)
            {
                Array.Clear(Stamp, 0, Stamp.Length);
                _stamp = 0;
            }

            return ++_stamp;
        }

        public int NextVisit()
        {
            if (_visit == int.MaxValue)
            {
                Array.Clear(Visit, 0, Visit.Length);
                _visit = 0;
            }

            return ++_visit;
        }
    }
}
