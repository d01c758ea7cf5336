using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Text;
using AgentGovernance.Changes;
using AgentGovernance.Directory;
using AgentGovernance.IO;
using AgentGovernance.Json;
using AgentGovernance.Suggestions;

namespace AgentGovernance.Commands;

/// <summary>
/// Turns what an agent wrote (a script, a markdown answer, a change document, a JSON list of
/// operations) into AccessChange objects, reading it as data only, and refuses what it cannot govern.
/// </summary>
[Cmdlet(VerbsData.ConvertFrom, "AgentSuggestion", DefaultParameterSetName = TextSet)]
[OutputType(typeof(AccessChange))]
public sealed class ConvertFromAgentSuggestionCommand : GovernanceCmdlet
{
    private const string TextSet = "Text";
    private const string PathSet = "Path";
    private const string LiteralPathSet = "LiteralPath";

    private readonly List<string> _piped = new();
    private SuggestionOptions _options = new();
    private AccessSnapshot _snapshot = null!;

    /// <summary>The suggestion's text. Lines piped in one by one (Get-Content) are joined into one suggestion.</summary>
    [Parameter(ParameterSetName = TextSet, Mandatory = true, Position = 0, ValueFromPipeline = true)]
    [AllowEmptyString]
    public string InputObject { get; set; } = string.Empty;

    [Parameter(ParameterSetName = PathSet, Mandatory = true)]
    [ValidateNotNullOrEmpty]
    [SupportsWildcards]
    public string[] Path { get; set; } = Array.Empty<string>();

    [Parameter(ParameterSetName = LiteralPathSet, Mandatory = true, ValueFromPipelineByPropertyName = true)]
    [Alias("PSPath", "LP")]
    [ValidateNotNullOrEmpty]
    public string[] LiteralPath { get; set; } = Array.Empty<string>();

    /// <summary>How to read the text: Auto (by content, and for files by extension), Script, Markdown or Json.</summary>
    [Parameter]
    [ValidateSet("Auto", "Script", "Markdown", "Json")]
    public string Format { get; set; } = "Auto";

    /// <summary>Who suggested it: an id, user principal name or display name (resolved in the directory when it is there).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? SuggestedBy { get; set; }

    [Parameter]
    [ValidateSet("agent", "user")]
    public string? SuggestedByType { get; set; }

    /// <summary>Where it was suggested (a forum thread, a chat, a ticket).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Source { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? RequestedBy { get; set; }

    [Parameter]
    public string? Title { get; set; }

    [Parameter]
    public string? Justification { get; set; }

    /// <summary>How long the change lasts: a TimeSpan, or an ISO 8601 duration such as PT2H.</summary>
    [Parameter]
    [ValidateNotNull]
    public object? Duration { get; set; }

    /// <summary>The directory names are resolved in; the session's when left out.</summary>
    [Parameter]
    public AccessSnapshot? Snapshot { get; set; }

    /// <summary>Write the change made of what could be mapped even when some of the suggestion was refused (the refusals become warnings).</summary>
    [Parameter]
    public SwitchParameter AllowPartial { get; set; }

    protected override void BeginProcessing()
    {
        _snapshot = RequireSnapshot(Snapshot);
        try
        {
            _options = new SuggestionOptions
            {
                Format = (SuggestionInputFormat)Enum.Parse(typeof(SuggestionInputFormat), Format, ignoreCase: true),
                SuggestedBy = SuggestedBy,
                SuggestedByType = SuggestedByType,
                Source = Source,
                RequestedBy = RequestedBy,
                Title = Title,
                Justification = Justification,
                Duration = DurationText(Duration),
                AllowPartial = AllowPartial,
            };
        }
        catch (GovernanceException e)
        {
            ThrowGovernanceError(e);
        }
    }

    protected override void ProcessRecord()
    {
        if (ParameterSetName == TextSet)
        {
            _piped.Add(InputObject);
            return;
        }

        var literal = ParameterSetName == LiteralPathSet;
        foreach (var file in ResolveFiles(literal ? LiteralPath : Path, literal))
        {
            try
            {
                var bytes = DocumentFile.ReadAllBytes(file, "Suggestion");
                string text;
                try
                {
                    text = new UTF8Encoding(false, true).GetString(bytes);
                }
                catch (DecoderFallbackException e)
                {
                    var where = string.Empty;
                    try
                    {
                        Json.Utf8Input.Check(bytes);
                    }
                    catch (System.Text.Json.JsonException position)
                    {
                        where = $" (line {(position.LineNumber ?? 0) + 1}, byte {(position.BytePositionInLine ?? 0) + 1}: {position.Message})";
                    }

                    throw new GovernanceException("SuggestionUnreadable", GovernanceErrorKind.ReadError, $"Suggestion file '{file}' is not valid UTF-8{where}; save it as UTF-8.", file, e);
                }

                Convert(text, Hashing.Sha256Id(bytes), file, ByExtension(file));
            }
            catch (GovernanceException e)
            {
                WriteGovernanceError(e, file);
            }
        }
    }

