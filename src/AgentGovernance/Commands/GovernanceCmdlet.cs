using System;
using System.Collections.Generic;
using System.Management.Automation;
using AgentGovernance.Apply;
using AgentGovernance.Approval;
using AgentGovernance.Changes;
using AgentGovernance.Directory;
using AgentGovernance.Ledger;
using AgentGovernance.Policy;
using AgentGovernance.Providers;
using AgentGovernance.Providers.Graph;
using AgentGovernance.Stores;

namespace AgentGovernance.Commands;

/// <summary>What every cmdlet of the module shares: error records and the session's defaults.</summary>
public abstract class GovernanceCmdlet : PSCmdlet, IDisposable
{
    private IDisposable? _liveReads;

    internal static ErrorCategory Category(GovernanceErrorKind kind) => kind switch
    {
        GovernanceErrorKind.InvalidData => ErrorCategory.InvalidData,
        GovernanceErrorKind.InvalidArgument => ErrorCategory.InvalidArgument,
        GovernanceErrorKind.ObjectNotFound => ErrorCategory.ObjectNotFound,
        GovernanceErrorKind.InvalidOperation => ErrorCategory.InvalidOperation,
        GovernanceErrorKind.ReadError => ErrorCategory.ReadError,
        GovernanceErrorKind.WriteError => ErrorCategory.WriteError,
        GovernanceErrorKind.SecurityError => ErrorCategory.SecurityError,
        GovernanceErrorKind.PermissionDenied => ErrorCategory.PermissionDenied,
        _ => ErrorCategory.NotSpecified,
    };

    internal static ErrorRecord Record(GovernanceException e, object? target = null)
    {
        var record = new ErrorRecord(e, e.ErrorId, Category(e.Kind), target ?? e.Target);
        // A message may quote document or directory text: the console shows it neutrally (Display.SafeText).
        var shown = Display.SafeText.Show(e.Message);
        if (e is DocumentException)
        {
            record.ErrorDetails = new ErrorDetails(shown)
            {
                RecommendedAction = "Correct the field named in the message and try again.",
            };
        }
        else if (!ReferenceEquals(shown, e.Message) && shown != e.Message)
        {
            record.ErrorDetails = new ErrorDetails(shown);
        }

        return record;
    }

    /// <summary>
    /// Verbose lines quote document and directory text: written with controls, ESC sequences, bidi
    /// overrides and newlines made visible (Display.SafeText), so one verbose call is one honest line.
    /// </summary>
    public new void WriteVerbose(string text) => base.WriteVerbose(Display.SafeText.Show(text));

    /// <summary>Warnings, like verbose lines, are shown neutrally (Display.SafeText).</summary>
    public new void WriteWarning(string text) => base.WriteWarning(Display.SafeText.Show(text));

    /// <summary>ShouldProcess with its target and action shown neutrally (they name titles and ids from documents).</summary>
    public new bool ShouldProcess(string target, string action) => base.ShouldProcess(Display.SafeText.Show(target), Display.SafeText.Show(action));

    /// <summary>ShouldProcess with a prompt, all of it shown neutrally: a newline in what it quotes stays visible.</summary>
    public new bool ShouldProcess(string description, string warning, string caption) =>
        base.ShouldProcess(Display.SafeText.Show(description), Display.SafeText.Show(warning), Display.SafeText.Show(caption));

    /// <summary>ShouldProcess with a prompt of several lines, each shown neutrally: the only line breaks are between them.</summary>
    internal bool ShouldProcessLines(string description, IEnumerable<string> promptLines, string caption) =>
        base.ShouldProcess(Display.SafeText.Show(description), Display.SafeText.Lines(promptLines), Display.SafeText.Show(caption));

    /// <summary>A snapshot file at least this large is read with Write-Progress records.</summary>
    internal const long ProgressFileBytes = 4L << 20;

    /// <summary>A snapshot with at least this many entries (principals, resources and grants) is written with Write-Progress records.</summary>
    internal const long ProgressEntries = 20_000;

