using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.CompilerServices;
using AgentGovernance.Directory;

namespace AgentGovernance.Suggestions;

/// <summary>A part of a suggestion that cannot be governed; caught where the command is known, to become a finding.</summary>
internal sealed class SuggestionRefusal : Exception
{
    public SuggestionRefusal(SuggestionFindingKind kind, string reason, IReadOnlyList<string>? candidates = null)
        : base(reason)
    {
        Kind = kind;
        Candidates = candidates;
    }

    public SuggestionFindingKind Kind { get; }

    public IReadOnlyList<string>? Candidates { get; }
}

/// <summary>Which principals a name may resolve to.</summary>
internal enum PrincipalWant
{
    /// <summary>Any principal, or one of the audiences (a grant's principal).</summary>
    Grantee,

    /// <summary>A user, group or service principal (a group member).</summary>
    Member,

    Group,
}

/// <summary>
/// Resolves the names an agent writes (ids, user principal names, mail addresses, mail nicknames,
/// display names, site URLs, Graph object URLs, SharePoint login names) to the ids of a snapshot.
/// A name that matches nothing, or several objects, is refused with the candidates a person would
/// have meant. Built once per snapshot (snapshots are immutable).
/// </summary>
internal sealed class DirectoryNames
{
    private const int MaxCandidates = 6;

    private static readonly ConditionalWeakTable<AccessSnapshot, DirectoryNames> Cache = new();

    // Well-known Entra ID role template ids (stable across tenants), so a script that names a role by
    // its template id finds the role the snapshot holds under its display name.
    private static readonly Dictionary<string, string> RoleTemplates = new(StringComparer.OrdinalIgnoreCase)
    {
        ["62e90394-69f5-4237-9190-012177145e10"] = "Global Administrator",
        ["fe930be7-5e62-47db-91af-98c3a49a38b1"] = "User Administrator",
        ["f28a1f50-f6e7-4571-818b-6a12f2af6b6c"] = "SharePoint Administrator",
        ["29232cdf-9323-42fd-ade2-1d097af3e4de"] = "Exchange Administrator",
        ["729827e3-9c14-49f7-bb1b-9608f156bbb8"] = "Helpdesk Administrator",
        ["e8611ab8-c189-46e8-94e1-60213ab1f814"] = "Privileged Role Administrator",
        ["9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3"] = "Application Administrator",
        ["158c047a-c907-4556-b7ef-446551a6b5f7"] = "Cloud Application Administrator",
        ["fdd7a751-b60b-444a-984c-02652fe8fa1c"] = "Groups Administrator",
        ["194ae4cb-b126-40b2-bd5b-6091b380977d"] = "Security Administrator",
        ["69091246-20e8-4a56-aa4d-066075b2a7a8"] = "Teams Administrator",
        ["f2ef992c-3afb-46b9-b7cf-a126ee74c451"] = "Global Reader",
        ["c4e39bd9-1100-46d3-8c65-fb160da0071f"] = "Authentication Administrator",
        ["7be44c8a-adaf-4e2a-84d6-ab2649e08a13"] = "Privileged Authentication Administrator",
        ["b1be1c3e-b65d-4f19-8427-f6fa0d97feb9"] = "Conditional Access Administrator",
        ["3a2c62db-5318-420d-8d74-23affee5d9d5"] = "Intune Administrator",
        ["b0f54661-2d74-4c50-afa3-1ec803f12efe"] = "Billing Administrator",
        ["17315797-102d-40b4-93e0-432062caca18"] = "Compliance Administrator",
    };

    private readonly AccessSnapshot _s;
    private readonly Dictionary<string, List<int>> _byUpn = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, List<int>> _byMail = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, List<int>> _byNickname = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, List<int>> _byName = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, List<int>> _resourceByName = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, List<int>> _resourceByUrl = new(StringComparer.Ordinal);

