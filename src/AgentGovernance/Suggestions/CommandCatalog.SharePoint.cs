using System;
using System.Linq;
using AgentGovernance.Changes;
using AgentGovernance.Directory;

namespace AgentGovernance.Suggestions;

/// <summary>
/// PnP.PowerShell (2.x and later). Its cmdlets act on the site of the last Connect-PnPOnline -Url
/// (or of -Connection), and SharePoint groups stand in for roles on the site: a site's default
/// Visitors, Members and Owners groups give read, write and owner (Full Control).
/// </summary>
internal static partial class CommandCatalog
{
    private const string SharePointGroupMembers = "its members are SharePoint group members, which the snapshot does not hold, so who would gain the role cannot be previewed";

    private static void AddSharePoint()
    {
        PnP("Add-PnPGroupMember", (c, m) =>
        {
            var (site, role, groupName) = SharePointGroup(c, m, "Group");
            m.Grant(site, m.Grantee(c.OptText("LoginName") ?? c.Text("EmailAddress"), "user"), role);
            m.Approximate($"'{groupName}' is taken to be a default SharePoint group of the site, whose members get {role}");
        }).With("LoginName", "Group|Identity", "EmailAddress", "!SendEmail", "EmailBody", "Batch");

        PnP("Remove-PnPGroupMember", (c, m) =>
        {
            var (site, role, groupName) = SharePointGroup(c, m, "Group");
            m.Revoke(site, m.Grantee(c.Text("LoginName"), "user"), role);
            m.Approximate($"'{groupName}' is taken to be a default SharePoint group of the site, whose members have {role}");
        }).With("LoginName", "Group|Identity", "Batch");

        PnP("Set-PnPGroup", (c, m) =>
        {
            foreach (var p in new[] { "AddRole", "RemoveRole", "SetAssociatedGroup", "Owner", "AllowRequestToJoinLeave", "AutoAcceptRequestToJoinLeave", "AllowMembersEditMembership" })
            {
                if (c.Has(p))
                {
                    throw new SuggestionRefusal(SuggestionFindingKind.Unmappable, $"-{p} changes what the SharePoint group '{c.Text("Identity")}' may do or who may join it; {SharePointGroupMembers}.");
                }
            }

            m.Ignore("it changes only the group's title or description");
        }).With("Identity", "SetAssociatedGroup", "AddRole", "RemoveRole", "Owner", "AllowRequestToJoinLeave", "AutoAcceptRequestToJoinLeave", "AllowMembersEditMembership")
          .Harmless("Title", "Description", "OnlyAllowMembersViewMembership", "RequestToJoinEmail");

        PnP("Set-PnPWebPermission", (c, m) =>
        {
            var site = c.Has("Url") ? m.Resource(m.SiteUrl(c.Text("Url")), "web", "site") : c.Has("Identity") ? m.Resource(m.SiteUrl(c.Text("Identity")), "web", "site") : Site(c, m);
            RolesTo(c, m, site, "web");
        }).With("Identity", "Url", "Group", "User", "AddRole", "RemoveRole");

        PnP("Set-PnPListPermission", (c, m) =>
        {
            var list = m.Resource(m.SiteUrl(c.Text("Identity")), "list", "list", "site", "driveItem");
            RolesTo(c, m, list, "list");
        }).With("Identity", "Group", "User", "AddRole", "RemoveRole");

        PnP("Set-PnPFolderPermission", (c, m) =>
        {
            if (c.Switch("InheritPermissions"))
            {
                throw new SuggestionRefusal(SuggestionFindingKind.Unmappable, "-InheritPermissions makes the folder take its parent's permissions, which the snapshot does not relate to the folder.");
            }

            var folder = m.Resource(m.SiteUrl(c.Text("Identity")), "folder", "folder", "driveItem");
            RolesTo(c, m, folder, "folder");
            if (c.Switch("ClearExisting"))
            {
                m.Approximate("-ClearExisting also removes the folder's other permissions, which the preview keeps");
            }
        }).With("List@0", "Identity", "Group", "User", "AddRole", "RemoveRole", "!ClearExisting", "!InheritPermissions", "!SystemUpdate");

        PnP("Set-PnPListItemPermission", (c, m) => throw new SuggestionRefusal(SuggestionFindingKind.Unmappable,
                $"it sets permissions on list item {c.OptText("Identity") ?? "?"} of '{c.OptText("List") ?? "?"}', and the snapshot does not know list items by list and id; share the file by its URL instead."))
            .With("List@0", "Identity", "Group", "User", "AddRole", "RemoveRole", "!ClearExisting", "!InheritPermissions", "!SystemUpdate");

        PnP("Add-PnPSiteCollectionAdmin", (c, m) =>
        {
            var site = Site(c, m);
            foreach (var owner in c.OptTexts("Owners").Concat(c.OptTexts("PrimarySiteCollectionAdmin")))
            {
                m.Grant(site, m.Grantee(owner, "site collection administrator"), "owner");
            }
        }).With("Owners", "PrimarySiteCollectionAdmin", "!MakePrimarySiteCollectionAdmin");

        PnP("Remove-PnPSiteCollectionAdmin", (c, m) =>
        {
            var site = Site(c, m);
            foreach (var owner in c.Texts("Owners"))
            {
                m.Revoke(site, m.Grantee(owner, "site collection administrator"), "owner");
            }
        }).With("Owners");

        PnP("Set-PnPSite", (c, m) => SiteOwners(c, m, c.Has("Identity") ? m.PnPSite(c.Text("Identity")) : Site(c, m)))
            .With("Identity|Url", "Owners")
            .Refusing("Sharing", "it changes the site's sharing capability (who may share with guests or anyone), a policy the change model cannot preview")
            .Refusing("LockState", "it changes the site's lock state, which changes who can reach it in ways the change model cannot preview")
            .Refusing("NoScriptSite|DenyAndAddCustomizePages", "it allows or blocks custom script on the site")
            .Refusing("DefaultLinkPermission", "it changes the default permission of new sharing links")
            .Refusing("DefaultSharingLinkType", "it changes the default scope of new sharing links")
            .Refusing("DisableCompanyWideSharingLinks", "it changes whether company-wide sharing links are allowed")
            .Refusing("AnonymousLinkExpirationInDays", "it changes how long anonymous links last")
            .Refusing("!OverrideTenantAnonymousLinkExpirationPolicy", "it changes how long anonymous links last")
            .Refusing("!AllowSelfServiceUpgrade", "it is a site setting this cmdlet does not preview")
            .Refusing("DisableAppViews", "it is a site setting this cmdlet does not preview")
            .Refusing("RestrictedToGeo", "it is a site setting this cmdlet does not preview")
            .Harmless("Classification", "!DisableFlows", "LogoFilePath", "StorageMaximumLevel", "StorageWarningLevel", "!CommentsOnSitePagesDisabled",
                "LocaleId", "!SocialBarOnSitePagesDisabled", "!Wait", "!DisableSharingForNonOwners");

        PnP("Set-PnPTenantSite", (c, m) => SiteOwners(c, m, m.PnPSite(c.Text("Identity"))))
            .With("Identity|Url@0", "Owners")
            .Refusing("SharingCapability", "it changes the site's sharing capability (who may share with guests or anyone), a policy the change model cannot preview")
            .Refusing("LockState", "it changes the site's lock state, which changes who can reach it in ways the change model cannot preview")
            .Refusing("!DenyAddAndCustomizePages|NoScriptSite", "it allows or blocks custom script on the site")
            .Refusing("DefaultLinkPermission", "it changes the default permission of new sharing links")
            .Refusing("DefaultSharingLinkType", "it changes the default scope of new sharing links")
            .Refusing("SharingAllowedDomainList", "it changes which domains the site may be shared with")
            .Refusing("SharingBlockedDomainList", "it changes which domains the site may be shared with")
            .Refusing("SharingDomainRestrictionMode", "it changes which domains the site may be shared with")
            .Refusing("DisableCompanyWideSharingLinks", "it changes whether company-wide sharing links are allowed")
            .Refusing("ConditionalAccessPolicy", "it changes the site's conditional access policy")
            .Refusing("SensitivityLabel", "it changes the site's sensitivity label, which changes how the preview rates it")
            .Refusing("!RemoveLabel", "it removes the site's sensitivity label, which changes how the preview rates it")
            .Refusing("AnonymousLinkExpirationInDays", "it changes how long anonymous links last")
            .Harmless("Title", "LocaleId", "StorageQuota|StorageMaximumLevel", "StorageQuotaWarningLevel|StorageWarningLevel", "!StorageQuotaReset",
                "ResourceQuota", "ResourceQuotaWarningLevel", "!CommentsOnSitePagesDisabled", "!Wait", "!DisableSharingForNonOwners", "DisableFlows");

        foreach (var kind in new[] { "File", "Folder" })
        {
            var target = kind == "File" ? "FileUrl|Identity" : "Folder|Identity";
            var param = kind == "File" ? "FileUrl" : "Folder";
            PnP($"Add-PnP{kind}AnonymousSharingLink", (c, m) => m.CreateLink(SharedItem(c, m, param), LinkScope.Anonymous, GraphMapper.LinkRole(c.OptText("ShareType") ?? "View")))
                .With(target, "ShareType").Harmless("Password", "ExpirationDateTime");
            PnP($"Add-PnP{kind}OrganizationalSharingLink", (c, m) => m.CreateLink(SharedItem(c, m, param), LinkScope.Organization, GraphMapper.LinkRole(c.OptText("ShareType") ?? "View")))
                .With(target, "ShareType");
            PnP($"Add-PnP{kind}UserSharingLink", (c, m) =>
            {
                var item = SharedItem(c, m, param);
                foreach (var user in c.Texts("Users"))
                {
                    m.Grant(item, m.Grantee(user, "user"), GraphMapper.LinkRole(c.OptText("ShareType") ?? "View"));
                }

                m.Approximate("a link for specific people is previewed as a direct grant to each of them");
            }).With(target, "ShareType", "Users");
            PnP($"Add-PnP{kind}SharingInvite", (c, m) =>
            {
                var item = SharedItem(c, m, param);
                foreach (var user in c.Texts("Users"))
                {
                    m.Grant(item, m.Grantee(user, "user"), GraphMapper.SiteRole(new[] { c.OptText("Role") ?? "Read" }));
                }
            }).With(target, "Users", "Role").Harmless("Message", "!RequireSignIn", "!SendInvitation", "ExpirationDateTime");
            PnP($"Add-PnP{kind}SharingLink", (c, m) => throw new SuggestionRefusal(SuggestionFindingKind.UnknownCommand,
                $"Add-PnP{kind}SharingLink is not a cmdlet of PnP.PowerShell 2 or later (it was replaced by Add-PnP{kind}AnonymousSharingLink, Add-PnP{kind}OrganizationalSharingLink and Add-PnP{kind}UserSharingLink), so what its parameters would do cannot be checked."));
        }

        PnP("Add-PnPMicrosoft365GroupMember", (c, m) =>
        {
            var group = m.Group(c.Text("Identity"), "Microsoft 365 group");
            foreach (var user in c.Texts("Users"))
            {
                m.AddMember(group, m.Member(user, "user"));
            }

            if (c.Switch("RemoveExisting"))
            {
                m.Approximate("-RemoveExisting also removes the group's other members, which the preview keeps");
            }
        }).With("Identity", "Users", "!RemoveExisting");

        PnP("Remove-PnPMicrosoft365GroupMember", (c, m) =>
        {
            var group = m.Group(c.Text("Identity"), "Microsoft 365 group");
            foreach (var user in c.Texts("Users"))
            {
                m.RemoveMember(group, m.Member(user, "user"));
            }
        }).With("Identity", "Users");

        PnP("Add-PnPMicrosoft365GroupOwner", (c, m) => throw OwnerRefusal(c.OptText("Identity") ?? "the group")).With("Identity", "Users", "!RemoveExisting");

        PnP("Set-PnPMicrosoft365Group", (c, m) =>
        {
            var group = m.Group(c.Text("Identity"), "Microsoft 365 group");
            if (c.Has("IsPrivate"))
            {
                m.SetVisibility(group, c.Get("IsPrivate") is BoolValue { Value: false } ? GroupVisibility.Public : GroupVisibility.Private);
            }

            foreach (var user in c.OptTexts("Members"))
            {
                m.AddMember(group, m.Member(user, "member"));
            }

            if (m.Operations.Count == 0)
            {
                m.Ignore("it changes only the group's name, description or logo");
            }
        }).With("Identity", "IsPrivate", "Members")
          .Refusing("Owners", "it sets the group's owners: an owner can add anyone to the group, which the change model cannot express")
          .Harmless("DisplayName", "Description", "LogoPath", "!HideFromAddressLists", "!HideFromOutlookClients", "!CreateTeam");

        PnP("Invoke-PnPGraphMethod", (c, m) => MapWebRequest(c, m, c.OptText("Method") ?? "GET", "Url", relative: true))
            .With("Url@0", "Method", "Content").Harmless("ContentType", "AdditionalHeaders", "!ConsistencyLevelEventual", "!Raw", "!All", "OutFile", "!OutStream", "Batch");

        PnP("Invoke-PnPSPRestMethod", (c, m) =>
        {
            var method = c.OptText("Method") ?? "Get";
            if (MapContext.Is(method, "Get"))
            {
                m.Ignore($"it only reads {c.Text("Url")}");
                return;
            }

            throw new SuggestionRefusal(SuggestionFindingKind.Unmappable, $"it sends {method.ToUpperInvariant()} to the SharePoint REST API ({c.Text("Url")}); what that changes cannot be told.");
        }).With("Url@0", "Method", "Content").Harmless("ContentType", "!Raw", "Accept", "Batch");
    }

