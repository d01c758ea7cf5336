using System;
using System.Collections.Generic;
using System.Text;
using System.Text.Json;
using AgentGovernance.Json;

namespace AgentGovernance.Approval;

[Newtonsoft.Json.JsonConverter(typeof(Newtonsoft.Json.Converters.StringEnumConverter))]
public enum DecisionKind
{
    Approve,
    Deny,
}

/// <summary>
/// A signed decision (<c>agentgovernance/approval-decision@1</c>): a statement naming the request, its
/// hash, the change id and the report hash the approver saw, the decision, the approver, the time and
/// a comment, signed with the approver's private key over <c>"agentgovernance/decision@1\n"</c> and the
/// statement's canonical JSON.
/// </summary>
public sealed class ApprovalDecision
{
    internal const string Schema = "agentgovernance/approval-decision@1";
    private static readonly byte[] Domain = Encoding.UTF8.GetBytes("agentgovernance/decision@1\n");

    private ApprovalDecision(string requestId, string requestHash, string changeId, string reportHash, DecisionKind decision, string approver,
        DateTimeOffset time, string? comment, string keyId, string algorithm, byte[] signature, byte[] document)
    {
        RequestId = requestId;
        RequestHash = requestHash;
        ChangeId = changeId;
        ReportHash = reportHash;
        Decision = decision;
        Approver = approver;
        Time = time;
        Comment = comment;
        KeyId = keyId;
        Algorithm = algorithm;
        Signature = signature;
        Document = document;
        Hash = Hashing.Sha256Id(document);
        DecisionId = "dec-" + Hash.Substring(7, 20);
    }

    public string DecisionId { get; }

    public string RequestId { get; }

    public string RequestHash { get; }

    public string ChangeId { get; }

    public string ReportHash { get; }

    public DecisionKind Decision { get; }

    /// <summary>Who decided, as the statement names them (the policy's approver id).</summary>
    public string Approver { get; }

    public DateTimeOffset Time { get; }

    public string? Comment { get; }

    public string KeyId { get; }

    public string Algorithm { get; }

    /// <summary><c>sha256:</c> of the stored document; the ledger records it.</summary>
    public string Hash { get; }

    internal byte[] Signature { get; }

    internal byte[] Document { get; }

    internal static ApprovalDecision Sign(SigningKey key, ApprovalRequest request, DecisionKind decision, string approver, DateTimeOffset time, string? comment) =>
        Sign(key, request.RequestId, request.RequestHash, request.ChangeId, request.ReportHash, decision, approver, time, comment);

    internal static ApprovalDecision Sign(SigningKey key, string requestId, string requestHash, string changeId, string reportHash, DecisionKind decision,
        string approver, DateTimeOffset time, string? comment)
    {
        var statement = Statement(requestId, requestHash, changeId, reportHash, decision, approver, time, comment);
        var document = Encoding.UTF8.GetBytes(SignedEnvelope.Seal(Schema, Domain, key, statement));
        return Parse(document);
    }

    /// <summary>Reads a stored decision; FormatException when it is not one.</summary>
    internal static ApprovalDecision Parse(byte[] document)
    {
        try
        {
            using var doc = JsonDocument.Parse(document);
            var (s, keyId, algorithm, signature) = SignedEnvelope.Open(doc.RootElement, Schema, "not an approval decision");
            var decision = s.GetProperty("decision").GetString() switch
            {
                "approve" => DecisionKind.Approve,
                "deny" => DecisionKind.Deny,
                var other => throw new FormatException($"'{other}' is not a decision"),
            };
            if (!GovernanceClock.TryParse(s.GetProperty("time").GetString(), out var time))
            {
                throw new FormatException("the time is not an ISO 8601 UTC time");
            }

            return new ApprovalDecision(
                s.GetProperty("requestId").GetString()!, s.GetProperty("requestHash").GetString()!, s.GetProperty("changeId").GetString()!,
                s.GetProperty("reportHash").GetString()!, decision, s.GetProperty("approver").GetString()!, time,
                s.TryGetProperty("comment", out var c) ? c.GetString() : null, keyId, algorithm, signature, document);
        }
        catch (Exception e) when (e is JsonException || e is KeyNotFoundException || e is InvalidOperationException)
        {
            throw new FormatException(e.Message, e);
        }
    }

    /// <summary>Whether the signature is <paramref name="key"/>'s over this decision's own statement.</summary>
    internal bool VerifiedBy(PublicKey key) =>
        SignedEnvelope.Verifies(key, KeyId, Algorithm, Domain, Statement(RequestId, RequestHash, ChangeId, ReportHash, Decision, Approver, Time, Comment), Signature);

    private static Dictionary<string, object?> Statement(string requestId, string requestHash, string changeId, string reportHash, DecisionKind decision,
        string approver, DateTimeOffset time, string? comment)
    {
        var statement = new Dictionary<string, object?>
        {
            ["requestId"] = requestId,
            ["requestHash"] = requestHash,
            ["changeId"] = changeId,
            ["reportHash"] = reportHash,
            ["decision"] = decision == DecisionKind.Approve ? "approve" : "deny",
            ["approver"] = approver,
            ["time"] = GovernanceClock.Format(time),
        };
        if (comment is not null)
        {
            statement["comment"] = comment;
        }

        return statement;
    }

    public override string ToString() => $"{Decision} by {Approver} at {GovernanceClock.Format(Time)}";
}
