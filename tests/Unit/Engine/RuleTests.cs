using System.Text;
using AgentGovernance.Changes;
using AgentGovernance.Directory;
using AgentGovernance.Exposure;
using AgentGovernance.Policy;

namespace AgentGovernance.Tests.Engine;

/// <summary>Each rule AG001–AG010 fires when it should, at the right severity, and not otherwise.</summary>
public sealed class RuleTests
{
    private static readonly AccessSnapshot Tenant = Build();

    private static AccessSnapshot Build()
    {
        var p = new List<string>();
        for (var i = 1; i <= 60; i++) p.Add($"{{\"id\":\"m{i}\",\"type\":\"user\",\"userPrincipalName\":\"m{i}@x.com\"}}");
        p.Add("{\"id\":\"guest1\",\"type\":\"user\",\"displayName\":\"Vera Vendor\",\"userType\":\"Guest\"}");
        p.Add("{\"id\":\"d1\",\"type\":\"user\",\"accountEnabled\":false}");
        p.Add("{\"id\":\"bob\",\"type\":\"user\",\"userPrincipalName\":\"bob@x.com\"}");
        p.Add("{\"id\":\"sp-agent\",\"type\":\"servicePrincipal\",\"displayName\":\"Copilot\",\"isAgent\":true}");
        p.Add("{\"id\":\"sp-app\",\"type\":\"servicePrincipal\",\"displayName\":\"Backup\"}");
        p.Add("{\"id\":\"g-small\",\"type\":\"group\",\"members\":[\"m1\",\"m2\"]}");
        p.Add("{\"id\":\"g-big\",\"type\":\"group\",\"members\":[" + string.Join(",", Enumerable.Range(1, 60).Select(i => $"\"m{i}\"")) + ",\"guest1\",\"d1\"]}");
        p.Add("{\"id\":\"g-team\",\"type\":\"group\",\"members\":[\"m3\"]}");
        p.Add("{\"id\":\"g-agents\",\"type\":\"group\",\"members\":[\"sp-agent\"]}");
        p.Add("{\"id\":\"g-guests\",\"type\":\"group\",\"members\":[\"guest1\",\"m4\"]}");
        var r = new[]
        {
            "{\"id\":\"gen\",\"type\":\"site\"}",
            "{\"id\":\"conf\",\"type\":\"site\",\"displayName\":\"Pricing\",\"sensitivity\":\"Confidential\"}",
            "{\"id\":\"hc\",\"type\":\"site\",\"sensitivity\":\"HighlyConfidential\",\"personalData\":true}",
            "{\"id\":\"pd\",\"type\":\"driveItem\",\"personalData\":true}",
            "{\"id\":\"role\",\"type\":\"directoryRole\",\"displayName\":\"Global Administrator\"}",
            "{\"id\":\"teamsite\",\"type\":\"site\",\"sensitivity\":\"Confidential\",\"group\":\"g-team\"}",
        };
        var g = new[] { "{\"resource\":\"teamsite\",\"principal\":\"g-team\",\"role\":\"write\"}", "{\"resource\":\"conf\",\"principal\":\"m1\",\"role\":\"read\"}" };
        var json = new StringBuilder("{\"schema\":\"agentgovernance/snapshot@1\",\"tenant\":{\"id\":\"x.com\"},\"principals\":[")
            .Append(string.Join(",", p)).Append("],\"resources\":[").Append(string.Join(",", r)).Append("],\"grants\":[").Append(string.Join(",", g)).Append("]}");
        return SnapshotReader.ParseText(json.ToString());
    }

    private static ExposureReport Assess(AccessOperation op, string? duration = null, string? requestedBy = null, string? suggestedBy = null, GovernancePolicy? policy = null) =>
        ExposureEngine.Assess(Tenant, new AccessChange(new[] { op }, duration: duration, requestedBy: requestedBy,
            suggestedBy: suggestedBy is null ? null : new SuggestedBy("agent", suggestedBy)), policy);

    private static IEnumerable<string> Rules(ExposureReport r) => r.Findings.Select(f => $"{f.RuleId}:{f.Severity}").OrderBy(x => x);

