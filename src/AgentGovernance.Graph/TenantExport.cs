using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using AgentGovernance.Directory;
using AgentGovernance.Display;
using AgentGovernance.Providers.Graph;
using Microsoft.Graph;

namespace AgentGovernance.Graph;

/// <summary>
/// The whole tenant as a snapshot@1: users, groups with their members and service principals by
/// delta query ($select, every page followed to its deltaLink, @removed honoured); then what has no
/// delta, 20 per $batch: who holds each directory role, the app-role assignments of applications that
/// have roles, and the site, label and owners of every Microsoft 365 group. Each delta page is written
/// to a journal as it arrives, so an interrupted export resumes where it stopped (-Resume).
/// </summary>
internal sealed class TenantExport
{
    private static readonly string[] SpSelect = { "id", "displayName", "appId", "accountEnabled", "appRoles", "appRoleAssignmentRequired" };

    private readonly Transport _t;
    private readonly string _tenant;
    private readonly string? _tenantName;
    private readonly GraphExportOptions _options;
    private readonly Action<GraphExportProgress>? _progress;
    private readonly CancellationToken _cancel;

    private readonly SortedDictionary<string, JsonElement> _users = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, JsonElement> _groups = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, JsonElement> _sps = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SortedSet<string>> _members = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SortedSet<string>> _owners = new(StringComparer.Ordinal);
    private readonly List<string> _notes = new();
    private readonly Dictionary<string, InventorySite> _siteInfo = new(StringComparer.OrdinalIgnoreCase);
    private int _skippedMembers;

    // -Update: what the earlier snapshot held, continued from its stored delta links (users, groups).
    private AccessSnapshot? Previous => _options.Previous;
    private readonly Dictionary<string, string> _links = new(StringComparer.Ordinal);
    private readonly HashSet<string> _seeded = new(StringComparer.Ordinal);
    private readonly HashSet<string> _touchedGroups = new(StringComparer.OrdinalIgnoreCase);
    private readonly HashSet<string> _removed = new(StringComparer.OrdinalIgnoreCase);
    private readonly HashSet<string> _previousUsers = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, (string Id, string? Name, string? Url)> _previousSites = new(StringComparer.OrdinalIgnoreCase);

    // -Update: service principals that were applications (had app roles) in the earlier snapshot, whose app roles
    // it does not hold; and who held each built-in directory role, by role template id, as directoryRoles/delta changes it.
    private readonly HashSet<string> _previousApps = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, SortedSet<string>> _roleHolders = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Reads of what Graph has no delta query for, made again in full on -Update (kind, reads).</summary>
    private readonly List<(string What, int Reads)> _fullReads = new();

    public TenantExport(Transport t, string tenant, string? tenantName, GraphExportOptions options, Action<GraphExportProgress>? progress, CancellationToken cancel)
    {
        _t = t;
        _tenant = tenant;
        _tenantName = tenantName;
        _options = options;
        _progress = progress;
        _cancel = cancel;
    }

    private GraphServiceClient C => _t.Client;

