using System;
using System.Collections.Generic;
using System.Linq;
using AgentGovernance.Changes;
using AgentGovernance.Directory;

namespace AgentGovernance.Exposure;

/// <summary>One principal whose highest role on a resource rises (gained) or falls (lost).</summary>
public sealed class AccessDelta
{
    internal AccessDelta(string resourceId, string principalId, string displayName, PrincipalType type, PrincipalKind kind, AccessRole before, AccessRole after)
    {
        ResourceId = resourceId;
        PrincipalId = principalId;
        DisplayName = displayName;
        PrincipalType = type;
        Kind = kind;
        Before = before;
        After = after;
    }

    public string ResourceId { get; }

    public string PrincipalId { get; }

    public string DisplayName { get; }

    public PrincipalType PrincipalType { get; }

    public PrincipalKind Kind { get; }

    public AccessRole Before { get; }

    public AccessRole After { get; }

    public override string ToString() => $"{PrincipalId}: {Before} -> {After}";
}

/// <summary>What a change does to one resource: who newly gains, who loses, counted by kind.</summary>
public sealed class ResourceExposure
{
    private readonly AccessSnapshot _snapshot;
    private readonly int[] _principals;
    private readonly AccessRole[] _before;
    private readonly AccessRole[] _after;
    private readonly PrincipalKind[] _kinds;
    private readonly int _gainedCount;
    private IReadOnlyList<AccessDelta>? _gained;
    private IReadOnlyList<AccessDelta>? _lost;

    internal ResourceExposure(AccessSnapshot snapshot, int resource, bool sensitive, int[] principals, AccessRole[] before, AccessRole[] after, PrincipalKind[] kinds, int gainedCount)
    {
        _snapshot = snapshot;
        Index = resource;
        _principals = principals;
        _before = before;
        _after = after;
        _kinds = kinds;
        _gainedCount = gainedCount;
        ResourceId = snapshot.ResourceIds[resource];
        DisplayName = snapshot.ResourceNames[resource] ?? ResourceId;
        Type = snapshot.ResourceTypes[resource];
        Sensitivity = snapshot.ResourceSensitivity[resource];
        PersonalData = snapshot.ResourcePersonal[resource];
        IsSensitive = sensitive;
        for (var i = 0; i < gainedCount; i++)
        {
            switch (kinds[i])
            {
                case PrincipalKind.Member: GainedMembers++; break;
                case PrincipalKind.Guest: GainedGuests++; break;
                case PrincipalKind.ServicePrincipal: GainedServicePrincipals++; break;
                case PrincipalKind.Agent: GainedAgents++; break;
                default: GainedAnonymous = true; break;
            }
        }
    }

    internal int Index { get; }

    /// <summary>The tenant-wide audience that newly reaches the resource, if one does.</summary>
    internal string? NewAudience { get; set; }

    public string ResourceId { get; }

    public string DisplayName { get; }

    public string Type { get; }

    public Sensitivity Sensitivity { get; }

    public bool PersonalData { get; }

    /// <summary>At or above the policy's sensitive label.</summary>
    public bool IsSensitive { get; }

    public int GainedCount => _gainedCount;

    public int LostCount => _principals.Length - _gainedCount;

    public int GainedMembers { get; }

    public int GainedGuests { get; }

    public int GainedServicePrincipals { get; }

    public int GainedAgents { get; }

    /// <summary>True when anyone with a link (anonymous) newly reaches the resource.</summary>
    public bool GainedAnonymous { get; }

    /// <summary>Principals whose highest role rises. Built on first use (a tenant-wide change can list many).</summary>
    public IReadOnlyList<AccessDelta> Gained => _gained ??= Deltas(0, _gainedCount);

    /// <summary>Principals whose highest role falls.</summary>
    public IReadOnlyList<AccessDelta> Lost => _lost ??= Deltas(_gainedCount, _principals.Length);

    internal ReadOnlySpan<int> GainedIndexes => new(_principals, 0, _gainedCount);

