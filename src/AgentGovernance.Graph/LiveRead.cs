using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using AgentGovernance.Changes;
using AgentGovernance.Directory;
using Microsoft.Graph;
using Microsoft.Graph.DirectoryObjects.GetByIds;

namespace AgentGovernance.Graph;

/// <summary>A principal as read from Graph.</summary>
internal sealed class LivePrincipal
{
    public LivePrincipal(string id, PrincipalType type) { Id = id; Type = type; }

    public string Id { get; }

    public PrincipalType Type { get; }

    public string? Name { get; set; }

    public string? Upn { get; set; }

    public string? Mail { get; set; }

    public bool Guest { get; set; }

    public bool Enabled { get; set; } = true;

    public GroupVisibility Visibility { get; set; }

    /// <summary>A user read through getByIds, which in v1.0 gives only the default property set: userType and accountEnabled are still to be read.</summary>
    public bool Partial { get; set; }

    public static LivePrincipal? From(JsonElement e)
    {
        var id = e.Str("id");
        var type = e.Kind() switch
        {
            "user" => PrincipalType.User,
            "group" => PrincipalType.Group,
            "servicePrincipal" => PrincipalType.ServicePrincipal,
            _ => (PrincipalType?)null,
        };
        if (id is null || type is null)
        {
            return null;
        }

        return new LivePrincipal(id, type.Value)
        {
            Name = e.Str("displayName"),
            Upn = e.Str("userPrincipalName"),
            Mail = e.Str("mail"),
            Guest = string.Equals(e.Str("userType"), "Guest", StringComparison.OrdinalIgnoreCase),
            Enabled = e.Bool("accountEnabled") ?? true,
            Visibility = type == PrincipalType.Group ? e.Visibility() : GroupVisibility.Private,
        };
    }
}

/// <summary>A resource as read from Graph, with its grants.</summary>
internal sealed class LiveResourceState
{
    public LiveResourceState(string id, string type) { Id = id; Type = type; }

    public string Id { get; }

    public string Type { get; }

    public string? Name { get; set; }

    public string? WebUrl { get; set; }

    public Sensitivity Sensitivity { get; set; } = Sensitivity.General;

    /// <summary>The Microsoft 365 group the resource belongs to (its site).</summary>
    public string? Group { get; set; }

    public List<(string Principal, string Role)> Grants { get; } = new();

    /// <summary>The owners of the connected group, for a group's site.</summary>
    public List<string> Owners { get; } = new();
}

/// <summary>
/// Reads the part of a live tenant a change touches, and builds it into a (partial) snapshot the
/// exposure engine assesses exactly as it would the whole tenant: the resources the change names or
/// reaches (directory roles, app roles and group sites of the changed groups and every group above
/// them), every grant on them, and the full nested membership below every group involved. Facts it
/// cannot read become notes of the snapshot, and so of the report.
/// </summary>
internal sealed class LiveRead
{
    internal static readonly string[] UserSelect = { "id", "displayName", "userPrincipalName", "userType", "accountEnabled", "mail" };
    internal static readonly string[] GroupSelect = { "id", "displayName", "visibility", "groupTypes", "membershipRule", "isAssignableToRole", "securityEnabled", "assignedLabels" };

    private readonly Transport _t;
    private readonly CancellationToken _cancel;
    private readonly string _tenant;
    private readonly Dictionary<string, LivePrincipal> _principals = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, List<string>> _members = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, JsonElement> _groups = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, LiveResourceState> _resources = new(StringComparer.Ordinal);
    private readonly List<string> _notes = new();
    private readonly List<string> _gaps = new();
    private readonly Dictionary<string, int> _skipped = new(StringComparer.Ordinal);
    private int? _enabledUsers;
    private bool _allUsers;
    private readonly AccessSnapshot? _inventory;

    /// <summary>An inventory older than this leaves a membership change's coverage Partial: items shared since are not in it (policy Inventory.MaxAge).</summary>
    private readonly TimeSpan _inventoryMaxAge;

    public LiveRead(Transport transport, string tenant, CancellationToken cancel, AccessSnapshot? inventory = null, TimeSpan? inventoryMaxAge = null)
    {
        _t = transport;
        _tenant = tenant;
        _cancel = cancel;
        _inventory = inventory;
        _inventoryMaxAge = inventoryMaxAge ?? Policy.GovernancePolicy.DefaultInventoryMaxAge;
    }

    private GraphServiceClient C => _t.Client;

    public static AccessSnapshot ForChange(Transport t, string tenant, AccessChange change, AccessSnapshot? inventory = null, TimeSpan? inventoryMaxAge = null) =>
        Transport.Run(() => new LiveRead(t, tenant, CancellationToken.None, inventory, inventoryMaxAge).ChangeAsync(change));

    public static AccessSnapshot ForResource(Transport t, string tenant, string resourceId) =>
        Transport.Run(() => new LiveRead(t, tenant, CancellationToken.None).ResourceAsync(resourceId));

    private async Task<AccessSnapshot> ResourceAsync(string resourceId)
    {
        await ResourcesAsync(new[] { LiveResource.Parse(resourceId) }, named: true).ConfigureAwait(false);
        _allUsers |= _resources.Values.Any(r => r.Grants.Any(g => Audiences.IsAudience(g.Principal)));
        await ClosuresAsync(Enumerable.Empty<string>()).ConfigureAwait(false);
        return await BuildAsync().ConfigureAwait(false);
    }

