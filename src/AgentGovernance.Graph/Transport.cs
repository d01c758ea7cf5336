using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using AgentGovernance.Providers.Graph;
using Microsoft.Graph;
using Microsoft.Graph.Models.ODataErrors;
using Microsoft.Kiota.Abstractions;
using Microsoft.Kiota.Abstractions.Serialization;

namespace AgentGovernance.Graph;

/// <summary>One Graph request of a batch, with what it is for (for error messages) and the permission it needs.</summary>
internal sealed class GraphRequest
{
    public GraphRequest(RequestInformation info, string what, string permission)
    {
        Info = info;
        What = what;
        Permission = permission;
    }

    public RequestInformation Info { get; }

    /// <summary>What the request reads or changes, as a person says it ("the members of group g-eng").</summary>
    public string What { get; }

    /// <summary>The least-privileged permission the request needs, named in a permission-denied message.</summary>
    public string Permission { get; }

    /// <summary>What the answer's objects are when Graph leaves out @odata.type (a GET of users/{id} is a user).</summary>
    public string? ObjectType { get; init; }

    public string Method => Info.HttpMethod.ToString().ToUpperInvariant();

    public string Url => Info.URI.ToString();

    /// <summary>What a command's cache knows the answer by: the URL of a GET; set for a POST that only reads (getByIds).</summary>
    public string CacheKey
    {
        get => _cacheKey ?? (Method == "GET" ? "GET " + Url : string.Empty);
        init => _cacheKey = value;
    }

    private readonly string? _cacheKey;
}

/// <summary>The answer to one request of a batch: status, Graph's error (if any), and the JSON body.</summary>
internal sealed class GraphResponse
{
    public GraphResponse(GraphRequest request, int status, JsonElement? body, string? text, TimeSpan? retryAfter)
    {
        Request = request;
        Status = status;
        Body = body;
        Text = text;
        RetryAfter = retryAfter;
    }

    public GraphRequest Request { get; }

    public int Status { get; }

    public JsonElement? Body { get; }

    /// <summary>A body that is not JSON (for example a $count).</summary>
    public string? Text { get; }

    public TimeSpan? RetryAfter { get; }

    /// <summary>The Location header (a 410 from a drive delta names the link that starts the enumeration again).</summary>
    public string? Location { get; init; }

    public bool Ok => Status >= 200 && Status < 300;

    public string? ErrorCode => Body is { } b && b.TryGetProperty("error", out var e) && e.TryGetProperty("code", out var c) ? c.GetString() : null;

    public string? ErrorMessage => Body is { } b && b.TryGetProperty("error", out var e) && e.TryGetProperty("message", out var m) ? m.GetString() : null;

    /// <summary>The items of a collection page.</summary>
    public IEnumerable<JsonElement> Values => Body is { } b && b.TryGetProperty("value", out var v) && v.ValueKind == JsonValueKind.Array ? v.EnumerateArray() : Enumerable.Empty<JsonElement>();

    public string? NextLink => Body is { } b && b.TryGetProperty("@odata.nextLink", out var n) ? n.GetString() : null;

    public string? DeltaLink => Body is { } b && b.TryGetProperty("@odata.deltaLink", out var n) ? n.GetString() : null;

    public GovernanceException ToException(bool write) => Errors.FromStatus(Request, Status, ErrorCode, ErrorMessage, write);
}

