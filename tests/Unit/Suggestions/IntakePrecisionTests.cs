using AgentGovernance.Directory;
using AgentGovernance.Suggestions;
using AgentGovernance.Tests.Support;

namespace AgentGovernance.Tests.Suggestions;

/// <summary>
/// Issue 11, item 5, precision: patterns intake once refused although it can know exactly what they do
/// (a function's parameters bound to known arguments, Get-Variable -ValueOnly, a hashtable of the
/// script's own changed in place, a function defined again). Each script really runs against the
/// recording stubs first, and intake must report exactly what they saw. The attacks on the same rules
/// (another reference to the table made in a way the rules must notice) run too: PowerShell acts on the
/// changed value, and intake must not report the old one.
/// </summary>
public sealed class IntakePrecisionTests : IClassFixture<IntakePropertyTests.Stubs>
{
    private static readonly AccessSnapshot Tiny = SnapshotReader.ParseText(CmdletTestData.Snapshot);

    private readonly RecordingRunspace _run;

    public IntakePrecisionTests(IntakePropertyTests.Stubs stubs) => _run = stubs.Runspace;

    private static SuggestionResult Convert(string text) =>
        SuggestionConverter.Convert(text, SuggestionConverter.HashText(text), null, new SuggestionOptions(), Tiny);

    private const string Table = "$h = @{ GroupId = 'g-eng'; DirectoryObjectId = 'u-joe' }\n";

    public static TheoryData<string, string> Precise => new()
    {
        { "positional arguments", "$g = 'g-eng'\nfunction add($grp, $usr) { New-MgGroupMember -GroupId $grp -DirectoryObjectId $usr }\nadd $g u-joe" },
        { "named arguments and a prefix", "function add($grp, $usr) { New-MgGroupMember -GroupId $grp -DirectoryObjectId $usr }\nadd -usr u-joe -gr g-data" },
        { "a param block, a [string] type and a default", "function add { param([string]$grp, $usr = 'u-bob') New-MgGroupMember -GroupId $grp -DirectoryObjectId $usr }\nadd g-data" },
        { "a default read in the function", "$g = 'g-eng'\nfunction add($grp = $g) { New-MgGroupMember -GroupId $grp -DirectoryObjectId u-joe }\n$g = 'g-data'\nadd" },
        { "a parameter assigned in the body", "function add($grp) { $grp = 'g-data'; New-MgGroupMember -GroupId $grp -DirectoryObjectId u-joe }\nadd g-eng" },
        { "left-over arguments", "function add($grp) { New-MgGroupMember -GroupId $grp -DirectoryObjectId u-joe }\nadd g-team u-bob" },
        { "two calls", "function add($grp, $usr) { New-MgGroupMember -GroupId $grp -DirectoryObjectId $usr }\nadd g-eng u-joe\nadd g-data u-bob" },
        { "a parameter named as a script variable", "function f($p) { $p }\n$p = @{ GroupId = 'g-eng'; DirectoryObjectId = 'u-joe' }\nf 1 | Out-Null\nNew-MgGroupMember @p" },
        { "Get-Variable -ValueOnly", "$g = 'g-data'\n$v = Get-Variable g -ValueOnly\nNew-MgGroupMember -GroupId $v -DirectoryObjectId u-joe" },
        { "Get-Variable -Name -ValueOnly, then a write", "$g = 'g-eng'\n$null = Get-Variable -Name g -ValueOnly\n$g = 'g-data'\nNew-MgGroupMember -GroupId (Get-Variable -ValueOnly -Name g) -DirectoryObjectId u-joe" },
        { "a table of its own set by member", Table + "$h.GroupId = 'g-data'\nNew-MgGroupMember @h" },
        { "a table of its own set by index", Table + "$h['DirectoryObjectId'] = 'u-bob'\n$h[\"GroupId\"] = \"g-team\"\nNew-MgGroupMember @h" },
        { "a table of its own read by key", Table + "$h.GroupId = 'g-data'\nNew-MgGroupMember -GroupId $h.GroupId -DirectoryObjectId $h['DirectoryObjectId']" },
        { "a table of its own given a new key", "$h = @{ DirectoryObjectId = 'u-joe' }\n$h.GroupId = 'g-data'\n$null = $h.ContainsKey('GroupId')\nNew-MgGroupMember @h" },
        { "a table of its own beside a write elsewhere", Table + "$a = @('g-eng')\n$b = $a\n$b[0] = 'g-data'\n$h.GroupId = 'g-team'\nNew-MgGroupMember @h" },
        { "a table of its own made again", Table + "New-MgGroupMember @h\n$h = @{ GroupId = 'g-data'; DirectoryObjectId = 'u-bob' }\nNew-MgGroupMember @h" },
        { "a table of its own changed in an unrolled loop", Table + "foreach ($i in 1, 2) { New-MgGroupMember @h; $h.GroupId = 'g-data' }" },
        { "a function defined again", "function a { New-MgGroupMember -GroupId g-eng -DirectoryObjectId u-joe }\na\nfunction a { New-MgGroupMember -GroupId g-data -DirectoryObjectId u-joe }\na" },
        { "$_ assigned in ForEach-Object", "'g-eng' | ForEach-Object { $_ = 'g-data'; New-MgGroupMember -GroupId $_ -DirectoryObjectId u-joe }" },
    };

