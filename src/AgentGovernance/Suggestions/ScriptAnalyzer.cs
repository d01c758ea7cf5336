using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;
using System.Text;

namespace AgentGovernance.Suggestions;

/// <summary>
/// Reads the code of one suggestion without running any of it. Statements are followed in order, as
/// PowerShell would run them: a variable assigned a literal value is known from there on (after a
/// branch that may not run, or in a loop that runs an unknown number of times, what they assign is
/// not), loops over literal lists are unrolled, lookups of directory objects (Get-MgGroup
/// -Filter "displayName eq '...'") are answered from the snapshot, and every command is judged:
/// commands that change access are mapped onto operations, read-only ones are ignored, and anything
/// that runs code, depends on values only known at run time or is not known is refused, with its line
/// and column. A last pass over the whole syntax tree refuses any command the walk did not reach and
/// any .NET call or type conversion that could run code, so nothing is missed by construction.
/// </summary>
internal sealed class ScriptAnalyzer
{
    private const int MaxUnroll = 100;
    private const int MaxSteps = 20000;
    private const int MaxCallDepth = 8;

    private readonly DirectoryNames _names;
    private readonly string? _source;
    private readonly List<SuggestedCommand> _commands = new();
    private readonly List<SuggestionFinding> _findings = new();
    private readonly HashSet<string> _findingKeys = new(StringComparer.Ordinal);
    private readonly List<string> _notes = new();
    private readonly Dictionary<string, Value> _vars = new(StringComparer.OrdinalIgnoreCase);
    private readonly HashSet<string> _poisoned = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<KeyValuePair<string, Value>> _loopVars = new();
    private readonly HashSet<string> _functions = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Functions defined once, at the top level of a unit: their bodies are read where they are called.</summary>
    private readonly Dictionary<string, (FunctionDefinitionAst Ast, CodeUnit Unit)> _definitions = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, int> _definitionCounts = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Functions defined somewhere other than the top level of a unit (in a block, a branch, another function): a call of one is not followed.</summary>
    private readonly HashSet<string> _nestedDefinitions = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// Variables that only ever hold a hashtable literal of the script's own, used only in the script's own
    /// scope and only by key (read, set with =, splatted): no other reference to the table can exist, so a
    /// change to it in place is followed exactly (see <see cref="PrivateTables"/>).
    /// </summary>
    private readonly HashSet<string> _private = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The calls whose function bodies are being read, outermost first.</summary>
    private readonly List<(CommandAst Call, (int Line, int Column) At)> _callSites = new();
    private readonly List<HashSet<string>> _assigned = new();
    private readonly HashSet<Ast> _visited = new();
    private readonly HashSet<(int, int, string)> _commandKeys = new();
    private CodeUnit _unit = CodeUnit.WholeText(string.Empty);
    private bool _lenient;
    private string? _pnpSite;
    private Value? _item;
    private int _steps;

    /// <summary>Set when the script reaches variables by name (Get-Variable, variable:, [ref], dot-sourcing...): then no variable is known.</summary>
    private readonly List<(Ast At, int Line, int Column, string What)> _dynamicAccess = new();

    /// <summary>How the statements walked last ended, when they surely did: by return, exit, throw, break or continue (then what follows never runs).</summary>
    private FlowKind? _flow;

    /// <summary>Why the statements walked now may not run (a branch whose condition is not known, a catch block, a loop that may not run), or null.</summary>
    private string? _doubt;

    /// <summary>Earlier statements that may have ended the block being walked (a return in a branch that may run): what follows may not run.</summary>
    private readonly List<(FlowKind Kind, string Why)> _maybe = new();

    /// <summary>Set when the script has a trap: after a throw, a trap may go on with the next statement.</summary>
    private bool _hasTrap;

    private enum FlowKind
    {
        Return,
        Exit,
        Throw,
        Break,
        Continue,
    }

    /// <summary>Set when the script changes a hashtable, list or object in place: then no such value read from a variable is known.</summary>
    private string? _writeThrough;

    public ScriptAnalyzer(DirectoryNames names, string? source)
    {
        _names = names;
        _source = source;
    }

    public IReadOnlyList<SuggestedCommand> Commands => _commands;

    public IReadOnlyList<SuggestionFinding> Findings => _findings;

    public IReadOnlyList<string> Notes => _notes;

    /// <summary>
    /// Analyses the units of one suggestion in order, sharing variables between them (an answer's code
    /// blocks run in one session). <paramref name="lenient"/> units (a whole markdown answer read as a
    /// script, prose included) ignore unknown words that are not Verb-Noun commands.
    /// </summary>
    public void Analyze(IReadOnlyList<(CodeUnit Unit, ScriptBlockAst Ast, bool Lenient)> units)
    {
        foreach (var (_, ast, _) in units)
        {
            foreach (var fn in ast.FindAll(x => x is FunctionDefinitionAst, true).Cast<FunctionDefinitionAst>())
            {
                _definitionCounts[fn.Name] = (_definitionCounts.TryGetValue(fn.Name, out var n) ? n : 0) + 1;
                if (!IsTopLevel(fn))
                {
                    _nestedDefinitions.Add(fn.Name);
                }
            }
        }

        PrivateTables(units.Select(u => u.Ast).ToList());

        foreach (var (unit, ast, lenient) in units)
        {
            _unit = unit;
            _lenient = lenient;
            Poison(ast);
        }

        _hasTrap = units.Any(u => u.Ast.Find(x => x is TrapStatementAst, true) is not null);
        string? laterBlocks = null;
        foreach (var (unit, ast, lenient) in units)
        {
            _unit = unit;
            _lenient = lenient;
            _flow = null;
            _maybe.Clear();
            _doubt = lenient ? null : laterBlocks;
            try
            {
                WalkScript(ast);

                // An answer's blocks may be run one by one: after a block that ends the script (or may),
                // whether the next ones run depends on how the answer is used.
                if (!lenient && (_flow is not null || _maybe.Count > 0))
                {
                    laterBlocks ??= $"{unit.Describe()} ends{(_flow is null ? ", or may end," : string.Empty)} with {Describe(_flow ?? _maybe[0].Kind)} before it is done, and whether what comes after it runs depends on how the answer is run";
                }
            }
            catch (StepLimit)
            {
                Refuse(ast, SuggestionFindingKind.Unreadable, null, $"{unit.Describe()} unrolls into more than {MaxSteps} commands; this cmdlet stops there rather than guess.");
            }

            CheckEverything(ast);
        }
    }

    /// <summary>Records a finding for a part of a unit that was refused before it could be analysed.</summary>
    public void Refuse(CodeUnit unit, int line, int column, SuggestionFindingKind kind, string? command, string text, string reason, IReadOnlyList<string>? candidates = null)
    {
        var (l, c) = unit.Map(line, column);
        AddFinding(new SuggestionFinding(kind, l, c, command, Shorten(text), reason, candidates, _source));
    }

    public void Note(string note)
    {
        if (!_notes.Contains(note))
        {
            _notes.Add(note);
        }
    }

    private sealed class StepLimit : Exception
    {
    }

    // ---- variables that cannot be followed ----------------------------------------------------

    /// <summary>
    /// Names assigned in ways the walk does not follow (with +=, through members or indexes, several at
    /// once, in another scope from inside a function or block, by -OutVariable and the like, as
    /// parameters) are never known. Plain "$x = value" assignments are followed where they stand.
    /// </summary>
    private void Poison(ScriptBlockAst root)
    {
        Aliasing(root);
        foreach (var a in root.FindAll(x => x is AssignmentStatementAst, true).Cast<AssignmentStatementAst>())
        {
            var topLevel = a.Parent is NamedBlockAst nb && nb.Parent == root;
            if (a.Operator == TokenKind.Equals && PrivateWrite(a.Left) is not null)
            {
                continue;
            }

            foreach (var target in Targets(a.Left))
            {
                if (a.Operator != TokenKind.Equals || target.Direct is null || a.Left is ArrayLiteralAst || !ScopeIsPlain(target.Direct, topLevel))
                {
                    _poisoned.Add(target.Name);
                }
            }
        }

        // A .NET method that is not a pure function may change the object it is called on ($p.Remove('GroupId')).
        foreach (var call in root.FindAll(x => x is InvokeMemberExpressionAst, true).Cast<InvokeMemberExpressionAst>())
        {
            if (!(call.Member is StringConstantExpressionAst m && CommandCatalog.IsPureMethod(m.Value)) && BaseVariable(call.Expression) is { } changed)
            {
                _poisoned.Add(Name(changed.VariablePath));
            }
        }

        foreach (var f in root.FindAll(x => x is ForEachStatementAst, true).Cast<ForEachStatementAst>())
        {
            _poisoned.Add(Name(f.Variable.VariablePath));
        }

        foreach (var p in root.FindAll(x => x is ParameterAst, true).Cast<ParameterAst>())
        {
            // A function's parameters are variables of its own scope, set where a call is followed
            // (CallFunction); a script block's may be set in the scope it runs in (. { param($x) } 'v').
            if (!(p.Parent is FunctionDefinitionAst || p.Parent is ParamBlockAst { Parent: ScriptBlockAst { Parent: FunctionDefinitionAst } }))
            {
                _poisoned.Add(Name(p.Name.VariablePath));
            }
        }

        foreach (var d in root.FindAll(x => x is DataStatementAst, true).Cast<DataStatementAst>())
        {
            if (d.Variable is { } v)
            {
                _poisoned.Add(v);
            }
        }

        foreach (var c in root.FindAll(x => x is CommandAst, true).Cast<CommandAst>())
        {
            for (var i = 1; i < c.CommandElements.Count; i++)
            {
                if (c.CommandElements[i] is CommandParameterAst p && AssignsVariable(p.ParameterName))
                {
                    var arg = p.Argument ?? (i + 1 < c.CommandElements.Count ? c.CommandElements[i + 1] as ExpressionAst : null);
                    if (arg is StringConstantExpressionAst s)
                    {
                        _poisoned.Add(s.Value.TrimStart('+'));
                    }
                }
            }
        }
    }

    private static bool IsTopLevel(FunctionDefinitionAst fn) => fn.Parent is NamedBlockAst { Parent: ScriptBlockAst { Parent: null } };

    // ---- tables of the script's own ------------------------------------------------------------

    private static readonly string[] HashtableMembers = { "Count", "Keys", "Values", "IsReadOnly", "IsFixedSize", "IsSynchronized", "SyncRoot", "Comparer", "EqualityComparer", "hcp" };

    /// <summary>
    /// Finds the variables of <see cref="_private"/>: every use of the name, in every unit, is in the
    /// script's own scope (not in a function, script block or trap, where another scope or a later time
    /// could reach it), unqualified, and one of: <c>$h = @{...}</c>; <c>$h.Key</c> or <c>$h['Key']</c> read
    /// or set with <c>=</c> (not a member of the hashtable itself, such as SyncRoot or psobject, which give
    /// the table out); a pure method call (<c>$h.ContainsKey('k')</c>); <c>@h</c> splatted into a command.
    /// And no Get-Variable names it. Anything else (<c>$h2 = $h</c>, <c>$h | ...</c>, <c>f $h</c>, <c>@($h)</c>,
    /// <c>foreach ($x in $h)</c>, <c>$h.k++</c>) may make another reference, and the name is not private.
    /// </summary>
    private void PrivateTables(IReadOnlyList<ScriptBlockAst> roots)
    {
        var defined = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var escaped = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var byName = new List<string>();
        var anyByName = false;
        foreach (var root in roots)
        {
            foreach (var v in root.FindAll(x => x is VariableExpressionAst, true).Cast<VariableExpressionAst>())
            {
                var name = Name(v.VariablePath);
                switch (PrivateUse(v))
                {
                    case true:
                        defined.Add(name);
                        break;
                    case false:
                        break;
                    default:
                        escaped.Add(name);
                        break;
                }
            }

            foreach (var c in root.FindAll(x => x is CommandAst, true).Cast<CommandAst>())
            {
                var name = c.GetCommandName();
                if (name is null || !MapContext.Is(CommandCatalog.Aliases.TryGetValue(name, out var t) ? t : name, "Get-Variable"))
                {
                    continue;
                }

                foreach (var e in c.CommandElements.Skip(1))
                {
                    var arg = e is CommandParameterAst p ? p.Argument : e as ExpressionAst;
                    if (arg is StringConstantExpressionAst s)
                    {
                        byName.Add(s.Value);
                    }
                    else if (arg is not null)
                    {
                        anyByName = true;
                    }
                }
            }
        }

        foreach (var name in defined)
        {
            if (!escaped.Contains(name) && !anyByName && !byName.Any(n => new WildcardPattern(n, WildcardOptions.IgnoreCase).IsMatch(name)))
            {
                _private.Add(name);
            }
        }
    }

