using System;
using System.Collections.Generic;
using System.Linq;
using AgentGovernance.Approval;
using AgentGovernance.Directory;
using AgentGovernance.Exposure;

namespace AgentGovernance.Apply;

/// <summary>
/// S5, what matters: the exposure assessed on the directory as it is now against the one approvers
/// signed. Anything that widens beyond what they saw makes the approval stale: a higher risk, more
/// principals or kinds, a new finding or resource; per resource a higher label or newly personal
/// data, an audience (link, Public group) with a higher role; and per (resource, principal) a
/// principal the approvers did not see or a higher role than they saw (read→write, a group whose
/// members were swapped for as many others). Narrowing is never stale.
/// </summary>
internal static class StaleApproval
{
    /// <summary>How many principals a reason names before it only counts.</summary>
    private const int Examples = 5;

    /// <summary>Every way <paramref name="now"/> is worse than <paramref name="approved"/>; empty when it is not.</summary>
    public static List<string> Reasons(ExposureSummary approved, ExposureReport now)
    {
        var reasons = new List<string>();
        Totals(approved, now, reasons);
        Findings(approved, now, reasons);
        CoverageWorse(approved, now, reasons);
        var then = approved.Resources.ToDictionary(r => r.ResourceId, StringComparer.Ordinal);
        var undetailed = false;
        foreach (var r in now.Resources.Where(r => r.GainedCount > 0))
        {
            if (!then.TryGetValue(r.ResourceId, out var was) || was.Gained == 0)
            {
                reasons.Add($"{Name(r)} would newly be reached, which the approvers did not see");
                continue;
            }

            Label(was, r, reasons);
            if (was.Access is not { } access)
            {
                undetailed = true;
                continue;
            }

            Audiences(access, now, r, reasons);
            Principals(access, now, r, reasons);

            // More per-resource comparisons (the live preview's Coverage: what could not be read then
            // and now) join here, each adding its own reason.
        }

        if (undetailed)
        {
            reasons.Add("the request was opened by a version of the module that did not record who gains which role, so what changed cannot be told");
        }

        return reasons;
    }

    /// <summary>Coverage is worse when the preview now sees less than approvers were shown: Partial where it was Complete or not recorded, or a reason they did not see.</summary>
    private static void CoverageWorse(ExposureSummary approved, ExposureReport now, List<string> reasons)
    {
        if (now.Coverage == Coverage.Complete)
        {
            return;
        }

        if (approved.Coverage != Coverage.Partial)
        {
            reasons.Add($"coverage {now.Coverage}, approved at {approved.Coverage}");
            return;
        }

        var seen = new HashSet<string>(approved.CoverageReasons, StringComparer.Ordinal);
        var unseen = now.CoverageReasons.Where(r => !seen.Contains(r)).ToList();
        if (unseen.Count > 0)
        {
            reasons.Add($"the preview now cannot see {string.Join("; ", unseen.Take(Examples))}{(unseen.Count > Examples ? $" (and {unseen.Count - Examples} more)" : string.Empty)}, which the approvers were not told");
        }
    }

    private static void Totals(ExposureSummary approved, ExposureReport now, List<string> reasons)
    {
        if (now.RiskLevel > approved.RiskLevel)
        {
            reasons.Add($"risk {now.RiskLevel}, approved at {approved.RiskLevel}");
        }

        void More(string what, int nowCount, int then)
        {
            if (nowCount > then)
            {
                reasons.Add($"{nowCount} {what}, {then} when approved");
            }
        }

        More("principal(s) would gain access", now.PrincipalsGained, approved.PrincipalsGained);
        More("guest(s)", now.GainedGuests, approved.GainedGuests);
        More("agent(s)", now.GainedAgents, approved.GainedAgents);
        More("service principal(s)", now.GainedServicePrincipals, approved.GainedServicePrincipals);
        if (now.GainedAnonymous && !approved.GainedAnonymous)
        {
            reasons.Add("anyone with a link would gain access, which the approvers did not see");
        }
    }

