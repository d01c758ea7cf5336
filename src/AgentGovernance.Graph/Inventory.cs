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

/// <summary>The site a drive belongs to, as the directory export found it: its resource and its Microsoft 365 group.</summary>
internal sealed record InventorySite(int Resource, int Group, Sensitivity Sensitivity);

/// <summary>
/// The permission inventory, crawled as Microsoft's scan guidance describes ("Discover – configure the
/// locations to scan. Crawl – discover and process the entire set of files of interest. ... Process
/// changes – only reprocess changed files by using delta queries"): every site (sites/getAllSites),
/// each site's drives (/sites/{id}/drives), each drive by delta with
/// <c>Prefer: deltashowremovedasdeleted, deltatraversepermissiongaps, deltashowsharingchanges, hierarchicalsharing</c>,
/// and the permissions of only those items that are shared or whose sharing changed. Delta requests of
/// 20 drives go in one $batch; every page is journalled as it arrives, so an interrupted crawl continues
/// from the stored links. Only items with permissions of their own are kept in memory, never the drive.
/// </summary>
internal sealed class InventoryCrawl
{
    /// <summary>
    /// driveitem-delta.md: "The use of Prefer: deltashowsharingchanges header requires you to use Prefer:
    /// deltashowremovedasdeleted and Prefer: deltatraversepermissiongaps. These header values can be joined
    /// together in a single header"; hierarchicalsharing returns sharing "for the root of the permissions
    /// hierarchy, and items that explicitly have sharing changes".
    /// </summary>
    public const string Prefer = "deltashowremovedasdeleted, deltatraversepermissiongaps, deltashowsharingchanges, hierarchicalsharing";

    private const string Activity = "Export-AccessSnapshot -FromGraph";
    private const string Permission = "Sites.FullControl.All";

    private readonly Transport _t;
    private readonly SnapshotBuilder _b;
    private readonly Dictionary<string, int> _index;
    private readonly IReadOnlyDictionary<string, InventorySite> _sites;
    private readonly AccessSnapshot? _previous;

    /// <summary>The site a user's OneDrive is recorded under in inventory.drives[].site.</summary>
    internal static string OneDriveSite(string user) => "users/" + user;
    private readonly Action<GraphExportProgress>? _progress;
    private readonly CancellationToken _cancel;
    private readonly List<string> _notes;
    private readonly SortedDictionary<string, DriveState> _drives = new(StringComparer.Ordinal);
    private int _unknownPrincipals;
    private int _siteGroupGrants;
    private string? _sitesLink;

    /// <summary>Users whose OneDrive to look for (GET /users/{id}/drive): all on a full crawl, the new ones on -Update.</summary>
    public IReadOnlyList<string> OneDriveOwners { get; init; } = Array.Empty<string>();

    /// <summary>-Update: enabled member users of the earlier inventory that had no OneDrive in it (one provisioned since is not looked for).</summary>
    public int UsersWithoutOneDrive { get; init; }

    public InventoryCrawl(Transport t, SnapshotBuilder b, Dictionary<string, int> index, IReadOnlyDictionary<string, InventorySite> sites,
        AccessSnapshot? previous, Action<GraphExportProgress>? progress, List<string> notes, CancellationToken cancel)
    {
        _t = t;
        _b = b;
        _index = index;
        _sites = sites;
        _previous = previous;
        _progress = progress;
        _notes = notes;
        _cancel = cancel;
    }

    /// <summary>Drive items the delta pages carried.</summary>
    public int ItemsRead { get; private set; }

    private GraphServiceClient C => _t.Client;

    /// <summary>-Update: the sites sites/delta reported deleted since the last crawl (a group's site among them leaves the snapshot with its files).</summary>
    public HashSet<string> DeletedSites { get; } = new(StringComparer.OrdinalIgnoreCase);

    private CrawlJournal? _journal;

    /// <summary>
    /// Discover (or, on -Update, the sites created and deleted since, from sites/delta) and the OneDrives; run
    /// before the group sites are written, so that a site deleted while its group lives on is left out.
    /// </summary>
    public async Task PrepareAsync(string journalPath, bool resume)
    {
        var journal = _journal = CrawlJournal.Open(journalPath, resume, _b.TenantId);
        if (journal.Drives is { } known)
        {
            // The drives the interrupted run settled on: new sites' and OneDrives included, removed sites' left out.
            if (_previous is not null) Seed();
            var keep = known.Select(k => k.Id).ToHashSet(StringComparer.Ordinal);
            foreach (var id in _drives.Keys.Where(d => !keep.Contains(d)).ToList()) _drives.Remove(id);
            foreach (var (id, site, link) in known)
            {
                if (!_drives.ContainsKey(id)) _drives[id] = new DriveState(id, site, link);
            }

            _b.CoverageGaps.AddRange(journal.Gaps);
            _sitesLink = journal.SitesLink;
            DeletedSites.UnionWith(journal.DeletedSites);
            journal.Replay(_drives);
        }
        else
        {
            if (_previous is not null)
            {
                Seed();
                await SiteChangesAsync().ConfigureAwait(false);
            }
            else
            {
                await DiscoverAsync().ConfigureAwait(false);
            }

            await OneDrivesAsync().ConfigureAwait(false);
            journal.WriteDrives(_drives.Values, _b.CoverageGaps, _sitesLink, DeletedSites);
        }
    }

