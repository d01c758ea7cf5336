using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Text.Json;
using AgentGovernance.Approval;
using AgentGovernance.Exposure;
using AgentGovernance.Json;
using AgentGovernance.Ledger;
using AgentGovernance.Policy;

namespace AgentGovernance.Compliance;

/// <summary>
/// One approver's signed acceptance of a compliance finding (<c>agentgovernance/compliance-exception@1</c>):
/// a statement naming the tenant, the finding, its evidence hash and severity, the reason, the approver,
/// the time and the end, signed with the approver's key over <c>"agentgovernance/compliance-exception@1\n"</c>
/// and the statement's canonical JSON. The ledger keeps the document (<c>ComplianceExceptionApproved</c>).
/// </summary>
public sealed class ComplianceExceptionApproval
{
    internal const string Schema = "agentgovernance/compliance-exception@1";
    private static readonly byte[] Domain = Encoding.UTF8.GetBytes(Schema + "\n");

    private ComplianceExceptionApproval(string tenantId, string findingId, string evidenceHash, ComplianceSeverity severity, string reason, string approver,
        DateTimeOffset time, DateTimeOffset expiresAt, string keyId, string algorithm, byte[] signature, string document)
    {
        TenantId = tenantId;
        FindingId = findingId;
        EvidenceHash = evidenceHash;
        Severity = severity;
        Reason = reason;
        Approver = approver;
        Time = time;
        ExpiresAt = expiresAt;
        KeyId = keyId;
        Algorithm = algorithm;
        Signature = signature;
        Document = document;
    }

    public string TenantId { get; }

    /// <summary>The finding accepted (<c>AUD003:site-secret</c>).</summary>
    public string FindingId { get; }

    /// <summary>The evidence accepted: the exception lapses when the finding's evidence hash is another.</summary>
    public string EvidenceHash { get; }

    /// <summary>The finding's severity when accepted: it sets the quorum (the policy's RequiredApprovals).</summary>
    public ComplianceSeverity Severity { get; }

    public string Reason { get; }

    /// <summary>The policy's approver id.</summary>
    public string Approver { get; }

    public DateTimeOffset Time { get; }

    /// <summary>The exception lapses at this time.</summary>
    public DateTimeOffset ExpiresAt { get; }

    public string KeyId { get; }

    public string Algorithm { get; }

    internal byte[] Signature { get; }

    /// <summary>The signed document's canonical JSON, as the ledger keeps it.</summary>
    internal string Document { get; }

    internal static ComplianceExceptionApproval Sign(SigningKey key, string tenantId, string findingId, string evidenceHash, ComplianceSeverity severity,
        string reason, string approver, DateTimeOffset time, DateTimeOffset expiresAt)
    {
        var statement = Statement(tenantId, findingId, evidenceHash, severity, reason, approver, time, expiresAt);
        var document = SignedEnvelope.Seal(Schema, Domain, key, statement);
        return Parse(document);
    }

    /// <summary>Reads a document; FormatException when it is not one.</summary>
    internal static ComplianceExceptionApproval Parse(string document)
    {
        try
        {
            using var doc = JsonDocument.Parse(document);
            var (s, keyId, algorithm, signature) = SignedEnvelope.Open(doc.RootElement, Schema, "not a compliance exception");
            if (!GovernanceClock.TryParse(s.GetProperty("time").GetString(), out var time) || !GovernanceClock.TryParse(s.GetProperty("expiresAt").GetString(), out var end))
            {
                throw new FormatException("a time is not an ISO 8601 UTC time");
            }

            if (!Enum.TryParse<ComplianceSeverity>(s.GetProperty("severity").GetString(), out var severity) || !Enum.IsDefined(typeof(ComplianceSeverity), severity))
            {
                throw new FormatException("the severity is not one");
            }

            return new ComplianceExceptionApproval(
                s.GetProperty("tenantId").GetString()!, s.GetProperty("findingId").GetString()!, s.GetProperty("evidenceHash").GetString()!, severity,
                s.GetProperty("reason").GetString()!, s.GetProperty("approver").GetString()!, time, end, keyId, algorithm, signature, document);
        }
        catch (Exception e) when (e is JsonException || e is KeyNotFoundException || e is InvalidOperationException || e is ArgumentNullException)
        {
            throw new FormatException(e.Message, e);
        }
    }

    /// <summary>Whether the signature is <paramref name="key"/>'s over this document's own statement.</summary>
    internal bool VerifiedBy(PublicKey key) =>
        SignedEnvelope.Verifies(key, KeyId, Algorithm, Domain, Statement(TenantId, FindingId, EvidenceHash, Severity, Reason, Approver, Time, ExpiresAt), Signature);

