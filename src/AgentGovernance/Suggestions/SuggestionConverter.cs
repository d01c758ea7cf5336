using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Management.Automation.Language;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using AgentGovernance.Changes;
using AgentGovernance.Directory;
using AgentGovernance.Json;

namespace AgentGovernance.Suggestions;

/// <summary>How to read a suggestion's text.</summary>
[Newtonsoft.Json.JsonConverter(typeof(Newtonsoft.Json.Converters.StringEnumConverter))]
public enum SuggestionInputFormat
{
    /// <summary>JSON when it is JSON; a markdown answer when it has code blocks; otherwise a script.</summary>
    Auto,
    Script,
    Markdown,
    Json,
}

/// <summary>What the person converting a suggestion says about it: who suggested it, who asks, why, for how long.</summary>
public sealed class SuggestionOptions
{
    public SuggestionInputFormat Format { get; set; } = SuggestionInputFormat.Auto;

    /// <summary>agent or user; when not given, the document's, else agent.</summary>
    public string? SuggestedByType { get; set; }

    /// <summary>Who suggested it: an id, user principal name or display name, resolved in the directory when it can be.</summary>
    public string? SuggestedBy { get; set; }

    /// <summary>Where it was suggested (a forum thread, a chat, a ticket).</summary>
    public string? Source { get; set; }

    public string? RequestedBy { get; set; }

    public string? Title { get; set; }

    public string? Justification { get; set; }

    /// <summary>An ISO 8601 duration (already validated).</summary>
    public string? Duration { get; set; }

    /// <summary>Produce the change from what could be mapped even when some of the suggestion was refused.</summary>
    public bool AllowPartial { get; set; }

    /// <summary>The same options with another format (a file's extension decides how Auto reads it).</summary>
    public SuggestionOptions WithFormat(SuggestionInputFormat format)
    {
        var copy = (SuggestionOptions)MemberwiseClone();
        copy.Format = format;
        return copy;
    }
}

/// <summary>The change read from a suggestion (null when refused), and how it was read.</summary>
public sealed class SuggestionResult
{
    internal SuggestionResult(AccessChange? change, SuggestionAnalysis analysis)
    {
        Change = change;
        Analysis = analysis;
    }

    public AccessChange? Change { get; }

    public SuggestionAnalysis Analysis { get; }
}

/// <summary>
/// Turns what an agent wrote (a script, a markdown answer, a change document, a JSON list of
/// operations) into an <see cref="AccessChange"/>, reading it as data only. Whatever may change access
/// but cannot be mapped is a finding, and with any finding there is no change unless partial changes
/// are allowed. Errors about the input as a whole are <see cref="GovernanceException"/>s:
/// SuggestionTooLarge, SuggestionUnparsable, SuggestionEmpty, ChangeInvalid, SuggestionAmbiguousName.
/// </summary>
public static class SuggestionConverter
{
    /// <summary>An answer is a few kilobytes; anything this long is not one.</summary>
    public const int MaxLength = 1024 * 1024;

    private static readonly string[] DataLanguages = { "json", "jsonc", "yaml", "yml", "xml", "output", "log", "csv", "html", "markdown", "md" };

    private static readonly Regex VerbNounWord = new(@"(?<![\w-])[A-Za-z]+-[A-Za-z][A-Za-z0-9]*(?![\w-])", RegexOptions.CultureInvariant);
    private static readonly Regex ToolLine = new(@"^\s*(?:\$\s+|>\s+|PS[^>]*>\s*)?(?<tool>az|m365|mgc|gam)\s+\S", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase | RegexOptions.Multiline);
    private static readonly Regex GraphWrite = new(@"\b(?<method>POST|PATCH|PUT|DELETE)\b[^\n]*graph\.microsoft\.", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase);

    /// <summary><c>sha256:</c> + hex SHA-256 of a text's UTF-8 bytes (no byte order mark).</summary>
    public static string HashText(string text) => Hashing.Sha256Id(new UTF8Encoding(false).GetBytes(text));

