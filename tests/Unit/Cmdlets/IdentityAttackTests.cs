using System.Management.Automation;
using AgentGovernance.Approval;
using AgentGovernance.Ledger;
using AgentGovernance.Tests.Support;

namespace AgentGovernance.Tests.Cmdlets;

/// <summary>
/// The requester as an attacker (issue 11, items 7, 11 and 12), through a real runspace: a requester
/// who names themselves another way than the approver key does, a look-alike name, an agent listed as
/// an approver under a case variant of its id, a break-glass reason of invisible characters, and
/// approver keys swapped in the policy after a request was opened.
/// </summary>
public sealed class IdentityAttackTests : ApprovalTestBase
{
    private const string Approve_ = "ApproveAccessChangeCommand";
    private const string Request_ = "RequestHumanApprovalCommand";

    public IdentityAttackTests(HostFixture fixture)
        : base(fixture)
    {
        // bob has a mail address besides his user principal name.
        Temp.Write("tiny.snapshot.json", CmdletTestData.Snapshot.Replace(
            "\"userPrincipalName\": \"bob@tiny.example\"", "\"userPrincipalName\": \"bob@tiny.example\", \"mail\": \"Robert.Smith@tiny.example\""));
    }

    /// <summary>bob's key, listed in the policy as bob@tiny.example; the change names bob another way.</summary>
    [Theory]
    [InlineData("U-BOB")]
    [InlineData("u-bob ")]
    [InlineData(" BOB@TINY.EXAMPLE")]
    [InlineData("robert.smith@tiny.example")]
    [InlineData("\uff42\uff4f\uff42@tiny.example")] // fullwidth ｂｏｂ: NFKC makes it bob
    public void ARequesterNamedAnotherWayIsStillTheRequester(string alias)
    {
        Connect();
        var request = Open(ChangeWith($"\"requestedBy\": \"{alias}\""));

        Assert.DoesNotContain("bob@tiny.example", request.EligibleApprovers);
        var error = SingleError(Approve(request.RequestId, "bob"), "ApproverIsRequester", Approve_, ErrorCategory.PermissionDenied);
        Assert.Contains(request.RequestId, error.Exception.Message);
        Assert.Equal(0, Get(request.RequestId).Approvals);
    }

    [Fact]
    public void ARequesterGivenWithSpacesAroundIsTheSameRequesterAsTheChangeNames()
    {
        Connect();
        Temp.Write("change.json", ChangeWith("\"requestedBy\": \"bob@tiny.example\""));

        var request = RunClean("Import-AccessChange change.json | Request-HumanApproval -RequestedBy ' U-Bob '").Single<ApprovalRequest>();

        Assert.Equal("bob@tiny.example", request.RequestedBy);
    }

    [Fact]
    public void ARequesterTheDirectoryDoesNotKnowIsRefusedByDefault()
    {
        Connect();
        Temp.Write("change.json", ChangeWith("\"requestedBy\": \"b\u043eb@tiny.example\"")); // Cyrillic о

        var result = Run("Import-AccessChange change.json | Request-HumanApproval");

        var error = SingleError(result, "RequesterUnresolved", Request_, ErrorCategory.InvalidArgument);
        Assert.Contains("AllowUnresolvedRequester", error.Exception.Message);
        Assert.Empty(System.IO.Directory.GetFiles(Path.Combine(StorePath, "requests")));
    }

    [Fact]
    public void NobodyNamedMeansTheUserRunningTheCommandWhoMustBeInTheDirectory()
    {
        Connect();
        Temp.Write("change.json", CmdletTestData.Change("{ \"op\": \"grant\", \"resource\": \"site-general\", \"principal\": \"u-joe\", \"role\": \"read\" }"));

        SingleError(Run("Import-AccessChange change.json | Request-HumanApproval"), "RequesterUnresolved", Request_, ErrorCategory.InvalidArgument);
        var named = RunClean("Import-AccessChange change.json | Request-HumanApproval -RequestedBy u-bob").Single<ApprovalRequest>();
        Assert.Equal("u-bob", named.RequestedBy);
    }

