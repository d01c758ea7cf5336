using System.Management.Automation;
using System.Text.RegularExpressions;
using AgentGovernance.Tests.Support;

namespace AgentGovernance.Tests;

/// <summary>
/// Keeps docs/cmdlets in step with the code: every exported cmdlet has a platyPS-style page whose
/// syntax, parameter headings and parameter metadata (sets, required, position, pipeline input,
/// aliases, accepted values, wildcards, type) match what PowerShell itself reports for the built
/// module (Get-Command in a real runspace).
/// </summary>
public sealed class DocsTests
{
    private static readonly string DocsFolder = Path.Combine(Repo.Root, "docs", "cmdlets");

    private static readonly string[] Sections =
        { "SYNOPSIS", "SYNTAX", "DESCRIPTION", "EXAMPLES", "PARAMETERS", "INPUTS", "OUTPUTS", "NOTES", "RELATED LINKS" };

    private static readonly string[] YamlKeys =
    {
        "Type", "Parameter Sets", "Aliases", "Required", "Position", "Default value", "Accept pipeline input", "Accept wildcard characters",
    };

    public static TheoryData<string> CmdletNames()
    {
        var data = new TheoryData<string>();
        foreach (var name in ModuleMetadata.Cmdlets.Keys.OrderBy(n => n, StringComparer.Ordinal))
        {
            data.Add(name);
        }

        return data;
    }

    [Fact]
    public void EveryExportedCmdletHasAPageAndEveryPageACmdlet()
    {
        Assert.NotEmpty(ModuleMetadata.Cmdlets);
        var pages = System.IO.Directory.GetFiles(DocsFolder, "*.md")
            .Select(Path.GetFileNameWithoutExtension)
            .Where(n => !n!.StartsWith("about_", StringComparison.Ordinal))
            .ToHashSet(StringComparer.Ordinal);
        var cmdlets = ModuleMetadata.Cmdlets.Keys.ToHashSet(StringComparer.Ordinal);

        Assert.True(cmdlets.IsSubsetOf(pages!), "No page in docs/cmdlets for: " + string.Join(", ", cmdlets.Except(pages!)));
        Assert.True(pages!.IsSubsetOf(cmdlets), "Pages for cmdlets the module does not export: " + string.Join(", ", pages!.Except(cmdlets)));
    }

    [Fact]
    public void AboutTopicExistsAndCoversTheModule()
    {
        var path = Path.Combine(DocsFolder, "about_AgentGovernance.md");
        Assert.True(File.Exists(path), "docs/cmdlets/about_AgentGovernance.md is missing.");
        var page = MarkdownPage.Read(path);
        Assert.Equal("about_AgentGovernance", page.Title);
        var h2 = page.Sections.Where(s => s.Level == 2).Select(s => s.Heading).ToList();
        Assert.Contains("SHORT DESCRIPTION", h2);
        Assert.Contains("LONG DESCRIPTION", h2);

        var text = File.ReadAllText(path);
        var missing = ModuleMetadata.Cmdlets.Keys
            .Concat(Enumerable.Range(1, 10).Select(i => $"AG{i:000}"))
            .Concat(Enumerable.Range(1, 9).Select(i => $"S{i}"))
            .Where(word => !Regex.IsMatch(text, @"(?<![\w-])" + Regex.Escape(word) + @"(?![\w-])"))
            .ToList();
        Assert.True(missing.Count == 0, "about_AgentGovernance.md does not mention: " + string.Join(", ", missing));
    }

    [Theory]
    [MemberData(nameof(CmdletNames))]
    public void PageMatchesTheCmdletsMetadata(string name)
    {
        var cmdlet = ModuleMetadata.Cmdlets[name];
        var path = Path.Combine(DocsFolder, name + ".md");
        Assert.True(File.Exists(path), $"docs/cmdlets/{name}.md is missing.");
        var page = MarkdownPage.Read(path);
        var problems = new List<string>();

        CheckFrontMatter(page, problems);
        if (page.Title != name)
        {
            problems.Add($"The title is '# {page.Title}', expected '# {name}'.");
        }

        var h2 = page.Sections.Where(s => s.Level == 2).Select(s => s.Heading).ToList();
        if (!h2.SequenceEqual(Sections))
        {
            problems.Add($"The ## sections are [{string.Join(", ", h2)}], expected [{string.Join(", ", Sections)}] in that order.");
        }

        foreach (var section in new[] { "SYNOPSIS", "DESCRIPTION", "NOTES", "RELATED LINKS" })
        {
            if (page.Under(section).All(s => s.Text.Count == 0))
            {
                problems.Add($"## {section} is empty.");
            }
        }

        if (!page.Under("EXAMPLES").Any(s => s.Level == 3 && s.Heading.StartsWith("Example", StringComparison.Ordinal) && s.Blocks.Count > 0))
        {
            problems.Add("## EXAMPLES has no '### Example ...' with a code block.");
        }

        CheckSyntax(cmdlet, page, problems);
        CheckParameters(cmdlet, page, problems);
        CheckInputsAndOutputs(cmdlet, page, problems);

        Assert.True(problems.Count == 0, $"docs/cmdlets/{name}.md is out of step with the cmdlet:{Environment.NewLine}  " + string.Join(Environment.NewLine + "  ", problems));
    }

