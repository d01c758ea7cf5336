using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;
using System.Numerics;
using System.Text;
using AgentGovernance.Approval;
using AgentGovernance.Changes;
using AgentGovernance.Directory;
using AgentGovernance.Exposure;

namespace AgentGovernance.Policy;

/// <summary>
/// Reads a policy .psd1 as data only: the text is screened lexically, parsed with the PowerShell
/// parser (never run), and then only literals are accepted: strings without expansion, whole
/// numbers, <c>$true</c>/<c>$false</c>, <c>@(...)</c> lists and <c>@{...}</c> hashtables.
/// Every problem is a <see cref="DocumentException"/> with ErrorId <c>PolicyInvalid</c> that names
/// the file, line, column and key path (e.g. <c>Rules.AG003.Threshold</c>).
/// </summary>
public static partial class PolicyReader
{
    public const string InvalidErrorId = "PolicyInvalid";
    public const string NotFoundErrorId = "PolicyNotFound";
    public const string UnreadableErrorId = "PolicyUnreadable";

    /// <summary>Policy files are a few hundred bytes; anything this big is not a policy.</summary>
    public const int MaxLength = 1024 * 1024;

    /// <summary>The most approvals any risk level may require.</summary>
    public const int MaxApprovals = 20;

    private const int MaxDepth = 16;

    private static readonly string[] TopLevelKeys =
    {
        "SensitiveFrom", "Rules", "HardDeny", "RequiredApprovals", "AgentIdentities",
        "Approvers", "ApprovalExpiry", "MaxDuration", "BreakGlass", "EmergencyRevocation", "LedgerSigners",
        "AllowUnresolvedRequester", "IncompleteCoverageRisk", "Notifications", "Inventory",
    };

    private static readonly string[] InventoryKeys = { "MaxAge" };

    private static readonly string[] ApproverKeys = { "Id", "PublicKey", "BreakGlass" };
    private static readonly string[] BreakGlassKeys = { "ExtraApprovals" };
    private static readonly string[] HardDenyValues = { "Low", "Medium", "High", "Critical", "Never" };
    private static readonly string[] RiskLevelNames = Enum.GetNames(typeof(RiskLevel));
    private static readonly string[] SensitivityNames = Enum.GetNames(typeof(Sensitivity));

