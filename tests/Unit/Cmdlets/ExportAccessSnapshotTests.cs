using System.Collections;
using System.Management.Automation;
using AgentGovernance.Directory;
using AgentGovernance.Tests.Support;

namespace AgentGovernance.Tests.Cmdlets;

public sealed class ExportAccessSnapshotTests : CmdletTestBase
{
    private const string Cmd = "ExportAccessSnapshotCommand";

    public ExportAccessSnapshotTests(HostFixture fixture)
        : base(fixture)
    {
    }

    private static int[] Counts(AccessSnapshot s) => new[]
    {
        s.UserCount, s.GuestCount, s.DisabledUserCount, s.EnabledUserCount, s.GroupCount, s.ServicePrincipalCount,
        s.AgentCount, s.PrincipalCount, s.ResourceCount, s.GrantCount, s.MembershipCount,
    };

    [Fact]
    public void WritesNothingToThePipelineWithoutPassThru()
    {
        TinyPath.ToString();

        var result = Ps.RunClean("Import-AccessSnapshot tiny.snapshot.json | Export-AccessSnapshot out.json");

        Assert.Empty(result.Output);
        Assert.True(File.Exists(Temp["out.json"]));
    }

    [Fact]
    public void PassThruWritesTheFile()
    {
        TinyPath.ToString();

        var result = Ps.RunClean("$s = Import-AccessSnapshot tiny.snapshot.json; Export-AccessSnapshot -Path out.json -Snapshot $s -PassThru");

        Assert.Equal(Temp["out.json"], result.Single<FileInfo>().FullName);
    }

