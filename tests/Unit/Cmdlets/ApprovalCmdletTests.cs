using System.Management.Automation;
using System.Text;
using AgentGovernance.Approval;
using AgentGovernance.Ledger;
using AgentGovernance.Tests.Support;

namespace AgentGovernance.Tests.Cmdlets;

/// <summary>
/// Request-HumanApproval, Approve-AccessChange, Deny-AccessChange and Get-ApprovalRequest, driven as a
/// user drives them, and every refusal of S1 to S4 and S6 with its own ErrorId.
/// </summary>
public sealed class ApprovalCmdletTests : ApprovalTestBase
{
    private const string Approve_ = "ApproveAccessChangeCommand";
    private const string Request_ = "RequestHumanApprovalCommand";

    public ApprovalCmdletTests(HostFixture fixture)
        : base(fixture)
    {
    }

    [Fact]
    public void ARequestIsBoundToTheChangeAndItsReportAndNeedsTheApprovalsOfItsRisk()
    {
        Connect();

        var request = Open();

        Assert.Matches("^req-[0-9]{8}-[0-9a-f]{8}$", request.RequestId);
        Assert.Equal(ApprovalStatus.Pending, request.Status);
        Assert.Equal("bob@tiny.example", request.RequestedBy);
        Assert.Equal(Exposure.RiskLevel.Critical, request.RiskLevel);
        Assert.Equal(2, request.RequiredApprovals);
        // bob asked, sp-bot suggested (and is an agent), u-alice is an agent by her UPN in the policy.
        Assert.Equal(new[] { "carol@tiny.example", "erin@example.org", "frank@example.org" }, request.EligibleApprovers);
        Assert.Equal(Json.CanonicalJson.Hash(request.Exposure.Json), request.ReportHash);
        Assert.Equal(Changes.ChangeReader.ParseText(CmdletTestData.GrantChange).Id, request.ChangeId);
        Assert.Equal(request.RequestHash, Json.Hashing.Sha256Id(File.ReadAllBytes(Path.Combine(StorePath, "requests", request.RequestId + ".json"))));
        Assert.Equal(new[] { LedgerEvents.ChangeProposed, LedgerEvents.RiskAssessed, LedgerEvents.ApprovalRequested }, Log().Select(e => e.Event));
        Assert.All(Log(), e => Assert.Equal("bob@tiny.example", e.Actor));
        Assert.Equal(request.RequestHash, Log("-Event ApprovalRequested").Single().Details["requestHash"]);
    }

    [Fact]
    public void TwoDistinctEligibleApprovalsMeetTheQuorumAndTheLedgerVerifies()
    {
        Connect();
        var request = Open();

        var first = Approve(request.RequestId, "carol");
        Assert.Empty(first.Errors);
        Assert.Equal(ApprovalStatus.Pending, first.Single<ApprovalRequest>().Status);
        var second = Approve(request.RequestId, "frank", "-Force -Comment 'checked with the data owner'");
        Assert.Empty(second.Errors);

        var approved = Get(request.RequestId);
        Assert.Equal(ApprovalStatus.Approved, approved.Status);
        Assert.True(approved.QuorumMet);
        Assert.Equal(new[] { "carol@tiny.example", "frank@example.org" }, approved.ApprovedBy);
        Assert.Equal("checked with the data owner", approved.Decisions[1].Comment);
        Assert.Equal(PublicKey.RS256, approved.Decisions[1].Decision.Algorithm);
        var approvals = Log("-Event Approved");
        Assert.Equal(new[] { "carol@tiny.example", "frank@example.org" }, approvals.Select(e => e.Actor));
        Assert.Equal(true, approvals[1].Details["quorumMet"]);
        Assert.True(RunClean("Test-GovernanceAuditLog -Quiet").Single<bool>());
    }

    [Fact]
    public void OneApproverCountsOnce()
    {
        Connect();
        var request = Open();
        Approve(request.RequestId, "carol");

        var again = Approve(request.RequestId, "carol");

        SingleError(again, "AlreadyDecided", Approve_, ErrorCategory.InvalidOperation);
        Assert.Equal(1, Get(request.RequestId).Approvals);
    }

