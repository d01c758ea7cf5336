using System.Diagnostics;
using System.Text;
using System.Text.Json;
using AgentGovernance.Approval;
using AgentGovernance.Changes;
using AgentGovernance.Exposure;
using AgentGovernance.Policy;
using AgentGovernance.Directory;
using AgentGovernance.Ledger;
using AgentGovernance.Stores;
using AgentGovernance.Suggestions;
using AgentGovernance.Tests.Support;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using Xunit.Abstractions;

namespace AgentGovernance.Tests.Agents;

/// <summary>
/// One real server for the class: the repository's pwsh (dotnet pwsh, .config/dotnet-tools.json) imports the
/// built module, connects to a copy of the demo tenant with a store of its own, and runs
/// Start-AgentGovernanceMcpServer; the tests talk to it with the SDK's own client over its stdio.
/// </summary>
public sealed class McpServerFixture : IAsyncLifetime
{
    public const string Agent = "sp-helper";
    public const string Requester = "alice@contoso.com";

    public TempDir Dir { get; } = new();

    public McpClient Client { get; private set; } = null!;

    public List<string> Stderr { get; } = new();

    public string Store => Dir["store"];

    public string SnapshotPath => Dir["contoso.snapshot.json"];

    public string PolicyPath => Dir["policy.psd1"];

    public async Task InitializeAsync()
    {
        File.Copy(Repo.DemoSnapshot, SnapshotPath);
        File.WriteAllText(PolicyPath, Policy(), new UTF8Encoding(false));
        Client = await McpServerTests.Connect(this, $"Start-AgentGovernanceMcpServer -AgentId {Agent} -RequestedBy {Requester}", Stderr);
    }

    /// <summary>Three approvers of the demo tenant (with the test keys of carol, erin and frank), and sp-helper an agent.</summary>
    public static string Policy() =>
        "@{\n    AgentIdentities = @('sp-helper')\n    Approvers = @(\n" +
        string.Concat(Approvers.Select(a => $"        @{{ Id = '{a.Id}'; PublicKey = '{ApprovalTestData.Keys[a.Key].Key.Base64}' }}\n")) +
        "    )\n}\n";

    public static readonly (string Id, string Key)[] Approvers = { ("dana.gupta@contoso.com", "carol@tiny.example"), ("margaret.chen@contoso.com", "erin@example.org"), ("david.okafor@contoso.com", "frank@example.org") };

    public string Setup =>
        $"Import-Module '{Repo.ModuleManifest}'; Connect-AgentGovernance -SnapshotPath '{SnapshotPath}' -PolicyPath '{PolicyPath}' -StorePath '{Store}' -LedgerSignerPath '{Dir["ledger.key"]}'";

    public async Task DisposeAsync()
    {
        await Client.DisposeAsync();
        Dir.Dispose();
    }

    public List<LedgerEntry> Ledger() => new AuditLedger(FolderStore.Open(Store), null).Read().ToList();

    public List<LedgerEntry> ToolCalls() => Ledger().Where(e => e.Event == "AgentToolCalled").ToList();
}

public sealed class McpServerTests : IClassFixture<McpServerFixture>
{
    private static readonly string[] Expected = { "explain_access", "preview_change", "propose_change", "request_status" };
    private readonly McpServerFixture _server;
    private readonly ITestOutputHelper _log;

    public McpServerTests(McpServerFixture server, ITestOutputHelper log)
    {
        _server = server;
        _log = log;
    }

    /// <summary>The repository's pwsh with the command line an MCP client configuration names.</summary>
    public static ProcessStartInfoLike Pwsh(string command) => new("dotnet", new[] { "pwsh", "-NoProfile", "-NonInteractive", "-Command", command });

    public sealed record ProcessStartInfoLike(string Command, string[] Arguments);

