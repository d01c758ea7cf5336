using System;
using System.Collections.Generic;
using AgentGovernance.Changes;

namespace AgentGovernance.Directory;

/// <summary>
/// Makes the snapshot that results from applying one operation to another snapshot: everything is
/// copied as it is (same order, so the file diff shows only the change), with the one membership,
/// grant or visibility changed. Snapshots are immutable; this is how the snapshot provider "writes".
/// </summary>
internal static class SnapshotEditor
{
    /// <summary>The snapshot with <paramref name="op"/> applied. The operation names ids (resolve UPNs first).</summary>
    public static AccessSnapshot Apply(AccessSnapshot s, AccessOperation op)
    {
        int group = -1, member = -1, grantResource = -1, grantPrincipal = -1;
        string? grantRole = null;
        var addGrant = false;
        GroupVisibility? visibility = null;
        switch (op.Op)
        {
            case OperationKind.AddMember:
            case OperationKind.RemoveMember:
                group = Index(s, op.Group!);
                member = Index(s, op.Member!);
                break;
            case OperationKind.SetVisibility:
                group = Index(s, op.Group!);
                visibility = op.Visibility;
                break;
            case OperationKind.Grant:
            case OperationKind.Revoke:
            case OperationKind.CreateLink:
                grantResource = s.TryGetResourceIndex(op.Resource!, out var r) ? r : throw Missing("resource", op.Resource!);
                grantPrincipal = op.Op == OperationKind.CreateLink ? LinkAudience(op.Scope!.Value) : Index(s, op.Principal!);
                grantRole = op.Role!;
                addGrant = op.Op != OperationKind.Revoke;
                break;
        }

        var b = new SnapshotBuilder(s.TenantId, s.PrincipalCount, s.ResourceCount)
        {
            TenantDisplayName = s.TenantDisplayName,
            CapturedAt = s.CapturedAt,
            CapturedAtText = s.CapturedAtText,
            Source = s.Source,
        };
        for (var i = AccessSnapshot.FirstPrincipal; i < s.PrincipalSlots; i++)
        {
            b.AddPrincipal(s.PrincipalId(i), s.Types[i], s.HasDisplayName(i) ? s.PrincipalName(i) : null, s.Upn[i], s.IsGuest(i), s.IsEnabled(i),
                s.IsAgentFlag(i), i == group && visibility is { } v ? v : s.Visibility[i], s.Mail[i], s.MailNickname[i]);
        }

        for (var g = AccessSnapshot.FirstPrincipal; g < s.PrincipalSlots; g++)
        {
            var present = false;
            foreach (var m in s.MembersOf(g))
            {
                if (g == group && m == member)
                {
                    present = true;
                    if (op.Op == OperationKind.RemoveMember)
                    {
                        continue;
                    }
                }

                b.AddMember(g, m);
            }

            if (g == group && op.Op == OperationKind.AddMember && !present)
            {
                b.AddMember(g, member);
            }
        }

        for (var r = 0; r < s.ResourceCount; r++)
        {
            b.AddResource(s.ResourceIds[r], s.ResourceTypes[r], s.ResourceNames[r], s.ResourceSensitivity[r], s.ResourcePersonal[r], s.ResourceGroup[r], s.ResourceUrls[r]);
            foreach (var o in s.OwnersOf(r))
            {
                b.AddOwner(r, o);
            }
        }

        var granted = false;
        for (var g = 0; g < s.GrantCount; g++)
        {
            var role = s.RoleNames[s.GrantRoleName[g]];
            if (s.GrantResource[g] == grantResource && s.GrantPrincipal[g] == grantPrincipal && role == grantRole)
            {
                granted = true;
                if (!addGrant)
                {
                    continue;
                }
            }

            b.AddGrant(s.GrantResource[g], s.GrantPrincipal[g], role);
        }

        if (addGrant && !granted)
        {
            b.AddGrant(grantResource, grantPrincipal, grantRole!);
        }

        return b.Build();
    }

    internal static int LinkAudience(LinkScope scope) =>
        scope == LinkScope.Anonymous ? AccessSnapshot.AnyoneIndex : AccessSnapshot.EveryoneExceptExternalIndex;

    private static int Index(AccessSnapshot s, string id) =>
        s.TryResolvePrincipal(id, out var i) ? i : throw Missing("principal", id);

    private static GovernanceException Missing(string what, string id) =>
        new("DirectoryObjectNotFound", GovernanceErrorKind.ObjectNotFound, $"The {what} '{id}' is not in the snapshot.", id);
}
