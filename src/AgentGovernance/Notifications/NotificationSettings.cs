using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using AgentGovernance.IO;

namespace AgentGovernance.Notifications;

/// <summary>The channels a notification can go through.</summary>
[Newtonsoft.Json.JsonConverter(typeof(Newtonsoft.Json.Converters.StringEnumConverter))]
public enum NotificationChannel
{
    Teams,
    Mail,
}

/// <summary>
/// Where a Teams Workflows webhook URL is kept. The URL is a secret (whoever has it can post to the
/// channel), so the policy names a file readable by its owner only, or an environment variable, never the URL.
/// </summary>
public sealed class WebhookSecret
{
    internal WebhookSecret(string? file, string? environmentVariable)
    {
        if ((file is null) == (environmentVariable is null))
        {
            throw new ArgumentException("A webhook secret is either a file or an environment variable.");
        }

        File = file;
        EnvironmentVariable = environmentVariable;
    }

    /// <summary>The file holding the URL (mode 600 on Linux and macOS); null when it is in an environment variable.</summary>
    public string? File { get; }

    public string? EnvironmentVariable { get; }

    public override string ToString() => File is not null ? $"file {File}" : $"environment variable {EnvironmentVariable}";

    /// <summary>Reads the URL: NotificationSecretMissing, NotificationSecretInsecure or NotificationUrlInvalid when it cannot be used.</summary>
    internal Uri Read()
    {
        string text;
        if (File is { } path)
        {
            var full = Path.GetFullPath(Environment.ExpandEnvironmentVariables(path.StartsWith("~/", StringComparison.Ordinal)
                ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), path.Substring(2)) : path));
            if (!System.IO.File.Exists(full))
            {
                throw new GovernanceException("NotificationSecretMissing", GovernanceErrorKind.ObjectNotFound,
                    $"The Teams webhook file '{full}' does not exist. Write the Workflows webhook URL into it and make it readable by you only (chmod 600).", full);
            }

            if (!OwnerOnly.IsOwnerOnly(full, out var mode))
            {
                throw new GovernanceException("NotificationSecretInsecure", GovernanceErrorKind.SecurityError,
                    $"The Teams webhook file '{full}' can be read by others (mode {mode}): the URL is a secret. Run chmod 600 on it.", full);
            }

            try
            {
                text = System.IO.File.ReadAllText(full, new UTF8Encoding(false, true));
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException || e is DecoderFallbackException)
            {
                throw new GovernanceException("NotificationSecretMissing", GovernanceErrorKind.ReadError, $"Cannot read the Teams webhook file '{full}': {e.Message}", full, e);
            }
        }
        else
        {
            text = Environment.GetEnvironmentVariable(EnvironmentVariable!) ?? string.Empty;
            if (text.Length == 0)
            {
                throw new GovernanceException("NotificationSecretMissing", GovernanceErrorKind.ObjectNotFound,
                    $"The environment variable {EnvironmentVariable} that should hold the Teams webhook URL is not set.", EnvironmentVariable);
            }
        }

        return ParseUrl(text.Trim(), ToString());
    }

    /// <summary>An https URL (http only to this machine, for tests), without user info.</summary>
    internal static Uri ParseUrl(string text, string where)
    {
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri)
            || !(uri.Scheme == Uri.UriSchemeHttps || (uri.Scheme == Uri.UriSchemeHttp && uri.IsLoopback))
            || uri.UserInfo.Length > 0)
        {
            throw new GovernanceException("NotificationUrlInvalid", GovernanceErrorKind.InvalidData,
                $"The Teams webhook URL in {where} is not an https URL (it is not shown: it is a secret). Copy it again from the Workflows app.", where);
        }

        return uri;
    }

    /// <summary>How a webhook URL may be shown: its host and a fingerprint, never its path or query (they hold the signature).</summary>
    public static string Redact(Uri url)
    {
        using var sha = SHA256.Create();
        var hash = sha.ComputeHash(Encoding.UTF8.GetBytes(url.AbsoluteUri));
        return $"{url.Scheme}://{url.Authority}/… (sha256:{Json.Hashing.ToHex(hash).Substring(0, 12)})";
    }
}

/// <summary>The Notifications section of a policy: the channels, which one goes first, when to remind.</summary>
public sealed class NotificationSettings
{
    internal NotificationSettings(WebhookSecret? teams, string? mailbox, NotificationChannel? primary, TimeSpan reminderBefore, Uri? docsUrl,
        IReadOnlyDictionary<string, string>? addresses = null)
    {
        Teams = teams;
        Mailbox = mailbox;
        Primary = primary ?? (teams is not null ? NotificationChannel.Teams : NotificationChannel.Mail);
        ReminderBeforeTimeSpan = reminderBefore;
        DocsUrl = docsUrl;
        Addresses = new ReadOnlyDictionary<string, string>(addresses is null
            ? new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
            : new Dictionary<string, string>(addresses.ToDictionary(p => p.Key, p => p.Value), StringComparer.OrdinalIgnoreCase));
    }

    public static TimeSpan DefaultReminderBefore { get; } = TimeSpan.FromHours(2);

    /// <summary>No channels: what a policy without a Notifications section means.</summary>
    public static NotificationSettings None { get; } = new(null, null, null, DefaultReminderBefore, null);

    /// <summary>The Teams Workflows webhook, or null.</summary>
    public WebhookSecret? Teams { get; }

    /// <summary>The mailbox mail is sent from through Graph sendMail, or null.</summary>
    public string? Mailbox { get; }

    /// <summary>The channel tried first; the other (when configured) is the fallback.</summary>
    public NotificationChannel Primary { get; }

    /// <summary>How long before a request expires the reminder goes out, as ISO 8601 (PT2H).</summary>
    public string ReminderBefore => Changes.IsoDuration.Format(ReminderBeforeTimeSpan);

    /// <summary><see cref="ReminderBefore"/> as a TimeSpan (internal, so ConvertTo-Json writes the duration once; PowerShell: the hidden ReminderBeforeTimeSpan).</summary>
    internal TimeSpan ReminderBeforeTimeSpan { get; }

    /// <summary>An https page the card and mail link to (the only action they carry).</summary>
    public Uri? DocsUrl { get; }

    /// <summary>Mail addresses for identities that are not themselves addresses (principal ids).</summary>
    public IReadOnlyDictionary<string, string> Addresses { get; }

    public bool Any => Teams is not null || Mailbox is not null;

    /// <summary>The configured channels, the primary first.</summary>
    public IReadOnlyList<NotificationChannel> Channels
    {
        get
        {
            var all = new List<NotificationChannel>();
            foreach (var c in new[] { Primary, Primary == NotificationChannel.Teams ? NotificationChannel.Mail : NotificationChannel.Teams })
            {
                if ((c == NotificationChannel.Teams && Teams is not null) || (c == NotificationChannel.Mail && Mailbox is not null))
                {
                    all.Add(c);
                }
            }

            return all;
        }
    }
}
