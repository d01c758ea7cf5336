using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation.Language;

namespace AgentGovernance.Suggestions;

/// <summary>One parameter of a recognised command: its name, aliases, position, and what it means here.</summary>
internal sealed class ParamSpec
{
    public ParamSpec(string name, string[] aliases, int position, bool isSwitch, string? refusal)
    {
        Name = name;
        Aliases = aliases;
        Position = position;
        IsSwitch = isSwitch;
        Refusal = refusal;
    }

    public string Name { get; }

    public string[] Aliases { get; }

    /// <summary>0-based position, or -1 for a named-only parameter.</summary>
    public int Position { get; }

    public bool IsSwitch { get; }

    /// <summary>When set, giving this parameter makes the command unmappable, for this reason.</summary>
    public string? Refusal { get; }

    /// <summary>
    /// Parses "Name|Alias@0" (alias after '|', position after '@'), with a leading '!' for a switch.
    /// </summary>
    public static ParamSpec Parse(string spec, string? refusal = null)
    {
        var isSwitch = spec.StartsWith("!", StringComparison.Ordinal);
        var s = isSwitch ? spec.Substring(1) : spec;
        var position = -1;
        var at = s.IndexOf('@');
        if (at >= 0)
        {
            position = int.Parse(s.Substring(at + 1), System.Globalization.CultureInfo.InvariantCulture);
            s = s.Substring(0, at);
        }

        var names = s.Split('|');
        return new ParamSpec(names[0], names.Skip(1).ToArray(), position, isSwitch, refusal);
    }
}

/// <summary>The module family a command comes from, for messages and module-qualified names.</summary>
internal sealed class CommandFamily
{
    public static readonly CommandFamily Graph = new("Microsoft Graph PowerShell", "Microsoft.Graph");
    public static readonly CommandFamily PnP = new("PnP.PowerShell", "PnP.PowerShell");
    public static readonly CommandFamily Teams = new("Microsoft Teams", "MicrosoftTeams");
    public static readonly CommandFamily Exchange = new("Exchange Online", "ExchangeOnlineManagement");
    public static readonly CommandFamily AzureAD = new("AzureAD", "AzureAD");
    public static readonly CommandFamily Az = new("Az", "Az");
    public static readonly CommandFamily PowerShell = new("PowerShell", "Microsoft.PowerShell");

    private CommandFamily(string display, string modulePrefix)
    {
        Display = display;
        ModulePrefix = modulePrefix;
    }

    public string Display { get; }

    /// <summary>Module names of the family start with this (Microsoft.Graph.Groups, Az.Resources...).</summary>
    public string ModulePrefix { get; }

    public bool OwnsModule(string module) =>
        module.StartsWith(ModulePrefix, StringComparison.OrdinalIgnoreCase)
        || (this == AzureAD && module.StartsWith("AzureADPreview", StringComparison.OrdinalIgnoreCase))
        || (this == Exchange && module.StartsWith("tmp_", StringComparison.OrdinalIgnoreCase)); // EXO's implicit-remoting modules
}

/// <summary>A command that changes access, with its parameters and how its use maps onto operations.</summary>
internal sealed class CommandSpec
{
    /// <summary>PowerShell's common parameters and their aliases; every advanced command has them.</summary>
    private static readonly ParamSpec[] Common =
    {
        ParamSpec.Parse("!Verbose|vb"), ParamSpec.Parse("!Debug|db"), ParamSpec.Parse("ErrorAction|ea"), ParamSpec.Parse("WarningAction|wa"),
        ParamSpec.Parse("InformationAction|infa"), ParamSpec.Parse("ProgressAction|proga"), ParamSpec.Parse("ErrorVariable|ev"),
        ParamSpec.Parse("WarningVariable|wv"), ParamSpec.Parse("InformationVariable|iv"), ParamSpec.Parse("OutVariable|ov"),
        ParamSpec.Parse("OutBuffer|ob"), ParamSpec.Parse("PipelineVariable|pv"), ParamSpec.Parse("!WhatIf|wi"), ParamSpec.Parse("!Confirm|cf"),
    };

    private readonly List<ParamSpec> _params = new();

    public CommandSpec(string name, CommandFamily family, Action<BoundCommand, MapContext> map)
    {
        Name = name;
        Family = family;
        MapAction = map;
        _params.AddRange(Common);
    }

    public string Name { get; }

    public CommandFamily Family { get; }

    public Action<BoundCommand, MapContext> MapAction { get; }

    public IReadOnlyList<ParamSpec> Params => _params;

    /// <summary>Parameters the mapping reads.</summary>
    public CommandSpec With(params string[] specs)
    {
        _params.AddRange(specs.Select(s => ParamSpec.Parse(s)));
        return this;
    }

    /// <summary>Parameters that do not change who can reach what (titles, quotas, notifications...).</summary>
    public CommandSpec Harmless(params string[] specs) => With(specs);

    /// <summary>A parameter that, when given, makes the command unmappable.</summary>
    public CommandSpec Refusing(string spec, string reason)
    {
        _params.Add(ParamSpec.Parse(spec, reason));
        return this;
    }

