using System.Collections;
using System.Management.Automation;
using AgentGovernance.Commands;
using AgentGovernance.Directory;
using AgentGovernance.Exposure;
using AgentGovernance.Policy;
using AgentGovernance.Tests.Support;

namespace AgentGovernance.Tests.Cmdlets;

/// <summary>
/// Connect-AgentGovernance and the session's defaults. Every test connects first (the runspace is
/// shared by the class), giving -Policy explicitly where the policy matters, since a connect without
/// one keeps the session's.
/// </summary>
public sealed class ConnectAgentGovernanceTests : CmdletTestBase
{
    private const string Cmd = "ConnectAgentGovernanceCommand";
    private const string Defaults = "-Policy ([AgentGovernance.Policy.GovernancePolicy]::Default)";

    public ConnectAgentGovernanceTests(HostFixture fixture)
        : base(fixture)
    {
    }

    [Fact]
    public void ConnectsToASnapshotFileGivenByPositionAndSaysNothingWithoutPassThru()
    {
        TinyPath.ToString();

        var result = Ps.RunClean("Connect-AgentGovernance tiny.snapshot.json " + Defaults);

        Assert.Empty(result.Output);
    }

    [Fact]
    public void PassThruGivesTheSession()
    {
        var path = TinyPath;

        var session = Ps.RunClean("Connect-AgentGovernance -SnapshotPath tiny.snapshot.json -PassThru " + Defaults).Single<GovernanceSession>();

        Assert.Equal(CmdletTestData.TenantId, session.TenantId);
        Assert.Equal(path, session.Directory);
        Assert.Equal("(built-in defaults)", session.PolicySource);
        Assert.Same(GovernancePolicy.Default, session.Policy);
        Assert.Equal(11, session.Snapshot!.PrincipalCount);
    }

