using System.Text.Json;
using AgentGovernance.Compliance;
using AgentGovernance.Tests.Cmdlets;
using AgentGovernance.Tests.Support;

namespace AgentGovernance.Tests.Compliance;

/// <summary>
/// Invoke-ComplianceAudit -AuditLogPath: Entra's directoryAudits (the shapes of Microsoft's documentation of the
/// directoryAudit resource and its list response) reconciled with the ledger's operations.
/// </summary>
[Collection(ClockCollection.Name)]
public sealed class ReconciliationTests : ApplyTestBase
{
    private const string OwnApp = "3f1c8a52-7d5e-4b7a-9d38-0c2f4e6a8b10";

    public ReconciliationTests(HostFixture fixture)
        : base(fixture)
    {
    }

    /// <summary>One directoryAudit as Microsoft documents it (initiatedBy.user or .app, targetResources with modifiedProperties).</summary>
    private static object Audit(string id, DateTimeOffset at, string activity, string category, (string Id, string Type, string Name)[] targets,
        string? user = null, string? appId = null, string result = "success", string[]? modified = null) => new Dictionary<string, object?>
    {
        ["id"] = id,
        ["category"] = category,
        ["correlationId"] = Guid.NewGuid().ToString(),
        ["result"] = result,
        ["resultReason"] = "",
        ["activityDisplayName"] = activity,
        ["activityDateTime"] = at.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffffffZ", System.Globalization.CultureInfo.InvariantCulture),
        ["loggedByService"] = "Core Directory",
        ["operationType"] = activity.StartsWith("Remove", StringComparison.Ordinal) ? "Unassign" : "Assign",
        ["initiatedBy"] = new Dictionary<string, object?>
        {
            ["user"] = user is null ? null : new Dictionary<string, object?> { ["id"] = "u-admin", ["displayName"] = null, ["userPrincipalName"] = user, ["ipAddress"] = "203.0.113.7" },
            ["app"] = appId is null ? null : new Dictionary<string, object?> { ["appId"] = appId, ["displayName"] = "AgentGovernance runbook", ["servicePrincipalId"] = "sp-runbook", ["servicePrincipalName"] = null },
        },
        ["targetResources"] = targets.Select(t => (object)new Dictionary<string, object?>
        {
            ["id"] = t.Id,
            ["displayName"] = t.Name,
            ["type"] = t.Type,
            ["userPrincipalName"] = null,
            ["groupType"] = t.Type == "Group" ? "azureAD" : null,
            ["modifiedProperties"] = (modified ?? Array.Empty<string>()).Select(m => (object)new Dictionary<string, object?> { ["displayName"] = m, ["oldValue"] = "\"Public\"", ["newValue"] = "\"Private\"" }).ToList(),
        }).ToList(),
        ["additionalDetails"] = new List<object>(),
    };

    /// <summary>Two pages of a list response, the second also holding the last event of the first (an overlapping read).</summary>
    private string WriteLog(params object[][] pages)
    {
        var body = pages.Select((p, i) => new Dictionary<string, object?>
        {
            ["@odata.context"] = "https://graph.microsoft.com/v1.0/$metadata#auditLogs/directoryAudits",
            ["value"] = p,
        }).ToList();
        return Temp.Write("audits.json", JsonSerializer.Serialize(body));
    }

