using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;

namespace AgentGovernance.GraphFake;

/// <summary>A failure to serve instead of the answer, for requests whose path contains <see cref="Path"/>.</summary>
public sealed class Fault
{
    public string Method { get; init; } = "*";

    /// <summary>Matched against the unescaped URL, query included.</summary>
    public string Path { get; init; } = string.Empty;

    /// <summary>How many matching requests get it (then they are served normally).</summary>
    public int Times { get; set; } = 1;

    public int Status { get; init; } = 429;

    public int? RetryAfter { get; init; }

    /// <summary>Wait this long before answering (timeouts).</summary>
    public int DelayMs { get; init; }

    public string Code { get; init; } = "TooManyRequests";

    /// <summary>Only inside $batch (true), only as a request of its own (false), or both (null).</summary>
    public bool? InBatch { get; init; }
}

/// <summary>
/// A Microsoft Graph v1.0 stand-in on 127.0.0.1 serving the documented response shapes
/// (graph-notes.md): collections with absolute @odata.nextLink, delta with members@delta, @removed and
/// @odata.deltaLink, JSON batching with per-step status (and 424 for failed dependencies), errors as
/// {"error":{"code","message","innerError"}}, 429 with Retry-After. It keeps a log of every request.
/// </summary>
public sealed partial class FakeGraph : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly object _gate = new();
    private readonly Task _loop;
    private readonly Dictionary<string, List<JsonObject>> _rounds = new(StringComparer.Ordinal);

    public FakeGraph(FakeTenant tenant, string token = "test-token")
    {
        Tenant = tenant;
        Token = token;
        Port = FreePort();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _loop = Task.Run(LoopAsync);
    }

    public FakeTenant Tenant { get; }

    public string Token { get; }

    public int Port { get; }

    public string BaseUrl => $"http://127.0.0.1:{Port}/v1.0";

    public ConcurrentQueue<Fault> Faults { get; } = new();

    /// <summary>Every HTTP request on the wire: "GET /v1.0/groups/...".</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    /// <summary>Every request carried inside a $batch.</summary>
    public ConcurrentQueue<string> Steps { get; } = new();

    /// <summary>The ConsistencyLevel header of each request and step that had one, by URL.</summary>
    public ConcurrentQueue<string> Eventual { get; } = new();

    /// <summary>Page size of collections when the client asks for more (or gives no $top).</summary>
    public int MaxPageSize { get; set; } = 100;

    /// <summary>Objects per delta page.</summary>
    public int DeltaPageSize { get; set; } = 100;

    /// <summary>members@delta references per group part on a delta page (a larger group continues on later parts).</summary>
    public int DeltaMembersPerPart { get; set; } = 200;

    public int RequestCount => Requests.Count;

    public void Fail(Fault fault) => Faults.Enqueue(fault);

    public void Dispose()
    {
        _stop.Cancel();
        try { _listener.Stop(); } catch (ObjectDisposedException) { }
        try
        {
            _listener.Close();
        }
        catch (HttpListenerException)
        {
            // The managed HttpListener looks its endpoint up again to remove the prefix and, when another
            // test's server (Azurite, a loopback webhook) has meanwhile bound that port, throws "Address
            // already in use" from Close. The fake is stopped either way; the test's assertions have run.
        }
    }

    private static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        var port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    private async Task LoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            HttpListenerContext ctx;
            try
            {
                ctx = await _listener.GetContextAsync().ConfigureAwait(false);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (HttpListenerException)
            {
                return;
            }

            _ = Task.Run(() => ServeAsync(ctx));
        }
    }

    private async Task ServeAsync(HttpListenerContext ctx)
    {
        try
        {
            var req = ctx.Request;
            var body = req.HasEntityBody ? await new StreamReader(req.InputStream, Encoding.UTF8).ReadToEndAsync().ConfigureAwait(false) : string.Empty;
            var url = req.RawUrl ?? "/";
            Requests.Enqueue($"{req.HttpMethod} {Uri.UnescapeDataString(url)}");
            var headers = req.Headers.AllKeys.Where(k => k is not null).ToDictionary(k => k!, k => req.Headers[k]!, StringComparer.OrdinalIgnoreCase);
            Answer answer;
            if (headers.TryGetValue("Authorization", out var auth) ? auth != "Bearer " + Token : true)
            {
                answer = Error(401, "InvalidAuthenticationToken", "Access token is empty or invalid.");
            }
            else
            {
                answer = await DispatchAsync(req.HttpMethod, url, headers, body, inBatch: false).ConfigureAwait(false);
            }

            ctx.Response.StatusCode = answer.Status;
            foreach (var (k, v) in answer.Headers) ctx.Response.Headers[k] = v;
            var bytes = answer.Json is not null ? Encoding.UTF8.GetBytes(answer.Json.ToJsonString()) : answer.Text is not null ? Encoding.UTF8.GetBytes(answer.Text) : Array.Empty<byte>();
            if (bytes.Length > 0)
            {
                ctx.Response.ContentType = answer.Json is not null ? "application/json; charset=utf-8" : "text/plain";
                ctx.Response.ContentLength64 = bytes.Length;
                await ctx.Response.OutputStream.WriteAsync(bytes).ConfigureAwait(false);
            }

            ctx.Response.Close();
        }
        catch (Exception e) when (e is HttpListenerException || e is ObjectDisposedException || e is IOException)
        {
            // The client gave up (a timeout test) or the server is stopping.
        }
    }

    private sealed class Answer
    {
        public int Status { get; init; } = 200;

        public JsonNode? Json { get; init; }

        public string? Text { get; init; }

        public Dictionary<string, string> Headers { get; } = new(StringComparer.OrdinalIgnoreCase);
    }

    private static Answer Ok(JsonNode json, int status = 200) => new() { Status = status, Json = json };

    private static Answer NoContent() => new() { Status = 204 };

    private static Answer Error(int status, string code, string message) => new()
    {
        Status = status,
        Json = new JsonObject
        {
            ["error"] = new JsonObject
            {
                ["code"] = code,
                ["message"] = message,
                ["innerError"] = new JsonObject
                {
                    ["date"] = "2026-11-25T09:00:00",
                    ["request-id"] = Guid.NewGuid().ToString(),
                    ["client-request-id"] = Guid.NewGuid().ToString(),
                },
            },
        },
    };

    private async Task<Answer> DispatchAsync(string method, string url, Dictionary<string, string> headers, string body, bool inBatch)
    {
        var path = Uri.UnescapeDataString(url.Split('?')[0]);
        var full = Uri.UnescapeDataString(url);
        if (headers.TryGetValue("ConsistencyLevel", out var level))
        {
            Eventual.Enqueue($"{level} {Uri.UnescapeDataString(url)}");
        }

        foreach (var fault in Faults)
        {
            bool take;
            lock (_gate)
            {
                take = fault.Times > 0 && (fault.Method == "*" || fault.Method == method) && full.Contains(fault.Path, StringComparison.Ordinal)
                       && (fault.InBatch is null || fault.InBatch == inBatch);
                if (take) fault.Times--;
            }

            if (!take) continue;
            if (fault.DelayMs > 0)
            {
                await Task.Delay(fault.DelayMs).ConfigureAwait(false);
            }

            if (fault.Status != 200)
            {
                var failed = Error(fault.Status, fault.Code, $"Fault injected for {path}.");
                if (fault.RetryAfter is { } after) failed.Headers["Retry-After"] = after.ToString(CultureInfo.InvariantCulture);
                return failed;
            }
        }

        if (!path.StartsWith("/v1.0/", StringComparison.Ordinal))
        {
            return Error(404, "NotFound", $"No such version: {path}");
        }

        // The SDK calls functions as OData does (delta()); Graph accepts that and the bare name.
        var route = path.Substring("/v1.0".Length).Replace("/delta()", "/delta", StringComparison.Ordinal);
        var query = Query(url);
        lock (_gate)
        {
            if (method == "POST" && route == "/$batch")
            {
                return Batch(body);
            }

            return Route(method, route, query, headers, body, url);
        }
    }

    private Answer Batch(string body)
    {
        var requests = JsonNode.Parse(body)!["requests"]!.AsArray();
        if (requests.Count > 20)
        {
            return Error(400, "BadRequest", "A batch holds at most 20 requests.");
        }

        var statuses = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        var responses = new JsonArray();
        foreach (var r in requests)
        {
            var id = r!["id"]!.GetValue<string>();
            var method = r["method"]!.GetValue<string>();
            var rel = r["url"]!.GetValue<string>();
            // A raw '#' starts a URL's fragment (RFC 3986), which Graph never sees: a guest's UPN
            // (name_domain#EXT#@tenant) must reach it percent-encoded, or the request names someone else.
            var hash = rel.IndexOf('#');
            if (hash >= 0) rel = rel.Substring(0, hash);
            var url = "/v1.0" + (rel.StartsWith('/') ? rel : "/" + rel);
            Steps.Enqueue($"{method} {Uri.UnescapeDataString(url)}");
            var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            if (r["headers"] is JsonObject h)
            {
                foreach (var (k, v) in h) headers[k] = v?.ToString() ?? string.Empty;
            }

            Answer answer;
            var depends = r["dependsOn"] is JsonArray d ? d.Select(x => x!.GetValue<string>()).ToList() : new List<string>();
            if (depends.Any(x => !statuses.TryGetValue(x, out var s) || s >= 400))
            {
                answer = Error(424, "FailedDependency", "The request it depends on failed.");
            }
            else
            {
                Monitor.Exit(_gate);
                try
                {
                    answer = DispatchAsync(method, url, headers, r["body"]?.ToJsonString() ?? string.Empty, inBatch: true).GetAwaiter().GetResult();
                }
                finally
                {
                    Monitor.Enter(_gate);
                }
            }

            statuses[id] = answer.Status;
            var step = new JsonObject { ["id"] = id, ["status"] = answer.Status };
            var stepHeaders = new JsonObject();
            foreach (var (k, v) in answer.Headers) stepHeaders[k] = v;
            if (answer.Json is not null) stepHeaders["Content-Type"] = "application/json";
            if (answer.Text is not null) stepHeaders["Content-Type"] = "text/plain";
            step["headers"] = stepHeaders;
            if (answer.Json is not null) step["body"] = answer.Json.DeepClone();
            else if (answer.Text is not null) step["body"] = answer.Text;
            responses.Add(step);
        }

        // Graph answers in any order: reversed, so the client must correlate by id.
        var reversed = new JsonArray();
        foreach (var s in responses.Reverse().ToList())
        {
            responses.Remove(s);
            reversed.Add(s);
        }

        return Ok(new JsonObject { ["responses"] = reversed });
    }

    private static Dictionary<string, string> Query(string url)
    {
        var q = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var i = url.IndexOf('?');
        if (i < 0) return q;
        foreach (var part in url.Substring(i + 1).Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = part.IndexOf('=');
            var key = Uri.UnescapeDataString(eq < 0 ? part : part.Substring(0, eq));
            q[key] = eq < 0 ? string.Empty : Uri.UnescapeDataString(part.Substring(eq + 1).Replace('+', ' '));
        }

        return q;
    }

    /// <summary>One page of a collection, with an absolute nextLink that keeps the query.</summary>
    private Answer Page(IReadOnlyList<JsonNode> all, Dictionary<string, string> query, string url, JsonObject? extra = null)
    {
        var size = Math.Min(MaxPageSize, query.TryGetValue("$top", out var top) && int.TryParse(top, out var t) ? t : MaxPageSize);
        var offset = query.TryGetValue("$skiptoken", out var skip) ? int.Parse(skip.Substring(1), CultureInfo.InvariantCulture) : 0;
        var page = new JsonArray();
        foreach (var item in all.Skip(offset).Take(size)) page.Add(item.DeepClone());
        var result = extra ?? new JsonObject();
        result["@odata.context"] = BaseUrl + "/$metadata#directoryObjects";
        if (query.ContainsKey("$count") && offset == 0) result["@odata.count"] = all.Count;
        result["value"] = page;
        if (offset + size < all.Count)
        {
            var path = url.Split('?')[0];
            var keep = string.Join("&", query.Where(kv => kv.Key != "$skiptoken").Select(kv => Uri.EscapeDataString(kv.Key) + "=" + Uri.EscapeDataString(kv.Value)));
            result["@odata.nextLink"] = $"http://127.0.0.1:{Port}{path}?{(keep.Length > 0 ? keep + "&" : string.Empty)}$skiptoken=X{offset + size}";
        }

        return Ok(result);
    }

    private static string? Eq(string? filter, string field)
    {
        if (filter is null) return null;
        foreach (var clause in filter.Split(" and "))
        {
            var c = clause.Trim();
            var prefix = field + " eq '";
            if (c.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) && c.EndsWith('\''))
            {
                return c.Substring(prefix.Length, c.Length - prefix.Length - 1);
            }
        }

        return null;
    }

    private Answer Route(string method, string route, Dictionary<string, string> query, Dictionary<string, string> headers, string body, string url)
    {
        var s = route.Trim('/').Split('/');
        var T = Tenant;
        query.TryGetValue("$filter", out var filter);
        query.TryGetValue("$select", out var select);
        if (AuditLogs(method, route, query, url, body) is { } audits) return audits;

        if (method == "GET" && route == "/organization")
        {
            return Ok(new JsonObject { ["value"] = new JsonArray(new JsonObject { ["id"] = T.Id, ["displayName"] = T.DisplayName }) });
        }

        if (method == "POST" && route == "/directoryObjects/getByIds")
        {
            var ids = JsonNode.Parse(body)!["ids"]!.AsArray().Select(i => i!.GetValue<string>());
            return Ok(new JsonObject { ["value"] = new JsonArray(ids.Select(T.Principal).Where(p => p is not null).Select(p => (JsonNode)p!).ToArray()) });
        }

        // ---- users -------------------------------------------------------------------------
        if (s[0] == "users")
        {
            if (s.Length == 1 && method == "GET") return Page(T.Users.Values.OrderBy(u => u.Id).Select(u => (JsonNode)u.Json(select)).ToList(), query, url);
            if (s.Length == 2 && s[1] == "$count")
            {
                if (!headers.ContainsKey("ConsistencyLevel")) return Error(400, "Request_UnsupportedQuery", "Count is only supported with ConsistencyLevel: eventual.");
                var n = T.Users.Values.Count(u => filter != "accountEnabled eq true" || u.Enabled);
                return new Answer { Text = n.ToString(CultureInfo.InvariantCulture) };
            }

            if (s.Length == 2 && s[1] == "delta") return Delta("users", query, url);
            if (s.Length == 3 && s[2] == "drive" && method == "GET")
            {
                // drive-get.md: GET /users/{id}/drive is the user's OneDrive; a user who has none (no licence, never
                // provisioned) is answered 404, and an app without the permission 403.
                var owner = T.Users.Values.FirstOrDefault(x => x.Id.Equals(s[1], StringComparison.OrdinalIgnoreCase));
                if (owner is null) return Error(404, "Request_ResourceNotFound", $"Resource '{s[1]}' does not exist.");
                if (T.OneDriveDenied) return Error(403, "accessDenied", "Access denied: the application lacks Files.Read.All.");
                var mine = T.Drives.Where(d => d.Value.Equals(owner.Id, StringComparison.OrdinalIgnoreCase)).Select(d => d.Key).OrderBy(d => d, StringComparer.Ordinal).FirstOrDefault();
                return mine is null ? Error(404, "itemNotFound", "The user's OneDrive could not be found.") : Ok(DriveJson(mine));
            }

            if (s.Length == 2)
            {
                var u = T.Users.Values.FirstOrDefault(x => x.Id.Equals(s[1], StringComparison.OrdinalIgnoreCase) || x.Upn.Equals(s[1], StringComparison.OrdinalIgnoreCase));
                return u is null ? Error(404, "Request_ResourceNotFound", $"Resource '{s[1]}' does not exist.") : Ok(u.Json(select));
            }
        }

        // ---- groups ------------------------------------------------------------------------
        if (s[0] == "groups")
        {
            if (s.Length == 1 && method == "GET") return Page(T.Groups.Values.OrderBy(g => g.Id).Select(g => (JsonNode)g.Json()).ToList(), query, url);
            if (s.Length == 2 && s[1] == "delta") return Delta("groups", query, url);
            if (!T.Groups.TryGetValue(s[1], out var g)) return Error(404, "Request_ResourceNotFound", $"Resource '{s[1]}' does not exist.");
            if (s.Length == 2 && method == "GET") return Ok(g.Json());
            if (s.Length == 2 && method == "PATCH")
            {
                var v = JsonNode.Parse(body)!["visibility"]?.GetValue<string>();
                if (v is not null) g.Visibility = v;
                return NoContent();
            }

            switch (s[2])
            {
                case "members" when s.Length == 3 && method == "GET":
                    if (g.MembersHidden) return Error(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.");
                    var members = g.Members.Select(m => T.Principal(m, select)).Where(p => p is not null).Select(p => (JsonNode)p!).ToList();
                    if (filter is not null)
                    {
                        if (!headers.ContainsKey("ConsistencyLevel") || !query.ContainsKey("$count")) return Error(400, "Request_UnsupportedQuery", "$filter on members needs ConsistencyLevel: eventual and $count=true.");
                        var id = Eq(filter, "id");
                        members = members.Where(m => m["id"]!.GetValue<string>().Equals(id, StringComparison.OrdinalIgnoreCase)).ToList();
                    }

                    return Page(members, query, url);
                case "members" when s.Length == 4 && s[3] == "$ref" && method == "POST":
                {
                    var odataId = JsonNode.Parse(body)!["@odata.id"]!.GetValue<string>();
                    var member = odataId.Substring(odataId.LastIndexOf('/') + 1);
                    if (T.Principal(member) is null) return Error(404, "Request_ResourceNotFound", $"Resource '{member}' does not exist.");
                    if (g.Dynamic) return Error(400, "Request_BadRequest", "Members of a dynamic group cannot be changed.");
                    if (g.Members.Contains(member, StringComparer.OrdinalIgnoreCase))
                        return Error(400, "Request_BadRequest", "One or more added object references already exist for the following modified properties: 'members'.");
                    g.Members.Add(member);
                    return NoContent();
                }

                case "members" when s.Length == 5 && s[4] == "$ref" && method == "DELETE":
                    if (!g.Members.Remove(s[3])) return Error(404, "Request_ResourceNotFound", $"Resource '{s[3]}' does not exist or one of its queried reference-property objects are not present.");
                    return NoContent();
                case "members" when s.Length == 4 && method == "DELETE":
                    // Without /$ref, Graph deletes the member object itself.
                    T.DeletedObjects.Add(s[3]);
                    T.Users.Remove(s[3]);
                    foreach (var other in T.Groups.Values) other.Members.Remove(s[3]);
                    return NoContent();
                case "transitiveMemberOf":
                    return Page(T.Ancestors(g.Id).Select(a => (JsonNode)FakeTenant.Selected(T.Groups[a].Json(), select)).ToList(), query, url);
                case "appRoleAssignments":
                    return Page(T.AppRoleAssignments.Where(a => a.PrincipalId.Equals(g.Id, StringComparison.OrdinalIgnoreCase)).Select(AppRoleJson).ToList(), query, url);
                case "owners" when s.Length == 3 && method == "GET":
                    return Page(g.Owners.Select(o => T.Principal(o, select)).Where(p => p is not null).Select(p => (JsonNode)p!).ToList(), query, url);
                case "drive" when s.Length == 3 && method == "GET":
                    return T.GroupSites.TryGetValue(g.Id, out var groupSite) ? Ok(DriveJson(T.SiteDrive(groupSite))) : Error(404, "itemNotFound", "The group has no drive.");
                case "sites" when s.Length == 4 && s[3] == "root":
                    return T.GroupSites.TryGetValue(g.Id, out var site) ? Ok(SiteJson(site)) : Error(404, "itemNotFound", "The group has no site.");
            }
        }

        // ---- service principals --------------------------------------------------------------
        if (s[0].StartsWith("servicePrincipals(appId=", StringComparison.Ordinal))
        {
            var appId = s[0].Substring("servicePrincipals(appId='".Length).TrimEnd(')', '\'');
            var sp = T.ServicePrincipals.Values.FirstOrDefault(x => x.AppId.Equals(appId, StringComparison.OrdinalIgnoreCase));
            return sp is null ? Error(404, "Request_ResourceNotFound", $"No service principal for app {appId}.") : Ok(sp.Json());
        }

        if (s[0] == "servicePrincipals")
        {
            if (s.Length == 2 && s[1] == "delta") return Delta("servicePrincipals", query, url);
            if (s.Length < 2 || !T.ServicePrincipals.TryGetValue(s[1], out var sp)) return Error(404, "Request_ResourceNotFound", "No such service principal.");
            if (s.Length == 2) return Ok(sp.Json());
            if (s[2] == "appRoleAssignedTo")
            {
                if (s.Length == 3 && method == "GET")
                    return Page(T.AppRoleAssignments.Where(a => a.ResourceId.Equals(sp.Id, StringComparison.OrdinalIgnoreCase)).Select(AppRoleJson).ToList(), query, url);
                if (s.Length == 3 && method == "POST")
                {
                    var b = JsonNode.Parse(body)!;
                    var a = new FakeAppRoleAssignment(T.NextId(), b["resourceId"]!.GetValue<string>(), b["principalId"]!.GetValue<string>(), b["appRoleId"]!.GetValue<string>());
                    if (T.AppRoleAssignments.Any(x => x.ResourceId == a.ResourceId && x.PrincipalId == a.PrincipalId && x.AppRoleId == a.AppRoleId))
                        return Error(400, "Request_BadRequest", "Permission being assigned already exists on the object");
                    T.AppRoleAssignments.Add(a);
                    return Ok(AppRoleJson(a), 201);
                }

                if (s.Length == 4 && method == "DELETE")
                {
                    return T.AppRoleAssignments.RemoveAll(a => a.Id == s[3]) > 0 ? NoContent() : Error(404, "Request_ResourceNotFound", "No such assignment.");
                }
            }
        }

        // ---- directory roles -----------------------------------------------------------------
        if (s[0] == "directoryRoles" && s.Length == 2 && s[1] == "delta" && method == "GET") return Delta("directoryRoles", query, url);
        if (route.StartsWith("/roleManagement/directory/", StringComparison.Ordinal))
        {
            var kind = s[2];
            if (kind == "roleDefinitions")
            {
                if (s.Length == 3) return Page(T.RoleDefinitions.Select(d => (JsonNode)new JsonObject { ["id"] = d.Id, ["displayName"] = d.Name, ["isBuiltIn"] = d.BuiltIn, ["templateId"] = d.Id }).ToList(), query, url);
                var d = T.RoleDefinitions.FirstOrDefault(x => x.Id == s[3]);
                return d is null ? Error(404, "Request_ResourceNotFound", "No such role.") : Ok(new JsonObject { ["id"] = d.Id, ["displayName"] = d.Name });
            }

            if (kind == "roleAssignments")
            {
                if (s.Length == 3 && method == "GET")
                {
                    var role = Eq(filter, "roleDefinitionId");
                    var principal = Eq(filter, "principalId");
                    if (role is null && principal is null) return Error(400, "BadRequest", "A filter on roleDefinitionId or principalId is required.");
                    return Page(T.RoleAssignments.Where(a => (role is null || a.RoleDefinitionId == role) && (principal is null || a.PrincipalId == principal)).Select(RoleJson).ToList(), query, url);
                }

                if (s.Length == 3 && method == "POST")
                {
                    var b = JsonNode.Parse(body)!;
                    var a = new FakeRoleAssignment(T.NextId(), b["roleDefinitionId"]!.GetValue<string>(), b["principalId"]!.GetValue<string>(), b["directoryScopeId"]?.GetValue<string>() ?? "/");
                    T.RoleAssignments.Add(a);
                    return Ok(RoleJson(a), 201);
                }

                if (s.Length == 4 && method == "DELETE")
                {
                    return T.RoleAssignments.RemoveAll(a => a.Id == s[3]) > 0 ? NoContent() : Error(404, "Request_ResourceNotFound", "No such assignment.");
                }
            }
        }

        // ---- sensitivity labels ------------------------------------------------------------------
        if (route == "/security/dataSecurityAndGovernance/sensitivityLabels" && method == "GET")
        {
            // sensitivitylabel-list (v1.0, application SensitivityLabel.Read): the tenant's labels; name is the label's name.
            if (T.LabelsDenied) return Error(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.");
            return Page(T.SensitivityLabels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => (JsonNode)new JsonObject { ["id"] = l.Key, ["name"] = l.Value, ["displayName"] = null, ["hasProtection"] = false }).ToList(), query, url);
        }

        // ---- sites and drive items ------------------------------------------------------------
        if (s[0] == "sites" && s.Length == 2 && s[1] is "getAllSites" or "getAllSites()" && method == "GET")
        {
            // sites: getAllSites (application only): every site of the organization, paged (site-getallsites.md).
            return Page(AllSites().OrderBy(x => x.Id, StringComparer.Ordinal).Select(x => (JsonNode)SiteJson(x)).ToList(), query, url);
        }

        if (s[0] == "sites" && s.Length == 2 && s[1] is "delta" or "delta()" && method == "GET")
        {
            return SitesDelta(query, url);
        }

        if (s[0] == "sites" && s.Length >= 2)
        {
            var site = SiteById(s[1]);
            if (site is null) return Error(404, "itemNotFound", "No such site.");
            if (s.Length == 2) return Ok(SiteJson(site));
            if (s[2] == "drive" && s.Length == 3) return Ok(DriveJson(T.SiteDrive(site)));
            // GET /sites/{id}/drives: one drive per document library (scan-guidance: "discover each drive in a site by using the /drives endpoint").
            if (s[2] == "drives" && s.Length == 3) return Page(new List<JsonNode> { DriveJson(T.SiteDrive(site)) }, query, url);
            if (s[2] == "permissions")
            {
                return Page(site.AppPermissions.Select((p, i) => (JsonNode)new JsonObject
                {
                    ["id"] = (i + 1).ToString(CultureInfo.InvariantCulture),
                    ["roles"] = new JsonArray(p.Role),
                    ["grantedToIdentitiesV2"] = new JsonArray(new JsonObject { ["application"] = new JsonObject { ["id"] = p.AppId, ["displayName"] = p.AppId } }),
                }).ToList(), query, url);
            }
        }

        if (s[0] == "drives" && s.Length == 2 && method == "GET")
        {
            return T.Drives.ContainsKey(s[1]) ? Ok(DriveJson(s[1])) : Error(404, "itemNotFound", "The drive could not be found.");
        }

        if (s[0] == "drives" && s.Length == 4 && s[2] == "root" && s[3] is "delta" or "delta()" && method == "GET")
        {
            return DriveDelta(s[1], query, headers, url);
        }

        if (s[0] == "drives" && s.Length >= 4 && s[2] == "items")
        {
            if (!T.Items.TryGetValue($"{s[1]}/{s[3]}", out var item)) return Error(404, "itemNotFound", "The resource could not be found.");
            if (s.Length == 4) return Ok(new JsonObject { ["id"] = item.Id, ["name"] = item.Name, ["webUrl"] = "https://fabrikam.example/" + item.Name });
            switch (s[4])
            {
                case "extractSensitivityLabels" when s.Length == 5 && method == "POST":
                {
                    // driveitem-extractsensitivitylabels.md (v1.0): 200 with the extractSensitivityLabelsResult wrapped in
                    // "value" as the doc's example shows; 423 with a code when the file cannot be opened.
                    if (item.LabelError is { } code) return Error(423, code, "The file is locked for sensitivity label extraction.");
                    if (item.Folder) return Error(400, "invalidRequest", "Sensitivity labels are extracted from files only.");
                    var labels = new JsonArray();
                    if (item.LabelId is { } label) labels.Add(new JsonObject { ["sensitivityLabelId"] = label, ["assignmentMethod"] = "standard", ["tenantId"] = T.Id });
                    return Ok(new JsonObject { ["value"] = new JsonObject { ["@odata.type"] = "microsoft.graph.extractSensitivityLabelsResult", ["labels"] = labels } });
                }

                case "permissions" when s.Length == 5:
                    return Page(item.Permissions.Select(p => (JsonNode)p.Json()).ToList(), query, url);
                case "permissions" when s.Length == 6 && method == "DELETE":
                {
                    var p = item.Permissions.FirstOrDefault(x => x.Id == s[5]);
                    if (p is null) return Error(404, "itemNotFound", "The permission does not exist.");
                    if (p.Inherited) return Error(400, "invalidRequest", "Inherited permissions cannot be deleted.");
                    item.Permissions.Remove(p);
                    return NoContent();
                }

                case "invite":
                {
                    var b = JsonNode.Parse(body)!;
                    var who = b["recipients"]![0]!["objectId"]!.GetValue<string>();
                    var role = b["roles"]![0]!.GetValue<string>();
                    var p = new FakePermission { Id = T.NextId(), Role = role, User = T.Users.ContainsKey(who) ? who : null, Group = T.Groups.ContainsKey(who) ? who : null };
                    item.Permissions.Add(p);
                    return Ok(new JsonObject { ["value"] = new JsonArray(p.Json()) });
                }

                case "createLink":
                {
                    var b = JsonNode.Parse(body)!;
                    var role = b["type"]!.GetValue<string>() == "edit" ? "write" : "read";
                    var scope = b["scope"]!.GetValue<string>();
                    var existing = item.Permissions.FirstOrDefault(x => x.LinkScope == scope && x.Role == role);
                    if (existing is not null) return Ok(existing.Json(), 200);
                    var p = new FakePermission { Id = T.NextId(), Role = role, LinkScope = scope };
                    item.Permissions.Add(p);
                    return Ok(p.Json(), 201);
                }
            }
        }

        return Error(400, "BadRequest", $"The fake Graph does not serve {method} {route}.");
    }

    private static JsonNode AppRoleJson(FakeAppRoleAssignment a) => new JsonObject
    {
        ["id"] = a.Id, ["appRoleId"] = a.AppRoleId, ["principalId"] = a.PrincipalId, ["resourceId"] = a.ResourceId, ["principalType"] = "User",
    };

    private static JsonNode RoleJson(FakeRoleAssignment a) => new JsonObject
    {
        ["id"] = a.Id, ["principalId"] = a.PrincipalId, ["roleDefinitionId"] = a.RoleDefinitionId, ["directoryScopeId"] = a.DirectoryScopeId,
    };

    /// <summary>A drive as drive-get documents it: id, driveType, name, and the owner identitySet (a group's document library is owned by the group).</summary>
    private JsonObject DriveJson(string driveId)
    {
        var owner = Tenant.Drives[driveId];
        var who = owner.StartsWith("site:", StringComparison.Ordinal) ? new JsonObject { ["user"] = new JsonObject { ["displayName"] = "System Account" } }
            : Tenant.Groups.TryGetValue(owner, out var g)
            ? new JsonObject { ["group"] = new JsonObject { ["id"] = g.Id, ["displayName"] = g.Name } }
            : new JsonObject { ["user"] = new JsonObject { ["id"] = owner, ["displayName"] = Tenant.Users.TryGetValue(owner, out var u) ? u.Name : owner } };
        return new JsonObject
        {
            ["id"] = driveId,
            ["driveType"] = Tenant.Groups.ContainsKey(owner) || owner.StartsWith("site:", StringComparison.Ordinal) ? "documentLibrary" : "business",
            ["name"] = Tenant.Groups.ContainsKey(owner) || owner.StartsWith("site:", StringComparison.Ordinal) ? "Documents" : "OneDrive",
            ["owner"] = who,
        };
    }

    private Dictionary<string, FakeSite>? _sitesById;

    private FakeSite? SiteById(string id)
    {
        // Rebuilt when the count changed or the id is not in it: a site added as another was removed keeps the count.
        if (_sitesById is null || _sitesById.Count != Tenant.GroupSites.Count + Tenant.CommunicationSites.Count || !_sitesById.ContainsKey(id))
        {
            _sitesById = AllSites().ToDictionary(x => x.Id, StringComparer.OrdinalIgnoreCase);
        }

        return _sitesById.GetValueOrDefault(id);
    }

    /// <summary>Every site: the groups' and the communication sites.</summary>
    private IEnumerable<FakeSite> AllSites() => Tenant.GroupSites.Values.Concat(Tenant.CommunicationSites);

    private static JsonObject SiteJson(FakeSite site) => new() { ["id"] = site.Id, ["displayName"] = site.Name, ["webUrl"] = "https://fabrikam.example/sites/" + site.Name };

    // ---- delta -------------------------------------------------------------------------------------

    /// <summary>Everything a first delta round returns, in page order: objects, later parts of large groups, then what was removed meanwhile.</summary>
    public List<JsonObject> DeltaItems(string kind, string? select = null)
    {
        var T = Tenant;
        var items = new List<JsonObject>();
        switch (kind)
        {
            case "users":
                items.AddRange(T.Users.Values.OrderBy(u => u.Id).Select(u => u.Json(select)));
                break;
            case "servicePrincipals":
                items.AddRange(T.ServicePrincipals.Values.OrderBy(x => x.Id).Select(x => x.Json()));
                break;
            case "directoryRoles":
                foreach (var (id, (props, members, _)) in Capture(kind, select).Objects.OrderBy(o => o.Key, StringComparer.Ordinal))
                {
                    var o = (JsonObject)JsonNode.Parse(props)!;
                    o["members@delta"] = References(members, null);
                    items.Add(o);
                }

                break;
            default:
                foreach (var g in T.Groups.Values.OrderBy(x => x.Id))
                {
                    var refs = g.Members.Select(m => Ref(m)).ToList();
                    for (var part = 0; part == 0 || part * DeltaMembersPerPart < refs.Count; part++)
                    {
                        var o = part == 0 ? g.Json() : new JsonObject { ["@odata.type"] = "#microsoft.graph.group", ["id"] = g.Id };
                        o["members@delta"] = new JsonArray(refs.Skip(part * DeltaMembersPerPart).Take(DeltaMembersPerPart).Select(r => (JsonNode)r).ToArray());
                        if (part == 0) o["owners@delta"] = new JsonArray(g.Owners.Select(x => (JsonNode)Ref(x)).ToArray());
                        items.Add(o);
                    }
                }

                foreach (var (group, member) in T.RemovedDuringSync)
                {
                    var r = Ref(member);
                    r["@removed"] = new JsonObject { ["reason"] = "deleted" };
                    items.Add(new JsonObject { ["@odata.type"] = "#microsoft.graph.group", ["id"] = group, ["members@delta"] = new JsonArray(r) });
                }

                break;
        }

        foreach (var id in T.DeletedDuringSync)
        {
            var known = kind switch { "users" => T.Users.ContainsKey(id), "groups" => T.Groups.ContainsKey(id), "directoryRoles" => false, _ => T.ServicePrincipals.ContainsKey(id) };
            if (known) items.Add(new JsonObject { ["id"] = id, ["@removed"] = new JsonObject { ["reason"] = "changed" } });
        }

        return items;
    }

    /// <summary>How many pages a first delta round of <paramref name="kind"/> takes: the paging minimum.</summary>
    public int DeltaPages(string kind) => Math.Max(1, (DeltaItems(kind).Count + DeltaPageSize - 1) / DeltaPageSize);

    private JsonObject Ref(string id)
    {
        var type = Tenant.Users.ContainsKey(id) ? "user" : Tenant.Groups.ContainsKey(id) ? "group" : Tenant.ServicePrincipals.ContainsKey(id) ? "servicePrincipal" : Tenant.Others.GetValueOrDefault(id, "directoryObject");
        return new JsonObject { ["@odata.type"] = "#microsoft.graph." + type, ["id"] = id };
    }

    private Answer Delta(string kind, Dictionary<string, string> query, string url)
    {
        var latest = query.GetValueOrDefault("$deltatoken") == "latest";
        if ((query.ContainsKey("$skiptoken") && query.Keys.Any(k => k != "$skiptoken")) || (!latest && query.ContainsKey("$deltatoken") && query.Keys.Any(k => k != "$deltatoken")))
        {
            return Error(400, "BadRequest", "Query parameters go in the first delta request only; they are encoded into the token.");
        }

        DirectoryDelta.Enqueue(query.TryGetValue("$deltatoken", out var asked) ? $"{kind} {asked}" : query.ContainsKey("$skiptoken") ? $"{kind} page" : $"{kind} full");
        if (latest)
        {
            // delta-query-overview: "Append $deltaToken=latest to the delta function and the response will contain a
            // @odata.deltaLink and no resource data" (the query parameters given with it are kept in the link).
            var now = "D" + (++_directoryTokenIds).ToString(CultureInfo.InvariantCulture);
            _directoryTokens[now] = Capture(kind, query.GetValueOrDefault("$select"));
            return Ok(new JsonObject
            {
                ["@odata.context"] = $"{BaseUrl}/$metadata#{kind}",
                ["value"] = new JsonArray(),
                ["@odata.deltaLink"] = $"http://127.0.0.1:{Port}{url.Split('?')[0]}?$deltatoken={now}",
            });
        }

        var offset = query.TryGetValue("$skiptoken", out var skip) ? int.Parse(skip.Substring(1), CultureInfo.InvariantCulture) : 0;
        // A round's items are fixed when it starts (as Graph's tokens are), so later pages of a large tenant cost nothing to build.
        if (offset == 0 || !_rounds.TryGetValue(kind, out var items))
        {
            string? select;
            if (query.TryGetValue("$deltatoken", out var token))
            {
                // user-delta.md: a deltaLink round returns what changed since the round the token ended, with the
                // properties selected then; an unknown or expired token is a resync (delta-query-overview: 410 Gone, syncStateNotFound).
                if (!_directoryTokens.TryGetValue(token, out var prior))
                {
                    return Error(410, "syncStateNotFound", "The delta token has expired or is not valid; start a new round without it.");
                }

                select = prior.Select;
                items = Changes(kind, prior);
            }
            else
            {
                select = query.GetValueOrDefault("$select");
                items = DeltaItems(kind, select);
            }

            _rounds[kind] = items;
            _roundStates[kind] = Capture(kind, select);
        }

        var page = new JsonArray();
        foreach (var i in items.Skip(offset).Take(DeltaPageSize)) page.Add(i.DeepClone());
        var result = new JsonObject { ["@odata.context"] = $"{BaseUrl}/$metadata#{kind}", ["value"] = page };
        var path = url.Split('?')[0];
        if (offset + DeltaPageSize < items.Count)
        {
            result["@odata.nextLink"] = $"http://127.0.0.1:{Port}{path}?$skiptoken=X{offset + DeltaPageSize}";
        }
        else
        {
            var token = "D" + (++_directoryTokenIds).ToString(CultureInfo.InvariantCulture);
            _directoryTokens[token] = _roundStates[kind];
            result["@odata.deltaLink"] = $"http://127.0.0.1:{Port}{path}?$deltatoken={token}";
        }

        return Ok(result);
    }

    // ---- directory delta rounds ------------------------------------------------------------------
    // user-delta.md and group-delta.md (MGDC, v1.0): a round started from a deltaLink returns only the
    // objects created, changed or deleted since; by default each changed object comes with every property
    // selected in the first request, changed or not; deleted objects as {"id", "@removed": {"reason"}};
    // a group's members@delta / owners@delta then carry only the references added, and the removed ones
    // with "@removed". Beyond the docs: this fake compares whole objects, so a change to a property not
    // selected never shows (Graph's tracking is per property), and it sends a changed group's properties
    // together with its member changes on one object (Graph may split them over several).

    /// <summary>The directory delta requests answered: "users full", "groups page", "users D3" (a deltaLink round from token D3).</summary>
    public ConcurrentQueue<string> DirectoryDelta { get; } = new();

    private readonly Dictionary<string, DirectoryState> _directoryTokens = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DirectoryState> _roundStates = new(StringComparer.Ordinal);
    private int _directoryTokenIds;

    /// <summary>Every directory delta token given out so far expires: the next deltaLink round is answered 410.</summary>
    public void ExpireDirectoryTokens() => _directoryTokens.Clear();

    private sealed record DirectoryState(string? Select, Dictionary<string, (string Props, HashSet<string> Members, HashSet<string> Owners)> Objects);

    /// <summary>What a client holds at the end of a round started now: each object's selected properties and its references.</summary>
    private DirectoryState Capture(string kind, string? select)
    {
        var T = Tenant;
        var objects = new Dictionary<string, (string, HashSet<string>, HashSet<string>)>(StringComparer.OrdinalIgnoreCase);
        var none = new HashSet<string>();
        switch (kind)
        {
            case "users":
                foreach (var u in T.Users.Values) objects[u.Id] = (u.Json(select).ToJsonString(), none, none);
                break;
            case "servicePrincipals":
                foreach (var x in T.ServicePrincipals.Values) objects[x.Id] = (x.Json().ToJsonString(), none, none);
                break;
            case "directoryRoles":
                // directoryrole-delta.md: each activated built-in role, its members@delta the principals assigned it
                // tenant-wide (a scoped assignment is not a member). This fake activates every built-in role.
                foreach (var d in T.RoleDefinitions.Where(d => d.BuiltIn))
                {
                    var props = new JsonObject { ["@odata.type"] = "#microsoft.graph.directoryRole", ["id"] = "dr-" + d.Id, ["displayName"] = d.Name, ["roleTemplateId"] = d.Id };
                    var members = T.RoleAssignments.Where(a => a.RoleDefinitionId == d.Id && a.DirectoryScopeId == "/").Select(a => a.PrincipalId).ToHashSet(StringComparer.OrdinalIgnoreCase);
                    objects["dr-" + d.Id] = (props.ToJsonString(), members, none);
                }

                break;
            default:
                foreach (var g in T.Groups.Values)
                {
                    var members = g.Members.Where(m => !T.RemovedDuringSync.Contains((g.Id, m))).ToHashSet(StringComparer.OrdinalIgnoreCase);
                    objects[g.Id] = (g.Json().ToJsonString(), members, g.Owners.ToHashSet(StringComparer.OrdinalIgnoreCase));
                }

                break;
        }

        foreach (var id in T.DeletedDuringSync) objects.Remove(id);
        return new DirectoryState(select, objects);
    }

    /// <summary>What a deltaLink round returns: the objects that differ from <paramref name="prior"/>, their reference changes, and the removed.</summary>
    private List<JsonObject> Changes(string kind, DirectoryState prior)
    {
        var now = Capture(kind, prior.Select);
        var items = new List<JsonObject>();
        var type = kind switch { "users" => "user", "groups" => "group", "directoryRoles" => "directoryRole", _ => "servicePrincipal" };
        foreach (var (id, (props, members, owners)) in now.Objects.OrderBy(o => o.Key, StringComparer.Ordinal))
        {
            var had = prior.Objects.TryGetValue(id, out var before);
            if (had && before.Props == props && before.Members.SetEquals(members) && before.Owners.SetEquals(owners)) continue;
            var o = (JsonObject)JsonNode.Parse(props)!;
            if (kind == "directoryRoles") o["members@delta"] = References(members, had ? before.Members : null);
            if (kind == "groups")
            {
                o["members@delta"] = References(members, had ? before.Members : null);
                o["owners@delta"] = References(owners, had ? before.Owners : null);
            }

            items.Add(o);
        }

        foreach (var id in prior.Objects.Keys.Where(k => !now.Objects.ContainsKey(k)).OrderBy(k => k, StringComparer.Ordinal))
        {
            items.Add(new JsonObject { ["@odata.type"] = "#microsoft.graph." + type, ["id"] = id, ["@removed"] = new JsonObject { ["reason"] = "changed" } });
        }

        return items;
    }

    private JsonArray References(HashSet<string> now, HashSet<string>? before)
    {
        var refs = new JsonArray();
        foreach (var m in now.Where(m => before is null || !before.Contains(m)).OrderBy(m => m, StringComparer.Ordinal)) refs.Add(Ref(m));
        foreach (var m in (before ?? new HashSet<string>()).Where(m => !now.Contains(m)).OrderBy(m => m, StringComparer.Ordinal))
        {
            var r = Ref(m);
            r["@removed"] = new JsonObject { ["reason"] = "deleted" };
            refs.Add(r);
        }

        return refs;
    }

    // ---- site delta ------------------------------------------------------------------------------
    // site-delta.md (MGDC, v1.0; application Sites.Read.All): GET /sites/delta enumerates every site and
    // ends with an @odata.deltaLink (?token=...); ?token=latest returns no sites and the latest deltaLink;
    // a round from a token returns the sites added or changed since, and the deleted ones "with the deleted
    // facet"; a token the service cannot continue is 410 Gone with a Location to start afresh.
    // Beyond the docs: this fake's sites are the group sites only (getAllSites serves the same set).

    private readonly Dictionary<string, Dictionary<string, string>> _siteTokens = new(StringComparer.Ordinal);
    private int _siteTokenIds;

    /// <summary>Site delta requests answered: "full", "latest", or the token a round continued from.</summary>
    public ConcurrentQueue<string> SiteDelta { get; } = new();

    /// <summary>Every site delta token given out so far expires (410 Gone).</summary>
    public void ExpireSiteTokens() => _siteTokens.Clear();

    private Answer SitesDelta(Dictionary<string, string> query, string url)
    {
        var now = AllSites().ToDictionary(x => x.Id, x => SiteJson(x).ToJsonString(), StringComparer.OrdinalIgnoreCase);
        var path = url.Split('?')[0];
        query.TryGetValue("token", out var token);
        SiteDelta.Enqueue(token ?? "full");
        var items = new List<JsonObject>();
        if (token is null)
        {
            items.AddRange(now.OrderBy(x => x.Key, StringComparer.Ordinal).Select(x => (JsonObject)JsonNode.Parse(x.Value)!));
        }
        else if (token != "latest")
        {
            if (!_siteTokens.TryGetValue(token, out var prior))
            {
                var gone = Error(410, "resyncChangesApplyDifferences", "The delta token is no longer valid: enumerate the sites again.");
                gone.Headers["Location"] = $"http://127.0.0.1:{Port}{path}";
                return gone;
            }

            items.AddRange(now.Where(x => !prior.TryGetValue(x.Key, out var was) || was != x.Value).OrderBy(x => x.Key, StringComparer.Ordinal).Select(x => (JsonObject)JsonNode.Parse(x.Value)!));
            foreach (var (id, was) in prior.Where(x => !now.ContainsKey(x.Key)).OrderBy(x => x.Key, StringComparer.Ordinal))
            {
                var o = (JsonObject)JsonNode.Parse(was)!;
                o["deleted"] = new JsonObject { ["state"] = "deleted" };
                items.Add(o);
            }
        }

        var next = "T" + (++_siteTokenIds).ToString(CultureInfo.InvariantCulture);
        _siteTokens[next] = now;
        return Ok(new JsonObject
        {
            ["@odata.context"] = $"{BaseUrl}/$metadata#Collection(site)",
            ["value"] = new JsonArray(items.Select(i => (JsonNode)i).ToArray()),
            ["@odata.deltaLink"] = $"http://127.0.0.1:{Port}{path}?token={next}",
        });
    }

    // ---- drive delta ---------------------------------------------------------------------------------
    // Written from driveitem-delta.md (MGDC, v1.0) and the scan guidance:
    // - "Your app should continue calling with the @odata.nextLink until you no longer see an
    //   @odata.nextLink returned"; the last page has "@odata.deltaLink ... Used to read the next set of changes".
    // - "Deleted items are returned with the deleted facet." (name is omitted on delete, Remarks).
    // - "When the Prefer: hierarchicalsharing header is provided, sharing information is returned for the
    //   root of the permissions hierarchy, and items that explicitly have sharing changes. In cases where the
    //   sharing change is to remove sharing from an item, you find an empty sharing facet".
    // - "When [Prefer: deltashowsharingchanges] is provided, all items that appear in the delta query
    //   response due to permission changes have the @microsoft.graph.sharedChanged":"True" OData annotation."
    //   "The use of Prefer: deltashowsharingchanges header requires you to use Prefer:
    //   deltashowremovedasdeleted and Prefer: deltatraversepermissiongaps." (This fake refuses it alone, 400.)
    // - An expired or reset token: "HTTP 410 Gone ... one of the error codes below [resyncChangesApplyDifferences],
    //   and a Location header containing a new nextLink that starts a fresh delta enumeration from scratch."

    /// <summary>Drive delta requests answered, by drive (for request counting).</summary>
    public ConcurrentQueue<string> DrivePrefer { get; } = new();

    private readonly Dictionary<string, List<JsonObject>> _driveRounds = new(StringComparer.Ordinal);
    private int _roundIds;
    private Dictionary<string, List<FakeItem>>? _byDrive;
    private (long Seq, int Count) _byDriveAt = (-1, -1);

    private List<FakeItem> ItemsOf(string drive)
    {
        if (_byDrive is null || _byDriveAt != (Tenant.Seq, Tenant.Items.Count))
        {
            _byDrive = Tenant.Items.Values.GroupBy(i => i.Drive, StringComparer.OrdinalIgnoreCase)
                .ToDictionary(g => g.Key, g => g.OrderBy(i => i.Id, StringComparer.Ordinal).ToList(), StringComparer.OrdinalIgnoreCase);
            _byDriveAt = (Tenant.Seq, Tenant.Items.Count);
        }

        return _byDrive.GetValueOrDefault(drive) ?? new List<FakeItem>();
    }

    private Answer DriveDelta(string drive, Dictionary<string, string> query, Dictionary<string, string> headers, string url)
    {
        if (!Tenant.Drives.ContainsKey(drive)) return Error(404, "itemNotFound", "The drive could not be found.");
        var prefer = headers.GetValueOrDefault("Prefer") ?? string.Empty;
        DrivePrefer.Enqueue($"{drive} {prefer}");
        var preferences = prefer.Split(new[] { ',', ';' }, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var path = url.Split('?')[0];
        if (query.TryGetValue("$skiptoken", out var skip))
        {
            var dot = skip.IndexOf('.');
            var key = skip.Substring(1, dot - 1);
            var offset = int.Parse(skip.Substring(dot + 1), CultureInfo.InvariantCulture);
            if (!_driveRounds.TryGetValue(key, out var round)) return Error(410, "resyncChangesApplyDifferences", "The nextLink is no longer valid.");
            return DrivePage(drive, key, round, offset, path);
        }

        if (preferences.Contains("deltashowsharingchanges") && !(preferences.Contains("deltashowremovedasdeleted") && preferences.Contains("deltatraversepermissiongaps")))
        {
            return Error(400, "invalidRequest", "Prefer: deltashowsharingchanges requires deltashowremovedasdeleted and deltatraversepermissiongaps.");
        }

        long? token = null;
        if (query.TryGetValue("token", out var t))
        {
            if (!t.StartsWith('S') || !long.TryParse(t.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out var since)) return Error(400, "invalidRequest", "Invalid delta token.");
            if (Tenant.TokenFloor.TryGetValue(drive, out var floor) && since < floor)
            {
                var gone = Error(410, "resyncChangesApplyDifferences", "Resync required: the token has expired. Replace any local items with the server's version (including deletes).");
                gone.Headers["Location"] = $"http://127.0.0.1:{Port}{path}";
                return gone;
            }

            token = since;
        }

        var hierarchical = preferences.Contains("hierarchicalsharing");
        var annotate = preferences.Contains("deltashowsharingchanges");
        var gaps = preferences.Contains("deltatraversepermissiongaps");
        var items = new List<JsonObject>();
        if (token is null)
        {
            items.Add(new JsonObject { ["id"] = "root", ["name"] = "root", ["root"] = new JsonObject(), ["folder"] = new JsonObject(), ["shared"] = hierarchical ? new JsonObject() : null });
            if (!hierarchical) items[0].Remove("shared");
        }

        var all = ItemsOf(drive);
        var byId = all.ToDictionary(i => i.Id, StringComparer.Ordinal);
        foreach (var item in all)
        {
            if (token is { } since && Math.Max(item.Changed, item.SharingChanged) <= since) continue;
            if (item.BehindGap && !gaps) continue;
            var o = new JsonObject { ["id"] = item.Id, ["name"] = item.Name, ["webUrl"] = "https://fabrikam.example/" + Uri.EscapeDataString(item.Name) };
            o["parentReference"] = new JsonObject { ["driveId"] = drive, ["id"] = item.Parent ?? "root" };
            o[item.Folder ? "folder" : "file"] = new JsonObject();
            var shared = Shared(item, byId, hierarchical);
            if (shared is not null) o["shared"] = shared;
            if (annotate && token is { } s2 && item.SharingChanged > s2) o["@microsoft.graph.sharedChanged"] = "True";
            items.Add(o);
        }

        if (token is { } from)
        {
            foreach (var (d, id, seq) in Tenant.Tombstones)
            {
                if (seq > from && d.Equals(drive, StringComparison.OrdinalIgnoreCase))
                {
                    items.Add(new JsonObject { ["id"] = id, ["deleted"] = new JsonObject { ["state"] = "deleted" } });
                }
            }
        }

        var roundKey = (++_roundIds).ToString(CultureInfo.InvariantCulture);
        items.Add(new JsonObject { ["@token"] = "S" + Tenant.Seq.ToString(CultureInfo.InvariantCulture) }); // the token this round ends with (not served)
        _driveRounds[roundKey] = items;
        return DrivePage(drive, roundKey, items, 0, path);
    }

    /// <summary>The shared facet: on every item that is shared, or (hierarchicalsharing) only on the roots of permission hierarchies.</summary>
    private static JsonObject? Shared(FakeItem item, Dictionary<string, FakeItem> byId, bool hierarchical)
    {
        if (hierarchical && !item.Unique) return null;
        if (hierarchical && !item.Permissions.Any(p => !p.Inherited)) return new JsonObject();
        // Without hierarchicalsharing an item inheriting from a shared folder is shared too.
        var from = item;
        while (!hierarchical && !from.Unique && from.Parent is { } parent && byId.TryGetValue(parent, out var up)) from = up;
        if (!from.Permissions.Any()) return null;
        var scope = from.Permissions.Any(p => p.LinkScope == "anonymous") ? "anonymous" : from.Permissions.Any(p => p.LinkScope == "organization") ? "organization" : "users";
        return new JsonObject { ["scope"] = scope };
    }

    private Answer DrivePage(string drive, string key, List<JsonObject> round, int offset, string path)
    {
        var served = round.Count - 1; // the last entry holds the round's token
        var page = new JsonArray();
        foreach (var i in round.Skip(offset).Take(Math.Min(DeltaPageSize, served - offset))) page.Add(i.DeepClone());
        var result = new JsonObject { ["@odata.context"] = $"{BaseUrl}/$metadata#Collection(driveItem)", ["value"] = page };
        if (offset + DeltaPageSize < served)
        {
            result["@odata.nextLink"] = $"http://127.0.0.1:{Port}{path}?$skiptoken=R{key}.{offset + DeltaPageSize}";
        }
        else
        {
            result["@odata.deltaLink"] = $"http://127.0.0.1:{Port}{path}?token={round[served]["@token"]!.GetValue<string>()}";
            _driveRounds.Remove(key);
        }

        return Ok(result);
    }
}
