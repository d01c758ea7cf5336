using System;
using System.Collections.Generic;
using AgentGovernance.Notifications;

namespace AgentGovernance.Policy;

/// <summary>The Notifications section: Teams through a Workflows webhook, mail through Graph sendMail (docs/policy.md).</summary>
public static partial class PolicyReader
{
    private static readonly string[] NotificationKeys = { "Teams", "Mail", "Primary", "ReminderBefore", "DocsUrl" };
    private static readonly string[] TeamsKeys = { "WebhookUrlFile", "WebhookUrlEnvironmentVariable" };
    private static readonly string[] MailKeys = { "From", "Addresses" };
    private static readonly string[] ChannelNames = { "Teams", "Mail" };

    private sealed partial class SchemaReader
    {
        private NotificationSettings _notifications = NotificationSettings.None;

        private NotificationSettings ReadNotifications(TableNode table)
        {
            WebhookSecret? teams = null;
            string? mailbox = null;
            NotificationChannel? primary = null;
            Node? primaryNode = null;
            var reminder = NotificationSettings.DefaultReminderBefore;
            Uri? docs = null;
            var addresses = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var (name, entry) in Keys(table, NotificationKeys, "a notification setting"))
            {
                switch (name)
                {
                    case "Teams":
                        string? file = null, variable = null;
                        foreach (var (key, setting) in Keys(Table(entry.Value), TeamsKeys, "a Teams setting"))
                        {
                            var text = Text(setting.Value, key == "WebhookUrlFile" ? "the path of the file holding the webhook URL" : "the name of an environment variable");
                            if (text.Trim().Length == 0)
                            {
                                throw Invalid(_file, setting.Value, $"{key} is empty.");
                            }

                            if (text.StartsWith("http", StringComparison.OrdinalIgnoreCase) && text.Contains("://"))
                            {
                                throw Invalid(_file, setting.Value, "This is the webhook URL itself; it is a secret and does not belong in a policy. Put it in a file readable by you only (chmod 600) and name the file in WebhookUrlFile.");
                            }

                            if (key == "WebhookUrlFile")
                            {
                                file = text;
                            }
                            else
                            {
                                variable = text;
                            }
                        }

                        if ((file is null) == (variable is null))
                        {
                            throw Invalid(_file, entry.Value, "Teams needs exactly one of WebhookUrlFile = '<file with the Workflows webhook URL>' or WebhookUrlEnvironmentVariable = '<name>'.");
                        }

                        teams = new WebhookSecret(file, variable);
                        break;
                    case "Mail":
                        foreach (var (key, setting) in Keys(Table(entry.Value), MailKeys, "a mail setting"))
                        {
                            if (key == "From")
                            {
                                mailbox = Address(setting.Value);
                            }
                            else
                            {
                                foreach (var pair in Table(setting.Value).Entries)
                                {
                                    addresses[pair.Key] = Address(pair.Value);
                                }
                            }
                        }

                        if (mailbox is null)
                        {
                            throw Invalid(_file, entry.Value, "Mail needs From = '<the mailbox mail is sent from>' (the app needs Mail.Send, restricted to that mailbox: see docs/policy.md).");
                        }

                        break;
                    case "Primary":
                        primaryNode = entry.Value;
                        primary = (NotificationChannel)Enum.Parse(typeof(NotificationChannel), OneOf(entry.Value, ChannelNames, "a channel"));
                        break;
                    case "ReminderBefore":
                        reminder = Duration(entry.Value, TimeSpan.FromMinutes(1), TimeSpan.FromDays(30), "PT1M to P30D");
                        break;
                    case "DocsUrl":
                        var url = Text(entry.Value, "an https URL");
                        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttps)
                        {
                            throw Invalid(_file, entry.Value, $"'{Approval.IdentityText.Visible(url)}' is not an https URL.");
                        }

                        docs = uri;
                        break;
                }
            }

            if (primary == NotificationChannel.Teams && teams is null || primary == NotificationChannel.Mail && mailbox is null)
            {
                throw Invalid(_file, primaryNode!, $"Primary is {primary}, but the Notifications section does not configure {primary}.");
            }

            return new NotificationSettings(teams, mailbox, primary, reminder, docs, addresses);
        }

        private string Address(Node node)
        {
            var text = Text(node, "a mail address");
            var at = text.IndexOf('@');
            if (at <= 0 || at != text.LastIndexOf('@') || at == text.Length - 1 || Approval.IdentityText.Visible(text) != text || text.IndexOfAny(new[] { ' ', '<', '>', ',', ';', '"' }) >= 0)
            {
                throw Invalid(_file, node, $"'{Approval.IdentityText.Visible(text)}' is not a mail address.");
            }

            return text;
        }
    }
}