    /// <summary>Reads and validates a policy file; the result's Source is the file's full path.</summary>
    public static GovernancePolicy ReadFile(string path)
    {
        if (path is null)
        {
            throw new ArgumentNullException(nameof(path));
        }

        string fullPath;
        try
        {
            fullPath = Path.GetFullPath(path);
        }
        catch (Exception e) when (e is ArgumentException || e is NotSupportedException || e is PathTooLongException)
        {
            throw new GovernanceException(NotFoundErrorId, GovernanceErrorKind.ObjectNotFound, $"Cannot find the policy file '{path}': {e.Message}", path, e);
        }

        if (!File.Exists(fullPath))
        {
            var why = System.IO.Directory.Exists(fullPath) ? "it is a folder" : "it does not exist";
            throw new GovernanceException(
                NotFoundErrorId, GovernanceErrorKind.ObjectNotFound,
                $"Cannot find the policy file '{fullPath}': {why}. Give the path of a .psd1 policy file (see docs/policy.md).",
                fullPath);
        }

        string text;
        try
        {
            using var stream = new FileStream(fullPath, FileMode.Open, FileAccess.Read, FileShare.Read);
            if (stream.Length > MaxLength)
            {
                throw new DocumentException(InvalidErrorId, fullPath, null, 0, 0, $"The file is {stream.Length} bytes; a policy file may be at most {MaxLength} bytes.");
            }

            using var reader = new StreamReader(stream, new UTF8Encoding(false, true), detectEncodingFromByteOrderMarks: true);
            text = reader.ReadToEnd();
        }
        catch (DecoderFallbackException e)
        {
            throw new DocumentException(InvalidErrorId, fullPath, null, 0, 0, "The file is not valid UTF-8; save it as UTF-8 (with or without a byte order mark).", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new GovernanceException(UnreadableErrorId, GovernanceErrorKind.PermissionDenied, $"Cannot read the policy file '{fullPath}': {e.Message}", fullPath, e);
        }
        catch (IOException e)
        {
            throw new GovernanceException(UnreadableErrorId, GovernanceErrorKind.ReadError, $"Cannot read the policy file '{fullPath}': {e.Message}", fullPath, e);
        }

        return Read(text, fullPath, fullPath);
    }

    /// <summary>Validates policy text. <paramref name="sourceName"/> names it in errors; the result's Source is null.</summary>
    public static GovernancePolicy Parse(string text, string? sourceName = null)
    {
        if (text is null)
        {
            throw new ArgumentNullException(nameof(text));
        }

        return Read(text, sourceName, source: null);
    }

    private static GovernancePolicy Read(string text, string? file, string? source)
    {
        if (text.Length > MaxLength)
        {
            throw new DocumentException(InvalidErrorId, file, null, 0, 0, $"The text is {text.Length} characters long; a policy may be at most {MaxLength}.");
        }

        if (text.Length > 0 && text[0] == '\uFEFF')
        {
            text = text.Substring(1);
        }

        // Before the parser sees the text: some constructs make the parser itself load modules.
        LexicalGuard.Check(text, file);

        ScriptBlockAst ast;
        ParseError[] parseErrors;
        try
        {
            ast = Parser.ParseInput(text, out _, out parseErrors);
        }
        catch (ParseException e)
        {
            // The parser can fail outright on some malformed input instead of reporting errors.
            var at = e.Errors is { Length: > 0 } errors ? errors[0].Extent : null;
            throw new DocumentException(
                InvalidErrorId, file, null, at?.StartLineNumber ?? 0, at?.StartColumnNumber ?? 0,
                $"PowerShell could not parse the text ({e.Message}); check the syntax of the hashtable.", e);
        }

        if (parseErrors.Length > 0)
        {
            var first = parseErrors[0];
            throw new DocumentException(
                InvalidErrorId, file, KeyPathAt(ast, first.Extent.StartOffset),
                first.Extent.StartLineNumber, first.Extent.StartColumnNumber,
                $"PowerShell syntax error: {first.Message}");
        }

        var root = FindRootHashtable(ast, file);
        if (root is null)
        {
            return source is null ? GovernancePolicy.Default : GovernancePolicy.Default.WithSource(source);
        }

        var tree = new TreeBuilder(file).Build(root, path: null, depth: 0);
        return new SchemaReader(file).Read((TableNode)tree, source);
    }

    /// <summary>The single hashtable literal a policy file consists of; null when it holds only comments.</summary>
    private static HashtableAst? FindRootHashtable(ScriptBlockAst ast, string? file)
    {
        const string OnlyOne = "a policy file holds one hashtable literal @{ ... } and nothing else";
        if (ast.UsingStatements.Count > 0)
        {
            throw Invalid(file, ast.UsingStatements[0], null, $"A 'using' statement is not allowed: {OnlyOne}.");
        }

        if (ast.Attributes.Count > 0)
        {
            throw Invalid(file, ast.Attributes[0], null, $"An attribute is not allowed: {OnlyOne}.");
        }

        if (ast.ParamBlock is not null)
        {
            throw Invalid(file, ast.ParamBlock, null, $"A param block is not allowed: {OnlyOne}.");
        }

        foreach (var block in new[] { ast.DynamicParamBlock, ast.BeginBlock, ast.ProcessBlock })
        {
            if (block is not null)
            {
                throw Invalid(file, block, null, $"A {block.BlockKind.ToString().ToLowerInvariant()} block is not allowed: {OnlyOne}.");
            }
        }

        var end = ast.EndBlock;
        if (end is null)
        {
            return null;
        }

        if (end.Traps is not null && end.Traps.Count > 0)
        {
            throw Invalid(file, end.Traps[0], null, $"A trap statement is not allowed: {OnlyOne}.");
        }

        if (end.Statements.Count == 0)
        {
            return null;
        }

        if (PureExpression(end.Statements[0]) is not HashtableAst hashtable)
        {
            throw Invalid(file, end.Statements[0], null, $"A policy file must be one hashtable literal @{{ ... }}; found {Describe(end.Statements[0])}.");
        }

        if (end.Statements.Count > 1)
        {
            throw Invalid(file, end.Statements[1], null, $"Found {Describe(end.Statements[1])} after the policy hashtable; {OnlyOne}.");
        }

        return hashtable;
    }

    /// <summary>The expression a statement consists of, when it is a single expression and nothing more.</summary>
    private static ExpressionAst? PureExpression(StatementAst statement)
    {
        if (statement is PipelineAst pipeline
            && pipeline.PipelineElements.Count == 1
            && pipeline.PipelineElements[0] is CommandExpressionAst command
            && command.Redirections.Count == 0)
        {
            return command.Expression;
        }

        return null;
    }

    /// <summary>For a syntax error: the key path (e.g. Rules.AG003) of the innermost entry around the offset.</summary>
    private static string? KeyPathAt(ScriptBlockAst? ast, int offset)
    {
        var statements = ast?.EndBlock?.Statements;
        var table = statements is { Count: > 0 } ? PureExpression(statements[0]) as HashtableAst : null;
        string? path = null;
        while (table is not null)
        {
            HashtableAst? inner = null;
            foreach (var pair in table.KeyValuePairs)
            {
                var end = pair.Item2?.Extent.EndOffset ?? pair.Item1.Extent.EndOffset;
                if (offset >= pair.Item1.Extent.StartOffset && offset <= end)
                {
                    var name = pair.Item1 is StringConstantExpressionAst key ? key.Value : pair.Item1.Extent.Text;
                    path = path is null ? name : $"{path}.{name}";
                    inner = pair.Item2 is null ? null : PureExpression(pair.Item2) as HashtableAst;
                    break;
                }
            }

            table = inner;
        }

        return path;
    }

    private static DocumentException Invalid(string? file, Ast at, string? path, string problem) =>
        new(InvalidErrorId, file, path, at.Extent.StartLineNumber, at.Extent.StartColumnNumber, problem);

    private static DocumentException Invalid(string? file, Node at, string problem) =>
        new(InvalidErrorId, file, at.Path, at.Line, at.Column, problem);

    /// <summary>How a piece of script that is not a literal reads in an error message: what it is, then its text.</summary>
    private static string Describe(Ast ast)
    {
        var text = ast.Extent.Text.Replace("\r", " ").Replace("\n", " ").Trim();
        if (text.Length > 40)
        {
            text = text.Substring(0, 37) + "...";
        }

        return text.Length == 0 ? KindOf(ast) : $"{KindOf(ast)} `{text}`";
    }

    private static string KindOf(Ast ast) => ast switch
    {
        CommandAst command => command.GetCommandName() is { } name ? $"a command ({name})" : "a command",
        InvokeMemberExpressionAst => "a method call",
        MemberExpressionAst => "a member access",
        ConvertExpressionAst => "a type conversion",
        TypeExpressionAst => "a type literal",
        AttributedExpressionAst => "an attribute",
        BinaryExpressionAst binary => $"an expression with the {binary.Operator} operator",
        UnaryExpressionAst unary => $"an expression with the {unary.TokenKind} operator",
        SubExpressionAst => "a sub-expression $( )",
        ParenExpressionAst => "a parenthesized expression ( )",
        ScriptBlockExpressionAst => "a script block { }",
        UsingExpressionAst => "a $using: variable",
        VariableExpressionAst => "a variable",
        ExpandableStringExpressionAst => "a string with expandable parts (use single quotes for literal text)",
        IndexExpressionAst => "an index expression",
        ErrorExpressionAst => "an incomplete expression",
        HashtableAst => "another hashtable",
        StringConstantExpressionAst => "a string",
        ConstantExpressionAst => "a number",
        ArrayLiteralAst or ArrayExpressionAst => "a list",
        PipelineAst pipeline when pipeline.PipelineElements.Count > 1 => "a pipeline",
        PipelineAst pipeline when pipeline.PipelineElements.Count == 1 && pipeline.PipelineElements[0] is CommandExpressionAst element
            => element.Redirections.Count > 0 ? "a redirection" : KindOf(element.Expression),
        PipelineAst pipeline when pipeline.PipelineElements.Count == 1 => KindOf(pipeline.PipelineElements[0]),
        StatementAst => "a statement",
        _ => "an expression",
    };

    private static string Join(IEnumerable<string> names) => string.Join(", ", names);

    /// <summary>A literal value and where it was written.</summary>
    private abstract class Node
    {
        protected Node(Ast ast, string? path)
        {
            Path = path;
            Line = ast.Extent.StartLineNumber;
            Column = ast.Extent.StartColumnNumber;
            Text = ast.Extent.Text;
        }

        public string? Path { get; }

        public int Line { get; }

        public int Column { get; }

        public string Text { get; }

        /// <summary>What the value is, for "expected ..., found ..." messages.</summary>
        public abstract string Kind { get; }
    }

    private sealed class ScalarNode : Node
    {
        public ScalarNode(Ast ast, string? path, object value)
            : base(ast, path)
        {
            Value = value;
        }

        /// <summary>A string, a bool, a BigInteger (any whole number), or another kind of number.</summary>
        public object Value { get; }

        public override string Kind => Value switch
        {
            string s => $"the string '{s}'",
            bool b => b ? "$true" : "$false",
            BigInteger => $"the number {Text}",
            _ => $"the number {Text}, which is not a whole number",
        };
    }

    private sealed class ListNode : Node
    {
        public ListNode(Ast ast, string? path, IReadOnlyList<Node> items)
            : base(ast, path)
        {
            Items = items;
        }

        public IReadOnlyList<Node> Items { get; }

        public override string Kind => "a list";
    }

    private sealed class TableNode : Node
    {
        public TableNode(Ast ast, string? path, IReadOnlyList<Entry> entries)
            : base(ast, path)
        {
            Entries = entries;
        }

        public IReadOnlyList<Entry> Entries { get; }

        public override string Kind => "a hashtable";
    }

    private sealed class Entry
    {
        public Entry(string key, Ast keyAst, Node value)
        {
            Key = key;
            KeyAst = keyAst;
            Value = value;
        }

        public string Key { get; }

        public Ast KeyAst { get; }

        public Node Value { get; }
    }

    /// <summary>Turns the AST into literal nodes and refuses everything that is not a literal.</summary>
    private sealed class TreeBuilder
    {
        private readonly string? _file;

        public TreeBuilder(string? file)
        {
            _file = file;
        }

        public Node Build(ExpressionAst expression, string? path, int depth)
        {
            if (depth > MaxDepth)
            {
                throw Invalid(_file, expression, path, $"Values are nested more than {MaxDepth} levels deep.");
            }

            switch (expression)
            {
                case StringConstantExpressionAst text when text.StringConstantType != StringConstantType.BareWord:
                    return new ScalarNode(text, path, text.Value);

                case ConstantExpressionAst constant when constant is not StringConstantExpressionAst && constant.Value is not null:
                    return new ScalarNode(constant, path, WholeNumber(constant.Value) ?? constant.Value);

                case VariableExpressionAst variable when IsBooleanLiteral(variable, out var value):
                    return new ScalarNode(variable, path, value);

                case ArrayLiteralAst array:
                    return new ListNode(array, path, array.Elements.Select((e, i) => Build(e, $"{path}[{i}]", depth + 1)).ToArray());

                case ArrayExpressionAst array:
                    var items = new List<Node>();
                    AddArrayItems(array, path, depth, items);
                    return new ListNode(array, path, items);

                case HashtableAst table:
                    return BuildTable(table, path, depth);

                default:
                    throw NotLiteral(expression, path);
            }
        }

        /// <summary>@(a, b; c) is the list a, b, c, as PowerShell would make it: each statement adds its value, or its items.</summary>
        private void AddArrayItems(ArrayExpressionAst array, string? path, int depth, List<Node> items)
        {
            var block = array.SubExpression;
            if (block.Traps is not null && block.Traps.Count > 0)
            {
                throw NotLiteral(block.Traps[0], $"{path}[{items.Count}]");
            }

            foreach (var statement in block.Statements)
            {
                var expression = PureExpression(statement) ?? throw NotLiteral(statement, $"{path}[{items.Count}]");
                switch (expression)
                {
                    case ArrayLiteralAst literal:
                        foreach (var element in literal.Elements)
                        {
                            items.Add(Build(element, $"{path}[{items.Count}]", depth + 1));
                        }

                        break;
                    case ArrayExpressionAst nested:
                        AddArrayItems(nested, path, depth + 1, items);
                        break;
                    default:
                        items.Add(Build(expression, $"{path}[{items.Count}]", depth + 1));
                        break;
                }
            }
        }

        private TableNode BuildTable(HashtableAst table, string? path, int depth)
        {
            var entries = new List<Entry>();
            var seen = new Dictionary<string, Ast>(StringComparer.OrdinalIgnoreCase);
            foreach (var pair in table.KeyValuePairs)
            {
                if (pair.Item1 is not StringConstantExpressionAst keyAst)
                {
                    throw Invalid(_file, pair.Item1, path, $"A key must be a name such as SensitiveFrom or AG001; found {Describe(pair.Item1)}.");
                }

                var key = keyAst.Value;
                var keyPath = path is null ? key : $"{path}.{key}";
                if (seen.TryGetValue(key, out var first))
                {
                    throw Invalid(_file, keyAst, keyPath, $"Duplicate key '{key}' (first on line {first.Extent.StartLineNumber}); keys are not case-sensitive.");
                }

                seen.Add(key, keyAst);
                var value = PureExpression(pair.Item2) ?? throw NotLiteral(pair.Item2, keyPath);
                entries.Add(new Entry(key, keyAst, Build(value, keyPath, depth + 1)));
            }

            return new TableNode(table, path, entries);
        }

        private DocumentException NotLiteral(Ast ast, string? path) => Invalid(
            _file, ast, path,
            $"Found {Describe(ast)}. Only literal values are allowed: 'strings', whole numbers, $true, $false, " +
            "@(...) lists and @{...} hashtables. A policy is data and is never run.");

        private static bool IsBooleanLiteral(VariableExpressionAst variable, out bool value)
        {
            // The written text, not the variable path: $global:true and ${true} are variables like any other.
            var text = variable.Extent.Text;
            value = string.Equals(text, "$true", StringComparison.OrdinalIgnoreCase);
            return value || string.Equals(text, "$false", StringComparison.OrdinalIgnoreCase);
        }

        private static object? WholeNumber(object value) => value switch
        {
            int i => new BigInteger(i),
            long l => new BigInteger(l),
            short s => new BigInteger(s),
            byte b => new BigInteger(b),
            sbyte sb => new BigInteger(sb),
            ushort us => new BigInteger(us),
            uint ui => new BigInteger(ui),
            ulong ul => new BigInteger(ul),
            BigInteger big => big,
            _ => null,
        };
    }

    /// <summary>Maps the literal tree onto the policy's keys, merging over <see cref="GovernancePolicy.Default"/>.</summary>
    private sealed partial class SchemaReader
    {
        private readonly string? _file;
        private readonly GovernancePolicy _defaults = GovernancePolicy.Default;

        private Sensitivity _sensitiveFrom;
        private int _broadAudiencePercent;
        private int _manyPrincipalsThreshold;
        private int _personalDataCriticalAbove;
        private readonly Dictionary<string, Node> _disabled = new(StringComparer.Ordinal);
        private readonly Dictionary<string, RiskLevel> _hardDeny = new(StringComparer.Ordinal);
        private readonly int[] _approvals = new int[GovernancePolicy.RiskLevelCount];
        private readonly Node?[] _approvalNodes = new Node?[GovernancePolicy.RiskLevelCount];
        private readonly List<string> _agents = new();
        private readonly List<PolicyApprover> _approvers = new();
        private readonly List<PublicKey> _ledgerSigners = new();
        private TimeSpan _approvalExpiry;
        private TimeSpan _maxDuration;
        private RiskLevel _incompleteCoverageRisk = GovernancePolicy.DefaultIncompleteCoverageRisk;
        private TimeSpan _inventoryMaxAge = GovernancePolicy.DefaultInventoryMaxAge;
        private int _breakGlassExtra;
        private bool _emergencyRevocation;
        private bool _allowUnresolvedRequester;
        private Node? _approversNode;

        public SchemaReader(string? file)
        {
            _file = file;
            _sensitiveFrom = _defaults.SensitiveFrom;
            _broadAudiencePercent = _defaults.BroadAudiencePercent;
            _manyPrincipalsThreshold = _defaults.ManyPrincipalsThreshold;
            _personalDataCriticalAbove = _defaults.PersonalDataCriticalAbove;
            foreach (var pair in _defaults.HardDeny)
            {
                _hardDeny[pair.Key] = pair.Value;
            }

            for (var i = 0; i < _approvals.Length; i++)
            {
                _approvals[i] = _defaults.RequiredApprovals((RiskLevel)i);
            }

            _approvalExpiry = _defaults.ApprovalExpiryTimeSpan;
            _maxDuration = _defaults.MaxDurationTimeSpan;
            _breakGlassExtra = _defaults.BreakGlassExtraApprovals;
            _emergencyRevocation = _defaults.EmergencyRevocation;
        }

        public GovernancePolicy Read(TableNode root, string? source)
        {
            foreach (var (name, entry) in Keys(root, TopLevelKeys, "a policy setting"))
            {
                switch (name)
                {
                    case "SensitiveFrom":
                        _sensitiveFrom = (Sensitivity)Enum.Parse(typeof(Sensitivity), OneOf(entry.Value, SensitivityNames, "a sensitivity label"));
                        break;
                    case "Rules":
                        ReadRules(Table(entry.Value));
                        break;
                    case "HardDeny":
                        ReadHardDeny(Table(entry.Value));
                        break;
                    case "RequiredApprovals":
                        ReadApprovals(Table(entry.Value));
                        break;
                    case "AgentIdentities":
                        ReadAgents(entry.Value);
                        break;
                    case "Approvers":
                        ReadApprovers(entry.Value);
                        break;
                    case "ApprovalExpiry":
                        _approvalExpiry = Duration(entry.Value, TimeSpan.FromMinutes(1), TimeSpan.FromDays(30), "PT1M to P30D");
                        break;
                    case "MaxDuration":
                        _maxDuration = Duration(entry.Value, TimeSpan.FromMinutes(1), TimeSpan.FromDays(3650), "PT1M to P3650D");
                        break;
                    case "BreakGlass":
                        foreach (var (_, setting) in Keys(Table(entry.Value), BreakGlassKeys, "a break-glass setting"))
                        {
                            _breakGlassExtra = Int(setting.Value, 1, MaxApprovals);
                        }

                        break;
                    case "EmergencyRevocation":
                        _emergencyRevocation = Bool(entry.Value);
                        break;
                    case "AllowUnresolvedRequester":
                        _allowUnresolvedRequester = Bool(entry.Value);
                        break;
                    case "IncompleteCoverageRisk":
                        _incompleteCoverageRisk = (RiskLevel)Enum.Parse(typeof(RiskLevel), OneOf(entry.Value, RiskLevelNames.Where(n => n != nameof(RiskLevel.None)).ToArray(), "a risk level (Low to Critical)"));
                        break;
                    case "Notifications":
                        _notifications = ReadNotifications(Table(entry.Value));
                        break;
                    case "Inventory":
                        foreach (var (_, setting) in Keys(Table(entry.Value), InventoryKeys, "an inventory setting"))
                        {
                            _inventoryMaxAge = Duration(setting.Value, TimeSpan.FromMinutes(1), TimeSpan.FromDays(30), "PT1M to P30D");
                        }

                        break;
                    case "LedgerSigners":
                        foreach (var item in Items(entry.Value))
                        {
                            var key = Key(item);
                            if (_ledgerSigners.Contains(key))
                            {
                                throw Invalid(_file, item, $"The key {key.KeyId} is listed twice.");
                            }

                            _ledgerSigners.Add(key);
                        }

                        break;
                }
            }

            CheckApprovalsRise(root);
            CheckHardDeniedRulesStayEnabled();
            CheckApproversAreNotAgents();

            return new GovernancePolicy(
                source, _sensitiveFrom, _disabled.Keys, _broadAudiencePercent, _manyPrincipalsThreshold, _personalDataCriticalAbove,
                _hardDeny, _approvals, _agents,
                new ApprovalSettings(_approvers, _approvalExpiry, _maxDuration, _breakGlassExtra, _emergencyRevocation, _ledgerSigners, _allowUnresolvedRequester))
            {
                IncompleteCoverageRisk = _incompleteCoverageRisk,
                InventoryMaxAgeTimeSpan = _inventoryMaxAge,
                Notifications = _notifications,
            };
        }

        private void ReadApprovers(Node value)
        {
            _approversNode = value;
            var ids = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            var keyOwners = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var item in Items(value))
            {
                var table = Table(item);
                string? id = null;
                var keys = new List<PublicKey>();
                var breakGlass = false;
                foreach (var (name, entry) in Keys(table, ApproverKeys, "an approver setting"))
                {
                    switch (name)
                    {
                        case "Id":
                            id = Identity(entry.Value);
                            break;
                        case "PublicKey":
                            foreach (var k in Items(entry.Value))
                            {
                                var key = Key(k);
                                if (keys.Contains(key))
                                {
                                    throw Invalid(_file, k, $"The key {key.KeyId} is listed twice for this approver.");
                                }

                                keys.Add(key);
                            }

                            break;
                        case "BreakGlass":
                            breakGlass = Bool(entry.Value);
                            break;
                    }
                }

                if (id is null || keys.Count == 0)
                {
                    throw Invalid(_file, item, "An approver needs an Id and at least one PublicKey: @{ Id = 'carol@contoso.com'; PublicKey = '<the key New-ApproverKey printed>' }.");
                }

                if (!ids.Add(Approval.IdentityText.Key(id, out _)!))
                {
                    throw Invalid(_file, item, $"The approver '{id}' is listed twice (identities are not case-sensitive).");
                }

                foreach (var key in keys)
                {
                    if (keyOwners.TryGetValue(key.KeyId, out var owner))
                    {
                        throw Invalid(_file, item, $"The key {key.KeyId} is listed for both '{owner}' and '{id}': a key proves one identity.");
                    }

                    keyOwners[key.KeyId] = id;
                }

                _approvers.Add(new PolicyApprover(id, keys, breakGlass));
            }
        }

        /// <summary>An identity the policy calls an agent can never approve (S2), so listing it as an approver is a mistake.</summary>
        private void CheckApproversAreNotAgents()
        {
            foreach (var approver in _approvers)
            {
                if (_agents.Any(a => Approval.IdentityText.Key(a, out _) == Approval.IdentityText.Key(approver.Id, out _)))
                {
                    throw Invalid(_file, _approversNode!, $"'{approver.Id}' is listed both as an approver and in AgentIdentities: an agent can never approve a change.");
                }
            }
        }

        private static IReadOnlyList<Node> Items(Node value) => value is ListNode list ? list.Items : new[] { value };

        private PublicKey Key(Node node)
        {
            var text = Text(node, "a public key (base64 SubjectPublicKeyInfo)");
            return PublicKey.TryParse(text, out var key, out var problem) ? key! : throw Invalid(_file, node, $"Not a public key: {problem}.");
        }

        private string Identity(Node node)
        {
            var identity = Text(node, "a principal id or user principal name");
            if (identity.Trim().Length == 0 || identity.Trim().Length != identity.Length)
            {
                throw Invalid(_file, node, $"'{identity}' is not an identity: it is empty or has spaces around it.");
            }

            if (Approval.IdentityText.Key(identity, out var problem) is null)
            {
                throw Invalid(_file, node, $"'{Approval.IdentityText.Visible(identity)}' is not an identity: {problem}.");
            }

            return identity;
        }

        private TimeSpan Duration(Node node, TimeSpan min, TimeSpan max, string range)
        {
            var text = Text(node, "an ISO 8601 duration such as 'P1D' or 'PT8H'");
            if (!IsoDuration.TryParse(text, out var span, out var problem))
            {
                throw Invalid(_file, node, problem + ".");
            }

            if (span < min || span > max)
            {
                throw Invalid(_file, node, $"'{text}' is out of range: expected {range}.");
            }

            return span;
        }

        private void ReadRules(TableNode rules)
        {
            foreach (var (ruleId, entry) in Keys(rules, GovernancePolicy.KnownRuleIds, "a rule id"))
            {
                var settings = Table(entry.Value);
                var valid = new List<string> { "Enabled" };
                valid.AddRange(RuleSettingNames(ruleId));
                foreach (var (setting, settingEntry) in Keys(settings, valid, $"a setting of {ruleId}"))
                {
                    switch (setting)
                    {
                        case "Enabled":
                            if (Bool(settingEntry.Value))
                            {
                                _disabled.Remove(ruleId);
                            }
                            else
                            {
                                _disabled[ruleId] = settingEntry.Value;
                            }

                            break;
                        case "PercentOfEnabledUsers":
                            _broadAudiencePercent = Int(settingEntry.Value, 1, 100);
                            break;
                        case "Threshold":
                            _manyPrincipalsThreshold = Int(settingEntry.Value, 1, int.MaxValue);
                            break;
                        case "CriticalAbove":
                            _personalDataCriticalAbove = Int(settingEntry.Value, 1, int.MaxValue);
                            break;
                    }
                }
            }
        }

        private static IEnumerable<string> RuleSettingNames(string ruleId) => ruleId switch
        {
            "AG002" => new[] { "PercentOfEnabledUsers" },
            "AG003" => new[] { "Threshold" },
            "AG005" => new[] { "CriticalAbove" },
            _ => Array.Empty<string>(),
        };

        private void ReadHardDeny(TableNode table)
        {
            foreach (var (ruleId, entry) in Keys(table, GovernancePolicy.KnownRuleIds, "a rule id"))
            {
                var level = OneOf(entry.Value, HardDenyValues, "a hard-deny level");
                if (level == "Never")
                {
                    _hardDeny.Remove(ruleId);
                }
                else
                {
                    _hardDeny[ruleId] = (RiskLevel)Enum.Parse(typeof(RiskLevel), level);
                }
            }
        }

        private void ReadApprovals(TableNode table)
        {
            foreach (var (levelName, entry) in Keys(table, RiskLevelNames, "a risk level"))
            {
                var index = (int)(RiskLevel)Enum.Parse(typeof(RiskLevel), levelName);
                _approvals[index] = Int(entry.Value, 1, MaxApprovals);
                _approvalNodes[index] = entry.Value;
            }
        }

        private void ReadAgents(Node value)
        {
            var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            foreach (var item in Items(value))
            {
                var identity = Identity(item);
                if (!seen.Add(Approval.IdentityText.Key(identity, out _)!))
                {
                    throw Invalid(_file, item, $"'{identity}' is listed twice (identities are not case-sensitive).");
                }

                _agents.Add(identity);
            }
        }

        /// <summary>A riskier change can never need fewer approvals than a less risky one.</summary>
        private void CheckApprovalsRise(TableNode root)
        {
            for (var i = 1; i < _approvals.Length; i++)
            {
                if (_approvals[i] >= _approvals[i - 1])
                {
                    continue;
                }

                var merged = Join(RiskLevelNames.Select((name, n) => $"{name} = {_approvals[n]}"));
                var at = _approvalNodes[i] ?? _approvalNodes[i - 1] ?? root;
                throw Invalid(
                    _file, at,
                    $"{(RiskLevel)i} needs {_approvals[i]} approval(s) but {(RiskLevel)(i - 1)} needs {_approvals[i - 1]}: " +
                    $"a riskier change can never need fewer approvals. Merged with the defaults the counts are {merged}.");
            }
        }

        /// <summary>A hard-deny must be switched off on purpose ('Never'), never as a side effect of disabling its rule.</summary>
        private void CheckHardDeniedRulesStayEnabled()
        {
            foreach (var pair in _disabled.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                if (_hardDeny.TryGetValue(pair.Key, out var level))
                {
                    throw Invalid(
                        _file, pair.Value,
                        $"{pair.Key} is hard-denied from {level}, so it cannot be disabled. To stop it blocking changes, " +
                        $"also set HardDeny = @{{ {pair.Key} = 'Never' }}.");
                }
            }
        }

        /// <summary>The entries of a table under their canonical key names; an unknown key is an error listing the valid ones.</summary>
        private IEnumerable<(string Name, Entry Entry)> Keys(TableNode table, IReadOnlyList<string> valid, string what)
        {
            foreach (var entry in table.Entries)
            {
                var name = valid.FirstOrDefault(v => string.Equals(v, entry.Key, StringComparison.OrdinalIgnoreCase));
                if (name is null)
                {
                    throw new DocumentException(
                        InvalidErrorId, _file, entry.Value.Path, entry.KeyAst.Extent.StartLineNumber, entry.KeyAst.Extent.StartColumnNumber,
                        $"'{entry.Key}' is not {what}. Valid keys here: {Join(valid)}.");
                }

                yield return (name, entry);
            }
        }

        private TableNode Table(Node node) =>
            node as TableNode ?? throw Invalid(_file, node, $"Expected a hashtable @{{ ... }}, found {node.Kind}.");

        private bool Bool(Node node) =>
            node is ScalarNode { Value: bool value } ? value : throw Invalid(_file, node, $"Expected $true or $false, found {node.Kind}.");

        private string Text(Node node, string what) =>
            node is ScalarNode { Value: string value } ? value : throw Invalid(_file, node, $"Expected {what} in quotes, found {node.Kind}.");

        private int Int(Node node, int min, int max)
        {
            var range = max == int.MaxValue ? $"a whole number of at least {min}" : $"a whole number from {min} to {max}";

            // PowerShell reads a whole number too big for a long as a decimal (or, bigger still, a double).
            if (node is ScalarNode scalar && IsWholeButOutside(scalar.Value, min, max))
            {
                throw Invalid(_file, node, $"{node.Text} is out of range: expected {range}.");
            }

            if (node is not ScalarNode { Value: BigInteger value })
            {
                throw Invalid(_file, node, $"Expected {range}, found {node.Kind}.");
            }

            if (value < min || value > max)
            {
                throw Invalid(_file, node, $"{value} is out of range: expected {range}.");
            }

            return (int)value;
        }

        private static bool IsWholeButOutside(object value, int min, int max) => value switch
        {
            decimal m => decimal.Truncate(m) == m && (m < min || m > max),
            double d => !double.IsInfinity(d) && Math.Floor(d) == d && (d < min || d > max),
            _ => false,
        };

        /// <summary>A string that must be one of the names (matched case-insensitively); returns the canonical name.</summary>
        private string OneOf(Node node, IReadOnlyList<string> names, string what)
        {
            var text = Text(node, what);
            return names.FirstOrDefault(n => string.Equals(n, text, StringComparison.OrdinalIgnoreCase))
                ?? throw Invalid(_file, node, $"'{text}' is not {what}. Use one of: {Join(names)}.");
        }
    }

