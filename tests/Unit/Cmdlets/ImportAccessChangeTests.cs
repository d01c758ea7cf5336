using System.Management.Automation;
using AgentGovernance.Changes;
using AgentGovernance.Tests.Support;

namespace AgentGovernance.Tests.Cmdlets;

public sealed class ImportAccessChangeTests : CmdletTestBase
{
    private const string Cmd = "ImportAccessChangeCommand";

    public ImportAccessChangeTests(HostFixture fixture)
        : base(fixture)
    {
    }

    [Fact]
    public void ReadsEveryFieldOfTheIncidentDocument()
    {
        var change = Ps.RunClean("Import-AccessChange -LiteralPath $args[0]", Repo.Incident).Single<AccessChange>();

        Assert.Equal("Let Data Platform read the pipeline exports", change.Title);
        Assert.StartsWith("Forum thread 4411", change.Justification);
        Assert.Equal("bob@contoso.com", change.RequestedBy);
        Assert.NotNull(change.SuggestedBy);
        Assert.Equal("agent", change.SuggestedBy!.Type);
        Assert.True(change.SuggestedBy.IsAgent);
        Assert.Equal("sp-helper", change.SuggestedBy.Id);
        Assert.Equal("Helpdesk Copilot", change.SuggestedBy.DisplayName);
        Assert.Equal("https://forum.contoso.com/t/4411", change.SuggestedBy.Source);
        Assert.Null(change.Duration);
        Assert.Null(change.DurationTimeSpan);
        Assert.Equal(Repo.Incident, change.Source);
        var op = Assert.Single(change.Operations);
        Assert.Equal(OperationKind.Grant, op.Op);
        Assert.Equal("site-userdata", op.Resource);
        Assert.Equal("g-eng", op.Principal);
        Assert.Equal("read", op.Role);
        Assert.Matches("^sha256:[0-9a-f]{64}$", change.Id);
    }

    [Fact]
    public void TheIdIsTheSameForTheSameDocumentAndChangesWithAnyEdit()
    {
        Temp.Write("a.json", CmdletTestData.GrantChange);
        Temp.Write("same-reformatted.json", CmdletTestData.GrantChange.Replace("\n", "\r\n").Replace("  ", "\t"));
        Temp.Write("edited.json", CmdletTestData.GrantChange.Replace("Forum thread 1", "Forum thread 2"));

        var ids = Ps.RunClean("Import-AccessChange a.json, same-reformatted.json, edited.json").Objects<AccessChange>().Select(c => c.Id).ToList();

        Assert.Equal(3, ids.Count);
        Assert.Equal(ids[0], ids[1]);
        Assert.NotEqual(ids[0], ids[2]);
    }

    [Fact]
    public void PathStringsComeFromThePipeline()
    {
        Temp.Write("a.json", CmdletTestData.GrantChange);
        Temp.Write("b.json", CmdletTestData.SmallChange);

        var result = Ps.RunClean("'a.json', 'b.json' | Import-AccessChange");

        Assert.Equal(new[] { "Let Engineering read the exports", "Joe reads the general site" }, result.Objects<AccessChange>().Select(c => c.Title));
    }

    [Fact]
    public void ABadFileInThePipelineGivesOneErrorAndTheNextFileIsStillRead()
    {
        var bad = Temp.Write("bad.json", CmdletTestData.GrantChange.Replace("\"grant\"", "\"delete\""));
        Temp.Write("good.json", CmdletTestData.SmallChange);

        var result = Ps.Run("'bad.json', 'good.json' | Import-AccessChange");

        var error = SingleError(result, "ChangeInvalid", Cmd, ErrorCategory.InvalidData);
        Assert.Equal(bad, error.TargetObject);
        Assert.Contains("operations[0].op", error.Exception.Message);
        Assert.Equal("Joe reads the general site", result.Single<AccessChange>().Title);
    }

