using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using AgentGovernance.Compliance;
using AgentGovernance.GraphFake;
using AgentGovernance.Tests.Graph;
using AgentGovernance.Tests.Support;

namespace AgentGovernance.Tests.Compliance;

/// <summary>
/// SharePoint sharing in the reconciliation, on a live session: Invoke-ComplianceAudit asks Purview's audit log query
/// API of the loopback Graph (POST security/auditLog/queries, polled until succeeded, its records paged) and classifies
/// each sharing event against the ledger's createLink, grant and revoke operations on the resource its URL names.
/// Shapes from Microsoft's documentation of auditLogQuery and auditLogRecord.
/// </summary>
[Collection(ClockCollection.Name)]
public sealed class SharingReconciliationTests : GraphTestBase
{
    private const string OwnApp = "3f1c8a52-7d5e-4b7a-9d38-0c2f4e6a8b10";
    private const string PayrollUrl = "https://fabrikam.sharepoint.com/sites/hr/Shared Documents/payroll.xlsx";

    public SharingReconciliationTests(HostFixture fixture)
        : base(fixture)
    {
    }

    /// <summary>A snapshot of Fabrikam's payroll file as the inventory keeps it: its drive item id and webUrl (escaped, as Graph gives it).</summary>
    private const string PayrollSnapshot = """
        {
          "schema": "agentgovernance/snapshot@1",
          "tenant": { "id": "fabrikam.example" },
          "principals": [ { "id": "u-carol", "type": "user", "displayName": "Carol" } ],
          "resources": [
            { "id": "drives/b!drive1/items/01PAYROLL", "type": "driveItem", "displayName": "payroll.xlsx", "sensitivity": "Confidential",
              "webUrl": "https://fabrikam.sharepoint.com/sites/hr/Shared%20Documents/payroll.xlsx", "owners": ["u-carol"] }
          ],
          "grants": [ { "resource": "drives/b!drive1/items/01PAYROLL", "principal": "u-carol", "role": "owner" } ]
        }
        """;

