using System.Management.Automation;
using AgentGovernance.Apply;
using AgentGovernance.Approval;
using AgentGovernance.Compliance;
using AgentGovernance.Tests.Cmdlets;
using AgentGovernance.Tests.Support;

namespace AgentGovernance.Tests.Compliance;

/// <summary>Invoke-ComplianceAudit on the tiny tenant with exposures added, driven as a runbook would.</summary>
[Collection(ClockCollection.Name)]
public sealed class ComplianceAuditTests : ApplyTestBase
{
    public ComplianceAuditTests(HostFixture fixture)
        : base(fixture)
    {
    }

    /// <summary>
    /// The tiny tenant plus: site-secret (HighlyConfidential, personal data) read by everyoneExceptExternal, Joe (a
    /// guest) in g-data, which reads site-secret and holds role-admin; site-team (Confidential, no owner) with an
    /// anonymous link and read by sp-bot (an agent).
    /// </summary>
    private void ConnectExposed(string extraPolicy = "")
    {
        var text = CmdletTestData.Snapshot
            .Replace("\"members\": [\"u-carol\"]", "\"members\": [\"u-carol\", \"u-joe\"]")
            .Replace("""{ "resource": "role-admin", "principal": "u-carol", "role": "member" }""",
                """
                { "resource": "role-admin", "principal": "u-carol", "role": "member" },
                { "resource": "role-admin", "principal": "g-data", "role": "member" },
                { "resource": "site-secret", "principal": "everyoneExceptExternal", "role": "read" },
                { "resource": "site-team", "principal": "anyone", "role": "read" },
                { "resource": "site-team", "principal": "sp-bot", "role": "read" }
                """);
        Temp.Write("tiny.snapshot.json", text);
        ConnectForApply(extraPolicy: extraPolicy);
    }

    private List<ComplianceFinding> Audit(string options = "") => RunClean("Invoke-ComplianceAudit " + options).Objects<ComplianceFinding>().ToList();

    /// <summary>The findings of an audit that count (not those resolved since the previous run).</summary>
    private List<ComplianceFinding> Standing(string options = "") => Audit(options).Where(f => f.Status != FindingStatus.Resolved).ToList();

    [Fact]
    public void StandingExposureIsFoundWithEvidenceAndWorstFirst()
    {
        ConnectExposed();

        var findings = Audit();

        Assert.Equal(
            new[]
            {
                "AUD001:site-secret Critical", "AUD002:site-team Critical",
                "AUD003:site-secret High", "AUD004:site-secret High", "AUD004:site-team High", "AUD006:role-admin High", "AUD203:LedgerSigners High",
                "AUD007:site-team Medium",
            },
            findings.Select(f => $"{f.Id} {f.Severity}"));
        Assert.All(findings, f => Assert.Equal(FindingStatus.New, f.Status));
        var guest = findings.Single(f => f.CheckId == "AUD003");
        Assert.Equal(new object?[] { "u-joe" }, (IEnumerable<object?>)guest.Evidence["principals"]!);
        Assert.Equal(new object?[] { "u-joe -> g-data : read" }, (IEnumerable<object?>)guest.Evidence["paths"]!);
        Assert.Equal("remove u-joe from group g-data", Assert.Single(guest.Remediation!.Operations).ToString());
        var wide = findings.Single(f => f.CheckId == "AUD001");
        Assert.Equal(4, wide.Evidence["principals"]); // the enabled members alice, bob and carol, and joe (a guest) through g-data
        Assert.Equal("revoke read on site-secret from everyoneExceptExternal", Assert.Single(wide.Remediation!.Operations).ToString());
        var role = findings.Single(f => f.CheckId == "AUD006");
        Assert.Equal(2, role.Evidence["holders"]);
        Assert.Equal("remove u-joe from group g-data", Assert.Single(role.Remediation!.Operations).ToString());
        // alice (an agent by the policy) reaches site-secret only through the audience: AUD001's remediation covers her.
        var throughAudience = findings.Single(f => f.Id == "AUD004:site-secret");
        Assert.Null(throughAudience.Remediation);
        Assert.Equal(1, throughAudience.Evidence["throughAudienceOrPublicGroup"]);
        var agent = findings.Single(f => f.Id == "AUD004:site-team");
        Assert.Equal("revoke read on site-team from sp-bot", Assert.Single(agent.Remediation!.Operations).ToString());
        Assert.Null(findings.Single(f => f.CheckId == "AUD007").Remediation);
    }

