using System.Text.RegularExpressions;
using System.Xml;
using Markdig.Extensions.Tables;
using Markdig.Syntax;

namespace HelpBuilder;

/// <summary>A parameter as its page's PARAMETERS section describes it.</summary>
internal sealed record ParameterDoc(string Name, IReadOnlyList<string> Description, IReadOnlyDictionary<string, string> Yaml)
{
    public string Type => Yaml.TryGetValue("Type", out var t) && t.Length > 0 ? t : "Object";

    public string Value(string key, string fallback) => Yaml.TryGetValue(key, out var v) && v.Length > 0 ? v : fallback;
}

/// <summary>One parameter as it stands in one syntax line.</summary>
internal sealed record SyntaxParameter(string Name, string? ValueType, bool Required, bool Positional);

/// <summary>Writes MAML (the help format Get-Help reads for binary cmdlets) from platyPS-style pages.</summary>
internal static class Maml
{
    private const string Msh = "http://msh";
    private const string MamlNs = "http://schemas.microsoft.com/maml/2004/10";
    private const string CommandNs = "http://schemas.microsoft.com/maml/dev/command/2004/10";
    private const string DevNs = "http://schemas.microsoft.com/maml/dev/2004/10";

    // [[-Name] <type>]   [-Name] <type>   [-Name <type>]   [-Name]   -Name <type>   -Name
    private static readonly Regex SyntaxToken = new(
        @"\[\[-(?<opos>\w+)\]\s+<(?<opostype>[^>]+)>\]|\[-(?<rpos>\w+)\]\s+<(?<rpostype>[^>]+)>|\[-(?<onamed>\w+)\s+<(?<onamedtype>[^>]+)>\]|\[-(?<oswitch>\w+)\]|(?<![\w\[])-(?<rnamed>\w+)\s+<(?<rnamedtype>[^>]+)>|(?<![\w\[])-(?<rswitch>\w+)",
        RegexOptions.CultureInvariant);

    public static void Write(IReadOnlyList<Page> pages, string path)
    {
        var settings = new XmlWriterSettings { Indent = true, Encoding = new System.Text.UTF8Encoding(false) };
        using var w = XmlWriter.Create(path, settings);
        w.WriteStartDocument();
        w.WriteStartElement("helpItems", Msh);
        w.WriteAttributeString("schema", "maml");
        foreach (var page in pages)
        {
            Command(w, page);
        }

        w.WriteEndElement();
        w.WriteEndDocument();
    }

    private static void Command(XmlWriter w, Page page)
    {
        var name = page.Title;
        var dash = name.IndexOf('-');
        if (dash <= 0)
        {
            throw new InvalidDataException($"{page.Path}: '{name}' is not a Verb-Noun cmdlet name.");
        }

        var parameters = Parameters(page);
        w.WriteStartElement("command", "command", CommandNs);
        w.WriteAttributeString("xmlns", "maml", null, MamlNs);
        w.WriteAttributeString("xmlns", "dev", null, DevNs);

        w.WriteStartElement("command", "details", CommandNs);
        w.WriteElementString("command", "name", CommandNs, name);
        w.WriteElementString("command", "verb", CommandNs, name[..dash]);
        w.WriteElementString("command", "noun", CommandNs, name[(dash + 1)..]);
        Description(w, Paragraphs(Require(page, "SYNOPSIS").Blocks));
        w.WriteEndElement();

        Description(w, Paragraphs(Require(page, "DESCRIPTION")));

        w.WriteStartElement("command", "syntax", CommandNs);
        foreach (var line in SyntaxLines(page))
        {
            w.WriteStartElement("command", "syntaxItem", CommandNs);
            w.WriteElementString("maml", "name", MamlNs, name);
            foreach (var p in line)
            {
                var doc = parameters.GetValueOrDefault(p.Name)
                    ?? throw new InvalidDataException($"{page.Path}: the syntax names -{p.Name}, which PARAMETERS does not describe.");
                Parameter(w, doc, p.Required, p.ValueType);
            }

            w.WriteEndElement();
        }

        w.WriteEndElement();

        w.WriteStartElement("command", "parameters", CommandNs);
        foreach (var doc in parameters.Values)
        {
            Parameter(w, doc, doc.Value("Required", "False").StartsWith("True", StringComparison.OrdinalIgnoreCase), SwitchOrType(doc));
        }

        w.WriteEndElement();

        TypeList(w, "inputTypes", "inputType", page["INPUTS"]);
        TypeList(w, "returnValues", "returnValue", page["OUTPUTS"]);

        if (page["NOTES"] is { } notes)
        {
            w.WriteStartElement("maml", "alertSet", MamlNs);
            w.WriteStartElement("maml", "alert", MamlNs);
            foreach (var para in Paragraphs(notes))
            {
                w.WriteElementString("maml", "para", MamlNs, para);
            }

            w.WriteEndElement();
            w.WriteEndElement();
        }

        Examples(w, page);
        RelatedLinks(w, page["RELATED LINKS"]);
        w.WriteEndElement();
    }

