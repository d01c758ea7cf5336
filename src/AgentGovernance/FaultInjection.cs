using System;

namespace AgentGovernance;

/// <summary>
/// Named points in the pipeline's write path where the crash tests kill the process. Internal, and only
/// the test worker sets the hook: nothing a user, a setting or an input can reach.
/// </summary>
internal static class FaultInjection
{
    internal static Action<string>? Hook { get; set; }

    internal static void Point(string name) => Hook?.Invoke(name);
}
