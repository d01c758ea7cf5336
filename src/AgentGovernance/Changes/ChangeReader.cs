using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using System.Text.Json;
using AgentGovernance.Directory;
using AgentGovernance.IO;
using AgentGovernance.Json;

namespace AgentGovernance.Changes;

/// <summary>
/// Reads <c>agentgovernance/change@1</c> strictly: unknown schema or fields, missing or mistyped
/// fields and bad durations are errors (ChangeInvalid) naming the file, the field and the position.
/// </summary>
public static class ChangeReader
{
    public const string ErrorId = "ChangeInvalid";

    /// <summary>The largest change document or operation list read, in bytes (1 MiB, as for policies and suggestions).</summary>
    public const int MaxBytes = 1024 * 1024;

    private static void CheckSize(byte[] utf8, string? source)
    {
        if (utf8.Length > MaxBytes)
        {
            throw new DocumentException(ErrorId, source, null, 0, 0, $"the document is {utf8.Length.ToString(CultureInfo.InvariantCulture)} bytes; a change document may be at most {MaxBytes.ToString(CultureInfo.InvariantCulture)} bytes");
        }
    }

    public static AccessChange ReadFile(string path) => Parse(DocumentFile.ReadAllBytes(path, "Change"), path);

    public static AccessChange ParseText(string json, string? source = null)
    {
        byte[] bytes;
        try
        {
            bytes = Json.Utf8Input.Encode(json);
        }
        catch (JsonException e)
        {
            throw NotJson(e, source);
        }

        return Parse(bytes, source);
    }

    public static AccessChange Parse(byte[] utf8, string? source = null)
    {
        CheckSize(utf8, source);
        JsonTree root;
        try
        {
            root = JsonTree.Parse(utf8);
        }
        catch (JsonException e)
        {
            throw NotJson(e, source);
        }

        return new Reader(source).Read(root);
    }

    /// <summary>
    /// Reads a bare JSON array of operations (what an agent's tool call often holds instead of a whole
    /// change document), with the same checks and positions as the operations of a change document.
    /// </summary>
    public static IReadOnlyList<AccessOperation> ParseOperations(byte[] utf8, string? source = null)
    {
        CheckSize(utf8, source);
        JsonTree root;
        try
        {
            root = JsonTree.Parse(utf8);
        }
        catch (JsonException e)
        {
            throw NotJson(e, source);
        }

        var reader = new Reader(source);
        if (root.Kind != JsonValueKind.Array)
        {
            throw new DocumentException(ErrorId, source, "$", root.Line, root.Column, "expected an array of operations");
        }

        if (root.Items!.Count == 0)
        {
            throw new DocumentException(ErrorId, source, "$", root.Line, root.Column, "a change needs at least one operation");
        }

        var ops = new List<AccessOperation>();
        for (var i = 0; i < root.Items.Count; i++)
        {
            ops.Add(reader.ReadOperation(root.Items[i], "[" + i.ToString(CultureInfo.InvariantCulture) + "]"));
        }

        return ops;
    }

    private static DocumentException NotJson(JsonException e, string? source)
    {
        var message = e.Message;
        var cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        return new DocumentException(ErrorId, source, null, (e.LineNumber ?? -1) + 1, (e.BytePositionInLine ?? -1) + 1,
            "not valid JSON: " + (cut > 0 ? message.Substring(0, cut) : message), e);
    }

    private static bool IsSha256Id(string text)
    {
        const string Prefix = "sha256:";
        if (text.Length != Prefix.Length + 64 || !text.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return false;
        }

        for (var i = Prefix.Length; i < text.Length; i++)
        {
            var c = text[i];
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            {
                return false;
            }
        }

        return true;
    }

    private static readonly string[] OperationFields = { "op", "resource", "principal", "role", "group", "member", "visibility", "scope" };

    /// <summary>
    /// Reads one operation from a dictionary with the document's field names (matched without regard
    /// to case, as PowerShell hashtables are), with the same checks as a change document.
    /// </summary>
    public static AccessOperation ParseOperation(System.Collections.IDictionary map, string path)
    {
        var sb = new StringBuilder("{");
        foreach (System.Collections.DictionaryEntry e in map)
        {
            var key = e.Key?.ToString() ?? string.Empty;
            var name = OperationFields.FirstOrDefault(f => string.Equals(f, key, StringComparison.OrdinalIgnoreCase));
            if (name is null)
            {
                throw new DocumentException(ErrorId, null, path + "." + key, 0, 0, $"unknown field '{key}'; allowed: {string.Join(", ", OperationFields)}");
            }

            var value = e.Value;
            if (!(value is string || value is Enum))
            {
                throw new DocumentException(ErrorId, null, path + "." + name, 0, 0, $"expected a string, found {(value is null ? "null" : value.GetType().Name)}");
            }

            if (sb.Length > 1)
            {
                sb.Append(',');
            }

            JsonText.AppendString(sb, name);
            sb.Append(':');
            JsonText.AppendString(sb, value is Enum en ? EnumText(en) : (string)value);
        }

        sb.Append('}');
        return new Reader(null, positions: false).ReadOperation(JsonTree.Parse(Encoding.UTF8.GetBytes(sb.ToString())), path);
    }