    /// <summary>True for <c>$h = @{...}</c>, false for another use that keeps the table private, null for any use that may not.</summary>
    private static bool? PrivateUse(VariableExpressionAst v)
    {
        if (Qualifier(v.VariablePath) is not null)
        {
            return null;
        }

        for (var a = v.Parent; a is not null; a = a.Parent)
        {
            if (a is ScriptBlockExpressionAst or FunctionDefinitionAst or TrapStatementAst or ParamBlockAst or UsingExpressionAst or DataStatementAst)
            {
                return null;
            }
        }

        if (v.Splatted)
        {
            return v.Parent is CommandAst ? false : null;
        }

        switch (v.Parent)
        {
            case AssignmentStatementAst a when a.Left == v:
                return a.Operator == TokenKind.Equals && Unwrap(a.Right) is HashtableAst ? true : null;
            case InvokeMemberExpressionAst call when call.Expression == v:
                return !call.Static && call.Member is StringConstantExpressionAst method && CommandCatalog.IsPureMethod(method.Value) ? false : null;
            case MemberExpressionAst m when m.Expression == v && !m.Static && m.Member is StringConstantExpressionAst key:
                return KeyUse(m, key.Value);
            case IndexExpressionAst ix when ix.Target == v && ix.Index is StringConstantExpressionAst key:
                return KeyUse(ix, key.Value);
            default:
                return null;
        }

        static bool? KeyUse(ExpressionAst access, string key)
        {
            if (access.Parent is AssignmentStatementAst a && a.Left == access)
            {
                return a.Operator == TokenKind.Equals && !HashtableMembers.Any(k => MapContext.Is(k, key)) && !key.StartsWith("ps", StringComparison.OrdinalIgnoreCase) ? false : null;
            }

            if (IsWritten(access))
            {
                return null; // $h.k++, $h.k, $x = 1, 2, [int]$h.k = 1
            }

            return MapContext.Is(key, "SyncRoot") || key.StartsWith("ps", StringComparison.OrdinalIgnoreCase) ? null : false;
        }
    }

    /// <summary>Whether an expression is written to: part of an assignment's target, or the operand of ++ or --.</summary>
    private static bool IsWritten(Ast e)
    {
        for (var a = e; a.Parent is not null; a = a.Parent)
        {
            switch (a.Parent)
            {
                case AssignmentStatementAst s:
                    return s.Left == a;
                case UnaryExpressionAst u:
                    return u.TokenKind is TokenKind.PlusPlus or TokenKind.MinusMinus or TokenKind.PostfixPlusPlus or TokenKind.PostfixMinusMinus;
                case ArrayLiteralAst or ConvertExpressionAst or AttributedExpressionAst:
                    continue;
                default:
                    return false;
            }
        }

        return false;
    }

    private static Ast? Unwrap(StatementAst s) => s switch
    {
        CommandExpressionAst ce => ce.Expression,
        PipelineAst { PipelineElements.Count: 1 } p when p.PipelineElements[0] is CommandExpressionAst ce => ce.Expression,
        _ => null,
    };

    /// <summary>A write <c>$h.Key = ...</c> or <c>$h['Key'] = ...</c> to a private table: its name and key.</summary>
    private (string Name, string Key)? PrivateWrite(ExpressionAst left) => left switch
    {
        InvokeMemberExpressionAst => null,
        MemberExpressionAst { Static: false, Expression: VariableExpressionAst v, Member: StringConstantExpressionAst key } when Qualifier(v.VariablePath) is null && _private.Contains(Name(v.VariablePath)) => (Name(v.VariablePath), key.Value),
        IndexExpressionAst { Target: VariableExpressionAst v, Index: StringConstantExpressionAst key } when Qualifier(v.VariablePath) is null && _private.Contains(Name(v.VariablePath)) => (Name(v.VariablePath), key.Value),
        _ => null,
    };

    /// <summary>
    /// <c>Get-Variable [-Name] name -ValueOnly</c> with one constant name (no wildcard), nothing else, and
    /// no pipeline input: it reads that variable as <c>$name</c> does, and cannot change one. Its name, or null.
    /// </summary>
    private static string? PlainValueRead(CommandAst c)
    {
        if (c.InvocationOperator != TokenKind.Unknown || c.Parent is not PipelineAst pipeline || pipeline.PipelineElements[0] != c)
        {
            return null;
        }

        string? name = null;
        var valueOnly = false;
        var elements = c.CommandElements;
        for (var i = 1; i < elements.Count; i++)
        {
            if (elements[i] is CommandParameterAst p)
            {
                if (p.Argument is null && p.ParameterName.Length >= 2 && "ValueOnly".StartsWith(p.ParameterName, StringComparison.OrdinalIgnoreCase))
                {
                    valueOnly = true;
                    continue;
                }

                if (name is null && p.ParameterName.Length >= 1 && "Name".StartsWith(p.ParameterName, StringComparison.OrdinalIgnoreCase))
                {
                    var arg = p.Argument ?? (i + 1 < elements.Count ? elements[i + 1] as ExpressionAst : null);
                    if (p.Argument is null)
                    {
                        i++;
                    }

                    if (arg is StringConstantExpressionAst named)
                    {
                        name = named.Value;
                        continue;
                    }
                }

                return null;
            }

            if (name is null && elements[i] is StringConstantExpressionAst s)
            {
                name = s.Value;
                continue;
            }

            return null;
        }

        return valueOnly && !string.IsNullOrEmpty(name) && !WildcardPattern.ContainsWildcardCharacters(name) && name!.IndexOf(':') < 0 ? name : null;
    }

    // ---- aliasing: what a write through another reference could change ---------------------------

    private static readonly string[] VariableCommands = { "Get-Variable", "Set-Variable", "New-Variable", "Clear-Variable", "Remove-Variable" };

    private static readonly string[] ItemCommands =
    {
        "Get-Item", "Set-Item", "New-Item", "Remove-Item", "Clear-Item", "Copy-Item", "Move-Item", "Rename-Item", "Get-ChildItem",
        "Set-ItemProperty", "New-ItemProperty", "Clear-ItemProperty", "Set-Content", "Add-Content", "Clear-Content",
    };

    /// <summary>An argument of an item command that is computed, or names the variable: drive (also as Variable::x).</summary>
    private static bool MayNameAVariable(CommandElementAst e) => e switch
    {
        CommandParameterAst { Argument: { } arg } => MayNameAVariable(arg),
        CommandParameterAst => false,
        StringConstantExpressionAst s => s.Value.IndexOf("variable:", StringComparison.OrdinalIgnoreCase) >= 0,
        ConstantExpressionAst or ScriptBlockExpressionAst => false,
        _ => true,
    };

    /// <summary>
    /// The sound rule of issue 11 item 5, kept simple rather than chasing each alias: PowerShell's
    /// hashtables, arrays and objects are references, so once the script changes any of them in place
    /// (through a member or an index, a method, Add-Member), a value of that kind read from any variable
    /// may have been changed through another reference ($h2 = $h, $_, a foreach variable, a function's
    /// parameter, a list element) and is not known. Reaching variables by name (Get-Variable, the
    /// variable: drive, [ref], $ExecutionContext, dot-sourcing, code that is not read) may change any
    /// variable, so then none is known. Variables assigned inside a script block that may run in the
    /// script's own scope at a time the walk does not follow (Where-Object, Sort-Object...) are never known.
    /// </summary>
    private void Aliasing(ScriptBlockAst root)
    {
        string At(Ast a) => $"line {_unit.Map(a.Extent.StartLineNumber, a.Extent.StartColumnNumber).Line} ({Shorten(a.Extent.Text)})";

        foreach (var a in root.FindAll(x => x is AssignmentStatementAst, true).Cast<AssignmentStatementAst>())
        {
            if (_writeThrough is null && InPlace(a.Left) && !(a.Operator == TokenKind.Equals && PrivateWrite(a.Left) is not null))
            {
                _writeThrough = At(a);
            }
        }

        foreach (var u in root.FindAll(x => x is UnaryExpressionAst, true).Cast<UnaryExpressionAst>())
        {
            if (_writeThrough is null && u.TokenKind is TokenKind.PlusPlus or TokenKind.MinusMinus or TokenKind.PostfixPlusPlus or TokenKind.PostfixMinusMinus && InPlace(u.Child))
            {
                _writeThrough = At(u);
            }
        }

        foreach (var call in root.FindAll(x => x is InvokeMemberExpressionAst, true).Cast<InvokeMemberExpressionAst>())
        {
            if (call.Member is not StringConstantExpressionAst m || !CommandCatalog.IsPureMethod(m.Value))
            {
                _writeThrough ??= At(call);
                if (call.Member is StringConstantExpressionAst invoke && invoke.Value.StartsWith("Invoke", StringComparison.OrdinalIgnoreCase))
                {
                    Dynamic(call, At(call));
                }
            }
        }

        foreach (var v in root.FindAll(x => x is VariableExpressionAst, true).Cast<VariableExpressionAst>())
        {
            if (MapContext.Is(Name(v.VariablePath), "ExecutionContext", "PSCmdlet"))
            {
                Dynamic(v, At(v));
            }
        }

        foreach (var t in root.FindAll(x => x is TypeExpressionAst || x is ConvertExpressionAst, true))
        {
            var type = t is ConvertExpressionAst c ? c.Type.TypeName.FullName : ((TypeExpressionAst)t).TypeName.FullName;
            if (MapContext.Is(type, "ref", "System.Management.Automation.PSReference", "Management.Automation.PSReference", "PSReference", "PSVariable", "System.Management.Automation.PSVariable"))
            {
                Dynamic(t, At(t));
            }
        }

        foreach (var c in root.FindAll(x => x is CommandAst, true).Cast<CommandAst>())
        {
            var first = c.CommandElements[0];
            var name = c.InvocationOperator is TokenKind.Ampersand or TokenKind.Dot
                ? (first as StringConstantExpressionAst)?.Value
                : c.GetCommandName();
            if (c.InvocationOperator == TokenKind.Dot && first is not ScriptBlockExpressionAst)
            {
                // A dot-sourced function, script or script block variable runs in the script's own scope.
                Dynamic(c, At(c));
                continue;
            }

            if (name is null)
            {
                if (first is not ScriptBlockExpressionAst)
                {
                    Dynamic(c, At(c));
                }

                continue;
            }

            var slash = name.LastIndexOf('\\');
            if (slash > 0 && slash < name.Length - 1)
            {
                name = name.Substring(slash + 1);
            }

            var canonical = CommandCatalog.Aliases.TryGetValue(name, out var target) ? target : name;
            if (IsProse(c, name))
            {
                continue;
            }

            if (MapContext.Is(canonical, "Get-Variable") && PlainValueRead(c) is not null)
            {
                continue; // it reads one variable by its constant name, as $name does (a private table named so escapes: PrivateTables)
            }

            if (VariableCommands.Any(v => MapContext.Is(canonical, v)) || CommandCatalog.IsCodeRunner(canonical, out _) || IsPath(canonical) || CommandCatalog.IsInterpreter(canonical))
            {
                Dynamic(c, At(c));
            }
            else if (MapContext.Is(canonical, "New-PSDrive") || (ItemCommands.Any(i => MapContext.Is(canonical, i)) && c.CommandElements.Skip(1).Any(MayNameAVariable)))
            {
                // A path that is computed, or that is on the variable: drive, may name a variable.
                Dynamic(c, At(c));
            }
            else if (MapContext.Is(canonical, "Add-Member"))
            {
                _writeThrough ??= At(c);
            }
            else if (MapContext.Is(canonical, "ForEach-Object") && c.CommandElements.Skip(1).Any(e => e is StringConstantExpressionAst || (e is CommandParameterAst p && p.ParameterName.Length >= 3 && "MemberName".StartsWith(p.ParameterName, StringComparison.OrdinalIgnoreCase))))
            {
                _writeThrough ??= At(c);
            }
        }

        // A script block that is not run where it stands (& { } and . { } are, ForEach-Object's are in turn)
        // may run in the script's scope at any time: what it assigns is never known.
        foreach (var sb in root.FindAll(x => x is ScriptBlockExpressionAst, true).Cast<ScriptBlockExpressionAst>())
        {
            if (RunWhereItStands(sb))
            {
                continue;
            }

            foreach (var a in sb.ScriptBlock.FindAll(x => x is AssignmentStatementAst, true).Cast<AssignmentStatementAst>())
            {
                foreach (var target in Targets(a.Left))
                {
                    _poisoned.Add(target.Name);
                }
            }
        }
    }

    private void Dynamic(Ast at, string what)
    {
        var (line, column) = Where(at);
        _dynamicAccess.Add((at, line, column, what));
    }

    /// <summary>
    /// The first construct that reaches variables by name and can run before the read <paramref name="v"/>:
    /// one earlier in the answer, or one inside a loop, script block, function or trap that also holds the
    /// read (a later pass, call or invocation runs it first). Null when none can.
    /// </summary>
    private string? DynamicBefore(Ast v)
    {
        // A read in a function body happens when the function is called: what runs before the call counts too.
        foreach (var (call, at) in _callSites)
        {
            if (DynamicBefore(call, at) is { } before)
            {
                return before;
            }
        }

        return DynamicBefore(v, Where(v));
    }

    private string? DynamicBefore(Ast v, (int Line, int Column) at)
    {
        var (line, column) = at;
        foreach (var d in _dynamicAccess)
        {
            if (d.Line < line || (d.Line == line && d.Column <= column))
            {
                return d.What;
            }

            for (Ast? a = v.Parent; a is not null; a = a.Parent)
            {
                if ((a is LoopStatementAst or ForEachStatementAst or ScriptBlockExpressionAst or FunctionDefinitionAst or TrapStatementAst or SwitchStatementAst)
                    && a.Extent.StartOffset <= d.At.Extent.StartOffset && d.At.Extent.EndOffset <= a.Extent.EndOffset && ReferenceEquals(Root(a), Root(d.At)))
                {
                    return d.What;
                }
            }
        }

        return null;
    }

