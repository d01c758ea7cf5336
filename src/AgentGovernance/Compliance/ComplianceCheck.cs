using System.Collections.Generic;
using System.Linq;

namespace AgentGovernance.Compliance;

/// <summary>A check of the compliance audit: a stable id and name, what it looks at, and its usual severity.</summary>
public sealed class ComplianceCheck
{
    private ComplianceCheck(string id, string name, string category, ComplianceSeverity severity, string description)
    {
        Id = id;
        Name = name;
        Category = category;
        Severity = severity;
        Description = description;
    }

    public string Id { get; }

    public string Name { get; }

    public string Category { get; }

    /// <summary>The severity a finding of this check has unless its description says when it is higher.</summary>
    public ComplianceSeverity Severity { get; }

    public string Description { get; }

    public override string ToString() => $"{Id} {Name}";

    internal static readonly ComplianceCheck TenantWideAudience = new("AUD001", "TenantWideAudience", "Exposure", ComplianceSeverity.High,
        "A sensitive resource is granted to everyone or everyoneExceptExternal (an organization link), or is connected to a Public group. Critical when HighlyConfidential or personal data.");
    internal static readonly ComplianceCheck AnonymousLink = new("AUD002", "AnonymousLink", "Exposure", ComplianceSeverity.Critical,
        "A sensitive resource is granted to anyone (an anonymous link).");
    internal static readonly ComplianceCheck GuestAccess = new("AUD003", "GuestAccess", "Exposure", ComplianceSeverity.Medium,
        "Guests reach a sensitive resource through a grant or a group. High when HighlyConfidential or personal data.");
    internal static readonly ComplianceCheck AgentAccess = new("AUD004", "AgentAccess", "Exposure", ComplianceSeverity.High,
        "Agent identities (isAgent in the directory, or the policy's AgentIdentities) reach a sensitive resource.");
    internal static readonly ComplianceCheck PersonalDataBreadth = new("AUD005", "PersonalDataBreadth", "Exposure", ComplianceSeverity.High,
        "More principals reach a resource with personal data than the policy's PersonalDataCriticalAbove (AG005's threshold).");
    internal static readonly ComplianceCheck PrivilegedRoleHolder = new("AUD006", "PrivilegedRoleHolder", "Exposure", ComplianceSeverity.High,
        "A directory role (resource type directoryRole) is held by a guest or an agent identity, directly or through a group.");
    internal static readonly ComplianceCheck NoOwner = new("AUD007", "NoOwner", "Exposure", ComplianceSeverity.Medium,
        "A sensitive resource has no owner, so nobody answers for who can reach it.");
    internal static readonly ComplianceCheck OwnerNotAccountable = new("AUD008", "OwnerNotAccountable", "Exposure", ComplianceSeverity.High,
        "An owner of a sensitive resource is a guest, a disabled account or an agent identity.");
    internal static readonly ComplianceCheck AccessPastEnd = new("AUD101", "AccessPastEnd", "Lifecycle", ComplianceSeverity.High,
        "A time-boxed change the ledger says was applied is past its end and was not reverted; the directory still shows what it granted. Low when the directory no longer shows any of it (reverted around the pipeline).");
    internal static readonly ComplianceCheck ApprovalsExpired = new("AUD102", "ApprovalsExpired", "Lifecycle", ComplianceSeverity.Low,
        "Approval requests passed their expiry without being applied (one finding for all of them; those that had their quorum are named first).");
    internal static readonly ComplianceCheck ApplyUnfinished = new("AUD103", "ApplyUnfinished", "Lifecycle", ComplianceSeverity.High,
        "An apply or undo started and has no outcome in the ledger: it is running now, or its process died.");
    internal static readonly ComplianceCheck RequestTampered = new("AUD104", "RequestTampered", "Lifecycle", ComplianceSeverity.Critical,
        "A stored request is not the request that was opened (edited, or never recorded in the ledger).");
    internal static readonly ComplianceCheck AppliedChangeUndone = new("AUD105", "AppliedChangeUndone", "Lifecycle", ComplianceSeverity.Medium,
        "A change the ledger says was applied (not undone, not past its end) is no longer in effect in the directory, and no later operation of the ledger touched what it changed: it was reverted around the pipeline.");
    internal static readonly ComplianceCheck LedgerIntegrity = new("AUD201", "LedgerIntegrity", "Ledger", ComplianceSeverity.Critical,
        "The ledger does not verify (Test-GovernanceAuditLog names the first bad entry).");
    internal static readonly ComplianceCheck LedgerUnsealed = new("AUD202", "LedgerUnsealed", "Ledger", ComplianceSeverity.Medium,
        "Ledger entries after the last signed checkpoint: nothing outside the chain vouches for them yet.");
    internal static readonly ComplianceCheck SignersNotPinned = new("AUD203", "SignersNotPinned", "Ledger", ComplianceSeverity.High,
        "The policy lists no LedgerSigners, so whoever can write the store can register a ledger signer of their own.");
    internal static readonly ComplianceCheck RuleDisabled = new("AUD301", "RuleDisabled", "Policy", ComplianceSeverity.Medium,
        "An exposure rule is switched off in the policy. High for AG001 (sensitive data to a broad audience).");
    internal static readonly ComplianceCheck SingleApproverForHigh = new("AUD302", "SingleApproverForHigh", "Policy", ComplianceSeverity.High,
        "The policy lets one approval apply a High or Critical change.");
    internal static readonly ComplianceCheck HardDenyRemoved = new("AUD303", "HardDenyRemoved", "Policy", ComplianceSeverity.High,
        "The policy no longer blocks AG001 outright at Critical (HardDeny).");