    [Fact]
    public void ASnapshotObjectConnectsByParameterOrFromThePipeline()
    {
        TinyPath.ToString();
        Temp.Write("other.json", CmdletTestData.OtherSnapshot);

        var result = Ps.RunClean(@"
            (Import-AccessSnapshot tiny.snapshot.json | Connect-AgentGovernance -PassThru).TenantId
            (Connect-AgentGovernance -Snapshot (Import-AccessSnapshot other.json) -PassThru).TenantId
            (Connect-AgentGovernance (Import-AccessSnapshot tiny.snapshot.json) -PassThru).TenantId");

        Assert.Equal(new[] { CmdletTestData.TenantId, "other.example", CmdletTestData.TenantId }, result.Output.Select(o => o.BaseObject));
    }

    [Fact]
    public void ASnapshotMadeInMemoryHasNoSourceFile()
    {
        var snapshot = SnapshotReader.ParseText(CmdletTestData.OtherSnapshot);

        var session = Ps.RunClean("Connect-AgentGovernance -Snapshot $x -PassThru", new Hashtable { ["x"] = snapshot }).Single<GovernanceSession>();

        Assert.Equal("(in memory)", session.Directory);
        Assert.Same(snapshot, session.Snapshot);
    }

    [Fact]
    public void AfterConnectingTheCmdletsUseTheSessionsSnapshot()
    {
        TinyPath.ToString();

        var result = Ps.RunClean(@"
            Connect-AgentGovernance -SnapshotPath tiny.snapshot.json " + Defaults + @"
            New-AccessChange -Grant -ResourceId site-secret -PrincipalId g-eng | Test-ExposureRisk
            Get-EffectiveAccess site-general
            Get-EffectiveAccess -PrincipalId u-bob
            Export-AccessSnapshot -Path exported.json -PassThru");

        Assert.Equal(RiskLevel.Critical, result.Single<ExposureReport>().RiskLevel);
        Assert.Equal(5, result.Objects<EffectiveAccessEntry>().Count());
        Assert.Equal(Temp["exported.json"], result.Single<FileInfo>().FullName);
        Assert.Contains("\"tiny.example\"", File.ReadAllText(Temp["exported.json"]));
    }

    [Fact]
    public void AnExplicitSnapshotWinsOverTheSessions()
    {
        TinyPath.ToString();
        Temp.Write("other.json", CmdletTestData.OtherSnapshot);

        var result = Ps.RunClean(@"
            Connect-AgentGovernance tiny.snapshot.json
            $o = Import-AccessSnapshot other.json
            Get-EffectiveAccess site-z -Snapshot $o
            New-AccessChange -Grant -ResourceId site-z -PrincipalId u-zed -Role write | Test-ExposureRisk -Snapshot $o");

        Assert.Equal("u-zed", result.Single<EffectiveAccessEntry>().PrincipalId);
        Assert.Equal(1, result.Single<ExposureReport>().PrincipalsGained);
    }

    [Fact]
    public void ConnectingAgainReplacesTheSnapshot()
    {
        TinyPath.ToString();
        Temp.Write("other.json", CmdletTestData.OtherSnapshot);

        var result = Ps.Run(@"
            Connect-AgentGovernance tiny.snapshot.json
            Connect-AgentGovernance other.json
            Get-EffectiveAccess site-z
            Get-EffectiveAccess site-general");

        Assert.Equal("u-zed", result.Single<EffectiveAccessEntry>().PrincipalId);
        var error = SingleError(result, "UnknownResource", "GetEffectiveAccessCommand", ErrorCategory.ObjectNotFound);
        Assert.Contains("other.example", error.Exception.Message);
    }

    [Fact]
    public void ThePolicyFileOfTheSessionIsUsedAndAPolicyParameterWinsOverIt()
    {
        TinyPath.ToString();
        var policy = Temp.Write("strict.psd1", "@{ SensitiveFrom = 'HighlyConfidential' }");

        var result = Ps.RunClean(@"
            $c = New-AccessChange -SetVisibility Public -GroupId g-team
            (Connect-AgentGovernance tiny.snapshot.json -PolicyPath strict.psd1 -PassThru).PolicySource
            ($c | Test-ExposureRisk).RiskLevel
            ($c | Test-ExposureRisk -Policy ([AgentGovernance.Policy.GovernancePolicy]::Default)).RiskLevel");

        Assert.Equal(policy, result.Output[0].BaseObject);
        Assert.Equal(new[] { RiskLevel.None, RiskLevel.High }, result.Objects<RiskLevel>());
    }

    [Fact]
    public void APolicyObjectCanBeGiven()
    {
        TinyPath.ToString();
        var strict = PolicyReader.Parse("@{ SensitiveFrom = 'HighlyConfidential' }");

        var result = Ps.RunClean(@"
            Connect-AgentGovernance tiny.snapshot.json -Policy $strict
            (New-AccessChange -SetVisibility Public -GroupId g-team | Test-ExposureRisk).RiskLevel", new Hashtable { ["strict"] = strict });

        Assert.Equal(RiskLevel.None, result.Single<RiskLevel>());
    }

    [Fact]
    public void ConnectingWithOnlyAPolicyKeepsTheSnapshotAndWithOnlyASnapshotKeepsThePolicy()
    {
        var tiny = TinyPath;
        var policy = Temp.Write("strict.psd1", "@{ SensitiveFrom = 'HighlyConfidential' }");
        Temp.Write("other.json", CmdletTestData.OtherSnapshot);

        var result = Ps.RunClean(@"
            Connect-AgentGovernance tiny.snapshot.json " + Defaults + @"
            Connect-AgentGovernance -PolicyPath strict.psd1 -PassThru
            Connect-AgentGovernance -SnapshotPath other.json -PassThru
            Connect-AgentGovernance -PassThru");

        var sessions = result.Objects<GovernanceSession>().ToList();
        Assert.Equal((tiny, policy), (sessions[0].Directory, sessions[0].PolicySource));
        Assert.Equal((Temp["other.json"], policy), (sessions[1].Directory, sessions[1].PolicySource));
        Assert.Equal((Temp["other.json"], policy), (sessions[2].Directory, sessions[2].PolicySource));
    }

    [Fact]
    public void PolicyAndPolicyPathTogetherArePolicyAmbiguous()
    {
        TinyPath.ToString();
        Temp.Write("p.psd1", "@{}");

        var result = Ps.Run("Connect-AgentGovernance tiny.snapshot.json -PolicyPath p.psd1 " + Defaults);
        var caught = Ps.Run("try { Connect-AgentGovernance tiny.snapshot.json -PolicyPath p.psd1 " + Defaults + "; 'not reached' } catch { 'terminating' }");

        SingleError(result, "PolicyAmbiguous", Cmd, ErrorCategory.InvalidArgument);
        Assert.Empty(result.Output);
        Assert.Equal("terminating", caught.Single<string>());
    }

    public static TheoryData<string, string, string, ErrorCategory> BadConnections => new()
    {
        { "-SnapshotPath nothere.json", "nothere.json", "SnapshotNotFound", ErrorCategory.ObjectNotFound },
        { "-SnapshotPath bad.json", "bad.json", "SnapshotInvalid", ErrorCategory.InvalidData },
        { "-SnapshotPath tiny.snapshot.json -PolicyPath nothere.psd1", "nothere.psd1", "PolicyNotFound", ErrorCategory.ObjectNotFound },
        { "-SnapshotPath tiny.snapshot.json -PolicyPath unknown-key.psd1", "unknown-key.psd1", "PolicyInvalid", ErrorCategory.InvalidData },
        { "-SnapshotPath tiny.snapshot.json -PolicyPath code.psd1", "code.psd1", "PolicyInvalid", ErrorCategory.InvalidData },
    };

    [Theory]
    [MemberData(nameof(BadConnections))]
    public void ABadConnectionIsATerminatingErrorAndKeepsThePreviousSession(string arguments, string file, string errorId, ErrorCategory category)
    {
        TinyPath.ToString();
        Temp.Write("other.json", CmdletTestData.OtherSnapshot);
        Temp.Write("bad.json", "{ \"schema\": \"agentgovernance/snapshot@1\" }");
        Temp.Write("unknown-key.psd1", "@{ Nope = 1 }");
        Temp.Write("code.psd1", "@{ SensitiveFrom = $(Get-Date) }");
        Ps.RunClean("Connect-AgentGovernance other.json " + Defaults);

        var result = Ps.Run("Connect-AgentGovernance " + arguments);
        var caught = Ps.Run("try { Connect-AgentGovernance " + arguments + "; 'not reached' } catch { 'terminating' }");

        var error = SingleError(result, errorId, Cmd, category);
        Assert.Equal(Temp[file], error.TargetObject);
        Assert.Empty(result.Output);
        Assert.Equal("terminating", caught.Single<string>());
        var session = Ps.RunClean("Connect-AgentGovernance -PassThru").Single<GovernanceSession>();
        Assert.Equal(("other.example", "(built-in defaults)"), (session.TenantId, session.PolicySource));
    }

    [Fact]
    public void SnapshotAndSnapshotPathAreSeparateParameterSets()
    {
        TinyPath.ToString();

        var result = Ps.Run("Connect-AgentGovernance -SnapshotPath tiny.snapshot.json -Snapshot (Import-AccessSnapshot tiny.snapshot.json)");

        SingleError(result, "AmbiguousParameterSet", Cmd, ErrorCategory.InvalidArgument);
    }

    [Fact]
    public void RelativePathsResolveAgainstPowerShellsLocation()
    {
        Temp.Write("deep/tenant.json", CmdletTestData.Snapshot);
        Temp.Write("deep/policy.psd1", "@{}");
        Ps.SetLocation(Temp["deep"]);

        var session = Ps.RunClean("Connect-AgentGovernance ./tenant.json -PolicyPath policy.psd1 -PassThru").Single<GovernanceSession>();

        Assert.Equal(Temp["deep/tenant.json"], session.Directory);
        Assert.Equal(Temp["deep/policy.psd1"], session.PolicySource);
    }

    [Fact]
    public void VerboseTellsWhatTheSessionIsConnectedTo()
    {
        var path = TinyPath;

        var result = Ps.RunClean("Connect-AgentGovernance tiny.snapshot.json " + Defaults + " -Verbose");

        Assert.Contains(result.Verbose, v => v.Contains("Connected") && v.Contains(path) && v.Contains("built-in defaults"));
    }

    [Fact]
    public void IdsCompleteFromTheSessionsSnapshot()
    {
        TinyPath.ToString();

        var result = Ps.RunClean(@"
            Connect-AgentGovernance tiny.snapshot.json
            function Complete($line) { (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText -join ',' }
            Complete 'Get-EffectiveAccess -ResourceId site-s'
            Complete 'New-AccessChange -AddMember -GroupId g-'
            Complete 'New-AccessChange -AddMember -GroupId g-eng -MemberId bob'
            Complete 'Get-EffectiveAccess -PrincipalId sp-'");

        Assert.Equal(
            new[] { "site-secret", "g-eng,g-platform,g-data,g-team", "u-bob", "sp-bot,sp-app" },
            result.Output.Select(o => o.BaseObject));
    }

    [Fact]
    public void ASeparateRunspaceDoesNotSeeAnotherOnesSession()
    {
        var tiny = TinyPath;
        using var first = new PowerShellHost();
        using var second = new PowerShellHost();

        first.RunClean("Connect-AgentGovernance -SnapshotPath $args[0]", tiny);
        var inSecond = second.Run("Get-EffectiveAccess site-general");
        var inFirst = first.RunClean("Get-EffectiveAccess site-general");
        second.RunClean("Connect-AgentGovernance -Snapshot $x", new Hashtable { ["x"] = SnapshotReader.ParseText(CmdletTestData.OtherSnapshot) });
        var firstAgain = first.RunClean("(Connect-AgentGovernance -PassThru).TenantId");

        SingleError(inSecond, "NotConnected", "GetEffectiveAccessCommand", ErrorCategory.InvalidOperation);
        Assert.Equal(4, inFirst.Objects<EffectiveAccessEntry>().Count());
        Assert.Equal(CmdletTestData.TenantId, firstAgain.Single<string>());
    }

    [Fact]
    public void SessionsOfRunspacesUsedFromManyThreadsStayApart()
    {
        TinyPath.ToString();
        Temp.Write("other.json", CmdletTestData.OtherSnapshot);
        using var a = new PowerShellHost();
        using var b = new PowerShellHost();
        a.RunClean("Connect-AgentGovernance -SnapshotPath $args[0]", Temp["tiny.snapshot.json"]);
        b.RunClean("Connect-AgentGovernance -SnapshotPath $args[0]", Temp["other.json"]);

        var tenants = Enumerable.Range(0, 8).AsParallel().Select(i =>
        {
            var host = i % 2 == 0 ? a : b;
            lock (host)
            {
                return (i, host.RunClean("(Connect-AgentGovernance -PassThru).TenantId").Single<string>());
            }
        }).ToList();

        Assert.All(tenants, t => Assert.Equal(t.i % 2 == 0 ? CmdletTestData.TenantId : "other.example", t.Item2));
    }
}

/// <summary>Every cmdlet that needs a directory, in a runspace that never connects.</summary>
public sealed class NotConnectedTests : CmdletTestBase
{
    public NotConnectedTests(HostFixture fixture)
        : base(fixture)
    {
    }

    [Theory]
    [InlineData("New-AccessChange -Grant -ResourceId r -PrincipalId p | Test-ExposureRisk", "TestExposureRiskCommand")]
    [InlineData("Get-EffectiveAccess -ResourceId r", "GetEffectiveAccessCommand")]
    [InlineData("Get-EffectiveAccess -PrincipalId p", "GetEffectiveAccessCommand")]
    [InlineData("Export-AccessSnapshot -Path x.json", "ExportAccessSnapshotCommand")]
    public void WithoutASnapshotItIsNotConnected(string script, string commandType)
    {
        var result = Ps.Run(script);

        var error = SingleError(result, "NotConnected", commandType, ErrorCategory.InvalidOperation);
        Assert.Contains("Connect-AgentGovernance", error.Exception.Message);
        Assert.Contains("-Snapshot", error.Exception.Message);
        Assert.Empty(result.Output);
        Assert.Empty(Temp.Files());
    }

    [Fact]
    public void NotConnectedIsTerminatingAndStopsThePipelineOnce()
    {
        var result = Ps.Run(@"
            $c = New-AccessChange -Grant -ResourceId r -PrincipalId p
            try { $c, $c, $c | Test-ExposureRisk; 'not reached' } catch { 'terminating' }
            $c, $c, $c | Test-ExposureRisk");

        SingleError(result, "NotConnected", "TestExposureRiskCommand", ErrorCategory.InvalidOperation);
        Assert.Equal("terminating", result.Single<string>());
    }

    [Fact]
    public void ConnectWithNothingMakesASessionWithoutADirectory()
    {
        var result = Ps.Run("Connect-AgentGovernance -PassThru; Get-EffectiveAccess r");

        var session = result.Single<GovernanceSession>();
        Assert.Null(session.Snapshot);
        Assert.Equal("(none)", session.Directory);
        SingleError(result, "NotConnected", "GetEffectiveAccessCommand", ErrorCategory.InvalidOperation);
    }

    [Fact]
    public void TheCmdletsThatNeedNoDirectoryWorkWithoutOne()
    {
        Temp.Write("c.json", CmdletTestData.SmallChange);

        var result = Ps.RunClean(@"
            $c = Import-AccessChange c.json
            New-AccessChange -Grant -ResourceId r -PrincipalId p | Export-AccessChange -Path n.json -PassThru
            Import-AccessSnapshot -LiteralPath $args[0] | Export-AccessSnapshot -Path s.json -PassThru", TinyPath);

        Assert.Equal(2, result.Objects<FileInfo>().Count());
    }

    [Fact]
    public void CompletionWithoutASessionOffersNothingAndDoesNotFail()
    {
        var result = Ps.RunClean("(TabExpansion2 -inputScript 'Get-EffectiveAccess -ResourceId site-' -cursorColumn 36).CompletionMatches.Count");

        Assert.Equal(0, result.Single<int>());
    }
}
