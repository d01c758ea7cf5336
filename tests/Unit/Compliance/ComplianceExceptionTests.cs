using System.Management.Automation;
using System.Text;
using AgentGovernance.Approval;
using AgentGovernance.Compliance;
using AgentGovernance.Ledger;
using AgentGovernance.Stores;
using AgentGovernance.Tests.Cmdlets;
using AgentGovernance.Tests.Support;

namespace AgentGovernance.Tests.Compliance;

/// <summary>
/// Approve-ComplianceException: a signed, expiring acceptance of a finding by a quorum of the policy's
/// approvers (by the finding's severity), recorded in the ledger; and the forgeries the audit does not honour.
/// </summary>
[Collection(ClockCollection.Name)]
public sealed class ComplianceExceptionTests : ApplyTestBase
{
    private const string Cmd = "ApproveComplianceExceptionCommand";

    public ComplianceExceptionTests(HostFixture fixture)
        : base(fixture)
    {
    }

    /// <summary>The exposed tiny tenant of ComplianceAuditTests: AUD001/AUD002 Critical, AUD004:site-team High (sp-bot), AUD007:site-team Medium.</summary>
    private void ConnectExposed(string extraGrants = "")
    {
        var text = CmdletTestData.Snapshot
            .Replace("\"members\": [\"u-carol\"]", "\"members\": [\"u-carol\", \"u-joe\"]")
            .Replace("""{ "resource": "role-admin", "principal": "u-carol", "role": "member" }""",
                """
                { "resource": "role-admin", "principal": "u-carol", "role": "member" },
                { "resource": "role-admin", "principal": "g-data", "role": "member" },
                { "resource": "site-secret", "principal": "everyoneExceptExternal", "role": "read" },
                { "resource": "site-team", "principal": "anyone", "role": "read" },
                """ + extraGrants + """
                { "resource": "site-team", "principal": "sp-bot", "role": "read" }
                """);
        Temp.Write("tiny.snapshot.json", text);
        ConnectForApply(new[] { "carol@tiny.example", "erin@example.org", "frank@example.org", "bob@tiny.example", "sp-bot" });
    }

    private List<ComplianceFinding> Audit(string options = "") => RunClean("Invoke-ComplianceAudit " + options).Objects<ComplianceFinding>().ToList();

    private ComplianceFinding Finding(string id) => Assert.Single(Audit(), f => f.Id == id);

    private RunResult Accept(string findingId, string key, string options = "-ExpiresIn P30D") =>
        Run($"Approve-ComplianceException -FindingId $args[0] -Reason 'Public by design: the team site is the press kit' -KeyPath $key_{key} -Passphrase $pw -Force {options}", findingId);

    private static SigningKey Key(string who) => ApproverKeyFile.Open(ApprovalTestData.Keys[who].Path, Encoding.UTF8.GetBytes(ApprovalTestData.Passphrase));

    /// <summary>What an insider with the store and its ledger signer can do: append a well-chained, well-signed ledger entry of any content.</summary>
    private void Append(ComplianceExceptionApproval approval, string? document = null, string? findingId = null)
    {
        using var store = FolderStore.Open(StorePath);
        using var signer = LedgerSigner.OpenOrCreate(Temp["keys/signer.json"]);
        var e = approval.ToLedgerEvent(1, 1);
        var details = e.Details.ToDictionary(p => p.Key, p => p.Value);
        if (document is not null)
        {
            details["document"] = document;
        }

        if (findingId is not null)
        {
            details["findingId"] = findingId;
        }

        new AuditLedger(store, signer).Append(new LedgerEvent(e.Event, e.Actor, null, null, details));
    }

    private static ComplianceExceptionApproval Signed(string who, ComplianceFinding f, string approver, string? evidenceHash = null, TimeSpan? expiresIn = null)
    {
        using var key = Key(who);
        var now = GovernanceClock.UtcNow;
        return ComplianceExceptionApproval.Sign(key, "tiny.example", f.Id, evidenceHash ?? f.EvidenceHash, f.Severity, "made up", approver, now, now + (expiresIn ?? TimeSpan.FromDays(30)));
    }

