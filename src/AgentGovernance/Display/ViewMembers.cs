using System;
using System.Management.Automation;
using AgentGovernance.Changes;
using AgentGovernance.Directory;
using AgentGovernance.Exposure;

namespace AgentGovernance.Display;

/// <summary>
/// Hidden code properties (AgentGovernance.Types.ps1xml) for what PowerShell may read but a serialized
/// object must not carry: a report's snapshot, a change's duration as a TimeSpan (its ISO 8601 text is
/// the Duration property). Hidden members stay out of ConvertTo-Json, Export-Csv and Get-Member.
/// </summary>
public static class ViewMembers
{
    public static AccessSnapshot? ReportSnapshot(PSObject report) => (report?.BaseObject as ExposureReport)?.Snapshot;

    public static TimeSpan? ChangeDuration(PSObject change) => (change?.BaseObject as AccessChange)?.DurationTimeSpan;
}
