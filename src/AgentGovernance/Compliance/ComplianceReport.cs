using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json;
using AgentGovernance.Ledger;

namespace AgentGovernance.Compliance;

/// <summary>
/// One run of the compliance audit: what was audited, when, and every finding (those of the previous run
/// that are gone included, as Resolved). <see cref="ReportHash"/> is the SHA-256 of its canonical JSON
/// (<c>agentgovernance/compliance-report@2</c>) and goes into the ledger.
/// </summary>
public sealed class ComplianceReport
{
    public const string Schema = "agentgovernance/compliance-report@2";

    /// <summary>The store's document slot of the reports: <c>compliance/&lt;hex of the report hash&gt;</c>.</summary>
    internal const string Slot = "compliance";

    internal ComplianceReport(DateTimeOffset auditedAt, string tenantId, string? tenantName, string directory, string policy, string policyFingerprint,
        string store, string storeId, IReadOnlyList<ComplianceFinding> findings, ComplianceRun? previous, ReconciliationResult? reconciliation = null,
        DirectoryCoverage? coverage = null)
    {
        Reconciliation = reconciliation;
        Coverage = coverage;
        AuditedAt = auditedAt;
        TenantId = tenantId;
        TenantName = tenantName;
        Directory = directory;
        Policy = policy;
        PolicyFingerprint = policyFingerprint;
        Store = store;
        StoreId = storeId;
        Findings = findings;
        Previous = previous;
        // The canonical bytes are made once and kept (not the document they come from): the store keeps them,
        // the ledger gets their hash, and -OutputPath x.json is written from them.
        _canonical = System.Text.Encoding.UTF8.GetBytes(Json.CanonicalJson.Serialize(BuildDocument()));
        ReportHash = Json.Hashing.Sha256Id(_canonical);
    }

    private readonly byte[] _canonical;

    public DateTimeOffset AuditedAt { get; }

    public string TenantId { get; }

    public string? TenantName { get; }

    public string Directory { get; }

    /// <summary>For the audit of a live session: the inventory it stood on and what was read again live; null for a snapshot.</summary>
    public DirectoryCoverage? Coverage { get; }

    public string Policy { get; }

    public string PolicyFingerprint { get; }

    public string Store { get; }

    public string StoreId { get; }

    /// <summary>Worst first; Resolved ones last.</summary>
    public IReadOnlyList<ComplianceFinding> Findings { get; }

    /// <summary>The run this one was compared with, or null for the first audit of the tenant in this store.</summary>
    public ComplianceRun? Previous { get; }

    public string ReportHash { get; }

    /// <summary>What the reconciliation with Entra's audit log read and found; null when it did not run.</summary>
    public ReconciliationResult? Reconciliation { get; }

    /// <summary>The findings that count (not Resolved), by severity.</summary>
    public int Count(ComplianceSeverity severity) => Findings.Count(f => f.Status != FindingStatus.Resolved && f.Severity == severity);

    public int Count(FindingStatus status) => Findings.Count(f => f.Status == status);