    [Theory]
    [MemberData(nameof(Precise))]
    public void IntakeReportsExactlyWhatRuns(string how, string script)
    {
        var (calls, errors) = _run.Run(script);
        Assert.Empty(errors);
        Assert.NotEmpty(calls);

        var result = Convert(script);

        Assert.True(result.Analysis.Findings.Count == 0, $"{how}: refused: {string.Join(" | ", result.Analysis.Findings.Select(f => f.Reason))}");
        Assert.Equal(calls.Distinct(), result.Change!.Operations.Select(o => o.ToString()));
    }

    public static TheoryData<string, string> Escapes => new()
    {
        { "a loop variable assigned in the loop", "foreach ($x in 'g-eng') { $x = 'g-data'; New-MgGroupMember -GroupId $x -DirectoryObjectId u-joe }" },
        { "SyncRoot", Table + "$x = $h.SyncRoot\n$x.GroupId = 'g-data'\nNew-MgGroupMember @h" },
        { "psobject.BaseObject", Table + "$x = $h.psobject.BaseObject\n$x.GroupId = 'g-data'\nNew-MgGroupMember @h" },
        { "Get-Variable -ValueOnly", Table + "$x = Get-Variable h -ValueOnly\n$x.GroupId = 'g-data'\nNew-MgGroupMember @h" },
        { "Get-Variable -ValueOnly with a wildcard", Table + "$x = Get-Variable -Name '[h]' -ValueOnly\n$x.GroupId = 'g-data'\nNew-MgGroupMember @h" },
        { "a function", Table + "function f { $h.GroupId = 'g-data' }\nf\nNew-MgGroupMember @h" },
        { "a script block", Table + "& { $h.GroupId = 'g-data' }\nNew-MgGroupMember @h" },
        { "a function's parameter", Table + "function f($p) { $p.GroupId = 'g-data' }\nf $h\nNew-MgGroupMember @h" },
        { "a list", Table + "$l = @($h)\n$l[0].GroupId = 'g-data'\nNew-MgGroupMember @h" },
        { "a copy of the reference", Table + "$h.GroupId = 'g-team'\n$h2 = $h\n$h2.GroupId = 'g-data'\nNew-MgGroupMember @h" },
        { "a value that is a list", "$a = @('g-eng')\n$h = @{ GroupId = $a; DirectoryObjectId = 'u-joe' }\n$h.DirectoryObjectId = 'u-joe'\n$a[0] = 'g-data'\nNew-MgGroupMember -GroupId $h.GroupId[0] -DirectoryObjectId u-joe" },
    };

