using System;
using System.Collections.Generic;
using System.Linq;
using AgentGovernance.Apply;
using AgentGovernance.Approval;
using AgentGovernance.Changes;
using AgentGovernance.Directory;
using AgentGovernance.Exposure;
using AgentGovernance.Ledger;
using AgentGovernance.Policy;
using AgentGovernance.Providers;

namespace AgentGovernance.Compliance;

/// <summary>What an audit reads besides the directory and the policy: the store's requests and its ledger's verification.</summary>
internal sealed class AuditInputs
{
    public AuditInputs(AccessSnapshot snapshot, GovernancePolicy policy)
    {
        Snapshot = snapshot;
        Policy = policy;
    }

    public AccessSnapshot Snapshot { get; }

    public GovernancePolicy Policy { get; }

    /// <summary>Every request of the store with its status; null when they could not be read (then Notes says why).</summary>
    public IReadOnlyList<ApprovalRequest>? Requests { get; set; }

    /// <summary>The full verification of the store's ledger (Test-GovernanceAuditLog's).</summary>
    public LedgerVerification? Verification { get; set; }

    /// <summary>Where the directory is (IDirectoryProvider.Location), to tell whether an applied change was applied to it.</summary>
    public string? DirectoryLocation { get; set; }

    /// <summary>Whether an operation is in effect in the directory now; null when it cannot be asked.</summary>
    public Func<AccessOperation, bool>? InEffect { get; set; }

    /// <summary>The verified ledger entries (to tell a later operation through the pipeline from a revert around it); empty when not read.</summary>
    public IReadOnlyList<LedgerEntry> Ledger { get; set; } = Array.Empty<LedgerEntry>();

    public List<string> Notes { get; } = new();
}

/// <summary>
/// The scheduled compliance audit: standing exposure of sensitive resources, access past its time,
/// lapsed and unfinished requests, ledger integrity, and weak policy. Reads only; each finding carries
/// its evidence and, where a change can fix it, that change.
/// </summary>
internal static class ComplianceAudit
{
    /// <summary>At most this many ids or paths of each kind in a finding's evidence (the job stream of a runbook is small).</summary>
    public const int SampleSize = 10;

    /// <summary>At most this many operations in one remediation; the evidence says when a remediation covers fewer than were found.</summary>
    public const int MaxRemediationOperations = 100;

    public static IReadOnlyList<ComplianceFinding> Run(AuditInputs inputs)
    {
        var findings = new List<ComplianceFinding>();
        Exposure(inputs, findings);
        Lifecycle(inputs, findings);
        LedgerChecks(inputs, findings);
        PolicyChecks(inputs.Policy, findings);
        return findings
            .OrderByDescending(f => f.Severity)
            .ThenBy(f => f.CheckId, StringComparer.Ordinal)
            .ThenBy(f => f.Target, StringComparer.Ordinal)
            .ToList();
    }

    // ---- standing exposure ----------------------------------------------------------------------