    [Theory]
    [InlineData("bob", "ApproverIsRequester")]
    [InlineData("sp_bot", "ApproverIsAgent")]
    [InlineData("u_alice", "ApproverIsAgent")]
    [InlineData("mallory", "ApproverNotEligible")]
    public void WhoMayNeverApproveIsRefusedAndTheAttemptIsAudited(string key, string errorId)
    {
        Connect();
        var request = Open();

        var result = Approve(request.RequestId, key);

        var error = SingleError(result, errorId, Approve_, ErrorCategory.PermissionDenied);
        Assert.Contains(request.RequestId, error.Exception.Message);
        Assert.Empty(result.Output);
        Assert.DoesNotContain(System.IO.Directory.GetFiles(StorePath, "*.json", SearchOption.AllDirectories), f => f.Contains("decisions"));
        var refused = Log("-Event ApprovalRefused").Single();
        Assert.Equal(errorId, refused.Details["reason"]);
        Assert.Equal(0, Get(request.RequestId).Approvals);
    }

    [Fact]
    public void AnAgentTheDirectoryMarksCannotApproveEvenWhenItDidNotSuggest()
    {
        Connect();
        var request = Open(ChangeWith("\"requestedBy\": \"bob@tiny.example\", \"suggestedBy\": { \"type\": \"user\", \"id\": \"u-dave\" }"));

        SingleError(Approve(request.RequestId, "sp_bot"), "ApproverIsAgent", Approve_, ErrorCategory.PermissionDenied);
    }

    [Fact]
    public void WhoSuggestedTheChangeCannotApproveIt()
    {
        Connect();
        var request = Open(ChangeWith("\"requestedBy\": \"bob@tiny.example\", \"suggestedBy\": { \"type\": \"user\", \"id\": \"u-carol\" }"));

        // The suggestion names u-carol; the approver key is carol@tiny.example's: the directory says they are one person.
        SingleError(Approve(request.RequestId, "carol"), "ApproverIsSuggester", Approve_, ErrorCategory.PermissionDenied);
        Assert.DoesNotContain("carol@tiny.example", request.EligibleApprovers);
    }

    [Fact]
    public void TheRequesterIsRecognisedUnderAnyOfTheirNames()
    {
        Connect();
        var request = Open(ChangeWith("\"requestedBy\": \"u-carol\""));

        Assert.Equal("u-carol", request.RequestedBy);
        SingleError(Approve(request.RequestId, "carol"), "ApproverIsRequester", Approve_, ErrorCategory.PermissionDenied);
    }

    [Fact]
    public void AWrongPassphraseSignsNothing()
    {
        Connect();
        var request = Open();

        var result = Run("Approve-AccessChange $args[0] -KeyPath $key_carol -Passphrase ([System.Net.NetworkCredential]::new('', 'not the passphrase').SecurePassword) -Force", request.RequestId);

        SingleError(result, "PassphraseIncorrect", Approve_, ErrorCategory.SecurityError);
        Assert.Empty(Log("-Event Approved"));
    }

    [Fact]
    public void ADeniedRequestCannotBeApproved()
    {
        Connect();
        var request = Open();
        Approve(request.RequestId, "carol");

        var denied = Deny(request.RequestId, "erin", "-Force -Comment 'not without the data owner'");
        Assert.Empty(denied.Errors);
        Assert.Equal(ApprovalStatus.Denied, denied.Single<ApprovalRequest>().Status);

        SingleError(Approve(request.RequestId, "frank"), "RequestDenied", Approve_, ErrorCategory.InvalidOperation);
        var after = Get(request.RequestId);
        Assert.Equal(ApprovalStatus.Denied, after.Status);
        Assert.Equal(new[] { "erin@example.org" }, after.DeniedBy);
        Assert.Equal("denied by erin@example.org: not without the data owner", Log("-Event Denied").Single().Summary);
    }

    [Fact]
    public void ARequestEditedInTheStoreAfterItWasOpenedCountsForNothing()
    {
        Connect();
        var request = Open();
        Approve(request.RequestId, "carol");
        var file = Path.Combine(StorePath, "requests", request.RequestId + ".json");
        // The request's own count (the last one in canonical order; the exposure summary holds another).
        var text = File.ReadAllText(file);
        var at = text.LastIndexOf("\"requiredApprovals\":2", StringComparison.Ordinal);
        File.WriteAllText(file, text.Substring(0, at) + "\"requiredApprovals\":1" + text.Substring(at + "\"requiredApprovals\":2".Length));

        var get = Run("Get-ApprovalRequest $args[0]", request.RequestId);
        Assert.True(get.Errors.Count == 0, string.Join("; ", get.Errors.Select(e => e.FullyQualifiedErrorId + " " + e.Exception)));
        var tampered = get.Single<ApprovalRequest>();
        Assert.Equal(ApprovalStatus.Invalid, tampered.Status);
        Assert.Contains(get.Warnings, w => w.Contains("RequestTampered"));
        // The decision made before signed the original request's hash, so it does not count for the edited one.
        Assert.Equal(0, tampered.Approvals);
        Assert.Equal("DecisionReplayed", tampered.Decisions.Single().ProblemId);
        SingleError(Approve(request.RequestId, "frank"), "RequestTampered", Approve_, ErrorCategory.SecurityError);
    }

