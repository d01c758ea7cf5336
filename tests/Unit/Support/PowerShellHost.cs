using System.Collections;
using System.Collections.ObjectModel;
using System.Management.Automation;
using System.Management.Automation.Runspaces;

namespace AgentGovernance.Tests.Support;

/// <summary>The result of running a script in a runspace: output objects and error records.</summary>
public sealed class RunResult
{
    public RunResult(Collection<PSObject> output, IReadOnlyList<ErrorRecord> errors, IReadOnlyList<string> warnings, IReadOnlyList<string> verbose)
    {
        Output = output;
        Errors = errors;
        Warnings = warnings;
        Verbose = verbose;
    }

    public Collection<PSObject> Output { get; }

    public IReadOnlyList<ErrorRecord> Errors { get; }

    public IReadOnlyList<string> Warnings { get; }

    public IReadOnlyList<string> Verbose { get; }

    public IEnumerable<T> Objects<T>() => Output.Select(o => o.BaseObject).OfType<T>();

    public T Single<T>() => Assert.Single(Objects<T>());
}

/// <summary>
/// A real PowerShell 7.6 runspace with the built module imported from out/, as a user would have it:
/// parsing, parameter binding, the pipeline, ShouldProcess and error records are PowerShell's own.
/// </summary>
public sealed class PowerShellHost : IDisposable
{
    private readonly Runspace _runspace;

    public PowerShellHost()
    {
        var iss = InitialSessionState.CreateDefault2();
        iss.ImportPSModule(new[] { Repo.ModuleManifest });
        _runspace = RunspaceFactory.CreateRunspace(iss);
        _runspace.Open();
        Run("Set-Location -LiteralPath $args[0]", Repo.Root);
    }

    /// <summary>Runs a script; <paramref name="args"/> are available as $args.</summary>
    public RunResult Run(string script, params object?[] args) => Run(script, null, args);

    /// <summary>Runs a script with variables set first.</summary>
    public RunResult Run(string script, IDictionary? variables, params object?[] args)
    {
        using var ps = PowerShell.Create();
        ps.Runspace = _runspace;
        if (variables is not null)
        {
            foreach (DictionaryEntry v in variables)
            {
                _runspace.SessionStateProxy.SetVariable((string)v.Key, v.Value);
            }
        }

        ps.AddScript(script);
        foreach (var a in args)
        {
            ps.AddArgument(a);
        }

        Collection<PSObject> output;
        var errors = new List<ErrorRecord>();
        try
        {
            output = ps.Invoke();
        }
        catch (RuntimeException e)
        {
            // A terminating error: report it like any other error record.
            output = new Collection<PSObject>();
            errors.Add(e.ErrorRecord);
        }

        errors.InsertRange(0, ps.Streams.Error);
        return new RunResult(output, errors, ps.Streams.Warning.Select(w => w.Message).ToList(), ps.Streams.Verbose.Select(v => v.Message).ToList());
    }

    /// <summary>Runs a script and fails the test on any error record.</summary>
    public RunResult RunClean(string script, params object?[] args)
    {
        var result = Run(script, args);
        Assert.True(result.Errors.Count == 0, "Unexpected errors: " + string.Join(Environment.NewLine, result.Errors.Select(e => e.FullyQualifiedErrorId + ": " + e)));
        return result;
    }

    public void Dispose() => _runspace.Dispose();
}
