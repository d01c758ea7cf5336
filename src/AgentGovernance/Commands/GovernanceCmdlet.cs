using System;
using System.Collections.Generic;
using System.Management.Automation;
using AgentGovernance.Changes;
using AgentGovernance.Directory;
using AgentGovernance.Policy;
using AgentGovernance.Providers.Graph;

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
        if (e is DocumentException d)
        {
            record.ErrorDetails = new ErrorDetails(e.Message)
            {
                RecommendedAction = "Correct the field named in the message and try again.",
            };
        }

        return record;
    }

    /// <summary>Writes a non-terminating error and lets the pipeline go on with the next item.</summary>
    protected void WriteGovernanceError(GovernanceException e, object? target = null) => WriteError(Record(e, target));

    protected void ThrowGovernanceError(GovernanceException e, object? target = null) => ThrowTerminatingError(Record(e, target));

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
    protected AccessSnapshot RequireState(AccessSnapshot? given, AccessChange change)
    {
        if (given is null && LiveDirectory is { } live)
        {
            _liveReads ??= live.BeginCommand();
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

    /// <summary>
    /// A path to write to (or read literally): relative to PowerShell's current location, not the
    /// process's. Writes PathNotFileSystem and returns null for a path of another provider (Env:, HKLM:...).
    /// </summary>
    protected string? FileSystemPath(string path)
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

        if (System.IO.Directory.Exists(resolved))
        {
            WriteIsFolder(resolved, path);
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
