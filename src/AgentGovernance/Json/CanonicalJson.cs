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
