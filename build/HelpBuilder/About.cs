using Markdig.Extensions.Tables;
using Markdig.Syntax;

namespace HelpBuilder;

/// <summary>
/// Writes an about topic as the plain text Get-Help shows (about_*.help.txt): the H2 headings in capitals
/// at the margin, text wrapped at 80 columns and indented four, code indented eight.
/// </summary>
internal static class About
{
    private const int Width = 80;

    public static void Write(Page page, string path)
    {
        var lines = new List<string> { "TOPIC", "    " + page.Title, string.Empty };
        foreach (var section in page.Sections)
        {
            Section(lines, section);
        }

        while (lines.Count > 0 && lines[^1].Length == 0)
        {
            lines.RemoveAt(lines.Count - 1);
        }

        File.WriteAllText(path, string.Join("\n", lines) + "\n", new System.Text.UTF8Encoding(false));
    }

    private static void Section(List<string> lines, Section section)
    {
        lines.Add(section.Level <= 2 ? section.Heading.ToUpperInvariant() : "    " + section.Heading);
        if (section.Level > 2)
        {
            lines.Add("    " + new string('-', section.Heading.Length));
        }

        Blocks(lines, section.Blocks, "    ");
        foreach (var child in section.Children)
        {
            Section(lines, child);
        }
    }

    private static void Blocks(List<string> lines, IEnumerable<Block> blocks, string indent)
    {
        foreach (var block in blocks)
        {
            switch (block)
            {
                case ParagraphBlock p:
                    lines.AddRange(Text.Wrap(Text.Inline(p.Inline), Width, indent, indent));
                    lines.Add(string.Empty);
                    break;
                case ListBlock list:
                    var n = 1;
                    foreach (var item in list.OfType<ListItemBlock>())
                    {
                        var bullet = list.IsOrdered ? $"{n++}. " : "- ";
                        var first = true;
                        foreach (var child in item)
                        {
                            if (child is ParagraphBlock para)
                            {
                                var hang = indent + new string(' ', bullet.Length);
                                lines.AddRange(Text.Wrap(Text.Inline(para.Inline), Width, first ? indent + bullet : hang, hang));
                                first = false;
                            }
                            else
                            {
                                Blocks(lines, new[] { child }, indent + new string(' ', bullet.Length));
                            }
                        }
                    }

                    lines.Add(string.Empty);
                    break;
                case CodeBlock code:
                    lines.AddRange(Text.Code(code).Split('\n').Select(l => l.Length == 0 ? string.Empty : indent + "    " + l));
                    lines.Add(string.Empty);
                    break;
                case Table table:
                    var rows = Text.Rows(table);
                    if (Text.Aligned(rows, Width - indent.Length) is { } aligned)
                    {
                        lines.AddRange(aligned.Select(l => indent + l));
                    }
                    else
                    {
                        // Too wide for 80 columns: one entry per row, each cell under its header's name.
                        foreach (var row in rows.Skip(1))
                        {
                            var text = string.Join("; ", row.Select((cell, i) => i == 0 ? cell : $"{(i < rows[0].Length ? rows[0][i] : string.Empty)}: {cell}"));
                            lines.AddRange(Text.Wrap(text, Width, indent + "- ", indent + "  "));
                        }
                    }

                    lines.Add(string.Empty);
                    break;
                case QuoteBlock quote:
                    Blocks(lines, quote, indent + "  ");
                    break;
                case ThematicBreakBlock:
                    break;
            }
        }
    }
}