    /// <summary>Crawl every drive, read the permissions it needs, and add the items to the snapshot (after <see cref="PrepareAsync"/>).</summary>
    public async Task RunAsync()
    {
        using var journal = _journal ?? throw new InvalidOperationException("PrepareAsync first.");
        if (_sitesLink is not null) _b.DeltaLinks["sites"] = _sitesLink;
        await CrawlAsync(journal).ConfigureAwait(false);
        await PermissionsAsync(journal).ConfigureAwait(false);
        await LabelsAsync(journal).ConfigureAwait(false);
        var labelled = _drives.Values.Any(d => d.Items.Values.Any(i => i.Grants is { Count: > 0 } && i.Labels?.Any(l => l != UnreadLabel) == true));
        _labelNames = labelled && LabelNames is not null ? await LabelNames().ConfigureAwait(false) : new Dictionary<string, string>();
        if (UsersWithoutOneDrive > 0)
        {
            // -Update looks for the OneDrives of new users only: one provisioned since for a user who had none is not looked for.
            _b.CoverageGaps.Add($"OneDrive accounts provisioned since the last full crawl for the {UsersWithoutOneDrive} enabled member users who had none then (Export-AccessSnapshot -FromGraph without -Update looks for them)");
        }

        Emit();
    }

    private void Report(string status, int percent = -1) => _progress?.Invoke(new GraphExportProgress(Activity, status, percent));

    /// <summary>-Update: every drive of the earlier inventory continues from its delta link, with the items that had permissions of their own.</summary>
    private void Seed()
    {
        var p = _previous!;
        // What the earlier crawl could not read stays a gap: -Update re-reads only what changed, so only a
        // full Export-AccessSnapshot -FromGraph can clear it. (The crawl's own "OneDrive not crawled" gap of
        // an earlier version is kept too: those OneDrives have not been crawled.)
        _b.CoverageGaps.AddRange(p.CoverageGaps);
        foreach (var d in p.Inventory)
        {
            _drives[d.Id] = new DriveState(d.Id, d.Site.StartsWith("sites/", StringComparison.Ordinal) ? d.Site.Substring(6) : d.Site, d.DeltaLink) { CrawledAt = d.CrawledAt };
        }

        var byResource = new Dictionary<int, List<(string, string)>>();
        for (var g = 0; g < p.GrantCount; g++)
        {
            if (!byResource.TryGetValue(p.GrantResource[g], out var list)) byResource[p.GrantResource[g]] = list = new List<(string, string)>();
            list.Add((p.PrincipalId(p.GrantPrincipal[g]), p.RoleNames[p.GrantRoleName[g]]));
        }

        var siteSensitivity = new Dictionary<string, Sensitivity>(StringComparer.OrdinalIgnoreCase);
        for (var r = 0; r < p.ResourceCount; r++)
        {
            if (p.ResourceTypes[r] == "site" && p.ResourceIds[r].StartsWith("sites/", StringComparison.Ordinal)) siteSensitivity[p.ResourceIds[r].Substring(6)] = p.ResourceSensitivity[r];
        }

        for (var r = 0; r < p.ResourceCount; r++)
        {
            var parts = p.ResourceIds[r].Split('/');
            if (parts.Length != 4 || parts[0] != "drives" || parts[2] != "items" || !_drives.TryGetValue(parts[1], out var drive)) continue;
            // A sensitivity above the site's came from the file's own label; one at or below it is not told apart from the site's.
            var site = siteSensitivity.TryGetValue(drive.Site, out var had) ? had : Sensitivity.General;
            drive.PreviousSiteSensitivity = site;
            drive.Items[parts[3]] = new ItemState(p.ResourceNames[r], p.ResourceUrls[r])
            {
                Grants = byResource.GetValueOrDefault(r) ?? new List<(string, string)>(),
                Floor = p.ResourceSensitivity[r] > site ? p.ResourceSensitivity[r] : Sensitivity.General,
            };
        }
    }

    /// <summary>
    /// Discover: the sites' delta link first (sites/delta?token=latest, site-delta.md: "returns an empty response
    /// with the latest delta token"), so that a site created while the crawl runs is in the next -Update; then
    /// every site (sites/getAllSites, application Sites.Read.All) and each site's drives, 20 sites per $batch.
    /// </summary>
    private async Task DiscoverAsync()
    {
        Report("discovering sites");
        _sitesLink = (await SitesRoundAsync(_t.Client.RequestAdapter.BaseUrl + "/sites/delta?token=latest").ConfigureAwait(false))?.DeltaLink;
        var siteIds = await AllSitesAsync().ConfigureAwait(false);
        await DrivesOfAsync(siteIds).ConfigureAwait(false);
    }

    private async Task<List<string>> AllSitesAsync()
    {
        var all = (await _t.PagesAsync(new[]
        {
            new GraphRequest(_t.Get(_t.Client.RequestAdapter.BaseUrl + "/sites/getAllSites?$select=id,displayName,webUrl&$top=999"), "every site of the organization (sites/getAllSites)", "Sites.Read.All"),
        }, _cancel).ConfigureAwait(false))[0];
        if (!all.Ok)
        {
            throw all.Failure!.ToException(write: false);
        }

        return all.Items.Select(s => s.Str("id")).Where(s => s is not null).Select(s => s!).Distinct(StringComparer.Ordinal).OrderBy(s => s, StringComparer.Ordinal).ToList();
    }