    private static string EnumText(Enum value) => value switch
    {
        LinkScope scope => AccessOperation.ScopeName(scope),
        OperationKind op => AccessOperation.Name(op),
        _ => value.ToString(),
    };

    private sealed class Reader
    {
        private readonly string? _file;
        private readonly bool _positions;

        public Reader(string? file, bool positions = true)
        {
            _file = file;
            _positions = positions;
        }

        public AccessChange Read(JsonTree root)
        {
            var f = Fields(root, "$", "schema", "title", "justification", "suggestedBy", "requestedBy", "duration", "operations");
            if (!f.TryGetValue("schema", out var schemaNode))
            {
                throw Fail("schema", root, $"missing required field 'schema' (expected '{AccessChange.Schema}')");
            }

            var schema = Str(schemaNode, "schema");
            if (schema != AccessChange.Schema)
            {
                throw Fail("schema", schemaNode, $"unknown schema '{schema}'; expected '{AccessChange.Schema}'");
            }

            var title = OptStr(f, "title");
            var justification = OptStr(f, "justification");
            var requestedBy = OptStr(f, "requestedBy", nonEmpty: true);
            string? duration = null;
            if (f.TryGetValue("duration", out var d))
            {
                duration = Str(d, "duration");
                if (!IsoDuration.TryParse(duration, out _, out var problem))
                {
                    throw Fail("duration", d, problem);
                }
            }

            SuggestedBy? suggestedBy = null;
            if (f.TryGetValue("suggestedBy", out var sNode))
            {
                var sf = Fields(sNode, "suggestedBy", "type", "id", "displayName", "source", "textHash");
                if (!sf.TryGetValue("type", out var typeNode))
                {
                    throw Fail("suggestedBy", sNode, "missing required field 'type' (agent or user)");
                }

                var type = Str(typeNode, "suggestedBy.type");
                if (type != "agent" && type != "user")
                {
                    throw Fail("suggestedBy.type", typeNode, $"'{type}' is not a suggester type; expected agent or user");
                }

                var textHash = OptStr(sf, "textHash", "suggestedBy.");
                if (textHash is not null && !IsSha256Id(textHash))
                {
                    throw Fail("suggestedBy.textHash", sf["textHash"], $"'{textHash}' is not a hash; expected sha256: followed by 64 lowercase hex digits");
                }

                suggestedBy = new SuggestedBy(type, OptStr(sf, "id", "suggestedBy.", true), OptStr(sf, "displayName", "suggestedBy."), OptStr(sf, "source", "suggestedBy."), textHash);
            }

            if (!f.TryGetValue("operations", out var opsNode))
            {
                throw Fail("operations", root, "missing required field 'operations'");
            }

            if (opsNode.Kind != JsonValueKind.Array)
            {
                throw Fail("operations", opsNode, $"expected an array, found {Describe(opsNode)}");
            }

            if (opsNode.Items!.Count == 0)
            {
                throw Fail("operations", opsNode, "a change needs at least one operation");
            }

            var ops = new List<AccessOperation>();
            for (var i = 0; i < opsNode.Items.Count; i++)
            {
                ops.Add(ReadOperation(opsNode.Items[i], "operations[" + i.ToString(CultureInfo.InvariantCulture) + "]"));
            }

            return new AccessChange(ops, title, justification, suggestedBy, requestedBy, duration, _file);
        }

