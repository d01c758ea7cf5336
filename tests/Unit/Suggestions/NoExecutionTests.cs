using System.Management.Automation.Language;
using AgentGovernance.Changes;
using AgentGovernance.Suggestions;
using AgentGovernance.Tests.Support;

namespace AgentGovernance.Tests.Suggestions;

/// <summary>
/// S8: an agent's script is read, never run. Each suggestion here would leave a trace if any part of it
/// ran (a marker file, a variable set in the session) or if the PowerShell parser were handed the
/// constructs that make it load code while parsing; none may leave one.
/// </summary>
public sealed class NoExecutionTests : CmdletTestBase
{
    public NoExecutionTests(HostFixture fixture)
        : base(fixture)
    {
    }

    public static TheoryData<string> Scripts()
    {
        // {marker} is replaced by the marker file's path; each line would create it if it ran.
        return new TheoryData<string>
        {
            "New-Item -ItemType File -Path '{marker}' | Out-Null",
            "Set-Content -LiteralPath '{marker}' -Value x",
            "'x' | Out-File '{marker}'",
            "'x' > '{marker}'",
            "[System.IO.File]::WriteAllText('{marker}', 'x')",
            "function Touch { [System.IO.File]::WriteAllText('{marker}', 'x') }\nTouch",
            "iex \"[System.IO.File]::WriteAllText('{marker}', 'x')\"",
            "& { [System.IO.File]::WriteAllText('{marker}', 'x') }",
            "$global:AgentGovernanceRan = $true; [System.IO.File]::WriteAllText('{marker}', 'x')",
            "```powershell\n[System.IO.File]::WriteAllText('{marker}', 'x')\n```",
            "```powershell\n$x = \"$([System.IO.File]::WriteAllText('{marker}', 'x'))\"\n```",
            "New-MgGroupMember -GroupId g-eng -DirectoryObjectId (New-Item -Path '{marker}').Name",
        };
    }

    [Theory]
    [MemberData(nameof(Scripts))]
    public void NothingOfTheSuggestionRuns(string script)
    {
        var marker = Temp["marker.txt"];
        var text = script.Replace("{marker}", marker, StringComparison.Ordinal);

        var result = Ps.Run("$s = Import-AccessSnapshot -LiteralPath $args[0]\nConvertFrom-AgentSuggestion $args[1] -Snapshot $s -AllowPartial -WarningAction SilentlyContinue\n$global:AgentGovernanceRan", TinyPath, text);

        Assert.False(File.Exists(marker), "The suggestion ran: " + text);
        Assert.DoesNotContain(result.Output, o => o?.BaseObject is true);
    }

    /// <summary>
    /// The control: handed to the PowerShell parser, 'using module Name' makes the parser itself search
    /// the module path (it reports ModuleNotFoundDuringParse); through the guard the parser never sees
    /// such a statement, and the suggestion is refused where it stands.
    /// </summary>
    [Theory]
    [InlineData("using module AgentGovernanceMarkerModule\nGet-MgUser", "using")]
    [InlineData("using module {dir}/Marker/Marker.psd1\nGet-MgUser", "using")]
    [InlineData("Get-MgUser\nusing module {dir}/Marker/Marker.psd1", "using")]
    [InlineData("using assembly {dir}/Marker.dll\nGet-MgUser", "using")]
    [InlineData("configuration Marker { Node localhost { } }", "configuration")]
    [InlineData("Write-Host 'x'; if ($true) { class Marker { } }", "class")]
    public void TheParserNeverSeesWhatMakesItLoadCode(string script, string word)
    {
        var text = script.Replace("{dir}", Temp.Path, StringComparison.Ordinal);
        if (text.StartsWith("using module AgentGovernanceMarkerModule", StringComparison.Ordinal))
        {
            Parser.ParseInput(text, out _, out var errors);
            Assert.Contains(errors, e => e.ErrorId == "ModuleNotFoundDuringParse");
        }

        var parsed = ScriptGuard.Parse(text, out var refused);

        Assert.Null(parsed);
        Assert.NotNull(refused);
        Assert.Equal(word, refused!.Word);
        var result = Ps.Run("$s = Import-AccessSnapshot -LiteralPath $args[0]\nConvertFrom-AgentSuggestion $args[1] -Snapshot $s", TinyPath, text);
        var finding = Assert.IsType<SuggestionFinding>(Assert.Single(result.Errors).TargetObject);
        Assert.Equal(SuggestionFindingKind.ParseTimeEffect, finding.Kind);
        Assert.Empty(result.Objects<AccessChange>());
    }

    [Theory]
    [InlineData("Write-Host 'using module x is only text'")]
    [InlineData("# using module \\\\server\\share\\x.psm1")]
    [InlineData("Get-MgUser -Property class, enum")]
    [InlineData("$h = @{ class = 'a' }; $h.configuration")]
    [InlineData("<# configuration Foo { } #> Get-MgUser")]
    [InlineData("Write-Output \"causing no harm, misusing nothing\"")]
    public void TheKeywordsInStringsCommentsAndArgumentsAreNotCode(string text)
    {
        var parsed = ScriptGuard.Parse(text, out var refused);

        Assert.Null(refused);
        Assert.NotNull(parsed);
        Assert.Empty(parsed!.Errors);
        Assert.Equal(text, parsed.Ast.Extent.Text);
    }
}