    private static void CheckFrontMatter(MarkdownPage page, List<string> problems)
    {
        var expected = new Dictionary<string, string?>
        {
            ["external help file"] = "AgentGovernance.dll-Help.xml",
            ["Module Name"] = "AgentGovernance",
            ["online version"] = null,
            ["schema"] = "2.0.0",
        };
        foreach (var (key, value) in expected)
        {
            if (!page.FrontMatter.TryGetValue(key, out var actual))
            {
                problems.Add($"The front matter has no '{key}:'.");
            }
            else if (value is not null && actual != value)
            {
                problems.Add($"The front matter says '{key}: {actual}', expected '{value}'.");
            }
        }
    }

    private static void CheckSyntax(CmdletMeta cmdlet, MarkdownPage page, List<string> problems)
    {
        var syntax = page.Under("SYNTAX").ToList();
        if (cmdlet.Sets.Count == 1)
        {
            var blocks = syntax.SelectMany(s => s.Blocks).ToList();
            if (blocks.Count != 1 || blocks[0].Content != cmdlet.Sets[0].Syntax)
            {
                problems.Add($"## SYNTAX should be one code block: {cmdlet.Sets[0].Syntax}");
            }

            return;
        }

        var headings = syntax.Where(s => s.Level == 3).ToList();
        var expectedHeadings = cmdlet.Sets.Select(s => s.IsDefault ? s.Name + " (Default)" : s.Name).ToList();
        if (!headings.Select(h => h.Heading).OrderBy(h => h, StringComparer.Ordinal).SequenceEqual(expectedHeadings.OrderBy(h => h, StringComparer.Ordinal)))
        {
            problems.Add($"## SYNTAX has ### [{string.Join(", ", headings.Select(h => h.Heading))}], expected one per parameter set: [{string.Join(", ", expectedHeadings)}].");
        }

        foreach (var set in cmdlet.Sets)
        {
            var section = headings.FirstOrDefault(h => h.Heading == set.Name || h.Heading == set.Name + " (Default)");
            if (section is not null && (section.Blocks.Count != 1 || section.Blocks[0].Content != set.Syntax))
            {
                problems.Add($"### {section.Heading} under ## SYNTAX should be one code block: {set.Syntax}");
            }
        }
    }

    private static void CheckParameters(CmdletMeta cmdlet, MarkdownPage page, List<string> problems)
    {
        var sections = page.Under("PARAMETERS").Where(s => s.Level == 3).ToList();
        if (!sections.Any(s => s.Heading == "CommonParameters"))
        {
            problems.Add("## PARAMETERS has no '### CommonParameters'.");
        }

        var documented = sections.Where(s => s.Heading.StartsWith("-", StringComparison.Ordinal)).ToList();
        var names = documented.Select(s => s.Heading.Substring(1)).ToList();
        foreach (var duplicate in names.GroupBy(n => n, StringComparer.Ordinal).Where(g => g.Count() > 1))
        {
            problems.Add($"### -{duplicate.Key} appears {duplicate.Count()} times.");
        }

        foreach (var missing in cmdlet.Parameters.Keys.Except(names, StringComparer.Ordinal))
        {
            problems.Add($"The parameter -{missing} has no '### -{missing}' section.");
        }

        foreach (var extra in names.Except(cmdlet.Parameters.Keys, StringComparer.Ordinal))
        {
            problems.Add($"'### -{extra}' documents a parameter the cmdlet does not have.");
        }

        foreach (var section in documented)
        {
            if (cmdlet.Parameters.TryGetValue(section.Heading.Substring(1), out var parameter))
            {
                CheckParameter(parameter, section, problems);
            }
        }
    }

