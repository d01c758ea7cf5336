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
