using System;
using System.Management.Automation;
using AgentGovernance.Changes;

namespace AgentGovernance.Commands;

/// <summary>
/// The one duration input of every cmdlet (-Duration, -ExpiresIn, -Timeout, -PollInterval): a TimeSpan,
/// an ISO 8601 duration ('PT30M', 'P1D', 'P2W') or '[d.]hh:mm[:ss]'. A bare number is refused
/// (PowerShell would read 30 as 30 ticks, and '5' as five days), and so is anything else.
/// about_AgentGovernance ("Durations") documents the forms once.
/// </summary>
internal static class DurationInput
{
    public const string Forms = "a TimeSpan ([TimeSpan]::FromMinutes(30)), 'hh:mm:ss', or an ISO 8601 duration such as 'PT30M' or 'P1D'";

    /// <summary>Reads a duration; <paramref name="iso"/> is the ISO 8601 text when it was given as one (kept as written).</summary>
    public static bool TryRead(object? input, out TimeSpan span, out string? iso, out string problem)
    {
        iso = null;
        problem = string.Empty;
        span = default;
        var value = input is PSObject pso ? pso.BaseObject : input;
        switch (value)
        {
            case TimeSpan given:
                span = given;
                return true;
            case string text when text.StartsWith("P", StringComparison.Ordinal):
                if (IsoDuration.TryParse(text, out span, out var isoProblem))
                {
                    iso = text;
                    return true;
                }

                problem = isoProblem;
                return false;
            case string text when text.IndexOf(':') > 0 && TimeSpan.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out span):
                return true;
            case int or long or double or decimal or string when double.TryParse(value.ToString(), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out _):
                problem = $"'{value}' has no unit: give {Forms}";
                return false;
            default:
                problem = $"'{value}' is not a duration: give {Forms}";
                return false;
        }
    }
}

/// <summary>Binds a TimeSpan parameter through <see cref="DurationInput"/>.</summary>
public sealed class DurationTransformationAttribute : ArgumentTransformationAttribute
{
    public override object Transform(EngineIntrinsics engineIntrinsics, object inputData) =>
        DurationInput.TryRead(inputData, out var span, out _, out var problem) ? span : throw new ArgumentTransformationMetadataException(problem + ".");
}
