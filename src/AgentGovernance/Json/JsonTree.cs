using System;
using System.Collections.Generic;
using System.Text;
using System.Text.Json;

namespace AgentGovernance.Json;

/// <summary>
/// A small JSON tree that remembers where each value stood (line, column), so that readers of hand-
/// written documents can say exactly where a field is wrong. For small documents (changes); large
/// ones (snapshots) are read in one streaming pass instead.
/// </summary>
internal sealed class JsonTree
{
    private JsonTree(JsonValueKind kind, long line, long column)
    {
        Kind = kind;
        Line = line;
        Column = column;
    }

    public JsonValueKind Kind { get; }

    public long Line { get; }

    public long Column { get; }

    public string? Text { get; private set; }

    public double Number { get; private set; }

    public List<KeyValuePair<string, JsonTree>>? Properties { get; private set; }

    public List<JsonTree>? Items { get; private set; }

    /// <summary>Parses UTF-8 JSON; throws <see cref="JsonException"/> (with its position) on malformed input or duplicate names.</summary>
    public static JsonTree Parse(byte[] utf8)
    {
        var offset = utf8.Length >= 3 && utf8[0] == 0xEF && utf8[1] == 0xBB && utf8[2] == 0xBF ? 3 : 0;
        Utf8Input.Check(new ReadOnlySpan<byte>(utf8, offset, utf8.Length - offset));
        var lines = new LineMap(utf8, offset);
        var r = new Utf8JsonReader(new ReadOnlySpan<byte>(utf8, offset, utf8.Length - offset), new JsonReaderOptions { MaxDepth = 64 });
        if (!r.Read())
        {
            throw new JsonException("The document is empty.", null, 0, 0);
        }

        var root = ReadValue(ref r, lines);
        if (r.Read())
        {
            var (l, c) = lines.At(r.TokenStartIndex);
            throw new JsonException("Unexpected content after the end of the document.", null, l - 1, c - 1);
        }

        return root;
    }

    private static JsonTree ReadValue(ref Utf8JsonReader r, LineMap lines)
    {
        var (line, column) = lines.At(r.TokenStartIndex);
        var node = new JsonTree(r.TokenType switch
        {
            JsonTokenType.StartObject => JsonValueKind.Object,
            JsonTokenType.StartArray => JsonValueKind.Array,
            JsonTokenType.String => JsonValueKind.String,
            JsonTokenType.Number => JsonValueKind.Number,
            JsonTokenType.True => JsonValueKind.True,
            JsonTokenType.False => JsonValueKind.False,
            _ => JsonValueKind.Null,
        }, line, column);
        switch (r.TokenType)
        {
            case JsonTokenType.StartObject:
                node.Properties = new List<KeyValuePair<string, JsonTree>>();
                var names = new HashSet<string>(StringComparer.Ordinal);
                while (r.Read() && r.TokenType != JsonTokenType.EndObject)
                {
                    var name = r.GetString()!;
                    if (!names.Add(name))
                    {
                        var (l, c) = lines.At(r.TokenStartIndex);
                        throw new JsonException($"The field '{name}' appears twice.", null, l - 1, c - 1);
                    }

                    r.Read();
                    node.Properties.Add(new KeyValuePair<string, JsonTree>(name, ReadValue(ref r, lines)));
                }

                break;
            case JsonTokenType.StartArray:
                node.Items = new List<JsonTree>();
                while (r.Read() && r.TokenType != JsonTokenType.EndArray)
                {
                    node.Items.Add(ReadValue(ref r, lines));
                }

                break;
            case JsonTokenType.String:
                node.Text = r.GetString();
                break;
            case JsonTokenType.Number:
                node.Number = r.GetDouble();
                node.Text = Encoding.UTF8.GetString(r.ValueSpan.ToArray());
                break;
        }

        return node;
    }

    private sealed class LineMap
    {
        private readonly List<long> _starts = new() { 0 };
        private readonly byte[] _data;
        private readonly int _offset;

        public LineMap(byte[] data, int offset)
        {
            _data = data;
            _offset = offset;
            for (var i = offset; i < data.Length; i++)
            {
                if (data[i] == (byte)'\n')
                {
                    _starts.Add(i + 1 - offset);
                }
            }
        }

        public (long Line, long Column) At(long position)
        {
            var lo = 0;
            var hi = _starts.Count - 1;
            while (lo < hi)
            {
                var mid = (lo + hi + 1) / 2;
                if (_starts[mid] <= position) lo = mid; else hi = mid - 1;
            }

            var start = (int)_starts[lo] + _offset;
            var column = Encoding.UTF8.GetCharCount(_data, start, (int)position + _offset - start) + 1;
            return (lo + 1, column);
        }
    }
}
