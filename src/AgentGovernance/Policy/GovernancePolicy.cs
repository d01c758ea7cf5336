using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Linq;
using AgentGovernance.Approval;
using AgentGovernance.Changes;
using AgentGovernance.Directory;
using AgentGovernance.Exposure;

namespace AgentGovernance.Policy;

/// <summary>
/// The governance policy in force: what counts as sensitive, which exposure rules run and with which
/// thresholds, what policy blocks outright, how many approvals each risk level needs, and which
/// identities are agents. Immutable; read one with <see cref="PolicyReader"/>.
/// </summary>
public sealed class GovernancePolicy
{
    // Declared before Default: static initializers run in textual order.
    private static readonly ReadOnlyCollection<string> RuleIds = new(new[]
    {
        "AG001", "AG002", "AG003", "AG004", "AG005", "AG006", "AG007", "AG008", "AG009", "AG010",
    });

    private readonly HashSet<string> _disabled;
    private readonly Dictionary<string, RiskLevel> _hardDeny;
    private readonly int[] _approvals;
    private readonly HashSet<string> _agents;
    private readonly ApprovalSettings _approval;
    private string? _fingerprint;

    internal GovernancePolicy(
        string? source,
        Sensitivity sensitiveFrom,
        IEnumerable<string> disabledRules,
        int broadAudiencePercent,
        int manyPrincipalsThreshold,
        int personalDataCriticalAbove,
        IEnumerable<KeyValuePair<string, RiskLevel>> hardDeny,
        IReadOnlyList<int> requiredApprovals,
        IEnumerable<string> agentIdentities,
        ApprovalSettings? approval = null)
    {
        if (requiredApprovals.Count != RiskLevelCount)
        {
            throw new ArgumentException($"Expected {RiskLevelCount} approval counts, one per risk level.", nameof(requiredApprovals));
        }

        Source = source;
        SensitiveFrom = sensitiveFrom;
        BroadAudiencePercent = broadAudiencePercent;
        ManyPrincipalsThreshold = manyPrincipalsThreshold;
        PersonalDataCriticalAbove = personalDataCriticalAbove;

        _disabled = new HashSet<string>(disabledRules.Select(CanonicalRuleId), StringComparer.Ordinal);
        DisabledRules = new ReadOnlyCollection<string>(_disabled.OrderBy(id => id, StringComparer.Ordinal).ToArray());

        _hardDeny = new Dictionary<string, RiskLevel>(StringComparer.Ordinal);
        foreach (var pair in hardDeny)
        {
            _hardDeny[CanonicalRuleId(pair.Key)] = pair.Value;
        }

        var sorted = new SortedDictionary<string, RiskLevel>(_hardDeny, StringComparer.Ordinal);
        HardDeny = new ReadOnlyDictionary<string, RiskLevel>(sorted);

        _approvals = requiredApprovals.ToArray();

        var agents = agentIdentities.ToArray();
        AgentIdentities = new ReadOnlyCollection<string>(agents);
        _agents = new HashSet<string>(agents, StringComparer.OrdinalIgnoreCase);
        _approval = approval ?? ApprovalSettings.Default;
    }

    internal const int RiskLevelCount = 5;

    /// <summary>The built-in policy: what an empty policy file means.</summary>
    public static GovernancePolicy Default { get; } = new(
        source: null,
        sensitiveFrom: Sensitivity.Confidential,
        disabledRules: Array.Empty<string>(),
        broadAudiencePercent: 10,
        manyPrincipalsThreshold: 50,
        personalDataCriticalAbove: 50,
        hardDeny: new[] { new KeyValuePair<string, RiskLevel>("AG001", RiskLevel.Critical) },
        requiredApprovals: new[] { 1, 1, 1, 2, 2 },
        agentIdentities: Array.Empty<string>());

    /// <summary>The exposure rule ids a policy can configure, AG001 to AG010.</summary>
    public static IReadOnlyList<string> KnownRuleIds => RuleIds;

    /// <summary>Full path of the file this policy was read from; null for <see cref="Default"/> and parsed text.</summary>
    public string? Source { get; }

    /// <summary>Resources labelled at or above this sensitivity are sensitive.</summary>
    public Sensitivity SensitiveFrom { get; }

    /// <summary>AG002 fires when more than this percentage of enabled users newly reach a sensitive resource (1 to 100).</summary>
    public int BroadAudiencePercent { get; }

    /// <summary>AG003 fires when more than this many principals newly gain access (at least 1).</summary>
    public int ManyPrincipalsThreshold { get; }

    /// <summary>AG005 is Critical when more than this many principals newly reach personal data (at least 1).</summary>
    public int PersonalDataCriticalAbove { get; }

    /// <summary>Rule ids switched off by the policy, ordinal-sorted.</summary>
    public IReadOnlyList<string> DisabledRules { get; }