    private DirectoryNames(AccessSnapshot s)
    {
        _s = s;
        for (var i = AccessSnapshot.FirstPrincipal; i < s.PrincipalSlots; i++)
        {
            Add(_byUpn, s.Upn[i], i);
            Add(_byMail, s.Mail[i], i);
            Add(_byNickname, s.MailNickname[i], i);
            if (s.HasDisplayName(i))
            {
                Add(_byName, s.PrincipalName(i), i);
            }
        }

        for (var r = 0; r < s.ResourceIds.Length; r++)
        {
            Add(_resourceByName, s.ResourceNames[r], r);
            if (s.ResourceUrls[r] is { } url)
            {
                Add(_resourceByUrl, NormalizeUrl(url), r);
            }
        }
    }

    public static DirectoryNames For(AccessSnapshot snapshot) => Cache.GetValue(snapshot, s => new DirectoryNames(s));

    /// <summary>The id of the principal (or audience) a name stands for.</summary>
    public string Principal(string text, PrincipalWant want, string what)
    {
        var name = text.Trim();
        if (name.Length == 0)
        {
            throw new SuggestionRefusal(SuggestionFindingKind.UnresolvedName, $"the {what} is empty.");
        }

        if (Audience(name) is { } audience)
        {
            if (want != PrincipalWant.Grantee)
            {
                throw new SuggestionRefusal(SuggestionFindingKind.Unmappable, $"the {what} '{text}' is an audience ({audience}), which cannot be a group or a group member.");
            }

            return audience;
        }

        name = StripPrincipalForm(name);
        if (_s.TryGetPrincipalIndex(name, out var index) && index >= AccessSnapshot.FirstPrincipal)
        {
            return Check(index, want, what, text, "id");
        }

        foreach (var (map, how) in new[] { (_byUpn, "user principal name"), (_byMail, "mail address"), (_byNickname, "mail nickname"), (_byName, "display name") })
        {
            if (!map.TryGetValue(name, out var matches))
            {
                continue;
            }

            var fitting = matches.Where(m => Fits(m, want)).ToList();
            if (fitting.Count == 1)
            {
                return Check(fitting[0], want, what, text, how);
            }

            if (fitting.Count > 1)
            {
                throw new SuggestionRefusal(SuggestionFindingKind.AmbiguousName,
                    $"the {what} '{text}' is the {how} of {fitting.Count} {Kind(want)}s; name one by its id.",
                    fitting.Take(MaxCandidates).Select(DescribePrincipal).ToList());
            }

            return Check(matches[0], want, what, text, how);
        }

        throw new SuggestionRefusal(SuggestionFindingKind.UnresolvedName,
            $"no {Kind(want)} in the directory of {_s.TenantId} has the id, user principal name, mail address, mail nickname or display name '{text}'.",
            PrincipalCandidates(name, want));
    }

    /// <summary>The id of the resource a name stands for; <paramref name="types"/> are the resource types the command can act on (empty: any).</summary>
    public string Resource(string text, string what, params string[] types)
    {
        var name = text.Trim();
        if (name.Length == 0)
        {
            throw new SuggestionRefusal(SuggestionFindingKind.UnresolvedName, $"the {what} is empty.");
        }

        if (_s.TryGetResourceIndex(name, out var exact))
        {
            return CheckType(exact, types, what, text);
        }

        if (RoleTemplates.TryGetValue(name, out var roleName))
        {
            name = roleName;
        }

        var candidates = new List<int>();
        if (LooksLikeUrl(name) && _resourceByUrl.TryGetValue(NormalizeUrl(GraphSiteIdToUrl(name)), out var byUrl))
        {
            candidates.AddRange(byUrl);
        }
        else if (_resourceByName.TryGetValue(name, out var byName))
        {
            candidates.AddRange(byName);
        }

        if (candidates.Count > 0)
        {
            var fitting = candidates.Where(r => types.Length == 0 || types.Contains(_s.ResourceTypes[r], StringComparer.OrdinalIgnoreCase)).ToList();
            if (fitting.Count == 1)
            {
                return _s.ResourceIds[fitting[0]];
            }

            if (fitting.Count > 1)
            {
                throw new SuggestionRefusal(SuggestionFindingKind.AmbiguousName,
                    $"the {what} '{text}' names {fitting.Count} resources; name one by its id.",
                    fitting.Take(MaxCandidates).Select(DescribeResource).ToList());
            }

            return CheckType(candidates[0], types, what, text);
        }

        throw new SuggestionRefusal(SuggestionFindingKind.UnresolvedName,
            $"no {(types.Length == 0 ? "resource" : string.Join(" or ", types))} in the directory of {_s.TenantId} has the id, URL or display name '{text}'.",
            ResourceCandidates(name, types));
    }