    private async Task<AccessSnapshot> ChangeAsync(AccessChange change)
    {
        var named = new List<string>();
        var groups = new List<string>();
        var membership = new List<string>();
        var resources = new List<LiveResource>();
        foreach (var op in change.Operations)
        {
            switch (op.Op)
            {
                case OperationKind.Grant:
                case OperationKind.Revoke:
                    resources.Add(LiveResource.Parse(op.Resource!));
                    if (!Audiences.IsAudience(op.Principal!)) named.Add(op.Principal!);
                    else _allUsers = true;
                    break;
                case OperationKind.CreateLink:
                    resources.Add(LiveResource.Parse(op.Resource!));
                    _allUsers = true;
                    break;
                case OperationKind.AddMember:
                case OperationKind.RemoveMember:
                    groups.Add(op.Group!);
                    membership.Add(op.Group!);
                    named.Add(op.Member!);
                    break;
                default:
                    groups.Add(op.Group!);
                    _allUsers = true; // a Public group opens its site to every member user
                    break;
            }
        }

        // The requester and the suggesting agent, so the engine can tell whether they gain (AG007).
        var people = new List<string>();
        if (change.RequestedBy is { } requester) people.Add(requester);
        if (change.SuggestedBy?.Id is { } suggester) people.Add(suggester);

        await ResolveAsync(named.Concat(groups), required: true).ConfigureAwait(false);
        await ResolveAsync(people, required: false).ConfigureAwait(false);
        foreach (var g in groups)
        {
            if (Find(g) is { } p && p.Type != PrincipalType.Group)
            {
                throw new GovernanceException("NotAGroup", GovernanceErrorKind.InvalidArgument, $"'{g}' is a {p.Type}, not a group, in tenant {_tenant}.", g);
            }
        }

        var groupIds = groups.Select(g => Find(g)!.Id).ToList();
        await GroupsAsync(groupIds).ConfigureAwait(false);

        // The groups whose members change, and every group above them: whatever is granted to those is reached through the change.
        var above = await AncestorsAsync(membership.Select(g => Find(g)!.Id).Distinct(StringComparer.OrdinalIgnoreCase).ToList()).ConfigureAwait(false);
        var reached = membership.Select(g => Find(g)!.Id).Concat(above).Concat(groupIds).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        var found = await GrantedToAsync(reached).ConfigureAwait(false);
        var inventoried = membership.Count > 0 && _inventory is { } inv ? Reach(inv, reached) : new List<LiveResource>();
        await ResourcesAsync(resources, named: true).ConfigureAwait(false);
        await ResourcesAsync(found.Where(r => !_resources.ContainsKey(r.Id)).ToList(), named: false).ConfigureAwait(false);
        var reread = inventoried.Where(r => !_resources.ContainsKey(r.Id)).ToList();
        await ResourcesAsync(reread, named: false).ConfigureAwait(false);
        if (membership.Count > 0 && _inventory is { } used)
        {
            // Graph gives a file no label of its own here; the inventory has the higher of its site's group label and its own.
            foreach (var r in inventoried)
            {
                if (_resources.TryGetValue(r.Id, out var state) && used.FindResource(r.Id) is { } known && known.Sensitivity > state.Sensitivity)
                {
                    state.Sensitivity = known.Sensitivity;
                }
            }

            InventoryNotes(used, inventoried);
        }
        else if (membership.Count > 0)
        {
            _gaps.Add("permissions on SharePoint and OneDrive items given to the changed groups or the groups above them (Graph has no reverse lookup)");
            _notes.Add("Live read: permissions on SharePoint and OneDrive items given directly to the changed groups (or groups above them) cannot be listed from Graph without reading every site; " +
                       "the preview covers the resources the change names, directory roles, app roles and the groups' own sites. For a whole-tenant answer preview on a snapshot (Export-AccessSnapshot -FromGraph).");
        }

        await ClosuresAsync(named.Concat(groupIds).Select(n => Find(n)?.Id).Where(n => n is not null)!).ConfigureAwait(false);
        return await BuildAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// The inventory's reverse index: every SharePoint and OneDrive resource granted to one of the groups
    /// (the changed groups and every group above them, as read live), or connected to one (a group's
    /// site and team files). Their permissions are then read live, so the inventory only says where to look.
    /// </summary>
    private static List<LiveResource> Reach(AccessSnapshot inventory, List<string> groups)
    {
        var wanted = new HashSet<int>();
        foreach (var g in groups)
        {
            if (inventory.FindPrincipal(g) is { } p) wanted.Add(p.Index);
        }

        var hits = new SortedSet<int>();
        for (var g = 0; g < inventory.GrantCount; g++)
        {
            if (wanted.Contains(inventory.GrantPrincipal[g])) hits.Add(inventory.GrantResource[g]);
        }

        for (var r = 0; r < inventory.ResourceCount; r++)
        {
            if (inventory.ResourceGroup[r] >= 0 && wanted.Contains(inventory.ResourceGroup[r])) hits.Add(r);
        }

        var result = new List<LiveResource>();
        foreach (var r in hits)
        {
            var id = inventory.ResourceIds[r];
            if (id.StartsWith("drives/", StringComparison.Ordinal) || id.StartsWith("sites/", StringComparison.Ordinal))
            {
                result.Add(LiveResource.Parse(id));
            }
        }

        return result;
    }

    /// <summary>What the report says of the inventory: its age, what it found and what was read again; an old inventory is a coverage gap.</summary>
    private void InventoryNotes(AccessSnapshot inventory, List<LiveResource> reached)
    {
        var at = inventory.InventoryCrawledAt;
        var age = GovernanceClock.UtcNow - at;
        var ids = reached.Select(r => r.Id).ToList();
        var shown = string.Join(", ", ids.Take(10)) + (ids.Count > 10 ? $" and {ids.Count - 10} more" : string.Empty);
        _notes.Add($"Inventory: the permission inventory crawled {at.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} UTC ({Age(age)} old, {inventory.Inventory.Count} drives) " +
                   (ids.Count == 0
                       ? "shows no SharePoint or OneDrive item granted to the changed groups or the groups above them."
                       : $"shows {ids.Count} SharePoint and OneDrive resources granted or connected to the changed groups or the groups above them; their permissions were read again live: {shown}."));
        // What the inventory's crawl could not read (and OneDrive, which it does not crawl) is a gap here too.
        _gaps.AddRange(inventory.CoverageGaps.Select(g => "in the permission inventory: " + g));
        if (age > _inventoryMaxAge)
        {
            _gaps.Add($"items shared with the changed groups since the permission inventory was crawled ({Age(age)} ago, more than the policy's Inventory.MaxAge of {Changes.IsoDuration.Format(_inventoryMaxAge)}; refresh it with Export-AccessSnapshot -FromGraph -Update)");
        }
    }

    private static string Age(TimeSpan age) =>
        age.TotalDays >= 2 ? $"{(int)age.TotalDays} days" : age.TotalHours >= 2 ? $"{(int)age.TotalHours} hours" : $"{Math.Max(0, (int)age.TotalMinutes)} minutes";

    private LivePrincipal? Find(string idOrUpn)
    {
        if (_principals.TryGetValue(idOrUpn, out var p))
        {
            return p;
        }

        return _principals.Values.FirstOrDefault(x => string.Equals(x.Upn, idOrUpn, StringComparison.OrdinalIgnoreCase));
    }

    private void Add(LivePrincipal p)
    {
        if (!_principals.ContainsKey(p.Id))
        {
            _principals[p.Id] = p;
        }
    }

    /// <summary>Reads principals by id (getByIds) or user principal name (users/{upn}).</summary>
    private async Task ResolveAsync(IEnumerable<string> wanted, bool required)
    {
        var missing = wanted.Where(w => Find(w) is null).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        if (missing.Count == 0)
        {
            return;
        }

        var byUpn = missing.Where(m => m.Contains('@')).ToList();
        var byId = missing.Where(m => !m.Contains('@')).ToList();
        var requests = new List<GraphRequest>();
        for (var i = 0; i < byId.Count; i += 1000)
        {
            var body = new GetByIdsPostRequestBody { Ids = byId.Skip(i).Take(1000).ToList(), Types = new List<string> { "user", "group", "servicePrincipal" } };
            requests.Add(new GraphRequest(C.DirectoryObjects.GetByIds.ToPostRequestInformation(body), $"the directory objects {string.Join(", ", body.Ids)}", "Directory.Read.All")
            {
                CacheKey = "getByIds " + string.Join(",", body.Ids.OrderBy(x => x, StringComparer.OrdinalIgnoreCase)),
            });
        }

        foreach (var upn in byUpn)
        {
            requests.Add(new GraphRequest(C.Users[upn].ToGetRequestInformation(rc => rc.QueryParameters.Select = UserSelect), $"the user {upn}", "User.Read.All") { ObjectType = "user" });
        }

        foreach (var answer in await _t.BatchAsync(requests, _cancel).ConfigureAwait(false))
        {
            if (answer.Status == 404)
            {
                continue;
            }

            if (!answer.Ok)
            {
                if (required) throw answer.ToException(write: false);
                _notes.Add($"Live read: could not read {answer.Request.What} ({answer.Status} {answer.ErrorCode}); the preview cannot tell whether they gain access.");
                _gaps.Add($"{answer.Request.What} (HTTP {answer.Status})");
                continue;
            }

            foreach (var item in answer.Body!.Value.Has("value") ? answer.Values : new[] { answer.Body!.Value })
            {
                if (LivePrincipal.From(item.Kind().Length == 0 && answer.Request.ObjectType is { } type ? WithType(item, type) : item) is { } p)
                {
                    // getByIds answers users with the default property set (no userType, no accountEnabled, and no $select): read those next.
                    p.Partial = p.Type == PrincipalType.User && answer.Request.ObjectType is null && !(item.Has("userType") && item.Has("accountEnabled"));
                    Add(p);
                }
            }
        }

        await CompleteUsersAsync(required).ConfigureAwait(false);

        foreach (var m in missing.Where(m => Find(m) is null))
        {
            if (required)
            {
                throw new GovernanceException("DirectoryObjectNotFound", GovernanceErrorKind.ObjectNotFound,
                    $"'{m}' is not a user, group or service principal in tenant {_tenant}.", m);
            }

            _notes.Add($"Live read: '{m}' was not found in tenant {_tenant}.");
        }
    }

    /// <summary>Reads userType and accountEnabled of the users getByIds gave only in part ($select on users/{id}, 20 per $batch).</summary>
    private async Task CompleteUsersAsync(bool required)
    {
        var partial = _principals.Values.Where(p => p.Partial).OrderBy(p => p.Id, StringComparer.Ordinal).ToList();
        if (partial.Count == 0)
        {
            return;
        }

        var requests = partial.Select(p => new GraphRequest(C.Users[p.Id].ToGetRequestInformation(rc => rc.QueryParameters.Select = UserSelect), $"the user {p.Id}", "User.Read.All") { ObjectType = "user" }).ToList();
        var answers = await _t.BatchAsync(requests, _cancel).ConfigureAwait(false);
        for (var i = 0; i < answers.Count; i++)
        {
            var p = partial[i];
            var answer = answers[i];
            if (!answer.Ok || answer.Body is not { } body)
            {
                if (required) throw answer.ToException(write: false);
                _gaps.Add($"whether {p.Id} is a guest or disabled (HTTP {answer.Status})");
                _notes.Add($"Live read: could not read whether {Name(p.Id)} is a guest or disabled (HTTP {answer.Status} {answer.ErrorCode}; needs User.Read.All); the preview counts them as an enabled member.");
                p.Partial = false;
                continue;
            }

            p.Guest = string.Equals(body.Str("userType"), "Guest", StringComparison.OrdinalIgnoreCase);
            p.Enabled = body.Bool("accountEnabled") ?? true;
            p.Upn ??= body.Str("userPrincipalName");
            p.Mail ??= body.Str("mail");
            p.Partial = false;
        }
    }

    private static JsonElement WithType(JsonElement item, string type)
    {
        var props = new Dictionary<string, JsonElement>();
        foreach (var p in item.EnumerateObject()) props[p.Name] = p.Value;
        props["@odata.type"] = JsonSerializer.SerializeToElement("#microsoft.graph." + type);
        return JsonSerializer.SerializeToElement(props);
    }

    /// <summary>Group properties (visibility, type, label), for groups not read yet.</summary>
    private async Task GroupsAsync(IEnumerable<string> ids)
    {
        var wanted = ids.Where(g => !_groups.ContainsKey(g)).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        var requests = wanted.Select(g => new GraphRequest(C.Groups[g].ToGetRequestInformation(rc => rc.QueryParameters.Select = GroupSelect), $"the properties of group {g}", "GroupMember.Read.All")).ToList();
        foreach (var answer in await _t.BatchAsync(requests, _cancel).ConfigureAwait(false))
        {
            if (!answer.Ok)
            {
                throw answer.ToException(write: false);
            }

            var g = answer.Body!.Value;
            _groups[g.Str("id")!] = g;
            if (_principals.TryGetValue(g.Str("id")!, out var p))
            {
                p.Visibility = g.Visibility();
            }
        }
    }

    /// <summary>Every group the given groups are in, directly or through nesting.</summary>
    private async Task<List<string>> AncestorsAsync(List<string> groups)
    {
        var requests = groups.Select(g => new GraphRequest(
            C.Groups[g].TransitiveMemberOf.ToGetRequestInformation(rc => { rc.QueryParameters.Select = new[] { "id", "displayName" }; rc.QueryParameters.Top = 999; }),
            $"the groups above group {g}", "GroupMember.Read.All")).ToList();
        var result = new List<string>();
        foreach (var page in await _t.PagesAsync(requests, _cancel).ConfigureAwait(false))
        {
            if (!page.Ok)
            {
                throw page.Failure!.ToException(write: false);
            }

            foreach (var item in page.Items)
            {
                if (item.Kind() == "group" && item.Str("id") is { } id)
                {
                    result.Add(id);
                }
            }
        }

        return result.Distinct(StringComparer.OrdinalIgnoreCase).ToList();
    }

    /// <summary>The resources granted to these groups that Graph can list: directory roles, app roles, and their Microsoft 365 group sites.</summary>
    private async Task<List<LiveResource>> GrantedToAsync(List<string> groups)
    {
        var found = new List<LiveResource>();
        if (groups.Count == 0)
        {
            return found;
        }

        var requests = new List<GraphRequest>();
        foreach (var g in groups)
        {
            requests.Add(new GraphRequest(C.RoleManagement.Directory.RoleAssignments.ToGetRequestInformation(rc =>
            {
                rc.QueryParameters.Filter = $"principalId eq '{g}'";
                rc.QueryParameters.Select = new[] { "id", "principalId", "roleDefinitionId", "directoryScopeId" };
            }), $"the directory roles of group {g}", "RoleManagement.Read.Directory"));
            requests.Add(new GraphRequest(C.Groups[g].AppRoleAssignments.ToGetRequestInformation(rc => rc.QueryParameters.Top = 999),
                $"the app roles of group {g}", "Application.Read.All"));
        }

        foreach (var page in await _t.PagesAsync(requests, _cancel).ConfigureAwait(false))
        {
            if (!page.Ok)
            {
                Note(page.Failure!);
                continue;
            }

            foreach (var item in page.Items)
            {
                if (item.Str("roleDefinitionId") is { } role)
                {
                    found.Add(LiveResource.Parse(LiveResource.Role(role)));
                }
                else if (item.Str("resourceId") is { } app)
                {
                    found.Add(LiveResource.Parse(LiveResource.App(app)));
                }
            }
        }

        // Microsoft 365 groups: their site is theirs (members edit it; Public opens it to every member user).
        await GroupsAsync(groups).ConfigureAwait(false);
        var unified = groups.Where(g => _groups.TryGetValue(g, out var e) && e.IsUnified()).ToList();
        var sites = unified.Select(g => new GraphRequest(C.Groups[g].Sites["root"].ToGetRequestInformation(rc => rc.QueryParameters.Select = new[] { "id", "displayName", "webUrl" }),
            $"the site of group {g}", "Sites.Read.All")).ToList();
        var answers = await _t.BatchAsync(sites, _cancel).ConfigureAwait(false);
        var connected = new List<(LiveResourceState, string, bool)>();
        for (var i = 0; i < answers.Count; i++)
        {
            var answer = answers[i];
            if (!answer.Ok)
            {
                Note(answer);
                continue;
            }

            var site = answer.Body!.Value;
            var state = Resource(LiveResource.Site(site.Str("id")!), "site");
            state.Name = site.Str("displayName");
            state.WebUrl = site.Str("webUrl");
            connected.Add((state, unified[i], true));
        }

        await ConnectAsync(connected).ConfigureAwait(false);

        return found.GroupBy(r => r.Id).Select(r => r.First()).ToList();
    }

    private LiveResourceState Resource(string id, string type)
    {
        if (!_resources.TryGetValue(id, out var state))
        {
            state = new LiveResourceState(id, type);
            _resources[id] = state;
        }

        return state;
    }

    private Sensitivity Label(JsonElement group)
    {
        foreach (var label in group.Arr("assignedLabels"))
        {
            var name = label.Str("displayName");
            if (Json.FromLabel(name) is { } s)
            {
                return s;
            }

            _notes.Add($"Live read: the sensitivity label '{name}' of group {group.Str("displayName") ?? group.Str("id")} is none of Public, General, Confidential, HighlyConfidential; its site counts as General.");
        }

        return Sensitivity.General;
    }

    /// <summary>Reads resources and every grant on them.</summary>
    private async Task ResourcesAsync(IReadOnlyList<LiveResource> resources, bool named)
    {
        var requests = new List<GraphRequest>();
        var owners = new List<(LiveResource Resource, Part Part)>();
        foreach (var r in resources.GroupBy(r => r.Id).Select(g => g.First()))
        {
            switch (r.Kind)
            {
                case LiveResourceKind.DirectoryRole:
                    requests.Add(new GraphRequest(C.RoleManagement.Directory.RoleDefinitions[r.First].ToGetRequestInformation(rc => rc.QueryParameters.Select = new[] { "id", "displayName" }),
                        $"the directory role {r.First}", "RoleManagement.Read.Directory"));
                    owners.Add((r, Part.Properties));
                    requests.Add(new GraphRequest(C.RoleManagement.Directory.RoleAssignments.ToGetRequestInformation(rc =>
                    {
                        rc.QueryParameters.Filter = $"roleDefinitionId eq '{r.First}'";
                        rc.QueryParameters.Select = new[] { "id", "principalId", "roleDefinitionId", "directoryScopeId" };
                    }), $"who holds the directory role {r.First}", "RoleManagement.Read.Directory"));
                    owners.Add((r, Part.Grants));
                    break;
                case LiveResourceKind.Application:
                    requests.Add(new GraphRequest(C.ServicePrincipals[r.First].ToGetRequestInformation(rc => rc.QueryParameters.Select = new[] { "id", "displayName", "appId" }),
                        $"the application {r.First}", "Application.Read.All"));
                    owners.Add((r, Part.Properties));
                    requests.Add(new GraphRequest(C.ServicePrincipals[r.First].AppRoleAssignedTo.ToGetRequestInformation(rc => rc.QueryParameters.Top = 999),
                        $"who holds app roles of {r.First}", "Application.Read.All"));
                    owners.Add((r, Part.Grants));
                    break;
                case LiveResourceKind.Site:
                    requests.Add(new GraphRequest(C.Sites[r.First].ToGetRequestInformation(rc => rc.QueryParameters.Select = new[] { "id", "displayName", "webUrl" }),
                        $"the site {r.First}", "Sites.Read.All"));
                    owners.Add((r, Part.Properties));
                    requests.Add(new GraphRequest(C.Sites[r.First].Permissions.ToGetRequestInformation(), $"the application permissions of site {r.First}", "Sites.FullControl.All"));
                    owners.Add((r, Part.Grants));
                    // A group-connected site's document library is owned by its Microsoft 365 group (drive.owner.group).
                    requests.Add(new GraphRequest(C.Sites[r.First].Drive.ToGetRequestInformation(rc => rc.QueryParameters.Select = new[] { "id", "owner" }), $"the document library of site {r.First}", "Sites.Read.All"));
                    owners.Add((r, Part.Drive));
                    break;
                default:
                    requests.Add(new GraphRequest(C.Drives[r.First].Items[r.Second!].ToGetRequestInformation(rc => rc.QueryParameters.Select = new[] { "id", "name", "webUrl" }),
                        $"the item {r.Id}", "Files.Read.All"));
                    owners.Add((r, Part.Properties));
                    requests.Add(new GraphRequest(C.Drives[r.First].Items[r.Second!].Permissions.ToGetRequestInformation(), $"the permissions of {r.Id}", "Files.Read.All"));
                    owners.Add((r, Part.Grants));
                    // A file in a group's document library is connected to the group (team files).
                    requests.Add(new GraphRequest(C.Drives[r.First].ToGetRequestInformation(rc => rc.QueryParameters.Select = new[] { "id", "owner" }), $"the drive {r.First}", "Files.Read.All"));
                    owners.Add((r, Part.Drive));
                    break;
            }
        }

        var pages = await _t.PagesAsync(requests, _cancel).ConfigureAwait(false);
        var appIds = new List<(LiveResourceState, string, string)>();
        var connected = new List<(LiveResourceState State, string Group, bool Site)>();
        for (var i = 0; i < pages.Count; i++)
        {
            var (r, part) = owners[i];
            var page = pages[i];
            if (part == Part.Drive)
            {
                if (!page.Ok)
                {
                    // A site without a document library (404) has no group to find; anything else is a fact the preview could not read.
                    if (page.Failure!.Status != 404) Note(page.Failure!);
                    continue;
                }

                if (_resources.TryGetValue(r.Id, out var drived) && page.Single?.Obj("owner")?.Obj("group")?.Str("id") is { } ownerGroup)
                {
                    connected.Add((drived, ownerGroup, r.Kind == LiveResourceKind.Site));
                }

                continue;
            }

            if (!page.Ok)
            {
                if (named || page.Failure!.Status != 403) throw page.Failure!.ToException(write: false);
                Note(page.Failure!);
                _resources.Remove(r.Id);
                continue;
            }

            var state = Resource(r.Id, r.Type);
            if (part == Part.Properties)
            {
                if (page.Single is { } one)
                {
                    state.Name ??= one.Str("displayName") ?? one.Str("name");
                    state.WebUrl ??= one.Str("webUrl");
                }

                if (r.Kind == LiveResourceKind.DriveItem)
                {
                    _notes.Add($"Live read: Graph gives the sensitivity label of a file only as a label id, so {r.Id} counts as General; preview on a snapshot with its sensitivity set for a stricter answer.");
                }

                continue;
            }

            foreach (var item in page.Items)
            {
                switch (r.Kind)
                {
                    case LiveResourceKind.DirectoryRole:
                        if (item.Str("directoryScopeId") is { } scope && scope != "/")
                        {
                            Skip($"directory role assignments scoped to {scope} (an administrative unit or application) on {r.Id}");
                            continue;
                        }

                        state.Grants.Add((item.Str("principalId")!, "member"));
                        state.Sensitivity = Sensitivity.HighlyConfidential;
                        break;
                    case LiveResourceKind.Application:
                        state.Grants.Add((item.Str("principalId")!, item.Str("appRoleId") ?? Guid.Empty.ToString()));
                        break;
                    case LiveResourceKind.Site:
                        foreach (var role in Roles(item))
                        {
                            foreach (var identity in item.Arr("grantedToIdentitiesV2"))
                            {
                                if (identity.Obj("application")?.Str("id") is { } appId)
                                {
                                    appIds.Add((state, appId, role));
                                }
                            }
                        }

                        break;
                    default:
                        Permission(state, item, appIds);
                        break;
                }
            }

            if (r.Kind == LiveResourceKind.DirectoryRole)
            {
                state.Sensitivity = Sensitivity.HighlyConfidential;
            }
        }

        await AppsAsync(appIds).ConfigureAwait(false);
        await ConnectAsync(connected).ConfigureAwait(false);
    }

    private enum Part
    {
        Properties,
        Grants,
        Drive,
    }

    /// <summary>
    /// Resources connected to a Microsoft 365 group: a group's site gives its members write and its
    /// owners owner, with the group's sensitivity label; a file in the group's library is connected
    /// (so a Public group opens it to every enabled member user, as formats.md says).
    /// </summary>
    private async Task ConnectAsync(List<(LiveResourceState State, string Group, bool Site)> connected)
    {
        if (connected.Count == 0)
        {
            return;
        }

        var groups = connected.Select(c => c.Group).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        await ResolveAsync(groups, required: false).ConfigureAwait(false);
        groups = groups.Where(g => Find(g)?.Type == PrincipalType.Group).ToList();
        await GroupsAsync(groups).ConfigureAwait(false);
        var owners = await OwnersAsync(connected.Where(c => c.Site).Select(c => c.Group).Distinct(StringComparer.OrdinalIgnoreCase).Where(groups.Contains).ToList()).ConfigureAwait(false);
        foreach (var (state, group, site) in connected)
        {
            if (!groups.Contains(group, StringComparer.OrdinalIgnoreCase))
            {
                continue;
            }

            state.Group = group;
            if (_principals.TryGetValue(group, out var p) && p.Visibility == GroupVisibility.Public)
            {
                _allUsers = true; // every enabled member user reads it: who they are is part of the answer
            }

            if (!site)
            {
                continue;
            }

            if (_groups.TryGetValue(group, out var g))
            {
                state.Sensitivity = Label(g);
            }

            state.Grants.Add((group, "write"));
            if (owners.TryGetValue(group, out var list))
            {
                foreach (var o in list)
                {
                    state.Grants.Add((o, "owner"));
                    state.Owners.Add(o);
                }
            }
        }
    }

    /// <summary>The owners of groups (users and service principals), by group.</summary>
    private async Task<Dictionary<string, List<string>>> OwnersAsync(List<string> groups)
    {
        var result = new Dictionary<string, List<string>>(StringComparer.OrdinalIgnoreCase);
        var requests = groups.Select(g => new GraphRequest(C.Groups[g].Owners.ToGetRequestInformation(rc => { rc.QueryParameters.Select = UserSelect; rc.QueryParameters.Top = 999; }),
            $"the owners of group {g}", "GroupMember.Read.All")).ToList();
        var pages = await _t.PagesAsync(requests, _cancel).ConfigureAwait(false);
        for (var i = 0; i < pages.Count; i++)
        {
            if (!pages[i].Ok)
            {
                Note(pages[i].Failure!);
                continue;
            }

            var list = result[groups[i]] = new List<string>();
            foreach (var item in pages[i].Items)
            {
                if (LivePrincipal.From(item) is { } p)
                {
                    Add(p);
                    list.Add(p.Id);
                }
            }
        }

        return result;
    }

    /// <summary>The module's role names for a permission's roles (a site's application permission may be read, write, manage or fullControl).</summary>
    internal static IEnumerable<string> Roles(JsonElement permission)
    {
        foreach (var r in permission.Arr("roles"))
        {
            var role = r.GetString();
            if (role is null) continue;
            yield return role.ToLowerInvariant() switch
            {
                "read" => "read",
                "write" => "write",
                "owner" or "sp.full control" or "fullcontrol" or "manage" => "owner",
                _ => role,
            };
        }
    }

    /// <summary>One permission of a drive item: a person, a group, an application, or a sharing link's audience.</summary>
    private void Permission(LiveResourceState state, JsonElement p, List<(LiveResourceState, string, string)> appIds)
    {
        var link = p.Obj("link");
        foreach (var role in Roles(p))
        {
            if (link is { } l)
            {
                switch (l.Str("scope"))
                {
                    case "anonymous":
                        state.Grants.Add((Audiences.Anyone, role));
                        continue;
                    case "organization":
                        state.Grants.Add((Audiences.EveryoneExceptExternal, role));
                        continue;
                }

                // A link for specific people: the people it was given to.
                foreach (var identity in p.Arr("grantedToIdentitiesV2"))
                {
                    Identity(state, identity, role, appIds);
                }

                continue;
            }

            if (p.Obj("grantedToV2") is { } to)
            {
                Identity(state, to, role, appIds);
            }
        }
    }

    private void Identity(LiveResourceState state, JsonElement identity, string role, List<(LiveResourceState, string, string)> appIds)
    {
        if (identity.Obj("user")?.Str("id") is { } user)
        {
            state.Grants.Add((user, role));
        }
        else if (identity.Obj("group")?.Str("id") is { } group)
        {
            state.Grants.Add((group, role));
        }
        else if (identity.Obj("application")?.Str("id") is { } app)
        {
            appIds.Add((state, app, role));
        }
        else if (identity.Obj("siteGroup") is { } siteGroup)
        {
            Skip($"SharePoint groups (such as '{siteGroup.Str("displayName")}') on {state.Id}, whose members Graph does not list");
            _gaps.Add($"the members of SharePoint groups on {state.Id}");
        }
        else if (identity.Obj("siteUser") is { } siteUser)
        {
            Skip($"SharePoint-only users (such as '{siteUser.Str("displayName")}') on {state.Id}");
            _gaps.Add($"SharePoint-only users on {state.Id}");
        }
    }

    /// <summary>Application permissions name the app's appId; the grant is to its service principal.</summary>
    private async Task AppsAsync(List<(LiveResourceState State, string AppId, string Role)> apps)
    {
        var distinct = apps.Select(a => a.AppId).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        var requests = distinct.Select(a => new GraphRequest(C.ServicePrincipalsWithAppId(a).ToGetRequestInformation(rc => rc.QueryParameters.Select = new[] { "id", "displayName", "appId" }),
            $"the service principal of application {a}", "Application.Read.All")).ToList();
        var answers = await _t.BatchAsync(requests, _cancel).ConfigureAwait(false);
        var sp = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < answers.Count; i++)
        {
            if (!answers[i].Ok)
            {
                Note(answers[i]);
                continue;
            }

            var p = LivePrincipal.From(WithType(answers[i].Body!.Value, "servicePrincipal"))!;
            Add(p);
            sp[distinct[i]] = p.Id;
        }

        foreach (var (state, appId, role) in apps)
        {
            if (sp.TryGetValue(appId, out var id))
            {
                state.Grants.Add((id, role));
            }
        }
    }

