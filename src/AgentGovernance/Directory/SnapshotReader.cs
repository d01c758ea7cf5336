using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;
using System.Text.Json;

namespace AgentGovernance.Directory;

/// <summary>
/// Reads <c>agentgovernance/snapshot@1</c> strictly: unknown schema or fields, missing or mistyped
/// fields, duplicate or dangling ids are errors naming the file, the field and the line and column.
/// One forward pass with <see cref="Utf8JsonReader"/>; references are resolved by their UTF-8 bytes
/// afterwards (they may point forward), so no string is made per edge.
/// </summary>
public static class SnapshotReader
{
    public const string Schema = "agentgovernance/snapshot@1";
    public const string ErrorId = "SnapshotInvalid";

    public static AccessSnapshot ReadFile(string path)
    {
        byte[] data;
        try
        {
            data = File.ReadAllBytes(path);
        }
        catch (FileNotFoundException e)
        {
            throw new GovernanceException("SnapshotNotFound", GovernanceErrorKind.ObjectNotFound, $"Snapshot file '{path}' does not exist.", path, e);
        }
        catch (DirectoryNotFoundException e)
        {
            throw new GovernanceException("SnapshotNotFound", GovernanceErrorKind.ObjectNotFound, $"Snapshot file '{path}' does not exist.", path, e);
        }
        catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
        {
            throw new GovernanceException("SnapshotUnreadable", GovernanceErrorKind.ReadError, $"Snapshot file '{path}' cannot be read: {e.Message}", path, e);
        }

        return Parse(data, path);
    }

    public static AccessSnapshot Parse(byte[] utf8, string? source = null) => new Parser(utf8, source).Run();

    public static AccessSnapshot ParseText(string json, string? source = null) => Parse(Encoding.UTF8.GetBytes(json), source);

    private enum RefKind : byte
    {
        Member,
        Owner,
        ResourceGroup,
        GrantResource,
        GrantPrincipal,
    }

    private struct Ref
    {
        public int Offset;     // byte offset of the string's content in the document, or -1 when escaped
        public int Length;
        public int Escaped;    // index into _escaped when Offset is -1
        public int TokenStart; // for error positions
        public int Owner;      // principal index / resource index / grant ordinal
        public int Element;    // position within an array (members[j], owners[j])
        public RefKind Kind;
    }

    private sealed class Parser
    {
        private readonly byte[] _data;
        private readonly string? _file;
        private readonly SnapshotBuilder _b = new(string.Empty);
        private readonly Utf8Map _principalMap = new();
        private readonly Utf8Map _resourceMap = new();
        private readonly List<Ref> _refs = new();
        private readonly List<string> _escaped = new();
        private readonly List<int> _grantTokenStart = new();
        private readonly List<string> _grantRoles = new();
        private int _offset;

        public Parser(byte[] data, string? file)
        {
            _data = data;
            _file = file;
            _b.Source = file;
            // Skip a UTF-8 byte order mark.
            _offset = data.Length >= 3 && data[0] == 0xEF && data[1] == 0xBB && data[2] == 0xBF ? 3 : 0;
            foreach (var id in new[] { Audiences.Everyone, Audiences.EveryoneExceptExternal, Audiences.Anyone })
            {
                _principalMap.Add(Encoding.UTF8.GetBytes(id), _principalMap.Count);
            }
        }

        public AccessSnapshot Run()
        {
            var span = new ReadOnlySpan<byte>(_data, _offset, _data.Length - _offset);
            var r = new Utf8JsonReader(span, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow, MaxDepth = 64 });
            try
            {
                ReadDocument(ref r);
            }
            catch (JsonException e)
            {
                throw new DocumentException(ErrorId, _file, null, (e.LineNumber ?? -1) + 1, (e.BytePositionInLine ?? -1) + 1, "not valid JSON: " + StripPosition(e.Message), e);
            }

            ResolveReferences();
            return _b.Build();
        }

        private static string StripPosition(string message)
        {
            var i = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
            return i > 0 ? message.Substring(0, i) : message;
        }