    [Fact]
    public void Ag001AnonymousLinkIsHighOrCriticalAndBlockedWhenSensitive()
    {
        var general = Assess(AccessOperation.CreateLink("gen", LinkScope.Anonymous, "read"), "PT1H");
        Assert.Equal(new[] { "AG001:High" }, Rules(general));
        Assert.False(general.Blocked);
        Assert.True(general.GainedAnonymous);

        var sensitive = Assess(AccessOperation.CreateLink("conf", LinkScope.Anonymous, "read"), "PT1H");
        Assert.Contains("AG001:Critical", Rules(sensitive));
        Assert.True(sensitive.Blocked);
        Assert.Equal(new[] { "AG001" }, sensitive.BlockingRules);
        Assert.True(sensitive.Findings.Single(f => f.RuleId == "AG001").HardDeny);
    }

    [Fact]
    public void Ag002TenantWideAudienceOnSensitive()
    {
        var conf = Assess(AccessOperation.CreateLink("conf", LinkScope.Organization, "read"), "PT1H");
        var f = conf.Findings.Single(x => x.RuleId == "AG002");
        Assert.Equal(RiskLevel.High, f.Severity);
        Assert.Contains("everyoneExceptExternal", f.Message);
        Assert.Equal(60, conf.Resources.Single().GainedCount); // m2..m60 and bob; m1 already reads; not the guest

        var hc = Assess(AccessOperation.Grant("hc", "everyone", "read"), "PT1H");
        Assert.Equal(RiskLevel.Critical, hc.Findings.Single(x => x.RuleId == "AG002").Severity);

        // A Public switch exposes the connected site to every member user.
        var pub = Assess(AccessOperation.SetVisibility("g-team", GroupVisibility.Public), "PT1H");
        var p = pub.Findings.Single(x => x.RuleId == "AG002");
        Assert.Contains("g-team is Public", p.Message);
        Assert.Equal(0, pub.GainedGuests);
    }

    [Fact]
    public void Ag002MoreThanTenPercentOfEnabledUsers()
    {
        // 63 enabled users; g-small (2) is ~3%, g-guests (2) too; g-big (61 enabled) is ~97%.
        Assert.DoesNotContain(Assess(AccessOperation.Grant("hc", "g-small", "read"), "PT1H").Findings, f => f.RuleId == "AG002");
        var big = Assess(AccessOperation.Grant("hc", "g-big", "read"), "PT1H");
        Assert.Contains("AG002:Critical", Rules(big));
        var lenient = PolicyReader.Parse("@{ Rules = @{ AG002 = @{ PercentOfEnabledUsers = 100 } } }");
        Assert.DoesNotContain(Assess(AccessOperation.Grant("hc", "g-big", "read"), "PT1H", policy: lenient).Findings, f => f.RuleId == "AG002");
    }

    [Fact]
    public void Ag003ManyPrincipalsOnSensitive()
    {
        Assert.Contains("AG003:High", Rules(Assess(AccessOperation.Grant("conf", "g-big", "read"), "PT1H")));
        Assert.DoesNotContain("AG003:High", Rules(Assess(AccessOperation.Grant("gen", "g-big", "read"), "PT1H")));
        Assert.DoesNotContain("AG003:High", Rules(Assess(AccessOperation.Grant("conf", "g-small", "read"), "PT1H")));
        var strict = PolicyReader.Parse("@{ Rules = @{ AG003 = @{ Threshold = 1 } } }");
        Assert.Contains("AG003:High", Rules(Assess(AccessOperation.Grant("hc", "g-small", "read"), "PT1H", policy: strict)));
    }

    [Fact]
    public void Ag004GuestOnSensitive()
    {
        var r = Assess(AccessOperation.Grant("conf", "g-guests", "read"), "PT1H");
        var f = r.Findings.Single(x => x.RuleId == "AG004");
        Assert.Equal(RiskLevel.High, f.Severity);
        Assert.Contains("Vera Vendor", f.Message);
        Assert.Equal(1, r.GainedGuests);
        Assert.DoesNotContain(Assess(AccessOperation.Grant("gen", "g-guests", "read"), "PT1H").Findings, x => x.RuleId == "AG004");
    }