    private static void Exposure(AuditInputs inputs, List<ComplianceFinding> findings)
    {
        var s = inputs.Snapshot;
        var policy = inputs.Policy;
        var agents = PolicyAgents(s, policy);
        bool IsAgent(int p) => s.IsAgentFlag(p) || (agents is not null && agents[p]);
        var state = new GraphState(s);
        var grants = new List<GrantEntry>();
        for (var r = 0; r < s.ResourceCount; r++)
        {
            var isRole = string.Equals(s.ResourceTypes[r], "directoryRole", StringComparison.OrdinalIgnoreCase);
            var sensitive = policy.IsSensitive(s.ResourceSensitivity[r]);
            if (!sensitive && !isRole)
            {
                continue;
            }

            var id = s.ResourceIds[r];
            var name = s.ResourceNames[r] ?? id;
            var label = s.ResourceSensitivity[r];
            var personal = s.ResourcePersonal[r];
            var severe = label == Sensitivity.HighlyConfidential || personal;
            var entries = EffectiveAccess.ForResource(state, r);

            if (sensitive)
            {
                state.ResourceGrants(r, grants);
                Audience(s, r, id, name, label, severe, grants, entries, findings);
                Anonymous(id, name, label, grants, findings);
            }

            var guests = entries.Where(e => e.UserType == "Guest").ToList();
            var agentEntries = entries.Where(e => s.TryGetPrincipalIndex(e.PrincipalId, out var p) && IsAgent(p)).ToList();
            if (isRole)
            {
                var risky = guests.Concat(agentEntries).GroupBy(e => e.PrincipalId).Select(g => g.First()).ToList();
                if (risky.Count > 0)
                {
                    findings.Add(Reach(ComplianceCheck.PrivilegedRoleHolder, ComplianceCheck.PrivilegedRoleHolder.Severity, id, name, risky,
                        $"{risky.Count} guest or agent identit{(risky.Count == 1 ? "y holds" : "ies hold")} the directory role {name} ({entries.Count} holder(s) in all).",
                        extra: new() { ["holders"] = entries.Count, ["guests"] = guests.Count, ["agents"] = agentEntries.Count }));
                }
            }
            else
            {
                if (guests.Count > 0)
                {
                    findings.Add(Reach(ComplianceCheck.GuestAccess, severe ? ComplianceSeverity.High : ComplianceSeverity.Medium, id, name, guests,
                        $"{guests.Count} guest(s) reach {label} {name}.", extra: new() { ["sensitivity"] = label.ToString(), ["personalData"] = personal }));
                }

                if (agentEntries.Count > 0)
                {
                    findings.Add(Reach(ComplianceCheck.AgentAccess, ComplianceCheck.AgentAccess.Severity, id, name, agentEntries,
                        $"{agentEntries.Count} agent identit{(agentEntries.Count == 1 ? "y reaches" : "ies reach")} {label} {name}.",
                        extra: new() { ["sensitivity"] = label.ToString(), ["personalData"] = personal }));
                }
            }

            if (personal && entries.Count > policy.PersonalDataCriticalAbove)
            {
                findings.Add(new ComplianceFinding(ComplianceCheck.PersonalDataBreadth, ComplianceCheck.PersonalDataBreadth.Severity, id, name,
                    $"{entries.Count} principals reach personal data in {name}; the policy's threshold is {policy.PersonalDataCriticalAbove}.",
                    new Dictionary<string, object?>
                    {
                        ["principals"] = entries.Count,
                        ["threshold"] = policy.PersonalDataCriticalAbove,
                        ["members"] = entries.Count(e => e.UserType == "Member"),
                        ["guests"] = guests.Count,
                        ["servicePrincipals"] = entries.Count(e => e.PrincipalType == PrincipalType.ServicePrincipal),
                    }, hint: "Narrow the grants and groups Get-EffectiveAccess -ResourceId shows; a person decides who keeps access."));
            }

            if (sensitive && !isRole)
            {
                Owners(s, r, id, name, label, IsAgent, findings);
            }
        }
    }

