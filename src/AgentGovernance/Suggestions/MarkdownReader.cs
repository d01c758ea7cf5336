using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.RegularExpressions;

namespace AgentGovernance.Suggestions;

internal enum UnitKind
{
    /// <summary>The whole text, read as a script.</summary>
    Script,

    /// <summary>A fenced block labelled powershell, pwsh, ps1, ps or posh.</summary>
    PowerShellBlock,

    /// <summary>A fenced block without a label, or an indented block: PowerShell if it parses as PowerShell.</summary>
    UnlabelledBlock,

    /// <summary>A fenced block labelled http: a raw web request.</summary>
    HttpBlock,

    /// <summary>Code written inline in the prose, `like this`, that starts with a command and has arguments.</summary>
    InlineCode,

    /// <summary>A fenced block in another language (bash, json, text...): not analysed, only searched for commands.</summary>
    OtherBlock,
}

/// <summary>
/// A piece of code from a suggestion, with the way back from its own lines and columns to those of the
/// text as the agent wrote it (code blocks are indented in lists; inline code sits mid-line).
/// </summary>
internal sealed class CodeUnit
{
    private readonly int[] _columnShift;

    public CodeUnit(UnitKind kind, string text, int firstLine, int[] columnShift, string? language)
    {
        Kind = kind;
        Text = text;
        FirstLine = firstLine;
        _columnShift = columnShift;
        Language = language;
    }

    public UnitKind Kind { get; }

    public string Text { get; }

    /// <summary>1-based line, in the whole text, of the unit's first line.</summary>
    public int FirstLine { get; }

    public string? Language { get; }

    /// <summary>Where (line, column) of the unit is in the whole text.</summary>
    public (int Line, int Column) Map(int line, int column)
    {
        var shift = line >= 1 && line <= _columnShift.Length ? _columnShift[line - 1] : 0;
        return (FirstLine + line - 1, column + shift);
    }

    public string Describe() => Kind switch
    {
        UnitKind.Script => "the script",
        UnitKind.PowerShellBlock => $"the {Language} block at line {FirstLine}",
        UnitKind.UnlabelledBlock => $"the code block at line {FirstLine}",
        UnitKind.HttpBlock => $"the http block at line {FirstLine}",
        UnitKind.InlineCode => $"the inline code at line {FirstLine}",
        _ => $"the {(string.IsNullOrEmpty(Language) ? "unlabelled" : Language)} block at line {FirstLine}",
    };

    public static CodeUnit WholeText(string text) => new(UnitKind.Script, text, 1, Array.Empty<int>(), null);
}

/// <summary>
/// Finds the code of a markdown answer: fenced blocks (``` and ~~~, indented inside lists too),
/// indented blocks, and inline code that starts with a command. Prose is not code and is not read.
/// </summary>
internal static class MarkdownReader
{
    private static readonly string[] PowerShellLabels = { "powershell", "pwsh", "ps1", "ps", "posh", "psm1" };
    private static readonly string[] HttpLabels = { "http", "rest", "https" };

    // An inline span worth reading: it starts with a command name (Verb-Noun, an alias the analyzer
    // knows, or an invocation operator) followed by something.
    private static readonly Regex CommandSpan = new(@"^\s*(?:[&.]\s*\S|[A-Za-z][\w.]*-[A-Za-z][\w]*\s+\S|(?:iex|icm|irm|iwr|curl|wget|az|m365|mgc|powershell|pwsh|saps|start|sal|set|sv|nal)\s+\S)", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase);

    public static bool HasFences(string text) => SplitLines(text).Any(l => Fence(l.Text) is not null);

