using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using AgentGovernance.Directory;
using AgentGovernance.Policy;

namespace AgentGovernance.Compliance;

/// <summary>
/// What the audit of a live session stood on: its permission inventory (when it was crawled, how old, what it
/// could not read), and the sensitive resources whose findings were confirmed by reading their permissions live.
/// </summary>
public sealed class DirectoryCoverage
{
    internal DirectoryCoverage(string inventory, DateTimeOffset? crawledAt, TimeSpan? age, TimeSpan maxAge, IReadOnlyList<string> gaps)
    {
        Inventory = inventory;
        CrawledAt = crawledAt;
        Age = age;
        MaxAge = maxAge;
        Gaps = gaps;
    }

    /// <summary>Where the inventory came from (its file).</summary>
    public string Inventory { get; }

    /// <summary>The oldest drive crawl of the inventory (else its capturedAt).</summary>
    public DateTimeOffset? CrawledAt { get; }

    public TimeSpan? Age { get; }

    /// <summary>The policy's Inventory.MaxAge: an older inventory is said to be stale.</summary>
    public TimeSpan MaxAge { get; }

    public bool Stale => Age is { } a && a > MaxAge;

    /// <summary>What the inventory's crawl could not read (its coverage gaps).</summary>
    public IReadOnlyList<string> Gaps { get; }

    /// <summary>Each resource read again live: its id and what came of it (confirmed, no finding any more, or why it could not be read).</summary>
    public List<(string Resource, string Outcome)> ReadLive { get; } = new();

    internal Dictionary<string, object?> Document() => new()
    {
        ["source"] = "inventory",
        ["inventory"] = Inventory,
        ["crawledAt"] = CrawledAt is { } at ? GovernanceClock.Format(at) : null,
        ["ageMinutes"] = Age is { } age ? (long)age.TotalMinutes : null,
        ["maxAge"] = Changes.IsoDuration.Format(MaxAge),
        ["stale"] = Stale,
        ["coverage"] = Gaps.Count == 0 ? "Complete" : "Partial",
        ["gaps"] = Gaps.Select(g => (object?)g).ToList(),
        ["readLive"] = ReadLive.Select(r => (object?)new Dictionary<string, object?> { ["resource"] = r.Resource, ["outcome"] = r.Outcome }).ToList(),
    };

    public override string ToString() =>
        $"the permission inventory {Inventory}, crawled {(CrawledAt is { } at ? GovernanceClock.Format(at) : "at an unknown time")}" +
        (Age is { } age ? $" ({age.TotalHours.ToString("0.#", CultureInfo.InvariantCulture)} h old{(Stale ? $", older than the policy's Inventory.MaxAge of {Changes.IsoDuration.Format(MaxAge)}" : string.Empty)})" : string.Empty) +
        $", coverage {(Gaps.Count == 0 ? "Complete" : $"Partial ({Gaps.Count} gap(s))")}; {ReadLive.Count} resource(s) read again live";
}

/// <summary>
/// The audit of a live session over its permission inventory: the exposure findings on a resource stand only once that
/// resource's permissions, read again live, still show them (the inventory says where to look, the live read what is true).
/// </summary>
internal static class InventoryAudit
{
    /// <summary>The checks that depend only on a resource's grants and who reaches it: a live read of the resource answers them.</summary>
    private static readonly HashSet<string> ReadLiveChecks = new(StringComparer.Ordinal) { "AUD001", "AUD002", "AUD003", "AUD004", "AUD005", "AUD006" };

    public static DirectoryCoverage Coverage(AccessSnapshot inventory, GovernancePolicy policy)
    {
        var crawled = inventory.InventoryCrawledAt;
        DateTimeOffset? at = crawled == DateTimeOffset.MinValue ? null : crawled;
        return new DirectoryCoverage(inventory.Source ?? "(in memory)", at, at is { } a ? GovernanceClock.UtcNow - a : null, policy.InventoryMaxAgeTimeSpan, inventory.CoverageGaps);
    }

    /// <summary>
    /// Reads each resource with a finding of <see cref="ReadLiveChecks"/> again (<paramref name="readResource"/>), runs those
    /// checks on what came back (with the inventory's sensitivity and personal-data marks), and puts the live findings in
    /// place of the inventory's; a resource that cannot be read keeps the inventory's findings, and the coverage says why.
    /// </summary>
    public static List<ComplianceFinding> Confirm(IReadOnlyList<ComplianceFinding> found, AccessSnapshot inventory, GovernancePolicy policy,
        Func<string, AccessSnapshot> readResource, DirectoryCoverage coverage)
    {
        var replaced = new Dictionary<string, List<ComplianceFinding>>(StringComparer.Ordinal);
        foreach (var id in found.Where(f => ReadLiveChecks.Contains(f.CheckId) && inventory.TryGetResourceIndex(f.Target, out _)).Select(f => f.Target).Distinct(StringComparer.Ordinal))
        {
            var before = found.Count(f => f.Target == id && ReadLiveChecks.Contains(f.CheckId));
            AccessSnapshot live;
            try
            {
                live = readResource(id);
            }
            catch (GovernanceException e)
            {
                coverage.ReadLive.Add((id, $"not read ({e.ErrorId}): {e.Message} The inventory's {before} finding(s) stand unconfirmed."));
                continue;
            }

            if (!live.TryGetResourceIndex(id, out var r) || !inventory.TryGetResourceIndex(id, out var i))
            {
                coverage.ReadLive.Add((id, $"gone: the live read does not find it; the inventory's {before} finding(s) are left out."));
                replaced[id] = new List<ComplianceFinding>();
                continue;
            }

            // The label and the personal-data mark come from the inventory (a live read of an item's permissions has neither).
            if (inventory.ResourceSensitivity[i] > live.ResourceSensitivity[r])
            {
                live.ResourceSensitivity[r] = inventory.ResourceSensitivity[i];
            }

            live.ResourcePersonal[r] |= inventory.ResourcePersonal[i];
            var again = ComplianceAudit.Run(new AuditInputs(live, policy)).Where(f => f.Target == id && ReadLiveChecks.Contains(f.CheckId)).ToList();
            replaced[id] = again;
            coverage.ReadLive.Add((id, again.Count == 0
                ? $"no finding any more: the live permissions no longer show the inventory's {before}."
                : $"confirmed: {string.Join(", ", again.Select(f => f.CheckId).Distinct())} ({again.Count} finding(s) live, {before} in the inventory)."));
        }

        return found.Where(f => !(ReadLiveChecks.Contains(f.CheckId) && replaced.ContainsKey(f.Target)))
            .Concat(replaced.Values.SelectMany(v => v))
            .OrderByDescending(f => f.Severity).ThenBy(f => f.CheckId, StringComparer.Ordinal).ThenBy(f => f.Target, StringComparer.Ordinal)
            .ToList();
    }
}