/// <summary>Turns Graph's failures into the module's error records: a stable ErrorId, what was asked, where, and what to do.</summary>
internal static class Errors
{
    public static GovernanceException FromStatus(GraphRequest request, int status, string? code, string? message, bool write)
    {
        var where = $"{request.Method} {request.Url}";
        var graph = code is null ? $"HTTP {status}" : $"HTTP {status} {code}: {message?.TrimEnd('.', ' ')}";
        return status switch
        {
            401 => new GovernanceException("GraphUnauthorized", GovernanceErrorKind.SecurityError,
                $"Graph refused the sign-in while reading {request.What} ({where}): {graph}. The token may have expired or be for another tenant; run Connect-AgentGovernance again.", request.Url),
            403 => new GovernanceException("DirectoryPermissionDenied", GovernanceErrorKind.PermissionDenied,
                $"Permission denied for {request.What} ({where}): {graph}. This needs the Graph permission {request.Permission} (granted to the app, or held by the signed-in user's role).", request.Url),
            404 => new GovernanceException("DirectoryObjectNotFound", GovernanceErrorKind.ObjectNotFound,
                $"Not found: {request.What} ({where}): {graph}.", request.Url),
            429 => new GovernanceException("GraphThrottled", write ? GovernanceErrorKind.WriteError : GovernanceErrorKind.ReadError,
                $"Graph kept throttling {request.What} ({where}) after every retry: {graph}. Try again later, or with fewer changes at once.", request.Url),
            503 or 504 => new GovernanceException("GraphUnavailable", write ? GovernanceErrorKind.WriteError : GovernanceErrorKind.ReadError,
                $"Graph was unavailable for {request.What} ({where}) after every retry: {graph}. Try again later.", request.Url),
            424 => new GovernanceException("DirectoryWriteSkipped", GovernanceErrorKind.WriteError,
                $"Not attempted: {request.What} ({where}) depends on an earlier operation on the same object, which failed.", request.Url),
            _ => new GovernanceException(write ? "DirectoryWriteFailed" : "DirectoryReadFailed", write ? GovernanceErrorKind.WriteError : GovernanceErrorKind.ReadError,
                $"Graph refused {request.What} ({where}): {graph}.", request.Url),
        };
    }

    public static GovernanceException Timeout(string what, string where, TimeSpan timeout) =>
        new("GraphTimeout", GovernanceErrorKind.ReadError,
            $"Graph did not answer {what} ({where}) within {timeout.TotalSeconds:0} s. Try again, or give Connect-AgentGovernance a larger -TimeoutSec.", where);

    public static GovernanceException Network(string what, string where, Exception e) =>
        new("GraphUnreachable", GovernanceErrorKind.ReadError, $"Cannot reach Graph for {what} ({where}): {e.Message}", where, e);
}

/// <summary>
/// The last handler before the network: counts what goes on the wire, and gives each attempt its own
/// time limit (the SDK's retry handler sits above it, so every retry is counted and timed too).
/// </summary>
internal sealed class WireHandler : DelegatingHandler
{
    /// <summary>The status of the last attempt of a request, for when the SDK's retry handler gives up with an exception.</summary>
    public static readonly HttpRequestOptionsKey<int> LastStatus = new("AgentGovernance.LastStatus");

    private readonly GraphRequestStatistics _stats;
    private readonly TimeSpan _timeout;

    public WireHandler(GraphRequestStatistics stats, TimeSpan timeout, HttpMessageHandler inner)
        : base(inner)
    {
        _stats = stats;
        _timeout = timeout;
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        _stats.AddRequest();
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(_timeout);
        try
        {
            var response = await base.SendAsync(request, limit.Token).ConfigureAwait(false);
            _stats.AddStatus((int)response.StatusCode);
            request.Options.Set(LastStatus, (int)response.StatusCode);
            return response;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"No answer within {_timeout.TotalSeconds:0} s.");
        }
    }
}

/// <summary>
/// Sends requests through the SDK: single requests through its request adapter, many through
/// $batch (20 per call), following @odata.nextLink, retrying steps a batch answered with 429/503/504
/// after their Retry-After, and caching GET answers while a command's read scope is open.
/// </summary>
internal sealed class Transport
{
    public const int BatchLimit = 20;
    private readonly GraphServiceClient _client;
    private readonly GraphConnectionOptions _options;
    private Dictionary<string, GraphResponse>? _cache;

    public Transport(GraphServiceClient client, GraphConnectionOptions options, GraphRequestStatistics stats)
    {
        _client = client;
        _options = options;
        Stats = stats;
    }

    public GraphServiceClient Client => _client;

    public GraphRequestStatistics Stats { get; }

    /// <summary>Runs async SDK code to completion on the pipeline thread without a synchronization context to deadlock on.</summary>
    public static T Run<T>(Func<Task<T>> work) => Task.Run(work).GetAwaiter().GetResult();

    public IDisposable BeginScope()
    {
        var scope = new Dictionary<string, GraphResponse>(StringComparer.Ordinal);
        _cache = scope;
        return new Scope(this, scope);
    }

    /// <summary>A GET by absolute URL (a nextLink or deltaLink Graph gave us).</summary>
    public RequestInformation Get(string url)
    {
        var info = new RequestInformation { HttpMethod = Method.GET, URI = new Uri(url) };
        info.Headers.Add("Accept", "application/json");
        return info;
    }

