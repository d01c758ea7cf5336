using System;
using System.Collections.Generic;
using System.Linq;

namespace AgentGovernance.Directory;

/// <summary>
/// The access graph of one tenant at one time: principals, nested group membership, resources and
/// grants. Immutable once built. Principals are numbered densely (the three audiences first) and
/// adjacency is kept in compressed arrays, so a tenant of millions of edges loads and is walked
/// without per-edge objects. A change is previewed on an overlay (see Exposure), never on a copy.
/// </summary>
public sealed class AccessSnapshot
{
    internal const int EveryoneIndex = 0;
    internal const int EveryoneExceptExternalIndex = 1;
    internal const int AnyoneIndex = 2;
    internal const int FirstPrincipal = 3;

    internal const byte FlagGuest = 1;
    internal const byte FlagDisabled = 2;
    internal const byte FlagAgent = 4;

    private readonly string[] _principalIds;
    private readonly string?[] _principalNames;
    private readonly Utf8Map _principalIndex;
    private readonly Utf8Map _resourceIndex;
    private readonly int? _enabledUserTotal;
    private volatile Dictionary<string, int>? _upnIndex;

    internal AccessSnapshot(SnapshotBuilder b)
    {
        TenantId = b.TenantId;
        TenantDisplayName = b.TenantDisplayName;
        CapturedAtText = b.CapturedAtText;
        CapturedAt = b.CapturedAt;
        Source = b.Source;
        Notes = b.Notes.ToArray();
        Inventory = b.Drives.ToArray();
        CoverageGaps = b.CoverageGaps.Distinct(StringComparer.Ordinal).ToArray();
        InventoryDeltaLinks = new System.Collections.ObjectModel.ReadOnlyDictionary<string, string>(new SortedDictionary<string, string>(b.DeltaLinks, StringComparer.Ordinal));
        _enabledUserTotal = b.EnabledUserTotal;

        _principalIds = b.PrincipalIds.ToArray();
        _principalNames = b.PrincipalNames.ToArray();
        Types = b.Types.ToArray();
        Flags = b.Flags.ToArray();
        Visibility = b.Visibilities.ToArray();
        Upn = b.Upns.ToArray();
        Mail = b.Mails.ToArray();
        MailNickname = b.Nicknames.ToArray();
        _principalIndex = b.PrincipalIndex;

        var n = _principalIds.Length;
        (MemberStart, Members, ParentStart, Parents) = b.BuildMemberships(n);

        ResourceIds = b.ResourceIds.ToArray();
        ResourceTypes = b.ResourceTypes.ToArray();
        ResourceNames = b.ResourceNames.ToArray();
        ResourceUrls = b.ResourceUrls.ToArray();
        ResourceSensitivity = b.ResourceSensitivity.ToArray();
        ResourcePersonal = b.ResourcePersonal.ToArray();
        ResourceGroup = b.ResourceGroup.ToArray();
        _resourceIndex = b.ResourceIndex;
        var r = ResourceIds.Length;
        (OwnerStart, Owners) = Csr.Build(r, b.OwnerResource, b.OwnerPrincipal, byFirst: true);

        // Connected resources per group.
        var connGroup = new List<int>();
        var connRes = new List<int>();
        for (var i = 0; i < r; i++)
        {
            if (ResourceGroup[i] >= 0)
            {
                connGroup.Add(ResourceGroup[i]);
                connRes.Add(i);
            }
        }

        (ConnectedStart, Connected) = Csr.Build(n, connGroup, connRes, byFirst: true);

        RoleNames = b.RoleNames.ToArray();
        GrantResource = b.GrantResource.ToArray();
        GrantPrincipal = b.GrantPrincipal.ToArray();
        GrantRoleName = b.GrantRoleName.ToArray();
        GrantLevel = new AccessRole[GrantResource.Length];
        for (var i = 0; i < GrantLevel.Length; i++)
        {
            GrantLevel[i] = Roles.Level(RoleNames[GrantRoleName[i]]);
        }

        var ids = new List<int>(GrantResource.Length);
        for (var i = 0; i < GrantResource.Length; i++)
        {
            ids.Add(i);
        }

        (ResourceGrantStart, ResourceGrants) = Csr.Build(r, b.GrantResource, ids, byFirst: true);
        (PrincipalGrantStart, PrincipalGrants) = Csr.Build(n, b.GrantPrincipal, ids, byFirst: true);

        var enabledUsers = new List<int>();
        var enabledMembers = new List<int>();
        for (var i = FirstPrincipal; i < n; i++)
        {
            if (Types[i] == PrincipalType.User && (Flags[i] & FlagDisabled) == 0)
            {
                enabledUsers.Add(i);
                if ((Flags[i] & FlagGuest) == 0)
                {
                    enabledMembers.Add(i);
                }
            }

            switch (Types[i])
            {
                case PrincipalType.User:
                    UserCount++;
                    if ((Flags[i] & FlagGuest) != 0) GuestCount++;
                    if ((Flags[i] & FlagDisabled) != 0) DisabledUserCount++;
                    break;
                case PrincipalType.Group:
                    GroupCount++;
                    break;
                case PrincipalType.ServicePrincipal:
                    ServicePrincipalCount++;
                    break;
            }

            if ((Flags[i] & FlagAgent) != 0) AgentCount++;
        }

        EnabledUsers = enabledUsers.ToArray();
        EnabledMembers = enabledMembers.ToArray();
        MembershipCount = Members.Length;
    }

