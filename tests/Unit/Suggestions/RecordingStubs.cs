using System.Collections.ObjectModel;
using System.Management.Automation;
using System.Management.Automation.Runspaces;

namespace AgentGovernance.Tests.Suggestions;

/// <summary>
/// A test-only runspace whose Microsoft Graph and PnP.PowerShell commands are recording stubs: binary cmdlets with the
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
            ("Connect-PnPOnline", typeof(StubConnectPnPOnline)),
            ("Add-PnPGroupMember", typeof(StubAddPnPGroupMember)),
            ("Remove-PnPGroupMember", typeof(StubRemovePnPGroupMember)),
            ("Set-PnPWebPermission", typeof(StubSetPnPWebPermission)),
            ("Add-PnPSiteCollectionAdmin", typeof(StubAddPnPSiteCollectionAdmin)),
            ("Remove-PnPSiteCollectionAdmin", typeof(StubRemovePnPSiteCollectionAdmin)),
            ("Add-PnPMicrosoft365GroupMember", typeof(StubAddPnPMicrosoft365GroupMember)),
            ("Remove-PnPMicrosoft365GroupMember", typeof(StubRemovePnPMicrosoft365GroupMember)),
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
        _site = null;
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
        // exit ends the whole batch: those scripts run alone.
        var exits = scripts.Select((s, i) => (s, i)).Where(x => ExitLine.IsMatch(x.s)).Select(x => x.i).ToHashSet();
        if (exits.Count > 0)
        {
            var rest = scripts.Where((_, i) => !exits.Contains(i)).ToList();
            var batched = new Queue<(IReadOnlyList<string> Calls, IReadOnlyList<string> Errors)>(rest.Count > 0 ? RunMany(rest) : Array.Empty<(IReadOnlyList<string>, IReadOnlyList<string>)>());
            return scripts.Select((s, i) => exits.Contains(i) ? Run(s) : batched.Dequeue()).ToList();
        }

        // Each script in a one-pass loop (a break or continue outside any loop of its own ends it, as it ends
        // a script run alone) and a try (a throw ends it, and is its error); each has its own PnP connection.
        var batch = new System.Text.StringBuilder();
        foreach (var script in scripts)
        {
            batch.Append("$__err = $null\nforeach ($__once in 1) { try { & {\n").Append(script).Append("\n} } catch { $__err = \"$_\" } }\nComplete-StubScript -Failure $__err\n");
        }

        _calls = new List<string>();
        _done = new List<List<string>>();
        _failures = new List<string?>();
        _site = null;
        try
        {
            using var ps = PowerShell.Create();
            ps.Runspace = _runspace;
            ps.AddScript(batch.ToString(), useLocalScope: true);
            ps.Invoke();
            if (!ps.HadErrors && _done.Count == scripts.Count)
            {
                return _done.Zip(_failures!, (c, f) => ((IReadOnlyList<string>)c, f is null ? (IReadOnlyList<string>)Array.Empty<string>() : new[] { f })).ToList();
            }
        }
        catch (RuntimeException)
        {
        }
        finally
        {
            _calls = null;
            _done = null;
            _failures = null;
        }

        return scripts.Select(Run).ToList();
    }

    public void Dispose() => _runspace.Dispose();

    [ThreadStatic]
    private static List<List<string>>? _done;

    private static readonly System.Text.RegularExpressions.Regex ExitLine = new(@"\bexit\b", System.Text.RegularExpressions.RegexOptions.IgnoreCase);

    [ThreadStatic]
    private static List<string?>? _failures;

    [ThreadStatic]
    private static string? _site;

    internal static void Complete(string? failure)
    {
        (_done ?? throw new InvalidOperationException("Complete-StubScript ran outside RecordingRunspace.RunMany.")).Add(_calls!);
        (_failures ??= new List<string?>()).Add(failure);
        _calls = new List<string>();
        _site = null;
    }

    /// <summary>The sites of the tiny tenant by URL (the property test's snapshot gives them these webUrls).</summary>
    internal static readonly IReadOnlyDictionary<string, string> Sites = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        ["https://tiny.sharepoint.com/sites/team"] = "site-team", ["https://tiny.sharepoint.com/sites/general"] = "site-general",
    };

    internal static void Connect(string url) => _site = url;

    /// <summary>The site a PnP stub acts on: its -Connection's URL, or the last Connect-PnPOnline's; as the resource id the model names it by.</summary>
    internal static string Site(PSObject? connection)
    {
        var url = connection?.Properties["Url"]?.Value?.ToString() ?? _site ?? throw new InvalidOperationException("No Connect-PnPOnline came first.");
        return Sites.TryGetValue(url.TrimEnd('/'), out var id) ? id : url;
    }

    /// <summary>The role a default SharePoint group's members get, or a permission level gives, in the change model.</summary>
    internal static string Role(string groupOrLevel)
    {
        var n = groupOrLevel.Trim();
        return n.EndsWith("Visitors", StringComparison.OrdinalIgnoreCase) || n.Equals("Read", StringComparison.OrdinalIgnoreCase) ? "read"
            : n.EndsWith("Members", StringComparison.OrdinalIgnoreCase) || n.Equals("Edit", StringComparison.OrdinalIgnoreCase) || n.Equals("Contribute", StringComparison.OrdinalIgnoreCase) ? "write"
            : n.EndsWith("Owners", StringComparison.OrdinalIgnoreCase) || n.Equals("Full Control", StringComparison.OrdinalIgnoreCase) ? "owner"
            : throw new InvalidOperationException($"'{groupOrLevel}' is not a group or level the stubs know.");
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
    /// <summary>What the script threw, if it did.</summary>
    [Parameter]
    public string? Failure { get; set; }

    protected override void EndProcessing() => RecordingRunspace.Complete(string.IsNullOrEmpty(Failure) ? null : Failure);
}