    [Fact]
    public void AGoodFileAfterSeveralBadOnesIsStillRead()
    {
        Temp.Write("1.json", "not json");
        Temp.Write("2.json", "{}");
        Temp.Write("3.json", CmdletTestData.SmallChange);

        var result = Ps.Run("Import-AccessChange 1.json, nothere.json, 2.json, 3.json");

        Assert.Equal(
            new[] { "ChangeInvalid", "ChangeInvalid", "ChangeNotFound" },
            result.Errors.Select(e => e.FullyQualifiedErrorId.Split(',')[0]).OrderBy(id => id, StringComparer.Ordinal));
        Assert.Single(result.Objects<AccessChange>());
    }

    [Fact]
    public void ErrorVariableCollectsTheErrorsForARunbook()
    {
        Temp.Write("bad.json", "{}");
        Temp.Write("good.json", CmdletTestData.SmallChange);

        var result = Ps.RunClean(@"
            $changes = Import-AccessChange bad.json, good.json -ErrorVariable problems -ErrorAction SilentlyContinue
            @($changes).Count
            $problems.Count
            $problems[0].FullyQualifiedErrorId");

        Assert.Equal(new object[] { 1, 1, "ChangeInvalid,AgentGovernance.Commands.ImportAccessChangeCommand" }, result.Output.Select(o => o.BaseObject));
    }

    [Fact]
    public void ErrorActionStopMakesABadFileStopTheScript()
    {
        Temp.Write("bad.json", "{}");

        var result = Ps.Run("try { Import-AccessChange bad.json -ErrorAction Stop; 'not reached' } catch { $_.FullyQualifiedErrorId }");

        Assert.Equal("ChangeInvalid,AgentGovernance.Commands.ImportAccessChangeCommand", result.Single<string>());
    }

    public static TheoryData<string, string, string?> InvalidChanges => new()
    {
        { "not JSON", "{ \"schema\": ", null },
        { "not an object", "[]", "$" },
        { "unknown schema", CmdletTestData.GrantChange.Replace("change@1", "change@9"), "schema" },
        { "no schema", CmdletTestData.Change("{ \"op\": \"grant\", \"resource\": \"r\", \"principal\": \"p\", \"role\": \"read\" }").Replace("\"schema\": \"agentgovernance/change@1\",", string.Empty), "schema" },
        { "no operations", "{ \"schema\": \"agentgovernance/change@1\" }", "operations" },
        { "empty operations", "{ \"schema\": \"agentgovernance/change@1\", \"operations\": [] }", "operations" },
        { "operations not an array", "{ \"schema\": \"agentgovernance/change@1\", \"operations\": {} }", "operations" },
        { "unknown field", CmdletTestData.GrantChange.Replace("\"title\"", "\"colour\": \"red\", \"title\""), "colour" },
        { "unknown operation", CmdletTestData.Change("{ \"op\": \"delete\", \"resource\": \"r\" }"), "operations[0].op" },
        { "operation without op", CmdletTestData.Change("{ \"resource\": \"r\" }"), "operations[0]" },
        { "missing principal", CmdletTestData.Change("{ \"op\": \"grant\", \"resource\": \"r\", \"role\": \"read\" }"), "operations[0]" },
        { "field of another operation", CmdletTestData.Change("{ \"op\": \"grant\", \"resource\": \"r\", \"principal\": \"p\", \"role\": \"read\", \"member\": \"m\" }"), "operations[0].member" },
        { "empty resource", CmdletTestData.Change("{ \"op\": \"grant\", \"resource\": \" \", \"principal\": \"p\", \"role\": \"read\" }"), "operations[0].resource" },
        { "number for a string", CmdletTestData.Change("{ \"op\": \"grant\", \"resource\": 7, \"principal\": \"p\", \"role\": \"read\" }"), "operations[0].resource" },
        { "bad visibility", CmdletTestData.Change("{ \"op\": \"setVisibility\", \"group\": \"g\", \"visibility\": \"Open\" }"), "operations[0].visibility" },
        { "hidden membership", CmdletTestData.Change("{ \"op\": \"setVisibility\", \"group\": \"g\", \"visibility\": \"HiddenMembership\" }"), "operations[0].visibility" },
        { "bad link scope", CmdletTestData.Change("{ \"op\": \"createLink\", \"resource\": \"r\", \"scope\": \"world\", \"role\": \"read\" }"), "operations[0].scope" },
        { "owner link", CmdletTestData.Change("{ \"op\": \"createLink\", \"resource\": \"r\", \"scope\": \"anonymous\", \"role\": \"owner\" }"), "operations[0].role" },
        { "audience as member", CmdletTestData.Change("{ \"op\": \"addMember\", \"group\": \"g\", \"member\": \"everyone\" }"), "operations[0].member" },
        { "bad suggester type", CmdletTestData.GrantChange.Replace("\"type\": \"agent\"", "\"type\": \"robot\""), "suggestedBy.type" },
        { "empty requester", CmdletTestData.GrantChange.Replace("\"bob@tiny.example\"", "\"\""), "requestedBy" },
    };

    [Theory]
    [MemberData(nameof(InvalidChanges))]
    public void AnInvalidChangeIsChangeInvalidNamingTheFileTheFieldAndThePosition(string why, string json, string? field)
    {
        var path = Temp.Write("case.json", json);

        var result = Ps.Run("Import-AccessChange -LiteralPath case.json");

        Assert.Empty(result.Output);
        var error = SingleError(result, "ChangeInvalid", Cmd, ErrorCategory.InvalidData);
        Assert.Equal(path, error.TargetObject);
        var doc = Assert.IsType<DocumentException>(error.Exception);
        Assert.Equal(path, doc.File);
        Assert.Equal(field, doc.Field);
        Assert.True(doc.Line >= 1 && doc.Column >= 1, why + ": no position in " + doc.Message);
        Assert.StartsWith(path + ":" + doc.Line, doc.Message);
        Assert.Equal(doc.Message, error.ErrorDetails?.Message);
    }

    [Theory]
    [InlineData("P1M")]
    [InlineData("P1Y")]
    [InlineData("PT0S")]
    [InlineData("P")]
    [InlineData("PT")]
    [InlineData("2 hours")]
    [InlineData("-PT1H")]
    [InlineData("PT2h")]
    [InlineData("P99999D")]
    public void ABadDurationIsChangeInvalidAtTheDurationField(string duration)
    {
        var path = Temp.Write("case.json", CmdletTestData.SmallChange.Replace("\"PT8H\"", "\"" + duration + "\""));

        var result = Ps.Run("Import-AccessChange case.json");

        var error = SingleError(result, "ChangeInvalid", Cmd, ErrorCategory.InvalidData);
        Assert.Equal("duration", Assert.IsType<DocumentException>(error.Exception).Field);
        Assert.Contains(duration, error.Exception.Message);
        Assert.Equal(path, error.TargetObject);
    }

    [Theory]
    [InlineData("PT8H", 8 * 60)]
    [InlineData("PT90M", 90)]
    [InlineData("P1D", 24 * 60)]
    [InlineData("P1DT12H", 36 * 60)]
    [InlineData("P2W", 14 * 24 * 60)]
    public void AGoodDurationIsKeptAsWrittenAndAsATimeSpan(string duration, int minutes)
    {
        Temp.Write("case.json", CmdletTestData.SmallChange.Replace("\"PT8H\"", "\"" + duration + "\""));

        var change = Ps.RunClean("Import-AccessChange case.json").Single<AccessChange>();

        Assert.Equal(duration, change.Duration);
        Assert.Equal(TimeSpan.FromMinutes(minutes), change.DurationTimeSpan);
    }

    [Fact]
    public void AMissingLiteralPathIsChangeNotFound()
    {
        var result = Ps.Run("Import-AccessChange -LiteralPath nothere.json");

        var error = SingleError(result, "ChangeNotFound", Cmd, ErrorCategory.ObjectNotFound);
        Assert.Equal(Temp["nothere.json"], error.TargetObject);
    }

    [Fact]
    public void AMissingFileIsChangeNotFoundAsWithLiteralPath()
    {
        var result = Ps.Run("Import-AccessChange -Path nothere.json");

        var error = SingleError(result, "ChangeNotFound", Cmd, ErrorCategory.ObjectNotFound);
        Assert.EndsWith("nothere.json", (string)error.TargetObject);
    }

    [Fact]
    public void WildcardsInPathMatchEveryFile()
    {
        Temp.Write("changes/a.json", CmdletTestData.GrantChange);
        Temp.Write("changes/b.json", CmdletTestData.SmallChange);
        Temp.Write("changes/readme.md", "# not a change");

        var result = Ps.RunClean("Import-AccessChange -Path changes/*.json");

        Assert.Equal(2, result.Objects<AccessChange>().Count());
    }

    [Fact]
    public void BracketsInAFileNameAreWildcardsInPathAndLiteralInLiteralPath()
    {
        Temp.Write("change[1].json", CmdletTestData.GrantChange);
        Temp.Write("change1.json", CmdletTestData.SmallChange);

        var result = Ps.RunClean(@"
            (Import-AccessChange -Path 'change[1].json').Title
            (Import-AccessChange -LiteralPath 'change[1].json').Title
            (Import-AccessChange 'change`[1`].json').Title
            (Import-AccessChange -LP 'change[1].json').Title");

        Assert.Equal(
            new[] { "Joe reads the general site", "Let Engineering read the exports", "Let Engineering read the exports", "Let Engineering read the exports" },
            result.Output.Select(o => o.BaseObject));
    }

    [Fact]
    public void FileItemsAndObjectsWithPathPropertiesBindByPropertyName()
    {
        Temp.Write("in/change[1].json", CmdletTestData.GrantChange);

        var result = Ps.RunClean(@"
            $ExecutionContext.InvokeProvider.ChildItem.Get($args[0], $false) | Import-AccessChange
            [pscustomobject]@{ LiteralPath = 'in/change[1].json' } | Import-AccessChange
            [pscustomobject]@{ PSPath = 'in/change[1].json' } | Import-AccessChange
            [pscustomobject]@{ Path = 'in/change`[1`].json' } | Import-AccessChange", Temp["in"]);

        Assert.Equal(4, result.Objects<AccessChange>().Count(c => c.Title == "Let Engineering read the exports"));
    }

    [Fact]
    public void RelativePathsResolveAgainstPowerShellsLocation()
    {
        Temp.Write("a/b/change.json", CmdletTestData.SmallChange);
        Ps.SetLocation(Temp["a"]);

        var result = Ps.RunClean("Import-AccessChange b/change.json; Import-AccessChange -LiteralPath ./b/change.json");

        Assert.All(result.Objects<AccessChange>(), c => Assert.Equal(Path.Combine(Temp.Path, "a", "b", "change.json"), c.Source));
        Assert.Equal(2, result.Output.Count);
    }

    [Fact]
    public void PathAndLiteralPathAreSeparateParameterSets()
    {
        var result = Ps.Run("Import-AccessChange -Path a.json -LiteralPath b.json");

        SingleError(result, "AmbiguousParameterSet", Cmd, ErrorCategory.InvalidArgument);
    }

    [Fact]
    public void APathOfAnotherProviderIsPathNotFileSystem()
    {
        var result = Ps.Run("Import-AccessChange -Path Env:PATH");

        SingleError(result, "PathNotFileSystem", Cmd, ErrorCategory.InvalidArgument);
    }

    [Fact]
    public void ALiteralPathOfAnotherProviderIsPathNotFileSystem()
    {
        var result = Ps.Run("Import-AccessChange -LiteralPath Env:PATH");

        SingleError(result, "PathNotFileSystem", Cmd, ErrorCategory.InvalidArgument);
    }

    [Fact]
    public void VerboseGivesTheIdAndTheOperationCount()
    {
        Temp.Write("a.json", CmdletTestData.GrantChange);

        var result = Ps.RunClean("Import-AccessChange a.json -Verbose");

        var change = result.Single<AccessChange>();
        var line = Assert.Single(result.Verbose);
        Assert.Contains(change.Id, line);
        Assert.Contains("1 operation", line);
    }
}