    private static void Audience(AccessSnapshot s, int r, string id, string name, Sensitivity label, bool severe, List<GrantEntry> grants,
        IReadOnlyList<EffectiveAccessEntry> entries, List<ComplianceFinding> findings)
    {
        var wide = grants.Where(g => g.Principal == AccessSnapshot.EveryoneIndex || g.Principal == AccessSnapshot.EveryoneExceptExternalIndex).ToList();
        var group = s.ResourceGroup[r];
        var publicGroup = group >= 0 && s.Visibility[group] == GroupVisibility.Public;
        if (wide.Count == 0 && !publicGroup)
        {
            return;
        }

        var operations = wide.Select(g => AccessOperation.Revoke(id, s.PrincipalId(g.Principal), g.Role)).ToList();
        if (publicGroup)
        {
            operations.Add(AccessOperation.SetVisibility(s.PrincipalId(group), GroupVisibility.Private));
        }

        var how = wide.Select(g => $"{s.PrincipalId(g.Principal)}:{g.Role}").ToList();
        if (publicGroup)
        {
            how.Add($"{s.PrincipalId(group)} is Public");
        }

        findings.Add(new ComplianceFinding(ComplianceCheck.TenantWideAudience, severe ? ComplianceSeverity.Critical : ComplianceSeverity.High, id, name,
            $"{label} {name} is open to the whole tenant ({string.Join(", ", how)}): {entries.Count} principals reach it.",
            new Dictionary<string, object?>
            {
                ["grants"] = wide.Select(g => (object?)$"{s.PrincipalId(g.Principal)}:{g.Role}").ToList(),
                ["publicGroup"] = publicGroup ? s.PrincipalId(group) : null,
                ["principals"] = entries.Count,
                ["sensitivity"] = label.ToString(),
                ["personalData"] = s.ResourcePersonal[r],
            },
            Change($"Close {name} to the whole tenant", $"Compliance audit AUD001: {label} {id} is open to the whole tenant.", operations)));
    }

    private static void Anonymous(string id, string name, Sensitivity label, List<GrantEntry> grants, List<ComplianceFinding> findings)
    {
        var links = grants.Where(g => g.Principal == AccessSnapshot.AnyoneIndex).ToList();
        if (links.Count == 0)
        {
            return;
        }

        findings.Add(new ComplianceFinding(ComplianceCheck.AnonymousLink, ComplianceCheck.AnonymousLink.Severity, id, name,
            $"{label} {name} has an anonymous link ({string.Join(", ", links.Select(l => l.Role))}): whoever holds it can read it.",
            new Dictionary<string, object?> { ["roles"] = links.Select(l => (object?)l.Role).ToList(), ["sensitivity"] = label.ToString() },
            Change($"Remove the anonymous link to {name}", $"Compliance audit AUD002: {label} {id} has an anonymous link.",
                links.Select(l => AccessOperation.Revoke(id, Audiences.Anyone, l.Role)).ToList())));
    }

    /// <summary>A finding about principals that reach a resource, with the narrowing operation that cuts each one's shortest path.</summary>
    private static ComplianceFinding Reach(ComplianceCheck check, ComplianceSeverity severity, string id, string name, List<EffectiveAccessEntry> who,
        string message, Dictionary<string, object?> extra)
    {
        var operations = new List<AccessOperation>();
        var throughAudience = 0;
        foreach (var e in who)
        {
            if (Cut(id, e) is { } op)
            {
                if (!operations.Contains(op))
                {
                    operations.Add(op);
                }
            }
            else
            {
                throughAudience++;
            }
        }

        extra["count"] = who.Count;
        extra["principals"] = who.Take(SampleSize).Select(e => (object?)e.PrincipalId).ToList();
        extra["paths"] = who.Take(SampleSize).Select(e => (object?)e.Path.ToString()).ToList();
        if (throughAudience > 0)
        {
            extra["throughAudienceOrPublicGroup"] = throughAudience;
        }

        if (operations.Count > MaxRemediationOperations)
        {
            extra["remediationCovers"] = MaxRemediationOperations;
        }

        var change = operations.Count == 0 ? null
            : Change($"Cut {check.Name} to {name}", $"Compliance audit {check.Id}: {message}", operations.Take(MaxRemediationOperations).ToList());
        return new ComplianceFinding(check, severity, id, name, message, extra, change,
            change is null ? "They reach it through a tenant-wide audience or a Public group: see AUD001." : null);
    }

    /// <summary>The operation that removes a principal's shortest path to a resource: revoke its own grant, or take it out of the first group on the path.</summary>
    private static AccessOperation? Cut(string resource, EffectiveAccessEntry e)
    {
        var path = e.Path;
        if (path.Via != AccessVia.Grant)
        {
            return null;
        }

        return path.Steps.Count == 1
            ? AccessOperation.Revoke(resource, e.PrincipalId, path.Role)
            : AccessOperation.RemoveMember(path.Steps[1], path.Steps[0]);
    }

