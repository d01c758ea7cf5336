using System.Text;
using System.Text.Json;
using AgentGovernance.Apply;
using AgentGovernance.Approval;
using AgentGovernance.Changes;
using AgentGovernance.Directory;
using AgentGovernance.Exposure;
using AgentGovernance.Policy;
using AgentGovernance.Providers;

namespace AgentGovernance.Tests.Approval;

/// <summary>
/// The approval and apply rules as classes, without a runspace: identity text and resolution, UTS #39
/// skeletons from the embedded data, who may approve, the S5 comparison (listed and digested), and
/// what an undo may revert at once.
/// </summary>
public sealed class RulesTests
{
    private const string Tenant = """
        {
          "schema": "agentgovernance/snapshot@1",
          "tenant": { "id": "t.example" },
          "principals": [
            { "id": "u-bob", "type": "user", "displayName": "Bob", "userPrincipalName": "bob@t.example", "mail": "Robert@t.example", "mailNickname": "bobby" },
            { "id": "u-carol", "type": "user", "userPrincipalName": "carol@t.example" },
            { "id": "u-twin1", "type": "user", "mailNickname": "twin" },
            { "id": "u-twin2", "type": "user", "mailNickname": "twin" },
            { "id": "sp-agent", "type": "servicePrincipal", "isAgent": true },
            { "id": "g-x", "type": "group", "members": ["u-carol"] }
          ],
          "resources": [ { "id": "r", "type": "site" } ],
          "grants": []
        }
        """;

    private static readonly AccessSnapshot Snapshot = SnapshotReader.ParseText(Tenant);

    [Theory]
    [InlineData(" Bob@T.Example ", "bob@t.example")]
    [InlineData("\uff22\uff4f\uff42@t.example", "bob@t.example")] // fullwidth
    [InlineData("\u017fp-agent", "sp-agent")] // long s: NFKC makes it s
    [InlineData("CAFE\u0301@t.example", "café@t.example")] // decomposed accent composes
    public void AnIdentityHasOneSpelling(string name, string key) => Assert.Equal(key, IdentityText.Key(name, out _));

    [Theory]
    [InlineData("bo\u200bb")]
    [InlineData("bob\u202e")]
    [InlineData("bob\u0000")]
    [InlineData("b\u034fob")] // combining grapheme joiner: default-ignorable, not a format character
    [InlineData("b\ufe0fob")] // a variation selector
    [InlineData("   ")]
    public void ANameWithInvisibleCharactersIsNoIdentity(string name)
    {
        Assert.Null(IdentityText.Key(name, out var problem));
        Assert.NotNull(problem);
        var e = Assert.Throws<GovernanceException>(() => IdentityText.RequireKey(name, "requester"));
        Assert.Equal("IdentityInvalid", e.ErrorId);
        Assert.DoesNotContain('\u200b', e.Message);
        Assert.DoesNotContain('\u202e', e.Message);
    }

    [Fact]
    public void ANameWithALoneSurrogateIsNoIdentity()
    {
        // Built here: theory data passes through UTF-8, which would make it U+FFFD.
        var name = new string(new[] { '\ud800', 'b', 'o', 'b' });
        Assert.Null(IdentityText.Key(name, out var problem));
        Assert.Contains("lone surrogate", problem);
    }

    [Theory]
    [InlineData("a\u200bb\u200bc\u200bd\u200be\u200bf\u200bg\u200bh\u200bi\u200bj", 10)]
    [InlineData("\u200b\u200b\u200b\u200b\u200b\u200b\u200b\u200b\u200b\u200b", 0)]
    [InlineData("e\u0301e\u0301e\u0301", 3)]
    [InlineData("👩‍👩‍👧 db down", 6)]
    [InlineData("数据库宕机了", 6)]
    [InlineData(" ,;:!?-- \t\r\n", 0)]
    public void VisibleLettersAreCountedInGraphemeClusters(string text, int letters) => Assert.Equal(letters, IdentityText.VisibleLetters(text));

