using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using AgentGovernance.Approval;
using AgentGovernance.Compliance;
using AgentGovernance.Directory;
using AgentGovernance.Ledger;
using AgentGovernance.Policy;
using AgentGovernance.Providers;

namespace AgentGovernance.Commands;

/// <summary>
/// The scheduled compliance audit over the session's directory, policy and store: standing exposure,
/// access past its time, lapsed and unfinished requests, ledger integrity and weak policy. Never prompts;
/// -FailOn ends it with a terminating error a runbook can switch on.
/// </summary>
[Cmdlet(VerbsLifecycle.Invoke, "ComplianceAudit")]
[OutputType(typeof(ComplianceFinding))]
public sealed class InvokeComplianceAuditCommand : GovernanceCmdlet
{
    /// <summary>The directory to audit; the session's snapshot when left out.</summary>
    [Parameter]
    public AccessSnapshot? Snapshot { get; set; }

    /// <summary>The policy; the session's (or the built-in defaults) when left out.</summary>
    [Parameter]
    public GovernancePolicy? Policy { get; set; }

    /// <summary>Ends with the terminating error ComplianceAuditFailed when a finding (not Accepted, not Resolved) is at least this severe.</summary>
    [Parameter]
    public ComplianceSeverity FailOn { get; set; }

    /// <summary>Report files to write, by extension: .html (one self-contained page), .json (compliance-report@2), .xml (JUnit).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? OutputPath { get; set; }

    /// <summary>
    /// Reconciles with Entra's audit log read from this file: the JSON of <c>GET auditLogs/directoryAudits</c>
    /// (one response, or an array of responses: the pages) or the Entra portal's JSON download.
    /// </summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? AuditLogPath { get; set; }

    /// <summary>This module's own app identities (the runbook's app registration or managed identity): their changes without a ledger entry are AUD402.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? OwnAppId { get; set; }

    /// <summary>How long the tenant's audit log keeps events: 30 days with Entra ID P1/P2 (the default), 7 without.</summary>
    [Parameter]
    [DurationTransformation]
    public TimeSpan AuditLogRetention { get; set; } = TimeSpan.FromDays(30);