    private static void Owners(AccessSnapshot s, int r, string id, string name, Sensitivity label, Func<int, bool> isAgent, List<ComplianceFinding> findings)
    {
        var owners = s.OwnersOf(r).ToArray();
        if (owners.Length == 0)
        {
            findings.Add(new ComplianceFinding(ComplianceCheck.NoOwner, ComplianceCheck.NoOwner.Severity, id, name,
                $"{label} {name} has no owner.", new Dictionary<string, object?> { ["sensitivity"] = label.ToString() },
                hint: "Name an owner in the directory (site or group owners); the audit cannot pick one."));
            return;
        }

        var problems = new List<object?>();
        foreach (var o in owners)
        {
            var why = s.IsGuest(o) ? "guest" : !s.IsEnabled(o) ? "disabled" : isAgent(o) ? "agent" : null;
            if (why is not null)
            {
                problems.Add($"{s.PrincipalId(o)} ({why})");
            }
        }

        if (problems.Count > 0)
        {
            findings.Add(new ComplianceFinding(ComplianceCheck.OwnerNotAccountable, ComplianceCheck.OwnerNotAccountable.Severity, id, name,
                $"{problems.Count} of the {owners.Length} owner(s) of {label} {name} cannot answer for it: {string.Join(", ", problems.Take(SampleSize))}.",
                new Dictionary<string, object?> { ["owners"] = owners.Length, ["notAccountable"] = problems.Take(SampleSize).ToList(), ["sensitivity"] = label.ToString() },
                hint: "Replace these owners in the directory with accountable members."));
        }
    }

    private static bool[]? PolicyAgents(AccessSnapshot s, GovernancePolicy policy)
    {
        bool[]? agents = null;
        foreach (var a in policy.AgentIdentities)
        {
            if (s.TryResolvePrincipal(a, out var p) && p >= AccessSnapshot.FirstPrincipal)
            {
                (agents ??= new bool[s.PrincipalSlots])[p] = true;
            }
        }

        return agents;
    }

    private static AccessChange Change(string title, string justification, IReadOnlyList<AccessOperation> operations) =>
        new(operations, title: title, justification: justification);

    // ---- requests and time-boxed access ---------------------------------------------------------

    private static void Lifecycle(AuditInputs inputs, List<ComplianceFinding> findings)
    {
        if (inputs.Requests is not { } requests)
        {
            return;
        }

        var now = GovernanceClock.UtcNow;
        var lapsed = new List<ApprovalRequest>();
        List<(long Sequence, string? RequestId, string Key)>? later = null;
        foreach (var request in requests)
        {
            switch (request.Status)
            {
                case ApprovalStatus.Applied when request.AccessExpiresAt is { } end && end <= now:
                    findings.Add(PastEnd(inputs, request, end));
                    break;
                case ApprovalStatus.Applied:
                    if (Undone(inputs, request, later ??= LaterOperations(inputs.Ledger)) is { } undone)
                    {
                        findings.Add(undone);
                    }

                    break;
                case ApprovalStatus.Expired:
                    lapsed.Add(request);
                    break;
                case ApprovalStatus.Applying:
                    findings.Add(new ComplianceFinding(ComplianceCheck.ApplyUnfinished, ComplianceCheck.ApplyUnfinished.Severity, request.RequestId, request.Title,
                        $"The apply of {request.RequestId} has no outcome in the ledger: it is running now, or its process died.",
                        new Dictionary<string, object?> { ["changeId"] = request.ChangeId, ["requestedBy"] = request.RequestedBy },
                        hint: $"Invoke-ApprovedChange {request.RequestId} completes or rolls it back; Undo-ApprovedChange {request.RequestId} rolls it back."));
                    break;
                case ApprovalStatus.Invalid:
                    findings.Add(new ComplianceFinding(ComplianceCheck.RequestTampered, ComplianceCheck.RequestTampered.Severity, request.RequestId, request.Title,
                        $"Request {request.RequestId} is not the request that was opened: {string.Join("; ", request.Problems)}.",
                        new Dictionary<string, object?> { ["changeId"] = request.ChangeId, ["problems"] = request.Problems.Take(SampleSize).Select(p => (object?)p).ToList() },
                        hint: "Keep a copy of the store as evidence; nothing of this request can be decided or applied."));
                    break;
            }
        }

        if (lapsed.Count > 0)
        {
            var unused = lapsed.Where(r => r.QuorumMet).ToList();
            var ordered = unused.Concat(lapsed.Where(r => !r.QuorumMet)).OrderByDescending(r => r.QuorumMet).ThenByDescending(r => r.ExpiresAt).ToList();
            findings.Add(new ComplianceFinding(ComplianceCheck.ApprovalsExpired, ComplianceCheck.ApprovalsExpired.Severity, "requests", "approval requests",
                $"{lapsed.Count} approval request(s) expired unapplied, {unused.Count} of them with their quorum.",
                new Dictionary<string, object?>
                {
                    ["expired"] = lapsed.Count,
                    ["approvedUnused"] = unused.Count,
                    ["requests"] = ordered.Take(SampleSize).Select(r => (object?)$"{r.RequestId} {r.Quorum} expired {GovernanceClock.Format(r.ExpiresAt)}").ToList(),
                },
                hint: "Nothing to revert: an expired approval cannot be used. Request approval again for a change still wanted."));
        }
    }

