using System;
using System.Management.Automation;
using AgentGovernance.Changes;

namespace AgentGovernance.Commands;

/// <summary>
/// Lets a TimeSpan parameter take an ISO 8601 duration ('PT30M', 'P1D') as well as a TimeSpan, and
/// refuses a bare number: PowerShell would read 30 as 30 ticks, which is never what was meant.
/// </summary>
public sealed class DurationTransformationAttribute : ArgumentTransformationAttribute
{
    public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
    {
        var value = inputData is PSObject pso ? pso.BaseObject : inputData;
        switch (value)
        {
            case TimeSpan span:
                return span;
            case string text when text.StartsWith("P", StringComparison.Ordinal):
                if (IsoDuration.TryParse(text, out var parsed, out var problem))
                {
                    return parsed;
                }

                throw new ArgumentTransformationMetadataException(problem + ".");
            case string text when TimeSpan.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out var span):
                return span;
            case int or long or double or decimal:
                throw new ArgumentTransformationMetadataException(
                    $"'{value}' has no unit: give a TimeSpan ([TimeSpan]::FromMinutes(30)), 'hh:mm:ss', or an ISO 8601 duration such as 'PT30M' or 'P1D'.");
            default:
                throw new ArgumentTransformationMetadataException(
                    $"'{value}' is not a duration: give a TimeSpan, 'hh:mm:ss', or an ISO 8601 duration such as 'PT30M' or 'P1D'.");
        }
    }
}
