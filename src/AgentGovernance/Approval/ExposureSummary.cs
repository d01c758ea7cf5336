using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json;
using AgentGovernance.Directory;
using AgentGovernance.Exposure;
using AgentGovernance.Json;

namespace AgentGovernance.Approval;

/// <summary>One resource line of an exposure summary.</summary>
public sealed class ExposureSummaryResource
{
    internal ExposureSummaryResource(string resourceId, string displayName, Sensitivity sensitivity, bool personalData, int gained, int lost,
        int members, int guests, int servicePrincipals, int agents, bool anonymous, ResourceAccess? access)
    {
        Access = access;
        ResourceId = resourceId;
        DisplayName = displayName;
        Sensitivity = sensitivity;
        PersonalData = personalData;
        Gained = gained;
        Lost = lost;
        GainedMembers = members;
        GainedGuests = guests;
        GainedServicePrincipals = servicePrincipals;
        GainedAgents = agents;
        GainedAnonymous = anonymous;
    }

    public string ResourceId { get; }

    public string DisplayName { get; }

    public Sensitivity Sensitivity { get; }

    public bool PersonalData { get; }

    public int Gained { get; }

    public int Lost { get; }

    public int GainedMembers { get; }

    public int GainedGuests { get; }

    public int GainedServicePrincipals { get; }

    public int GainedAgents { get; }

    public bool GainedAnonymous { get; }

    /// <summary>Who gains which role and which audiences widen (null in requests opened before the module recorded it).</summary>
    public ResourceAccess? Access { get; }

    public override string ToString() => $"{ResourceId}: +{Gained} -{Lost}";
}

/// <summary>One finding of an exposure summary.</summary>
public sealed class ExposureSummaryFinding
{
    internal ExposureSummaryFinding(string ruleId, RiskLevel severity, string resourceId, int count, bool hardDeny, string message)
    {
        RuleId = ruleId;
        Severity = severity;
        ResourceId = resourceId;
        Count = count;
        HardDeny = hardDeny;
        Message = message;
    }

    public string RuleId { get; }

    public RiskLevel Severity { get; }

    public string ResourceId { get; }

    public int Count { get; }

    public bool HardDeny { get; }

    public string Message { get; }

    public override string ToString() => $"{RuleId} {Severity} {ResourceId}: {Message}";
}