    [Fact]
    public void EachAccessChangingEventIsGovernedAroundThePipelineOrByTheModulesOwnIdentityDeDuplicatedAndOnTheTimeline()
    {
        using var clock = new TestClock(new DateTimeOffset(2026, 12, 7, 9, 0, 0, TimeSpan.Zero));
        ConnectForApply();
        var request = Approved(ChangeWith("\"requestedBy\": \"bob@tiny.example\"", """{ "op": "removeMember", "group": "g-platform", "member": "u-bob" }"""));
        Assert.Empty(Invoke(request.RequestId).Errors);
        var applied = clock.Now;
        clock.Advance(TimeSpan.FromHours(1));

        var around = Audit("a-around", applied.AddHours(-2), "Add member to group", "GroupManagement", new[] { ("u-joe", "User", "Joe (vendor)"), ("g-eng", "Group", "Engineering") }, user: "admin@tiny.example");
        WriteLog(
            new[]
            {
                Audit("a-old", applied.AddDays(-8), "Add member to group", "GroupManagement", new[] { ("u-dave", "User", "Dave"), ("g-eng", "Group", "Engineering") }, user: "admin@tiny.example"),
                around,
                Audit("a-governed", applied.AddMinutes(1), "Remove member from group", "GroupManagement", new[] { ("u-bob", "User", "Bob"), ("g-platform", "Group", "Platform") }, appId: OwnApp),
                Audit("a-own", applied.AddMinutes(20), "Remove member from role", "RoleManagement", new[] { ("u-carol", "User", "Carol"), ("role-admin", "Role", "Global Administrator") }, appId: OwnApp),
            },
            new[]
            {
                around,
                Audit("a-visibility", applied.AddMinutes(30), "Update group", "GroupManagement", new[] { ("g-team", "Group", "Team </script><img src=x onerror=alert(1)>") }, user: "admin@tiny.example", modified: new[] { "Visibility" }),
                Audit("a-user", applied.AddMinutes(31), "Update user", "UserManagement", new[] { ("u-alice", "User", "Alice") }, user: "admin@tiny.example", modified: new[] { "Department" }),
                Audit("a-failed", applied.AddMinutes(32), "Add member to group", "GroupManagement", new[] { ("u-joe", "User", "Joe"), ("g-data", "Group", "Data") }, user: "admin@tiny.example", result: "failure"),
            });

        var findings = RunClean($"Invoke-ComplianceAudit -AuditLogPath audits.json -OwnAppId {OwnApp} -OutputPath r.html, r.json").Objects<ComplianceFinding>().ToList();

        var own = Assert.Single(findings, f => f.CheckId == "AUD402");
        Assert.Equal((ComplianceSeverity.Critical, "a-own"), (own.Severity, own.Target));
        Assert.Equal(OwnApp, own.Evidence["appId"]);
        Assert.Equal(new[] { "AUD401:a-around", "AUD401:a-visibility" }, findings.Where(f => f.CheckId == "AUD401").Select(f => f.Id).OrderBy(x => x));
        Assert.All(findings.Where(f => f.CheckId == "AUD401"), f => Assert.Equal(ComplianceSeverity.High, f.Severity));
        Assert.DoesNotContain(findings, f => f.Target is "a-governed" or "a-old" or "a-user" or "a-failed");
        Assert.DoesNotContain(findings, f => f.CheckId == "AUD403");

        using var doc = JsonDocument.Parse(File.ReadAllText(Temp["r.json"]));
        var rec = doc.RootElement.GetProperty("reconciliation");
        Assert.Equal((1, 2, 1), (rec.GetProperty("governed").GetInt32(), rec.GetProperty("aroundPipeline").GetInt32(), rec.GetProperty("ownIdentity").GetInt32()));
        Assert.Equal((8, 1), (rec.GetProperty("read").GetInt32(), rec.GetProperty("duplicates").GetInt32()));
        var governed = rec.GetProperty("events").EnumerateArray().Single(e => e.GetProperty("id").GetString() == "a-governed");
        Assert.Equal("Governed", governed.GetProperty("class").GetString());
        Assert.Equal(Log("-Event OperationApplied").Single().Sequence, governed.GetProperty("ledgerSequence").GetInt64());
        Assert.Equal(GovernanceClock.Format(clock.Now - TimeSpan.FromDays(7)), rec.GetProperty("from").GetString()); // the first window

        var html = File.ReadAllText(Temp["r.html"]);
        var section = html.Substring(html.IndexOf("<section id=\"reconciliation\">", StringComparison.Ordinal));
        Assert.Equal(4, CountOf(section, "<tr class=\"rec-"));
        Assert.Contains("<tr class=\"rec-OwnIdentity\">", section);
        Assert.Contains("Team &lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;", section);
        Assert.Equal(0, CountOf(html, "<img"));
        Assert.Equal(GovernanceClock.Format(clock.Now), Log("-Event ComplianceAudited").Last().Details["reconciledThrough"]);
    }

