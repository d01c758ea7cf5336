using System.Collections;
using System.Management.Automation;
using System.Text;
using AgentGovernance.Changes;
using AgentGovernance.Json;
using AgentGovernance.Suggestions;
using AgentGovernance.Tests.Support;

namespace AgentGovernance.Tests.Suggestions;

/// <summary>ConvertFrom-AgentSuggestion in a real runspace, on the tiny tenant: input forms, provenance, errors.</summary>
public sealed class ConvertFromAgentSuggestionTests : CmdletTestBase
{
    private const string Cmd = "ConvertFromAgentSuggestionCommand";

    private const string AddJoe = "New-MgGroupMember -GroupId g-eng -DirectoryObjectId u-joe";

    private const string Answer = "Add Joe to Engineering:\n\n```powershell\n" + AddJoe + "\n```\n\nThat's all.\n";

    public ConvertFromAgentSuggestionTests(HostFixture fixture)
        : base(fixture)
    {
    }

    /// <summary>Runs a script with $s set to the tiny tenant.</summary>
    private RunResult WithTiny(string script, params object?[] args) =>
        Ps.Run("$s = Import-AccessSnapshot -LiteralPath $args[0]\n" + script, new object?[] { TinyPath }.Concat(args).ToArray());

    private static string Ops(AccessChange c) => string.Join("; ", c.Operations);

    [Fact]
    public void ScriptTextBecomesAChangeWithTheHashOfTheText()
    {
        var result = WithTiny("ConvertFrom-AgentSuggestion -InputObject $args[1] -Snapshot $s", AddJoe);

        Assert.Empty(result.Errors);
        var change = result.Single<AccessChange>();
        Assert.Equal("add u-joe to group g-eng", Ops(change));
        Assert.Equal(Hashing.Sha256Id(Encoding.UTF8.GetBytes(AddJoe)), change.SuggestedBy!.TextHash);
        Assert.Equal("agent", change.SuggestedBy.Type);
        Assert.Contains("\"textHash\":\"" + change.SuggestedBy.TextHash + "\"", change.ToCanonicalJson(), StringComparison.Ordinal);
        var analysis = (SuggestionAnalysis)result.Output[0].Properties["Suggestion"].Value;
        Assert.Equal(SuggestionFormat.Script, analysis.Format);
        Assert.Equal(1, Assert.Single(analysis.Commands).Line);
    }

    [Fact]
    public void TheSameTextGivesTheSameIdAndAnyOtherTextAnotherOne()
    {
        var result = WithTiny("$a = ConvertFrom-AgentSuggestion $args[1] -Snapshot $s; $b = ConvertFrom-AgentSuggestion $args[1] -Snapshot $s; $c = ConvertFrom-AgentSuggestion ($args[1] + ' # again') -Snapshot $s; $a.Id; $b.Id; $c.Id; $c.Operations.Count", AddJoe);

        Assert.Empty(result.Errors);
        var values = result.Output.Select(o => o.BaseObject.ToString()).ToList();
        Assert.Equal(values[0], values[1]);
        Assert.NotEqual(values[0], values[2]);
        Assert.Equal("1", values[3]);
    }

    [Fact]
    public void LinesFromThePipelineAreOneSuggestionAndWholeTextsEachTheirOwn()
    {
        var lines = Answer.Split('\n');
        var joined = WithTiny("$args[1] | ConvertFrom-AgentSuggestion -Snapshot $s -Verbose", new object[] { lines });
        var separate = WithTiny("$args[1], $args[2] | ConvertFrom-AgentSuggestion -Snapshot $s", Answer, "New-MgGroupMember -GroupId g-data -DirectoryObjectId u-bob\n");

        var one = joined.Single<AccessChange>();
        Assert.Equal("add u-joe to group g-eng", Ops(one));
        Assert.Equal(Hashing.Sha256Id(Encoding.UTF8.GetBytes(string.Join("\n", lines))), one.SuggestedBy!.TextHash);
        Assert.Contains(joined.Verbose, v => v.StartsWith("Joined " + lines.Length + " lines", StringComparison.Ordinal));
        Assert.Equal(new[] { "add u-joe to group g-eng", "add u-bob to group g-data" }, separate.Objects<AccessChange>().Select(Ops));
    }

