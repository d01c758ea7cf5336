using System;
using System.Globalization;
using System.Text.RegularExpressions;

namespace AgentGovernance.Changes;

/// <summary>
/// ISO 8601 durations of fixed length: PnW, or PnDTnHnMnS (any part may be left out). Years and
/// months are refused: their length depends on the calendar, and an exposure must end at a known time.
/// </summary>
public static class IsoDuration
{
    private static readonly Regex Pattern = new(
        @"^P(?:(?<w>\d+)W|(?:(?<d>\d+)D)?(?:T(?=\d)(?:(?<h>\d+)H)?(?:(?<m>\d+)M)?(?:(?<s>\d+(?:\.\d+)?)S)?)?)$",
        RegexOptions.CultureInvariant);

    public static bool TryParse(string text, out TimeSpan duration, out string problem)
    {
        duration = TimeSpan.Zero;
        problem = string.Empty;
        if (text.Length > 1 && text[0] == 'P' && (text.IndexOf('Y') > 0 || (text.IndexOf('M') > 0 && text.IndexOf('T') < 0) || (text.IndexOf('M') > 0 && text.IndexOf('M') < text.IndexOf('T'))))
        {
            problem = $"'{text}' uses years or months, whose length varies; give days, hours or minutes instead (e.g. P30D)";
            return false;
        }

        var m = Pattern.Match(text);
        if (!m.Success || text == "P" || text == "PT")
        {
            problem = $"'{text}' is not an ISO 8601 duration such as PT2H, P1D, P1DT12H or P2W";
            return false;
        }

        try
        {
            double Part(string name) => m.Groups[name].Success ? double.Parse(m.Groups[name].Value, CultureInfo.InvariantCulture) : 0;
            var ticks = (Part("w") * 7 + Part("d")) * TimeSpan.TicksPerDay + Part("h") * TimeSpan.TicksPerHour
                        + Part("m") * TimeSpan.TicksPerMinute + Part("s") * TimeSpan.TicksPerSecond;
            if (ticks > TimeSpan.FromDays(3650).Ticks)
            {
                problem = $"'{text}' is longer than ten years";
                return false;
            }

            duration = TimeSpan.FromTicks((long)ticks);
        }
        catch (OverflowException)
        {
            problem = $"'{text}' is too long";
            return false;
        }

        if (duration <= TimeSpan.Zero)
        {
            problem = $"'{text}' is not a positive duration";
            return false;
        }

        return true;
    }

    /// <summary>The shortest ISO 8601 spelling of a positive duration: P1DT2H, PT30M, PT1.5S.</summary>
    public static string Format(TimeSpan duration)
    {
        if (duration <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(duration), "A duration must be positive.");
        }

        var text = "P";
        if (duration.Days > 0)
        {
            text += duration.Days.ToString(CultureInfo.InvariantCulture) + "D";
        }

        var rest = duration - TimeSpan.FromDays(duration.Days);
        if (rest > TimeSpan.Zero)
        {
            text += "T";
            if (rest.Hours > 0) text += rest.Hours.ToString(CultureInfo.InvariantCulture) + "H";
            if (rest.Minutes > 0) text += rest.Minutes.ToString(CultureInfo.InvariantCulture) + "M";
            var seconds = rest.Seconds + rest.Milliseconds / 1000.0;
            if (seconds > 0) text += seconds.ToString("0.###", CultureInfo.InvariantCulture) + "S";
        }

        return text;
    }
}