    /// <summary>The drives of these sites (GET /sites/{id}/drives, 20 per $batch), to be crawled from the start.</summary>
    private async Task DrivesOfAsync(List<string> siteIds)
    {
        if (siteIds.Count == 0) return;
        Report($"reading the drives of {siteIds.Count:N0} sites");
        var pages = await _t.PagesAsync(siteIds.Select(s => new GraphRequest(C.Sites[s].Drives.ToGetRequestInformation(rc => rc.QueryParameters.Select = new[] { "id", "name", "driveType", "webUrl" }),
            $"the drives of site {s}", "Sites.Read.All")).ToList(), _cancel).ConfigureAwait(false);
        for (var i = 0; i < siteIds.Count; i++)
        {
            if (!pages[i].Ok)
            {
                _notes.Add($"Could not list the drives of site {siteIds[i]} (HTTP {pages[i].Failure!.Status} {pages[i].Failure!.ErrorCode}; needs Sites.Read.All); its files are not in the inventory.");
                _b.CoverageGaps.Add($"the files of site {siteIds[i]}");
                continue;
            }

            foreach (var d in pages[i].Items)
            {
                if (d.Str("id") is { } id && !_drives.ContainsKey(id)) _drives[id] = new DriveState(id, siteIds[i], null);
            }
        }
    }

    /// <summary>One round of sites/delta from <paramref name="url"/>, every page followed; null when Graph no longer honours the link (410).</summary>
    private async Task<(List<JsonElement> Sites, string? DeltaLink)?> SitesRoundAsync(string url)
    {
        var sites = new List<JsonElement>();
        var request = new GraphRequest(_t.Get(url), "the sites created, changed or deleted (sites/delta)", "Sites.Read.All");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (true)
        {
            _cancel.ThrowIfCancellationRequested();
            var answer = (await _t.BatchAsync(new[] { request }, _cancel).ConfigureAwait(false))[0];
            if (answer.Status == 410 || answer.ErrorCode is "resyncChangesApplyDifferences" or "resyncChangesUploadDifferences")
            {
                return null;
            }

            if (!answer.Ok)
            {
                throw answer.ToException(write: false);
            }

            sites.AddRange(answer.Values.Select(v => v.Clone()));
            if (answer.NextLink is not { } next) return (sites, answer.DeltaLink);
            if (!seen.Add(next)) throw new GovernanceException("DirectoryReadFailed", GovernanceErrorKind.ReadError, $"Graph returned the same nextLink twice while reading sites/delta: {next}", next);
            request = new GraphRequest(_t.Get(next), "the sites created, changed or deleted (sites/delta)", "Sites.Read.All");
        }
    }

    /// <summary>
    /// -Update: the sites created since the last crawl get their drives listed and crawled from the start; the
    /// drives of deleted sites leave the inventory. From the stored sites/delta link when there is one; else
    /// (an inventory written before it was stored, or a link Graph no longer honours) by listing every site again.
    /// </summary>
    private async Task SiteChangesAsync()
    {
        Report("looking for sites created or deleted since the last crawl");
        var known = _drives.Values.Where(d => !d.Site.StartsWith("users/", StringComparison.Ordinal)).Select(d => d.Site).ToHashSet(StringComparer.OrdinalIgnoreCase);
        List<string> added, removed;
        var round = _previous!.InventoryDeltaLinks.TryGetValue("sites", out var link) ? await SitesRoundAsync(link).ConfigureAwait(false) : null;
        if (round is { } r)
        {
            _sitesLink = r.DeltaLink;
            added = r.Sites.Where(x => !x.Has("deleted") && x.Str("id") is { } id && !known.Contains(id)).Select(x => x.Str("id")!).Distinct(StringComparer.Ordinal).OrderBy(x => x, StringComparer.Ordinal).ToList();
            // site-delta.md: deleted sites come "with the deleted facet". A group's site deleted while the group
            // lives on is among them; the caller leaves it out of the snapshot too.
            var deleted = r.Sites.Where(x => x.Has("deleted") && x.Str("id") is not null).Select(x => x.Str("id")!).ToList();
            DeletedSites.UnionWith(deleted);
            removed = deleted.Where(known.Contains).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        }
        else
        {
            if (link is not null) _notes.Add("The stored sites/delta link was no longer valid; every site was listed again to find those created or deleted since.");
            _sitesLink = (await SitesRoundAsync(_t.Client.RequestAdapter.BaseUrl + "/sites/delta?token=latest").ConfigureAwait(false))?.DeltaLink;
            var all = (await AllSitesAsync().ConfigureAwait(false)).ToHashSet(StringComparer.OrdinalIgnoreCase);
            added = all.Where(x => !known.Contains(x)).OrderBy(x => x, StringComparer.Ordinal).ToList();
            removed = known.Where(x => !all.Contains(x)).ToList();
            DeletedSites.UnionWith(removed);
        }

        foreach (var site in removed.OrderBy(x => x, StringComparer.Ordinal))
        {
            var gone = _drives.Values.Where(d => d.Site.Equals(site, StringComparison.OrdinalIgnoreCase)).Select(d => d.Id).ToList();
            foreach (var d in gone) _drives.Remove(d);
            _notes.Add($"Site {site} was deleted since the last crawl: its {gone.Count} drives left the inventory.");
        }

        if (added.Count > 0) _notes.Add($"{added.Count} sites were created since the last crawl; their drives were crawled from the start.");
        await DrivesOfAsync(added).ConfigureAwait(false);
    }

