using System.Collections;
using System.Collections.ObjectModel;
using System.Management.Automation;
using System.Management.Automation.Host;
using System.Management.Automation.Runspaces;
using System.Text;

namespace AgentGovernance.Tests.Support;

/// <summary>
/// A real PowerShell 7.6 runspace with the built module imported from out/, as a user would have it:
/// parsing, parameter binding, the pipeline, ShouldProcess and error records are PowerShell's own.
/// It sets the execution policy only on Windows (elsewhere PowerShell throws
/// PlatformNotSupportedException when a session state carries one), and it has a host whose screen is captured, so <c>Out-Default</c> renders the module's format views as a user
/// sees them (the System.Management.Automation package alone has no Out-String), and -WhatIf
/// messages can be read. Prompts (-Confirm) fail instead of waiting.
/// </summary>
public sealed class PowerShellHost : IDisposable
{
    private readonly Runspace _runspace;
    private readonly CapturingHost _host = new();

    public PowerShellHost()
    {
        var iss = InitialSessionState.CreateDefault2();
        iss.ImportPSModule(new[] { Repo.ModuleManifest });
        if (OperatingSystem.IsWindows())
        {
            iss.ExecutionPolicy = Microsoft.PowerShell.ExecutionPolicy.Bypass;
        }

        _runspace = RunspaceFactory.CreateRunspace(_host, iss);
        _runspace.Open();
        SetLocation(Repo.Root);
    }

    /// <summary>What the host's screen received since the last call (Out-Default, What if: ...).</summary>
    public string TakeScreen() => _host.Screen.Take();

    /// <summary>Text without ANSI styling (PowerShell 7.6 styles the headers of tables and lists in this hosted runspace).</summary>
    public static string Plain(string text) => System.Text.RegularExpressions.Regex.Replace(text, "\u001b\\[[0-9;?]*[A-Za-z]", string.Empty).Replace("\r\n", "\n");

    /// <summary>PowerShell's current location in this runspace (Set-Location is not in the bare engine).</summary>
    public void SetLocation(string path) => _runspace.SessionStateProxy.Path.SetLocation(path);

    public string Location => _runspace.SessionStateProxy.Path.CurrentLocation.ProviderPath;

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
    public RunResult RunClean(string script, params object?[] args) => RunClean(script, null, args);

    /// <summary>Runs a script with variables set first, and fails the test on any error record.</summary>
    public RunResult RunClean(string script, IDictionary? variables, params object?[] args)
    {
        var result = Run(script, variables, args);
        Assert.True(result.Errors.Count == 0, "Unexpected errors: " + string.Join(Environment.NewLine, result.Errors.Select(e => e.FullyQualifiedErrorId + ": " + e)));
        return result;
    }

    /// <summary>
    /// Runs a script and renders its output through <c>Out-Default</c>, that is through the module's
    /// default views, as a console shows it (<c>Out-String</c> in a full PowerShell).
    /// </summary>
    public string Render(string script, params object?[] args)
    {
        TakeScreen();
        RunClean("& { " + script + "\n} @args | Out-Default", args);
        return Plain(TakeScreen());
    }

    public void Dispose() => _runspace.Dispose();

    private sealed class ScreenBuffer
    {
        private readonly StringBuilder _text = new();

        public void Append(string s)
        {
            lock (_text)
            {
                _text.Append(s);
            }
        }

        public string Take()
        {
            lock (_text)
            {
                var s = _text.ToString();
                _text.Clear();
                return s;
            }
        }
    }

    private sealed class CapturingHost : PSHost
    {
        private readonly CapturingUI _ui;

        public CapturingHost() => _ui = new CapturingUI(Screen);

        public ScreenBuffer Screen { get; } = new();

        public override string Name => "AgentGovernance.Tests";

        public override Version Version => new(1, 0);

        public override Guid InstanceId { get; } = Guid.NewGuid();

        public override PSHostUserInterface UI => _ui;

