using System;
using System.Globalization;

namespace AgentGovernance;

/// <summary>
/// The one clock: every expiry, ledger time and decision time reads it. Tests replace it in-process
/// (it is internal on purpose: no setting, variable or parameter can move the clock of a real session,
/// or an expired approval could be made to look fresh).
/// </summary>
public static class GovernanceClock
{
    private static Func<DateTimeOffset> _now = () => DateTimeOffset.UtcNow;

    public static DateTimeOffset UtcNow => _now().ToUniversalTime();

    /// <summary>Replaces the clock (tests only); null restores the system clock.</summary>
    internal static void Set(Func<DateTimeOffset>? now) => _now = now ?? (() => DateTimeOffset.UtcNow);

    /// <summary>The one spelling of times in documents and the ledger: UTC, milliseconds, 'Z'.</summary>
    public static string Format(DateTimeOffset time) =>
        time.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    public static bool TryParse(string? text, out DateTimeOffset time) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out time)
        && text!.Length >= 20;
}