    /// <summary>
    /// The one principal whose display name, user principal name, mail address or mail nickname starts
    /// with the text, as AzureAD's -SearchString finds them.
    /// </summary>
    public string PrincipalByPrefix(string text, PrincipalWant want)
    {
        var matches = new List<int>();
        for (var i = AccessSnapshot.FirstPrincipal; i < _s.PrincipalSlots; i++)
        {
            if (Fits(i, want) && new[] { _s.HasDisplayName(i) ? _s.PrincipalName(i) : null, _s.Upn[i], _s.Mail[i], _s.MailNickname[i] }
                .Any(f => f is not null && f.StartsWith(text, StringComparison.OrdinalIgnoreCase)))
            {
                matches.Add(i);
            }
        }

        return matches.Count switch
        {
            1 => _s.PrincipalId(matches[0]),
            0 => throw new SuggestionRefusal(SuggestionFindingKind.UnresolvedName, $"no {Kind(want)} of {_s.TenantId} has a name that starts with '{text}'.", PrincipalCandidates(text, want)),
            _ => throw new SuggestionRefusal(SuggestionFindingKind.AmbiguousName, $"{matches.Count} {Kind(want)}s have a name that starts with '{text}', so the search returns them all.",
                matches.Take(MaxCandidates).Select(DescribePrincipal).ToList()),
        };
    }

    /// <summary>The display name of a principal or resource id.</summary>
    public string DisplayName(string id) =>
        _s.TryGetPrincipalIndex(id, out var p) && p >= AccessSnapshot.FirstPrincipal ? _s.PrincipalName(p) : ResourceName(id);

    /// <summary>The display name of a resource, for messages and for SharePoint group names.</summary>
    public string ResourceName(string id) => _s.TryGetResourceIndex(id, out var r) ? _s.ResourceNames[r] ?? id : id;

    /// <summary>The roles the principal holds directly on the resource, in snapshot order.</summary>
    public IReadOnlyList<string> GrantedRoles(string resourceId, string principalId)
    {
        var roles = new List<string>();
        if (_s.TryGetResourceIndex(resourceId, out var r) && _s.TryResolvePrincipal(principalId, out var p))
        {
            foreach (var g in _s.GrantsOfResource(r))
            {
                if (_s.GrantPrincipal[g] == p)
                {
                    roles.Add(_s.RoleNames[_s.GrantRoleName[g]]);
                }
            }
        }

        return roles;
    }

    /// <summary>
    /// The role name the snapshot uses for holders of a resource when they all share one (directory
    /// roles are recorded with whatever role the exporter chose), or <paramref name="fallback"/>.
    /// </summary>
    public string ConventionalRole(string resourceId, string fallback)
    {
        if (!_s.TryGetResourceIndex(resourceId, out var r))
        {
            return fallback;
        }

        string? only = null;
        foreach (var g in _s.GrantsOfResource(r))
        {
            var role = _s.RoleNames[_s.GrantRoleName[g]];
            if (only is null)
            {
                only = role;
            }
            else if (only != role)
            {
                return fallback;
            }
        }

        return only ?? fallback;
    }

    /// <summary>Lower-cased, percent-decoded, without query, fragment or trailing slash: how URLs are compared.</summary>
    public static string NormalizeUrl(string url)
    {
        var u = url.Trim();
        var cut = u.IndexOfAny(new[] { '?', '#' });
        if (cut >= 0)
        {
            u = u.Substring(0, cut);
        }

        try
        {
            u = Uri.UnescapeDataString(u);
        }
        catch (UriFormatException)
        {
            // Not percent-encoded validly: compare it as written.
        }

        return u.TrimEnd('/').ToLowerInvariant();
    }

