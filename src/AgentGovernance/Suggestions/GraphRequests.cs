using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Text.Json;
using AgentGovernance.Changes;
using AgentGovernance.Directory;
using AgentGovernance.Json;

namespace AgentGovernance.Suggestions;

/// <summary>A Microsoft Graph request as a suggestion spells it: method, path after the version, body.</summary>
internal sealed class GraphRequest
{
    public GraphRequest(string method, IReadOnlyList<string> segments, Value? body, string display)
    {
        Method = method.ToUpperInvariant();
        Segments = segments;
        Body = body;
        Display = display;
    }

    public string Method { get; }

    /// <summary>The path after /v1.0 or /beta, one entry per segment, with OData keys (groups('x')) split out.</summary>
    public IReadOnlyList<string> Segments { get; }

    public Value? Body { get; }

    public string Display { get; }

    /// <summary>The hosts of Microsoft Graph in each cloud.</summary>
    private static readonly string[] Hosts =
    {
        "graph.microsoft.com", "graph.microsoft.us", "dod-graph.microsoft.us", "graph.microsoft.de", "microsoftgraph.chinacloudapi.cn", "canary.graph.microsoft.com",
    };

    /// <summary>
    /// Reads a URI: absolute on a Graph host, or relative when <paramref name="relativeAllowed"/> (what
    /// Invoke-MgGraphRequest and Invoke-PnPGraphMethod accept). Null when the URI is not Graph's.
    /// </summary>
    public static GraphRequest? FromUri(string method, string uri, Value? body, bool relativeAllowed)
    {
        var path = uri.Trim();
        if (path.StartsWith("https://", StringComparison.OrdinalIgnoreCase) || path.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
        {
            if (!Uri.TryCreate(path, UriKind.Absolute, out var u) || !Hosts.Contains(u.Host, StringComparer.OrdinalIgnoreCase))
            {
                return null;
            }

            path = u.AbsolutePath;
        }
        else if (!relativeAllowed)
        {
            return null;
        }

        var cut = path.IndexOfAny(new[] { '?', '#' });
        if (cut >= 0)
        {
            path = path.Substring(0, cut);
        }

        var parts = path.Split(new[] { '/' }, StringSplitOptions.RemoveEmptyEntries).Select(Unescape).ToList();
        if (parts.Count > 0 && (MapContext.Is(parts[0], "v1.0", "beta")))
        {
            parts.RemoveAt(0);
        }

        var segments = new List<string>();
        foreach (var p in parts)
        {
            // OData key syntax: groups('id'), users('alice@contoso.com')
            var open = p.IndexOf("('", StringComparison.Ordinal);
            if (open > 0 && p.EndsWith("')", StringComparison.Ordinal))
            {
                segments.Add(p.Substring(0, open));
                segments.Add(p.Substring(open + 2, p.Length - open - 4));
            }
            else
            {
                segments.Add(p);
            }
        }

        return new GraphRequest(method, segments, body, $"{method.ToUpperInvariant()} /{string.Join("/", segments)}");
    }

    private static string Unescape(string segment)
    {
        try
        {
            return Uri.UnescapeDataString(segment);
        }
        catch (UriFormatException)
        {
            return segment;
        }
    }

    /// <summary>A JSON text (a request body) as a value: objects become hashtables, arrays lists.</summary>
    public static Value FromJson(string json, string what)
    {
        JsonTree tree;
        try
        {
            tree = JsonTree.Parse(Encoding.UTF8.GetBytes(json));
        }
        catch (JsonException e)
        {
            throw new SuggestionRefusal(SuggestionFindingKind.Unmappable, $"{what} is not valid JSON ({e.Message.Split('.')[0]}), so what it asks for is not known.");
        }

        return FromTree(tree);
    }

    private static Value FromTree(JsonTree t) => t.Kind switch
    {
        JsonValueKind.Object => new TableValue(t.Properties!.Select(p => new KeyValuePair<string, Value>(p.Key, FromTree(p.Value))).ToList()),
        JsonValueKind.Array => new ListValue(t.Items!.Select(FromTree).ToList()),
        JsonValueKind.String => new TextValue(t.Text!),
        JsonValueKind.Number => new NumberValue(t.Number),
        JsonValueKind.True => BoolValue.True,
        JsonValueKind.False => BoolValue.False,
        _ => NullValue.Instance,
    };
}

/// <summary>
/// Maps Microsoft Graph requests onto operations: the endpoints of graph-notes.md that change
/// membership, visibility, role and app role assignments, consent, site permissions, sharing links,
/// invitations and team membership. Reads are ignored; any other write is refused.
/// </summary>
internal static class GraphMapper
{
    /// <summary>Group properties that do not change who can reach what.</summary>
    private static readonly string[] HarmlessGroupProperties = { "displayName", "description", "mailNickname", "@odata.type" };