    protected override void EndProcessing()
    {
        var outputs = new List<(string Path, string Format)>();
        foreach (var path in OutputPath ?? Array.Empty<string>())
        {
            if (FileSystemPath(path) is not { } file)
            {
                return;
            }

            if (ComplianceOutput.FormatOf(file) is not { } format)
            {
                ThrowGovernanceError(new GovernanceException("OutputFormatUnknown", GovernanceErrorKind.InvalidArgument,
                    $"-OutputPath '{path}': the extension says what to write: .html (the report page), .json (the report's JSON) or .xml (JUnit XML). Nothing was audited or written.", path));
                return;
            }

            outputs.Add((file, format));
        }

        var policy = CurrentPolicy(Policy);
        var snapshot = Snapshot ?? Session.Snapshot;
        // A live session audits over its permission inventory, the findings on its resources confirmed by live reads.
        var overInventory = snapshot is null && Session.Provider is Providers.Graph.IGraphDirectory { Inventory: not null } g ? g : null;
        snapshot ??= overInventory?.Inventory;
        if (snapshot is null)
        {
            ThrowGovernanceError(new GovernanceException("AuditNeedsSnapshot", GovernanceErrorKind.InvalidOperation,
                Session.Provider is null
                    ? "There is no directory to audit: run Connect-AgentGovernance -SnapshotPath <file>, or give -Snapshot."
                    : "A live session audits over its permission inventory, and this session has none: crawl one (Export-AccessSnapshot -FromGraph -Path inventory.json) " +
                      "and connect with it (Connect-AgentGovernance -TenantId <tenant> ... -InventoryPath inventory.json), or audit a snapshot (-Snapshot (Import-AccessSnapshot inventory.json))."));
            return;
        }

        var inputs = new AuditInputs(snapshot, policy);
        IDirectoryProvider? directory = null;
        try
        {
            directory = Snapshot is null ? Session.Provider ?? FileProvider(snapshot) : FileProvider(snapshot);
            if (directory is not null)
            {
                var d = directory;
                inputs.DirectoryLocation = d.Location;
                inputs.InEffect = op =>
                {
                    try
                    {
                        return d.Plan(op).AlreadyInEffect;
                    }
                    catch (GovernanceException)
                    {
                        return false; // a principal or resource that is gone holds nothing
                    }
                };
            }

            var history = new List<ComplianceRun>();
            IReadOnlyList<LedgerEntry> ledger = Array.Empty<LedgerEntry>();
            string storeLocation, storeId;
            using (var governance = OpenGovernance(policy, snapshot, writes: false))
            {
                var approvals = governance.Approvals;
                storeLocation = governance.Store.Location;
                storeId = governance.Store.StoreId;
                inputs.Verification = governance.Verify();
                try
                {
                    inputs.Requests = approvals.List((id, e) => WriteWarning($"Request {id} cannot be read ({e.ErrorId}): {e.Message}")).ToList();
                    ledger = approvals.Ledger.ReadVerified().Entries.ToList();
                    inputs.Ledger = ledger;
                    history.AddRange(ledger.Select(ComplianceRun.From).OfType<ComplianceRun>().Where(r => r.TenantId == snapshot.TenantId));
                }
                catch (GovernanceException e)
                {
                    WriteWarning($"The store's requests were not audited ({e.ErrorId}): {e.Message}");
                }
            }

            var previous = history.Count == 0 ? null : history[history.Count - 1];
            var found = ComplianceAudit.Run(inputs);
            DirectoryCoverage? coverage = null;
            if (overInventory is not null)
            {
                coverage = InventoryAudit.Coverage(snapshot, policy);
                if (coverage.Stale)
                {
                    WriteWarning($"The audit stands on {coverage}: resources shared since it was crawled are not audited. Refresh it (Export-AccessSnapshot -FromGraph -Update).");
                }

                found = InventoryAudit.Confirm(found, snapshot, policy, overInventory.ReadResource, coverage);
                WriteVerbose($"Audited over {coverage}.");
            }

            ReconciliationResult? reconciliation = null;
            var live = AuditLogPath is null ? Session.Provider as Providers.Graph.IGraphDirectory : null;
            if ((AuditLogPath is not null && FileSystemPath(AuditLogPath) is { } auditLog && (reconciliation = Reconcile(auditLog, previous, ledger, null, snapshot)) is not null)
                || (live is not null && (reconciliation = Reconcile(live.Location, previous, ledger, live, snapshot)) is not null))
            {
                var more = new List<ComplianceFinding>();
                Reconciliation.Findings(reconciliation, more);
                found = found.Concat(more).OrderByDescending(f => f.Severity).ThenBy(f => f.CheckId, StringComparer.Ordinal).ThenBy(f => f.Target, StringComparer.Ordinal).ToList();
            }
            var findings = previous is null ? found.ToList() : previous.Compare(found);
            new ComplianceExceptions(ledger, policy, snapshot.TenantId, snapshot).Apply(findings);
            foreach (var f in findings.Where(f => f.Acceptance is { } a && a.Ignored.Count > 0))
            {
                WriteWarning(Display.SafeText.Show($"Exception approvals for {f.Id} that do not count: {string.Join("; ", f.Acceptance!.Ignored.Take(5))}."));
            }
            var report = new ComplianceReport(GovernanceClock.UtcNow, snapshot.TenantId, snapshot.TenantDisplayName, inputs.DirectoryLocation ?? snapshot.Source ?? "(in memory)",
                policy.Source ?? "(built-in defaults)", policy.Fingerprint, storeLocation, storeId, findings, previous, reconciliation, coverage);
            Record(policy, snapshot, report);
            foreach (var (file, format) in outputs)
            {
                IO.AtomicFile.Write(file, stream => ComplianceOutput.Write(format, report, history, stream));
                WriteVerbose($"Wrote the {format} report to {file}.");
            }
            foreach (var f in findings)
            {
                WriteObject(f);
            }

            WriteVerbose($"Audited {snapshot.TenantId} ({snapshot.ResourceCount} resources) under {policy.Source ?? "the built-in policy"}: " +
                string.Join(", ", findings.GroupBy(f => f.Severity).OrderByDescending(g => g.Key).Select(g => $"{g.Count()} {g.Key}")) +
                (findings.Count == 0 ? "no findings." : "."));
            if (MyInvocation.BoundParameters.ContainsKey(nameof(FailOn)))
            {
                var failing = findings.Where(f => f.Severity >= FailOn && f.Status is FindingStatus.New or FindingStatus.Persisting).ToList();
                if (failing.Count > 0)
                {
                    var message = $"{failing.Count} finding(s) at or above {FailOn}: {string.Join(", ", failing.Take(5).Select(f => f.Id))}{(failing.Count > 5 ? ", ..." : string.Empty)}.";
                    ThrowTerminatingError(new ErrorRecord(new GovernanceException("ComplianceAuditFailed", GovernanceErrorKind.InvalidOperation, message), "ComplianceAuditFailed",
                        ErrorCategory.InvalidResult, failing.Count)
                    {
                        ErrorDetails = new ErrorDetails(Display.SafeText.Show(message))
                        {
                            RecommendedAction = "Fix or accept the findings named; each one's Remediation and RemediationHint say how.",
                        },
                    });
                }
            }
        }
        catch (GovernanceException e)
        {
            ThrowGovernanceError(e);
        }
        finally
        {
            if (directory is not null && !ReferenceEquals(directory, Session.Provider))
            {
                directory.Dispose();
            }
        }
    }

