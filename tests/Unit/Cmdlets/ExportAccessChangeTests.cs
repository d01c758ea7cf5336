using System.Management.Automation;
using AgentGovernance.Changes;
using AgentGovernance.Tests.Support;

namespace AgentGovernance.Tests.Cmdlets;

public sealed class ExportAccessChangeTests : CmdletTestBase
{
    private const string Cmd = "ExportAccessChangeCommand";

    public ExportAccessChangeTests(HostFixture fixture)
        : base(fixture)
    {
    }

    public static TheoryData<string> NewChanges => new()
    {
        "New-AccessChange -Grant -ResourceId site-secret -PrincipalId g-eng -Role owner -Title 'T' -Justification 'J' -SuggestedBy sp-bot -SuggestedByName 'Helper Bot' -SuggestionSource 'https://forum.example/t/1' -RequestedBy bob@tiny.example -Duration PT2H",
        "New-AccessChange -Revoke -ResourceId site-general -PrincipalId g-eng",
        "New-AccessChange -AddMember -GroupId g-eng -MemberId u-joe -SuggestedBy u-carol -SuggestedByType user",
        "New-AccessChange -RemoveMember -GroupId g-platform -MemberId u-bob",
        "New-AccessChange -SetVisibility Public -GroupId g-team -Duration ([TimeSpan]::FromDays(1.5))",
        "New-AccessChange -CreateLink Organization -ResourceId site-team -Role write",
        "New-AccessChange -Operation @{ op = 'grant'; resource = 'r'; principal = 'p'; role = 'read' }, @{ op = 'createLink'; resource = 'r'; scope = 'anonymous'; role = 'read' } -Title 'Two \"quoted\" ops \u00e9'",
    };

    [Theory]
    [MemberData(nameof(NewChanges))]
    public void ExportThenImportGivesTheSameChangeId(string newChange)
    {
        var result = Ps.RunClean(newChange + " | Export-AccessChange -Path c.json -PassThru | Import-AccessChange; " + newChange);

        var both = result.Objects<AccessChange>().ToList();
        Assert.Equal(2, both.Count);
        Assert.Equal(both[1].Id, both[0].Id);
        Assert.Equal(both[1].ToCanonicalJson(), both[0].ToCanonicalJson());
        Assert.Equal(Temp["c.json"], both[0].Source);
    }