    /// <summary>Rule id to the lowest severity at which a finding of that rule blocks the change; ordinal-sorted by rule id.</summary>
    public IReadOnlyDictionary<string, RiskLevel> HardDeny { get; }

    /// <summary>Extra identities (principal ids or user principal names) that are agents, as the policy lists them.</summary>
    public IReadOnlyList<string> AgentIdentities { get; }

    /// <summary>Who may approve or deny changes, and the public keys their signed decisions must verify against.</summary>
    public IReadOnlyList<PolicyApprover> Approvers => _approval.Approvers;

    /// <summary>How long an approval request stays open, as ISO 8601 (P1D, as the policy file spells it); decisions after that do not count.</summary>
    public string ApprovalExpiry => IsoDuration.Format(_approval.ApprovalExpiry);

    /// <summary>The longest duration a time-boxed change may ask for, as ISO 8601 (P30D).</summary>
    public string MaxDuration => IsoDuration.Format(_approval.MaxDuration);

    /// <summary>
    /// <see cref="ApprovalExpiry"/> as a TimeSpan. Internal, so that ConvertTo-Json writes the duration once,
    /// as ISO 8601, not field by field; PowerShell reads it as the hidden ApprovalExpiryTimeSpan (Display.ViewMembers).
    /// </summary>
    internal TimeSpan ApprovalExpiryTimeSpan => _approval.ApprovalExpiry;

    /// <summary><see cref="MaxDuration"/> as a TimeSpan (PowerShell: the hidden MaxDurationTimeSpan).</summary>
    internal TimeSpan MaxDurationTimeSpan => _approval.MaxDuration;

    /// <summary>How many approvals a break-glass request needs beyond what its risk level needs.</summary>
    public int BreakGlassExtraApprovals => _approval.BreakGlassExtraApprovals;

    /// <summary>Whether changes that only reduce access (revoke, remove member, undo, expiry) may be applied without approval.</summary>
    public bool EmergencyRevocation => _approval.EmergencyRevocation;

    /// <summary>Public keys trusted to sign ledger checkpoints; empty means the signers registered in the store are trusted (and reported as unpinned).</summary>
    public IReadOnlyList<PublicKey> LedgerSigners => _approval.LedgerSigners;

    /// <summary>
    /// Whether Request-HumanApproval accepts a requester the directory does not know. Off by default:
    /// an unknown requester could be anyone, so S2 could not tell them from an approver.
    /// </summary>
    public bool AllowUnresolvedRequester => _approval.AllowUnresolvedRequester;

    /// <summary>The default of <see cref="IncompleteCoverageRisk"/>.</summary>
    public const RiskLevel DefaultIncompleteCoverageRisk = RiskLevel.High;

    /// <summary>
    /// The least risk of a change that can widen access when the preview could not see everything it
    /// reaches (report Coverage not Complete). Policy key IncompleteCoverageRisk, Low to Critical; default High.
    /// </summary>
    public RiskLevel IncompleteCoverageRisk { get; internal set; } = DefaultIncompleteCoverageRisk;

    /// <summary>The default of <see cref="InventoryMaxAge"/>: one day.</summary>
    public static TimeSpan DefaultInventoryMaxAge => TimeSpan.FromDays(1); // a property: GovernancePolicy.Default is built before static fields declared below it

    /// <summary>
    /// How old a permission inventory may be before a live preview that looks in it is Partial (items shared
    /// since the crawl are not in it). Policy key Inventory.MaxAge, an ISO 8601 duration PT1M to P30D; default P1D.
    /// </summary>
    public string InventoryMaxAge => IsoDuration.Format(InventoryMaxAgeTimeSpan);

    /// <summary><see cref="InventoryMaxAge"/> as a TimeSpan (internal, as <see cref="ApprovalExpiryTimeSpan"/>).</summary>
    internal TimeSpan InventoryMaxAgeTimeSpan { get; set; } = DefaultInventoryMaxAge;