    /// <summary>Reads a snapshot file; one at least <see cref="ProgressFileBytes"/> long tells its progress.</summary>
    internal AccessSnapshot ReadSnapshot(string path)
    {
        long size;
        try
        {
            size = new System.IO.FileInfo(path).Length;
        }
        catch (Exception e) when (e is System.IO.IOException || e is UnauthorizedAccessException)
        {
            size = 0;
        }

        if (size < ProgressFileBytes)
        {
            return SnapshotReader.ReadFile(path);
        }

        var activity = "Reading snapshot " + Display.SafeText.Show(path);
        try
        {
            return SnapshotReader.ReadFile(path, (what, done, total) => WriteProgress(new ProgressRecord(0x5A47, activity, $"Reading {what}: {done >> 20} of {total >> 20} MB")
            {
                PercentComplete = (int)Math.Min(100, done * 100 / Math.Max(1, total)),
            }));
        }
        finally
        {
            WriteProgress(new ProgressRecord(0x5A47, activity, "Done") { RecordType = ProgressRecordType.Completed });
        }
    }

    /// <summary>Writes a snapshot file; one of at least <see cref="ProgressEntries"/> entries tells its progress.</summary>
    internal void WriteSnapshot(AccessSnapshot snapshot, string path, bool overwrite)
    {
        if ((long)snapshot.PrincipalCount + snapshot.ResourceCount + snapshot.GrantCount < ProgressEntries)
        {
            SnapshotWriter.WriteFile(snapshot, path, overwrite);
            return;
        }

        var activity = "Writing snapshot " + Display.SafeText.Show(path);
        try
        {
            SnapshotWriter.WriteFile(snapshot, path, overwrite, (what, done, total) => WriteProgress(new ProgressRecord(0x5A48, activity, $"Writing {what}: {done:N0} of {total:N0} entries")
            {
                PercentComplete = (int)Math.Min(100, done * 100 / Math.Max(1, total)),
            }));
        }
        finally
        {
            WriteProgress(new ProgressRecord(0x5A48, activity, "Done") { RecordType = ProgressRecordType.Completed });
        }
    }

    /// <summary>Writes a non-terminating error and lets the pipeline go on with the next item.</summary>
    protected void WriteGovernanceError(GovernanceException e, object? target = null) => WriteError(Record(e, target));

    protected void ThrowGovernanceError(GovernanceException e, object? target = null) => ThrowTerminatingError(Record(e, target));

    /// <summary>
    /// A -Duration parameter (read as every duration parameter is, <see cref="DurationInput"/>) as the ISO
    /// 8601 text a change holds; null when not given. Anything else, or a duration that is not positive, is ChangeInvalid.
    /// </summary>
    internal static string? DurationText(object? duration)
    {
        if ((duration is PSObject pso ? pso.BaseObject : duration) is null)
        {
            return null;
        }

        if (!DurationInput.TryRead(duration, out var span, out var iso, out var problem))
        {
            throw new GovernanceException("ChangeInvalid", GovernanceErrorKind.InvalidArgument, "-Duration: " + problem + ".", duration);
        }

        if (span <= TimeSpan.Zero)
        {
            throw new GovernanceException("ChangeInvalid", GovernanceErrorKind.InvalidArgument, $"-Duration must be positive, not {span}.", duration);
        }

        return iso ?? IsoDuration.Format(span);
    }

    /// <summary>The snapshot given, or the session's, or a terminating NotConnected error.</summary>
    protected AccessSnapshot RequireSnapshot(AccessSnapshot? given)
    {
        var snapshot = given ?? GovernanceSession.Current?.Snapshot;
        if (snapshot is null)
        {
            ThrowGovernanceError(new GovernanceException("NotConnected", GovernanceErrorKind.InvalidOperation,
                "No snapshot: pass -Snapshot, or run Connect-AgentGovernance -SnapshotPath <file> first."));
        }

        return snapshot!;
    }

    /// <summary>The live directory of the session (Connect-AgentGovernance -TenantId), or null.</summary>
    protected static IGraphDirectory? LiveDirectory => GovernanceSession.Current?.Provider as IGraphDirectory;