    [Fact]
    public void TheConfusablesDataIsTheUnicodeData()
    {
        // confusables.txt 10.0.0 has 6,294 mappings once compiled; a hand-made table would not.
        Assert.Equal(6294, Confusables.Count);
        Assert.Equal(Confusables.Skeleton("paypal"), Confusables.Skeleton("p\u0430yp\u0430l")); // Cyrillic а
        Assert.Equal(Confusables.Skeleton("carol"), Confusables.Skeleton("caroI")); // capital I for l
        Assert.Equal(Confusables.Skeleton("m"), Confusables.Skeleton("rn"));
        Assert.Equal(Confusables.Skeleton("0"), Confusables.Skeleton("O"));
        Assert.NotEqual(Confusables.Skeleton("bob"), Confusables.Skeleton("rob"));
        Assert.Equal(Confusables.Skeleton("\U0001d41b\U0001d428\U0001d41b"), Confusables.Skeleton("bob")); // mathematical bold
    }

    [Fact]
    public void ANameResolvesThroughEveryAliasTheDirectoryHoldsAndAmbiguityIsKept()
    {
        var resolver = new IdentityResolver(Snapshot, GovernancePolicy.Default);
        foreach (var alias in new[] { "u-bob", "U-BOB", "bob@t.example", "robert@T.EXAMPLE", "BOBBY" })
        {
            Assert.Equal(new[] { "u-bob" }, resolver.Resolve(alias).Principals);
        }

        Assert.True(resolver.Resolve("twin").Ambiguous);
        Assert.False(resolver.Resolve("nobody@t.example").Resolved);
        Assert.True(resolver.Same(resolver.Resolve("Robert@t.example"), resolver.Resolve("u-bob")));
        Assert.True(resolver.IsAgent(resolver.Resolve("SP-AGENT")));
    }

    private static ApproverRules Rules(string policy = "@{}") => new(new IdentityResolver(Snapshot, PolicyReader.Parse(policy, "p.psd1")), PolicyReader.Parse(policy, "p.psd1"));

    [Fact]
    public void TheRequesterMustResolveUnlessThePolicySaysOtherwise()
    {
        var change = new AccessChange(new[] { AccessOperation.Grant("r", "u-carol", "read") }, requestedBy: "stranger@elsewhere.example");

        Assert.Equal("RequesterUnresolved", Assert.Throws<GovernanceException>(() => Rules().Requester(change, null, "me@machine")).ErrorId);
        Assert.False(Rules("@{ AllowUnresolvedRequester = $true }").Requester(change, null, "me@machine").Resolved);
        Assert.Equal("RequesterAmbiguous", Assert.Throws<GovernanceException>(() => Rules().Requester(new AccessChange(change.Operations, requestedBy: "twin"), null, "x")).ErrorId);
        Assert.Equal("RequesterUnresolved", Assert.Throws<GovernanceException>(() => Rules().Requester(new AccessChange(change.Operations, requestedBy: "g-x"), null, "x")).ErrorId);
        Assert.Equal("RequesterMismatch", Assert.Throws<GovernanceException>(() => Rules().Requester(new AccessChange(change.Operations, requestedBy: "u-bob"), "carol@t.example", "x")).ErrorId);
        Assert.Equal(new[] { "u-bob" }, Rules().Requester(new AccessChange(change.Operations, requestedBy: "u-bob"), " ROBERT@t.example ", "x").Principals);
    }