    /// <summary>One auditLogRecord as Graph documents it, its auditData in the unified audit log's SharePoint sharing schema.</summary>
    private static JsonObject Record(string id, DateTimeOffset at, string operation, string url, string? user = "admin@fabrikam.example", string? appId = null, string with = "joe@vendor.example") => new()
    {
        ["@odata.type"] = "#microsoft.graph.security.auditLogRecord",
        ["id"] = id,
        ["createdDateTime"] = at.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
        ["auditLogRecordType"] = "sharePointSharingOperation",
        ["operation"] = operation,
        ["organizationId"] = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
        ["userType"] = appId is null ? "regular" : "application",
        ["userId"] = user ?? "app@sharepoint",
        ["service"] = "SharePoint",
        ["objectId"] = url,
        ["userPrincipalName"] = user,
        ["clientIp"] = "203.0.113.7",
        ["administrativeUnits"] = new JsonArray(),
        ["auditData"] = new JsonObject
        {
            ["@odata.type"] = "#microsoft.graph.security.sharePointSharingOperationAuditRecord",
            ["CreationTime"] = at.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture),
            ["Id"] = id,
            ["Operation"] = operation,
            ["RecordType"] = 14,
            ["UserId"] = user ?? "app@sharepoint",
            ["Workload"] = "SharePoint",
            ["ObjectId"] = url,
            ["SiteUrl"] = "https://fabrikam.sharepoint.com/sites/hr/",
            ["SourceFileName"] = url.Substring(url.LastIndexOf('/') + 1),
            ["TargetUserOrGroupName"] = with,
            ["TargetUserOrGroupType"] = "Guest",
            ["ApplicationId"] = appId,
        },
    };

    private void ConnectWithStore()
    {
        var connected = Ps.Run("param($endpoint, $token) Connect-AgentGovernance -TenantId fabrikam.example -AccessToken ([System.Net.NetworkCredential]::new('', $token).SecurePassword) -GraphEndpoint $endpoint -StorePath store -LedgerSignerPath keys/signer.json",
            Graph.BaseUrl, Graph.Token);
        Assert.Empty(connected.Errors);
        Temp.Write("payroll.json", PayrollSnapshot);
    }

    private RunResult Audit(string extra = "") => Ps.Run($"Invoke-ComplianceAudit -Snapshot (Import-AccessSnapshot payroll.json) -OwnAppId {OwnApp} -OutputPath r.json, r.html {extra}");

    private static List<ComplianceFinding> Clean(RunResult result)
    {
        Assert.True(result.Errors.Count == 0, string.Join("\n", result.Errors.Select(e => e.FullyQualifiedErrorId + ": " + e)));
        return result.Objects<ComplianceFinding>().ToList();
    }

    private JsonElement Reconciliation()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Temp["r.json"]));
        return doc.RootElement.GetProperty("reconciliation").Clone();
    }

    private static JsonElement Source(JsonElement reconciliation, string name) =>
        reconciliation.GetProperty("sources").EnumerateArray().Single(s => s.GetProperty("name").GetString() == name);

    [Fact]
    public void SharingEventsAreQueriedPolledPagedAndEachIsGovernedAroundThePipelineOrByTheModulesOwnIdentity()
    {
        using var clock = new TestClock(DateTimeOffset.UtcNow);
        ConnectWithStore();
        // Through the pipeline: an emergency revocation of Carol's write on payroll.xlsx (the ledger's revoke operation).
        ChangeFile("revoke.json", $"{{ \"op\": \"revoke\", \"resource\": \"{Fabrikam.PayrollId}\", \"principal\": \"{Fabrikam.Carol}\", \"role\": \"write\" }}",
            "\"title\": \"Carol no longer writes payroll\", \"justification\": \"test\"");
        Clean(Ps.Run("Import-AccessChange revoke.json | Invoke-ApprovedChange -EmergencyRevocation -Force"));
        var now = clock.Now;
        clock.Advance(TimeSpan.FromMinutes(5));

        var governed = Record("r-governed", now.AddMinutes(1), "SharingRevoked", PayrollUrl);
        Graph.AddAuditLogRecords(governed, governed); // the log repeats it: de-duplicated by id
        Graph.AddAuditLogRecords(Record("r-own", now.AddMinutes(2), "AnonymousLinkCreated", PayrollUrl, user: null, appId: OwnApp));
        Graph.AddAuditLogRecords(Record("r-around", now.AddHours(-3), "AddedToSecureLink", PayrollUrl));
        // More than one page (the fake's pages hold 100) of company links on a file the snapshot does not hold: reconciled by URL.
        Graph.AddAuditLogRecords(Enumerable.Range(0, 105).Select(i => Record($"r-co{i:D3}", now.AddMinutes(-30 - i), "CompanyLinkCreated", $"https://fabrikam.sharepoint.com/sites/x/f{i}.docx")).ToArray());
        Graph.AddAuditLogRecords(Record("r-read", now.AddMinutes(-1), "FileAccessed", PayrollUrl)); // not sharing: the query does not ask for it
        Graph.AddAuditLogRecords(Record("r-old", now.AddDays(-8), "AnonymousLinkCreated", PayrollUrl)); // before the first window
        // A file name and a recipient chosen by whoever shared: they land in the report page's timeline.
        Graph.AddAuditLogRecords(Record("r-evil", now.AddMinutes(-3), "AnonymousLinkCreated", "https://fabrikam.sharepoint.com/sites/x/<img src=x onerror=alert(1)>.docx", with: "</script><script>alert(2)</script>"));
        Graph.AuditQueryRunningPolls = 2;

        var findings = Clean(Audit());

        var created = Assert.Single(Graph.AuditQueriesCreated);
        Assert.Contains("AnonymousLinkCreated", created["operationFilters"]!.AsArray().Select(o => o!.GetValue<string>()));
        Assert.Contains("SharingRevoked", created["operationFilters"]!.AsArray().Select(o => o!.GetValue<string>()));
        var start = DateTimeOffset.Parse(created["filterStartDateTime"]!.GetValue<string>(), CultureInfo.InvariantCulture);
        Assert.True(Math.Abs((clock.Now - TimeSpan.FromDays(7) - start).TotalSeconds) < 2, $"the first window starts 7 days back: {start:o}");
        Assert.True(Graph.Requests.Concat(Graph.Steps).Count(r => r.StartsWith("GET /v1.0/security/auditLog/queries/", StringComparison.Ordinal) && !r.Contains("/records", StringComparison.Ordinal)) >= 3,
            "the status was read until it said succeeded (running twice)");

        var own = Assert.Single(findings, f => f.CheckId == "AUD402");
        Assert.Equal("AUD402:r-own", own.Id);
        Assert.Equal(ComplianceSeverity.Critical, own.Severity);
        Assert.Contains(findings, f => f.Id == "AUD401:r-around");
        Assert.Equal(105, findings.Count(f => f.Id.StartsWith("AUD401:r-co", StringComparison.Ordinal)));
        Assert.Contains(findings, f => f.Id == "AUD401:r-evil");
        var html = File.ReadAllText(Temp["r.html"]);
        Assert.DoesNotContain("<img src=x", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script>alert(2)", html, StringComparison.Ordinal);
        Assert.Contains("&lt;img src=x onerror=alert(1)&gt;.docx with &lt;/script&gt;&lt;script&gt;alert(2)&lt;/script&gt;", html, StringComparison.Ordinal);
        Assert.DoesNotContain(findings, f => f.Id.EndsWith(":r-governed", StringComparison.Ordinal) || f.Id.EndsWith(":r-read", StringComparison.Ordinal) || f.Id.EndsWith(":r-old", StringComparison.Ordinal));
        Assert.DoesNotContain(findings, f => f.CheckId == "AUD404");

        var rec = Reconciliation();
        Assert.Equal(1, rec.GetProperty("governed").GetInt32());
        Assert.Equal(1, rec.GetProperty("duplicates").GetInt32());
        var ev = rec.GetProperty("events").EnumerateArray().Single(e => e.GetProperty("id").GetString() == "r-governed");
        Assert.Equal(Fabrikam.PayrollId, Assert.Single(ev.GetProperty("targets").EnumerateArray()).GetString()); // the URL resolved to the resource
        Assert.Equal("security/auditLog/queries", ev.GetProperty("source").GetString());
        Assert.True(ev.GetProperty("ledgerSequence").GetInt64() > 0);
        var sharing = Source(rec, "security/auditLog/queries");
        Assert.True(sharing.GetProperty("read").GetBoolean());
        Assert.Equal(110, sharing.GetProperty("records").GetInt32()); // 105 + governed twice + own + around + evil; not r-read, not r-old
        Assert.True(Source(rec, "auditLogs/directoryAudits").GetProperty("read").GetBoolean());
    }

    /// <summary>
    /// Microsoft's "Sharing and access request activities" (MicrosoftDocs/microsoft-365-docs, microsoft-365/compliance/audit-log-activities.md)
    /// name three more operations that give or take access: AccessRequestAccepted ("the requesting user has been granted access"),
    /// SharingInvitationAccepted ("was granted access to a resource") and SharingInvitationRevoked. The query asks for them and each is reconciled.
    /// </summary>
    [Fact]
    public void TheAccessRequestAndInvitationOperationsMicrosoftDocumentsAsGrantingAccessAreQueriedAndReconciled()
    {
        using var clock = new TestClock(DateTimeOffset.UtcNow);
        ConnectWithStore();
        var now = clock.Now;
        Graph.AddAuditLogRecords(Record("r-request", now.AddMinutes(-20), "AccessRequestAccepted", PayrollUrl));
        Graph.AddAuditLogRecords(Record("r-accepted", now.AddMinutes(-10), "SharingInvitationAccepted", PayrollUrl));
        Graph.AddAuditLogRecords(Record("r-withdrawn", now.AddMinutes(-5), "SharingInvitationRevoked", PayrollUrl));

        var findings = Clean(Audit());

        var operations = Assert.Single(Graph.AuditQueriesCreated)["operationFilters"]!.AsArray().Select(o => o!.GetValue<string>()).ToList();
        Assert.Contains("AccessRequestAccepted", operations);
        Assert.Contains("SharingInvitationAccepted", operations);
        Assert.Contains("SharingInvitationRevoked", operations);
        Assert.Contains(findings, f => f.Id == "AUD401:r-request");
        Assert.Contains(findings, f => f.Id == "AUD401:r-accepted");
        Assert.Contains(findings, f => f.Id == "AUD401:r-withdrawn");
        Assert.Equal(3, Reconciliation().GetProperty("aroundPipeline").GetInt32());
    }

    [Fact]
    public void WhenTheQueryApiIsNotPermittedOrFailsTheReportSaysSoAndTheSharingCursorDoesNotMove()
    {
        using var clock = new TestClock(DateTimeOffset.UtcNow);
        ConnectWithStore();
        Graph.AddAuditLogRecords(Record("r-around", clock.Now.AddDays(-2), "AnonymousLinkCreated", PayrollUrl));
        Graph.AuditQueryDenied = true;

        var run = Audit();
        var findings = Clean(run);
        var unread = Assert.Single(findings, f => f.CheckId == "AUD404");
        Assert.Equal("AUD404:security/auditLog/queries", unread.Id);
        Assert.Equal(ComplianceSeverity.Medium, unread.Severity);
        Assert.Contains("DirectoryPermissionDenied", unread.Message);
        Assert.Contains(run.Warnings, w => w.Contains("SharePoint sharing", StringComparison.Ordinal));
        Assert.DoesNotContain(findings, f => f.Id == "AUD401:r-around");
        var rec = Reconciliation();
        var sharing = Source(rec, "security/auditLog/queries");
        Assert.False(sharing.GetProperty("read").GetBoolean());
        Assert.Contains("AuditLogsQuery-SharePoint.Read.All", sharing.GetProperty("problem").GetString());
        Assert.True(Source(rec, "auditLogs/directoryAudits").GetProperty("read").GetBoolean()); // the directory audits were still read

        // A day on, the query runs but fails: said again, and the window still starts where the first audit's did.
        clock.Advance(TimeSpan.FromDays(1));
        Graph.AuditQueryDenied = false;
        Graph.AuditQueryOutcome = "failed";
        var failed = Clean(Audit());
        Assert.Contains("ended failed", Assert.Single(failed, f => f.CheckId == "AUD404").Message);
        var start = DateTimeOffset.Parse(Graph.AuditQueriesCreated[^1]["filterStartDateTime"]!.GetValue<string>(), CultureInfo.InvariantCulture);
        Assert.True(Math.Abs((clock.Now - TimeSpan.FromDays(7) - start).TotalSeconds) < 2, $"no cursor yet: the first window again ({start:o})");

        // Permitted and succeeding: the event is read, AUD404 is gone (Resolved), and the sharing cursor is recorded.
        clock.Advance(TimeSpan.FromHours(1));
        Graph.AuditQueryOutcome = "succeeded";
        var ok = Clean(Audit());
        Assert.Contains(ok, f => f.Id == "AUD401:r-around" && f.Status == FindingStatus.New);
        Assert.DoesNotContain(ok, f => f.CheckId == "AUD404" && f.Status != FindingStatus.Resolved);
        var last = clock.Now;

        // The next audit reads on from that cursor less the 30-minute overlap, where a late record (ten minutes before) is found.
        clock.Advance(TimeSpan.FromHours(1));
        Graph.AddAuditLogRecords(Record("r-late", last.AddMinutes(-10), "SharingSet", PayrollUrl));
        var next = Clean(Audit());
        start = DateTimeOffset.Parse(Graph.AuditQueriesCreated[^1]["filterStartDateTime"]!.GetValue<string>(), CultureInfo.InvariantCulture);
        Assert.True(Math.Abs((last - TimeSpan.FromMinutes(30) - start).TotalSeconds) < 2, $"from the cursor less the overlap: {start:o}");
        Assert.Contains(next, f => f.Id == "AUD401:r-late" && f.Status == FindingStatus.New);
    }

    [Fact]
    public void AQueryThatStoppedAtItsRecordLimitIsNotReadAsTheWholeWindowAndTheSharingCursorDoesNotMove()
    {
        // Graph ends such a query succeeded, with isRecordCountLimitExceeded and only the first records.
        using var clock = new TestClock(DateTimeOffset.UtcNow);
        ConnectWithStore();
        Graph.AddAuditLogRecords(
            Record("r-first", clock.Now.AddDays(-3), "SharingSet", PayrollUrl),
            Record("r-cut-off", clock.Now.AddDays(-2), "AnonymousLinkCreated", PayrollUrl));
        Graph.AuditQueryRecordLimit = 1;

        var run = Audit();
        var findings = Clean(run);
        var unread = Assert.Single(findings, f => f.CheckId == "AUD404");
        Assert.Equal("AUD404:security/auditLog/queries", unread.Id);
        Assert.Contains("AuditQueryTruncated", unread.Message);
        Assert.Contains(run.Warnings, w => w.Contains("isRecordCountLimitExceeded", StringComparison.Ordinal));
        var sharing = Source(Reconciliation(), "security/auditLog/queries");
        Assert.False(sharing.GetProperty("read").GetBoolean());

        // The next audit asks for the same window again (no cursor was recorded), and with the limit lifted reads it whole.
        clock.Advance(TimeSpan.FromHours(1));
        Graph.AuditQueryRecordLimit = 1_000_000;
        var next = Clean(Audit());
        var start = DateTimeOffset.Parse(Graph.AuditQueriesCreated[^1]["filterStartDateTime"]!.GetValue<string>(), CultureInfo.InvariantCulture);
        Assert.True(Math.Abs((clock.Now - TimeSpan.FromDays(7) - start).TotalSeconds) < 2, $"no cursor yet: the first window again ({start:o})");
        Assert.Contains(next, f => f.Id == "AUD401:r-cut-off" && f.Status == FindingStatus.New);
    }

    [Fact]
    public void AnAuditLogFileMayHoldTheQuerysRecordsAndTheReportSaysWhichKindItHeld()
    {
        using var clock = new TestClock(DateTimeOffset.UtcNow);
        ConnectWithStore();
        var page = new JsonObject
        {
            ["@odata.context"] = "https://graph.microsoft.com/v1.0/$metadata#security/auditLog/queries('q1')/records",
            ["value"] = new JsonArray(Record("f-link", clock.Now.AddHours(-1), "AnonymousLinkCreated", PayrollUrl)),
        };
        Temp.Write("records.json", page.ToJsonString());

        var findings = Clean(Audit("-AuditLogPath records.json"));
        Assert.Contains(findings, f => f.Id == "AUD401:f-link");
        Assert.DoesNotContain(findings, f => f.CheckId == "AUD404"); // nothing was asked: the file is what there is
        Assert.Empty(Graph.AuditQueriesCreated); // a file wins over the session
        var rec = Reconciliation();
        Assert.True(Source(rec, "security/auditLog/queries").GetProperty("read").GetBoolean());
        var directory = Source(rec, "auditLogs/directoryAudits");
        Assert.False(directory.GetProperty("read").GetBoolean());
        Assert.Equal("the file holds no directoryAudit.", directory.GetProperty("problem").GetString());
    }
}
