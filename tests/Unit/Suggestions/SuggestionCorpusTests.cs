using System.Text;
using System.Text.Json;
using AgentGovernance.Changes;
using AgentGovernance.Exposure;
using AgentGovernance.Json;
using AgentGovernance.Suggestions;
using AgentGovernance.Tests.Support;

namespace AgentGovernance.Tests.Suggestions;

/// <summary>
/// Drives the corpus in tests/corpus/suggestions through ConvertFrom-AgentSuggestion in a real
/// runspace, on the demo tenant. answers/ holds realistic agent answers, each with the operations it
/// must map to (name.expected.json); adversarial/ holds answers that must be refused, each with the
/// exact findings (ErrorId, kind, line, column) it must produce and no change.
/// </summary>
public sealed class SuggestionCorpusTests : CmdletTestBase
{
    private const string Cmd = "ConvertFromAgentSuggestionCommand";

    private static readonly string Corpus = Path.Combine(Repo.Root, "tests", "corpus", "suggestions");

    public SuggestionCorpusTests(HostFixture fixture)
        : base(fixture)
    {
    }

    public static TheoryData<string> Answers() => Files("answers");

    public static TheoryData<string> Adversarial() => Files("adversarial");

    private static TheoryData<string> Files(string folder)
    {
        var data = new TheoryData<string>();
        foreach (var file in Inputs(folder))
        {
            data.Add(Path.GetFileName(file));
        }

        return data;
    }

    private static IEnumerable<string> Inputs(string folder) =>
        System.IO.Directory.GetFiles(Path.Combine(Corpus, folder)).Where(f => !f.EndsWith(".expected.json", StringComparison.Ordinal)).OrderBy(f => f, StringComparer.Ordinal);

    private static string ExpectedPath(string file) =>
        Path.Combine(Path.GetDirectoryName(file)!, Path.GetFileNameWithoutExtension(file) + ".expected.json");

    private RunResult Convert(string file) => Ps.Run(
        "$s = Import-AccessSnapshot -LiteralPath $args[1]\n" +
        "ConvertFrom-AgentSuggestion -LiteralPath $args[0] -Snapshot $s -SuggestedBy 'Helpdesk Copilot' -RequestedBy bob@contoso.com -WarningAction SilentlyContinue",
        file, Repo.DemoSnapshot);

    [Theory]
    [MemberData(nameof(Answers))]
    public void AnAnswerMapsToItsExpectedOperations(string name)
    {
        var file = Path.Combine(Corpus, "answers", name);
        using var expected = JsonDocument.Parse(File.ReadAllText(ExpectedPath(file)));

        var result = Convert(file);

        Assert.True(result.Errors.Count == 0, name + ": " + string.Join(Environment.NewLine, result.Errors.Select(e => e.ToString())));
        var change = result.Single<AccessChange>();
        var wanted = ChangeReader.ParseOperations(Encoding.UTF8.GetBytes(expected.RootElement.GetProperty("operations").GetRawText()));
        Assert.Equal(wanted.Select(o => o.ToString()), change.Operations.Select(o => o.ToString()));
        var analysis = (SuggestionAnalysis)result.Output[0].Properties["Suggestion"].Value;
        Assert.Equal(expected.RootElement.GetProperty("format").GetString(), analysis.Format.ToString());
        Assert.Equal(expected.RootElement.GetProperty("approximate").GetBoolean(), analysis.IsApproximate);
        Assert.Empty(analysis.Findings);

        // Provenance: the text's hash (of the file's bytes) is part of the change, and so of its id.
        Assert.Equal(Hashing.Sha256Id(File.ReadAllBytes(file)), change.SuggestedBy!.TextHash);
        Assert.Equal("sp-helper", change.SuggestedBy.Id);
        Assert.Equal("bob@contoso.com", change.RequestedBy);
        Assert.Equal(file, change.Source);
    }

    [Theory]
    [MemberData(nameof(Answers))]
    public void AnAnswersChangeGoesDownThePipelineIntoTestExposureRisk(string name)
    {
        var file = Path.Combine(Corpus, "answers", name);

        var result = Ps.Run(
            "$s = Import-AccessSnapshot -LiteralPath $args[1]\n" +
            "ConvertFrom-AgentSuggestion -LiteralPath $args[0] -Snapshot $s -WarningAction SilentlyContinue | Test-ExposureRisk -Snapshot $s -WarningAction SilentlyContinue",
            file, Repo.DemoSnapshot);

        // A revocation of a grant the tenant does not hold is the one error a preview may give.
        Assert.True(result.Errors.All(e => e.FullyQualifiedErrorId.StartsWith("GrantNotFound,", StringComparison.Ordinal)), name + ": " + string.Join("; ", result.Errors));
        if (result.Errors.Count == 0)
        {
            Assert.IsType<ExposureReport>(Assert.Single(result.Output).BaseObject);
        }
    }