    private Dictionary<string, object?> BuildDocument() => new()
    {
        ["schema"] = Schema,
        ["auditedAt"] = GovernanceClock.Format(AuditedAt),
        ["tenant"] = new Dictionary<string, object?> { ["id"] = TenantId, ["displayName"] = TenantName },
        ["directory"] = Directory,
        ["policy"] = new Dictionary<string, object?> { ["source"] = Policy, ["fingerprint"] = PolicyFingerprint },
        ["store"] = new Dictionary<string, object?> { ["location"] = Store, ["id"] = StoreId },
        ["directoryCoverage"] = Coverage?.Document(),
        ["previous"] = Previous is null ? null : new Dictionary<string, object?>
        {
            ["sequence"] = Previous.Sequence,
            ["auditedAt"] = GovernanceClock.Format(Previous.AuditedAt),
            ["reportHash"] = Previous.ReportHash,
        },
        ["summary"] = new Dictionary<string, object?>
        {
            ["critical"] = Count(ComplianceSeverity.Critical),
            ["high"] = Count(ComplianceSeverity.High),
            ["medium"] = Count(ComplianceSeverity.Medium),
            ["low"] = Count(ComplianceSeverity.Low),
            ["info"] = Count(ComplianceSeverity.Info),
            ["new"] = Count(FindingStatus.New),
            ["persisting"] = Count(FindingStatus.Persisting),
            ["resolved"] = Count(FindingStatus.Resolved),
            ["accepted"] = Count(FindingStatus.Accepted),
        },
        ["checks"] = ComplianceCheck.All.Select(c => (object?)new Dictionary<string, object?>
        {
            ["id"] = c.Id, ["name"] = c.Name, ["category"] = c.Category, ["severity"] = c.Severity.ToString(), ["description"] = c.Description,
        }).ToList(),
        ["findings"] = Findings.Select(f => (object?)FindingDocument(f)).ToList(),
        ["reconciliation"] = Reconciliation is not { } r ? null : new Dictionary<string, object?>
        {
            ["source"] = r.Source,
            ["from"] = GovernanceClock.Format(r.From),
            ["until"] = GovernanceClock.Format(r.Until),
            ["read"] = r.Read,
            ["duplicates"] = r.Duplicates,
            ["gap"] = r.Gap,
            ["governed"] = r.Count(Compliance.ReconciliationClass.Governed),
            ["aroundPipeline"] = r.Count(Compliance.ReconciliationClass.AroundPipeline),
            ["ownIdentity"] = r.Count(Compliance.ReconciliationClass.OwnIdentity),
            ["sources"] = r.Sources.Select(x => (object?)new Dictionary<string, object?>
            {
                ["name"] = x.Name,
                ["from"] = GovernanceClock.Format(x.From),
                ["until"] = GovernanceClock.Format(x.Until),
                ["read"] = x.Problem is null,
                ["records"] = x.Read,
                ["problem"] = x.Problem,
            }).ToList(),
            ["events"] = r.Events.Select(e => (object?)new Dictionary<string, object?>
            {
                ["id"] = e.Event.Id,
                ["time"] = GovernanceClock.Format(e.Event.Time),
                ["activity"] = e.Event.Activity,
                ["source"] = e.Event.Source,
                ["initiatedBy"] = e.Event.InitiatedBy,
                ["targets"] = e.Event.Targets.Select(t => (object?)t).ToList(),
                ["class"] = e.Class.ToString(),
                ["ledgerSequence"] = e.Sequence,
            }).ToList(),
        },
    };

    private static Dictionary<string, object?> FindingDocument(ComplianceFinding f) => new()
    {
        ["id"] = f.Id,
        ["checkId"] = f.CheckId,
        ["check"] = f.Check,
        ["category"] = f.Category,
        ["severity"] = f.Severity.ToString(),
        ["status"] = f.Status.ToString(),
        ["target"] = f.Target,
        ["targetName"] = f.TargetName,
        ["message"] = f.Message,
        ["evidence"] = f.Evidence.ToDictionary(p => p.Key, p => p.Value),
        ["evidenceHash"] = f.EvidenceHash,
        ["remediation"] = f.Remediation is null ? null : JsonDocument.Parse(Changes.ChangeWriter.ToJson(f.Remediation, indented: false)).RootElement.Clone(),
        ["remediationChangeId"] = f.Remediation?.Id,
        ["remediationHint"] = f.RemediationHint,
        ["acceptance"] = f.Acceptance is not { } a ? null : new Dictionary<string, object?>
        {
            ["accepted"] = f.Status == FindingStatus.Accepted,
            ["quorum"] = a.Quorum,
            ["until"] = a.AcceptedUntil is { } until ? GovernanceClock.Format(until) : null,
            ["approvals"] = a.Approvals.Select(x => (object?)new Dictionary<string, object?>
            {
                ["approver"] = x.Approver, ["reason"] = x.Reason, ["time"] = GovernanceClock.Format(x.Time), ["expiresAt"] = GovernanceClock.Format(x.ExpiresAt), ["keyId"] = x.KeyId,
            }).ToList(),
            ["ignored"] = a.Ignored.Select(x => (object?)x).ToList(),
        },
    };

    /// <summary>The report's canonical JSON (UTF-8): what the store keeps, and what <see cref="ReportHash"/> is the SHA-256 of.</summary>
    internal byte[] CanonicalBytes() => _canonical;

    /// <summary>The id of the stored report in <see cref="Slot"/>: the hex of its hash.</summary>
    internal static string DocumentId(string reportHash) => reportHash.StartsWith("sha256:", StringComparison.Ordinal) ? reportHash.Substring(7) : reportHash;

