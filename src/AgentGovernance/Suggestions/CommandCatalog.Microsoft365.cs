using System;
using System.Collections.Generic;
using System.Linq;
using AgentGovernance.Directory;

namespace AgentGovernance.Suggestions;

/// <summary>Microsoft Teams, Exchange Online, the retired AzureAD module and Az.Resources.</summary>
internal static partial class CommandCatalog
{
    private static void AddMicrosoft365()
    {
        // Microsoft Teams: a team's membership is its Microsoft 365 group's (graph-notes 1f).
        Add(new CommandSpec("Add-TeamUser", CommandFamily.Teams, (c, m) =>
        {
            var team = m.Group(c.Text("GroupId"), "team");
            if (c.OptText("Role") is { } role && MapContext.Is(role, "Owner"))
            {
                throw OwnerRefusal(team);
            }

            m.AddMember(team, m.Member(c.Text("User"), "user"));
        }).With("GroupId", "User", "Role"));

        Add(new CommandSpec("Remove-TeamUser", CommandFamily.Teams, (c, m) =>
        {
            if (c.OptText("Role") is { } role && MapContext.Is(role, "Owner"))
            {
                throw new SuggestionRefusal(SuggestionFindingKind.Unmappable, "-Role Owner only takes away ownership and keeps the membership, which the change model cannot express.");
            }

            m.RemoveMember(m.Group(c.Text("GroupId"), "team"), m.Member(c.Text("User"), "user"));
        }).With("GroupId", "User", "Role"));

        Add(new CommandSpec("Set-Team", CommandFamily.Teams, (c, m) =>
        {
            var team = m.Group(c.Text("GroupId"), "team");
            if (c.OptText("Visibility") is { } visibility)
            {
                m.SetVisibility(team, GraphMapper.Visibility(visibility, "-Visibility"));
            }
            else
            {
                m.Ignore("it changes only team settings that do not change who can reach the team");
            }
        }).With("GroupId", "Visibility").Harmless("DisplayName", "Description", "MailNickName", "Classification", "AllowGiphy", "GiphyContentRating",
            "AllowStickersAndMemes", "AllowCustomMemes", "AllowGuestCreateUpdateChannels", "AllowGuestDeleteChannels", "AllowCreateUpdateChannels",
            "AllowCreatePrivateChannels", "AllowDeleteChannels", "AllowAddRemoveApps", "AllowCreateUpdateRemoveTabs", "AllowCreateUpdateRemoveConnectors",
            "AllowUserEditMessages", "AllowUserDeleteMessages", "AllowOwnerDeleteMessages", "AllowTeamMentions", "AllowChannelMentions", "ShowInTeamsSearchAndSuggestions"));

        Add(new CommandSpec("Add-TeamChannelUser", CommandFamily.Teams, (c, m) => throw new SuggestionRefusal(SuggestionFindingKind.Unmappable,
            "private and shared channels have their own membership, which the snapshot does not hold.")).With("GroupId", "DisplayName", "User", "Role"));

        // Exchange Online: mailbox rights are previewed as roles on the mailbox resource.
        foreach (var (name, grant) in new[] { ("Add-MailboxPermission", true), ("Remove-MailboxPermission", false) })
        {
            var spec = new CommandSpec(name, CommandFamily.Exchange, (c, m) =>
            {
                var mailbox = m.Resource(c.Text("Identity"), "mailbox", "mailbox");
                var user = m.Grantee(c.Text("User"), "user");
                var role = MailboxRole(c.Texts("AccessRights"), m);
                if (grant)
                {
                    m.Grant(mailbox, user, role);
                }
                else
                {
                    m.Revoke(mailbox, user, role);
                }
            }).With("Identity@0", "User", "AccessRights")
              .Refusing("!Deny", "-Deny is about an entry that denies access, which the change model cannot express")
              .Refusing("Instance", Identity)
              .Harmless("InheritanceType", "!GroupMailbox", "!IgnoreDefaultScope", "DomainController");
            Add(grant
                ? spec.Refusing("Owner", "-Owner changes the mailbox's owner, which the change model cannot express").Harmless("AutoMapping")
                : spec.Refusing("!ResetDefault", "-ResetDefault resets the mailbox's permissions, which the preview cannot list").Harmless("!BypassMasterAccountSid"));
        }

        Add(new CommandSpec("Add-RecipientPermission", CommandFamily.Exchange, (c, m) =>
        {
            var mailbox = m.Resource(c.Text("Identity"), "mailbox", "mailbox");
            m.Grant(mailbox, m.Grantee(c.Text("Trustee"), "trustee"), SendAs(c));
            m.Approximate("SendAs lets the trustee send mail as the mailbox, not read it; previewed as a 'sendAs' grant, which counts as read");
        }).With("Identity@0", "Trustee", "AccessRights")
          .Refusing("!Deny", "-Deny adds an entry that denies access, which the change model cannot express")
          .Harmless("!SkipDomainValidationForMailContact", "!SkipDomainValidationForMailUser", "!SkipDomainValidationForSharedMailbox"));

        Add(new CommandSpec("Remove-RecipientPermission", CommandFamily.Exchange, (c, m) =>
            m.Revoke(m.Resource(c.Text("Identity"), "mailbox", "mailbox"), m.Grantee(c.Text("Trustee"), "trustee"), SendAs(c)))
            .With("Identity@0", "Trustee", "AccessRights").Refusing("!Deny", "-Deny removes an entry that denies access, which the change model cannot express"));

        foreach (var name in new[] { "Add-MailboxFolderPermission", "Set-MailboxFolderPermission" })
        {
            var replaces = name.StartsWith("Set", StringComparison.Ordinal);
            Add(new CommandSpec(name, CommandFamily.Exchange, (c, m) =>
            {
                var (mailbox, folder) = MailboxFolder(c, m);
                m.Grant(mailbox, FolderUser(c, m), FolderRole(c.Texts("AccessRights"), m));
                m.Approximate($"the permission is on the folder '{folder}', previewed as on the whole mailbox" + (replaces ? "; it replaces the user's earlier folder permission, which the preview keeps" : string.Empty));
            }).With("Identity@0", "User", "AccessRights").Harmless("SendNotificationToUser", "SharingPermissionFlags", "DomainController"));
        }

        Add(new CommandSpec("Remove-MailboxFolderPermission", CommandFamily.Exchange, (c, m) =>
        {
            var (mailbox, folder) = MailboxFolder(c, m);
            var user = FolderUser(c, m);
            var held = m.Names.GrantedRoles(mailbox, user);
            m.Revoke(mailbox, user, held.Count > 0 ? held[0] : "read");
            m.Approximate($"the permission is on the folder '{folder}', previewed as on the whole mailbox");
        }).With("Identity@0", "User").Harmless("!Force", "!SendNotificationToUser", "DomainController"));

        foreach (var (name, add) in new[] { ("Add-DistributionGroupMember", true), ("Remove-DistributionGroupMember", false) })
        {
            Add(new CommandSpec(name, CommandFamily.Exchange, (c, m) =>
            {
                var group = m.Group(c.Text("Identity"));
                var member = m.Member(c.Text("Member"));
                if (add)
                {
                    m.AddMember(group, member);
                }
                else
                {
                    m.RemoveMember(group, member);
                }
            }).With("Identity@0", "Member").Harmless("!BypassSecurityGroupManagerCheck", "DomainController"));
        }

        foreach (var (name, add) in new[] { ("Add-UnifiedGroupLinks", true), ("Remove-UnifiedGroupLinks", false) })
        {
            Add(new CommandSpec(name, CommandFamily.Exchange, (c, m) =>
            {
                var linkType = c.Text("LinkType");
                if (MapContext.Is(linkType, "Owners"))
                {
                    throw OwnerRefusal(c.Text("Identity"));
                }

                if (MapContext.Is(linkType, "Subscribers", "Aggregators"))
                {
                    m.Ignore($"-LinkType {linkType} changes who gets the group's mail, not who can reach its resources");
                    return;
                }

                if (!MapContext.Is(linkType, "Members"))
                {
                    throw new SuggestionRefusal(SuggestionFindingKind.Unmappable, $"'{linkType}' is not a link type (Members, Owners, Subscribers, Aggregators).");
                }

                var group = m.Group(c.Text("Identity"));
                foreach (var link in c.Texts("Links"))
                {
                    var member = m.Member(link);
                    if (add)
                    {
                        m.AddMember(group, member);
                    }
                    else
                    {
                        m.RemoveMember(group, member);
                    }
                }
            }).With("Identity@0", "Links", "LinkType"));
        }

        Add(new CommandSpec("Set-UnifiedGroup", CommandFamily.Exchange, (c, m) =>
        {
            var group = m.Group(c.Text("Identity"));
            if (c.OptText("AccessType") is { } access)
            {
                m.SetVisibility(group, GraphMapper.Visibility(access, "-AccessType"));
            }
            else
            {
                m.Ignore("it changes only group settings that do not change who can reach the group");
            }
        }).With("Identity@0", "AccessType").Harmless("DisplayName", "Notes", "!HiddenFromAddressListsEnabled", "!HiddenFromExchangeClientsEnabled", "MailTip", "Language"));

        // The retired AzureAD module: named parameters, object ids.
        AzureAD("Add-AzureADGroupMember", (c, m) => m.AddMember(m.Group(c.Text("ObjectId")), m.Member(c.Text("RefObjectId"))), "ObjectId", "RefObjectId");
        AzureAD("Remove-AzureADGroupMember", (c, m) => m.RemoveMember(m.Group(c.Text("ObjectId")), m.Member(c.Text("MemberId"))), "ObjectId", "MemberId");
        AzureAD("Add-AzureADGroupOwner", (c, m) => throw OwnerRefusal(c.OptText("ObjectId") ?? "the group"), "ObjectId", "RefObjectId");
        AzureAD("Remove-AzureADGroupOwner", (c, m) => throw OwnerRefusal(c.OptText("ObjectId") ?? "the group"), "ObjectId", "OwnerId");
        foreach (var name in new[] { "New-AzureADGroupAppRoleAssignment", "New-AzureADUserAppRoleAssignment", "New-AzureADServiceAppRoleAssignment" })
        {
            AzureAD(name, (c, m) =>
            {
                var app = m.Resource(c.Text("ResourceId"), "application (-ResourceId)", "application");
                var principal = m.Grantee(c.OptText("PrincipalId") ?? c.Text("ObjectId"), "principal");
                var role = c.Text("Id");
                if (role == "00000000-0000-0000-0000-000000000000")
                {
                    m.Grant(app, principal, "read");
                }
                else
                {
                    m.Grant(app, principal, "write");
                    m.Approximate($"app role {role} grants permissions the snapshot does not describe; previewed as write");
                }
            }, "ObjectId", "Id", "PrincipalId", "ResourceId");
        }

        foreach (var name in new[] { "Remove-AzureADGroupAppRoleAssignment", "Remove-AzureADUserAppRoleAssignment", "Remove-AzureADServiceAppRoleAssignment" })
        {
            AzureAD(name, (c, m) => throw new SuggestionRefusal(SuggestionFindingKind.Unmappable,
                "it names an app role assignment by its id, which the snapshot does not record."), "ObjectId", "AppRoleAssignmentId");
        }

        AzureAD("Add-AzureADDirectoryRoleMember", (c, m) =>
        {
            var role = m.Resource(c.Text("ObjectId"), "directory role", "directoryRole");
            m.Grant(role, m.Grantee(c.Text("RefObjectId"), "member"), m.DirectoryRoleGrant(role));
        }, "ObjectId", "RefObjectId");
        AzureAD("Remove-AzureADDirectoryRoleMember", (c, m) =>
        {
            var role = m.Resource(c.Text("ObjectId"), "directory role", "directoryRole");
            m.Revoke(role, m.Grantee(c.Text("MemberId"), "member"), m.DirectoryRoleGrant(role));
        }, "ObjectId", "MemberId");
        AzureAD("New-AzureADMSRoleAssignment", (c, m) =>
        {
            var role = m.Resource(c.Text("RoleDefinitionId"), "role (-RoleDefinitionId)", "directoryRole");
            m.Grant(role, m.Grantee(c.Text("PrincipalId"), "principal"), m.DirectoryRoleGrant(role));
            if (c.OptText("DirectoryScopeId") is { } scope && scope != "/")
            {
                m.Approximate($"the assignment is scoped to '{scope}'; previewed as tenant-wide");
            }
        }, "RoleDefinitionId", "PrincipalId", "DirectoryScopeId");
        AzureAD("Set-AzureADMSGroup", (c, m) =>
        {
            var group = m.Group(c.Text("Id"));
            if (c.OptText("Visibility") is { } visibility)
            {
                m.SetVisibility(group, GraphMapper.Visibility(visibility, "-Visibility"));
            }
            else
            {
                m.Ignore("it changes only the group's name or description");
            }
        }, "Id", "Visibility", "DisplayName", "Description", "MailNickname");

        // Az.Resources: Azure RBAC on the resource named by -Scope.
        foreach (var (name, grant) in new[] { ("New-AzRoleAssignment", true), ("Remove-AzRoleAssignment", false) })
        {
            var spec = new CommandSpec(name, CommandFamily.Az, (c, m) =>
            {
                if (!c.Has("Scope"))
                {
                    throw new SuggestionRefusal(SuggestionFindingKind.DynamicValue, c.Has("ResourceGroupName")
                        ? "it names a resource group of the current subscription, which is only known when the script runs; give the full -Scope."
                        : "without -Scope it acts on the current subscription, which is only known when the script runs; give the full -Scope.");
                }

                var resource = m.Resource(c.Text("Scope"), "Azure scope (-Scope)");
                var principal = m.Grantee(c.OptText("ObjectId") ?? c.OptText("SignInName") ?? c.OptText("ApplicationId")
                    ?? throw new SuggestionRefusal(SuggestionFindingKind.DynamicValue, "it names no principal (-ObjectId, -SignInName or -ApplicationId)."), "principal");
                var role = AzureRole(c.OptText("RoleDefinitionName") ?? c.Text("RoleDefinitionId"), m);
                if (grant)
                {
                    m.Grant(resource, principal, role);
                }
                else
                {
                    m.Revoke(resource, principal, role);
                }

                if (c.Has("Condition"))
                {
                    m.Approximate("the assignment has a condition that narrows it; previewed without it");
                }
            }).With("ObjectId|Id|PrincipalId", "SignInName|Email|UserPrincipalName", "ApplicationId|SPN|ServicePrincipalName", "Scope",
                    "ResourceGroupName", "ResourceName", "ResourceType", "ParentResource", "RoleDefinitionName", "RoleDefinitionId", "Condition")
              .Harmless("Description", "ConditionVersion", "ObjectType", "!AllowDelegation", "!SkipClientSideScopeValidation", "!PassThru", "DefaultProfile|AzContext|AzureRmContext|AzureCredential")
              .Refusing("InputFile", "reads the assignment from a file, which is not part of the suggestion")
              .Refusing("InputObject", Identity);
            Add(spec);
        }
    }