    private static void CheckParameter(ParameterMeta parameter, MarkdownSection section, List<string> problems)
    {
        var where = "### -" + parameter.Name;
        if (section.Text.Count == 0)
        {
            problems.Add($"{where} has no description.");
        }

        var blocks = section.Blocks.Where(b => b.Language == "yaml").Select(b => ParseYaml(b.Lines)).ToList();
        if (blocks.Count == 0)
        {
            problems.Add($"{where} has no ```yaml block.");
            return;
        }

        var seenSets = new List<string>();
        foreach (var yaml in blocks)
        {
            foreach (var key in YamlKeys.Where(k => !yaml.ContainsKey(k)))
            {
                problems.Add($"{where}: the yaml block has no '{key}:'.");
            }

            Expect(where, "Type", yaml, parameter.TypeName, problems);
            ExpectSet(where, "Aliases", yaml, parameter.Aliases, problems);
            if (parameter.AcceptedValues.Count > 0 || yaml.ContainsKey("Accepted values"))
            {
                ExpectSet(where, "Accepted values", yaml, parameter.AcceptedValues, problems);
            }

            Expect(where, "Accept wildcard characters", yaml, parameter.SupportsWildcards ? "True" : "False", problems);

            var sets = Split(yaml.GetValueOrDefault("Parameter Sets") ?? string.Empty)
                .Select(s => s == "(All)" ? ParameterAttribute.AllParameterSets : s).ToList();
            seenSets.AddRange(sets);
            foreach (var set in sets)
            {
                if (!parameter.Sets.TryGetValue(set, out var meta))
                {
                    continue;
                }

                var label = $"{where} (set {Display(set)})";
                Expect(label, "Required", yaml, meta.Mandatory ? "True" : "False", problems);
                Expect(label, "Position", yaml, meta.Position == int.MinValue ? "Named" : meta.Position.ToString(System.Globalization.CultureInfo.InvariantCulture), problems);
                if (yaml.TryGetValue("Accept pipeline input", out var pipeline))
                {
                    var (ok, byValue, byName) = ParsePipeline(pipeline);
                    if (!ok || byValue != meta.ByValue || byName != meta.ByPropertyName)
                    {
                        problems.Add($"{label}: 'Accept pipeline input: {pipeline}', expected '{PipelineText(meta.ByValue, meta.ByPropertyName)}'.");
                    }
                }
            }
        }

        var expectedSets = parameter.Sets.Keys.Select(Display).OrderBy(s => s, StringComparer.Ordinal).ToList();
        var actualSets = seenSets.Select(Display).OrderBy(s => s, StringComparer.Ordinal).ToList();
        if (!actualSets.SequenceEqual(expectedSets))
        {
            problems.Add($"{where}: 'Parameter Sets' name [{string.Join(", ", actualSets)}] over its yaml blocks, expected each of [{string.Join(", ", expectedSets)}] exactly once.");
        }
    }

    private static void CheckInputsAndOutputs(CmdletMeta cmdlet, MarkdownPage page, List<string> problems)
    {
        var inputs = page.Under("INPUTS").Where(s => s.Level == 3).Select(s => s.Heading).ToList();
        var pipelineTypes = cmdlet.Parameters.Values
            .Where(p => p.Sets.Values.Any(s => s.ByValue || s.ByPropertyName))
            .Select(p => p.TypeFullName)
            .Distinct()
            .ToList();
        foreach (var type in pipelineTypes.Where(t => !inputs.Contains(t)))
        {
            problems.Add($"## INPUTS has no '### {type}', a type the cmdlet takes from the pipeline.");
        }

        if (pipelineTypes.Count == 0 && !inputs.Contains("None"))
        {
            problems.Add("## INPUTS should say '### None': the cmdlet takes no pipeline input.");
        }

        var outputs = page.Under("OUTPUTS").Where(s => s.Level == 3).Select(s => s.Heading).ToList();
        foreach (var type in cmdlet.OutputTypes.Where(t => !outputs.Contains(t)))
        {
            problems.Add($"## OUTPUTS has no '### {type}', a declared output type of the cmdlet.");
        }
    }

    private static void Expect(string where, string key, Dictionary<string, string> yaml, string expected, List<string> problems)
    {
        if (yaml.TryGetValue(key, out var actual) && actual != expected)
        {
            problems.Add($"{where}: '{key}: {actual}', expected '{expected}'.");
        }
    }

