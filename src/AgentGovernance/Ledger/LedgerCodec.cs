using System;
using System.Collections.Generic;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using AgentGovernance.Json;

namespace AgentGovernance.Ledger;

/// <summary>
/// The ledger's line format (ledger@2): the entry's RFC 8785 canonical JSON on one line,
/// <c>{"actor":…,"changeId":…,"details":{…},"event":…,"hash":…,"prev":…,"requestId":…,"seq":…,"sig":…,"signer":…,"time":…}</c>
/// (changeId and requestId left out when absent). The hash is SHA-256 over the same canonical JSON
/// without the <c>hash</c> and <c>sig</c> members, which, because members are sorted, is the line with
/// those two members cut out; it covers <c>signer</c>, the key id of the ledger signer. <c>sig</c> is that
/// signer's signature (base64) of <see cref="SignatureDomain"/> followed by the hash text.
/// A ledger@1 line is the same without <c>sig</c> and <c>signer</c>: nobody vouches for it but a checkpoint.
/// </summary>
internal sealed class LedgerCodec : IDisposable
{
    private static readonly UTF8Encoding Utf8 = new(false);
    private readonly IncrementalHash _sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly StringBuilder _sb = new(512);
    private byte[] _buffer = new byte[1024];
    private int _at;

    /// <summary>The previous-hash of the first entry: chained to the store's id, so one store's ledger cannot pass for another's.</summary>
    public static string Genesis(string storeId) => Hashing.Sha256Id(Utf8.GetBytes("agentgovernance/ledger@1\n" + storeId));

    /// <summary>What an entry's signature covers: this line, then the entry's hash text.</summary>
    public static readonly byte[] SignatureDomain = Utf8.GetBytes("agentgovernance/ledger@2\n");

    /// <summary>The bytes an entry's signer signs.</summary>
    public static byte[] SignedStatement(string hash)
    {
        var h = Utf8.GetBytes(hash);
        var b = new byte[SignatureDomain.Length + h.Length];
        Buffer.BlockCopy(SignatureDomain, 0, b, 0, SignatureDomain.Length);
        Buffer.BlockCopy(h, 0, b, SignatureDomain.Length, h.Length);
        return b;
    }

    /// <summary>A signed (ledger@2) line; with no signer, an unsigned ledger@1 line (what someone without a signer key can write).</summary>
    public byte[] Encode(long sequence, string time, LedgerEvent e, string detailsJson, string previousHash, out string hash) =>
        Encode(sequence, time, e, detailsJson, previousHash, null, out hash);

    public byte[] Encode(long sequence, string time, LedgerEvent e, string detailsJson, string previousHash, LedgerSigner? signer, out string hash)
    {
        // {"actor":…,"changeId":…,"details":…,"event":…  then  ,"prev":…,"requestId":…,"seq":…,"time":…}
        // written as UTF-8 straight into a reused buffer, hashed as the two halves; the line puts
        // ,"hash":"…" between them.
        _at = 0;
        Raw("{\"actor\":");
        Str(e.Actor);
        if (e.ChangeId is not null)
        {
            Raw(",\"changeId\":");
            Str(e.ChangeId);
        }

        Raw(",\"details\":");
        Utf8Text(detailsJson);
        Raw(",\"event\":");
        Str(e.Event);
        var head = _at;
        Raw(",\"prev\":");
        Str(previousHash);
        if (e.RequestId is not null)
        {
            Raw(",\"requestId\":");
            Str(e.RequestId);
        }

        Raw(",\"seq\":");
        Raw(sequence.ToString(CultureInfo.InvariantCulture));
        var tail = _at;
        if (signer is not null)
        {
            Raw(",\"signer\":");
            Str(signer.PublicKey.KeyId);
        }

        Raw(",\"time\":");
        Str(time);
        Raw("}");

        _sha.AppendData(_buffer, 0, _at);
        var digest = _sha.GetHashAndReset();
        hash = "sha256:" + Hashing.ToHex(digest);
        var sig = signer is null ? null : Utf8.GetBytes(",\"sig\":\"" + Convert.ToBase64String(signer.Sign(SignedStatement(hash))) + "\"");
        var sigLength = sig?.Length ?? 0;
        var line = new byte[_at + HashMember + sigLength + 1];
        Buffer.BlockCopy(_buffer, 0, line, 0, head);
        WriteHashMember(line, head, digest);
        Buffer.BlockCopy(_buffer, head, line, head + HashMember, tail - head);
        if (sig is not null)
        {
            Buffer.BlockCopy(sig, 0, line, tail + HashMember, sigLength);
        }

        Buffer.BlockCopy(_buffer, tail, line, tail + HashMember + sigLength, _at - tail);
        line[line.Length - 1] = (byte)'\n';
        return line;
    }

