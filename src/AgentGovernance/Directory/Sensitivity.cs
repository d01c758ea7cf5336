namespace AgentGovernance.Directory;

/// <summary>Sensitivity labels, in order: a higher value is more sensitive.</summary>
[Newtonsoft.Json.JsonConverter(typeof(Newtonsoft.Json.Converters.StringEnumConverter))]
public enum Sensitivity
{
    Public = 0,
    General = 1,
    Confidential = 2,
    HighlyConfidential = 3,
}
