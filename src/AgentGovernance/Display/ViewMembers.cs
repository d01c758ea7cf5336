using System;
using System.Management.Automation;
using AgentGovernance.Changes;
using AgentGovernance.Directory;
using AgentGovernance.Exposure;
using AgentGovernance.Notifications;
using AgentGovernance.Policy;

namespace AgentGovernance.Display;

/// <summary>
/// Hidden code properties (AgentGovernance.Types.ps1xml) for what PowerShell may read but a serialized
/// object must not carry: a report's snapshot, a change's or the policy's durations as TimeSpans (their
/// ISO 8601 text is the property itself: Duration, ApprovalExpiry, MaxDuration, ReminderBefore).
/// Hidden members stay out of ConvertTo-Json, Export-Csv and Get-Member.
/// </summary>
public static class ViewMembers
{
    public static AccessSnapshot? ReportSnapshot(PSObject report) => (report?.BaseObject as ExposureReport)?.Snapshot;

    public static TimeSpan? ChangeDuration(PSObject change) => (change?.BaseObject as AccessChange)?.DurationTimeSpan;

    public static TimeSpan? PolicyApprovalExpiry(PSObject policy) => (policy?.BaseObject as GovernancePolicy)?.ApprovalExpiryTimeSpan;

    public static TimeSpan? PolicyMaxDuration(PSObject policy) => (policy?.BaseObject as GovernancePolicy)?.MaxDurationTimeSpan;

    public static TimeSpan? NotificationReminderBefore(PSObject settings) => (settings?.BaseObject as NotificationSettings)?.ReminderBeforeTimeSpan;
}