    /// <summary>The report as indented JSON (its canonical form is what <see cref="ReportHash"/> hashes). &lt;, &gt; and &amp; are escaped, so it can sit inside HTML.</summary>
    public string ToJson()
    {
        using var buffer = new System.IO.MemoryStream();
        WriteJson(buffer);
        return System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    /// <summary>
    /// Writes <see cref="ToJson"/>'s bytes to a stream as it reads the canonical bytes, token by token: no document,
    /// no whole-report string or buffer (a 50,000-user tenant's report is some 16 MB). The tokens are re-written
    /// as <see cref="JsonDocument"/>'s WriteTo writes them (strings unescaped to UTF-8, then escaped by the writer;
    /// numbers as they are), so the file is byte for byte what parsing and indenting the canonical text gives.
    /// </summary>
    internal void WriteJson(System.IO.Stream stream)
    {
        var reader = new Utf8JsonReader(_canonical, new JsonReaderOptions { MaxDepth = 256 });
        using var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, MaxDepth = 256 });
        byte[]? scratch = null;
        ReadOnlySpan<byte> Text(ref Utf8JsonReader r)
        {
            if (!r.ValueIsEscaped)
            {
                return r.ValueSpan;
            }

            if (scratch is null || scratch.Length < r.ValueSpan.Length)
            {
                scratch = new byte[Math.Max(256, r.ValueSpan.Length)];
            }

            return scratch.AsSpan(0, r.CopyString(scratch));
        }

        while (reader.Read())
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.StartObject: writer.WriteStartObject(); break;
                case JsonTokenType.EndObject: writer.WriteEndObject(); break;
                case JsonTokenType.StartArray: writer.WriteStartArray(); break;
                case JsonTokenType.EndArray: writer.WriteEndArray(); break;
                case JsonTokenType.PropertyName: writer.WritePropertyName(Text(ref reader)); break;
                case JsonTokenType.String: writer.WriteStringValue(Text(ref reader)); break;
                case JsonTokenType.Number when reader.TryGetInt64(out var whole): writer.WriteNumberValue(whole); break;
                case JsonTokenType.Number:
                    // A fraction or exponent (none in today's report): written as the document writes it, its text as it is.
                    using (var number = JsonDocument.Parse(reader.ValueSpan.ToArray()))
                    {
                        number.WriteTo(writer);
                    }

                    break;
                case JsonTokenType.True: writer.WriteBooleanValue(true); break;
                case JsonTokenType.False: writer.WriteBooleanValue(false); break;
                case JsonTokenType.Null: writer.WriteNullValue(); break;
            }

            if (writer.BytesPending > 1 << 16)
            {
                writer.Flush();
            }
        }

        writer.Flush();
        stream.WriteByte((byte)'\n');
    }

    private string? Cursor(string source, DateTimeOffset? previous) =>
        Reconciliation?.Sources.FirstOrDefault(x => x.Name == source && x.Problem is null) is { } read ? GovernanceClock.Format(read.Until)
        : previous is { } through ? GovernanceClock.Format(through) : null;

    /// <summary>The ledger entry of this run: the report's hash, the counts, and each finding's id, severity, status and evidence hash.</summary>
    internal LedgerEvent ToLedgerEvent(string actor) => new(LedgerEvents.ComplianceAudited, actor, null, null, new Dictionary<string, object?>
    {
        ["summary"] = $"Compliance audit of {TenantId}: {Count(ComplianceSeverity.Critical)} Critical, {Count(ComplianceSeverity.High)} High, {Count(ComplianceSeverity.Medium)} Medium, " +
            $"{Count(ComplianceSeverity.Low)} Low, {Count(ComplianceSeverity.Info)} Info; {Count(FindingStatus.New)} new, {Count(FindingStatus.Resolved)} resolved",
        ["tenantId"] = TenantId,
        ["reportHash"] = ReportHash,
        ["reportDocument"] = Slot + "/" + DocumentId(ReportHash),
        ["policyFingerprint"] = PolicyFingerprint,
        ["auditedAt"] = GovernanceClock.Format(AuditedAt),
        ["previousSequence"] = Previous?.Sequence,
        // Each source's cursor moves on only when it was read: what a failed read missed is read next time.
        ["reconciledThrough"] = Cursor(DirectoryAuditEvent.DirectoryAudits, Previous?.ReconciledThrough),
        ["sharingReconciledThrough"] = Cursor(DirectoryAuditEvent.AuditLogQuery, Previous?.SharingReconciledThrough),
        ["findings"] = Findings.Where(f => f.Status != FindingStatus.Resolved).Select(f => (object?)new Dictionary<string, object?>
        {
            ["id"] = f.Id,
            ["severity"] = f.Severity.ToString(),
            ["status"] = f.Status.ToString(),
            ["evidenceHash"] = f.EvidenceHash,
            ["message"] = f.Message,
        }).ToList(),
        ["resolved"] = Findings.Where(f => f.Status == FindingStatus.Resolved).Select(f => (object?)f.Id).ToList(),
    });
}