    /// <summary>
    /// Screens the raw text before the PowerShell parser sees it, because parsing is not inert: a
    /// 'using module' statement anywhere makes the parser run Get-Module -ListAvailable on the path it
    /// names (UNC shares included), 'using assembly' can load the assembly, and 'configuration' loads
    /// DSC resources. Outside strings and comments only the characters a data file needs are allowed
    /// (ASCII letters and digits, spaces, line breaks, @{ } @( ) ( ) { } = ; , . + - * / $name, quotes,
    /// and '#' or '&lt;#' after a space or at the start of a line), which leaves PowerShell no
    /// tokenizer mode (labels, escapes, type names, stop-parsing, ${...}) in which this scanner and
    /// PowerShell could disagree about where code, strings and comments are; the keywords with
    /// parse-time effects are then refused wherever they appear as code.
    /// </summary>
    internal sealed class LexicalGuard
    {
        private static readonly string[] ForbiddenWords = { "using", "configuration", "class", "enum", "workflow" };

        private readonly string _text;
        private readonly string? _file;

        // Best effort, for messages only: the hashtable keys around the current position.
        private readonly List<Frame> _frames = new();

        private LexicalGuard(string text, string? file)
        {
            _text = text;
            _file = file;
        }

        internal static void Check(string text, string? file) => new LexicalGuard(text, file).Run();