    public string TenantId { get; }

    public string? TenantDisplayName { get; }

    public DateTimeOffset? CapturedAt { get; }

    /// <summary>The drives of the permission inventory this snapshot carries (snapshot@2); empty when it has none.</summary>
    public IReadOnlyList<InventoryDrive> Inventory { get; }

    /// <summary>
    /// The inventory's delta links for the directory and the sites (snapshot@2 inventory.deltaLinks: "users",
    /// "groups", "sites"): -Update reads only what changed since them. Empty when the snapshot has none.
    /// </summary>
    public IReadOnlyDictionary<string, string> InventoryDeltaLinks { get; }

    /// <summary>The file the snapshot was read from, if any.</summary>
    public string? Source { get; }

    public int UserCount { get; }

    public int GuestCount { get; }

    public int DisabledUserCount { get; }

    /// <summary>Enabled users of the tenant: those in the snapshot, or for a partial read of a live tenant, the tenant's count.</summary>
    public int EnabledUserCount => _enabledUserTotal ?? EnabledUsers.Length;

    /// <summary>What a partial read of a live tenant could not read or left out; empty for a snapshot file.</summary>
    public IReadOnlyList<string> Notes { get; }

    /// <summary>
    /// What a live read of this (partial) snapshot could not see of what the change reaches: the
    /// reasons of a Partial coverage. Empty for a snapshot file, which is the whole graph the preview knows.
    /// </summary>
    public IReadOnlyList<string> CoverageGaps { get; }

    /// <summary>When the permission inventory was crawled: its oldest drive's crawledAt, else capturedAt; MinValue when neither is known.</summary>
    internal DateTimeOffset InventoryCrawledAt =>
        Inventory.Select(d => DateTimeOffset.TryParse(d.CrawledAt, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var t) ? t : (DateTimeOffset?)null)
            .Where(t => t is not null).Select(t => t!.Value).DefaultIfEmpty(CapturedAt ?? DateTimeOffset.MinValue).Min();

    public int GroupCount { get; }

    public int ServicePrincipalCount { get; }

    public int AgentCount { get; }

    public int PrincipalCount => _principalIds.Length - FirstPrincipal;

    public int ResourceCount => ResourceIds.Length;

    public int GrantCount => GrantResource.Length;

    public int MembershipCount { get; }

    /// <summary>Every principal, in document order.</summary>
    public IEnumerable<Principal> Principals
    {
        get
        {
            for (var i = FirstPrincipal; i < _principalIds.Length; i++)
            {
                yield return new Principal(this, i);
            }
        }
    }