    public static Dictionary<string, string?> Environment => new()
    {
        ["DOTNET_NOLOGO"] = "1",
        ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
        ["POWERSHELL_TELEMETRY_OPTOUT"] = "1",
        ["POWERSHELL_UPDATECHECK"] = "Off",
    };

    public static async Task<McpClient> Connect(McpServerFixture f, string start, List<string> stderr)
    {
        var p = Pwsh(f.Setup + "; " + start);
        var transport = new StdioClientTransport(new StdioClientTransportOptions
        {
            Name = "agentgovernance",
            Command = p.Command,
            Arguments = p.Arguments,
            WorkingDirectory = Repo.Root,
            EnvironmentVariables = Environment,
            StandardErrorLines = line => { lock (stderr) stderr.Add(line); },
        });
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        return await McpClient.CreateAsync(transport, cancellationToken: timeout.Token);
    }

    private async Task<(JsonElement Body, bool IsError)> Call(string tool, Dictionary<string, object?> args)
    {
        var result = await _server.Client.CallToolAsync(tool, args);
        var text = Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text;
        _log.WriteLine($"{tool} -> {(text.Length > 2000 ? text.Substring(0, 2000) + "..." : text)}");
        return (JsonDocument.Parse(text).RootElement.Clone(), result.IsError == true);
    }

    private static Dictionary<string, object?> Grant(string resource, string principal, string role = "read") => new()
    {
        ["operations"] = new[] { new Dictionary<string, object?> { ["op"] = "grant", ["resource"] = resource, ["principal"] = principal, ["role"] = role } },
    };

    [Fact]
    public async Task Lists_exactly_the_four_safe_tools()
    {
        var tools = await _server.Client.ListToolsAsync();
        Assert.Equal(Expected, tools.Select(t => t.Name).OrderBy(n => n, StringComparer.Ordinal));
        Assert.DoesNotContain(tools, t => t.Name.Contains("approve") || t.Name.Contains("apply") || t.Name.Contains("deny") || t.Name.Contains("policy"));
        Assert.Equal("AgentGovernance", _server.Client.ServerInfo!.Name);
    }