    [Theory]
    [MemberData(nameof(Adversarial))]
    public void AnAdversarialAnswerIsRefusedWithItsFindingsAndNoChange(string name)
    {
        var file = Path.Combine(Corpus, "adversarial", name);
        using var expected = JsonDocument.Parse(File.ReadAllText(ExpectedPath(file)));

        var result = Convert(file);

        Assert.Empty(result.Objects<AccessChange>());
        var refused = expected.RootElement.GetProperty("refused").EnumerateArray().Select(r =>
            $"{r.GetProperty("errorId").GetString()} {r.GetProperty("kind").GetString()} {r.GetProperty("line").GetInt32()}:{r.GetProperty("column").GetInt32()}").ToList();
        Assert.NotEmpty(refused);
        var actual = result.Errors.Select(e =>
        {
            var finding = Assert.IsType<SuggestionFinding>(e.TargetObject);
            Assert.Equal(finding.ErrorId + ",AgentGovernance.Commands." + Cmd, e.FullyQualifiedErrorId);
            Assert.Contains($"{finding.Line}:{finding.Column}", e.Exception.Message, StringComparison.Ordinal);
            Assert.Contains(name, e.Exception.Message, StringComparison.Ordinal);
            Assert.False(string.IsNullOrWhiteSpace(finding.Reason));
            return $"{finding.ErrorId} {finding.Kind} {finding.Line}:{finding.Column}";
        }).ToList();
        Assert.Equal(refused, actual);
    }

    /// <summary>
    /// -AllowPartial keeps what could be mapped: for most of these nothing can be, and they stay
    /// refused; where a command inside a refused one still maps (a script block given to Start-Job),
    /// the expectation names the partial operations, and the refusals become warnings.
    /// </summary>
    [Theory]
    [MemberData(nameof(Adversarial))]
    public void WithAllowPartialAnAdversarialAnswerKeepsOnlyWhatMaps(string name)
    {
        var file = Path.Combine(Corpus, "adversarial", name);
        using var expected = JsonDocument.Parse(File.ReadAllText(ExpectedPath(file)));
        var partial = expected.RootElement.TryGetProperty("partialOperations", out var p)
            ? ChangeReader.ParseOperations(Encoding.UTF8.GetBytes(p.GetRawText())).Select(o => o.ToString()).ToList()
            : new List<string>();

        var result = Ps.Run(
            "$s = Import-AccessSnapshot -LiteralPath $args[1]\nConvertFrom-AgentSuggestion -LiteralPath $args[0] -Snapshot $s -AllowPartial",
            file, Repo.DemoSnapshot);

        if (partial.Count == 0)
        {
            Assert.Empty(result.Objects<AccessChange>());
            Assert.NotEmpty(result.Errors);
            return;
        }

        Assert.Empty(result.Errors);
        Assert.Equal(partial, result.Single<AccessChange>().Operations.Select(o => o.ToString()));
        Assert.Contains(result.Warnings, w => w.StartsWith("Left out of the change (-AllowPartial): ", StringComparison.Ordinal));
    }

    [Fact]
    public void EveryInputHasItsExpectationAndEveryExpectationItsInput()
    {
        foreach (var folder in new[] { "answers", "adversarial" })
        {
            var all = System.IO.Directory.GetFiles(Path.Combine(Corpus, folder));
            var inputs = all.Where(f => !f.EndsWith(".expected.json", StringComparison.Ordinal)).ToList();
            var expectations = all.Where(f => f.EndsWith(".expected.json", StringComparison.Ordinal)).ToList();
            Assert.All(inputs, f => Assert.True(File.Exists(ExpectedPath(f)), f + " has no .expected.json"));
            Assert.Equal(inputs.Count, expectations.Count);
        }
    }

    /// <summary>The corpus covers each module family of the issue and the incident, and every kind of refusal.</summary>
    [Fact]
    public void TheCorpusCoversEveryFamilyAndEveryKindOfRefusal()
    {
        var answers = string.Join("\n", Inputs("answers").Select(File.ReadAllText));
        foreach (var command in new[]
        {
            "New-MgGroupMember", "New-MgGroupMemberByRef", "Remove-MgGroupMemberByRef", "Update-MgGroup", "New-MgRoleManagementDirectoryRoleAssignment",
            "New-MgServicePrincipalAppRoleAssignedTo", "New-MgSitePermission", "Invoke-MgGraphRequest", "Invoke-RestMethod", "Add-PnPGroupMember",
            "Set-PnPWebPermission", "Add-PnPSiteCollectionAdmin", "Add-PnPFileAnonymousSharingLink", "Add-PnPMicrosoft365GroupMember", "Add-TeamUser",
            "Set-Team", "Add-MailboxPermission", "Add-RecipientPermission", "Add-MailboxFolderPermission", "Add-AzureADGroupMember",
            "New-AzRoleAssignment", "Add-DistributionGroupMember", "```http", "User Data Exports",
        })
        {
            Assert.Contains(command, answers, StringComparison.Ordinal);
        }

        var kinds = Inputs("adversarial").SelectMany(f => JsonDocument.Parse(File.ReadAllText(ExpectedPath(f))).RootElement.GetProperty("refused").EnumerateArray())
            .Select(r => r.GetProperty("kind").GetString()).ToHashSet();
        Assert.Equal(Enum.GetNames(typeof(SuggestionFindingKind)).OrderBy(k => k), kinds.OrderBy(k => k));
        Assert.True(Inputs("answers").Count() >= 20 && Inputs("adversarial").Count() >= 20);
    }
}
