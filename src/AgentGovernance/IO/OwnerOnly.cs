using System.Runtime.InteropServices;

namespace AgentGovernance.IO;

/// <summary>Makes a secret file readable by its owner only (mode 600) where the platform has modes.</summary>
internal static class OwnerOnly
{
    [DllImport("libc", EntryPoint = "chmod", SetLastError = true)]
    private static extern int Chmod(string path, uint mode);

    public static void Restrict(string path)
    {
        if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
        {
            // Files under the user's profile inherit an owner-only ACL on Windows.
            return;
        }

        if (Chmod(path, 0x180) != 0)
        {
            throw new GovernanceException("FileWriteFailed", GovernanceErrorKind.WriteError,
                $"Cannot make '{path}' readable by its owner only (chmod 600 failed with error {Marshal.GetLastWin32Error()}).", path);
        }
    }

    /// <summary>
    /// Whether only the owner can read or write the file (no group or other bits). Always true on Windows,
    /// where files under the profile inherit an owner-only ACL; <paramref name="mode"/> is the octal mode elsewhere.
    /// </summary>
    public static bool IsOwnerOnly(string path, out string mode)
    {
        mode = "n/a";
        if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
        {
            return true;
        }

        // File.GetUnixFileMode exists from .NET 7 (PowerShell 7.4 runs on .NET 8); this assembly targets netstandard2.0.
        var get = typeof(System.IO.File).GetMethod("GetUnixFileMode", new[] { typeof(string) })
            ?? throw new GovernanceException("FileReadFailed", GovernanceErrorKind.ReadError, $"Cannot read the permissions of '{path}' on this runtime.", path);
        int bits;
        try
        {
            bits = System.Convert.ToInt32(get.Invoke(null, new object[] { path }), System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (System.Reflection.TargetInvocationException e) when (e.InnerException is not null)
        {
            throw new GovernanceException("FileReadFailed", GovernanceErrorKind.ReadError, $"Cannot read the permissions of '{path}': {e.InnerException.Message}", path, e.InnerException);
        }

        mode = System.Convert.ToString(bits & 0xFFF, 8).PadLeft(3, '0');
        return (bits & 0x3F) == 0;
    }
}
