using System.Text;
using AgentGovernance.Changes;
using AgentGovernance.Directory;
using AgentGovernance.Suggestions;
using AgentGovernance.Tests.Support;

namespace AgentGovernance.Tests.Suggestions;

/// <summary>The suggestion engine without a runspace: reading markdown, following values, resolving names, Graph URIs.</summary>
public sealed class SuggestionEngineTests
{
    private static readonly AccessSnapshot Tiny = SnapshotReader.ParseText(CmdletTestData.Snapshot);

    private static SuggestionResult Convert(string text, SuggestionOptions? options = null) =>
        SuggestionConverter.Convert(text, SuggestionConverter.HashText(text), null, options ?? new SuggestionOptions(), Tiny);

    private static string Ops(string text) => string.Join("; ", Convert(text).Analysis.Operations);

    private static SuggestionFinding Refused(string text) => Assert.Single(Convert(text).Analysis.Findings);

    // ---- markdown -------------------------------------------------------------------------------

    [Fact]
    public void MarkdownCodeIsFoundInFencesOfEitherKindInListsInIndentedBlocksAndInline()
    {
        var text = string.Join("\n",
            "Three steps, don't skip any:",
            "",
            "1. First:",
            "   ~~~ pwsh {.line-numbers}",
            "   New-MgGroupMember -GroupId g-eng -DirectoryObjectId u-joe",
            "   ~~~",
            "2. Then this older form:",
            "",
            "       Add-AzureADGroupMember -ObjectId g-data -RefObjectId u-bob",
            "",
            "3. And finally run ``Remove-MgGroupMemberByRef -GroupId g-platform -DirectoryObjectId u-dave`` (the `Get-MgGroup` cmdlet shows the result).");

        var units = MarkdownReader.Read(text);

        Assert.Equal(new[] { UnitKind.PowerShellBlock, UnitKind.InlineCode }, units.Select(u => u.Kind));
        Assert.Equal((5, 4), units[0].Map(1, 1));
        var result = Convert(text);
        Assert.Equal(SuggestionFormat.Markdown, result.Analysis.Format);
        Assert.Equal("add u-joe to group g-eng; remove u-dave from group g-platform", string.Join("; ", result.Analysis.Operations));
        Assert.Equal((11, 22), (result.Analysis.Commands[1].Line, result.Analysis.Commands[1].Column));
    }

    [Fact]
    public void AnIndentedBlockAfterABlankLineIsCodeButAListsContinuationIsNot()
    {
        var indented = MarkdownReader.Read("Run:\n\n    New-MgGroupMember -GroupId g-eng -DirectoryObjectId u-joe\n\nDone.");
        var continuation = MarkdownReader.Read("- Item one\n\n    more words about item one\n");

        Assert.Equal(UnitKind.UnlabelledBlock, Assert.Single(indented).Kind);
        Assert.Empty(continuation);
    }

    [Fact]
    public void AnUnclosedFenceRunsToTheEndAndOtherLanguagesAreSearchedNotRead()
    {
        var units = MarkdownReader.Read("```json\n{ \"a\": 1 }\n```\n```bash\necho hi\n```\n```powershell\nNew-MgGroupMember -GroupId g-eng -DirectoryObjectId u-joe\n");

        Assert.Equal(new[] { UnitKind.OtherBlock, UnitKind.OtherBlock, UnitKind.PowerShellBlock }, units.Select(u => u.Kind));
        Assert.Equal("New-MgGroupMember -GroupId g-eng -DirectoryObjectId u-joe\n", units[2].Text);
    }

    [Fact]
    public void ABlockThatDoesNotParseIsRefusedWhenLabelledAndSearchedWhenNot()
    {
        var labelled = Convert("```powershell\nNew-MgGroupMember -GroupId (\n```\n");
        var unlabelled = Convert("```\nId   DisplayName\n--   -----------\n```\n```powershell\nNew-MgGroupMember -GroupId g-eng -DirectoryObjectId u-joe\n```\n");

        Assert.Equal(SuggestionFindingKind.Unreadable, Assert.Single(labelled.Analysis.Findings).Kind);
        Assert.Empty(unlabelled.Analysis.Findings);
        Assert.Contains(unlabelled.Analysis.Notes, n => n.StartsWith("the code block at line 2 is not PowerShell", StringComparison.Ordinal));
    }

    // ---- values ---------------------------------------------------------------------------------