    /// <summary>What an operation changes: its target and principal or member (and the role), or the group's visibility.</summary>
    private static string KeyOf(string? op, string? target, string? who, string? role) =>
        op is "setVisibility" ? $"{target}|visibility" : $"{target}|{who}|{(op is "addMember" or "removeMember" ? string.Empty : role)}";

    private static string KeyOf(AccessOperation o) =>
        KeyOf(o.Op == OperationKind.SetVisibility ? "setVisibility" : o.Op is OperationKind.AddMember or OperationKind.RemoveMember ? "addMember" : "grant", o.Target, o.Principal ?? o.Member, o.Role);

    private static List<(long, string?, string)> LaterOperations(IReadOnlyList<LedgerEntry> ledger)
    {
        var ops = new List<(long, string?, string)>();
        foreach (var e in ledger)
        {
            if (e.Event is LedgerEvents.OperationApplied or LedgerEvents.OperationReverted && e.Details["operation"] is System.Collections.IDictionary o)
            {
                var op = o["op"] as string;
                ops.Add((e.Sequence, e.RequestId, KeyOf(op, o["resource"] as string ?? o["group"] as string, o["principal"] as string ?? o["member"] as string, o["role"] as string)));
            }
        }

        return ops;
    }

    /// <summary>AUD105: an applied change none of whose changed operations is in effect any more, with no later ledger operation on them.</summary>
    private static ComplianceFinding? Undone(AuditInputs inputs, ApprovalRequest request, List<(long Sequence, string? RequestId, string Key)> later)
    {
        var attempt = request.History?.LastApply;
        if (attempt is null || inputs.InEffect is null || (attempt.ProviderLocation is not null && attempt.ProviderLocation != inputs.DirectoryLocation))
        {
            return null;
        }

        var changed = attempt.Applied.Where(a => a.Value.Changed).OrderBy(a => a.Key).Select(a => a.Value.Operation)
            .Where(o => !later.Any(l => l.Sequence > attempt.IntentSequence && l.RequestId != request.RequestId && l.Key == KeyOf(o)))
            .ToList();
        var gone = changed.Where(o => !inputs.InEffect(o)).ToList();
        if (gone.Count == 0)
        {
            return null;
        }

        return new ComplianceFinding(ComplianceCheck.AppliedChangeUndone, ComplianceCheck.AppliedChangeUndone.Severity, request.RequestId, request.Title ?? request.ChangeId,
            $"{gone.Count} of the {changed.Count} operation(s) {request.RequestId} applied are no longer in effect, and no later ledger operation touched them: reverted around the pipeline.",
            new Dictionary<string, object?>
            {
                ["changeId"] = request.ChangeId,
                ["notInEffect"] = gone.Take(SampleSize).Select(o => (object?)o.ToString()).ToList(),
                ["notInEffectCount"] = gone.Count,
                ["operations"] = changed.Count,
                ["appliedTo"] = attempt.ProviderLocation,
            },
            hint: "Find who changed it (-AuditLogPath reconciles with Entra's audit log); Undo-ApprovedChange records the change as ended if that is what was wanted.");
    }

