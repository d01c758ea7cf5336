using System;
using System.Collections.Generic;
using System.Linq;
using AgentGovernance.Changes;

namespace AgentGovernance.Suggestions;

/// <summary>What an agent's suggestion was read as.</summary>
[Newtonsoft.Json.JsonConverter(typeof(Newtonsoft.Json.Converters.StringEnumConverter))]
public enum SuggestionFormat
{
    /// <summary>PowerShell script text.</summary>
    Script,

    /// <summary>A markdown answer: prose with fenced (or indented, or inline) code.</summary>
    Markdown,

    /// <summary>An <c>agentgovernance/change@1</c> document.</summary>
    ChangeDocument,

    /// <summary>A JSON array of operations.</summary>
    OperationList,
}

/// <summary>Why a part of a suggestion could not be governed.</summary>
[Newtonsoft.Json.JsonConverter(typeof(Newtonsoft.Json.Converters.StringEnumConverter))]
public enum SuggestionFindingKind
{
    /// <summary>Runs code that cannot be read: Invoke-Expression, encoded commands, computed command names, .NET calls, other scripts.</summary>
    ExecutesCode,

    /// <summary>A construct that makes PowerShell load modules or types while merely parsing the text (using, class, configuration).</summary>
    ParseTimeEffect,

    /// <summary>A value that is only known when the script runs (a variable without a literal value, a pipeline, a loop variable).</summary>
    DynamicValue,

    /// <summary>A command this cmdlet does not know and that may change access.</summary>
    UnknownCommand,

    /// <summary>A known command that changes access in a way the change model cannot express.</summary>
    Unmappable,

    /// <summary>A name that matches nothing in the directory.</summary>
    UnresolvedName,

    /// <summary>A name that matches several objects of the directory.</summary>
    AmbiguousName,

    /// <summary>Text that is neither JSON, a markdown answer nor valid PowerShell, or a code block that names access-changing commands in a form that cannot be checked.</summary>
    Unreadable,
}

/// <summary>How closely an operation describes what the command does.</summary>
[Newtonsoft.Json.JsonConverter(typeof(Newtonsoft.Json.Converters.StringEnumConverter))]
public enum MappingFidelity
{
    /// <summary>The operation is what the command does.</summary>
    Exact,

    /// <summary>The operation is the nearest the change model has; the note says how the command differs.</summary>
    Approximate,
}

/// <summary>One part of a suggestion that was refused, with where it is and why.</summary>
public sealed class SuggestionFinding
{
    internal SuggestionFinding(SuggestionFindingKind kind, int line, int column, string? command, string text, string reason, IReadOnlyList<string>? candidates, string? source)
    {
        Kind = kind;
        Line = line;
        Column = column;
        Command = command;
        Text = text;
        Reason = reason;
        Candidates = candidates ?? Array.Empty<string>();
        Source = source;
    }

    /// <summary>The stable ErrorId of the error record this finding becomes.</summary>
    public string ErrorId => Kind switch
    {
        SuggestionFindingKind.UnresolvedName => "SuggestionUnresolvedName",
        SuggestionFindingKind.AmbiguousName => "SuggestionAmbiguousName",
        SuggestionFindingKind.DynamicValue => "SuggestionUnresolvedValue",
        _ => "SuggestionRefused",
    };

    public SuggestionFindingKind Kind { get; }

    /// <summary>1-based line in the text as given (the markdown answer, not the code block).</summary>
    public int Line { get; }

    /// <summary>1-based column.</summary>
    public int Column { get; }

    /// <summary>The command the finding is about, when there is one.</summary>
    public string? Command { get; }

    /// <summary>The text of the construct (shortened).</summary>
    public string Text { get; }

    public string Reason { get; }

    /// <summary>For unknown or ambiguous names: what the name could have meant (display name and id).</summary>
    public IReadOnlyList<string> Candidates { get; }

    /// <summary>The file the suggestion was read from, if any.</summary>
    public string? Source { get; }

    /// <summary>"file:line:column: Command: reason (candidates: ...)".</summary>
    public string Message
    {
        get
        {
            var where = (Source ?? "<suggestion>") + ":" + Line + ":" + Column;
            var what = Command is null ? Reason : Command + ": " + Reason;
            return Candidates.Count == 0 ? $"{where}: {what}" : $"{where}: {what} Candidates: {string.Join("; ", Candidates)}.";
        }
    }

    public override string ToString() => Message;
}

/// <summary>One command of a suggestion that changes access, and the operations it maps to.</summary>
public sealed class SuggestedCommand
{
    internal SuggestedCommand(int line, int column, string command, string text, IReadOnlyList<AccessOperation> operations, MappingFidelity fidelity, string? note, IReadOnlyList<string> resolved)
    {
        Resolved = resolved;
        Line = line;
        Column = column;
        Command = command;
        Text = text;
        Operations = operations;
        Fidelity = fidelity;
        Note = note;
    }

    public int Line { get; }

    public int Column { get; }

    public string Command { get; }

    /// <summary>The command as written (shortened).</summary>
    public string Text { get; }

    public IReadOnlyList<AccessOperation> Operations { get; }

    public MappingFidelity Fidelity { get; }

    /// <summary>For approximate mappings, how the command differs from its operations.</summary>
    public string? Note { get; }

    /// <summary>How the names the command uses were resolved: "'All Engineering' is g-eng".</summary>
    public IReadOnlyList<string> Resolved { get; }

    public override string ToString() => $"{Line}:{Column} {Command} -> {string.Join("; ", Operations)}" + (Fidelity == MappingFidelity.Approximate ? " (approximate)" : string.Empty);
}

/// <summary>How a suggestion was read: its format, its hash, the commands that change access and what was refused.</summary>
public sealed class SuggestionAnalysis
{
    internal SuggestionAnalysis(SuggestionFormat format, string textHash, string? source, IReadOnlyList<SuggestedCommand> commands, IReadOnlyList<SuggestionFinding> findings, IReadOnlyList<string> notes)
    {
        Format = format;
        TextHash = textHash;
        Source = source;
        Commands = commands;
        Findings = findings;
        Notes = notes;
    }

    public SuggestionFormat Format { get; }

    /// <summary><c>sha256:</c> + hex SHA-256 of the text as read (the file's bytes, or the string's UTF-8).</summary>
    public string TextHash { get; }

    public string? Source { get; }

    public IReadOnlyList<SuggestedCommand> Commands { get; }

    public IReadOnlyList<SuggestionFinding> Findings { get; }

    /// <summary>What was ignored or assumed, and why (read-only commands, code blocks in other languages...).</summary>
    public IReadOnlyList<string> Notes { get; }

    /// <summary>Every operation of the commands, without repeats, in the order the commands appear.</summary>
    public IReadOnlyList<AccessOperation> Operations => Commands.SelectMany(c => c.Operations).Distinct().ToList();

    /// <summary>True when some command maps onto the change model only approximately.</summary>
    public bool IsApproximate => Commands.Any(c => c.Fidelity == MappingFidelity.Approximate);
}