    private static T? Enclosing<T>(Ast a)
        where T : Ast
    {
        for (var p = a.Parent; p is not null; p = p.Parent)
        {
            if (p is T found)
            {
                return found;
            }
        }

        return null;
    }

    private static Ast Root(Ast a)
    {
        while (a.Parent is not null)
        {
            a = a.Parent;
        }

        return a;
    }

    private static bool RunWhereItStands(ScriptBlockExpressionAst sb)
    {
        var parent = sb.Parent is CommandParameterAst p ? p.Parent : sb.Parent;
        if (parent is not CommandAst c)
        {
            return false;
        }

        if (c.CommandElements[0] == sb)
        {
            return c.InvocationOperator is TokenKind.Ampersand or TokenKind.Dot;
        }

        var name = c.GetCommandName();
        return name is not null && (CommandCatalog.Aliases.TryGetValue(name, out var t) ? t : name).Equals("ForEach-Object", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Whether an assignment target changes a value in place (a member or an index) rather than a variable.</summary>
    private static bool InPlace(ExpressionAst left) => left switch
    {
        VariableExpressionAst => false,
        ConvertExpressionAst c => InPlace(c.Child),
        AttributedExpressionAst at => InPlace(at.Child),
        ArrayLiteralAst a => a.Elements.Any(InPlace),
        _ => true,
    };

    /// <summary>A hashtable, list or object: a reference that other variables may share.</summary>
    private static bool IsMutable(Value v) => v is TableValue or ListValue or EntityValue;

    /// <summary>What a variable read yields once the rules above apply.</summary>
    private Value Shared(string name, Value value, Ast v)
    {
        if (_private.Contains(name) && value is TableValue { HoldsOnlyScalars: true })
        {
            return value; // no other reference to it exists, and its changes in place are followed
        }

        if (_writeThrough is not null && IsMutable(value))
        {
            return new UnknownValue($"${name} holds {(value is TableValue ? "a hashtable" : value is ListValue ? "a list" : "an object")}, and the script changes such values in place at {_writeThrough}, possibly through another reference to the same one, so what ${name} holds at line {Where(v).Line} is not known", v.Extent);
        }

        return value;
    }

    private static readonly string[] VariableParameters =
    {
        "OutVariable", "ErrorVariable", "WarningVariable", "InformationVariable", "PipelineVariable", "ResponseHeadersVariable", "SessionVariable", "StatusCodeVariable",
    };

    /// <summary>-OutVariable, -ErrorVariable... (and their prefixes and aliases) make a command assign a variable.</summary>
    private static bool AssignsVariable(string parameter) =>
        parameter.EndsWith("Variable", StringComparison.OrdinalIgnoreCase) || parameter.EndsWith("Var", StringComparison.OrdinalIgnoreCase)
        || MapContext.Is(parameter, "ov", "ev", "wv", "iv", "pv", "rhv", "sv")
        || (parameter.Length >= 2 && VariableParameters.Any(v => v.StartsWith(parameter, StringComparison.OrdinalIgnoreCase)));

    /// <summary>The variables an assignment writes: Direct when the target is the variable itself ([type]$x counts).</summary>
    private static IEnumerable<(string Name, VariableExpressionAst? Direct)> Targets(ExpressionAst left)
    {
        switch (left)
        {
            case VariableExpressionAst v:
                yield return (Name(v.VariablePath), v);
                break;
            case ConvertExpressionAst { Child: VariableExpressionAst v }:
                yield return (Name(v.VariablePath), v);
                break;
            case ArrayLiteralAst a:
                foreach (var e in a.Elements)
                {
                    foreach (var t in Targets(e))
                    {
                        yield return (t.Name, null);
                    }
                }

                break;
            default:
                if (BaseVariable(left) is { } b)
                {
                    yield return (Name(b.VariablePath), null);
                }

                break;
        }
    }

    /// <summary>A variable's name without its scope or drive ($script:x and ${x} are x).</summary>
    private static string Name(VariablePath path)
    {
        var user = path.UserPath;
        var colon = user.IndexOf(':');
        return colon >= 0 ? user.Substring(colon + 1) : user;
    }

    /// <summary>The scope or drive before the colon ($script:x, $env:Path), or null.</summary>
    private static string? Qualifier(VariablePath path)
    {
        var user = path.UserPath;
        var colon = user.IndexOf(':');
        return colon > 0 ? user.Substring(0, colon) : null;
    }

    private static VariableExpressionAst? BaseVariable(Ast a) => a switch
    {
        VariableExpressionAst v => v,
        MemberExpressionAst m => BaseVariable(m.Expression),
        IndexExpressionAst i => BaseVariable(i.Target),
        ConvertExpressionAst c => BaseVariable(c.Child),
        AttributedExpressionAst at => BaseVariable(at.Child),
        _ => null,
    };

    // ---- statements ---------------------------------------------------------------------------

    private void WalkScript(ScriptBlockAst sb)
    {
        if (sb.ParamBlock is { } param)
        {
            foreach (var p in param.Parameters)
            {
                if (p.DefaultValue is { } d)
                {
                    Eval(d);
                }
            }
        }

        if (sb.DynamicParamBlock is { } dynamicParam)
        {
            WalkStatements(dynamicParam.Statements);
        }

        foreach (var block in new[] { sb.BeginBlock, sb.ProcessBlock, sb.EndBlock })
        {
            if (block is null)
            {
                continue;
            }

            if (block.Traps is { } traps)
            {
                foreach (var t in traps)
                {
                    Branches(() => Doubtful($"it is in a trap (line {Where(t).Line}), which runs only when an error is thrown", () => WalkStatements(t.Body.Statements)));
                }
            }

            WalkStatements(block.Statements);
        }
    }

    private void WalkStatements(IEnumerable<StatementAst> statements)
    {
        var list = statements as IReadOnlyList<StatementAst> ?? statements.ToList();
        for (var i = 0; i < list.Count; i++)
        {
            if (_flow is { } ended)
            {
                Skip(list.Skip(i), $"it comes after {Describe(ended)}");
                return;
            }

            WalkStatement(list[i]);
        }
    }

    private void WalkStatement(StatementAst s)
    {
        switch (s)
        {
            case AssignmentStatementAst a:
                Assign(a);
                break;
            case PipelineAst p:
                WalkPipeline(p);
                break;
            case CommandBaseAst command:
                WalkElement(command, 0, null);
                break;
            case IfStatementAst i:
                If(i);
                break;
            case ForEachStatementAst f:
                ForEach(f);
                break;
            case ForStatementAst f:
                EvalOptional(f.Initializer);
                Repeated(f, $"it is in a for loop (line {Where(f).Line}) whose passes are only known when the script runs", () =>
                {
                    EvalOptional(f.Condition);
                    EvalOptional(f.Iterator);
                    WalkStatements(f.Body.Statements);
                });
                break;
            case WhileStatementAst w when Truth(EvalStatement(w.Condition)) == false:
                Skip(new[] { w.Body }, $"the condition {Shorten(w.Condition.Extent.Text)} of the while loop is false");
                break;
            case LoopStatementAst loop:
                Repeated(loop, $"it is in a loop (line {Where(loop).Line}) whose passes are only known when the script runs", () =>
                {
                    EvalOptional(loop.Condition);
                    WalkStatements(loop.Body.Statements);
                });
                break;
            case SwitchStatementAst sw:
                EvalOptional(sw.Condition);
                Repeated(sw, $"it is in a clause of the switch at line {Where(sw).Line}, which runs only when its condition matches", () => Branches(sw.Clauses.Select(clause => (Action)(() =>
                {
                    Eval(clause.Item1);
                    WalkStatements(clause.Item2.Statements);
                })).Concat(new Action[] { () => WalkStatements(sw.Default?.Statements ?? (IEnumerable<StatementAst>)Array.Empty<StatementAst>()) }).ToArray()));
                break;
            case TryStatementAst t:
                Try(t);
                break;
            case TrapStatementAst trap:
                Branches(() => Doubtful($"it is in a trap (line {Where(trap).Line}), which runs only when an error is thrown", () => WalkStatements(trap.Body.Statements)));
                break;
            case FunctionDefinitionAst fn:
                DefineFunction(fn);
                break;
            case ReturnStatementAst r:
                EvalOptional(r.Pipeline);
                _flow ??= FlowKind.Return;
                break;
            case ThrowStatementAst t:
                EvalOptional(t.Pipeline);
                if (_hasTrap)
                {
                    Maybe(FlowKind.Throw, $"the throw at line {Where(t).Line} may be handled by a trap of the script, which may go on after it");
                }
                else
                {
                    _flow ??= FlowKind.Throw;
                }

                break;
            case ExitStatementAst e:
                EvalOptional(e.Pipeline);
                _flow ??= FlowKind.Exit;
                break;
            case BreakStatementAst or ContinueStatementAst:
            {
                var kind = s is BreakStatementAst ? FlowKind.Break : FlowKind.Continue;
                if ((s is BreakStatementAst { Label: not null } || s is ContinueStatementAst { Label: not null }))
                {
                    Maybe(FlowKind.Exit, $"the labelled {Describe(kind)} at line {Where(s).Line} leaves loops this cmdlet does not match to its label");
                }

                _flow ??= kind;
                break;
            }
            case DataStatementAst data:
                WalkStatements(data.Body.Statements);
                break;
            case BlockStatementAst block:
                WalkStatements(block.Body.Statements);
                break;
            case TypeDefinitionAst or UsingStatementAst or ConfigurationDefinitionAst or DynamicKeywordStatementAst:
                Refuse(s, SuggestionFindingKind.ParseTimeEffect, null, "a type, using, configuration or DSC statement makes PowerShell load code while reading the script.");
                break;
            default:
                // PipelineChainAst (&&, ||) and other newer statements: their commands are refused by the final check.
                Note($"line {_unit.Map(s.Extent.StartLineNumber, 1).Line}: a '{s.GetType().Name}' statement is not followed; the commands in it are refused.");
                break;
        }
    }

    private void EvalOptional(PipelineBaseAst? p)
    {
        if (p is not null)
        {
            EvalStatement(p);
        }
    }

    private Value EvalStatement(StatementAst s)
    {
        switch (s)
        {
            case PipelineAst p:
                return WalkPipeline(p);
            case CommandBaseAst command:
                return WalkElement(command, 0, null);
            case AssignmentStatementAst a:
                Assign(a);
                return new UnknownValue("the value of an assignment", s.Extent);
            default:
                WalkStatement(s);
                return new UnknownValue($"the result of a {Kind(s)}", s.Extent);
        }
    }

    private void Assign(AssignmentStatementAst a)
    {
        CheckAssignmentTarget(a.Left);
        EvalTargetParts(a.Left);
        var value = EvalStatement(a.Right);
        if (a.Operator == TokenKind.Equals && PrivateWrite(a.Left) is { } write)
        {
            // A key of a table no other reference reaches: the table changes, exactly.
            _vars[write.Name] = _vars.TryGetValue(write.Name, out var table) && table is TableValue t
                ? t.With(write.Key, value)
                : new UnknownValue($"${write.Name} is changed at line {Where(a).Line} while its value is not known", a.Extent);
            Assigned(write.Name);
            return;
        }

        var topLevel = a.Parent is NamedBlockAst nb && nb.Parent?.Parent is null;
        foreach (var (name, direct) in Targets(a.Left))
        {
            var followed = a.Operator == TokenKind.Equals && direct is not null && !_poisoned.Contains(name) && ScopeIsPlain(direct, topLevel);
            _vars[name] = followed ? value : new UnknownValue($"${name} is changed in a way this cmdlet does not follow at line {Where(a).Line} (through a member or an index, by += and the like, in another scope, or with several at once)", a.Extent);
            Assigned(name);

            // A loop's variable, or $_, assigned in its body: what the body reads after is the new value.
            for (var i = 0; i < _loopVars.Count; i++)
            {
                if (string.Equals(_loopVars[i].Key, name, StringComparison.OrdinalIgnoreCase))
                {
                    _loopVars[i] = new(name, _vars[name]);
                }
            }

            if (MapContext.Is(name, "_", "PSItem") && _item is not null)
            {
                _item = _vars[name];
            }
        }
    }

    // ---- how control flow changes what is known -----------------------------------------------

    private static string Describe(FlowKind kind) => kind switch
    {
        FlowKind.Return => "return",
        FlowKind.Exit => "exit",
        FlowKind.Throw => "throw",
        FlowKind.Break => "break",
        _ => "continue",
    };

    /// <summary>Why what is walked now may not run, or null when it surely runs (when nothing before it ended the script).</summary>
    private string? Doubt() => _doubt ?? (_maybe.Count > 0 ? _maybe[_maybe.Count - 1].Why : null);

    private void Maybe(FlowKind kind, string why) => _maybe.Add((kind, why));

    /// <summary>
    /// Walks code that may or may not run (a branch whose condition is not known, a catch block, a loop's
    /// body): a command in it that changes access is refused (SuggestionUnresolvedValue), never reported as if
    /// it ran. A return, exit, throw, break or continue in it may end what follows it, which is then in doubt too.
    /// </summary>
    private void Doubtful(string why, Action walk)
    {
        var saved = _doubt;
        _doubt ??= why;
        try
        {
            walk();
        }
        finally
        {
            _doubt = saved;
        }

        if (_flow is { } ended)
        {
            Maybe(ended, $"{why}, and it ends with {Describe(ended)}");
            _flow = null;
        }
    }

    /// <summary>Statements that never run (after a return, exit, throw, break or continue, or in a branch whose condition is false): not read, and not refused.</summary>
    private void Skip(IEnumerable<Ast> statements, string why)
    {
        foreach (var st in statements)
        {
            var commands = st.FindAll(x => x is CommandAst, true).ToList();
            foreach (var c in commands)
            {
                _visited.Add(c);
            }

            if (commands.Count > 0)
            {
                Note($"line {Where(st).Line}: never runs ({why}); not read.");
            }
        }
    }

    /// <summary>
    /// The end of a function's body or a script block: a return ends only it; a break or continue that
    /// leaves it (to a loop around the call, or to end the script) leaves in doubt all that follows.
    /// </summary>
    private void EndScope(int mark, string what)
    {
        if (_flow is FlowKind.Return)
        {
            _flow = null;
        }
        else if (_flow is FlowKind.Break or FlowKind.Continue)
        {
            Maybe(FlowKind.Exit, $"a {Describe(_flow.Value)} in {what} leaves it for a loop around it, or ends the script");
            _flow = null;
        }

        for (var i = _maybe.Count - 1; i >= mark; i--)
        {
            if (_maybe[i].Kind == FlowKind.Return)
            {
                _maybe.RemoveAt(i);
            }
            else if (_maybe[i].Kind is FlowKind.Break or FlowKind.Continue)
            {
                _maybe[i] = (FlowKind.Exit, _maybe[i].Why + $", which leaves {what} for a loop around it, or ends the script");
            }
        }
    }

    /// <summary>The end of one pass of a loop (or of a switch): a continue ends the pass, a break the loop; returns whether the loop goes on.</summary>
    private bool EndPass(int mark)
    {
        var more = _flow is null or FlowKind.Continue;
        if (_flow is FlowKind.Break or FlowKind.Continue)
        {
            _flow = null;
        }

        RemoveSince(mark, k => k == FlowKind.Continue);
        return more;
    }

    private void EndLoop(int mark) => RemoveSince(mark, k => k is FlowKind.Break or FlowKind.Continue);

    private void RemoveSince(int mark, Func<FlowKind, bool> which)
    {
        for (var i = _maybe.Count - 1; i >= mark && i >= 0; i--)
        {
            if (which(_maybe[i].Kind))
            {
                _maybe.RemoveAt(i);
            }
        }
    }

    /// <summary>What PowerShell makes of a value as a condition, or null when it is not known.</summary>
    private static bool? Truth(Value v) => v switch
    {
        BoolValue b => b.Value,
        NullValue => false,
        TextValue t => t.Text.Length > 0,
        NumberValue n => decimal.TryParse(n.Text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d != 0 : null,
        ListValue { Items.Count: 0 } => false,
        ListValue { Items.Count: 1 } l => Truth(l.Items[0]),
        ListValue => true,
        TableValue or EntityValue or ScriptBlockValue => true,
        _ => null,
    };

    /// <summary>
    /// An if statement: conditions are evaluated in order while they are known; a false one's block never
    /// runs, a true one's surely runs (and nothing after it in the statement does). From the first condition
    /// that is not known on, each block may or may not run.
    /// </summary>
    private void If(IfStatementAst i)
    {
        string? doubt = null;
        var options = new List<Action>();
        for (var k = 0; k < i.Clauses.Count; k++)
        {
            var (condition, body) = i.Clauses[k];
            if (doubt is null)
            {
                var truth = Truth(EvalStatement(condition));
                if (_flow is not null || truth == false)
                {
                    Skip(new[] { body }, $"the condition {Shorten(condition.Extent.Text)} is false");
                    continue;
                }

                if (truth == true)
                {
                    WalkStatements(body.Statements);
                    Skip(i.Clauses.Skip(k + 1).Select(c => (Ast)c.Item2).Concat(i.ElseClause is { } e ? new[] { e } : Array.Empty<Ast>()),
                        $"an earlier condition of the if statement, {Shorten(condition.Extent.Text)}, is true");
                    return;
                }

                doubt = $"it is in a branch whose condition {Shorten(condition.Extent.Text)} (line {Where(condition).Line}) is only known when the script runs";
                options.Add(() => Doubtful(doubt, () => WalkStatements(body.Statements)));
            }
            else
            {
                var why = doubt;
                options.Add(() => Doubtful(why, () =>
                {
                    EvalStatement(condition);
                    WalkStatements(body.Statements);
                }));
            }
        }

        if (doubt is null)
        {
            WalkStatements(i.ElseClause?.Statements ?? (IEnumerable<StatementAst>)Array.Empty<StatementAst>());
            return;
        }

        options.Add(() => Doubtful(doubt, () => WalkStatements(i.ElseClause?.Statements ?? (IEnumerable<StatementAst>)Array.Empty<StatementAst>())));
        Branches(options.ToArray());
    }

    private void Try(TryStatementAst t)
    {
        var mark = _maybe.Count;
        FlowKind? ended = null;
        Branches(new Action[]
            {
                () =>
                {
                    WalkStatements(t.Body.Statements);
                    ended = _flow;
                    _flow = null;
                },
            }
            .Concat(t.CatchClauses.Select(c => (Action)(() => Doubtful($"it is in a catch block (line {Where(c).Line}), which runs only when an error is thrown", () => WalkStatements(c.Body.Statements)))))
            .ToArray());
        if (t.Finally is { } fin)
        {
            WalkStatements(fin.Statements);
        }

        var catchesAll = t.CatchClauses.Any(c => c.IsCatchAll);
        if (catchesAll)
        {
            RemoveSince(mark, k => k == FlowKind.Throw);
        }

        if (ended == FlowKind.Throw)
        {
            if (!catchesAll)
            {
                Maybe(FlowKind.Throw, $"the throw in the try block at line {Where(t).Line} may not be caught");
            }
        }
        else if (ended is not null)
        {
            _flow ??= ended;
        }
    }

    private void Assigned(string name)
    {
        if (_assigned.Count > 0)
        {
            _assigned[_assigned.Count - 1].Add(name);
        }
    }

    /// <summary>
    /// Branches that may or may not run (if, switch, try, trap): each is read from the state before it,
    /// and what any of them assigns is unknown after them.
    /// </summary>
    private void Branches(params Action[] branches)
    {
        var before = new Dictionary<string, Value>(_vars, StringComparer.OrdinalIgnoreCase);
        var assigned = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var branch in branches)
        {
            Restore(before);
            assigned.UnionWith(Tracked(branch));
        }

        Restore(before);
        foreach (var name in assigned)
        {
            _vars[name] = new UnknownValue($"${name} is assigned in a branch that may or may not run");
            Assigned(name);
        }
    }

    /// <summary>A body that runs an unknown number of times: what it assigns is unknown inside it and after it.</summary>
    private void Repeated(Ast body, string why, Action walk, bool scope = false)
    {
        var names = body.FindAll(x => x is AssignmentStatementAst, true).Cast<AssignmentStatementAst>()
            .SelectMany(a => Targets(a.Left)).Select(t => t.Name).ToList();
        foreach (var name in names)
        {
            _vars[name] = new UnknownValue($"${name} changes from one pass of a loop to the next");
        }

        // It may run any number of times, or not at all: what it does is in doubt.
        var mark = _maybe.Count;
        var inner = Tracked(() => Doubtful(why, () =>
        {
            walk();
            if (scope)
            {
                EndScope(mark, "the script block");
            }
            else
            {
                EndPass(mark);
            }
        }));
        if (!scope)
        {
            EndLoop(mark);
        }

        foreach (var name in names.Concat(inner))
        {
            _vars[name] = new UnknownValue($"${name} changes from one pass of a loop to the next");
            Assigned(name);
        }
    }

    /// <summary>
    /// A child scope (a function body, a script block): what it assigns stays in it. A function's body
    /// (<paramref name="inherit"/> false) does not see the script's variables, which are the caller's
    /// when it is called.
    /// </summary>
    private void ChildScope(bool inherit, Action walk)
    {
        var saved = new Dictionary<string, Value>(_vars, StringComparer.OrdinalIgnoreCase);
        var savedLoops = _loopVars.ToList();
        var savedItem = _item;
        if (!inherit)
        {
            _vars.Clear();
            _loopVars.Clear();
            _item = null;
        }

        try
        {
            Tracked(walk);
        }
        finally
        {
            Restore(saved);
            _loopVars.Clear();
            _loopVars.AddRange(savedLoops);
            _item = savedItem;
        }
    }

    private HashSet<string> Tracked(Action walk)
    {
        var set = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        _assigned.Add(set);
        try
        {
            walk();
        }
        finally
        {
            _assigned.RemoveAt(_assigned.Count - 1);
        }

        return set;
    }

    private void Restore(Dictionary<string, Value> state)
    {
        _vars.Clear();
        foreach (var kv in state)
        {
            _vars[kv.Key] = kv.Value;
        }
    }

    /// <summary>An assignment target's own value is not read, only the expressions inside it (indexes, computed members).</summary>
    private void EvalTargetParts(ExpressionAst left)
    {
        switch (left)
        {
            case IndexExpressionAst ix:
                Eval(ix.Index);
                EvalTargetParts(ix.Target);
                break;
            case MemberExpressionAst m:
                if (m.Member is ExpressionAst computed and not StringConstantExpressionAst)
                {
                    Eval(computed);
                }

                EvalTargetParts(m.Expression);
                break;
            case AttributedExpressionAst at:
                EvalTargetParts(at.Child);
                break;
            case ArrayLiteralAst a:
                foreach (var e in a.Elements)
                {
                    EvalTargetParts(e);
                }

                break;
            case VariableExpressionAst:
                break;
            default:
                Eval(left);
                break;
        }
    }

    private void CheckAssignmentTarget(ExpressionAst left)
    {
        foreach (var v in left.FindAll(x => x is VariableExpressionAst, false).Cast<VariableExpressionAst>())
        {
            var path = v.VariablePath;
            var drive = Qualifier(path) ?? string.Empty;
            var name = Name(path);
            if (MapContext.Is(drive, "function", "alias"))
            {
                Refuse(v, SuggestionFindingKind.ExecutesCode, null, $"it defines the {drive.ToLowerInvariant()} '{name}', so a later command of that name could do anything.");
            }
            else if (MapContext.Is(drive, "env") && MapContext.Is(name, "PSModulePath", "Path"))
            {
                Refuse(v, SuggestionFindingKind.ExecutesCode, null, $"it changes $env:{name}, so later commands could come from modules or programs outside the suggestion.");
            }
            else if (MapContext.Is(name, "PSDefaultParameterValues"))
            {
                Refuse(v, SuggestionFindingKind.ExecutesCode, null, "it changes $PSDefaultParameterValues, which gives later commands parameters the suggestion does not show.");
            }
        }
    }

    /// <summary>A variable of the current scope: unqualified or local:/private:, and script:/global: only at the top of the script.</summary>
    private static bool ScopeIsPlain(VariableExpressionAst v, bool topLevel)
    {
        var drive = Qualifier(v.VariablePath);
        return drive is null || MapContext.Is(drive, "local", "private") || (topLevel && MapContext.Is(drive, "script", "global", "variable"));
    }

    private void ForEach(ForEachStatementAst f)
    {
        var collection = EvalStatement(f.Condition);
        var name = Name(f.Variable.VariablePath);
        var items = collection switch
        {
            ListValue l when l.Items.Count <= MaxUnroll => l.Items,
            ListValue l => new Value[] { new UnknownValue($"${name} goes through {l.Items.Count} values, more than are followed", f.Condition.Extent) },
            UnknownValue u => new Value[] { new UnknownValue($"${name} goes through values that are not known ({u.Why})", f.Condition.Extent) },
            NullValue => Array.Empty<Value>(),
            var single => new[] { single },
        };

        void Body(Value item)
        {
            _loopVars.Add(new(name, item));
            try
            {
                WalkStatements(f.Body.Statements);
            }
            finally
            {
                _loopVars.RemoveAt(_loopVars.Count - 1);
            }
        }

        if (items.Count == 1 && items[0] is UnknownValue unknown)
        {
            Repeated(f.Body, $"it is in a foreach loop whose values are not known, so it may run any number of times or not at all ({unknown.Why})", () => Body(items[0]));
            return;
        }

        if (items.Count == 0)
        {
            Skip(new[] { f.Body }, $"the foreach loop at line {Where(f).Line} goes through no values");
            return;
        }

        // Unrolled: each pass is read in turn (a continue ends one, a break the loop); an error may end the loop early, so what it assigns is unknown after it.
        var mark = _maybe.Count;
        var assigned = Tracked(() =>
        {
            foreach (var item in items)
            {
                var pass = _maybe.Count;
                Body(item);
                if (!EndPass(pass))
                {
                    break;
                }
            }
        });
        EndLoop(mark);
        foreach (var n in assigned)
        {
            _vars[n] = new UnknownValue($"${n} is assigned in a loop that may end early");
            Assigned(n);
        }
    }

    private void DefineFunction(FunctionDefinitionAst fn)
    {
        var name = fn.Name;
        if (CommandCatalog.Find(name) is not null || CommandCatalog.IsHarmless(name) || CommandCatalog.Aliases.ContainsKey(name)
            || CommandCatalog.IsCodeRunner(name, out _) || Lookups.IsLookup(name) || MapContext.Is(name, "Connect-PnPOnline", "ForEach-Object", "Where-Object", "ConvertTo-Json", "Import-Module", "New-Object"))
        {
            Refuse(fn, SuggestionFindingKind.ExecutesCode, name, $"it defines a function named {name}, which would replace the command of that name for the rest of the script.");
        }

        // Defined at the top level of a unit, a function is (re)defined where the walk meets it, as PowerShell
        // runs the definition: a call runs the body defined last before it.
        _functions.Add(name);
        if (IsTopLevel(fn) && !_nestedDefinitions.Contains(name))
        {
            _definitions[name] = (fn, _unit);
        }
    }

    /// <summary>
    /// A call of a function of the script: its body is read there, as PowerShell runs it, in a child scope
    /// that sees the caller's variables as they are at the call (its parameters are not known). A function
    /// that is never called does nothing; what is in it is refused by the last pass, since only a call
    /// this cmdlet does not follow could run it.
    /// </summary>
    private void CallFunction(CommandAst c, string name, string display, int position)
    {
        if (!_definitions.TryGetValue(name, out var definition) || position > 0 || _callSites.Count >= MaxCallDepth
            || _callSites.Any(s => string.Equals(s.Call.GetCommandName(), c.GetCommandName(), StringComparison.OrdinalIgnoreCase)))
        {
            ScanArguments(c, 1);
        }

        if (!_definitions.TryGetValue(name, out definition))
        {
            Refuse(c, SuggestionFindingKind.DynamicValue, display, $"the function {name} is defined inside a block, a branch or another function, so which body this call runs is only known when the script runs.");
            return;
        }

        if (position > 0)
        {
            Refuse(c, SuggestionFindingKind.DynamicValue, display, $"it pipes objects into the function {name}, so how often its body runs and on what is only known when the script runs.");
            return;
        }

        if (_callSites.Count >= MaxCallDepth || _callSites.Any(s => string.Equals(s.Call.GetCommandName(), c.GetCommandName(), StringComparison.OrdinalIgnoreCase)))
        {
            Refuse(c, SuggestionFindingKind.DynamicValue, display, $"the function {name} calls itself, or calls nest deeper than {MaxCallDepth}; this cmdlet stops there rather than guess.");
            return;
        }

        var fn = definition.Ast;
        var declared = (fn.Parameters ?? fn.Body.ParamBlock?.Parameters ?? (IEnumerable<ParameterAst>)Array.Empty<ParameterAst>()).ToList();
        var parameters = declared.Select(p => Name(p.Name.VariablePath)).ToList();
        var bound = BindArguments(c, fn, declared, out var unbindable);
        Note($"line {Where(c).Line}: {name} is a function of the script; its body was read where it is called.");
        var caller = _unit;
        _callSites.Add((c, Where(c)));
        _unit = definition.Unit;
        try
        {
            ChildScope(inherit: true, () =>
            {
                // Its parameters and $_ are its own, never the caller's variables of the same name: bound to
                // the call's arguments (evaluated in the caller), else their defaults (evaluated in the function), else $null.
                foreach (var p in declared)
                {
                    var pn = Name(p.Name.VariablePath);
                    _vars[pn] = unbindable is not null ? new UnknownValue($"${pn} is a parameter of the function {name}, and {unbindable}")
                        : bound.TryGetValue(pn, out var given) ? Typed(p, given, name)
                        : p.DefaultValue is { } d ? Typed(p, Eval(d), name)
                        : NullValue.Instance;
                }

                _loopVars.RemoveAll(v => parameters.Contains(v.Key, StringComparer.OrdinalIgnoreCase));
                _item = null;
                var mark = _maybe.Count;
                WalkScript(fn.Body);
                EndScope(mark, $"the function {name}");
            });
        }
        finally
        {
            _unit = caller;
            _callSites.RemoveAt(_callSites.Count - 1);
        }
    }

    /// <summary>
    /// Binds a call's arguments to a simple function's parameters as PowerShell does: by name (a unique
    /// prefix), then the rest by position in the order they are declared; what is left over goes to $args.
    /// Every argument is evaluated, in the caller. <paramref name="unbindable"/> says why the binding is not
    /// followed (an advanced function, attributes, a switch, a splat, a name that is not a parameter).
    /// </summary>
    private Dictionary<string, Value> BindArguments(CommandAst c, FunctionDefinitionAst fn, IReadOnlyList<ParameterAst> declared, out string? unbindable)
    {
        unbindable = fn.Body.ParamBlock is { Attributes.Count: > 0 } ? "the function is an advanced one ([CmdletBinding()]), whose binding this cmdlet does not follow" : null;
        foreach (var p in declared)
        {
            if (p.Attributes.Any(a => a is not TypeConstraintAst) || p.Attributes.OfType<TypeConstraintAst>().Any(t => MapContext.Is(t.TypeName.FullName, "switch", "SwitchParameter", "System.Management.Automation.SwitchParameter")))
            {
                unbindable ??= $"${Name(p.Name.VariablePath)} has attributes or is a switch, whose binding this cmdlet does not follow";
            }
        }

        var names = declared.Select(p => Name(p.Name.VariablePath)).ToList();
        var bound = new Dictionary<string, Value>(StringComparer.OrdinalIgnoreCase);
        var positional = new List<Value>();
        var elements = c.CommandElements;
        for (var i = 1; i < elements.Count; i++)
        {
            switch (elements[i])
            {
                case CommandParameterAst p:
                    var arg = p.Argument;
                    if (arg is null && i + 1 < elements.Count && elements[i + 1] is ExpressionAst next)
                    {
                        arg = next;
                        i++;
                    }

                    var value = arg is null ? null : Eval(arg);
                    var matches = names.Where(n => n.StartsWith(p.ParameterName, StringComparison.OrdinalIgnoreCase)).ToList();
                    var target = matches.FirstOrDefault(n => n.Equals(p.ParameterName, StringComparison.OrdinalIgnoreCase)) ?? (matches.Count == 1 ? matches[0] : null);
                    if (target is null || value is null || bound.ContainsKey(target))
                    {
                        unbindable ??= $"-{p.ParameterName} does not name one of its parameters once, with a value";
                    }
                    else
                    {
                        bound[target] = value;
                    }

                    break;
                case VariableExpressionAst { Splatted: true } splat:
                    Eval(splat);
                    unbindable ??= $"the call splats @{splat.VariablePath.UserPath}, whose binding this cmdlet does not follow";
                    break;
                case ExpressionAst x:
                    positional.Add(Eval(x));
                    break;
            }
        }

        var free = names.Where(n => !bound.ContainsKey(n)).ToList();
        for (var k = 0; k < positional.Count && k < free.Count; k++)
        {
            bound[free[k]] = positional[k];
        }

        return bound;
    }

    /// <summary>A parameter's value after its type constraint: [string] and [object] are followed, other conversions are not.</summary>
    private static Value Typed(ParameterAst p, Value value, string function)
    {
        var types = p.Attributes.OfType<TypeConstraintAst>().Select(t => t.TypeName.FullName).ToList();
        if (types.Count == 0 || (types.Count == 1 && MapContext.Is(types[0], "object", "System.Object", "psobject")))
        {
            return value;
        }

        if (types.Count == 1 && MapContext.Is(types[0], "string", "System.String"))
        {
            switch (value)
            {
                case TextValue or UnknownValue:
                    return value;
                case NumberValue n:
                    return new TextValue(n.Text);
                case NullValue:
                    return new TextValue(string.Empty);
            }
        }

        return new UnknownValue($"${Name(p.Name.VariablePath)} of the function {function} is converted to [{string.Join("][", types)}], which this cmdlet does not follow", p.Extent);
    }

    // ---- pipelines and commands ----------------------------------------------------------------

    private Value WalkPipeline(PipelineAst p)
    {
        Value? upstream = null;
        for (var i = 0; i < p.PipelineElements.Count; i++)
        {
            upstream = WalkElement(p.PipelineElements[i], i, upstream);
        }

        return upstream ?? NullValue.Instance;
    }

    /// <summary>One element of a pipeline (an assignment's right side is one too): an expression or a command.</summary>
    private Value WalkElement(CommandBaseAst element, int position, Value? input)
    {
        CheckRedirections(element.Redirections);
        return element switch
        {
            CommandExpressionAst ce => Eval(ce.Expression),
            CommandAst c => Command(c, position, input),
            _ => new UnknownValue("a pipeline element", element.Extent),
        };
    }

    private void CheckRedirections(IEnumerable<RedirectionAst> redirections)
    {
        foreach (var r in redirections)
        {
            if (r is FileRedirectionAst f && Eval(f.Location) is TextValue { Text: var target } && target.StartsWith("variable:", StringComparison.OrdinalIgnoreCase))
            {
                Refuse(r, SuggestionFindingKind.ExecutesCode, null, "it redirects output into a variable, which this cmdlet does not follow.");
            }
        }
    }

    private Value Command(CommandAst c, int position, Value? input)
    {
        if (++_steps > MaxSteps)
        {
            throw new StepLimit();
        }

        _visited.Add(c);
        string? name;
        if (c.InvocationOperator == TokenKind.Ampersand || c.InvocationOperator == TokenKind.Dot)
        {
            var first = c.CommandElements[0];
            if (first is ScriptBlockExpressionAst block)
            {
                ScanArguments(c, 1);
                var mark = _maybe.Count;
                if (c.InvocationOperator == TokenKind.Dot)
                {
                    WalkScript(block.ScriptBlock);
                }
                else
                {
                    ChildScope(inherit: true, () => WalkScript(block.ScriptBlock));
                }

                EndScope(mark, "the script block");

                return new UnknownValue("the output of a script block", c.Extent);
            }

            name = first is StringConstantExpressionAst s ? s.Value : null;
            if (name is null)
            {
                Refuse(c, SuggestionFindingKind.ExecutesCode, null, $"'{Op(c)}' runs a command whose name is computed ({first.Extent.Text}), so what runs is only known when the script runs.");
                ScanArguments(c, 0);
                return new UnknownValue("the output of a computed command", c.Extent);
            }
        }
        else
        {
            name = c.GetCommandName();
            if (name is null)
            {
                Refuse(c, SuggestionFindingKind.ExecutesCode, null, "the command's name is computed, so what runs is only known when the script runs.");
                ScanArguments(c, 0);
                return new UnknownValue("the output of a computed command", c.Extent);
            }
        }

        if (c.CommandElements.Skip(1).Any(e => e.Extent.Text.StartsWith("--%", StringComparison.Ordinal)))
        {
            Refuse(c, SuggestionFindingKind.ExecutesCode, name, "--% passes the rest of the line to the command unparsed, so its arguments cannot be read.");
            return new UnknownValue("the output of a command", c.Extent);
        }

        string? module = null;
        var slash = name.LastIndexOf('\\');
        if (slash > 0 && slash < name.Length - 1 && name.IndexOf('/') < 0 && name.IndexOf(':') < 0 && !name.StartsWith(".", StringComparison.Ordinal))
        {
            module = name.Substring(0, slash);
            name = name.Substring(slash + 1);
        }

        if (IsProse(c, name))
        {
            ScanArguments(c, 1); // "Then:" on a line of its own in an answer read as a script
            return new UnknownValue("the output of a word of prose", c.Extent);
        }

        if (IsPath(name))
        {
            Refuse(c, SuggestionFindingKind.ExecutesCode, name, $"it runs the script or program '{name}', whose content is not part of the suggestion.");
            ScanArguments(c, 1);
            return new UnknownValue("the output of a script", c.Extent);
        }

        var canonical = CommandCatalog.Aliases.TryGetValue(name, out var target) ? target : name;
        var display = canonical == name ? name : $"{name} ({canonical})";
        if (Judge(c, canonical, display, module, position, input) is { } value)
        {
            return value;
        }

        return new UnknownValue($"the output of {canonical}", c.Extent);
    }

    /// <summary>Decides what a command is and handles it; returns its output when known.</summary>
    private Value? Judge(CommandAst c, string name, string display, string? module, int position, Value? input)
    {
        if (CommandCatalog.IsCodeRunner(name, out var reason))
        {
            Refuse(c, SuggestionFindingKind.ExecutesCode, display, reason + ".");
            ScanArguments(c, 1);
            return null;
        }

        if (CommandCatalog.IsInterpreter(name))
        {
            var encoded = c.CommandElements.OfType<CommandParameterAst>().Any(p => "EncodedCommand".StartsWith(p.ParameterName, StringComparison.OrdinalIgnoreCase) && p.ParameterName.Length >= 1 && p.ParameterName.Length <= 14 && p.ParameterName.StartsWith("e", StringComparison.OrdinalIgnoreCase));
            Refuse(c, SuggestionFindingKind.ExecutesCode, display, encoded
                ? "it runs an encoded command (-EncodedCommand): base64 text that is only decoded when it runs."
                : "it starts another shell or interpreter, whose commands this cmdlet cannot read.");
            ScanArguments(c, 1);
            return null;
        }

        if (CommandCatalog.IsAccessTool(name))
        {
            Refuse(c, SuggestionFindingKind.UnknownCommand, display, "it is a command-line tool (or, in Windows PowerShell, an alias of Invoke-WebRequest) whose arguments this cmdlet does not read, and it can change access.");
            ScanArguments(c, 1);
            return null;
        }

        if (_functions.Contains(name) && c.InvocationOperator == TokenKind.Dot)
        {
            Refuse(c, SuggestionFindingKind.ExecutesCode, display, $"it dot-sources the function {name}, so the variables it sets become the script's, which this cmdlet does not follow.");
            ScanArguments(c, 1);
            return null;
        }

        if (_functions.Contains(name))
        {
            CallFunction(c, name, display, position);
            return null;
        }

        if (CommandCatalog.Find(name) is { } spec)
        {
            if (module is not null && !spec.Family.OwnsModule(module))
            {
                Refuse(c, SuggestionFindingKind.UnknownCommand, display, $"{module}\\{name} is not the {name} of {spec.Family.Display}, so what it does is not known.");
                ScanArguments(c, 1);
                return null;
            }

            if (position > 0)
            {
                Refuse(c, SuggestionFindingKind.DynamicValue, display, "it takes its input from the pipeline, so which objects it acts on is only known when the script runs.");
                ScanArguments(c, 1);
                return null;
            }

            Map(spec, c, display);
            return null;
        }

        if (Lookups.IsLookup(name))
        {
            Note($"line {Where(c).Line}: {display} only reads; what it returns is looked up in the snapshot.");
            return Lookup(c, name);
        }

        if (MapContext.Is(name, "Get-Variable") && PlainValueRead(c) is { } variable)
        {
            return ReadName(variable, c);
        }

        switch (name.ToLowerInvariant())
        {
            case "connect-pnponline":
                return ConnectPnP(c);
            case "foreach-object":
                return ForEachObject(c, input);
            case "where-object":
                ScanArguments(c, 1);
                return new UnknownValue("a filtered list", c.Extent);
            case "convertto-json":
                return ConvertToJson(c, input);
            case "import-module":
                return ImportModule(c, display);
            case "new-object":
                return NewObject(c, display);
        }

        if (CommandCatalog.IsHarmless(name))
        {
            ScanArguments(c, 1);
            CheckDriveArguments(c, display);
            return null;
        }

        var verbNoun = CommandCatalog.VerbNoun(name);
        if (verbNoun is { } vn && CommandCatalog.IsReadVerb(vn.Verb))
        {
            Note($"line {Where(c).Line}: {display} only reads; ignored.");
            ScanArguments(c, 1);
            return null;
        }

        if (_lenient && (verbNoun is null || !CommandCatalog.IsApprovedVerb(verbNoun.Value.Verb)))
        {
            ScanArguments(c, 1); // a word of prose read as a command; what is nested in it is still read
            return null;
        }

        var family = verbNoun is { } v2 ? CommandCatalog.FamilyOf(v2.Noun) : null;
        Refuse(c, SuggestionFindingKind.UnknownCommand, display, family is not null
            ? $"it is not a {family} command this cmdlet knows, and it may change access."
            : verbNoun is null
                ? "it is not a command this cmdlet knows (a program, an alias or a function defined elsewhere), and it may change access."
                : "it is not a command this cmdlet knows, and it may change access.");
        ScanArguments(c, 1);
        return null;
    }

    private void Map(CommandSpec spec, CommandAst c, string display)
    {
        var evaluated = new HashSet<Ast>();
        try
        {
            var bound = Bind(spec, c, evaluated);
            foreach (var p in spec.Params.Where(p => p.Refusal is not null && bound.Has(p.Name)))
            {
                throw new SuggestionRefusal(SuggestionFindingKind.Unmappable, $"-{p.Name}: {p.Refusal}.");
            }

            var context = new MapContext(_names, _pnpSite);
            spec.MapAction(bound, context);
            if (context.Operations.Count > 0 && Doubt() is { } doubt)
            {
                // Reported, it would be approved as if it ran; refused, the approver sees why it may not.
                throw new SuggestionRefusal(SuggestionFindingKind.DynamicValue, $"whether it runs is only known when the script runs: {doubt}.");
            }

            var (line, column) = Where(c);
            Record(line, column, spec.Name, display, Shorten(c.Extent.Text), context);
        }
        catch (SuggestionRefusal r)
        {
            Refuse(c, r.Kind, display, r.Message, r.Candidates);
            for (var i = 1; i < c.CommandElements.Count; i++)
            {
                var e = c.CommandElements[i] is CommandParameterAst p ? p.Argument : c.CommandElements[i] as ExpressionAst;
                if (e is not null && !evaluated.Contains(e))
                {
                    Eval(e);
                }
            }
        }
    }

    /// <summary>Maps a raw web request (an ```http block of an answer) at a line of a unit.</summary>
    public void MapRequest(CodeUnit unit, int line, string text, GraphRequest? request, string method, string uri)
    {
        _unit = unit;
        var (l, c) = unit.Map(line, 1);
        var display = $"{method.ToUpperInvariant()} {uri}";
        if (request is null)
        {
            if (MapContext.Is(method, "GET", "HEAD", "OPTIONS"))
            {
                Note($"line {l}: {display} only reads; ignored.");
            }
            else
            {
                AddFinding(new SuggestionFinding(SuggestionFindingKind.Unmappable, l, c, display, Shorten(text), "it is not a Microsoft Graph request; what it changes cannot be told.", null, _source));
            }

            return;
        }

        var context = new MapContext(_names, null);
        try
        {
            GraphMapper.Map(request, context);
            Record(l, c, "HTTP " + method.ToUpperInvariant(), display, Shorten(text), context);
        }
        catch (SuggestionRefusal r)
        {
            AddFinding(new SuggestionFinding(r.Kind, l, c, display, Shorten(text), r.Message, r.Candidates, _source));
        }
    }

    /// <summary>Keeps what a command maps to, once per place and result (an unrolled loop meets the same command again).</summary>
    private void Record(int line, int column, string command, string display, string text, MapContext context)
    {
        if (context.Operations.Count == 0)
        {
            Note($"line {line}: {display}: {context.Ignored ?? "it changes nothing the change model previews"}; ignored.");
            return;
        }

        if (!_commandKeys.Add((line, column, string.Join(";", context.Operations))))
        {
            return;
        }

        _commands.Add(new SuggestedCommand(line, column, command, text, context.Operations.ToList(),
            context.Approximations.Count > 0 ? MappingFidelity.Approximate : MappingFidelity.Exact,
            context.Approximations.Count == 0 ? null : string.Join("; ", context.Approximations), context.Resolutions.ToList()));
    }

    /// <summary>
    /// Binds a command's arguments the way PowerShell's binder does: -Name value, -Name:value,
    /// unambiguous prefixes and aliases, switches, splatted literal hashtables (@params) and lists,
    /// then positional arguments in the order of their parameters' positions.
    /// </summary>
    private BoundCommand Bind(CommandSpec spec, CommandAst c, HashSet<Ast> evaluated)
    {
        var bound = new BoundCommand(spec, c);
        var positional = new List<(Value Value, Ast At)>();
        var elements = c.CommandElements;
        for (var i = 1; i < elements.Count; i++)
        {
            var e = elements[i];
            if (e is CommandParameterAst p)
            {
                var param = spec.Find(p.ParameterName);
                Value value;
                Ast at = p;
                if (p.Argument is { } arg)
                {
                    value = EvalArgument(arg, evaluated);
                    at = arg;
                }
                else if (param.IsSwitch)
                {
                    value = BoolValue.True;
                }
                else if (i + 1 < elements.Count && elements[i + 1] is ExpressionAst next)
                {
                    value = EvalArgument(next, evaluated);
                    at = next;
                    i++;
                }
                else
                {
                    throw new SuggestionRefusal(SuggestionFindingKind.Unmappable, $"-{param.Name} has no value, and PowerShell would refuse to run the command.");
                }

                bound.Bind(param, value, at);
            }
            else if (e is VariableExpressionAst { Splatted: true } splat)
            {
                evaluated.Add(splat);
                var value = ReadVariable(splat);
                switch (value)
                {
                    case TableValue t:
                        foreach (var entry in t.Entries)
                        {
                            var param = spec.Find(entry.Key);
                            bound.Bind(param, entry.Value, splat);
                        }

                        break;
                    case ListValue l:
                        positional.AddRange(l.Items.Select(item => (item, (Ast)splat)));
                        break;
                    case UnknownValue u:
                        throw new SuggestionRefusal(SuggestionFindingKind.DynamicValue, $"it splats @{splat.VariablePath.UserPath}, which is not known before the script runs: {u.Why}.");
                    default:
                        throw new SuggestionRefusal(SuggestionFindingKind.Unmappable, $"it splats @{splat.VariablePath.UserPath}, which is {value.Describe()}, not a hashtable or a list.");
                }
            }
            else if (e is ExpressionAst x)
            {
                positional.Add((EvalArgument(x, evaluated), x));
            }
        }

        var slots = spec.Params.Where(p => p.Position >= 0).OrderBy(p => p.Position).ToList();
        foreach (var (value, at) in positional)
        {
            var slot = slots.FirstOrDefault(s => !bound.IsBound(s.Name))
                ?? throw new SuggestionRefusal(SuggestionFindingKind.Unmappable,
                    $"the argument {Shorten(at.Extent.Text)} is positional, and {spec.Name} has no positional parameter left for it that this cmdlet knows; name the parameter.");
            bound.Bind(slot, value, at);
        }

        return bound;
    }

    private Value EvalArgument(ExpressionAst e, HashSet<Ast> evaluated)
    {
        evaluated.Add(e);
        return Eval(e);
    }

    /// <summary>Reads the arguments of a command that is not mapped, for the commands and calls nested in them.</summary>
    private void ScanArguments(CommandAst c, int from)
    {
        for (var i = from; i < c.CommandElements.Count; i++)
        {
            switch (c.CommandElements[i])
            {
                case CommandParameterAst { Argument: { } arg }:
                    Eval(arg);
                    break;
                case ExpressionAst e:
                    Eval(e);
                    break;
            }
        }
    }

    /// <summary>Writing to function:, alias: or variable: defines commands or variables this cmdlet does not follow.</summary>
    private void CheckDriveArguments(CommandAst c, string display)
    {
        foreach (var s in c.CommandElements.Skip(1).OfType<StringConstantExpressionAst>())
        {
            var drive = s.Value.Split(':')[0];
            if (s.Value.IndexOf(':') > 0 && MapContext.Is(drive, "function", "alias", "variable"))
            {
                Refuse(c, SuggestionFindingKind.ExecutesCode, display, $"it writes to the {drive.ToLowerInvariant()}: drive, which defines commands or variables this cmdlet does not follow.");
                return;
            }
        }
    }

    private Value? ConnectPnP(CommandAst c)
    {
        var url = Argument(c, "Url", 0);
        ScanArguments(c, 1);
        if (url is TextValue t)
        {
            _pnpSite = t.Text;
            if (c.CommandElements.OfType<CommandParameterAst>().Any(p => "ReturnConnection".StartsWith(p.ParameterName, StringComparison.OrdinalIgnoreCase) && p.ParameterName.Length >= 2))
            {
                return new EntityValue(EntityKind.PnPConnection, t.Text, t.Text);
            }
        }
        else
        {
            _pnpSite = null;
            Note($"line {Where(c).Line}: Connect-PnPOnline's site is not known, so the PnP commands after it cannot be mapped.");
        }

        return null;
    }

    private Value ForEachObject(CommandAst c, Value? input)
    {
        var blocks = new List<ScriptBlockAst>();
        for (var i = 1; i < c.CommandElements.Count; i++)
        {
            var e = c.CommandElements[i] is CommandParameterAst p ? p.Argument : c.CommandElements[i];
            switch (e)
            {
                case ScriptBlockExpressionAst sb:
                    blocks.Add(sb.ScriptBlock);
                    break;
                case StringConstantExpressionAst member when c.CommandElements[i] is not CommandParameterAst && i == 1:
                    if (!CommandCatalog.IsPureMethod(member.Value))
                    {
                        Refuse(c, SuggestionFindingKind.ExecutesCode, "ForEach-Object", $"it calls the member '{member.Value}' of each input object, which could do anything.");
                    }

                    break;
                case StringConstantExpressionAst named when c.CommandElements[i - 1] is CommandParameterAst { ParameterName: var mp } && mp.Length >= 3 && "MemberName".StartsWith(mp, StringComparison.OrdinalIgnoreCase):
                    if (!CommandCatalog.IsPureMethod(named.Value))
                    {
                        Refuse(c, SuggestionFindingKind.ExecutesCode, "ForEach-Object", $"it calls the member '{named.Value}' of each input object, which could do anything.");
                    }

                    break;
                case ExpressionAst x:
                    var v = Eval(x);
                    if (input is null && c.CommandElements[i - 1] is CommandParameterAst { ParameterName: var pn } && "InputObject".StartsWith(pn, StringComparison.OrdinalIgnoreCase))
                    {
                        input = v;
                    }

                    break;
            }
        }

        var items = input switch
        {
            ListValue l when l.Items.Count <= MaxUnroll => l.Items,
            null => new Value[] { new UnknownValue("$_ has no input", c.Extent) },
            UnknownValue u => new Value[] { new UnknownValue($"$_ is each object of the pipeline, which is not known ({u.Why})", c.Extent) },
            ListValue l => new Value[] { new UnknownValue($"$_ goes through {l.Items.Count} values, more than are followed", c.Extent) },
            var single => new[] { single },
        };

        foreach (var block in blocks)
        {
            void Pass(Value item)
            {
                var saved = _item;
                _item = item;
                try
                {
                    WalkScript(block);
                }
                finally
                {
                    _item = saved;
                }
            }

            if (items.Count == 1 && items[0] is UnknownValue unknown)
            {
                Repeated(block, $"it is in a ForEach-Object block whose input is not known, so it may run any number of times or not at all ({unknown.Why})", () => Pass(items[0]), scope: true);
            }
            else
            {
                // A return ends the block for one object; a break or continue leaves the pipeline for a loop around it, or ends the script.
                foreach (var item in items)
                {
                    var pass = _maybe.Count;
                    Pass(item);
                    EndScope(pass, "a ForEach-Object block");
                    if (_flow is not null)
                    {
                        break;
                    }
                }
            }
        }

        return new UnknownValue("the output of ForEach-Object", c.Extent);
    }

    private Value ConvertToJson(CommandAst c, Value? input)
    {
        var inner = Argument(c, "InputObject", 0);
        ScanArguments(c, 1);
        return inner ?? input ?? new UnknownValue("ConvertTo-Json has no input", c.Extent);
    }

    private Value? ImportModule(CommandAst c, string display)
    {
        var name = Argument(c, "Name", 0);
        ScanArguments(c, 1);
        var names = name is ListValue l ? l.Items : name is null ? Array.Empty<Value>() : new[] { name };
        foreach (var n in names)
        {
            if (n is not TextValue t || IsPath(t.Text) || !CommandCatalog.IsKnownModule(t.Text))
            {
                Refuse(c, SuggestionFindingKind.ExecutesCode, display, $"it imports {(n is TextValue tv ? "'" + tv.Text + "'" : "a module whose name is computed")}, whose code is not part of the suggestion and runs when imported.");
                return null;
            }
        }

        return null;
    }

    private Value? NewObject(CommandAst c, string display)
    {
        var com = c.CommandElements.OfType<CommandParameterAst>().Any(p => "ComObject".StartsWith(p.ParameterName, StringComparison.OrdinalIgnoreCase) && p.ParameterName.Length >= 2);
        var type = Argument(c, "TypeName", 0);
        ScanArguments(c, 1);
        if (com || type is not TextValue t || !CommandCatalog.IsSafeType(t.Text))
        {
            Refuse(c, SuggestionFindingKind.ExecutesCode, display, com
                ? "it creates a COM object, whose methods and properties could do anything."
                : $"it creates a .NET object of type {(type is TextValue tt ? tt.Text : "(computed)")}, whose constructor and methods could do anything.");
        }

        return null;
    }

    /// <summary>The value of one parameter of an unmapped command, by name (a prefix) or position.</summary>
    private Value? Argument(CommandAst c, string name, int position)
    {
        var seen = 0;
        for (var i = 1; i < c.CommandElements.Count; i++)
        {
            if (c.CommandElements[i] is CommandParameterAst p)
            {
                var matches = name.StartsWith(p.ParameterName, StringComparison.OrdinalIgnoreCase) && p.ParameterName.Length > 0;
                var arg = p.Argument ?? (i + 1 < c.CommandElements.Count ? c.CommandElements[i + 1] as ExpressionAst : null);
                if (p.Argument is null && arg is not null)
                {
                    i++;
                }

                if (matches && arg is not null)
                {
                    return Eval(arg);
                }

                continue;
            }

            if (c.CommandElements[i] is ExpressionAst e && seen++ == position && e is not ScriptBlockExpressionAst)
            {
                return Eval(e);
            }
        }

        return null;
    }

    private Value Lookup(CommandAst c, string name)
    {
        var args = new Dictionary<string, Value>(StringComparer.OrdinalIgnoreCase);
        var positional = new List<Value>();
        for (var i = 1; i < c.CommandElements.Count; i++)
        {
            if (c.CommandElements[i] is CommandParameterAst p)
            {
                var arg = p.Argument ?? (i + 1 < c.CommandElements.Count && c.CommandElements[i + 1] is ExpressionAst next ? next : null);
                if (p.Argument is null && arg is not null && !Lookups.IsSwitch(p.ParameterName))
                {
                    i++;
                    args[p.ParameterName] = Eval(arg);
                }
                else
                {
                    args[p.ParameterName] = p.Argument is null ? BoolValue.True : Eval(arg!);
                }
            }
            else if (c.CommandElements[i] is ExpressionAst e)
            {
                positional.Add(Eval(e));
            }
        }

        try
        {
            return Lookups.Evaluate(name, args, positional, _names, _pnpSite) ?? new UnknownValue($"{name} is given no filter this cmdlet can answer from the snapshot", c.Extent);
        }
        catch (SuggestionRefusal r)
        {
            Refuse(c, r.Kind, name, r.Message, r.Candidates);
            return new UnknownValue($"{name} finds nothing certain: {r.Message}", c.Extent);
        }
    }

    // ---- expressions --------------------------------------------------------------------------

    private Value Eval(ExpressionAst e)
    {
        switch (e)
        {
            case StringConstantExpressionAst s:
                return new TextValue(s.Value);
            case ExpandableStringExpressionAst x:
                return Expand(x);
            case ConstantExpressionAst k:
                return k.Value switch
                {
                    null => NullValue.Instance,
                    bool b => b ? BoolValue.True : BoolValue.False,
                    string str => new TextValue(str),
                    var n => new NumberValue(n),
                };
            case VariableExpressionAst v:
                return ReadVariable(v);
            case ArrayLiteralAst a:
                return new ListValue(a.Elements.Select(Eval).ToList());
            case ArrayExpressionAst a:
            {
                var items = new List<Value>();
                foreach (var s in a.SubExpression.Statements)
                {
                    var v = EvalStatement(s);
                    if (v is ListValue l)
                    {
                        items.AddRange(l.Items);
                    }
                    else if (v is not NullValue)
                    {
                        items.Add(v);
                    }
                }

                return new ListValue(items);
            }

            case HashtableAst h:
                return Table(h);
            case ParenExpressionAst p:
                return EvalStatement(p.Pipeline);
            case SubExpressionAst s:
            {
                Value last = NullValue.Instance;
                foreach (var st in s.SubExpression.Statements)
                {
                    last = EvalStatement(st);
                }

                return s.SubExpression.Statements.Count == 1 ? last : new UnknownValue("the output of several statements", s.Extent);
            }

            case InvokeMemberExpressionAst call:
                Eval(call.Expression);
                foreach (var arg in call.Arguments ?? Enumerable.Empty<ExpressionAst>())
                {
                    Eval(arg);
                }

                return new UnknownValue($"the result of calling .{call.Member.Extent.Text}()", call.Extent);
            case MemberExpressionAst m:
                return Member(m);
            case ConvertExpressionAst conv:
                return Convert(conv);
            case AttributedExpressionAst at:
                return Eval(at.Child);
            case BinaryExpressionAst b:
                return Binary(b);
            case UnaryExpressionAst u:
                Eval(u.Child);
                return new UnknownValue($"the result of {u.TokenKind}", u.Extent);
            case IndexExpressionAst ix:
                return Index(ix);
            case ScriptBlockExpressionAst sb:
            {
                // A script block that is not run where it stands runs when something invokes it, if at all
                // (Where-Object's for each object, one kept in a variable maybe never): what it does is in doubt.
                // One given to a command that runs code (Start-Job) runs; that command is refused anyway.
                var owner = (sb.Parent is CommandParameterAst p ? p.Parent : sb.Parent) as CommandAst;
                var runner = owner?.GetCommandName() is { } n && CommandCatalog.IsCodeRunner(CommandCatalog.Aliases.TryGetValue(n, out var t) ? t : n, out _);
                var mark = _maybe.Count;
                ChildScope(inherit: true, () =>
                {
                    if (runner)
                    {
                        WalkScript(sb.ScriptBlock);
                    }
                    else
                    {
                        Doubtful($"it is in a script block (line {Where(sb).Line}) that runs only when something invokes it, which this cmdlet does not follow", () => WalkScript(sb.ScriptBlock));
                    }

                    EndScope(mark, "the script block");
                });
                _maybe.RemoveRange(mark, _maybe.Count - mark);
                _flow = null;
                return new ScriptBlockValue(sb.ScriptBlock);
            }
            case TypeExpressionAst t:
                return new UnknownValue($"the type [{t.TypeName.FullName}]", t.Extent);
            case UsingExpressionAst u:
                return new UnknownValue("a $using: variable of another runspace", u.Extent);
            default:
                return new UnknownValue($"an expression this cmdlet does not evaluate ({Shorten(e.Extent.Text)})", e.Extent);
        }
    }

    private Value Table(HashtableAst h)
    {
        var entries = new List<KeyValuePair<string, Value>>();
        foreach (var pair in h.KeyValuePairs)
        {
            var key = Eval(pair.Item1);
            var value = EvalStatement(pair.Item2);
            var keyText = key switch
            {
                TextValue t => t.Text,
                NumberValue n => n.Text,
                _ => null,
            };
            if (keyText is null)
            {
                return new UnknownValue($"the hashtable has a computed key ({Shorten(pair.Item1.Extent.Text)})", h.Extent);
            }

            entries.Add(new(keyText, value));
        }

        return new TableValue(entries);
    }

    private Value ReadVariable(VariableExpressionAst v)
    {
        var path = v.VariablePath;
        var name = Name(path);
        var drive = Qualifier(path);
        if (drive is not null && !MapContext.Is(drive, "script", "global", "local", "private", "variable"))
        {
            return new UnknownValue(MapContext.Is(drive, "env") ? $"$env:{name} is an environment variable" : $"${path.UserPath} is only known when the script runs", v.Extent);
        }

        if (MapContext.Is(name, "true"))
        {
            return BoolValue.True;
        }

        if (MapContext.Is(name, "false"))
        {
            return BoolValue.False;
        }

        if (MapContext.Is(name, "null"))
        {
            return NullValue.Instance;
        }

        return ReadName(name, v);
    }

    /// <summary>What the variable <paramref name="name"/> holds where <paramref name="v"/> reads it (a $name, or Get-Variable name -ValueOnly).</summary>
    private Value ReadName(string name, Ast v)
    {
        if (DynamicBefore(v) is { } dynamic)
        {
            return new UnknownValue($"the script reaches variables by name or runs code that is not read at {dynamic}, before this use or in a loop, block or function around it, which can change any variable directly or through another reference to it, so ${name} is not known at line {Where(v).Line}", v.Extent);
        }

        if (MapContext.Is(name, "_", "PSItem"))
        {
            return _item is { } item ? Shared(name, item, v) : new UnknownValue("$_ is only known when the script runs", v.Extent);
        }

        for (var i = _loopVars.Count - 1; i >= 0; i--)
        {
            if (string.Equals(_loopVars[i].Key, name, StringComparison.OrdinalIgnoreCase))
            {
                return Shared(name, _loopVars[i].Value, v);
            }
        }

        if (_vars.TryGetValue(name, out var value))
        {
            return Shared(name, value, v);
        }

        var line = Where(v).Line;
        return _poisoned.Contains(name)
            ? new UnknownValue($"${name} is changed in a way this cmdlet does not follow (through a member or an index, by += and the like, in another scope, as a parameter, or by a command's -OutVariable), so its value at line {line} depends on how the script runs", v.Extent)
            : new UnknownValue($"${name} is not assigned a literal value before line {line}", v.Extent);
    }

    private Value Expand(ExpandableStringExpressionAst x)
    {
        var raw = x.Extent.Text;
        var start = x.Extent.StartOffset;
        var here = x.StringConstantType == StringConstantType.DoubleQuotedHereString;
        int contentStart, contentEnd;
        if (here)
        {
            contentStart = raw.IndexOf('\n') + 1;
            contentEnd = raw.LastIndexOf('\n');
            if (contentEnd > 0 && raw[contentEnd - 1] == '\r')
            {
                contentEnd--;
            }

            if (contentStart <= 0 || contentEnd < contentStart)
            {
                contentStart = contentEnd = Math.Max(contentStart, 0);
            }
        }
        else
        {
            contentStart = 1;
            contentEnd = raw.Length - 1;
        }

        var sb = new StringBuilder();
        var pos = contentStart;
        string? problem = null;
        foreach (var nested in x.NestedExpressions.OrderBy(n => n.Extent.StartOffset))
        {
            var rel = nested.Extent.StartOffset - start;
            problem ??= Unescape(raw, pos, rel, here, sb);
            var value = Eval(nested);
            switch (value)
            {
                case TextValue t:
                    sb.Append(t.Text);
                    break;
                case NumberValue n:
                    sb.Append(n.Text);
                    break;
                case BoolValue b:
                    sb.Append(b.Value ? "True" : "False");
                    break;
                case NullValue:
                    break;
                case UnknownValue u:
                    problem ??= u.Why;
                    break;
                default:
                    problem ??= $"{nested.Extent.Text} is {value.Describe()}, whose text in a string is not known";
                    break;
            }

            pos = nested.Extent.EndOffset - start;
        }

        problem ??= Unescape(raw, pos, contentEnd, here, sb);
        return problem is null ? new TextValue(sb.ToString()) : new UnknownValue($"the string {Shorten(raw)} uses a value that is not known: {problem}", x.Extent);
    }

    /// <summary>Appends raw[from..to) with PowerShell's escapes processed; returns a problem, or null.</summary>
    private static string? Unescape(string raw, int from, int to, bool here, StringBuilder sb)
    {
        for (var i = from; i < to; i++)
        {
            var ch = raw[i];
            if (ch == '`' && i + 1 < to)
            {
                var n = raw[++i];
                switch (n)
                {
                    case '0': sb.Append('\0'); break;
                    case 'a': sb.Append('\a'); break;
                    case 'b': sb.Append('\b'); break;
                    case 'e': sb.Append('\u001b'); break;
                    case 'f': sb.Append('\f'); break;
                    case 'n': sb.Append('\n'); break;
                    case 'r': sb.Append('\r'); break;
                    case 't': sb.Append('\t'); break;
                    case 'v': sb.Append('\v'); break;
                    case 'u':
                        return "a `u{...} escape, which this cmdlet does not decode";
                    default: sb.Append(n); break;
                }

                continue;
            }

            if (!here && IsDoubleQuote(ch) && i + 1 < to && IsDoubleQuote(raw[i + 1]))
            {
                sb.Append(ch);
                i++;
                continue;
            }

            sb.Append(ch);
        }

        return null;
    }

    private static bool IsDoubleQuote(char c) => c == '"' || c == '\u201C' || c == '\u201D' || c == '\u201E';

    private Value Member(MemberExpressionAst m)
    {
        var target = Eval(m.Expression);
        if (m.Static)
        {
            return new UnknownValue($"the static member {Shorten(m.Extent.Text)}", m.Extent);
        }

        if (m.Member is not StringConstantExpressionAst memberName)
        {
            if (m.Member is ExpressionAst computed)
            {
                Eval(computed);
            }

            return new UnknownValue($"a member whose name is computed ({Shorten(m.Member.Extent.Text)})", m.Extent);
        }

        var member = memberName.Value;
        switch (target)
        {
            case EntityValue entity when MapContext.Is(member, "Id", "ObjectId", "GroupId", "ExternalDirectoryObjectId", "Identity", "LoginName", "Url"):
                return new TextValue(entity.Id);
            case EntityValue entity when MapContext.Is(member, "DisplayName", "Title", "Name"):
                return new TextValue(entity.Display);
            case TableValue table when table.TryGet(member, out var v):
                return v;
            case TableValue when HashtableMembers.Any(k => MapContext.Is(k, member)) || member.StartsWith("ps", StringComparison.OrdinalIgnoreCase):
                return new UnknownValue($"{Shorten(m.Extent.Text)} is a member of the hashtable itself, which this cmdlet does not evaluate", m.Extent);
            case TableValue:
                return NullValue.Instance;
            case UnknownValue u:
                return new UnknownValue($"{Shorten(m.Extent.Text)} is a member of a value that is not known ({u.Why})", m.Extent);
            default:
                return new UnknownValue($"{Shorten(m.Extent.Text)} is a member this cmdlet does not evaluate", m.Extent);
        }
    }

    private Value Convert(ConvertExpressionAst c)
    {
        var inner = Eval(c.Child);
        var type = c.Type.TypeName.FullName;
        if (MapContext.Is(type, "string", "System.String", "guid", "System.Guid"))
        {
            return inner switch
            {
                TextValue or UnknownValue => inner,
                NumberValue n => new TextValue(n.Text),
                EntityValue e => new TextValue(e.Id),
                _ => new UnknownValue($"[{type}] of {inner.Describe()}", c.Extent),
            };
        }

        if (MapContext.Is(type, "ordered", "pscustomobject", "psobject", "hashtable", "System.Collections.Hashtable"))
        {
            return inner;
        }

        if (type.EndsWith("[]", StringComparison.Ordinal) || MapContext.Is(type, "array"))
        {
            return inner is ListValue ? inner : inner is UnknownValue ? inner : new ListValue(new[] { inner });
        }

        return new UnknownValue($"[{type}] of {inner.Describe()}", c.Extent);
    }

    private Value Binary(BinaryExpressionAst b)
    {
        var left = Eval(b.Left);
        var right = Eval(b.Right);
        if (b.Operator == TokenKind.Plus && left is TextValue lt && Textual(right) is { } rt)
        {
            return new TextValue(lt.Text + rt);
        }

        if (b.Operator == TokenKind.Plus && left is ListValue ll)
        {
            return right is ListValue rl ? new ListValue(ll.Items.Concat(rl.Items).ToList()) : right is UnknownValue ? right : new ListValue(ll.Items.Concat(new[] { right }).ToList());
        }

        if (b.Operator is TokenKind.Ieq or TokenKind.Ine or TokenKind.Ceq or TokenKind.Cne && left is TextValue lx && right is TextValue rx)
        {
            var same = string.Equals(lx.Text, rx.Text, b.Operator is TokenKind.Ceq or TokenKind.Cne ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase);
            return same == (b.Operator is TokenKind.Ieq or TokenKind.Ceq) ? BoolValue.True : BoolValue.False;
        }

        if (b.Operator == TokenKind.Format && left is TextValue format)
        {
            var args = right is ListValue l ? l.Items : new[] { right };
            var texts = args.Select(Textual).ToList();
            if (texts.All(t => t is not null) && Format(format.Text, texts!) is { } formatted)
            {
                return new TextValue(formatted);
            }
        }

        return new UnknownValue($"the result of {Shorten(b.Extent.Text)}", b.Extent);
    }

    /// <summary>-f with plain {0} placeholders only: anything else (alignment, format strings) is not evaluated.</summary>
    private static string? Format(string format, List<string> args)
    {
        var sb = new StringBuilder();
        for (var i = 0; i < format.Length; i++)
        {
            var ch = format[i];
            if (ch == '{' && i + 1 < format.Length && format[i + 1] == '{')
            {
                sb.Append('{');
                i++;
            }
            else if (ch == '}' && i + 1 < format.Length && format[i + 1] == '}')
            {
                sb.Append('}');
                i++;
            }
            else if (ch == '{')
            {
                var close = format.IndexOf('}', i);
                if (close < 0 || !int.TryParse(format.Substring(i + 1, close - i - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n >= args.Count)
                {
                    return null;
                }

                sb.Append(args[n]);
                i = close;
            }
            else if (ch == '}')
            {
                return null;
            }
            else
            {
                sb.Append(ch);
            }
        }

        return sb.ToString();
    }

    private static string? Textual(Value v) => v switch
    {
        TextValue t => t.Text,
        NumberValue n => n.Text,
        _ => null,
    };

    private Value Index(IndexExpressionAst ix)
    {
        var target = Eval(ix.Target);
        var index = Eval(ix.Index);
        if (target is ListValue l && index is NumberValue n && int.TryParse(n.Text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var i))
        {
            var at = i < 0 ? l.Items.Count + i : i;
            return at >= 0 && at < l.Items.Count ? l.Items[at] : NullValue.Instance;
        }

        if (target is TableValue t && Textual(index) is { } key)
        {
            return t.TryGet(key, out var v) ? v : NullValue.Instance;
        }

        return new UnknownValue($"{Shorten(ix.Extent.Text)} is not evaluated", ix.Extent);
    }

    // ---- the last pass ------------------------------------------------------------------------

    /// <summary>Refuses what the walk did not reach and every .NET call or conversion that could run code.</summary>
    private void CheckEverything(ScriptBlockAst root)
    {
        foreach (var c in root.FindAll(x => x is CommandAst, true).Cast<CommandAst>())
        {
            if (!_visited.Contains(c))
            {
                _visited.Add(c);
                Refuse(c, SuggestionFindingKind.Unreadable, c.GetCommandName(), Enclosing<FunctionDefinitionAst>(c) is { } fn
                    ? $"it is in the function {fn.Name}, which the script does not call in a way this cmdlet follows, so whether and how it runs cannot be told."
                    : "it is inside a construct this cmdlet does not follow, so whether and how it runs cannot be told.");
            }
        }

        foreach (var call in root.FindAll(x => x is InvokeMemberExpressionAst, true).Cast<InvokeMemberExpressionAst>())
        {
            if (call.Member is not StringConstantExpressionAst method)
            {
                Refuse(call, SuggestionFindingKind.ExecutesCode, null, $"it calls a method whose name is computed ({Shorten(call.Member.Extent.Text)}).");
            }
            else if (call.Static && call.Expression is TypeExpressionAst type && !(CommandCatalog.IsSafeType(type.TypeName.FullName) && CommandCatalog.IsPureMethod(method.Value)))
            {
                Refuse(call, SuggestionFindingKind.ExecutesCode, null, $"it calls [{type.TypeName.FullName}]::{method.Value}(), .NET code that could do anything (run code, decode hidden commands, reach the network).");
            }
            else if (!call.Static && !CommandCatalog.IsPureMethod(method.Value))
            {
                Refuse(call, SuggestionFindingKind.ExecutesCode, null, $"it calls the .NET method .{method.Value}(), which could do anything, including change the values this cmdlet reads.");
            }
        }

        foreach (var t in root.FindAll(x => x is TypeExpressionAst || x is ConvertExpressionAst, true))
        {
            var (typeName, isReceiver) = t switch
            {
                ConvertExpressionAst c => (c.Type.TypeName.FullName, false),
                TypeExpressionAst te => (te.TypeName.FullName, te.Parent is MemberExpressionAst { Static: true } m && m.Expression == te),
                _ => (string.Empty, true),
            };
            if (!isReceiver && !CommandCatalog.IsSafeType(typeName))
            {
                Refuse(t, SuggestionFindingKind.ExecutesCode, null, $"it converts a value to [{typeName}], which can run that type's code.");
            }
        }
    }

    // ---- findings -----------------------------------------------------------------------------

    private void Refuse(Ast at, SuggestionFindingKind kind, string? command, string reason, IReadOnlyList<string>? candidates = null)
    {
        var (line, column) = Where(at);
        AddFinding(new SuggestionFinding(kind, line, column, command, Shorten(at.Extent.Text), reason, candidates, _source));
    }

    private void AddFinding(SuggestionFinding f)
    {
        if (_findingKeys.Add($"{f.Line}:{f.Column}:{f.Reason}"))
        {
            _findings.Add(f);
        }
    }

    private (int Line, int Column) Where(Ast at) => _unit.Map(at.Extent.StartLineNumber, at.Extent.StartColumnNumber);

    private static string Op(CommandAst c) => c.InvocationOperator == TokenKind.Dot ? "." : "&";

    private static readonly System.Text.RegularExpressions.Regex ProseWord = new(@"^\p{L}[\p{L}\p{N}]*:$", System.Text.RegularExpressions.RegexOptions.CultureInvariant);

    /// <summary>
    /// In an answer read as a whole script (prose included), a bare word ending in a colon that the script
    /// does not define ("First:", "Then:") is prose; PowerShell would run no code for it (drive functions such as C: only change location).
    /// </summary>
    private bool IsProse(CommandAst c, string name) =>
        _lenient && c.InvocationOperator == TokenKind.Unknown && c.CommandElements[0] is StringConstantExpressionAst { StringConstantType: StringConstantType.BareWord }
        && ProseWord.IsMatch(name) && !_definitionCounts.ContainsKey(name);

    private static bool IsPath(string name) =>
        name.IndexOf('/') >= 0 || name.IndexOf('\\') >= 0 || name.IndexOf(':') > 0
        || name.EndsWith(".ps1", StringComparison.OrdinalIgnoreCase) || name.EndsWith(".psm1", StringComparison.OrdinalIgnoreCase)
        || name.EndsWith(".exe", StringComparison.OrdinalIgnoreCase) && !CommandCatalog.IsInterpreter(name) && !CommandCatalog.IsAccessTool(name)
        || name.EndsWith(".bat", StringComparison.OrdinalIgnoreCase) || name.EndsWith(".cmd", StringComparison.OrdinalIgnoreCase) && !CommandCatalog.IsAccessTool(name);

    private static string Kind(StatementAst s) => s switch
    {
        IfStatementAst => "if statement",
        SwitchStatementAst => "switch statement",
        LoopStatementAst => "loop",
        TryStatementAst => "try statement",
        _ => "statement",
    };

    internal static string Shorten(string text)
    {
        var firstLine = text.Replace("\r\n", "\n").Split('\n')[0].Trim();
        var more = text.IndexOf('\n') >= 0;
        if (firstLine.Length > 120)
        {
            return firstLine.Substring(0, 117) + "...";
        }

        return more ? firstLine + " ..." : firstLine;
    }
}