    private static CommandSpec PnP(string name, Action<BoundCommand, MapContext> map) =>
        Add(new CommandSpec(name, CommandFamily.PnP, map)).Harmless("Connection");

    /// <summary>The site a PnP command acts on: its -Connection's, or the last Connect-PnPOnline's.</summary>
    private static string Site(BoundCommand c, MapContext m)
    {
        if (c.Get("Connection") is { } connection)
        {
            return connection is EntityValue { Kind: EntityKind.PnPConnection } e
                ? m.PnPSite(e.Id)
                : throw new SuggestionRefusal(SuggestionFindingKind.DynamicValue, "-Connection is not a connection made by Connect-PnPOnline -ReturnConnection in the script, so the site is not known.");
        }

        return m.PnPSite();
    }

    /// <summary>The site and role a SharePoint group parameter stands for, from the name of a default group.</summary>
    private static (string Site, string Role, string GroupName) SharePointGroup(BoundCommand c, MapContext m, string param)
    {
        var site = Site(c, m);
        var value = c.Get(param) ?? throw new SuggestionRefusal(SuggestionFindingKind.DynamicValue, $"-{param} is not given, so the SharePoint group is not known.");
        if (value is EntityValue { Kind: EntityKind.SharePointGroup } g)
        {
            return (g.Site ?? site, Level(g.Id), g.Display);
        }

        var name = ValueText.Single(value, "-" + param);
        return (site, Level(name), name);

        static string Level(string groupName)
        {
            var n = groupName.Trim();
            if (n.EndsWith("Visitors", StringComparison.OrdinalIgnoreCase))
            {
                return "read";
            }

            if (n.EndsWith("Members", StringComparison.OrdinalIgnoreCase))
            {
                return "write";
            }

            if (n.EndsWith("Owners", StringComparison.OrdinalIgnoreCase))
            {
                return "owner";
            }

            throw new SuggestionRefusal(SuggestionFindingKind.Unmappable,
                $"'{groupName}' is not one of a site's default SharePoint groups (... Visitors, ... Members, ... Owners), so the role its members get is not known.");
        }
    }