    [Fact]
    public void ALookAlikeRequesterAllowedOfflineCannotBeApprovedByTheOneItImitates()
    {
        Connect(extraPolicy: "    AllowUnresolvedRequester = $true\n");
        var request = Open(ChangeWith("\"requestedBy\": \"b\u043eb@tiny.example\"")); // not in the directory: allowed offline

        Assert.DoesNotContain("bob@tiny.example", request.EligibleApprovers);
        var error = SingleError(Approve(request.RequestId, "bob"), "ApproverConfusable", Approve_, ErrorCategory.PermissionDenied);
        Assert.Contains("UTS #39", error.Exception.Message);
        Assert.Equal("ApproverConfusable", Log("-Event ApprovalRefused").Single().Details["reason"]);
    }

    [Theory]
    [InlineData("bo\u200bb@tiny.example")] // a zero-width space
    [InlineData("bob@tiny.example\u202e")] // a bidi override
    [InlineData("bob\u3164@tiny.example")] // a Hangul filler: a letter that shows nothing
    public void ARequesterNameWithInvisibleCharactersIsNoIdentity(string name)
    {
        Connect(extraPolicy: "    AllowUnresolvedRequester = $true\n");
        Temp.Write("change.json", ChangeWith($"\"requestedBy\": \"{name}\""));

        var error = SingleError(Run("Import-AccessChange change.json | Request-HumanApproval"), "IdentityInvalid", Request_, ErrorCategory.InvalidArgument);
        Assert.Contains("<U+", error.Exception.Message);
    }

    [Theory]
    [InlineData("SP-BOT")]
    [InlineData("Sp-Bot")]
    [InlineData("\uff53\uff50-bot")] // fullwidth ｓｐ
    public void AnAgentListedAsApproverUnderAVariantOfItsIdNeverApprovesItsOwnSuggestion(string variant)
    {
        // The policy lists the agent's key under a variant of its id; the tiny tenant marks sp-bot isAgent.
        TinyPath.ToString();
        var policy = ApprovalTestData.Policy(new[] { "carol@tiny.example", "erin@example.org" }, extra: string.Empty)
            .Replace("    )\n", $"        @{{ Id = '{variant}'; PublicKey = '{ApprovalTestData.Keys["sp-bot"].Key.Base64}' }}\n    )\n");
        Temp.Write("policy.psd1", policy);
        RunClean("Connect-AgentGovernance tiny.snapshot.json -PolicyPath policy.psd1 -StorePath store -LedgerSignerPath keys/signer.json");
        var request = Open();

        Assert.DoesNotContain(variant, request.EligibleApprovers);
        SingleError(Approve(request.RequestId, "sp_bot"), "ApproverIsAgent", Approve_, ErrorCategory.PermissionDenied);
        Assert.Equal(0, Get(request.RequestId).Approvals);
    }

    [Fact]
    public void AnAgentTheDirectoryDoesNotKnowIsStillItsOwnSuggester()
    {
        TinyPath.ToString();
        var policy = ApprovalTestData.Policy(new[] { "carol@tiny.example", "erin@example.org" })
            .Replace("    )\n", $"        @{{ Id = 'HELPER-AGENT'; PublicKey = '{ApprovalTestData.Keys["sp-bot"].Key.Base64}' }}\n    )\n");
        Temp.Write("policy.psd1", policy);
        RunClean("Connect-AgentGovernance tiny.snapshot.json -PolicyPath policy.psd1 -StorePath store -LedgerSignerPath keys/signer.json");
        var request = Open(ChangeWith("\"requestedBy\": \"bob@tiny.example\", \"suggestedBy\": { \"type\": \"agent\", \"id\": \"helper-agent\" }"));

        SingleError(Approve(request.RequestId, "sp_bot"), "ApproverIsAgent", Approve_, ErrorCategory.PermissionDenied);
    }

