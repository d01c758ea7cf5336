using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json;
using AgentGovernance.Directory;
using AgentGovernance.Exposure;
using AgentGovernance.Json;

namespace AgentGovernance.Approval;

/// <summary>
/// What a change gives on one resource, as the request records it for S5: per principal the highest
/// role it would hold (listed while the request stays small, else a digest of the list and counts per
/// role), and the audiences (everyone, everyoneExceptExternal, anyone: links and Public groups) whose
/// role the change raises. Part of the exposure summary, so approvers sign it through the report hash.
/// </summary>
public sealed class ResourceAccess
{
    /// <summary>
    /// Principals listed by name across one request; past this a resource keeps a digest and counts,
    /// so a change that reaches 100,000 principals still makes a request of a few kilobytes.
    /// </summary>
    internal const int ListLimit = 1000;

    internal ResourceAccess(IReadOnlyDictionary<string, int> roleCounts, IReadOnlyDictionary<string, AccessRole> audiences,
        IReadOnlyDictionary<string, AccessRole>? principals, string digest)
    {
        RoleCounts = roleCounts;
        Audiences = audiences;
        Principals = principals;
        Digest = digest;
    }

    /// <summary>How many principals gain each role (read, write, owner), by the highest role they would hold.</summary>
    public IReadOnlyDictionary<string, int> RoleCounts { get; }

    /// <summary>The tenant-wide audiences whose role on the resource the change raises, with the role they would hold.</summary>
    public IReadOnlyDictionary<string, AccessRole> Audiences { get; }

    /// <summary>Principal id to the highest role it would hold; null when the request keeps only the <see cref="Digest"/>.</summary>
    public IReadOnlyDictionary<string, AccessRole>? Principals { get; }

    /// <summary><c>sha256:</c> of the canonical JSON of the principal map (listed or not).</summary>
    public string Digest { get; }

    /// <summary>Per resource id, what the report's change gives there, listing principals while <see cref="ListLimit"/> allows.</summary>
    internal static Dictionary<string, ResourceAccess> Of(ExposureReport report)
    {
        var result = new Dictionary<string, ResourceAccess>(StringComparer.Ordinal);
        var budget = ListLimit;
        foreach (var r in report.Resources)
        {
            var map = Gained(report, r);
            var listed = map.Count <= budget;
            if (listed)
            {
                budget -= map.Count;
            }

            var counts = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var role in map.Values)
            {
                counts[RoleName(role)] = counts.TryGetValue(RoleName(role), out var n) ? n + 1 : 1;
            }

            var audiences = new Dictionary<string, AccessRole>(StringComparer.Ordinal);
            var (before, after) = (report.AudienceRoles(r, after: false), report.AudienceRoles(r, after: true));
            for (var i = 0; i < after.Length; i++)
            {
                if (after[i].Role > before[i].Role)
                {
                    audiences[after[i].Audience] = after[i].Role;
                }
            }

            result[r.ResourceId] = new ResourceAccess(counts, audiences, listed ? map : null, Hash(map));
        }

        return result;
    }

    /// <summary>Principal id to the highest role it gains on the resource.</summary>
    internal static Dictionary<string, AccessRole> Gained(ExposureReport report, ResourceExposure r)
    {
        var ids = r.GainedIndexes;
        var roles = r.GainedAfter;
        var map = new Dictionary<string, AccessRole>(ids.Length, StringComparer.Ordinal);
        for (var i = 0; i < ids.Length; i++)
        {
            map[report.Snapshot.PrincipalId(ids[i])] = roles[i];
        }

        return map;
    }

    internal static string Hash(IReadOnlyDictionary<string, AccessRole> map) =>
        CanonicalJson.Hash(map.ToDictionary(p => p.Key, p => (object?)RoleName(p.Value), StringComparer.Ordinal));

    internal static string RoleName(AccessRole role) => role.ToString().ToLowerInvariant();

    internal Dictionary<string, object?> ToDocument()
    {
        var d = new Dictionary<string, object?>
        {
            ["roles"] = RoleCounts.ToDictionary(p => p.Key, p => (object?)p.Value),
            ["audiences"] = Audiences.ToDictionary(p => p.Key, p => (object?)RoleName(p.Value)),
            ["digest"] = Digest,
        };
        if (Principals is not null)
        {
            d["principals"] = Principals.ToDictionary(p => p.Key, p => (object?)RoleName(p.Value));
        }

        return d;
    }

    internal static ResourceAccess FromJson(JsonElement json)
    {
        static AccessRole Role(JsonElement e) => (AccessRole)Enum.Parse(typeof(AccessRole), e.GetString()!, ignoreCase: true);
        var counts = json.GetProperty("roles").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt32(), StringComparer.Ordinal);
        var audiences = json.GetProperty("audiences").EnumerateObject().ToDictionary(p => p.Name, p => Role(p.Value), StringComparer.Ordinal);
        var principals = json.TryGetProperty("principals", out var list)
            ? list.EnumerateObject().ToDictionary(p => p.Name, p => Role(p.Value), StringComparer.Ordinal)
            : null;
        return new ResourceAccess(counts, audiences, principals, json.GetProperty("digest").GetString()!);
    }
}