    /// <summary>
    /// The state to preview <paramref name="change"/> on: the snapshot given; else, when the session is
    /// connected to a live tenant, the part of it the change touches, read now (and cached until this
    /// command ends); else the session's snapshot.
    /// </summary>
    protected AccessSnapshot RequireState(AccessSnapshot? given, AccessChange change, GovernancePolicy? policy = null)
    {
        if (given is null && LiveDirectory is { } live)
        {
            _liveReads ??= live.BeginCommand();
            live.InventoryMaxAge = (policy ?? GovernanceSession.Current?.Policy)?.InventoryMaxAgeTimeSpan ?? GovernancePolicy.DefaultInventoryMaxAge;
            return live.ReadState(change);
        }

        return RequireSnapshot(given);
    }

    /// <summary>Like <see cref="RequireState"/>, for one resource (who reaches it).</summary>
    protected AccessSnapshot RequireResourceState(AccessSnapshot? given, string resourceId)
    {
        if (given is null && LiveDirectory is { } live)
        {
            _liveReads ??= live.BeginCommand();
            return live.ReadResource(resourceId);
        }

        return RequireSnapshot(given);
    }

    /// <summary>PowerShell disposes a cmdlet when its pipeline ends, however it ends: the live read cache ends with it.</summary>
    public void Dispose()
    {
        _liveReads?.Dispose();
        _liveReads = null;
    }

    protected GovernancePolicy CurrentPolicy(GovernancePolicy? given) =>
        given ?? GovernanceSession.Current?.Policy ?? GovernancePolicy.Default;

    /// <summary>The session's choices, or the defaults before Connect-AgentGovernance.</summary>
    protected static GovernanceSession Session => GovernanceSession.Current ?? GovernanceSession.Defaults;

    /// <summary>
    /// The one place a command opens the governance store: the session's store (or <paramref name="store"/>,
    /// taken over), its ledger signer when the command writes, this machine's witness, and the policy
    /// given (or the session's). Dispose the handle (or its Approvals) once, when the command is done with it.
    /// </summary>
    /// <param name="writes">Whether the command appends to the ledger (then it needs the ledger signer, made on first use).</param>
    internal GovernanceHandle OpenGovernance(GovernancePolicy? policy = null, AccessSnapshot? snapshot = null, bool writes = true, IGovernanceStore? store = null)
    {
        var session = Session;
        var handle = GovernanceHandle.Open(store ?? session.OpenStore(), session.LedgerSignerPath, CurrentPolicy(policy), snapshot ?? session.Snapshot, writes);
        try
        {
            WriteVerbose($"Store {handle.Store.Location} (id {handle.Store.StoreId}){(handle.Signer is null ? string.Empty : "; ledger signer " + handle.Signer.PublicKey.KeyId)}.");
        }
        catch
        {
            handle.Dispose(); // the pipeline was stopped
            throw;
        }

        return handle;
    }

    /// <summary>The approval service of <see cref="OpenGovernance"/>'s handle (disposing it disposes the handle).</summary>
    internal ApprovalService OpenApprovals(GovernancePolicy? policy = null, AccessSnapshot? snapshot = null, bool writes = true) =>
        OpenGovernance(policy, snapshot, writes).Approvals;

    /// <summary>
    /// The directory changes are applied to: the session's live tenant (Connect-AgentGovernance -TenantId),
    /// else its snapshot file (-SnapshotPath). A snapshot held only in memory cannot be changed.
    /// Give it back with <see cref="ReleaseDirectory"/>.
    /// </summary>
    internal IDirectoryProvider OpenDirectory()
    {
        if (Session.Provider is { } live)
        {
            return live;
        }

        var source = Session.Snapshot?.Source;
        if (source is null)
        {
            ThrowGovernanceError(new GovernanceException("NoWritableDirectory", GovernanceErrorKind.InvalidOperation,
                Session.Snapshot is null
                    ? "No directory to apply changes to: run Connect-AgentGovernance -SnapshotPath <file> first."
                    : "The session's snapshot is held in memory only, so changes cannot be applied to it: connect with Connect-AgentGovernance -SnapshotPath <file>."));
        }

        return new SnapshotFileProvider(source!);
    }