    private static ComplianceFinding PastEnd(AuditInputs inputs, ApprovalRequest request, DateTimeOffset end)
    {
        var attempt = request.History!.LastApply!;
        var plan = UndoPlan.Of(attempt);
        var evidence = new Dictionary<string, object?>
        {
            ["changeId"] = request.ChangeId,
            ["accessEndedAt"] = GovernanceClock.Format(end),
            ["appliedTo"] = attempt.ProviderLocation,
        };
        var here = inputs.InEffect is not null && (attempt.ProviderLocation is null || attempt.ProviderLocation == inputs.DirectoryLocation);
        var applied = attempt.Applied.Where(a => a.Value.Changed).OrderBy(a => a.Key).Select(a => a.Value).ToList();
        List<AppliedOperation>? present = null;
        if (here)
        {
            present = applied.Where(a => inputs.InEffect!(a.Operation)).ToList();
            evidence["inEffect"] = present.Select(a => (object?)a.Operation.ToString()).Take(SampleSize).ToList();
            evidence["inEffectCount"] = present.Count;
        }
        else
        {
            evidence["inEffect"] = "not checked: applied to another directory";
        }

        evidence["operations"] = applied.Count;
        var title = request.Title ?? request.ChangeId;
        if (present is { Count: 0 })
        {
            return new ComplianceFinding(ComplianceCheck.AccessPastEnd, ComplianceSeverity.Low, request.RequestId, title,
                $"{request.RequestId} ended {GovernanceClock.Format(end)} and was never reverted through the pipeline, but the directory no longer shows any of it: it was reverted around the pipeline.",
                evidence, hint: $"Invoke-AccessExpiry records the end of {request.RequestId} in the ledger.");
        }

        var stillThere = new HashSet<AccessOperation>((present ?? applied).Select(a => a.Operation));
        var inverses = plan.Immediate.Where(p => stillThere.Contains(p.Value.Operation)).Select(p => p.Value.Inverse!).ToList();
        var change = inverses.Count == 0 ? null : new AccessChange(inverses,
            title: $"End the access of {request.RequestId}" + (request.Title is null ? string.Empty : $" ({request.Title})"),
            justification: $"Compliance audit AUD101: the time-boxed change {request.ChangeId} ended {GovernanceClock.Format(end)} and is still in effect.");
        return new ComplianceFinding(ComplianceCheck.AccessPastEnd, ComplianceCheck.AccessPastEnd.Severity, request.RequestId, title,
            $"{request.RequestId} ended {GovernanceClock.Format(end)} and is still in effect ({(present is null ? "not checked" : $"{present.Count} of {applied.Count} operation(s)")}).",
            evidence, change, $"Invoke-AccessExpiry reverts it and records it against {request.RequestId}; or pipe the Remediation to Invoke-ApprovedChange -EmergencyRevocation.");
    }

    // ---- ledger and policy ----------------------------------------------------------------------