    private void Room(int bytes)
    {
        if (_at + bytes > _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Max(_at + bytes, _buffer.Length * 2));
        }
    }

    /// <summary>ASCII text with nothing to escape (keys, punctuation, digits).</summary>
    private void Raw(string ascii)
    {
        Room(ascii.Length);
        for (var i = 0; i < ascii.Length; i++)
        {
            _buffer[_at++] = (byte)ascii[i];
        }
    }

    private void Utf8Text(string text)
    {
        Room(Utf8.GetMaxByteCount(text.Length));
        _at += Utf8.GetBytes(text, 0, text.Length, _buffer, _at);
    }

    /// <summary>A JSON string as the canonical writer spells it: printable ASCII copied, anything else through <see cref="JsonText"/>.</summary>
    private void Str(string value)
    {
        foreach (var c in value)
        {
            if (c < 0x20 || c > 0x7E || c == '"' || c == '\\')
            {
                _sb.Clear();
                JsonText.AppendString(_sb, value);
                Utf8Text(_sb.ToString());
                return;
            }
        }

        Room(value.Length + 2);
        _buffer[_at++] = (byte)'"';
        for (var i = 0; i < value.Length; i++)
        {
            _buffer[_at++] = (byte)value[i];
        }

        _buffer[_at++] = (byte)'"';
    }

    private static readonly byte[] HashMemberStart = Utf8.GetBytes(",\"hash\":\"sha256:");

    /// <summary>The bytes of <c>,"hash":"sha256:</c> + 64 hex digits + <c>"</c>.</summary>
    private static readonly int HashMember = HashMemberStart.Length + 64 + 1;

    private static void WriteHashMember(byte[] line, int at, byte[] digest)
    {
        const string hex = "0123456789abcdef";
        Buffer.BlockCopy(HashMemberStart, 0, line, at, HashMemberStart.Length);
        at += HashMemberStart.Length;
        foreach (var b in digest)
        {
            line[at++] = (byte)hex[b >> 4];
            line[at++] = (byte)hex[b & 0xF];
        }

        line[at] = (byte)'"';
    }

    /// <summary>
    /// Reads one line. Null with a problem when it is not an entry. <paramref name="hashMatches"/> says
    /// whether the entry's recorded hash is the hash of its content: checked first over the line's own
    /// bytes (the writer writes canonical JSON), and only when that fails over a fresh canonical form, so
    /// a line re-spaced by hand but unchanged in content still verifies.
    /// </summary>
    /// <param name="verifyOnly">
    /// Read only what verification needs (sequence, event, hashes; the time's shape, not its value): the
    /// entry returned then has no actor, ids, details or time. Test-GovernanceAuditLog reads a million
    /// entries this way.
    /// </param>
    public LedgerEntry? Decode(ArraySegment<byte> line, out bool hashMatches, out string? problem, bool verifyOnly = false)
    {
        hashMatches = false;
        problem = null;
        long seq = -1;
        string? time = null, evt = null, actor = null, changeId = null, requestId = null, prev = null, hash = null, signer = null, sig = null;
        int detailsStart = -1, detailsEnd = -1, cutStart = -1, cutEnd = -1, cut2Start = -1, cut2End = -1;
        var span = new ReadOnlySpan<byte>(line.Array, line.Offset, line.Count);
        if (InvalidUtf8At(line) is { } bad)
        {
            // Checked first: the hash of a line can match over bytes that no reader can decode.
            problem = $"it is not valid UTF-8 (byte {bad + 1} of the line)";
            return null;
        }

        try
        {
            var reader = new Utf8JsonReader(span, new JsonReaderOptions { MaxDepth = 64 });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                problem = "it is not a JSON object";
                return null;
            }

            var previousEnd = (int)reader.BytesConsumed;
            var seen = 0;
            var members = 0;
            var onlyCutSoFar = true; // every member before this one was cut out
            // The span of a member left out of the hashed bytes (hash, sig): from the end of the member before
            // it (the comma, the name and the value); or, when every member before it was cut too (it is the first
            // one left), from its name to the next member's name (it and the comma after it), an end that is
            // only known when that name is read (see CloseAt).
            void Cut(ref int start, ref int end, int nameStart, int valueEnd)
            {
                if (onlyCutSoFar)
                {
                    start = nameStart;
                }
                else
                {
                    start = previousEnd;
                    end = valueEnd;
                }
            }

            static void CloseAt(int nameStart, int start, ref int end)
            {
                if (start >= 0 && end < 0)
                {
                    end = nameStart;
                }
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var nameStart = (int)reader.TokenStartIndex;
                CloseAt(nameStart, cutStart, ref cutEnd);
                CloseAt(nameStart, cut2Start, ref cut2End);

                var field = Fields.Length - 1;
                while (field >= 0 && !reader.ValueTextEquals(Fields[field]))
                {
                    field--;
                }

                if (field < 0)
                {
                    problem = $"'{reader.GetString()}' is not a field of a ledger entry";
                    return null;
                }

                var name = FieldNames[field];
                if ((seen & (1 << field)) != 0)
                {
                    problem = $"the field '{name}' appears twice";
                    return null;
                }

                seen |= 1 << field;
                members++;
                reader.Read();
                switch (name)
                {
                    case "seq":
                        if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out seq) || seq < 1)
                        {
                            problem = "seq is not a positive whole number";
                            return null;
                        }

                        break;
                    case "details":
                        if (reader.TokenType != JsonTokenType.StartObject)
                        {
                            problem = "details is not an object";
                            return null;
                        }

                        detailsStart = (int)reader.TokenStartIndex;
                        reader.Skip();
                        detailsEnd = (int)reader.BytesConsumed;
                        break;
                    case "hash":
                        hash = String(ref reader, name, ref problem);
                        Cut(ref cutStart, ref cutEnd, nameStart, (int)reader.BytesConsumed);
                        break;
                    case "sig":
                        sig = String(ref reader, name, ref problem);
                        Cut(ref cut2Start, ref cut2End, nameStart, (int)reader.BytesConsumed);
                        break;
                    case "signer": signer = String(ref reader, name, ref problem); break;
                    case "time": time = verifyOnly ? Shape(ref reader, name, ref problem) : String(ref reader, name, ref problem); break;
                    case "event": evt = String(ref reader, name, ref problem); break;
                    case "actor": actor = verifyOnly ? Shape(ref reader, name, ref problem) : String(ref reader, name, ref problem); break;
                    case "changeId": changeId = verifyOnly ? Shape(ref reader, name, ref problem) : String(ref reader, name, ref problem); break;
                    case "requestId": requestId = verifyOnly ? Shape(ref reader, name, ref problem) : String(ref reader, name, ref problem); break;
                    default: prev = String(ref reader, name, ref problem); break;
                }

                if (problem is not null)
                {
                    return null;
                }

                previousEnd = (int)reader.BytesConsumed;
                onlyCutSoFar &= name is "hash" or "sig";
            }

            if (reader.TokenType != JsonTokenType.EndObject || reader.BytesConsumed != span.Length)
            {
                problem = "it has bytes after the entry";
                return null;
            }
        }
        catch (JsonException e)
        {
            problem = "it is not valid JSON (" + e.Message + ")";
            return null;
        }
        catch (InvalidOperationException e)
        {
            // Utf8JsonReader.GetString on bytes that are not UTF-8.
            problem = "it is not valid UTF-8 (" + e.Message + ")";
            return null;
        }

        if (seq < 1 || time is null || evt is null || actor is null || prev is null || hash is null || detailsStart < 0)
        {
            problem = "it lacks one of seq, time, event, actor, details, prev, hash";
            return null;
        }

        var when = default(DateTimeOffset);
        if (verifyOnly ? time.Length == 0 : !GovernanceClock.TryParse(time, out when))
        {
            problem = $"time '{time}' is not an ISO 8601 UTC time";
            return null;
        }

        if (cutEnd < 0 || (cut2Start >= 0 && cut2End < 0))
        {
            problem = "hash is the only field";
            return null;
        }

        if ((sig is null) != (signer is null))
        {
            problem = sig is null ? "it names a signer but has no sig" : "it has a sig but names no signer";
            return null;
        }

        byte[]? signature = null;
        if (sig is not null)
        {
            try
            {
                signature = Convert.FromBase64String(sig);
            }
            catch (FormatException)
            {
                problem = "sig is not base64";
                return null;
            }
        }

        // The bytes without the hash member and the sig member, in order.
        if (cut2Start < 0)
        {
            _sha.AppendData(line.Array!, line.Offset, cutStart);
            _sha.AppendData(line.Array!, line.Offset + cutEnd, line.Count - cutEnd);
            hashMatches = HashEquals(hash, _sha.GetHashAndReset());
        }
        else
        {
            var (aStart, aEnd, bStart, bEnd) = cutStart < cut2Start ? (cutStart, cutEnd, cut2Start, cut2End) : (cut2Start, cut2End, cutStart, cutEnd);
            if (bStart >= aEnd)
            {
                _sha.AppendData(line.Array!, line.Offset, aStart);
                _sha.AppendData(line.Array!, line.Offset + aEnd, bStart - aEnd);
                _sha.AppendData(line.Array!, line.Offset + bEnd, line.Count - bEnd);
                hashMatches = HashEquals(hash, _sha.GetHashAndReset());
            }
        }

        var details = verifyOnly ? "{}" : Utf8.GetString(line.Array!, line.Offset + detailsStart, detailsEnd - detailsStart);
        if (!hashMatches)
        {
            // Not byte-canonical: hash a fresh canonical form of the content.
            using var doc = JsonDocument.Parse(new ReadOnlyMemory<byte>(line.Array, line.Offset, line.Count));
            var fields = new Dictionary<string, object?>();
            foreach (var p in doc.RootElement.EnumerateObject())
            {
                if (p.Name != "hash" && p.Name != "sig")
                {
                    fields[p.Name] = p.Value.Clone();
                }
            }

            hashMatches = hash == Hashing.Sha256Id(Utf8.GetBytes(CanonicalJson.Serialize(fields)));
            details = verifyOnly ? details : CanonicalJson.Serialize(doc.RootElement.GetProperty("details"));
        }

        return new LedgerEntry(seq, when, evt, actor, changeId, requestId, details, prev, hash, signer, signature);
    }

    private static readonly UTF8Encoding StrictUtf8 = new(false, true);

    /// <summary>The offset of the first byte that is not UTF-8 (a lone surrogate's encoding included), or null.</summary>
    internal static int? InvalidUtf8At(ArraySegment<byte> line)
    {
        var a = line.Array!;
        var end = line.Offset + line.Count;
        var i = line.Offset;
        while (i < end && a[i] < 0x80)
        {
            i++;
        }

        if (i == end)
        {
            return null;
        }

        try
        {
            StrictUtf8.GetCharCount(a, i, end - i);
            return null;
        }
        catch (DecoderFallbackException e)
        {
            return (i - line.Offset) + Math.Max(0, e.Index);
        }
    }

    public void Dispose() => _sha.Dispose();

    private static readonly string[] FieldNames = { "actor", "changeId", "details", "event", "hash", "prev", "requestId", "seq", "sig", "signer", "time" };
    private static readonly byte[][] Fields = Array.ConvertAll(FieldNames, n => Utf8.GetBytes(n));

    /// <summary>Checks a string member is a string without reading it; "" or, when it is a time, the empty string for a wrong shape.</summary>
    private static string? Shape(ref Utf8JsonReader reader, string name, ref string? problem)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            problem = $"{name} is not a string";
            return null;
        }

        // The writer's times are "yyyy-MM-ddTHH:mm:ss.fffZ": 24 characters.
        return name != "time" || (reader.ValueSpan.Length == 24 && reader.ValueSpan[23] == (byte)'Z') ? "-" : string.Empty;
    }

    private static string? String(ref Utf8JsonReader reader, string name, ref string? problem)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            problem = $"{name} is not a string";
            return null;
        }

        return reader.GetString();
    }

    private static bool HashEquals(string recorded, byte[] computed)
    {
        if (recorded.Length != 7 + 64 || !recorded.StartsWith("sha256:", StringComparison.Ordinal))
        {
            return false;
        }

        for (var i = 0; i < 32; i++)
        {
            var hi = Nibble(recorded[7 + 2 * i]);
            var lo = Nibble(recorded[8 + 2 * i]);
            if (hi < 0 || lo < 0 || ((hi << 4) | lo) != computed[i])
            {
                return false;
            }
        }

        return true;
    }

    private static int Nibble(char c) => c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}