    public async Task<AccessSnapshot> RunAsync()
    {
        if (Previous is { } previous)
        {
            Seed(previous);
        }

        var journal = Journal.Open(_options.JournalPath, _options.Resume, _tenant);
        using (journal)
        {
            await DeltaAsync(journal, "users", "users", () => C.Users.Delta.ToGetRequestInformation(rc => rc.QueryParameters.Select = LiveRead.UserSelect), "User.Read.All", Users, () => _users.Clear()).ConfigureAwait(false);
            await DeltaAsync(journal, "groups", "groups and their members", () => C.Groups.Delta.ToGetRequestInformation(rc =>
                rc.QueryParameters.Select = LiveRead.GroupSelect.Concat(new[] { "members", "owners" }).ToArray()), "GroupMember.Read.All", Groups, () =>
                {
                    _groups.Clear();
                    _members.Clear();
                    _owners.Clear();
                    _seeded.Remove("groups");
                }).ConfigureAwait(false);
            await DeltaAsync(journal, "servicePrincipals", "service principals", () => C.ServicePrincipals.Delta.ToGetRequestInformation(rc => rc.QueryParameters.Select = SpSelect), "Application.Read.All", ServicePrincipals, () =>
                {
                    _sps.Clear();
                    _previousApps.Clear();
                    _seeded.Remove("servicePrincipals");
                }).ConfigureAwait(false);
            if (_options.Inventory || Previous is not null)
            {
                // directoryrole-delta.md: members@delta of the built-in roles. A full export takes only the latest link
                // (delta-query-overview: "$deltaToken=latest ... contain a @odata.deltaLink and no resource data"),
                // since it reads the holders from roleManagement; -Update continues from it.
                await DeltaAsync(journal, "directoryRoles", "directory roles", () => _t.Get(_t.Client.RequestAdapter.BaseUrl + "/directoryRoles/delta?$select=displayName,roleTemplateId,members&$deltatoken=latest"),
                    "RoleManagement.Read.Directory", DirectoryRoles, () =>
                    {
                        _roleHolders.Clear();
                        _seeded.Remove("directoryRoles");
                    }).ConfigureAwait(false);
            }
        }

        var b = new SnapshotBuilder(_tenant, _users.Count + _groups.Count + _sps.Count, 256)
        {
            TenantDisplayName = _tenantName,
            CapturedAt = DateTimeOffset.UtcNow,
        };
        b.CapturedAtText = b.CapturedAt.Value.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        if (_options.Inventory || Previous is not null)
        {
            foreach (var (kind, link) in _links) b.DeltaLinks[kind] = link;
        }

        var index = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        foreach (var (id, u) in _users)
        {
            index[id] = b.AddPrincipal(id, PrincipalType.User, u.Str("displayName"), u.Str("userPrincipalName"),
                string.Equals(u.Str("userType"), "Guest", StringComparison.OrdinalIgnoreCase), u.Bool("accountEnabled") ?? true, false, GroupVisibility.Private, u.Str("mail"), null);
        }

        foreach (var (id, g) in _groups)
        {
            index[id] = b.AddPrincipal(id, PrincipalType.Group, g.Str("displayName"), null, false, true, false, g.Visibility(), null, null);
        }

        foreach (var (id, sp) in _sps)
        {
            index[id] = b.AddPrincipal(id, PrincipalType.ServicePrincipal, sp.Str("displayName"), null, false, sp.Bool("accountEnabled") ?? true, false, GroupVisibility.Private, null, null);
        }

        foreach (var (group, members) in _members.OrderBy(m => m.Key, StringComparer.Ordinal))
        {
            if (!index.TryGetValue(group, out var gi)) continue;
            foreach (var m in members)
            {
                if (index.TryGetValue(m, out var mi) && mi != gi) b.AddMember(gi, mi);
                else if (!_removed.Contains(m)) _skippedMembers++; // a member deleted since is no member, whether or not the group's delta said so
            }
        }

        await RolesAsync(b, index).ConfigureAwait(false);
        await AppsAsync(b, index).ConfigureAwait(false);
        InventoryCrawl? crawl = null;
        if (_options.Inventory || _options.Previous is not null)
        {
            // OneDrive: every user's on a full crawl; on -Update those of the users who are new since.
            var owners = _users.Keys.Where(u => Previous is null || !_previousUsers.Contains(u)).ToList();
            // Guests (whose OneDrive is in their home tenant) and disabled users (who cannot sign in to have one
            // provisioned) are not counted among those whose OneDrive may have appeared since.
            var onedrives = Previous?.Inventory.Select(d => d.Site).Where(x => x.StartsWith("users/", StringComparison.Ordinal)).ToHashSet(StringComparer.OrdinalIgnoreCase);
            var withoutDrive = onedrives is null ? 0 : _users.Count(u => _previousUsers.Contains(u.Key) && !onedrives.Contains(InventoryCrawl.OneDriveSite(u.Key))
                && !string.Equals(u.Value.Str("userType"), "Guest", StringComparison.OrdinalIgnoreCase) && u.Value.Bool("accountEnabled") != false);
            crawl = new InventoryCrawl(_t, b, index, _siteInfo, _options.Previous, _progress, _notes, _cancel) { OneDriveOwners = owners, UsersWithoutOneDrive = withoutDrive, LabelNames = LabelNamesAsync };
            await crawl.PrepareAsync(_options.JournalPath + ".drives", _options.Resume).ConfigureAwait(false);
        }

        await SitesAsync(b, index, crawl?.DeletedSites).ConfigureAwait(false);
        if (crawl is not null) await crawl.RunAsync().ConfigureAwait(false);

        if (Previous is not null && _fullReads.Count > 0)
        {
            var reads = _fullReads.Sum(r => r.Reads);
            _notes.Add($"Read in full again, as Graph v1.0 has no delta query for them: {string.Join(", ", _fullReads.Select(r => $"{r.What} ({r.Reads:N0})"))}; "
                + $"{reads:N0} reads in {_fullReads.Sum(r => (r.Reads + Transport.BatchLimit - 1) / Transport.BatchLimit):N0} $batch requests of {Transport.BatchLimit}.");
        }

        if (_skippedMembers > 0)
        {
            _notes.Add($"{_skippedMembers} group members are not users, groups or service principals (devices, contacts) and were left out.");
        }

        b.Notes.AddRange(_notes);
        return b.Build(); // the caller deletes the journal once the snapshot is written
    }

