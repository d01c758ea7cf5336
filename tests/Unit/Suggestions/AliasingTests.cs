using AgentGovernance.Directory;
using AgentGovernance.Suggestions;
using AgentGovernance.Tests.Support;

namespace AgentGovernance.Tests.Suggestions;

/// <summary>
/// Issue 11 item 5: a value counts as known only if nothing can write to it, through any alias, before
/// it is used. Each script below really changes what the command receives in PowerShell (g-eng becomes
/// g-data), so mapping it to "add u-joe to group g-eng" would report an operation that does not happen.
/// </summary>
public sealed class AliasingTests
{
    private static readonly AccessSnapshot Tiny = SnapshotReader.ParseText(CmdletTestData.Snapshot);

    private static SuggestionResult Convert(string text) =>
        SuggestionConverter.Convert(text, SuggestionConverter.HashText(text), null, new SuggestionOptions(), Tiny);

    public static TheoryData<string, string> Attacks => new()
    {
        { "another reference", "$h = @{ GroupId = 'g-eng'; DirectoryObjectId = 'u-joe' }\n$h2 = $h\n$h2.GroupId = 'g-data'\nNew-MgGroupMember @h" },
        { "another reference by index", "$h = @{ GroupId = 'g-eng'; DirectoryObjectId = 'u-joe' }\n$h2 = $h\n$h2['GroupId'] = 'g-data'\nNew-MgGroupMember @h" },
        { "$_", "$h = @{ GroupId = 'g-eng'; DirectoryObjectId = 'u-joe' }\n$h | ForEach-Object { $_.GroupId = 'g-data' }\nNew-MgGroupMember @h" },
        { "foreach variable", "$h = @{ GroupId = 'g-eng'; DirectoryObjectId = 'u-joe' }\nforeach ($x in @($h)) { $x.GroupId = 'g-data' }\nNew-MgGroupMember @h" },
        { "function parameter", "function f($p) { $p.GroupId = 'g-data' }\n$h = @{ GroupId = 'g-eng'; DirectoryObjectId = 'u-joe' }\nf $h\nNew-MgGroupMember @h" },
        { "list element", "$h = @{ GroupId = 'g-eng'; DirectoryObjectId = 'u-joe' }\n$l = @($h)\n$l[0].GroupId = 'g-data'\nNew-MgGroupMember @h" },
        { "aliased array", "$a = @('g-eng')\n$b = $a\n$b[0] = 'g-data'\nNew-MgGroupMember -GroupId $a[0] -DirectoryObjectId u-joe" },
        { "nested table", "$o = @{ Inner = @{ GroupId = 'g-eng'; DirectoryObjectId = 'u-joe' } }\n$i = $o.Inner\n$i.GroupId = 'g-data'\n$s = $o.Inner\nNew-MgGroupMember @s" },
        { "Get-Variable", "$h = @{ GroupId = 'g-eng'; DirectoryObjectId = 'u-joe' }\n(Get-Variable h).Value.GroupId = 'g-data'\nNew-MgGroupMember @h" },
        { "Get-Variable on a string", "$g = 'g-eng'\n(Get-Variable g).Value = 'g-data'\nNew-MgGroupMember -GroupId $g -DirectoryObjectId u-joe" },
        { "Get-Item variable:", "$g = 'g-eng'\n(Get-Item variable:g).Value = 'g-data'\nNew-MgGroupMember -GroupId $g -DirectoryObjectId u-joe" },
        { "a scriptblock that runs in the caller's scope", "$g = 'g-eng'\n1 | Where-Object { $g = 'g-data'; $true } | Out-Null\nNew-MgGroupMember -GroupId $g -DirectoryObjectId u-joe" },
        { "dot-sourced scriptblock variable", "$g = 'g-eng'\n$sb = { $g = 'g-data' }\n. $sb\nNew-MgGroupMember -GroupId $g -DirectoryObjectId u-joe" },
        { "scriptblock invoked later", "$h = @{ GroupId = 'g-eng'; DirectoryObjectId = 'u-joe' }\n$sb = { $h.GroupId = 'g-data' }\n& $sb\nNew-MgGroupMember @h" },
        { "entity through another reference", "$grp = Get-MgGroup -GroupId g-eng\n$other = $grp\n$other.Id = 'g-data'\nNew-MgGroupMember -GroupId $grp.Id -DirectoryObjectId u-joe" },
        { "a computed item path", "$g = 'g-eng'\n$p = 'vari' + 'able:g'\nSet-Item -Path $p -Value 'g-data'\nNew-MgGroupMember -GroupId $g -DirectoryObjectId u-joe" },
        { "code that is not read, later in a loop", "$g = 'g-eng'\nforeach ($i in 1, 2) { New-MgGroupMember -GroupId $g -DirectoryObjectId u-joe; Set-Variable g 'g-data' }" },
        { "ExecutionContext", "$g = 'g-eng'\n$v = $ExecutionContext.SessionState.PSVariable\nNew-MgGroupMember -GroupId $g -DirectoryObjectId u-joe" },
    };

    [Theory]
    [MemberData(nameof(Attacks))]
    public void AValueThatMayBeChangedThroughAnAliasIsNeverReportedAsKnown(string how, string script)
    {
        var result = Convert(script);

        Assert.True(!result.Analysis.Operations.Any(o => o.ToString() == "add u-joe to group g-eng"),
            $"{how}: reported {string.Join("; ", result.Analysis.Operations)} although PowerShell adds u-joe to g-data");
        Assert.Contains(result.Analysis.Findings, f => f.Kind == SuggestionFindingKind.DynamicValue || f.Kind == SuggestionFindingKind.ExecutesCode);
    }

    [Theory]
    [InlineData("$h2 = $h\n$h2.GroupId = 'g-data'")]
    [InlineData("(Get-Variable h).Value.GroupId = 'g-data'")]
    [InlineData("foreach ($x in @($h)) { $x.GroupId = 'g-data' }")]
    public void TheRefusalIsSuggestionUnresolvedValueAndSaysWhy(string write)
    {
        var result = Convert("$h = @{ GroupId = 'g-eng'; DirectoryObjectId = 'u-joe' }\n" + write + "\nNew-MgGroupMember @h");

        var finding = Assert.Single(result.Analysis.Findings, f => f.Command == "New-MgGroupMember");
        Assert.Equal("SuggestionUnresolvedValue", finding.ErrorId);
        Assert.Contains("another reference", finding.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("$h = @{ GroupId = 'g-eng'; DirectoryObjectId = 'u-joe' }\n$h2 = $h\nNew-MgGroupMember @h2")]
    [InlineData("$h = @{ GroupId = 'g-eng'; DirectoryObjectId = 'u-joe' }\n$h | Out-Null\nNew-MgGroupMember @h")]
    [InlineData("$g = 'g-eng'\n$x = @{ A = 1 }\nfunction f($p) { $p }\nf $x\nNew-MgGroupMember -GroupId $g -DirectoryObjectId u-joe")]
    [InlineData("$g = 'g-eng'\nNew-MgGroupMember -GroupId $g -DirectoryObjectId u-joe\niex $later")]
    [InlineData("$users = 'u-joe'\n$users | ForEach-Object { $id = $_; New-MgGroupMember -GroupId g-eng -DirectoryObjectId $id }")]
    public void AliasesWithoutAnyWriteStayKnown(string script)
    {
        Assert.Equal("add u-joe to group g-eng", string.Join("; ", Convert(script).Analysis.Operations));
    }
}