    public static bool LooksLikeUrl(string text) =>
        text.StartsWith("https://", StringComparison.OrdinalIgnoreCase) || text.StartsWith("http://", StringComparison.OrdinalIgnoreCase)
        || text.IndexOf(":/", StringComparison.Ordinal) > 0;

    /// <summary>Graph names a site "host:/sites/x" (optionally with a trailing ':'); the snapshot has its URL.</summary>
    private static string GraphSiteIdToUrl(string text)
    {
        if (text.StartsWith("http", StringComparison.OrdinalIgnoreCase))
        {
            return text;
        }

        var colon = text.IndexOf(":/", StringComparison.Ordinal);
        var path = text.Substring(colon + 1).TrimEnd(':');
        return "https://" + text.Substring(0, colon) + path;
    }

    private static string? Audience(string name)
    {
        if (Audiences.IsAudience(name))
        {
            return name;
        }

        // SharePoint's names and claims for the two tenant-wide audiences.
        if (string.Equals(name, "Everyone", StringComparison.OrdinalIgnoreCase) || name.StartsWith("c:0(.s|true", StringComparison.OrdinalIgnoreCase))
        {
            return Audiences.Everyone;
        }

        if (string.Equals(name, "Everyone except external users", StringComparison.OrdinalIgnoreCase)
            || name.StartsWith("c:0-.f|rolemanager|spo-grid-all-users", StringComparison.OrdinalIgnoreCase))
        {
            return Audiences.EveryoneExceptExternal;
        }

        return null;
    }

    /// <summary>Takes the id or sign-in name out of Graph object URLs and SharePoint claims.</summary>
    private static string StripPrincipalForm(string name)
    {
        var bar = name.LastIndexOf('|');
        if (bar > 0 && (name.StartsWith("i:0", StringComparison.Ordinal) || name.StartsWith("c:0", StringComparison.Ordinal)))
        {
            return name.Substring(bar + 1);
        }

        if (name.StartsWith("https://graph.microsoft.", StringComparison.OrdinalIgnoreCase) || name.StartsWith("https://dod-graph.microsoft.", StringComparison.OrdinalIgnoreCase)
            || name.StartsWith("https://microsoftgraph.chinacloudapi.cn", StringComparison.OrdinalIgnoreCase))
        {
            var last = name.TrimEnd('/');
            var open = last.IndexOf("('", StringComparison.Ordinal);
            if (open > 0 && last.EndsWith("')", StringComparison.Ordinal))
            {
                return Uri.UnescapeDataString(last.Substring(open + 2, last.Length - open - 4));
            }

            return Uri.UnescapeDataString(last.Substring(last.LastIndexOf('/') + 1));
        }

        return name;
    }

    private bool Fits(int p, PrincipalWant want) => want != PrincipalWant.Group || _s.Types[p] == PrincipalType.Group;

    private string Check(int p, PrincipalWant want, string what, string text, string how)
    {
        if (!Fits(p, want))
        {
            throw new SuggestionRefusal(SuggestionFindingKind.UnresolvedName,
                $"the {what} '{text}' is the {how} of {DescribePrincipal(p)}, a {Describe(_s.Types[p])}, not a group.",
                PrincipalCandidates(text, want));
        }

        return _s.PrincipalId(p);
    }

    private string CheckType(int r, string[] types, string what, string text)
    {
        if (types.Length > 0 && !types.Contains(_s.ResourceTypes[r], StringComparer.OrdinalIgnoreCase))
        {
            throw new SuggestionRefusal(SuggestionFindingKind.UnresolvedName,
                $"the {what} '{text}' is {DescribeResource(r)}, a {_s.ResourceTypes[r]}; this command acts on a {string.Join(" or ", types)}.",
                ResourceCandidates(text, types));
        }

        return _s.ResourceIds[r];
    }