    [Fact]
    public void TheSameStateGivesTheSameIdsAndEvidenceHashes()
    {
        ConnectExposed();
        var first = Audit().Select(f => (f.Id, f.EvidenceHash)).ToList();
        var second = Audit().Select(f => (f.Id, f.EvidenceHash)).ToList();
        Assert.Equal(first, second);
        Assert.Equal(first.Count, first.Select(f => f.Id).Distinct().Count());
    }

    [Fact]
    public void RemediationPipesIntoEmergencyRevocationAndTheNextAuditNoLongerFindsIt()
    {
        ConnectExposed();

        var result = RunClean("Invoke-ComplianceAudit | Where-Object CheckId -eq AUD001 | ForEach-Object Remediation | Invoke-ApprovedChange -EmergencyRevocation -Force")
            .Single<ApplyResult>();

        Assert.Equal(ApplyOutcome.Applied, result.Outcome);
        Assert.False(HasGrant(Directory, "site-secret", "everyoneExceptExternal", "read"));
        Assert.Equal(FindingStatus.Resolved, Assert.Single(Audit(), f => f.CheckId == "AUD001").Status);
        Assert.Single(Log("-Event EmergencyRevocation"));
    }

    [Fact]
    public void RemediationPipesIntoRequestHumanApproval()
    {
        ConnectExposed();

        var request = RunClean("Invoke-ComplianceAudit | Where-Object CheckId -eq AUD003 | ForEach-Object Remediation | Request-HumanApproval -RequestedBy bob@tiny.example")
            .Single<ApprovalRequest>();

        Assert.Equal(ApprovalStatus.Pending, request.Status);
        Assert.Equal("remove u-joe from group g-data", Assert.Single(request.Change.Operations).ToString());
    }

    [Fact]
    public void TimeBoxedAccessPastItsEndIsFoundUntilItIsRevertedAndSaysSoWhenRevertedAroundThePipeline()
    {
        using var clock = new TestClock(DateTimeOffset.UtcNow);
        ConnectForApply();
        var small = Approved(CmdletTestData.SmallChange, "-RequestedBy bob@tiny.example", "carol");
        Assert.Empty(Invoke(small.RequestId).Errors);
        Assert.DoesNotContain(Audit(), f => f.CheckId == "AUD101");

        clock.Advance(TimeSpan.FromHours(9));
        var overdue = Assert.Single(Audit(), f => f.CheckId == "AUD101");
        Assert.Equal((ComplianceSeverity.High, small.RequestId), (overdue.Severity, overdue.Target));
        Assert.Equal(1, overdue.Evidence["inEffectCount"]);
        Assert.Equal("revoke read on site-general from u-joe", Assert.Single(overdue.Remediation!.Operations).ToString());

        // Reverted around the request (an emergency revocation of the remediation): still a finding, now Low.
        RunClean("Invoke-ComplianceAudit | Where-Object CheckId -eq AUD101 | ForEach-Object Remediation | Invoke-ApprovedChange -EmergencyRevocation -Force");
        Assert.False(HasGrant(Directory, "site-general", "u-joe", "read"));
        var around = Assert.Single(Audit(), f => f.CheckId == "AUD101");
        Assert.Equal(ComplianceSeverity.Low, around.Severity);
        Assert.Null(around.Remediation);
        Assert.Equal(0, around.Evidence["inEffectCount"]);

        RunClean("Invoke-AccessExpiry");
        Assert.DoesNotContain(Standing(), f => f.CheckId == "AUD101");
    }

