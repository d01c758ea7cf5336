using System.Diagnostics;
using System.Management.Automation;
using AgentGovernance.Exposure;
using AgentGovernance.GraphFake;
using AgentGovernance.Providers.Graph;
using AgentGovernance.Tests.Support;

namespace AgentGovernance.Tests.Graph;

/// <summary>Paging, throttling (429 with Retry-After, in and out of $batch), 503/504, timeouts and permission-denied reads.</summary>
public sealed class GraphFaultTests : GraphTestBase
{
    public GraphFaultTests(HostFixture fixture)
        : base(fixture)
    {
    }

    private string GrantToEngineering() =>
        ChangeFile("grant.json", $"{{ \"op\": \"grant\", \"resource\": \"{Fabrikam.PayrollId}\", \"principal\": \"{Fabrikam.Eng}\", \"role\": \"read\" }}");

    private RunResult Preview(string file) => Ps.Run("param($f) Import-AccessChange -Path $f | Test-ExposureRisk", file);

    private static string[] Gained(RunResult result) =>
        ((ExposureReport)Assert.Single(result.Output).BaseObject).Resources.SelectMany(r => r.Gained).Select(g => g.PrincipalId).OrderBy(x => x).ToArray();

    private static readonly string[] EngineeringGains = new[] { Fabrikam.Alice, Fabrikam.Bob, Fabrikam.PipelineApp }.OrderBy(x => x).ToArray();

    [Fact]
    public void EveryPageOfAMemberListIsFollowed()
    {
        Graph.MaxPageSize = 1;
        ConnectClean();
        var result = Preview(GrantToEngineering());
        Assert.Empty(result.Errors);
        Assert.Equal(EngineeringGains, Gained(result));
        // Platform's four members came one per page, each absolute nextLink followed.
        var platform = Graph.Steps.Concat(Graph.Requests).Where(s => s.Contains($"/groups/{Fabrikam.Platform}/members", StringComparison.Ordinal)).ToList();
        Assert.Equal(4, platform.Count);
        Assert.Contains(platform, s => s.Contains("$skiptoken=X3", StringComparison.Ordinal));
    }

    [Fact]
    public void AThrottledRequestIsRetriedAfterItsRetryAfter()
    {
        Graph.Fail(new Fault { Path = "/organization", Status = 429, RetryAfter = 1, InBatch = false });
        var watch = Stopwatch.StartNew();
        var result = Connect();
        Assert.Empty(result.Errors);
        Assert.True(watch.Elapsed >= TimeSpan.FromSeconds(0.9), $"retried after {watch.Elapsed}");
        Assert.Equal(2, Graph.Requests.Count(r => r.StartsWith("GET /v1.0/organization", StringComparison.Ordinal)));
        var provider = (IGraphDirectory)((dynamic)Assert.Single(result.Output).BaseObject).Provider;
        Assert.Equal(1, provider.Statistics.Throttled);
        Assert.Equal(2, provider.Statistics.Requests);
    }

    [Fact]
    public void AThrottledStepInsideABatchIsSentAgainAlone()
    {
        ConnectClean();
        // The item and its permissions are read in one $batch; the permissions step is answered 429.
        Graph.Fail(new Fault { Path = "/permissions", Status = 429, RetryAfter = 1, InBatch = true });
        var result = Preview(GrantToEngineering());
        Assert.Empty(result.Errors);
        Assert.Equal(EngineeringGains, Gained(result));
        Assert.Single(Graph.Steps, s => s.EndsWith("/permissions", StringComparison.Ordinal));
        Assert.Single(Graph.Requests, s => s.EndsWith("/permissions", StringComparison.Ordinal)); // sent again, alone
    }

    [Theory]
    [InlineData(503)]
    [InlineData(504)]
    public void AnUnavailableAnswerIsRetried(int status)
    {
        ConnectClean();
        Graph.Fail(new Fault { Path = "/permissions", Status = status, Code = "ServiceUnavailable", RetryAfter = 1 });
        var result = Preview(GrantToEngineering());
        Assert.Empty(result.Errors);
        Assert.Equal(EngineeringGains, Gained(result));
    }

    [Fact]
    public void ThrottlingThatNeverEndsIsAnErrorRecordNotAGuess()
    {
        ConnectClean();
        Graph.Fail(new Fault { Path = "/permissions", Status = 429, RetryAfter = 0, Times = 1000 });
        var result = Preview(GrantToEngineering());
        Assert.Empty(result.Output);
        var error = SingleError(result, "GraphThrottled", "TestExposureRiskCommand", ErrorCategory.ReadError);
        Assert.Contains($"the permissions of {Fabrikam.PayrollId}", error.Exception.Message);
    }

