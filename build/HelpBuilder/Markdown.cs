using System.Text;
using Markdig;
using Markdig.Extensions.Tables;
using Markdig.Extensions.Yaml;
using Markdig.Syntax;
using Markdig.Syntax.Inlines;

namespace HelpBuilder;

/// <summary>One heading of a page and the blocks under it, up to the next heading of the same or a higher level.</summary>
internal sealed record Section(int Level, string Heading, IReadOnlyList<Block> Blocks, IReadOnlyList<Section> Children);

/// <summary>A platyPS-style markdown page, read with Markdig: its title (the H1) and its sections.</summary>
internal sealed class Page
{
    private static readonly MarkdownPipeline Pipeline = new MarkdownPipelineBuilder().UseYamlFrontMatter().UsePipeTables().Build();

    private Page(string path, string title, IReadOnlyList<Section> sections)
    {
        Path = path;
        Title = title;
        Sections = sections;
    }

    public string Path { get; }

    public string Title { get; }

    /// <summary>The H2 sections, each with its H3 (and deeper) children.</summary>
    public IReadOnlyList<Section> Sections { get; }

    public Section? this[string heading] => Sections.FirstOrDefault(s => string.Equals(s.Heading, heading, StringComparison.OrdinalIgnoreCase));

    public static Page Read(string path)
    {
        var document = Markdown.Parse(File.ReadAllText(path), Pipeline);
        string? title = null;
        var blocks = new List<Block>();
        foreach (var block in document)
        {
            if (block is YamlFrontMatterBlock)
            {
                continue;
            }

            if (block is HeadingBlock { Level: 1 } h1 && title is null)
            {
                title = Text.Inline(h1.Inline);
                continue;
            }

            blocks.Add(block);
        }

        var index = 0;
        var sections = ReadSections(blocks, ref index, 2);
        return new Page(path, title ?? throw new InvalidDataException($"{path}: no '# title' heading."), sections);
    }

    private static List<Section> ReadSections(List<Block> blocks, ref int index, int level)
    {
        var sections = new List<Section>();
        while (index < blocks.Count)
        {
            if (blocks[index] is not HeadingBlock heading)
            {
                index++; // text before the first heading: not part of any section
                continue;
            }

            if (heading.Level < level)
            {
                break; // a sibling of the parent
            }

            index++;
            var content = new List<Block>();
            while (index < blocks.Count && blocks[index] is not HeadingBlock)
            {
                content.Add(blocks[index++]);
            }

            var children = index < blocks.Count && blocks[index] is HeadingBlock next && next.Level > heading.Level
                ? ReadSections(blocks, ref index, heading.Level + 1)
                : new List<Section>();
            sections.Add(new Section(heading.Level, Text.Inline(heading.Inline), content, children));
        }

        return sections;
    }
}

/// <summary>Markdown rendered as the plain text help shows: no markup, code and links as their words.</summary>
internal static class Text
{
    public static string Inline(ContainerInline? inline)
    {
        var sb = new StringBuilder();
        Append(sb, inline);
        return sb.ToString().Trim();
    }

    private static void Append(StringBuilder sb, Inline? inline)
    {
        for (var node = inline; node is not null; node = node.NextSibling)
        {
            switch (node)
            {
                case LiteralInline literal:
                    sb.Append(literal.Content.ToString());
                    break;
                case CodeInline code:
                    sb.Append(code.Content);
                    break;
                case LineBreakInline br:
                    sb.Append(br.IsHard ? "\n" : " ");
                    break;
                case AutolinkInline auto:
                    sb.Append(auto.Url);
                    break;
                case LinkInline link:
                    var before = sb.Length;
                    Append(sb, link.FirstChild);
                    var words = sb.ToString(before, sb.Length - before);
                    if (link.Url is { } url && url.StartsWith("http", StringComparison.OrdinalIgnoreCase) && !string.Equals(words, url, StringComparison.Ordinal))
                    {
                        sb.Append(" (").Append(url).Append(')');
                    }

                    break;
                case ContainerInline container:
                    Append(sb, container.FirstChild);
                    break;
                case HtmlEntityInline entity:
                    sb.Append(entity.Transcoded.ToString());
                    break;
                case HtmlInline html:
                    sb.Append(html.Tag);
                    break;
            }
        }
    }

    /// <summary>A fenced or indented code block's text, its lines joined with "\n".</summary>
    public static string Code(LeafBlock code) =>
        string.Join("\n", code.Lines.Lines.Take(code.Lines.Count).Select(l => l.Slice.ToString())).TrimEnd();

    /// <summary>A table as rows of cell texts, the header row first.</summary>
    public static List<string[]> Rows(Table table) =>
        table.OfType<TableRow>()
            .Select(row => row.OfType<TableCell>().Select(cell => string.Join(" ", cell.OfType<ParagraphBlock>().Select(p => Inline(p.Inline)))).ToArray())
            .ToList();

    /// <summary>Wraps words to <paramref name="width"/> columns, with <paramref name="first"/> before the first line and <paramref name="rest"/> before the others.</summary>
    public static IEnumerable<string> Wrap(string text, int width, string first, string rest)
    {
        foreach (var (paragraphLine, lineIndex) in text.Split('\n').Select((l, i) => (l, i)))
        {
            var prefix = lineIndex == 0 ? first : rest;
            var line = new StringBuilder(prefix);
            var empty = true;
            foreach (var word in paragraphLine.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                if (!empty && line.Length + 1 + word.Length > width)
                {
                    yield return line.ToString();
                    line.Clear().Append(rest);
                    empty = true;
                }

                if (!empty)
                {
                    line.Append(' ');
                }

                line.Append(word);
                empty = false;
            }

            yield return line.ToString().TrimEnd();
        }
    }

    /// <summary>Table rows as aligned columns (header, a rule, the rows), or null when they do not fit <paramref name="width"/>.</summary>
    public static List<string>? Aligned(List<string[]> rows, int width)
    {
        var columns = rows.Max(r => r.Length);
        var widths = Enumerable.Range(0, columns).Select(c => rows.Max(r => c < r.Length ? r[c].Length : 0)).ToArray();
        if (widths.Sum() + 2 * (columns - 1) > width)
        {
            return null;
        }

        string Row(string[] cells) => string.Join("  ", Enumerable.Range(0, columns).Select(c => (c < cells.Length ? cells[c] : string.Empty).PadRight(widths[c]))).TrimEnd();
        var lines = new List<string> { Row(rows[0]), string.Join("  ", widths.Select(w => new string('-', w))) };
        lines.AddRange(rows.Skip(1).Select(Row));
        return lines;
    }
}