        private void Run()
        {
            for (var n = 0; n < _text.Length; n++)
            {
                var c = _text[n];
                if ((char.IsControl(c) && c != '\t' && c != '\r' && c != '\n') || c == '\u2028' || c == '\u2029')
                {
                    throw Fail(n, $"The text holds the control character U+{(int)c:X4}; a policy may hold only tabs, line breaks and printable characters.");
                }
            }

            var i = 0;
            while (i < _text.Length)
            {
                var c = _text[i];
                var next = At(i + 1);
                switch (c)
                {
                    case '\r':
                    case '\n':
                    case ';':
                        if (Top is { } table)
                        {
                            table.ExpectingKey = true;
                            table.PendingKey = null;
                        }

                        i++;
                        break;
                    case ' ':
                    case '\t':
                    case ',':
                    case '.':
                    case '+':
                    case '-':
                    case '*':
                    case '/':
                        i++;
                        break;
                    case '#':
                        RequireTokenStart(i, "A comment must start a line or follow a space or tab: put a space before the '#'.");
                        while (i < _text.Length && _text[i] != '\r' && _text[i] != '\n')
                        {
                            i++;
                        }

                        break;
                    case '<' when next == '#':
                        RequireTokenStart(i, "A comment must start a line or follow a space or tab: put a space before the '<#'.");
                        var close = _text.IndexOf("#>", i + 2, StringComparison.Ordinal);
                        i = close < 0 ? _text.Length : close + 2;
                        break;
                    case '@' when next == '{':
                        _frames.Add(new Frame(isTable: true));
                        i += 2;
                        break;
                    case '@' when next == '(':
                        _frames.Add(new Frame(isTable: false));
                        i += 2;
                        break;
                    case '@' when IsSingleQuote(next) || IsDoubleQuote(next):
                        i = SkipHereString(i);
                        break;
                    case '(':
                    case '{':
                        _frames.Add(new Frame(isTable: false));
                        i++;
                        break;
                    case ')':
                    case '}':
                        if (_frames.Count > 0)
                        {
                            _frames.RemoveAt(_frames.Count - 1);
                        }

                        i++;
                        break;
                    case '=':
                        if (Top is { PendingKey: { } key } keyed)
                        {
                            keyed.Key = key;
                            keyed.ExpectingKey = false;
                        }

                        i++;
                        break;
                    case '$' when IsAsciiLetter(next) || next == '_':
                        i++;
                        break;
                    case '$':
                        throw Fail(i, $"'${next}' is not allowed: a policy holds only literal values and is never run.");
                    default:
                        if (IsSingleQuote(c))
                        {
                            i = SkipSingleQuoted(i);
                        }
                        else if (IsDoubleQuote(c))
                        {
                            i = SkipDoubleQuoted(i);
                        }
                        else if (IsAsciiLetter(c) || IsAsciiDigit(c) || c == '_')
                        {
                            i = ReadWord(i);
                        }
                        else
                        {
                            var shown = c > ' ' && c < '\u007F' ? $"'{c}'" : $"The character U+{(int)c:X4}";
                            throw Fail(i, $"{shown} is not allowed outside quotes: a policy holds only literal values ('strings', whole numbers, $true, $false, @(...) and @{{...}}).");
                        }

                        break;
                }
            }
        }

