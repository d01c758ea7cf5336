using System;
using System.Collections.Generic;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using AgentGovernance.Json;

namespace AgentGovernance.Ledger;

/// <summary>
/// The ledger's line format: the entry's RFC 8785 canonical JSON on one line,
/// <c>{"actor":…,"changeId":…,"details":{…},"event":…,"hash":…,"prev":…,"requestId":…,"seq":…,"time":…}</c>
/// (changeId and requestId left out when absent). The hash is SHA-256 over the same canonical JSON
/// without the <c>hash</c> member, which, because members are sorted, is the line with that one member cut out.
/// </summary>
internal sealed class LedgerCodec : IDisposable
{
    private static readonly UTF8Encoding Utf8 = new(false);
    private readonly IncrementalHash _sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly StringBuilder _sb = new(512);

    /// <summary>The previous-hash of the first entry: chained to the store's id, so one store's ledger cannot pass for another's.</summary>
    public static string Genesis(string storeId) => Hashing.Sha256Id(Utf8.GetBytes("agentgovernance/ledger@1\n" + storeId));

    public byte[] Encode(long sequence, string time, LedgerEvent e, string detailsJson, string previousHash, out string hash)
    {
        _sb.Clear();
        _sb.Append("{\"actor\":");
        JsonText.AppendString(_sb, e.Actor);
        if (e.ChangeId is not null)
        {
            _sb.Append(",\"changeId\":");
            JsonText.AppendString(_sb, e.ChangeId);
        }

        _sb.Append(",\"details\":").Append(detailsJson).Append(",\"event\":");
        JsonText.AppendString(_sb, e.Event);
        var cut = _sb.Length;
        _sb.Append(",\"prev\":");
        JsonText.AppendString(_sb, previousHash);
        if (e.RequestId is not null)
        {
            _sb.Append(",\"requestId\":");
            JsonText.AppendString(_sb, e.RequestId);
        }

        _sb.Append(",\"seq\":").Append(sequence.ToString(CultureInfo.InvariantCulture)).Append(",\"time\":");
        JsonText.AppendString(_sb, time);
        _sb.Append('}');

        var unhashed = Utf8.GetBytes(_sb.ToString());
        _sha.AppendData(unhashed);
        hash = "sha256:" + Hashing.ToHex(_sha.GetHashAndReset());
        _sb.Insert(cut, ",\"hash\":\"" + hash + "\"").Append('\n');
        return Utf8.GetBytes(_sb.ToString());
    }

    /// <summary>
    /// Reads one line. Null with a problem when it is not an entry. <paramref name="hashMatches"/> says
    /// whether the entry's recorded hash is the hash of its content: checked first over the line's own
    /// bytes (the writer writes canonical JSON), and only when that fails over a fresh canonical form, so
    /// a line re-spaced by hand but unchanged in content still verifies.
    /// </summary>
    public LedgerEntry? Decode(ArraySegment<byte> line, out bool hashMatches, out string? problem)
    {
        hashMatches = false;
        problem = null;
        long seq = -1;
        string? time = null, evt = null, actor = null, changeId = null, requestId = null, prev = null, hash = null;
        int detailsStart = -1, detailsEnd = -1, cutStart = -1, cutEnd = -1;
        var span = new ReadOnlySpan<byte>(line.Array, line.Offset, line.Count);
        try
        {
            var reader = new Utf8JsonReader(span, new JsonReaderOptions { MaxDepth = 64 });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                problem = "it is not a JSON object";
                return null;
            }

            var previousEnd = (int)reader.BytesConsumed;
            var cutAtNextName = false;
            var seen = new HashSet<string>(StringComparer.Ordinal);
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var nameStart = (int)reader.TokenStartIndex;
                if (cutAtNextName)
                {
                    cutEnd = nameStart;
                    cutAtNextName = false;
                }

                var name = reader.GetString()!;
                if (!seen.Add(name))
                {
                    problem = $"the field '{name}' appears twice";
                    return null;
                }

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
                        if (seen.Count == 1)
                        {
                            // The first member: cut it and the comma after it.
                            cutStart = nameStart;
                            cutAtNextName = true;
                        }
                        else
                        {
                            // Cut from the end of the member before it: the comma, the name and the value.
                            cutStart = previousEnd;
                            cutEnd = (int)reader.BytesConsumed;
                        }

                        break;
                    case "time": time = String(ref reader, name, ref problem); break;
                    case "event": evt = String(ref reader, name, ref problem); break;
                    case "actor": actor = String(ref reader, name, ref problem); break;
                    case "changeId": changeId = String(ref reader, name, ref problem); break;
                    case "requestId": requestId = String(ref reader, name, ref problem); break;
                    case "prev": prev = String(ref reader, name, ref problem); break;
                    default:
                        problem = $"'{name}' is not a field of a ledger entry";
                        return null;
                }

                if (problem is not null)
                {
                    return null;
                }

                previousEnd = (int)reader.BytesConsumed;
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

        if (seq < 1 || time is null || evt is null || actor is null || prev is null || hash is null || detailsStart < 0)
        {
            problem = "it lacks one of seq, time, event, actor, details, prev, hash";
            return null;
        }

        if (!GovernanceClock.TryParse(time, out var when))
        {
            problem = $"time '{time}' is not an ISO 8601 UTC time";
            return null;
        }

        if (cutEnd < 0)
        {
            problem = "hash is the only field";
            return null;
        }

        _sha.AppendData(line.Array!, line.Offset, cutStart);
        _sha.AppendData(line.Array!, line.Offset + cutEnd, line.Count - cutEnd);
        var computed = _sha.GetHashAndReset();
        hashMatches = HashEquals(hash, computed);
        var details = Utf8.GetString(line.Array!, line.Offset + detailsStart, detailsEnd - detailsStart);
        if (!hashMatches)
        {
            // Not byte-canonical: hash a fresh canonical form of the content.
            using var doc = JsonDocument.Parse(new ReadOnlyMemory<byte>(line.Array, line.Offset, line.Count));
            var members = new Dictionary<string, object?>();
            foreach (var p in doc.RootElement.EnumerateObject())
            {
                if (p.Name != "hash")
                {
                    members[p.Name] = p.Value.Clone();
                }
            }

            hashMatches = hash == Hashing.Sha256Id(Utf8.GetBytes(CanonicalJson.Serialize(members)));
            details = CanonicalJson.Serialize(doc.RootElement.GetProperty("details"));
        }

        return new LedgerEntry(seq, when, evt, actor, changeId, requestId, details, prev, hash);
    }

    public void Dispose() => _sha.Dispose();

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