    [Theory]
    [InlineData("$g = 'g-' + 'eng'\nNew-MgGroupMember -GroupId $g -DirectoryObjectId u-joe")]
    [InlineData("$id = 'joe'\nNew-MgGroupMember -GroupId g-eng -DirectoryObjectId \"u-$id\"")]
    [InlineData("$id = 'joe'\nNew-MgGroupMember -GroupId g-eng -DirectoryObjectId \"u-$($id)\"")]
    [InlineData("New-MgGroupMember -GroupId ('{0}-{1}' -f 'g', 'eng') -DirectoryObjectId u-joe")]
    [InlineData("$ids = @('u-bob', 'u-joe')\nNew-MgGroupMember -GroupId g-eng -DirectoryObjectId $ids[1]")]
    [InlineData("$p = [ordered]@{ GroupId = 'g-eng' }\nNew-MgGroupMember -GroupId $p.GroupId -DirectoryObjectId ([string]'u-joe')")]
    [InlineData("$p = @{ GroupId = 'g-eng' }\nNew-MgGroupMember -GroupId $p['GroupId'] -DirectoryObjectId u-joe")]
    [InlineData("$script:g = 'g-eng'\nNew-MgGroupMember -GroupId $g -DirectoryObjectId u-joe")]
    [InlineData("$u = Get-MgUser -Filter \"displayName eq 'Joe (vendor)'\"\nNew-MgGroupMember -GroupId g-eng -DirectoryObjectId $u.Id")]
    [InlineData("@('u-joe') | ForEach-Object { New-MgGroupMember -GroupId g-eng -DirectoryObjectId $_ }")]
    [InlineData("$body = '{ \"@odata.id\": \"https://graph.microsoft.com/v1.0/directoryObjects/u-joe\" }'\nInvoke-MgGraphRequest -Method POST -Uri 'https://graph.microsoft.com/v1.0/groups/g-eng/members/$ref' -Body $body")]
    [InlineData("$x = \"u-j`oe\"\nNew-MgGroupMember -GroupId g-eng -DirectoryObjectId $x")]
    public void LiteralValuesAreFollowed(string script)
    {
        Assert.Equal("add u-joe to group g-eng", Ops(script));
    }

