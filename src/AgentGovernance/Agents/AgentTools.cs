using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Text.Json;
using AgentGovernance.Approval;
using AgentGovernance.Changes;
using AgentGovernance.Directory;
using AgentGovernance.Exposure;
using AgentGovernance.Json;
using AgentGovernance.Ledger;
using AgentGovernance.Policy;
using AgentGovernance.Stores;
using AgentGovernance.Suggestions;

namespace AgentGovernance.Agents;

/// <summary>What the MCP server was started with: never taken from what an agent sends.</summary>
internal sealed class AgentToolsConfig
{
    public AgentToolsConfig(string agentId, string? requestedBy, AccessSnapshot snapshot, GovernancePolicy policy, string storePath, string ledgerSignerPath)
    {
        AgentId = agentId;
        RequestedBy = requestedBy;
        Snapshot = snapshot;
        Policy = policy;
        StorePath = storePath;
        LedgerSignerPath = ledgerSignerPath;
    }

    /// <summary>Who the agent is: the suggester of every change it proposes, always of type agent (S2).</summary>
    public string AgentId { get; }

    /// <summary>The person the requests are opened for (who may then not approve them either); the operating-system user when null.</summary>
    public string? RequestedBy { get; }

    public AccessSnapshot Snapshot { get; }

    public GovernancePolicy Policy { get; }

    public string StorePath { get; }

    public string LedgerSignerPath { get; }
}

/// <summary>
/// The four tools an agent gets (preview, explain, propose, status), and nothing that applies, approves,
/// denies or changes the policy. Every call is appended to the ledger (AgentToolCalled: tool, hash of the
/// arguments, the agent's identity), whatever it asked and whether or not it was refused.
/// </summary>
internal sealed class AgentTools : IAgentToolHost
{
    public const string ToolCalled = LedgerEvents.AgentToolCalled;
    public const string Preview = "preview_change";
    public const string Explain = "explain_access";
    public const string Propose = "propose_change";
    public const string Status = "request_status";

    /// <summary>The most a call's arguments may hold (UTF-8 bytes); a suggestion is at most 1 MiB itself.</summary>
    public const int MaxArgumentBytes = SuggestionConverter.MaxLength + 64 * 1024;

    private const string MustApprove = "Nothing has been changed. Only a person can approve this: approvers decide with their own keys (Approve-AccessChange), and the change is applied only after that (Invoke-ApprovedChange). This server cannot approve, deny or apply anything.";
    private static readonly JsonWriterOptions WriterOptions = new() { Indented = false };
    private readonly AgentToolsConfig _config;
    private readonly object _gate = new();

    public AgentTools(AgentToolsConfig config)
    {
        _config = config;
    }

    public string ServerName => "AgentGovernance";

    public string ServerVersion => typeof(AgentTools).Assembly.GetName().Version?.ToString(3) ?? "0.1.0";

    public string Instructions =>
        "Access changes in this directory are governed: you can preview a change (risk, who gains access), explain someone's access, propose a change " +
        "(an approval request a person decides) and read a request's status. You cannot apply, approve or deny anything; tell the user that a person must approve.";

    public IReadOnlyList<AgentToolDefinition> Tools { get; } = new[]
    {
        new AgentToolDefinition(Preview, "Preview an access change",
            "Assesses a change without making it: the risk, how many people gain or lose access, what the rules found, and how many approvals it would need. " +
            "Give either 'operations' (structured) or 'script' (the PowerShell or markdown you would suggest; it is read as data, never run).",
            ChangeSchema(false)),
        new AgentToolDefinition(Explain, "Explain someone's access",
            "Who reaches a resource, what a principal reaches, or how one principal reaches one resource (the path of grants and groups).",
            """{"type":"object","properties":{"principalId":{"type":"string","maxLength":256,"description":"A principal's id, or a user's user principal name."},"resourceId":{"type":"string","maxLength":256,"description":"A resource's id."}},"additionalProperties":false}"""),
        new AgentToolDefinition(Propose, "Propose an access change for human approval",
            "Opens an approval request for the change, suggested by this server's agent identity. Nothing changes until people approve it and an operator applies it.",
            ChangeSchema(true)),
        new AgentToolDefinition(Status, "Status of a proposed change",
            "The status of an approval request this agent opened: pending, approved, denied or expired, and how many approvals it has and needs.",
            """{"type":"object","properties":{"requestId":{"type":"string","maxLength":64}},"required":["requestId"],"additionalProperties":false}"""),
    };

