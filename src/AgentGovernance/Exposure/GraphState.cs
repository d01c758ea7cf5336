using System;
using System.Collections.Generic;
using AgentGovernance.Directory;

namespace AgentGovernance.Exposure;

/// <summary>A grant as the engine sees it: who, what level, and the role name as written.</summary>
internal readonly struct GrantEntry
{
    public GrantEntry(int resource, int principal, AccessRole level, string role)
    {
        Resource = resource;
        Principal = principal;
        Level = level;
        Role = role;
    }

    public int Resource { get; }

    public int Principal { get; }

    public AccessRole Level { get; }

    public string Role { get; }
}

/// <summary>
/// The access graph as the engine reads it: a snapshot, optionally seen through an overlay of
/// changes. The overlay keeps only what a change touched (a group's new member list, a resource's
/// new grant list, a visibility), so previewing never copies the tenant.
/// </summary>
internal sealed class GraphState
{
    private Dictionary<int, int[]>? _members;
    private Dictionary<int, int[]>? _parents;
    private Dictionary<int, GrantEntry[]>? _resourceGrants;
    private Dictionary<int, GrantEntry[]>? _principalGrants;
    private Dictionary<int, GroupVisibility>? _visibility;

    public GraphState(AccessSnapshot snapshot) => Snapshot = snapshot;

    public AccessSnapshot Snapshot { get; }

    public ReadOnlySpan<int> Members(int group) =>
        _members is not null && _members.TryGetValue(group, out var m) ? m : Snapshot.MembersOf(group);

    public ReadOnlySpan<int> Parents(int principal) =>
        _parents is not null && _parents.TryGetValue(principal, out var p) ? p : Snapshot.ParentsOf(principal);

    public GroupVisibility Visibility(int group) =>
        _visibility is not null && _visibility.TryGetValue(group, out var v) ? v : Snapshot.Visibility[group];

    public void ResourceGrants(int resource, List<GrantEntry> into)
    {
        into.Clear();
        if (_resourceGrants is not null && _resourceGrants.TryGetValue(resource, out var list))
        {
            into.AddRange(list);
            return;
        }

        var s = Snapshot;
        foreach (var g in s.GrantsOfResource(resource))
        {
            into.Add(new GrantEntry(resource, s.GrantPrincipal[g], s.GrantLevel[g], s.RoleNames[s.GrantRoleName[g]]));
        }
    }

    public void PrincipalGrants(int principal, List<GrantEntry> into)
    {
        into.Clear();
        if (_principalGrants is not null && _principalGrants.TryGetValue(principal, out var list))
        {
            into.AddRange(list);
            return;
        }

        var s = Snapshot;
        foreach (var g in s.GrantsOfPrincipal(principal))
        {
            into.Add(new GrantEntry(s.GrantResource[g], principal, s.GrantLevel[g], s.RoleNames[s.GrantRoleName[g]]));
        }
    }

    /// <summary>Whether the current state holds exactly this grant (same role name).</summary>
    public bool HasGrant(int resource, int principal, string role)
    {
        var list = new List<GrantEntry>();
        ResourceGrants(resource, list);
        foreach (var g in list)
        {
            if (g.Principal == principal && g.Role == role)
            {
                return true;
            }
        }

        return false;
    }

    public bool IsMember(int group, int member) => Members(group).IndexOf(member) >= 0;

    // ---- overlay edits (used only while applying a change's operations) ----------------------

    public void AddGrant(int resource, int principal, string role)
    {
        var entry = new GrantEntry(resource, principal, Roles.Level(role), role);
        var list = new List<GrantEntry>();
        ResourceGrants(resource, list);
        list.Add(entry);
        (_resourceGrants ??= new())[resource] = list.ToArray();
        PrincipalGrants(principal, list);
        list.Add(entry);
        (_principalGrants ??= new())[principal] = list.ToArray();
    }

    public void RemoveGrant(int resource, int principal, string role)
    {
        var list = new List<GrantEntry>();
        ResourceGrants(resource, list);
        list.RemoveAll(g => g.Principal == principal && g.Role == role);
        (_resourceGrants ??= new())[resource] = list.ToArray();
        PrincipalGrants(principal, list);
        list.RemoveAll(g => g.Resource == resource && g.Role == role);
        (_principalGrants ??= new())[principal] = list.ToArray();
    }

    public void AddMember(int group, int member)
    {
        (_members ??= new())[group] = Append(Members(group), member);
        (_parents ??= new())[member] = Append(Parents(member), group);
    }

    public void RemoveMember(int group, int member)
    {
        (_members ??= new())[group] = Remove(Members(group), member);
        (_parents ??= new())[member] = Remove(Parents(member), group);
    }

    public void SetVisibility(int group, GroupVisibility visibility) => (_visibility ??= new())[group] = visibility;

    private static int[] Append(ReadOnlySpan<int> span, int value)
    {
        var a = new int[span.Length + 1];
        span.CopyTo(a);
        a[span.Length] = value;
        return a;
    }

    private static int[] Remove(ReadOnlySpan<int> span, int value)
    {
        var list = new List<int>(span.Length);
        foreach (var x in span)
        {
            if (x != value)
            {
                list.Add(x);
            }
        }

        return list.ToArray();
    }
}
