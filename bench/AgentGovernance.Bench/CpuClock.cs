using System.Diagnostics;
using System.Runtime.InteropServices;

namespace AgentGovernanceBench;

/// <summary>
/// CPU time consumed by this process (all threads, GC included), in milliseconds, with nanosecond
/// resolution on Linux (clock_gettime CLOCK_PROCESS_CPUTIME_ID); elsewhere Process.TotalProcessorTime.
/// Unlike wall time it does not grow while other processes hold the cores.
/// </summary>
internal static partial class CpuClock
{
    private const int ClockProcessCpuTimeId = 2;

    private static readonly bool Native = OperatingSystem.IsLinux() && Probe();

    public static double NowMs()
    {
        if (Native && clock_gettime(ClockProcessCpuTimeId, out var ts) == 0)
        {
            return ts.Seconds * 1000.0 + ts.Nanoseconds / 1e6;
        }

        using var p = Process.GetCurrentProcess();
        return p.TotalProcessorTime.TotalMilliseconds;
    }

    private static bool Probe()
    {
        try
        {
            return clock_gettime(ClockProcessCpuTimeId, out _) == 0;
        }
        catch (DllNotFoundException)
        {
            return false;
        }
        catch (EntryPointNotFoundException)
        {
            return false;
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int clock_gettime(int clockId, out TimeSpec time);
}