    [Fact]
    public void Ag005PersonalDataHighThenCriticalAboveThreshold()
    {
        Assert.Equal(new[] { "AG005:High" }, Rules(Assess(AccessOperation.Grant("pd", "g-small", "read"), "PT1H")));
        Assert.Equal(new[] { "AG005:Critical" }, Rules(Assess(AccessOperation.Grant("pd", "g-big", "read"), "PT1H")));
    }

    [Fact]
    public void Ag006AgentIdentityFromSnapshotOrPolicy()
    {
        Assert.Contains("AG006:High", Rules(Assess(AccessOperation.Grant("conf", "g-agents", "read"), "PT1H")));
        Assert.DoesNotContain("AG006:High", Rules(Assess(AccessOperation.Grant("conf", "sp-app", "read"), "PT1H")));
        var policy = PolicyReader.Parse("@{ AgentIdentities = @('sp-app') }");
        var r = Assess(AccessOperation.Grant("conf", "sp-app", "read"), "PT1H", policy: policy);
        Assert.Contains("AG006:High", Rules(r));
        Assert.Equal(1, r.GainedAgents);
        Assert.Equal(0, r.GainedServicePrincipals);
    }

    [Fact]
    public void Ag007RequesterOrSuggestingAgentGainsAnywhere()
    {
        var byUpn = Assess(AccessOperation.Grant("gen", "bob", "read"), "PT1H", requestedBy: "BOB@x.com");
        Assert.Equal(new[] { "AG007:High" }, Rules(byUpn));
        Assert.Contains("requester", byUpn.Findings[0].Message);
        Assert.Equal(new[] { "AG007:High" }, Rules(Assess(AccessOperation.Grant("gen", "bob", "read"), "PT1H", requestedBy: "bob")));
        var agent = Assess(AccessOperation.Grant("gen", "g-agents", "read"), "PT1H", suggestedBy: "sp-agent");
        Assert.Equal(new[] { "AG007:High" }, Rules(agent));
        Assert.Contains("suggesting agent", agent.Findings[0].Message);
        Assert.Empty(Assess(AccessOperation.Grant("gen", "m5", "read"), "PT1H", requestedBy: "bob@x.com", suggestedBy: "sp-agent").Findings);
    }

    [Fact]
    public void Ag008DirectoryRoleIsCritical() =>
        Assert.Equal(new[] { "AG008:Critical" }, Rules(Assess(AccessOperation.Grant("role", "m9", "owner"), "PT1H")));

    [Fact]
    public void Ag009OwnerOnSensitive()
    {
        Assert.Equal(new[] { "AG009:Medium" }, Rules(Assess(AccessOperation.Grant("conf", "m9", "owner"), "PT1H")));
        Assert.Empty(Assess(AccessOperation.Grant("gen", "m9", "owner"), "PT1H").Findings);
        // Raising an existing reader to owner is a gain too.
        var raise = Assess(AccessOperation.Grant("conf", "m1", "owner"), "PT1H");
        Assert.Equal(AccessRole.Read, raise.Resources.Single().Gained.Single().Before);
        Assert.Equal(AccessRole.Owner, raise.Resources.Single().Gained.Single().After);
        Assert.Equal(new[] { "AG009:Medium" }, Rules(raise));
    }

    [Fact]
    public void Ag010SensitiveWideningWithoutDuration()
    {
        Assert.Equal(new[] { "AG010:Low" }, Rules(Assess(AccessOperation.Grant("conf", "m9", "read"))));
        Assert.Empty(Assess(AccessOperation.Grant("conf", "m9", "read"), "PT8H").Findings);
        Assert.Empty(Assess(AccessOperation.Grant("gen", "m9", "read")).Findings);
    }

    [Fact]
    public void NarrowingHasNoFindingsAndCountsLosses()
    {
        var r = Assess(AccessOperation.RemoveMember("g-team", "m3"));
        Assert.Equal(RiskLevel.None, r.RiskLevel);
        Assert.Empty(r.Findings);
        Assert.Equal(1, r.PrincipalsLost);
        Assert.Equal(1, r.RequiredApprovals);
        var lost = r.Resources.Single().Lost.Single();
        Assert.Equal(("m3", AccessRole.Write, AccessRole.None), (lost.PrincipalId, lost.Before, lost.After));
    }