    [Fact]
    public void ExpiredRequestsAreOneFindingThatNamesThoseWithTheirQuorumFirst()
    {
        using var clock = new TestClock(DateTimeOffset.UtcNow);
        ConnectForApply();
        var approved = Approved();
        var pending = Open(ChangeWith("\"requestedBy\": \"bob@tiny.example\"", "{ \"op\": \"grant\", \"resource\": \"site-general\", \"principal\": \"u-joe\", \"role\": \"read\" }"));
        Assert.DoesNotContain(Audit(), f => f.CheckId == "AUD102");

        clock.Advance(TimeSpan.FromDays(1) + TimeSpan.FromSeconds(1));
        var lapsed = Assert.Single(Audit(), f => f.CheckId == "AUD102");

        Assert.Equal((2, 1), ((int)lapsed.Evidence["expired"]!, (int)lapsed.Evidence["approvedUnused"]!));
        var named = ((IEnumerable<object?>)lapsed.Evidence["requests"]!).Cast<string>().ToList();
        Assert.StartsWith(approved.RequestId + " 2/2", named[0]);
        Assert.StartsWith(pending.RequestId + " 0/", named[1]);
    }

    [Fact]
    public void AnEditedLedgerAndAWeakPolicyAreFound()
    {
        ConnectForApply(extraPolicy: "    RequiredApprovals = @{ High = 1; Critical = 1 }\n    Rules = @{ AG003 = @{ Enabled = $false } }\n    HardDeny = @{ AG001 = 'Never' }\n");
        Open();
        var ledger = Path.Combine(StorePath, "ledger.jsonl");
        File.WriteAllText(ledger, File.ReadAllText(ledger).Replace("Let Engineering read the exports", "Let Engineering read the exports!"));

        var findings = Audit();

        var broken = Assert.Single(findings, f => f.CheckId == "AUD201");
        Assert.Equal(ComplianceSeverity.Critical, broken.Severity);
        Assert.Equal("EntryEdited", broken.Evidence["problem"]);
        Assert.Contains(findings, f => f.Id == "AUD301:AG003" && f.Severity == ComplianceSeverity.Medium);
        Assert.Contains(findings, f => f.Id == "AUD302:RequiredApprovals");
        Assert.Contains(findings, f => f.Id == "AUD303:HardDeny.AG001");
    }

    [Fact]
    public void FailOnWritesEveryFindingAndThenATerminatingErrorWithAStableId()
    {
        ConnectExposed();

        var below = Run("Invoke-ComplianceAudit -FailOn Critical -OutVariable kept | Out-Null; $kept.Count");
        var error = Assert.Single(below.Errors);
        AssertError(error, "ComplianceAuditFailed", "InvokeComplianceAuditCommand", ErrorCategory.InvalidResult);
        Assert.Equal(2, error.TargetObject);
        Assert.Contains("AUD001:site-secret, AUD002:site-team", error.Exception.Message);
        Assert.Equal(8, Assert.Single(below.Output).BaseObject);

        var fine = Run("Invoke-ComplianceAudit -Policy (Import-GovernancePolicy policy.psd1) -Snapshot (Import-AccessSnapshot $args[0]) -FailOn Critical",
            Temp.Write("plain.json", CmdletTestData.Snapshot));
        Assert.True(fine.Errors.Count == 0, string.Join("; ", fine.Errors));
        Assert.Equal(new[] { "AUD203:LedgerSigners", "AUD007:site-team" }, fine.Objects<ComplianceFinding>().Where(f => f.Status != FindingStatus.Resolved).Select(f => f.Id));
    }

    [Fact]
    public void TheChecksPageListsEveryCheckWithItsNameAndSeverity()
    {
        var page = File.ReadAllText(Path.Combine(Repo.Root, "docs", "compliance-checks.md"));
        foreach (var check in ComplianceCheck.All)
        {
            Assert.Contains($"| {check.Id} | {check.Name} | {check.Category} | {check.Severity} |", page);
        }

        Assert.Equal(ComplianceCheck.All.Count, ComplianceCheck.All.Select(c => c.Id).Distinct().Count());
    }