    private void Report(string activity, string status, int percent = -1) => _progress?.Invoke(new GraphExportProgress(activity, status, percent));

    private void Users(JsonElement u)
    {
        var id = u.Str("id");
        if (id is null) return;
        if (u.Has("@removed"))
        {
            _users.Remove(id);
            _removed.Add(id);
        }
        else
        {
            _users[id] = Merge(_users, id, u);
            _removed.Remove(id);
        }
    }

    private void ServicePrincipals(JsonElement sp)
    {
        var id = sp.Str("id");
        if (id is null) return;
        if (sp.Has("@removed")) _sps.Remove(id);
        else _sps[id] = Merge(_sps, id, sp);
    }

    /// <summary>A built-in directory role's holders changed (members@delta), keyed by its template id: the role definition's id.</summary>
    private void DirectoryRoles(JsonElement role)
    {
        if (role.Has("@removed") || role.Str("roleTemplateId") is not { } template) return; // a deactivated role: its assignments go with it, and roleManagement shows none
        if (!_roleHolders.TryGetValue(template, out var holders)) _roleHolders[template] = holders = new SortedSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var m in role.Arr("members@delta"))
        {
            if (m.Str("id") is not { } id) continue;
            if (m.Has("@removed")) holders.Remove(id);
            else holders.Add(id);
        }
    }

    /// <summary>A group may come on several pages (its members in parts); its properties come once, its members@delta each time.</summary>
    private void Groups(JsonElement g)
    {
        var id = g.Str("id");
        if (id is null) return;
        _touchedGroups.Add(id);
        if (g.Has("@removed"))
        {
            _removed.Add(id);
            _groups.Remove(id);
            _members.Remove(id);
            _owners.Remove(id);
            return;
        }

        _groups[id] = Merge(_groups, id, g);
        Refs(g, "members@delta", id, _members);
        Refs(g, "owners@delta", id, _owners);
    }

    private static void Refs(JsonElement g, string name, string id, Dictionary<string, SortedSet<string>> into)
    {
        if (!into.TryGetValue(id, out var set))
        {
            set = new SortedSet<string>(StringComparer.Ordinal);
            into[id] = set;
        }

        foreach (var m in g.Arr(name))
        {
            if (m.Str("id") is not { } mid) continue;
            if (m.Has("@removed")) set.Remove(mid);
            else set.Add(mid);
        }
    }

    /// <summary>Later pages of the same object carry only what they add; keep the properties first seen.</summary>
    private static JsonElement Merge(SortedDictionary<string, JsonElement> into, string id, JsonElement page) =>
        into.TryGetValue(id, out var had) && had.Has("displayName") && !page.Has("displayName") ? had : page;

    /// <summary>
    /// One delta round of <paramref name="phase"/>: from the journal's last page (-Resume), else from the
    /// earlier snapshot's stored deltaLink (-Update: only what changed since), else from the start. A stored
    /// link Graph no longer honours (410 Gone, syncStateNotFound) starts the round afresh: <paramref name="reset"/>
    /// forgets what the earlier snapshot held, and everything is read again.
    /// </summary>
    private async Task DeltaAsync(Journal journal, string phase, string what, Func<Microsoft.Kiota.Abstractions.RequestInformation> first, string permission, Action<JsonElement> take, Action? reset)
    {
        var activity = "Export-AccessSnapshot -FromGraph";
        var pages = 0;
        var items = 0;
        string? link = null;
        var stored = reset is not null && _seeded.Contains(phase) && Previous!.InventoryDeltaLinks.TryGetValue(phase, out var had) ? had : null;
        if (journal.WasReset(phase))
        {
            reset?.Invoke();
            stored = null;
        }

        foreach (var (page, next) in journal.Pages(phase))
        {
            foreach (var item in page.Arr("value")) { take(item); items++; }
            pages++;
            link = next;
        }

        if (journal.IsDone(phase))
        {
            if (journal.DeltaLinkOf(phase) is { } done) _links[phase] = done;
            Report(activity, $"{what}: {items:N0} from the journal");
            return;
        }

        GraphRequest Start() => new(first(), $"the {what} (delta)", permission);
        var request = link is not null ? new GraphRequest(_t.Get(link), $"the {what} (delta)", permission)
            : stored is not null ? new GraphRequest(_t.Get(stored), $"the changes to the {what} since the last export (delta)", permission)
            : Start();
        var fromStored = link is null && stored is not null;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (true)
        {
            _cancel.ThrowIfCancellationRequested();
            var answer = (await _t.BatchAsync(new[] { request }, _cancel).ConfigureAwait(false))[0];
            if (fromStored && (answer.Status == 410 || answer.ErrorCode is "syncStateNotFound" or "resyncRequired"))
            {
                // delta-query-overview: an expired token is a resync; the earlier state may be stale, so read it all again.
                _notes.Add($"The stored delta link of the {what} was no longer valid ({answer.ErrorCode ?? "HTTP " + answer.Status}); they were read again in full.");
                reset!.Invoke();
                journal.Reset(phase);
                fromStored = false;
                request = Start();
                continue;
            }

            fromStored = false;
            if (!answer.Ok)
            {
                throw answer.ToException(write: false);
            }

            var body = answer.Body!.Value;
            foreach (var item in answer.Values) { take(item); items++; }
            pages++;
            var next = answer.NextLink;
            journal.Write(phase, body, next);
            Report(activity, $"{what}: {items:N0} read ({pages:N0} pages)");
            if (next is null)
            {
                journal.Done(phase, answer.DeltaLink);
                if (answer.DeltaLink is { } delta) _links[phase] = delta;
                return;
            }

            if (!seen.Add(next))
            {
                throw new GovernanceException("DirectoryReadFailed", GovernanceErrorKind.ReadError, $"Graph returned the same nextLink twice while reading the {what}: {next}", next);
            }

            request = new GraphRequest(_t.Get(next), $"the {what} (delta)", permission);
        }
    }

    /// <summary>
    /// -Update: the users and groups of the earlier snapshot, as the delta rounds from its stored links will
    /// change them (a group's members, and for a Microsoft 365 group with a site its owners and label, as
    /// the site carried them). A kind with no stored link is read in full.
    /// </summary>
    private void Seed(AccessSnapshot p)
    {
        var links = p.InventoryDeltaLinks;
        for (var i = AccessSnapshot.FirstPrincipal; i < p.PrincipalSlots; i++)
        {
            if (p.PrincipalTypeOf(i) == PrincipalType.User) _previousUsers.Add(p.PrincipalId(i));
        }

        var siteOf = new Dictionary<int, int>();
        for (var r = 0; r < p.ResourceCount; r++)
        {
            if (p.ResourceTypes[r] == "site" && p.ResourceGroup[r] >= 0 && p.ResourceIds[r].StartsWith("sites/", StringComparison.Ordinal)) siteOf[p.ResourceGroup[r]] = r;
        }

        if (links.ContainsKey("users"))
        {
            _seeded.Add("users");
            for (var i = AccessSnapshot.FirstPrincipal; i < p.PrincipalSlots; i++)
            {
                if (p.PrincipalTypeOf(i) != PrincipalType.User) continue;
                _users[p.PrincipalId(i)] = Element(w =>
                {
                    w.WriteString("id", p.PrincipalId(i));
                    if (p.HasDisplayName(i)) w.WriteString("displayName", p.PrincipalName(i));
                    if (p.Upn[i] is { } upn) w.WriteString("userPrincipalName", upn);
                    w.WriteString("userType", p.IsGuest(i) ? "Guest" : "Member");
                    w.WriteBoolean("accountEnabled", p.IsEnabled(i));
                    if (p.Mail[i] is { } mail) w.WriteString("mail", mail);
                });
            }
        }

        if (links.ContainsKey("servicePrincipals"))
        {
            _seeded.Add("servicePrincipals");
            for (var i = AccessSnapshot.FirstPrincipal; i < p.PrincipalSlots; i++)
            {
                if (p.PrincipalTypeOf(i) != PrincipalType.ServicePrincipal) continue;
                _sps[p.PrincipalId(i)] = Element(w =>
                {
                    w.WriteString("id", p.PrincipalId(i));
                    if (p.HasDisplayName(i)) w.WriteString("displayName", p.PrincipalName(i));
                    w.WriteBoolean("accountEnabled", p.IsEnabled(i));
                });
            }

            for (var r = 0; r < p.ResourceCount; r++)
            {
                if (p.ResourceTypes[r] == "application" && p.ResourceIds[r].StartsWith("servicePrincipals/", StringComparison.Ordinal)) _previousApps.Add(p.ResourceIds[r].Substring("servicePrincipals/".Length));
            }
        }

        if (links.ContainsKey("directoryRoles"))
        {
            _seeded.Add("directoryRoles");
            for (var g = 0; g < p.GrantCount; g++)
            {
                var id = p.ResourceIds[p.GrantResource[g]];
                if (p.ResourceTypes[p.GrantResource[g]] != "directoryRole" || !id.StartsWith("roleDefinitions/", StringComparison.Ordinal)) continue;
                var template = id.Substring("roleDefinitions/".Length);
                if (!_roleHolders.TryGetValue(template, out var holders)) _roleHolders[template] = holders = new SortedSet<string>(StringComparer.OrdinalIgnoreCase);
                holders.Add(p.PrincipalId(p.GrantPrincipal[g]));
            }
        }

        if (links.ContainsKey("groups"))
        {
            _seeded.Add("groups");
            for (var i = AccessSnapshot.FirstPrincipal; i < p.PrincipalSlots; i++)
            {
                if (p.PrincipalTypeOf(i) != PrincipalType.Group) continue;
                var id = p.PrincipalId(i);
                var site = siteOf.TryGetValue(i, out var sr) ? sr : -1;
                _groups[id] = Element(w =>
                {
                    w.WriteString("id", id);
                    if (p.HasDisplayName(i)) w.WriteString("displayName", p.PrincipalName(i));
                    // Names spelled out: Enum.ToString reads the enum's attributes, whose assembly a host may not load.
                    w.WriteString("visibility", p.VisibilityOf(i) switch { GroupVisibility.Public => "Public", GroupVisibility.HiddenMembership => "HiddenMembership", _ => "Private" });
                    w.WriteStartArray("groupTypes");
                    if (site >= 0) w.WriteStringValue("Unified");
                    w.WriteEndArray();
                    w.WriteStartArray("assignedLabels");
                    if (site >= 0 && p.ResourceSensitivity[site] != Sensitivity.General)
                    {
                        w.WriteStartObject();
                        w.WriteString("displayName", p.ResourceSensitivity[site] switch { Sensitivity.Public => "Public", Sensitivity.Confidential => "Confidential", Sensitivity.HighlyConfidential => "Highly Confidential", _ => "General" });
                        w.WriteEndObject();
                    }

                    w.WriteEndArray();
                });
                var members = new SortedSet<string>(StringComparer.Ordinal);
                foreach (var m in p.MembersOf(i)) members.Add(p.PrincipalId(m));
                _members[id] = members;
                if (site >= 0)
                {
                    var owners = new SortedSet<string>(StringComparer.Ordinal);
                    foreach (var o in p.OwnersOf(site)) owners.Add(p.PrincipalId(o));
                    _owners[id] = owners;
                    _previousSites[id] = (p.ResourceIds[site].Substring("sites/".Length), p.ResourceNames[site], p.ResourceUrls[site]);
                }
            }
        }
    }

    private static JsonElement Element(Action<Utf8JsonWriter> write)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            write(w);
            w.WriteEndObject();
        }

        using var doc = JsonDocument.Parse(buffer.WrittenMemory);
        return doc.RootElement.Clone();
    }

    private async Task<List<PagedResult>> ManyAsync(string status, List<GraphRequest> requests)
    {
        Report("Export-AccessSnapshot -FromGraph", $"{status}: {requests.Count:N0} reads, {Transport.BatchLimit} per batch");
        return await _t.PagesAsync(requests, _cancel).ConfigureAwait(false);
    }

    private void Note(PagedResult failed) =>
        _notes.Add($"Could not read {failed.Request.What} (HTTP {failed.Failure!.Status} {failed.Failure.ErrorCode}; needs {failed.Request.Permission}); it is not in the snapshot.");

    /// <summary>Directory roles: every role definition, and who holds it tenant-wide.</summary>
    private async Task RolesAsync(SnapshotBuilder b, Dictionary<string, int> index)
    {
        var defs = (await ManyAsync("directory roles", new List<GraphRequest>
        {
            new(C.RoleManagement.Directory.RoleDefinitions.ToGetRequestInformation(rc => rc.QueryParameters.Select = new[] { "id", "displayName", "isBuiltIn" }), "the directory role definitions", "RoleManagement.Read.Directory"),
        }).ConfigureAwait(false))[0];
        if (!defs.Ok)
        {
            Note(defs);
            return;
        }

        var roles = defs.Items.Where(d => d.Str("id") is not null).OrderBy(d => d.Str("id"), StringComparer.Ordinal).ToList();
        // -Update: a built-in role's holders are the earlier snapshot's as directoryRoles/delta changed them (a built-in
        // role definition's id is its template id). Custom roles have no directoryRole, and unifiedRoleAssignment
        // has no delta function (unifiedroleassignment.md lists none): theirs are read again.
        var incremental = _seeded.Contains("directoryRoles");
        var read = roles.Where(d => !incremental || d.Bool("isBuiltIn") == false).ToList();
        if (incremental) _fullReads.Add(("the assignments of custom directory roles", read.Count + 1));
        var requests = read.Select(d => new GraphRequest(C.RoleManagement.Directory.RoleAssignments.ToGetRequestInformation(rc =>
        {
            rc.QueryParameters.Filter = $"roleDefinitionId eq '{d.Str("id")}'";
            rc.QueryParameters.Select = new[] { "id", "principalId", "roleDefinitionId", "directoryScopeId" };
        }), $"who holds the directory role {d.Str("displayName")}", "RoleManagement.Read.Directory")).ToList();
        var pages = await ManyAsync("directory role assignments", requests).ConfigureAwait(false);
        var pageOf = new Dictionary<string, PagedResult>(StringComparer.Ordinal);
        for (var i = 0; i < read.Count; i++) pageOf[read[i].Str("id")!] = pages[i];
        foreach (var role in roles)
        {
            var id = role.Str("id")!;
            var r = b.AddResource(LiveResource.Role(id), "directoryRole", role.Str("displayName"), Sensitivity.HighlyConfidential);
            if (!pageOf.TryGetValue(id, out var page))
            {
                foreach (var p in _roleHolders.GetValueOrDefault(id) ?? new SortedSet<string>())
                {
                    if (index.TryGetValue(p, out var pi)) b.AddGrant(r, pi, "member");
                }

                continue;
            }

            if (!page.Ok)
            {
                Note(page);
                continue;
            }

            foreach (var a in page.Items)
            {
                if ((a.Str("directoryScopeId") ?? "/") == "/" && a.Str("principalId") is { } p && index.TryGetValue(p, out var pi))
                {
                    b.AddGrant(r, pi, "member");
                }
            }
        }
    }

    /// <summary>Applications with app roles (or that require assignment): who holds which role.</summary>
    private async Task AppsAsync(SnapshotBuilder b, Dictionary<string, int> index)
    {
        // A service principal the delta round did not mention keeps what the earlier snapshot said (an application or not).
        var apps = _sps.Where(s => s.Value.Has("appRoles") || s.Value.Has("appRoleAssignmentRequired")
            ? s.Value.Arr("appRoles").Any() || s.Value.Bool("appRoleAssignmentRequired") == true
            : _previousApps.Contains(s.Key)).Select(s => s.Key).ToList();
        // appRoleAssignment has no delta function (delta-query-overview's list has none): every application's are read again.
        if (Previous is not null) _fullReads.Add(("the app-role assignments of applications", apps.Count));
        var pages = await ManyAsync("app role assignments", apps.Select(a => new GraphRequest(
            C.ServicePrincipals[a].AppRoleAssignedTo.ToGetRequestInformation(rc => rc.QueryParameters.Top = 999), $"who holds app roles of {a}", "Application.Read.All")).ToList()).ConfigureAwait(false);
        for (var i = 0; i < apps.Count; i++)
        {
            var r = b.AddResource(LiveResource.App(apps[i]), "application", _sps[apps[i]].Str("displayName"));
            if (!pages[i].Ok)
            {
                Note(pages[i]);
                continue;
            }

            foreach (var a in pages[i].Items)
            {
                if (a.Str("principalId") is { } p && index.TryGetValue(p, out var pi))
                {
                    b.AddGrant(r, pi, a.Str("appRoleId") ?? Guid.Empty.ToString());
                }
            }
        }
    }

    /// <summary>
    /// Every Microsoft 365 group's site: connected to the group (members write, owners own), with the
    /// group's sensitivity label, and the site's application permissions (Sites.Selected), as the live preview reads them.
    /// </summary>
    private async Task SitesAsync(SnapshotBuilder b, Dictionary<string, int> index, HashSet<string>? deleted)
    {
        var siteIds = new List<(string Site, int Resource)>();
        // -Update: a group its delta round did not mention keeps the site the earlier snapshot found for it;
        // only new and changed groups' sites are read (a group with no site then is taken to have none still).
        var incremental = _seeded.Contains("groups");
        var unified = _groups.Where(g => g.Value.IsUnified() && (!incremental || _touchedGroups.Contains(g.Key))).Select(g => g.Key).ToList();
        var pages = await ManyAsync("group sites", unified.Select(g => new GraphRequest(
            C.Groups[g].Sites["root"].ToGetRequestInformation(rc => rc.QueryParameters.Select = new[] { "id", "displayName", "webUrl" }), $"the site of group {g}", "Sites.Read.All")).ToList()).ConfigureAwait(false);
        var found = new List<(string Group, JsonElement Site)>();
        for (var i = 0; i < unified.Count; i++)
        {
            if (!pages[i].Ok)
            {
                if (pages[i].Failure!.Status != 404) Note(pages[i]);
                continue;
            }

            found.Add((unified[i], pages[i].Single!.Value));
        }

        if (incremental)
        {
            foreach (var (g, (id, name, url)) in _previousSites.OrderBy(x => x.Key, StringComparer.Ordinal))
            {
                if (_touchedGroups.Contains(g) || !_groups.ContainsKey(g)) continue;
                if (deleted?.Contains(id) == true)
                {
                    // sites/delta said the site was deleted; its group lives on (a Microsoft 365 group keeps its site otherwise).
                    _notes.Add($"The site {SafeText.Show(id)} of group {SafeText.Show(g)} was deleted since the last crawl; it left the snapshot with its files and their grants.");
                    continue;
                }

                found.Add((g, Element(w =>
                {
                    w.WriteString("id", id);
                    if (name is not null) w.WriteString("displayName", name);
                    if (url is not null) w.WriteString("webUrl", url);
                })));
            }
        }

        foreach (var (groupId, site) in found)
        {
            var group = _groups[groupId];
            var label = group.Arr("assignedLabels").Select(l => l.Str("displayName")).FirstOrDefault(n => n is not null);
            var sensitivity = Json.FromLabel(label);
            if (label is not null && sensitivity is null)
            {
                _notes.Add($"The sensitivity label '{label}' of group {group.Str("displayName")} is none of Public, General, Confidential, HighlyConfidential; its site counts as General.");
            }

            var gi = index[groupId];
            var r = b.AddResource(LiveResource.Site(site.Str("id")!), "site", site.Str("displayName"), sensitivity ?? Sensitivity.General, false, gi, site.Str("webUrl"));
            if (r < 0) continue;
            siteIds.Add((site.Str("id")!, r));
            _siteInfo[site.Str("id")!] = new InventorySite(r, gi, sensitivity ?? Sensitivity.General);
            b.AddGrant(r, gi, "write");
            if (_owners.TryGetValue(groupId, out var owners))
            {
                foreach (var o in owners)
                {
                    if (index.TryGetValue(o, out var oi))
                    {
                        b.AddOwner(r, oi);
                        b.AddGrant(r, oi, "owner");
                    }
                }
            }
        }

        await SitePermissionsAsync(b, index, siteIds).ConfigureAwait(false);
    }

    /// <summary>Application permissions on sites (GET sites/{id}/permissions; Sites.FullControl.All): each names the app's appId, granted to its service principal.</summary>
    private async Task SitePermissionsAsync(SnapshotBuilder b, Dictionary<string, int> index, List<(string Site, int Resource)> sites)
    {
        if (sites.Count == 0)
        {
            return;
        }

        var byAppId = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (id, sp) in _sps)
        {
            if (sp.Str("appId") is { } appId) byAppId[appId] = id;
        }

        // Site permissions have no delta query (site-list-permissions.md; delta-query-overview lists none): every site's are read again.
        if (Previous is not null) _fullReads.Add(("the application permissions of sites", sites.Count));
        var pages = await ManyAsync("site application permissions", sites.Select(x => new GraphRequest(C.Sites[x.Site].Permissions.ToGetRequestInformation(),
            $"the application permissions of site {x.Site}", "Sites.FullControl.All")).ToList()).ConfigureAwait(false);
        await AppIdsAsync(byAppId, pages.Where(p => p.Ok).SelectMany(p => p.Items)).ConfigureAwait(false);
        var unknown = 0;
        for (var i = 0; i < sites.Count; i++)
        {
            if (!pages[i].Ok)
            {
                Note(pages[i]);
                continue;
            }

            foreach (var permission in pages[i].Items)
            {
                foreach (var role in LiveRead.Roles(permission))
                {
                    foreach (var identity in permission.Arr("grantedToIdentitiesV2"))
                    {
                        if (identity.Obj("application")?.Str("id") is not { } appId) continue;
                        if (byAppId.TryGetValue(appId, out var sp) && index.TryGetValue(sp, out var pi))
                        {
                            b.AddGrant(sites[i].Resource, pi, role);
                        }
                        else
                        {
                            unknown++;
                        }
                    }
                }
            }
        }

        if (unknown > 0)
        {
            _notes.Add($"{unknown} site application permissions name an application with no service principal in the tenant; they are not in the snapshot.");
        }
    }

    /// <summary>
    /// The names of the sensitivity labels files carry: the tenant's labels (GET /security/dataSecurityAndGovernance/sensitivityLabels,
    /// sensitivitylabel-list, v1.0, application SensitivityLabel.Read), read once when a file has a label; the labels the
    /// groups carry ({labelId, displayName}, group.md) when the list cannot be read.
    /// </summary>
    private async Task<IReadOnlyDictionary<string, string>> LabelNamesAsync()
    {
        var names = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var g in _groups.Values)
        {
            foreach (var l in g.Arr("assignedLabels"))
            {
                if (l.Str("labelId") is { } id && l.Str("displayName") is { } name) names[id] = name;
            }
        }

        var list = (await ManyAsync("sensitivity labels", new List<GraphRequest>
        {
            new(_t.Get(_t.Client.RequestAdapter.BaseUrl + "/security/dataSecurityAndGovernance/sensitivityLabels"), "the tenant's sensitivity labels", "SensitivityLabel.Read"),
        }).ConfigureAwait(false))[0];
        if (!list.Ok)
        {
            Note(list);
            return names;
        }

        foreach (var l in list.Items)
        {
            // The label's name; its displayName may be empty.
            if (l.Str("id") is { } id && (l.Str("name") ?? l.Str("displayName")) is { } name) names[id] = name;
        }

        return names;
    }

    /// <summary>
    /// -Update: the service principals the earlier snapshot kept carry no appId. Those a site permission names
    /// are looked up, GET /servicePrincipals(appId='{appId}') (serviceprincipal-get.md), 20 per $batch.
    /// </summary>
    private async Task AppIdsAsync(Dictionary<string, string> byAppId, IEnumerable<JsonElement> permissions)
    {
        var wanted = permissions.SelectMany(p => p.Arr("grantedToIdentitiesV2")).Select(i => i.Obj("application")?.Str("id"))
            .Where(a => a is not null && !byAppId.ContainsKey(a)).Select(a => a!).Distinct(StringComparer.OrdinalIgnoreCase).OrderBy(a => a, StringComparer.Ordinal).ToList();
        if (wanted.Count == 0) return;
        var pages = await ManyAsync("applications named by site permissions", wanted.Select(a => new GraphRequest(
            _t.Get($"{_t.Client.RequestAdapter.BaseUrl}/servicePrincipals(appId='{Uri.EscapeDataString(a)}')?$select=id"), $"the service principal of application {a}", "Application.Read.All")).ToList()).ConfigureAwait(false);
        for (var i = 0; i < wanted.Count; i++)
        {
            if (pages[i].Ok && pages[i].Single?.Str("id") is { } id) byAppId[wanted[i]] = id;
        }
    }

    /// <summary>
    /// The pages read so far, one JSON line each ({"phase","next","page"}), and one line per finished
    /// phase ({"phase","done",true,"deltaLink"}). Written and flushed page by page.
    /// </summary>
    private sealed class Journal : IDisposable
    {
        private const string Schema = "agentgovernance/export-journal@1";
        private readonly List<(string Phase, JsonElement Page, string? Next)> _pages = new();
        private readonly HashSet<string> _done = new(StringComparer.Ordinal);
        private readonly HashSet<string> _reset = new(StringComparer.Ordinal);
        private readonly Dictionary<string, string> _deltaLinks = new(StringComparer.Ordinal);
        private readonly StreamWriter _out;

        private Journal(StreamWriter output) => _out = output;

        public static Journal Open(string path, bool resume, string tenant)
        {
            if (resume && !File.Exists(path))
            {
                throw new GovernanceException("ExportJournalNotFound", GovernanceErrorKind.ObjectNotFound,
                    $"-Resume: there is no interrupted export to resume ('{path}' does not exist). Run without -Resume.", path);
            }

            var journal = new Journal(Json.OpenJournal(path, resume, Schema, tenant, "an export", out var lines));
            foreach (var line in lines ?? new List<JsonElement>())
            {
                var phase = line.Str("phase")!;
                if (line.Bool("reset") == true)
                {
                    // The stored link was refused: the pages before this line are of a round that was given up.
                    journal._reset.Add(phase);
                    journal._pages.RemoveAll(p => p.Phase == phase);
                }
                else if (line.Bool("done") == true)
                {
                    journal._done.Add(phase);
                    if (line.Str("deltaLink") is { } link) journal._deltaLinks[phase] = link;
                }
                else if (line.Obj("page") is { } page) journal._pages.Add((phase, page, line.Str("next")));
            }

            return journal;
        }

        public IEnumerable<(JsonElement Page, string? Next)> Pages(string phase) => _pages.Where(p => p.Phase == phase).Select(p => (p.Page, p.Next));

        public bool IsDone(string phase) => _done.Contains(phase);

        public bool WasReset(string phase) => _reset.Contains(phase);

        public string? DeltaLinkOf(string phase) => _deltaLinks.GetValueOrDefault(phase);

        public void Reset(string phase) => Line(w =>
        {
            w.WriteString("phase", phase);
            w.WriteBoolean("reset", true);
        });

        public void Write(string phase, JsonElement page, string? next) => Line(w =>
        {
            w.WriteString("phase", phase);
            if (next is null) w.WriteNull("next"); else w.WriteString("next", next);
            w.WritePropertyName("page");
            page.WriteTo(w);
        });

        public void Done(string phase, string? deltaLink) => Line(w =>
        {
            w.WriteString("phase", phase);
            w.WriteBoolean("done", true);
            if (deltaLink is not null) w.WriteString("deltaLink", deltaLink);
        });

        public void Dispose() => _out.Dispose();

        private void Line(Action<Utf8JsonWriter> write) => Json.WriteLine(_out, write);
    }
}