    /// <summary>
    /// OneDrive: GET /users/{id}/drive for each user to look at, 20 per $batch (drive-get.md). A user with no
    /// OneDrive (404) is skipped quietly; a OneDrive the app may not read is a coverage gap, with the reason.
    /// </summary>
    private async Task OneDrivesAsync()
    {
        if (OneDriveOwners.Count == 0) return;
        Report($"looking for the OneDrive of {OneDriveOwners.Count:N0} users");
        var pages = await _t.PagesAsync(OneDriveOwners.Select(u => new GraphRequest(C.Users[u].Drive.ToGetRequestInformation(rc => rc.QueryParameters.Select = new[] { "id", "driveType", "webUrl" }),
            $"the OneDrive of user {u}", "Files.Read.All")).ToList(), _cancel).ConfigureAwait(false);
        var failed = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var found = 0;
        for (var i = 0; i < OneDriveOwners.Count; i++)
        {
            if (!pages[i].Ok)
            {
                var f = pages[i].Failure!;
                if (f.Status == 404) continue;
                var reason = f.Status is 401 or 403 ? $"permission denied: HTTP {f.Status} {f.ErrorCode}; needs Files.Read.All" : $"HTTP {f.Status} {f.ErrorCode}";
                failed[reason] = failed.GetValueOrDefault(reason) + 1;
                continue;
            }

            if (pages[i].Single?.Str("id") is { } id && !_drives.ContainsKey(id))
            {
                _drives[id] = new DriveState(id, OneDriveSite(OneDriveOwners[i]), null);
                found++;
            }
        }

        foreach (var (reason, count) in failed)
        {
            _notes.Add($"Could not read the OneDrive of {count} users ({reason}); their files are not in the inventory.");
            _b.CoverageGaps.Add($"files in the OneDrive accounts of {count} users, which could not be read ({reason})");
        }

        if (found > 0) Report($"{found:N0} OneDrive accounts to crawl");
    }

    private const int DrivesPerRound = 400;

    /// <summary>Crawl: every drive's delta pages to their deltaLink; the next pages of 20 drives go in one $batch.</summary>
    private async Task CrawlAsync(CrawlJournal journal)
    {
        var total = _drives.Count;
        while (true)
        {
            _cancel.ThrowIfCancellationRequested();
            // At most 400 drives' pages (20 batches) are held at once: a page is up to a few hundred items, and
            // 10,000 drives' first pages together are hundreds of megabytes.
            var left = _drives.Values.Count(d => d.DeltaLink is null);
            if (left == 0) return;
            var pending = _drives.Values.Where(d => d.DeltaLink is null).Take(DrivesPerRound).ToList();
            Report($"drives: {total - left:N0} of {total:N0} crawled, {ItemsRead:N0} items read", total == 0 ? -1 : (total - left) * 100 / total);
            var requests = pending.Select(d =>
            {
                var info = _t.Get(d.Link ?? $"{_t.Client.RequestAdapter.BaseUrl}/drives/{Uri.EscapeDataString(d.Id)}/root/delta");
                info.Headers.Add("Prefer", Prefer);
                return new GraphRequest(info, $"the changes of drive {d.Id} (delta)", Permission);
            }).ToList();
            var answers = await _t.BatchAsync(requests, _cancel).ConfigureAwait(false);
            for (var i = 0; i < answers.Count; i++)
            {
                var drive = pending[i];
                var answer = answers[i];
                if (answer.Status == 410)
                {
                    // driveitem-delta.md: 410 Gone, resyncChangesApplyDifferences: "Replace any local items with the
                    // server's version (including deletes)"; the Location header starts a fresh enumeration.
                    if (++drive.Resyncs > 2)
                    {
                        throw answer.ToException(write: false);
                    }

                    _notes.Add($"Drive {drive.Id}: its delta token was no longer valid ({answer.ErrorCode ?? "HTTP 410"}); the drive was crawled again from the start.");
                    drive.Items.Clear();
                    drive.Fresh = true;
                    drive.Link = answer.Location ?? $"{_t.Client.RequestAdapter.BaseUrl}/drives/{Uri.EscapeDataString(drive.Id)}/root/delta";
                    journal.WriteResync(drive);
                    continue;
                }

                if (!answer.Ok)
                {
                    throw answer.ToException(write: false);
                }

                var changes = new List<(string Id, char Op, string? Name, string? Url)>();
                foreach (var item in answer.Values)
                {
                    ItemsRead++;
                    if (Take(drive, item) is { } change) changes.Add(change);
                }

                if (answer.NextLink is { } next)
                {
                    if (next == drive.Link) throw new GovernanceException("DirectoryReadFailed", GovernanceErrorKind.ReadError, $"Graph returned the same nextLink twice while crawling drive {drive.Id}: {next}", next);
                    drive.Link = next;
                }
                else
                {
                    drive.DeltaLink = answer.DeltaLink ?? throw new GovernanceException("DirectoryReadFailed", GovernanceErrorKind.ReadError,
                        $"The last delta page of drive {drive.Id} had neither @odata.nextLink nor @odata.deltaLink.", drive.Id);
                    drive.CrawledAt = GovernanceClock.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
                }

                journal.WritePage(drive, changes);
            }
        }
    }

