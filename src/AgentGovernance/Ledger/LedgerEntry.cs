using System;
using System.Collections;
using System.Collections.Generic;
using System.Collections.Specialized;
using System.Text.Json;

namespace AgentGovernance.Ledger;

/// <summary>The kinds of ledger entry. Stable names: runbooks and SIEM rules match on them.</summary>
public static class LedgerEvents
{
    public const string ChangeProposed = "ChangeProposed";
    public const string RiskAssessed = "RiskAssessed";
    public const string ApprovalRequested = "ApprovalRequested";
    public const string BreakGlassRequested = "BreakGlassRequested";
    public const string Approved = "Approved";
    public const string Denied = "Denied";
    public const string ApprovalRefused = "ApprovalRefused";
    public const string Expired = "Expired";

    /// <summary>Write-ahead intent of an apply: every operation planned, with its inverse and the state it was planned on.</summary>
    public const string ApplyStarted = "ApplyStarted";
    public const string OperationApplied = "OperationApplied";
    public const string ApplyCompleted = "ApplyCompleted";
    public const string ApplyFailed = "ApplyFailed";
    public const string OperationReverted = "OperationReverted";
    public const string ApplyRolledBack = "ApplyRolledBack";

    /// <summary>A later command found an apply or undo whose process died, and says what it found and what it does.</summary>
    public const string ApplyRecovered = "ApplyRecovered";

    /// <summary>Refused at apply time: no quorum, stale, blocked, expired, already applied.</summary>
    public const string ApplyRefused = "ApplyRefused";

    /// <summary>A change that only reduces access, applied without approval because the policy allows emergency revocation (S9).</summary>
    public const string EmergencyRevocation = "EmergencyRevocation";
    public const string UndoStarted = "UndoStarted";
    public const string UndoCompleted = "UndoCompleted";

    /// <summary>A notification was sent, or could not be (channel, recipients, content hash, status): one entry per channel tried.</summary>
    public const string NotificationSent = "NotificationSent";

    /// <summary>An agent called a tool of the MCP server (Start-AgentGovernanceMcpServer): the tool, the hash of its arguments, the outcome.</summary>
    public const string AgentToolCalled = "AgentToolCalled";

    /// <summary>A compliance audit ran (Invoke-ComplianceAudit): its report's hash, its counts, and each finding's id, severity, status and evidence hash.</summary>
    public const string ComplianceAudited = "ComplianceAudited";

    /// <summary>An approver accepted a compliance finding (Approve-ComplianceException): the signed exception document, the finding, its evidence hash, the end.</summary>
    public const string ComplianceExceptionApproved = "ComplianceExceptionApproved";

    public static IReadOnlyList<string> All { get; } = new[]
    {
        ChangeProposed, RiskAssessed, ApprovalRequested, BreakGlassRequested, Approved, Denied, ApprovalRefused, Expired,
        ApplyStarted, OperationApplied, ApplyCompleted, ApplyFailed, OperationReverted, ApplyRolledBack, ApplyRecovered, ApplyRefused,
        EmergencyRevocation, UndoStarted, UndoCompleted, NotificationSent, AgentToolCalled,
        ComplianceAudited, ComplianceExceptionApproved,
    };
}

/// <summary>An entry to append: the ledger gives it its sequence number, time and hashes.</summary>
internal sealed class LedgerEvent
{
    public LedgerEvent(string eventType, string actor, string? changeId, string? requestId, IReadOnlyDictionary<string, object?> details)
    {
        Event = eventType;
        Actor = actor;
        ChangeId = changeId;
        RequestId = requestId;
        Details = details;
    }

    public string Event { get; }

    public string Actor { get; }

    public string? ChangeId { get; }

    public string? RequestId { get; }

    public IReadOnlyDictionary<string, object?> Details { get; }
}

/// <summary>
/// One entry of the append-only audit ledger. Its <see cref="Hash"/> is the SHA-256 of its canonical
/// JSON without the hash itself, and it carries the hash of the entry before it, so editing, removing
/// or reordering any entry breaks the chain from there on.
/// </summary>
public sealed class LedgerEntry
{
    private readonly string _detailsJson;
    private OrderedDictionary? _details;

    internal LedgerEntry(long sequence, DateTimeOffset time, string eventType, string actor, string? changeId, string? requestId,
        string detailsJson, string previousHash, string hash, string? signer = null, byte[]? signature = null)
    {
        Signer = signer;
        Signature = signature;
        Sequence = sequence;
        Time = time;
        Event = eventType;
        Actor = actor;
        ChangeId = changeId;
        RequestId = requestId;
        _detailsJson = detailsJson;
        PreviousHash = previousHash;
        Hash = hash;
    }

    public long Sequence { get; }

    public DateTimeOffset Time { get; }

    public string Event { get; }

    /// <summary>Who acted: the requester, the approver, the identity that applied.</summary>
    public string Actor { get; }

    public string? ChangeId { get; }

    public string? RequestId { get; }

    /// <summary>What else the entry records, as an ordered hashtable (keys in canonical order).</summary>
    public IDictionary Details => _details ??= ToDictionary(_detailsJson);

    /// <summary>The details as canonical JSON, exactly as hashed.</summary>
    public string DetailsJson => _detailsJson;

    /// <summary>A one-line description for people (the entry's <c>summary</c> detail, if it has one).</summary>
    public string Summary => Details["summary"] as string ?? string.Empty;

    public string PreviousHash { get; }

    public string Hash { get; }

    /// <summary>The key id of the ledger signer that signed the entry (ledger@2), or null for an unsigned ledger@1 entry.</summary>
    public string? Signer { get; }

    internal byte[]? Signature { get; }

    /// <summary>Whether <paramref name="key"/> signed this entry.</summary>
    internal bool SignedBy(Approval.PublicKey key) =>
        Signature is not null && Signer == key.KeyId && key.Verify(LedgerCodec.SignedStatement(Hash), Signature);

    public override string ToString() => $"#{Sequence} {Event} {Actor} {Summary}".TrimEnd();

    private static OrderedDictionary ToDictionary(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return (OrderedDictionary)ToValue(doc.RootElement)!;
    }

    internal static object? ToValue(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => ToTable(e),
        JsonValueKind.Array => ToList(e),
        JsonValueKind.String => e.GetString(),
        JsonValueKind.Number => e.TryGetInt64(out var l) ? (object)l : e.GetDouble(),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => null,
    };

    private static OrderedDictionary ToTable(JsonElement e)
    {
        var table = new OrderedDictionary(StringComparer.OrdinalIgnoreCase);
        foreach (var p in e.EnumerateObject())
        {
            table[p.Name] = ToValue(p.Value);
        }

        return table;
    }

    private static object?[] ToList(JsonElement e)
    {
        var list = new List<object?>();
        foreach (var item in e.EnumerateArray())
        {
            list.Add(ToValue(item));
        }

        return list.ToArray();
    }
}
