using System;
using System.Globalization;
using System.Net;
using System.Net.Http;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;

namespace AgentGovernance.Notifications;

/// <summary>How one delivery over HTTP went.</summary>
internal sealed class DeliveryOutcome
{
    public DeliveryOutcome(bool ok, int attempts, int? status, string? error)
    {
        Ok = ok;
        Attempts = attempts;
        Status = status;
        Error = error;
    }

    public bool Ok { get; }

    public int Attempts { get; }

    /// <summary>The last HTTP status; null when no answer came (network error, timeout).</summary>
    public int? Status { get; }

    /// <summary>Why it failed, for people and the ledger; never holds the URL (a webhook URL is a secret).</summary>
    public string? Error { get; }
}

/// <summary>
/// POSTs JSON with retries: 429 after its Retry-After, 5xx and network errors with exponential backoff;
/// other answers fail at once. Redirects are not followed, so a secret URL or a token never goes elsewhere.
/// </summary>
internal sealed class HttpDelivery : IDisposable
{
    private readonly HttpClient _client;

    public HttpDelivery(int maxAttempts = 4, TimeSpan? baseDelay = null, TimeSpan? maxRetryAfter = null, TimeSpan? timeout = null)
    {
        MaxAttempts = Math.Max(1, maxAttempts);
        BaseDelay = baseDelay ?? TimeSpan.FromSeconds(2);
        MaxRetryAfter = maxRetryAfter ?? TimeSpan.FromSeconds(60);
        _client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false })
        {
            Timeout = timeout ?? TimeSpan.FromSeconds(30),
        };
    }

    public int MaxAttempts { get; }

    public TimeSpan BaseDelay { get; }

    /// <summary>A Retry-After longer than this is not waited for: the delivery fails and the other channel is tried.</summary>
    public TimeSpan MaxRetryAfter { get; }

    public void Dispose() => _client.Dispose();

    public DeliveryOutcome Post(Uri url, string json, string? authorization, CancellationToken cancel = default) =>
        Task.Run(() => PostAsync(url, json, authorization, cancel), cancel).GetAwaiter().GetResult();

    private async Task<DeliveryOutcome> PostAsync(Uri url, string json, string? authorization, CancellationToken cancel)
    {
        int? status = null;
        string? error = null;
        for (var attempt = 1; ; attempt++)
        {
            TimeSpan? retryAfter = null;
            try
            {
                using var message = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(json, new UTF8Encoding(false), "application/json") };
                if (authorization is not null)
                {
                    message.Headers.TryAddWithoutValidation("Authorization", authorization);
                }

                using var response = await _client.SendAsync(message, HttpCompletionOption.ResponseContentRead, cancel).ConfigureAwait(false);
                status = (int)response.StatusCode;
                if (status >= 200 && status < 300)
                {
                    return new DeliveryOutcome(true, attempt, status, null);
                }

                var text = response.Content is null ? string.Empty : await response.Content.ReadAsStringAsync().ConfigureAwait(false);
                error = $"HTTP {status} {response.ReasonPhrase}{Describe(text)}";
                retryAfter = IO.RetryAfter.Of(response.Headers.RetryAfter);
                if (status != 429 && status < 500)
                {
                    return new DeliveryOutcome(false, attempt, status, error);
                }
            }
            catch (HttpRequestException e)
            {
                status = null;
                error = "no answer: " + Unwrap(e);
            }
            catch (TaskCanceledException) when (!cancel.IsCancellationRequested)
            {
                status = null;
                error = $"no answer within {_client.Timeout.TotalSeconds:0} s";
            }

            if (attempt >= MaxAttempts)
            {
                return new DeliveryOutcome(false, attempt, status, $"{error} (gave up after {attempt} attempts)");
            }

            var delay = retryAfter ?? TimeSpan.FromTicks(BaseDelay.Ticks * (1L << (attempt - 1)));
            if (delay > MaxRetryAfter)
            {
                return new DeliveryOutcome(false, attempt, status, $"{error} (asked to retry after {delay.TotalSeconds:0} s, longer than {MaxRetryAfter.TotalSeconds:0} s)");
            }

            await Task.Delay(delay, cancel).ConfigureAwait(false);
        }
    }

    /// <summary>A Graph error's code and message, made visible; nothing of other bodies (a webhook's answer may echo the URL).</summary>
    private static string Describe(string body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.Object)
            {
                var code = e.TryGetProperty("code", out var c) ? c.GetString() : null;
                var text = e.TryGetProperty("message", out var m) ? m.GetString() : null;
                return $": {NotificationText.Plain(code)} {NotificationText.Plain(text)}".TrimEnd();
            }
        }
        catch (JsonException)
        {
        }

        return string.Empty;
    }

    private static string Unwrap(Exception e)
    {
        var inner = e;
        while (inner.InnerException is not null)
        {
            inner = inner.InnerException;
        }

        return inner is System.Net.Sockets.SocketException s ? s.SocketErrorCode.ToString() : inner.GetType().Name;
    }
}