        public override System.Globalization.CultureInfo CurrentCulture => System.Globalization.CultureInfo.InvariantCulture;

        public override System.Globalization.CultureInfo CurrentUICulture => System.Globalization.CultureInfo.InvariantCulture;

        public override void SetShouldExit(int exitCode)
        {
        }

        public override void EnterNestedPrompt() => throw new NotSupportedException("No nested prompts in tests.");

        public override void ExitNestedPrompt() => throw new NotSupportedException("No nested prompts in tests.");

        public override void NotifyBeginApplication()
        {
        }

        public override void NotifyEndApplication()
        {
        }
    }

    private sealed class CapturingUI : PSHostUserInterface
    {
        private readonly ScreenBuffer _screen;
        private readonly CapturingRawUI _raw = new();

        public CapturingUI(ScreenBuffer screen) => _screen = screen;

        public override PSHostRawUserInterface RawUI => _raw;

        public override string ReadLine() => throw Prompting();

        public override System.Security.SecureString ReadLineAsSecureString() => throw Prompting();

        public override void Write(string value) => _screen.Append(value);

        public override void Write(ConsoleColor foregroundColor, ConsoleColor backgroundColor, string value) => _screen.Append(value);

        public override void WriteLine(string value) => _screen.Append(value + "\n");

        public override void WriteErrorLine(string value) => _screen.Append(value + "\n");

        public override void WriteDebugLine(string message)
        {
        }

        public override void WriteProgress(long sourceId, ProgressRecord record)
        {
        }

        public override void WriteVerboseLine(string message)
        {
        }

        public override void WriteWarningLine(string message)
        {
        }

        public override Dictionary<string, PSObject> Prompt(string caption, string message, Collection<FieldDescription> descriptions) => throw Prompting();

        public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName) => throw Prompting();

        public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName, PSCredentialTypes allowedCredentialTypes, PSCredentialUIOptions options) => throw Prompting();

        public override int PromptForChoice(string caption, string message, Collection<ChoiceDescription> choices, int defaultChoice) => throw Prompting();

        private static Exception Prompting() => new PSInvalidOperationException("The test host cannot prompt: a cmdlet asked a question a runbook could not answer.");
    }

    private sealed class CapturingRawUI : PSHostRawUserInterface
    {
        public override ConsoleColor ForegroundColor { get; set; } = ConsoleColor.Gray;

        public override ConsoleColor BackgroundColor { get; set; } = ConsoleColor.Black;

        public override Coordinates CursorPosition { get; set; }

        public override Coordinates WindowPosition { get; set; }

        public override int CursorSize { get; set; }

        /// <summary>Wide, so table columns are not cut in the assertions.</summary>
        public override Size BufferSize { get; set; } = new(250, 3000);

        public override Size WindowSize { get; set; } = new(250, 50);

        public override Size MaxWindowSize => new(250, 50);

        public override Size MaxPhysicalWindowSize => new(250, 50);

        public override bool KeyAvailable => false;

        public override string WindowTitle { get; set; } = string.Empty;

        public override KeyInfo ReadKey(ReadKeyOptions options) => throw new PSInvalidOperationException("The test host cannot read keys.");

        public override void FlushInputBuffer()
        {
        }

        public override void SetBufferContents(Coordinates origin, BufferCell[,] contents)
        {
        }

        public override void SetBufferContents(Rectangle rectangle, BufferCell fill)
        {
        }

        public override BufferCell[,] GetBufferContents(Rectangle rectangle) => new BufferCell[0, 0];

        public override void ScrollBufferContents(Rectangle source, Coordinates destination, Rectangle clip, BufferCell fill)
        {
        }
    }
}

/// <summary>One runspace shared by the tests of a class (its import costs about half a second).</summary>
public sealed class HostFixture : IDisposable
{
    public PowerShellHost Host { get; } = new();

    public void Dispose() => Host.Dispose();
}

