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
        var journal = Journal.Open(_options.JournalPath, _options.Resume, _tenant);
        using (journal)
        {
            await DeltaAsync(journal, "users", "users", C.Users.Delta.ToGetRequestInformation(rc => rc.QueryParameters.Select = LiveRead.UserSelect), "User.Read.All", Users).ConfigureAwait(false);
            await DeltaAsync(journal, "groups", "groups and their members", C.Groups.Delta.ToGetRequestInformation(rc =>
                rc.QueryParameters.Select = LiveRead.GroupSelect.Concat(new[] { "members", "owners" }).ToArray()), "GroupMember.Read.All", Groups).ConfigureAwait(false);
            await DeltaAsync(journal, "servicePrincipals", "service principals", C.ServicePrincipals.Delta.ToGetRequestInformation(rc => rc.QueryParameters.Select = SpSelect), "Application.Read.All", ServicePrincipals).ConfigureAwait(false);
        }

        var b = new SnapshotBuilder(_tenant, _users.Count + _groups.Count + _sps.Count, 256)
        {
            TenantDisplayName = _tenantName,
            CapturedAt = DateTimeOffset.UtcNow,
        };
        b.CapturedAtText = b.CapturedAt.Value.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
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
                else _skippedMembers++;
            }
        }

        await RolesAsync(b, index).ConfigureAwait(false);
        await AppsAsync(b, index).ConfigureAwait(false);
        await SitesAsync(b, index).ConfigureAwait(false);
        if (_options.Inventory || _options.Previous is not null)
        {
            await new InventoryCrawl(_t, b, index, _siteInfo, _options.Previous, _progress, _notes, _cancel).RunAsync(_options.JournalPath + ".drives", _options.Resume).ConfigureAwait(false);
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
        if (u.Has("@removed")) _users.Remove(id);
        else _users[id] = Merge(_users, id, u);
    }

    private void ServicePrincipals(JsonElement sp)
    {
        var id = sp.Str("id");
        if (id is null) return;
        if (sp.Has("@removed")) _sps.Remove(id);
        else _sps[id] = Merge(_sps, id, sp);
    }

    /// <summary>A group may come on several pages (its members in parts); its properties come once, its members@delta each time.</summary>
    private void Groups(JsonElement g)
    {
        var id = g.Str("id");
        if (id is null) return;
        if (g.Has("@removed"))
        {
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

    private async Task DeltaAsync(Journal journal, string phase, string what, Microsoft.Kiota.Abstractions.RequestInformation first, string permission, Action<JsonElement> take)
    {
        var activity = "Export-AccessSnapshot -FromGraph";
        var pages = 0;
        var items = 0;
        string? link = null;
        foreach (var (page, next) in journal.Pages(phase))
        {
            foreach (var item in page.Arr("value")) { take(item); items++; }
            pages++;
            link = next;
        }

        if (journal.IsDone(phase))
        {
            Report(activity, $"{what}: {items:N0} from the journal");
            return;
        }

        var request = link is null ? new GraphRequest(first, $"the {what} (delta)", permission) : new GraphRequest(_t.Get(link), $"the {what} (delta)", permission);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (true)
        {
            _cancel.ThrowIfCancellationRequested();
            var answer = (await _t.BatchAsync(new[] { request }, _cancel).ConfigureAwait(false))[0];
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
                return;
            }

            if (!seen.Add(next))
            {
                throw new GovernanceException("DirectoryReadFailed", GovernanceErrorKind.ReadError, $"Graph returned the same nextLink twice while reading the {what}: {next}", next);
            }

            request = new GraphRequest(_t.Get(next), $"the {what} (delta)", permission);
        }
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
            new(C.RoleManagement.Directory.RoleDefinitions.ToGetRequestInformation(rc => rc.QueryParameters.Select = new[] { "id", "displayName" }), "the directory role definitions", "RoleManagement.Read.Directory"),
        }).ConfigureAwait(false))[0];
        if (!defs.Ok)
        {
            Note(defs);
            return;
        }

        var roles = defs.Items.Where(d => d.Str("id") is not null).OrderBy(d => d.Str("id"), StringComparer.Ordinal).ToList();
        var requests = roles.Select(d => new GraphRequest(C.RoleManagement.Directory.RoleAssignments.ToGetRequestInformation(rc =>
        {
            rc.QueryParameters.Filter = $"roleDefinitionId eq '{d.Str("id")}'";
            rc.QueryParameters.Select = new[] { "id", "principalId", "roleDefinitionId", "directoryScopeId" };
        }), $"who holds the directory role {d.Str("displayName")}", "RoleManagement.Read.Directory")).ToList();
        var pages = await ManyAsync("directory role assignments", requests).ConfigureAwait(false);
        for (var i = 0; i < roles.Count; i++)
        {
            var r = b.AddResource(LiveResource.Role(roles[i].Str("id")!), "directoryRole", roles[i].Str("displayName"), Sensitivity.HighlyConfidential);
            if (!pages[i].Ok)
            {
                Note(pages[i]);
                continue;
            }

            foreach (var a in pages[i].Items)
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
        var apps = _sps.Where(s => s.Value.Arr("appRoles").Any() || s.Value.Bool("appRoleAssignmentRequired") == true).Select(s => s.Key).ToList();
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
    private async Task SitesAsync(SnapshotBuilder b, Dictionary<string, int> index)
    {
        var siteIds = new List<(string Site, int Resource)>();
        var unified = _groups.Where(g => g.Value.IsUnified()).Select(g => g.Key).ToList();
        var pages = await ManyAsync("group sites", unified.Select(g => new GraphRequest(
            C.Groups[g].Sites["root"].ToGetRequestInformation(rc => rc.QueryParameters.Select = new[] { "id", "displayName", "webUrl" }), $"the site of group {g}", "Sites.Read.All")).ToList()).ConfigureAwait(false);
        for (var i = 0; i < unified.Count; i++)
        {
            if (!pages[i].Ok)
            {
                if (pages[i].Failure!.Status != 404) Note(pages[i]);
                continue;
            }

            var site = pages[i].Single!.Value;
            var group = _groups[unified[i]];
            var label = group.Arr("assignedLabels").Select(l => l.Str("displayName")).FirstOrDefault(n => n is not null);
            var sensitivity = Json.FromLabel(label);
            if (label is not null && sensitivity is null)
            {
                _notes.Add($"The sensitivity label '{label}' of group {group.Str("displayName")} is none of Public, General, Confidential, HighlyConfidential; its site counts as General.");
            }

            var gi = index[unified[i]];
            var r = b.AddResource(LiveResource.Site(site.Str("id")!), "site", site.Str("displayName"), sensitivity ?? Sensitivity.General, false, gi, site.Str("webUrl"));
            if (r < 0) continue;
            siteIds.Add((site.Str("id")!, r));
            _siteInfo[site.Str("id")!] = new InventorySite(r, gi, sensitivity ?? Sensitivity.General);
            b.AddGrant(r, gi, "write");
            if (_owners.TryGetValue(unified[i], out var owners))
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

        var pages = await ManyAsync("site application permissions", sites.Select(x => new GraphRequest(C.Sites[x.Site].Permissions.ToGetRequestInformation(),
            $"the application permissions of site {x.Site}", "Sites.FullControl.All")).ToList()).ConfigureAwait(false);
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
    /// The pages read so far, one JSON line each ({"phase","next","page"}), and one line per finished
    /// phase ({"phase","done",true,"deltaLink"}). Written and flushed page by page.
    /// </summary>
    private sealed class Journal : IDisposable
    {
        private const string Schema = "agentgovernance/export-journal@1";
        private readonly List<(string Phase, JsonElement Page, string? Next)> _pages = new();
        private readonly HashSet<string> _done = new(StringComparer.Ordinal);
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
                if (line.Bool("done") == true) journal._done.Add(line.Str("phase")!);
                else if (line.Obj("page") is { } page) journal._pages.Add((line.Str("phase")!, page, line.Str("next")));
            }

            return journal;
        }

        public IEnumerable<(JsonElement Page, string? Next)> Pages(string phase) => _pages.Where(p => p.Phase == phase).Select(p => (p.Page, p.Next));

        public bool IsDone(string phase) => _done.Contains(phase);

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
