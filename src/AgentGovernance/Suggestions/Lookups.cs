using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.RegularExpressions;

namespace AgentGovernance.Suggestions;

/// <summary>
/// Read-only commands whose result an agent's script goes on to use ($group = Get-MgGroup -Filter
/// "displayName eq 'All Engineering'"; New-MgGroupMember -GroupId $group.Id ...), answered from the
/// snapshot instead of the tenant: by id, by an "eq" filter on a name, or by a search string.
/// Anything else they are given is not evaluated, and what depends on it is refused.
/// </summary>
internal static class Lookups
{
    private enum Target
    {
        User,
        Group,
        ServicePrincipal,
        DirectoryObject,
        Site,
        DirectoryRole,
        SharePointGroup,
    }

    /// <summary>Lookup commands: what they return, and the parameters that name it.</summary>
    private static readonly Dictionary<string, (Target Target, string[] Ids)> Commands = new(StringComparer.OrdinalIgnoreCase)
    {
        ["Get-MgUser"] = (Target.User, new[] { "UserId" }),
        ["Get-MgGroup"] = (Target.Group, new[] { "GroupId" }),
        ["Get-MgServicePrincipal"] = (Target.ServicePrincipal, new[] { "ServicePrincipalId" }),
        ["Get-MgDirectoryObject"] = (Target.DirectoryObject, new[] { "DirectoryObjectId" }),
        ["Get-MgSite"] = (Target.Site, new[] { "SiteId" }),
        ["Get-MgRoleManagementDirectoryRoleDefinition"] = (Target.DirectoryRole, new[] { "UnifiedRoleDefinitionId" }),
        ["Get-MgDirectoryRole"] = (Target.DirectoryRole, new[] { "DirectoryRoleId" }),
        ["Get-AzureADUser"] = (Target.User, new[] { "ObjectId" }),
        ["Get-AzureADGroup"] = (Target.Group, new[] { "ObjectId" }),
        ["Get-AzureADServicePrincipal"] = (Target.ServicePrincipal, new[] { "ObjectId" }),
        ["Get-AzureADDirectoryRole"] = (Target.DirectoryRole, new[] { "ObjectId" }),
        ["Get-AzADUser"] = (Target.User, new[] { "UserPrincipalName", "ObjectId", "DisplayName", "Mail" }),
        ["Get-AzADGroup"] = (Target.Group, new[] { "DisplayName", "ObjectId" }),
        ["Get-AzADServicePrincipal"] = (Target.ServicePrincipal, new[] { "DisplayName", "ObjectId" }),
        ["Get-Team"] = (Target.Group, new[] { "GroupId", "DisplayName", "MailNickName" }),
        ["Get-PnPMicrosoft365Group"] = (Target.Group, new[] { "Identity" }),
        ["Get-UnifiedGroup"] = (Target.Group, new[] { "Identity" }),
        ["Get-DistributionGroup"] = (Target.Group, new[] { "Identity" }),
        ["Get-PnPGroup"] = (Target.SharePointGroup, new[] { "Identity" }),
    };

    private static readonly string[] Switches = { "AssociatedVisitorGroup", "AssociatedMemberGroup", "AssociatedOwnerGroup", "All" };

    private static readonly Regex EqFilter = new(@"^\s*(?<prop>[A-Za-z]+)\s+eq\s+'(?<value>(?:[^']|'')*)'\s*$", RegexOptions.CultureInvariant);

    public static bool IsLookup(string name) => Commands.ContainsKey(name) || Commands.ContainsKey(name.Replace("-MgBeta", "-Mg"));

    public static bool IsSwitch(string parameter) => Switches.Any(s => s.StartsWith(parameter, StringComparison.OrdinalIgnoreCase) && parameter.Length >= 3);