/// <summary>
/// The exposure report as approvers see it, in a form that is stored and hashed: the numbers, findings
/// and notes of the report, without the snapshot behind it. The request carries it and its hash, every
/// decision signs the hash, and at apply time the fresh assessment is compared with it.
/// </summary>
public sealed class ExposureSummary
{
    private ExposureSummary(JsonElement json)
    {
        Json = json;
        ChangeId = json.GetProperty("changeId").GetString()!;
        RiskLevel = (RiskLevel)Enum.Parse(typeof(RiskLevel), json.GetProperty("riskLevel").GetString()!);
        Blocked = json.GetProperty("blocked").GetBoolean();
        RequiredApprovals = json.GetProperty("requiredApprovals").GetInt32();
        PrincipalsGained = json.GetProperty("principalsGained").GetInt32();
        PrincipalsLost = json.GetProperty("principalsLost").GetInt32();
        var g = json.GetProperty("gained");
        GainedMembers = g.GetProperty("members").GetInt32();
        GainedGuests = g.GetProperty("guests").GetInt32();
        GainedServicePrincipals = g.GetProperty("servicePrincipals").GetInt32();
        GainedAgents = g.GetProperty("agents").GetInt32();
        GainedAnonymous = g.GetProperty("anonymous").GetBoolean();
        Resources = json.GetProperty("resources").EnumerateArray().Select(r => new ExposureSummaryResource(
            r.GetProperty("id").GetString()!, r.GetProperty("displayName").GetString()!,
            (Sensitivity)Enum.Parse(typeof(Sensitivity), r.GetProperty("sensitivity").GetString()!), r.GetProperty("personalData").GetBoolean(),
            r.GetProperty("gained").GetInt32(), r.GetProperty("lost").GetInt32(), r.GetProperty("members").GetInt32(), r.GetProperty("guests").GetInt32(),
            r.GetProperty("servicePrincipals").GetInt32(), r.GetProperty("agents").GetInt32(), r.GetProperty("anonymous").GetBoolean(),
            r.TryGetProperty("access", out var access) ? ResourceAccess.FromJson(access) : null)).ToList();
        Findings = json.GetProperty("findings").EnumerateArray().Select(f => new ExposureSummaryFinding(
            f.GetProperty("ruleId").GetString()!, (RiskLevel)Enum.Parse(typeof(RiskLevel), f.GetProperty("severity").GetString()!),
            f.GetProperty("resource").GetString()!, f.GetProperty("count").GetInt32(), f.GetProperty("hardDeny").GetBoolean(),
            f.GetProperty("message").GetString()!)).ToList();
        Notes = json.GetProperty("notes").EnumerateArray().Select(n => n.GetString()!).ToList();
        if (json.TryGetProperty("coverage", out var cov) && cov.ValueKind == JsonValueKind.Object
            && Enum.TryParse<Coverage>(cov.GetProperty("level").GetString(), out var level))
        {
            Coverage = level;
            CoverageReasons = cov.GetProperty("reasons").EnumerateArray().Select(r => r.GetString()!).ToList();
        }
        var d = json.GetProperty("directory");
        TenantId = d.GetProperty("tenant").GetString()!;
        DirectoryCapturedAt = d.TryGetProperty("capturedAt", out var c) ? c.GetString() : null;
        AssessedAt = GovernanceClock.TryParse(json.GetProperty("assessedAt").GetString(), out var at) ? at : default;
        Hash = CanonicalJson.Hash(json);
    }

    public string ChangeId { get; }

    public RiskLevel RiskLevel { get; }

    public bool Blocked { get; }

    public int RequiredApprovals { get; }

    public int PrincipalsGained { get; }

    public int PrincipalsLost { get; }

    public int GainedMembers { get; }

    public int GainedGuests { get; }

    public int GainedServicePrincipals { get; }

    public int GainedAgents { get; }

    public bool GainedAnonymous { get; }

    public IReadOnlyList<ExposureSummaryResource> Resources { get; }

    public IReadOnlyList<ExposureSummaryFinding> Findings { get; }

    public IReadOnlyList<string> Notes { get; }

    /// <summary>What the preview approvers saw could see; Unknown for a request opened by a version that did not record it.</summary>
    public Coverage Coverage { get; } = Coverage.Unknown;

    /// <summary>Why that coverage was not Complete.</summary>
    public IReadOnlyList<string> CoverageReasons { get; } = Array.Empty<string>();

    public string TenantId { get; }

    public string? DirectoryCapturedAt { get; }

    public DateTimeOffset AssessedAt { get; }

    /// <summary><c>sha256:</c> of the summary's canonical JSON: the report hash approvers sign.</summary>
    public string Hash { get; }

    internal JsonElement Json { get; }

