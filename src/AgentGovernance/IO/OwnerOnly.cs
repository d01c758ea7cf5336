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
}