    [Fact]
    public void EachRunIsInTheLedgerAndTheNextOneSaysWhatIsNewPersistingAndResolved()
    {
        ConnectExposed();
        var first = Audit();
        Assert.All(first, f => Assert.Equal(FindingStatus.New, f.Status));

        RunClean("Invoke-ComplianceAudit | Where-Object CheckId -eq AUD001 | ForEach-Object Remediation | Invoke-ApprovedChange -EmergencyRevocation -Force");
        var second = Audit();

        // Closing the audience also ends alice's access (an agent by the policy), which came only through it.
        var resolved = second.Where(f => f.Status == FindingStatus.Resolved).ToList();
        Assert.Equal(new[] { ("AUD001:site-secret", ComplianceSeverity.Critical), ("AUD004:site-secret", ComplianceSeverity.High) }, resolved.Select(f => (f.Id, f.Severity)));
        Assert.All(resolved, f => Assert.StartsWith("Resolved since the audit of ", f.Message));
        Assert.Equal(resolved, second.Skip(second.Count - 2));
        Assert.All(second.Take(second.Count - 2), f => Assert.Equal(FindingStatus.Persisting, f.Status));
        Assert.Equal(first.Count - 2, second.Count(f => f.Status == FindingStatus.Persisting));

        var runs = RunClean("Get-ComplianceAuditResult").Objects<ComplianceRun>().ToList();
        Assert.Equal(3, runs.Count); // the audit in the remediation's pipeline is a run too
        Assert.Equal(new[] { "AUD001:site-secret", "AUD004:site-secret" }, runs[2].Resolved);
        Assert.Empty(runs[1].Resolved);
        Assert.Equal(first.Count, runs[0].New);
        Assert.Equal((0, 0), (runs[1].New, runs[2].New));
        Assert.Equal(first.Select(f => (f.Id, f.EvidenceHash)), runs[0].Findings.Select(f => (f.Id, f.EvidenceHash)));
        Assert.Equal(runs[2].Sequence, RunClean("Get-ComplianceAuditResult -Last 1").Single<ComplianceRun>().Sequence);
        Assert.Empty(RunClean("Get-ComplianceAuditResult -TenantId other.example").Output);
        Assert.True(RunClean("Test-GovernanceAuditLog -Quiet").Single<bool>());
        var entry = Log("-Event ComplianceAudited").Last();
        Assert.Equal(runs[2].ReportHash, entry.Details["reportHash"]);
        Assert.Equal(runs[1].Sequence, entry.Details["previousSequence"]);
    }

    [Fact]
    public void AnAuditOnALedgerThatDoesNotVerifyIsNotRecordedAndSaysSo()
    {
        ConnectForApply();
        Open();
        var ledger = Path.Combine(StorePath, "ledger.jsonl");
        File.WriteAllText(ledger, File.ReadAllText(ledger).Replace("Let Engineering read the exports", "Let Engineering read it all"));
        var before = File.ReadAllBytes(ledger);

        var result = Run("Invoke-ComplianceAudit");

        Assert.Contains(result.Objects<ComplianceFinding>(), f => f.CheckId == "AUD201");
        Assert.Contains(result.Warnings, w => w.StartsWith("The audit was not recorded in the ledger (LedgerTampered)", StringComparison.Ordinal));
        Assert.Equal(before, File.ReadAllBytes(ledger));
    }