    /// <summary>
    /// Runs a step of the apply stage: the session's directory and store opened, errors written as
    /// records about <paramref name="target"/>, and afterwards, when <paramref name="step"/> says it
    /// changed the directory, the session's snapshot read again so that previews see the change.
    /// </summary>
    internal void RunApply(object? target, bool writes, Func<ApplyService, IDirectoryProvider, bool> step)
    {
        IDirectoryProvider? directory = null;
        var changed = false;
        try
        {
            directory = OpenDirectory();
            using var governance = OpenGovernance(writes: writes);
            changed = step(governance.Apply(directory), directory);
        }
        catch (GovernanceException e)
        {
            WriteGovernanceError(e, target);
            changed = writes;
        }
        finally
        {
            if (directory is not null)
            {
                if (changed)
                {
                    RefreshSnapshot(directory);
                }

                if (!ReferenceEquals(directory, GovernanceSession.Current?.Provider))
                {
                    directory.Dispose();
                }
            }
        }
    }

    /// <summary>Says which inverses an undo or expiry withheld because they would widen access, and how to ask for them.</summary>
    internal void WarnWithheld(IReadOnlyList<AccessOperation>? withheld, string requestId)
    {
        if (withheld is { Count: > 0 })
        {
            WriteWarning($"{withheld.Count} operation(s) of {requestId} were not reverted, since reverting them would widen access without approval: " +
                string.Join("; ", withheld) + ". To restore that access, request approval for the result's FollowUpChange ($result.FollowUpChange | Request-HumanApproval).");
        }
    }

    /// <summary>After a change to the session's snapshot file, the session reads it again, so previews see the change.</summary>
    internal void RefreshSnapshot(IDirectoryProvider directory)
    {
        var session = GovernanceSession.Current;
        if (session?.Snapshot?.Source is { } source && directory.Kind == "snapshot" && string.Equals(System.IO.Path.GetFullPath(source), directory.Location, StringComparison.Ordinal))
        {
            GovernanceSession.Set(session.WithSnapshot(SnapshotReader.ReadFile(source)));
        }
    }

    /// <summary>Whether -WhatIf is in effect (given, or by $WhatIfPreference).</summary>
    protected bool WhatIfInEffect => MyInvocation.BoundParameters.TryGetValue("WhatIf", out var w) ? ((SwitchParameter)w).IsPresent
        : GetVariableValue("WhatIfPreference") is { } pref && LanguagePrimitives.IsTrue(pref);

    /// <summary>
    /// ShouldProcess for a ConfirmImpact High action that <c>-Force</c> may confirm in advance: -WhatIf
    /// still only tells, an explicit -Confirm still asks, and -Force alone goes ahead without a prompt.
    /// </summary>
    protected bool ShouldProcessUnlessForced(bool force, string description, string warning, string caption) =>
        ShouldProcessUnlessForced(force, description, new[] { warning }, caption);

    /// <summary>ShouldProcessUnlessForced with a prompt of several lines (each shown neutrally).</summary>
    protected bool ShouldProcessUnlessForced(bool force, string description, IEnumerable<string> promptLines, string caption)
    {
        if (force && !WhatIfInEffect && !MyInvocation.BoundParameters.ContainsKey("Confirm"))
        {
            return true;
        }

        return ShouldProcessLines(description, promptLines, caption);
    }

    /// <summary>A folder path (relative to PowerShell's location); PathNotFileSystem for another provider, PathIsFile for a file.</summary>
    protected string? FileSystemFolder(string path)
    {
        if (FileSystemLocation(path) is not { } resolved)
        {
            return null;
        }

        if (System.IO.File.Exists(resolved))
        {
            WriteError(new ErrorRecord(new System.IO.IOException($"'{resolved}' is a file; give a folder."), "PathIsFile", ErrorCategory.InvalidArgument, path));
            return null;
        }

        return resolved;
    }