    /// <summary>
    /// Sends requests in $batch calls of 20, each step answered on its own; steps answered 429/503/504
    /// are sent again after the longest Retry-After, up to the connection's retry count.
    /// <paramref name="dependsOn"/> (request index to the index it must follow) chains steps: each chain
    /// must fit in one batch.
    /// </summary>
    public async Task<List<GraphResponse>> BatchAsync(IReadOnlyList<GraphRequest> requests, CancellationToken cancel, IReadOnlyDictionary<int, int>? dependsOn = null)
    {
        var results = new GraphResponse?[requests.Count];
        var pending = new List<int>();
        for (var i = 0; i < requests.Count; i++)
        {
            if (_cache is not null && requests[i].CacheKey.Length > 0 && _cache.TryGetValue(requests[i].CacheKey, out var hit))
            {
                results[i] = hit;
            }
            else
            {
                pending.Add(i);
            }
        }

        for (var attempt = 0; pending.Count > 0; attempt++)
        {
            var retry = new List<int>();
            var wait = TimeSpan.Zero;
            foreach (var chunk in Chunks(pending, dependsOn))
            {
                var answers = await SendBatchAsync(requests, chunk, dependsOn, cancel).ConfigureAwait(false);
                var alone = answers.Count == 1 && chunk.Count == 1 && (dependsOn is null || !dependsOn.ContainsKey(chunk[0]));
                foreach (var (index, response) in answers)
                {
                    // A request sent alone was already retried by the SDK's retry handler; a step of a batch is retried here.
                    var transient = !alone && (response.Status == 429 || response.Status == 503 || response.Status == 504);
                    if (transient)
                    {
                        Stats.AddStatus(response.Status);
                    }

                    if (transient && attempt < _options.MaxRetries)
                    {
                        retry.Add(index);
                        var after = response.RetryAfter ?? TimeSpan.FromSeconds(Math.Min(30, 1 << attempt));
                        wait = after > wait ? after : wait;
                        continue;
                    }

                    results[index] = response;
                    if (_cache is not null && response.Ok && requests[index].CacheKey.Length > 0)
                    {
                        _cache[requests[index].CacheKey] = response;
                    }
                }
            }

            pending = retry;
            if (pending.Count > 0)
            {
                await Task.Delay(wait, cancel).ConfigureAwait(false);
            }
        }

        return results.Select(r => r!).ToList();
    }

    /// <summary>Every page of each collection request, following nextLinks (the next pages of all requests batched together).</summary>
    public async Task<List<PagedResult>> PagesAsync(IReadOnlyList<GraphRequest> requests, CancellationToken cancel)
    {
        var results = requests.Select(r => new PagedResult(r)).ToList();
        var round = requests.Select((r, i) => (Index: i, Request: r)).ToList();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (round.Count > 0)
        {
            var answers = await BatchAsync(round.Select(r => r.Request).ToList(), cancel).ConfigureAwait(false);
            var next = new List<(int, GraphRequest)>();
            for (var i = 0; i < answers.Count; i++)
            {
                var (index, request) = round[i];
                var result = results[index];
                var answer = answers[i];
                if (!answer.Ok)
                {
                    result.Failure = answer;
                    continue;
                }

                if (answer.Body is { } body && !body.Has("value"))
                {
                    result.Single = body;
                }

                result.Items.AddRange(answer.Values);
                if (answer.NextLink is { } link)
                {
                    if (!seen.Add(link))
                    {
                        result.Failure = new GraphResponse(request, 508, null, "Graph returned the same nextLink twice.", null);
                        continue;
                    }

                    next.Add((index, new GraphRequest(Get(link), request.What, request.Permission)));
                }
            }

            round = next;
        }

        return results;
    }