    [Fact]
    public void TheExportReadsBackTheSame()
    {
        TinyPath.ToString();

        var result = Ps.RunClean(@"
            $s = Import-AccessSnapshot tiny.snapshot.json
            $s | Export-AccessSnapshot -Path out.json
            $s
            Import-AccessSnapshot out.json");

        var both = result.Objects<AccessSnapshot>().ToList();
        Assert.Equal(2, both.Count);
        Assert.Equal(Counts(both[0]), Counts(both[1]));
        Assert.Equal(both[0].TenantId, both[1].TenantId);
        Assert.Equal(both[0].TenantDisplayName, both[1].TenantDisplayName);
        Assert.Equal(both[0].CapturedAt, both[1].CapturedAt);
        Assert.Equal(both[0].Grants.Select(g => g.ToString()), both[1].Grants.Select(g => g.ToString()));
        Assert.Equal(both[0].Principals.Select(p => p.Id), both[1].Principals.Select(p => p.Id));
    }

    [Fact]
    public void ExportingTwiceGivesTheSameBytesAndTheExportIsAFixedPoint()
    {
        TinyPath.ToString();

        Ps.RunClean(@"
            $s = Import-AccessSnapshot tiny.snapshot.json
            Export-AccessSnapshot -Snapshot $s -Path first.json
            Export-AccessSnapshot -Snapshot $s -Path second.json
            Import-AccessSnapshot first.json | Export-AccessSnapshot -Path third.json");

        var first = File.ReadAllBytes(Temp["first.json"]);
        Assert.Equal(first, File.ReadAllBytes(Temp["second.json"]));
        Assert.Equal(first, File.ReadAllBytes(Temp["third.json"]));
        Assert.False(first.Length >= 3 && first[0] == 0xEF && first[1] == 0xBB && first[2] == 0xBF, "no byte order mark");
        Assert.DoesNotContain((byte)'\r', first);
        Assert.Equal((byte)'\n', first[^1]);
    }

    [Fact]
    public void TheDemoTenantReimportsWithTheSameCounts()
    {
        var result = Ps.RunClean(@"
            $s = Import-AccessSnapshot -LiteralPath $args[0]
            $s | Export-AccessSnapshot -Path demo.json
            $s
            Import-AccessSnapshot demo.json", Repo.DemoSnapshot);

        var both = result.Objects<AccessSnapshot>().ToList();
        Assert.Equal(2, both.Count);
        Assert.Equal(Counts(both[0]), Counts(both[1]));
        Assert.Equal(both[0].TenantId, both[1].TenantId);
        Assert.True(both[0].UserCount > 100, "the demo tenant is a believable company");
    }

    [Fact]
    public void WhatIfWritesNothingAndSaysWhatItWouldDo()
    {
        TinyPath.ToString();
        Ps.TakeScreen();

        var result = Ps.RunClean("Import-AccessSnapshot tiny.snapshot.json | Export-AccessSnapshot -Path out.json -PassThru -WhatIf");

        Assert.Empty(result.Output);
        Assert.False(File.Exists(Temp["out.json"]));
        var screen = Ps.TakeScreen();
        Assert.Contains("What if:", screen);
        Assert.Contains(Temp["out.json"], screen);
        Assert.Equal(new[] { "tiny.snapshot.json" }, Temp.Files());
    }

    [Fact]
    public void WhatIfLeavesAnExistingFileAlone()
    {
        TinyPath.ToString();
        var existing = Temp.Write("out.json", "old");

        Ps.RunClean("Import-AccessSnapshot tiny.snapshot.json | Export-AccessSnapshot -Path out.json -WhatIf");

        Assert.Equal("old", File.ReadAllText(existing));
    }

    [Fact]
    public void ConfirmFalseWritesWithoutAsking()
    {
        TinyPath.ToString();

        Ps.RunClean("Import-AccessSnapshot tiny.snapshot.json | Export-AccessSnapshot -Path out.json -Confirm:$false");

        Assert.True(File.Exists(Temp["out.json"]));
    }

    [Fact]
    public void NoClobberRefusesAnExistingFileAndLeavesItAlone()
    {
        TinyPath.ToString();
        var existing = Temp.Write("out.json", "old");

        var result = Ps.Run("Import-AccessSnapshot tiny.snapshot.json | Export-AccessSnapshot -Path out.json -NoClobber -PassThru");

        var error = SingleError(result, "FileExists", Cmd, ErrorCategory.WriteError);
        Assert.Equal(existing, error.TargetObject);
        Assert.Empty(result.Output);
        Assert.Equal("old", File.ReadAllText(existing));
    }

    [Fact]
    public void WithoutNoClobberAnExistingFileIsReplaced()
    {
        TinyPath.ToString();
        var existing = Temp.Write("out.json", "old");

        Ps.RunClean("Import-AccessSnapshot tiny.snapshot.json | Export-AccessSnapshot -Path out.json");

        Assert.StartsWith("{", File.ReadAllText(existing));
        Assert.Equal(new[] { "out.json", "tiny.snapshot.json" }, Temp.Files());
    }

    [Fact]
    public void AMissingFolderIsFolderNotFoundAndNothingIsWritten()
    {
        TinyPath.ToString();

        var result = Ps.Run("Import-AccessSnapshot tiny.snapshot.json | Export-AccessSnapshot -Path nofolder/out.json");

        var error = SingleError(result, "FolderNotFound", Cmd, ErrorCategory.ObjectNotFound);
        Assert.Equal(Path.Combine(Temp.Path, "nofolder", "out.json"), Path.GetFullPath((string)error.TargetObject));
        Assert.False(System.IO.Directory.Exists(Temp["nofolder"]));
    }

    [Fact]
    public void RelativePathsResolveAgainstPowerShellsLocation()
    {
        var tiny = TinyPath;
        System.IO.Directory.CreateDirectory(Temp["sub"]);
        Ps.SetLocation(Temp["sub"]);

        Ps.RunClean("Import-AccessSnapshot -LiteralPath $args[0] | Export-AccessSnapshot -Path rel.json; Import-AccessSnapshot ../tiny.snapshot.json | Export-AccessSnapshot ../up.json", tiny);

        Assert.True(File.Exists(Temp["sub/rel.json"]));
        Assert.True(File.Exists(Temp["up.json"]));
        Assert.False(File.Exists(Path.Combine(Environment.CurrentDirectory, "rel.json")));
    }

    [Fact]
    public void BracketsInTheOutputPathAreTakenLiterally()
    {
        TinyPath.ToString();

        var result = Ps.RunClean("Import-AccessSnapshot tiny.snapshot.json | Export-AccessSnapshot -Path 'tenant[1].json'; (Import-AccessSnapshot -LiteralPath 'tenant[1].json').TenantId");

        Assert.Equal(new[] { "tenant[1].json", "tiny.snapshot.json" }, Temp.Files());
        Assert.Equal(CmdletTestData.TenantId, result.Single<string>());
    }

    [Fact]
    public void PassThruPipesBackIntoImportEvenWithBracketsInTheName()
    {
        TinyPath.ToString();

        var result = Ps.Run("Import-AccessSnapshot tiny.snapshot.json | Export-AccessSnapshot -Path 'tenant[1].json' -PassThru | Import-AccessSnapshot");

        Assert.Empty(result.Errors);
        Assert.Equal(CmdletTestData.TenantId, result.Single<AccessSnapshot>().TenantId);
    }

    [Fact]
    public void ASnapshotMadeInCSharpCanBeGivenAsAVariable()
    {
        var snapshot = SnapshotReader.ParseText(CmdletTestData.OtherSnapshot);

        Ps.RunClean("Export-AccessSnapshot -Path x.json -Snapshot $snap", new Hashtable { ["snap"] = snapshot });

        Assert.Contains("\"other.example\"", File.ReadAllText(Temp["x.json"]));
    }

    [Fact]
    public void APathOfAnotherProviderIsRefusedAndNothingIsWritten()
    {
        TinyPath.ToString();
        var stray = Path.Combine(Environment.CurrentDirectory, "agtest-snapshot");
        try
        {
            var result = Ps.Run("Import-AccessSnapshot tiny.snapshot.json | Export-AccessSnapshot -Path Env:agtest-snapshot");

            SingleError(result, "PathNotFileSystem", Cmd, ErrorCategory.InvalidArgument);
            Assert.False(File.Exists(stray));
        }
        finally
        {
            File.Delete(stray);
        }
    }

    [Fact]
    public void TwoSnapshotsToOneFileAreRefusedAfterTheFirst()
    {
        TinyPath.ToString();
        Temp.Write("other.json", CmdletTestData.OtherSnapshot);

        var result = Ps.Run("Import-AccessSnapshot tiny.snapshot.json, other.json | Export-AccessSnapshot -Path out.json");

        var error = Assert.Single(result.Errors);
        Assert.Equal(ErrorCategory.InvalidArgument, error.CategoryInfo.Category);
        Assert.Contains(CmdletTestData.TenantId, File.ReadAllText(Temp["out.json"]));
    }
}
