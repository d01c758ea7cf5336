namespace AgentGovernance.Directory;

/// <summary>Sensitivity labels, in order: a higher value is more sensitive.</summary>
public enum Sensitivity
{
    Public = 0,
    General = 1,
    Confidential = 2,
    HighlyConfidential = 3,
}