    private static Dictionary<string, object?> Statement(string tenantId, string findingId, string evidenceHash, ComplianceSeverity severity, string reason,
        string approver, DateTimeOffset time, DateTimeOffset expiresAt) => new()
    {
        ["tenantId"] = tenantId,
        ["findingId"] = findingId,
        ["evidenceHash"] = evidenceHash,
        ["severity"] = severity.ToString(),
        ["reason"] = reason,
        ["approver"] = approver,
        ["time"] = GovernanceClock.Format(time),
        ["expiresAt"] = GovernanceClock.Format(expiresAt),
    };

    /// <summary>The ledger event that records this approval.</summary>
    internal LedgerEvent ToLedgerEvent(int approvals, int required) => new(LedgerEvents.ComplianceExceptionApproved, Approver, null, null, new Dictionary<string, object?>
    {
        ["summary"] = $"exception for {FindingId} approved by {Approver} until {GovernanceClock.Format(ExpiresAt)}: {approvals} of {required} approval(s){(approvals >= required ? " (quorum met)" : string.Empty)}: {Reason}",
        ["tenantId"] = TenantId,
        ["findingId"] = FindingId,
        ["evidenceHash"] = EvidenceHash,
        ["severity"] = Severity.ToString(),
        ["expiresAt"] = GovernanceClock.Format(ExpiresAt),
        ["keyId"] = KeyId,
        ["document"] = Document,
    });

    public override string ToString() => $"{FindingId} accepted by {Approver} until {GovernanceClock.Format(ExpiresAt)}";
}

/// <summary>Where a finding's acceptance stands: the approvals that count, the quorum, and until when it holds.</summary>
public sealed class ComplianceExceptionStatus
{
    internal ComplianceExceptionStatus(string findingId, IReadOnlyList<ComplianceExceptionApproval> counted, int required, IReadOnlyList<string> ignored)
    {
        FindingId = findingId;
        Approvals = counted;
        RequiredApprovals = required;
        Ignored = ignored;
        // The exception holds while a quorum of approvals holds: until the required-th latest end among them.
        AcceptedUntil = QuorumMet ? counted.Select(a => a.ExpiresAt).OrderByDescending(t => t).ElementAt(required - 1) : null;
    }

    public string FindingId { get; }

    /// <summary>The valid, unexpired approvals for the finding's present evidence, one per approver (the latest).</summary>
    public IReadOnlyList<ComplianceExceptionApproval> Approvals { get; }

    public int RequiredApprovals { get; }

    public bool QuorumMet => Approvals.Count >= RequiredApprovals;

    public DateTimeOffset? AcceptedUntil { get; }

    public IReadOnlyList<string> AcceptedBy => Approvals.Select(a => a.Approver).ToList();

    /// <summary>Each approver's reason, "approver: reason".</summary>
    public string Reason => string.Join("; ", Approvals.Select(a => $"{a.Approver}: {a.Reason}"));

    /// <summary>Why each approval recorded for the finding that does not count is ignored (bad signature, unknown key, expired, other evidence...).</summary>
    public IReadOnlyList<string> Ignored { get; }

    public string Quorum => $"{Approvals.Count}/{RequiredApprovals}";

    public override string ToString() => QuorumMet
        ? $"{FindingId} accepted by {string.Join(", ", AcceptedBy)} until {GovernanceClock.Format(AcceptedUntil!.Value)}"
        : $"{FindingId} {Quorum} approvals";
}

/// <summary>
/// The exceptions the ledger records, checked against the policy now: a recorded approval counts only when
/// its document parses, its key is one the policy lists for the approver it names, the signature verifies,
/// it is for this tenant, finding and evidence hash, and it has not expired. Quorum by the finding's
/// present severity (the policy's RequiredApprovals).
/// </summary>
internal sealed class ComplianceExceptions
{
    private readonly Dictionary<string, List<ComplianceExceptionApproval>> _byFinding = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<string>> _unreadable = new(StringComparer.Ordinal);
    private readonly GovernancePolicy _policy;
    private readonly string _tenantId;
    private readonly Identities _identities;