    [Theory]
    [InlineData("$g = 'g-eng'\nif ($x) { $g = 'g-data' }\nNew-MgGroupMember -GroupId $g -DirectoryObjectId u-joe", "branch")]
    [InlineData("$g = 'g-eng'\n$g += 'x'\nNew-MgGroupMember -GroupId $g -DirectoryObjectId u-joe", "changed in a way")]
    [InlineData("New-MgGroupMember -GroupId $g -DirectoryObjectId u-joe\n$g = 'g-eng'", "not assigned a literal value before line 1")]
    [InlineData("function f { $g = 'g-data' }\n$g = 'g-eng'\nNew-MgGroupMember -GroupId (Get-Random) -DirectoryObjectId u-joe", "output of Get-Random")]
    [InlineData("$x = \"u-$(Get-Date)\"\nNew-MgGroupMember -GroupId g-eng -DirectoryObjectId $x", "not known")]
    public void ValuesThatDependOnHowTheScriptRunsAreRefused(string script, string reason)
    {
        var finding = Refused(script);

        Assert.Equal(SuggestionFindingKind.DynamicValue, finding.Kind);
        Assert.Contains(reason, finding.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void AVariableAssignedInAFunctionStaysInTheFunction()
    {
        Assert.Equal("add u-joe to group g-eng", Ops("$g = 'g-eng'\nfunction f { $g = 'g-data' }\nNew-MgGroupMember -GroupId $g -DirectoryObjectId u-joe"));
    }

    [Fact]
    public void AnUnrolledLoopMapsEveryPass()
    {
        Assert.Equal("add u-joe to group g-eng; add u-bob to group g-eng",
            Ops("foreach ($u in 'u-joe', 'u-bob') { $m = $u; New-MgGroupMember -GroupId g-eng -DirectoryObjectId $m }"));
    }

    // ---- binding --------------------------------------------------------------------------------

    [Theory]
    [InlineData("New-MgGroupMember -GroupId g-eng -DirectoryObjectId u-joe -P", "ambiguous")]
    [InlineData("New-MgGroupMember -GroupId g-eng -DirectoryObjectId u-joe -Colour blue", "-Colour is not a parameter")]
    [InlineData("New-MgGroupMember -GroupId g-eng -GroupId g-data -DirectoryObjectId u-joe", "given twice")]
    [InlineData("New-MgGroupMember -GroupId g-eng -DirectoryObjectId", "has no value")]
    [InlineData("New-MgGroupMember -GroupId g-eng -DirectoryObjectId u-joe -HttpPipelinePrepend $step", "HTTP pipeline")]
    public void ArgumentsPowerShellWouldRefuseOrThatCouldRunCodeAreRefused(string script, string reason)
    {
        var finding = Refused(script);

        Assert.Equal(SuggestionFindingKind.Unmappable, finding.Kind);
        Assert.Contains(reason, finding.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void SplattingBindsLikeNamedArgumentsAndPositionsFollowTheCommand()
    {
        Assert.Equal("add u-joe to group g-eng", Ops("$p = @{ GroupId = 'g-eng'; DirectoryObjectId = 'u-joe' }\nNew-MgGroupMember @p"));
        Assert.Equal("grant write on site-general to u-joe", Ops("$s = @{ Scope = 'site-general'; RoleDefinitionName = 'Contributor' }\nNew-AzRoleAssignment -ObjectId u-joe @s"));
    }

    // ---- names ----------------------------------------------------------------------------------

    [Theory]
    [InlineData("u-joe", "u-joe")]
    [InlineData("alice@tiny.example", "u-alice")]
    [InlineData("ALICE@TINY.EXAMPLE", "u-alice")]
    [InlineData("Helper Bot", "sp-bot")]
    [InlineData("i:0#.f|membership|bob@tiny.example", "u-bob")]
    [InlineData("https://graph.microsoft.com/v1.0/users('carol@tiny.example')", "u-carol")]
    [InlineData("https://graph.microsoft.com/beta/directoryObjects/u-dave", "u-dave")]
    [InlineData("Everyone except external users", "everyoneExceptExternal")]
    public void PrincipalsAreFoundByEveryNameAnAgentWrites(string name, string id)
    {
        Assert.Equal(id, DirectoryNames.For(Tiny).Principal(name, PrincipalWant.Grantee, "principal"));
    }

    [Fact]
    public void ANameThatIsNotAGroupOrNotThereIsRefusedWithCandidates()
    {
        var names = DirectoryNames.For(Tiny);

        var notAGroup = Assert.Throws<SuggestionRefusal>(() => names.Principal("alice@tiny.example", PrincipalWant.Group, "group"));
        var unknown = Assert.Throws<SuggestionRefusal>(() => names.Principal("Engineers", PrincipalWant.Group, "group"));
        var audience = Assert.Throws<SuggestionRefusal>(() => names.Principal("everyone", PrincipalWant.Member, "member"));

        Assert.Contains("a user, not a group", notAGroup.Message, StringComparison.Ordinal);
        Assert.Equal(SuggestionFindingKind.UnresolvedName, unknown.Kind);
        Assert.Equal("Engineering (g-eng)", unknown.Candidates![0]);
        Assert.Equal(SuggestionFindingKind.Unmappable, audience.Kind);
    }

    [Fact]
    public void ANameSeveralObjectsHaveIsAmbiguous()
    {
        var snapshot = SnapshotReader.ParseText(CmdletTestData.Snapshot.Replace("\"displayName\": \"Data\"", "\"displayName\": \"Platform\""));

        var e = Assert.Throws<SuggestionRefusal>(() => DirectoryNames.For(snapshot).Principal("Platform", PrincipalWant.Group, "group"));

        Assert.Equal(SuggestionFindingKind.AmbiguousName, e.Kind);
        Assert.Equal(new[] { "Platform (g-platform)", "Platform (g-data)" }, e.Candidates);
    }

    [Fact]
    public void ResourcesAreFoundByIdUrlGraphSiteIdDisplayNameAndRoleTemplate()
    {
        var demo = DirectoryNames.For(SnapshotReader.ReadFile(Repo.DemoSnapshot));

        Assert.Equal("site-userdata", demo.Resource("https://contoso.sharepoint.com/sites/userdataexports/", "site"));
        Assert.Equal("site-userdata", demo.Resource("contoso.sharepoint.com:/sites/UserDataExports:", "site"));
        Assert.Equal("item-pricing", demo.Resource("https://contoso.sharepoint.com/sites/Sales/Shared Documents/FY27 Price List.xlsx", "file"));
        Assert.Equal("site-userdata", demo.Resource("User Data Exports", "site", "site"));
        Assert.Equal("role-global-admin", demo.Resource("62e90394-69f5-4237-9190-012177145e10", "role", "directoryRole"));
        var wrongType = Assert.Throws<SuggestionRefusal>(() => demo.Resource("mbx-hr", "site", "site"));
        Assert.Contains("a mailbox", wrongType.Message, StringComparison.Ordinal);
    }

    // ---- Graph URIs -----------------------------------------------------------------------------

    [Theory]
    [InlineData("https://graph.microsoft.com/v1.0/groups('g-eng')/members/$ref?$select=id", true, "groups/g-eng/members/$ref")]
    [InlineData("/beta/groups/g-eng", true, "groups/g-eng")]
    [InlineData("https://graph.microsoft.us/v1.0/users/a%40b.example", false, "users/a@b.example")]
    public void GraphUrisAreSplitIntoSegments(string uri, bool relative, string path)
    {
        Assert.Equal(path, string.Join("/", GraphRequest.FromUri("GET", uri, null, relative)!.Segments));
    }

    [Theory]
    [InlineData("https://contoso.sharepoint.com/_api/web/roleassignments", true)]
    [InlineData("https://graph.microsoft.com.evil.example/v1.0/groups/g-eng", true)]
    [InlineData("groups/g-eng", false)]
    public void OtherHostsAndRelativeUrisWhereNotAllowedAreNotGraph(string uri, bool relative)
    {
        Assert.Null(GraphRequest.FromUri("POST", uri, null, relative));
    }

    [Fact]
    public void TheStepLimitStopsAnExplodingUnrollWithAFinding()
    {
        var list = "@(" + string.Join(",", Enumerable.Range(1, 100)) + ")";
        var script = $"foreach ($a in {list}) {{ foreach ($b in {list}) {{ foreach ($c in {list}) {{ Write-Host $c }} }} }}";

        var finding = Assert.Single(Convert(script).Analysis.Findings);

        Assert.Equal(SuggestionFindingKind.Unreadable, finding.Kind);
        Assert.Contains("20000", finding.Reason, StringComparison.Ordinal);
    }

    // ---- the change document --------------------------------------------------------------------

    [Fact]
    public void TheReaderAcceptsATextHashAndRefusesAMalformedOne()
    {
        var hash = SuggestionConverter.HashText("x");
        var good = ChangeReader.ParseText(CmdletTestData.Change("{ \"op\": \"grant\", \"resource\": \"r\", \"principal\": \"p\", \"role\": \"read\" }", $"\"suggestedBy\": {{ \"type\": \"agent\", \"textHash\": \"{hash}\" }}"));
        var bad = Assert.Throws<DocumentException>(() => ChangeReader.ParseText(CmdletTestData.Change("{ \"op\": \"grant\", \"resource\": \"r\", \"principal\": \"p\", \"role\": \"read\" }", "\"suggestedBy\": { \"type\": \"agent\", \"textHash\": \"md5:00\" }")));

        Assert.Equal(hash, good.SuggestedBy!.TextHash);
        Assert.Equal(good.Id, ChangeReader.ParseText(ChangeWriter.ToJson(good)).Id);
        Assert.Equal("suggestedBy.textHash", bad.Field);
        Assert.Equal(3, bad.Line);
    }

    [Fact]
    public void AChangeWithoutATextHashKeepsTheIdItHadBefore()
    {
        // The id of examples/changes/forum-4411.json, as Import-AccessChange's page shows it.
        Assert.Equal("sha256:3d3e48bd538cbfc9795ab18091ab902e976efa1baa40aebc38835dfd9c6dc5b1", ChangeReader.ReadFile(Repo.Incident).Id);
    }

    [Fact]
    public void AnOperationListIsReadStrictlyWithPositions()
    {
        var e = Assert.Throws<DocumentException>(() => ChangeReader.ParseOperations(Encoding.UTF8.GetBytes("[\n  { \"op\": \"grant\", \"resource\": \"r\" }\n]")));

        Assert.Equal(("[0]", 2L), (e.Field, e.Line));
        Assert.Throws<DocumentException>(() => ChangeReader.ParseOperations(Encoding.UTF8.GetBytes("[]")));
        Assert.Throws<DocumentException>(() => ChangeReader.ParseOperations(Encoding.UTF8.GetBytes("{}")));
    }
}