    private List<string> PrincipalCandidates(string name, PrincipalWant want)
    {
        var scored = new List<(int Score, int Index)>();
        for (var i = AccessSnapshot.FirstPrincipal; i < _s.PrincipalSlots; i++)
        {
            if (!Fits(i, want))
            {
                continue;
            }

            var score = new[] { _s.PrincipalId(i), _s.HasDisplayName(i) ? _s.PrincipalName(i) : null, _s.Upn[i], _s.Mail[i], _s.MailNickname[i] }
                .Max(field => Similarity(name, field));
            if (score > 0)
            {
                scored.Add((score, i));
            }
        }

        return scored.OrderByDescending(s => s.Score).ThenBy(s => _s.PrincipalName(s.Index), StringComparer.OrdinalIgnoreCase)
            .Take(MaxCandidates).Select(s => DescribePrincipal(s.Index)).ToList();
    }

    private List<string> ResourceCandidates(string name, string[] types)
    {
        var scored = new List<(int Score, int Index)>();
        for (var r = 0; r < _s.ResourceIds.Length; r++)
        {
            if (types.Length > 0 && !types.Contains(_s.ResourceTypes[r], StringComparer.OrdinalIgnoreCase))
            {
                continue;
            }

            var url = _s.ResourceUrls[r];
            var score = Math.Max(Math.Max(Similarity(name, _s.ResourceIds[r]), Similarity(name, _s.ResourceNames[r])),
                url is null ? 0 : Similarity(NormalizeUrl(name), NormalizeUrl(url)));
            if (score > 0)
            {
                scored.Add((score, r));
            }
        }

        return scored.OrderByDescending(s => s.Score).ThenBy(s => _s.ResourceIds[s.Index], StringComparer.Ordinal)
            .Take(MaxCandidates).Select(s => DescribeResource(s.Index)).ToList();
    }

    /// <summary>How alike a written name and a directory field are: containment first, then a shared start, then shared words.</summary>
    private static int Similarity(string name, string? field)
    {
        if (field is null || field.Length == 0 || name.Length == 0)
        {
            return 0;
        }

        if (string.Equals(name, field, StringComparison.OrdinalIgnoreCase))
        {
            return 100;
        }

        if (field.IndexOf(name, StringComparison.OrdinalIgnoreCase) >= 0 || name.IndexOf(field, StringComparison.OrdinalIgnoreCase) >= 0)
        {
            return 50;
        }

        var prefix = 0;
        while (prefix < name.Length && prefix < field.Length && char.ToLowerInvariant(name[prefix]) == char.ToLowerInvariant(field[prefix]))
        {
            prefix++;
        }

        if (prefix >= 4)
        {
            return 20 + prefix;
        }

        var separators = new[] { ' ', '-', '_', '.', '@', '/', ':', '(', ')', '\'', '"' };
        var words = new HashSet<string>(field.Split(separators, StringSplitOptions.RemoveEmptyEntries).Where(w => w.Length >= 3).Select(w => w.ToLowerInvariant()));
        return name.Split(separators, StringSplitOptions.RemoveEmptyEntries).Count(w => w.Length >= 3 && words.Contains(w.ToLowerInvariant())) * 10;
    }

    private string DescribePrincipal(int p) =>
        _s.HasDisplayName(p) ? $"{_s.PrincipalName(p)} ({_s.PrincipalId(p)})" : _s.PrincipalId(p);

    private string DescribeResource(int r) =>
        _s.ResourceNames[r] is { } name && name != _s.ResourceIds[r] ? $"{name} ({_s.ResourceIds[r]})" : _s.ResourceIds[r];

    private static string Describe(PrincipalType type) => type switch
    {
        PrincipalType.User => "user",
        PrincipalType.Group => "group",
        _ => "service principal",
    };

    private static string Kind(PrincipalWant want) => want == PrincipalWant.Group ? "group" : "principal";

    private static void Add(Dictionary<string, List<int>> map, string? key, int index)
    {
        if (key is null || key.Length == 0)
        {
            return;
        }

        if (!map.TryGetValue(key, out var list))
        {
            map[key] = list = new List<int>(1);
        }

        list.Add(index);
    }
}
