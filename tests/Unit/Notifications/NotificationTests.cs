using System.Text.Json;
using AgentGovernance.Approval;
using AgentGovernance.Ledger;
using AgentGovernance.Notifications;
using AgentGovernance.Providers.Graph;
using AgentGovernance.Stores;
using AgentGovernance.Tests.Cmdlets;
using AgentGovernance.Tests.Support;

namespace AgentGovernance.Tests.Notifications;

/// <summary>
/// Notifications as approvers and requesters get them: a Teams card and a mail against real loopback
/// servers (429, 5xx, fallback), the card against the Adaptive Card 1.4 rules, directory text that tries
/// to become a link or markup, the webhook URL kept secret, and the scheduler's command sending each thing once.
/// </summary>
[Collection(ClockCollection.Name)]
public sealed class NotificationTests : ApprovalTestBase, IDisposable
{
    private const string Secret = "sig=S3CRET-SIGNATURE-0123456789";

    public NotificationTests(HostFixture fixture)
        : base(fixture)
    {
        Notifier.Deliveries = () => new HttpDelivery(maxAttempts: 4, baseDelay: TimeSpan.FromMilliseconds(50), maxRetryAfter: TimeSpan.FromSeconds(5), timeout: TimeSpan.FromSeconds(5));
    }

    public new void Dispose()
    {
        Notifier.Deliveries = () => new HttpDelivery();
        base.Dispose();
    }