    [Fact]
    public void ARequestThatTakesTooLongFailsWithGraphTimeout()
    {
        ConnectClean(timeoutSec: 1);
        Graph.Fail(new Fault { Path = "/permissions", Status = 200, DelayMs = 3000, Times = 10 });
        var result = Preview(GrantToEngineering());
        var error = SingleError(result, "GraphTimeout", "TestExposureRiskCommand", ErrorCategory.ReadError);
        Assert.Contains("within 1 s", error.Exception.Message);
    }

    [Fact]
    public void ARefusedReadOfWhatTheChangeNamesIsAnErrorNamingThePermission()
    {
        ConnectClean();
        Graph.Fail(new Fault { Path = "/roleManagement/directory/roleAssignments", Status = 403, Code = "Authorization_RequestDenied", Times = 100 });
        var file = ChangeFile("role.json", $"{{ \"op\": \"grant\", \"resource\": \"roleDefinitions/{Fabrikam.GlobalAdmin}\", \"principal\": \"{Fabrikam.Alice}\", \"role\": \"member\" }}");
        var result = Preview(file);
        var error = SingleError(result, "DirectoryPermissionDenied", "TestExposureRiskCommand", ErrorCategory.PermissionDenied);
        Assert.Contains("RoleManagement.Read.Directory", error.Exception.Message);
        Assert.Contains("Authorization_RequestDenied", error.Exception.Message);
    }

    [Fact]
    public void MembersThatCannotBeReadAreANoteOfTheReport()
    {
        ConnectClean();
        var file = ChangeFile("hidden.json", $"{{ \"op\": \"grant\", \"resource\": \"{Fabrikam.PayrollId}\", \"principal\": \"{Fabrikam.Hidden}\", \"role\": \"read\" }}");
        var result = Preview(file);
        Assert.Empty(result.Errors);
        var report = (ExposureReport)Assert.Single(result.Output).BaseObject;
        Assert.Contains(report.Notes, n => n.Contains("'Hidden'", StringComparison.Ordinal) && n.Contains("Member.Read.Hidden", StringComparison.Ordinal));
        Assert.Equal(0, report.PrincipalsGained);
        Assert.Contains(result.Warnings, w => w.Contains("Member.Read.Hidden", StringComparison.Ordinal));
    }

    [Fact]
    public void AnUnknownObjectAndABadResourceIdAreClearErrors()
    {
        ConnectClean();
        var missing = ChangeFile("missing.json", $"{{ \"op\": \"addMember\", \"group\": \"{Fabrikam.Eng}\", \"member\": \"{FakeTenant.NewId(999)}\" }}");
        SingleError(Preview(missing), "DirectoryObjectNotFound", "TestExposureRiskCommand", ErrorCategory.ObjectNotFound);
        var bad = ChangeFile("bad.json", $"{{ \"op\": \"grant\", \"resource\": \"site-userdata\", \"principal\": \"{Fabrikam.Eng}\", \"role\": \"read\" }}");
        var error = SingleError(Preview(bad), "ResourceIdInvalid", "TestExposureRiskCommand", ErrorCategory.InvalidArgument);
        Assert.Contains("drives/{drive-id}/items/{item-id}", error.Exception.Message);
    }

    [Fact]
    public void ReadsAreCachedForOneCommandAndReadAgainByTheNext()
    {
        ConnectClean();
        var file = GrantToEngineering();
        var before = Graph.RequestCount;
        Ps.RunClean("param($f) Import-AccessChange -Path $f | Test-ExposureRisk", file);
        var one = Graph.RequestCount - before;
        before = Graph.RequestCount;
        Ps.RunClean("param($f) $c = Import-AccessChange -Path $f; $c, $c, $c | Test-ExposureRisk", file);
        var threeInOneCommand = Graph.RequestCount - before;
        before = Graph.RequestCount;
        Ps.RunClean("param($f) Import-AccessChange -Path $f | Test-ExposureRisk", file);
        var again = Graph.RequestCount - before;

        Assert.True(one > 0);
        Assert.Equal(one, threeInOneCommand); // the second and third preview came from the command's cache
        Assert.Equal(one, again);             // a new command reads current state
    }

    [Fact]
    public void GetEffectiveAccessReadsOneResourceLive()
    {
        ConnectClean();
        var entries = Ps.RunClean("param($r) Get-EffectiveAccess -ResourceId $r", Fabrikam.PayrollId).Output.Select(o => (dynamic)o.BaseObject).ToList();
        var carol = Assert.Single(entries);
        Assert.Equal(Fabrikam.Carol, (string)carol.PrincipalId);
        Assert.Equal("Write", carol.Role.ToString());

        var error = Ps.Run("param($p) Get-EffectiveAccess -PrincipalId $p", Fabrikam.Carol);
        SingleError(error, "LiveDirectoryNeedsResource", "GetEffectiveAccessCommand", ErrorCategory.InvalidArgument);
    }
}