    [Fact]
    public void ARequestFileThatIsNotARequestIsNamed()
    {
        Connect();
        var request = Open();
        File.WriteAllText(Path.Combine(StorePath, "requests", request.RequestId + ".json"), "{ \"schema\": 1 }");

        SingleError(Run("Get-ApprovalRequest $args[0]", request.RequestId), "RequestTampered", "GetApprovalRequestCommand", ErrorCategory.SecurityError);
    }

    [Fact]
    public void ADecisionReplayedOntoAnotherRequestDoesNotCount()
    {
        Connect();
        var a = Open();
        var b = Open(ChangeWith("\"requestedBy\": \"bob@tiny.example\", \"title\": \"another\""));
        Approve(a.RequestId, "carol");
        var decision = System.IO.Directory.GetFiles(Path.Combine(StorePath, "decisions", a.RequestId)).Single();
        System.IO.Directory.CreateDirectory(Path.Combine(StorePath, "decisions", b.RequestId));
        File.Copy(decision, Path.Combine(StorePath, "decisions", b.RequestId, Path.GetFileName(decision)));

        var replayed = Get(b.RequestId);

        Assert.Equal(0, replayed.Approvals);
        Assert.Equal("DecisionReplayed", replayed.Decisions.Single().ProblemId);
        Assert.Equal(1, Get(a.RequestId).Approvals);
    }

    [Fact]
    public void ADecisionForgedByWhoeverCanWriteTheStoreDoesNotCount()
    {
        Connect();
        var request = Open();
        Approve(request.RequestId, "carol");
        var folder = Path.Combine(StorePath, "decisions", request.RequestId);
        var genuine = File.ReadAllText(System.IO.Directory.GetFiles(folder).Single());

        // The genuine decision with its approver renamed, and one "by erin" signed with mallory's key.
        var renamed = genuine.Replace("\"approver\":\"carol@tiny.example\"", "\"approver\":\"erin@example.org\"");
        File.WriteAllText(Path.Combine(folder, "dec-renamed.json"), renamed);
        using var mallory = ApproverKeyFile.Open(ApprovalTestData.Keys["mallory@example.org"].Path, Encoding.UTF8.GetBytes(ApprovalTestData.Passphrase));
        var forged = genuine.Replace("\"approver\":\"carol@tiny.example\"", "\"approver\":\"erin@example.org\"")
            .Replace(ApprovalTestData.Keys["carol@tiny.example"].Key.KeyId, ApprovalTestData.Keys["erin@example.org"].Key.KeyId);
        File.WriteAllText(Path.Combine(folder, "dec-forged.json"), forged);

        var after = Get(request.RequestId);

        Assert.Equal(1, after.Approvals);
        Assert.Equal(ApprovalStatus.Pending, after.Status);
        Assert.Equal(2, after.Decisions.Count(d => d.ProblemId == "SignatureInvalid"));
    }

    [Fact]
    public void ASignedDecisionCopiedIntoTheStoreWithoutTheLedgerDoesNotCount()
    {
        Connect();
        var request = Open();
        using var frank = ApproverKeyFile.Open(ApprovalTestData.Keys["frank@example.org"].Path, Encoding.UTF8.GetBytes(ApprovalTestData.Passphrase));
        var decision = ApprovalDecision.Sign(frank, Get(request.RequestId), DecisionKind.Approve, "frank@example.org", GovernanceClock.UtcNow, null);
        var folder = Path.Combine(StorePath, "decisions", request.RequestId);
        System.IO.Directory.CreateDirectory(folder);
        File.WriteAllBytes(Path.Combine(folder, decision.DecisionId + ".json"), decision.Document);

        var after = Get(request.RequestId);

        Assert.Equal(0, after.Approvals);
        Assert.Equal("DecisionNotRecorded", after.Decisions.Single().ProblemId);
    }