    /// <summary>The code units of a markdown text, in the order they appear.</summary>
    public static List<CodeUnit> Read(string text)
    {
        var lines = SplitLines(text);
        var units = new List<CodeUnit>();
        var i = 0;
        var previousBlank = true;
        string? previousProse = null;
        while (i < lines.Count)
        {
            var line = lines[i].Text;
            if (Fence(line) is { } open)
            {
                var body = new List<string>();
                var shifts = new List<int>();
                var j = i + 1;
                for (; j < lines.Count; j++)
                {
                    if (IsClosingFence(lines[j].Text, open))
                    {
                        break;
                    }

                    var (stripped, shift) = StripIndent(lines[j].Text, open.Indent);
                    body.Add(stripped);
                    shifts.Add(shift);
                }

                var label = open.Label;
                var kind = label.Length == 0 ? UnitKind.UnlabelledBlock
                    : PowerShellLabels.Contains(label, StringComparer.OrdinalIgnoreCase) ? UnitKind.PowerShellBlock
                    : HttpLabels.Contains(label, StringComparer.OrdinalIgnoreCase) ? UnitKind.HttpBlock
                    : UnitKind.OtherBlock;
                units.Add(Transcript(body, shifts, lines[i].Number + 1, label.Length == 0 ? null : label)
                    ?? new CodeUnit(kind, string.Join("\n", body), lines[i].Number + 1, shifts.ToArray(), label.Length == 0 ? null : label));
                i = j + 1;
                previousBlank = true;
                previousProse = null;
                continue;
            }

            if (IsIndentedCode(line) && previousBlank && !(previousProse is not null && IsListItem(previousProse)))
            {
                var body = new List<string>();
                var shifts = new List<int>();
                var j = i;
                for (; j < lines.Count && (IsIndentedCode(lines[j].Text) || (lines[j].Text.Trim().Length == 0 && j + 1 < lines.Count && IsIndentedCode(lines[j + 1].Text))); j++)
                {
                    var (stripped, shift) = StripIndent(lines[j].Text, 4);
                    body.Add(stripped);
                    shifts.Add(shift);
                }

                units.Add(Transcript(body, shifts, lines[i].Number, null)
                    ?? new CodeUnit(UnitKind.UnlabelledBlock, string.Join("\n", body), lines[i].Number, shifts.ToArray(), null));
                i = j;
                previousBlank = false;
                continue;
            }

            foreach (var (content, column) in InlineSpans(line))
            {
                if (CommandSpan.IsMatch(content))
                {
                    units.Add(new CodeUnit(UnitKind.InlineCode, content, lines[i].Number, new[] { column - 1 }, null));
                }
            }

            previousBlank = line.Trim().Length == 0;
            if (!previousBlank)
            {
                previousProse = line;
            }

            i++;
        }

        return units;
    }

    // A PowerShell prompt: "PS>", "PS C:\>", "PS /home/me>", "[DBG]: PS C:\>", and the ">>" of a continued line.
    private static readonly Regex Prompt = new(@"^\s*(?:\[[^\]\r\n]*\]:?\s*)?PS(?:\s+[^>\r\n]*)?>\s?", RegexOptions.CultureInvariant);
    private static readonly Regex Continuation = new(@"^\s*>>\s?", RegexOptions.CultureInvariant);

    /// <summary>
    /// A block (whatever its label, powershell included) with PowerShell prompts is a console transcript:
    /// its commands are the text after each prompt and the ">>" lines that continue it; the other lines
    /// are output, kept as empty lines so that lines and columns still point into the answer. The result
    /// is read as PowerShell that must parse (a command that does not refuses the answer). Null when the
    /// block has no prompt.
    /// </summary>
    private static CodeUnit? Transcript(List<string> body, List<int> shifts, int firstLine, string? label)
    {
        if (!body.Any(l => Prompt.IsMatch(l)))
        {
            return null;
        }

        var text = new List<string>();
        var columns = new List<int>();
        var inCommand = false;
        for (var k = 0; k < body.Count; k++)
        {
            var line = body[k];
            var prompt = Prompt.Match(line);
            var more = inCommand ? Continuation.Match(line) : Match.Empty;
            if (prompt.Success)
            {
                inCommand = true;
                text.Add(line.Substring(prompt.Length));
                columns.Add(shifts[k] + prompt.Length);
            }
            else if (more.Success)
            {
                text.Add(line.Substring(more.Length));
                columns.Add(shifts[k] + more.Length);
            }
            else
            {
                inCommand = false;
                text.Add(string.Empty);
                columns.Add(0);
            }
        }

        return new CodeUnit(UnitKind.PowerShellBlock, string.Join("\n", text), firstLine, columns.ToArray(), (label ?? "unlabelled") + " transcript");
    }

