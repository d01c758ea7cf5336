using System;
using System.IO;
using System.Runtime.InteropServices;
using System.Text;

namespace AgentGovernance.IO;

/// <summary>
/// An exclusive lock held through an open handle on a lock file (LockFileEx on Windows, flock elsewhere,
/// both released by the operating system when the holder dies), and a lock file that does not stay behind
/// once its holder lets go.
/// <para>
/// Removing a lock file safely is the hard part: on Unix, open and lock are two steps, so a waiter can open
/// the file, its holder remove it and let go, and the waiter then lock a file no longer in the folder while a
/// third process creates and locks a new one: two holders. So the holder removes the file while it still holds
/// the lock, and whoever takes a lock checks afterwards that the file it locked is still the one in the folder
/// (on Linux its descriptor's link in /proc names the file "(deleted)" once removed); if not, it lets go and
/// tries again. On Windows the file is opened delete-on-close: no one else can open it while it is held, and it
/// is gone when the handle closes. Where neither check is possible (macOS and other Unixes) the empty lock file
/// stays behind, as it always did.
/// </para>
/// </summary>
internal static class LockFile
{
    private static readonly bool Windows = RuntimeInformation.IsOSPlatform(OSPlatform.Windows);
    private static readonly bool Linux = RuntimeInformation.IsOSPlatform(OSPlatform.Linux);

    /// <summary>
    /// One attempt at the lock on <paramref name="path"/> (the file is made when missing).
    /// Throws <see cref="IOException"/> while another holder has it, as opening the file would,
    /// and <see cref="UnauthorizedAccessException"/> when the folder may not be written.
    /// </summary>
    public static IDisposable Take(string path)
    {
        var handle = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1,
            Windows ? FileOptions.DeleteOnClose : FileOptions.None);
        if (Windows)
        {
            return handle;
        }

        bool? current;
        try
        {
            current = Linux ? StillInFolder(handle) : null;
        }
        catch
        {
            handle.Dispose();
            throw;
        }

        if (current == false)
        {
            handle.Dispose();
            throw new IOException($"The lock file '{path}' was removed by its last holder while this process opened it; it is taken again.");
        }

        return new Held(path, handle, removable: current == true);
    }

    /// <summary>Whether the file the handle has locked is still the file in the folder; null when that cannot be told.</summary>
    private static bool? StillInFolder(FileStream handle)
    {
        var fd = handle.SafeFileHandle.DangerousGetHandle().ToInt64();
        var buffer = new byte[4096];
        long length;
        try
        {
            length = ReadLink($"/proc/self/fd/{fd}", buffer, buffer.Length);
        }
        catch (Exception e) when (e is DllNotFoundException || e is EntryPointNotFoundException)
        {
            return null;
        }

        if (length <= 0 || length >= buffer.Length)
        {
            return null;
        }

        return !Encoding.UTF8.GetString(buffer, 0, (int)length).EndsWith(" (deleted)", StringComparison.Ordinal);
    }

    [DllImport("libc", EntryPoint = "readlink", SetLastError = true)]
    private static extern long ReadLink(string path, byte[] buffer, long size);

    /// <summary>A lock held on Unix: on release its file is removed first (while still held) when the take could check it.</summary>
    private sealed class Held : IDisposable
    {
        private readonly string _path;
        private readonly bool _removable;
        private FileStream? _handle;

        public Held(string path, FileStream handle, bool removable)
        {
            _path = path;
            _handle = handle;
            _removable = removable;
        }

        public void Dispose()
        {
            var handle = System.Threading.Interlocked.Exchange(ref _handle, null);
            if (handle is null)
            {
                return;
            }

            try
            {
                if (_removable)
                {
                    File.Delete(_path);
                }
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                // The file stays: the next holder takes it as it is.
            }
            finally
            {
                handle.Dispose();
            }
        }
    }
}