    /// <summary>Every resource, in document order.</summary>
    public IEnumerable<Resource> Resources
    {
        get
        {
            for (var i = 0; i < ResourceIds.Length; i++)
            {
                yield return new Resource(this, i);
            }
        }
    }

    /// <summary>Every grant, in document order.</summary>
    public IEnumerable<Grant> Grants
    {
        get
        {
            for (var i = 0; i < GrantResource.Length; i++)
            {
                yield return new Grant(ResourceIds[GrantResource[i]], _principalIds[GrantPrincipal[i]], RoleNames[GrantRoleName[i]]);
            }
        }
    }

    /// <summary>The principal with this id (not an audience), or null.</summary>
    public Principal? FindPrincipal(string id) =>
        _principalIndex.Find(id) is var i && i >= FirstPrincipal ? new Principal(this, i) : null;

    public Resource? FindResource(string id) => _resourceIndex.Find(id) is var i && i >= 0 ? new Resource(this, i) : null;

    /// <summary>The direct members of a group (ids).</summary>
    public IReadOnlyList<string> GetMembers(string groupId)
    {
        var list = new List<string>();
        if (_principalIndex.Find(groupId) is var g && g >= 0)
        {
            foreach (var m in MembersOf(g))
            {
                list.Add(_principalIds[m]);
            }
        }

        return list;
    }

    public override string ToString() => $"{TenantDisplayName ?? TenantId} ({UserCount} users, {GroupCount} groups, {ResourceCount} resources)";

    // ---- internal, index-based access for the engine -------------------------------------------

    internal string? CapturedAtText { get; }

    internal PrincipalType[] Types { get; }

    internal byte[] Flags { get; }

    internal GroupVisibility[] Visibility { get; }

    internal string?[] Upn { get; }

    internal string?[] Mail { get; }

    internal string?[] MailNickname { get; }

    internal int[] MemberStart { get; }

    internal int[] Members { get; }

    internal int[] ParentStart { get; }

    internal int[] Parents { get; }

    internal string[] ResourceIds { get; }

    internal string[] ResourceTypes { get; }

    internal string?[] ResourceNames { get; }

    internal string?[] ResourceUrls { get; }

    internal Sensitivity[] ResourceSensitivity { get; }

    internal bool[] ResourcePersonal { get; }

    internal int[] ResourceGroup { get; }

    internal int[] OwnerStart { get; }

    internal int[] Owners { get; }

    internal int[] ConnectedStart { get; }

    internal int[] Connected { get; }

    internal string[] RoleNames { get; }

    internal int[] GrantResource { get; }

    internal int[] GrantPrincipal { get; }

    internal int[] GrantRoleName { get; }

    internal AccessRole[] GrantLevel { get; }

    internal int[] ResourceGrantStart { get; }

    internal int[] ResourceGrants { get; }

    internal int[] PrincipalGrantStart { get; }

    internal int[] PrincipalGrants { get; }

    internal int[] EnabledUsers { get; }

    internal int[] EnabledMembers { get; }

    internal int PrincipalSlots => _principalIds.Length;

    internal string PrincipalId(int index) => _principalIds[index];

    internal string PrincipalName(int index) => _principalNames[index] ?? _principalIds[index];

    internal bool HasDisplayName(int index) => _principalNames[index] is not null;

    internal PrincipalType PrincipalTypeOf(int index) => Types[index];

    internal bool IsGuest(int index) => (Flags[index] & FlagGuest) != 0;

    internal bool IsEnabled(int index) => (Flags[index] & FlagDisabled) == 0;

    internal bool IsAgentFlag(int index) => (Flags[index] & FlagAgent) != 0;

    internal GroupVisibility VisibilityOf(int index) => Visibility[index];

    internal int MemberCount(int group) => MemberStart[group + 1] - MemberStart[group];

    internal ReadOnlySpan<int> MembersOf(int group) => new(Members, MemberStart[group], MemberStart[group + 1] - MemberStart[group]);

