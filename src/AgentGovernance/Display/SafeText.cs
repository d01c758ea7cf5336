using System;
using System.Collections;
using System.Globalization;
using System.Linq;
using System.Text;
using AgentGovernance.Approval;

namespace AgentGovernance.Display;

/// <summary>
/// Text from change documents, suggestions, snapshots and the directory as the module shows it: in
/// prompts, views, verbose and warning lines, error messages and reports. Control characters (ESC and
/// the terminal sequences it starts, newlines, carriage returns, tabs), bidi overrides and isolates,
/// zero-width and other invisible characters are written as &lt;U+XXXX&gt;, so a title cannot add a
/// fake operation line to a prompt, hide the real one (ESC[8m) or reorder what an approver reads.
/// </summary>
public static class SafeText
{
    /// <summary>The text with every invisible or control character written as &lt;U+XXXX&gt;; null as empty.</summary>
    public static string Show(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return string.Empty;
        }

        if (IsPlain(text!))
        {
            return text!;
        }

        var sb = new StringBuilder(text!.Length + 16);
        for (var i = 0; i < text.Length; i++)
        {
            int cp = text[i];
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                cp = char.ConvertToUtf32(text[i], text[i + 1]);
                i++;
            }

            if (IdentityText.IsInvisible(cp) || (cp < 0x10000 && cp != ' ' && char.IsWhiteSpace((char)cp)))
            {
                sb.Append("<U+").Append(cp.ToString("X4", CultureInfo.InvariantCulture)).Append('>');
            }
            else
            {
                sb.Append(char.ConvertFromUtf32(cp));
            }
        }

        return sb.ToString();
    }

    /// <summary>
    /// A value as a view shows it: text (and any object but numbers, flags, enums and times, by its
    /// ToString) made visible; a list as its items made visible, one per line.
    /// </summary>
    public static object? View(object? value)
    {
        switch (value)
        {
            case null:
                return null;
            case string s:
                return Show(s);
            case bool or Enum or DateTime or DateTimeOffset or TimeSpan or int or long or double or decimal or byte or short or uint or ulong or float:
                return value;
            case IEnumerable list:
                return string.Join(Environment.NewLine, list.Cast<object?>().Select(o => View(o)?.ToString()));
            default:
                return Show(value.ToString());
        }
    }

    /// <summary>
    /// A value as a table column of <paramref name="width"/> cells shows it: made visible as
    /// <see cref="View"/> does, then each line wrapped at spaces so no line is wider than the column, and
    /// a word wider than the column cut short with an ellipsis (PowerShell's own wrap breaks words
    /// anywhere: "SuggestionUnresolvedValu" over "e"). Numbers, flags, enums and times that fit stay as
    /// they are, so they keep their alignment.
    /// </summary>
    public static object? Cell(object? value, int width) => Fit(value, width, cut: true);

    /// <summary>
    /// As <see cref="Cell"/>, but a word wider than the column is kept whole (the terminal breaks it):
    /// for what must be shown in full to be of use, such as a public key to copy into the policy.
    /// </summary>
    public static object? Whole(object? value, int width) => Fit(value, width, cut: false);

    private static object? Fit(object? value, int width, bool cut)
    {
        var shown = View(value);
        if (shown is null || width < 1)
        {
            return shown;
        }

        var text = shown as string ?? Convert.ToString(shown, CultureInfo.CurrentCulture) ?? string.Empty;
        if (shown is not string && Cells(text) <= width)
        {
            return shown;
        }

        var sb = new StringBuilder(text.Length + 8);
        foreach (var line in text.Split(new[] { Environment.NewLine, "\n" }, StringSplitOptions.None))
        {
            if (sb.Length > 0)
            {
                sb.Append(Environment.NewLine);
            }

            Wrap(line, width, cut, sb);
        }

        return sb.ToString();
    }

    /// <summary>Appends one line wrapped at spaces to <paramref name="width"/> cells; words wider than that end in an ellipsis when <paramref name="cut"/>.</summary>
    private static void Wrap(string line, int width, bool cut, StringBuilder sb)
    {
        var used = 0;
        foreach (var word in line.Split(new[] { ' ' }, StringSplitOptions.RemoveEmptyEntries))
        {
            var fitted = !cut || Cells(word) <= width ? word : Cut(word, width);
            var cells = Cells(fitted);
            if (used > 0 && used + 1 + cells > width)
            {
                sb.Append(Environment.NewLine);
                used = 0;
            }
            else if (used > 0)
            {
                sb.Append(' ');
                used++;
            }

            sb.Append(fitted);
            used += cells;
        }
    }

    /// <summary>The word's first characters and an ellipsis, in at most <paramref name="width"/> cells.</summary>
    private static string Cut(string word, int width)
    {
        var sb = new StringBuilder(width);
        var used = 0;
        for (var i = 0; i < word.Length; i++)
        {
            var length = char.IsHighSurrogate(word[i]) && i + 1 < word.Length ? 2 : 1;
            var cells = Cells(word.Substring(i, length));
            if (used + cells > width - 1)
            {
                break;
            }

            sb.Append(word, i, length);
            used += cells;
            i += length - 1;
        }

        return sb.Append('\u2026').ToString();
    }

    /// <summary>
    /// How many terminal cells the text takes: two for East Asian wide and fullwidth characters and
    /// for emoji beyond the basic plane (as PowerShell counts them), one for the others.
    /// </summary>
    public static int Cells(string text)
    {
        var cells = 0;
        for (var i = 0; i < text.Length; i++)
        {
            int cp = text[i];
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                cp = char.ConvertToUtf32(text[i], text[i + 1]);
                i++;
            }

            cells += IsWide(cp) ? 2 : 1;
        }

        return cells;
    }

    private static bool IsWide(int cp) =>
        (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0x303E) || (cp >= 0x3041 && cp <= 0x33FF) ||
        (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0xA000 && cp <= 0xA4CF) ||
        (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0xFE30 && cp <= 0xFE4F) ||
        (cp >= 0xFF00 && cp <= 0xFF60) || (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x1F300 && cp <= 0x1F64F) ||
        (cp >= 0x1F900 && cp <= 0x1F9FF) || (cp >= 0x20000 && cp <= 0x3FFFD);

    /// <summary>Lines, each made visible, joined by newlines: the only newlines in the result are the joins.</summary>
    public static string Lines(IEnumerable lines) => string.Join(Environment.NewLine, lines.Cast<object?>().Select(o => Show(o?.ToString())));

    private static bool IsPlain(string s)
    {
        foreach (var c in s)
        {
            if (c < 0x20 || c > 0x7E)
            {
                return false;
            }
        }

        return true;
    }
}