    /// <summary>-AddRole and -RemoveRole for -User (a directory principal); a -Group (a SharePoint group) is refused.</summary>
    private static void RolesTo(BoundCommand c, MapContext m, string resource, string what)
    {
        if (c.Has("Group"))
        {
            throw new SuggestionRefusal(SuggestionFindingKind.Unmappable, $"it gives the SharePoint group '{c.Text("Group")}' a role on the {what}; {SharePointGroupMembers}.");
        }

        var principal = m.Grantee(c.Text("User"), "user");
        foreach (var level in c.OptTexts("AddRole"))
        {
            m.Grant(resource, principal, MapContext.SharePointLevel(level));
        }

        foreach (var level in c.OptTexts("RemoveRole"))
        {
            m.Revoke(resource, principal, MapContext.SharePointLevel(level));
        }

        if (!c.Has("AddRole") && !c.Has("RemoveRole"))
        {
            m.Ignore("it names no role to add or remove");
        }
    }

    private static void SiteOwners(BoundCommand c, MapContext m, string site)
    {
        foreach (var owner in c.OptTexts("Owners"))
        {
            m.Grant(site, m.Grantee(owner, "owner"), "owner");
        }

        if (m.Operations.Count == 0)
        {
            m.Ignore("it changes only site settings that do not change who can reach the site");
        }
    }

    private static string SharedItem(BoundCommand c, MapContext m, string param)
    {
        var path = c.Has(param) ? c.Text(param) : c.Text("Identity");
        return m.Resource(m.SiteUrl(path), "file or folder", "driveItem", "folder");
    }

    private static SuggestionRefusal OwnerRefusal(string group) => new(SuggestionFindingKind.Unmappable,
        $"it makes an owner of {group}: an owner can add anyone to the group, which the change model (grant, revoke, addMember, removeMember, setVisibility, createLink) cannot express.");
}