    [Fact]
    public void TheFullReportIsKeptInTheStoreAndFullReadsItBackCheckedAgainstTheLedgersHash()
    {
        ConnectExposed();
        var findings = RunClean("Invoke-ComplianceAudit -OutputPath report.json").Objects<ComplianceFinding>().ToList();
        var entry = Log("-Event ComplianceAudited").Last();
        var hash = (string)entry.Details["reportHash"]!;
        var stored = Path.Combine(StorePath, "compliance", hash.Substring(7) + ".json");
        Assert.Equal(hash, "sha256:" + Json.Hashing.Sha256Hex(File.ReadAllBytes(stored)));
        Assert.Equal("compliance/" + hash.Substring(7), entry.Details["reportDocument"]);

        var full = RunClean("Get-ComplianceAuditResult -Last 1 -Full").Single<StoredComplianceReport>();
        Assert.Equal((hash, entry.Sequence, findings.Count), (full.ReportHash, full.Sequence, full.Findings));
        Assert.Equal(Json.CanonicalJson.Canonicalize(File.ReadAllText(Temp["report.json"])), Json.CanonicalJson.Canonicalize(full.Json));
        var report = RunClean("(Get-ComplianceAuditResult -Last 1 -Full).Report.findings | Where-Object checkId -eq AUD003 | ForEach-Object { $_.evidence.principals[0] }");
        Assert.Equal("u-joe", Assert.Single(report.Output).BaseObject);

        // Edited in the store: not the report of that audit.
        File.WriteAllText(stored, File.ReadAllText(stored).Replace("u-joe", "u-bob"));
        var edited = Run("Get-ComplianceAuditResult -Last 1 -Full");
        Assert.Empty(edited.Output);
        Assert.Contains(hash, SingleError(edited, "ReportTampered", "GetComplianceAuditResultCommand", ErrorCategory.SecurityError).Exception.Message);

        File.Delete(stored);
        SingleError(Run("Get-ComplianceAuditResult -Last 1 -Full"), "ReportNotStored", "GetComplianceAuditResultCommand", ErrorCategory.ObjectNotFound);
        Assert.Single(RunClean("Get-ComplianceAuditResult -Last 1").Objects<ComplianceRun>()); // without -Full, the ledger's record alone
    }

    /// <summary>Directory text an attacker controls: a script end, an HTML event handler, a markdown link, a bidi override and a control character.</summary>
    private const string Hostile = "Team </script><img src=x onerror=alert(1)> [click](javascript:alert(2)) \u202Egnp.exe\u0007";

    [Fact]
    public void OutputPathWritesHtmlJsonAndJUnitWithDirectoryTextEscapedInEachAndTheJsonHashIsInTheLedger()
    {
        Temp.Write("tiny.snapshot.json", CmdletTestData.Snapshot.Replace("\"displayName\": \"Team Site\"", "\"displayName\": " + System.Text.Json.JsonSerializer.Serialize(Hostile)));
        ConnectForApply();

        var result = RunClean("Invoke-ComplianceAudit -OutputPath report.html, report.json, report.xml");

        var html = File.ReadAllText(Temp["report.html"]);
        var json = File.ReadAllText(Temp["report.json"]);
        var xml = File.ReadAllText(Temp["report.xml"]);
        Assert.StartsWith("<!DOCTYPE html>", html);
        Assert.Equal(1, CountOf(html, "<script"));
        Assert.Equal(0, CountOf(html, "<img"));
        Assert.DoesNotContain("href=\"javascript", html);
        Assert.DoesNotContain("src=\"http", html);
        Assert.Contains("Team &lt;/script&gt;&lt;img src=x onerror=alert(1)&gt; [click](javascript:alert(2)) &lt;U+202E&gt;gnp.exe&lt;U+0007&gt;", html);
        Assert.True(html.IndexOf("id=\"summary\"", StringComparison.Ordinal) < html.IndexOf("id=\"findings\"", StringComparison.Ordinal));
        foreach (var text in new[] { html, json, xml })
        {
            Assert.DoesNotContain('\u202E', text);
            Assert.DoesNotContain('\u0007', text);
        }

        Assert.DoesNotContain("</script>", json);
        using var doc = System.Text.Json.JsonDocument.Parse(json);
        Assert.Equal(ComplianceReport.Schema, doc.RootElement.GetProperty("schema").GetString());
        var hash = "sha256:" + Json.Hashing.Sha256Hex(System.Text.Encoding.UTF8.GetBytes(Json.CanonicalJson.Serialize(doc.RootElement)));
        Assert.Equal(Log("-Event ComplianceAudited").Last().Details["reportHash"], hash);
        var findings = result.Objects<ComplianceFinding>().ToList();
        Assert.Equal(findings.Count, doc.RootElement.GetProperty("findings").GetArrayLength());

        var junit = System.Xml.Linq.XDocument.Parse(xml);
        var cases = junit.Descendants("testcase").ToList();
        Assert.Equal(findings.Count, cases.Count(c => c.Element("failure") is not null));
        Assert.Equal(cases.Count, (int)junit.Root!.Attribute("tests")!);
        Assert.Equal(findings.Count, (int)junit.Root!.Attribute("failures")!);
        Assert.Contains(cases, c => ((string)c.Attribute("name")!).Contains("Team </script><img src=x onerror=alert(1)>"));
    }