    [Theory]
    [InlineData("bob@t.example", "u-bob", "ApproverIsRequester")]
    [InlineData("BOBBY", "Robert@t.example", "ApproverIsRequester")]
    [InlineData("b\u043eb@t.example", "bob@t.example", "ApproverConfusable")] // the look-alike approves the real one's request
    [InlineData("bob@t.example", "b\u043eb@t.example", "ApproverConfusable")] // and the other way round
    [InlineData("SP-Agent", "u-carol", "ApproverIsAgent")] // the suggesting agent under a variant of its id
    [InlineData("sp-\u0430gent", "u-carol", "ApproverConfusable")] // a look-alike of the agent
    [InlineData("carol@t.example", "u-bob", null)]
    public void WhoMayNeverApprove(string approver, string requester, string? problem)
    {
        var rules = Rules("@{ AllowUnresolvedRequester = $true }");
        var change = new AccessChange(new[] { AccessOperation.Grant("r", "u-carol", "read") }, requestedBy: requester, suggestedBy: new SuggestedBy("agent", "sp-agent"));
        var parties = rules.Parties(rules.Requester(change, null, "x"), change);

        Assert.Equal(problem, rules.Problem(approver, parties)?.Id);
    }

    [Fact]
    public void ALookAlikeOfAnAgentThePolicyListsCannotApprove()
    {
        var rules = Rules("@{ AgentIdentities = 'copilot@t.example' }");
        var change = new AccessChange(new[] { AccessOperation.Grant("r", "u-carol", "read") }, requestedBy: "u-bob");
        var parties = rules.Parties(rules.Requester(change, null, "x"), change);

        Assert.Equal("ApproverIsAgent", rules.Problem("COPILOT@t.example", parties)?.Id);
        Assert.Equal("ApproverConfusable", rules.Problem("c\u043epilot@t.example", parties)?.Id);
    }

    [Fact]
    public void APolicyCannotListAnAgentAsAnApproverUnderAnotherSpelling()
    {
        var key = SigningKey.NewEcdsa().PublicKey.Base64;
        var e = Assert.Throws<DocumentException>(() => PolicyReader.Parse($"@{{ AgentIdentities = 'sp-agent'; Approvers = @(@{{ Id = '\uff53\uff50-agent'; PublicKey = '{key}' }}) }}", "p.psd1"));
        Assert.Contains("an agent can never approve", e.Message);
        Assert.Throws<DocumentException>(() => PolicyReader.Parse("@{ AgentIdentities = 'sp\u200b-agent' }", "p.psd1"));
        Assert.True(PolicyReader.Parse("@{ AllowUnresolvedRequester = $true }", "p.psd1").AllowUnresolvedRequester);
        Assert.False(GovernancePolicy.Default.AllowUnresolvedRequester);
        Assert.NotEqual(GovernancePolicy.Default.Fingerprint, PolicyReader.Parse("@{ AllowUnresolvedRequester = $true }", "p.psd1").Fingerprint);
    }

    /// <summary>A tenant of <paramref name="users"/> member users in g-big, and one site.</summary>
    private static AccessSnapshot Big(int users, string? swapFirstFor = null)
    {
        var sb = new StringBuilder("{ \"schema\": \"agentgovernance/snapshot@1\", \"tenant\": { \"id\": \"big.example\" }, \"principals\": [");
        var members = new List<string>();
        for (var i = 0; i < users; i++)
        {
            var id = i == 0 && swapFirstFor is not null ? swapFirstFor : $"u-{i:D6}";
            sb.Append($"{{ \"id\": \"{id}\", \"type\": \"user\" }},");
            members.Add($"\"{id}\"");
        }

        sb.Append("{ \"id\": \"g-big\", \"type\": \"group\", \"members\": [").Append(string.Join(",", members)).Append("] }],");
        sb.Append("\"resources\": [ { \"id\": \"site\", \"type\": \"site\", \"sensitivity\": \"Confidential\" } ], \"grants\": [] }");
        return SnapshotReader.ParseText(sb.ToString());
    }

    private static readonly AccessChange GrantBig = new(new[] { AccessOperation.Grant("site", "g-big", "read") }, requestedBy: "u-000001");

