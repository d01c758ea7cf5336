using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using AgentGovernance.Changes;
using AgentGovernance.Directory;

namespace AgentGovernance.Exposure;

/// <summary>
/// The policy rules AG001–AG010. Each looks at one resource's exposure and says, in words a person
/// understands, what is wrong and how bad it is.
/// </summary>
internal static class Rules
{
    public static List<Finding> Evaluate(ChangeContext ctx, IReadOnlyList<ResourceExposure> resources)
    {
        var findings = new List<Finding>();
        var policy = ctx.Policy;
        var s = ctx.Snapshot;
        var enabledUsers = s.EnabledUserCount;
        var ownerGrants = new HashSet<string>(ctx.Change.Operations
            .Where(o => o.Op == OperationKind.Grant && Roles.Level(o.Role!) == AccessRole.Owner)
            .Select(o => o.Resource!), StringComparer.Ordinal);

        void Add(string rule, RiskLevel severity, ResourceExposure r, int count, string message)
        {
            if (!policy.IsRuleEnabled(rule))
            {
                return;
            }

            var at = policy.HardDenyAt(rule);
            message = char.ToUpperInvariant(message[0]) + message.Substring(1);
            findings.Add(new Finding(rule, severity, r.ResourceId, message, count, at is { } min && severity >= min));
        }

        foreach (var r in resources)
        {
            var gained = r.GainedCount;
            var name = Name(r);
            if (gained > 0 && r.GainedAnonymous)
            {
                Add("AG001", r.IsSensitive ? RiskLevel.Critical : RiskLevel.High, r, 1,
                    $"Anyone with a link, signed in or not, could open {name}{(r.IsSensitive ? "; anonymous access to a sensitive resource is not allowed" : string.Empty)}.");
            }

            var users = r.GainedMembers + r.GainedGuests + CountUsers(s, r, PrincipalKind.Agent);
            if (r.IsSensitive && gained > 0)
            {
                // AG002: a tenant-wide audience, or more than N% of enabled users.
                var audience = r.NewAudience;
                var percent = enabledUsers == 0 ? 0 : users * 100.0 / enabledUsers;
                if (audience is not null || percent > policy.BroadAudiencePercent)
                {
                    var how = audience is null ? string.Empty : $" through the tenant-wide audience {audience}";
                    Add("AG002", r.Sensitivity == Sensitivity.HighlyConfidential ? RiskLevel.Critical : RiskLevel.High, r, users,
                        $"{users} of {enabledUsers} enabled users ({percent.ToString("0", CultureInfo.InvariantCulture)}%) would newly reach {name}{how}.");
                }

                if (gained > policy.ManyPrincipalsThreshold)
                {
                    Add("AG003", RiskLevel.High, r, gained,
                        $"{gained} principals would newly reach {name}; the policy allows at most {policy.ManyPrincipalsThreshold} at once.");
                }

                if (r.GainedGuests > 0)
                {
                    Add("AG004", RiskLevel.High, r, r.GainedGuests,
                        $"{Plural(r.GainedGuests, "guest")} from outside the organization would newly reach {name}: {Sample(s, r, PrincipalKind.Guest)}.");
                }

                if (r.GainedAgents > 0)
                {
                    Add("AG006", RiskLevel.High, r, r.GainedAgents,
                        $"{Plural(r.GainedAgents, "agent identity", "agent identities")} would newly reach {name}: {Sample(s, r, PrincipalKind.Agent)}.");
                }

                var owners = CountOwners(r);
                if (owners > 0 || ownerGrants.Contains(r.ResourceId))
                {
                    Add("AG009", RiskLevel.Medium, r, owners,
                        $"owner would be granted on {name}{(owners > 0 ? $" to {Plural(owners, "principal")}" : string.Empty)}; owners can change who else has access.");
                }

                if (ctx.Change.Duration is null)
                {
                    Add("AG010", RiskLevel.Low, r, gained,
                        $"access to {name} widens with no duration, so it lasts until someone removes it; give the change a duration (e.g. PT8H).");
                }
            }

            if (r.PersonalData && gained > 0)
            {
                Add("AG005", gained > policy.PersonalDataCriticalAbove ? RiskLevel.Critical : RiskLevel.High, r, gained,
                    $"{name} holds personal data and {Plural(gained, "principal")} would newly reach it.");
            }

            if (gained > 0)
            {
                foreach (var (who, label) in new[] { (ctx.Requester, "the requester"), (ctx.Suggester, "the suggesting agent") })
                {
                    if (who >= 0 && r.GainedIndexes.IndexOf(who) >= 0)
                    {
                        Add("AG007", RiskLevel.High, r, 1,
                            $"{label} {Who(s, who)} would newly gain access to {name}; nobody should widen their own access.");
                    }
                }

                if (string.Equals(r.Type, "directoryRole", StringComparison.OrdinalIgnoreCase))
                {
                    Add("AG008", RiskLevel.Critical, r, gained,
                        $"{Plural(gained, "principal")} would newly hold the directory role {name}.");
                }
            }
        }

        findings.Sort((a, b) =>
        {
            var c = b.Severity.CompareTo(a.Severity);
            if (c != 0) return c;
            c = string.CompareOrdinal(a.RuleId, b.RuleId);
            return c != 0 ? c : string.CompareOrdinal(a.ResourceId, b.ResourceId);
        });
        return findings;
    }

    private static string Name(ResourceExposure r) =>
        r.DisplayName == r.ResourceId ? $"'{r.ResourceId}' ({r.Sensitivity})" : $"'{r.DisplayName}' ({r.ResourceId}, {r.Sensitivity})";

    private static string Who(AccessSnapshot s, int p) =>
        s.Upn[p] is { } upn ? upn : (s.PrincipalName(p) == s.PrincipalId(p) ? s.PrincipalId(p) : $"{s.PrincipalName(p)} ({s.PrincipalId(p)})");

    private static string Plural(int n, string one, string? many = null) =>
        n.ToString(CultureInfo.InvariantCulture) + " " + (n == 1 ? one : many ?? one + "s");

    private static int CountUsers(AccessSnapshot s, ResourceExposure r, PrincipalKind kind)
    {
        var n = 0;
        var idx = r.GainedIndexes;
        var kinds = r.GainedKinds;
        for (var i = 0; i < idx.Length; i++)
        {
            if (kinds[i] == kind && s.Types[idx[i]] == PrincipalType.User)
            {
                n++;
            }
        }

        return n;
    }

    private static int CountOwners(ResourceExposure r)
    {
        var n = 0;
        foreach (var role in r.GainedAfter)
        {
            if (role == AccessRole.Owner)
            {
                n++;
            }
        }

        return n;
    }

    /// <summary>Up to five names of the principals of one kind, then "and N more".</summary>
    private static string Sample(AccessSnapshot s, ResourceExposure r, PrincipalKind kind)
    {
        var names = new List<string>();
        var total = 0;
        var idx = r.GainedIndexes;
        var kinds = r.GainedKinds;
        for (var i = 0; i < idx.Length; i++)
        {
            if (kinds[i] != kind)
            {
                continue;
            }

            total++;
            if (names.Count < 5)
            {
                names.Add(s.HasDisplayName(idx[i]) ? s.PrincipalName(idx[i]) : s.PrincipalId(idx[i]));
            }
        }

        return total > names.Count ? string.Join(", ", names) + $" and {total - names.Count} more" : string.Join(", ", names);
    }
}
