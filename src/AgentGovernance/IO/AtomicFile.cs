using System;
using System.IO;
using System.Text;

namespace AgentGovernance.IO;

/// <summary>
/// Writes a file so that a reader (or a crash) sees either the old content or the new, never a torn
/// file: write a temporary file beside the target, flush it to disk, then rename it over the target.
/// </summary>
internal static class AtomicFile
{
    /// <param name="ownerOnly">Make the file readable by its owner only (mode 600) before any byte is written to it.</param>
    /// <param name="durable">Flush to disk before the rename; without it a crash of the machine (not of the process) may lose the new content, never tear it.</param>
    public static void Write(string path, Action<Stream> write, bool overwrite = true, bool ownerOnly = false, bool durable = true)
    {
        var full = Path.GetFullPath(path);
        var dir = Path.GetDirectoryName(full) ?? ".";
        if (!System.IO.Directory.Exists(dir))
        {
            throw new GovernanceException("FolderNotFound", GovernanceErrorKind.ObjectNotFound, $"The folder '{dir}' does not exist.", path);
        }

        if (!overwrite && File.Exists(full))
        {
            throw new GovernanceException("FileExists", GovernanceErrorKind.WriteError, $"The file '{full}' already exists (leave out -NoClobber to replace it).", path);
        }

        var temp = Path.Combine(dir, "." + Path.GetFileName(full) + "." + Guid.NewGuid().ToString("N").Substring(0, 8) + ".tmp");
        try
        {
            using (var fs = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                if (ownerOnly)
                {
                    OwnerOnly.Restrict(temp);
                }

                write(fs);
                fs.Flush(flushToDisk: durable);
            }

            FaultInjection.Point("AtomicFile.Flushed:" + Path.GetFileName(full));

            if (File.Exists(full))
            {
                File.Replace(temp, full, null);
            }
            else
            {
                File.Move(temp, full);
            }
        }
        catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
        {
            throw new GovernanceException("FileWriteFailed", GovernanceErrorKind.WriteError, $"Cannot write '{full}': {e.Message}", path, e);
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }

    public static void WriteText(string path, string text, bool overwrite = true, bool ownerOnly = false, bool durable = true) =>
        Write(path, s =>
        {
            var bytes = new UTF8Encoding(false).GetBytes(text);
            s.Write(bytes, 0, bytes.Length);
        }, overwrite, ownerOnly, durable);
}