    internal static readonly ComplianceCheck ChangedAroundPipeline = new("AUD401", "ChangedAroundPipeline", "Reconciliation", ComplianceSeverity.High,
        "An access-changing event of Entra's audit log (member, owner, role, app role assignment, consent, group visibility) matches no apply or revert operation of the ledger by target and time: it was made around the pipeline.");
    internal static readonly ComplianceCheck OwnIdentityAroundPipeline = new("AUD402", "OwnIdentityAroundPipeline", "Reconciliation", ComplianceSeverity.Critical,
        "An access-changing event made by this module's own app identity (-OwnAppId) matches no operation of the ledger: someone used the module's credentials outside it, or its ledger lost entries.");
    internal static readonly ComplianceCheck ReconciliationIncomplete = new("AUD403", "ReconciliationIncomplete", "Reconciliation", ComplianceSeverity.Medium,
        "Part of the window since the last audit is older than the audit log's retention (7 days without Entra ID P1/P2, 30 with): changes made then cannot be reconciled.");
    internal static readonly ComplianceCheck ReconciliationSourceUnread = new("AUD404", "ReconciliationSourceUnread", "Reconciliation", ComplianceSeverity.Medium,
        "A log the reconciliation reads on a Graph session could not be read (Entra's directory audits, or SharePoint sharing through Purview's audit log query API: permission denied, the query failed or timed out): the changes it records are not reconciled, and its cursor does not move.");

    /// <summary>Every check, in id order.</summary>
    public static IReadOnlyList<ComplianceCheck> All { get; } = new[]
    {
        TenantWideAudience, AnonymousLink, GuestAccess, AgentAccess, PersonalDataBreadth, PrivilegedRoleHolder, NoOwner, OwnerNotAccountable,
        AccessPastEnd, ApprovalsExpired, ApplyUnfinished, RequestTampered, AppliedChangeUndone,
        LedgerIntegrity, LedgerUnsealed, SignersNotPinned,
        RuleDisabled, SingleApproverForHigh, HardDenyRemoved,
        ChangedAroundPipeline, OwnIdentityAroundPipeline, ReconciliationIncomplete, ReconciliationSourceUnread,
    }.OrderBy(c => c.Id, System.StringComparer.Ordinal).ToArray();
}