    public static void Map(GraphRequest r, MapContext m)
    {
        var s = r.Segments;
        if (r.Method == "GET" || r.Method == "HEAD" || r.Method == "OPTIONS")
        {
            m.Ignore($"{r.Display} only reads");
            return;
        }

        if (s.Count == 0)
        {
            throw Unknown(r);
        }

        if (Seg(s, 0, "$batch"))
        {
            throw new SuggestionRefusal(SuggestionFindingKind.Unmappable, "a $batch request can hold any request; send the requests one by one so each can be checked.");
        }

        if (Seg(s, 0, "groups") && s.Count >= 3 && Seg(s, 2, "owners"))
        {
            throw Owners(r);
        }

        if (Seg(s, 0, "groups") && s.Count >= 3 && Seg(s, 2, "members"))
        {
            MapMembers(r, m, s);
            return;
        }

        if (Seg(s, 0, "groups") && s.Count == 2)
        {
            MapGroupUpdate(r, m, s[1]);
            return;
        }

        if (s.Count >= 3 && Seg(s, 0, "roleManagement") && Seg(s, 1, "directory"))
        {
            MapRoles(r, m, s);
            return;
        }

        if (s.Count >= 3 && (Seg(s, 2, "appRoleAssignedTo") || Seg(s, 2, "appRoleAssignments")) && (Seg(s, 0, "servicePrincipals") || Seg(s, 0, "users") || Seg(s, 0, "groups")))
        {
            MapAppRole(r, m, s);
            return;
        }

        if (Seg(s, 0, "oauth2PermissionGrants"))
        {
            MapConsent(r, m, s);
            return;
        }

        if (Seg(s, 0, "sites") && s.Count >= 3 && Seg(s, 2, "permissions"))
        {
            MapSitePermission(r, m, s);
            return;
        }

        if (DriveItem(s) is { } item)
        {
            MapDriveItem(r, m, item.Id, item.Action, item.After);
            return;
        }

        if (Seg(s, 0, "teams") && s.Count >= 3 && Seg(s, 2, "members"))
        {
            MapTeamMembers(r, m, s);
            return;
        }

        if (Seg(s, 0, "invitations"))
        {
            throw new SuggestionRefusal(SuggestionFindingKind.Unmappable, "it invites a guest, which creates a user the snapshot does not have; invite the guest first, then govern what they are given.");
        }

        throw Unknown(r);
    }

    private static void MapMembers(GraphRequest r, MapContext m, IReadOnlyList<string> s)
    {
        var group = m.Group(s[1]);
        if (r.Method == "POST" && (s.Count == 3 || (s.Count == 4 && Seg(s, 3, "$ref"))))
        {
            m.AddMember(group, m.Member(Text(Body(r), "@odata.id", r), "member (@odata.id)"));
            return;
        }

        if (r.Method == "DELETE" && s.Count == 5 && Seg(s, 4, "$ref"))
        {
            m.RemoveMember(group, m.Member(s[3]));
            return;
        }

        if (r.Method == "DELETE" && s.Count == 4)
        {
            throw new SuggestionRefusal(SuggestionFindingKind.Unmappable,
                "DELETE /groups/{id}/members/{id} without /$ref deletes the member object itself when the caller may manage it (graph-notes 1a); to remove a member, end the URI with /$ref.");
        }

        throw Unknown(r);
    }

