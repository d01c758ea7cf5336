using System;
using System.Collections.Generic;
using System.Linq;
using AgentGovernance.Changes;

namespace AgentGovernance.Compliance;

/// <summary>How much a compliance finding matters. Ordered: a higher value is worse.</summary>
[Newtonsoft.Json.JsonConverter(typeof(Newtonsoft.Json.Converters.StringEnumConverter))]
public enum ComplianceSeverity
{
    Info = 0,
    Low = 1,
    Medium = 2,
    High = 3,
    Critical = 4,
}

/// <summary>A finding against the previous audit of the same store: first seen now, seen before, gone, or accepted as an exception.</summary>
[Newtonsoft.Json.JsonConverter(typeof(Newtonsoft.Json.Converters.StringEnumConverter))]
public enum FindingStatus
{
    New,
    Persisting,
    Resolved,
    Accepted,
}

/// <summary>
/// One thing a compliance audit found: which check, about what, how bad, the evidence (small: counts
/// and at most a few ids), and, where a change can fix it, that change, ready to pipe into
/// Request-HumanApproval or Invoke-ApprovedChange -EmergencyRevocation.
/// </summary>
public sealed class ComplianceFinding
{
    internal ComplianceFinding(ComplianceCheck check, ComplianceSeverity severity, string target, string? targetName, string message,
        IReadOnlyDictionary<string, object?> evidence, AccessChange? remediation = null, string? hint = null)
    {
        CheckId = check.Id;
        Check = check.Name;
        Category = check.Category;
        Severity = severity;
        Target = target;
        TargetName = targetName ?? target;
        Message = message;
        Evidence = new SortedDictionary<string, object?>(evidence.ToDictionary(p => p.Key, p => p.Value), StringComparer.Ordinal);
        EvidenceHash = Json.CanonicalJson.Hash(Evidence);
        Remediation = remediation;
        RemediationHint = hint ?? (remediation is null ? null
            : remediation.NarrowsOnly ? "$finding.Remediation | Invoke-ApprovedChange -EmergencyRevocation" : "$finding.Remediation | Request-HumanApproval");
    }

    /// <summary>Stable across runs: the check id and the target (<c>AUD003:site-userdata</c>).</summary>
    public string Id => CheckId + ":" + Target;

    /// <summary>The check's stable id (AUD001 ...; docs/compliance-checks.md).</summary>
    public string CheckId { get; }

    /// <summary>The check's stable name (GuestAccess ...).</summary>
    public string Check { get; }

    /// <summary>Exposure, Lifecycle, Ledger or Policy.</summary>
    public string Category { get; }

    public ComplianceSeverity Severity { get; }

    /// <summary>New, Persisting, Resolved or Accepted against the previous audit.</summary>
    public FindingStatus Status { get; internal set; } = FindingStatus.New;

    /// <summary>The resource, request, rule or store the finding is about (an id).</summary>
    public string Target { get; }

    /// <summary>The target's display name (directory text: shown through SafeText in views).</summary>
    public string TargetName { get; }

    /// <summary>What was found, in one sentence.</summary>
    public string Message { get; }

    /// <summary>What the finding rests on: counts, ids (at most <see cref="ComplianceAudit.SampleSize"/> of each), paths. Keys sorted.</summary>
    public IReadOnlyDictionary<string, object?> Evidence { get; }

    /// <summary><c>sha256:</c> of the evidence's canonical JSON: an accepted exception lapses when it changes.</summary>
    public string EvidenceHash { get; }

    /// <summary>A change that fixes the finding, or null when none can be written (a person must decide).</summary>
    public AccessChange? Remediation { get; }

    /// <summary>Whether the finding has a <see cref="Remediation"/>.</summary>
    public bool Fixable => Remediation is not null;

    /// <summary>How to use the remediation, or what to run instead when there is none.</summary>
    public string? RemediationHint { get; }

    /// <summary>The exception approvals recorded for this finding, checked now (null when none were recorded); Status is Accepted when they meet the quorum.</summary>
    public ComplianceExceptionStatus? Acceptance { get; internal set; }

    /// <summary>Who accepted the finding (Accepted only).</summary>
    public IReadOnlyList<string>? AcceptedBy => Status == FindingStatus.Accepted ? Acceptance?.AcceptedBy : null;

    /// <summary>Why, in each approver's words (Accepted only).</summary>
    public string? AcceptedReason => Status == FindingStatus.Accepted ? Acceptance?.Reason : null;

    /// <summary>Until when the exception holds (Accepted only).</summary>
    public DateTimeOffset? AcceptedUntil => Status == FindingStatus.Accepted ? Acceptance?.AcceptedUntil : null;

    public override string ToString() => $"{Id} {Severity} {Message}";
}