    [Fact]
    public void WithoutForceApprovingAsksFirstAndAHostThatCannotAskApprovesNothing()
    {
        Connect();
        var request = Open();

        var result = Approve(request.RequestId, "carol", options: string.Empty);

        Assert.NotEmpty(result.Errors);
        Assert.Empty(Log("-Event Approved"));
        Assert.Equal(0, Get(request.RequestId).Approvals);
    }

    [Fact]
    public void WhatIfTellsWhatWouldBeSignedAndSignsNothing()
    {
        Connect();
        var request = Open();
        Ps.TakeScreen();

        var result = Approve(request.RequestId, "carol", "-WhatIf");

        Assert.Empty(result.Errors);
        Assert.Contains("What if: Approve " + request.RequestId + " as carol@tiny.example", PowerShellHost.Plain(Ps.TakeScreen()));
        Assert.Empty(Log("-Event Approved"));
        Assert.False(System.IO.Directory.Exists(Path.Combine(StorePath, "decisions", request.RequestId)) && System.IO.Directory.GetFiles(Path.Combine(StorePath, "decisions", request.RequestId)).Length > 0);
    }

    [Fact]
    public void ForceWithWhatIfStillOnlyTells()
    {
        Connect();
        var request = Open();

        Assert.Empty(Approve(request.RequestId, "carol", "-Force -WhatIf").Errors);
        Assert.Empty(Log("-Event Approved"));
    }

    [Fact]
    public void TheApproverSeesTheStoredRequestBeforeSigning()
    {
        Connect();
        var request = Open();

        var result = Approve(request.RequestId, "carol", "-Force -Verbose");

        var text = string.Join("\n", result.Verbose);
        Assert.Contains("Request " + request.RequestId + ": Let Engineering read the exports", text);
        Assert.Contains("grant read on site-secret to g-eng", text);
        Assert.Contains("Risk Critical", text);
        Assert.Contains("Suggested by Helper Bot (sp-bot) at https://forum.example/t/1; requested by bob@tiny.example", text);
        Assert.Contains(request.ReportHash, text);
    }

    [Fact]
    public void ABlockedChangeCannotBeRequestedExceptThroughBreakGlass()
    {
        Connect(breakGlass: new[] { "carol@tiny.example", "erin@example.org", "frank@example.org" });
        Temp.Write("link.json", ChangeWith("\"requestedBy\": \"bob@tiny.example\"", "{ \"op\": \"createLink\", \"resource\": \"site-secret\", \"scope\": \"anonymous\", \"role\": \"read\" }"));

        var refused = Run("Import-AccessChange link.json | Request-HumanApproval");
        SingleError(refused, "ChangeBlocked", Request_, ErrorCategory.PermissionDenied);
        Assert.Empty(System.IO.Directory.GetFiles(Path.Combine(StorePath, "requests")));

        var glass = RunClean("Import-AccessChange link.json | Request-HumanApproval -BreakGlass -Reason 'Auditors need the export before 09:00 (ticket 42)'");
        var request = glass.Single<ApprovalRequest>();
        Assert.True(request.BreakGlass);
        Assert.Equal(3, request.RequiredApprovals);
        Assert.Contains(glass.Warnings, w => w.Contains("BREAK-GLASS"));
        var loud = Log("-Event BreakGlassRequested").Single();
        Assert.Equal("Auditors need the export before 09:00 (ticket 42)", loud.Details["reason"]);
        Assert.StartsWith("BREAK-GLASS", loud.Summary);
    }

    [Fact]
    public void OnlyBreakGlassApproversMayApproveABreakGlassRequest()
    {
        Connect(breakGlass: new[] { "carol@tiny.example", "erin@example.org", "frank@example.org" }, approvers: DefaultApprovers.Append("mallory@example.org"));
        Temp.Write("link.json", ChangeWith("\"requestedBy\": \"bob@tiny.example\"", "{ \"op\": \"createLink\", \"resource\": \"site-secret\", \"scope\": \"anonymous\", \"role\": \"read\" }"));
        var request = RunClean("Import-AccessChange link.json | Request-HumanApproval -BreakGlass -Reason 'Auditors need the export before 09:00'").Single<ApprovalRequest>();

        Assert.DoesNotContain("mallory@example.org", request.EligibleApprovers);
        SingleError(Approve(request.RequestId, "mallory"), "ApproverNotEligible", Approve_, ErrorCategory.PermissionDenied);
        Approve(request.RequestId, "carol");
        Approve(request.RequestId, "erin");
        Assert.Equal(ApprovalStatus.Pending, Get(request.RequestId).Status);
        Approve(request.RequestId, "frank");
        Assert.Equal(ApprovalStatus.Approved, Get(request.RequestId).Status);
    }