    /// <summary>True when the text has inline code that starts with a command.</summary>
    public static bool HasCommandSpans(string text) => SplitLines(text).Any(l => InlineSpans(l.Text).Any(s => CommandSpan.IsMatch(s.Content)));

    /// <summary>The lines of a text with their 1-based numbers; \r\n, \r and \n all end a line, as PowerShell counts them.</summary>
    public static List<(int Number, string Text)> SplitLines(string text)
    {
        var result = new List<(int, string)>();
        var start = 0;
        var number = 1;
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '\r' || text[i] == '\n')
            {
                result.Add((number++, text.Substring(start, i - start)));
                if (text[i] == '\r' && i + 1 < text.Length && text[i + 1] == '\n')
                {
                    i++;
                }

                start = i + 1;
            }
        }

        result.Add((number, text.Substring(start)));
        return result;
    }

    private sealed class FenceInfo
    {
        public FenceInfo(char marker, int length, int indent, string label)
        {
            Marker = marker;
            Length = length;
            Indent = indent;
            Label = label;
        }

        public char Marker { get; }

        public int Length { get; }

        public int Indent { get; }

        public string Label { get; }
    }

    private static FenceInfo? Fence(string line)
    {
        var indent = 0;
        while (indent < line.Length && (line[indent] == ' ' || line[indent] == '\t'))
        {
            indent++;
        }

        if (indent >= line.Length || (line[indent] != '`' && line[indent] != '~'))
        {
            return null;
        }

        var marker = line[indent];
        var end = indent;
        while (end < line.Length && line[end] == marker)
        {
            end++;
        }

        var length = end - indent;
        if (length < 3)
        {
            return null;
        }

        var info = line.Substring(end).Trim();
        if (marker == '`' && info.IndexOf('`') >= 0)
        {
            return null; // CommonMark: a backtick fence's info string cannot hold a backtick (it is inline code).
        }

        var label = info.Split(new[] { ' ', '\t', '{', ',' }, StringSplitOptions.RemoveEmptyEntries).FirstOrDefault() ?? string.Empty;
        return new FenceInfo(marker, length, indent, label);
    }

    private static bool IsClosingFence(string line, FenceInfo open)
    {
        var t = line.Trim();
        return t.Length >= open.Length && t.All(c => c == open.Marker);
    }

    private static (string Text, int Shift) StripIndent(string line, int indent)
    {
        var n = 0;
        while (n < indent && n < line.Length && (line[n] == ' ' || line[n] == '\t'))
        {
            n++;
        }

        return (line.Substring(n), n);
    }

    private static bool IsIndentedCode(string line) =>
        (line.StartsWith("    ", StringComparison.Ordinal) || line.StartsWith("\t", StringComparison.Ordinal)) && line.Trim().Length > 0;

    private static bool IsListItem(string line) => Regex.IsMatch(line, @"^\s*([-*+]|\d+[.)])\s", RegexOptions.CultureInvariant);

    /// <summary>The inline code spans of one line: content (one surrounding space removed) and its 1-based column.</summary>
    private static IEnumerable<(string Content, int Column)> InlineSpans(string line)
    {
        var i = 0;
        while (i < line.Length)
        {
            if (line[i] != '`')
            {
                i++;
                continue;
            }

            var run = 0;
            while (i + run < line.Length && line[i + run] == '`')
            {
                run++;
            }

            var contentStart = i + run;
            var close = -1;
            for (var j = contentStart; j < line.Length; j++)
            {
                if (line[j] != '`')
                {
                    continue;
                }

                var r = 0;
                while (j + r < line.Length && line[j + r] == '`')
                {
                    r++;
                }

                if (r == run)
                {
                    close = j;
                    break;
                }

                j += r - 1;
            }

            if (close < 0)
            {
                i = contentStart;
                continue;
            }

            var content = line.Substring(contentStart, close - contentStart);
            var column = contentStart + 1;
            if (content.Length > 2 && content[0] == ' ' && content[content.Length - 1] == ' ')
            {
                content = content.Substring(1, content.Length - 2);
                column++;
            }

            yield return (content, column);
            i = close + run;
        }
    }
}