    private static void LedgerChecks(AuditInputs inputs, List<ComplianceFinding> findings)
    {
        var policy = inputs.Policy;
        if (inputs.Verification is { } v)
        {
            if (!v.IsValid)
            {
                findings.Add(new ComplianceFinding(ComplianceCheck.LedgerIntegrity, ComplianceCheck.LedgerIntegrity.Severity, v.StoreId, v.Store,
                    $"The ledger does not verify: {v.Message}",
                    new Dictionary<string, object?>
                    {
                        ["problem"] = v.Problem,
                        ["firstBadSequence"] = v.FirstBadSequence,
                        ["problems"] = v.Problems.Take(SampleSize).Select(p => (object?)$"{p.Code} #{p.Sequence}").ToList(),
                        ["entries"] = v.Entries,
                    },
                    hint: "Run Test-GovernanceAuditLog; keep a copy of the store as evidence and investigate who could write to it."));
            }

            if (v.UnsealedEntries > 0)
            {
                findings.Add(new ComplianceFinding(ComplianceCheck.LedgerUnsealed, ComplianceCheck.LedgerUnsealed.Severity, v.StoreId, v.Store,
                    $"{v.UnsealedEntries} of {v.Entries} ledger entries come after the last signed checkpoint (#{v.LastSealedSequence}).",
                    new Dictionary<string, object?> { ["unsealed"] = v.UnsealedEntries, ["lastSealedSequence"] = v.LastSealedSequence, ["entries"] = v.Entries },
                    hint: "The next command that writes to the ledger seals them; a writer that dies between append and checkpoint leaves them unsealed."));
            }
        }

        if (policy.LedgerSigners.Count == 0)
        {
            findings.Add(new ComplianceFinding(ComplianceCheck.SignersNotPinned, ComplianceCheck.SignersNotPinned.Severity, "LedgerSigners", PolicyName(policy),
                "The policy pins no ledger signer (LedgerSigners), so the signers registered in the store are trusted: whoever can write the store can register one.",
                new Dictionary<string, object?> { ["policy"] = PolicyName(policy), ["policyFingerprint"] = policy.Fingerprint },
                hint: "List each writing machine's signer public key in the policy's LedgerSigners (docs/policy.md)."));
        }
    }

    private static void PolicyChecks(GovernancePolicy policy, List<ComplianceFinding> findings)
    {
        foreach (var rule in policy.DisabledRules)
        {
            findings.Add(new ComplianceFinding(ComplianceCheck.RuleDisabled, rule == "AG001" ? ComplianceSeverity.High : ComplianceSeverity.Medium, rule, PolicyName(policy),
                $"Exposure rule {rule} is switched off in the policy.",
                new Dictionary<string, object?> { ["rule"] = rule, ["policyFingerprint"] = policy.Fingerprint },
                hint: $"Set Rules.{rule}.Enabled = $true in the policy, or record why it is off."));
        }

        var high = policy.RequiredApprovals(RiskLevel.High);
        var critical = policy.RequiredApprovals(RiskLevel.Critical);
        if (high < 2 || critical < 2)
        {
            findings.Add(new ComplianceFinding(ComplianceCheck.SingleApproverForHigh, ComplianceCheck.SingleApproverForHigh.Severity, "RequiredApprovals", PolicyName(policy),
                $"One approval is enough for a {(high < 2 ? "High" : "Critical")} change (RequiredApprovals High = {high}, Critical = {critical}).",
                new Dictionary<string, object?> { ["high"] = high, ["critical"] = critical, ["policyFingerprint"] = policy.Fingerprint },
                hint: "Set RequiredApprovals High and Critical to 2 or more."));
        }

        if (policy.HardDenyAt("AG001") is not { } at || at > RiskLevel.Critical)
        {
            findings.Add(new ComplianceFinding(ComplianceCheck.HardDenyRemoved, ComplianceCheck.HardDenyRemoved.Severity, "HardDeny.AG001", PolicyName(policy),
                "The policy no longer blocks AG001 (sensitive data to a broad audience) outright: approvals can let it through.",
                new Dictionary<string, object?> { ["hardDeny"] = policy.HardDeny.Select(p => (object?)$"{p.Key}:{p.Value}").ToList(), ["policyFingerprint"] = policy.Fingerprint },
                hint: "Set HardDeny.AG001 = 'Critical' in the policy."));
        }
    }

    private static string PolicyName(GovernancePolicy policy) => policy.Source ?? "(built-in defaults)";
}
