using System;
using System.Net.Http.Headers;

namespace AgentGovernance.IO;

/// <summary>An HTTP answer's Retry-After (seconds or a date), for every client of ours that waits on it: Graph and the notification webhooks.</summary>
internal static class RetryAfter
{
    /// <summary>How long the header asks to wait, never less than zero; null without the header.</summary>
    public static TimeSpan? Of(RetryConditionHeaderValue? value)
    {
        if (value?.Delta is { } delta)
        {
            return delta < TimeSpan.Zero ? TimeSpan.Zero : delta;
        }

        if (value?.Date is { } date)
        {
            var wait = date - DateTimeOffset.UtcNow;
            return wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
        }

        return null;
    }
}
