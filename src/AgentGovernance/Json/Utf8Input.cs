using System;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace AgentGovernance.Json;

/// <summary>
/// The encoding checks every document reader makes before it reads JSON: the bytes are UTF-8, and no
/// string escape names half of a UTF-16 surrogate pair (\ud800 alone). System.Text.Json checks neither
/// until a string is decoded, and then throws InvalidOperationException without a position; here a
/// failure is a <see cref="JsonException"/> with the line and byte position, which each reader turns into
/// its own ErrorId.
/// </summary>
internal static class Utf8Input
{
    /// <summary>Throws <see cref="JsonException"/> (0-based line and byte position in line) when the bytes are not clean UTF-8 JSON text.</summary>
    public static void Check(ReadOnlySpan<byte> data)
    {
        var at = FirstInvalid(data);
        if (at >= 0)
        {
            throw Fail(data, at, $"the text is not valid UTF-8 (byte 0x{data[at]:X2} at byte offset {at.ToString(CultureInfo.InvariantCulture)} starts no valid character)");
        }

        // A \u escape is one only after an odd number of backslashes ("\\ud800" is a backslash and text).
        var from = 0;
        while (true)
        {
            var i = data.Slice(from).IndexOf("\\u"u8);
            if (i < 0)
            {
                return;
            }

            i += from;
            var backslashes = 1;
            while (i - backslashes >= 0 && data[i - backslashes] == (byte)'\\')
            {
                backslashes++;
            }

            from = i + 2;
            if (backslashes % 2 == 0 || !Hex4(data, i + 2, out var unit))
            {
                continue;
            }

            if (unit >= 0xDC00 && unit <= 0xDFFF)
            {
                throw Fail(data, i, $"the escape \\u{unit:x4} at byte offset {i.ToString(CultureInfo.InvariantCulture)} is a lone low surrogate (half of a character)");
            }

            if (unit >= 0xD800 && unit <= 0xDBFF)
            {
                if (i + 12 <= data.Length && data[i + 6] == (byte)'\\' && data[i + 7] == (byte)'u' && Hex4(data, i + 8, out var low) && low >= 0xDC00 && low <= 0xDFFF)
                {
                    from = i + 12;
                    continue;
                }

                throw Fail(data, i, $"the escape \\u{unit:x4} at byte offset {i.ToString(CultureInfo.InvariantCulture)} is a lone high surrogate (half of a character)");
            }
        }
    }

    /// <summary>The UTF-8 bytes of a text; a lone surrogate in it is a <see cref="JsonException"/> with its position, never replaced silently.</summary>
    public static byte[] Encode(string text)
    {
        var line = 0;
        var column = 0;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
                column += 2;
                continue;
            }

            if (char.IsSurrogate(c))
            {
                throw new JsonEncodingException($"the text holds a lone surrogate U+{(int)c:X4} (half of a character) at character {i.ToString(CultureInfo.InvariantCulture)}", null, line, column);
            }

            if (c == '\n')
            {
                line++;
                column = 0;
            }
            else
            {
                column++;
            }
        }

        return Encoding.UTF8.GetBytes(text);
    }

    private static bool Hex4(ReadOnlySpan<byte> data, int at, out int value)
    {
        value = 0;
        if (at + 4 > data.Length)
        {
            return false;
        }

        for (var k = 0; k < 4; k++)
        {
            var b = data[at + k];
            var d = b >= '0' && b <= '9' ? b - '0' : b >= 'a' && b <= 'f' ? b - 'a' + 10 : b >= 'A' && b <= 'F' ? b - 'A' + 10 : -1;
            if (d < 0)
            {
                return false;
            }

            value = (value << 4) | d;
        }

        return true;
    }

    /// <summary>The offset of the first byte that starts no valid UTF-8 character (RFC 3629: no overlong forms, no surrogates, at most U+10FFFF), or -1.</summary>
    private static int FirstInvalid(ReadOnlySpan<byte> data)
    {
        var i = 0;
        var n = data.Length;
        while (i < n)
        {
            // Eight ASCII bytes at a time: a snapshot is nearly all ASCII, and the byte loop was a
            // twentieth of its load (issue 16).
            while (i + 8 <= n && (System.Runtime.InteropServices.MemoryMarshal.Read<ulong>(data.Slice(i)) & 0x8080808080808080UL) == 0)
            {
                i += 8;
            }

            if (i >= n)
            {
                break;
            }

            var b = data[i];
            if (b < 0x80)
            {
                i++;
                continue;
            }

            int need;
            int min;
            if (b >= 0xC2 && b <= 0xDF)
            {
                need = 1;
                min = 0x80;
            }
            else if (b >= 0xE0 && b <= 0xEF)
            {
                need = 2;
                min = 0x800;
            }
            else if (b >= 0xF0 && b <= 0xF4)
            {
                need = 3;
                min = 0x10000;
            }
            else
            {
                return i;
            }

            if (i + need >= n)
            {
                return i;
            }

            var cp = b & (0x3F >> need);
            for (var k = 1; k <= need; k++)
            {
                var c = data[i + k];
                if ((c & 0xC0) != 0x80)
                {
                    return i;
                }

                cp = (cp << 6) | (c & 0x3F);
            }

            if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            {
                return i;
            }

            i += need + 1;
        }

        return -1;
    }

    private static JsonEncodingException Fail(ReadOnlySpan<byte> data, int at, string message)
    {
        var before = data.Slice(0, at);
        var line = 0;
        foreach (var b in before)
        {
            if (b == (byte)'\n')
            {
                line++;
            }
        }

        var lastNewline = before.LastIndexOf((byte)'\n');
        return new JsonEncodingException(message, null, line, at - lastNewline - 1);
    }
}

/// <summary>A JSON text that is not clean Unicode (invalid UTF-8, a lone surrogate): still JSON, refused with its position.</summary>
internal sealed class JsonEncodingException : JsonException
{
    public JsonEncodingException(string message, string? path, long? lineNumber, long? bytePositionInLine)
        : base(message, path, lineNumber, bytePositionInLine)
    {
    }
}
