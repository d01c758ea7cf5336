using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;

namespace AgentGovernance.Notifications;

/// <summary>
/// Turns a <see cref="NotificationContent"/> into what each channel sends: an Adaptive Card 1.4 in the
/// Workflows webhook envelope for Teams, a Graph sendMail body for mail. Neither carries an action that
/// decides anything: the only action is Action.OpenUrl to the docs, and the approval is the signed decision.
/// </summary>
internal static class NotificationRenderer
{
    public const string CardVersion = "1.4";

    /// <summary><c>{"type":"message","attachments":[{"contentType":"application/vnd.microsoft.card.adaptive","content":{card}}]}</c></summary>
    public static Dictionary<string, object?> TeamsMessage(NotificationContent content, Uri? docsUrl) => new()
    {
        ["type"] = "message",
        ["attachments"] = new List<object?>
        {
            new Dictionary<string, object?>
            {
                ["contentType"] = "application/vnd.microsoft.card.adaptive",
                ["contentUrl"] = null,
                ["content"] = Card(content, docsUrl),
            },
        },
    };

    public static Dictionary<string, object?> Card(NotificationContent content, Uri? docsUrl)
    {
        var body = new List<object?>
        {
            new Dictionary<string, object?>
            {
                ["type"] = "TextBlock",
                ["text"] = NotificationText.Markdown(content.Headline),
                ["weight"] = "Bolder",
                ["size"] = "Medium",
                ["wrap"] = true,
                ["color"] = content.Request.RiskLevel >= Exposure.RiskLevel.High || content.Request.BreakGlass ? "Attention" : "Default",
            },
        };

        // Directory and document text only ever goes into TextRuns: they render no markdown (Adaptive Cards schema, TextRun.text).
        foreach (var (label, value) in content.Untrusted)
        {
            body.Add(new Dictionary<string, object?>
            {
                ["type"] = "RichTextBlock",
                ["inlines"] = new List<object?>
                {
                    Run(label + ": ", bold: true),
                    Run(NotificationText.Plain(value)),
                },
            });
        }

        body.Add(new Dictionary<string, object?>
        {
            ["type"] = "FactSet",
            ["facts"] = content.Facts.Select(f => (object?)new Dictionary<string, object?>
            {
                ["title"] = NotificationText.Markdown(f.Title),
                ["value"] = NotificationText.Markdown(f.Value),
            }).ToList(),
        });

        if (content.Request.Status == Approval.ApprovalStatus.Pending)
        {
            body.Add(new Dictionary<string, object?>
            {
                ["type"] = "TextBlock",
                ["text"] = "To decide, run in PowerShell (this card cannot approve anything):",
                ["wrap"] = true,
                ["separator"] = true,
            });
            foreach (var command in new[] { content.ApproveCommand, content.DenyCommand })
            {
                body.Add(new Dictionary<string, object?>
                {
                    ["type"] = "RichTextBlock",
                    ["inlines"] = new List<object?> { Run(command, monospace: true) },
                });
            }
        }

        var card = new Dictionary<string, object?>
        {
            ["type"] = "AdaptiveCard",
            ["$schema"] = "http://adaptivecards.io/schemas/adaptive-card.json",
            ["version"] = CardVersion,
            ["body"] = body,
        };
        if (docsUrl is not null)
        {
            card["actions"] = new List<object?>
            {
                new Dictionary<string, object?> { ["type"] = "Action.OpenUrl", ["title"] = "How approval works", ["url"] = docsUrl.AbsoluteUri },
            };
        }

        return card;
    }

    /// <summary>The body of <c>POST /users/{mailbox}/sendMail</c>: an HTML message to the recipients, not saved to Sent Items twice.</summary>
    public static Dictionary<string, object?> Mail(NotificationContent content, IReadOnlyList<string> to, Uri? docsUrl)
    {
        var html = new StringBuilder();
        html.Append("<html><body style=\"font-family:Segoe UI,Arial,sans-serif\">");
        html.Append("<h2>").Append(NotificationText.Html(content.Headline)).Append("</h2><table>");
        foreach (var (label, value) in content.Untrusted)
        {
            html.Append("<tr><th align=\"left\">").Append(NotificationText.Html(label)).Append("</th><td>").Append(NotificationText.Html(value)).Append("</td></tr>");
        }

        foreach (var (title, value) in content.Facts)
        {
            html.Append("<tr><th align=\"left\">").Append(NotificationText.Html(title)).Append("</th><td>").Append(NotificationText.Html(value)).Append("</td></tr>");
        }

        html.Append("</table>");
        if (content.Request.Status == Approval.ApprovalStatus.Pending)
        {
            html.Append("<p>To decide, run in PowerShell (this mail cannot approve anything):</p>");
            html.Append("<pre>").Append(NotificationText.Html(content.ApproveCommand)).Append("</pre>");
            html.Append("<pre>").Append(NotificationText.Html(content.DenyCommand)).Append("</pre>");
        }

        if (docsUrl is not null)
        {
            html.Append("<p>How approval works: ").Append(System.Net.WebUtility.HtmlEncode(docsUrl.AbsoluteUri)).Append("</p>");
        }

        html.Append("</body></html>");
        return new Dictionary<string, object?>
        {
            ["message"] = new Dictionary<string, object?>
            {
                ["subject"] = NotificationText.Subject($"[AgentGovernance] {content.Headline} - {content.Request.Title ?? content.Request.RequestId}"),
                ["body"] = new Dictionary<string, object?> { ["contentType"] = "HTML", ["content"] = html.ToString() },
                ["toRecipients"] = to.Select(a => (object?)new Dictionary<string, object?>
                {
                    ["emailAddress"] = new Dictionary<string, object?> { ["address"] = a },
                }).ToList(),
            },
            ["saveToSentItems"] = true,
        };
    }

    private static Dictionary<string, object?> Run(string text, bool bold = false, bool monospace = false)
    {
        var run = new Dictionary<string, object?> { ["type"] = "TextRun", ["text"] = text };
        if (bold)
        {
            run["weight"] = "Bolder";
        }

        if (monospace)
        {
            run["fontType"] = "Monospace";
        }

        return run;
    }
}