    /// <summary>
    /// One item of a delta page. Deleted: forgotten. Its sharing changed (@microsoft.graph.sharedChanged),
    /// or a shared item not known yet: its permissions are read. An empty shared facet: permissions of its
    /// own with no one on them. No shared facet: it inherits, and is not a resource of its own.
    /// Returns the change to journal, if any.
    /// </summary>
    private (string, char, string?, string?)? Take(DriveState drive, JsonElement item)
    {
        if (item.Str("id") is not { } id || item.Has("root")) return null;
        if (item.Has("deleted") || item.Has("@removed"))
        {
            return drive.Items.Remove(id) ? (id, 'd', null, null) : null;
        }

        var changed = string.Equals(item.Str("@microsoft.graph.sharedChanged"), "True", StringComparison.OrdinalIgnoreCase);
        var shared = item.Obj("shared");
        var sharedWithSomeone = shared is { } s && s.ValueKind == JsonValueKind.Object && s.EnumerateObject().Any();
        var known = drive.Items.TryGetValue(id, out var state);
        var file = item.Has("file");
        if (changed || (sharedWithSomeone && !known))
        {
            drive.Items[id] = new ItemState(item.Str("name"), item.Str("webUrl")) { File = file };
            return (id, file ? 'r' : 'f', item.Str("name"), item.Str("webUrl"));
        }

        if (known && shared is not null && !sharedWithSomeone)
        {
            drive.Items.Remove(id);
            return (id, 'd', null, null);
        }

        if (known && ((item.Str("name") is { } name && name != state!.Name) || file))
        {
            // A file that changed may have been labelled since: its label is read again (the delta page says only that it changed).
            drive.Items[id] = state! with { Name = item.Str("name") ?? state.Name, Url = item.Str("webUrl") ?? state.Url, File = file || state.File, Labels = file ? null : state.Labels, Floor = file ? Sensitivity.General : state.Floor };
            return (id, file ? 'l' : 'n', item.Str("name") ?? state.Name, item.Str("webUrl"));
        }

        return null;
    }

    /// <summary>GET /drives/{id}/items/{id}/permissions for each item that needs it, 20 per $batch (permissions cannot be $expanded on driveItems).</summary>
    private async Task PermissionsAsync(CrawlJournal journal)
    {
        var todo = _drives.Values.SelectMany(d => d.Items.Where(i => i.Value.Grants is null).Select(i => (Drive: d, Item: i.Key))).ToList();
        const int Round = 400;
        for (var start = 0; start < todo.Count; start += Round)
        {
            Report($"permissions: {start:N0} of {todo.Count:N0} shared items read", todo.Count == 0 ? -1 : start * 100 / todo.Count);
            var part = todo.Skip(start).Take(Round).ToList();
            var pages = await _t.PagesAsync(part.Select(x => new GraphRequest(C.Drives[x.Drive.Id].Items[x.Item].Permissions.ToGetRequestInformation(),
                $"the permissions of {LiveResource.DriveItem(x.Drive.Id, x.Item)}", "Files.Read.All")).ToList(), _cancel).ConfigureAwait(false);
            for (var i = 0; i < part.Count; i++)
            {
                var (drive, id) = part[i];
                if (!pages[i].Ok)
                {
                    if (pages[i].Failure!.Status != 404)
                    {
                        _notes.Add($"Could not read the permissions of {LiveResource.DriveItem(drive.Id, id)} (HTTP {pages[i].Failure!.Status} {pages[i].Failure!.ErrorCode}; needs Files.Read.All); it is not in the inventory.");
                        _b.CoverageGaps.Add($"the permissions of {LiveResource.DriveItem(drive.Id, id)}");
                    }

                    drive.Items.Remove(id);
                    journal.WriteGrants(drive.Id, id, null);
                    continue;
                }

                var grants = Grants(pages[i].Items);
                drive.Items[id] = drive.Items[id] with { Grants = grants };
                journal.WriteGrants(drive.Id, id, grants);
            }
        }
    }

    /// <summary>Label id to its name (the label list, or the groups' assignedLabels); set by the caller before <see cref="RunAsync"/>.</summary>
    public Func<Task<IReadOnlyDictionary<string, string>>>? LabelNames { get; init; }

    private readonly SortedDictionary<string, int> _labelFailures = new(StringComparer.Ordinal);
    private IReadOnlyDictionary<string, string>? _labelNames;