    [Fact]
    public void TheNextAuditReadsOnFromTheCursorLessTheOverlapAndSaysWhenRetentionDroppedPartOfTheWindow()
    {
        using var clock = new TestClock(new DateTimeOffset(2026, 12, 7, 9, 0, 0, TimeSpan.Zero));
        ConnectForApply();
        var first = clock.Now;
        var late = Audit("a-late", first.AddMinutes(-10), "Add member to group", "GroupManagement", new[] { ("u-joe", "User", "Joe"), ("g-eng", "Group", "Engineering") }, user: "admin@tiny.example");
        WriteLog(Array.Empty<object>());
        RunClean("Invoke-ComplianceAudit -AuditLogPath audits.json");

        // An hour on, the event of ten minutes before the first audit arrived late: the overlap (30 minutes) still reads it.
        clock.Advance(TimeSpan.FromHours(1));
        WriteLog(new[] { late });
        var second = RunClean("Invoke-ComplianceAudit -AuditLogPath audits.json -OutputPath r.json").Objects<ComplianceFinding>().ToList();
        Assert.Contains(second, f => f.Id == "AUD401:a-late" && f.Status == FindingStatus.New);
        using (var doc = JsonDocument.Parse(File.ReadAllText(Temp["r.json"])))
        {
            Assert.Equal(GovernanceClock.Format(first - TimeSpan.FromMinutes(30)), doc.RootElement.GetProperty("reconciliation").GetProperty("from").GetString());
        }

        // Forty days without an audit: the log's 30-day retention dropped the start of the window; out of the window, a-late is not called Resolved.
        clock.Advance(TimeSpan.FromDays(40));
        var run = Run("Invoke-ComplianceAudit -AuditLogPath audits.json");
        var gap = Assert.Single(run.Objects<ComplianceFinding>(), f => f.CheckId == "AUD403");
        Assert.Equal(ComplianceSeverity.Medium, gap.Severity);
        Assert.Contains("keeps only 30 days", gap.Message);
        Assert.Contains(run.Warnings, w => w.Contains("keeps only 30 days"));
        Assert.DoesNotContain(run.Objects<ComplianceFinding>(), f => f.Id == "AUD401:a-late");

        // With a 7-day retention (no Entra ID P1/P2) a 10-day window is already incomplete.
        clock.Advance(TimeSpan.FromDays(10));
        Assert.Contains(Run("Invoke-ComplianceAudit -AuditLogPath audits.json -AuditLogRetention P7D").Objects<ComplianceFinding>(), f => f.CheckId == "AUD403");
    }

    [Fact]
    public void OfflineAnAppliedChangeNoLongerInTheDirectoryIsFoundUnlessALaterLedgerOperationChangedIt()
    {
        ConnectForApply();
        var permanent = ChangeWith("\"requestedBy\": \"bob@tiny.example\"", """{ "op": "grant", "resource": "site-general", "principal": "u-joe", "role": "read" }""");
        var request = Approved(permanent, "", "carol");
        Assert.Empty(Invoke(request.RequestId).Errors);
        Assert.DoesNotContain(RunClean("Invoke-ComplianceAudit").Objects<ComplianceFinding>(), f => f.CheckId == "AUD105");

        // Someone removes the grant in the directory itself (here: the snapshot file the session applies to).
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(SnapshotFile))!;
        var grants = json["grants"]!.AsArray();
        grants.Remove(grants.Single(g => (string?)g!["resource"] == "site-general" && (string?)g["principal"] == "u-joe"));
        File.WriteAllText(SnapshotFile, json.ToJsonString());
        ConnectForApply();

        var undone = Assert.Single(RunClean("Invoke-ComplianceAudit").Objects<ComplianceFinding>(), f => f.CheckId == "AUD105");
        Assert.Equal((ComplianceSeverity.Medium, request.RequestId), (undone.Severity, undone.Target));
        Assert.Equal(new object?[] { "grant read on site-general to u-joe" }, (IEnumerable<object?>)undone.Evidence["notInEffect"]!);

        // The same grant applied again and then revoked through the pipeline (an emergency revocation): governed, not a finding.
        var again = Approved(permanent.Replace("bob@tiny.example", "bob@tiny.example\", \"title\": \"again"), "", "carol");
        Assert.Empty(Invoke(again.RequestId).Errors);
        RunClean("New-AccessChange -Revoke -ResourceId site-general -PrincipalId u-joe -Role read | Invoke-ApprovedChange -EmergencyRevocation -Force");
        Assert.Equal(FindingStatus.Resolved, Assert.Single(RunClean("Invoke-ComplianceAudit").Objects<ComplianceFinding>(), f => f.CheckId == "AUD105").Status);
    }

    [Fact]
    public void AFileThatIsNotAnAuditLogIsAnErrorWithAStableId()
    {
        ConnectForApply();
        Temp.Write("audits.json", "{\"value\": [{\"activityDisplayName\": \"Add member to group\"}]}");
        SingleError(Run("Invoke-ComplianceAudit -AuditLogPath audits.json"), "AuditLogInvalid", "InvokeComplianceAuditCommand", System.Management.Automation.ErrorCategory.InvalidData);
    }

    private static int CountOf(string text, string what)
    {
        var n = 0;
        for (var i = text.IndexOf(what, StringComparison.Ordinal); i >= 0; i = text.IndexOf(what, i + what.Length, StringComparison.Ordinal))
        {
            n++;
        }

        return n;
    }
}