    internal ReadOnlySpan<int> ParentsOf(int principal) => new(Parents, ParentStart[principal], ParentStart[principal + 1] - ParentStart[principal]);

    internal ReadOnlySpan<int> OwnersOf(int resource) => new(Owners, OwnerStart[resource], OwnerStart[resource + 1] - OwnerStart[resource]);

    internal ReadOnlySpan<int> ConnectedOf(int group) => new(Connected, ConnectedStart[group], ConnectedStart[group + 1] - ConnectedStart[group]);

    internal ReadOnlySpan<int> GrantsOfResource(int resource) => new(ResourceGrants, ResourceGrantStart[resource], ResourceGrantStart[resource + 1] - ResourceGrantStart[resource]);

    internal ReadOnlySpan<int> GrantsOfPrincipal(int principal) => new(PrincipalGrants, PrincipalGrantStart[principal], PrincipalGrantStart[principal + 1] - PrincipalGrantStart[principal]);

    internal bool TryGetPrincipalIndex(string id, out int index) => (index = _principalIndex.Find(id)) >= 0;

    internal bool TryGetResourceIndex(string id, out int index) => (index = _resourceIndex.Find(id)) >= 0;

    /// <summary>Finds a principal by id, or (users) by UPN, case-insensitively for UPNs.</summary>
    internal bool TryResolvePrincipal(string idOrUpn, out int index)
    {
        if (TryGetPrincipalIndex(idOrUpn, out index))
        {
            return true;
        }

        // Built once, on the first look-up by UPN; a snapshot is shared, so build under a lock.
        var upns = _upnIndex;
        if (upns is null)
        {
            lock (_principalIds)
            {
                upns = _upnIndex;
                if (upns is null)
                {
                    upns = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
                    for (var i = FirstPrincipal; i < _principalIds.Length; i++)
                    {
                        if (Upn[i] is { } upn && !upns.ContainsKey(upn))
                        {
                            upns.Add(upn, i);
                        }
                    }

                    _upnIndex = upns;
                }
            }
        }

        return upns.TryGetValue(idOrUpn, out index);
    }
}

/// <summary>Compressed sparse rows: for each key, a contiguous run of values.</summary>
internal static class Csr
{
    /// <summary>
    /// Groups the pairs (a[i], b[i]) by a (byFirst) or by b; values keep their input order within a key.
    /// </summary>
    public static (int[] Start, int[] Values) Build(int keys, List<int> a, List<int> b, bool byFirst)
    {
        var key = byFirst ? a : b;
        var val = byFirst ? b : a;
        var start = new int[keys + 1];
        for (var i = 0; i < key.Count; i++)
        {
            start[key[i] + 1]++;
        }

        for (var k = 0; k < keys; k++)
        {
            start[k + 1] += start[k];
        }

        var fill = new int[keys];
        Array.Copy(start, fill, keys);
        var values = new int[key.Count];
        for (var i = 0; i < key.Count; i++)
        {
            values[fill[key[i]]++] = val[i];
        }

        return (start, values);
    }

    /// <summary>
    /// The rows turned around: for each value of (start, values), the keys whose rows hold it, in key
    /// order (what <see cref="Build"/> with byFirst false gives for pairs in key order).
    /// </summary>
    public static (int[] Start, int[] Values) Invert(int keys, int[] start, int[] values)
    {
        var count = start[keys];
        var inverse = new int[keys + 1];
        for (var i = 0; i < count; i++)
        {
            inverse[values[i] + 1]++;
        }

        for (var k = 0; k < keys; k++)
        {
            inverse[k + 1] += inverse[k];
        }

        var fill = new int[keys];
        Array.Copy(inverse, fill, keys);
        var result = new int[count];
        for (var key = 0; key < keys; key++)
        {
            for (var i = start[key]; i < start[key + 1]; i++)
            {
                result[fill[values[i]]++] = key;
            }
        }

        return (inverse, result);
    }
}