    [Fact]
    public void AQuorumOfApproversAcceptsACriticalFindingWithWhoWhyAndUntilAndFailOnNoLongerCountsIt()
    {
        using var clock = new TestClock(DateTimeOffset.UtcNow);
        ConnectExposed();
        Assert.Equal(FindingStatus.New, Finding("AUD002:site-team").Status);

        var first = Accept("AUD002:site-team", "carol");
        Assert.Empty(first.Errors);
        Assert.Contains(first.Warnings, w => w.Contains("1/2 approvals"));
        Assert.False(first.Single<ComplianceExceptionStatus>().QuorumMet);
        Assert.Equal(FindingStatus.Persisting, Finding("AUD002:site-team").Status); // one of two approvals accepts nothing

        var second = RunClean("Invoke-ComplianceAudit | Where-Object Id -eq AUD002:site-team | Approve-ComplianceException -Reason 'Press kit' -ExpiresIn P10D -KeyPath $key_erin -Passphrase $pw -Force")
            .Single<ComplianceExceptionStatus>();
        Assert.True(second.QuorumMet);
        Assert.Equal("2/2", second.Quorum);

        var run = Run("Invoke-ComplianceAudit -FailOn Critical");
        var accepted = Assert.Single(run.Objects<ComplianceFinding>(), f => f.Id == "AUD002:site-team");
        Assert.Equal(FindingStatus.Accepted, accepted.Status);
        Assert.Equal(new[] { "carol@tiny.example", "erin@example.org" }, accepted.AcceptedBy!.OrderBy(x => x));
        Assert.Contains("erin@example.org: Press kit", accepted.AcceptedReason);
        // The exception holds while both approvals do: until the earlier end (erin's ten days).
        Assert.Equal(GovernanceClock.Format(clock.Now + TimeSpan.FromDays(10)), GovernanceClock.Format(accepted.AcceptedUntil!.Value));
        var error = SingleError(run, "ComplianceAuditFailed", "InvokeComplianceAuditCommand", ErrorCategory.InvalidResult);
        Assert.Equal(1, error.TargetObject); // AUD001 alone
        Assert.DoesNotContain("AUD002", error.Exception.Message);
        Assert.Equal(2, Log("-Event ComplianceExceptionApproved").Count);
        var recorded = ((System.Collections.IEnumerable)Log("-Event ComplianceAudited").Last().Details["findings"]!).Cast<System.Collections.IDictionary>();
        Assert.Equal("Accepted", recorded.Single(x => (string)x["id"]! == "AUD002:site-team")["status"]);
    }

    [Fact]
    public void AMediumFindingNeedsOneApprovalAndOneApproverCountsOnceForACritical()
    {
        ConnectExposed();
        Audit();
        Assert.Empty(Accept("AUD007:site-team", "carol").Errors);
        Assert.Empty(Accept("AUD001:site-secret", "carol").Errors);
        Assert.Empty(Accept("AUD001:site-secret", "carol").Errors);

        var findings = Audit();
        Assert.Equal(FindingStatus.Accepted, findings.Single(f => f.Id == "AUD007:site-team").Status);
        var wide = findings.Single(f => f.Id == "AUD001:site-secret");
        Assert.Equal(FindingStatus.Persisting, wide.Status);
        Assert.Equal("1/2", wide.Acceptance!.Quorum);
    }

    [Fact]
    public void AnExceptionLapsesAtItsEnd()
    {
        using var clock = new TestClock(DateTimeOffset.UtcNow);
        ConnectExposed();
        Audit();
        Assert.Empty(Accept("AUD007:site-team", "carol", "-ExpiresIn P1D").Errors);
        Assert.Equal(FindingStatus.Accepted, Finding("AUD007:site-team").Status);

        clock.Advance(TimeSpan.FromDays(1) + TimeSpan.FromSeconds(1));
        var run = Run("Invoke-ComplianceAudit");
        var lapsed = Assert.Single(run.Objects<ComplianceFinding>(), f => f.Id == "AUD007:site-team");
        Assert.Equal(FindingStatus.Persisting, lapsed.Status);
        Assert.Null(lapsed.AcceptedBy);
        Assert.Contains(run.Warnings, w => w.Contains("AUD007:site-team") && w.Contains("expired"));
    }