    /// <summary>The full report goes into the store (compliance/&lt;hash&gt;) and the run into the ledger (ComplianceAudited); a ledger that cannot take it is a warning, since the findings stand.</summary>
    private void Record(GovernancePolicy policy, AccessSnapshot snapshot, ComplianceReport report)
    {
        try
        {
            using var governance = OpenGovernance(policy, snapshot, writes: true);
            try
            {
                governance.Store.CreateDocument(ComplianceReport.Slot, ComplianceReport.DocumentId(report.ReportHash), report.CanonicalBytes());
            }
            catch (GovernanceException e) when (e.ErrorId == "DocumentExists")
            {
                // The same hash: the same report (two audits of an unchanged tenant in the same instant).
            }

            var entry = governance.Approvals.Ledger.Append(report.ToLedgerEvent(Identities.CurrentUser));
            WriteVerbose($"Recorded as ledger entry #{entry.Sequence} (report {report.ReportHash}){(report.Previous is null ? "; the first audit of this tenant in this store" : $"; compared with the audit of entry #{report.Previous.Sequence}")}.");
        }
        catch (GovernanceException e)
        {
            WriteWarning($"The audit was not recorded in the ledger ({e.ErrorId}): {e.Message}");
        }
    }

    /// <summary>
    /// The reconciliation, from a file or (graph not null) Graph: Entra's directory audits and SharePoint's sharing
    /// events (Purview's audit log query API), each from its own cursor. A source that cannot be read is a warning
    /// and is named in the result (AUD404), never left out silently.
    /// </summary>
    private ReconciliationResult Reconcile(string file, ComplianceRun? previous, IReadOnlyList<LedgerEntry> ledger, Providers.Graph.IGraphDirectory? graph, AccessSnapshot snapshot)
    {
        var now = GovernanceClock.UtcNow;
        var from = previous?.ReconciledThrough is { } cursor ? cursor - Compliance.Reconciliation.Overlap : now - Compliance.Reconciliation.FirstWindow;
        var sharingFrom = previous?.SharingReconciledThrough is { } shared ? shared - Compliance.Reconciliation.Overlap : now - Compliance.Reconciliation.FirstWindow;
        var directory = new ReconciliationSource(DirectoryAuditEvent.DirectoryAudits, from, now) { Location = file };
        var sharing = new ReconciliationSource(DirectoryAuditEvent.AuditLogQuery, sharingFrom, now) { Location = file };
        try
        {
            if (graph is not null)
            {
                // Nothing older than the retention can come back: ask only for what the log can still hold.
                directory.Events = Read(directory, () => graph.ReadDirectoryAudits(from < now - AuditLogRetention ? now - AuditLogRetention : from, now));
                sharing.Events = Read(sharing, () => graph.ReadSharingAuditRecords(sharingFrom, now));
            }
            else
            {
                var events = DirectoryAuditEvent.ParseAll(System.IO.File.ReadAllText(file), out var next);
                if (next is not null)
                {
                    WriteWarning($"{file} ends with an @odata.nextLink: the pages after it are not in the file, so the reconciliation sees only part of the window.");
                }

                directory.Events = events.Where(e => !e.IsSharing).ToList();
                sharing.Events = events.Where(e => e.IsSharing).ToList();
                if (sharing.Events.Count == 0)
                {
                    sharing.Problem = "the file holds no auditLogRecord of SharePoint sharing.";
                }
                else if (directory.Events.Count == 0)
                {
                    directory.Problem = "the file holds no directoryAudit.";
                }
            }
        }
        catch (Exception e) when (e is FormatException || e is System.IO.IOException || e is UnauthorizedAccessException)
        {
            throw new GovernanceException("AuditLogInvalid", GovernanceErrorKind.InvalidData,
                $"'{file}' is not audit log JSON (auditLogs/directoryAudits responses or directoryAudit objects, or auditLogRecord objects of security/auditLog/queries): {e.Message}", file, e);
        }

        var result = Compliance.Reconciliation.Run(new[] { directory, sharing }, file, AuditLogRetention, ledger,
            new HashSet<string>(OwnAppId ?? Array.Empty<string>(), StringComparer.OrdinalIgnoreCase), ResourceByUrl(snapshot));
        WriteVerbose($"Reconciled {result.Events.Count} access-changing event(s) ({result.Read} read, {result.Duplicates} duplicate(s)) from " +
            string.Join(" and ", result.Sources.Select(x => $"{x.Title} {GovernanceClock.Format(x.From)}..{GovernanceClock.Format(x.Until)} ({(x.Problem is null ? $"{x.Read} read" : "not read")})")) + ": " +
            $"{result.Count(ReconciliationClass.Governed)} governed, {result.Count(ReconciliationClass.AroundPipeline)} around the pipeline, {result.Count(ReconciliationClass.OwnIdentity)} by the module's own identity.");
        if (result.Gap is { } gap)
        {
            WriteWarning(gap);
        }

        return result;
    }

    /// <summary>One source's events from Graph; a failure is the source's Problem and a warning.</summary>
    private List<DirectoryAuditEvent> Read(ReconciliationSource source, Func<string> read)
    {
        try
        {
            return DirectoryAuditEvent.ParseAll(read(), out _);
        }
        catch (GovernanceException e)
        {
            source.Problem = $"{e.ErrorId}: {e.Message}";
            source.Attempted = true;
            WriteWarning(Display.SafeText.Show($"The reconciliation did not read {source.Title}: {source.Problem}"));
            return new List<DirectoryAuditEvent>();
        }
    }

    /// <summary>A SharePoint record's objectId (the file's full URL) to the directory's resource with that webUrl (compared unescaped, without a trailing slash, ignoring case).</summary>
    private static Func<string, string?> ResourceByUrl(AccessSnapshot snapshot)
    {
        static string Key(string url) => Uri.UnescapeDataString(url).TrimEnd('/').ToUpperInvariant();
        var byUrl = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var r = 0; r < snapshot.ResourceCount; r++)
        {
            if (snapshot.ResourceUrls[r] is { Length: > 0 } url)
            {
                var key = Key(url);
                if (!byUrl.ContainsKey(key))
                {
                    byUrl[key] = snapshot.ResourceIds[r];
                }
            }
        }

        return url => byUrl.TryGetValue(Key(url), out var id) ? id : null;
    }

    private static IDirectoryProvider? FileProvider(AccessSnapshot snapshot) =>
        snapshot.Source is { } file && System.IO.File.Exists(file) ? new SnapshotFileProvider(file) : null;
}