    private static void ExpectSet(string where, string key, Dictionary<string, string> yaml, IReadOnlyCollection<string> expected, List<string> problems)
    {
        if (!yaml.TryGetValue(key, out var actual))
        {
            problems.Add($"{where}: the yaml block has no '{key}:', expected '{string.Join(", ", expected)}'.");
            return;
        }

        if (!Split(actual).OrderBy(v => v, StringComparer.Ordinal).SequenceEqual(expected.OrderBy(v => v, StringComparer.Ordinal)))
        {
            problems.Add($"{where}: '{key}: {actual}', expected '{string.Join(", ", expected)}'.");
        }
    }

    private static string Display(string set) => set == ParameterAttribute.AllParameterSets ? "(All)" : set;

    private static List<string> Split(string value) =>
        value.Split(',').Select(v => v.Trim()).Where(v => v.Length > 0).ToList();

    private static Dictionary<string, string> ParseYaml(IEnumerable<string> lines)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in lines)
        {
            var colon = line.IndexOf(':');
            if (colon > 0)
            {
                map[line.Substring(0, colon).Trim()] = line.Substring(colon + 1).Trim();
            }
        }

        return map;
    }

    /// <summary>platyPS writes False, True (ByValue), True (ByPropertyName) or True (ByPropertyName, ByValue).</summary>
    private static (bool Ok, bool ByValue, bool ByName) ParsePipeline(string text)
    {
        if (text == "False")
        {
            return (true, false, false);
        }

        var m = Regex.Match(text, @"^True \(([^)]*)\)$");
        if (!m.Success)
        {
            return (false, false, false);
        }

        var kinds = Split(m.Groups[1].Value);
        var known = kinds.All(k => k is "ByValue" or "ByPropertyName") && kinds.Count > 0;
        return (known, kinds.Contains("ByValue"), kinds.Contains("ByPropertyName"));
    }

    private static string PipelineText(bool byValue, bool byName) => (byValue, byName) switch
    {
        (false, false) => "False",
        (true, false) => "True (ByValue)",
        (false, true) => "True (ByPropertyName)",
        _ => "True (ByPropertyName, ByValue)",
    };

    /// <summary>The metadata PowerShell reports for the module's cmdlets, read once from a real runspace.</summary>
    private static class ModuleMetadata
    {
        private static readonly Lazy<IReadOnlyDictionary<string, CmdletMeta>> All = new(Read);

        public static IReadOnlyDictionary<string, CmdletMeta> Cmdlets => All.Value;

        private static IReadOnlyDictionary<string, CmdletMeta> Read()
        {
            using var ps = new PowerShellHost();
            var result = new Dictionary<string, CmdletMeta>(StringComparer.Ordinal);
            foreach (var info in ps.RunClean("Get-Command -Module AgentGovernance -CommandType Cmdlet").Objects<CmdletInfo>())
            {
                // What Get-Command -Syntax prints, one line per parameter set.
                var syntax = ps.RunClean("Get-Command -Name $args[0] -Syntax", info.Name).Objects<string>()
                    .SelectMany(s => s.Split('\n'))
                    .Select(l => l.Trim())
                    .Where(l => l.Length > 0)
                    .ToList();
                var sets = info.ParameterSets.Select(s => new SetMeta(s.Name, s.IsDefault, info.Name + " " + s)).ToList();
                Assert.True(sets.Select(s => s.Syntax).SequenceEqual(syntax),
                    $"Get-Command -Syntax for {info.Name} does not list one line per parameter set: {string.Join(" | ", syntax)}");

                var parameters = new Dictionary<string, ParameterMeta>(StringComparer.Ordinal);
                foreach (var p in info.Parameters.Values)
                {
                    // Common parameters are documented once, under CommonParameters; -WhatIf and -Confirm
                    // are listed like any other parameter when the cmdlet supports ShouldProcess (as platyPS does).
                    if (Cmdlet.CommonParameters.Contains(p.Name) || p.Name == "UseTransaction")
                    {
                        continue;
                    }

                    var validateSet = p.Attributes.OfType<ValidateSetAttribute>().FirstOrDefault();
                    parameters[p.Name] = new ParameterMeta(
                        p.Name,
                        p.ParameterType.Name,
                        p.ParameterType.FullName!,
                        p.Aliases.ToList(),
                        validateSet?.ValidValues.ToList() ?? new List<string>(),
                        p.Attributes.OfType<SupportsWildcardsAttribute>().Any(),
                        p.ParameterSets.ToDictionary(
                            s => s.Key,
                            s => new ParameterSetMeta(s.Value.IsMandatory, s.Value.Position, s.Value.ValueFromPipeline, s.Value.ValueFromPipelineByPropertyName),
                            StringComparer.Ordinal));
                }

                result[info.Name] = new CmdletMeta(info.Name, sets, parameters, info.OutputType.Select(t => t.Name).ToList());
            }

            return result;
        }
    }

    private sealed record CmdletMeta(string Name, IReadOnlyList<SetMeta> Sets, IReadOnlyDictionary<string, ParameterMeta> Parameters, IReadOnlyList<string> OutputTypes);

    private sealed record SetMeta(string Name, bool IsDefault, string Syntax);

    private sealed record ParameterMeta(
        string Name,
        string TypeName,
        string TypeFullName,
        IReadOnlyCollection<string> Aliases,
        IReadOnlyCollection<string> AcceptedValues,
        bool SupportsWildcards,
        IReadOnlyDictionary<string, ParameterSetMeta> Sets);

    private sealed record ParameterSetMeta(bool Mandatory, int Position, bool ByValue, bool ByPropertyName);

    /// <summary>A code block of a markdown page: its language and lines.</summary>
    private sealed record CodeBlock(string Language, IReadOnlyList<string> Lines)
    {
        public string Content => string.Join("\n", Lines).Trim();
    }

    /// <summary>A heading and what follows it up to the next heading: prose lines and code blocks.</summary>
    private sealed class MarkdownSection
    {
        public MarkdownSection(int level, string heading)
        {
            Level = level;
            Heading = heading;
        }

        public int Level { get; }

        public string Heading { get; }

        /// <summary>Non-blank lines outside code blocks.</summary>
        public List<string> Text { get; } = new();

        public List<CodeBlock> Blocks { get; } = new();
    }

    /// <summary>Just enough of a markdown reader for platyPS pages: front matter, headings, fenced code blocks.</summary>
    private sealed class MarkdownPage
    {
        private MarkdownPage(Dictionary<string, string> frontMatter, string? title, List<MarkdownSection> sections)
        {
            FrontMatter = frontMatter;
            Title = title;
            Sections = sections;
        }

        public Dictionary<string, string> FrontMatter { get; }

        public string? Title { get; }

        public List<MarkdownSection> Sections { get; }

        /// <summary>The ## section with this heading and the ### sections under it.</summary>
        public IEnumerable<MarkdownSection> Under(string h2)
        {
            var start = Sections.FindIndex(s => s.Level == 2 && s.Heading == h2);
            if (start < 0)
            {
                yield break;
            }

            yield return Sections[start];
            for (var i = start + 1; i < Sections.Count && Sections[i].Level > 2; i++)
            {
                yield return Sections[i];
            }
        }

        public static MarkdownPage Read(string path)
        {
            var lines = File.ReadAllLines(path);
            var front = new Dictionary<string, string>(StringComparer.Ordinal);
            var i = 0;
            if (lines.Length > 0 && lines[0].Trim() == "---")
            {
                for (i = 1; i < lines.Length && lines[i].Trim() != "---"; i++)
                {
                    var colon = lines[i].IndexOf(':');
                    if (colon > 0)
                    {
                        front[lines[i].Substring(0, colon).Trim()] = lines[i].Substring(colon + 1).Trim();
                    }
                }

                i++;
            }

            string? title = null;
            var sections = new List<MarkdownSection>();
            var current = new MarkdownSection(0, string.Empty);
            List<string>? block = null;
            var language = string.Empty;
            for (; i < lines.Length; i++)
            {
                var line = lines[i];
                if (line.TrimStart().StartsWith("```", StringComparison.Ordinal))
                {
                    if (block is null)
                    {
                        block = new List<string>();
                        language = line.Trim().Substring(3).Trim();
                    }
                    else
                    {
                        current.Blocks.Add(new CodeBlock(language, block));
                        block = null;
                    }

                    continue;
                }

                if (block is not null)
                {
                    block.Add(line);
                    continue;
                }

                var heading = Regex.Match(line, @"^(#{1,6})\s+(.*?)\s*$");
                if (heading.Success)
                {
                    var level = heading.Groups[1].Length;
                    if (level == 1)
                    {
                        title ??= heading.Groups[2].Value;
                        continue;
                    }

                    current = new MarkdownSection(level, heading.Groups[2].Value);
                    sections.Add(current);
                    continue;
                }

                if (line.Trim().Length > 0)
                {
                    current.Text.Add(line.Trim());
                }
            }

            return new MarkdownPage(front, title, sections);
        }
    }
}