    [Fact]
    public void AnExceptionLapsesWhenTheFindingsEvidenceChanges()
    {
        ConnectExposed();
        Audit();
        Assert.Empty(Accept("AUD004:site-team", "carol").Errors);
        Assert.Empty(Accept("AUD004:site-team", "erin").Errors);
        Assert.Equal(FindingStatus.Accepted, Finding("AUD004:site-team").Status);

        // Another agent (alice, by the policy's AgentIdentities) now reads site-team too: not what was accepted.
        ConnectExposed("""{ "resource": "site-team", "principal": "u-alice", "role": "read" },""");
        var run = Run("Invoke-ComplianceAudit");
        var changed = Assert.Single(run.Objects<ComplianceFinding>(), f => f.Id == "AUD004:site-team");
        Assert.Equal(FindingStatus.Persisting, changed.Status);
        Assert.Equal(2, changed.Evidence["count"]);
        Assert.Contains(run.Warnings, w => w.Contains("other evidence"));
    }

    [Fact]
    public void ForgedExceptionsInAWellSignedLedgerAreNotHonoured()
    {
        ConnectExposed();
        var f = Finding("AUD002:site-team");
        Assert.Empty(Accept("AUD002:site-team", "carol").Errors); // one genuine approval: a forged second one would complete the quorum

        // 1. erin's genuine approval with its end moved a year on: the signature no longer verifies.
        var genuine = Signed("erin@example.org", f, "erin@example.org");
        Append(genuine, genuine.Document.Replace(genuine.Document.Substring(genuine.Document.IndexOf("\"expiresAt\":\"", StringComparison.Ordinal) + 13, 4), "2099"));
        // 2. mallory's key (no policy lists it) claiming to be erin.
        Append(Signed("mallory@example.org", f, "erin@example.org"));
        // 3. frank's key claiming to be erin.
        Append(Signed("frank@example.org", f, "erin@example.org"));
        // 4. erin for other evidence, filed under this finding.
        Append(Signed("erin@example.org", f, "erin@example.org", evidenceHash: "sha256:" + new string('0', 64)));
        // 5. erin, already expired.
        Append(Signed("erin@example.org", f, "erin@example.org", expiresIn: TimeSpan.FromSeconds(-1)));
        // 6. not a document at all.
        Append(genuine, "{\"schema\":\"agentgovernance/compliance-exception@1\"}");
        // 7. sp-bot (an approver the policy lists, but an agent in the directory) with its own key.
        Append(Signed("sp-bot", f, "sp-bot"));

        var run = Run("Invoke-ComplianceAudit -FailOn Critical");
        var finding = Assert.Single(run.Objects<ComplianceFinding>(), x => x.Id == f.Id);
        Assert.Equal(FindingStatus.Persisting, finding.Status);
        Assert.Equal("1/2", finding.Acceptance!.Quorum);
        var ignored = string.Join("\n", finding.Acceptance.Ignored);
        Assert.Contains("the signature does not verify", ignored);
        Assert.Contains("is not an approver key the policy lists", ignored);
        Assert.Contains("signed with the key of frank@example.org", ignored);
        Assert.Contains("for other evidence", ignored);
        Assert.Contains("expired", ignored);
        Assert.Contains("not a compliance exception", ignored);
        Assert.Contains("agent identity", ignored);
        Assert.Equal(7, finding.Acceptance.Ignored.Count);
        Assert.Contains("AUD002:site-team", SingleError(run, "ComplianceAuditFailed", "InvokeComplianceAuditCommand", ErrorCategory.InvalidResult).Exception.Message);

        // The control: erin's genuine approval, appended the same way, is honoured.
        Append(genuine);
        Assert.Equal(FindingStatus.Accepted, Finding(f.Id).Status);
    }

    [Fact]
    public void RefusalsHaveStableErrorIdsAndRecordNothing()
    {
        ConnectExposed();
        AssertError(Assert.Single(Accept("AUD002:site-team", "carol").Errors), "FindingNotFound", Cmd, ErrorCategory.ObjectNotFound); // no audit yet
        Audit();
        AssertError(Assert.Single(Accept("AUD999:nothing", "carol").Errors), "FindingNotFound", Cmd, ErrorCategory.ObjectNotFound);
        AssertError(Assert.Single(Accept("AUD002:site-team", "mallory").Errors), "ApproverNotEligible", Cmd, ErrorCategory.PermissionDenied);
        AssertError(Assert.Single(Accept("AUD002:site-team", "sp_bot").Errors), "ApproverIsAgent", Cmd, ErrorCategory.PermissionDenied);
        AssertError(Assert.Single(Accept("AUD002:site-team", "carol", "-ExpiresIn P400D").Errors), "ExceptionExpiryInvalid", Cmd, ErrorCategory.InvalidArgument);
        Assert.Empty(Log("-Event ComplianceExceptionApproved"));
    }
}