    private static void MapGroupUpdate(GraphRequest r, MapContext m, string groupText)
    {
        if (r.Method == "DELETE")
        {
            throw new SuggestionRefusal(SuggestionFindingKind.Unmappable, "it deletes the group, which the change model cannot preview.");
        }

        if (r.Method != "PATCH")
        {
            throw Unknown(r);
        }

        var group = m.Group(groupText);
        var body = Body(r);
        foreach (var e in body.Entries)
        {
            if (MapContext.Is(e.Key, "visibility"))
            {
                var v = ValueText.Single(e.Value, "visibility");
                m.SetVisibility(group, Visibility(v, "visibility"));
            }
            else if (MapContext.Is(e.Key, "members@odata.bind"))
            {
                foreach (var url in ValueText.Many(e.Value, "members@odata.bind"))
                {
                    m.AddMember(group, m.Member(url, "member (members@odata.bind)"));
                }
            }
            else if (MapContext.Is(e.Key, "owners@odata.bind"))
            {
                throw Owners(r);
            }
            else if (!HarmlessGroupProperties.Any(h => MapContext.Is(e.Key, h)))
            {
                throw new SuggestionRefusal(SuggestionFindingKind.Unmappable,
                    $"it sets the group property '{e.Key}', which may change who is a member or who can see the group; the change model previews only visibility and membership.");
            }
        }
    }

    private static void MapRoles(GraphRequest r, MapContext m, IReadOnlyList<string> s)
    {
        if (r.Method != "POST" || s.Count != 3)
        {
            throw new SuggestionRefusal(SuggestionFindingKind.Unmappable,
                $"{r.Display} names a role assignment by its id, which the snapshot does not record; revoke it by principal and role instead.");
        }

        var body = Body(r);
        var role = m.Resource(Text(body, "roleDefinitionId", r), "role (roleDefinitionId)", "directoryRole");
        var principal = m.Grantee(Text(body, "principalId", r), "principal (principalId)");
        var scope = OptText(body, "directoryScopeId");
        if (OptText(body, "appScopeId") is not null || (scope is not null && scope != "/"))
        {
            m.Approximate($"the assignment is scoped to '{scope ?? OptText(body, "appScopeId")}'; previewed as tenant-wide");
        }

        if (Seg(s, 2, "roleAssignments"))
        {
            m.Grant(role, principal, m.DirectoryRoleGrant(role));
            return;
        }

        var action = Text(body, "action", r);
        var eligible = Seg(s, 2, "roleEligibilityScheduleRequests");
        if (!eligible && !Seg(s, 2, "roleAssignmentScheduleRequests"))
        {
            throw Unknown(r);
        }

        if (MapContext.Is(action, "adminRemove", "selfDeactivate"))
        {
            m.Revoke(role, principal, m.DirectoryRoleGrant(role));
        }
        else if (MapContext.Is(action, "adminAssign", "adminUpdate", "adminExtend", "adminRenew", "selfActivate", "selfExtend", "selfRenew"))
        {
            m.Grant(role, principal, m.DirectoryRoleGrant(role));
            m.Approximate(eligible
                ? "it makes the principal eligible for the role (able to activate it), previewed as holding it"
                : "Privileged Identity Management time-boxes the assignment by its schedule; previewed as lasting");
        }
        else
        {
            throw new SuggestionRefusal(SuggestionFindingKind.Unmappable, $"'{action}' is not a role assignment action this cmdlet knows.");
        }
    }

    private static void MapAppRole(GraphRequest r, MapContext m, IReadOnlyList<string> s)
    {
        if (r.Method != "POST" || s.Count != 3)
        {
            throw new SuggestionRefusal(SuggestionFindingKind.Unmappable,
                $"{r.Display} names an app role assignment by its id, which the snapshot does not record.");
        }

        var body = Body(r);
        var resourceText = Seg(s, 2, "appRoleAssignedTo") ? OptText(body, "resourceId") ?? s[1] : Text(body, "resourceId", r);
        var principalText = Seg(s, 2, "appRoleAssignedTo") ? Text(body, "principalId", r) : OptText(body, "principalId") ?? s[1];
        var app = m.Resource(resourceText, "application (resourceId)", "application");
        var principal = m.Grantee(principalText, "principal (principalId)");
        var appRole = OptText(body, "appRoleId");
        if (appRole is null || appRole == "00000000-0000-0000-0000-000000000000")
        {
            m.Grant(app, principal, "read");
        }
        else
        {
            m.Grant(app, principal, "write");
            m.Approximate($"app role {appRole} grants permissions the snapshot does not describe; previewed as write");
        }
    }