    [Fact]
    public void TheIncidentDocumentRoundTripsToTheSameId()
    {
        var result = Ps.RunClean(@"
            $c = Import-AccessChange -LiteralPath $args[0]
            $c | Export-AccessChange incident.json
            $c.Id
            (Import-AccessChange incident.json).Id", Repo.Incident);

        Assert.Equal(result.Output[0].BaseObject, result.Output[1].BaseObject);
    }

    [Fact]
    public void ExportingTwiceGivesTheSameBytesInTheDocumentedShape()
    {
        Temp.Write("in.json", CmdletTestData.GrantChange);

        Ps.RunClean(@"
            $c = Import-AccessChange in.json
            $c | Export-AccessChange -Path first.json
            Export-AccessChange -Change $c -Path second.json
            Import-AccessChange first.json | Export-AccessChange third.json");

        var first = File.ReadAllBytes(Temp["first.json"]);
        Assert.Equal(first, File.ReadAllBytes(Temp["second.json"]));
        Assert.Equal(first, File.ReadAllBytes(Temp["third.json"]));
        var text = File.ReadAllText(Temp["first.json"]);
        Assert.StartsWith("{\n  \"schema\": \"agentgovernance/change@1\",\n", text);
        Assert.EndsWith("\n}\n", text);
        Assert.DoesNotContain("\r", text);
        Assert.NotEqual(0xEF, first[0]);
        using var doc = System.Text.Json.JsonDocument.Parse(text);
        Assert.Equal("g-eng", doc.RootElement.GetProperty("operations")[0].GetProperty("principal").GetString());
    }

    [Fact]
    public void PassThruWritesTheFileInfoAndWithoutItNothingIsWritten()
    {
        var result = Ps.RunClean(@"
            $c = New-AccessChange -Grant -ResourceId r -PrincipalId p
            $c | Export-AccessChange -Path quiet.json
            $c | Export-AccessChange -Path loud.json -PassThru");

        Assert.Equal(Temp["loud.json"], result.Single<FileInfo>().FullName);
        Assert.True(File.Exists(Temp["quiet.json"]));
    }

    [Fact]
    public void ToAFolderEachChangeGetsAFileNamedByItsId()
    {
        System.IO.Directory.CreateDirectory(Temp["out"]);

        var result = Ps.RunClean(@"
            $a = New-AccessChange -Grant -ResourceId r -PrincipalId p
            $b = New-AccessChange -AddMember -GroupId g -MemberId m
            $a, $b | Export-AccessChange -Path out -PassThru
            $a.Id; $b.Id");

        var files = result.Objects<FileInfo>().Select(f => f.FullName).ToList();
        var ids = result.Objects<string>().ToList();
        Assert.Equal(2, files.Count);
        for (var i = 0; i < 2; i++)
        {
            Assert.Equal(Path.Combine(Temp["out"], ids[i].Substring("sha256:".Length, 16) + ".json"), files[i]);
            Assert.True(File.Exists(files[i]));
        }
    }

    [Fact]
    public void TwoChangesToOneFileWriteTheFirstAndRefuseTheSecond()
    {
        var result = Ps.Run(@"
            $a = New-AccessChange -Grant -ResourceId r -PrincipalId p -Title first
            $b = New-AccessChange -Grant -ResourceId r -PrincipalId q -Title second
            $a, $b | Export-AccessChange -Path one.json -PassThru");

        var error = SingleError(result, "SeveralChangesOneFile", Cmd, ErrorCategory.InvalidArgument);
        Assert.Equal("second", Assert.IsType<AccessChange>(error.TargetObject).Title);
        Assert.Single(result.Objects<FileInfo>());
        Assert.Contains("\"first\"", File.ReadAllText(Temp["one.json"]));
    }

    [Fact]
    public void WhatIfWritesNothingAndNamesTheChangeAndTheFile()
    {
        Ps.TakeScreen();

        var result = Ps.RunClean(@"
            $c = New-AccessChange -Grant -ResourceId r -PrincipalId p
            $c | Export-AccessChange -Path c.json -PassThru -WhatIf
            $c.Id");

        var id = Assert.Single(result.Output).BaseObject as string;
        Assert.Empty(Temp.Files());
        var screen = Ps.TakeScreen();
        Assert.Contains("What if:", screen);
        Assert.Contains(id!, screen);
        Assert.Contains(Temp["c.json"], screen);
    }

    [Fact]
    public void WhatIfToAFolderWritesNothingThere()
    {
        System.IO.Directory.CreateDirectory(Temp["out"]);

        Ps.RunClean("New-AccessChange -Grant -ResourceId r -PrincipalId p | Export-AccessChange -Path out -WhatIf");

        Assert.Empty(System.IO.Directory.GetFileSystemEntries(Temp["out"]));
    }

    [Fact]
    public void NoClobberRefusesAnExistingFileAndLeavesItAlone()
    {
        var existing = Temp.Write("c.json", "old");

        var result = Ps.Run("New-AccessChange -Grant -ResourceId r -PrincipalId p | Export-AccessChange -Path c.json -NoClobber -PassThru");

        var error = SingleError(result, "FileExists", Cmd, ErrorCategory.WriteError);
        Assert.Equal(existing, error.TargetObject);
        Assert.Empty(result.Output);
        Assert.Equal("old", File.ReadAllText(existing));
    }

    [Fact]
    public void NoClobberAlsoHoldsInAFolder()
    {
        System.IO.Directory.CreateDirectory(Temp["out"]);

        var result = Ps.Run(@"
            $c = New-AccessChange -Grant -ResourceId r -PrincipalId p
            $c | Export-AccessChange -Path out
            $c | Export-AccessChange -Path out -NoClobber");

        SingleError(result, "FileExists", Cmd, ErrorCategory.WriteError);
        Assert.Single(System.IO.Directory.GetFiles(Temp["out"]));
    }

    [Fact]
    public void WithoutNoClobberAnExistingFileIsReplacedAndNoTemporaryFileIsLeft()
    {
        var existing = Temp.Write("c.json", "old");

        Ps.RunClean("New-AccessChange -Grant -ResourceId r -PrincipalId p | Export-AccessChange -Path c.json");

        Assert.Contains("agentgovernance/change@1", File.ReadAllText(existing));
        Assert.Equal(new[] { "c.json" }, Temp.Files());
    }

    [Fact]
    public void AMissingFolderIsFolderNotFound()
    {
        var result = Ps.Run("New-AccessChange -Grant -ResourceId r -PrincipalId p | Export-AccessChange -Path nofolder/c.json");

        SingleError(result, "FolderNotFound", Cmd, ErrorCategory.ObjectNotFound);
        Assert.Empty(Temp.Files());
    }

    [Fact]
    public void RelativePathsResolveAgainstPowerShellsLocation()
    {
        System.IO.Directory.CreateDirectory(Temp["sub"]);
        Ps.SetLocation(Temp["sub"]);

        Ps.RunClean("New-AccessChange -Grant -ResourceId r -PrincipalId p | Export-AccessChange rel.json; New-AccessChange -Grant -ResourceId r -PrincipalId q | Export-AccessChange ../up.json");

        Assert.True(File.Exists(Temp["sub/rel.json"]));
        Assert.True(File.Exists(Temp["up.json"]));
        Assert.False(File.Exists(Path.Combine(Environment.CurrentDirectory, "rel.json")));
    }

    [Fact]
    public void BracketsInTheOutputPathAreTakenLiterally()
    {
        var result = Ps.RunClean(@"
            $c = New-AccessChange -Grant -ResourceId r -PrincipalId p
            $c | Export-AccessChange -Path 'change[1].json'
            $c.Id
            (Import-AccessChange -LiteralPath 'change[1].json').Id");

        Assert.Equal(new[] { "change[1].json" }, Temp.Files());
        Assert.Equal(result.Output[0].BaseObject, result.Output[1].BaseObject);
    }

    [Fact]
    public void PassThruPipesBackIntoImportEvenWithBracketsInTheName()
    {
        var result = Ps.Run(@"
            $c = New-AccessChange -Grant -ResourceId r -PrincipalId p
            $c | Export-AccessChange -Path 'change[1].json' -PassThru | Import-AccessChange
            $c.Id");

        Assert.Empty(result.Errors);
        Assert.Equal(result.Single<string>(), result.Single<AccessChange>().Id);
    }

    [Fact]
    public void ChangeIsMandatoryAndNotNull()
    {
        var result = Ps.Run("Export-AccessChange -Path c.json -Change $null");

        Assert.StartsWith("ParameterArgumentValidationError", Assert.Single(result.Errors).FullyQualifiedErrorId);
        Assert.Empty(Temp.Files());
    }

    [Fact]
    public void AnObjectThatIsNotAChangeIsNotBound()
    {
        var result = Ps.Run("'not a change' | Export-AccessChange -Path c.json");

        Assert.StartsWith("InputObjectNotBound", Assert.Single(result.Errors).FullyQualifiedErrorId);
        Assert.Empty(Temp.Files());
    }

    [Fact]
    public void APathOfAnotherProviderIsRefusedAndNothingIsWritten()
    {
        var stray = Path.Combine(Environment.CurrentDirectory, "agtest-change");
        try
        {
            var result = Ps.Run("New-AccessChange -Grant -ResourceId r -PrincipalId p | Export-AccessChange -Path Env:agtest-change");

            SingleError(result, "PathNotFileSystem", Cmd, ErrorCategory.InvalidArgument);
            Assert.False(File.Exists(stray));
        }
        finally
        {
            File.Delete(stray);
        }
    }
}
