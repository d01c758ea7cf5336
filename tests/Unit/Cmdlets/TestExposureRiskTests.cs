using System.Collections;
using System.Management.Automation;
using AgentGovernance.Changes;
using AgentGovernance.Directory;
using AgentGovernance.Exposure;
using AgentGovernance.Policy;
using AgentGovernance.Tests.Support;

namespace AgentGovernance.Tests.Cmdlets;

/// <summary>Test-ExposureRisk with -Snapshot (the session's defaults are in SessionTests).</summary>
public sealed class TestExposureRiskTests : CmdletTestBase
{
    private const string Cmd = "TestExposureRiskCommand";

    public TestExposureRiskTests(HostFixture fixture)
        : base(fixture)
    {
    }

    /// <summary>Runs a script with $s set to the tiny tenant.</summary>
    private RunResult WithTiny(string script) =>
        Ps.Run("$s = Import-AccessSnapshot -LiteralPath $args[0]\n" + script, TinyPath);

    private ExposureReport Report(string newChangeArguments)
    {
        var result = WithTiny("New-AccessChange " + newChangeArguments + " | Test-ExposureRisk -Snapshot $s");
        Assert.Empty(result.Errors);
        return result.Single<ExposureReport>();
    }

    [Fact]
    public void TheMiniatureIncidentIsCriticalWithItsNumbers()
    {
        Temp.Write("change.json", CmdletTestData.GrantChange);

        var result = WithTiny("Import-AccessChange change.json | Test-ExposureRisk -Snapshot $s");

        Assert.Empty(result.Errors);
        var report = result.Single<ExposureReport>();
        Assert.Equal(RiskLevel.Critical, report.RiskLevel);
        Assert.False(report.Blocked);
        Assert.Empty(report.BlockingRules);
        Assert.Equal(2, report.RequiredApprovals);
        Assert.Equal(3, report.PrincipalsGained);
        Assert.Equal(2, report.GainedMembers);
        Assert.Equal(0, report.GainedGuests);
        Assert.Equal(1, report.GainedServicePrincipals);
        Assert.Equal(0, report.GainedAgents);
        Assert.False(report.GainedAnonymous);
        Assert.Equal(0, report.PrincipalsLost);
        Assert.Equal(1, report.ResourcesAffected);
        Assert.Equal(1, report.SensitiveResourcesAffected);
        Assert.Equal("Let Engineering read the exports", report.Title);
        Assert.Equal(report.Change.Id, report.ChangeId);

        var resource = Assert.Single(report.Resources);
        Assert.Equal("site-secret", resource.ResourceId);
        Assert.Equal(Sensitivity.HighlyConfidential, resource.Sensitivity);
        Assert.True(resource.PersonalData);
        Assert.True(resource.IsSensitive);
        Assert.Equal(new[] { "u-alice", "u-bob", "sp-app" }, resource.Gained.Select(d => d.PrincipalId));
        Assert.All(resource.Gained, d => Assert.Equal((AccessRole.None, AccessRole.Read), (d.Before, d.After)));
        Assert.Empty(resource.Lost);

        Assert.Equal(
            new[] { "AG002 Critical", "AG005 High", "AG007 High", "AG010 Low" },
            report.Findings.Select(f => f.RuleId + " " + f.Severity));
        Assert.All(report.Findings, f => Assert.Equal("site-secret", f.ResourceId));
        Assert.Contains("bob@tiny.example", report.Findings.Single(f => f.RuleId == "AG007").Message);
        Assert.Equal("u-bob -> g-platform -> g-eng : read", report.Explain("u-bob", "site-secret")?.ToString());
    }