    private static void MapConsent(GraphRequest r, MapContext m, IReadOnlyList<string> s)
    {
        if (r.Method != "POST" || s.Count != 1)
        {
            throw new SuggestionRefusal(SuggestionFindingKind.Unmappable, $"{r.Display} names a permission grant by its id, which the snapshot does not record.");
        }

        var body = Body(r);
        var api = m.Resource(Text(body, "resourceId", r), "API (resourceId)", "application");
        var client = m.Grantee(Text(body, "clientId", r), "client application (clientId)");
        var scope = OptText(body, "scope") ?? string.Empty;
        var write = scope.IndexOf("Write", StringComparison.OrdinalIgnoreCase) >= 0;
        m.Grant(api, client, write ? "write" : "read");
        m.Approximate($"delegated consent ({(OptText(body, "consentType") ?? "?")}: '{scope}') lets the app act for signed-in users; previewed as the app's own {(write ? "write" : "read")} access");
    }

    private static void MapSitePermission(GraphRequest r, MapContext m, IReadOnlyList<string> s)
    {
        if (r.Method != "POST" || s.Count != 3)
        {
            throw new SuggestionRefusal(SuggestionFindingKind.Unmappable, $"{r.Display} names a site permission by its id, which the snapshot does not record.");
        }

        var site = m.Resource(s[1], "site", "site");
        var body = Body(r);
        var role = SiteRole(ValueText.Many(Field(body, "roles", r), "roles"));
        var identities = new List<Value>();
        foreach (var key in new[] { "grantedToIdentitiesV2", "grantedToIdentities" })
        {
            if (body.TryGet(key, out var list))
            {
                identities.AddRange(list is ListValue l ? l.Items : new[] { list });
            }
        }

        foreach (var key in new[] { "grantedToV2", "grantedTo" })
        {
            if (body.TryGet(key, out var one))
            {
                identities.Add(one);
            }
        }

        if (identities.Count == 0)
        {
            throw new SuggestionRefusal(SuggestionFindingKind.Unmappable, "the body names no grantedToIdentities, so who is granted is not known.");
        }

        foreach (var identity in identities)
        {
            m.Grant(site, IdentityPrincipal(m, identity), role);
        }
    }