/// <summary>PnP's connection: the site URL later PnP commands act on (or, with -ReturnConnection, an object with it).</summary>
[Cmdlet(VerbsCommunications.Connect, "PnPOnline")]
public sealed class StubConnectPnPOnline : PSCmdlet
{
    [Parameter(Mandatory = true, Position = 0)]
    public string Url { get; set; } = string.Empty;

    [Parameter]
    public SwitchParameter Interactive { get; set; }

    [Parameter]
    public SwitchParameter ReturnConnection { get; set; }

    protected override void ProcessRecord()
    {
        RecordingRunspace.Connect(Url);
        if (ReturnConnection)
        {
            var o = new PSObject();
            o.Properties.Add(new PSNoteProperty("Url", Url));
            WriteObject(o);
        }
    }
}

[Cmdlet(VerbsCommon.Add, "PnPGroupMember")]
public sealed class StubAddPnPGroupMember : PSCmdlet
{
    [Parameter(Mandatory = true)]
    public string LoginName { get; set; } = string.Empty;

    [Parameter(Mandatory = true)]
    public string Group { get; set; } = string.Empty;

    [Parameter]
    public PSObject? Connection { get; set; }

    protected override void ProcessRecord() => RecordingRunspace.Record($"grant {RecordingRunspace.Role(Group)} on {RecordingRunspace.Site(Connection)} to {LoginName}");
}

[Cmdlet(VerbsCommon.Remove, "PnPGroupMember")]
public sealed class StubRemovePnPGroupMember : PSCmdlet
{
    [Parameter(Mandatory = true)]
    public string LoginName { get; set; } = string.Empty;

    [Parameter(Mandatory = true)]
    public string Group { get; set; } = string.Empty;

    [Parameter]
    public PSObject? Connection { get; set; }

    protected override void ProcessRecord() => RecordingRunspace.Record($"revoke {RecordingRunspace.Role(Group)} on {RecordingRunspace.Site(Connection)} from {LoginName}");
}

[Cmdlet(VerbsCommon.Set, "PnPWebPermission")]
public sealed class StubSetPnPWebPermission : PSCmdlet
{
    [Parameter(Mandatory = true)]
    public string User { get; set; } = string.Empty;

    [Parameter]
    public string[] AddRole { get; set; } = Array.Empty<string>();

    [Parameter]
    public string[] RemoveRole { get; set; } = Array.Empty<string>();

    [Parameter]
    public PSObject? Connection { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var level in AddRole)
        {
            RecordingRunspace.Record($"grant {RecordingRunspace.Role(level)} on {RecordingRunspace.Site(Connection)} to {User}");
        }

        foreach (var level in RemoveRole)
        {
            RecordingRunspace.Record($"revoke {RecordingRunspace.Role(level)} on {RecordingRunspace.Site(Connection)} from {User}");
        }
    }
}

[Cmdlet(VerbsCommon.Add, "PnPSiteCollectionAdmin")]
public sealed class StubAddPnPSiteCollectionAdmin : PSCmdlet
{
    [Parameter(Mandatory = true)]
    public string[] Owners { get; set; } = Array.Empty<string>();

    [Parameter]
    public PSObject? Connection { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var owner in Owners)
        {
            RecordingRunspace.Record($"grant owner on {RecordingRunspace.Site(Connection)} to {owner}");
        }
    }
}

[Cmdlet(VerbsCommon.Remove, "PnPSiteCollectionAdmin")]
public sealed class StubRemovePnPSiteCollectionAdmin : PSCmdlet
{
    [Parameter(Mandatory = true)]
    public string[] Owners { get; set; } = Array.Empty<string>();

    [Parameter]
    public PSObject? Connection { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var owner in Owners)
        {
            RecordingRunspace.Record($"revoke owner on {RecordingRunspace.Site(Connection)} from {owner}");
        }
    }
}

[Cmdlet(VerbsCommon.Add, "PnPMicrosoft365GroupMember")]
public sealed class StubAddPnPMicrosoft365GroupMember : PSCmdlet
{
    [Parameter(Mandatory = true)]
    public string Identity { get; set; } = string.Empty;

    [Parameter(Mandatory = true)]
    public string[] Users { get; set; } = Array.Empty<string>();

    protected override void ProcessRecord()
    {
        foreach (var user in Users)
        {
            RecordingRunspace.Record($"add {user} to group {Identity}");
        }
    }
}

[Cmdlet(VerbsCommon.Remove, "PnPMicrosoft365GroupMember")]
public sealed class StubRemovePnPMicrosoft365GroupMember : PSCmdlet
{
    [Parameter(Mandatory = true)]
    public string Identity { get; set; } = string.Empty;

    [Parameter(Mandatory = true)]
    public string[] Users { get; set; } = Array.Empty<string>();

    protected override void ProcessRecord()
    {
        foreach (var user in Users)
        {
            RecordingRunspace.Record($"remove {user} from group {Identity}");
        }
    }
}