    /// <summary>
    /// The files' own sensitivity labels, POST /drives/{id}/items/{id}/extractSensitivityLabels (driveitem-extractsensitivitylabels.md,
    /// v1.0, Files.Read.All), 20 per $batch, for the files the inventory keeps whose label is not known: new or re-shared ones,
    /// changed ones, and on -Update those of a site whose label changed. Folders carry no file label.
    /// </summary>
    private async Task LabelsAsync(CrawlJournal journal)
    {
        var todo = _drives.Values.SelectMany(d => d.Items.Where(i => i.Value.Labels is null && i.Value.Grants is { Count: > 0 }
            && (i.Value.File || (d.PreviousSiteSensitivity is { } was && was != (_sites.GetValueOrDefault(d.Site)?.Sensitivity ?? Sensitivity.General))))
            .Select(i => (Drive: d, Item: i.Key))).ToList();
        const int Round = 400;
        for (var start = 0; start < todo.Count; start += Round)
        {
            Report($"sensitivity labels: {start:N0} of {todo.Count:N0} files read", start * 100 / todo.Count);
            var part = todo.Skip(start).Take(Round).ToList();
            var answers = await _t.BatchAsync(part.Select(x => new GraphRequest(C.Drives[x.Drive.Id].Items[x.Item].ExtractSensitivityLabels.ToPostRequestInformation(),
                $"the sensitivity labels of {LiveResource.DriveItem(x.Drive.Id, x.Item)}", "Files.Read.All")).ToList(), _cancel).ConfigureAwait(false);
            for (var i = 0; i < part.Count; i++)
            {
                var (drive, id) = part[i];
                var labels = new List<string>();
                if (answers[i].Ok)
                {
                    // The documented answer wraps the extractSensitivityLabelsResult in "value"; take it bare too.
                    var body = answers[i].Body!.Value;
                    var result = body.Obj("value") is { } v && v.ValueKind == JsonValueKind.Object ? v : body;
                    labels.AddRange(result.Arr("labels").Select(l => l.Str("sensitivityLabelId")).Where(l => l is not null).Select(l => l!));
                }
                else if (answers[i].Status is not (400 or 404))
                {
                    // 423 fileDoubleKeyEncrypted, fileDecryptionNotSupported, fileDecryptionDeferred; or a denial.
                    var reason = $"HTTP {answers[i].Status} {answers[i].ErrorCode}".TrimEnd();
                    _labelFailures[reason] = _labelFailures.GetValueOrDefault(reason) + 1;
                    labels.Add(UnreadLabel);
                }

                drive.Items[id] = drive.Items[id] with { Labels = labels, Floor = Sensitivity.General };
                journal.WriteLabels(drive.Id, id, labels);
            }
        }
    }

    /// <summary>Stands for a label Graph could not extract (kept in the journal like a label id).</summary>
    private const string UnreadLabel = "?";

    /// <summary>The highest of the file's own labels, or null when there are none; unknown ones are counted.</summary>
    private Sensitivity? FileSensitivity(ItemState state, SortedSet<string> unknown)
    {
        Sensitivity? best = state.Floor == Sensitivity.General ? null : state.Floor;
        foreach (var id in state.Labels ?? new List<string>())
        {
            if (id == UnreadLabel) continue;
            if (_labelNames!.TryGetValue(id, out var name) && Json.FromLabel(name) is { } level)
            {
                if (best is null || level > best) best = level;
            }
            else
            {
                unknown.Add(id);
            }
        }

        return best;
    }

    /// <summary>Coverage gaps this crawl writes afresh each time (an -Update drops the earlier ones of these kinds).</summary>
    internal static readonly string[] RecomputedGaps = { "the sensitivity labels of ", "the sensitivity label of " };

    /// <summary>
    /// A drive item's permissions as grants, as the live read takes them: links by their scope, people
    /// and groups by id (grantedToV2, or a specific-people link's grantedToIdentitiesV2).
    /// </summary>
    private List<(string, string)> Grants(List<JsonElement> permissions)
    {
        var grants = new List<(string, string)>();
        foreach (var p in permissions)
        {
            foreach (var role in LiveRead.Roles(p))
            {
                if (p.Obj("link") is { } link)
                {
                    switch (link.Str("scope"))
                    {
                        case "anonymous": grants.Add((Audiences.Anyone, role)); continue;
                        case "organization": grants.Add((Audiences.EveryoneExceptExternal, role)); continue;
                    }

                    foreach (var identity in p.Arr("grantedToIdentitiesV2")) Identity(identity, role, grants);
                    continue;
                }

                if (p.Obj("grantedToV2") is { } to) Identity(to, role, grants);
            }
        }

        return grants;
    }

    private void Identity(JsonElement identity, string role, List<(string, string)> grants)
    {
        if (identity.Obj("user")?.Str("id") is { } user) grants.Add((user, role));
        else if (identity.Obj("group")?.Str("id") is { } group) grants.Add((group, role));
        else if (identity.Obj("siteGroup") is not null || identity.Obj("siteUser") is not null) _siteGroupGrants++;
        else _unknownPrincipals++;
    }