    [Fact]
    public void TheChangeBindsByPositionByNameAndFromThePipeline()
    {
        var result = WithTiny(@"
            $c = New-AccessChange -Grant -ResourceId site-general -PrincipalId u-joe
            Test-ExposureRisk $c -Snapshot $s
            Test-ExposureRisk -Change $c -Snapshot $s
            $c | Test-ExposureRisk -Snapshot $s
            $c.Id");

        Assert.Empty(result.Errors);
        var id = result.Objects<string>().Single();
        var reports = result.Objects<ExposureReport>().ToList();
        Assert.Equal(3, reports.Count);
        Assert.All(reports, r => Assert.Equal(id, r.ChangeId));
    }

    [Fact]
    public void EachPipedChangeGetsItsReportInOrder()
    {
        Temp.Write("a.json", CmdletTestData.GrantChange);
        Temp.Write("b.json", CmdletTestData.SmallChange);

        var result = WithTiny("'a.json', 'b.json' | Import-AccessChange | Test-ExposureRisk -Snapshot $s");

        Assert.Empty(result.Errors);
        Assert.Equal(new[] { RiskLevel.Critical, RiskLevel.None }, result.Objects<ExposureReport>().Select(r => r.RiskLevel));
    }

    public static TheoryData<string, string, ErrorCategory, string> BadChanges => new()
    {
        { "-Grant -ResourceId site-secret -PrincipalId g-nobody", "UnknownPrincipal", ErrorCategory.ObjectNotFound, "g-nobody" },
        { "-Grant -ResourceId site-nowhere -PrincipalId g-eng", "UnknownResource", ErrorCategory.ObjectNotFound, "site-nowhere" },
        { "-CreateLink Anonymous -ResourceId site-nowhere", "UnknownResource", ErrorCategory.ObjectNotFound, "site-nowhere" },
        { "-AddMember -GroupId g-eng -MemberId u-nobody", "UnknownPrincipal", ErrorCategory.ObjectNotFound, "u-nobody" },
        { "-AddMember -GroupId g-nogroup -MemberId u-joe", "UnknownPrincipal", ErrorCategory.ObjectNotFound, "g-nogroup" },
        { "-AddMember -GroupId u-alice -MemberId u-joe", "NotAGroup", ErrorCategory.InvalidArgument, "u-alice" },
        { "-RemoveMember -GroupId sp-app -MemberId u-joe", "NotAGroup", ErrorCategory.InvalidArgument, "sp-app" },
        { "-SetVisibility Public -GroupId u-alice", "NotAGroup", ErrorCategory.InvalidArgument, "u-alice" },
        { "-Revoke -ResourceId site-secret -PrincipalId g-eng", "GrantNotFound", ErrorCategory.ObjectNotFound, "site-secret" },
        { "-Revoke -ResourceId site-general -PrincipalId g-eng -Role write", "GrantNotFound", ErrorCategory.ObjectNotFound, "site-general" },
        { "-RemoveMember -GroupId g-eng -MemberId u-bob", "MemberNotFound", ErrorCategory.ObjectNotFound, "g-eng" },
        { "-AddMember -GroupId g-eng -MemberId g-eng", "ChangeInvalid", ErrorCategory.InvalidArgument, "g-eng" },
        { "-Operation @{ op = 'grant'; resource = 'site-general'; principal = 'u-joe'; role = 'read' }, @{ op = 'revoke'; resource = 'site-general'; principal = 'u-joe'; role = 'read' }, @{ op = 'revoke'; resource = 'site-general'; principal = 'u-joe'; role = 'read' }", "GrantNotFound", ErrorCategory.ObjectNotFound, "site-general" },
    };

    [Theory]
    [MemberData(nameof(BadChanges))]
    public void AChangeThatDoesNotFitTheDirectoryIsAnErrorAboutThatChange(string newChange, string errorId, ErrorCategory category, string id)
    {
        var result = WithTiny("$c = New-AccessChange " + newChange + "; $c | Test-ExposureRisk -Snapshot $s; $c.Id");

        var error = SingleError(result, errorId, Cmd, category);
        var target = Assert.IsType<AccessChange>(error.TargetObject);
        Assert.Equal(result.Objects<string>().Single(), target.Id);
        Assert.Contains(id, error.Exception.Message);
        Assert.Empty(result.Objects<ExposureReport>());
    }

    [Fact]
    public void AnAudienceAsAMemberInADocumentIsChangeInvalid()
    {
        // New-AccessChange and the change reader refuse it already; a change made in code still meets the engine's check.
        var change = new AccessChange(new[] { AccessOperation.AddMember("g-eng", "everyoneExceptExternal") });

        var result = Ps.Run("Test-ExposureRisk -Change $c -Snapshot (Import-AccessSnapshot -LiteralPath $args[0])", new Hashtable { ["c"] = change }, TinyPath);

        var error = SingleError(result, "ChangeInvalid", Cmd, ErrorCategory.InvalidArgument);
        Assert.Same(change, error.TargetObject);
    }

    [Fact]
    public void ABadChangeInThePipelineGivesOneErrorAndTheNextChangeIsStillAssessed()
    {
        var result = WithTiny(@"
            $bad = New-AccessChange -Grant -ResourceId site-secret -PrincipalId nobody
            $good = New-AccessChange -Grant -ResourceId site-general -PrincipalId u-joe
            $good, $bad, $good | Test-ExposureRisk -Snapshot $s");

        SingleError(result, "UnknownPrincipal", Cmd, ErrorCategory.ObjectNotFound);
        Assert.Equal(2, result.Objects<ExposureReport>().Count());
    }

    [Fact]
    public void ABlockedChangeSaysSoAndWhy()
    {
        var result = WithTiny("New-AccessChange -CreateLink Anonymous -ResourceId site-secret -Duration P1D | Test-ExposureRisk -Snapshot $s");

        Assert.Empty(result.Errors);
        var report = result.Single<ExposureReport>();
        Assert.True(report.Blocked);
        Assert.Equal(RiskLevel.Critical, report.RiskLevel);
        Assert.Equal(new[] { "AG001" }, report.BlockingRules);
        Assert.True(report.GainedAnonymous);
        Assert.True(report.Findings.Single(f => f.RuleId == "AG001").HardDeny);
        Assert.Contains(result.Warnings, w => w.Contains("blocks") && w.Contains("AG001"));
    }

    [Fact]
    public void AnAnonymousLinkOnAResourceThatIsNotSensitiveIsHighNotBlocked()
    {
        var report = Report("-CreateLink Anonymous -ResourceId site-general");

        Assert.Equal(RiskLevel.High, report.RiskLevel);
        Assert.False(report.Blocked);
        Assert.Equal("AG001", Assert.Single(report.Findings).RuleId);
    }

    [Fact]
    public void AnOperationThatChangesNothingIsANoteAndAWarning()
    {
        var result = WithTiny("New-AccessChange -Grant -ResourceId site-general -PrincipalId g-eng | Test-ExposureRisk -Snapshot $s");

        Assert.Empty(result.Errors);
        var report = result.Single<ExposureReport>();
        var note = Assert.Single(report.Notes);
        Assert.Contains("already granted", note);
        Assert.Contains(note, result.Warnings);
        Assert.Equal(RiskLevel.None, report.RiskLevel);
        Assert.Equal(0, report.ResourcesAffected);
    }

    [Fact]
    public void ARevokeOnlyLosesAccess()
    {
        var report = Report("-Revoke -ResourceId site-general -PrincipalId g-eng");

        Assert.Equal(RiskLevel.None, report.RiskLevel);
        Assert.Equal(0, report.PrincipalsGained);
        Assert.Equal(3, report.PrincipalsLost);
        Assert.Equal(new[] { "u-alice", "u-bob", "sp-app" }, Assert.Single(report.Resources).Lost.Select(d => d.PrincipalId));
        Assert.Equal(1, report.RequiredApprovals);
    }

    [Fact]
    public void AGuestReachingASensitiveResourceIsAG004()
    {
        var report = Report("-Grant -ResourceId site-team -PrincipalId u-joe -Duration PT1H");

        // One user of four is also more than 10% of the enabled users (AG002).
        Assert.Equal(new[] { "AG002", "AG004" }, report.Findings.Select(f => f.RuleId));
        Assert.Equal(1, report.GainedGuests);
        Assert.Contains("Joe (vendor)", report.Findings[1].Message);
    }

    [Fact]
    public void AnAgentReachingASensitiveResourceIsAG006AndTheSuggesterGainingIsAG007()
    {
        var report = Report("-Grant -ResourceId site-team -PrincipalId sp-bot -Duration PT1H -SuggestedBy sp-bot");

        Assert.Equal(new[] { "AG006", "AG007" }, report.Findings.Select(f => f.RuleId));
        Assert.Equal(1, report.GainedAgents);
    }

    [Fact]
    public void TheRequesterIsMatchedByIdToo()
    {
        var report = Report("-Grant -ResourceId site-team -PrincipalId u-bob -Duration PT1H -RequestedBy u-bob");

        Assert.Contains(report.Findings, f => f.RuleId == "AG007");
    }

    [Fact]
    public void ADirectoryRoleGainingPrincipalsIsAG008Critical()
    {
        var report = Report("-Grant -ResourceId role-admin -PrincipalId u-alice -Role member -Duration PT1H");

        Assert.Equal(RiskLevel.Critical, report.RiskLevel);
        Assert.Contains(report.Findings, f => f.RuleId == "AG008" && f.Severity == RiskLevel.Critical);
    }

    [Fact]
    public void OwnerOnASensitiveResourceIsAG009()
    {
        var report = Report("-Grant -ResourceId site-team -PrincipalId u-alice -Role owner -Duration PT1H");

        Assert.Equal(new[] { "AG002 High", "AG009 Medium" }, report.Findings.Select(f => f.RuleId + " " + f.Severity));
        Assert.Equal(AccessRole.Owner, Assert.Single(report.Resources[0].Gained).After);
    }

    [Fact]
    public void MakingAGroupPublicExposesItsConnectedResourceToEveryMember()
    {
        var report = Report("-SetVisibility Public -GroupId g-team");

        Assert.Equal(RiskLevel.High, report.RiskLevel);
        Assert.Equal(3, report.PrincipalsGained);
        Assert.Equal(new[] { "AG002", "AG010" }, report.Findings.Select(f => f.RuleId));
        Assert.Contains("g-team", report.Findings[0].Message);
    }

    [Fact]
    public void AddingAMemberExposesWhatTheGroupReaches()
    {
        var report = Report("-AddMember -GroupId g-data -MemberId u-joe -Duration PT4H");

        Assert.Equal(new[] { "site-secret" }, report.Resources.Select(r => r.ResourceId));
        Assert.Equal("u-joe", Assert.Single(report.Resources[0].Gained).PrincipalId);
        Assert.Contains(report.Findings, f => f.RuleId == "AG004");
        Assert.DoesNotContain(report.Findings, f => f.RuleId == "AG010");
    }

    [Fact]
    public void PolicyChangesTheVerdict()
    {
        var strict = PolicyReader.Parse("@{ SensitiveFrom = 'HighlyConfidential' }");

        var result = Ps.Run(@"
            $s = Import-AccessSnapshot -LiteralPath $args[0]
            $c = New-AccessChange -SetVisibility Public -GroupId g-team
            ($c | Test-ExposureRisk -Snapshot $s).RiskLevel
            ($c | Test-ExposureRisk -Snapshot $s -Policy $strict).RiskLevel", new Hashtable { ["strict"] = strict }, TinyPath);

        Assert.Empty(result.Errors);
        Assert.Equal(new[] { RiskLevel.High, RiskLevel.None }, result.Objects<RiskLevel>());
    }

    [Fact]
    public void PolicyAgentIdentitiesCountAsAgents()
    {
        var policy = PolicyReader.Parse("@{ AgentIdentities = @('alice@tiny.example') }");

        var result = Ps.Run(
            "New-AccessChange -Grant -ResourceId site-team -PrincipalId u-alice -Duration PT1H | Test-ExposureRisk -Snapshot (Import-AccessSnapshot -LiteralPath $args[0]) -Policy $p",
            new Hashtable { ["p"] = policy },
            TinyPath);

        var report = result.Single<ExposureReport>();
        Assert.Equal(1, report.GainedAgents);
        Assert.Contains(report.Findings, f => f.RuleId == "AG006");
    }

    [Fact]
    public void VerboseTellsTheVerdict()
    {
        var result = WithTiny("New-AccessChange -Grant -ResourceId site-secret -PrincipalId g-eng | Test-ExposureRisk -Snapshot $s -Verbose");

        var line = Assert.Single(result.Verbose);
        Assert.Contains("risk Critical", line);
        Assert.Contains("2 approval", line);
    }

    [Fact]
    public void SomethingThatIsNotAChangeIsNotBound()
    {
        var result = WithTiny("'grant read on site-secret to g-eng' | Test-ExposureRisk -Snapshot $s");

        Assert.StartsWith("InputObjectNotBound", Assert.Single(result.Errors).FullyQualifiedErrorId);
        Assert.Empty(result.Output);
    }

    [Fact]
    public void ANullChangeIsRejectedByBinding()
    {
        var result = WithTiny("Test-ExposureRisk -Change $null -Snapshot $s");

        Assert.StartsWith("ParameterArgumentValidationErrorNullNotAllowed", Assert.Single(result.Errors).FullyQualifiedErrorId);
    }
}