        private void ReadDocument(ref Utf8JsonReader r)
        {
            r.Read();
            Expect(ref r, JsonTokenType.StartObject, "$", "the document must be a JSON object");
            var seen = 0;
            string? schema = null;
            var tenantSeen = false;
            while (Next(ref r) != JsonTokenType.EndObject)
            {
                var nameStart = (int)r.TokenStartIndex;
                if (r.ValueTextEquals("schema"u8)) { Once(ref seen, 1, "schema", nameStart); r.Read(); schema = String(ref r, "schema"); if (schema != Schema) Fail("schema", r.TokenStartIndex, $"unknown schema '{schema}'; expected '{Schema}'"); }
                else if (r.ValueTextEquals("tenant"u8)) { Once(ref seen, 2, "tenant", nameStart); r.Read(); ReadTenant(ref r); tenantSeen = true; }
                else if (r.ValueTextEquals("capturedAt"u8)) { Once(ref seen, 4, "capturedAt", nameStart); r.Read(); ReadCapturedAt(ref r); }
                else if (r.ValueTextEquals("principals"u8)) { Once(ref seen, 8, "principals", nameStart); r.Read(); ReadPrincipals(ref r); }
                else if (r.ValueTextEquals("resources"u8)) { Once(ref seen, 16, "resources", nameStart); r.Read(); ReadResources(ref r); }
                else if (r.ValueTextEquals("grants"u8)) { Once(ref seen, 32, "grants", nameStart); r.Read(); ReadGrants(ref r); }
                else
                {
                    Unknown(ref r, "$", "schema, tenant, capturedAt, principals, resources, grants");
                }

            }

            if (schema is null)
            {
                Fail("schema", 0, $"missing required field 'schema' (expected '{Schema}')");
            }

            if (!tenantSeen)
            {
                Fail("tenant", 0, "missing required field 'tenant'");
            }
        }

        private void ReadTenant(ref Utf8JsonReader r)
        {
            Expect(ref r, JsonTokenType.StartObject, "tenant", "expected an object");
            var start = (int)r.TokenStartIndex;
            var seen = 0;
            string? id = null;
            while (Next(ref r) != JsonTokenType.EndObject)
            {
                var at = (int)r.TokenStartIndex;
                if (r.ValueTextEquals("id"u8)) { Once(ref seen, 1, "tenant.id", at); r.Read(); id = NonEmpty(ref r, "tenant.id"); }
                else if (r.ValueTextEquals("displayName"u8)) { Once(ref seen, 2, "tenant.displayName", at); r.Read(); _b.TenantDisplayName = String(ref r, "tenant.displayName"); }
                else Unknown(ref r, "tenant", "id, displayName");
            }

            if (id is null)
            {
                Fail("tenant.id", start, "missing required field 'id'");
            }

            _b.TenantId = id!;
        }