    /// <summary>
    /// Resolves -Path (wildcards) or -LiteralPath to file-system paths; writes an error for each that
    /// matches nothing or is not a file-system path. A -Path without wildcards that does not exist is
    /// passed on, so the reader reports it the same way as a -LiteralPath.
    /// </summary>
    protected List<string> ResolveFiles(string[] paths, bool literal)
    {
        var result = new List<string>();
        foreach (var path in paths)
        {
            try
            {
                if (literal || !WildcardPattern.ContainsWildcardCharacters(path))
                {
                    // A -Path without wildcards may still hold escaped ones (file`[1`].json).
                    if (FileSystemPath(literal ? path : WildcardPattern.Unescape(path)) is { } file)
                    {
                        result.Add(file);
                    }

                    continue;
                }

                var resolved = GetResolvedProviderPathFromPSPath(path, out var provider);
                if (provider.Name != "FileSystem")
                {
                    WriteNotFileSystem(path);
                    continue;
                }

                foreach (var file in resolved)
                {
                    if (System.IO.Directory.Exists(file))
                    {
                        WriteIsFolder(file, path);
                    }
                    else
                    {
                        result.Add(file);
                    }
                }
            }
            catch (ItemNotFoundException e)
            {
                WriteError(new ErrorRecord(e, "PathNotFound", ErrorCategory.ObjectNotFound, path));
            }
            catch (DriveNotFoundException e)
            {
                WriteError(new ErrorRecord(e, "PathNotFound", ErrorCategory.ObjectNotFound, path));
            }
        }

        return result;
    }

    /// <summary>An approver's signing key from a key file (-KeyPath, -Passphrase); the passphrase's bytes are cleared after use.</summary>
    internal SigningKey OpenKeyFile(string keyPath, System.Security.SecureString passphrase)
    {
        if (FileSystemPath(keyPath) is not { } file)
        {
            throw new GovernanceException("KeyFileNotFound", GovernanceErrorKind.ObjectNotFound, $"'{keyPath}' is not a key file path.", keyPath);
        }

        var secret = ApproverKeys.Utf8(passphrase);
        try
        {
            return ApproverKeyFile.Open(file, secret);
        }
        finally
        {
            Array.Clear(secret, 0, secret.Length);
        }
    }

    /// <summary>An approver's signing key from a certificate file (-CertificatePath, -CertificatePassword).</summary>
    internal SigningKey OpenCertificateFile(string certificatePath, System.Security.SecureString? password)
    {
        if (FileSystemPath(certificatePath) is not { } pfx)
        {
            throw new GovernanceException("CertificateNotFound", GovernanceErrorKind.ObjectNotFound, $"'{certificatePath}' is not a certificate file path.", certificatePath);
        }

        using var certificate = ApproverKeys.FromFile(pfx, password);
        return SigningKey.FromCertificate(certificate);
    }

    /// <summary>
    /// A path to write to (or read literally): relative to PowerShell's current location, not the
    /// process's. Writes PathNotFileSystem and returns null for a path of another provider (Env:, HKLM:...).
    /// </summary>
    protected string? FileSystemPath(string path)
    {
        if (FileSystemLocation(path) is not { } resolved)
        {
            return null;
        }

        if (System.IO.Directory.Exists(resolved))
        {
            WriteIsFolder(resolved, path);
            return null;
        }

        return resolved;
    }

    /// <summary>A path resolved against PowerShell's location (nothing need exist); null after PathNotFound or PathNotFileSystem.</summary>
    private string? FileSystemLocation(string path)
    {
        string resolved;
        ProviderInfo provider;
        try
        {
            resolved = SessionState.Path.GetUnresolvedProviderPathFromPSPath(path, out provider, out _);
        }
        catch (DriveNotFoundException e)
        {
            WriteError(new ErrorRecord(e, "PathNotFound", ErrorCategory.ObjectNotFound, path));
            return null;
        }

        if (provider.Name != "FileSystem")
        {
            WriteNotFileSystem(path);
            return null;
        }

        return resolved;
    }

    /// <summary>The file the cmdlet wrote, as PowerShell's FileSystem provider gives it (with PSPath, so it pipes into Import-*).</summary>
    protected void WriteFileItem(string path)
    {
        foreach (var item in InvokeProvider.Item.Get(new[] { path }, force: true, literalPath: true))
        {
            WriteObject(item);
        }
    }

    private void WriteIsFolder(string folder, string path) =>
        WriteError(new ErrorRecord(new System.IO.IOException($"'{folder}' is a folder; give a file."), "PathIsFolder", ErrorCategory.InvalidArgument, path));

    private void WriteNotFileSystem(string path) =>
        WriteError(new ErrorRecord(new ArgumentException($"'{path}' is not a file-system path."), "PathNotFileSystem", ErrorCategory.InvalidArgument, path));
}
