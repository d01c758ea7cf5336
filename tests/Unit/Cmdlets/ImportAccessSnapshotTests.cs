using System.Management.Automation;
using AgentGovernance.Directory;
using AgentGovernance.Tests.Support;

namespace AgentGovernance.Tests.Cmdlets;

public sealed class ImportAccessSnapshotTests : CmdletTestBase
{
    private const string Cmd = "ImportAccessSnapshotCommand";

    public ImportAccessSnapshotTests(HostFixture fixture)
        : base(fixture)
    {
    }

    [Fact]
    public void ReadsTheSnapshotGivenByPositionWithItsCounts()
    {
        var path = TinyPath;
        var s = Ps.RunClean("Import-AccessSnapshot tiny.snapshot.json").Single<AccessSnapshot>();

        Assert.Equal(CmdletTestData.TenantId, s.TenantId);
        Assert.Equal("Tiny", s.TenantDisplayName);
        Assert.Equal(new DateTimeOffset(2026, 11, 20, 9, 0, 0, TimeSpan.Zero), s.CapturedAt);
        Assert.Equal(path, s.Source);
        Assert.Equal(5, s.UserCount);
        Assert.Equal(1, s.GuestCount);
        Assert.Equal(1, s.DisabledUserCount);
        Assert.Equal(4, s.EnabledUserCount);
        Assert.Equal(4, s.GroupCount);
        Assert.Equal(2, s.ServicePrincipalCount);
        Assert.Equal(1, s.AgentCount);
        Assert.Equal(11, s.PrincipalCount);
        Assert.Equal(4, s.ResourceCount);
        Assert.Equal(4, s.GrantCount);
        Assert.Equal(6, s.MembershipCount);
    }

    [Fact]
    public void RelativePathsResolveAgainstPowerShellsLocationNotTheProcesss()
    {
        Temp.Write("sub/inner/tiny.json", CmdletTestData.Snapshot);
        Temp.Write("sub/other.json", CmdletTestData.OtherSnapshot);
        Ps.SetLocation(Temp["sub/inner"]);
        Assert.NotEqual(Path.GetFullPath(Temp["sub/inner"]), Path.GetFullPath(Environment.CurrentDirectory));

        var result = Ps.RunClean("Import-AccessSnapshot -Path ./tiny.json; Import-AccessSnapshot -LiteralPath ../other.json");

        var both = result.Objects<AccessSnapshot>().ToList();
        Assert.Equal(new[] { CmdletTestData.TenantId, "other.example" }, both.Select(s => s.TenantId));
        Assert.Equal(Path.Combine(Temp.Path, "sub", "inner", "tiny.json"), both[0].Source);
        Assert.Equal(Path.Combine(Temp.Path, "sub", "other.json"), both[1].Source);
    }

    [Fact]
    public void PathStringsComeFromThePipeline()
    {
        Temp.Write("a.json", CmdletTestData.Snapshot);
        Temp.Write("b.json", CmdletTestData.OtherSnapshot);

        var result = Ps.RunClean("'a.json', 'b.json' | Import-AccessSnapshot");

        Assert.Equal(new[] { CmdletTestData.TenantId, "other.example" }, result.Objects<AccessSnapshot>().Select(s => s.TenantId));
    }

    [Fact]
    public void PathTakesSeveralPaths()
    {
        Temp.Write("a.json", CmdletTestData.Snapshot);
        Temp.Write("b.json", CmdletTestData.OtherSnapshot);

        var result = Ps.RunClean("Import-AccessSnapshot -Path a.json, b.json");

        Assert.Equal(2, result.Objects<AccessSnapshot>().Count());
    }

    [Fact]
    public void ABadFileInThePipelineGivesOneErrorAndTheNextFileIsStillRead()
    {
        var bad = Temp.Write("bad.json", CmdletTestData.Snapshot.Replace("snapshot@1", "snapshot@9"));
        Temp.Write("good.json", CmdletTestData.Snapshot);

        var result = Ps.Run("'bad.json', 'good.json' | Import-AccessSnapshot");

        var error = SingleError(result, "SnapshotInvalid", Cmd, ErrorCategory.InvalidData);
        Assert.Equal(bad, error.TargetObject);
        Assert.Contains("bad.json", error.ToString());
        Assert.Contains("schema", error.ToString());
        Assert.False(string.IsNullOrEmpty(error.ErrorDetails?.RecommendedAction));
        Assert.Equal(CmdletTestData.TenantId, result.Single<AccessSnapshot>().TenantId);
    }

    [Fact]
    public void ABadFileGivesANonTerminatingErrorSoTheScriptGoesOn()
    {
        Temp.Write("bad.json", "{");

        var result = Ps.Run("Import-AccessSnapshot bad.json; 'after'");

        SingleError(result, "SnapshotInvalid", Cmd, ErrorCategory.InvalidData);
        Assert.Equal("after", Assert.Single(result.Output).BaseObject);
    }