    private static void MapDriveItem(GraphRequest r, MapContext m, string itemId, string action, int rest)
    {
        if (r.Method != "POST" || rest > 0)
        {
            throw new SuggestionRefusal(SuggestionFindingKind.Unmappable, $"{r.Display} names a permission by its id, which the snapshot does not record.");
        }

        var item = m.Resource(itemId, "drive item", "driveItem", "site");
        var body = Body(r);
        if (MapContext.Is(action, "createLink"))
        {
            var type = OptText(body, "type") ?? throw new SuggestionRefusal(SuggestionFindingKind.Unmappable, "the link has no type (view, edit...), so what it allows is not known.");
            var role = LinkRole(type);
            var scope = OptText(body, "scope");
            if (scope is null)
            {
                throw new SuggestionRefusal(SuggestionFindingKind.Unmappable, "the link has no scope, so the tenant's default decides who it reaches (possibly anyone); give scope anonymous, organization or users.");
            }

            if (MapContext.Is(scope, "anonymous"))
            {
                m.CreateLink(item, LinkScope.Anonymous, role);
            }
            else if (MapContext.Is(scope, "organization"))
            {
                m.CreateLink(item, LinkScope.Organization, role);
            }
            else if (MapContext.Is(scope, "users"))
            {
                var recipients = Recipients(m, body, r);
                foreach (var p in recipients)
                {
                    m.Grant(item, p, role);
                }

                m.Approximate("a link for specific people is previewed as a direct grant to each of them");
            }
            else
            {
                throw new SuggestionRefusal(SuggestionFindingKind.Unmappable, $"'{scope}' is not a link scope (anonymous, organization, users).");
            }

            return;
        }

        if (MapContext.Is(action, "invite"))
        {
            var role = SiteRole(ValueText.Many(Field(body, "roles", r), "roles"));
            foreach (var p in Recipients(m, body, r))
            {
                m.Grant(item, p, role);
            }

            if (body.TryGet("requireSignIn", out var signIn) && signIn is BoolValue { Value: false })
            {
                m.Approximate("requireSignIn is false: whoever gets the invitation link can open the item, not only the recipients");
            }

            return;
        }

        if (MapContext.Is(action, "permissions"))
        {
            var role = SiteRole(ValueText.Many(Field(body, "roles", r), "roles"));
            var granted = body.TryGet("grantedToV2", out var g2) ? g2 : body.TryGet("grantedTo", out var g1) ? g1
                : throw new SuggestionRefusal(SuggestionFindingKind.Unmappable, "the permission names no grantedToV2, so who is granted is not known.");
            m.Grant(item, IdentityPrincipal(m, granted), role);
            return;
        }

        throw Unknown(r);
    }

    private static void MapTeamMembers(GraphRequest r, MapContext m, IReadOnlyList<string> s)
    {
        if (r.Method != "POST" || s.Count != 3)
        {
            throw new SuggestionRefusal(SuggestionFindingKind.Unmappable, $"{r.Display} names a team membership by its id, which the snapshot does not record.");
        }

        var team = m.Group(s[1], "team");
        var body = Body(r);
        if (body.TryGet("roles", out var roles) && ValueText.Many(roles, "roles").Any(x => MapContext.Is(x, "owner")))
        {
            throw Owners(r);
        }

        m.AddMember(team, m.Member(Text(body, "user@odata.bind", r), "member (user@odata.bind)"));
    }

    private static List<string> Recipients(MapContext m, TableValue body, GraphRequest r)
    {
        var list = Field(body, "recipients", r);
        var items = list is ListValue l ? l.Items : new[] { list };
        var principals = new List<string>();
        foreach (var item in items)
        {
            var t = ValueText.Table(item, "a recipient");
            var name = OptText(t, "email") ?? OptText(t, "objectId") ?? OptText(t, "alias")
                ?? throw new SuggestionRefusal(SuggestionFindingKind.Unmappable, "a recipient has no email or objectId.");
            principals.Add(m.Grantee(name, "recipient"));
        }

        if (principals.Count == 0)
        {
            throw new SuggestionRefusal(SuggestionFindingKind.Unmappable, "it names no recipients.");
        }

        return principals;
    }

    /// <summary>The principal of a Graph identitySet: {application|user|group|siteUser|siteGroup: {id, displayName}}.</summary>
    private static string IdentityPrincipal(MapContext m, Value identity)
    {
        var set = ValueText.Table(identity, "an identity");
        foreach (var kind in new[] { "application", "user", "group", "device" })
        {
            if (set.TryGet(kind, out var v))
            {
                var t = ValueText.Table(v, kind);
                if (OptText(t, "id") is { } id && Try(() => m.Grantee(id, kind)) is { } byId)
                {
                    return byId;
                }

                var name = OptText(t, "displayName") ?? OptText(t, "email") ?? OptText(t, "id")
                    ?? throw new SuggestionRefusal(SuggestionFindingKind.Unmappable, $"the {kind} identity has no id or displayName.");
                return m.Grantee(name, kind);
            }
        }

        throw new SuggestionRefusal(SuggestionFindingKind.Unmappable, "the identity is a SharePoint user or group, which the snapshot does not hold; name a directory user, group or application.");
    }

    private static string? Try(Func<string> f)
    {
        try
        {
            return f();
        }
        catch (SuggestionRefusal)
        {
            return null;
        }
    }

