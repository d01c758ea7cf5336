using System;
using System.Globalization;
using System.Text;

namespace AgentGovernance.Approval;

/// <summary>
/// The text rules for names of people and agents, and for reasons a person gives: what is invisible,
/// one spelling per identity (trimmed, NFKC, case-folded), and how many visible letters a reason has.
/// </summary>
internal static class IdentityText
{
    /// <summary>
    /// Whether a code point shows nothing, or changes how others show: controls, format characters
    /// (zero-width space and joiners, bidi controls, tags), surrogates, private use, unassigned, line
    /// and paragraph separators, and the default-ignorable code points that are not format characters
    /// (Default_Ignorable_Code_Point in DerivedCoreProperties.txt: combining grapheme joiner, Hangul
    /// fillers, Khmer inherent vowels, Mongolian and other variation selectors). The Cf and Cn parts of
    /// that property are covered by their categories.
    /// </summary>
    public static bool IsInvisible(int cp)
    {
        if (cp is 0x034F or 0x115F or 0x1160 or 0x17B4 or 0x17B5 or 0x180F or 0x3164 or 0xFFA0
            || (cp >= 0x180B && cp <= 0x180D) || (cp >= 0xFE00 && cp <= 0xFE0F) || (cp >= 0xE0100 && cp <= 0xE01EF))
        {
            return true;
        }

        var category = cp > 0xFFFF ? CharUnicodeInfo.GetUnicodeCategory(char.ConvertFromUtf32(cp), 0) : CharUnicodeInfo.GetUnicodeCategory((char)cp);
        return category is UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.Surrogate or UnicodeCategory.PrivateUse
            or UnicodeCategory.OtherNotAssigned or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator;
    }

    /// <summary>
    /// The one spelling of an identity that comparisons use: trimmed, NFKC, case-folded (lower-cased
    /// invariantly, then NFKC again, since lower-casing can undo it). Null, with the reason in
    /// <paramref name="problem"/>, for a name that is empty or holds an invisible character: no
    /// directory id, user principal name or address does, so such a name is a disguise.
    /// </summary>
    public static string? Key(string? name, out string? problem)
    {
        problem = null;
        var trimmed = name?.Trim();
        if (string.IsNullOrEmpty(trimmed))
        {
            problem = "the name is empty";
            return null;
        }

        if (IsPlainAscii(trimmed!))
        {
            return trimmed!.ToLowerInvariant();
        }

        for (var i = 0; i < trimmed!.Length; i++)
        {
            // Normalizing may quietly turn a lone surrogate into U+FFFD: refuse it first.
            if (char.IsSurrogate(trimmed[i]) && !(char.IsHighSurrogate(trimmed[i]) && i + 1 < trimmed.Length && char.IsLowSurrogate(trimmed[++i])))
            {
                problem = "the name is not valid Unicode text (a lone surrogate)";
                return null;
            }
        }

        string kc;
        try
        {
            kc = trimmed!.Normalize(NormalizationForm.FormKC);
        }
        catch (ArgumentException)
        {
            problem = "the name is not valid Unicode text (a lone surrogate)";
            return null;
        }

        for (var i = 0; i < kc.Length; i++)
        {
            var cp = CodePointAt(kc, ref i);
            if (IsInvisible(cp))
            {
                problem = $"the name holds an invisible or control character (U+{cp:X4}) at position {i + 1}";
                return null;
            }
        }

        return kc.ToLowerInvariant().Normalize(NormalizationForm.FormKC);
    }

    /// <summary>The name's spelling for comparisons, or an IdentityInvalid error.</summary>
    public static string RequireKey(string name, string role)
    {
        return Key(name, out var problem) ?? throw new GovernanceException("IdentityInvalid", GovernanceErrorKind.InvalidArgument,
            $"The {role} '{Visible(name)}' cannot be an identity: {problem}. Give the directory id, user principal name or mail address as the directory spells it.", name);
    }

    /// <summary>
    /// Letters and digits a person can see, counted in grapheme clusters: a cluster counts when it
    /// starts with a letter or a number (any script) that is not invisible. Spaces, punctuation,
    /// zero-width and format characters, controls and lone combining marks do not count.
    /// </summary>
    public static int VisibleLetters(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return 0;
        }

        var count = 0;
        var clusters = StringInfo.GetTextElementEnumerator(text);
        while (clusters.MoveNext())
        {
            var cluster = (string)clusters.Current;
            var at = 0;
            if (IsInvisible(CodePointAt(cluster, ref at)))
            {
                continue;
            }

            var category = CharUnicodeInfo.GetUnicodeCategory(cluster, 0);
            if (category is UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter or UnicodeCategory.DecimalDigitNumber
                or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber)
            {
                count++;
            }
        }

        return count;
    }

    /// <summary>A name as an error message may show it: invisible characters and controls as U+XXXX (Display.SafeText, the one way text is shown).</summary>
    public static string Visible(string? text) => Display.SafeText.Show(text);

    /// <summary>The code point at <paramref name="i"/> (a surrogate pair read whole, <paramref name="i"/> left on its second half; a lone surrogate as itself).</summary>
    private static int CodePointAt(string s, ref int i) =>
        char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]) ? char.ConvertToUtf32(s[i], s[++i]) : s[i];

    private static bool IsPlainAscii(string s)
    {
        foreach (var c in s)
        {
            if (c < 0x21 || c > 0x7E)
            {
                return false;
            }
        }

        return true;
    }
}