    /// <summary>The summary of a report, as a value ready for canonical JSON.</summary>
    internal static Dictionary<string, object?> Describe(ExposureReport report)
    {
        var directory = new Dictionary<string, object?> { ["tenant"] = report.Snapshot.TenantId };
        if (report.Snapshot.CapturedAtText is { } captured)
        {
            directory["capturedAt"] = captured;
        }

        var access = ResourceAccess.Of(report);
        return new Dictionary<string, object?>
        {
            ["changeId"] = report.ChangeId,
            ["riskLevel"] = report.RiskLevel.ToString(),
            ["blocked"] = report.Blocked,
            ["requiredApprovals"] = report.RequiredApprovals,
            ["principalsGained"] = report.PrincipalsGained,
            ["principalsLost"] = report.PrincipalsLost,
            ["gained"] = new Dictionary<string, object?>
            {
                ["members"] = report.GainedMembers,
                ["guests"] = report.GainedGuests,
                ["servicePrincipals"] = report.GainedServicePrincipals,
                ["agents"] = report.GainedAgents,
                ["anonymous"] = report.GainedAnonymous,
            },
            ["resources"] = report.Resources.Select(r => (object?)new Dictionary<string, object?>
            {
                ["id"] = r.ResourceId,
                ["displayName"] = r.DisplayName,
                ["sensitivity"] = r.Sensitivity.ToString(),
                ["personalData"] = r.PersonalData,
                ["gained"] = r.GainedCount,
                ["lost"] = r.LostCount,
                ["members"] = r.GainedMembers,
                ["guests"] = r.GainedGuests,
                ["servicePrincipals"] = r.GainedServicePrincipals,
                ["agents"] = r.GainedAgents,
                ["anonymous"] = r.GainedAnonymous,
                ["access"] = access[r.ResourceId].ToDocument(),
            }).ToList(),
            ["findings"] = report.Findings.Select(f => (object?)new Dictionary<string, object?>
            {
                ["ruleId"] = f.RuleId,
                ["severity"] = f.Severity.ToString(),
                ["resource"] = f.ResourceId,
                ["count"] = f.Count,
                ["hardDeny"] = f.HardDeny,
                ["message"] = f.Message,
            }).ToList(),
            ["notes"] = report.Notes.Select(n => (object?)n).ToList(),
            ["coverage"] = new Dictionary<string, object?>
            {
                ["level"] = report.Coverage.ToString(),
                ["reasons"] = report.CoverageReasons.Select(r => (object?)r).ToList(),
            },
            ["directory"] = directory,
            ["assessedAt"] = GovernanceClock.Format(report.AssessedAt),
        };
    }

    internal static ExposureSummary FromReport(ExposureReport report)
    {
        using var doc = JsonDocument.Parse(CanonicalJson.Serialize(Describe(report)));
        return new ExposureSummary(doc.RootElement.Clone());
    }

    internal static ExposureSummary FromJson(JsonElement json) => new(json.Clone());

    /// <summary>The lines a person reads before approving: what changes, how bad, who gains, why.</summary>
    public string Render()
    {
        var lines = new List<string>
        {
            $"Risk {RiskLevel}{(Blocked ? " (BLOCKED by policy)" : string.Empty)}: {PrincipalsGained} principal(s) gain access, {PrincipalsLost} lose it.",
            $"Who gains: {GainedMembers} member(s), {GainedGuests} guest(s), {GainedServicePrincipals} service principal(s), {GainedAgents} agent(s)"
                + (GainedAnonymous ? ", and ANYONE WITH A LINK." : "."),
        };
        if (Coverage != Coverage.Complete)
        {
            lines.Add($"Coverage {Coverage}" + (CoverageReasons.Count > 0 ? $": the preview could not see {string.Join("; ", CoverageReasons.Take(5))}" + (CoverageReasons.Count > 5 ? $" (and {CoverageReasons.Count - 5} more)." : ".") : "."));
        }

        foreach (var r in Resources.Take(10))
        {
            lines.Add($"  {r.DisplayName} ({r.ResourceId}, {r.Sensitivity}{(r.PersonalData ? ", personal data" : string.Empty)}): +{r.Gained} -{r.Lost}");
        }

        if (Resources.Count > 10)
        {
            lines.Add($"  ... and {Resources.Count - 10} more resource(s).");
        }

        foreach (var f in Findings.Take(10))
        {
            lines.Add($"  {f.RuleId} {f.Severity}{(f.HardDeny ? " HARD-DENY" : string.Empty)}: {f.Message}");
        }

        if (Findings.Count > 10)
        {
            lines.Add($"  ... and {Findings.Count - 10} more finding(s).");
        }

        // Display names and messages come from the directory: each line shown as text, never as terminal control.
        return Display.SafeText.Lines(lines);
    }

    public override string ToString() => $"{RiskLevel}: {PrincipalsGained} principals gain access to {Resources.Count} resources";
}