    private static void AzureAD(string name, Action<BoundCommand, MapContext> map, params string[] parameters) =>
        Add(new CommandSpec(name, CommandFamily.AzureAD, map)).With(parameters);

    /// <summary>The model role of Exchange mailbox rights (the strongest of those given).</summary>
    private static string MailboxRole(IReadOnlyList<string> rights, MapContext m)
    {
        var roles = new List<string>();
        foreach (var right in rights.SelectMany(r => r.Split(',')).Select(r => r.Trim()))
        {
            switch (right.ToLowerInvariant())
            {
                case "fullaccess":
                    roles.Add("write");
                    m.Approximate("FullAccess opens and changes all of the mailbox; previewed as write");
                    break;
                case "readpermission":
                    roles.Add("read");
                    m.Approximate("ReadPermission reads the mailbox's permissions, not its mail; previewed as read");
                    break;
                case "deleteitem":
                    roles.Add("write");
                    break;
                case "changepermission":
                case "changeowner":
                    roles.Add("owner");
                    m.Approximate($"{right} lets the user change who has access; previewed as owner");
                    break;
                default:
                    throw new SuggestionRefusal(SuggestionFindingKind.Unmappable, $"'{right}' is not a mailbox right this cmdlet maps (FullAccess, ReadPermission, DeleteItem, ChangePermission, ChangeOwner).");
            }
        }

        return MapContext.Highest(roles);
    }

