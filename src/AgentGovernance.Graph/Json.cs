using System;
using System.Text.Json;
using AgentGovernance.Directory;

namespace AgentGovernance.Graph;

/// <summary>Reading Graph's JSON: absent and null are the same.</summary>
internal static class Json
{
    public static string? Str(this JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    public static bool? Bool(this JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && (v.ValueKind == JsonValueKind.True || v.ValueKind == JsonValueKind.False) ? v.GetBoolean() : null;

    public static JsonElement? Obj(this JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Object ? v : null;

    public static JsonElement.ArrayEnumerator Arr(this JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Array ? v.EnumerateArray() : default;

    /// <summary>
    /// Opens a resumable journal (one JSON object a line, headed by its schema and tenant). New: created,
    /// with the header written, and <paramref name="lines"/> null. Resumed: opened for appending, and
    /// <paramref name="lines"/> the lines after the header, checked to be of this schema and tenant; a last
    /// line cut short by the interruption is dropped, since it is read again. ExportJournalInvalid otherwise.
    /// </summary>
    public static System.IO.StreamWriter OpenJournal(string path, bool resume, string schema, string tenant, string what, out System.Collections.Generic.List<JsonElement>? lines)
    {
        var existing = resume && System.IO.File.Exists(path) ? System.IO.File.ReadAllLines(path, System.Text.Encoding.UTF8) : null;
        var output = new System.IO.StreamWriter(new System.IO.FileStream(path, existing is null ? System.IO.FileMode.Create : System.IO.FileMode.Append, System.IO.FileAccess.Write, System.IO.FileShare.Read),
            new System.Text.UTF8Encoding(false));
        lines = null;
        if (existing is null)
        {
            WriteLine(output, w => { w.WriteString("schema", schema); w.WriteString("tenant", tenant); });
            return output;
        }

        lines = new System.Collections.Generic.List<JsonElement>();
        var header = false;
        for (var i = 0; i < existing.Length; i++)
        {
            if (existing[i].Length == 0) continue;
            JsonElement line;
            try
            {
                using var doc = JsonDocument.Parse(existing[i]);
                line = doc.RootElement.Clone();
            }
            catch (JsonException e)
            {
                if (i == existing.Length - 1) break; // a line cut short by the interruption: read again
                output.Dispose();
                throw new GovernanceException("ExportJournalInvalid", GovernanceErrorKind.InvalidData, $"{path}:{i + 1}: not a journal line ({e.Message}). Delete it and export again without -Resume.", path, e);
            }

            if (!header)
            {
                if (line.Str("schema") != schema || line.Str("tenant") != tenant)
                {
                    output.Dispose();
                    throw new GovernanceException("ExportJournalInvalid", GovernanceErrorKind.InvalidData,
                        $"'{path}' is not the journal of {what} of tenant {tenant} (it says {line.Str("tenant") ?? "nothing"}). Export without -Resume.", path);
                }

                header = true;
                continue;
            }

            lines.Add(line);
        }

        return output;
    }

    /// <summary>Writes one JSON object as a line of a journal and flushes it, so an interruption loses at most that line.</summary>
    public static void WriteLine(System.IO.TextWriter output, Action<Utf8JsonWriter> write)
    {
        using var ms = new System.IO.MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            write(w);
            w.WriteEndObject();
        }

        output.Write(System.Text.Encoding.UTF8.GetString(ms.ToArray()));
        output.Write('\n');
        output.Flush();
    }

    public static bool Has(this JsonElement e, string name) => e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out _);

    /// <summary>user, group, servicePrincipal, or the @odata.type's last segment for anything else.</summary>
    public static string Kind(this JsonElement e)
    {
        var t = e.Str("@odata.type") ?? string.Empty;
        var dot = t.LastIndexOf('.');
        return dot >= 0 ? t.Substring(dot + 1) : t.TrimStart('#');
    }

    /// <summary>A group's visibility; Graph leaves it null for the default (Public for Microsoft 365 groups, Private otherwise).</summary>
    public static GroupVisibility Visibility(this JsonElement g)
    {
        var v = g.Str("visibility");
        if (v is null)
        {
            return IsUnified(g) ? GroupVisibility.Public : GroupVisibility.Private;
        }

        return v.ToLowerInvariant() switch
        {
            "public" => GroupVisibility.Public,
            "hiddenmembership" => GroupVisibility.HiddenMembership,
            _ => GroupVisibility.Private,
        };
    }

    public static bool IsUnified(this JsonElement g) => HasType(g, "Unified");

    public static bool IsDynamic(this JsonElement g) => HasType(g, "DynamicMembership");

    private static bool HasType(JsonElement g, string type)
    {
        foreach (var t in g.Arr("groupTypes"))
        {
            if (t.ValueKind == JsonValueKind.String && string.Equals(t.GetString(), type, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The sensitivity a label's name says, by the four levels of formats.md; null for any other name.</summary>
    public static Sensitivity? FromLabel(string? name)
    {
        if (name is null)
        {
            return null;
        }

        var n = new string(Array.FindAll(name.ToCharArray(), char.IsLetter)).ToLowerInvariant();
        if (n.StartsWith("highlyconfidential", StringComparison.Ordinal)) return Sensitivity.HighlyConfidential;
        if (n.StartsWith("confidential", StringComparison.Ordinal)) return Sensitivity.Confidential;
        if (n.StartsWith("general", StringComparison.Ordinal)) return Sensitivity.General;
        if (n.StartsWith("public", StringComparison.Ordinal)) return Sensitivity.Public;
        return null;
    }
}