    [Fact]
    public void AHundredThousandPrincipalDiffMakesASmallRequestThatStillTellsASwap()
    {
        var approved = ExposureSummary.FromReport(ExposureEngine.Assess(Big(100_000), GrantBig));
        var size = Encoding.UTF8.GetByteCount(JsonSerializer.Serialize(approved.Json));

        var access = approved.Resources.Single().Access!;
        Assert.Null(access.Principals);
        Assert.Equal(100_000, access.RoleCounts["read"]);
        Assert.InRange(size, 1, 8 * 1024);
        Assert.Empty(StaleApproval.Reasons(approved, ExposureEngine.Assess(Big(100_000), GrantBig)));

        // One member swapped for another: the same counts, another set.
        var reasons = StaleApproval.Reasons(approved, ExposureEngine.Assess(Big(100_000, swapFirstFor: "u-intruder"), GrantBig));
        Assert.Contains(reasons, r => r.Contains("are not the 100000 the approvers saw (their digest differs)"));
    }

    [Fact]
    public void ASmallDiffIsListedAndComparedPrincipalByPrincipal()
    {
        var approved = ExposureSummary.FromReport(ExposureEngine.Assess(Big(10), GrantBig));
        Assert.Equal(10, approved.Resources.Single().Access!.Principals!.Count);

        var write = new AccessChange(new[] { AccessOperation.Grant("site", "g-big", "write") }, requestedBy: "u-000001");
        var reasons = StaleApproval.Reasons(approved, ExposureEngine.Assess(Big(10), write));
        Assert.Contains(reasons, r => r.Contains("10 principal(s) would gain a higher role than approved: u-000000 read→write"));
        Assert.Contains(reasons, r => r.Contains("and 5 more"));
    }

    [Fact]
    public void AnAudienceTheApproversDidNotSeeIsStale()
    {
        var snapshot = Big(3);
        var link = new AccessChange(new[] { AccessOperation.CreateLink("site", LinkScope.Organization, "read") }, requestedBy: "u-000001");
        var approvedReport = ExposureEngine.Assess(snapshot, link);
        var approved = ExposureSummary.FromReport(approvedReport);
        Assert.Equal(AccessRole.Read, approved.Resources.Single().Access!.Audiences[Audiences.EveryoneExceptExternal]);

        var edit = new AccessChange(new[] { AccessOperation.CreateLink("site", LinkScope.Organization, "write") }, requestedBy: "u-000001");
        var reasons = StaleApproval.Reasons(approved, ExposureEngine.Assess(snapshot, edit));
        Assert.Contains(reasons, r => r.Contains("everyoneExceptExternal would gain write on site (site), read when approved"));
    }

    [Fact]
    public void AnUndoRevertsWhatNarrowsAndWithholdsWhatWouldWiden()
    {
        var attempt = new ApplyAttempt();
        attempt.Applied[0] = new AppliedOperation(AccessOperation.Grant("r", "u-bob", "read"), true, AccessOperation.Revoke("r", "u-bob", "read"));
        attempt.Applied[1] = new AppliedOperation(AccessOperation.RemoveMember("g", "u-carol"), true, AccessOperation.AddMember("g", "u-carol"));
        attempt.Applied[2] = new AppliedOperation(AccessOperation.SetVisibility("g", GroupVisibility.Private), true, AccessOperation.SetVisibility("g", GroupVisibility.Public));
        attempt.Applied[3] = new AppliedOperation(AccessOperation.Revoke("r", "u-bob", "owner"), false, null);
        attempt.Applied[4] = new AppliedOperation(AccessOperation.SetVisibility("g", GroupVisibility.Public), true, AccessOperation.SetVisibility("g", GroupVisibility.HiddenMembership));

        var plan = UndoPlan.Of(attempt);

        Assert.Equal(new[] { 4, 0 }, plan.Immediate.Select(p => p.Key));
        Assert.Equal(new[] { 2, 1 }, plan.Withheld.Select(p => p.Key));
        var followUp = plan.FollowUp("req-1", new AccessChange(attempt.Applied.Values.Select(a => a.Operation), title: "Mixed"));
        Assert.Equal(new[] { "add u-carol to group g", "make group g Public" }, followUp!.Operations.Select(o => o.ToString()));
        Assert.False(followUp.NarrowsOnly);
    }
}