    private static void Findings(ExposureSummary approved, ExposureReport now, List<string> reasons)
    {
        var seen = new Dictionary<(string, string), RiskLevel>();
        foreach (var f in approved.Findings)
        {
            seen[(f.RuleId, f.ResourceId)] = seen.TryGetValue((f.RuleId, f.ResourceId), out var s) && s > f.Severity ? s : f.Severity;
        }

        foreach (var f in now.Findings)
        {
            if (!seen.TryGetValue((f.RuleId, f.ResourceId), out var then))
            {
                reasons.Add($"new finding {f.RuleId} {f.Severity} on {f.ResourceId}: {f.Message}");
            }
            else if (f.Severity > then)
            {
                reasons.Add($"finding {f.RuleId} on {f.ResourceId} is {f.Severity} now, {then} when approved");
            }
        }
    }

    private static void Label(ExposureSummaryResource was, ResourceExposure r, List<string> reasons)
    {
        if (r.Sensitivity > was.Sensitivity)
        {
            reasons.Add($"{Name(r)} is labelled {r.Sensitivity} now, {was.Sensitivity} when approved");
        }

        if (r.PersonalData && !was.PersonalData)
        {
            reasons.Add($"{Name(r)} holds personal data now, which it did not when approved");
        }
    }

    private static void Audiences(ResourceAccess access, ExposureReport now, ResourceExposure r, List<string> reasons)
    {
        var before = now.AudienceRoles(r, after: false);
        var after = now.AudienceRoles(r, after: true);
        for (var i = 0; i < after.Length; i++)
        {
            var (audience, role) = after[i];
            if (role <= before[i].Role)
            {
                continue;
            }

            var then = access.Audiences.TryGetValue(audience, out var t) ? t : AccessRole.None;
            if (role > then)
            {
                reasons.Add(then == AccessRole.None
                    ? $"{audience} would gain {ResourceAccess.RoleName(role)} on {Name(r)}, which the approvers did not see"
                    : $"{audience} would gain {ResourceAccess.RoleName(role)} on {Name(r)}, {ResourceAccess.RoleName(then)} when approved");
            }
        }
    }

    private static void Principals(ResourceAccess access, ExposureReport now, ResourceExposure r, List<string> reasons)
    {
        var map = ResourceAccess.Gained(now, r);
        if (access.Principals is { } then)
        {
            var unseen = new List<string>();
            var raised = new List<string>();
            foreach (var pair in map.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                if (!then.TryGetValue(pair.Key, out var was))
                {
                    unseen.Add($"{pair.Key} ({ResourceAccess.RoleName(pair.Value)})");
                }
                else if (pair.Value > was)
                {
                    raised.Add($"{pair.Key} {ResourceAccess.RoleName(was)}→{ResourceAccess.RoleName(pair.Value)}");
                }
            }

            if (unseen.Count > 0)
            {
                reasons.Add($"on {Name(r)}, {unseen.Count} principal(s) would gain access the approvers did not see: {List(unseen)}");
            }

            if (raised.Count > 0)
            {
                reasons.Add($"on {Name(r)}, {raised.Count} principal(s) would gain a higher role than approved: {List(raised)}");
            }

            return;
        }

        // Only a digest and counts were kept (a large change): any other set of principals is refused,
        // since a swap for as many others cannot be told from the approved set by counts alone.
        if (ResourceAccess.Hash(map) == access.Digest)
        {
            return;
        }

        var counts = map.Values.GroupBy(ResourceAccess.RoleName).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var more = counts.Where(c => c.Value > (access.RoleCounts.TryGetValue(c.Key, out var n) ? n : 0))
            .Select(c => $"{c.Value} would gain {c.Key}, {(access.RoleCounts.TryGetValue(c.Key, out var n) ? n : 0)} when approved").ToList();
        reasons.Add($"on {Name(r)}, the {map.Count} principal(s) who would gain access are not the {access.RoleCounts.Values.Sum()} the approvers saw (their digest differs" +
            (more.Count > 0 ? "; " + string.Join(", ", more) : string.Empty) + ")");
    }

    private static string List(List<string> items) =>
        string.Join(", ", items.Take(Examples)) + (items.Count > Examples ? $" and {items.Count - Examples} more" : string.Empty);

    private static string Name(ResourceExposure r) => $"{r.DisplayName} ({r.ResourceId})";
}
