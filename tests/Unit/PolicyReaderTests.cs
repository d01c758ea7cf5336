using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using AgentGovernance.Directory;
using AgentGovernance.Exposure;
using AgentGovernance.Policy;
using Xunit;

namespace AgentGovernance.Tests;

public sealed class PolicyReaderTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "ag-policy-" + Guid.NewGuid().ToString("N"));

    public PolicyReaderTests()
    {
        System.IO.Directory.CreateDirectory(_folder);
    }

    public void Dispose()
    {
        System.IO.Directory.Delete(_folder, recursive: true);
    }

    // ---- defaults ----------------------------------------------------------------------------

    [Fact]
    public void Default_HasTheDocumentedValues()
    {
        var p = GovernancePolicy.Default;
        Assert.Null(p.Source);
        Assert.Equal(Sensitivity.Confidential, p.SensitiveFrom);
        Assert.Equal(10, p.BroadAudiencePercent);
        Assert.Equal(50, p.ManyPrincipalsThreshold);
        Assert.Equal(50, p.PersonalDataCriticalAbove);
        Assert.Empty(p.DisabledRules);
        Assert.Empty(p.AgentIdentities);
        Assert.Equal(new[] { "AG001" }, p.HardDeny.Keys);
        Assert.Equal(RiskLevel.Critical, p.HardDeny["AG001"]);
        Assert.Equal(new[] { 1, 1, 1, 2, 2 }, Enum.GetValues(typeof(RiskLevel)).Cast<RiskLevel>().Select(p.RequiredApprovals));
    }

    [Fact]
    public void KnownRuleIds_AreAG001ToAG010()
    {
        Assert.Equal(Enumerable.Range(1, 10).Select(i => $"AG{i:000}"), GovernancePolicy.KnownRuleIds);
    }

    [Theory]
    [InlineData("AG001", RiskLevel.Critical)]
    [InlineData("AG002", null)]
    [InlineData("AG010", null)]
    [InlineData("ag001", RiskLevel.Critical)]
    public void Default_HardDenyAt(string rule, RiskLevel? expected)
    {
        Assert.Equal(expected, GovernancePolicy.Default.HardDenyAt(rule));
    }

    [Theory]
    [InlineData(Sensitivity.Public, false)]
    [InlineData(Sensitivity.General, false)]
    [InlineData(Sensitivity.Confidential, true)]
    [InlineData(Sensitivity.HighlyConfidential, true)]
    public void Default_IsSensitive_FromConfidential(Sensitivity sensitivity, bool expected)
    {
        Assert.Equal(expected, GovernancePolicy.Default.IsSensitive(sensitivity));
    }

    [Fact]
    public void Default_EveryRuleEnabled()
    {
        Assert.All(GovernancePolicy.KnownRuleIds, id => Assert.True(GovernancePolicy.Default.IsRuleEnabled(id)));
    }

    [Theory]
    [InlineData("AG011")]
    [InlineData("AG1")]
    [InlineData("")]
    public void UnknownRuleId_IsAnArgumentError_NotSilentlyOff(string rule)
    {
        Assert.Throws<ArgumentException>(() => GovernancePolicy.Default.IsRuleEnabled(rule));
        Assert.Throws<ArgumentException>(() => GovernancePolicy.Default.HardDenyAt(rule));
    }

    [Fact]
    public void RequiredApprovals_OutOfRangeLevel_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => GovernancePolicy.Default.RequiredApprovals((RiskLevel)7));
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("@{}")]
    [InlineData("@{ }")]
    [InlineData("# just a comment")]
    [InlineData("<# block #>\n@{\n}\n# trailing")]
    [InlineData("@{ Rules = @{}; HardDeny = @{}; RequiredApprovals = @{}; AgentIdentities = @() }")]
    [InlineData("\uFEFF@{}")]
    [InlineData("@{};")]
    public void EmptyPolicies_EqualDefault(string text)
    {
        AssertSameSettings(GovernancePolicy.Default, PolicyReader.Parse(text));
    }

    [Fact]
    public void EveryKeyAtItsDefault_EqualsDefault()
    {
        var p = PolicyReader.Parse(AllDefaultsText);
        AssertSameSettings(GovernancePolicy.Default, p);
    }

    [Fact]
    public void ExamplePolicyFile_IsValid_AndHoldsTheDefaultsPlusOneAgent()
    {
        var example = Path.Combine(RepoRoot(), "examples", "policy.psd1");
        var p = PolicyReader.ReadFile(example);
        Assert.Equal(Path.GetFullPath(example), p.Source);
        Assert.Equal(new[] { "sp-helper" }, p.AgentIdentities);
        AssertSameSettings(GovernancePolicy.Default, p, ignoreAgents: true);
    }

    [Fact]
    public void DocsExample_IsValid()
    {
        var doc = File.ReadAllText(Path.Combine(RepoRoot(), "docs", "policy.md"));
        var blocks = FencedBlocks(doc, "powershell").Where(b => b.TrimStart().StartsWith("@{", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(blocks);
        foreach (var block in blocks)
        {
            PolicyReader.Parse(block, "docs/policy.md");
        }
    }

    // ---- every key ---------------------------------------------------------------------------

    [Theory]
    [InlineData("'Public'", Sensitivity.Public)]
    [InlineData("'General'", Sensitivity.General)]
    [InlineData("'Confidential'", Sensitivity.Confidential)]
    [InlineData("'HighlyConfidential'", Sensitivity.HighlyConfidential)]
    [InlineData("'highlyconfidential'", Sensitivity.HighlyConfidential)]
    [InlineData("\"General\"", Sensitivity.General)]
    public void SensitiveFrom_IsRead(string value, Sensitivity expected)
    {
        var p = PolicyReader.Parse($"@{{ SensitiveFrom = {value} }}");
        Assert.Equal(expected, p.SensitiveFrom);
        Assert.True(p.IsSensitive(expected));
        Assert.Equal(expected == Sensitivity.Public, p.IsSensitive(Sensitivity.Public));
    }

    [Fact]
    public void SensitiveFrom_General_MakesGeneralSensitive_PublicNot()
    {
        var p = PolicyReader.Parse("@{ SensitiveFrom = 'General' }");
        Assert.False(p.IsSensitive(Sensitivity.Public));
        Assert.True(p.IsSensitive(Sensitivity.General));
        Assert.True(p.IsSensitive(Sensitivity.HighlyConfidential));
    }

    [Fact]
    public void RuleThresholds_AreRead()
    {
        var p = PolicyReader.Parse(@"@{
    Rules = @{
        AG002 = @{ PercentOfEnabledUsers = 25 }
        AG003 = @{ Threshold = 7 }
        AG005 = @{ CriticalAbove = 3; Enabled = $true }
    }
}");
        Assert.Equal(25, p.BroadAudiencePercent);
        Assert.Equal(7, p.ManyPrincipalsThreshold);
        Assert.Equal(3, p.PersonalDataCriticalAbove);
        Assert.Empty(p.DisabledRules);
    }

    [Theory]
    [InlineData("1", 1)]
    [InlineData("100", 100)]
    [InlineData("0x10", 16)]
    [InlineData("5l", 5)]
    public void Percent_BoundsAndNumberForms(string literal, int expected)
    {
        var p = PolicyReader.Parse($"@{{ Rules = @{{ AG002 = @{{ PercentOfEnabledUsers = {literal} }} }} }}");
        Assert.Equal(expected, p.BroadAudiencePercent);
    }

    [Fact]
    public void LargeThresholds_AreAllowed()
    {
        var p = PolicyReader.Parse("@{ Rules = @{ AG003 = @{ Threshold = 1kb }; AG005 = @{ CriticalAbove = 2147483647 } } }");
        Assert.Equal(1024, p.ManyPrincipalsThreshold);
        Assert.Equal(int.MaxValue, p.PersonalDataCriticalAbove);
    }

    [Fact]
    public void DisabledRules_AreSorted_AndReported()
    {
        var p = PolicyReader.Parse("@{ Rules = @{ AG010 = @{ Enabled = $false }; AG004 = @{ Enabled = $FALSE }; AG007 = @{ Enabled = $true } } }");
        Assert.Equal(new[] { "AG004", "AG010" }, p.DisabledRules);
        Assert.False(p.IsRuleEnabled("AG004"));
        Assert.False(p.IsRuleEnabled("ag010"));
        Assert.True(p.IsRuleEnabled("AG007"));
        Assert.True(p.IsRuleEnabled("AG001"));
    }

    [Fact]
    public void HardDeny_MergesOverDefaults()
    {
        var p = PolicyReader.Parse("@{ HardDeny = @{ AG008 = 'High'; AG003 = 'low' } }");
        Assert.Equal(new[] { "AG001", "AG003", "AG008" }, p.HardDeny.Keys);
        Assert.Equal(RiskLevel.Critical, p.HardDenyAt("AG001"));
        Assert.Equal(RiskLevel.High, p.HardDenyAt("AG008"));
        Assert.Equal(RiskLevel.Low, p.HardDenyAt("AG003"));
        Assert.Null(p.HardDenyAt("AG002"));
    }

    [Fact]
    public void HardDeny_Never_RemovesADefault()
    {
        var p = PolicyReader.Parse("@{ HardDeny = @{ AG001 = 'Never' } }");
        Assert.Empty(p.HardDeny);
        Assert.Null(p.HardDenyAt("AG001"));
    }

    [Fact]
    public void HardDeny_CanLowerTheDefaultThreshold()
    {
        var p = PolicyReader.Parse("@{ HardDeny = @{ ag001 = 'Medium' } }");
        Assert.Equal(RiskLevel.Medium, p.HardDenyAt("AG001"));
        Assert.Equal(new[] { "AG001" }, p.HardDeny.Keys);
    }

    [Fact]
    public void HardDeny_IsOrdinalSorted()
    {
        var p = PolicyReader.Parse("@{ HardDeny = @{ AG010 = 'High'; AG002 = 'High'; AG009 = 'High' } }");
        Assert.Equal(new[] { "AG001", "AG002", "AG009", "AG010" }, p.HardDeny.Keys);
    }

    [Fact]
    public void RequiredApprovals_MergeOverDefaults()
    {
        var p = PolicyReader.Parse("@{ RequiredApprovals = @{ Critical = 3 } }");
        Assert.Equal(new[] { 1, 1, 1, 2, 3 }, AllApprovals(p));
    }

    [Fact]
    public void RequiredApprovals_AllLevels()
    {
        var p = PolicyReader.Parse("@{ RequiredApprovals = @{ none = 1; LOW = 2; Medium = 2; High = 3; Critical = 20 } }");
        Assert.Equal(new[] { 1, 2, 2, 3, 20 }, AllApprovals(p));
    }

    [Fact]
    public void RequiredApprovals_EqualCountsAreFine()
    {
        var p = PolicyReader.Parse("@{ RequiredApprovals = @{ High = 1; Critical = 1 } }");
        Assert.Equal(new[] { 1, 1, 1, 1, 1 }, AllApprovals(p));
    }

    [Theory]
    [InlineData("@('sp-helper', 'copilot@contoso.com')", new[] { "sp-helper", "copilot@contoso.com" })]
    [InlineData("'sp-helper', 'copilot@contoso.com'", new[] { "sp-helper", "copilot@contoso.com" })]
    [InlineData("'sp-helper'", new[] { "sp-helper" })]
    [InlineData("@('sp-helper')", new[] { "sp-helper" })]
    [InlineData("@()", new string[0])]
    [InlineData("@('a'; 'b', 'c')", new[] { "a", "b", "c" })]
    [InlineData("@(\n  'a'\n  'b'\n)", new[] { "a", "b" })]
    [InlineData("\"sp-helper\"", new[] { "sp-helper" })]
    [InlineData(",'sp-helper'", new[] { "sp-helper" })]
    [InlineData("'o''brien@contoso.com'", new[] { "o'brien@contoso.com" })]
    public void AgentIdentities_AreRead(string value, string[] expected)
    {
        var p = PolicyReader.Parse($"@{{ AgentIdentities = {value} }}");
        Assert.Equal(expected, p.AgentIdentities);
    }

    [Fact]
    public void IsListedAgent_IsCaseInsensitive()
    {
        var p = PolicyReader.Parse("@{ AgentIdentities = 'Copilot@Contoso.com', 'sp-helper' }");
        Assert.True(p.IsListedAgent("copilot@contoso.com"));
        Assert.True(p.IsListedAgent("SP-HELPER"));
        Assert.False(p.IsListedAgent("u-alice"));
        Assert.False(GovernancePolicy.Default.IsListedAgent("sp-helper"));
    }

    [Fact]
    public void KeysAreCaseInsensitive()
    {
        var p = PolicyReader.Parse("@{ sensitivefrom = 'General'; RULES = @{ ag003 = @{ threshold = 9; ENABLED = $True } }; hardDENY = @{}; agentidentities = 'x' }");
        Assert.Equal(Sensitivity.General, p.SensitiveFrom);
        Assert.Equal(9, p.ManyPrincipalsThreshold);
        Assert.Equal(new[] { "x" }, p.AgentIdentities);
    }

    [Fact]
    public void QuotedKeys_AreAccepted()
    {
        var p = PolicyReader.Parse("@{ 'SensitiveFrom' = 'Public'; \"Rules\" = @{ 'AG003' = @{ 'Threshold' = 2 } } }");
        Assert.Equal(Sensitivity.Public, p.SensitiveFrom);
        Assert.Equal(2, p.ManyPrincipalsThreshold);
    }

    [Fact]
    public void CommentsAndLayout_AreAccepted()
    {
        var p = PolicyReader.Parse(@"# Contoso policy
<#
  Reviewed by the security team. It's data; nothing here runs.
#>
@{
    # which labels count
    SensitiveFrom = 'General'   # trailing comment
    <# inline #> AgentIdentities = @(
        'sp-helper'     # the helpdesk agent
        'copilot@contoso.com'
    )
    Rules = @{ AG003 = @{
        Threshold = 20 } }
}
# end
");
        Assert.Equal(Sensitivity.General, p.SensitiveFrom);
        Assert.Equal(new[] { "sp-helper", "copilot@contoso.com" }, p.AgentIdentities);
        Assert.Equal(20, p.ManyPrincipalsThreshold);
    }

    [Fact]
    public void SingleQuotedHereString_IsALiteral()
    {
        var p = PolicyReader.Parse("@{\n  AgentIdentities = @'\nsp-helper\n'@\n}");
        Assert.Equal(new[] { "sp-helper" }, p.AgentIdentities);
    }

    [Fact]
    public void DoubleQuotedStringWithEscapedDollar_IsALiteral()
    {
        var p = PolicyReader.Parse("@{ AgentIdentities = \"agent`$1\" }");
        Assert.Equal(new[] { "agent$1" }, p.AgentIdentities);
    }

    [Fact]
    public void TypographicQuotes_WorkAsPowerShellReadsThem()
    {
        var p = PolicyReader.Parse("@{ SensitiveFrom = \u2018General\u2019 }");
        Assert.Equal(Sensitivity.General, p.SensitiveFrom);
    }

    [Fact]
    public void WordsThatMerelyContainForbiddenKeywords_AreFine()
    {
        // 'using' and 'class' are only refused as code, never inside strings or comments.
        var p = PolicyReader.Parse("# using this file, classify data\n@{ AgentIdentities = 'using-class-enum-bot' } <# configuration #>");
        Assert.Equal(new[] { "using-class-enum-bot" }, p.AgentIdentities);
    }

    [Fact]
    public void Parse_SourceIsNull_EvenWithASourceName()
    {
        Assert.Null(PolicyReader.Parse("@{}", "some.psd1").Source);
    }

    // ---- files ------------------------------------------------------------------------------

    [Fact]
    public void ReadFile_SetsSource_ToTheFullPath()
    {
        var path = Write("p.psd1", "@{ SensitiveFrom = 'HighlyConfidential' }");
        var p = PolicyReader.ReadFile(path);
        Assert.Equal(Path.GetFullPath(path), p.Source);
        Assert.Equal(Sensitivity.HighlyConfidential, p.SensitiveFrom);
    }

    [Fact]
    public void ReadFile_EmptyFile_IsDefaultWithSource()
    {
        var path = Write("empty.psd1", string.Empty);
        var p = PolicyReader.ReadFile(path);
        Assert.Equal(path, p.Source);
        AssertSameSettings(GovernancePolicy.Default, p);
    }

    [Fact]
    public void ReadFile_WithUtf8Bom_IsRead()
    {
        var path = Path.Combine(_folder, "bom.psd1");
        File.WriteAllText(path, "@{ SensitiveFrom = 'Public' }", new System.Text.UTF8Encoding(true));
        Assert.Equal(Sensitivity.Public, PolicyReader.ReadFile(path).SensitiveFrom);
    }

    [Fact]
    public void ReadFile_Missing_IsPolicyNotFound()
    {
        var path = Path.Combine(_folder, "nope.psd1");
        var e = Assert.Throws<GovernanceException>(() => PolicyReader.ReadFile(path));
        Assert.Equal("PolicyNotFound", e.ErrorId);
        Assert.Equal(GovernanceErrorKind.ObjectNotFound, e.Kind);
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void ReadFile_Folder_IsPolicyNotFound()
    {
        var e = Assert.Throws<GovernanceException>(() => PolicyReader.ReadFile(_folder));
        Assert.Equal("PolicyNotFound", e.ErrorId);
        Assert.Contains("folder", e.Message);
    }

    [Fact]
    public void ReadFile_ErrorsNameTheFile()
    {
        var path = Write("bad.psd1", "@{\n    SensitiveFrom = 'Secret'\n}");
        var e = Assert.Throws<DocumentException>(() => PolicyReader.ReadFile(path));
        Assert.Equal("PolicyInvalid", e.ErrorId);
        Assert.Equal(path, e.File);
        Assert.Equal("SensitiveFrom", e.Field);
        Assert.Equal(2, e.Line);
        Assert.Equal(21, e.Column);
        Assert.StartsWith($"{path}:2:21: SensitiveFrom: ", e.Message);
    }

    [Fact]
    public void ReadFile_InvalidUtf8_IsPolicyInvalid()
    {
        var path = Path.Combine(_folder, "latin1.psd1");
        File.WriteAllBytes(path, new byte[] { (byte)'@', (byte)'{', (byte)'#', 0xE9, 0xFF, (byte)'}' });
        var e = Assert.Throws<DocumentException>(() => PolicyReader.ReadFile(path));
        Assert.Equal("PolicyInvalid", e.ErrorId);
    }

    [Fact]
    public void ReadFile_TooLarge_IsPolicyInvalid()
    {
        var path = Write("huge.psd1", "@{}\n" + new string('#', PolicyReader.MaxLength + 1));
        var e = Assert.Throws<DocumentException>(() => PolicyReader.ReadFile(path));
        Assert.Equal("PolicyInvalid", e.ErrorId);
    }

    [Fact]
    public void NullArguments_Throw()
    {
        Assert.Throws<ArgumentNullException>(() => PolicyReader.Parse(null!));
        Assert.Throws<ArgumentNullException>(() => PolicyReader.ReadFile(null!));
    }

    // ---- rejections: not data ---------------------------------------------------------------

    [Theory]
    [InlineData("@{ SensitiveFrom = (Get-Date) }")]
    [InlineData("@{ SensitiveFrom = Get-Date }")]
    [InlineData("@{ SensitiveFrom = Confidential }")]
    [InlineData("@{ X = $env:PATH }")]
    [InlineData("@{ SensitiveFrom = $env:PATH }")]
    [InlineData("@{ SensitiveFrom = \"$(whoami)\" }")]
    [InlineData("@{ SensitiveFrom = \"$env:USER\" }")]
    [InlineData("@{ SensitiveFrom = \"Conf$x\" }")]
    [InlineData("@{ SensitiveFrom = $(whoami) }")]
    [InlineData("@{ SensitiveFrom = ${env:PATH} }")]
    [InlineData("@{ Rules = @{ AG003 = @{ Threshold = 1+1 } } }")]
    [InlineData("@{ Rules = @{ AG003 = @{ Threshold = 2*3 } } }")]
    [InlineData("@{ Rules = @{ AG003 = @{ Threshold = -not 0 } } }")]
    [InlineData("@{ Rules = @{ AG003 = @{ Threshold = [int]'5' } } }")]
    [InlineData("@{ Rules = @{ AG003 = @{ Threshold = [int]::MaxValue } } }")]
    [InlineData("@{ Rules = @{ AG003 = @{ Threshold = (5) } } }")]
    [InlineData("@{ Rules = @{ AG003 = @{ Threshold = 'abc'.Length } } }")]
    [InlineData("@{ Rules = @{ AG003 = @{ Threshold = 'abc'.ToUpper() } } }")]
    [InlineData("@{ Rules = @{ AG003 = @{ Threshold = @(5)[0] } } }")]
    [InlineData("@{ Rules = @{ AG003 = @{ Threshold = $x } } }")]
    [InlineData("@{ Rules = @{ AG003 = @{ Enabled = $null } } }")]
    [InlineData("@{ Rules = @{ AG003 = @{ Enabled = $global:true } } }")]
    [InlineData("@{ Rules = @{ AG003 = @{ Enabled = ${true} } } }")]
    [InlineData("@{ Rules = @{ AG003 = @{ Enabled = $using:x } } }")]
    [InlineData("@{ Rules = @{ AG003 = @{ Enabled = @x } } }")]
    [InlineData("[ordered]@{}")]
    [InlineData("[hashtable]@{}")]
    [InlineData("@{} ; Remove-Item x")]
    [InlineData("@{}\nRemove-Item x")]
    [InlineData("Remove-Item x\n@{}")]
    [InlineData("@{} | Out-Null")]
    [InlineData("@{} > out.txt")]
    [InlineData("{ }")]
    [InlineData("{ @{} }")]
    [InlineData("@{ SensitiveFrom = { 'Public' } }")]
    [InlineData("@{ AgentIdentities = @(Get-ChildItem) }")]
    [InlineData("@{ AgentIdentities = @('a'; Get-ChildItem) }")]
    [InlineData("@{ AgentIdentities = 'a', (Get-Date) }")]
    [InlineData("@{ AgentIdentities = [string[]]@('a') }")]
    [InlineData("@{ AgentIdentities = @\"\n$(whoami)\n\"@ }")]
    [InlineData("@{ AgentIdentities = @\"\n$env:USER\n\"@ }")]
    [InlineData("param($x)\n@{}")]
    [InlineData("using namespace System\n@{}")]
    [InlineData("using module PSReadLine\n@{}")]
    [InlineData("@{}\nusing module PSReadLine")]
    [InlineData("@{ a = using module PSReadLine }")]
    [InlineData("using assembly System.Xml\n@{}")]
    [InlineData("#requires -Version 5\nbegin { @{} }")]
    [InlineData("@{}\nconfiguration C { }")]
    [InlineData("class C { }\n@{}")]
    [InlineData("enum E { A }\n@{}")]
    [InlineData("function f { }\n@{}")]
    [InlineData("$p = @{}")]
    [InlineData("return @{}")]
    [InlineData("if ($true) { @{} }")]
    [InlineData("@{}\n@{}")]
    [InlineData("@('a')")]
    [InlineData("'Confidential'")]
    [InlineData("42")]
    [InlineData("@{ SensitiveFrom = 'Public' } & ")]
    [InlineData("@{ SensitiveFrom = & { 'Public' } }")]
    [InlineData("@{ SensitiveFrom = . { 'Public' } }")]
    [InlineData("@{ SensitiveFrom = 'Public' -f 1 }")]
    [InlineData("@{ SensitiveFrom = 'Pub' + 'lic' }")]
    [InlineData("@{ SensitiveFrom = $true ? 'Public' : 'General' }")]
    [InlineData("@{ SensitiveFrom = 'Public' && 'x' }")]
    [InlineData("@{ SensitiveFrom = cmd --% /c whoami }")]
    [InlineData("@{ (Get-Date) = 1 }")]
    [InlineData("@{ $x = 1 }")]
    [InlineData("@{ 1 = 1 }")]
    [InlineData("@{ SensitiveFrom#x = 'Public' }")]
    [InlineData("@{ SensitiveFrom = 'Public'#x\n}")]
    public void NonLiterals_AreRejected(string text)
    {
        var e = Assert.Throws<DocumentException>(() => PolicyReader.Parse(text, "test.psd1"));
        Assert.Equal("PolicyInvalid", e.ErrorId);
        Assert.Equal("test.psd1", e.File);
        Assert.True(e.Line > 0, $"no line in: {e.Message}");
        Assert.True(e.Column > 0, $"no column in: {e.Message}");
        Assert.StartsWith($"test.psd1:{e.Line}:{e.Column}: ", e.Message);
    }

    [Fact]
    public void NothingRuns_SubExpressionThatWouldCreateAFile()
    {
        var marker = Path.Combine(_folder, "pwned-" + Guid.NewGuid().ToString("N"));
        var attempts = new[]
        {
            $"@{{ SensitiveFrom = $(New-Item '{marker}') }}",
            $"@{{ SensitiveFrom = \"$(New-Item '{marker}')\" }}",
            $"@{{ SensitiveFrom = (New-Item '{marker}') }}",
            $"@{{ SensitiveFrom = New-Item '{marker}' }}",
            $"@{{ SensitiveFrom = & {{ New-Item '{marker}' }} }}",
            $"@{{ SensitiveFrom = [IO.File]::WriteAllText('{marker}', 'x') }}",
            $"@{{ SensitiveFrom = 'Public' }}\nNew-Item '{marker}'",
            $"New-Item '{marker}'\n@{{}}",
            $"@{{ AgentIdentities = @(New-Item '{marker}') }}",
            $"@{{ AgentIdentities = @\"\n$(New-Item '{marker}')\n\"@ }}",
            $"@{{ Rules = @{{ AG003 = @{{ Threshold = 1 + (New-Item '{marker}').Length }} }} }}",
            $"@{{ $(New-Item '{marker}') = 1 }}",
        };

        foreach (var text in attempts)
        {
            var e = Assert.Throws<DocumentException>(() => PolicyReader.Parse(text, "attack.psd1"));
            Assert.Equal("PolicyInvalid", e.ErrorId);
            Assert.False(File.Exists(marker), $"'{text}' ran code");
        }

        var path = Write("attack.psd1", $"@{{\n    SensitiveFrom = $(New-Item '{marker}')\n}}");
        Assert.Throws<DocumentException>(() => PolicyReader.ReadFile(path));
        Assert.False(File.Exists(marker));
    }

    [Fact]
    public void NothingRuns_UsingModule_IsRefusedBeforeThePowerShellParserSeesIt()
    {
        // The PowerShell parser resolves 'using module' while parsing (it runs Get-Module -ListAvailable);
        // a policy must not make it look anything up. A module file that would leave a marker if imported:
        var marker = Path.Combine(_folder, "pwned-" + Guid.NewGuid().ToString("N"));
        var module = Write("evil.psm1", $"New-Item '{marker}'");
        foreach (var text in new[] { $"using module '{module}'\n@{{}}", $"@{{}}\nusing module '{module}'", $"@{{}};using module '{module}'", $"@{{ a = using module '{module}' }}" })
        {
            var e = Assert.Throws<DocumentException>(() => PolicyReader.Parse(text));
            Assert.Contains("'using'", e.Problem);
            Assert.False(File.Exists(marker));
        }
    }

    [Theory]
    [InlineData("1`@{ a = 1 }1` <#<#\nconfiguration c { }`n")]           // an escaped space is not a separator
    [InlineData(":a'\t\t\u2014-%\nusing module nomod@{ a = 1 }`\"")]      // a label swallows the quote
    [InlineData("-:a``'\nconfiguration c { }@{ a = 1 }|:#requires\" @'")]
    [InlineData(":function\u201C&}\nusing module nomod")]
    [InlineData("`--% <#'@\nusing module nomod1`=&([=$$true\n'@%'")]      // stop-parsing hides the comment
    [InlineData("`--% @'\nconfiguration c { }'@:{")]
    [InlineData("@{ a = 1 } # c\u000Busing module nomod")]                  // a vertical tab does not end a comment
    [InlineData("@{ a = 1 } # c\u2028using module nomod")]
    [InlineData("@{ a = 1 } # c\u0085using module nomod")]
    [InlineData("@{ a = 1 }\r\nusing assembly nomod.dll")]
    [InlineData("@{ a = 1 }\rusing module nomod")]                          // a lone CR ends a line
    [InlineData("@{ a = 1 }; USING MODULE nomod")]
    [InlineData("@{ a = using module nomod }")]
    [InlineData("@{ a = @(using module nomod) }")]
    [InlineData("@{ a = { using module nomod } }")]
    [InlineData("@{ a = \"x\" ; using module nomod }")]
    [InlineData("@{ a = 'it''s' }; using module nomod; 'x'")]
    [InlineData("@{ a = 1 } <# c #> using module nomod")]
    [InlineData("@{ a = 1 }\nx@'\n'; using module nomod\n'@")]
    [InlineData("@{ a = \"$(\" #\")\"; using module nomod }")]
    public void FoundBypasses_AreRefusedBeforeParsing(string text)
    {
        var e = Assert.Throws<DocumentException>(() => PolicyReader.LexicalGuard.Check(text, "g.psd1"));
        Assert.Equal("PolicyInvalid", e.ErrorId);
        Assert.True(e.Line > 0 && e.Column > 0);
    }

    [Fact]
    public void AnythingTheGuardLetsThrough_ParsesWithoutLoadingModules()
    {
        // The property the lexical guard exists for, checked on generated text: whenever it accepts the
        // text, the PowerShell parser resolves no 'using module'/'using assembly' and loads no DSC keywords.
        var fragments = new[]
        {
            "'", "\"", "#", " #", "<#", " <#", "#>", "\n", "\r", "\r\n", "`", "` ", "`'", "@'", " @'", "@\"", " @\"", "'@", "\n'@", "\n\"@",
            "$", "$a", "${", "$(", "(", ")", "{", "}", "@{", "@(", ";", ",", "=", " ", "a", "-a", ":", ":a", "\u2018", "\u201C", "--%", "''",
            "\"\"", ".", "+", "$true", "1", "\t", "x@'", "[", "&", "|", "\u000B", "function f", "0x1", "\n#", "\n<#", "a =", "b = @{",
        };
        var payloads = new[] { "using module nomodZ", "\nusing module nomodZ", ";using module nomodZ", " using module nomodZ", "\nconfiguration c { }", "\nusing assembly nomodZ.dll" };
        var random = new Random(20261120);
        var passed = 0;
        for (var n = 0; n < 4000; n++)
        {
            var parts = Enumerable.Range(0, random.Next(1, 12)).Select(_ => fragments[random.Next(fragments.Length)]).ToList();
            parts.Insert(random.Next(parts.Count + 1), payloads[random.Next(payloads.Length)]);
            var text = string.Concat(parts);
            try
            {
                PolicyReader.LexicalGuard.Check(text, null);
            }
            catch (DocumentException)
            {
                continue;
            }

            passed++;
            System.Management.Automation.Language.ParseError[] errors;
            try
            {
                System.Management.Automation.Language.Parser.ParseInput(text, out _, out errors);
            }
            catch (System.Management.Automation.ParseException)
            {
                continue;
            }

            Assert.DoesNotContain(errors, e => e.ErrorId == "ModuleNotFoundDuringParse" || e.ErrorId == "ErrorLoadingAssembly" || e.Message.Contains("DSC"));
        }

        Assert.True(passed > 100, $"only {passed} generated texts passed the guard; the check proves little");
    }

    [Fact]
    public void ParserCrash_IsPolicyInvalid()
    {
        // PowerShell's parser throws (a NullReferenceException inside SemanticChecks) on this input instead of reporting an error.
        var e = Assert.Throws<DocumentException>(() => PolicyReader.Parse("@{-.", "c.psd1"));
        Assert.Equal("PolicyInvalid", e.ErrorId);
        Assert.Equal("c.psd1", e.File);
    }

    [Theory]
    [InlineData("@{ SensitiveFrom = 'Public' } # c\u000B")]
    [InlineData("@{ AgentIdentities = 'a\u0000b' }")]
    [InlineData("@{ AgentIdentities = 'a\u2029b' }")]
    public void ControlCharacters_AreRefusedEverywhere(string text)
    {
        var e = Assert.Throws<DocumentException>(() => PolicyReader.Parse(text));
        Assert.Contains("control character", e.Problem);
    }

    [Theory]
    [InlineData("@{ SensitiveFrom = \"$(whoami)\" }", 1, 21)]
    [InlineData("@{\n  Rules = @{\n    AG003 = @{ Threshold = 1+1 }\n  }\n}", 3, 28)]
    [InlineData("@{\n  SensitiveFrom = (Get-Date)\n}", 2, 19)]
    [InlineData("@{\n\n  AgentIdentities = 'a', $x\n}", 3, 26)]
    [InlineData("# header\n@{ }\nRemove-Item x", 3, 1)]
    [InlineData("[ordered]@{}", 1, 1)]
    [InlineData("@{\r\n  X = [int]'5'\r\n}", 2, 7)]
    public void Rejections_PointAtTheOffendingText(string text, int line, int column)
    {
        var e = Assert.Throws<DocumentException>(() => PolicyReader.Parse(text, "p.psd1"));
        Assert.Equal(line, e.Line);
        Assert.Equal(column, e.Column);
    }

    [Theory]
    [InlineData("@{ Rules = @{ AG003 = @{ Threshold = 1+1 } } }", "Rules.AG003.Threshold")]
    [InlineData("@{ SensitiveFrom = (Get-Date) }", "SensitiveFrom")]
    [InlineData("@{ X = $env:PATH }", "X")]
    [InlineData("@{ AgentIdentities = 'a', $x }", "AgentIdentities[1]")]
    [InlineData("@{ AgentIdentities = @('a'; 'b'; $x) }", "AgentIdentities[2]")]
    [InlineData("@{ Rules = @{ AG003 = @{ Threshold = 'ten' } } }", "Rules.AG003.Threshold")]
    [InlineData("@{ RequiredApprovals = @{ High = 0 } }", "RequiredApprovals.High")]
    [InlineData("@{ Rules = @{ AG003 = @{ Threshold = [int]'5' } } }", "Rules.AG003.Threshold")]
    [InlineData("@{\n  Rules = @{\n    'AG003' = @{\n      Threshold = $env:X\n    }\n  }\n}", "Rules.AG003.Threshold")]
    [InlineData("@{ Rules = @{ AG002 = @{ Enabled = $true }; AG003 = @{ Threshold = 5 | Out-Null } } }", "Rules.AG003.Threshold")]
    [InlineData("@{ SensitiveFrom = \"$(whoami)\" }", "SensitiveFrom")]
    public void Rejections_NameTheKeyPath(string text, string field)
    {
        var e = Assert.Throws<DocumentException>(() => PolicyReader.Parse(text));
        Assert.Equal(field, e.Field);
        Assert.Contains(field, e.Message);
        Assert.Equal("PolicyInvalid", e.ErrorId);
    }

    [Fact]
    public void NonLiteral_MessageSaysWhatWasFound()
    {
        var e = Assert.Throws<DocumentException>(() => PolicyReader.Parse("@{ SensitiveFrom = (Get-Date) }"));
        Assert.Contains("parenthesized", e.Problem);
        Assert.Contains("(Get-Date)", e.Problem);
        Assert.Contains("never run", e.Problem);

        e = Assert.Throws<DocumentException>(() => PolicyReader.Parse("@{ Rules = @{ AG003 = @{ Threshold = 1+1 } } }"));
        Assert.Contains("Plus", e.Problem);

        e = Assert.Throws<DocumentException>(() => PolicyReader.Parse("@{ X = $x }"));
        Assert.Contains("variable", e.Problem);

        e = Assert.Throws<DocumentException>(() => PolicyReader.Parse("@{ X = $env:PATH }"));
        Assert.Contains("':' is not allowed outside quotes", e.Problem);
    }

    // ---- rejections: data that does not fit ----------------------------------------------------

    [Theory]
    [InlineData("@{ Foo = 1 }", "Foo", "SensitiveFrom, Rules, HardDeny, RequiredApprovals, AgentIdentities")]
    [InlineData("@{ Rules = @{ AG011 = @{ Enabled = $false } } }", "Rules.AG011", "AG001, AG002")]
    [InlineData("@{ Rules = @{ AG000 = @{} } }", "Rules.AG000", "AG010")]
    [InlineData("@{ Rules = @{ AG001 = @{ Threshold = 5 } } }", "Rules.AG001.Threshold", "Enabled")]
    [InlineData("@{ Rules = @{ AG002 = @{ Threshold = 5 } } }", "Rules.AG002.Threshold", "Enabled, PercentOfEnabledUsers")]
    [InlineData("@{ Rules = @{ AG003 = @{ Percent = 5 } } }", "Rules.AG003.Percent", "Enabled, Threshold")]
    [InlineData("@{ Rules = @{ AG005 = @{ Enable = $true } } }", "Rules.AG005.Enable", "Enabled, CriticalAbove")]
    [InlineData("@{ HardDeny = @{ AG099 = 'High' } }", "HardDeny.AG099", "AG001")]
    [InlineData("@{ RequiredApprovals = @{ Severe = 3 } }", "RequiredApprovals.Severe", "None, Low, Medium, High, Critical")]
    public void UnknownKeys_AreErrors_ListingTheValidOnes(string text, string field, string validKeys)
    {
        var e = Assert.Throws<DocumentException>(() => PolicyReader.Parse(text));
        Assert.Equal("PolicyInvalid", e.ErrorId);
        Assert.Equal(field, e.Field);
        Assert.Contains(validKeys, e.Problem);
    }

    [Theory]
    [InlineData("@{ SensitiveFrom = 'Public'; SensitiveFrom = 'General' }")]
    [InlineData("@{ SensitiveFrom = 'Public'; sensitivefrom = 'General' }")]
    [InlineData("@{ 'SensitiveFrom' = 'Public'; SensitiveFrom = 'General' }")]
    [InlineData("@{ Rules = @{ AG003 = @{ Threshold = 1; Threshold = 2 } } }")]
    [InlineData("@{ Rules = @{ AG003 = @{}; ag003 = @{} } }")]
    [InlineData("@{ HardDeny = @{ AG001 = 'High'; AG001 = 'Low' } }")]
    public void DuplicateKeys_AreErrors(string text)
    {
        var e = Assert.Throws<DocumentException>(() => PolicyReader.Parse(text));
        Assert.Equal("PolicyInvalid", e.ErrorId);
        Assert.Contains("uplicate", e.Problem, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("@{ SensitiveFrom = 'Secret' }", "Public, General, Confidential, HighlyConfidential")]
    [InlineData("@{ SensitiveFrom = '2' }", "Public")]
    [InlineData("@{ SensitiveFrom = 'Public,General' }", "Public")]
    [InlineData("@{ SensitiveFrom = '' }", "Public")]
    [InlineData("@{ SensitiveFrom = 2 }", "in quotes")]
    [InlineData("@{ SensitiveFrom = $true }", "in quotes")]
    [InlineData("@{ SensitiveFrom = 'Public', 'General' }", "in quotes")]
    [InlineData("@{ SensitiveFrom = @{} }", "in quotes")]
    [InlineData("@{ HardDeny = @{ AG002 = 'None' } }", "Low, Medium, High, Critical, Never")]
    [InlineData("@{ HardDeny = @{ AG002 = 'Severe' } }", "Never")]
    [InlineData("@{ HardDeny = @{ AG002 = 3 } }", "in quotes")]
    [InlineData("@{ HardDeny = @{ AG002 = $true } }", "in quotes")]
    [InlineData("@{ HardDeny = 'AG002' }", "hashtable")]
    [InlineData("@{ Rules = 'AG002' }", "hashtable")]
    [InlineData("@{ Rules = @{ AG002 = $false } }", "hashtable")]
    [InlineData("@{ Rules = @{ AG002 = @{ Enabled = 'false' } } }", "$true or $false")]
    [InlineData("@{ Rules = @{ AG002 = @{ Enabled = 0 } } }", "$true or $false")]
    [InlineData("@{ Rules = @{ AG002 = @{ PercentOfEnabledUsers = '10' } } }", "whole number")]
    [InlineData("@{ Rules = @{ AG002 = @{ PercentOfEnabledUsers = 10.5 } } }", "not a whole number")]
    [InlineData("@{ Rules = @{ AG002 = @{ PercentOfEnabledUsers = 10d } } }", "not a whole number")]
    [InlineData("@{ Rules = @{ AG002 = @{ PercentOfEnabledUsers = 1e1 } } }", "not a whole number")]
    [InlineData("@{ Rules = @{ AG002 = @{ PercentOfEnabledUsers = $true } } }", "whole number")]
    [InlineData("@{ Rules = @{ AG002 = @{ PercentOfEnabledUsers = 10, 20 } } }", "whole number")]
    [InlineData("@{ RequiredApprovals = 2 }", "hashtable")]
    [InlineData("@{ RequiredApprovals = @{ High = '2' } }", "whole number")]
    [InlineData("@{ AgentIdentities = 5 }", "in quotes")]
    [InlineData("@{ AgentIdentities = 'a', 5 }", "in quotes")]
    [InlineData("@{ AgentIdentities = @{ a = 'b' } }", "in quotes")]
    [InlineData("@{ AgentIdentities = @('a', @('b', 'c')) }", "in quotes")]
    [InlineData("@{ AgentIdentities = '' }", "empty")]
    [InlineData("@{ AgentIdentities = ' sp-helper' }", "spaces")]
    [InlineData("@{ AgentIdentities = 'sp-helper', 'SP-Helper' }", "twice")]
    public void WrongTypesAndValues_AreErrors(string text, string expectedInProblem)
    {
        var e = Assert.Throws<DocumentException>(() => PolicyReader.Parse(text));
        Assert.Equal("PolicyInvalid", e.ErrorId);
        Assert.Contains(expectedInProblem, e.Problem);
    }

    [Theory]
    [InlineData("Rules = @{ AG002 = @{ PercentOfEnabledUsers = 0 } }")]
    [InlineData("Rules = @{ AG002 = @{ PercentOfEnabledUsers = 101 } }")]
    [InlineData("Rules = @{ AG002 = @{ PercentOfEnabledUsers = -5 } }")]
    [InlineData("Rules = @{ AG003 = @{ Threshold = 0 } }")]
    [InlineData("Rules = @{ AG003 = @{ Threshold = -1 } }")]
    [InlineData("Rules = @{ AG003 = @{ Threshold = 2147483648 } }")]
    [InlineData("Rules = @{ AG003 = @{ Threshold = 99999999999999999999999 } }")]
    [InlineData("Rules = @{ AG005 = @{ CriticalAbove = 0 } }")]
    [InlineData("RequiredApprovals = @{ None = 0 }")]
    [InlineData("RequiredApprovals = @{ Critical = 21 }")]
    [InlineData("RequiredApprovals = @{ Low = -1 }")]
    public void OutOfRange_IsAnError(string body)
    {
        var e = Assert.Throws<DocumentException>(() => PolicyReader.Parse($"@{{ {body} }}"));
        Assert.Equal("PolicyInvalid", e.ErrorId);
        Assert.Contains("out of range", e.Problem);
    }

    [Theory]
    [InlineData("@{ RequiredApprovals = @{ Medium = 3 } }", "High needs 2")]
    [InlineData("@{ RequiredApprovals = @{ Critical = 1 } }", "Critical needs 1")]
    [InlineData("@{ RequiredApprovals = @{ None = 2 } }", "Low needs 1")]
    [InlineData("@{ RequiredApprovals = @{ High = 5; Critical = 4 } }", "Critical needs 4")]
    public void RequiredApprovals_MustNotFallAsRiskRises(string text, string expected)
    {
        var e = Assert.Throws<DocumentException>(() => PolicyReader.Parse(text));
        Assert.Equal("PolicyInvalid", e.ErrorId);
        Assert.Contains(expected, e.Problem);
        Assert.Contains("never need fewer", e.Problem);
        Assert.StartsWith("RequiredApprovals.", e.Field);
    }

    [Fact]
    public void DisablingAHardDeniedRule_IsAnError_UnlessTheHardDenyIsRemovedToo()
    {
        var e = Assert.Throws<DocumentException>(() => PolicyReader.Parse("@{\n  Rules = @{ AG001 = @{ Enabled = $false } }\n}"));
        Assert.Equal("Rules.AG001.Enabled", e.Field);
        Assert.Equal(2, e.Line);
        Assert.Contains("'Never'", e.Problem);

        e = Assert.Throws<DocumentException>(() => PolicyReader.Parse("@{ Rules = @{ AG008 = @{ Enabled = $false } }; HardDeny = @{ AG008 = 'High' } }"));
        Assert.Equal("Rules.AG008.Enabled", e.Field);

        var p = PolicyReader.Parse("@{ Rules = @{ AG001 = @{ Enabled = $false } }; HardDeny = @{ AG001 = 'Never' } }");
        Assert.False(p.IsRuleEnabled("AG001"));
        Assert.Null(p.HardDenyAt("AG001"));
    }

    [Theory]
    [InlineData("@{ SensitiveFrom = 'Public' ")]
    [InlineData("@{ SensitiveFrom = }")]
    [InlineData("@{ SensitiveFrom 'Public' }")]
    [InlineData("@{ SensitiveFrom = 'Public }")]
    [InlineData("@{ = 'Public' }")]
    [InlineData("}")]
    [InlineData("@{ AgentIdentities = @('a', ) }")]
    [InlineData("@{ AgentIdentities = @'\nx\n }")]
    public void SyntaxErrors_ArePolicyInvalid_WithAPosition(string text)
    {
        var e = Assert.Throws<DocumentException>(() => PolicyReader.Parse(text, "s.psd1"));
        Assert.Equal("PolicyInvalid", e.ErrorId);
        Assert.True(e.Line > 0);
        Assert.True(e.Column > 0);
    }

    [Fact]
    public void SyntaxError_InsideANestedTable_NamesItsKeyPath()
    {
        var e = Assert.Throws<DocumentException>(() => PolicyReader.Parse("@{\n  Rules = @{\n    AG003 = @{ Threshold = }\n  }\n}"));
        Assert.Equal("PolicyInvalid", e.ErrorId);
        Assert.Equal(3, e.Line);
        Assert.Equal("Rules.AG003", e.Field?.Substring(0, Math.Min(11, e.Field.Length)));
        Assert.Contains("syntax", e.Problem);
    }

    [Fact]
    public void DeepNesting_IsRejected_NotAStackOverflow()
    {
        var text = "@{ AgentIdentities = " + string.Concat(Enumerable.Repeat("@{ a = ", 200)) + "1" + new string('}', 200) + " }";
        var e = Assert.Throws<DocumentException>(() => PolicyReader.Parse(text));
        Assert.Equal("PolicyInvalid", e.ErrorId);
    }

    // ---- immutability -------------------------------------------------------------------------

    [Fact]
    public void Collections_CannotBeChangedThroughTheInterfaces()
    {
        var p = PolicyReader.Parse("@{ AgentIdentities = 'a'; Rules = @{ AG004 = @{ Enabled = $false } } }");
        Assert.Throws<NotSupportedException>(() => ((IList<string>)p.AgentIdentities).Add("b"));
        Assert.Throws<NotSupportedException>(() => ((IList<string>)p.DisabledRules).Clear());
        Assert.Throws<NotSupportedException>(() => ((IDictionary<string, RiskLevel>)p.HardDeny).Remove("AG001"));
        Assert.Throws<NotSupportedException>(() => ((IList<string>)GovernancePolicy.KnownRuleIds).Add("AG011"));
    }

    [Fact]
    public void ParsingDoesNotChangeDefault()
    {
        PolicyReader.Parse("@{ SensitiveFrom = 'Public'; HardDeny = @{ AG001 = 'Never'; AG002 = 'Low' }; RequiredApprovals = @{ Critical = 9 } }");
        AssertSameSettings(PolicyReader.Parse(AllDefaultsText), GovernancePolicy.Default);
        Assert.Equal(RiskLevel.Critical, GovernancePolicy.Default.HardDenyAt("AG001"));
        Assert.Equal(2, GovernancePolicy.Default.RequiredApprovals(RiskLevel.Critical));
    }

    // ---- helpers ------------------------------------------------------------------------------

    private const string AllDefaultsText = @"@{
    SensitiveFrom     = 'Confidential'
    Rules = @{
        AG001 = @{ Enabled = $true }
        AG002 = @{ Enabled = $true; PercentOfEnabledUsers = 10 }
        AG003 = @{ Enabled = $true; Threshold = 50 }
        AG004 = @{ Enabled = $true }
        AG005 = @{ Enabled = $true; CriticalAbove = 50 }
        AG006 = @{ Enabled = $true }
        AG007 = @{ Enabled = $true }
        AG008 = @{ Enabled = $true }
        AG009 = @{ Enabled = $true }
        AG010 = @{ Enabled = $true }
    }
    HardDeny          = @{ AG001 = 'Critical' }
    RequiredApprovals = @{ None = 1; Low = 1; Medium = 1; High = 2; Critical = 2 }
    AgentIdentities   = @()
    IncompleteCoverageRisk = 'High'
}";

    private static int[] AllApprovals(GovernancePolicy p) =>
        Enum.GetValues(typeof(RiskLevel)).Cast<RiskLevel>().Select(p.RequiredApprovals).ToArray();

    private static void AssertSameSettings(GovernancePolicy expected, GovernancePolicy actual, bool ignoreAgents = false)
    {
        Assert.Equal(expected.SensitiveFrom, actual.SensitiveFrom);
        Assert.Equal(expected.BroadAudiencePercent, actual.BroadAudiencePercent);
        Assert.Equal(expected.ManyPrincipalsThreshold, actual.ManyPrincipalsThreshold);
        Assert.Equal(expected.PersonalDataCriticalAbove, actual.PersonalDataCriticalAbove);
        Assert.Equal(expected.DisabledRules, actual.DisabledRules);
        Assert.Equal(expected.HardDeny.ToArray(), actual.HardDeny.ToArray());
        Assert.Equal(AllApprovals(expected), AllApprovals(actual));
        Assert.Equal(expected.IncompleteCoverageRisk, actual.IncompleteCoverageRisk);
        if (!ignoreAgents) Assert.Equal(expected.Fingerprint, actual.Fingerprint);
        foreach (var id in GovernancePolicy.KnownRuleIds)
        {
            Assert.Equal(expected.IsRuleEnabled(id), actual.IsRuleEnabled(id));
            Assert.Equal(expected.HardDenyAt(id), actual.HardDenyAt(id));
        }

        if (!ignoreAgents)
        {
            Assert.Equal(expected.AgentIdentities, actual.AgentIdentities);
        }
    }

    private string Write(string name, string text)
    {
        var path = Path.Combine(_folder, name);
        File.WriteAllText(path, text);
        return path;
    }

    private static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "AgentGovernance.slnx")))
        {
            dir = dir.Parent;
        }

        // The scratch build runs outside the repository; the file is compiled from the repository itself.
        return dir?.FullName ?? Path.GetFullPath(Path.Combine(Path.GetDirectoryName(ThisFile())!, "..", ".."));
    }

    private static string ThisFile([System.Runtime.CompilerServices.CallerFilePath] string path = "") => path;

    private static IEnumerable<string> FencedBlocks(string markdown, string language)
    {
        var lines = markdown.Replace("\r\n", "\n").Split('\n');
        var inBlock = false;
        var block = new List<string>();
        foreach (var line in lines)
        {
            if (!inBlock && line.TrimStart().StartsWith("```" + language, StringComparison.Ordinal))
            {
                inBlock = true;
                block.Clear();
            }
            else if (inBlock && line.TrimStart().StartsWith("```", StringComparison.Ordinal))
            {
                inBlock = false;
                yield return string.Join("\n", block);
            }
            else if (inBlock)
            {
                block.Add(line);
            }
        }
    }
}
