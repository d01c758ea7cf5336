using System;

namespace AgentGovernance;

/// <summary>What kind of failure a <see cref="GovernanceException"/> is; cmdlets map it onto an ErrorCategory.</summary>
[Newtonsoft.Json.JsonConverter(typeof(Newtonsoft.Json.Converters.StringEnumConverter))]
public enum GovernanceErrorKind
{
    InvalidData,
    InvalidArgument,
    ObjectNotFound,
    InvalidOperation,
    ReadError,
    WriteError,
    SecurityError,
    PermissionDenied,
}

/// <summary>
/// A failure with a stable ErrorId a runbook can switch on. The engine throws these; cmdlets turn
/// them into error records.
/// </summary>
public class GovernanceException : Exception
{
    public GovernanceException(string errorId, GovernanceErrorKind kind, string message, object? target = null, Exception? inner = null)
        : base(message, inner)
    {
        ErrorId = errorId;
        Kind = kind;
        Target = target;
    }

    /// <summary>Stable PascalCase id, e.g. SnapshotInvalid, ChangeInvalid, UnknownPrincipal.</summary>
    public string ErrorId { get; }

    public GovernanceErrorKind Kind { get; }

    /// <summary>The object the error is about (an id, a path), for the error record's target.</summary>
    public object? Target { get; }
}

/// <summary>
/// A document (snapshot, change, policy) that is not valid: names the file, the field (a JSON-path
/// like <c>principals[12].members[3]</c>) and the position.
/// </summary>
public sealed class DocumentException : GovernanceException
{
    public DocumentException(string errorId, string? file, string? field, long line, long column, string problem, Exception? inner = null)
        : base(errorId, GovernanceErrorKind.InvalidData, Format(file, field, line, column, problem), file ?? field, inner)
    {
        File = file;
        Field = field;
        Line = line;
        Column = column;
        Problem = problem;
    }

    public string? File { get; }

    public string? Field { get; }

    /// <summary>1-based line, or 0 when unknown.</summary>
    public long Line { get; }

    /// <summary>1-based column, or 0 when unknown.</summary>
    public long Column { get; }

    /// <summary>The problem alone, without file and position.</summary>
    public string Problem { get; }

    private static string Format(string? file, string? field, long line, long column, string problem)
    {
        var where = file ?? (line > 0 ? "<input>" : null);
        if (where is not null && line > 0)
        {
            where += column > 0 ? $":{line}:{column}" : $":{line}";
        }

        var what = field is null ? problem : $"{field}: {problem}";
        return where is null ? what : $"{where}: {what}";
    }
}
