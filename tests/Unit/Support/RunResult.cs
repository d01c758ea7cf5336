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