    /// <summary>
    /// The nested membership below every group involved (named, granted, or holding what the change
    /// reaches), level by level, 20 groups per $batch; and the principals granted who are not members of any.
    /// </summary>
    private async Task ClosuresAsync(IEnumerable<string> start)
    {
        var frontier = new Queue<string>();
        void Enqueue(string id)
        {
            if (!_members.ContainsKey(id) && _principals.TryGetValue(id, out var p) && p.Type == PrincipalType.Group)
            {
                _members[id] = new List<string>();
                frontier.Enqueue(id);
            }
        }

        // Grantees first become known principals.
        var grantees = _resources.Values.SelectMany(r => r.Grants).Select(g => g.Principal).Where(p => !Audiences.IsAudience(p)).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        await ResolveAsync(grantees, required: false).ConfigureAwait(false);
        foreach (var id in start.Concat(grantees))
        {
            Enqueue(id);
        }

        while (frontier.Count > 0)
        {
            var level = new List<string>();
            while (frontier.Count > 0) level.Add(frontier.Dequeue());
            var requests = level.Select(g => new GraphRequest(
                C.Groups[g].Members.ToGetRequestInformation(rc => { rc.QueryParameters.Select = UserSelect; rc.QueryParameters.Top = 999; }),
                $"the members of group {g}", "GroupMember.Read.All")).ToList();
            var pages = await _t.PagesAsync(requests, _cancel).ConfigureAwait(false);
            for (var i = 0; i < pages.Count; i++)
            {
                var page = pages[i];
                if (!page.Ok)
                {
                    if (page.Failure!.Status == 403)
                    {
                        _gaps.Add($"the members of group {level[i]} (HTTP 403)");
                        _notes.Add($"Live read: the members of group {Name(level[i])} could not be read ({page.Failure.ErrorCode}: hidden membership needs Member.Read.Hidden, otherwise GroupMember.Read.All); the preview counts none of them.");
                        continue;
                    }

                    throw page.Failure.ToException(write: false);
                }

                foreach (var item in page.Items)
                {
                    if (LivePrincipal.From(item) is not { } p)
                    {
                        Skip($"members of group {Name(level[i])} that are not users, groups or service principals ({item.Kind()})");
                        continue;
                    }

                    Add(p);
                    _members[level[i]].Add(p.Id);
                    Enqueue(p.Id);
                }
            }
        }
    }