    public static SuggestionResult Convert(string text, string textHash, string? file, SuggestionOptions options, AccessSnapshot snapshot)
    {
        if (text.Length > MaxLength)
        {
            throw new GovernanceException("SuggestionTooLarge", GovernanceErrorKind.InvalidData,
                $"{file ?? "The suggestion"} is {text.Length} characters long; a suggestion may be at most {MaxLength}.", file);
        }

        if (text.Length > 0 && text[0] == '\uFEFF')
        {
            text = text.Substring(1);
        }

        var names = DirectoryNames.For(snapshot);
        var trimmed = text.TrimStart();
        if (options.Format == SuggestionInputFormat.Json || (options.Format == SuggestionInputFormat.Auto && (trimmed.StartsWith("{", StringComparison.Ordinal) || trimmed.StartsWith("[", StringComparison.Ordinal)) && IsJson(text)))
        {
            return FromJson(text, textHash, file, options, names);
        }

        var analyzer = new ScriptAnalyzer(names, file);
        var units = new List<(CodeUnit Unit, ScriptBlockAst Ast, bool Lenient)>();
        var whole = CodeUnit.WholeText(text);
        var parsed = ScriptGuard.Parse(text, out var guard);
        var wholeIsScript = parsed is not null && parsed.Errors.Length == 0;
        SuggestionFormat format;
        if (options.Format == SuggestionInputFormat.Script
            || (options.Format == SuggestionInputFormat.Auto && !MarkdownReader.HasFences(text) && (wholeIsScript || guard is not null || !MarkdownReader.HasCommandSpans(text))))
        {
            format = SuggestionFormat.Script;
            if (guard is not null)
            {
                analyzer.Refuse(whole, guard.Line, guard.Column, SuggestionFindingKind.ParseTimeEffect, guard.Word, guard.Word, guard.Reason + ".");
            }
            else if (!wholeIsScript)
            {
                var e = parsed!.Errors[0];
                throw new GovernanceException("SuggestionUnparsable", GovernanceErrorKind.InvalidData,
                    $"{file ?? "<suggestion>"}:{e.Extent.StartLineNumber}:{e.Extent.StartColumnNumber}: the text is not a change document, a JSON list of operations, a markdown answer with code blocks, nor PowerShell that parses: {e.Message}",
                    file);
            }
            else
            {
                units.Add((whole, parsed!.Ast, false));

                // Prose that happens to parse ("Run `Add-... -x y` now") hides its command in a backtick
                // span; a text forced to be a script (a .ps1) is read as nothing but the script.
                if (options.Format == SuggestionInputFormat.Auto)
                {
                    foreach (var span in MarkdownReader.Read(text).Where(u => u.Kind == UnitKind.InlineCode))
                    {
                        AddCode(analyzer, units, span);
                    }
                }
            }
        }
        else
        {
            format = SuggestionFormat.Markdown;
            foreach (var unit in MarkdownReader.Read(text))
            {
                AddCode(analyzer, units, unit);
            }

            // A text that is both a markdown answer and a valid script is also read as the script it is,
            // so that code hidden outside the blocks (a script with fences in its here-strings) is seen.
            if (wholeIsScript)
            {
                units.Add((whole, parsed!.Ast, true));
                analyzer.Note("the whole answer also parses as a PowerShell script; it was read as one too (prose words that are not commands are ignored there)");
            }
        }

        analyzer.Analyze(units);
        var findings = analyzer.Findings.OrderBy(f => f.Line).ThenBy(f => f.Column).ToList();
        var analysis = new SuggestionAnalysis(format, textHash, file, analyzer.Commands, findings, analyzer.Notes);
        return Finish(analysis, options, names, file, null);
    }

    /// <summary>Adds one code unit of an answer: PowerShell to analyse, an http request to map, or a foreign block to search.</summary>
    private static void AddCode(ScriptAnalyzer analyzer, List<(CodeUnit, ScriptBlockAst, bool)> units, CodeUnit unit)
    {
        switch (unit.Kind)
        {
            case UnitKind.HttpBlock:
                Http(analyzer, unit);
                return;
            case UnitKind.OtherBlock:
                Foreign(analyzer, unit);
                return;
        }

        var parsed = ScriptGuard.Parse(unit.Text, out var guard);
        if (guard is not null)
        {
            analyzer.Refuse(unit, guard.Line, guard.Column, SuggestionFindingKind.ParseTimeEffect, guard.Word, guard.Word, guard.Reason + ".");
            return;
        }

        if (parsed!.Errors.Length == 0)
        {
            units.Add((unit, parsed.Ast, false));
            return;
        }

        var e = parsed.Errors[0];
        if (unit.Kind == UnitKind.PowerShellBlock)
        {
            analyzer.Refuse(unit, e.Extent.StartLineNumber, e.Extent.StartColumnNumber, SuggestionFindingKind.Unreadable, null, e.Extent.Text,
                $"{unit.Describe()} does not parse ({e.Message}); a block that is fixed before it is run cannot be checked.");
            return;
        }

        analyzer.Note($"{unit.Describe()} is not PowerShell (it does not parse); it was not read as code.");
        Foreign(analyzer, unit);
    }