    /// <summary>The drive item a path addresses (drives/{d}/items/{i}, sites/{s}/drive/items/{i}, ...), the action after it, and what follows.</summary>
    private static (string Id, string Action, int After)? DriveItem(IReadOnlyList<string> s)
    {
        int at;
        if (s.Count >= 5 && Seg(s, 0, "drives") && Seg(s, 2, "items"))
        {
            at = 3;
        }
        else if (s.Count >= 6 && (Seg(s, 0, "sites") || Seg(s, 0, "groups") || Seg(s, 0, "users")) && Seg(s, 2, "drive") && Seg(s, 3, "items"))
        {
            at = 4;
        }
        else if (s.Count >= 5 && Seg(s, 0, "me") && Seg(s, 1, "drive") && Seg(s, 2, "items"))
        {
            at = 3;
        }
        else
        {
            return null;
        }

        return at + 1 < s.Count ? (s[at], s[at + 1], s.Count - at - 2) : null;
    }

    public static string LinkRole(string type) => type.ToLowerInvariant() switch
    {
        "view" or "embed" or "blocksdownload" or "review" => "read",
        "edit" or "createonly" => "write",
        _ => throw new SuggestionRefusal(SuggestionFindingKind.Unmappable, $"'{type}' is not a link type this cmdlet knows (view, edit, embed, review, blocksDownload, createOnly)."),
    };

    /// <summary>The model role of Graph permission roles (read, write, owner, manage, fullcontrol, sp.full control).</summary>
    public static string SiteRole(IEnumerable<string> roles) => MapContext.Highest(roles.Select(role => role.ToLowerInvariant() switch
    {
        "read" => "read",
        "write" => "write",
        "owner" or "manage" or "fullcontrol" or "sp.full control" => "owner",
        _ => throw new SuggestionRefusal(SuggestionFindingKind.Unmappable, $"'{role}' is not a role this cmdlet knows (read, write, owner, manage, fullcontrol)."),
    }).ToList());

    public static GroupVisibility Visibility(string value, string what)
    {
        if (MapContext.Is(value, "Public"))
        {
            return GroupVisibility.Public;
        }

        if (MapContext.Is(value, "Private"))
        {
            return GroupVisibility.Private;
        }

        throw new SuggestionRefusal(SuggestionFindingKind.Unmappable,
            MapContext.Is(value, "HiddenMembership")
                ? "HiddenMembership can only be chosen when a group is created."
                : $"{what} '{value}' is not Private or Public.");
    }

    private static TableValue Body(GraphRequest r) => r.Body switch
    {
        null => throw new SuggestionRefusal(SuggestionFindingKind.Unmappable, $"{r.Display} has no body, so what it asks for is not known."),
        TextValue t => ValueText.Table(GraphRequest.FromJson(t.Text, "the body"), "the body"),
        var v => ValueText.Table(v, "the body"),
    };

    private static Value Field(TableValue body, string key, GraphRequest r) =>
        body.TryGet(key, out var v) ? v : throw new SuggestionRefusal(SuggestionFindingKind.Unmappable, $"the body of {r.Display} has no '{key}'.");

    private static string Text(TableValue body, string key, GraphRequest r) => ValueText.Single(Field(body, key, r), "'" + key + "'");

    private static string? OptText(TableValue body, string key) => body.TryGet(key, out var v) && v is not NullValue ? ValueText.Single(v, "'" + key + "'") : null;

    private static bool Seg(IReadOnlyList<string> s, int i, string name) => i < s.Count && string.Equals(s[i], name, StringComparison.OrdinalIgnoreCase);

    private static SuggestionRefusal Owners(GraphRequest r) => new(SuggestionFindingKind.Unmappable,
        $"{r.Display} changes owners: an owner can add anyone to the group or team, which the change model (grant, revoke, addMember, removeMember, setVisibility, createLink) cannot express.");

    private static SuggestionRefusal Unknown(GraphRequest r) => new(SuggestionFindingKind.UnknownCommand,
        $"{r.Display} is a Graph request this cmdlet does not know; it may change access.");
}
