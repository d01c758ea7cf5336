using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace AgentGovernance.Tests.Notifications;

/// <summary>
/// A real HTTP server on 127.0.0.1 (HttpListener) that answers from a script: each request takes the next
/// scripted answer (status and headers), the last one repeating. It keeps every request it received.
/// </summary>
public sealed class LoopbackServer : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly ConcurrentQueue<(int Status, string? RetryAfter)> _script = new();
    private (int Status, string? RetryAfter) _last = (202, null);
    private readonly Task _loop;

    public LoopbackServer(params (int Status, string? RetryAfter)[] answers)
        : this(FreePort(), answers)
    {
    }

    /// <summary>A server on a given port (to bring back one that was stopped).</summary>
    public LoopbackServer(int port, params (int Status, string? RetryAfter)[] answers)
    {
        foreach (var a in answers)
        {
            _script.Enqueue(a);
        }

        Port = port;
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _loop = Task.Run(Serve);
    }

    public int Port { get; }

    private static int FreePort()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }

    public Uri Base => new($"http://127.0.0.1:{Port}/");

    public ConcurrentQueue<Received> Requests { get; } = new();

    public sealed record Received(string Method, string Path, string? Authorization, string ContentType, byte[] Body, DateTime At)
    {
        public string Text => Encoding.UTF8.GetString(Body);
    }

    private async Task Serve()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException || e is ObjectDisposedException || e is InvalidOperationException)
            {
                return;
            }

            using var body = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(body);
            Requests.Enqueue(new Received(context.Request.HttpMethod, context.Request.RawUrl ?? string.Empty, context.Request.Headers["Authorization"],
                context.Request.ContentType ?? string.Empty, body.ToArray(), DateTime.UtcNow));
            var answer = _script.TryDequeue(out var next) ? _last = next : _last;
            context.Response.StatusCode = answer.Status;
            if (answer.RetryAfter is not null)
            {
                context.Response.Headers["Retry-After"] = answer.RetryAfter;
            }

            var reply = answer.Status >= 400 ? Encoding.UTF8.GetBytes("{\"error\":{\"code\":\"Busy\",\"message\":\"try later\"}}") : Array.Empty<byte>();
            context.Response.ContentType = "application/json";
            await context.Response.OutputStream.WriteAsync(reply);
            context.Response.Close();
        }
    }

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
        try
        {
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }
    }
}