    [Fact]
    public void FilesAreReadByPathWildcardLiteralPathAndFromTheirItems()
    {
        Temp.Write("a.md", Answer);
        Temp.Write("b.ps1", "Remove-MgGroupMemberByRef -GroupId g-platform -DirectoryObjectId u-bob\n");
        Temp.Write("c[1].json", "[ { \"op\": \"grant\", \"resource\": \"site-general\", \"principal\": \"u-joe\", \"role\": \"read\" } ]");

        var byPath = WithTiny("ConvertFrom-AgentSuggestion -Path ./*.md, ./*.ps1 -Snapshot $s");
        var literal = WithTiny("ConvertFrom-AgentSuggestion -LiteralPath 'c[1].json' -Snapshot $s");
        var item = WithTiny("[pscustomobject]@{ PSPath = $args[1] } | ConvertFrom-AgentSuggestion -Snapshot $s", Temp["b.ps1"]);

        Assert.Empty(byPath.Errors);
        Assert.Equal(new[] { "add u-joe to group g-eng", "remove u-bob from group g-platform" }, byPath.Objects<AccessChange>().Select(Ops));
        Assert.Equal(Hashing.Sha256Id(File.ReadAllBytes(Temp["a.md"])), byPath.Objects<AccessChange>().First().SuggestedBy!.TextHash);
        Assert.Equal(Temp["a.md"], byPath.Objects<AccessChange>().First().Source);
        Assert.Equal("grant read on site-general to u-joe", Ops(literal.Single<AccessChange>()));
        Assert.Equal("remove u-bob from group g-platform", Ops(item.Single<AccessChange>()));
    }

    /// <summary>A .ps1 is a script even when its help holds markdown; read as markdown its prose would go unchecked.</summary>
    [Theory]
    [InlineData("helper.ps1")]
    [InlineData("helper.txt")]
    [InlineData("helper.md")]
    public void CodeOutsideTheFencesOfAScriptIsStillRead(string name)
    {
        Temp.Write(name, "<#\n.EXAMPLE\n```powershell\nGet-MgGroup -GroupId g-eng\n```\n#>\nStart-Process calc\n");

        var result = WithTiny("ConvertFrom-AgentSuggestion -LiteralPath $args[1] -Snapshot $s", Temp[name]);

        Assert.Empty(result.Output);
        var error = SingleError(result, "SuggestionRefused", Cmd, ErrorCategory.SecurityError);
        var finding = Assert.IsType<SuggestionFinding>(error.TargetObject);
        Assert.Equal((7, 1, "Start-Process"), (finding.Line, finding.Column, finding.Command));
    }

    [Fact]
    public void ProvenanceComesFromTheParametersAndTheSuggesterIsFoundInTheDirectory()
    {
        var result = WithTiny(
            "ConvertFrom-AgentSuggestion $args[1] -Snapshot $s -SuggestedBy 'Helper Bot' -Source https://forum.example/t/9 -RequestedBy bob@tiny.example -Title 'Joe joins' -Justification 'Ticket 9' -Duration ([TimeSpan]::FromHours(2))",
            AddJoe);

        Assert.Empty(result.Errors);
        var change = result.Single<AccessChange>();
        Assert.Equal(("agent", "sp-bot", "Helper Bot", "https://forum.example/t/9"), (change.SuggestedBy!.Type, change.SuggestedBy.Id, change.SuggestedBy.DisplayName, change.SuggestedBy.Source));
        Assert.Equal(("bob@tiny.example", "Joe joins", "Ticket 9", "PT2H"), (change.RequestedBy, change.Title, change.Justification, change.Duration));
    }

    [Fact]
    public void ASuggesterOutsideTheDirectoryIsRecordedAsNamed()
    {
        var result = WithTiny("ConvertFrom-AgentSuggestion $args[1] -Snapshot $s -SuggestedBy vendor-gpt -SuggestedByType user -Duration P1D", AddJoe);

        var change = result.Single<AccessChange>();
        Assert.Equal(("user", "vendor-gpt", (string?)null, "P1D"), (change.SuggestedBy!.Type, change.SuggestedBy.Id, change.SuggestedBy.DisplayName, change.Duration));
    }

    [Fact]
    public void AChangeDocumentKeepsItsProvenanceUnlessAParameterSaysOtherwiseAndItsNamesAreResolved()
    {
        Temp.Write("doc.json", CmdletTestData.GrantChange.Replace("\"g-eng\"", "\"Engineering\"").Replace("\"site-secret\"", "\"Secret Exports\""));

        var kept = WithTiny("ConvertFrom-AgentSuggestion -LiteralPath doc.json -Snapshot $s");
        var overridden = WithTiny("ConvertFrom-AgentSuggestion -LiteralPath doc.json -Snapshot $s -RequestedBy carol@tiny.example -SuggestedBy u-alice -SuggestedByType user");

        var change = kept.Single<AccessChange>();
        Assert.Equal("grant read on site-secret to g-eng", Ops(change));
        Assert.Equal(("sp-bot", "bob@tiny.example", "Let Engineering read the exports"), (change.SuggestedBy!.Id, change.RequestedBy, change.Title));
        Assert.Equal(Hashing.Sha256Id(File.ReadAllBytes(Temp["doc.json"])), change.SuggestedBy.TextHash);
        var other = overridden.Single<AccessChange>();
        Assert.Equal(("user", "u-alice", "carol@tiny.example"), (other.SuggestedBy!.Type, other.SuggestedBy.Id, other.RequestedBy));
    }