    /// <summary>The object a lookup returns, or null when its arguments are not ones this cmdlet can answer.</summary>
    public static Value? Evaluate(string name, IReadOnlyDictionary<string, Value> args, IReadOnlyList<Value> positional, DirectoryNames names, string? pnpSite)
    {
        var (target, ids) = Commands.TryGetValue(name, out var t) ? t : Commands[name.Replace("-MgBeta", "-Mg")];
        if (target == Target.SharePointGroup)
        {
            return SharePointGroup(args, positional, names, pnpSite);
        }

        foreach (var id in ids)
        {
            if (Arg(args, id) is { } v)
            {
                return Entity(target, ValueText.Single(v, "-" + id), names, byName: id is "DisplayName" or "MailNickName");
            }
        }

        if (positional.Count == 1 && ids.Contains("Identity"))
        {
            return Entity(target, ValueText.Single(positional[0], "-Identity"), names, byName: false);
        }

        if (Arg(args, "Filter") is { } filter)
        {
            var m = EqFilter.Match(ValueText.Single(filter, "-Filter"));
            if (!m.Success || !MapContext.Is(m.Groups["prop"].Value, "displayName", "userPrincipalName", "mail", "mailNickname", "id", "objectId"))
            {
                return null;
            }

            return Entity(target, m.Groups["value"].Value.Replace("''", "'"), names, byName: true);
        }

        if (Arg(args, "SearchString") is { } search)
        {
            var text = ValueText.Single(search, "-SearchString");
            return new EntityValue(EntityKind.Principal, names.PrincipalByPrefix(text, Want(target)), text);
        }

        return null;
    }

    private static Value Entity(Target target, string text, DirectoryNames names, bool byName)
    {
        switch (target)
        {
            case Target.Site:
                var site = names.Resource(text, "site", "site");
                return new EntityValue(EntityKind.Resource, site, names.ResourceName(site));
            case Target.DirectoryRole:
                var role = names.Resource(text, "directory role", "directoryRole");
                return new EntityValue(EntityKind.Resource, role, names.ResourceName(role));
            default:
                var id = names.Principal(text, Want(target), target == Target.Group ? "group" : "object");
                return new EntityValue(EntityKind.Principal, id, names.DisplayName(id));
        }
    }

    private static PrincipalWant Want(Target target) => target == Target.Group ? PrincipalWant.Group : PrincipalWant.Member;

    /// <summary>Get-PnPGroup -AssociatedVisitorGroup (and Member, Owner) or -Identity 'Site Visitors': a default group of the connected site.</summary>
    private static Value? SharePointGroup(IReadOnlyDictionary<string, Value> args, IReadOnlyList<Value> positional, DirectoryNames names, string? pnpSite)
    {
        string? suffix = null;
        foreach (var (flag, kind) in new[] { ("AssociatedVisitorGroup", "Visitors"), ("AssociatedMemberGroup", "Members"), ("AssociatedOwnerGroup", "Owners") })
        {
            if (Arg(args, flag) is BoolValue { Value: true })
            {
                suffix = kind;
            }
        }

        var identity = Arg(args, "Identity") ?? (positional.Count == 1 ? positional[0] : null);
        if (suffix is null && identity is null)
        {
            return null;
        }

        var siteUrl = pnpSite ?? throw new SuggestionRefusal(SuggestionFindingKind.DynamicValue, "no Connect-PnPOnline -Url comes before it, so the site is not known.");
        var site = names.Resource(siteUrl, "site", "site");
        var groupName = identity is null ? names.ResourceName(site) + " " + suffix : ValueText.Single(identity, "-Identity");
        return new EntityValue(EntityKind.SharePointGroup, groupName, groupName, site);
    }

    /// <summary>An argument by the parameter's name or a prefix of it, as PowerShell binds them.</summary>
    private static Value? Arg(IReadOnlyDictionary<string, Value> args, string name)
    {
        foreach (var a in args)
        {
            if (a.Key.Length >= 2 && name.StartsWith(a.Key, StringComparison.OrdinalIgnoreCase))
            {
                return a.Value;
            }
        }

        return null;
    }
}