    private static string SendAs(BoundCommand c)
    {
        foreach (var right in c.Texts("AccessRights"))
        {
            if (!MapContext.Is(right, "SendAs"))
            {
                throw new SuggestionRefusal(SuggestionFindingKind.Unmappable, $"'{right}' is not a recipient right (SendAs).");
            }
        }

        return "sendAs";
    }

    /// <summary>The mailbox and folder of an Exchange folder identity, "mailbox:\folder".</summary>
    private static (string Mailbox, string Folder) MailboxFolder(BoundCommand c, MapContext m)
    {
        var identity = c.Text("Identity");
        var cut = identity.IndexOf(":\\", StringComparison.Ordinal);
        var mailbox = cut >= 0 ? identity.Substring(0, cut) : identity;
        var folder = cut >= 0 ? identity.Substring(cut + 2) : "(top of information store)";
        return (m.Resource(mailbox, "mailbox", "mailbox"), folder);
    }

    /// <summary>A folder permission's user; Default and Anonymous are Exchange's names for everyone in the organisation and for anyone.</summary>
    private static string FolderUser(BoundCommand c, MapContext m)
    {
        var user = c.Text("User");
        if (MapContext.Is(user, "Default"))
        {
            return Audiences.EveryoneExceptExternal;
        }

        return MapContext.Is(user, "Anonymous") ? Audiences.Anyone : m.Grantee(user, "user");
    }

