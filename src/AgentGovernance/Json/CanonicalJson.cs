using System;
using System.Collections.Generic;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace AgentGovernance.Json;

/// <summary>
/// The one canonical-JSON writer: RFC 8785 (JSON Canonicalization Scheme). Object members sorted by
/// UTF-16 code units, no insignificant whitespace, ECMAScript number form, minimal string escaping.
/// </summary>
public static class CanonicalJson
{
    public static string Serialize(JsonElement element)
    {
        var sb = new StringBuilder();
        Write(sb, element);
        return sb.ToString();
    }

    public static byte[] SerializeToUtf8(JsonElement element) => Encoding.UTF8.GetBytes(Serialize(element));

    /// <summary>Canonicalizes JSON text (any whitespace, any member order).</summary>
    public static string Canonicalize(string json)
    {
        using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 128 });
        return Serialize(doc.RootElement);
    }

    /// <summary><c>sha256:</c> + lowercase hex SHA-256 of the UTF-8 canonical form.</summary>
    public static string Hash(JsonElement element) => Hashing.Sha256Id(SerializeToUtf8(element));

    /// <summary>
    /// The canonical form of a value built in code: a string, bool, whole number (int or long, within
    /// ±2^53 so that every JSON reader reads it exactly), null, a dictionary with string keys, or a list of values.
    /// </summary>
    public static string Serialize(object? value)
    {
        var sb = new StringBuilder();
        WriteValue(sb, value);
        return sb.ToString();
    }

    public static string Hash(object? value) => Hashing.Sha256Id(Encoding.UTF8.GetBytes(Serialize(value)));

    private static void WriteValue(StringBuilder sb, object? value)
    {
        switch (value)
        {
            case null:
                sb.Append("null");
                break;
            case string s:
                JsonText.AppendString(sb, s);
                break;
            case bool b:
                sb.Append(b ? "true" : "false");
                break;
            case int i:
                sb.Append(i.ToString(System.Globalization.CultureInfo.InvariantCulture));
                break;
            case long l when l >= -MaxSafeInteger && l <= MaxSafeInteger:
                sb.Append(l.ToString(System.Globalization.CultureInfo.InvariantCulture));
                break;
            case JsonElement e:
                Write(sb, e);
                break;
            case IEnumerable<KeyValuePair<string, object?>> members:
                var sorted = new List<KeyValuePair<string, object?>>(members);
                sorted.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
                sb.Append('{');
                for (var n = 0; n < sorted.Count; n++)
                {
                    if (n > 0)
                    {
                        if (sorted[n].Key == sorted[n - 1].Key)
                        {
                            throw new FormatException($"Duplicate member name '{sorted[n].Key}': JSON with duplicate names has no canonical form.");
                        }

                        sb.Append(',');
                    }

                    JsonText.AppendString(sb, sorted[n].Key);
                    sb.Append(':');
                    WriteValue(sb, sorted[n].Value);
                }

                sb.Append('}');
                break;
            case System.Collections.IEnumerable items:
                sb.Append('[');
                var first = true;
                foreach (var item in items)
                {
                    if (!first)
                    {
                        sb.Append(',');
                    }

                    first = false;
                    WriteValue(sb, item);
                }

                sb.Append(']');
                break;
            default:
                throw new FormatException($"A {value.GetType().Name} has no canonical JSON form here.");
        }
    }

    private const long MaxSafeInteger = (1L << 53) - 1;

    private static void Write(StringBuilder sb, JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var members = new List<KeyValuePair<string, JsonElement>>();
                var seen = new HashSet<string>(StringComparer.Ordinal);
                foreach (var p in element.EnumerateObject())
                {
                    if (!seen.Add(p.Name))
                    {
                        throw new FormatException($"Duplicate member name '{p.Name}': JSON with duplicate names has no canonical form.");
                    }

                    members.Add(new KeyValuePair<string, JsonElement>(p.Name, p.Value));
                }

                members.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
                sb.Append('{');
                for (var i = 0; i < members.Count; i++)
                {
                    if (i > 0)
                    {
                        sb.Append(',');
                    }

                    JsonText.AppendString(sb, members[i].Key);
                    sb.Append(':');
                    Write(sb, members[i].Value);
                }

                sb.Append('}');
                break;
            case JsonValueKind.Array:
                sb.Append('[');
                var first = true;
                foreach (var item in element.EnumerateArray())
                {
                    if (!first)
                    {
                        sb.Append(',');
                    }

                    first = false;
                    Write(sb, item);
                }

                sb.Append(']');
                break;
            case JsonValueKind.String:
                JsonText.AppendString(sb, element.GetString()!);
                break;
            case JsonValueKind.Number:
                sb.Append(JsonText.FormatNumber(element.GetDouble()));
                break;
            case JsonValueKind.True:
                sb.Append("true");
                break;
            case JsonValueKind.False:
                sb.Append("false");
                break;
            case JsonValueKind.Null:
                sb.Append("null");
                break;
            default:
                throw new FormatException($"Unexpected JSON value kind {element.ValueKind}.");
        }
    }
}

/// <summary>The one hashing helper.</summary>
public static class Hashing
{
    public static string Sha256Hex(byte[] data)
    {
        using var sha = SHA256.Create();
        return ToHex(sha.ComputeHash(data));
    }

    /// <summary>An id of the form <c>sha256:&lt;64 lowercase hex&gt;</c>.</summary>
    public static string Sha256Id(byte[] data) => "sha256:" + Sha256Hex(data);

    public static string ToHex(byte[] bytes)
    {
        const string hex = "0123456789abcdef";
        var chars = new char[bytes.Length * 2];
        for (var i = 0; i < bytes.Length; i++)
        {
            chars[2 * i] = hex[bytes[i] >> 4];
            chars[2 * i + 1] = hex[bytes[i] & 0xF];
        }

        return new string(chars);
    }
}
