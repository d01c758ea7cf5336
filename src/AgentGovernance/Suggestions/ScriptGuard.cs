using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;
using System.Text;

namespace AgentGovernance.Suggestions;

/// <summary>A script the guard let through to the PowerShell parser, and what the parser made of it.</summary>
internal sealed class ParsedScript
{
    public ParsedScript(ScriptBlockAst ast, ParseError[] errors)
    {
        Ast = ast;
        Errors = errors;
    }

    public ScriptBlockAst Ast { get; }

    public ParseError[] Errors { get; }
}

/// <summary>A keyword the guard refused before the PowerShell parser could act on it.</summary>
internal sealed class GuardFinding
{
    public GuardFinding(int line, int column, string word, string reason)
    {
        Line = line;
        Column = column;
        Word = word;
        Reason = reason;
    }

    public int Line { get; }

    public int Column { get; }

    public string Word { get; }

    public string Reason { get; }
}

/// <summary>
/// Parses untrusted script text with the PowerShell parser, which is not inert: a <c>using module</c>
/// statement makes it run <c>Get-Module -ListAvailable</c> on the path it names (UNC shares
/// included), <c>using assembly</c> loads the assembly, and <c>configuration</c> loads DSC resources
/// (see <see cref="Policy.PolicyReader"/>, which screens policies for the same reason). A script's
/// text cannot be limited to data characters the way a policy's is, so the guard first parses a
/// defanged copy in which every occurrence of those keywords, anywhere, even inside strings, is
/// replaced by a harmless word of the same length. The copy's tokens then tell where each occurrence
/// stood: an occurrence that was a command name (which is where PowerShell would have read the
/// keyword) is refused; occurrences inside strings and comments, or used as arguments, are not code,
/// so the original text, now known to hold none of the keywords as code, is parsed for real.
/// </summary>
internal static class ScriptGuard
{
    private static readonly (string Word, string Reason)[] Keywords =
    {
        ("using", "a 'using' statement makes PowerShell load the module or assembly it names while merely reading the script, and an access change needs none"),
        ("configuration", "a DSC configuration makes PowerShell load DSC resources while merely reading the script"),
        ("class", "a class definition has PowerShell resolve (and possibly load) types while reading the script, and an access change needs none"),
        ("enum", "an enum definition has PowerShell resolve types while reading the script, and an access change needs none"),
        ("workflow", "a workflow is compiled while Windows PowerShell reads the script"),
    };

    /// <summary>The parsed script, or null (and <paramref name="refused"/>) when a keyword stood where PowerShell would act on it.</summary>
    public static ParsedScript? Parse(string text, out GuardFinding? refused)
    {
        refused = null;
        var copy = new StringBuilder(text);
        var occurrences = new List<(int Offset, int Length, string Word, string Reason)>();
        foreach (var (word, reason) in Keywords)
        {
            for (var i = 0; i + word.Length <= text.Length; i++)
            {
                // OrdinalIgnoreCase, as PowerShell's keyword table compares (it folds 'ı' and 'ſ' too).
                if (string.Compare(text, i, word, 0, word.Length, StringComparison.OrdinalIgnoreCase) == 0)
                {
                    occurrences.Add((i, word.Length, word, reason));
                    copy[i] = 'Q';
                }
            }
        }

        if (occurrences.Count > 0)
        {
            var defanged = ParseSafely(copy.ToString());
            var clean = defanged.Errors.Length == 0;
            var tokens = Flatten(defanged.Tokens);
            foreach (var (offset, length, word, reason) in occurrences.OrderBy(o => o.Offset))
            {
                var token = tokens.FirstOrDefault(t => t.Extent.StartOffset == offset && t.Extent.EndOffset == offset + length);
                if (token is null)
                {
                    continue; // part of a longer word, a string or a comment
                }

                var commandName = (token.TokenFlags & TokenFlags.CommandName) != 0;
                if (commandName || (!clean && IsCode(token)))
                {
                    refused = new GuardFinding(token.Extent.StartLineNumber, token.Extent.StartColumnNumber, text.Substring(offset, length), reason);
                    return null;
                }
            }
        }

        var parsed = ParseSafely(text);
        return new ParsedScript(parsed.Ast, parsed.Errors);
    }

    private static (ScriptBlockAst Ast, Token[] Tokens, ParseError[] Errors) ParseSafely(string text)
    {
        try
        {
            var ast = Parser.ParseInput(text, out var tokens, out var errors);
            return (ast, tokens, errors);
        }
        catch (Exception e) when (e is ParseException || e is InsufficientExecutionStackException)
        {
            // The parser gives up on some inputs (nesting too deep) instead of reporting errors.
            throw new SuggestionRefusal(SuggestionFindingKind.Unreadable, "PowerShell could not parse the text: " + e.Message);
        }
    }

    private static List<Token> Flatten(IEnumerable<Token> tokens)
    {
        var all = new List<Token>();
        foreach (var t in tokens)
        {
            all.Add(t);
            if (t is StringExpandableToken s && s.NestedTokens is { } nested)
            {
                all.AddRange(Flatten(nested));
            }
        }

        return all;
    }

    private static bool IsCode(Token t) => t.Kind switch
    {
        TokenKind.Comment or TokenKind.StringLiteral or TokenKind.StringExpandable or TokenKind.HereStringLiteral or TokenKind.HereStringExpandable => false,
        _ => true,
    };
}