    public static TheoryData<string, string, string?> InvalidSnapshots => new()
    {
        { "not JSON", "{ \"schema\": \"agentgovernance/snapshot@1\", ", null },
        { "unknown schema", CmdletTestData.Snapshot.Replace("snapshot@1", "snapshot@9"), "schema" },
        { "missing tenant", "{ \"schema\": \"agentgovernance/snapshot@1\", \"principals\": [] }", "tenant" },
        { "missing tenant id", "{ \"schema\": \"agentgovernance/snapshot@1\", \"tenant\": { \"displayName\": \"x\" } }", "tenant.id" },
        { "unknown field", CmdletTestData.Snapshot.Replace("\"capturedAt\"", "\"colour\": \"red\", \"capturedAt\""), "colour" },
        { "dangling member", CmdletTestData.Snapshot.Replace("\"members\": [\"u-carol\"]", "\"members\": [\"u-ghost\"]"), "principals[9].members[0]" },
        { "duplicate principal", CmdletTestData.Snapshot.Replace("\"id\": \"u-bob\"", "\"id\": \"u-alice\""), "principals[1].id" },
        { "dangling grant resource", CmdletTestData.Snapshot.Replace("{ \"resource\": \"site-secret\", \"principal\": \"g-data\"", "{ \"resource\": \"site-ghost\", \"principal\": \"g-data\""), "grants[0].resource" },
        { "dangling grant principal", CmdletTestData.Snapshot.Replace("\"principal\": \"g-data\"", "\"principal\": \"g-ghost\""), "grants[0].principal" },
        { "bad principal type", CmdletTestData.Snapshot.Replace("\"type\": \"servicePrincipal\", \"displayName\": \"Pipeline App\"", "\"type\": \"robot\", \"displayName\": \"Pipeline App\""), "principals[6].type" },
        { "bad sensitivity", CmdletTestData.Snapshot.Replace("\"sensitivity\": \"Confidential\"", "\"sensitivity\": \"Secret\""), "resources[2].sensitivity" },
        { "audience as a principal", CmdletTestData.Snapshot.Replace("\"id\": \"u-dave\"", "\"id\": \"everyone\""), "principals[3].id" },
        { "mistyped field", CmdletTestData.Snapshot.Replace("\"accountEnabled\": false", "\"accountEnabled\": \"no\""), "principals[3].accountEnabled" },
    };

    [Theory]
    [MemberData(nameof(InvalidSnapshots))]
    public void AnInvalidSnapshotIsSnapshotInvalidNamingTheFileTheFieldAndThePosition(string why, string json, string? field)
    {
        var path = Temp.Write("case.json", json);

        var result = Ps.Run("Import-AccessSnapshot -LiteralPath case.json");

        Assert.Empty(result.Output);
        var error = SingleError(result, "SnapshotInvalid", Cmd, ErrorCategory.InvalidData);
        Assert.Equal(path, error.TargetObject);
        var doc = Assert.IsType<DocumentException>(error.Exception);
        Assert.Equal(path, doc.File);
        Assert.Equal(field, doc.Field);
        Assert.True(doc.Line >= 1 && doc.Column >= 1, why + ": no position in " + doc.Message);
        Assert.Contains(path + ":" + doc.Line, error.Exception.Message);
        Assert.Equal(error.Exception.Message, error.ErrorDetails?.Message);
    }

    [Fact]
    public void ASnapshotWithAByteOrderMarkIsRead()
    {
        File.WriteAllText(Temp["bom.json"], CmdletTestData.Snapshot, new System.Text.UTF8Encoding(true));

        var s = Ps.RunClean("Import-AccessSnapshot bom.json").Single<AccessSnapshot>();

        Assert.Equal(11, s.PrincipalCount);
    }

    [Fact]
    public void AMissingLiteralPathIsSnapshotNotFound()
    {
        var result = Ps.Run("Import-AccessSnapshot -LiteralPath nothere.json");

        var error = SingleError(result, "SnapshotNotFound", Cmd, ErrorCategory.ObjectNotFound);
        Assert.Equal(Temp["nothere.json"], error.TargetObject);
        Assert.Empty(result.Output);
    }

    [Fact]
    public void AMissingFileIsSnapshotNotFoundAsWithLiteralPath()
    {
        var result = Ps.Run("Import-AccessSnapshot -Path nothere.json");

        var error = SingleError(result, "SnapshotNotFound", Cmd, ErrorCategory.ObjectNotFound);
        Assert.EndsWith("nothere.json", (string)error.TargetObject);
        Assert.Contains("nothere.json", error.Exception.Message);
    }

    [Fact]
    public void AFolderIsPathIsFolder()
    {
        System.IO.Directory.CreateDirectory(Temp["folder.json"]);

        var result = Ps.Run("Import-AccessSnapshot -LiteralPath folder.json");

        var error = SingleError(result, "PathIsFolder", Cmd, ErrorCategory.InvalidArgument);
        Assert.Equal("folder.json", error.TargetObject);
    }