    [Theory]
    [MemberData(nameof(Escapes))]
    public void AChangeTheRulesCannotFollowIsNeverReportedAsTheOldValue(string how, string script)
    {
        var (calls, _) = _run.Run(script);
        Assert.Contains(calls, c => c.Contains("g-data", StringComparison.Ordinal));

        var result = Convert(script);

        var reported = result.Change?.Operations.Select(o => o.ToString()).ToList() ?? new List<string>();
        Assert.True(result.Change is null || reported.SequenceEqual(calls.Distinct()), $"{how}: reported {string.Join("; ", reported)}, but the stubs saw {string.Join("; ", calls)}");
        Assert.Contains(result.Analysis.Findings, f => f.ErrorId == "SuggestionUnresolvedValue");
    }

    [Theory]
    [InlineData("function add { [CmdletBinding()] param($grp) New-MgGroupMember -GroupId $grp -DirectoryObjectId u-joe }\nadd g-data", "advanced")]
    [InlineData("function add([switch]$x, $grp) { New-MgGroupMember -GroupId $grp -DirectoryObjectId u-joe }\nadd g-data", "switch")]
    [InlineData("function add($grp) { New-MgGroupMember -GroupId $grp -DirectoryObjectId u-joe }\n$p = @{ grp = 'g-data' }\nadd @p", "splats")]
    [InlineData("function add($grp) { New-MgGroupMember -GroupId $grp -DirectoryObjectId u-joe }\nadd -other g-data", "does not name one of its parameters")]
    [InlineData("function add([int]$grp) { New-MgGroupMember -GroupId $grp -DirectoryObjectId u-joe }\nadd 1", "converted")]
    public void ABindingThatIsNotFollowedIsRefused(string script, string why)
    {
        var result = Convert(script);

        Assert.Null(result.Change);
        var finding = Assert.Single(result.Analysis.Findings);
        Assert.Equal("SuggestionUnresolvedValue", finding.ErrorId);
        Assert.Contains(why, finding.Reason, StringComparison.Ordinal);
    }
}

/// <summary>
/// Issue 11, item 5, control flow: what comes after return, exit, throw, break or continue, and what is in
/// a branch whose condition is false, never runs and is not reported; what may or may not run is refused
/// (SuggestionUnresolvedValue), never reported as if it ran. Each script runs against the stubs first.
/// </summary>
public sealed class IntakeControlFlowTests : IClassFixture<IntakePropertyTests.Stubs>
{
    private static readonly AccessSnapshot Tiny = SnapshotReader.ParseText(CmdletTestData.Snapshot);

    private readonly RecordingRunspace _run;

    public IntakeControlFlowTests(IntakePropertyTests.Stubs stubs) => _run = stubs.Runspace;

    private static SuggestionResult Convert(string text) =>
        SuggestionConverter.Convert(text, SuggestionConverter.HashText(text), null, new SuggestionOptions(), Tiny);

    private const string Joe = "New-MgGroupMember -GroupId g-eng -DirectoryObjectId u-joe";
    private const string Bob = "New-MgGroupMember -GroupId g-data -DirectoryObjectId u-bob";