        private Frame? Top => _frames.Count > 0 && _frames[_frames.Count - 1].IsTable ? _frames[_frames.Count - 1] : null;

        private char At(int i) => i < _text.Length ? _text[i] : '\0';

        private int ReadWord(int start)
        {
            var end = start;
            while (end < _text.Length && (IsAsciiLetter(_text[end]) || IsAsciiDigit(_text[end]) || _text[end] == '_'))
            {
                end++;
            }

            var word = _text.Substring(start, end - start);
            if (ForbiddenWords.Any(w => string.Equals(w, word, StringComparison.OrdinalIgnoreCase)))
            {
                throw Fail(start, $"'{word}' is not allowed: a policy holds only literal values, and statements like this make PowerShell load modules or types while merely reading the file.");
            }

            NoteKeyCandidate(word);
            return end;
        }

        private int SkipSingleQuoted(int start)
        {
            var i = start + 1;
            while (i < _text.Length)
            {
                if (IsSingleQuote(_text[i]))
                {
                    if (IsSingleQuote(At(i + 1)))
                    {
                        i += 2;
                        continue;
                    }

                    NoteKeyCandidate(_text.Substring(start + 1, i - start - 1));
                    return i + 1;
                }

                i++;
            }

            return i;
        }

        private int SkipDoubleQuoted(int start)
        {
            var i = start + 1;
            while (i < _text.Length)
            {
                var c = _text[i];
                if (c == '`')
                {
                    i += 2;
                    continue;
                }

                if (c == '$' && (At(i + 1) == '(' || At(i + 1) == '{'))
                {
                    throw Fail(i, $"'${At(i + 1)}' inside a string is not allowed: a policy is never run. Use single quotes for literal text.");
                }

                if (IsDoubleQuote(c))
                {
                    if (IsDoubleQuote(At(i + 1)))
                    {
                        i += 2;
                        continue;
                    }

                    NoteKeyCandidate(_text.Substring(start + 1, i - start - 1));
                    return i + 1;
                }

                i++;
            }

            return i;
        }