/// <summary>A temporary folder, deleted at the end of the test.</summary>
public sealed class TempDir : IDisposable
{
    public TempDir()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "ag-cmdlets-" + Guid.NewGuid().ToString("N").Substring(0, 12));
        System.IO.Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    /// <summary>The full path of a file in the folder; "/" in <paramref name="name"/> separates folders on every OS.</summary>
    public string this[string name] => System.IO.Path.Combine(Path, name.Replace('/', System.IO.Path.DirectorySeparatorChar));

    /// <summary>Writes a UTF-8 file (no BOM) and returns its full path.</summary>
    public string Write(string name, string text)
    {
        var full = this[name];
        System.IO.Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        File.WriteAllText(full, text, new UTF8Encoding(false));
        return full;
    }

    public string[] Files() => System.IO.Directory.GetFiles(Path).Select(f => System.IO.Path.GetFileName(f)).OrderBy(f => f, StringComparer.Ordinal).ToArray();

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A file still open on a slow file system; the OS cleans the temp folder.
        }
    }
}

/// <summary>
/// Small documents written by hand after formats.md, so each test knows every number it checks.
/// </summary>
public static class CmdletTestData
{
    public const string TenantId = "tiny.example";

    /// <summary>
    /// A tiny tenant. Enabled users: alice, bob, carol (members) and joe (guest); dave is disabled.
    /// g-eng = { alice, g-platform }, g-platform = { bob, sp-app, dave }, g-data = { carol },
    /// g-team (Private) owns site-team. site-secret (HighlyConfidential, personal data) is read by
    /// g-data; site-general (General) is read by g-eng and owned by carol; role-admin is a
    /// directoryRole held by carol. sp-bot is an agent.
    /// </summary>
    public const string Snapshot = """
        {
          "schema": "agentgovernance/snapshot@1",
          "tenant": { "id": "tiny.example", "displayName": "Tiny" },
          "capturedAt": "2026-11-20T09:00:00Z",
          "principals": [
            { "id": "u-alice", "type": "user", "displayName": "Alice", "userPrincipalName": "alice@tiny.example" },
            { "id": "u-bob", "type": "user", "displayName": "Bob", "userPrincipalName": "bob@tiny.example" },
            { "id": "u-carol", "type": "user", "displayName": "Carol", "userPrincipalName": "carol@tiny.example" },
            { "id": "u-dave", "type": "user", "displayName": "Dave", "accountEnabled": false },
            { "id": "u-joe", "type": "user", "displayName": "Joe (vendor)", "userType": "Guest" },
            { "id": "sp-bot", "type": "servicePrincipal", "displayName": "Helper Bot", "isAgent": true },
            { "id": "sp-app", "type": "servicePrincipal", "displayName": "Pipeline App" },
            { "id": "g-eng", "type": "group", "displayName": "Engineering", "members": ["u-alice", "g-platform"] },
            { "id": "g-platform", "type": "group", "displayName": "Platform", "members": ["u-bob", "sp-app", "u-dave"] },
            { "id": "g-data", "type": "group", "displayName": "Data", "members": ["u-carol"] },
            { "id": "g-team", "type": "group", "displayName": "Team", "visibility": "Private" }
          ],
          "resources": [
            { "id": "site-secret", "type": "site", "displayName": "Secret Exports", "sensitivity": "HighlyConfidential", "personalData": true, "owners": ["u-carol"], "group": "g-data" },
            { "id": "site-general", "type": "site", "displayName": "General Site" },
            { "id": "site-team", "type": "site", "displayName": "Team Site", "sensitivity": "Confidential", "group": "g-team" },
            { "id": "role-admin", "type": "directoryRole", "displayName": "Global Admin", "sensitivity": "HighlyConfidential" }
          ],
          "grants": [
            { "resource": "site-secret", "principal": "g-data", "role": "read" },
            { "resource": "site-general", "principal": "g-eng", "role": "read" },
            { "resource": "site-general", "principal": "u-carol", "role": "owner" },
            { "resource": "role-admin", "principal": "u-carol", "role": "member" }
          ]
        }
        """;