    [Theory]
    [InlineData("-BreakGlass", "BreakGlassReasonRequired")]
    [InlineData("-Reason 'because I said so, twice'", "ReasonWithoutBreakGlass")]
    [InlineData("-BreakGlass -Reason 'urgent'", "BreakGlassNotNeeded")]
    [InlineData("-ExpiresIn P2D", "ExpiryTooLong")]
    [InlineData("-RequestedBy carol@tiny.example", "RequesterMismatch")]
    public void RequestOptionsThatCannotBeHonouredAreRefusedAndNothingIsWritten(string options, string errorId)
    {
        Connect();
        Temp.Write("change.json", CmdletTestData.GrantChange);

        var result = Run("Import-AccessChange change.json | Request-HumanApproval " + options);

        Assert.Equal(errorId, Assert.Single(result.Errors).FullyQualifiedErrorId.Split(',')[0]);
        Assert.False(File.Exists(Path.Combine(StorePath, "ledger.jsonl")) && new FileInfo(Path.Combine(StorePath, "ledger.jsonl")).Length > 0);
    }

    [Fact]
    public void AChangeNoSetOfApproversCouldEverApproveIsRefused()
    {
        Connect(approvers: new[] { "carol@tiny.example", "bob@tiny.example" });
        Temp.Write("change.json", CmdletTestData.GrantChange);

        var result = Run("Import-AccessChange change.json | Request-HumanApproval");

        var error = SingleError(result, "NotEnoughApprovers", Request_, ErrorCategory.InvalidOperation);
        Assert.Contains("needs 2 approval(s), but only 1 of the policy's 2 approver(s) may decide it", error.Exception.Message);
    }

    [Fact]
    public void AChangeLongerThanThePolicyAllowsIsRefused()
    {
        Connect(extraPolicy: "    MaxDuration = 'PT4H'\n");
        Temp.Write("small.json", CmdletTestData.SmallChange);

        var result = Run("Import-AccessChange small.json | Request-HumanApproval -RequestedBy bob@tiny.example");

        SingleError(result, "DurationTooLong", Request_, ErrorCategory.InvalidArgument);
    }

    [Fact]
    public void TheRequesterComesFromTheChangeElseFromRequestedBy()
    {
        Connect();
        Temp.Write("small.json", CmdletTestData.SmallChange);

        var request = RunClean("Import-AccessChange small.json | Request-HumanApproval -RequestedBy u-bob").Single<ApprovalRequest>();

        Assert.Equal("u-bob", request.RequestedBy);
        Assert.Equal(Exposure.RiskLevel.None, request.RiskLevel);
        Assert.Equal(1, request.RequiredApprovals);
        SingleError(Approve(request.RequestId, "bob"), "ApproverIsRequester", Approve_, ErrorCategory.PermissionDenied);
    }

    [Fact]
    public void AReportFromTestExposureRiskCanBeRequestedAsItIs()
    {
        Connect();
        Temp.Write("change.json", CmdletTestData.GrantChange);

        var request = RunClean("Import-AccessChange change.json | Test-ExposureRisk | Request-HumanApproval").Single<ApprovalRequest>();

        Assert.Equal(Exposure.RiskLevel.Critical, request.RiskLevel);
        Assert.Equal(2, request.RequiredApprovals);
    }

    [Fact]
    public void WhatIfOpensNoRequest()
    {
        Connect();
        Temp.Write("change.json", CmdletTestData.GrantChange);

        Assert.Empty(RunClean("Import-AccessChange change.json | Request-HumanApproval -WhatIf").Output);
        Assert.Empty(System.IO.Directory.GetFiles(Path.Combine(StorePath, "requests")));
    }

    [Fact]
    public void WaitGivesUpAtItsTimeoutWithAnErrorARunbookCanCatch()
    {
        Connect();
        Temp.Write("change.json", CmdletTestData.GrantChange);

        var result = Run("Import-AccessChange change.json | Request-HumanApproval -Wait -Timeout 00:00:00.3 -PollInterval 00:00:00.1");

        SingleError(result, "ApprovalTimeout", Request_, ErrorCategory.OperationTimeout);
        Assert.Equal(ApprovalStatus.Pending, result.Single<ApprovalRequest>().Status);
    }