    private string WebhookFile(LoopbackServer server, bool ownerOnly = true)
    {
        var path = Temp.Write("teams.url", new Uri(server.Base, "workflows/abc/triggers/manual/paths/invoke?api-version=1&" + Secret).AbsoluteUri + "\n");
        if (!OperatingSystem.IsWindows())
        {
            // Windows has no file modes: there the profile's ACL is owner-only.
            File.SetUnixFileMode(path, ownerOnly ? UnixFileMode.UserRead | UnixFileMode.UserWrite : UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        }
        return path;
    }

    private void ConnectWithTeams(LoopbackServer server, string more = "") =>
        Connect(extraPolicy: $"    Notifications = @{{ Teams = @{{ WebhookUrlFile = '{WebhookFile(server)}' }}; DocsUrl = 'https://learn.example/agentgovernance/approval'{more} }}\n");

    private sealed class TestMailer : IGraphMailer
    {
        public TestMailer(LoopbackServer server) => Endpoint = new Uri(server.Base, "v1.0");

        public Uri Endpoint { get; }

        public string? Authorization(Uri url) => url.Host == Endpoint.Host ? "Bearer test-token" : null;
    }

    private (Notifier Notifier, AuditLedger Ledger, IGovernanceStore Store) NewNotifier(NotificationSettings settings, IGraphMailer? mailer)
    {
        var store = FolderStore.Open(StorePath);
        // The session's own ledger signer: every ledger@2 entry is signed, so a writer needs it.
        var ledger = new AuditLedger(store, LedgerSigner.OpenOrCreate(Temp["keys/signer.json"]));
        return (new Notifier(settings, ledger, mailer), ledger, store);
    }

    private static List<LedgerEntry> Sends(AuditLedger ledger) => ledger.Read().Where(e => e.Event == LedgerEvents.NotificationSent).ToList();

    // ---- the card ----------------------------------------------------------------------------------

    /// <summary>The element types, and the properties of each, that Adaptive Cards 1.4 defines and this module uses.</summary>
    private static readonly Dictionary<string, string[]> Schema14 = new()
    {
        ["AdaptiveCard"] = new[] { "type", "$schema", "version", "body", "actions" },
        ["TextBlock"] = new[] { "type", "text", "weight", "size", "wrap", "color", "separator", "isSubtle", "fontType", "spacing" },
        ["RichTextBlock"] = new[] { "type", "inlines", "separator", "spacing" },
        ["TextRun"] = new[] { "type", "text", "weight", "fontType", "italic", "isSubtle", "color", "size" },
        ["FactSet"] = new[] { "type", "facts", "separator", "spacing" },
        ["Action.OpenUrl"] = new[] { "type", "title", "url" },
    };

    private static readonly Dictionary<string, string[]> Enums14 = new()
    {
        ["weight"] = new[] { "Default", "Lighter", "Bolder" },
        ["size"] = new[] { "Default", "Small", "Medium", "Large", "ExtraLarge" },
        ["color"] = new[] { "Default", "Dark", "Light", "Accent", "Good", "Warning", "Attention" },
        ["fontType"] = new[] { "Default", "Monospace" },
    };

    /// <summary>Problems of a Teams message against the Workflows envelope and the Adaptive Card 1.4 rules; empty when it conforms.</summary>
    internal static List<string> CardProblems(JsonElement message)
    {
        var problems = new List<string>();
        if (message.GetProperty("type").GetString() != "message")
        {
            problems.Add("envelope type is not message");
        }

        var attachments = message.GetProperty("attachments");
        if (attachments.GetArrayLength() != 1 || attachments[0].GetProperty("contentType").GetString() != "application/vnd.microsoft.card.adaptive")
        {
            problems.Add("not one adaptive card attachment");
        }

        var card = attachments[0].GetProperty("content");
        var version = Version.Parse(card.GetProperty("version").GetString()!);
        if (version > new Version(1, 4))
        {
            problems.Add($"version {version} is above 1.4");
        }

        void Element(JsonElement e, string where)
        {
            var type = e.GetProperty("type").GetString()!;
            if (!Schema14.TryGetValue(type, out var allowed))
            {
                problems.Add($"{where}: element type {type} is not allowed");
                return;
            }

            foreach (var p in e.EnumerateObject())
            {
                if (!allowed.Contains(p.Name))
                {
                    problems.Add($"{where}: {type}.{p.Name} is not a 1.4 property used here");
                }

                if (Enums14.TryGetValue(p.Name, out var values) && !values.Contains(p.Value.GetString()))
                {
                    problems.Add($"{where}: {type}.{p.Name} = {p.Value} is not a 1.4 value");
                }
            }

            if (type == "RichTextBlock")
            {
                foreach (var (run, i) in e.GetProperty("inlines").EnumerateArray().Select((r, i) => (r, i)))
                {
                    Element(run, $"{where}.inlines[{i}]");
                }
            }

            if (type == "FactSet")
            {
                foreach (var fact in e.GetProperty("facts").EnumerateArray())
                {
                    if (fact.EnumerateObject().Any(p => p.Name != "title" && p.Name != "value"))
                    {
                        problems.Add($"{where}: a fact has properties other than title and value");
                    }
                }
            }

            if (type == "Action.OpenUrl" && !e.GetProperty("url").GetString()!.StartsWith("https://", StringComparison.Ordinal))
            {
                problems.Add($"{where}: Action.OpenUrl to a non-https URL");
            }
        }

        Element(card, "card");
        foreach (var (e, i) in card.GetProperty("body").EnumerateArray().Select((e, i) => (e, i)))
        {
            if (e.GetProperty("type").GetString()!.StartsWith("Action.", StringComparison.Ordinal))
            {
                problems.Add($"body[{i}]: an action in the body");
            }

            Element(e, $"body[{i}]");
        }

        if (card.TryGetProperty("actions", out var actions))
        {
            foreach (var (a, i) in actions.EnumerateArray().Select((a, i) => (a, i)))
            {
                if (a.GetProperty("type").GetString() != "Action.OpenUrl")
                {
                    problems.Add($"actions[{i}]: {a.GetProperty("type").GetString()} could decide something; only Action.OpenUrl is allowed");
                }

                Element(a, $"actions[{i}]");
            }
        }

        return problems;
    }

    [Fact]
    public void TheCardIsAnAdaptiveCard14InTheWorkflowsEnvelopeWithNothingToClickThatDecides()
    {
        Connect();
        var request = Open();
        foreach (var kind in Enum.GetValues<NotificationKind>())
        {
            var json = Json.CanonicalJson.Serialize(NotificationRenderer.TeamsMessage(NotificationContent.Describe(request, kind), new Uri("https://learn.example/approval")));
            using var doc = JsonDocument.Parse(json);
            Assert.Empty(CardProblems(doc.RootElement));
        }

        // The rules can fail: a card with a button that submits, or of a later version, is caught.
        var bad = NotificationRenderer.TeamsMessage(NotificationContent.Describe(request, NotificationKind.Requested), null);
        var card = (Dictionary<string, object?>)((Dictionary<string, object?>)((List<object?>)bad["attachments"]!)[0]!)["content"]!;
        card["actions"] = new List<object?> { new Dictionary<string, object?> { ["type"] = "Action.Submit", ["title"] = "Approve", ["data"] = new Dictionary<string, object?>() } };
        card["version"] = "1.5";
        ((List<object?>)card["body"]!).Add(new Dictionary<string, object?> { ["type"] = "Table", ["columns"] = new List<object?>() });
        using var badDoc = JsonDocument.Parse(Json.CanonicalJson.Serialize(bad));
        var problems = CardProblems(badDoc.RootElement);
        Assert.Contains(problems, p => p.Contains("Action.Submit could decide", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("above 1.4", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("Table is not allowed", StringComparison.Ordinal));
    }

    [Fact]
    public void TheCardSaysWhatIsAskedRiskCountsFindingsFingerprintExpiryAndTheCommandThatApproves()
    {
        Connect();
        var request = Open();
        var content = NotificationContent.Describe(request, NotificationKind.Requested);
        var json = Json.CanonicalJson.Serialize(NotificationRenderer.TeamsMessage(content, null));

        Assert.Contains("Let Engineering read the exports (grant read on site-secret to g-eng)", json, StringComparison.Ordinal);
        Assert.Contains("Critical", json, StringComparison.Ordinal);
        Assert.Contains(request.RequestId.Replace("-", "\\\\-", StringComparison.Ordinal), json, StringComparison.Ordinal); // the fact, markdown-escaped
        Assert.Contains($"Approve-AccessChange -RequestId {request.RequestId} -KeyPath", json, StringComparison.Ordinal);
        var hex = request.ReportHash.Substring("sha256:".Length, 16);
        Assert.Equal($"{hex[..4]} {hex[4..8]} {hex[8..12]} {hex[12..16]}", NotificationContent.Fingerprint(request.ReportHash));
        Assert.Contains(NotificationText.Markdown(NotificationContent.Fingerprint(request.ReportHash)).Replace("\\", "\\\\", StringComparison.Ordinal), json, StringComparison.Ordinal);
        Assert.Contains(GovernanceClock.Format(request.ExpiresAt).Replace("-", "\\\\-", StringComparison.Ordinal).Replace(".", "\\\\.", StringComparison.Ordinal), json, StringComparison.Ordinal);
        Assert.Contains(request.Exposure.Findings.OrderByDescending(f => f.Severity).First().RuleId, json, StringComparison.Ordinal);
        Assert.Contains(content.Facts, f => f.Title == "Gain access" && f.Value.StartsWith($"{request.Exposure.PrincipalsGained} principal(s): {request.Exposure.GainedMembers} member(s)", StringComparison.Ordinal));
        Assert.Contains(content.Untrusted, u => u.Label == "Coverage" && u.Value.StartsWith(request.Exposure.Coverage.ToString(), StringComparison.Ordinal));
    }

    // ---- escaping ----------------------------------------------------------------------------------

    [Fact]
    public void DirectoryAndDocumentTextCannotBecomeALinkMarkupOrAnotherLine()
    {
        const string Evil = "[Approve now](https://evil.example/ok) <img src=x onerror=alert(1)> **urgent** www.evil.example mailto:x@evil.example";
        Connect();
        var request = Open(ChangeWith($"\"title\": \"{Evil}\", \"justification\": \"j\", \"requestedBy\": \"bob@tiny.example\""));
        var content = NotificationContent.Describe(request, NotificationKind.Requested);

        var card = Json.CanonicalJson.Serialize(NotificationRenderer.TeamsMessage(content, null));
        var mailPayload = NotificationRenderer.Mail(content, new[] { "carol@tiny.example" }, null);
        var mail = Json.CanonicalJson.Serialize(mailPayload);
        foreach (var rendered in new[] { card, mail })
        {
            Assert.DoesNotContain("https://evil", rendered, StringComparison.Ordinal);
            Assert.DoesNotContain("www.evil", rendered, StringComparison.Ordinal);
            Assert.DoesNotContain("mailto:x", rendered, StringComparison.Ordinal);
        }

        // The subject is plain text (no client renders it as HTML), one line.
        var subject = (string)((Dictionary<string, object?>)mailPayload["message"]!)["subject"]!;
        Assert.DoesNotContain("\n", subject, StringComparison.Ordinal);
        Assert.DoesNotContain("https://", subject, StringComparison.Ordinal);

        // In the card, the title is only ever in a TextRun (no markdown there), never in a TextBlock or a fact.
        using var doc = JsonDocument.Parse(card);
        var body = doc.RootElement.GetProperty("attachments")[0].GetProperty("content").GetProperty("body");
        foreach (var e in body.EnumerateArray())
        {
            var type = e.GetProperty("type").GetString();
            if (type == "TextBlock")
            {
                Assert.DoesNotContain("Approve now", e.GetProperty("text").GetString(), StringComparison.Ordinal);
            }

            if (type == "FactSet")
            {
                Assert.DoesNotContain("Approve now", e.GetRawText(), StringComparison.Ordinal);
            }

            // Cards render no HTML; a tag is shown as the text it is, and only ever inside a TextRun.
            if (type != "RichTextBlock")
            {
                Assert.DoesNotContain("<img", e.GetRawText(), StringComparison.Ordinal);
            }
        }

        Assert.Contains(body.EnumerateArray(), e => e.GetProperty("type").GetString() == "RichTextBlock" && e.GetRawText().Contains("[Approve now](https[:]//evil.example/ok)", StringComparison.Ordinal));

        // In the mail, it is HTML-encoded text.
        var html = (string)((Dictionary<string, object?>)((Dictionary<string, object?>)mailPayload["message"]!)["body"]!)["content"]!;
        Assert.Contains("&lt;img src=x onerror=alert(1)&gt;", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<img", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<a ", html, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("a\nb", "a<U+000A>b")]
    [InlineData("evil\u202Etxt.exe", "evil<U+202E>txt.exe")]
    [InlineData("bell\u0007", "bell<U+0007>")]
    [InlineData("zero\u200Bwidth", "zero<U+200B>width")]
    [InlineData("see https://x.example/a", "see https[:]//x.example/a")]
    [InlineData("see \\\\server\\share file://c/x", "see \\\\server\\share file[:]//c/x")]
    public void PlainTextShowsControlsAndBidiAndDefangsLinks(string input, string expected) =>
        Assert.Equal(expected, NotificationText.Plain(input));

    [Theory]
    [InlineData("[a](b)", "\\[a\\]\\(b\\)")]
    [InlineData("**x** _y_ `z`", "\\*\\*x\\*\\* \\_y\\_ \\`z\\`")]
    [InlineData("<b>&", "\\<b\\>\\&")]
    [InlineData("- item", "\\- item")]
    public void MarkdownTextEscapesEveryMetacharacter(string input, string expected) =>
        Assert.Equal(expected, NotificationText.Markdown(input));

    [Fact]
    public void HtmlTextIsEncodedAfterItIsMadeVisible() =>
        Assert.Equal("&lt;script&gt;x&lt;/script&gt;<U+000A>", NotificationText.Html("<script>x</script>\n").Replace("&lt;U+000A&gt;", "<U+000A>", StringComparison.Ordinal));

    // ---- delivery against loopback servers ----------------------------------------------------------

    [Fact]
    public void TheWebhookIsRetriedAfterA429WithItsRetryAfterAndEverySendIsInTheLedger()
    {
        using var teams = new LoopbackServer((429, "1"), (202, null));
        ConnectWithTeams(teams);
        var request = Open();
        var (notifier, ledger, store) = NewNotifier(NotificationSettingsOf(), null);
        using (store)
        using (notifier)
        {
            var results = notifier.Send(NotificationContent.Describe(request, NotificationKind.Requested));

            var r = Assert.Single(results);
            Assert.True(r.Sent, r.Error);
            Assert.Equal(2, r.Attempts);
            var received = teams.Requests.ToArray();
            Assert.Equal(2, received.Length);
            Assert.True(received[1].At - received[0].At >= TimeSpan.FromMilliseconds(900), "the second try waited for Retry-After");
            Assert.Equal(received[0].Text, received[1].Text);
            Assert.StartsWith("application/json", received[0].ContentType, StringComparison.Ordinal);
            Assert.Equal(Json.Hashing.Sha256Id(received[0].Body), r.ContentHash);
            using var doc = JsonDocument.Parse(received[0].Body);
            Assert.Empty(CardProblems(doc.RootElement));

            var entry = Assert.Single(Sends(ledger));
            Assert.Equal(request.RequestId, entry.RequestId);
            Assert.Equal("Teams", entry.Details["channel"]);
            Assert.Equal("Sent", entry.Details["status"]);
            Assert.Equal(r.ContentHash, entry.Details["contentHash"]);
            Assert.Equal(2L, entry.Details["attempts"]);
            Assert.DoesNotContain(Secret, entry.DetailsJson, StringComparison.Ordinal);
            Assert.DoesNotContain("paths/invoke", entry.DetailsJson, StringComparison.Ordinal);
            Assert.Contains("127.0.0.1", entry.DetailsJson, StringComparison.Ordinal);
        }
    }

    private NotificationSettings NotificationSettingsOf() => Policy.PolicyReader.ReadFile(Temp["policy.psd1"]).Notifications;

    [Fact]
    public void ServerErrorsAreRetriedWithBackoffAndAClientErrorIsNot()
    {
        using var teams = new LoopbackServer((503, null), (500, null), (202, null));
        ConnectWithTeams(teams);
        var request = Open();
        var (notifier, _, store) = NewNotifier(NotificationSettingsOf(), null);
        using (store)
        using (notifier)
        {
            var r = Assert.Single(notifier.Send(NotificationContent.Describe(request, NotificationKind.Requested)));
            Assert.True(r.Sent, r.Error);
            Assert.Equal(3, r.Attempts);
        }

        using var refusing = new LoopbackServer((400, null));
        ConnectWithTeams(refusing);
        var (notifier2, ledger2, store2) = NewNotifier(NotificationSettingsOf(), null);
        using (store2)
        using (notifier2)
        {
            var r = Assert.Single(notifier2.Send(NotificationContent.Describe(request, NotificationKind.Requested)));
            Assert.False(r.Sent);
            Assert.Equal(1, r.Attempts);
            Assert.Single(refusing.Requests);
            Assert.StartsWith("HTTP 400", r.Error, StringComparison.Ordinal);
            Assert.Equal("Failed", Sends(ledger2).Last().Details["status"]);
        }
    }

    [Fact]
    public void WhenTeamsKeepsFailingTheMailGoesThroughGraphSendMailAfterA429()
    {
        using var teams = new LoopbackServer((500, null));
        using var graph = new LoopbackServer((429, "0"), (202, null));
        ConnectWithTeams(teams, "; Mail = @{ From = 'governance@tiny.example' }; Primary = 'Teams'");
        var request = Open();
        var (notifier, ledger, store) = NewNotifier(NotificationSettingsOf(), new TestMailer(graph));
        using (store)
        using (notifier)
        {
            var results = notifier.Send(NotificationContent.Describe(request, NotificationKind.Requested));

            Assert.Equal(2, results.Count);
            Assert.Equal((NotificationChannel.Teams, "Failed", 4), (results[0].Channel, results[0].Status, results[0].Attempts));
            Assert.Equal(4, teams.Requests.Count);
            var mail = results[1];
            Assert.True(mail.Sent, mail.Error);
            Assert.Equal(NotificationChannel.Teams, mail.FallbackFrom);
            Assert.Equal(2, mail.Attempts);
            Assert.Equal(new[] { "carol@tiny.example", "erin@example.org", "frank@example.org" }, mail.Recipients);

            var sent = graph.Requests.Last();
            Assert.Equal("POST", sent.Method);
            Assert.Equal("/v1.0/users/governance%40tiny.example/sendMail", sent.Path);
            Assert.Equal("Bearer test-token", sent.Authorization);
            Assert.Equal(Json.Hashing.Sha256Id(sent.Body), mail.ContentHash);
            using var doc = JsonDocument.Parse(sent.Body);
            var message = doc.RootElement.GetProperty("message");
            Assert.Equal("HTML", message.GetProperty("body").GetProperty("contentType").GetString());
            Assert.Equal(mail.Recipients, message.GetProperty("toRecipients").EnumerateArray().Select(t => t.GetProperty("emailAddress").GetProperty("address").GetString()));
            Assert.Contains(request.RequestId, message.GetProperty("body").GetProperty("content").GetString(), StringComparison.Ordinal);

            var entries = Sends(ledger);
            Assert.Equal(new[] { "Teams:Failed", "Mail:Sent" }, entries.Select(e => $"{e.Details["channel"]}:{e.Details["status"]}"));
            Assert.Equal("Teams", entries[1].Details["fallbackFrom"]);
        }
    }

    [Fact]
    public void ALongRetryAfterIsNotWaitedForTheOtherChannelIsTried()
    {
        using var teams = new LoopbackServer((429, "3600"));
        using var graph = new LoopbackServer((202, null));
        ConnectWithTeams(teams, "; Mail = @{ From = 'governance@tiny.example' }");
        var request = Open();
        var (notifier, _, store) = NewNotifier(NotificationSettingsOf(), new TestMailer(graph));
        using (store)
        using (notifier)
        {
            var watch = System.Diagnostics.Stopwatch.StartNew();
            var results = notifier.Send(NotificationContent.Describe(request, NotificationKind.Requested));
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10));
            Assert.Contains("retry after 3600 s", results[0].Error, StringComparison.Ordinal);
            Assert.True(results[1].Sent);
        }
    }

    // ---- secrets -------------------------------------------------------------------------------------

    [Fact]
    public void AWebhookFileOthersCanReadIsRefusedAndNothingIsPosted()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // no file modes to get wrong
        }

        using var teams = new LoopbackServer((202, null));
        Connect(extraPolicy: $"    Notifications = @{{ Teams = @{{ WebhookUrlFile = '{WebhookFile(teams, ownerOnly: false)}' }} }}\n");
        var request = Open();

        var result = Run("Send-ApprovalNotification -Verbose");

        var error = Assert.Single(result.Errors);
        Assert.Equal("NotificationFailed", error.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Contains("NotificationSecretInsecure", error.Exception.Message, StringComparison.Ordinal);
        Assert.Contains("644", error.Exception.Message, StringComparison.Ordinal);
        Assert.Empty(teams.Requests);
        Assert.Equal(request.RequestId, result.Single<NotificationResult>().RequestId);
    }

    [Fact]
    public void TheWebhookUrlIsNeverShownInFullInOutputVerboseWarningsOrTheLedger()
    {
        using var teams = new LoopbackServer((500, null));
        ConnectWithTeams(teams);
        Temp.Write("change.json", CmdletTestData.GrantChange);

        var result = Run("Import-AccessChange change.json | Request-HumanApproval -Notify -Verbose; Send-ApprovalNotification -Verbose | Format-List * | Out-String");

        var everything = string.Join("\n", result.Output.Select(o => o.ToString()).Concat(result.Verbose).Concat(result.Warnings).Concat(result.Errors.Select(e => e.ToString())))
            + string.Join("\n", Log().Select(e => e.DetailsJson));
        Assert.Contains("127.0.0.1", everything, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, everything, StringComparison.Ordinal);
        Assert.DoesNotContain("paths/invoke", everything, StringComparison.Ordinal);
    }

    [Fact]
    public void TheWebhookUrlCanComeFromAnEnvironmentVariableButNeverFromThePolicy()
    {
        using var teams = new LoopbackServer((202, null));
        var name = "AG_TEST_WEBHOOK_" + Guid.NewGuid().ToString("N")[..8];
        Environment.SetEnvironmentVariable(name, new Uri(teams.Base, "hook?" + Secret).AbsoluteUri);
        try
        {
            Connect(extraPolicy: $"    Notifications = @{{ Teams = @{{ WebhookUrlEnvironmentVariable = '{name}' }} }}\n");
            Open(CmdletTestData.GrantChange, "-Notify");
            Assert.Single(teams.Requests);
        }
        finally
        {
            Environment.SetEnvironmentVariable(name, null);
        }

        var e = Assert.Throws<DocumentException>(() => Policy.PolicyReader.Parse("@{ Notifications = @{ Teams = @{ WebhookUrlFile = 'https://prod.example/workflows/x?sig=1' } } }"));
        Assert.Equal("Notifications.Teams.WebhookUrlFile", e.Field);
        Assert.Contains("secret", e.Message, StringComparison.Ordinal);
        Assert.Throws<DocumentException>(() => Policy.PolicyReader.Parse("@{ Notifications = @{ Primary = 'Mail'; Teams = @{ WebhookUrlEnvironmentVariable = 'X' } } }"));
        Assert.Throws<DocumentException>(() => Policy.PolicyReader.Parse("@{ Notifications = @{ Mail = @{ From = 'not an address' } } }"));
        Assert.Throws<DocumentException>(() => Policy.PolicyReader.Parse("@{ Notifications = @{ DocsUrl = 'http://plain.example' } }"));
        Assert.Throws<DocumentException>(() => Policy.PolicyReader.Parse("@{ Notifications = @{ Teams = @{ WebhookUrlFile = 'a'; WebhookUrlEnvironmentVariable = 'B' } } }"));
    }

    // ---- the cmdlets ---------------------------------------------------------------------------------

    [Fact]
    public void AFailedNotifyNeverBlocksTheRequestAndTheSchedulerSendsEachThingOnce()
    {
        var down = new LoopbackServer((202, null));
        var port = down.Port;
        ConnectWithTeams(down);
        down.Dispose(); // nothing listens now
        Temp.Write("change.json", CmdletTestData.GrantChange);

        var opened = Run("Import-AccessChange change.json | Request-HumanApproval -Notify");

        var request = opened.Single<ApprovalRequest>();
        Assert.Empty(opened.Errors);
        Assert.Contains(opened.Warnings, w => w.StartsWith("NotificationFailed:", StringComparison.Ordinal));
        Assert.Equal(ApprovalStatus.Pending, Get(request.RequestId).Status);
        Assert.Equal("Failed", Log("-Event NotificationSent").Single().Details["status"]);

        // The scheduler's run sends what did not go out; a second run sends nothing more.
        using var teams = new LoopbackServer(port, (202, null));
        var first = RunClean("Send-ApprovalNotification").Objects<NotificationResult>().ToList();
        Assert.Equal(new[] { "Requested" }, first.Select(r => r.Key));
        Assert.Empty(RunClean("Send-ApprovalNotification").Objects<NotificationResult>());

        // A decision: progress, to the requester and approvers.
        Assert.Empty(Approve(request.RequestId, "carol").Errors);
        Assert.Equal(new[] { "Progress:1" }, RunClean("Send-ApprovalNotification").Objects<NotificationResult>().Select(r => r.Key));

        // The quorum: the outcome.
        Assert.Empty(Approve(request.RequestId, "erin").Errors);
        var outcome = RunClean("Send-ApprovalNotification -RequestId $args[0]", request.RequestId).Single<NotificationResult>();
        Assert.Equal("Outcome:Approved", outcome.Key);
        Assert.Empty(RunClean("Send-ApprovalNotification").Objects<NotificationResult>());
        Assert.Equal(3, teams.Requests.Count);
        Assert.Equal(new[] { "Requested", "Requested", "Progress:1", "Outcome:Approved" }, Log("-Event NotificationSent").Select(e => (string)e.Details["key"]!));
        Assert.Empty(Run("Test-GovernanceAuditLog").Errors);
    }

    [Fact]
    public void AReminderGoesOutBeforeExpiryOnceAndTheExpiryIsAnOutcome()
    {
        using var clock = new TestClock(DateTimeOffset.UtcNow);
        using var teams = new LoopbackServer((202, null));
        ConnectWithTeams(teams, "; ReminderBefore = 'PT1H'");
        var request = Open(CmdletTestData.GrantChange, "-ExpiresIn PT3H -Notify");

        Assert.Empty(RunClean("Send-ApprovalNotification").Objects<NotificationResult>());
        clock.Advance(TimeSpan.FromHours(2.5));
        Assert.Equal(new[] { "Reminder" }, RunClean("Send-ApprovalNotification").Objects<NotificationResult>().Select(r => r.Key));
        Assert.Empty(RunClean("Send-ApprovalNotification").Objects<NotificationResult>());
        clock.Advance(TimeSpan.FromHours(1));
        Assert.Equal(new[] { "Outcome:Expired" }, RunClean("Send-ApprovalNotification").Objects<NotificationResult>().Select(r => r.Key));
        using var doc = JsonDocument.Parse(teams.Requests.Last().Body);
        Assert.Contains("Request Expired", doc.RootElement.GetRawText(), StringComparison.Ordinal);
        Assert.DoesNotContain("Approve-AccessChange", doc.RootElement.GetRawText(), StringComparison.Ordinal);
        Assert.Equal(request.RequestId, Log("-Event NotificationSent").Last().RequestId);
    }

    [Fact]
    public void NotifyWithoutChannelsIsRefusedBeforeAnythingIsWritten()
    {
        Connect();
        Temp.Write("change.json", CmdletTestData.GrantChange);

        var result = Run("Import-AccessChange change.json | Request-HumanApproval -Notify");

        Assert.Equal("NotificationNoChannel,AgentGovernance.Commands.RequestHumanApprovalCommand", Assert.Single(result.Errors).FullyQualifiedErrorId);
        Assert.Empty(result.Objects<ApprovalRequest>());
        Assert.Empty(Log());
        Assert.Equal("NotificationNoChannel,AgentGovernance.Commands.SendApprovalNotificationCommand", Assert.Single(Run("Send-ApprovalNotification").Errors).FullyQualifiedErrorId);
    }

    [Fact]
    public void WhatIfSendsNothing()
    {
        using var teams = new LoopbackServer((202, null));
        ConnectWithTeams(teams);
        Open();

        RunClean("Send-ApprovalNotification -WhatIf");

        Assert.Empty(teams.Requests);
        Assert.Empty(Log("-Event NotificationSent"));
    }
}