    private static Section Require(Page page, string heading) =>
        page[heading] ?? throw new InvalidDataException($"{page.Path}: no '## {heading}' section.");

    private static string? SwitchOrType(ParameterDoc doc) => doc.Type == "SwitchParameter" ? null : doc.Type;

    private static void Description(XmlWriter w, IEnumerable<string> paragraphs)
    {
        w.WriteStartElement("maml", "description", MamlNs);
        foreach (var para in paragraphs)
        {
            w.WriteElementString("maml", "para", MamlNs, para);
        }

        w.WriteEndElement();
    }

    private static void Parameter(XmlWriter w, ParameterDoc doc, bool required, string? valueType)
    {
        var position = doc.Value("Position", "Named");
        w.WriteStartElement("command", "parameter", CommandNs);
        w.WriteAttributeString("required", required ? "true" : "false");
        w.WriteAttributeString("variableLength", doc.Type.EndsWith("[]", StringComparison.Ordinal) ? "true" : "false");
        w.WriteAttributeString("globbing", doc.Value("Accept wildcard characters", "False").StartsWith("True", StringComparison.OrdinalIgnoreCase) ? "true" : "false");
        w.WriteAttributeString("pipelineInput", doc.Value("Accept pipeline input", "False"));
        w.WriteAttributeString("position", position.Equals("Named", StringComparison.OrdinalIgnoreCase) ? "named" : position);
        w.WriteAttributeString("aliases", doc.Value("Aliases", "none"));
        w.WriteElementString("maml", "name", MamlNs, doc.Name);
        Description(w, doc.Description);
        if (valueType is not null)
        {
            w.WriteStartElement("command", "parameterValue", CommandNs);
            w.WriteAttributeString("required", "true");
            w.WriteAttributeString("variableLength", "false");
            w.WriteString(valueType);
            w.WriteEndElement();
        }

        w.WriteStartElement("dev", "type", DevNs);
        w.WriteElementString("maml", "name", MamlNs, doc.Type);
        w.WriteEndElement();
        w.WriteElementString("dev", "defaultValue", DevNs, doc.Value("Default value", "None"));
        w.WriteEndElement();
    }

    private static void TypeList(XmlWriter w, string list, string item, Section? section)
    {
        w.WriteStartElement("command", list, CommandNs);
        foreach (var type in section?.Children ?? Array.Empty<Section>())
        {
            w.WriteStartElement("command", item, CommandNs);
            w.WriteStartElement("dev", "type", DevNs);
            w.WriteElementString("maml", "name", MamlNs, type.Heading);
            w.WriteEndElement();
            Description(w, Paragraphs(type.Blocks));
            w.WriteEndElement();
        }

        w.WriteEndElement();
    }

    private static void Examples(XmlWriter w, Page page)
    {
        w.WriteStartElement("command", "examples", CommandNs);
        foreach (var example in Require(page, "EXAMPLES").Children)
        {
            var code = example.Blocks.OfType<FencedCodeBlock>().FirstOrDefault(IsPowerShell)
                ?? throw new InvalidDataException($"{page.Path}: '{example.Heading}' has no powershell code block.");
            w.WriteStartElement("command", "example", CommandNs);
            w.WriteElementString("maml", "title", MamlNs, $"-------------------------- {example.Heading} --------------------------");
            w.WriteElementString("dev", "code", DevNs, Text.Code(code));
            w.WriteStartElement("dev", "remarks", DevNs);
            foreach (var para in Paragraphs(example.Blocks.Where(b => !ReferenceEquals(b, code))))
            {
                w.WriteElementString("maml", "para", MamlNs, para);
            }

            w.WriteEndElement();
            w.WriteEndElement();
        }

        w.WriteEndElement();
    }

    private static void RelatedLinks(XmlWriter w, Section? section)
    {
        w.WriteStartElement("command", "relatedLinks", CommandNs);
        foreach (var item in section?.Blocks.OfType<ListBlock>().SelectMany(l => l.OfType<ListItemBlock>()) ?? Enumerable.Empty<ListItemBlock>())
        {
            var link = item.Descendants<Markdig.Syntax.Inlines.LinkInline>().FirstOrDefault();
            w.WriteStartElement("maml", "navigationLink", MamlNs);
            w.WriteElementString("maml", "linkText", MamlNs, link is null ? string.Join(" ", Paragraphs(item)) : Text.Inline(link));
            var url = link?.Url ?? string.Empty;
            w.WriteElementString("maml", "uri", MamlNs, url.StartsWith("http", StringComparison.OrdinalIgnoreCase) ? url : string.Empty);
            w.WriteEndElement();
        }

        w.WriteEndElement();
    }