    [Fact]
    public void WildcardsInPathMatchEveryFile()
    {
        Temp.Write("one.snapshot.json", CmdletTestData.Snapshot);
        Temp.Write("two.snapshot.json", CmdletTestData.OtherSnapshot);
        Temp.Write("notes.txt", "not a snapshot");

        var result = Ps.RunClean("Import-AccessSnapshot -Path *.snapshot.json");

        Assert.Equal(new[] { "other.example", CmdletTestData.TenantId }, result.Objects<AccessSnapshot>().Select(s => s.TenantId).OrderBy(t => t, StringComparer.Ordinal));
    }

    [Fact]
    public void AWildcardThatMatchesNothingIsQuietLikeOtherPowerShellCommands()
    {
        var result = Ps.Run("Import-AccessSnapshot -Path nothing*.json");

        Assert.Empty(result.Errors);
        Assert.Empty(result.Output);
    }

    [Fact]
    public void BracketsInAFileNameAreWildcardsInPathAndLiteralInLiteralPath()
    {
        // 'tenant[1].json' as a wildcard matches 'tenant1.json', not itself.
        Temp.Write("tenant[1].json", CmdletTestData.Snapshot);
        Temp.Write("tenant1.json", CmdletTestData.OtherSnapshot);

        var result = Ps.RunClean(@"
            (Import-AccessSnapshot -Path 'tenant[1].json').TenantId
            (Import-AccessSnapshot -LiteralPath 'tenant[1].json').TenantId
            (Import-AccessSnapshot -Path 'tenant`[1`].json').TenantId
            (Import-AccessSnapshot -LP 'tenant[1].json').TenantId");

        Assert.Equal(new[] { "other.example", CmdletTestData.TenantId, CmdletTestData.TenantId, CmdletTestData.TenantId }, result.Output.Select(o => o.BaseObject));
    }

    [Fact]
    public void FileItemsBindByPropertyNameToLiteralPath()
    {
        // What Get-ChildItem writes: FileInfo objects with a PSPath (brackets and all).
        Temp.Write("tenant[1].json", CmdletTestData.Snapshot);
        Temp.Write("tenant1.json", CmdletTestData.OtherSnapshot);

        var result = Ps.RunClean("$ExecutionContext.InvokeProvider.ChildItem.Get($args[0], $false) | Import-AccessSnapshot", Temp.Path);

        Assert.Equal(new[] { "other.example", CmdletTestData.TenantId }, result.Objects<AccessSnapshot>().Select(s => s.TenantId).OrderBy(t => t, StringComparer.Ordinal));
    }

    [Fact]
    public void ObjectsWithPathOrLiteralPathPropertiesBindByPropertyName()
    {
        Temp.Write("tenant[1].json", CmdletTestData.Snapshot);

        var result = Ps.RunClean(@"
            [pscustomobject]@{ LiteralPath = 'tenant[1].json' } | Import-AccessSnapshot
            [pscustomobject]@{ PSPath = 'tenant[1].json' } | Import-AccessSnapshot
            [pscustomobject]@{ Path = 'tenant`[1`].json' } | Import-AccessSnapshot");

        Assert.Equal(3, result.Objects<AccessSnapshot>().Count(s => s.TenantId == CmdletTestData.TenantId));
    }

    [Fact]
    public void PathAndLiteralPathAreSeparateParameterSets()
    {
        TinyPath.ToString();

        var result = Ps.Run("Import-AccessSnapshot -Path tiny.snapshot.json -LiteralPath tiny.snapshot.json");

        SingleError(result, "AmbiguousParameterSet", Cmd, ErrorCategory.InvalidArgument);
        Assert.Empty(result.Output);
    }

    [Theory]
    [InlineData("Import-AccessSnapshot -Path ''")]
    [InlineData("Import-AccessSnapshot -Path $null")]
    [InlineData("Import-AccessSnapshot -LiteralPath ''")]
    public void EmptyPathsAreRejectedByBinding(string script)
    {
        var result = Ps.Run(script);

        Assert.StartsWith("ParameterArgumentValidationError", Assert.Single(result.Errors).FullyQualifiedErrorId);
    }

    [Fact]
    public void APathOfAnotherProviderIsPathNotFileSystem()
    {
        var result = Ps.Run("Import-AccessSnapshot -Path Env:PATH");

        var error = SingleError(result, "PathNotFileSystem", Cmd, ErrorCategory.InvalidArgument);
        Assert.Equal("Env:PATH", error.TargetObject);
    }

    [Fact]
    public void ALiteralPathOfAnotherProviderIsPathNotFileSystem()
    {
        var result = Ps.Run("Import-AccessSnapshot -LiteralPath Env:PATH");

        var error = SingleError(result, "PathNotFileSystem", Cmd, ErrorCategory.InvalidArgument);
        Assert.Equal("Env:PATH", error.TargetObject);
    }

    [Fact]
    public void VerboseTellsWhatWasRead()
    {
        TinyPath.ToString();

        var result = Ps.RunClean("Import-AccessSnapshot tiny.snapshot.json -Verbose");

        var line = Assert.Single(result.Verbose);
        Assert.Contains("tiny.snapshot.json", line);
        Assert.Contains("11 principals", line);
        Assert.Contains("4 resources", line);
    }
}
