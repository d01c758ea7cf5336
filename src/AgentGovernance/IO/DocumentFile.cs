using System;
using System.IO;

namespace AgentGovernance.IO;

/// <summary>Reads a document file, turning the file system's failures into the document kind's stable errors.</summary>
internal static class DocumentFile
{
    /// <summary>The file's bytes; <c>{kind}NotFound</c> or <c>{kind}Unreadable</c> (e.g. SnapshotNotFound) when it cannot be had.</summary>
    public static byte[] ReadAllBytes(string path, string kind)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is FileNotFoundException || e is DirectoryNotFoundException)
        {
            throw new GovernanceException(kind + "NotFound", GovernanceErrorKind.ObjectNotFound, $"{kind} file '{path}' does not exist.", path, e);
        }
        catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
        {
            throw new GovernanceException(kind + "Unreadable", GovernanceErrorKind.ReadError, $"{kind} file '{path}' cannot be read: {e.Message}", path, e);
        }
    }
}