    [Fact]
    public void TheHashSurvivesExportAndImportAndTheIdWithIt()
    {
        var result = WithTiny("$c = ConvertFrom-AgentSuggestion $args[1] -Snapshot $s; $c | Export-AccessChange -Path out.json | Out-Null; $c.Id; (Import-AccessChange out.json).Id; (Import-AccessChange out.json).SuggestedBy.TextHash", AddJoe);

        Assert.Empty(result.Errors);
        var values = result.Output.Select(o => o.BaseObject.ToString()).ToList();
        Assert.Equal(values[0], values[1]);
        Assert.Equal(SuggestionConverter.HashText(AddJoe), values[2]);
    }

    [Fact]
    public void ARefusalIsAnErrorRecordPerFindingAndNoChange()
    {
        var script = AddJoe + "\niex $payload\nNew-MgGroupMember -GroupId Engineers -DirectoryObjectId u-joe\n";

        var result = WithTiny("ConvertFrom-AgentSuggestion $args[1] -Snapshot $s", script);

        Assert.Empty(result.Output);
        Assert.Equal(2, result.Errors.Count);
        AssertError(result.Errors[0], "SuggestionRefused", Cmd, ErrorCategory.SecurityError);
        AssertError(result.Errors[1], "SuggestionUnresolvedName", Cmd, ErrorCategory.ObjectNotFound);
        var unknown = Assert.IsType<SuggestionFinding>(result.Errors[1].TargetObject);
        Assert.Equal((3, 1, SuggestionFindingKind.UnresolvedName), (unknown.Line, unknown.Column, unknown.Kind));
        Assert.Contains("Engineering (g-eng)", unknown.Candidates);
        Assert.StartsWith("<suggestion>:3:1: New-MgGroupMember: ", result.Errors[1].Exception.Message, StringComparison.Ordinal);
        Assert.NotNull(result.Errors[1].ErrorDetails.RecommendedAction);
    }

    [Fact]
    public void AllowPartialWritesWhatMapsAndWarnsOfWhatWasLeftOut()
    {
        var result = WithTiny("ConvertFrom-AgentSuggestion $args[1] -Snapshot $s -AllowPartial", AddJoe + "\niex $payload\n");

        Assert.Empty(result.Errors);
        var change = result.Single<AccessChange>();
        Assert.Equal("add u-joe to group g-eng", Ops(change));
        var warning = Assert.Single(result.Warnings);
        Assert.StartsWith("Left out of the change (-AllowPartial): <suggestion>:2:1: iex (Invoke-Expression): ", warning, StringComparison.Ordinal);
        var analysis = (SuggestionAnalysis)result.Output[0].Properties["Suggestion"].Value;
        Assert.Equal(SuggestionFindingKind.ExecutesCode, Assert.Single(analysis.Findings).Kind);
    }