    /// <summary>Every item with permissions of its own becomes a driveItem resource, connected to its site's group and labelled as the site.</summary>
    private void Emit()
    {
        var audiences = new Dictionary<string, int>(StringComparer.Ordinal)
        {
            [Audiences.Everyone] = 0,
            [Audiences.EveryoneExceptExternal] = 1,
            [Audiences.Anyone] = 2,
        };
        var items = 0;
        var unknownLabels = new SortedSet<string>(StringComparer.Ordinal);
        var unlabelledSites = new SortedSet<string>(StringComparer.Ordinal);
        var unreadLabels = 0;
        foreach (var drive in _drives.Values)
        {
            if (drive.DeltaLink is null) continue;
            var oneDrive = drive.Site.StartsWith("users/", StringComparison.Ordinal);
            _b.Drives.Add(new InventoryDrive(drive.Id, oneDrive ? drive.Site : LiveResource.Site(drive.Site), drive.DeltaLink, drive.CrawledAt ?? string.Empty));
            var site = _sites.GetValueOrDefault(drive.Site);
            foreach (var (id, state) in drive.Items.OrderBy(i => i.Key, StringComparer.Ordinal))
            {
                if (state.Grants is not { Count: > 0 } grants) continue;
                // The item's sensitivity is the higher of its site's label (its Microsoft 365 group's) and its own.
                var own = FileSensitivity(state, unknownLabels);
                if (state.Labels?.Contains(UnreadLabel) == true) unreadLabels++;
                var sensitivity = site?.Sensitivity ?? Sensitivity.General;
                if (own is { } o && o > sensitivity) sensitivity = o;
                // A site with no Microsoft 365 group (a communication site): Graph v1.0 gives no label of its own (site.md).
                if (site is null && !oneDrive) unlabelledSites.Add(drive.Site);
                var r = _b.AddResource(LiveResource.DriveItem(drive.Id, id), "driveItem", state.Name, sensitivity, false, site?.Group ?? -1, state.Url);
                if (r < 0) continue;
                items++;
                foreach (var (principal, role) in grants.Distinct())
                {
                    if (audiences.TryGetValue(principal, out var a) || _index.TryGetValue(principal, out a)) _b.AddGrant(r, a, role);
                    else _unknownPrincipals++;
                }
            }
        }

        if (_unknownPrincipals > 0)
        {
            _notes.Add($"{_unknownPrincipals} file permissions name someone who is not in the directory read (an application, or an object deleted since); they are not in the inventory.");
        }

        _b.CoverageGaps.RemoveAll(g => RecomputedGaps.Any(k => g.StartsWith(k, StringComparison.Ordinal)));
        if (unlabelledSites.Count > 0)
        {
            _b.CoverageGaps.Add($"the sensitivity label of {unlabelledSites.Count} sites with no Microsoft 365 group (communication sites) that hold shared files: Graph v1.0 gives a site no label of its own, so their files count only their own labels");
        }

        if (unknownLabels.Count > 0)
        {
            _notes.Add($"{unknownLabels.Count} sensitivity labels on files are not in the tenant's label list ({string.Join(", ", unknownLabels.Take(5).Select(SafeText.Show))}); those files count their site's label.");
            _b.CoverageGaps.Add($"the sensitivity labels of files labelled {unknownLabels.Count} labels whose names could not be read");
        }

        if (unreadLabels > 0)
        {
            _notes.Add($"Graph could not extract the sensitivity labels of {unreadLabels} shared files ({string.Join(", ", _labelFailures.Select(f => $"{f.Value} {SafeText.Show(f.Key)}"))}); they count their site's label.");
            _b.CoverageGaps.Add($"the sensitivity labels of {unreadLabels} shared files that Graph could not extract");
        }

        if (_siteGroupGrants > 0)
        {
            _notes.Add($"{_siteGroupGrants} file permissions are to SharePoint groups or SharePoint-only users, whose members Graph does not list; they are not in the inventory.");
            _b.CoverageGaps.Add("the members of SharePoint groups on files");
        }

        Report($"inventory: {_b.Drives.Count:N0} drives, {items:N0} items with permissions of their own, {ItemsRead:N0} items read", 100);
    }

    internal sealed class DriveState
    {
        public DriveState(string id, string site, string? link)
        {
            Id = id;
            Site = site;
            Link = link;
        }

        public string Id { get; }

        /// <summary>The Graph site id (without sites/).</summary>
        public string Site { get; }

        /// <summary>The next request: a nextLink, the stored deltaLink (-Update), or null for a first crawl.</summary>
        public string? Link { get; set; }

        /// <summary>Set when the drive's crawl is done: the link that continues it next time.</summary>
        public string? DeltaLink { get; set; }

        public string? CrawledAt { get; set; }

        public bool Fresh { get; set; }

        public int Resyncs { get; set; }

        /// <summary>-Update: the site's sensitivity in the earlier snapshot (its items' file labels are read again when it changed).</summary>
        public Sensitivity? PreviousSiteSensitivity { get; set; }

        /// <summary>Items with permissions of their own (or whose permissions are still to be read: Grants null).</summary>
        public Dictionary<string, ItemState> Items { get; } = new(StringComparer.Ordinal);
    }

    internal sealed record ItemState(string? Name, string? Url)
    {
        public List<(string Principal, string Role)>? Grants { get; init; }

        /// <summary>A file (not a folder): it may carry sensitivity labels of its own.</summary>
        public bool File { get; init; }

        /// <summary>The file's own label ids (extractSensitivityLabels); null while not read.</summary>
        public List<string>? Labels { get; init; }

        /// <summary>-Update, for an item not read again: its file label as the earlier snapshot implied it (its sensitivity above its site's).</summary>
        public Sensitivity Floor { get; init; }
    }

    /// <summary>
    /// The crawl so far, one JSON line each: the drives to crawl; per delta page the drive's next link (or
    /// its deltaLink) and the item changes it brought; per permission read the item's grants. Flushed line by line.
    /// </summary>
    private sealed class CrawlJournal : IDisposable
    {
        private const string Schema = "agentgovernance/inventory-journal@1";
        private readonly StreamWriter _out;
        private readonly List<JsonElement> _lines = new();

        private CrawlJournal(StreamWriter output) => _out = output;

        public List<(string Id, string Site, string? Link)>? Drives { get; private set; }

        /// <summary>The coverage gaps discovery found, and the sites' delta link it took.</summary>
        public List<string> Gaps { get; } = new();

        public string? SitesLink { get; private set; }

        public List<string> DeletedSites { get; } = new();