        public AccessOperation ReadOperation(JsonTree node, string path)
        {
            var f = Fields(node, path, "op", "resource", "principal", "role", "group", "member", "visibility", "scope");
            if (!f.TryGetValue("op", out var opNode))
            {
                throw Fail(path, node, "missing required field 'op' (grant, revoke, addMember, removeMember, setVisibility or createLink)");
            }

            var op = Str(opNode, path + ".op");
            string[] allowed = op switch
            {
                "grant" or "revoke" => new[] { "op", "resource", "principal", "role" },
                "addMember" or "removeMember" => new[] { "op", "group", "member" },
                "setVisibility" => new[] { "op", "group", "visibility" },
                "createLink" => new[] { "op", "resource", "scope", "role" },
                _ => throw Fail(path + ".op", opNode, $"'{op}' is not an operation; expected grant, revoke, addMember, removeMember, setVisibility or createLink"),
            };
            foreach (var p in f)
            {
                if (Array.IndexOf(allowed, p.Key) < 0)
                {
                    throw Fail(path + "." + p.Key, p.Value, $"'{p.Key}' does not belong to a {op} operation; it takes {string.Join(", ", allowed.Skip(1))}");
                }
            }

            string Req(string name)
            {
                if (!f.TryGetValue(name, out var n))
                {
                    throw Fail(path, node, $"a {op} operation needs '{name}'");
                }

                var v = Str(n, path + "." + name);
                if (v.Trim().Length == 0)
                {
                    throw Fail(path + "." + name, n, "cannot be empty");
                }

                return v;
            }

            switch (op)
            {
                case "grant":
                    return AccessOperation.Grant(Req("resource"), Req("principal"), Req("role"));
                case "revoke":
                    return AccessOperation.Revoke(Req("resource"), Req("principal"), Req("role"));
                case "addMember":
                    return AccessOperation.AddMember(Req("group"), Member(f, path, Req("member")));
                case "removeMember":
                    return AccessOperation.RemoveMember(Req("group"), Member(f, path, Req("member")));
                case "setVisibility":
                {
                    var v = Req("visibility");
                    if (!SnapshotReader.TryVisibility(v, out var vis))
                    {
                        throw Fail(path + ".visibility", f["visibility"], $"'{v}' is not a visibility; expected Private or Public");
                    }

                    if (vis == GroupVisibility.HiddenMembership)
                    {
                        throw Fail(path + ".visibility", f["visibility"], "HiddenMembership can only be chosen when a group is created; a change can set Private or Public");
                    }

                    return AccessOperation.SetVisibility(Req("group"), vis);
                }

                default:
                {
                    var scope = Req("scope");
                    LinkScope linkScope = scope switch
                    {
                        "anonymous" => LinkScope.Anonymous,
                        "organization" => LinkScope.Organization,
                        _ => throw Fail(path + ".scope", f["scope"], $"'{scope}' is not a link scope; expected anonymous or organization"),
                    };
                    var role = Req("role");
                    if (role != "read" && role != "write")
                    {
                        throw Fail(path + ".role", f["role"], $"a sharing link gives read or write, not '{role}'");
                    }

                    return AccessOperation.CreateLink(Req("resource"), linkScope, role);
                }
            }
        }

        private string Member(Dictionary<string, JsonTree> f, string path, string id)
        {
            if (Audiences.IsAudience(id))
            {
                throw Fail(path + ".member", f["member"], $"the audience '{id}' cannot be a group member");
            }

            return id;
        }

        private Dictionary<string, JsonTree> Fields(JsonTree node, string path, params string[] allowed)
        {
            if (node.Kind != JsonValueKind.Object)
            {
                throw Fail(path, node, $"expected an object, found {Describe(node)}");
            }

            var result = new Dictionary<string, JsonTree>(StringComparer.Ordinal);
            foreach (var p in node.Properties!)
            {
                if (Array.IndexOf(allowed, p.Key) < 0)
                {
                    throw Fail(path == "$" ? p.Key : path + "." + p.Key, p.Value, $"unknown field '{p.Key}'; allowed here: {string.Join(", ", allowed)}");
                }

                result[p.Key] = p.Value;
            }

            return result;
        }

        private string Str(JsonTree node, string path)
        {
            if (node.Kind != JsonValueKind.String)
            {
                throw Fail(path, node, $"expected a string, found {Describe(node)}");
            }

            return node.Text!;
        }

        private string? OptStr(Dictionary<string, JsonTree> f, string name, string prefix = "", bool nonEmpty = false)
        {
            if (!f.TryGetValue(name, out var n))
            {
                return null;
            }

            var s = Str(n, prefix + name);
            if (nonEmpty && s.Trim().Length == 0)
            {
                throw Fail(prefix + name, n, "cannot be empty");
            }

            return s;
        }

        private DocumentException Fail(string field, JsonTree at, string problem) =>
            new(ErrorId, _file, field, _positions ? at.Line : 0, _positions ? at.Column : 0, problem);

        private static string Describe(JsonTree n) => n.Kind switch
        {
            JsonValueKind.Object => "an object",
            JsonValueKind.Array => "an array",
            JsonValueKind.String => "a string",
            JsonValueKind.Number => "a number",
            JsonValueKind.True or JsonValueKind.False => "a boolean",
            _ => "null",
        };
    }
}