    internal ReadOnlySpan<PrincipalKind> GainedKinds => new(_kinds, 0, _gainedCount);

    internal ReadOnlySpan<AccessRole> GainedAfter => new(_after, 0, _gainedCount);

    internal ReadOnlySpan<int> LostIndexes => new(_principals, _gainedCount, _principals.Length - _gainedCount);

    public override string ToString() => $"{ResourceId}: +{GainedCount} -{LostCount}";

    private IReadOnlyList<AccessDelta> Deltas(int from, int to)
    {
        var list = new AccessDelta[to - from];
        for (var i = from; i < to; i++)
        {
            var p = _principals[i];
            list[i - from] = new AccessDelta(ResourceId, _snapshot.PrincipalId(p), _snapshot.PrincipalName(p), _snapshot.Types[p], _kinds[i], _before[i], _after[i]);
        }

        return list;
    }
}

/// <summary>What a preview could see of what a change reaches.</summary>
public enum Coverage
{
    /// <summary>Everything the change reaches was read (always, on a snapshot file).</summary>
    Complete,

    /// <summary>Some of it could not be read; the report's CoverageReasons say what.</summary>
    Partial,

    /// <summary>Not recorded: an approval request opened by a version that did not record coverage.</summary>
    Unknown,
}

/// <summary>A policy rule that fired.</summary>
public sealed class Finding
{
    internal Finding(string ruleId, RiskLevel severity, string resourceId, string message, int count, bool hardDeny)
    {
        RuleId = ruleId;
        Severity = severity;
        ResourceId = resourceId;
        Message = message;
        Count = count;
        HardDeny = hardDeny;
    }

    public string RuleId { get; }

    public RiskLevel Severity { get; }

    public string ResourceId { get; }

    public string Message { get; }

    /// <summary>How many principals the finding is about.</summary>
    public int Count { get; }

    /// <summary>True when policy blocks the change outright because of this finding.</summary>
    public bool HardDeny { get; }

    public override string ToString() => $"{RuleId} {Severity} {ResourceId}: {Message}";
}

/// <summary>
/// What a change would do, before it is applied: per resource who newly gains or loses access,
/// the findings of the policy's rules, the risk level, whether policy blocks it, and how many
/// approvals it needs.
/// </summary>
public sealed class ExposureReport
{
    /// <summary>The RuleId of the finding that raises a widening change whose coverage is not Complete to the policy's IncompleteCoverageRisk.</summary>
    public const string CoverageRuleId = "Coverage";

    private readonly GraphState _after;

    internal ExposureReport(AccessChange change, AccessSnapshot snapshot, GraphState after, IReadOnlyList<ResourceExposure> resources,
        IReadOnlyList<Finding> findings, IReadOnlyList<string> notes, int requiredApprovals, int distinctGained, int distinctLost,
        int[] gainedByKind, DateTimeOffset assessedAt)
    {
        Change = change;
        _after = after;
        Snapshot = snapshot;
        Resources = resources;
        Findings = findings;
        Notes = notes;
        RequiredApprovals = requiredApprovals;
        PrincipalsGained = distinctGained;
        PrincipalsLost = distinctLost;
        GainedMembers = gainedByKind[(int)PrincipalKind.Member];
        GainedGuests = gainedByKind[(int)PrincipalKind.Guest];
        GainedServicePrincipals = gainedByKind[(int)PrincipalKind.ServicePrincipal];
        GainedAgents = gainedByKind[(int)PrincipalKind.Agent];
        GainedAnonymous = gainedByKind[(int)PrincipalKind.Anonymous] > 0;
        RiskLevel = findings.Count == 0 ? RiskLevel.None : findings.Max(f => f.Severity);
        Blocked = findings.Any(f => f.HardDeny);
        AssessedAt = assessedAt;
    }

    public string ChangeId => Change.Id;

    public string? Title => Change.Title;

    public AccessChange Change { get; }