        /// <summary>A here-string: the header ends its line; the text runs to a line that starts with the closing quote and '@'.</summary>
        private int SkipHereString(int start)
        {
            RequireTokenStart(start, "A here-string must start a line or follow a space or tab.");
            var isDouble = IsDoubleQuote(_text[start + 1]);
            var i = start + 2;
            while (i < _text.Length && (_text[i] == ' ' || _text[i] == '\t'))
            {
                i++;
            }

            if (i < _text.Length && _text[i] != '\r' && _text[i] != '\n')
            {
                throw Fail(i, "Nothing may follow the opening @' or @\" of a here-string on its line.");
            }

            var atLineStart = false;
            while (i < _text.Length)
            {
                var c = _text[i];
                if (atLineStart && (isDouble ? IsDoubleQuote(c) : IsSingleQuote(c)) && At(i + 1) == '@')
                {
                    return i + 2;
                }

                if (isDouble && (c == '`' || (c == '$' && (At(i + 1) == '(' || At(i + 1) == '{'))))
                {
                    throw Fail(i, "A double-quoted here-string may not hold '`', '$(' or '${'. Use a single-quoted here-string (@' ... '@).");
                }

                atLineStart = c == '\r' || c == '\n';
                i++;
            }

            return i;
        }

        private void NoteKeyCandidate(string key)
        {
            if (Top is { ExpectingKey: true } table)
            {
                table.PendingKey = key;
            }
        }

