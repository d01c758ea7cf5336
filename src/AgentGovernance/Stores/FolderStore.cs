using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Threading;
using AgentGovernance.IO;

namespace AgentGovernance.Stores;

/// <summary>
/// The store in a folder (local, or a network share):
/// <code>
/// store.json                      the store's id
/// ledger.jsonl                    one canonical JSON entry per line, appended and flushed to disk
/// checkpoints.jsonl               signed checkpoints, one per line
/// signers/&lt;key&gt;.pub              public keys of checkpoint signers
/// requests/&lt;id&gt;.json             approval requests, written once
/// decisions/&lt;request&gt;/&lt;id&gt;.json  signed decisions, written once
/// applying/&lt;request&gt;.lock        held by whoever applies or undoes that request
/// .lock                           the write lock
/// </code>
/// Documents are written to a temporary file, flushed and renamed into place, so a crash (kill -9
/// included) leaves the old state or the new, never a torn file. The lock is an exclusive lock on
/// <c>.lock</c> held through an open handle (LockFileEx on Windows, flock elsewhere), which the
/// operating system releases when its holder dies; the file is removed when its holder lets go
/// (<see cref="IO.LockFile"/>: on Windows and Linux).
/// </summary>
public sealed class FolderStore : IGovernanceStore
{
    private const string StoreSchema = "agentgovernance/store@1";
    private readonly string _ledger;
    private readonly string _checkpoints;

    private FolderStore(string root, string storeId)
    {
        Location = root;
        StoreId = storeId;
        _ledger = Path.Combine(root, "ledger.jsonl");
        _checkpoints = Path.Combine(root, "checkpoints.jsonl");
    }

    public string Kind => "folder";

    public string Location { get; }

    public string StoreId { get; }

