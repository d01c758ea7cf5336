using System.Collections.ObjectModel;
using System.Management.Automation;
using System.Management.Automation.Runspaces;

namespace AgentGovernance.Tests.Suggestions;

/// <summary>
/// A test-only runspace whose Microsoft Graph commands are recording stubs: binary cmdlets with the
/// real commands' names and named, mandatory id parameters, which record what PowerShell bound to
/// them as the operation the real command would perform, and change nothing. Scripts run here for
/// real (variables, references, splatting, pipelines, scopes are PowerShell's own), so what the stubs
/// record is the truth an intake reading of the same text must match.
/// </summary>
public sealed class RecordingRunspace : IDisposable
{
    [ThreadStatic]
    private static List<string>? _calls;

    private readonly Runspace _runspace;

    public RecordingRunspace()
    {
        // The engine package has only the core cmdlets; the scripts also use Utility's and Management's
        // (Get-Variable, Set-Variable, Write-Verbose, Get-Item, Set-Item...), added from their assemblies.
        var iss = InitialSessionState.CreateDefault2();
        foreach (var assembly in new[] { typeof(Microsoft.PowerShell.Commands.GetVariableCommand).Assembly, typeof(Microsoft.PowerShell.Commands.GetItemCommand).Assembly })
        {
            foreach (var type in assembly.GetExportedTypes())
            {
                if (type.GetCustomAttributes(typeof(CmdletAttribute), false).FirstOrDefault() is CmdletAttribute c && !type.IsAbstract)
                {
                    iss.Commands.Add(new SessionStateCmdletEntry(c.VerbName + "-" + c.NounName, type, null));
                }
            }
        }

        foreach (var (name, type) in new[]
        {
            ("New-MgGroupMember", typeof(StubNewMgGroupMember)),
            ("Remove-MgGroupMemberByRef", typeof(StubRemoveMgGroupMemberByRef)),
            ("Get-MgGroup", typeof(StubGetMgGroup)),
            ("Get-MgUser", typeof(StubGetMgUser)),
            ("Complete-StubScript", typeof(StubCompleteScript)),
        })
        {
            iss.Commands.Add(new SessionStateCmdletEntry(name, type, null));
        }

        // The stubs record into a thread-static list: the script must run on the calling thread.
        _runspace = RunspaceFactory.CreateRunspace(iss);
        _runspace.ThreadOptions = PSThreadOptions.UseCurrentThread;
        _runspace.Open();
    }

    /// <summary>Runs a script in a scope of its own and returns the operations the stubs saw, in order, and the errors.</summary>
    public (IReadOnlyList<string> Calls, IReadOnlyList<string> Errors) Run(string script)
    {
        _calls = new List<string>();
        var errors = new List<string>();
        try
        {
            using var ps = PowerShell.Create();
            ps.Runspace = _runspace;
            ps.AddScript(script, useLocalScope: true);
            try
            {
                ps.Invoke();
            }
            catch (RuntimeException e)
            {
                errors.Add(e.Message);
            }

            errors.AddRange(ps.Streams.Error.Select(e => e.ToString()));
            return (_calls, errors);
        }
        finally
        {
            _calls = null;
        }
    }

    /// <summary>
    /// Runs many scripts in one pipeline, each in a scope of its own (<c>&amp; { }</c>, as Run's local
    /// scope), which is several times faster than one invocation each. A batch that raises any error
    /// is run again one script at a time, so each error is told with its own script.
    /// </summary>
    public IReadOnlyList<(IReadOnlyList<string> Calls, IReadOnlyList<string> Errors)> RunMany(IReadOnlyList<string> scripts)
    {
        var batch = new System.Text.StringBuilder();
        foreach (var script in scripts)
        {
            batch.Append("& {\n").Append(script).Append("\n}\nComplete-StubScript\n");
        }

        _calls = new List<string>();
        _done = new List<List<string>>();
        try
        {
            using var ps = PowerShell.Create();
            ps.Runspace = _runspace;
            ps.AddScript(batch.ToString(), useLocalScope: true);
            ps.Invoke();
            if (!ps.HadErrors && _done.Count == scripts.Count)
            {
                return _done.Select(c => ((IReadOnlyList<string>)c, (IReadOnlyList<string>)Array.Empty<string>())).ToList();
            }
        }
        catch (RuntimeException)
        {
        }
        finally
        {
            _calls = null;
            _done = null;
        }

        return scripts.Select(Run).ToList();
    }

    public void Dispose() => _runspace.Dispose();

    [ThreadStatic]
    private static List<List<string>>? _done;

    internal static void Complete()
    {
        (_done ?? throw new InvalidOperationException("Complete-StubScript ran outside RecordingRunspace.RunMany.")).Add(_calls!);
        _calls = new List<string>();
    }

    internal static void Record(string operation) =>
        (_calls ?? throw new InvalidOperationException("A stub ran outside RecordingRunspace.Run.")).Add(operation);

    /// <summary>What the stubbed lookups answer: the tiny tenant's display names (CmdletTestData.Snapshot).</summary>
    internal static readonly IReadOnlyDictionary<string, string> Names = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        ["g-eng"] = "Engineering", ["g-platform"] = "Platform", ["g-data"] = "Data", ["g-team"] = "Team",
        ["u-alice"] = "Alice", ["u-bob"] = "Bob", ["u-carol"] = "Carol", ["u-joe"] = "Joe (vendor)",
    };

    internal static PSObject Entity(string id)
    {
        var o = new PSObject();
        o.Properties.Add(new PSNoteProperty("Id", id));
        o.Properties.Add(new PSNoteProperty("DisplayName", Names.TryGetValue(id, out var n) ? n : null));
        return o;
    }
}

[Cmdlet(VerbsCommon.New, "MgGroupMember")]
public sealed class StubNewMgGroupMember : PSCmdlet
{
    [Parameter(Mandatory = true)]
    public string GroupId { get; set; } = string.Empty;

    [Parameter(Mandatory = true)]
    public string DirectoryObjectId { get; set; } = string.Empty;

    protected override void ProcessRecord() => RecordingRunspace.Record($"add {DirectoryObjectId} to group {GroupId}");
}

[Cmdlet(VerbsCommon.Remove, "MgGroupMemberByRef")]
public sealed class StubRemoveMgGroupMemberByRef : PSCmdlet
{
    [Parameter(Mandatory = true)]
    public string GroupId { get; set; } = string.Empty;

    [Parameter(Mandatory = true)]
    public string DirectoryObjectId { get; set; } = string.Empty;

    protected override void ProcessRecord() => RecordingRunspace.Record($"remove {DirectoryObjectId} from group {GroupId}");
}

[Cmdlet(VerbsCommon.Get, "MgGroup")]
public sealed class StubGetMgGroup : PSCmdlet
{
    [Parameter(Mandatory = true)]
    public string GroupId { get; set; } = string.Empty;

    protected override void ProcessRecord() => WriteObject(RecordingRunspace.Entity(GroupId));
}

[Cmdlet(VerbsCommon.Get, "MgUser")]
public sealed class StubGetMgUser : PSCmdlet
{
    [Parameter(Mandatory = true)]
    public string UserId { get; set; } = string.Empty;

    protected override void ProcessRecord() => WriteObject(RecordingRunspace.Entity(UserId));
}

/// <summary>Ends one script of a batch (RecordingRunspace.RunMany): what the stubs recorded so far is that script's.</summary>
[Cmdlet(VerbsLifecycle.Complete, "StubScript")]
public sealed class StubCompleteScript : PSCmdlet
{
    protected override void EndProcessing() => RecordingRunspace.Complete();
}
