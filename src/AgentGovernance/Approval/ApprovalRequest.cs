using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Linq;
using System.Text;
using System.Text.Json;
using AgentGovernance.Changes;
using AgentGovernance.Exposure;
using AgentGovernance.Json;

namespace AgentGovernance.Approval;

[Newtonsoft.Json.JsonConverter(typeof(Newtonsoft.Json.Converters.StringEnumConverter))]
public enum ApprovalStatus
{
    /// <summary>Open: waiting for decisions.</summary>
    Pending,

    /// <summary>A quorum of valid approvals, and not yet expired.</summary>
    Approved,

    /// <summary>An eligible approver denied it.</summary>
    Denied,

    /// <summary>Its time ran out before it was used.</summary>
    Expired,

    /// <summary>The stored request is not the one that was opened (edited, or never recorded in the ledger): nothing counts.</summary>
    Invalid,

    /// <summary>An apply started and has no outcome yet: running now, or its process died (the next Invoke-ApprovedChange or Undo-ApprovedChange recovers it).</summary>
    Applying,

    /// <summary>The change is in effect (used: it cannot be applied again).</summary>
    Applied,

    /// <summary>The change was applied and then reverted, by Undo-ApprovedChange or because its time ran out.</summary>
    Undone,
}

/// <summary>An identity as a request recorded it: every name it went by, and the directory principals it resolved to.</summary>
internal sealed class RecordedIdentity
{
    public RecordedIdentity(IReadOnlyList<string> names, IReadOnlyList<string> principals)
    {
        Names = names;
        Principals = principals;
    }

    public IReadOnlyList<string> Names { get; }

    public IReadOnlyList<string> Principals { get; }
}

/// <summary>A decision as counted for a request: valid, or why not.</summary>
public sealed class DecisionCheck
{
    internal DecisionCheck(ApprovalDecision decision, string? problemId, string? problem)
    {
        Decision = decision;
        ProblemId = problemId;
        Problem = problem;
    }

    public ApprovalDecision Decision { get; }

    public string Approver => Decision.Approver;

    public DecisionKind Kind => Decision.Decision;

    public DateTimeOffset Time => Decision.Time;

    public string? Comment => Decision.Comment;

    /// <summary>True when the decision counts.</summary>
    public bool Valid => ProblemId is null;

    /// <summary>Why it does not count, as an ErrorId (SignatureInvalid, ApproverIsRequester, DecisionReplayed, ...).</summary>
    public string? ProblemId { get; }

    public string? Problem { get; }

    public override string ToString() => Valid ? Decision.ToString() : $"{Decision} (not counted: {ProblemId})";
}

/// <summary>
/// A request for human approval (<c>agentgovernance/approval-request@1</c>): bound to one change id and
/// to the hash of the exposure summary the approvers see, with the approvals it needs, who may give
/// them, who asked, and when it expires. The stored document never changes; its status is worked
/// out from the signed decisions and the ledger each time it is read.
/// </summary>
public sealed class ApprovalRequest
{
    internal const string Schema = "agentgovernance/approval-request@1";

    private ApprovalRequest(byte[] document, JsonElement root)
    {
        Document = document;
        RequestHash = Hashing.Sha256Id(document);
        RequestId = root.GetProperty("id").GetString()!;
        StoreId = root.GetProperty("store").GetString()!;
        ChangeId = root.GetProperty("changeId").GetString()!;
        Change = ChangeReader.ParseText(root.GetProperty("change").GetRawText());
        Exposure = ExposureSummary.FromJson(root.GetProperty("exposure"));
        ReportHash = root.GetProperty("reportHash").GetString()!;
        RequiredApprovals = root.GetProperty("requiredApprovals").GetInt32();
        EligibleApprovers = new ReadOnlyCollection<string>(root.GetProperty("eligibleApprovers").EnumerateArray().Select(e => e.GetString()!).ToList());
        RequestedBy = root.GetProperty("requestedBy").GetString()!;
        CreatedAt = Time(root, "createdAt");
        ExpiresAt = Time(root, "expiresAt");
        if (root.TryGetProperty("breakGlass", out var bg))
        {
            BreakGlass = true;
            BreakGlassReason = bg.GetProperty("reason").GetString();
        }

        var policy = root.GetProperty("policy");
        PolicyFingerprint = policy.GetProperty("fingerprint").GetString()!;
        PolicySource = policy.TryGetProperty("source", out var ps) ? ps.GetString() : null;
        var directory = root.GetProperty("directory");
        DirectoryKind = directory.GetProperty("kind").GetString()!;
        DirectoryLocation = directory.TryGetProperty("location", out var dl) ? dl.GetString() : null;
        var parties = new Dictionary<string, RecordedIdentity>(StringComparer.Ordinal);
        if (root.TryGetProperty("parties", out var recorded))
        {
            foreach (var party in recorded.EnumerateObject())
            {
                parties[party.Name] = new RecordedIdentity(
                    party.Value.GetProperty("names").EnumerateArray().Select(n => n.GetString()!).ToList(),
                    party.Value.GetProperty("principals").EnumerateArray().Select(n => n.GetString()!).ToList());
            }
        }

        RecordedParties = parties;
    }

    public string RequestId { get; }

    public string StoreId { get; }

    public string ChangeId { get; }

    public AccessChange Change { get; }

    public string? Title => Change.Title;

    /// <summary>What the approvers see and sign.</summary>
    public ExposureSummary Exposure { get; }

    public RiskLevel RiskLevel => Exposure.RiskLevel;

    public string ReportHash { get; }

    /// <summary><c>sha256:</c> of the stored request document; decisions sign it and the ledger records it.</summary>
    public string RequestHash { get; }