    private static string FolderRole(IReadOnlyList<string> rights, MapContext m) => MapContext.Highest(rights.SelectMany(r => r.Split(',')).Select(r => r.Trim()).Select(right =>
    {
        switch (right.ToLowerInvariant())
        {
            case "owner":
            case "folderowner":
                return "owner";
            case "publishingeditor":
            case "editor":
            case "publishingauthor":
            case "author":
            case "nonediting author":
            case "noneditingauthor":
            case "contributor":
            case "createitems":
            case "createsubfolders":
            case "deleteallitems":
            case "deleteowneditems":
            case "editallitems":
            case "editowneditems":
                return "write";
            case "reviewer":
            case "readitems":
            case "foldervisible":
            case "foldercontact":
                return "read";
            case "availabilityonly":
            case "limiteddetails":
                m.Approximate($"{right} shows only free/busy times; previewed as read");
                return "read";
            default:
                throw new SuggestionRefusal(SuggestionFindingKind.Unmappable, $"'{right}' is not a folder permission this cmdlet maps.");
        }
    }).ToList());

    /// <summary>The model role of an Azure RBAC role definition name.</summary>
    private static string AzureRole(string role, MapContext m)
    {
        if (MapContext.Is(role, "Owner", "User Access Administrator", "Role Based Access Control Administrator") || role.EndsWith(" Owner", StringComparison.OrdinalIgnoreCase))
        {
            return "owner";
        }

        if (MapContext.Is(role, "Contributor") || role.EndsWith(" Contributor", StringComparison.OrdinalIgnoreCase))
        {
            return "write";
        }

        if (MapContext.Is(role, "Reader") || role.EndsWith(" Reader", StringComparison.OrdinalIgnoreCase))
        {
            return "read";
        }

        m.Approximate($"the Azure role '{role}' is not a built-in Reader, Contributor or Owner role; previewed as write");
        return "write";
    }
}