    /// <summary>
    /// The parameter a written name stands for, as PowerShell's binder finds it: the exact name or an
    /// alias, else the one parameter (or alias) the name is a prefix of.
    /// </summary>
    public ParamSpec Find(string written)
    {
        var exact = _params.FirstOrDefault(p => string.Equals(p.Name, written, StringComparison.OrdinalIgnoreCase)
            || p.Aliases.Any(a => string.Equals(a, written, StringComparison.OrdinalIgnoreCase)));
        if (exact is not null)
        {
            return exact;
        }

        var prefixed = _params.Where(p => p.Name.StartsWith(written, StringComparison.OrdinalIgnoreCase)
            || p.Aliases.Any(a => a.StartsWith(written, StringComparison.OrdinalIgnoreCase))).ToList();
        if (prefixed.Count == 1)
        {
            return prefixed[0];
        }

        if (prefixed.Count > 1)
        {
            throw new SuggestionRefusal(SuggestionFindingKind.Unmappable,
                $"-{written} is ambiguous: it could be {string.Join(", ", prefixed.Select(p => "-" + p.Name))}, and PowerShell would refuse to run the command.");
        }

        throw new SuggestionRefusal(SuggestionFindingKind.Unmappable,
            $"-{written} is not a parameter of {Name} that this cmdlet knows, so what the command would do cannot be told.");
    }
}

/// <summary>A recognised command with its arguments bound to parameters and evaluated.</summary>
internal sealed class BoundCommand
{
    private readonly Dictionary<string, (Value Value, Ast At)> _args = new(StringComparer.OrdinalIgnoreCase);

    public BoundCommand(CommandSpec spec, CommandAst ast)
    {
        Spec = spec;
        Ast = ast;
    }

    public CommandSpec Spec { get; }

    public CommandAst Ast { get; }

    public string Name => Spec.Name;

    public IEnumerable<string> Given => _args.Keys;

    internal void Bind(ParamSpec p, Value value, Ast at)
    {
        if (_args.ContainsKey(p.Name))
        {
            throw new SuggestionRefusal(SuggestionFindingKind.Unmappable, $"-{p.Name} is given twice, and PowerShell would refuse to run the command.");
        }

        _args[p.Name] = (value, at);
    }

    internal bool IsBound(string name) => _args.ContainsKey(name);

    public bool Has(string name) => _args.ContainsKey(name);

    public Value? Get(string name) => _args.TryGetValue(name, out var a) ? a.Value : null;

    /// <summary>A switch that is present and not set to $false.</summary>
    public bool Switch(string name) => _args.TryGetValue(name, out var a) && !(a.Value is BoolValue { Value: false });

    /// <summary>The text of a parameter the command needs.</summary>
    public string Text(string name)
    {
        if (!_args.TryGetValue(name, out var a))
        {
            throw new SuggestionRefusal(SuggestionFindingKind.DynamicValue,
                $"-{name} is not given; PowerShell would ask for it when the command runs, so what it acts on is not known.");
        }

        return ValueText.Single(a.Value, "-" + name);
    }

    public string? OptText(string name) => _args.TryGetValue(name, out var a) ? ValueText.Single(a.Value, "-" + name) : null;

    /// <summary>The texts of a parameter that takes one or several values.</summary>
    public IReadOnlyList<string> Texts(string name)
    {
        if (!_args.TryGetValue(name, out var a))
        {
            throw new SuggestionRefusal(SuggestionFindingKind.DynamicValue,
                $"-{name} is not given; PowerShell would ask for it when the command runs, so what it acts on is not known.");
        }

        return ValueText.Many(a.Value, "-" + name);
    }

    public IReadOnlyList<string> OptTexts(string name) => _args.ContainsKey(name) ? Texts(name) : Array.Empty<string>();
}

/// <summary>Turns known values into the text a parameter receives; an unknown value is refused with its reason.</summary>
internal static class ValueText
{
    public static string Single(Value v, string what)
    {
        switch (v)
        {
            case TextValue t:
                return t.Text;
            case NumberValue n:
                return n.Text;
            case BoolValue b:
                return b.Value ? "True" : "False";
            case EntityValue e:
                return e.Id;
            case ListValue { Items.Count: 1 } l:
                return Single(l.Items[0], what);
            case ListValue l:
                throw new SuggestionRefusal(SuggestionFindingKind.Unmappable, $"{what} is given {l.Items.Count} values where the command takes one.");
            case UnknownValue u:
                throw new SuggestionRefusal(SuggestionFindingKind.DynamicValue, $"{what} is not known before the script runs: {u.Why}.");
            case NullValue:
                throw new SuggestionRefusal(SuggestionFindingKind.DynamicValue, $"{what} is $null.");
            default:
                throw new SuggestionRefusal(SuggestionFindingKind.DynamicValue, $"{what} is {v.Describe()}, not a name or an id.");
        }
    }

    public static IReadOnlyList<string> Many(Value v, string what) => v switch
    {
        ListValue l => l.Items.Select((item, i) => Single(item, $"{what}[{i}]")).ToList(),
        _ => new[] { Single(v, what) },
    };

    public static TableValue Table(Value v, string what) => v switch
    {
        TableValue t => t,
        UnknownValue u => throw new SuggestionRefusal(SuggestionFindingKind.DynamicValue, $"{what} is not known before the script runs: {u.Why}."),
        _ => throw new SuggestionRefusal(SuggestionFindingKind.Unmappable, $"{what} is {v.Describe()}, not a hashtable."),
    };
}
