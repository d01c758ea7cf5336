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