    /// <summary>Where the store is when none is chosen: under the user's local application data.</summary>
    public static string DefaultPath => Path.Combine(
        Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create),
        "AgentGovernance", "store");

    /// <summary>Opens the store in <paramref name="folder"/>, creating the folder and the store's id the first time.</summary>
    public static FolderStore Open(string folder) => Open(folder, null);

    /// <summary>As <see cref="Open(string)"/>; a store created now gets <paramref name="storeIdForNew"/> (Copy-GovernanceStore keeps the source's id, which the ledger's first entry is chained to).</summary>
    public static FolderStore Open(string folder, string? storeIdForNew)
    {
        var root = Path.GetFullPath(folder);
        try
        {
            System.IO.Directory.CreateDirectory(root);
            System.IO.Directory.CreateDirectory(Path.Combine(root, "requests"));
            System.IO.Directory.CreateDirectory(Path.Combine(root, "decisions"));
            System.IO.Directory.CreateDirectory(Path.Combine(root, "signers"));
        }
        catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
        {
            throw new GovernanceException("StoreUnavailable", GovernanceErrorKind.WriteError, $"Cannot open the store folder '{root}': {e.Message}", root, e);
        }

        var marker = Path.Combine(root, "store.json");
        var id = ReadStoreId(marker);
        if (id is null)
        {
            using (LockFile(Path.Combine(root, ".lock"), TimeSpan.FromSeconds(30), "StoreBusy", $"The store '{root}' stayed locked by another writer"))
            {
                id = ReadStoreId(marker);
                if (id is null)
                {
                    id = storeIdForNew ?? Guid.NewGuid().ToString("D");
                    AtomicFile.WriteText(marker, $"{{\"id\":\"{id}\",\"schema\":\"{StoreSchema}\"}}\n", overwrite: false);
                }
            }
        }

        return new FolderStore(root, id);
    }

    public IDisposable Lock(TimeSpan timeout) => LockFile(Path.Combine(Location, ".lock"), timeout, "StoreBusy", $"The store '{Location}' stayed locked by another writer");

    /// <summary>
    /// The lock of one request, held while it is applied or undone, and removed when released. The lock
    /// file is opened and removed only under the store's write lock, so no waiter can hold a file that
    /// its holder has just removed (open and lock are two steps on Unix).
    /// </summary>
    public IDisposable LockRequest(string requestId, TimeSpan timeout)
    {
        var folder = Path.Combine(Location, "applying");
        var path = Path.Combine(folder, SafeName(requestId) + ".lock");
        var watch = Stopwatch.StartNew();
        var delay = 1;
        while (true)
        {
            using (Lock(timeout))
            {
                System.IO.Directory.CreateDirectory(folder);
                try
                {
                    return new RequestLock(this, path, new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None));
                }
                catch (IOException e) when (watch.Elapsed >= timeout)
                {
                    throw new GovernanceException("RequestBusy", GovernanceErrorKind.InvalidOperation,
                        $"Request {requestId} is being applied or undone by another process right now (waited {timeout.TotalSeconds:0.#} s); try again.", path, e);
                }
                catch (IOException)
                {
                    // Held by another process: let go of the store and try again.
                }
                catch (UnauthorizedAccessException e)
                {
                    throw new GovernanceException("StoreUnavailable", GovernanceErrorKind.PermissionDenied, $"Cannot lock '{path}': {e.Message}", path, e);
                }
            }

            Thread.Sleep(delay + Jitter(delay));
            delay = Math.Min(delay * 2, 50);
        }
    }

    /// <summary>A held request lock: released by closing it and removing its file, under the store's write lock.</summary>
    private sealed class RequestLock : IDisposable
    {
        private readonly FolderStore _store;
        private readonly string _path;
        private FileStream? _handle;

        public RequestLock(FolderStore store, string path, FileStream handle)
        {
            _store = store;
            _path = path;
            _handle = handle;
        }

        public void Dispose()
        {
            var handle = Interlocked.Exchange(ref _handle, null);
            if (handle is null)
            {
                return;
            }

            IDisposable? storeLock = null;
            try
            {
                storeLock = _store.Lock(TimeSpan.FromSeconds(5));
            }
            catch (GovernanceException)
            {
                // The store stays busy: release the lock and leave its (empty) file, which the next holder removes.
                handle.Dispose();
                return;
            }

            try
            {
                handle.Dispose();
                File.Delete(_path);
                var folder = Path.GetDirectoryName(_path)!;
                if (!System.IO.Directory.EnumerateFileSystemEntries(folder).Any())
                {
                    System.IO.Directory.Delete(folder);
                }
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                // Left behind (another holder took it meanwhile, or the folder is read-only): harmless, reused next time.
            }
            finally
            {
                storeLock.Dispose();
            }
        }
    }

    public void CreateRequest(string requestId, byte[] document) =>
        WriteOnce(Path.Combine(Location, "requests", SafeName(requestId) + ".json"), document, "RequestExists", $"A request with id '{requestId}' already exists.");

    public byte[]? ReadRequest(string requestId) => ReadIfExists(Path.Combine(Location, "requests", SafeName(requestId) + ".json"));

    public IReadOnlyList<string> ListRequests() =>
        System.IO.Directory.EnumerateFiles(Path.Combine(Location, "requests"), "*.json")
            .Select(Path.GetFileNameWithoutExtension)
            .Where(n => !n.StartsWith(".", StringComparison.Ordinal))
            .OrderBy(n => n, StringComparer.Ordinal)
            .ToList();

    public void AddDecision(string requestId, string decisionId, byte[] document)
    {
        var folder = Path.Combine(Location, "decisions", SafeName(requestId));
        System.IO.Directory.CreateDirectory(folder);
        WriteOnce(Path.Combine(folder, SafeName(decisionId) + ".json"), document, "DecisionExists", $"A decision with id '{decisionId}' already exists.");
    }

    public void CreateDocument(string slot, string id, byte[] document)
    {
        var folder = Path.Combine(Location, SafeName(slot));
        System.IO.Directory.CreateDirectory(folder);
        WriteOnce(Path.Combine(folder, SafeName(id) + ".json"), document, "DocumentExists", $"A {slot} document with id '{id}' already exists.");
    }

    public byte[]? ReadDocument(string slot, string id) => ReadIfExists(Path.Combine(Location, SafeName(slot), SafeName(id) + ".json"));

    public IReadOnlyList<byte[]> ReadDecisions(string requestId)
    {
        var folder = Path.Combine(Location, "decisions", SafeName(requestId));
        if (!System.IO.Directory.Exists(folder))
        {
            return Array.Empty<byte[]>();
        }

        return System.IO.Directory.EnumerateFiles(folder, "*.json")
            .Where(f => !Path.GetFileName(f).StartsWith(".", StringComparison.Ordinal))
            .OrderBy(f => f, StringComparer.Ordinal)
            .Select(f => ReadIfExists(f))
            .Where(b => b is not null)
            .Select(b => b!)
            .ToList();
    }

    public byte[]? ReadLedgerHead()
    {
        using var fs = OpenLedger(FileMode.OpenOrCreate, FileAccess.ReadWrite);
        var length = fs.Length;
        if (length == 0)
        {
            return null;
        }

        // A last line without '\n' is an append a crash cut off: it was never acknowledged, so it is cut away
        // before the next entry is chained on (Test-GovernanceAuditLog reports one it finds).
        var end = FindLastNewline(fs, length);
        if (end != length - 1)
        {
            fs.SetLength(end + 1);
            fs.Flush(flushToDisk: true);
        }

        if (end < 0)
        {
            return null;
        }

        var start = FindLastNewline(fs, end) + 1;
        var line = new byte[end - start];
        fs.Position = start;
        ReadExactly(fs, line);
        return line;
    }

    public void AppendLedger(IReadOnlyList<byte[]> lines, bool durable)
    {
        try
        {
            using var fs = OpenLedger(FileMode.Append, FileAccess.Write);
            var known = _endLine >= 0 && fs.Position == _endOffset;
            var before = _endLine;
            _endLine = _markLine = -1;
            long count = 0, lastStart = 0;
            foreach (var line in lines)
            {
                if (line.Length == 0 || line[line.Length - 1] != (byte)'\n')
                {
                    throw new ArgumentException("A ledger line must end with a line feed.", nameof(lines));
                }

                lastStart = fs.Position;
                fs.Write(line, 0, line.Length);
                count++;
            }

            fs.Flush(flushToDisk: durable);
            if (known && count > 0)
            {
                (_endLine, _endOffset) = (before + count, fs.Position);
                (_markLine, _markOffset) = (before + count - 1, lastStart);
            }
        }
        catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
        {
            throw new GovernanceException("StoreWriteFailed", GovernanceErrorKind.WriteError, $"Cannot append to the ledger '{_ledger}': {e.Message}", _ledger, e);
        }
    }

    public IEnumerable<ArraySegment<byte>> ReadLedger(Action<byte[]>? tornTail = null) => ReadLines(_ledger, tornTail);

    // Where lines of the ledger start, learned from the last read to the end and the appends after it, so that a
    // writer that has verified a prefix reads only the tail. A hint only: the reader checks what it finds there.
    private long _markLine = -1, _markOffset, _endLine = -1, _endOffset;

    /// <summary>The ledger's lines from line <paramref name="skip"/> (0-based) on, found without decoding the lines before.</summary>
    public IEnumerable<ArraySegment<byte>> ReadLedgerFrom(long skip, Action<byte[]>? tornTail = null)
    {
        long offset = 0, first = 0;
        if (_endLine >= 0 && _endLine <= skip)
        {
            (offset, first) = (_endOffset, _endLine);
        }
        else if (_markLine >= 0 && _markLine <= skip)
        {
            (offset, first) = (_markOffset, _markLine);
        }

        return ReadLines(_ledger, tornTail, offset, first, skip, (count, lastStart, end) =>
        {
            (_endLine, _endOffset) = (count, end);
            (_markLine, _markOffset) = count > 0 ? (count - 1, lastStart) : (-1, 0);
        });
    }

    /// <summary>
    /// Appends a checkpoint line WITHOUT an fsync of its own. Crash consistency: the ledger's append is the one
    /// fsync of an append (<see cref="AuditLedger"/>); the checkpoint is written only after it returned, so a
    /// checkpoint on disk never names an entry that is not. A kill -9 loses nothing written (the page cache
    /// keeps it); a machine crash can lose the last checkpoint lines or tear the last one, which then reads
    /// like a crash between the two writes: the entries are there and signed one by one, the verifier calls
    /// them "not yet sealed", and the next append's checkpoint seals them. A torn last line (no '\n') is
    /// skipped by readers and cut off here before the next line is appended, so it never becomes part of one.
    /// </summary>
    public void AppendCheckpoint(byte[] line)
    {
        if (line.Length == 0 || line[line.Length - 1] != (byte)'\n')
        {
            throw new ArgumentException("A checkpoint line must end with a line feed.", nameof(line));
        }

        try
        {
            using var fs = new FileStream(_checkpoints, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite, 1);
            var length = fs.Length;
            if (length > 0)
            {
                var last = new byte[1];
                fs.Position = length - 1;
                ReadExactly(fs, last);
                if (last[0] != (byte)'\n')
                {
                    length = FindLastNewline(fs, length) + 1;
                    fs.SetLength(length);
                }
            }

            var known = _checkpointEnd >= 0 && _checkpointEnd == length;
            fs.Position = length;
            fs.Write(line, 0, line.Length);
            fs.Flush(flushToDisk: false);
            _checkpointEnd = known ? fs.Position : -1;
        }
        catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
        {
            throw new GovernanceException("StoreWriteFailed", GovernanceErrorKind.WriteError, $"Cannot append to '{_checkpoints}': {e.Message}", _checkpoints, e);
        }
    }

    public IReadOnlyList<byte[]> ReadCheckpoints() => ReadCheckpointsFrom(0, hint: false);

    // Where the checkpoint file ended after this instance's last ReadNewCheckpoints, moved on by its own appends
    // after it: a writer that checked the checkpoints up to there reads only the lines after it. A hint only
    // (-1: none); plain reads (ReadCheckpoints) leave it alone, so a line nobody checked is never skipped.
    private long _checkpointEnd = -1;

    /// <summary>
    /// The checkpoint lines after those returned by this instance's last call (and after its own appends since),
    /// when the file still ends a line there; otherwise every line. What is returned is read from the file; the
    /// caller checks it as always. A writer's tail check (AuditLedger) uses it, so an append does not read
    /// every checkpoint ever written.
    /// </summary>
    public IReadOnlyList<byte[]> ReadNewCheckpoints() => ReadCheckpointsFrom(_checkpointEnd, hint: true);

    /// <summary>The next <see cref="ReadNewCheckpoints"/> returns every line (its caller did not accept the last ones).</summary>
    public void ForgetNewCheckpoints() => _checkpointEnd = -1;

    private IReadOnlyList<byte[]> ReadCheckpointsFrom(long offset, bool hint)
    {
        if (offset > 0)
        {
            try
            {
                using var fs = new FileStream(_checkpoints, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1);
                var last = new byte[1];
                fs.Position = offset - 1;
                if (offset > fs.Length || fs.Read(last, 0, 1) != 1 || last[0] != (byte)'\n')
                {
                    offset = 0;
                }
            }
            catch (Exception e) when (e is FileNotFoundException || e is DirectoryNotFoundException)
            {
                offset = 0;
            }
        }

        var lines = new List<byte[]>();
        long end = -1; // set only when the read reaches a clean end (no torn last line)
        foreach (var line in ReadLines(_checkpoints, null, Math.Max(offset, 0), 0, 0, (count, lastStart, at) => end = at))
        {
            lines.Add(line.ToArray());
        }

        if (hint)
        {
            _checkpointEnd = end;
        }

        return lines;
    }

    public void RegisterSigner(string keyId, string publicKey)
    {
        var path = Path.Combine(Location, "signers", SafeName(keyId.Replace("sha256:", string.Empty)) + ".pub");
        if (!File.Exists(path))
        {
            try
            {
                AtomicFile.WriteText(path, publicKey + "\n", overwrite: false);
            }
            catch (GovernanceException) when (File.Exists(path))
            {
                // Another process registered the same key first.
            }
        }
    }

    public IReadOnlyList<string> ReadSigners() =>
        System.IO.Directory.EnumerateFiles(Path.Combine(Location, "signers"), "*.pub")
            .OrderBy(f => f, StringComparer.Ordinal)
            .Select(f => Encoding.ASCII.GetString(ReadIfExists(f) ?? Array.Empty<byte>()).Trim())
            .Where(k => k.Length > 0)
            .ToList();

    public void Dispose()
    {
    }

    public override string ToString() => Location;

    /// <summary>Store ids, request ids and decision ids become file names: only [A-Za-z0-9._-], never a leading dot.</summary>
    private static string SafeName(string id)
    {
        if (id.Length == 0 || id.Length > 128 || id[0] == '.' || id.Any(c => !(char.IsLetterOrDigit(c) && c < 128) && c != '-' && c != '_' && c != '.'))
        {
            throw new GovernanceException("InvalidId", GovernanceErrorKind.InvalidArgument, $"'{id}' is not a valid id.", id);
        }

        return id;
    }

    private static string? ReadStoreId(string marker)
    {
        var bytes = ReadIfExists(marker);
        if (bytes is null)
        {
            return null;
        }

        try
        {
            using var doc = JsonDocument.Parse(bytes);
            if (doc.RootElement.TryGetProperty("schema", out var s) && s.GetString() == StoreSchema
                && doc.RootElement.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String && Guid.TryParse(id.GetString(), out _))
            {
                return id.GetString();
            }
        }
        catch (JsonException)
        {
        }

        throw new GovernanceException("StoreInvalid", GovernanceErrorKind.InvalidData, $"'{marker}' is not an AgentGovernance store marker.", marker);
    }

    private static IDisposable LockFile(string path, TimeSpan timeout, string busyId, string busy)
    {
        var watch = Stopwatch.StartNew();
        var delay = 1;
        while (true)
        {
            try
            {
                return IO.LockFile.Take(path);
            }
            catch (IOException) when (watch.Elapsed < timeout)
            {
                // Held by another writer: back off (1, 2, 4 ... 50 ms, with jitter so waiters do not move in step).
                Thread.Sleep(delay + Jitter(delay));
                delay = Math.Min(delay * 2, 50);
            }
            catch (IOException e)
            {
                throw new GovernanceException(busyId, GovernanceErrorKind.InvalidOperation, $"{busy} (waited {timeout.TotalSeconds:0.#} s); try again.", path, e);
            }
            catch (UnauthorizedAccessException e)
            {
                throw new GovernanceException("StoreUnavailable", GovernanceErrorKind.PermissionDenied, $"Cannot lock '{path}': {e.Message}", path, e);
            }
        }
    }

    private static int Jitter(int max)
    {
        var b = new byte[1];
        using var rng = RandomNumberGenerator.Create();
        rng.GetBytes(b);
        return b[0] % (max + 1);
    }

    private FileStream OpenLedger(FileMode mode, FileAccess access) =>
        new(_ledger, mode, access, FileShare.ReadWrite | FileShare.Delete, 1 << 16);

    private static void WriteOnce(string path, byte[] document, string existsId, string existsMessage)
    {
        if (File.Exists(path))
        {
            throw new GovernanceException(existsId, GovernanceErrorKind.WriteError, existsMessage, path);
        }

        try
        {
            AtomicFile.Write(path, s => s.Write(document, 0, document.Length), overwrite: false);
        }
        catch (GovernanceException e) when (File.Exists(path))
        {
            throw new GovernanceException(existsId, GovernanceErrorKind.WriteError, existsMessage, path, e);
        }
    }

    private static byte[]? ReadIfExists(string path)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is FileNotFoundException || e is DirectoryNotFoundException)
        {
            return null;
        }
        catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
        {
            throw new GovernanceException("StoreReadFailed", GovernanceErrorKind.ReadError, $"Cannot read '{path}': {e.Message}", path, e);
        }
    }

    private static IEnumerable<ArraySegment<byte>> ReadLines(string path, Action<byte[]>? tornTail) => ReadLines(path, tornTail, 0, 0, 0, null);

    /// <summary>
    /// The lines from line <paramref name="skip"/> (0-based) on, starting the scan at <paramref name="offset"/>, the
    /// start of line <paramref name="firstLine"/>. <paramref name="atEnd"/> gets the line count and the offsets of
    /// the last line's start and of the end when the whole file was read without a torn tail.
    /// </summary>
    private static IEnumerable<ArraySegment<byte>> ReadLines(string path, Action<byte[]>? tornTail, long offset, long firstLine, long skip, Action<long, long, long>? atEnd)
    {
        FileStream fs;
        try
        {
            fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1);
        }
        catch (Exception e) when (e is FileNotFoundException || e is DirectoryNotFoundException)
        {
            yield break;
        }

        using (fs)
        {
            if (offset > fs.Length)
            {
                offset = 0;
                firstLine = 0;
            }

            fs.Position = offset;
            var line = firstLine;
            var lastStart = offset;
            var buffer = new byte[1 << 20];
            int filled = 0, start = 0;
            long based = offset;
            while (true)
            {
                var read = fs.Read(buffer, filled, buffer.Length - filled);
                if (read == 0)
                {
                    if (filled > start)
                    {
                        var rest = new byte[filled - start];
                        Buffer.BlockCopy(buffer, start, rest, 0, rest.Length);
                        tornTail?.Invoke(rest);
                    }
                    else
                    {
                        atEnd?.Invoke(line, lastStart, based + start);
                    }

                    yield break;
                }

                var scan = filled;
                filled += read;
                while (true)
                {
                    var nl = Array.IndexOf(buffer, (byte)'\n', scan, filled - scan);
                    if (nl < 0)
                    {
                        break;
                    }

                    lastStart = based + start;
                    if (line++ >= skip)
                    {
                        yield return new ArraySegment<byte>(buffer, start, nl - start);
                    }

                    start = scan = nl + 1;
                }

                if (start == 0 && filled == buffer.Length)
                {
                    // A line longer than the buffer: grow it.
                    Array.Resize(ref buffer, buffer.Length * 2);
                }
                else if (start > 0)
                {
                    Buffer.BlockCopy(buffer, start, buffer, 0, filled - start);
                    filled -= start;
                    based += start;
                    start = 0;
                }
            }
        }
    }

    private static long FindLastNewline(FileStream fs, long before)
    {
        var chunk = new byte[4096];
        var pos = before;
        while (pos > 0)
        {
            var size = (int)Math.Min(chunk.Length, pos);
            pos -= size;
            fs.Position = pos;
            ReadExactly(fs, chunk, size);
            for (var i = size - 1; i >= 0; i--)
            {
                if (chunk[i] == (byte)'\n')
                {
                    return pos + i;
                }
            }
        }

        return -1;
    }

    private static void ReadExactly(Stream s, byte[] buffer, int count = -1)
    {
        count = count < 0 ? buffer.Length : count;
        var at = 0;
        while (at < count)
        {
            var n = s.Read(buffer, at, count - at);
            if (n == 0)
            {
                throw new EndOfStreamException();
            }

            at += n;
        }
    }
}