        private void RequireTokenStart(int i, string problem)
        {
            if (i > 0 && _text[i - 1] != ' ' && _text[i - 1] != '\t' && _text[i - 1] != '\r' && _text[i - 1] != '\n')
            {
                throw Fail(i, problem);
            }
        }

        private DocumentException Fail(int offset, string problem)
        {
            var line = 1;
            var lineStart = 0;
            for (var i = 0; i < offset; i++)
            {
                if (_text[i] == '\n' || (_text[i] == '\r' && At(i + 1) != '\n'))
                {
                    line++;
                    lineStart = i + 1;
                }
            }

            var keys = _frames.Where(f => f.IsTable && !f.ExpectingKey && f.Key is not null).Select(f => f.Key!).ToArray();
            return new DocumentException(InvalidErrorId, _file, keys.Length == 0 ? null : string.Join(".", keys), line, offset - lineStart + 1, problem);
        }

        private static bool IsAsciiLetter(char c) => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');

        private static bool IsAsciiDigit(char c) => c >= '0' && c <= '9';

        // PowerShell takes typographic quotes wherever it takes the ASCII ones, and mixes them freely.
        private static bool IsSingleQuote(char c) => c == '\'' || c == '\u2018' || c == '\u2019' || c == '\u201A' || c == '\u201B';

        private static bool IsDoubleQuote(char c) => c == '"' || c == '\u201C' || c == '\u201D' || c == '\u201E';

        private sealed class Frame
        {
            public Frame(bool isTable)
            {
                IsTable = isTable;
                ExpectingKey = isTable;
            }

            public bool IsTable { get; }

            public bool ExpectingKey { get; set; }

            public string? PendingKey { get; set; }

            public string? Key { get; set; }
        }
    }
}