    private string Name(string id) => _principals.TryGetValue(id, out var p) && p.Name is not null ? $"'{p.Name}' ({id})" : id;

    private void Note(GraphResponse failure)
    {
        _gaps.Add($"{failure.Request.What} (HTTP {failure.Status})");
        _notes.Add($"Live read: could not read {failure.Request.What} (HTTP {failure.Status} {failure.ErrorCode}; needs {failure.Request.Permission}); what it would add is not in the preview.");
    }

    private void Skip(string what) => _skipped[what] = _skipped.TryGetValue(what, out var n) ? n + 1 : 1;

    /// <summary>The users: all of them when an audience is involved (who is in it), else only the tenant's count of enabled users (percentages).</summary>
    private async Task UsersAsync()
    {
        if (_allUsers)
        {
            var request = new GraphRequest(C.Users.ToGetRequestInformation(rc => { rc.QueryParameters.Select = UserSelect; rc.QueryParameters.Top = 999; }), "the users of the tenant", "User.Read.All");
            var page = (await _t.PagesAsync(new[] { request }, _cancel).ConfigureAwait(false))[0];
            if (!page.Ok)
            {
                throw page.Failure!.ToException(write: false);
            }

            foreach (var item in page.Items)
            {
                if (LivePrincipal.From(WithType(item, "user")) is { } p) Add(p);
            }

            return;
        }

        var count = new GraphRequest(C.Users.Count.ToGetRequestInformation(rc =>
        {
            rc.QueryParameters.Filter = "accountEnabled eq true";
            rc.Headers.Add("ConsistencyLevel", "eventual");
        }), "the number of enabled users", "User.Read.All");
        var answer = (await _t.BatchAsync(new[] { count }, _cancel).ConfigureAwait(false))[0];
        if (answer.Ok && int.TryParse((answer.Text ?? answer.Body?.ToString() ?? string.Empty).Trim().TrimStart('\uFEFF'), NumberStyles.None, CultureInfo.InvariantCulture, out var n))
        {
            _enabledUsers = n;
        }
        else
        {
            _notes.Add($"Live read: the number of enabled users could not be read (HTTP {answer.Status} {answer.ErrorCode}; needs User.Read.All); percentages are of the users read.");
        }
    }

