using System;
using System.Collections.Generic;
using System.Text;

namespace AgentGovernance.Directory;

/// <summary>
/// Collects a tenant and builds an <see cref="AccessSnapshot"/>. Used by the reader and by tests that
/// make their own tenants. Ids are checked as they are added; references are by index.
/// </summary>
internal sealed class SnapshotBuilder
{
    /// <param name="tenantId">The tenant.</param>
    /// <param name="principals">About how many principals to expect (sizes the id index).</param>
    /// <param name="resources">About how many resources to expect.</param>
    public SnapshotBuilder(string tenantId, int principals = 512, int resources = 512)
    {
        TenantId = tenantId;
        PrincipalIndex = new Utf8Map(principals + 3);
        ResourceIndex = new Utf8Map(resources);
        // Lists sized up front: on a large tenant, growing them copies each several times (and a list
        // of strings copies with the GC's write barrier).
        var p = Math.Max(principals, 0) + 3;
        var r = Math.Max(resources, 0);
        PrincipalIds = new List<string>(p);
        PrincipalNames = new List<string?>(p);
        Types = new List<PrincipalType>(p);
        Flags = new List<byte>(p);
        Visibilities = new List<GroupVisibility>(p);
        Upns = new List<string?>(p);
        Mails = new List<string?>(p);
        Nicknames = new List<string?>(p);
        ResourceIds = new List<string>(r);
        ResourceTypes = new List<string>(r);
        ResourceNames = new List<string?>(r);
        ResourceUrls = new List<string?>(r);
        ResourceSensitivity = new List<Sensitivity>(r);
        ResourcePersonal = new List<bool>(r);
        ResourceGroup = new List<int>(r);
        // A guess (most principals are users in a few groups each); the array grows by doubling past it.
        _memberTargets = new int[Math.Max(16, p * 4)];
        AddReserved(Audiences.Everyone);
        AddReserved(Audiences.EveryoneExceptExternal);
        AddReserved(Audiences.Anyone);
    }

    public string TenantId { get; set; }

    public string? TenantDisplayName { get; set; }

    public string? CapturedAtText { get; set; }

    public DateTimeOffset? CapturedAt { get; set; }

    public string? Source { get; set; }

    /// <summary>The drives of a permission inventory (snapshot@2); empty for a snapshot without one (snapshot@1).</summary>
    public List<InventoryDrive> Drives { get; } = new();

    /// <summary>
    /// What a partial snapshot (the part of a live tenant one change touches) could not read or left
    /// out, in words a person reads; the exposure report repeats them.
    /// </summary>
    public List<string> Notes { get; } = new();

    /// <summary>What a live read could not see of what the change reaches; empty when it saw everything (a snapshot file).</summary>
    public List<string> CoverageGaps { get; } = new();

