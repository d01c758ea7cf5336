using System;
using System.Collections.Generic;
using System.Linq;
using AgentGovernance.Changes;
using AgentGovernance.Directory;

namespace AgentGovernance.Suggestions;

/// <summary>
/// What a mapping of one command needs and produces: the directory to resolve names in, the session
/// state the script set up (the PnP site it connected to), and the operations, with notes on how
/// names were resolved and where the mapping is only approximate.
/// </summary>
internal sealed class MapContext
{
    private readonly List<AccessOperation> _ops = new();
    private readonly List<string> _approximations = new();
    private readonly List<string> _resolutions = new();

    public MapContext(DirectoryNames names, string? pnpSiteUrl)
    {
        Names = names;
        PnPSiteUrl = pnpSiteUrl;
    }

    public DirectoryNames Names { get; }

    /// <summary>The site URL of the last Connect-PnPOnline before the command, if any.</summary>
    public string? PnPSiteUrl { get; }

    public IReadOnlyList<AccessOperation> Operations => _ops;

    public IReadOnlyList<string> Approximations => _approximations;

    public IReadOnlyList<string> Resolutions => _resolutions;

    /// <summary>Set when the command is recognised but changes nothing the model previews (why).</summary>
    public string? Ignored { get; private set; }

    public void Approximate(string why)
    {
        if (!_approximations.Contains(why))
        {
            _approximations.Add(why);
        }
    }

    public void Ignore(string why) => Ignored = why;

    public string Principal(string text, PrincipalWant want, string what)
    {
        var id = Names.Principal(text, want, what);
        Resolved(text, id);
        return id;
    }

    public string Group(string text, string what = "group") => Principal(text, PrincipalWant.Group, what);

    public string Member(string text, string what = "member") => Principal(text, PrincipalWant.Member, what);

    public string Grantee(string text, string what = "principal") => Principal(text, PrincipalWant.Grantee, what);

    public string Resource(string text, string what, params string[] types)
    {
        var id = Names.Resource(text, what, types);
        Resolved(text, id);
        return id;
    }

    /// <summary>The site the PnP commands of the script act on (its last Connect-PnPOnline -Url).</summary>
    public string PnPSite(string? url = null)
    {
        var site = url ?? PnPSiteUrl ?? throw new SuggestionRefusal(SuggestionFindingKind.DynamicValue,
            "no Connect-PnPOnline -Url comes before it, so the site it acts on is not known.");
        return Resource(site, "site", "site");
    }

    /// <summary>A URL on the connected site's host for a server-relative path (/sites/x/Shared Documents/f.docx) or a site-relative one.</summary>
    public string SiteUrl(string pathOrUrl)
    {
        if (DirectoryNames.LooksLikeUrl(pathOrUrl))
        {
            return pathOrUrl;
        }

        var site = PnPSiteUrl ?? throw new SuggestionRefusal(SuggestionFindingKind.DynamicValue,
            $"'{pathOrUrl}' is relative and no Connect-PnPOnline -Url comes before it, so what it names is not known.");
        var siteUri = new Uri(site);
        if (pathOrUrl.StartsWith("/", StringComparison.Ordinal))
        {
            return siteUri.GetLeftPart(UriPartial.Authority) + pathOrUrl;
        }

        return site.TrimEnd('/') + "/" + pathOrUrl;
    }

    public void Grant(string resource, string principal, string role) => Add(AccessOperation.Grant(resource, principal, role));

    /// <summary>
    /// A revocation of the role the principal holds: the snapshot records roles by name, and a revoke
    /// must name the role exactly, so when the principal holds a single other role that one is meant.
    /// </summary>
    public void Revoke(string resource, string principal, string role)
    {
        var held = Names.GrantedRoles(resource, principal);
        if (!held.Contains(role) && held.Count == 1)
        {
            Approximate($"{principal} holds '{held[0]}' on {resource}, not '{role}'; the revocation removes that grant");
            role = held[0];
        }

        Add(AccessOperation.Revoke(resource, principal, role));
    }

    public void AddMember(string group, string member) => Add(AccessOperation.AddMember(group, NotSelf(group, member)));

    public void RemoveMember(string group, string member) => Add(AccessOperation.RemoveMember(group, member));

    public void SetVisibility(string group, GroupVisibility visibility) => Add(AccessOperation.SetVisibility(group, visibility));

    public void CreateLink(string resource, LinkScope scope, string role) => Add(AccessOperation.CreateLink(resource, scope, role));

    /// <summary>The role a directory role assignment is recorded with in this snapshot.</summary>
    public string DirectoryRoleGrant(string roleResource) => Names.ConventionalRole(roleResource, "owner");

    private static string NotSelf(string group, string member) => group == member
        ? throw new SuggestionRefusal(SuggestionFindingKind.Unmappable, $"it makes the group {group} a member of itself.")
        : member;

    private void Add(AccessOperation op)
    {
        if (!_ops.Contains(op))
        {
            _ops.Add(op);
        }
    }

    private void Resolved(string text, string id)
    {
        var t = text.Trim();
        // A Graph object URL that ends with the id names it as plainly as the id does.
        if (!string.Equals(t, id, StringComparison.Ordinal) && !t.EndsWith("/" + id, StringComparison.Ordinal) && !t.EndsWith("('" + id + "')", StringComparison.Ordinal))
        {
            var note = $"'{text}' is {id}";
            if (!_resolutions.Contains(note))
            {
                _resolutions.Add(note);
            }
        }
    }

    /// <summary>The strongest access among role names (read &lt; write &lt; owner; others count as read).</summary>
    public static string Highest(IEnumerable<string> roles)
    {
        var best = "read";
        foreach (var r in roles)
        {
            if (Roles.Level(r) > Roles.Level(best))
            {
                best = r;
            }
        }

        return best;
    }

    /// <summary>The model role of a SharePoint permission level; other levels cannot be previewed.</summary>
    public static string SharePointLevel(string level)
    {
        var l = level.Trim().ToLowerInvariant();
        switch (l)
        {
            case "read":
            case "view only":
            case "restricted view":
            case "restricted read":
                return "read";
            case "contribute":
            case "edit":
            case "design":
            case "approve":
                return "write";
            case "full control":
            case "manage hierarchy":
                return "owner";
            default:
                throw new SuggestionRefusal(SuggestionFindingKind.Unmappable,
                    $"'{level}' is not a standard SharePoint permission level (Read, View Only, Contribute, Edit, Design, Approve, Manage Hierarchy, Full Control); what it allows is not known.");
        }
    }

    public static bool Is(string text, params string[] values) => values.Any(v => string.Equals(v, text, StringComparison.OrdinalIgnoreCase));
}
