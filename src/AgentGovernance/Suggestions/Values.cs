using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Management.Automation.Language;

namespace AgentGovernance.Suggestions;

/// <summary>
/// What an expression of the suggestion is known to be without running it: a literal, a list or a
/// hashtable of literals, an object looked up in the directory, or unknown (with the reason).
/// </summary>
internal abstract class Value
{
    /// <summary>Short, for messages: 'text', @(...), @{...}, (unknown: why).</summary>
    public abstract string Describe();
}

internal sealed class TextValue : Value
{
    public TextValue(string text) => Text = text;

    public string Text { get; }

    public override string Describe() => "'" + (Text.Length > 80 ? Text.Substring(0, 77) + "..." : Text) + "'";
}

internal sealed class NumberValue : Value
{
    public NumberValue(object number) => Text = Convert.ToString(number, CultureInfo.InvariantCulture) ?? string.Empty;

    public string Text { get; }

    public override string Describe() => Text;
}

internal sealed class BoolValue : Value
{
    public static readonly BoolValue True = new(true);
    public static readonly BoolValue False = new(false);

    private BoolValue(bool value) => Value = value;

    public bool Value { get; }

    public override string Describe() => Value ? "$true" : "$false";
}

internal sealed class NullValue : Value
{
    public static readonly NullValue Instance = new();

    public override string Describe() => "$null";
}

internal sealed class ListValue : Value
{
    public ListValue(IReadOnlyList<Value> items) => Items = items;

    public IReadOnlyList<Value> Items { get; }

    public override string Describe() => "@(" + string.Join(", ", Items.Take(4).Select(i => i.Describe())) + (Items.Count > 4 ? ", ..." : string.Empty) + ")";
}

/// <summary>A hashtable literal: keys compare without regard to case, as PowerShell's do.</summary>
internal sealed class TableValue : Value
{
    public TableValue(IReadOnlyList<KeyValuePair<string, Value>> entries) => Entries = entries;

    public IReadOnlyList<KeyValuePair<string, Value>> Entries { get; }

    public bool TryGet(string key, out Value value)
    {
        foreach (var e in Entries)
        {
            if (string.Equals(e.Key, key, StringComparison.OrdinalIgnoreCase))
            {
                value = e.Value;
                return true;
            }
        }

        value = NullValue.Instance;
        return false;
    }

    /// <summary>The same table with one key set (replaced where it is, without regard to case; added at the end otherwise).</summary>
    public TableValue With(string key, Value value)
    {
        var entries = Entries.ToList();
        var at = entries.FindIndex(e => string.Equals(e.Key, key, StringComparison.OrdinalIgnoreCase));
        if (at >= 0)
        {
            entries[at] = new(entries[at].Key, value);
        }
        else
        {
            entries.Add(new(key, value));
        }

        return new TableValue(entries);
    }

    /// <summary>Whether every value is a text, number, boolean or $null: nothing another reference could change.</summary>
    public bool HoldsOnlyScalars => Entries.All(e => e.Value is TextValue or NumberValue or BoolValue or NullValue);

    public override string Describe() => "@{" + string.Join("; ", Entries.Take(4).Select(e => e.Key + " = " + e.Value.Describe())) + (Entries.Count > 4 ? "; ..." : string.Empty) + "}";
}

/// <summary>What a lookup command (Get-MgGroup, Get-PnPGroup, Connect-PnPOnline -ReturnConnection...) returns.</summary>
internal enum EntityKind
{
    Principal,
    Resource,

    /// <summary>A SharePoint group of a site: <see cref="EntityValue.Id"/> is its name, <see cref="EntityValue.Site"/> the site.</summary>
    SharePointGroup,

    /// <summary>A PnP connection: <see cref="EntityValue.Id"/> is the site URL.</summary>
    PnPConnection,
}

internal sealed class EntityValue : Value
{
    public EntityValue(EntityKind kind, string id, string display, string? site = null)
    {
        Kind = kind;
        Id = id;
        Display = display;
        Site = site;
    }

    public EntityKind Kind { get; }

    public string Id { get; }

    public string Display { get; }

    /// <summary>For SharePoint groups: the site (resource id) they belong to.</summary>
    public string? Site { get; }

    public override string Describe() => Display == Id ? Id : $"{Display} ({Id})";
}

/// <summary>A script block literal, kept so the commands that run it (ForEach-Object) can read its body.</summary>
internal sealed class ScriptBlockValue : Value
{
    public ScriptBlockValue(ScriptBlockAst body) => Body = body;

    public ScriptBlockAst Body { get; }

    public override string Describe() => "{ ... }";
}

internal sealed class UnknownValue : Value
{
    public UnknownValue(string why, IScriptExtent? at = null)
    {
        Why = why;
        At = at;
    }

    public string Why { get; }

    public IScriptExtent? At { get; }

    public override string Describe() => "(unknown: " + Why + ")";
}