    [Fact]
    public void DisabledUsersGainNothing()
    {
        var r = Assess(AccessOperation.Grant("gen", "g-big", "read"), "PT1H");
        Assert.DoesNotContain(r.Resources.Single().Gained, d => d.PrincipalId == "d1");
        Assert.Equal(61, r.PrincipalsGained);
    }

    [Fact]
    public void PolicyShapesTheVerdict()
    {
        var op = AccessOperation.Grant("conf", "g-guests", "read");
        var onlyHighlyConfidential = PolicyReader.Parse("@{ SensitiveFrom = 'HighlyConfidential' }");
        Assert.Empty(Assess(op, policy: onlyHighlyConfidential).Findings);

        var noGuestRule = PolicyReader.Parse("@{ Rules = @{ AG004 = @{ Enabled = $false } } }");
        Assert.DoesNotContain(Assess(op, "PT1H", policy: noGuestRule).Findings, f => f.RuleId == "AG004");

        var guestsBlocked = PolicyReader.Parse("@{ HardDeny = @{ AG004 = 'High' } }");
        var blocked = Assess(op, "PT1H", policy: guestsBlocked);
        Assert.True(blocked.Blocked);
        Assert.Equal(new[] { "AG004" }, blocked.BlockingRules);

        var approvals = PolicyReader.Parse("@{ RequiredApprovals = @{ High = 3; Critical = 4 } }");
        Assert.Equal(3, Assess(op, "PT1H", policy: approvals).RequiredApprovals);
        Assert.Equal(2, Assess(op, "PT1H").RequiredApprovals);
        Assert.Equal(1, Assess(AccessOperation.Grant("gen", "m9", "read")).RequiredApprovals);
    }

    [Fact]
    public void RiskIsTheWorstFindingAndFindingsAreWorstFirst()
    {
        var r = Assess(AccessOperation.Grant("hc", "g-big", "owner"));
        Assert.Equal(RiskLevel.Critical, r.RiskLevel);
        Assert.Equal(r.Findings.OrderByDescending(f => f.Severity).Select(f => f.Severity), r.Findings.Select(f => f.Severity));
        Assert.Equal(new[] { "AG002:Critical", "AG003:High", "AG004:High", "AG005:Critical", "AG009:Medium", "AG010:Low" }, Rules(r));
    }

    [Theory]
    [InlineData("grant", "nowhere", "m1", "UnknownResource")]
    [InlineData("grant", "gen", "nobody", "UnknownPrincipal")]
    [InlineData("revoke", "gen", "m1", "GrantNotFound")]
    [InlineData("addMember", "m1", "m2", "NotAGroup")]
    [InlineData("addMember", "g-small", "g-small", "ChangeInvalid")]
    [InlineData("removeMember", "g-small", "m9", "MemberNotFound")]
    public void OperationsThatCannotApplyAreErrors(string op, string target, string who, string errorId)
    {
        var operation = op switch
        {
            "grant" => AccessOperation.Grant(target, who, "read"),
            "revoke" => AccessOperation.Revoke(target, who, "read"),
            "addMember" => AccessOperation.AddMember(target, who),
            _ => AccessOperation.RemoveMember(target, who),
        };
        var e = Assert.ThrowsAny<GovernanceException>(() => Assess(operation));
        Assert.Equal(errorId, e.ErrorId);
    }

    [Fact]
    public void NoOpOperationsAreNoted()
    {
        var r = Assess(AccessOperation.AddMember("g-small", "m1"));
        Assert.Empty(r.Resources);
        Assert.Contains("already a member", Assert.Single(r.Notes));
        var again = ExposureEngine.Assess(Tenant, new AccessChange(new[] { AccessOperation.Grant("gen", "m1", "read"), AccessOperation.Grant("gen", "m1", "read") }));
        Assert.Contains("already granted", Assert.Single(again.Notes));
    }

    [Fact]
    public void SameChangeGivesTheSameReport()
    {
        var op = AccessOperation.Grant("hc", "g-big", "read");
        var a = Assess(op);
        var b = Assess(op);
        Assert.Equal(a.Resources.SelectMany(r => r.Gained).Select(d => d.PrincipalId), b.Resources.SelectMany(r => r.Gained).Select(d => d.PrincipalId));
        Assert.Equal(a.Findings.Select(f => f.Message), b.Findings.Select(f => f.Message));
    }
}