    private static string ChangeSchema(bool propose) =>
        "{\"type\":\"object\",\"properties\":{" +
        "\"operations\":{\"type\":\"array\",\"maxItems\":1000,\"description\":\"Operations of an AgentGovernance change: {op: grant|revoke|addMember|removeMember|setVisibility|createLink|..., resource, principal, role, group, member}.\",\"items\":{\"type\":\"object\"}}," +
        "\"script\":{\"type\":\"string\",\"description\":\"The script or markdown answer to read (as data only).\"}," +
        "\"format\":{\"type\":\"string\",\"enum\":[\"Auto\",\"Script\",\"Markdown\",\"Json\"]}," +
        "\"title\":{\"type\":\"string\",\"maxLength\":200}," +
        "\"justification\":{\"type\":\"string\",\"maxLength\":4000}," +
        "\"duration\":{\"type\":\"string\",\"description\":\"ISO 8601 duration such as PT8H.\"}" +
        "},\"additionalProperties\":false" + (propose ? ",\"required\":[\"justification\"]" : string.Empty) + "}";

    public AgentToolResult Call(string? name, string argumentsJson)
    {
        lock (_gate)
        {
            var bytes = Encoding.UTF8.GetBytes(argumentsJson ?? string.Empty);
            var hash = Hashing.Sha256Id(bytes);
            var known = name is not null && Tools.Any(t => t.Name == name);
            AgentToolResult result;
            string outcome;
            string? requestId = null;
            string? changeId = null;
            try
            {
                if (!known)
                {
                    throw new GovernanceException("McpUnknownTool", GovernanceErrorKind.InvalidArgument,
                        $"There is no tool {IdentityText.Visible(Shorten(name ?? string.Empty))}. The tools are {string.Join(", ", Tools.Select(t => t.Name))}; none of them applies, approves or denies.");
                }

                if (bytes.Length > MaxArgumentBytes)
                {
                    throw new GovernanceException("McpArgumentsTooLarge", GovernanceErrorKind.InvalidArgument,
                        $"The arguments are {bytes.Length} bytes; a call takes at most {MaxArgumentBytes}.");
                }

                using var doc = Parse(argumentsJson ?? string.Empty);
                var args = doc.RootElement;
                object body = name switch
                {
                    Preview => DoPreview(args, out changeId),
                    Explain => DoExplain(args),
                    Propose => DoPropose(args, out changeId, out requestId),
                    _ => DoStatus(args, out requestId),
                };
                result = new AgentToolResult(CanonicalJson.Serialize(body), false);
                outcome = "ok";
            }
            catch (GovernanceException e)
            {
                result = new AgentToolResult(CanonicalJson.Serialize(new Dictionary<string, object?>
                {
                    ["error"] = e.ErrorId,
                    ["category"] = e.Kind.ToString(),
                    ["message"] = IdentityText.Visible(e.Message),
                    ["changed"] = false,
                }), true, unknownTool: !known);
                outcome = e.ErrorId;
            }

            Record(known ? name! : Shorten(IdentityText.Visible(name ?? "(none)")), hash, bytes.Length, outcome, changeId, requestId);
            return result;
        }
    }

    private static string Shorten(string text) => text.Length <= 100 ? text : text.Substring(0, 100) + "…";