    [Fact]
    public void TheJsonFileIsStreamedFromTheCanonicalBytesByteForByteWhatParsingAndIndentingThemGivesAndItsHashIsTheLedgers()
    {
        // Text that takes every path of the token-by-token copy: escapes in the canonical form (quote, backslash, control),
        // a pair of surrogates, non-ASCII, and what the writer escapes for HTML.
        const string text = "Team \"q\" \\ \t \U0001F600 é </script>&";
        Temp.Write("tiny.snapshot.json", CmdletTestData.Snapshot.Replace("\"displayName\": \"Team Site\"", "\"displayName\": " + System.Text.Json.JsonSerializer.Serialize(text)));
        ConnectForApply();
        var spillAt = ComplianceOutput.SpillAt;
        ComplianceOutput.SpillAt = 1; // the HTML goes out after every row: the pieces must join into one valid page
        try
        {
            RunClean("Invoke-ComplianceAudit -OutputPath report.json, report.html, report.xml");
        }
        finally
        {
            ComplianceOutput.SpillAt = spillAt;
        }

        var hash = (string)Log("-Event ComplianceAudited").Last().Details["reportHash"]!;
        var canonical = File.ReadAllBytes(Path.Combine(StorePath, "compliance", hash.Substring(7) + ".json"));
        Assert.Equal(hash, "sha256:" + Json.Hashing.Sha256Hex(canonical));

        // What the module wrote before it streamed: the canonical text parsed, indented into a buffer, a string and a newline.
        using var doc = System.Text.Json.JsonDocument.Parse(System.Text.Encoding.UTF8.GetString(canonical));
        using var buffer = new MemoryStream();
        using (var writer = new System.Text.Json.Utf8JsonWriter(buffer, new System.Text.Json.JsonWriterOptions { Indented = true }))
        {
            doc.WriteTo(writer);
        }

        var expected = new System.Text.UTF8Encoding(false).GetBytes(System.Text.Encoding.UTF8.GetString(buffer.ToArray()) + "\n");
        var written = File.ReadAllBytes(Temp["report.json"]);
        Assert.Equal(expected, written);
        Assert.Equal(hash, "sha256:" + Json.Hashing.Sha256Hex(System.Text.Encoding.UTF8.GetBytes(Json.CanonicalJson.Canonicalize(System.Text.Encoding.UTF8.GetString(written)))));

        var html = File.ReadAllText(Temp["report.html"]);
        Assert.StartsWith("<!DOCTYPE html>", html);
        Assert.EndsWith("</script>\n</body></html>\n", html);
        Assert.Contains("Team &quot;q&quot; \\ &lt;U+0009&gt; \U0001F600 é &lt;/script&gt;&amp;", html);
        Assert.EndsWith("</testsuites>\n", File.ReadAllText(Temp["report.xml"]));
        System.Xml.Linq.XDocument.Parse(File.ReadAllText(Temp["report.xml"]));
    }

    [Fact]
    public void AnUnknownOutputExtensionIsRefusedBeforeAnythingIsAuditedOrWritten()
    {
        ConnectForApply();
        var entries = Log().Count;

        var result = Run("Invoke-ComplianceAudit -OutputPath report.html, report.txt");

        SingleError(result, "OutputFormatUnknown", "InvokeComplianceAuditCommand", ErrorCategory.InvalidArgument);
        Assert.Empty(result.Output);
        Assert.False(File.Exists(Temp["report.html"]));
        Assert.Equal(entries, Log().Count);
    }

    private static int CountOf(string text, string part)
    {
        var n = 0;
        for (var i = text.IndexOf(part, StringComparison.OrdinalIgnoreCase); i >= 0; i = text.IndexOf(part, i + 1, StringComparison.OrdinalIgnoreCase))
        {
            n++;
        }

        return n;
    }
}