    /// <summary>A block in another language is not read, but one that names an access-changing command is refused.</summary>
    private static void Foreign(ScriptAnalyzer analyzer, CodeUnit unit)
    {
        if (unit.Language is { } language && DataLanguages.Contains(language, StringComparer.OrdinalIgnoreCase))
        {
            analyzer.Note($"{unit.Describe()} holds data, not commands; it was not read.");
            return;
        }

        var lines = MarkdownReader.SplitLines(unit.Text);
        foreach (var (number, raw) in lines)
        {
            // PowerShell drops a backtick before an ordinary letter, so New-Mg`GroupMember is New-MgGroupMember.
            var line = raw.Replace("`", string.Empty);
            string? reason = null;
            var column = 1;
            var word = VerbNounWord.Matches(line).Cast<Match>().FirstOrDefault(m => CommandCatalog.Find(m.Value) is not null || CommandCatalog.IsCodeRunner(m.Value, out _));
            if (word is not null)
            {
                reason = $"{unit.Describe()} names {word.Value}, a command that changes access or runs code, in a form this cmdlet does not read; put PowerShell in a ```powershell block.";
                column = word.Index + 1;
            }
            else if (ToolLine.Match(line) is { Success: true } tool)
            {
                reason = $"{unit.Describe()} runs {tool.Groups["tool"].Value}, a command-line tool that can change access, whose arguments this cmdlet does not read.";
                column = tool.Groups["tool"].Index + 1;
            }
            else if (GraphWrite.Match(line) is { Success: true } write)
            {
                reason = $"{unit.Describe()} sends {write.Groups["method"].Value.ToUpperInvariant()} to Microsoft Graph in a form this cmdlet does not read; write it as an ```http block or an Invoke-MgGraphRequest call.";
                column = write.Index + 1;
            }

            if (reason is not null)
            {
                analyzer.Refuse(unit, number, column, SuggestionFindingKind.Unreadable, null, line, reason);
                return;
            }
        }

        analyzer.Note($"{unit.Describe()} names no command that changes access; it was not read.");
    }

    /// <summary>An ```http block: "METHOD URL", headers, a blank line, a JSON body.</summary>
    private static void Http(ScriptAnalyzer analyzer, CodeUnit unit)
    {
        var lines = MarkdownReader.SplitLines(unit.Text);
        var i = 0;
        while (i < lines.Count && (lines[i].Text.Trim().Length == 0 || lines[i].Text.TrimStart().StartsWith("#", StringComparison.Ordinal)))
        {
            i++;
        }

        if (i == lines.Count)
        {
            return;
        }

        var (number, requestLine) = lines[i];
        var parts = requestLine.Trim().Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length < 2 || !parts[0].All(char.IsLetter))
        {
            analyzer.Refuse(unit, number, 1, SuggestionFindingKind.Unreadable, null, requestLine, $"{unit.Describe()} does not start with a request line (METHOD URL).");
            return;
        }

        i++;
        while (i < lines.Count && lines[i].Text.Trim().Length > 0)
        {
            i++; // headers
        }