    [Fact]
    public void VerboseSaysWhatEachCommandMappedToAndApproximationsWarn()
    {
        var result = WithTiny("ConvertFrom-AgentSuggestion $args[1] -Snapshot $s -Verbose", "Get-MgGroup -GroupId g-eng\nNew-MgRoleManagementDirectoryRoleAssignment -PrincipalId u-joe -RoleDefinitionId role-admin -DirectoryScopeId /administrativeUnits/au-1\n" + AddJoe);

        Assert.Empty(result.Errors);
        Assert.Contains(result.Verbose, v => v.StartsWith("3:1 New-MgGroupMember -> add u-joe to group g-eng (exact)", StringComparison.Ordinal));
        Assert.Contains(result.Verbose, v => v == "line 1: Get-MgGroup only reads; what it returns is looked up in the snapshot.");
        Assert.Contains(result.Warnings, w => w.StartsWith("2:1 New-MgRoleManagementDirectoryRoleAssignment maps onto the change only approximately", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("Get-MgGroup -GroupId g-eng\nWrite-Host done", "SuggestionEmpty", ErrorCategory.InvalidData)]
    [InlineData("this is not (valid PowerShell", "SuggestionUnparsable", ErrorCategory.InvalidData)]
    [InlineData("{ \"schema\": \"agentgovernance/change@9\", \"operations\": [] }", "ChangeInvalid", ErrorCategory.InvalidData)]
    [InlineData("[ { \"op\": \"delete\" } ]", "ChangeInvalid", ErrorCategory.InvalidData)]
    public void TextThatIsNotASuggestionIsAnErrorAndNothingIsWritten(string text, string errorId, ErrorCategory category)
    {
        var result = WithTiny("ConvertFrom-AgentSuggestion $args[1] -Snapshot $s", text);

        Assert.Empty(result.Output);
        SingleError(result, errorId, Cmd, category);
    }

    [Fact]
    public void FormatForcesHowTheTextIsRead()
    {
        var asJson = WithTiny("ConvertFrom-AgentSuggestion $args[1] -Snapshot $s -Format Json", AddJoe);
        var asScript = WithTiny("ConvertFrom-AgentSuggestion $args[1] -Snapshot $s -Format Script", "Run `" + AddJoe + "` now.");
        var asMarkdown = WithTiny("ConvertFrom-AgentSuggestion $args[1] -Snapshot $s -Format Markdown", "Run `" + AddJoe + "` now.");

        SingleError(asJson, "ChangeInvalid", Cmd, ErrorCategory.InvalidData);
        Assert.Empty(asScript.Output);
        Assert.Equal("add u-joe to group g-eng", Ops(asMarkdown.Single<AccessChange>()));
    }

    [Fact]
    public void FileErrorsAreTheSuggestionKindsAndTheOtherFilesAreStillRead()
    {
        Temp.Write("good.ps1", AddJoe);
        Temp.Write("latin1.ps1", string.Empty);
        File.WriteAllBytes(Temp["latin1.ps1"], new byte[] { 0x4E, 0xE9, 0xFF, 0x0A });

        var result = WithTiny("ConvertFrom-AgentSuggestion -LiteralPath missing.md, latin1.ps1, good.ps1 -Snapshot $s");

        Assert.Single(result.Objects<AccessChange>());
        Assert.Equal(2, result.Errors.Count);
        AssertError(result.Errors[0], "SuggestionNotFound", Cmd, ErrorCategory.ObjectNotFound);
        AssertError(result.Errors[1], "SuggestionUnreadable", Cmd, ErrorCategory.ReadError);
    }

    [Fact]
    public void ATextTooLongToBeAnAnswerIsRefusedWhole()
    {
        var result = WithTiny("ConvertFrom-AgentSuggestion ('#' * ($args[1] + 1)) -Snapshot $s", SuggestionConverter.MaxLength);

        SingleError(result, "SuggestionTooLarge", Cmd, ErrorCategory.InvalidData);
    }

    [Fact]
    public void ABadDurationStopsTheCommand()
    {
        var result = WithTiny("ConvertFrom-AgentSuggestion $args[1] -Snapshot $s -Duration '2 hours'", AddJoe);

        Assert.Empty(result.Output);
        SingleError(result, "ChangeInvalid", Cmd, ErrorCategory.InvalidArgument);
    }

    [Fact]
    public void WithoutASnapshotItIsNotConnected()
    {
        var result = Ps.Run("ConvertFrom-AgentSuggestion $args[0]", AddJoe);

        Assert.Empty(result.Output);
        SingleError(result, "NotConnected", Cmd, ErrorCategory.InvalidOperation);
    }

    [Fact]
    public void TheCmdletDeclaresItsOutputAndChangesNothing()
    {
        var command = Ps.RunClean("Get-Command ConvertFrom-AgentSuggestion").Single<CmdletInfo>();

        Assert.Equal("AgentGovernance.Changes.AccessChange", Assert.Single(command.OutputType).Name);
        Assert.False(command.Parameters.ContainsKey("WhatIf"));
        Assert.Equal("Text", command.DefaultParameterSet);
        Assert.True(command.Parameters["InputObject"].ParameterSets["Text"].ValueFromPipeline);
        Assert.Contains("PSPath", command.Parameters["LiteralPath"].Aliases);
    }

    [Fact]
    public void TheSuggestionViewsShowWhatWasReadAndRefused()
    {
        var screen = Ps.Render("$s = Import-AccessSnapshot -LiteralPath $args[0]; (ConvertFrom-AgentSuggestion $args[1] -Snapshot $s -AllowPartial -WarningAction SilentlyContinue).Suggestion", TinyPath, AddJoe + "\niex $x\n");

        Assert.Contains("add u-joe to group g-eng", screen, StringComparison.Ordinal);
        Assert.Contains("SuggestionRefused", screen, StringComparison.Ordinal);
        Assert.Contains("Script", screen, StringComparison.Ordinal);
    }
}