    [Fact]
    public async Task Preview_of_structured_operations_gives_risk_counts_and_says_a_person_must_approve_and_is_in_the_ledger()
    {
        var before = _server.ToolCalls().Count;
        var (body, isError) = await Call("preview_change", Grant("site-support-kb", "u-alice"));
        Assert.False(isError);
        Assert.False(body.GetProperty("changed").GetBoolean());
        Assert.True(body.GetProperty("humanApprovalRequired").GetBoolean());
        Assert.Contains("Only a person can approve", body.GetProperty("note").GetString());
        Assert.True(body.GetProperty("principalsGained").GetInt32() >= 1);
        Assert.True(body.GetProperty("requiredApprovals").GetInt32() >= 1);
        Assert.False(string.IsNullOrEmpty(body.GetProperty("risk").GetString()));

        // The same change assessed in this process on the same snapshot and policy gives the same answer.
        var snapshot = SnapshotReader.ReadFile(_server.SnapshotPath);
        var change = new AccessChange(new[] { AccessOperation.Grant("site-support-kb", "u-alice", "read") }, suggestedBy: new SuggestedBy("agent", McpServerFixture.Agent), requestedBy: McpServerFixture.Requester, source: "mcp");
        var report = ExposureEngine.Assess(snapshot, change, PolicyReader.ReadFile(_server.PolicyPath));
        Assert.Equal(report.RiskLevel.ToString(), body.GetProperty("risk").GetString());
        Assert.Equal(report.PrincipalsGained, body.GetProperty("principalsGained").GetInt32());
        Assert.Equal(report.RequiredApprovals, body.GetProperty("requiredApprovals").GetInt32());
        Assert.Equal(report.Coverage.ToString(), body.GetProperty("coverage").GetString());

        var calls = _server.ToolCalls();
        Assert.Equal(before + 1, calls.Count);
        var last = calls[^1];
        Assert.Equal(McpServerFixture.Agent, last.Actor);
        Assert.Equal("preview_change", last.Details["tool"]);
        Assert.Equal("ok", last.Details["outcome"]);
        Assert.Matches("^sha256:[0-9a-f]{64}$", (string)last.Details["argumentsHash"]!);
        Assert.Empty(System.IO.Directory.GetFiles(_server.Store, "req-*.json", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task Script_text_goes_through_the_same_intake_as_ConvertFrom_AgentSuggestion()
    {
        const string script = "Add-PnPGroupMember -LoginName alice@contoso.com -Group 'Support KB Readers'\nSet-PnPSite -Identity https://contoso.sharepoint.com/sites/support-kb -SharingCapability ExternalUserAndGuestSharing\n";
        var (body, isError) = await Call("preview_change", new() { ["script"] = script, ["format"] = "Script" });
        var snapshot = SnapshotReader.ReadFile(_server.SnapshotPath);
        var local = SuggestionConverter.Convert(script, SuggestionConverter.HashText(script), null, new SuggestionOptions
        {
            Format = SuggestionInputFormat.Script,
            SuggestedBy = McpServerFixture.Agent,
            SuggestedByType = "agent",
            Source = "mcp",
            RequestedBy = McpServerFixture.Requester,
        }, snapshot);
        if (local.Change is null)
        {
            Assert.True(isError);
            Assert.Equal(local.Analysis.Findings[0].ErrorId, body.GetProperty("error").GetString());
        }
        else
        {
            Assert.False(isError);
            Assert.Equal(local.Change.Id, body.GetProperty("changeId").GetString());
        }
    }

    [Fact]
    public async Task Code_in_the_script_is_refused_and_never_run()
    {
        var marker = _server.Dir["pwned.txt"];
        var script = $"Invoke-Expression \"Set-Content -Path '{marker}' -Value x\"\n$(Set-Content -Path '{marker}' -Value y)\nAdd-PnPGroupMember -LoginName (Set-Content -Path '{marker}' -Value z) -Group g\n";
        var (body, isError) = await Call("preview_change", new() { ["script"] = script });
        Assert.True(isError);
        Assert.False(body.GetProperty("changed").GetBoolean());
        Assert.False(File.Exists(marker));
        Assert.NotEqual("ok", (string)_server.ToolCalls()[^1].Details["outcome"]!);
    }

    [Fact]
    public async Task Propose_opens_a_request_suggested_by_the_servers_agent_whatever_the_text_claims()
    {
        var args = Grant("site-support-kb", "u-alice");
        args["justification"] = "On call tonight; needs the runbooks.";
        var (body, isError) = await Call("propose_change", args);
        Assert.False(isError);
        var id = body.GetProperty("requestId").GetString()!;
        Assert.Equal("Pending", body.GetProperty("status").GetString());
        Assert.Contains("approval(s) from people", body.GetProperty("note").GetString());

        using var approvals = new ApprovalService(FolderStore.Open(_server.Store), null, PolicyReader.ReadFile(_server.PolicyPath), SnapshotReader.ReadFile(_server.SnapshotPath));
        var request = approvals.Get(id);
        Assert.Equal("agent", request.Change.SuggestedBy!.Type);
        Assert.Equal(McpServerFixture.Agent, request.Change.SuggestedBy.Id);
        Assert.Equal(McpServerFixture.Requester, request.Change.RequestedBy);
        Assert.Contains(_server.Ledger(), e => e.RequestId == id && e.Event == LedgerEvents.ApprovalRequested);
        Assert.Contains(_server.ToolCalls(), e => e.RequestId == id && (string)e.Details["tool"]! == "propose_change");

        var (status, statusError) = await Call("request_status", new() { ["requestId"] = id });
        Assert.False(statusError);
        Assert.Equal("Pending", status.GetProperty("status").GetString());
        Assert.Equal(0, status.GetProperty("approvals").GetInt32());

        // A person approves with their own key, outside the server; the agent sees it, and still cannot apply.
        using (var decide = new ApprovalService(FolderStore.Open(_server.Store), LedgerSigner.OpenOrCreate(_server.Dir["ledger.key"]), PolicyReader.ReadFile(_server.PolicyPath), SnapshotReader.ReadFile(_server.SnapshotPath)))
        using (var key = ApproverKeyFile.Open(ApprovalTestData.Keys["carol@tiny.example"].Path, Encoding.UTF8.GetBytes(ApprovalTestData.Passphrase)))
        {
            decide.Decide(id, key, DecisionKind.Approve, "looked at it");
        }

        var (after, _) = await Call("request_status", new() { ["requestId"] = id });
        Assert.Equal(1, after.GetProperty("approvals").GetInt32());
        Assert.False(after.GetProperty("changed").GetBoolean());
    }

    [Fact]
    public async Task An_agent_identity_the_policy_lists_as_an_approver_is_refused_at_start()
    {
        var p = Pwsh(_server.Setup + "; try { Start-AgentGovernanceMcpServer -AgentId ' DANA.GUPTA@contoso.com' -RequestedBy alice@contoso.com } catch { [Console]::Error.WriteLine($_.FullyQualifiedErrorId); exit 3 }");
        var (code, stdout, stderr) = await RunRaw(p, string.Empty, TimeSpan.FromMinutes(3));
        Assert.Equal(3, code);
        Assert.StartsWith("McpAgentIsApprover,", stderr.Trim());
        Assert.Equal(string.Empty, stdout.Trim());
    }

    [Fact]
    public async Task Stdout_carries_only_protocol_messages_even_with_verbose_and_information_on()
    {
        // Every stream the server's own run could write to is on; what ran before it (Import-Module, Connect) is the caller's.
        var p = Pwsh(_server.Setup + "; $VerbosePreference = 'Continue'; $InformationPreference = 'Continue'; $DebugPreference = 'Continue'; $WarningPreference = 'Continue'; " +
            "Start-AgentGovernanceMcpServer -AgentId sp-helper -RequestedBy alice@contoso.com -Verbose; Write-Output 'after the server: the caller may write again'");
        var input = string.Join("\n",
            """{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}""",
            """{"jsonrpc":"2.0","method":"notifications/initialized"}""",
            """{"jsonrpc":"2.0","id":2,"method":"tools/list"}""",
            """{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"preview_change","arguments":{"operations":[{"op":"grant","resource":"site-support-kb","principal":"u-alice","role":"read"}]}}}""",
            """{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"approve","arguments":{}}}""",
            "this is not json",
            """{"jsonrpc":"2.0","id":5,"method":"tools/list"}""") + "\n";
        var (code, stdout, stderr) = await RunRaw(p, input, TimeSpan.FromMinutes(3), expectResponses: 5);
        _log.WriteLine(stderr);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();
        Assert.Equal("after the server: the caller may write again", lines[^1]);
        lines.RemoveAt(lines.Count - 1);
        Assert.True(lines.Count >= 5, stdout);
        foreach (var line in lines)
        {
            Assert.True(line.StartsWith('{'), "Not a protocol message on stdout: " + line);
            using var doc = JsonDocument.Parse(line);
            Assert.Equal("2.0", doc.RootElement.GetProperty("jsonrpc").GetString());
        }

        var ids = lines.Select(l => JsonDocument.Parse(l).RootElement).Where(e => e.TryGetProperty("id", out _)).Select(e => e.GetProperty("id").GetInt32()).ToList();
        Assert.Equal(new[] { 1, 2, 3, 4, 5 }, ids.OrderBy(i => i));
        Assert.Equal(0, code);
    }

    /// <summary>Runs the server as a process, writes <paramref name="input"/>, waits for that many responses on stdout, then closes stdin and waits for the exit.</summary>
    private static async Task<(int Code, string Stdout, string Stderr)> RunRaw(ProcessStartInfoLike p, string input, TimeSpan timeout, int expectResponses = 0)
    {
        var info = new ProcessStartInfo(p.Command) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = Repo.Root };
        foreach (var a in p.Arguments) info.ArgumentList.Add(a);
        foreach (var (k, v) in Environment) info.Environment[k] = v;
        using var process = Process.Start(info)!;
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        var responses = 0;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (stdout) { stdout.Append(e.Data).Append('\n'); if (e.Data.Contains("\"id\"")) responses++; } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (stderr) stderr.Append(e.Data).Append('\n'); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await process.StandardInput.WriteAsync(input);
        await process.StandardInput.FlushAsync();
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < timeout && !process.HasExited)
        {
            lock (stdout)
            {
                if (responses >= expectResponses && expectResponses > 0) break;
            }

            await Task.Delay(100);
        }

        process.StandardInput.Close();
        using var cts = new CancellationTokenSource(timeout);
        await process.WaitForExitAsync(cts.Token);
        lock (stdout) lock (stderr) return (process.ExitCode, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public async Task A_change_document_that_names_another_suggester_or_requester_is_not_taken_at_its_word()
    {
        var document = """
            { "schema": "agentgovernance/change@1", "title": "t", "justification": "j",
              "suggestedBy": { "type": "user", "id": "u-dana.gupta", "displayName": "Dana Gupta" },
              "requestedBy": "margaret.chen@contoso.com",
              "operations": [ { "op": "grant", "resource": "site-support-kb", "principal": "u-alice", "role": "read" } ] }
            """;
        var (body, isError) = await Call("propose_change", new() { ["script"] = document, ["format"] = "Json", ["justification"] = "claims to be someone else" });
        Assert.False(isError);
        {
            using var approvals = new ApprovalService(FolderStore.Open(_server.Store), null, PolicyReader.ReadFile(_server.PolicyPath), SnapshotReader.ReadFile(_server.SnapshotPath));
            var request = approvals.Get(body.GetProperty("requestId").GetString()!);
            Assert.Equal("agent", request.Change.SuggestedBy!.Type);
            Assert.Equal(McpServerFixture.Agent, request.Change.SuggestedBy.Id);
            Assert.Equal(McpServerFixture.Requester, request.Change.RequestedBy);
        }
    }

    [Theory]
    [InlineData("suggestedBy")]
    [InlineData("requestedBy")]
    [InlineData("approve")]
    public async Task Identity_and_approval_are_not_arguments(string name)
    {
        var args = Grant("site-support-kb", "u-alice");
        args["justification"] = "x";
        args[name] = "dana.gupta@contoso.com";
        var (body, isError) = await Call("propose_change", args);
        Assert.True(isError);
        Assert.Equal("McpArgumentsInvalid", body.GetProperty("error").GetString());
    }

    [Theory]
    [InlineData("approve_change")]
    [InlineData("Invoke-ApprovedChange")]
    [InlineData("deny_change")]
    [InlineData("set_policy")]
    [InlineData("preview_change\u202e\n")]
    public async Task A_tool_that_does_not_exist_is_a_protocol_error_and_is_in_the_ledger(string name)
    {
        var before = _server.ToolCalls().Count;
        var e = await Assert.ThrowsAsync<McpProtocolException>(() => _server.Client.CallToolAsync(name, new Dictionary<string, object?> { ["requestId"] = "req-x" }).AsTask());
        Assert.Equal(McpErrorCode.InvalidParams, e.ErrorCode);
        Assert.DoesNotContain('\u202e', e.Message);
        Assert.DoesNotContain('\n', e.Message);
        var calls = _server.ToolCalls();
        Assert.Equal(before + 1, calls.Count);
        Assert.Equal("McpUnknownTool", calls[^1].Details["outcome"]);
        Assert.DoesNotContain('\u202e', (string)calls[^1].Details["tool"]!);
    }

    [Fact]
    public async Task Huge_arguments_are_refused_and_recorded()
    {
        var (body, isError) = await Call("preview_change", new() { ["script"] = new string('a', 3 * 1024 * 1024) });
        Assert.True(isError);
        Assert.Equal("McpArgumentsTooLarge", body.GetProperty("error").GetString());
        Assert.Equal("McpArgumentsTooLarge", _server.ToolCalls()[^1].Details["outcome"]);

        // The server is still there.
        Assert.Equal(4, (await _server.Client.ListToolsAsync()).Count);
    }

    [Theory]
    [InlineData("operations", "not an array")]
    [InlineData("script", 42)]
    [InlineData("format", "Powershell; rm -rf /")]
    public async Task Malformed_arguments_are_refused(string name, object value)
    {
        var args = name == "operations" ? new Dictionary<string, object?>() : Grant("site-support-kb", "u-alice");
        if (name == "script")
        {
            args.Clear();
        }

        args[name] = value;
        var (body, isError) = await Call("preview_change", args);
        Assert.True(isError);
        Assert.Equal("McpArgumentsInvalid", body.GetProperty("error").GetString());
    }

    [Fact]
    public async Task Both_or_neither_of_operations_and_script_is_refused()
    {
        var (neither, e1) = await Call("preview_change", new());
        Assert.True(e1);
        Assert.Equal("McpChangeRequired", neither.GetProperty("error").GetString());
        var both = Grant("site-support-kb", "u-alice");
        both["script"] = "Add-PnPGroupMember -LoginName a -Group b";
        var (b, e2) = await Call("preview_change", both);
        Assert.True(e2);
        Assert.Equal("McpChangeRequired", b.GetProperty("error").GetString());
    }

    [Fact]
    public async Task Explain_access_answers_as_Get_EffectiveAccess_and_shows_no_raw_text()
    {
        var (body, isError) = await Call("explain_access", new() { ["principalId"] = "u-alice" });
        Assert.False(isError);
        var snapshot = SnapshotReader.ReadFile(_server.SnapshotPath);
        Assert.Equal(EffectiveAccess.ForPrincipal(snapshot, "u-alice").Count, body.GetProperty("count").GetInt32());

        var (unknown, e) = await Call("explain_access", new() { ["principalId"] = "u-nobody\u202e\r\nINJECTED" });
        Assert.True(e);
        Assert.Equal("UnknownPrincipal", unknown.GetProperty("error").GetString());
        var message = unknown.GetProperty("message").GetString()!;
        Assert.DoesNotContain('\u202e', message);
        Assert.DoesNotContain('\n', message);
    }

    [Fact]
    public async Task Status_of_a_request_another_opened_is_not_found()
    {
        // A request a person opened in the same store (not through the server).
        using var approvals = new ApprovalService(FolderStore.Open(_server.Store), LedgerSigner.OpenOrCreate(_server.Dir["ledger.key"]), PolicyReader.ReadFile(_server.PolicyPath), SnapshotReader.ReadFile(_server.SnapshotPath));
        var change = ChangeReader.ReadFile(Path.Combine(Repo.Examples, "changes", "grant-small.json"));
        var other = ExposureEngine.Assess(SnapshotReader.ReadFile(_server.SnapshotPath), new AccessChange(change.Operations, title: "by a person", requestedBy: "alice@contoso.com"), approvals.Policy);
        var request = approvals.Open(other, new OpenRequestOptions());
        var (body, isError) = await Call("request_status", new() { ["requestId"] = request.RequestId });
        Assert.True(isError);
        Assert.Equal("McpRequestNotFound", body.GetProperty("error").GetString());
        var (made, e2) = await Call("request_status", new() { ["requestId"] = "req-20260101-deadbeef" });
        Assert.True(e2);
        Assert.Equal("McpRequestNotFound", made.GetProperty("error").GetString());
    }
}