        var body = string.Join("\n", lines.Skip(i).Select(l => l.Text)).Trim();
        var request = GraphRequest.FromUri(parts[0], parts[1], body.Length == 0 ? null : new TextValue(body), relativeAllowed: true);
        analyzer.MapRequest(unit, number, requestLine.Trim(), request, parts[0], parts[1]);
    }

    private static bool IsJson(string text)
    {
        try
        {
            JsonTree.Parse(Utf8Input.Encode(text));
            return true;
        }
        catch (JsonEncodingException)
        {
            // JSON whose text is not clean Unicode is still JSON: it is refused as such, with the position.
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>A change document or an operation list: strict reading, then names resolved in the directory.</summary>
    private static SuggestionResult FromJson(string text, string textHash, string? file, SuggestionOptions options, DirectoryNames names)
    {
        byte[] bytes;
        try
        {
            bytes = Utf8Input.Encode(text);
        }
        catch (JsonException e)
        {
            throw new DocumentException(ChangeReader.ErrorId, file, null, (e.LineNumber ?? -1) + 1, (e.BytePositionInLine ?? -1) + 1, e.Message, e);
        }

        var trimmed = text.TrimStart();
        AccessChange? document = null;
        IReadOnlyList<AccessOperation> ops;
        string prefix;
        if (trimmed.StartsWith("[", StringComparison.Ordinal))
        {
            ops = ChangeReader.ParseOperations(bytes, file);
            prefix = string.Empty;
        }
        else
        {
            document = ChangeReader.Parse(bytes, file);
            ops = document.Operations;
            prefix = "operations";
        }

        var tree = JsonTree.Parse(bytes);
        var items = (document is null ? tree : tree.Properties!.First(p => p.Key == "operations").Value).Items!;
        var commands = new List<SuggestedCommand>();
        var findings = new List<SuggestionFinding>();
        for (var i = 0; i < ops.Count; i++)
        {
            var op = ops[i];
            var node = items[i];
            var path = $"{prefix}[{i.ToString(CultureInfo.InvariantCulture)}]";
            var m = new MapContext(names, null);
            string field = "op";
            try
            {
                switch (op.Op)
                {
                    case OperationKind.Grant:
                    case OperationKind.Revoke:
                        field = "resource";
                        var resource = m.Resource(op.Resource!, "resource");
                        field = "principal";
                        var principal = m.Grantee(op.Principal!);
                        if (op.Op == OperationKind.Grant)
                        {
                            m.Grant(resource, principal, op.Role!);
                        }
                        else
                        {
                            m.Revoke(resource, principal, op.Role!);
                        }

                        break;
                    case OperationKind.AddMember:
                    case OperationKind.RemoveMember:
                        field = "group";
                        var group = m.Group(op.Group!);
                        field = "member";
                        var member = m.Member(op.Member!);
                        if (op.Op == OperationKind.AddMember)
                        {
                            m.AddMember(group, member);
                        }
                        else
                        {
                            m.RemoveMember(group, member);
                        }

                        break;
                    case OperationKind.SetVisibility:
                        field = "group";
                        m.SetVisibility(m.Group(op.Group!), op.Visibility!.Value);
                        break;
                    default:
                        field = "resource";
                        m.CreateLink(m.Resource(op.Resource!, "resource"), op.Scope!.Value, op.Role!);
                        break;
                }

                commands.Add(new SuggestedCommand((int)node.Line, (int)node.Column, path, op.ToString(), m.Operations.ToList(),
                    m.Approximations.Count > 0 ? MappingFidelity.Approximate : MappingFidelity.Exact,
                    m.Approximations.Count == 0 ? null : string.Join("; ", m.Approximations), m.Resolutions.ToList()));
            }
            catch (SuggestionRefusal r)
            {
                var at = node.Properties!.FirstOrDefault(p => p.Key == field).Value ?? node;
                findings.Add(new SuggestionFinding(r.Kind, (int)at.Line, (int)at.Column, $"{path}.{field}", op.ToString(), r.Message, r.Candidates, file));
            }
        }

        var analysis = new SuggestionAnalysis(document is null ? SuggestionFormat.OperationList : SuggestionFormat.ChangeDocument, textHash, file, commands, findings, Array.Empty<string>());
        return Finish(analysis, options, names, file, document);
    }

    /// <summary>The change, unless something was refused (and partial changes are not allowed) or nothing changes access.</summary>
    private static SuggestionResult Finish(SuggestionAnalysis analysis, SuggestionOptions options, DirectoryNames names, string? file, AccessChange? document)
    {
        var ops = analysis.Operations;
        if (ops.Count == 0 && analysis.Findings.Count == 0)
        {
            throw new GovernanceException("SuggestionEmpty", GovernanceErrorKind.InvalidData,
                $"{file ?? "The suggestion"} holds no command that changes access" + (analysis.Notes.Count > 0 ? " (" + string.Join("; ", analysis.Notes.Take(6)) + ")." : "."),
                file);
        }

        if (ops.Count == 0 || (analysis.Findings.Count > 0 && !options.AllowPartial))
        {
            return new SuggestionResult(null, analysis);
        }

        var suggestedBy = Suggester(options, names, document?.SuggestedBy, analysis.TextHash);
        var change = new AccessChange(ops, options.Title ?? document?.Title, options.Justification ?? document?.Justification, suggestedBy,
            options.RequestedBy ?? document?.RequestedBy, options.Duration ?? document?.Duration, file);
        return new SuggestionResult(change, analysis);
    }

    /// <summary>Who suggested the change: -SuggestedBy resolved in the directory (kept as written when it names nobody there), else the document's.</summary>
    private static SuggestedBy Suggester(SuggestionOptions options, DirectoryNames names, SuggestedBy? fromDocument, string textHash)
    {
        string? id = fromDocument?.Id;
        string? display = fromDocument?.DisplayName;
        if (options.SuggestedBy is { } given)
        {
            try
            {
                id = names.Principal(given, PrincipalWant.Member, "suggester (-SuggestedBy)");
                display = names.DisplayName(id);
            }
            catch (SuggestionRefusal r) when (r.Kind == SuggestionFindingKind.UnresolvedName)
            {
                // An agent outside the directory (a vendor's assistant) is recorded as named.
                id = given;
                display = null;
            }
            catch (SuggestionRefusal r)
            {
                throw new GovernanceException("SuggestionAmbiguousName", GovernanceErrorKind.InvalidArgument,
                    $"-SuggestedBy: {r.Message}" + (r.Candidates is { Count: > 0 } c ? " Candidates: " + string.Join("; ", c) + "." : string.Empty), given);
            }
        }

        var type = options.SuggestedByType ?? fromDocument?.Type ?? "agent";
        return new SuggestedBy(type, id, display, options.Source ?? fromDocument?.Source, textHash);
    }
}