    protected override void EndProcessing()
    {
        if (_piped.Count == 0)
        {
            return;
        }

        // Get-Content sends a file's lines one by one: single lines are the lines of one suggestion.
        var texts = _piped.Count > 1 && _piped.All(p => p.IndexOf('\n') < 0 && p.IndexOf('\r') < 0)
            ? new List<string> { string.Join("\n", _piped) }
            : _piped;
        if (texts.Count == 1 && _piped.Count > 1)
        {
            WriteVerbose($"Joined {_piped.Count} lines from the pipeline into one suggestion.");
        }

        foreach (var text in texts)
        {
            try
            {
                Convert(text, SuggestionConverter.HashText(text), null, _options.Format);
            }
            catch (GovernanceException e)
            {
                WriteGovernanceError(e);
            }
        }
    }

    /// <summary>A file's extension decides how Auto reads it: a .ps1 is a script even if it holds markdown in comments.</summary>
    private SuggestionInputFormat ByExtension(string file)
    {
        if (_options.Format != SuggestionInputFormat.Auto)
        {
            return _options.Format;
        }

        return System.IO.Path.GetExtension(file).ToLowerInvariant() switch
        {
            ".ps1" or ".psm1" => SuggestionInputFormat.Script,
            ".md" or ".markdown" => SuggestionInputFormat.Markdown,
            ".json" => SuggestionInputFormat.Json,
            _ => SuggestionInputFormat.Auto,
        };
    }

    private void Convert(string text, string hash, string? file, SuggestionInputFormat format)
    {
        var result = SuggestionConverter.Convert(text, hash, file, _options.WithFormat(format), _snapshot);
        var analysis = result.Analysis;
        WriteVerbose($"Read {file ?? "the text"} as {analysis.Format}, {analysis.TextHash}: {analysis.Commands.Count} command(s) change access, {analysis.Findings.Count} refused.");
        foreach (var command in analysis.Commands)
        {
            var how = string.Join("; ", new[] { command.Note }.Concat(command.Resolved).Where(n => n is not null));
            WriteVerbose($"{command.Line}:{command.Column} {command.Command} -> {string.Join("; ", command.Operations)} ({command.Fidelity.ToString().ToLowerInvariant()}{(how.Length == 0 ? string.Empty : ": " + how)})");
            if (command.Fidelity == MappingFidelity.Approximate)
            {
                WriteWarning($"{command.Line}:{command.Column} {command.Command} maps onto the change only approximately: {command.Note}");
            }
        }

        foreach (var note in analysis.Notes)
        {
            WriteVerbose(note);
        }

        if (result.Change is null)
        {
            foreach (var finding in analysis.Findings)
            {
                WriteError(FindingRecord(finding));
            }

            return;
        }

        foreach (var finding in analysis.Findings)
        {
            WriteWarning("Left out of the change (-AllowPartial): " + finding.Message);
        }

        WriteVerbose($"Change {result.Change.Id}: {string.Join("; ", result.Change.Operations)}.");
        var output = PSObject.AsPSObject(result.Change);
        output.Properties.Add(new PSNoteProperty("Suggestion", analysis));
        WriteObject(output);
    }

    /// <summary>An error record per refusal: its ErrorId, a category by kind, and the finding itself as the target.</summary>
    private static ErrorRecord FindingRecord(SuggestionFinding finding)
    {
        var (category, action) = finding.Kind switch
        {
            SuggestionFindingKind.ExecutesCode or SuggestionFindingKind.ParseTimeEffect =>
                (ErrorCategory.SecurityError, "Ask the agent for plain commands with literal values, or make the change with New-AccessChange."),
            SuggestionFindingKind.UnresolvedName => (ErrorCategory.ObjectNotFound, "Use one of the candidates' ids, or check that the snapshot is of the right tenant."),
            SuggestionFindingKind.AmbiguousName => (ErrorCategory.InvalidArgument, "Name the object by its id."),
            _ => (ErrorCategory.InvalidData, "Rewrite the command with literal values and known parameters, or make the change with New-AccessChange; -AllowPartial keeps the rest."),
        };
        var record = new ErrorRecord(new GovernanceException(finding.ErrorId, GovernanceErrorKind.InvalidData, finding.Message, finding), finding.ErrorId, category, finding);
        record.ErrorDetails = new ErrorDetails(finding.Message) { RecommendedAction = action };
        return record;
    }
}
