using System;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using AgentGovernance.Approval;

namespace AgentGovernance.Notifications;

/// <summary>
/// How directory and document text (titles, display names, identities, finding messages) is made safe
/// for a card or a mail: never shown raw. Controls, bidi and invisible characters become U+XXXX, line
/// breaks cannot start a new block, links are defanged so no client turns them into something to click,
/// and what the target would interpret (markdown, HTML) is escaped.
/// </summary>
internal static class NotificationText
{
    /// <summary>The most characters of one piece of directory text a notification shows.</summary>
    public const int MaxLength = 300;

    private static readonly Regex Scheme = new(@"(?i)\b([a-z][a-z0-9+.\-]*):(//|\\\\)", RegexOptions.CultureInvariant);
    private static readonly Regex Www = new(@"(?i)\bwww\.", RegexOptions.CultureInvariant);
    private static readonly Regex MailTo = new(@"(?i)\bmailto:", RegexOptions.CultureInvariant);

    /// <summary>Visible, one line, links defanged, at most <see cref="MaxLength"/> characters. For a TextRun (which renders no markdown) and as the base of the others.</summary>
    public static string Plain(string? text)
    {
        var visible = IdentityText.Visible(text);
        visible = Scheme.Replace(visible, m => m.Groups[1].Value + "[:]" + m.Groups[2].Value);
        visible = Www.Replace(visible, m => m.Value.Substring(0, 3) + "[.]");
        visible = MailTo.Replace(visible, m => m.Value.Substring(0, 6) + "[:]");
        if (visible.Length > MaxLength)
        {
            visible = visible.Substring(0, MaxLength - 1) + "…";
        }

        return visible;
    }

    /// <summary>Plain text with every markdown metacharacter backslash-escaped (TextBlock text, fact titles and values).</summary>
    public static string Markdown(string? text)
    {
        var plain = Plain(text);
        var sb = new StringBuilder(plain.Length + 8);
        foreach (var c in plain)
        {
            if ("\\`*_{}[]()<>#+-.!|~&".IndexOf(c) >= 0)
            {
                sb.Append('\\');
            }

            sb.Append(c);
        }

        return sb.ToString();
    }

    /// <summary>Plain text HTML-encoded, for the mail body.</summary>
    public static string Html(string? text) => WebUtility.HtmlEncode(Plain(text));

    /// <summary>A mail subject: plain, one line, at most 200 characters.</summary>
    public static string Subject(string text)
    {
        var plain = Plain(text);
        return plain.Length > 200 ? plain.Substring(0, 199) + "…" : plain;
    }
}
