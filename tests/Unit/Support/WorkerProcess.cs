using System.Diagnostics;

namespace AgentGovernance.Tests.Support;

/// <summary>A worker process (tests/Worker): a script run in its own PowerShell, with the built module.</summary>
public sealed class WorkerProcess : IDisposable
{
    private readonly Process _process;
    private readonly List<string> _out = new();
    private readonly List<string> _err = new();

    private WorkerProcess(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_out) _out.Add(e.Data); };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_err) _err.Add(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public IReadOnlyList<string> Output { get { lock (_out) return _out.ToList(); } }

    public IReadOnlyList<string> Errors { get { lock (_err) return _err.ToList(); } }

    public int ExitCode => _process.ExitCode;

    /// <summary>
    /// Starts the script; <paramref name="crashAt"/> kills the process (SIGKILL) at that fault-injection point;
    /// <paramref name="environment"/> is added to its environment (what a process reads only when it starts).
    /// </summary>
    public static WorkerProcess Start(string script, IEnumerable<string> args, string? crashAt = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        info.ArgumentList.Add(Repo.Worker);
        if (crashAt is not null)
        {
            info.ArgumentList.Add("--crash-at");
            info.ArgumentList.Add(crashAt);
        }

        info.ArgumentList.Add(script);
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        return new WorkerProcess(Process.Start(info)!);
    }

    public bool WaitForExit(TimeSpan timeout)
    {
        if (!_process.WaitForExit((int)timeout.TotalMilliseconds))
        {
            return false;
        }

        _process.WaitForExit();
        return true;
    }

    /// <summary>Waits until the worker printed a line containing <paramref name="text"/>.</summary>
    public bool WaitForLine(string text, TimeSpan timeout)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < timeout)
        {
            if (Output.Any(l => l.Contains(text)))
            {
                return true;
            }

            if (_process.HasExited)
            {
                _process.WaitForExit();
                return Output.Any(l => l.Contains(text));
            }

            Thread.Sleep(20);
        }

        return false;
    }

    /// <summary>kill -9: no clean-up, no finally blocks, no flushing.</summary>
    public void Kill()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    public string Describe() => $"exit {(_process.HasExited ? _process.ExitCode : -1)}; out: {string.Join(" | ", Output)}; err: {string.Join(" | ", Errors)}";

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        _process.Dispose();
    }
}