    /// <summary>The inventory's delta links beyond its drives ("users", "groups", "sites"), which -Update continues from.</summary>
    public SortedDictionary<string, string> DeltaLinks { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// The tenant's enabled users when the snapshot holds only some of them (a partial read of a live
    /// tenant): what percentages are taken of. Null: count the users in the snapshot.
    /// </summary>
    public int? EnabledUserTotal { get; set; }

    internal List<string> PrincipalIds { get; }

    internal List<string?> PrincipalNames { get; }

    internal List<PrincipalType> Types { get; }

    internal List<byte> Flags { get; }

    internal List<GroupVisibility> Visibilities { get; }

    internal List<string?> Upns { get; }

    internal List<string?> Mails { get; }

    internal List<string?> Nicknames { get; }

    /// <summary>Principal ids (UTF-8) to their index.</summary>
    internal Utf8Map PrincipalIndex { get; }

    // Memberships: the member of each, and runs of consecutive memberships of one group (a reader
    // adds a group's members together, groups in document order), so that no group is stored per
    // membership and the members already are the compressed array when the runs are in group order.
    private int[] _memberTargets;
    private readonly List<int> _runGroup = new();
    private readonly List<int> _runStart = new();
    private bool _runsInOrder = true;

    internal List<string> ResourceIds { get; }

    internal List<string> ResourceTypes { get; }

    internal List<string?> ResourceNames { get; }

    internal List<string?> ResourceUrls { get; }

    internal List<Sensitivity> ResourceSensitivity { get; }

    internal List<bool> ResourcePersonal { get; }

    internal List<int> ResourceGroup { get; }

    internal Utf8Map ResourceIndex { get; }

    internal List<int> OwnerResource { get; } = new();

    internal List<int> OwnerPrincipal { get; } = new();

    internal List<string> RoleNames { get; } = new();

    private readonly Dictionary<string, int> _roleIndex = new(StringComparer.Ordinal);

    internal List<int> GrantResource { get; } = new();

    internal List<int> GrantPrincipal { get; } = new();

    internal List<int> GrantRoleName { get; } = new();

    public int PrincipalCount => PrincipalIds.Count;

    /// <summary>Adds a principal; returns its index, or -1 if the id is taken.</summary>
    public int AddPrincipal(string id, PrincipalType type, string? displayName = null, string? upn = null,
        bool guest = false, bool enabled = true, bool agent = false, GroupVisibility visibility = GroupVisibility.Private,
        string? mail = null, string? mailNickname = null) =>
        AddPrincipal(Encoding.UTF8.GetBytes(id), id, type, displayName, upn, guest, enabled, agent, visibility, mail, mailNickname);

    /// <summary>Adds a principal whose id the caller already has as UTF-8; returns its index, or -1 if the id is taken.</summary>
    public int AddPrincipal(ReadOnlySpan<byte> idUtf8, string id, PrincipalType type, string? displayName, string? upn,
        bool guest, bool enabled, bool agent, GroupVisibility visibility, string? mail, string? mailNickname)
    {
        // The id index hands out ordinals in insertion order, which are the principal indexes.
        var index = PrincipalIndex.Add(idUtf8);
        if (index < 0)
        {
            return -1;
        }

        AppendPrincipal(id, type, displayName, upn, guest, enabled, agent, visibility, mail, mailNickname);
        return index;
    }

    /// <summary>
    /// Adds a principal without indexing its id, and returns its index. The caller indexes the ids of
    /// appended principals later, in the same order, with <see cref="Utf8Map.AddMany"/> on
    /// <see cref="PrincipalIndex"/> (so that the index's ordinals stay the principal indexes), and
    /// fails the whole build on a duplicate.
    /// </summary>
    public int AppendPrincipal(string id, PrincipalType type, string? displayName, string? upn,
        bool guest, bool enabled, bool agent, GroupVisibility visibility, string? mail, string? mailNickname)
    {
        var index = PrincipalIds.Count;
        PrincipalIds.Add(id);
        PrincipalNames.Add(displayName);
        Types.Add(type);
        byte flags = 0;
        if (guest) flags |= AccessSnapshot.FlagGuest;
        if (!enabled) flags |= AccessSnapshot.FlagDisabled;
        if (agent) flags |= AccessSnapshot.FlagAgent;
        Flags.Add(flags);
        Visibilities.Add(visibility);
        Upns.Add(upn);
        Mails.Add(mail);
        Nicknames.Add(mailNickname);
        return index;
    }

    public void AddMember(int group, int member)
    {
        var count = MemberCount;
        var runs = _runGroup.Count;
        if (runs == 0 || _runGroup[runs - 1] != group)
        {
            _runsInOrder &= runs == 0 || _runGroup[runs - 1] < group;
            _runGroup.Add(group);
            _runStart.Add(count);
        }

        if (count == _memberTargets.Length)
        {
            Array.Resize(ref _memberTargets, count * 2);
        }

        _memberTargets[count] = member;
        MemberCount = count + 1;
    }

    /// <summary>The member of membership <paramref name="slot"/>.</summary>
    internal int MemberAt(int slot) => _memberTargets[slot];

    /// <summary>Sets the member of a membership added before it was known (a reference resolved later).</summary>
    internal void SetMember(int slot, int member) => _memberTargets[slot] = member;

    /// <summary>How many runs of one group's memberships there are (see <see cref="MemberRun"/>).</summary>
    internal int MemberRunCount => _runGroup.Count;

    /// <summary>Run <paramref name="run"/>: its group and its memberships [Start, End).</summary>
    internal (int Group, int Start, int End) MemberRun(int run) =>
        (_runGroup[run], _runStart[run], run + 1 < _runStart.Count ? _runStart[run + 1] : MemberCount);

    /// <summary>The run that holds membership <paramref name="slot"/>.</summary>
    internal int MemberRunOf(int slot)
    {
        int lo = 0, hi = _runStart.Count - 1;
        while (lo < hi)
        {
            var mid = (lo + hi + 1) / 2;
            if (_runStart[mid] <= slot) lo = mid;
            else hi = mid - 1;
        }

        return lo;
    }

    /// <summary>The memberships as compressed rows, both ways: each group's members, and each principal's groups.</summary>
    internal (int[] MemberStart, int[] Members, int[] ParentStart, int[] Parents) BuildMemberships(int principals)
    {
        var count = MemberCount;
        if (!_runsInOrder)
        {
            var groups = new List<int>(count);
            var members = new List<int>(count);
            for (var k = 0; k < _runGroup.Count; k++)
            {
                var (group, start, end) = MemberRun(k);
                for (var i = start; i < end; i++)
                {
                    groups.Add(group);
                    members.Add(_memberTargets[i]);
                }
            }

            var (memberStart, memberValues) = Csr.Build(principals, groups, members, byFirst: true);
            var (parentStart, parentValues) = Csr.Build(principals, groups, members, byFirst: false);
            return (memberStart, memberValues, parentStart, parentValues);
        }

        // Runs in group order: the members are already grouped; only the start of each group is needed.
        var starts = new int[principals + 1];
        for (var k = 0; k < _runGroup.Count; k++)
        {
            var (group, start, end) = MemberRun(k);
            starts[group + 1] = end - start;
        }

        for (var g = 0; g < principals; g++)
        {
            starts[g + 1] += starts[g];
        }

        var targets = _memberTargets;
        if (targets.Length != count)
        {
            Array.Resize(ref targets, count);
        }

        _memberTargets = targets;
        var (ps, pv) = Csr.Invert(principals, starts, targets);
        return (starts, targets, ps, pv);
    }

    /// <summary>Adds a resource; returns its index, or -1 if the id is taken.</summary>
    public int AddResource(string id, string type, string? displayName = null, Sensitivity sensitivity = Sensitivity.General,
        bool personalData = false, int group = -1, string? webUrl = null) =>
        AddResource(Encoding.UTF8.GetBytes(id), id, type, displayName, sensitivity, personalData, group, webUrl);

    public int AddResource(ReadOnlySpan<byte> idUtf8, string id, string type, string? displayName, Sensitivity sensitivity,
        bool personalData, int group, string? webUrl)
    {
        var index = ResourceIndex.Add(idUtf8);
        if (index < 0)
        {
            return -1;
        }

        ResourceIds.Add(id);
        ResourceTypes.Add(type);
        ResourceNames.Add(displayName);
        ResourceUrls.Add(webUrl);
        ResourceSensitivity.Add(sensitivity);
        ResourcePersonal.Add(personalData);
        ResourceGroup.Add(group);
        return index;
    }

    public void SetResourceGroup(int resource, int group) => ResourceGroup[resource] = group;

    public int MemberCount { get; private set; }

    public int OwnerCount => OwnerPrincipal.Count;

    public void AddOwner(int resource, int principal)
    {
        OwnerResource.Add(resource);
        OwnerPrincipal.Add(principal);
    }

    public int RoleNameIndex(string role)
    {
        if (!_roleIndex.TryGetValue(role, out var index))
        {
            index = RoleNames.Count;
            RoleNames.Add(role);
            _roleIndex.Add(role, index);
        }

        return index;
    }

    public void AddGrant(int resource, int principal, string role) => AddGrant(resource, principal, RoleNameIndex(role));

    /// <summary>Makes room for <paramref name="more"/> grants, so that adding them copies nothing.</summary>
    internal void ReserveGrants(int more)
    {
        var capacity = GrantResource.Count + more;
        if (GrantResource.Capacity < capacity)
        {
            GrantResource.Capacity = capacity;
            GrantPrincipal.Capacity = capacity;
            GrantRoleName.Capacity = capacity;
        }
    }

    /// <summary>Adds a grant whose role the caller has already numbered with <see cref="RoleNameIndex"/>.</summary>
    internal void AddGrant(int resource, int principal, int roleName)
    {
        GrantResource.Add(resource);
        GrantPrincipal.Add(principal);
        GrantRoleName.Add(roleName);
    }

    public AccessSnapshot Build() => new(this);

    private void AddReserved(string id)
    {
        PrincipalIndex.Add(Encoding.UTF8.GetBytes(id));
        PrincipalIds.Add(id);
        PrincipalNames.Add(id);
        Types.Add(PrincipalType.Audience);
        Flags.Add(0);
        Visibilities.Add(GroupVisibility.Private);
        Upns.Add(null);
        Mails.Add(null);
        Nicknames.Add(null);
    }
}
