using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace AgentGovernance.Tests.Support;

/// <summary>What the proxy does to one request.</summary>
public enum TableFault
{
    /// <summary>Forwards it and its answer.</summary>
    Pass,

    /// <summary>Answers 503 ServerBusy with Retry-After: 1, without forwarding.</summary>
    ServerBusy,

    /// <summary>Holds it past the client's timeout, then forwards it anyway (it reaches the service after the client gave up).</summary>
    DelayThenForward,

    /// <summary>Drops the connection without forwarding.</summary>
    Drop,

    /// <summary>Forwards it, then drops the connection instead of answering: it succeeded, and its answer was lost.</summary>
    ForwardThenDrop,
}

/// <summary>
/// A loopback HTTP proxy between a table client and Azurite that injects faults into chosen requests:
/// 503 ServerBusy, a delay past the client's timeout, a dropped connection (a TCP reset, no answer at
/// all), or a lost answer. Raw TCP, one request per connection (it asks Azurite to close after each), so
/// that a drop is a real one.
/// </summary>
public sealed class FaultProxy : IDisposable
{
    private readonly TcpListener _listener;
    private readonly int _targetPort;
    private readonly ConcurrentQueue<(TableFault Fault, Func<string, string, bool> Match)> _plan = new();
    private readonly object _planGate = new();
    private readonly ConcurrentBag<(TableFault Fault, string Method, string Path)> _seen = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    /// <param name="targetPort">Azurite's port on 127.0.0.1.</param>
    public FaultProxy(int targetPort, TimeSpan delay)
    {
        _targetPort = targetPort;
        Delay = delay;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _loop = Task.Run(Loop);
    }

    public int Port { get; }

    public TimeSpan Delay { get; }

    /// <summary>Azurite's account endpoint, through the proxy.</summary>
    public string Endpoint => $"http://127.0.0.1:{Port}/{Azurite.Account}";

    /// <summary>The next request that <paramref name="match"/> (method, path and query) gets <paramref name="fault"/>; queued faults are used in order.</summary>
    public void Next(TableFault fault, Func<string, string, bool>? match = null) => _plan.Enqueue((fault, match ?? ((_, _) => true)));

    /// <summary>Inserts: a POST to the table (one entity, or a batch).</summary>
    public static bool Insert(string method, string path) => method == "POST";

    public IReadOnlyList<(TableFault Fault, string Method, string Path)> Seen => _seen.ToList();

    public int Count(TableFault fault) => _seen.Count(s => s.Fault == fault);

    private TableFault Take(string method, string path)
    {
        lock (_planGate)
        {
            if (_plan.TryPeek(out var next) && next.Match(method, path))
            {
                _plan.TryDequeue(out _);
                return next.Fault;
            }

            return TableFault.Pass;
        }
    }

    private async Task Loop()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
            {
                return;
            }

            _ = Task.Run(() => Handle(client));
        }
    }

    private async Task Handle(TcpClient client)
    {
        using (client)
        {
            try
            {
                var stream = client.GetStream();
                var (head, body) = await ReadRequest(stream);
                if (head is null)
                {
                    return;
                }

                var firstLine = head.Substring(0, head.IndexOf("\r\n", StringComparison.Ordinal)).Split(' ');
                var fault = Take(firstLine[0], firstLine[1]);
                _seen.Add((fault, firstLine[0], firstLine[1]));
                switch (fault)
                {
                    case TableFault.ServerBusy:
                        await stream.WriteAsync(Encoding.ASCII.GetBytes(
                            "HTTP/1.1 503 Server Busy\r\nRetry-After: 1\r\nx-ms-error-code: ServerBusy\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"));
                        return;
                    case TableFault.Drop:
                        Reset(client);
                        return;
                    case TableFault.DelayThenForward:
                        await Task.Delay(Delay);
                        await Forward(head, body, Stream.Null);
                        Reset(client);
                        return;
                    case TableFault.ForwardThenDrop:
                        await Forward(head, body, Stream.Null);
                        Reset(client);
                        return;
                    default:
                        await Forward(head, body, stream);
                        return;
                }
            }
            catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
            {
                // The client went away (it timed out): nothing to answer.
            }
        }
    }

    private static void Reset(TcpClient client)
    {
        client.LingerState = new LingerOption(true, 0);
        client.Client.Close();
    }

    /// <summary>Sends the request to Azurite on a connection of its own (closed after the answer) and copies the answer to <paramref name="to"/>.</summary>
    private async Task Forward(string head, byte[] body, Stream to)
    {
        var lines = head.Split("\r\n").Where(l => l.Length > 0 && !l.StartsWith("Connection:", StringComparison.OrdinalIgnoreCase)).ToList();
        lines.Add("Connection: close");
        using var upstream = new TcpClient();
        await upstream.ConnectAsync(IPAddress.Loopback, _targetPort);
        var u = upstream.GetStream();
        await u.WriteAsync(Encoding.ASCII.GetBytes(string.Join("\r\n", lines) + "\r\n\r\n"));
        await u.WriteAsync(body);
        await u.CopyToAsync(to);
    }

    /// <summary>One request: its head (up to the blank line) and its body (Content-Length bytes).</summary>
    private static async Task<(string? Head, byte[] Body)> ReadRequest(NetworkStream stream)
    {
        var buffer = new List<byte>();
        var one = new byte[1];
        while (true)
        {
            if (await stream.ReadAsync(one) == 0)
            {
                return (null, Array.Empty<byte>());
            }

            buffer.Add(one[0]);
            var n = buffer.Count;
            if (n >= 4 && buffer[n - 4] == '\r' && buffer[n - 3] == '\n' && buffer[n - 2] == '\r' && buffer[n - 1] == '\n')
            {
                break;
            }
        }

        var head = Encoding.ASCII.GetString(buffer.ToArray(), 0, buffer.Count - 4);
        var length = head.Split("\r\n")
            .Where(l => l.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))
            .Select(l => int.Parse(l.Substring(15).Trim(), System.Globalization.CultureInfo.InvariantCulture))
            .FirstOrDefault();
        var body = new byte[length];
        await stream.ReadExactlyAsync(body);
        return (head, body);
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        try
        {
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }

        _stop.Dispose();
    }
}