    /// <summary>A second, smaller tenant, to tell two snapshots apart.</summary>
    public const string OtherSnapshot = """
        {
          "schema": "agentgovernance/snapshot@1",
          "tenant": { "id": "other.example" },
          "principals": [
            { "id": "u-zed", "type": "user" }
          ],
          "resources": [
            { "id": "site-z", "type": "site" }
          ],
          "grants": [
            { "resource": "site-z", "principal": "u-zed", "role": "read" }
          ]
        }
        """;

    /// <summary>The incident in miniature: grant g-eng read on site-secret, asked for by bob, suggested by sp-bot.</summary>
    public const string GrantChange = """
        {
          "schema": "agentgovernance/change@1",
          "title": "Let Engineering read the exports",
          "justification": "Forum thread 1",
          "suggestedBy": { "type": "agent", "id": "sp-bot", "displayName": "Helper Bot", "source": "https://forum.example/t/1" },
          "requestedBy": "bob@tiny.example",
          "operations": [
            { "op": "grant", "resource": "site-secret", "principal": "g-eng", "role": "read" }
          ]
        }
        """;

    /// <summary>A harmless, time-boxed change: Joe (a guest) reads the General site for eight hours; nothing sensitive, no findings.</summary>
    public const string SmallChange = """
        {
          "schema": "agentgovernance/change@1",
          "title": "Joe reads the general site",
          "duration": "PT8H",
          "operations": [
            { "op": "grant", "resource": "site-general", "principal": "u-joe", "role": "read" }
          ]
        }
        """;

    /// <summary>A change document with one operation (given as JSON).</summary>
    public static string Change(string operationJson, string? extraFields = null) =>
        "{\n  \"schema\": \"agentgovernance/change@1\",\n" + (extraFields is null ? string.Empty : "  " + extraFields + ",\n")
        + "  \"operations\": [ " + operationJson + " ]\n}\n";

    /// <summary>Writes the tiny tenant and returns its path.</summary>
    public static string WriteSnapshot(this TempDir dir, string name = "tiny.snapshot.json") => dir.Write(name, Snapshot);
}

/// <summary>
/// The base of the cmdlet test classes: one runspace per class (<see cref="HostFixture"/>), a fresh
/// temporary folder per test, and PowerShell's current location set to it, so relative paths in a
/// test resolve there (and never against the process's current directory).
/// </summary>
public abstract class CmdletTestBase : IClassFixture<HostFixture>, IDisposable
{
    protected CmdletTestBase(HostFixture fixture)
    {
        Ps = fixture.Host;
        Temp = new TempDir();
        Ps.SetLocation(Temp.Path);
    }

    protected PowerShellHost Ps { get; }

    protected TempDir Temp { get; }

    /// <summary>The tiny tenant, written to the test's folder as tiny.snapshot.json.</summary>
    protected string TinyPath => File.Exists(Temp["tiny.snapshot.json"]) ? Temp["tiny.snapshot.json"] : Temp.WriteSnapshot();

    public void Dispose()
    {
        Ps.SetLocation(Repo.Root);
        Temp.Dispose();
    }

    /// <summary>Asserts exactly one error record, with this ErrorId from this cmdlet and this category.</summary>
    protected static ErrorRecord SingleError(RunResult result, string errorId, string commandType, ErrorCategory category)
    {
        var error = Assert.Single(result.Errors);
        AssertError(error, errorId, commandType, category);
        return error;
    }

    protected static void AssertError(ErrorRecord error, string errorId, string commandType, ErrorCategory category)
    {
        Assert.Equal(errorId + ",AgentGovernance.Commands." + commandType, error.FullyQualifiedErrorId);
        Assert.Equal(category, error.CategoryInfo.Category);
    }

    /// <summary>The file's bytes, or null when it does not exist.</summary>
    protected static byte[]? Bytes(string path) => File.Exists(path) ? File.ReadAllBytes(path) : null;
}