    public ComplianceExceptions(IEnumerable<LedgerEntry> entries, GovernancePolicy policy, string tenantId, Directory.AccessSnapshot? snapshot)
    {
        _policy = policy;
        _tenantId = tenantId;
        _identities = new Identities(snapshot, policy);
        foreach (var entry in entries)
        {
            if (entry.Event != LedgerEvents.ComplianceExceptionApproved || entry.Details["findingId"] is not string finding)
            {
                continue;
            }

            try
            {
                var approval = ComplianceExceptionApproval.Parse(entry.Details["document"] as string ?? throw new FormatException("no document"));
                Add(_byFinding, approval.FindingId, approval);
                if (approval.FindingId != finding)
                {
                    Add(_unreadable, finding, $"#{entry.Sequence}: the entry names {finding}, its document {approval.FindingId}");
                }
            }
            catch (FormatException e)
            {
                Add(_unreadable, finding, $"#{entry.Sequence}: not a compliance exception ({e.Message})");
            }
        }
    }

    private static void Add<T>(Dictionary<string, List<T>> map, string key, T value)
    {
        if (!map.TryGetValue(key, out var list))
        {
            map[key] = list = new List<T>();
        }

        list.Add(value);
    }

    /// <summary>The quorum a finding of this severity needs.</summary>
    public static int RequiredFor(GovernancePolicy policy, ComplianceSeverity severity) =>
        policy.RequiredApprovals(severity == ComplianceSeverity.Info ? RiskLevel.None : (RiskLevel)(int)severity);

    /// <summary>Why this approval does not count for a finding with this evidence, or null when it does.</summary>
    public string? Problem(ComplianceExceptionApproval a, string findingId, string evidenceHash)
    {
        var approver = _policy.FindApproverByKey(a.KeyId);
        if (approver is null)
        {
            return $"{a.Approver}: the key {a.KeyId} is not an approver key the policy lists";
        }

        if (!string.Equals(approver.Id, a.Approver, StringComparison.OrdinalIgnoreCase))
        {
            return $"{a.Approver}: signed with the key of {approver.Id}";
        }

        var key = approver.Keys.First(k => k.KeyId == a.KeyId);
        if (!a.VerifiedBy(key))
        {
            return $"{a.Approver}: the signature does not verify";
        }

        if (!string.Equals(a.TenantId, _tenantId, StringComparison.OrdinalIgnoreCase) || a.FindingId != findingId)
        {
            return $"{a.Approver}: for {a.FindingId} in {a.TenantId}";
        }

        if (a.EvidenceHash != evidenceHash)
        {
            return $"{a.Approver}: for other evidence ({a.EvidenceHash}); the finding's evidence changed since";
        }

        if (a.ExpiresAt <= GovernanceClock.UtcNow)
        {
            return $"{a.Approver}: expired {GovernanceClock.Format(a.ExpiresAt)}";
        }

        if (IsAgent(a.Approver))
        {
            return $"{a.Approver}: an agent identity cannot accept a finding";
        }

        return null;
    }

    /// <summary>An agent identity (the policy's AgentIdentities, or isAgent in the directory) never accepts a finding.</summary>
    public bool IsAgent(string approver) => _identities.IsAgent(approver);

    /// <summary>Where the acceptance of a finding with this evidence and severity stands now.</summary>
    public ComplianceExceptionStatus For(string findingId, string evidenceHash, ComplianceSeverity severity, ComplianceExceptionApproval? adding = null)
    {
        var ignored = _unreadable.TryGetValue(findingId, out var u) ? new List<string>(u) : new List<string>();
        var counted = new Dictionary<string, ComplianceExceptionApproval>(StringComparer.OrdinalIgnoreCase);
        var all = (_byFinding.TryGetValue(findingId, out var list) ? list : new List<ComplianceExceptionApproval>()).ToList();
        if (adding is not null)
        {
            all.Add(adding);
        }

        foreach (var a in all)
        {
            if (Problem(a, findingId, evidenceHash) is { } problem)
            {
                ignored.Add(problem);
                continue;
            }

            counted[a.Approver] = a; // one approver counts once: their latest approval
        }

        return new ComplianceExceptionStatus(findingId, counted.Values.ToList(), RequiredFor(_policy, severity), ignored);
    }

    /// <summary>Sets Accepted, with who, why and until when, on each New or Persisting finding a quorum of valid approvals accepts.</summary>
    public void Apply(IEnumerable<ComplianceFinding> findings)
    {
        foreach (var f in findings)
        {
            if (f.Status is not (FindingStatus.New or FindingStatus.Persisting) || (!_byFinding.ContainsKey(f.Id) && !_unreadable.ContainsKey(f.Id)))
            {
                continue;
            }

            var status = For(f.Id, f.EvidenceHash, f.Severity);
            f.Acceptance = status;
            if (status.QuorumMet)
            {
                f.Status = FindingStatus.Accepted;
            }
        }
    }
}