    /// <summary>
    /// The snapshot the report was made on, kept for Explain and re-assessment. Internal, so a report
    /// never carries it into ConvertTo-Json; PowerShell reads it as the hidden property Snapshot
    /// (AgentGovernance.Types.ps1xml, Display.ViewMembers).
    /// </summary>
    internal AccessSnapshot Snapshot { get; }

    public RiskLevel RiskLevel { get; }

    /// <summary>True when a hard-deny rule fired: the change cannot be approved.</summary>
    public bool Blocked { get; }

    public int RequiredApprovals { get; }

    /// <summary>The rules whose findings block the change (hard-deny), sorted.</summary>
    public IReadOnlyList<string> BlockingRules => Findings.Where(f => f.HardDeny).Select(f => f.RuleId).Distinct().OrderBy(r => r, StringComparer.Ordinal).ToList();

    /// <summary>Distinct principals that newly gain (or raise) access on at least one resource.</summary>
    public int PrincipalsGained { get; }

    public int PrincipalsLost { get; }

    public int GainedMembers { get; }

    public int GainedGuests { get; }

    public int GainedServicePrincipals { get; }

    public int GainedAgents { get; }

    public bool GainedAnonymous { get; }

    public int ResourcesAffected => Resources.Count;

    public int SensitiveResourcesAffected => Resources.Count(r => r.IsSensitive && r.GainedCount > 0);

    /// <summary>Resources whose access changes, most exposed first.</summary>
    public IReadOnlyList<ResourceExposure> Resources { get; }

    /// <summary>Findings, worst first.</summary>
    public IReadOnlyList<Finding> Findings { get; }

    /// <summary>Things the preview noticed that are not findings (an operation that changes nothing, ...).</summary>
    public IReadOnlyList<string> Notes { get; }

    public DateTimeOffset AssessedAt { get; }

    /// <summary>What the preview could see: Complete (a snapshot file, or a live read that saw everything the change reaches), or Partial (see <see cref="CoverageReasons"/>).</summary>
    public Coverage Coverage { get; internal set; } = Coverage.Complete;

    /// <summary>Why coverage is not Complete: each thing the live read could not see.</summary>
    public IReadOnlyList<string> CoverageReasons { get; internal set; } = Array.Empty<string>();

    /// <summary>
    /// The role each tenant-wide audience holds on a resource before or after the change: grants to
    /// everyone, to everyoneExceptExternal (organization links; a Public connected group gives it read),
    /// and to anyone (anonymous links). What S5 compares besides the principals.
    /// </summary>
    internal (string Audience, AccessRole Role)[] AudienceRoles(ResourceExposure resource, bool after)
    {
        var state = after ? _after : new GraphState(Snapshot);
        var grants = new List<GrantEntry>();
        state.ResourceGrants(resource.Index, grants);
        AccessRole everyone = AccessRole.None, members = AccessRole.None, anyone = AccessRole.None;
        foreach (var g in grants)
        {
            switch (g.Principal)
            {
                case AccessSnapshot.EveryoneIndex: everyone = Roles.Max(everyone, g.Level); break;
                case AccessSnapshot.EveryoneExceptExternalIndex: members = Roles.Max(members, g.Level); break;
                case AccessSnapshot.AnyoneIndex: anyone = Roles.Max(anyone, g.Level); break;
            }
        }

        var connected = Snapshot.ResourceGroup[resource.Index];
        if (connected >= 0 && state.Visibility(connected) == GroupVisibility.Public)
        {
            members = Roles.Max(members, AccessRole.Read);
        }

        return new[] { (Audiences.Everyone, everyone), (Audiences.EveryoneExceptExternal, members), (Audiences.Anyone, anyone) };
    }

    /// <summary>The shortest path that would give <paramref name="principalId"/> its access to <paramref name="resourceId"/> once the change is applied.</summary>
    public AccessPath? Explain(string principalId, string resourceId) => EffectiveAccess.Explain(_after, principalId, resourceId);

    public override string ToString() => $"{RiskLevel}{(Blocked ? " (blocked)" : string.Empty)}: {PrincipalsGained} principals gain access to {ResourcesAffected} resources";
}