        private void ReadCapturedAt(ref Utf8JsonReader r)
        {
            var text = String(ref r, "capturedAt");
            if (!DateTimeOffset.TryParseExact(text, new[] { "yyyy-MM-dd'T'HH:mm:ssK", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK" }, CultureInfo.InvariantCulture, DateTimeStyles.None, out var at))
            {
                Fail("capturedAt", r.TokenStartIndex, $"'{text}' is not an ISO 8601 date and time with an offset (e.g. 2026-11-20T09:00:00Z)");
            }

            _b.CapturedAtText = text;
            _b.CapturedAt = at;
        }

        private void ReadPrincipals(ref Utf8JsonReader r)
        {
            Expect(ref r, JsonTokenType.StartArray, "principals", "expected an array");
            var ordinal = 0;
            while (Next(ref r) != JsonTokenType.EndArray)
            {
                ReadPrincipal(ref r, ordinal++);
            }
        }

        private const int PId = 1, PType = 2, PName = 4, PUpn = 8, PUserType = 16, PEnabled = 32, PAgent = 64, PVis = 128, PMembers = 256, PMail = 512, PNick = 1024;

        private void ReadPrincipal(ref Utf8JsonReader r, int ordinal)
        {
            var path = "principals[" + ordinal.ToString(CultureInfo.InvariantCulture) + "]";
            Expect(ref r, JsonTokenType.StartObject, path, "expected an object");
            var objStart = (int)r.TokenStartIndex;
            var seen = 0;
            string? id = null, name = null, upn = null, mail = null, nick = null;
            byte[]? idBytes = null;
            PrincipalType? type = null;
            bool guest = false, enabled = true, agent = false;
            var vis = GroupVisibility.Private;
            var typeAt = 0;
            var memberRefsStart = _refs.Count;
            var memberCount = 0;
            while (Next(ref r) != JsonTokenType.EndObject)
            {
                var at = (int)r.TokenStartIndex;
                if (r.ValueTextEquals("id"u8))
                {
                    Once(ref seen, PId, path + ".id", at);
                    r.Read();
                    id = NonEmpty(ref r, path + ".id");
                    if (Audiences.IsAudience(id))
                    {
                        Fail(path + ".id", r.TokenStartIndex, $"'{id}' is a reserved audience id and cannot be a principal");
                    }

                    idBytes = r.ValueIsEscaped ? Encoding.UTF8.GetBytes(id) : r.ValueSpan.ToArray();
                }
                else if (r.ValueTextEquals("type"u8))
                {
                    Once(ref seen, PType, path + ".type", at);
                    r.Read();
                    typeAt = (int)r.TokenStartIndex;
                    var t = String(ref r, path + ".type");
                    type = t switch
                    {
                        "user" => PrincipalType.User,
                        "group" => PrincipalType.Group,
                        "servicePrincipal" => PrincipalType.ServicePrincipal,
                        _ => null,
                    };
                    if (type is null)
                    {
                        Fail(path + ".type", typeAt, $"'{t}' is not a principal type; expected user, group or servicePrincipal");
                    }
                }
                else if (r.ValueTextEquals("displayName"u8)) { Once(ref seen, PName, path + ".displayName", at); r.Read(); name = String(ref r, path + ".displayName"); }
                else if (r.ValueTextEquals("userPrincipalName"u8)) { Once(ref seen, PUpn, path + ".userPrincipalName", at); r.Read(); upn = NonEmpty(ref r, path + ".userPrincipalName"); }
                else if (r.ValueTextEquals("mail"u8)) { Once(ref seen, PMail, path + ".mail", at); r.Read(); mail = NonEmpty(ref r, path + ".mail"); }
                else if (r.ValueTextEquals("mailNickname"u8)) { Once(ref seen, PNick, path + ".mailNickname", at); r.Read(); nick = NonEmpty(ref r, path + ".mailNickname"); }
                else if (r.ValueTextEquals("userType"u8))
                {
                    Once(ref seen, PUserType, path + ".userType", at);
                    r.Read();
                    var ut = String(ref r, path + ".userType");
                    if (string.Equals(ut, "Guest", StringComparison.OrdinalIgnoreCase)) guest = true;
                    else if (!string.Equals(ut, "Member", StringComparison.OrdinalIgnoreCase)) Fail(path + ".userType", r.TokenStartIndex, $"'{ut}' is not a userType; expected Member or Guest");
                }
                else if (r.ValueTextEquals("accountEnabled"u8)) { Once(ref seen, PEnabled, path + ".accountEnabled", at); r.Read(); enabled = Bool(ref r, path + ".accountEnabled"); }
                else if (r.ValueTextEquals("isAgent"u8)) { Once(ref seen, PAgent, path + ".isAgent", at); r.Read(); agent = Bool(ref r, path + ".isAgent"); }
                else if (r.ValueTextEquals("visibility"u8))
                {
                    Once(ref seen, PVis, path + ".visibility", at);
                    r.Read();
                    var v = String(ref r, path + ".visibility");
                    if (!TryVisibility(v, out vis)) Fail(path + ".visibility", r.TokenStartIndex, $"'{v}' is not a visibility; expected Private, Public or HiddenMembership");
                }
                else if (r.ValueTextEquals("members"u8))
                {
                    Once(ref seen, PMembers, path + ".members", at);
                    r.Read();
                    Expect(ref r, JsonTokenType.StartArray, path + ".members", "expected an array of principal ids");
                    while (Next(ref r) != JsonTokenType.EndArray)
                    {
                        AddRef(ref r, RefKind.Member, -1, memberCount++);
                    }
                }
                else
                {
                    Unknown(ref r, path, "id, type, displayName, userPrincipalName, mail, mailNickname, userType, accountEnabled, isAgent, visibility, members");
                }
            }

            if (id is null) Fail(path, objStart, "missing required field 'id'");
            if (type is null) Fail(path, objStart, "missing required field 'type'");
            var pt = type!.Value;
            if (pt != PrincipalType.User)
            {
                if ((seen & PUpn) != 0) Fail(path + ".userPrincipalName", typeAt, "only a user has a userPrincipalName");
                if ((seen & PUserType) != 0) Fail(path + ".userType", typeAt, "only a user has a userType");
            }

            if (pt == PrincipalType.Group && (seen & PEnabled) != 0) Fail(path + ".accountEnabled", typeAt, "a group has no accountEnabled");
            if (pt != PrincipalType.Group)
            {
                if ((seen & PMembers) != 0) Fail(path + ".members", typeAt, "only a group has members");
                if ((seen & PVis) != 0) Fail(path + ".visibility", typeAt, "only a group has a visibility");
            }

            var index = _b.AddPrincipal(id!, pt, name, upn, guest, enabled, agent, vis, mail, nick);
            if (index < 0)
            {
                Fail(path + ".id", objStart, $"duplicate principal id '{id}'");
            }

            _principalMap.Add(idBytes!, index);
            for (var i = memberRefsStart; i < _refs.Count; i++)
            {
                var x = _refs[i];
                x.Owner = index;
                _refs[i] = x;
            }
        }

        private void ReadResources(ref Utf8JsonReader r)
        {
            Expect(ref r, JsonTokenType.StartArray, "resources", "expected an array");
            var ordinal = 0;
            while (Next(ref r) != JsonTokenType.EndArray)
            {
                ReadResource(ref r, ordinal++);
            }
        }

        private void ReadResource(ref Utf8JsonReader r, int ordinal)
        {
            var path = "resources[" + ordinal.ToString(CultureInfo.InvariantCulture) + "]";
            Expect(ref r, JsonTokenType.StartObject, path, "expected an object");
            var objStart = (int)r.TokenStartIndex;
            var seen = 0;
            string? id = null, type = null, name = null, url = null;
            byte[]? idBytes = null;
            var sensitivity = Sensitivity.General;
            var personal = false;
            var refsStart = _refs.Count;
            var owners = 0;
            while (Next(ref r) != JsonTokenType.EndObject)
            {
                var at = (int)r.TokenStartIndex;
                if (r.ValueTextEquals("id"u8))
                {
                    Once(ref seen, 1, path + ".id", at);
                    r.Read();
                    id = NonEmpty(ref r, path + ".id");
                    idBytes = r.ValueIsEscaped ? Encoding.UTF8.GetBytes(id) : r.ValueSpan.ToArray();
                }
                else if (r.ValueTextEquals("type"u8)) { Once(ref seen, 2, path + ".type", at); r.Read(); type = NonEmpty(ref r, path + ".type"); }
                else if (r.ValueTextEquals("displayName"u8)) { Once(ref seen, 4, path + ".displayName", at); r.Read(); name = String(ref r, path + ".displayName"); }
                else if (r.ValueTextEquals("webUrl"u8)) { Once(ref seen, 8, path + ".webUrl", at); r.Read(); url = NonEmpty(ref r, path + ".webUrl"); }
                else if (r.ValueTextEquals("sensitivity"u8))
                {
                    Once(ref seen, 16, path + ".sensitivity", at);
                    r.Read();
                    var s = String(ref r, path + ".sensitivity");
                    if (!TrySensitivity(s, out sensitivity)) Fail(path + ".sensitivity", r.TokenStartIndex, $"'{s}' is not a sensitivity; expected Public, General, Confidential or HighlyConfidential");
                }
                else if (r.ValueTextEquals("personalData"u8)) { Once(ref seen, 32, path + ".personalData", at); r.Read(); personal = Bool(ref r, path + ".personalData"); }
                else if (r.ValueTextEquals("owners"u8))
                {
                    Once(ref seen, 64, path + ".owners", at);
                    r.Read();
                    Expect(ref r, JsonTokenType.StartArray, path + ".owners", "expected an array of principal ids");
                    while (Next(ref r) != JsonTokenType.EndArray)
                    {
                        AddRef(ref r, RefKind.Owner, -1, owners++);
                    }
                }
                else if (r.ValueTextEquals("group"u8)) { Once(ref seen, 128, path + ".group", at); r.Read(); AddRef(ref r, RefKind.ResourceGroup, -1, 0); }
                else Unknown(ref r, path, "id, type, displayName, webUrl, sensitivity, personalData, owners, group");
            }

            if (id is null) Fail(path, objStart, "missing required field 'id'");
            if (type is null) Fail(path, objStart, "missing required field 'type'");
            var index = _b.AddResource(id!, type!, name, sensitivity, personal, -1, url);
            if (index < 0) Fail(path + ".id", objStart, $"duplicate resource id '{id}'");
            _resourceMap.Add(idBytes!, index);
            for (var i = refsStart; i < _refs.Count; i++)
            {
                var x = _refs[i];
                x.Owner = index;
                _refs[i] = x;
            }
        }

        private void ReadGrants(ref Utf8JsonReader r)
        {
            Expect(ref r, JsonTokenType.StartArray, "grants", "expected an array");
            var ordinal = 0;
            while (Next(ref r) != JsonTokenType.EndArray)
            {
                var path = "grants[" + ordinal.ToString(CultureInfo.InvariantCulture) + "]";
                Expect(ref r, JsonTokenType.StartObject, path, "expected an object");
                var objStart = (int)r.TokenStartIndex;
                var seen = 0;
                string? role = null;
                while (Next(ref r) != JsonTokenType.EndObject)
                {
                    var at = (int)r.TokenStartIndex;
                    if (r.ValueTextEquals("resource"u8)) { Once(ref seen, 1, path + ".resource", at); r.Read(); AddRef(ref r, RefKind.GrantResource, ordinal, 0); }
                    else if (r.ValueTextEquals("principal"u8)) { Once(ref seen, 2, path + ".principal", at); r.Read(); AddRef(ref r, RefKind.GrantPrincipal, ordinal, 0); }
                    else if (r.ValueTextEquals("role"u8)) { Once(ref seen, 4, path + ".role", at); r.Read(); role = NonEmpty(ref r, path + ".role"); }
                    else Unknown(ref r, path, "resource, principal, role");
                }

                if ((seen & 1) == 0) Fail(path, objStart, "missing required field 'resource'");
                if ((seen & 2) == 0) Fail(path, objStart, "missing required field 'principal'");
                if (role is null) Fail(path, objStart, "missing required field 'role'");
                _grantRoles.Add(role!);
                _grantTokenStart.Add(objStart);
                ordinal++;
            }
        }

        private void ResolveReferences()
        {
            var grantCount = _grantRoles.Count;
            var grantResource = new int[grantCount];
            var grantPrincipal = new int[grantCount];
            var memberSeen = new HashSet<long>();
            var ownerSeen = new HashSet<long>();
            foreach (var x in _refs)
            {
                switch (x.Kind)
                {
                    case RefKind.Member:
                    {
                        var m = ResolvePrincipal(x, allowAudience: false);
                        if (!memberSeen.Add(((long)x.Owner << 32) | (uint)m))
                        {
                            Fail(RefPath(x), x.TokenStart, $"'{_b.PrincipalIds[m]}' is listed twice as a member of '{_b.PrincipalIds[x.Owner]}'");
                        }

                        _b.AddMember(x.Owner, m);
                        break;
                    }

                    case RefKind.Owner:
                    {
                        var p = ResolvePrincipal(x, allowAudience: false);
                        if (!ownerSeen.Add(((long)x.Owner << 32) | (uint)p))
                        {
                            Fail(RefPath(x), x.TokenStart, $"'{_b.PrincipalIds[p]}' is listed twice as an owner");
                        }

                        _b.AddOwner(x.Owner, p);
                        break;
                    }

                    case RefKind.ResourceGroup:
                    {
                        var g = ResolvePrincipal(x, allowAudience: false);
                        if (_b.Types[g] != PrincipalType.Group)
                        {
                            Fail(RefPath(x), x.TokenStart, $"'{_b.PrincipalIds[g]}' is a {TypeName(_b.Types[g])}, not a group");
                        }

                        _b.SetResourceGroup(x.Owner, g);
                        break;
                    }

                    case RefKind.GrantResource:
                        grantResource[x.Owner] = ResolveResource(x);
                        break;
                    case RefKind.GrantPrincipal:
                        grantPrincipal[x.Owner] = ResolvePrincipal(x, allowAudience: true);
                        break;
                }
            }

            var grantSeen = new HashSet<(int, int, int)>();
            for (var i = 0; i < grantCount; i++)
            {
                var role = _b.RoleNameIndex(_grantRoles[i]);
                if (!grantSeen.Add((grantResource[i], grantPrincipal[i], role)))
                {
                    Fail("grants[" + i.ToString(CultureInfo.InvariantCulture) + "]", _grantTokenStart[i],
                        $"duplicate grant: '{_b.PrincipalIds[grantPrincipal[i]]}' already has '{_grantRoles[i]}' on '{_b.ResourceIds[grantResource[i]]}'");
                }

                _b.AddGrant(grantResource[i], grantPrincipal[i], _grantRoles[i]);
            }
        }

        private static string TypeName(PrincipalType t) => t switch
        {
            PrincipalType.User => "user",
            PrincipalType.Group => "group",
            PrincipalType.ServicePrincipal => "servicePrincipal",
            _ => "audience",
        };

        private string RefPath(Ref x)
        {
            string Num(int n) => n.ToString(CultureInfo.InvariantCulture);
            switch (x.Kind)
            {
                case RefKind.Member:
                    return $"principals[{Num(x.Owner - AccessSnapshot.FirstPrincipal)}].members[{Num(x.Element)}]";
                case RefKind.Owner:
                    return $"resources[{Num(x.Owner)}].owners[{Num(x.Element)}]";
                case RefKind.ResourceGroup:
                    return $"resources[{Num(x.Owner)}].group";
                case RefKind.GrantResource:
                    return $"grants[{Num(x.Owner)}].resource";
                default:
                    return $"grants[{Num(x.Owner)}].principal";
            }
        }

        /// <summary>The path of a reference whose owner is still being read (its owner is the next principal or resource).</summary>
        private string PendingRefPath(Ref x)
        {
            if (x.Owner < 0)
            {
                x.Owner = x.Kind == RefKind.Member ? _b.PrincipalCount : _b.ResourceIds.Count;
            }

            return RefPath(x);
        }

        private ReadOnlySpan<byte> RefBytes(Ref x) =>
            x.Offset >= 0 ? new ReadOnlySpan<byte>(_data, x.Offset, x.Length) : Encoding.UTF8.GetBytes(_escaped[x.Escaped]);

        private string RefText(Ref x) => x.Offset >= 0 ? Encoding.UTF8.GetString(_data, x.Offset, x.Length) : _escaped[x.Escaped];

        private int ResolvePrincipal(Ref x, bool allowAudience)
        {
            var index = _principalMap.Find(RefBytes(x));
            if (index < 0)
            {
                Fail(RefPath(x), x.TokenStart, $"'{RefText(x)}' is not the id of a principal in this snapshot");
            }

            if (!allowAudience && index < AccessSnapshot.FirstPrincipal)
            {
                Fail(RefPath(x), x.TokenStart, $"the audience '{RefText(x)}' can only be named in a grant");
            }

            return index;
        }

        private int ResolveResource(Ref x)
        {
            var index = _resourceMap.Find(RefBytes(x));
            if (index < 0)
            {
                Fail(RefPath(x), x.TokenStart, $"'{RefText(x)}' is not the id of a resource in this snapshot");
            }

            return index;
        }

        private void AddRef(ref Utf8JsonReader r, RefKind kind, int owner, int element)
        {
            var x = new Ref { Kind = kind, Owner = owner, Element = element, TokenStart = (int)r.TokenStartIndex };
            if (r.TokenType != JsonTokenType.String)
            {
                Fail(PendingRefPath(x), r.TokenStartIndex, $"expected an id (a string), found {Describe(r.TokenType)}");
            }

            if (r.ValueIsEscaped)
            {
                x.Offset = -1;
                x.Escaped = _escaped.Count;
                _escaped.Add(r.GetString()!);
            }
            else
            {
                // The value's content starts one byte after the opening quote.
                x.Offset = (int)r.TokenStartIndex + 1 + _offset; // absolute, into _data
                x.Length = r.ValueSpan.Length;
            }

            if (x.Offset >= 0 ? x.Length == 0 : _escaped[x.Escaped].Length == 0)
            {
                Fail(PendingRefPath(x), r.TokenStartIndex, "an id cannot be empty");
            }

            _refs.Add(x);
        }

        // ---- token helpers ----------------------------------------------------------------------

        private static JsonTokenType Next(ref Utf8JsonReader r)
        {
            r.Read();
            return r.TokenType;
        }

        private void Expect(ref Utf8JsonReader r, JsonTokenType type, string path, string what)
        {
            if (r.TokenType != type)
            {
                Fail(path, r.TokenStartIndex, $"{what}, found {Describe(r.TokenType)}");
            }
        }

        private string String(ref Utf8JsonReader r, string path)
        {
            if (r.TokenType != JsonTokenType.String)
            {
                Fail(path, r.TokenStartIndex, $"expected a string, found {Describe(r.TokenType)}");
            }

            return r.GetString()!;
        }

        private string NonEmpty(ref Utf8JsonReader r, string path)
        {
            var s = String(ref r, path);
            if (s.Length == 0 || s.Trim().Length == 0)
            {
                Fail(path, r.TokenStartIndex, "cannot be empty");
            }

            return s;
        }

        private bool Bool(ref Utf8JsonReader r, string path)
        {
            if (r.TokenType == JsonTokenType.True) return true;
            if (r.TokenType == JsonTokenType.False) return false;
            Fail(path, r.TokenStartIndex, $"expected true or false, found {Describe(r.TokenType)}");
            return false;
        }

        private void Once(ref int seen, int bit, string path, int at)
        {
            if ((seen & bit) != 0)
            {
                Fail(path, at, "the field appears twice");
            }

            seen |= bit;
        }

        private void Unknown(ref Utf8JsonReader r, string path, string allowed)
        {
            var name = r.GetString();
            Fail(path + "." + name, r.TokenStartIndex, $"unknown field '{name}'; allowed here: {allowed}");
        }

        private static string Describe(JsonTokenType t) => t switch
        {
            JsonTokenType.StartObject => "an object",
            JsonTokenType.StartArray => "an array",
            JsonTokenType.String => "a string",
            JsonTokenType.Number => "a number",
            JsonTokenType.True or JsonTokenType.False => "a boolean",
            JsonTokenType.Null => "null",
            _ => t.ToString(),
        };

        /// <summary>Throws SnapshotInvalid; <paramref name="tokenStart"/> is relative to the reader's span (after any BOM).</summary>
        private void Fail(string path, long tokenStart, string problem)
        {
            var (line, column) = Position((int)Math.Min(tokenStart + _offset, _data.Length));
            throw new DocumentException(ErrorId, _file, path, line, column, problem);
        }

        private (long Line, long Column) Position(int offset)
        {
            long line = 1;
            var lineStart = 0;
            for (var i = 0; i < offset && i < _data.Length; i++)
            {
                if (_data[i] == (byte)'\n')
                {
                    line++;
                    lineStart = i + 1;
                }
            }

            // Columns count characters, not bytes.
            var column = Encoding.UTF8.GetCharCount(_data, lineStart, Math.Max(0, offset - lineStart)) + 1;
            return (line, column);
        }
    }

    internal static bool TryVisibility(string text, out GroupVisibility visibility)
    {
        foreach (GroupVisibility v in Enum.GetValues(typeof(GroupVisibility)))
        {
            if (string.Equals(v.ToString(), text, StringComparison.OrdinalIgnoreCase))
            {
                visibility = v;
                return true;
            }
        }

        visibility = GroupVisibility.Private;
        return false;
    }

    internal static bool TrySensitivity(string text, out Sensitivity sensitivity)
    {
        foreach (Sensitivity s in Enum.GetValues(typeof(Sensitivity)))
        {
            if (string.Equals(s.ToString(), text, StringComparison.OrdinalIgnoreCase))
            {
                sensitivity = s;
                return true;
            }
        }

        sensitivity = Sensitivity.General;
        return false;
    }
}

/// <summary>An open-addressing map from UTF-8 id bytes to an index, looked up without making strings.</summary>
internal sealed class Utf8Map
{
    private byte[] _keys = new byte[1 << 16];
    private int _keysUsed;
    private int[] _slots = new int[1 << 10]; // entry + 1, 0 = empty
    private readonly List<int> _keyStart = new();
    private readonly List<int> _keyLength = new();
    private readonly List<int> _values = new();
    private readonly List<uint> _hashes = new();

    public int Count => _values.Count;

    public void Add(byte[] key, int value)
    {
        if (_keysUsed + key.Length > _keys.Length)
        {
            Array.Resize(ref _keys, Math.Max(_keys.Length * 2, _keysUsed + key.Length));
        }

        Buffer.BlockCopy(key, 0, _keys, _keysUsed, key.Length);
        _keyStart.Add(_keysUsed);
        _keyLength.Add(key.Length);
        _keysUsed += key.Length;
        _values.Add(value);
        var h = Hash(key);
        _hashes.Add(h);
        if (_values.Count * 2 > _slots.Length)
        {
            Rehash();
        }
        else
        {
            Insert(_values.Count - 1, h);
        }
    }

    public int Find(ReadOnlySpan<byte> key)
    {
        var h = Hash(key);
        var mask = _slots.Length - 1;
        var i = (int)(h & mask);
        while (true)
        {
            var s = _slots[i];
            if (s == 0)
            {
                return -1;
            }

            var e = s - 1;
            if (_hashes[e] == h && _keyLength[e] == key.Length && key.SequenceEqual(new ReadOnlySpan<byte>(_keys, _keyStart[e], _keyLength[e])))
            {
                return _values[e];
            }

            i = (i + 1) & mask;
        }
    }

    private void Rehash()
    {
        _slots = new int[_slots.Length * 2];
        for (var e = 0; e < _values.Count; e++)
        {
            Insert(e, _hashes[e]);
        }
    }

    private void Insert(int entry, uint h)
    {
        var mask = _slots.Length - 1;
        var i = (int)(h & mask);
        while (_slots[i] != 0)
        {
            i = (i + 1) & mask;
        }

        _slots[i] = entry + 1;
    }

    private static uint Hash(ReadOnlySpan<byte> key)
    {
        // FNV-1a, then a finalizer so that the low bits used for the slot mix well.
        var h = 2166136261u;
        foreach (var b in key)
        {
            h = (h ^ b) * 16777619u;
        }

        h ^= h >> 15;
        h *= 0x2c1b3c6du;
        h ^= h >> 12;
        return h;
    }
}