    private async Task<List<(int Index, GraphResponse Response)>> SendBatchAsync(IReadOnlyList<GraphRequest> requests, List<int> chunk,
        IReadOnlyDictionary<int, int>? dependsOn, CancellationToken cancel)
    {
        // One request needs no envelope: it goes as itself (same count on the wire, clearer errors).
        if (chunk.Count == 1 && (dependsOn is null || !dependsOn.ContainsKey(chunk[0])))
        {
            var single = await SendSingleAsync(requests[chunk[0]], cancel).ConfigureAwait(false);
            return new List<(int, GraphResponse)> { (chunk[0], single) };
        }

#pragma warning disable CS0618 // BatchRequestContent: one batch whose dependsOn chains we control (the collection may split a chain; upgrade-to-v5.md).
        var content = new BatchRequestContent(_client);
        var ids = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        foreach (var index in chunk)
        {
            var message = await _client.RequestAdapter.ConvertToNativeRequestAsync<HttpRequestMessage>(requests[index].Info, cancel).ConfigureAwait(false);
            message!.RequestUri = ForBatch(message.RequestUri!);
            var id = (index + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
            List<string>? after = dependsOn is not null && dependsOn.TryGetValue(index, out var previous) && chunk.Contains(previous)
                ? new List<string> { (previous + 1).ToString(System.Globalization.CultureInfo.InvariantCulture) }
                : null;
            content.AddBatchRequestStep(new BatchRequestStep(id, message, after));
            ids[id] = index;
        }
#pragma warning restore CS0618

        Stats.AddBatch(chunk.Count);
        BatchResponseContent batch;
        try
        {
            batch = await _client.Batch.PostAsync(content, cancel).ConfigureAwait(false);
        }
        catch (ODataError e)
        {
            var first = requests[chunk[0]];
            throw Errors.FromStatus(new GraphRequest(first.Info, $"a batch of {chunk.Count} requests starting with {first.What}", first.Permission), e.ResponseStatusCode, e.Error?.Code, e.Error?.Message, write: false);
        }
        catch (TimeoutException)
        {
            throw Errors.Timeout($"a batch of {chunk.Count} requests starting with {requests[chunk[0]].What}", "POST $batch", _options.RequestTimeout);
        }
        catch (AggregateException e)
        {
            // The SDK's retry handler gave up on the $batch call itself (429/503/504 every time).
            var first = requests[chunk[0]];
            throw Errors.FromStatus(new GraphRequest(first.Info, $"a batch of {chunk.Count} requests starting with {first.What}", first.Permission), 429, null, e.InnerException?.Message ?? e.Message, write: false);
        }
        catch (HttpRequestException e)
        {
            throw Errors.Network($"a batch of {chunk.Count} requests", "POST $batch", e);
        }

        var answers = new List<(int, GraphResponse)>();
        var responses = await batch.GetResponsesAsync().ConfigureAwait(false);
        foreach (var (id, message) in responses)
        {
            if (!ids.TryGetValue(id, out var index))
            {
                continue;
            }

            using (message)
            {
                answers.Add((index, await ReadAsync(requests[index], message, cancel).ConfigureAwait(false)));
            }
        }

        // A step the batch did not answer is a failure of that step, never a silent success.
        foreach (var index in chunk.Where(i => answers.All(a => a.Item1 != i)))
        {
            answers.Add((index, new GraphResponse(requests[index], 502, null, "The $batch answer had no response for this request.", null)));
        }

        return answers;
    }

    /// <summary>
    /// The URL to give the SDK for a $batch step. The SDK writes a step's URL as the message's path and
    /// query percent-decoded (Uri.UnescapeDataString), so an encoded '#' (a guest's UPN,
    /// name_domain#EXT#@tenant) would reach Graph raw, start a fragment, and name another object or none.
    /// Escaping '%' once more makes the decoded text exactly the encoded URL. A raw '#' (a fragment) is
    /// never meant: it is encoded too.
    /// </summary>
    internal static Uri ForBatch(Uri uri)
    {
        if (!uri.IsAbsoluteUri)
        {
            return uri;
        }

        var pathAndQuery = uri.PathAndQuery + uri.Fragment.Replace("#", "%23", StringComparison.Ordinal);
        return new Uri(uri.GetLeftPart(UriPartial.Authority) + pathAndQuery.Replace("%", "%25", StringComparison.Ordinal));
    }

    private async Task<GraphResponse> SendSingleAsync(GraphRequest request, CancellationToken cancel)
    {
        HttpResponseMessage message;
        HttpRequestMessage? native = null;
        try
        {
            await Authentication.AuthenticateRequestAsync(request.Info, null, cancel).ConfigureAwait(false);
            native = await _client.RequestAdapter.ConvertToNativeRequestAsync<HttpRequestMessage>(request.Info, cancel).ConfigureAwait(false)
                ?? throw new InvalidOperationException("The SDK made no HTTP request of " + request.Url);
            message = await HttpClient.SendAsync(native, cancel).ConfigureAwait(false);
        }
        catch (AggregateException) when (native is not null && native.Options.TryGetValue(WireHandler.LastStatus, out var last))
        {
            // The SDK's retry handler gave up ("Too many retries performed"): the last answer is the failure.
            return new GraphResponse(request, last, null, null, null);
        }
        catch (TimeoutException)
        {
            throw Errors.Timeout(request.What, $"{request.Method} {request.Url}", _options.RequestTimeout);
        }
        catch (HttpRequestException e)
        {
            throw Errors.Network(request.What, $"{request.Method} {request.Url}", e);
        }

        using (message)
        {
            return await ReadAsync(request, message, cancel).ConfigureAwait(false);
        }
    }

    /// <summary>The SDK's HttpClient (with its retry, redirect and compression middleware); set by the connection.</summary>
    public HttpClient HttpClient { get; set; } = null!;

    /// <summary>Adds the bearer token to a request sent as itself; set by the connection.</summary>
    public Microsoft.Kiota.Abstractions.Authentication.IAuthenticationProvider Authentication { get; set; } = null!;

    private static async Task<GraphResponse> ReadAsync(GraphRequest request, HttpResponseMessage message, CancellationToken cancel)
    {
        var status = (int)message.StatusCode;
        var retryAfter = IO.RetryAfter.Of(message.Headers.RetryAfter);

        var location = message.Headers.Location?.ToString();
        var text = message.Content is null ? string.Empty : await message.Content.ReadAsStringAsync(cancel).ConfigureAwait(false);
        if (text.Length == 0)
        {
            return new GraphResponse(request, status, null, null, retryAfter) { Location = location };
        }

        try
        {
            using var doc = JsonDocument.Parse(text);
            return new GraphResponse(request, status, doc.RootElement.Clone(), null, retryAfter) { Location = location };
        }
        catch (JsonException)
        {
            return new GraphResponse(request, status, null, text, retryAfter) { Location = location };
        }
    }

    /// <summary>Chunks of at most 20 that never split a dependsOn chain.</summary>
    private static IEnumerable<List<int>> Chunks(List<int> pending, IReadOnlyDictionary<int, int>? dependsOn)
    {
        var chunk = new List<int>();
        foreach (var chain in Chains(pending, dependsOn))
        {
            if (chain.Count > BatchLimit)
            {
                throw new GovernanceException("BatchChainTooLong", GovernanceErrorKind.InvalidArgument,
                    $"{chain.Count} operations act on one object; at most {BatchLimit} can be applied in order in one batch.");
            }

            if (chunk.Count + chain.Count > BatchLimit)
            {
                yield return chunk;
                chunk = new List<int>();
            }

            chunk.AddRange(chain);
        }

        if (chunk.Count > 0)
        {
            yield return chunk;
        }
    }

    private static List<List<int>> Chains(List<int> pending, IReadOnlyDictionary<int, int>? dependsOn)
    {
        var chains = new List<List<int>>();
        var chainOf = new Dictionary<int, List<int>>();
        var set = new HashSet<int>(pending);
        foreach (var i in pending)
        {
            if (dependsOn is not null && dependsOn.TryGetValue(i, out var before) && set.Contains(before) && chainOf.TryGetValue(before, out var chain))
            {
                chain.Add(i);
                chainOf[i] = chain;
                continue;
            }

            var fresh = new List<int> { i };
            chains.Add(fresh);
            chainOf[i] = fresh;
        }

        return chains;
    }

    private sealed class Scope : IDisposable
    {
        private readonly Transport _owner;
        private readonly Dictionary<string, GraphResponse> _cache;

        public Scope(Transport owner, Dictionary<string, GraphResponse> cache)
        {
            _owner = owner;
            _cache = cache;
        }

        public void Dispose()
        {
            if (ReferenceEquals(_owner._cache, _cache))
            {
                _owner._cache = null;
            }
        }
    }
}

/// <summary>Every item of a paged collection, or the answer that stopped it.</summary>
internal sealed class PagedResult
{
    public PagedResult(GraphRequest request) => Request = request;

    public GraphRequest Request { get; }

    public List<JsonElement> Items { get; } = new();

    /// <summary>The answer of a request for one object (no value[]).</summary>
    public JsonElement? Single { get; set; }

    public GraphResponse? Failure { get; set; }

    public bool Ok => Failure is null;
}
