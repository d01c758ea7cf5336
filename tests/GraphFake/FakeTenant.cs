using System.Text.Json.Nodes;

namespace AgentGovernance.GraphFake;

/// <summary>The directory a <see cref="FakeGraph"/> serves: plain objects a test builds and then inspects.</summary>
public sealed class FakeTenant
{
    public string Id { get; set; } = "11111111-0000-0000-0000-000000000001";

    public string DisplayName { get; set; } = "Fabrikam";

    public Dictionary<string, FakeUser> Users { get; } = new(StringComparer.OrdinalIgnoreCase);

    public Dictionary<string, FakeGroup> Groups { get; } = new(StringComparer.OrdinalIgnoreCase);

    public Dictionary<string, FakeServicePrincipal> ServicePrincipals { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Directory objects that are not principals (devices, contacts), which groups may contain.</summary>
    public Dictionary<string, string> Others { get; } = new(StringComparer.OrdinalIgnoreCase);

    public List<FakeRoleDefinition> RoleDefinitions { get; } = new();

    public List<FakeRoleAssignment> RoleAssignments { get; } = new();

    public List<FakeAppRoleAssignment> AppRoleAssignments { get; } = new();

    /// <summary>Group id to its site.</summary>
    public Dictionary<string, FakeSite> GroupSites { get; } = new(StringComparer.OrdinalIgnoreCase);

    public Dictionary<string, FakeItem> Items { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Drives by id, each to its owner: a group (its document library) or a user (a OneDrive).</summary>
    public Dictionary<string, string> Drives { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The id of a group site's document library (registered in <see cref="Drives"/>, owned by the site's group).</summary>
    public string SiteDrive(FakeSite site)
    {
        var id = site.DriveId ?? "b!" + site.Id.Replace(",", "-", StringComparison.Ordinal);
        if (!Drives.ContainsKey(id))
        {
            Drives[id] = CommunicationSites.Contains(site) ? "site:" + site.Id : GroupSites.First(kv => ReferenceEquals(kv.Value, site)).Key;
        }

        return id;
    }

    /// <summary>The app may not read users' OneDrives: GET /users/{id}/drive is answered 403.</summary>
    public bool OneDriveDenied { get; set; }

    /// <summary>Objects deleted while a delta sync runs: they appear first, then come again as @removed.</summary>
    public HashSet<string> DeletedDuringSync { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Memberships removed while a delta sync runs (group, member): first listed, then @removed.</summary>
    public List<(string Group, string Member)> RemovedDuringSync { get; } = new();

    /// <summary>Users deleted by a DELETE on /groups/{id}/members/{id} without /$ref (the pitfall the provider must never fall into).</summary>
    public List<string> DeletedObjects { get; } = new();

    /// <summary>The drive change clock: every item change and sharing change takes the next value; delta tokens are values of it.</summary>
    public long Seq { get; set; }

    /// <summary>The tenant's sensitivity labels, id to name (the groups' labels are "label-" + their name).</summary>
    public Dictionary<string, string> SensitivityLabels { get; } = new(StringComparer.OrdinalIgnoreCase)
    {
        ["label-Public"] = "Public", ["label-General"] = "General", ["label-Confidential"] = "Confidential", ["label-Highly Confidential"] = "Highly Confidential",
    };

    /// <summary>The label list cannot be read (the app lacks SensitivityLabel.Read): 403.</summary>
    public bool LabelsDenied { get; set; }

    /// <summary>Sites with no Microsoft 365 group (communication sites).</summary>
    public List<FakeSite> CommunicationSites { get; } = new();

    /// <summary>Labels a file: a content change, so the file comes again in its drive's delta.</summary>
    public void Label(FakeItem item, string? labelId)
    {
        item.LabelId = labelId;
        item.Changed = ++Seq;
    }

    /// <summary>Drives whose delta tokens below the value have expired (or were reset): such a token is answered 410.</summary>
    public Dictionary<string, long> TokenFloor { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Items deleted from a drive, with the clock value of the deletion (delta returns them with the deleted facet).</summary>
    public List<(string Drive, string Item, long Seq)> Tombstones { get; } = new();

    /// <summary>Adds a file or folder to a drive (changed now).</summary>
    public FakeItem AddItem(string drive, string id, string name, string? parent = null, bool folder = false)
    {
        var item = new FakeItem(drive, id, name) { Parent = parent, Folder = folder, Changed = ++Seq };
        Items[$"{drive}/{id}"] = item;
        return item;
    }

    /// <summary>Gives an item a permission of its own (a sharing change).</summary>
    public void Share(FakeItem item, FakePermission permission)
    {
        item.Permissions.Add(permission);
        item.SharingChanged = ++Seq;
    }

    /// <summary>Takes every permission of its own from an item (a sharing change; the item keeps unique permissions, now none).</summary>
    public void Unshare(FakeItem item)
    {
        item.Permissions.RemoveAll(p => !p.Inherited);
        item.Unshared = true;
        item.SharingChanged = ++Seq;
    }

    /// <summary>Edits an item's content (a change that is not a sharing change).</summary>
    public void Edit(FakeItem item) => item.Changed = ++Seq;

    public void DeleteItem(FakeItem item)
    {
        Items.Remove($"{item.Drive}/{item.Id}");
        Tombstones.Add((item.Drive, item.Id, ++Seq));
    }

    /// <summary>Every delta token of the drive given out so far expires (the service asks for a resync).</summary>
    public void ExpireTokens(string drive) => TokenFloor[drive] = Seq + 1;

    private int _next = 1;

    public static string NewId(int n) => $"00000000-0000-0000-0000-{n:D12}";

    public string NextId() => NewId(100000 + _next++);

    public FakeUser AddUser(string id, string name, bool guest = false, bool enabled = true)
    {
        var u = new FakeUser(id, name) { Guest = guest, Enabled = enabled };
        Users[id] = u;
        return u;
    }

    public FakeGroup AddGroup(string id, string name, bool unified = false, string? visibility = null, params string[] members)
    {
        var g = new FakeGroup(id, name) { Unified = unified, Visibility = visibility };
        g.Members.AddRange(members);
        Groups[id] = g;
        return g;
    }

    public FakeServicePrincipal AddServicePrincipal(string id, string name, string appId, params string[] appRoles)
    {
        var sp = new FakeServicePrincipal(id, name, appId);
        sp.AppRoles.AddRange(appRoles);
        ServicePrincipals[id] = sp;
        return sp;
    }

    public JsonObject? Principal(string id) => Principal(id, null);

    /// <summary>A directory object as Graph returns it (users: the default property set, or what $select names).</summary>
    public JsonObject? Principal(string id, string? select)
    {
        if (Users.TryGetValue(id, out var u)) return u.Json(select);
        if (Groups.TryGetValue(id, out var g)) return Selected(g.Json(), select);
        if (ServicePrincipals.TryGetValue(id, out var s)) return Selected(s.Json(), select);
        if (Others.TryGetValue(id, out var type)) return new JsonObject { ["@odata.type"] = "#microsoft.graph." + type, ["id"] = id };
        return null;
    }

    /// <summary>
    /// What $select leaves of an object in a directoryObject collection (members, transitiveMemberOf):
    /// only the properties named that the object's type has, with its @odata.type. A group listed with
    /// the users' $select (userType, accountEnabled, ...) so comes without visibility and groupTypes.
    /// </summary>
    public static JsonObject Selected(JsonObject all, string? select)
    {
        if (select is null) return all;
        var result = new JsonObject { ["@odata.type"] = all["@odata.type"]?.DeepClone(), ["id"] = all["id"]?.DeepClone() };
        foreach (var name in select.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (all.TryGetPropertyValue(name, out var v)) result[name] = v?.DeepClone();
        }

        return result;
    }

    /// <summary>Every group a principal is in, through nesting (transitiveMemberOf).</summary>
    public List<string> Ancestors(string id)
    {
        var result = new List<string>();
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { id };
        var queue = new Queue<string>();
        queue.Enqueue(id);
        while (queue.Count > 0)
        {
            var x = queue.Dequeue();
            foreach (var g in Groups.Values.Where(g => g.Members.Contains(x, StringComparer.OrdinalIgnoreCase)))
            {
                if (seen.Add(g.Id))
                {
                    result.Add(g.Id);
                    queue.Enqueue(g.Id);
                }
            }
        }

        return result;
    }
}

public sealed class FakeUser
{
    public FakeUser(string id, string name) { Id = id; Name = name; Upn = name.ToLowerInvariant().Replace(' ', '.') + "@fabrikam.example"; }

    public string Id { get; }

    public string Name { get; }

    public string Upn { get; set; }

    public bool Guest { get; set; }

    public bool Enabled { get; set; } = true;

    /// <summary>Every property the fake knows of the user.</summary>
    public JsonObject Json() => new()
    {
        ["@odata.type"] = "#microsoft.graph.user",
        ["id"] = Id,
        ["displayName"] = Name,
        ["userPrincipalName"] = Upn,
        ["userType"] = Guest ? "Guest" : "Member",
        ["accountEnabled"] = Enabled,
        ["mail"] = Upn,
    };

    /// <summary>
    /// The user as Graph v1.0 returns it: without $select only the default property set
    /// (businessPhones, displayName, givenName, id, jobTitle, mail, mobilePhone, officeLocation,
    /// preferredLanguage, surname, userPrincipalName; no userType, no accountEnabled), as getByIds
    /// always does; with $select the properties named.
    /// </summary>
    public JsonObject Json(string? select)
    {
        var all = Json();
        var result = new JsonObject { ["@odata.type"] = "#microsoft.graph.user", ["id"] = Id };
        if (select is null)
        {
            var first = Name.Split(' ')[0];
            result["businessPhones"] = new JsonArray();
            result["displayName"] = Name;
            result["givenName"] = first;
            result["jobTitle"] = null;
            result["mail"] = Upn;
            result["mobilePhone"] = null;
            result["officeLocation"] = null;
            result["preferredLanguage"] = null;
            result["surname"] = Name.Length > first.Length ? Name.Substring(first.Length + 1) : null;
            result["userPrincipalName"] = Upn;
            return result;
        }

        foreach (var name in select.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (all.TryGetPropertyValue(name, out var v)) result[name] = v?.DeepClone();
        }

        return result;
    }
}

public sealed class FakeGroup
{
    public FakeGroup(string id, string name) { Id = id; Name = name; }

    public string Id { get; }

    public string Name { get; }

    public bool Unified { get; set; }

    public bool Dynamic { get; set; }

    /// <summary>Public, Private, Hiddenmembership, or null (Graph's default).</summary>
    public string? Visibility { get; set; }

    public string? Label { get; set; }

    /// <summary>Members cannot be listed without Member.Read.Hidden (the app lacks it): 403.</summary>
    public bool MembersHidden { get; set; }

    public List<string> Members { get; } = new();

    public List<string> Owners { get; } = new();

    public JsonObject Json()
    {
        var types = new JsonArray();
        if (Unified) types.Add("Unified");
        if (Dynamic) types.Add("DynamicMembership");
        var labels = new JsonArray();
        if (Label is not null) labels.Add(new JsonObject { ["labelId"] = "label-" + Label, ["displayName"] = Label });
        return new JsonObject
        {
            ["@odata.type"] = "#microsoft.graph.group",
            ["id"] = Id,
            ["displayName"] = Name,
            ["groupTypes"] = types,
            ["visibility"] = Visibility,
            ["securityEnabled"] = !Unified,
            ["mailEnabled"] = Unified,
            ["isAssignableToRole"] = null,
            ["membershipRule"] = Dynamic ? "user.department -eq \"Sales\"" : null,
            ["assignedLabels"] = labels,
        };
    }
}

public sealed class FakeServicePrincipal
{
    public FakeServicePrincipal(string id, string name, string appId) { Id = id; Name = name; AppId = appId; }

    public string Id { get; }

    public string Name { get; }

    public string AppId { get; }

    public List<string> AppRoles { get; } = new();

    public JsonObject Json()
    {
        var roles = new JsonArray();
        foreach (var r in AppRoles) roles.Add(new JsonObject { ["id"] = r, ["value"] = "Role." + r.Substring(r.Length - 4), ["allowedMemberTypes"] = new JsonArray("User") });
        return new JsonObject
        {
            ["@odata.type"] = "#microsoft.graph.servicePrincipal",
            ["id"] = Id,
            ["displayName"] = Name,
            ["appId"] = AppId,
            ["accountEnabled"] = true,
            ["appRoles"] = roles,
            ["appRoleAssignmentRequired"] = false,
        };
    }
}

/// <summary>A role definition; a custom one (BuiltIn false) has no directoryRole.</summary>
public sealed record FakeRoleDefinition(string Id, string Name, bool BuiltIn = true);

public sealed record FakeRoleAssignment(string Id, string RoleDefinitionId, string PrincipalId, string DirectoryScopeId = "/");

public sealed record FakeAppRoleAssignment(string Id, string ResourceId, string PrincipalId, string AppRoleId);

public sealed class FakeSite
{
    public FakeSite(string id, string name) { Id = id; Name = name; }

    public string Id { get; }

    public string Name { get; }

    /// <summary>The id of the site's document library; when null, one is made from the site id.</summary>
    public string? DriveId { get; set; }

    /// <summary>Application ids with a site permission (Sites.Selected).</summary>
    public List<(string AppId, string Role)> AppPermissions { get; } = new();
}

public sealed class FakeItem
{
    public FakeItem(string drive, string id, string name) { Drive = drive; Id = id; Name = name; }

    public string Drive { get; }

    public string Id { get; }

    public string Name { get; }

    public List<FakePermission> Permissions { get; } = new();

    /// <summary>The parent folder's item id; null for a child of the drive's root.</summary>
    public string? Parent { get; set; }

    public bool Folder { get; set; }

    /// <summary>
    /// Under a folder the caller cannot see through (a permission gap): delta returns it only with
    /// Prefer: deltatraversepermissiongaps.
    /// </summary>
    public bool BehindGap { get; set; }

    /// <summary>Clock value of the last change (content or sharing).</summary>
    public long Changed { get; set; }

    /// <summary>Clock value of the last sharing change (0: none since it was added).</summary>
    public long SharingChanged { get; set; }

    /// <summary>Sharing was taken away: the item has unique permissions with no one on them (hierarchicalsharing shows an empty shared facet).</summary>
    public bool Unshared { get; set; }

    /// <summary>The file's own sensitivity label id (extractSensitivityLabels), if any.</summary>
    public string? LabelId { get; set; }

    /// <summary>extractSensitivityLabels is answered 423 with this code (fileDoubleKeyEncrypted, ...).</summary>
    public string? LabelError { get; set; }

    /// <summary>Has permissions of its own (not only inherited ones).</summary>
    public bool Unique => Unshared || Permissions.Any(p => !p.Inherited);
}

/// <summary>A drive item permission: to a user or group (grantedToV2), or a sharing link with a scope.</summary>
public sealed class FakePermission
{
    public string Id { get; init; } = string.Empty;

    public string Role { get; init; } = "read";

    public string? User { get; init; }

    public string? Group { get; init; }

    public string? SiteGroup { get; init; }

    /// <summary>anonymous, organization, users.</summary>
    public string? LinkScope { get; init; }

    public bool Inherited { get; init; }

    public JsonObject Json()
    {
        var p = new JsonObject { ["id"] = Id, ["roles"] = new JsonArray(Role) };
        if (LinkScope is not null)
        {
            p["link"] = new JsonObject { ["scope"] = LinkScope, ["type"] = Role == "write" ? "edit" : "view", ["webUrl"] = "https://fabrikam.example/l/" + Id };
        }
        else if (User is not null)
        {
            p["grantedToV2"] = new JsonObject { ["user"] = new JsonObject { ["id"] = User, ["displayName"] = User } };
        }
        else if (Group is not null)
        {
            p["grantedToV2"] = new JsonObject { ["group"] = new JsonObject { ["id"] = Group, ["displayName"] = Group } };
        }
        else if (SiteGroup is not null)
        {
            p["grantedToV2"] = new JsonObject { ["siteGroup"] = new JsonObject { ["id"] = "7", ["displayName"] = SiteGroup } };
        }

        if (Inherited)
        {
            p["inheritedFrom"] = new JsonObject { ["id"] = "parent", ["path"] = "/drive/root:/Shared" };
        }

        return p;
    }
}