        public static CrawlJournal Open(string path, bool resume, string tenant)
        {
            var journal = new CrawlJournal(Json.OpenJournal(path, resume, Schema, tenant, "an inventory crawl", out var lines));
            foreach (var line in lines ?? new List<JsonElement>())
            {
                if (line.Has("drives"))
                {
                    journal.Drives = line.Arr("drives").Select(d => (d.Str("id")!, d.Str("site")!, d.Str("link"))).ToList();
                    journal.Gaps.AddRange(line.Arr("gaps").Select(g => g.GetString()!));
                    journal.SitesLink = line.Str("sitesLink");
                    journal.DeletedSites.AddRange(line.Arr("deletedSites").Select(g => g.GetString()!));
                }
                else
                {
                    journal._lines.Add(line);
                }
            }

            return journal;
        }

        /// <summary>Applies the journalled pages and permission reads to the drives, in the order they happened.</summary>
        public void Replay(SortedDictionary<string, DriveState> drives)
        {
            foreach (var line in _lines)
            {
                if (line.Str("drive") is not { } id || !drives.TryGetValue(id, out var drive)) continue;
                if (line.Bool("resync") == true)
                {
                    drive.Items.Clear();
                    drive.Link = line.Str("next");
                    continue;
                }

                if (line.Has("labels"))
                {
                    if (drive.Items.TryGetValue(line.Str("item")!, out var labelled)) drive.Items[line.Str("item")!] = labelled with { Labels = line.Arr("labels").Select(l => l.GetString()!).ToList() };
                    continue;
                }

                if (line.Has("grants") || line.Bool("gone") == true)
                {
                    var item = line.Str("item")!;
                    if (line.Bool("gone") == true) drive.Items.Remove(item);
                    else if (drive.Items.TryGetValue(item, out var state))
                    {
                        drive.Items[item] = state with { Grants = line.Arr("grants").Select(g => (g[0].GetString()!, g[1].GetString()!)).ToList() };
                    }

                    continue;
                }

                foreach (var c in line.Arr("changes"))
                {
                    var item = c.Str("id")!;
                    switch (c.Str("op"))
                    {
                        case "d": drive.Items.Remove(item); break;
                        case "r" or "f": drive.Items[item] = new ItemState(c.Str("name"), c.Str("url")) { File = c.Str("op") == "r" }; break;
                        case "n" when drive.Items.TryGetValue(item, out var state): drive.Items[item] = state with { Name = c.Str("name"), Url = c.Str("url") ?? state.Url }; break;
                        case "l" when drive.Items.TryGetValue(item, out var state): drive.Items[item] = state with { Name = c.Str("name"), Url = c.Str("url") ?? state.Url, File = true, Labels = null, Floor = Sensitivity.General }; break;
                    }
                }

                drive.Link = line.Str("next") ?? drive.Link;
                drive.DeltaLink = line.Str("deltaLink");
                drive.CrawledAt = line.Str("at");
            }
        }

        public void WriteDrives(IEnumerable<DriveState> drives, IEnumerable<string> gaps, string? sitesLink, IEnumerable<string> deletedSites) => Line(w =>
        {
            w.WriteStartArray("gaps");
            foreach (var g in gaps) w.WriteStringValue(g);
            w.WriteEndArray();
            w.WriteStartArray("deletedSites");
            foreach (var d in deletedSites.OrderBy(x => x, StringComparer.Ordinal)) w.WriteStringValue(d);
            w.WriteEndArray();
            if (sitesLink is not null) w.WriteString("sitesLink", sitesLink);
            w.WriteStartArray("drives");
            foreach (var d in drives)
            {
                w.WriteStartObject();
                w.WriteString("id", d.Id);
                w.WriteString("site", d.Site);
                if (d.Link is not null) w.WriteString("link", d.Link);
                w.WriteEndObject();
            }

            w.WriteEndArray();
        });

        public void WriteResync(DriveState d) => Line(w =>
        {
            w.WriteString("drive", d.Id);
            w.WriteBoolean("resync", true);
            w.WriteString("next", d.Link);
        });

        public void WritePage(DriveState d, List<(string Id, char Op, string? Name, string? Url)> changes) => Line(w =>
        {
            w.WriteString("drive", d.Id);
            if (d.DeltaLink is null) w.WriteString("next", d.Link);
            else
            {
                w.WriteString("deltaLink", d.DeltaLink);
                w.WriteString("at", d.CrawledAt);
            }

            w.WriteStartArray("changes");
            foreach (var (id, op, name, url) in changes)
            {
                w.WriteStartObject();
                w.WriteString("id", id);
                w.WriteString("op", op.ToString());
                if (name is not null) w.WriteString("name", name);
                if (url is not null) w.WriteString("url", url);
                w.WriteEndObject();
            }

            w.WriteEndArray();
        });

        public void WriteGrants(string drive, string item, List<(string Principal, string Role)>? grants) => Line(w =>
        {
            w.WriteString("drive", drive);
            w.WriteString("item", item);
            if (grants is null)
            {
                w.WriteBoolean("gone", true);
                return;
            }

            w.WriteStartArray("grants");
            foreach (var (p, r) in grants)
            {
                w.WriteStartArray();
                w.WriteStringValue(p);
                w.WriteStringValue(r);
                w.WriteEndArray();
            }

            w.WriteEndArray();
        });

        public void WriteLabels(string drive, string item, List<string> labels) => Line(w =>
        {
            w.WriteString("drive", drive);
            w.WriteString("item", item);
            w.WriteStartArray("labels");
            foreach (var l in labels) w.WriteStringValue(l);
            w.WriteEndArray();
        });

        public void Dispose() => _out.Dispose();

        private void Line(Action<Utf8JsonWriter> write) => Json.WriteLine(_out, write);
    }
}