    private async Task<AccessSnapshot> BuildAsync()
    {
        await UsersAsync().ConfigureAwait(false);
        var b = new SnapshotBuilder(_tenant, _principals.Count + 8, _resources.Count + 4)
        {
            CapturedAt = DateTimeOffset.UtcNow,
            CapturedAtText = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
            Source = null,
        };
        var index = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase)
        {
            [Audiences.Everyone] = AccessSnapshot.EveryoneIndex,
            [Audiences.EveryoneExceptExternal] = AccessSnapshot.EveryoneExceptExternalIndex,
            [Audiences.Anyone] = AccessSnapshot.AnyoneIndex,
        };
        foreach (var p in _principals.Values.OrderBy(p => p.Type).ThenBy(p => p.Id, StringComparer.Ordinal))
        {
            index[p.Id] = b.AddPrincipal(p.Id, p.Type, p.Name, p.Upn, p.Guest, p.Enabled, agent: false, p.Visibility, p.Mail, null);
        }

        foreach (var (group, members) in _members.OrderBy(m => m.Key, StringComparer.Ordinal))
        {
            foreach (var m in members.Distinct(StringComparer.OrdinalIgnoreCase))
            {
                b.AddMember(index[group], index[m]);
            }
        }

        foreach (var r in _resources.Values.OrderBy(r => r.Id, StringComparer.Ordinal))
        {
            var ri = b.AddResource(r.Id, r.Type, r.Name, r.Sensitivity, false, r.Group is { } g && index.TryGetValue(g, out var gi) ? gi : -1, r.WebUrl);
            foreach (var o in r.Owners.Distinct(StringComparer.OrdinalIgnoreCase))
            {
                if (index.TryGetValue(o, out var oi)) b.AddOwner(ri, oi);
            }

            foreach (var (principal, role) in r.Grants.Distinct())
            {
                if (index.TryGetValue(principal, out var pi))
                {
                    b.AddGrant(ri, pi, role);
                }
                else
                {
                    Skip($"grants on {r.Id} to principals Graph could not read");
                    _gaps.Add($"grantees on {r.Id} that could not be read");
                }
            }
        }

        if (!_allUsers)
        {
            b.EnabledUserTotal = _enabledUsers;
        }

        b.Notes.AddRange(_notes.Distinct());
        b.CoverageGaps.AddRange(_gaps.Distinct());
        foreach (var (what, n) in _skipped.OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            b.Notes.Add($"Live read: left out {n} {what}.");
        }

        return b.Build();
    }
}