    public int RequiredApprovals { get; }

    public IReadOnlyList<string> EligibleApprovers { get; }

    public string RequestedBy { get; }

    public DateTimeOffset CreatedAt { get; }

    public DateTimeOffset ExpiresAt { get; }

    /// <summary>True when the request went through the break-glass path (the change is blocked by policy).</summary>
    public bool BreakGlass { get; }

    public string? BreakGlassReason { get; }

    public string PolicyFingerprint { get; }

    public string? PolicySource { get; }

    public string DirectoryKind { get; }

    public string? DirectoryLocation { get; }

    /// <summary>The names and directory principals of the requester and the suggester when the request was opened.</summary>
    internal IReadOnlyDictionary<string, RecordedIdentity> RecordedParties { get; }

    /// <summary>True when the policy in force is not the one the request was opened under (its fingerprint differs): it can no longer be decided or applied.</summary>
    public bool PolicyChanged { get; internal set; }

    // Worked out from decisions and the ledger when the request is read.
    public ApprovalStatus Status { get; internal set; }

    public IReadOnlyList<DecisionCheck> Decisions { get; internal set; } = Array.Empty<DecisionCheck>();

    /// <summary>Distinct eligible approvers with valid approvals.</summary>
    public IReadOnlyList<string> ApprovedBy => Decisions.Where(d => d.Valid && d.Kind == DecisionKind.Approve).Select(d => d.Approver).ToList();

    public IReadOnlyList<string> DeniedBy => Decisions.Where(d => d.Valid && d.Kind == DecisionKind.Deny).Select(d => d.Approver).ToList();

    public int Approvals => ApprovedBy.Count;

    public bool QuorumMet => Approvals >= RequiredApprovals;

    /// <summary>Why the request is Invalid, or other things found when it was read.</summary>
    public IReadOnlyList<string> Problems { get; internal set; } = Array.Empty<string>();

    /// <summary>When a time-boxed change that is applied stops being in effect (Invoke-AccessExpiry reverts it then).</summary>
    public DateTimeOffset? AccessExpiresAt => History?.LastApply is { Completed: true } a ? a.AccessExpiresAt : null;

    /// <summary>What the ledger says about the request.</summary>
    internal RequestHistory? History { get; set; }

    /// <summary>"1/2" for the default view.</summary>
    public string Quorum => $"{Approvals}/{RequiredApprovals}";

    internal byte[] Document { get; }

    internal static byte[] Build(string requestId, string storeId, AccessChange change, ExposureReport report, int requiredApprovals,
        IReadOnlyList<string> eligible, string requestedBy, DateTimeOffset createdAt, DateTimeOffset expiresAt, string? breakGlassReason,
        string policyFingerprint, string? policySource, string directoryKind, string? directoryLocation, Dictionary<string, object?>? parties = null)
    {
        using var changeJson = JsonDocument.Parse(change.ToCanonicalJson());
        var summary = ExposureSummary.Describe(report);
        var policy = new Dictionary<string, object?> { ["fingerprint"] = policyFingerprint };
        if (policySource is not null)
        {
            policy["source"] = policySource;
        }

        var directory = new Dictionary<string, object?> { ["kind"] = directoryKind };
        if (directoryLocation is not null)
        {
            directory["location"] = directoryLocation;
        }

        var doc = new Dictionary<string, object?>
        {
            ["schema"] = Schema,
            ["id"] = requestId,
            ["store"] = storeId,
            ["changeId"] = change.Id,
            ["change"] = changeJson.RootElement,
            ["exposure"] = summary,
            ["reportHash"] = CanonicalJson.Hash(summary),
            ["requiredApprovals"] = requiredApprovals,
            ["eligibleApprovers"] = eligible.Select(e => (object?)e).ToList(),
            ["requestedBy"] = requestedBy,
            ["createdAt"] = GovernanceClock.Format(createdAt),
            ["expiresAt"] = GovernanceClock.Format(expiresAt),
            ["policy"] = policy,
            ["directory"] = directory,
        };
        if (parties is not null)
        {
            doc["parties"] = parties;
        }

        if (breakGlassReason is not null)
        {
            doc["breakGlass"] = new Dictionary<string, object?> { ["reason"] = breakGlassReason };
        }

        return Encoding.UTF8.GetBytes(CanonicalJson.Serialize(doc));
    }

    /// <summary>Reads a stored request; RequestInvalid when the bytes are not a request document.</summary>
    internal static ApprovalRequest Parse(byte[] document, string where)
    {
        try
        {
            using var doc = JsonDocument.Parse(document);
            var root = doc.RootElement;
            if (root.GetProperty("schema").GetString() != Schema)
            {
                throw new FormatException("not an approval request");
            }

            var request = new ApprovalRequest(document, root);
            if (request.Change.Id != request.ChangeId || request.Exposure.Hash != request.ReportHash || request.Exposure.ChangeId != request.ChangeId)
            {
                throw new FormatException("its change, change id, exposure and report hash do not agree");
            }

            return request;
        }
        catch (Exception e) when (e is JsonException || e is KeyNotFoundException || e is InvalidOperationException || e is FormatException || e is ArgumentException || e is GovernanceException)
        {
            throw new GovernanceException("RequestTampered", GovernanceErrorKind.SecurityError, $"The stored request {where} cannot be read as a request: {e.Message}. It was edited or damaged.", where, e);
        }
    }

    public override string ToString() => $"{RequestId} {Status} {Quorum} {Title ?? ChangeId}";

    private static DateTimeOffset Time(JsonElement root, string name) =>
        GovernanceClock.TryParse(root.GetProperty(name).GetString(), out var t) ? t : throw new FormatException($"{name} is not an ISO 8601 UTC time");
}
