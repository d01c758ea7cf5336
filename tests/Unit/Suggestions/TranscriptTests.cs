using AgentGovernance.Directory;
using AgentGovernance.Suggestions;
using AgentGovernance.Tests.Support;

namespace AgentGovernance.Tests.Suggestions;

/// <summary>
/// Issue 11 item 5 (markdown): every code block of an answer is read, whatever its info string; console
/// transcripts are read as the commands after their prompts. A block whose command cannot be read
/// refuses the whole answer, never lets a benign block be governed alone.
/// </summary>
public sealed class TranscriptTests
{
    private static readonly AccessSnapshot Tiny = SnapshotReader.ParseText(CmdletTestData.Snapshot);

    private static SuggestionResult Convert(string text) =>
        SuggestionConverter.Convert(text, SuggestionConverter.HashText(text), null, new SuggestionOptions(), Tiny);

    private const string Benign = "```powershell\nNew-MgGroupMember -GroupId g-eng -DirectoryObjectId u-joe\n```\n";

    [Theory]
    [InlineData("```console\nPS> New-Mg`GroupMember -GroupId g-data -DirectoryObjectId u-bob\n```\n")]
    [InlineData("```powershell\nPS C:\\> New-MgGroupMember -GroupId g-data -DirectoryObjectId u-bob\n```\n")]
    [InlineData("~~~text\nPS /home/me> New-MgGroupMember `\n>> -GroupId g-data `\n>> -DirectoryObjectId u-bob\nId   DisplayName\n--   -----------\n~~~\n")]
    [InlineData("```shell\nPS>New-MgGroupMember -GroupId g-data -DirectoryObjectId u-bob\n\nSome output\n```\n")]
    [InlineData("Then run this\n\n    PS C:\\Users\\me> New-MgGroupMember -GroupId g-data -DirectoryObjectId u-bob\n    done\n")]
    [InlineData("```\nPS> New-MgGroupMember -GroupId g-data -DirectoryObjectId u-bob\n```\n")]
    public void ATranscriptsCommandsAreReadAfterTheirPrompts(string transcript)
    {
        var result = Convert(Benign + "\nAnd in the console:\n\n" + transcript);

        Assert.Empty(result.Analysis.Findings);
        Assert.Equal("add u-joe to group g-eng; add u-bob to group g-data", string.Join("; ", result.Analysis.Operations));
    }

    [Fact]
    public void ATranscriptLineKeepsItsPlaceInTheAnswer()
    {
        var result = Convert(Benign + "```console\nPS C:\\> Get-MgGroup\nPS C:\\> New-MgGroupMember -GroupId g-data -DirectoryObjectId u-bob\n```\n");

        var command = Assert.Single(result.Analysis.Commands, c => c.Command == "New-MgGroupMember" && c.Line == 6);
        Assert.Equal(9, command.Column);
    }

    [Theory]
    [InlineData("```console\nPS> iex $code\n```\n", SuggestionFindingKind.ExecutesCode)]
    [InlineData("```console\nPS> New-MgGroupMember -GroupId $g -DirectoryObjectId u-bob\n```\n", SuggestionFindingKind.DynamicValue)]
    [InlineData("```console\nPS> New-MgGroupMember -GroupId (\n```\n", SuggestionFindingKind.Unreadable)]
    [InlineData("```bash\nNew-Mg`GroupMember -GroupId g-data -DirectoryObjectId u-bob\n```\n", SuggestionFindingKind.Unreadable)]
    public void ATranscriptCommandThatCannotBeReadRefusesTheWholeAnswer(string block, SuggestionFindingKind kind)
    {
        var result = Convert(Benign + block);

        Assert.Contains(result.Analysis.Findings, f => f.Kind == kind);
        Assert.Null(result.Change);
    }
}