    private static JsonDocument Parse(string json)
    {
        try
        {
            var doc = JsonDocument.Parse(json.Length == 0 ? "{}" : json, new JsonDocumentOptions { MaxDepth = 32 });
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                doc.Dispose();
                throw new GovernanceException("McpArgumentsInvalid", GovernanceErrorKind.InvalidArgument, "The arguments must be a JSON object.");
            }

            return doc;
        }
        catch (JsonException e)
        {
            throw new GovernanceException("McpArgumentsInvalid", GovernanceErrorKind.InvalidArgument, "The arguments are not valid JSON: " + e.Message, null, e);
        }
    }

    private void Record(string tool, string hash, int length, string outcome, string? changeId, string? requestId)
    {
        using var approvals = Open();
        var e = new LedgerEvent(ToolCalled, _config.AgentId, changeId, requestId, ApprovalService.Details(
            $"Agent {_config.AgentId} called {tool} over MCP: {outcome}.",
            ("tool", tool), ("argumentsHash", hash), ("argumentsBytes", length), ("agent", _config.AgentId), ("outcome", outcome), ("channel", "mcp")));
        approvals.Ledger.Append(approvals.Stamp(e));
    }

    /// <summary>The store through the one handle the cmdlets use too (signer, this machine's witness, policy).</summary>
    private ApprovalService Open() =>
        GovernanceHandle.Open(FolderStore.Open(_config.StorePath), _config.LedgerSignerPath, _config.Policy, _config.Snapshot, writes: true).Approvals;

    private static string? Text(JsonElement args, string name, int max)
    {
        if (!args.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (v.ValueKind != JsonValueKind.String)
        {
            throw new GovernanceException("McpArgumentsInvalid", GovernanceErrorKind.InvalidArgument, $"'{name}' must be a string.");
        }

        var s = v.GetString()!;
        if (s.Length > max)
        {
            throw new GovernanceException("McpArgumentsInvalid", GovernanceErrorKind.InvalidArgument, $"'{name}' is {s.Length} characters; at most {max}.");
        }

        return s;
    }

    private static void OnlyKnown(JsonElement args, params string[] names)
    {
        foreach (var p in args.EnumerateObject())
        {
            if (!names.Contains(p.Name, StringComparer.Ordinal))
            {
                throw new GovernanceException("McpArgumentsInvalid", GovernanceErrorKind.InvalidArgument,
                    $"Unknown argument {IdentityText.Visible(Shorten(p.Name))}; this tool takes {string.Join(", ", names)}. The requester, the suggester and approvals are not arguments.");
            }
        }
    }

    /// <summary>The change the agent describes, read through the same intake as ConvertFrom-AgentSuggestion, suggested by this server's agent.</summary>
    private (AccessChange Change, SuggestionAnalysis Analysis) Intake(JsonElement args, bool propose)
    {
        OnlyKnown(args, "operations", "script", "format", "title", "justification", "duration");
        var script = Text(args, "script", SuggestionConverter.MaxLength);
        var hasOps = args.TryGetProperty("operations", out var ops) && ops.ValueKind != JsonValueKind.Null;
        if (hasOps == (script is not null))
        {
            throw new GovernanceException("McpChangeRequired", GovernanceErrorKind.InvalidArgument, "Give either 'operations' or 'script' (one of them).");
        }

        var format = Text(args, "format", 20) ?? "Auto";
        if (!Enum.TryParse<SuggestionInputFormat>(format, true, out var parsed) || !Enum.IsDefined(typeof(SuggestionInputFormat), parsed) || format.Any(char.IsDigit))
        {
            throw new GovernanceException("McpArgumentsInvalid", GovernanceErrorKind.InvalidArgument, "'format' is Auto, Script, Markdown or Json.");
        }

        string text;
        if (hasOps)
        {
            if (ops.ValueKind != JsonValueKind.Array)
            {
                throw new GovernanceException("McpArgumentsInvalid", GovernanceErrorKind.InvalidArgument, "'operations' must be an array of operation objects.");
            }

            if (parsed != SuggestionInputFormat.Auto && parsed != SuggestionInputFormat.Json)
            {
                throw new GovernanceException("McpArgumentsInvalid", GovernanceErrorKind.InvalidArgument, "'operations' are JSON: 'format' goes with 'script'.");
            }

            text = ops.GetRawText();
            parsed = SuggestionInputFormat.Json;
        }
        else
        {
            text = script!;
        }

        var justification = Text(args, "justification", 4000);
        if (propose && IdentityText.VisibleLetters(justification) < 1)
        {
            throw new GovernanceException("McpJustificationRequired", GovernanceErrorKind.InvalidArgument, "A proposal needs a 'justification' the approvers will read.");
        }

        var options = new SuggestionOptions
        {
            Format = parsed,
            SuggestedBy = _config.AgentId,
            SuggestedByType = "agent",
            Source = "mcp",
            // Always set, so a change document the agent sends can never name the requester (and with it who may not approve).
            RequestedBy = _config.RequestedBy ?? Identities.CurrentUser,
            Title = Text(args, "title", 200),
            Justification = justification,
            Duration = Text(args, "duration", 40),
        };
        var result = SuggestionConverter.Convert(text, SuggestionConverter.HashText(text), null, options, _config.Snapshot);
        if (result.Change is null)
        {
            var first = result.Analysis.Findings.FirstOrDefault();
            throw new GovernanceException(first?.ErrorId ?? "SuggestionEmpty", GovernanceErrorKind.InvalidData,
                "Nothing to assess: " + (result.Analysis.Findings.Count == 0
                    ? "the text holds no command that changes access."
                    : string.Join(" ", result.Analysis.Findings.Take(5).Select(f => f.Message))));
        }

        return (result.Change, result.Analysis);
    }

    private ExposureReport Assess(AccessChange change) => ExposureEngine.Assess(_config.Snapshot, change, _config.Policy);

    private static Dictionary<string, object?> Summary(ExposureReport report, SuggestionAnalysis analysis) => new()
    {
        ["changeId"] = report.ChangeId,
        ["operations"] = report.Change.Operations.Select(o => (object?)IdentityText.Visible(o.ToString())).ToList(),
        ["risk"] = report.RiskLevel.ToString(),
        ["blocked"] = report.Blocked,
        ["blockingRules"] = report.BlockingRules.Select(r => (object?)r).ToList(),
        ["requiredApprovals"] = report.RequiredApprovals,
        ["principalsGained"] = report.PrincipalsGained,
        ["principalsLost"] = report.PrincipalsLost,
        ["gainedGuests"] = report.GainedGuests,
        ["gainedAgents"] = report.GainedAgents,
        ["gainedAnonymous"] = report.GainedAnonymous,
        ["resourcesAffected"] = report.ResourcesAffected,
        ["sensitiveResourcesAffected"] = report.SensitiveResourcesAffected,
        ["coverage"] = report.Coverage.ToString(),
        ["coverageReasons"] = report.CoverageReasons.Select(r => (object?)IdentityText.Visible(r)).ToList(),
        ["findings"] = report.Findings.Select(f => (object?)new Dictionary<string, object?>
        {
            ["rule"] = f.RuleId,
            ["severity"] = f.Severity.ToString(),
            ["resource"] = IdentityText.Visible(f.ResourceId),
            ["message"] = IdentityText.Visible(f.Message),
        }).ToList(),
        ["approximate"] = analysis.IsApproximate,
        ["notes"] = analysis.Notes.Concat(report.Notes).Select(n => (object?)IdentityText.Visible(n)).ToList(),
    };

    private object DoPreview(JsonElement args, out string? changeId)
    {
        var (change, analysis) = Intake(args, propose: false);
        changeId = change.Id;
        var report = Assess(change);
        var d = Summary(report, analysis);
        d["changed"] = false;
        d["humanApprovalRequired"] = true;
        d["note"] = report.Blocked
            ? "The policy blocks this change: it cannot be approved as it stands. " + MustApprove
            : $"Preview only. It would need {report.RequiredApprovals} approval(s) from people. " + MustApprove;
        return d;
    }

    private object DoPropose(JsonElement args, out string? changeId, out string? requestId)
    {
        var (change, analysis) = Intake(args, propose: true);
        changeId = change.Id;
        var report = Assess(change);
        using var approvals = Open();
        var request = approvals.Open(report, new OpenRequestOptions { DirectoryKind = "snapshot", DirectoryLocation = _config.Snapshot.Source });
        requestId = request.RequestId;
        var d = Summary(report, analysis);
        d["requestId"] = request.RequestId;
        d["status"] = request.Status.ToString();
        d["approvals"] = request.Quorum;
        d["expiresAt"] = GovernanceClock.Format(request.ExpiresAt);
        d["changed"] = false;
        d["humanApprovalRequired"] = true;
        d["note"] = $"Proposed as {request.RequestId}: it needs {request.RequiredApprovals} approval(s) from people before anyone may apply it. " + MustApprove;
        return d;
    }

    private object DoExplain(JsonElement args)
    {
        OnlyKnown(args, "principalId", "resourceId");
        var principal = Text(args, "principalId", 256) ?? string.Empty;
        var resource = Text(args, "resourceId", 256) ?? string.Empty;
        var snapshot = _config.Snapshot;
        if (principal.Length == 0 && resource.Length == 0)
        {
            throw new GovernanceException("ResourceOrPrincipalRequired", GovernanceErrorKind.InvalidArgument, "Give 'resourceId', 'principalId', or both.");
        }

        if (resource.Length > 0 && snapshot.FindResource(resource) is null)
        {
            throw new GovernanceException("UnknownResource", GovernanceErrorKind.ObjectNotFound, $"{IdentityText.Visible(resource)} is not a resource in the directory.");
        }

        var entries = principal.Length == 0
            ? EffectiveAccess.ForResource(snapshot, resource)
            : EffectiveAccess.ForPrincipal(snapshot, principal).Where(e => resource.Length == 0 || e.ResourceId == resource).ToList();
        const int limit = 500;
        return new Dictionary<string, object?>
        {
            ["count"] = entries.Count,
            ["truncated"] = entries.Count > limit,
            ["directory"] = IdentityText.Visible(snapshot.TenantId),
            ["access"] = entries.Take(limit).Select(e => (object?)new Dictionary<string, object?>
            {
                ["principalId"] = IdentityText.Visible(e.PrincipalId),
                ["displayName"] = IdentityText.Visible(e.DisplayName),
                ["principalType"] = e.PrincipalType.ToString(),
                ["resourceId"] = IdentityText.Visible(e.ResourceId),
                ["resourceName"] = IdentityText.Visible(e.ResourceName),
                ["sensitivity"] = e.Sensitivity.ToString(),
                ["role"] = e.Role.ToString(),
                ["path"] = IdentityText.Visible(e.Path.ToString()),
            }).ToList(),
        };
    }

    private object DoStatus(JsonElement args, out string? requestId)
    {
        OnlyKnown(args, "requestId");
        var id = Text(args, "requestId", 64) ?? throw new GovernanceException("McpArgumentsInvalid", GovernanceErrorKind.InvalidArgument, "'requestId' is required.");
        requestId = null;
        using var approvals = Open();
        ApprovalRequest request;
        try
        {
            request = approvals.Get(id);
        }
        catch (GovernanceException e) when (e.Kind == GovernanceErrorKind.ObjectNotFound || e.Kind == GovernanceErrorKind.InvalidArgument)
        {
            throw NotOurs(id);
        }

        // Only the requests this agent opened: another's (or a person's) is as unknown to it as a made-up id.
        if (request.Change.SuggestedBy is not { } by || by.Type != "agent" || !IsThisAgent(by))
        {
            throw NotOurs(id);
        }

        requestId = request.RequestId;
        return new Dictionary<string, object?>
        {
            ["requestId"] = request.RequestId,
            ["changeId"] = request.ChangeId,
            ["status"] = request.Status.ToString(),
            ["risk"] = request.RiskLevel.ToString(),
            ["approvals"] = request.Approvals,
            ["requiredApprovals"] = request.RequiredApprovals,
            ["expiresAt"] = GovernanceClock.Format(request.ExpiresAt),
            ["problems"] = request.Problems.Select(p => (object?)IdentityText.Visible(p)).ToList(),
            ["changed"] = false,
            ["note"] = request.Status == ApprovalStatus.Approved
                ? "Approved by people; an operator applies it (Invoke-ApprovedChange). This server cannot apply it."
                : "Only people decide this request. " + MustApprove,
        };
    }

    private bool IsThisAgent(SuggestedBy by) =>
        string.Equals(by.Id, _config.AgentId, StringComparison.OrdinalIgnoreCase)
        || (_config.Snapshot.FindPrincipal(_config.AgentId) is null && string.Equals(by.DisplayName, _config.AgentId, StringComparison.OrdinalIgnoreCase));

    private static GovernanceException NotOurs(string id) =>
        new("McpRequestNotFound", GovernanceErrorKind.ObjectNotFound, $"No request {IdentityText.Visible(Shorten(id))} opened by this agent.");
}