    public static TheoryData<string> Exact => new()
    {
        $"{Joe}\nreturn\n{Bob}",
        $"{Joe}\nthrow 'stop'\n{Bob}",
        $"{Joe}\nif ($true) {{ return }}\n{Bob}",
        $"if ($false) {{ return }}\n{Joe}",
        $"if ($false) {{ {Bob} }}\n{Joe}",
        $"$u = 'u-joe'\nif ($u) {{ {Joe} }} else {{ {Bob} }}",
        $"if ($null) {{ {Bob} }} elseif ('x') {{ {Joe} }} else {{ {Bob} }}",
        $"$g = 'g-eng'\nif ($g -eq 'g-data') {{ {Bob} }}\n{Joe}",
        $"foreach ($i in 1, 2) {{ {Joe}; break; {Bob} }}",
        $"foreach ($i in 'u-joe', 'u-bob') {{ if ($i -eq 'u-bob') {{ continue }}; New-MgGroupMember -GroupId g-eng -DirectoryObjectId $i }}",
        $"foreach ($i in $null) {{ {Bob} }}\n{Joe}",
        $"while ($false) {{ {Bob} }}\n{Joe}",
        $"function f {{ {Joe}; return; {Bob} }}\nf\nf",
        $"function f($x) {{ if ($x) {{ return }}; {Joe} }}\nf ''",
        $"'u-joe', 'u-bob' | ForEach-Object {{ if ($_ -eq 'u-bob') {{ return }}; New-MgGroupMember -GroupId g-eng -DirectoryObjectId $_ }}",
        $"try {{ {Joe}; throw 'x'; {Bob} }} catch {{ }}\nNew-MgGroupMember -GroupId g-team -DirectoryObjectId u-bob",
        $"try {{ return }} finally {{ {Joe} }}\n{Bob}",
        $"& {{ {Joe}; return; {Bob} }}\nNew-MgGroupMember -GroupId g-team -DirectoryObjectId u-bob",
    };

    [Theory]
    [MemberData(nameof(Exact))]
    public void WhatSurelyRunsIsReportedAndNothingElse(string script)
    {
        var (calls, _) = _run.Run(script);
        Assert.NotEmpty(calls);

        var result = Convert(script);

        Assert.True(result.Analysis.Findings.Count == 0, $"refused: {string.Join(" | ", result.Analysis.Findings.Select(f => f.Reason))}\n{script}");
        Assert.Equal(calls.Distinct(), result.Change!.Operations.Select(o => o.ToString()));
    }

    public static TheoryData<string, string> Uncertain => new()
    {
        { $"if ($zz) {{ {Bob} }}\n{Joe}", "branch whose condition" },
        { $"if ($zz) {{ return }}\n{Bob}", "branch whose condition" },
        { $"try {{ {Joe} }} catch {{ {Bob} }}", "catch block" },
        { $"while ($x -lt 2) {{ {Bob} }}", "loop" },
        { $"foreach ($i in $unknown) {{ {Bob} }}", "foreach loop whose values are not known" },
        { $"trap {{ continue }}\nthrow 'x'\n{Bob}", "trap" },
        { $"function f {{ break }}\nf\n{Bob}", "leaves it for a loop around it" },
        { $"foreach ($i in 1) {{ foreach ($j in 1) {{ break outer }}; {Bob} }}", "labelled break" },
        { $"try {{ throw 'x' }} catch [System.IO.IOException] {{ }}\n{Bob}", "may not be caught" },
        { $"$sb = {{ {Bob} }}\n{Joe}", "script block" },
        { $"1, 2 | Where-Object {{ {Bob}; $true }} | Out-Null\n{Joe}", "script block" },
    };

    [Theory]
    [MemberData(nameof(Uncertain))]
    public void WhatMayOrMayNotRunIsRefused(string script, string why)
    {
        var result = Convert(script);

        Assert.DoesNotContain(result.Analysis.Operations, o => o.ToString() == "add u-bob to group g-data");
        var finding = Assert.Single(result.Analysis.Findings, f => f.Text.Contains("g-data", StringComparison.Ordinal));
        Assert.Equal("SuggestionUnresolvedValue", finding.ErrorId);
        Assert.Contains(why, finding.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void AfterAnAnswerBlockThatEndsTheScriptTheNextBlocksAreInDoubt()
    {
        var answer = $"First:\n\n```powershell\n{Joe}\nreturn\n```\n\nThen:\n\n```powershell\n{Bob}\n```\n";

        var result = Convert(answer);

        Assert.Null(result.Change);
        var finding = Assert.Single(result.Analysis.Findings);
        Assert.Equal("SuggestionUnresolvedValue", finding.ErrorId);
        Assert.Contains("ends with return", finding.Reason, StringComparison.Ordinal);
    }
}