    [Fact]
    public async Task WaitReturnsOnceTheQuorumIsMetElsewhere()
    {
        Connect();
        Temp.Write("change.json", CmdletTestData.GrantChange);
        var store = StorePath;
        using var approvers = new PowerShellHost();
        approvers.SetLocation(Temp.Path);
        approvers.RunClean("Connect-AgentGovernance tiny.snapshot.json -PolicyPath policy.psd1 -StorePath store -LedgerSignerPath keys/signer2.json");

        var waiting = Task.Run(() => Run("Import-AccessChange change.json | Request-HumanApproval -Wait -Timeout 00:01:00 -PollInterval 00:00:00.1"));
        string? id = null;
        for (var i = 0; i < 200 && id is null; i++)
        {
            // Only a renamed request: the store writes a temporary ".req-….json.<random>" file first.
            Thread.Sleep(50);
            id = System.IO.Directory.Exists(Path.Combine(store, "requests")) ? System.IO.Directory.GetFiles(Path.Combine(store, "requests"), "req-*.json").Select(Path.GetFileNameWithoutExtension).FirstOrDefault() : null;
        }

        Assert.NotNull(id);
        approvers.RunClean("Approve-AccessChange $args[0] -KeyPath $key_carol -Passphrase $pw -Force", ApprovalTestData.Variables(), id);
        approvers.RunClean("Approve-AccessChange $args[0] -KeyPath $key_erin -Passphrase $pw -Force", ApprovalTestData.Variables(), id);
        var result = await waiting;

        Assert.Empty(result.Errors);
        Assert.Equal(ApprovalStatus.Approved, result.Single<ApprovalRequest>().Status);
        Assert.True(RunClean("Test-GovernanceAuditLog -Quiet").Single<bool>());
    }

    [Fact]
    public void GetApprovalRequestFindsRequestsByIdWildcardStatusAndChange()
    {
        Connect();
        var a = Open();
        var b = Open(CmdletTestData.SmallChange, "-RequestedBy bob@tiny.example");
        Approve(b.RequestId, "carol");

        Assert.Equal(2, RunClean("Get-ApprovalRequest").Objects<ApprovalRequest>().Count());
        Assert.Equal(new[] { b.RequestId }, RunClean("Get-ApprovalRequest -Status Approved").Objects<ApprovalRequest>().Select(r => r.RequestId));
        Assert.Equal(new[] { a.RequestId }, RunClean("Get-ApprovalRequest -Status Pending").Objects<ApprovalRequest>().Select(r => r.RequestId));
        Assert.Equal(2, RunClean("Get-ApprovalRequest 'req-*'").Objects<ApprovalRequest>().Count());
        Assert.Equal(new[] { a.RequestId }, RunClean("Get-ApprovalRequest -ChangeId $args[0]", a.ChangeId).Objects<ApprovalRequest>().Select(r => r.RequestId));
        Assert.Equal(b.RequestId, RunClean("$args[0] | Get-ApprovalRequest", b).Single<ApprovalRequest>().RequestId);
        SingleError(Run("Get-ApprovalRequest req-19990101-00000000"), "RequestNotFound", "GetApprovalRequestCommand", ErrorCategory.ObjectNotFound);
    }

    [Fact]
    public void ApprovalsTakeRequestsFromThePipeline()
    {
        Connect();
        var request = Open();

        var result = RunClean("Get-ApprovalRequest -Status Pending | Approve-AccessChange -KeyPath $key_carol -Passphrase $pw -Force");

        Assert.Equal(request.RequestId, result.Single<ApprovalRequest>().RequestId);
        Assert.Equal(1, Get(request.RequestId).Approvals);
    }

    [Fact]
    public void TheDefaultViewsShowStatusQuorumAndWhoDecided()
    {
        Connect();
        var request = Open();
        Approve(request.RequestId, "carol");

        var table = Ps.Render("Get-ApprovalRequest");

        Assert.Contains("RequestId", table);
        Assert.Contains(request.RequestId + " Pending  Critical        1/2 bob@tiny.example", table);
        Assert.Contains("Let Engineering read the", table); // the title wraps at a space in its 28-column Change
        var log = Ps.Render("Get-GovernanceAuditLog");
        Assert.Contains("Approved", log);
        // The summary wraps at its spaces in the 27-column Summary.
        Assert.Contains("carol@tiny.example: 1/2", log);
        Assert.Contains("(quorum not yet met)", log);
        var decisions = Ps.Render("(Get-ApprovalRequest $args[0]).Decisions", request.RequestId);
        Assert.Contains("carol@tiny.example", decisions);
        Assert.Contains("True", decisions);
    }
}