    [Theory]
    [InlineData("\u200b\u200b\u200b\u200b\u200b\u200b\u200b\u200b\u200b\u200b\u200b\u200b")]
    [InlineData("\u200bx\u200by\u200bz\u200b\u200b\u200b\u200b\u200b\u200b\u200b\u200b")]
    [InlineData("!!!!!!!!!!!!!!!!!!!!")]
    [InlineData("e\u0301e\u0301e\u0301e\u0301e\u0301 \u0301\u0301\u0301\u0301\u0301")] // five letters, each one cluster with its accent
    [InlineData("\u3164\u3164\u3164\u3164\u3164\u3164\u3164\u3164\u3164\u3164\u3164")] // Hangul fillers: letters that show nothing
    public void ABreakGlassReasonNeedsVisibleLetters(string reason)
    {
        Connect(breakGlass: new[] { "carol@tiny.example", "erin@example.org", "frank@example.org" });
        Temp.Write("link.json", ChangeWith("\"requestedBy\": \"bob@tiny.example\"", "{ \"op\": \"createLink\", \"resource\": \"site-secret\", \"scope\": \"anonymous\", \"role\": \"read\" }"));

        var result = Run("Import-AccessChange link.json | Request-HumanApproval -BreakGlass -Reason $args[0]", reason);

        var error = SingleError(result, "BreakGlassReasonRequired", Request_, ErrorCategory.InvalidArgument);
        Assert.Contains("visible letters", error.Exception.Message);
        Assert.Empty(System.IO.Directory.GetFiles(Path.Combine(StorePath, "requests")));
        var ok = RunClean("Import-AccessChange link.json | Request-HumanApproval -BreakGlass -Reason 'Résumé export für Prüfer'").Single<ApprovalRequest>();
        Assert.True(ok.BreakGlass);
    }

    [Fact]
    public void KeysSwappedInThePolicyAfterARequestCannotApproveIt()
    {
        Connect();
        var request = Open();
        Assert.Empty(Approve(request.RequestId, "carol").Errors);

        // Someone edits the policy: carol's entry now carries mallory's key.
        var swapped = ApprovalTestData.Policy(DefaultApprovers)
            .Replace(ApprovalTestData.Keys["carol@tiny.example"].Key.Base64, ApprovalTestData.Keys["mallory@example.org"].Key.Base64);
        Temp.Write("policy.psd1", swapped);
        RunClean("Connect-AgentGovernance tiny.snapshot.json -PolicyPath policy.psd1 -StorePath store -LedgerSignerPath keys/signer.json");

        // mallory's key now proves "carol"; it may not decide a request opened under the old policy, nor may anyone else's.
        SingleError(Approve(request.RequestId, "mallory"), "PolicyChanged", Approve_, ErrorCategory.InvalidOperation);
        SingleError(Approve(request.RequestId, "erin"), "PolicyChanged", Approve_, ErrorCategory.InvalidOperation);
        var now = Get(request.RequestId);
        Assert.True(now.PolicyChanged);
        Assert.Equal(ApprovalStatus.Pending, now.Status);
        Assert.All(Log("-Event ApprovalRefused"), e => Assert.Equal("PolicyChanged", e.Details["reason"]));
    }

    [Fact]
    public void EveryLedgerStepRecordsThePolicyItRanUnder()
    {
        Connect();
        var request = Open();
        Approve(request.RequestId, "carol");
        SingleError(Approve(request.RequestId, "mallory"), "ApproverNotEligible", Approve_, ErrorCategory.PermissionDenied);

        var entries = Log();
        Assert.Equal(5, entries.Count);
        Assert.All(entries, e => Assert.Equal(request.PolicyFingerprint, e.Details["policyFingerprint"]));
        Assert.True(RunClean("Test-GovernanceAuditLog -Quiet").Single<bool>());
    }

    [Fact]
    public void ARequestOpenedUnderAnotherPolicyThanTheSessionsCannotBeDecided()
    {
        Connect();
        Temp.Write("lax.psd1", ApprovalTestData.Policy(DefaultApprovers, extra: "    RequiredApprovals = @{ Critical = 3; High = 3 }\n"));
        Temp.Write("change.json", CmdletTestData.GrantChange);
        var request = RunClean("Import-AccessChange change.json | Request-HumanApproval -Policy (Import-GovernancePolicy lax.psd1)").Single<ApprovalRequest>();

        SingleError(Approve(request.RequestId, "carol"), "PolicyChanged", Approve_, ErrorCategory.InvalidOperation);
    }
}