    public static bool IsPowerShell(FencedCodeBlock code) =>
        string.Equals(code.Info, "powershell", StringComparison.OrdinalIgnoreCase) || string.Equals(code.Info, "pwsh", StringComparison.OrdinalIgnoreCase);

    /// <summary>The parameters the page describes, by name, in the page's order (CommonParameters left out).</summary>
    public static Dictionary<string, ParameterDoc> Parameters(Page page)
    {
        var result = new Dictionary<string, ParameterDoc>(StringComparer.OrdinalIgnoreCase);
        foreach (var section in Require(page, "PARAMETERS").Children)
        {
            if (!section.Heading.StartsWith('-'))
            {
                continue; // ### CommonParameters
            }

            var name = section.Heading[1..];
            var yaml = section.Blocks.OfType<FencedCodeBlock>().FirstOrDefault(c => c.Info == "yaml")
                ?? throw new InvalidDataException($"{page.Path}: parameter -{name} has no yaml block.");
            var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var line in Text.Code(yaml).Split('\n'))
            {
                var colon = line.IndexOf(':');
                if (colon > 0)
                {
                    values[line[..colon].Trim()] = line[(colon + 1)..].Trim();
                }
            }

            result[name] = new ParameterDoc(name, Paragraphs(section.Blocks.Where(b => !ReferenceEquals(b, yaml))).ToList(), values);
        }

        return result;
    }

    /// <summary>The page's syntax lines (one per parameter set), each as its parameters in order.</summary>
    public static List<List<SyntaxParameter>> SyntaxLines(Page page)
    {
        var section = Require(page, "SYNTAX");
        var blocks = section.Blocks.Concat(section.Children.SelectMany(c => c.Blocks)).OfType<FencedCodeBlock>();
        var lines = new List<List<SyntaxParameter>>();
        foreach (var block in blocks)
        {
            var text = Text.Code(block).Replace("[<CommonParameters>]", string.Empty, StringComparison.Ordinal);
            var first = text.IndexOf(' ');
            var parameters = new List<SyntaxParameter>();
            foreach (Match m in SyntaxToken.Matches(first < 0 ? string.Empty : text[first..]))
            {
                parameters.Add(
                    m.Groups["opos"].Success ? new(m.Groups["opos"].Value, m.Groups["opostype"].Value, false, true)
                    : m.Groups["rpos"].Success ? new(m.Groups["rpos"].Value, m.Groups["rpostype"].Value, true, true)
                    : m.Groups["onamed"].Success ? new(m.Groups["onamed"].Value, m.Groups["onamedtype"].Value, false, false)
                    : m.Groups["oswitch"].Success ? new(m.Groups["oswitch"].Value, null, false, false)
                    : m.Groups["rnamed"].Success ? new(m.Groups["rnamed"].Value, m.Groups["rnamedtype"].Value, true, false)
                    : new(m.Groups["rswitch"].Value, null, true, false));
            }

            lines.Add(parameters);
        }

        return lines;
    }

    /// <summary>The section's own blocks and those of its subsections as help paragraphs.</summary>
    private static IEnumerable<string> Paragraphs(Section section) =>
        Paragraphs(section.Blocks).Concat(section.Children.SelectMany(c => new[] { c.Heading }.Concat(Paragraphs(c))));

    /// <summary>Blocks as help paragraphs: a paragraph each, a list item each ("- "), code and tables as their lines.</summary>
    public static IEnumerable<string> Paragraphs(IEnumerable<Block> blocks)
    {
        foreach (var block in blocks)
        {
            switch (block)
            {
                case ParagraphBlock p:
                    yield return Text.Inline(p.Inline);
                    break;
                case ListBlock list:
                    var n = 1;
                    foreach (var item in list.OfType<ListItemBlock>())
                    {
                        var bullet = list.IsOrdered ? $"{n++}. " : "- ";
                        var parts = Paragraphs(item).ToList();
                        yield return bullet + string.Join("\n  ", parts);
                    }

                    break;
                case FencedCodeBlock code:
                    yield return Text.Code(code);
                    break;
                case CodeBlock code:
                    yield return Text.Code(code);
                    break;
                case Table table:
                    var rows = Text.Rows(table);
                    yield return string.Join("\n", Text.Aligned(rows, int.MaxValue)!);
                    break;
                case QuoteBlock quote:
                    foreach (var para in Paragraphs(quote))
                    {
                        yield return para;
                    }

                    break;
                case HeadingBlock heading:
                    yield return Text.Inline(heading.Inline);
                    break;
            }
        }
    }
}