    /// <summary>
    /// <c>sha256:</c> of every setting in canonical form: two policies with the same fingerprint decide
    /// alike, whatever their files' comments or spelling. Requests record it.
    /// </summary>
    public string Fingerprint => _fingerprint ??= Json.CanonicalJson.Hash(new Dictionary<string, object?>
    {
        ["sensitiveFrom"] = SensitiveFrom.ToString(),
        ["disabledRules"] = DisabledRules.ToList<object?>(),
        ["broadAudiencePercent"] = BroadAudiencePercent,
        ["manyPrincipalsThreshold"] = ManyPrincipalsThreshold,
        ["personalDataCriticalAbove"] = PersonalDataCriticalAbove,
        ["hardDeny"] = HardDeny.ToDictionary(p => p.Key, p => (object?)p.Value.ToString()),
        ["requiredApprovals"] = _approvals.Select(a => (object?)a).ToList(),
        ["agentIdentities"] = AgentIdentities.Select(a => (object?)a.ToLowerInvariant()).OrderBy(a => (string)a!, StringComparer.Ordinal).ToList(),
        ["approvers"] = Approvers.Select(a => (object?)new Dictionary<string, object?>
        {
            ["id"] = a.Id.ToLowerInvariant(),
            ["keys"] = a.Keys.Select(k => (object?)k.KeyId).ToList(),
            ["breakGlass"] = a.BreakGlass,
        }).ToList(),
        ["approvalExpiry"] = (long)ApprovalExpiryTimeSpan.TotalSeconds,
        ["maxDuration"] = (long)MaxDurationTimeSpan.TotalSeconds,
        ["breakGlassExtraApprovals"] = BreakGlassExtraApprovals,
        ["emergencyRevocation"] = EmergencyRevocation,
        ["ledgerSigners"] = LedgerSigners.Select(k => (object?)k.KeyId).ToList(),
        ["allowUnresolvedRequester"] = AllowUnresolvedRequester,
    }.With(IncompleteCoverageRisk != DefaultIncompleteCoverageRisk, "incompleteCoverageRisk", IncompleteCoverageRisk.ToString())
     .With(InventoryMaxAgeTimeSpan != DefaultInventoryMaxAge, "inventoryMaxAge", (long)InventoryMaxAgeTimeSpan.TotalSeconds));

    /// <summary>
    /// Where approvers and requesters hear about requests (Teams, mail). Not part of <see cref="Fingerprint"/>:
    /// who is told does not change what is decided.
    /// </summary>
    public Notifications.NotificationSettings Notifications { get; internal set; } = AgentGovernance.Notifications.NotificationSettings.None;

    /// <summary>The approver the policy names by this identity (case-insensitive), or null.</summary>
    public PolicyApprover? FindApprover(string identity) =>
        Approvers.FirstOrDefault(a => string.Equals(a.Id, identity, StringComparison.OrdinalIgnoreCase));

    /// <summary>The approver one of whose keys has this key id, or null.</summary>
    public PolicyApprover? FindApproverByKey(string keyId) =>
        Approvers.FirstOrDefault(a => a.Keys.Any(k => k.KeyId == keyId));

    public bool IsSensitive(Sensitivity sensitivity) => sensitivity >= SensitiveFrom;

    /// <summary>Whether the rule runs. Throws for an id that is not a known rule, so a typo never reads as "off".</summary>
    public bool IsRuleEnabled(string ruleId) => !_disabled.Contains(CanonicalRuleId(ruleId));

    /// <summary>The lowest severity at which a finding of the rule blocks the change outright; null when it never does.</summary>
    public RiskLevel? HardDenyAt(string ruleId) =>
        _hardDeny.TryGetValue(CanonicalRuleId(ruleId), out var level) ? level : null;

    /// <summary>How many distinct approvals a change of this risk level needs.</summary>
    public int RequiredApprovals(RiskLevel level)
    {
        var index = (int)level;
        if (index < 0 || index >= _approvals.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(level), level, "Not a risk level.");
        }

        return _approvals[index];
    }

    /// <summary>Whether the policy lists this principal id or user principal name as an agent (case-insensitive).</summary>
    public bool IsListedAgent(string identity)
    {
        if (identity is null)
        {
            throw new ArgumentNullException(nameof(identity));
        }

        return _agents.Contains(identity);
    }

    internal GovernancePolicy WithSource(string? source) => new(
        source, SensitiveFrom, _disabled, BroadAudiencePercent, ManyPrincipalsThreshold, PersonalDataCriticalAbove,
        _hardDeny, _approvals, AgentIdentities, _approval)
    {
        Notifications = Notifications,
    };

    /// <summary>The canonical spelling of a known rule id (matched case-insensitively), or null.</summary>
    internal static string? FindRuleId(string ruleId) =>
        RuleIds.FirstOrDefault(id => string.Equals(id, ruleId, StringComparison.OrdinalIgnoreCase));

    private static string CanonicalRuleId(string ruleId)
    {
        if (ruleId is null)
        {
            throw new ArgumentNullException(nameof(ruleId));
        }

        return FindRuleId(ruleId)
            ?? throw new ArgumentException($"'{ruleId}' is not a known rule id; known ids are {string.Join(", ", RuleIds)}.", nameof(ruleId));
    }
}

internal static class FingerprintExtensions
{
    /// <summary>Adds a setting only when it differs from its default, so policies written before it keep their fingerprint.</summary>
    public static Dictionary<string, object?> With(this Dictionary<string, object?> d, bool add, string key, object? value)
    {
        if (add) d[key] = value;
        return d;
    }
}
