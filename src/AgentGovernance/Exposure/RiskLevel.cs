namespace AgentGovernance.Exposure;

/// <summary>How bad a finding or a change is. Ordered: a higher value is worse.</summary>
[Newtonsoft.Json.JsonConverter(typeof(Newtonsoft.Json.Converters.StringEnumConverter))]
public enum RiskLevel
{
    None = 0,
    Low = 1,
    Medium = 2,
    High = 3,
    Critical = 4,
}
