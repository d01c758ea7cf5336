using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using System.Text.Json;
using AgentGovernance.IO;

namespace AgentGovernance.Directory;

/// <summary>
/// Reads <c>agentgovernance/snapshot@1</c> and <c>@2</c> (@1 with a permission inventory's drives) strictly: unknown schema or fields, missing or mistyped
/// fields, duplicate or dangling ids are errors naming the file, the field and the line and column.
/// One forward pass with <see cref="Utf8JsonReader"/>; references are resolved by their UTF-8 bytes
/// afterwards (they may point forward), so no string is made per edge.
/// </summary>
public static class SnapshotReader
{
    public const string Schema = "agentgovernance/snapshot@1";

    /// <summary>A snapshot that carries a permission inventory (its drives' delta links and crawl times).</summary>
    public const string InventorySchema = "agentgovernance/snapshot@2";
    public const string ErrorId = "SnapshotInvalid";

    public static AccessSnapshot ReadFile(string path) => Parse(DocumentFile.ReadAllBytes(path, "Snapshot"), path);

    /// <summary>
    /// Reads a snapshot file, telling <paramref name="progress"/> (what, bytes read, bytes in all) every
    /// few thousand entries, so a cmdlet can show progress on a large file.
    /// </summary>
    public static AccessSnapshot ReadFile(string path, Action<string, long, long>? progress) =>
        new Parser(DocumentFile.ReadAllBytes(path, "Snapshot"), path) { Progress = progress }.Run();

    public static AccessSnapshot Parse(byte[] utf8, string? source = null) => new Parser(utf8, source).Run();

    public static AccessSnapshot ParseText(string json, string? source = null)
    {
        byte[] bytes;
        try
        {
            bytes = Json.Utf8Input.Encode(json);
        }
        catch (JsonException e)
        {
            throw new DocumentException(ErrorId, source, null, (e.LineNumber ?? -1) + 1, (e.BytePositionInLine ?? -1) + 1, e.Message, e);
        }

        return Parse(bytes, source);
    }

    private enum RefKind : byte
    {
        Member,
        Owner,
        ResourceGroup,
        GrantResource,
        GrantPrincipal,
    }

    /// <summary>Where a value stands, as a JSON path built only when an error needs it: array[ordinal].field[element].</summary>
    private readonly struct PathRef
    {
        private readonly string _array;
        private readonly int _ordinal;
        private readonly string? _field;
        private readonly int _element;

        public PathRef(string array, int ordinal, string? field = null, int element = -1)
        {
            _array = array;
            _ordinal = ordinal;
            _field = field;
            _element = element;
        }

        public override string ToString()
        {
            var path = _array + "[" + _ordinal.ToString(CultureInfo.InvariantCulture) + "]";
            if (_field is null)
            {
                return path;
            }

            path += "." + _field;
            return _element < 0 ? path : path + "[" + _element.ToString(CultureInfo.InvariantCulture) + "]";
        }
    }

    /// <summary>A reference to an id not yet defined when it was read (a forward reference).</summary>
    private struct Ref
    {
        public int Offset;     // absolute byte offset of the string's content, or -(index into _escaped + 1)
        public int Length;
        public int TokenStart; // relative to the reader's span, for error positions
        public int Slot;       // what to patch: member/owner position, resource index or grant ordinal
        public RefKind Kind;
    }

    private sealed class Parser
    {
        private static readonly byte[][] VisibilityNames = { "Private"u8.ToArray(), "Public"u8.ToArray(), "HiddenMembership"u8.ToArray() };
        private static readonly byte[][] SensitivityNames = { "Public"u8.ToArray(), "General"u8.ToArray(), "Confidential"u8.ToArray(), "HighlyConfidential"u8.ToArray() };

        private readonly byte[] _data;
        private readonly string? _file;
        private readonly SnapshotBuilder _b;
        private readonly List<Ref> _refs = new();
        private readonly List<string> _escaped = new();
        private readonly List<int> _grantResource = new();
        private readonly List<int> _grantPrincipal = new();
        private readonly List<string> _grantRoles = new();
        private readonly List<int> _grantTokenStart = new();
        private int[] _stamp = new int[1024];
        private int _offset;

        /// <summary>Told (array name, bytes read, bytes in all) every <see cref="ProgressEvery"/> entries.</summary>
        public Action<string, long, long>? Progress { get; set; }

        private const int ProgressEvery = 4096;

        public Parser(byte[] data, string? file)
        {
            _data = data;
            _file = file;
            // Every principal and resource has an "id": counting them first (a vectorised scan, a small
            // fraction of the parse) sizes the id indexes and the builder's lists so they never grow
            // while the file is read. The ids before "resources" are (in the usual order) the
            // principals': sizing each index for its own ids keeps it small, and on a large tenant every
            // look-up is a random probe whose cost is the cache and TLB misses of the table's size.
            // Only a hint: a file in another order gets indexes that grow.
            var cut = new ReadOnlySpan<byte>(data).IndexOf("\"resources\""u8);
            int principals, resources;
            if (cut < 0)
            {
                principals = resources = Count(data, "\"id\""u8);
            }
            else
            {
                principals = Count(new ReadOnlySpan<byte>(data, 0, cut), "\"id\""u8);
                resources = Count(new ReadOnlySpan<byte>(data, cut, data.Length - cut), "\"id\""u8);
            }

            _b = new SnapshotBuilder(string.Empty, principals, resources) { Source = file };
            // Skip a UTF-8 byte order mark.
            _offset = data.Length >= 3 && data[0] == 0xEF && data[1] == 0xBB && data[2] == 0xBF ? 3 : 0;
        }

        public AccessSnapshot Run()
        {
            var span = new ReadOnlySpan<byte>(_data, _offset, _data.Length - _offset);
            var r = new Utf8JsonReader(span, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow, MaxDepth = 64 });
            try
            {
                Json.Utf8Input.Check(span);
                ReadDocument(ref r);
                IndexPendingPrincipals();
            }
            catch (JsonException e)
            {
                // A duplicate id in the principals not yet indexed comes before this error in the file.
                IndexPendingPrincipals();
                throw new DocumentException(ErrorId, _file, null, (e.LineNumber ?? -1) + 1, (e.BytePositionInLine ?? -1) + 1, "not valid JSON: " + StripPosition(e.Message), e);
            }

            Progress?.Invoke("references", _data.Length, _data.Length);
            ResolvePendingGrants();
            ResolveForwardReferences();
            AddGrants();
            return _b.Build();
        }

        private static int Count(ReadOnlySpan<byte> data, ReadOnlySpan<byte> what)
        {
            var n = 0;
            int i;
            while ((i = data.IndexOf(what)) >= 0)
            {
                n++;
                data = data.Slice(i + what.Length);
            }

            return n;
        }

        private static string StripPosition(string message)
        {
            var i = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
            return i > 0 ? message.Substring(0, i) : message;
        }

        private static string Index(string array, int i) => array + "[" + i.ToString(CultureInfo.InvariantCulture) + "]";

        private void ReadDocument(ref Utf8JsonReader r)
        {
            r.Read();
            Expect(ref r, JsonTokenType.StartObject, "$", "the document must be a JSON object");
            var seen = 0;
            string? schema = null;
            var tenantSeen = false;
            long inventoryAt = -1;
            while (Next(ref r) != JsonTokenType.EndObject)
            {
                var at = r.TokenStartIndex;
                if (r.ValueTextEquals("schema"u8))
                {
                    Once(ref seen, 1, "schema", at);
                    r.Read();
                    schema = String(ref r, "schema");
                    if (schema != Schema && schema != InventorySchema)
                    {
                        Fail("schema", r.TokenStartIndex, $"unknown schema '{schema}'; expected '{Schema}' or '{InventorySchema}'");
                    }
                }
                else if (r.ValueTextEquals("tenant"u8)) { Once(ref seen, 2, "tenant", at); r.Read(); ReadTenant(ref r); tenantSeen = true; }
                else if (r.ValueTextEquals("capturedAt"u8)) { Once(ref seen, 4, "capturedAt", at); r.Read(); ReadCapturedAt(ref r); }
                else if (r.ValueTextEquals("principals"u8)) { Once(ref seen, 8, "principals", at); r.Read(); ReadArray(ref r, "principals", 0); }
                else if (r.ValueTextEquals("resources"u8)) { Once(ref seen, 16, "resources", at); r.Read(); ReadArray(ref r, "resources", 1); }
                else if (r.ValueTextEquals("grants"u8)) { Once(ref seen, 32, "grants", at); r.Read(); ReadArray(ref r, "grants", 2); }
                else if (r.ValueTextEquals("inventory"u8)) { Once(ref seen, 64, "inventory", at); inventoryAt = at; r.Read(); ReadInventory(ref r); }
                else Unknown(ref r, "$", "schema, tenant, capturedAt, inventory, principals, resources, grants");
            }

            if (inventoryAt >= 0 && schema == Schema)
            {
                Fail("inventory", inventoryAt, $"'inventory' is a field of '{InventorySchema}'; this document says '{Schema}'");
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

        private void ReadArray(ref Utf8JsonReader r, string name, int what)
        {
            Expect(ref r, JsonTokenType.StartArray, name, "expected an array");
            var ordinal = 0;
            while (Next(ref r) != JsonTokenType.EndArray)
            {
                switch (what)
                {
                    case 0: ReadPrincipal(ref r, ordinal); break;
                    case 1: ReadResource(ref r, ordinal); break;
                    default: ReadGrant(ref r, ordinal); break;
                }

                ordinal++;
                if (Progress is not null && ordinal % ProgressEvery == 0)
                {
                    Progress(name, _offset + r.BytesConsumed, _data.Length);
                }
            }

            IndexPendingPrincipals();
        }

        private void ReadTenant(ref Utf8JsonReader r)
        {
            Expect(ref r, JsonTokenType.StartObject, "tenant", "expected an object");
            var start = r.TokenStartIndex;
            var seen = 0;
            string? id = null;
            while (Next(ref r) != JsonTokenType.EndObject)
            {
                var at = r.TokenStartIndex;
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

        /// <summary>
        /// "inventory": { "drives": [ { "id", "site", "deltaLink", "crawledAt" } ], "gaps": [ "…" ] }: every
        /// drive field required; "gaps" (what the crawl could not read) optional, so a preview on the file
        /// still says its coverage is Partial.
        /// </summary>
        private void ReadInventory(ref Utf8JsonReader r)
        {
            Expect(ref r, JsonTokenType.StartObject, "inventory", "expected an object");
            var seen = 0;
            while (Next(ref r) != JsonTokenType.EndObject)
            {
                var at = r.TokenStartIndex;
                if (r.ValueTextEquals("gaps"u8))
                {
                    Once(ref seen, 2, "inventory.gaps", at);
                    r.Read();
                    Expect(ref r, JsonTokenType.StartArray, "inventory.gaps", "expected an array of strings");
                    for (var g = 0; Next(ref r) != JsonTokenType.EndArray; g++)
                    {
                        _b.CoverageGaps.Add(NonEmpty(ref r, Index("inventory.gaps", g)));
                    }

                    continue;
                }

                if (r.ValueTextEquals("deltaLinks"u8))
                {
                    Once(ref seen, 4, "inventory.deltaLinks", at);
                    r.Read();
                    Expect(ref r, JsonTokenType.StartObject, "inventory.deltaLinks", "expected an object of delta links");
                    while (Next(ref r) != JsonTokenType.EndObject)
                    {
                        var keyAt = r.TokenStartIndex;
                        var key = r.GetString()!;
                        if (key is not ("users" or "groups" or "sites" or "servicePrincipals" or "directoryRoles"))
                        {
                            Unknown(ref r, "inventory.deltaLinks", "users, groups, sites, servicePrincipals, directoryRoles");
                            continue;
                        }

                        if (_b.DeltaLinks.ContainsKey(key)) Fail("inventory.deltaLinks." + key, keyAt, $"duplicate field '{key}'");
                        r.Read();
                        _b.DeltaLinks[key] = NonEmpty(ref r, "inventory.deltaLinks." + key);
                    }

                    continue;
                }

                if (!r.ValueTextEquals("drives"u8))
                {
                    Unknown(ref r, "inventory", "drives, gaps, deltaLinks");
                    continue;
                }

                Once(ref seen, 1, "inventory.drives", at);
                r.Read();
                Expect(ref r, JsonTokenType.StartArray, "inventory.drives", "expected an array");
                var ordinal = 0;
                var ids = new HashSet<string>(StringComparer.Ordinal);
                while (Next(ref r) != JsonTokenType.EndArray)
                {
                    Expect(ref r, JsonTokenType.StartObject, Index("inventory.drives", ordinal), "expected an object");
                    var start = r.TokenStartIndex;
                    var fields = 0;
                    string? id = null, site = null, link = null, crawled = null;
                    while (Next(ref r) != JsonTokenType.EndObject)
                    {
                        var fat = r.TokenStartIndex;
                        var path = new PathRef("inventory.drives", ordinal, "id");
                        if (r.ValueTextEquals("id"u8)) { Once(ref fields, 1, path, fat); r.Read(); id = NonEmpty(ref r, path); }
                        else if (r.ValueTextEquals("site"u8)) { path = new PathRef("inventory.drives", ordinal, "site"); Once(ref fields, 2, path, fat); r.Read(); site = NonEmpty(ref r, path); }
                        else if (r.ValueTextEquals("deltaLink"u8)) { path = new PathRef("inventory.drives", ordinal, "deltaLink"); Once(ref fields, 4, path, fat); r.Read(); link = NonEmpty(ref r, path); }
                        else if (r.ValueTextEquals("crawledAt"u8))
                        {
                            path = new PathRef("inventory.drives", ordinal, "crawledAt");
                            Once(ref fields, 8, path, fat);
                            r.Read();
                            crawled = NonEmpty(ref r, path);
                            if (!DateTimeOffset.TryParseExact(crawled, new[] { "yyyy-MM-dd'T'HH:mm:ssK", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK" }, CultureInfo.InvariantCulture, DateTimeStyles.None, out _))
                            {
                                Fail(path.ToString(), r.TokenStartIndex, $"'{crawled}' is not an ISO 8601 date and time with an offset (e.g. 2026-11-20T09:00:00Z)");
                            }
                        }
                        else Unknown(ref r, Index("inventory.drives", ordinal), "id, site, deltaLink, crawledAt");
                    }

                    foreach (var (bit, name) in new[] { (1, "id"), (2, "site"), (4, "deltaLink"), (8, "crawledAt") })
                    {
                        if ((fields & bit) == 0) Fail(Index("inventory.drives", ordinal) + "." + name, start, $"missing required field '{name}'");
                    }

                    if (!ids.Add(id!))
                    {
                        Fail(Index("inventory.drives", ordinal) + ".id", start, $"duplicate drive id '{id}'");
                    }

                    _b.Drives.Add(new InventoryDrive(id!, site!, link!, crawled!));
                    ordinal++;
                }
            }
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

        private const int PId = 1, PType = 2, PName = 4, PUpn = 8, PUserType = 16, PEnabled = 32, PAgent = 64, PVis = 128, PMembers = 256, PMail = 512, PNick = 1024;

        private void ReadPrincipal(ref Utf8JsonReader r, int ordinal)
        {
            Expect(ref r, JsonTokenType.StartObject, new PathRef("principals", ordinal), "expected an object");
            var objStart = r.TokenStartIndex;
            var seen = 0;
            string? id = null, name = null, upn = null, mail = null, nick = null;
            byte[]? idBytes = null; // only for an id with escapes; else it is read from the file's bytes
            int idOffset = 0, idLength = 0;
            var type = PrincipalType.Audience; // not yet known
            bool guest = false, enabled = true, agent = false;
            var vis = GroupVisibility.Private;
            long typeAt = 0;
            // This principal will get the next index: members are recorded against it as they are read.
            var self = _b.PrincipalCount;
            var memberCount = 0;
            while (Next(ref r) != JsonTokenType.EndObject)
            {
                var at = r.TokenStartIndex;
                if (r.ValueTextEquals("id"u8))
                {
                    Once(ref seen, PId, new PathRef("principals", ordinal, "id"), at);
                    r.Read();
                    id = NonEmpty(ref r, new PathRef("principals", ordinal, "id"));
                    if (Audiences.IsAudience(id))
                    {
                        Fail(Field(ordinal, "id"), r.TokenStartIndex, $"'{id}' is a reserved audience id and cannot be a principal");
                    }

                    if (r.ValueIsEscaped)
                    {
                        idBytes = Encoding.UTF8.GetBytes(id);
                    }
                    else
                    {
                        idOffset = (int)r.TokenStartIndex + 1 + _offset;
                        idLength = r.ValueSpan.Length;
                    }
                }
                else if (r.ValueTextEquals("type"u8))
                {
                    Once(ref seen, PType, new PathRef("principals", ordinal, "type"), at);
                    r.Read();
                    typeAt = r.TokenStartIndex;
                    if (r.TokenType == JsonTokenType.String && r.ValueTextEquals("user"u8)) type = PrincipalType.User;
                    else if (r.TokenType == JsonTokenType.String && r.ValueTextEquals("group"u8)) type = PrincipalType.Group;
                    else if (r.TokenType == JsonTokenType.String && r.ValueTextEquals("servicePrincipal"u8)) type = PrincipalType.ServicePrincipal;
                    else Fail(Field(ordinal, "type"), typeAt, $"'{String(ref r, Field(ordinal, "type"))}' is not a principal type; expected user, group or servicePrincipal");
                }
                else if (r.ValueTextEquals("displayName"u8)) { Once(ref seen, PName, new PathRef("principals", ordinal, "displayName"), at); r.Read(); name = String(ref r, new PathRef("principals", ordinal, "displayName")); }
                else if (r.ValueTextEquals("userPrincipalName"u8)) { Once(ref seen, PUpn, new PathRef("principals", ordinal, "userPrincipalName"), at); r.Read(); upn = NonEmpty(ref r, new PathRef("principals", ordinal, "userPrincipalName")); }
                else if (r.ValueTextEquals("mail"u8)) { Once(ref seen, PMail, new PathRef("principals", ordinal, "mail"), at); r.Read(); mail = NonEmpty(ref r, new PathRef("principals", ordinal, "mail")); }
                else if (r.ValueTextEquals("mailNickname"u8)) { Once(ref seen, PNick, new PathRef("principals", ordinal, "mailNickname"), at); r.Read(); nick = NonEmpty(ref r, new PathRef("principals", ordinal, "mailNickname")); }
                else if (r.ValueTextEquals("userType"u8))
                {
                    Once(ref seen, PUserType, new PathRef("principals", ordinal, "userType"), at);
                    r.Read();
                    if (r.TokenType == JsonTokenType.String && r.ValueTextEquals("Guest"u8)) guest = true;
                    else if (!(r.TokenType == JsonTokenType.String && r.ValueTextEquals("Member"u8)))
                    {
                        var ut = String(ref r, new PathRef("principals", ordinal, "userType"));
                        if (string.Equals(ut, "Guest", StringComparison.OrdinalIgnoreCase)) guest = true;
                        else if (!string.Equals(ut, "Member", StringComparison.OrdinalIgnoreCase)) Fail(Field(ordinal, "userType"), r.TokenStartIndex, $"'{ut}' is not a userType; expected Member or Guest");
                    }
                }
                else if (r.ValueTextEquals("accountEnabled"u8)) { Once(ref seen, PEnabled, new PathRef("principals", ordinal, "accountEnabled"), at); r.Read(); enabled = Bool(ref r, new PathRef("principals", ordinal, "accountEnabled")); }
                else if (r.ValueTextEquals("isAgent"u8)) { Once(ref seen, PAgent, new PathRef("principals", ordinal, "isAgent"), at); r.Read(); agent = Bool(ref r, new PathRef("principals", ordinal, "isAgent")); }
                else if (r.ValueTextEquals("visibility"u8))
                {
                    Once(ref seen, PVis, new PathRef("principals", ordinal, "visibility"), at);
                    r.Read();
                    vis = (GroupVisibility)Enumerated(ref r, VisibilityNames, new PathRef("principals", ordinal, "visibility"), "a visibility; expected Private, Public or HiddenMembership");
                }
                else if (r.ValueTextEquals("members"u8))
                {
                    Once(ref seen, PMembers, new PathRef("principals", ordinal, "members"), at);
                    r.Read();
                    Expect(ref r, JsonTokenType.StartArray, new PathRef("principals", ordinal, "members"), "expected an array of principal ids");
                    // Members name principals before this group as found ids (checked here, with their
                    // positions), as they did before ids were indexed in batches.
                    IndexPendingPrincipals();
                    while (Next(ref r) != JsonTokenType.EndArray)
                    {
                        if (r.TokenType == JsonTokenType.String && !r.ValueIsEscaped && r.ValueSpan.Length > 0)
                        {
                            // The usual case: looked up in batches (see Utf8Map.FindMany).
                            _pending.Add(new Ref { Kind = RefKind.Member, Offset = (int)r.TokenStartIndex + 1 + _offset, Length = r.ValueSpan.Length, TokenStart = (int)r.TokenStartIndex, Slot = _b.MemberCount });
                            _pendingElement.Add(memberCount);
                            _b.AddMember(self, -1);
                            if (_pending.Count == BatchSize)
                            {
                                ResolvePendingMembers(self, ordinal);
                            }
                        }
                        else
                        {
                            var m = Reference(ref r, RefKind.Member, _b.MemberCount, new PathRef("principals", ordinal, "members", memberCount));
                            if (m >= 0)
                            {
                                CheckMember(m, self, new PathRef("principals", ordinal, "members", memberCount), r.TokenStartIndex);
                            }

                            _b.AddMember(self, m);
                        }

                        memberCount++;
                    }

                    ResolvePendingMembers(self, ordinal);
                }
                else
                {
                    Unknown(ref r, Index("principals", ordinal), "id, type, displayName, userPrincipalName, mail, mailNickname, userType, accountEnabled, isAgent, visibility, members");
                }
            }

            if (id is null) Fail(Index("principals", ordinal), objStart, "missing required field 'id'");
            if (type == PrincipalType.Audience) Fail(Index("principals", ordinal), objStart, "missing required field 'type'");
            if (type != PrincipalType.User)
            {
                if ((seen & PUpn) != 0) Fail(Field(ordinal, "userPrincipalName"), typeAt, "only a user has a userPrincipalName");
                if ((seen & PUserType) != 0) Fail(Field(ordinal, "userType"), typeAt, "only a user has a userType");
            }

            if (type == PrincipalType.Group && (seen & PEnabled) != 0) Fail(Field(ordinal, "accountEnabled"), typeAt, "a group has no accountEnabled");
            if (type != PrincipalType.Group)
            {
                if ((seen & PMembers) != 0) Fail(Field(ordinal, "members"), typeAt, "only a group has members");
                if ((seen & PVis) != 0) Fail(Field(ordinal, "visibility"), typeAt, "only a group has a visibility");
            }

            if (idBytes is not null)
            {
                IndexPendingPrincipals(); // ids are indexed in document order
                if (_b.AddPrincipal(idBytes, id!, type, name, upn, guest, enabled, agent, vis, mail, nick) != self)
                {
                    Fail(Field(ordinal, "id"), objStart, $"duplicate principal id '{id}'");
                }

                return;
            }

            _b.AppendPrincipal(id!, type, name, upn, guest, enabled, agent, vis, mail, nick);
            _pendingPrincipals.Add(new PendingPrincipal { Offset = idOffset, Length = idLength, Ordinal = ordinal, ObjectStart = (int)objStart });
            if (_pendingPrincipals.Count == BatchSize)
            {
                IndexPendingPrincipals();
            }
        }

        /// <summary>A principal read but whose id is not yet in the id index (see <see cref="IndexPendingPrincipals"/>).</summary>
        private struct PendingPrincipal
        {
            public int Offset; // absolute, into _data
            public int Length;
            public int Ordinal;
            public int ObjectStart; // relative to the reader's span, for the error position
        }

        private readonly List<PendingPrincipal> _pendingPrincipals = new(BatchSize);

        /// <summary>
        /// Indexes the ids of the principals read since the last call, in document order, in one batch
        /// (<see cref="Utf8Map.AddMany"/>: one memory round trip for the batch instead of one per id).
        /// The builder's lists already hold these principals at the indexes the id index hands out
        /// (insertion order), and a duplicate fails the whole read. A member naming a principal still
        /// Called before a group's members are looked up (so a member that names an earlier principal
        /// is found at once, as before), at the end of the principals, before a principal with an
        /// escaped id, and before any error is reported, so that a duplicate id is still the first
        /// error in the file.
        /// </summary>
        private void IndexPendingPrincipals()
        {
            var n = _pendingPrincipals.Count;
            if (n == 0)
            {
                return;
            }

            for (var k = 0; k < n; k++)
            {
                _batchOffsets[k] = _pendingPrincipals[k].Offset;
                _batchLengths[k] = _pendingPrincipals[k].Length;
            }

            var first = _b.PrincipalIndex.Count;
            _b.PrincipalIndex.AddMany(_data, new ReadOnlySpan<int>(_batchOffsets, 0, n), new ReadOnlySpan<int>(_batchLengths, 0, n), new Span<int>(_batchResults, 0, n));
            for (var k = 0; k < n; k++)
            {
                if (_batchResults[k] != first + k)
                {
                    var p = _pendingPrincipals[k];
                    _pendingPrincipals.Clear();
                    Fail(Field(p.Ordinal, "id"), p.ObjectStart, $"duplicate principal id '{_b.PrincipalIds[first + k]}'");
                }
            }

            _pendingPrincipals.Clear();
        }

        private void ReadResource(ref Utf8JsonReader r, int ordinal)
        {
            Expect(ref r, JsonTokenType.StartObject, new PathRef("resources", ordinal), "expected an object");
            var objStart = r.TokenStartIndex;
            var seen = 0;
            string? id = null, type = null, name = null, url = null;
            byte[]? idBytes = null; // only for an id with escapes; else it is read from the file's bytes
            int idOffset = 0, idLength = 0;
            var sensitivity = Sensitivity.General;
            var personal = false;
            var self = _b.ResourceIds.Count;
            var group = -1;
            var owners = 0;
            while (Next(ref r) != JsonTokenType.EndObject)
            {
                var at = r.TokenStartIndex;
                if (r.ValueTextEquals("id"u8))
                {
                    Once(ref seen, 1, new PathRef("resources", ordinal, "id"), at);
                    r.Read();
                    id = NonEmpty(ref r, new PathRef("resources", ordinal, "id"));
                    if (r.ValueIsEscaped)
                    {
                        idBytes = Encoding.UTF8.GetBytes(id);
                    }
                    else
                    {
                        idOffset = (int)r.TokenStartIndex + 1 + _offset;
                        idLength = r.ValueSpan.Length;
                    }
                }
                else if (r.ValueTextEquals("type"u8)) { Once(ref seen, 2, new PathRef("resources", ordinal, "type"), at); r.Read(); type = ResourceType(ref r, new PathRef("resources", ordinal, "type")); }
                else if (r.ValueTextEquals("displayName"u8)) { Once(ref seen, 4, new PathRef("resources", ordinal, "displayName"), at); r.Read(); name = String(ref r, new PathRef("resources", ordinal, "displayName")); }
                else if (r.ValueTextEquals("webUrl"u8)) { Once(ref seen, 8, new PathRef("resources", ordinal, "webUrl"), at); r.Read(); url = NonEmpty(ref r, new PathRef("resources", ordinal, "webUrl")); }
                else if (r.ValueTextEquals("sensitivity"u8))
                {
                    Once(ref seen, 16, new PathRef("resources", ordinal, "sensitivity"), at);
                    r.Read();
                    sensitivity = (Sensitivity)Enumerated(ref r, SensitivityNames, new PathRef("resources", ordinal, "sensitivity"), "a sensitivity; expected Public, General, Confidential or HighlyConfidential");
                }
                else if (r.ValueTextEquals("personalData"u8)) { Once(ref seen, 32, new PathRef("resources", ordinal, "personalData"), at); r.Read(); personal = Bool(ref r, new PathRef("resources", ordinal, "personalData")); }
                else if (r.ValueTextEquals("owners"u8))
                {
                    Once(ref seen, 64, new PathRef("resources", ordinal, "owners"), at);
                    r.Read();
                    Expect(ref r, JsonTokenType.StartArray, new PathRef("resources", ordinal, "owners"), "expected an array of principal ids");
                    while (Next(ref r) != JsonTokenType.EndArray)
                    {
                        var o = Reference(ref r, RefKind.Owner, _b.OwnerCount, new PathRef("resources", ordinal, "owners", owners));
                        if (o >= 0)
                        {
                            if (o < AccessSnapshot.FirstPrincipal)
                            {
                                Fail(new PathRef("resources", ordinal, "owners", owners).ToString(), r.TokenStartIndex, $"the audience '{r.GetString()}' can only be named in a grant");
                            }

                            if (Stamp(o, -(self + 1)))
                            {
                                Fail(new PathRef("resources", ordinal, "owners", owners).ToString(), r.TokenStartIndex, $"'{r.GetString()}' is listed twice as an owner");
                            }
                        }

                        _b.AddOwner(self, o);
                        owners++;
                    }
                }
                else if (r.ValueTextEquals("group"u8))
                {
                    Once(ref seen, 128, new PathRef("resources", ordinal, "group"), at);
                    r.Read();
                    group = Reference(ref r, RefKind.ResourceGroup, self, new PathRef("resources", ordinal, "group"));
                    if (group >= 0)
                    {
                        CheckGroup(group, new PathRef("resources", ordinal, "group").ToString(), r.TokenStartIndex);
                    }
                }
                else Unknown(ref r, Index("resources", ordinal), "id, type, displayName, webUrl, sensitivity, personalData, owners, group");
            }

            if (id is null) Fail(Index("resources", ordinal), objStart, "missing required field 'id'");
            if (type is null) Fail(Index("resources", ordinal), objStart, "missing required field 'type'");
            var idUtf8 = idBytes is null ? new ReadOnlySpan<byte>(_data, idOffset, idLength) : idBytes;
            if (_b.AddResource(idUtf8, id!, type!, name, sensitivity, personal, group, url) != self)
            {
                Fail(new PathRef("resources", ordinal, "id").ToString(), objStart, $"duplicate resource id '{id}'");
            }
        }

        private readonly List<(byte[] Utf8, string Text)> _resourceTypes = new();

        /// <summary>
        /// A resource's type: a tenant has a handful of them, so each is made a string once (a string
        /// per resource was a tenth of the strings the garbage collector copies during a load).
        /// </summary>
        private string ResourceType(ref Utf8JsonReader r, PathRef path)
        {
            if (r.TokenType == JsonTokenType.String && !r.ValueIsEscaped)
            {
                foreach (var (utf8, text) in _resourceTypes)
                {
                    if (r.ValueSpan.SequenceEqual(utf8))
                    {
                        return text;
                    }
                }
            }

            var type = NonEmpty(ref r, path);
            if (!r.ValueIsEscaped && _resourceTypes.Count < 16)
            {
                _resourceTypes.Add((r.ValueSpan.ToArray(), type));
            }

            return type;
        }

        private void ReadGrant(ref Utf8JsonReader r, int ordinal)
        {
            Expect(ref r, JsonTokenType.StartObject, new PathRef("grants", ordinal), "expected an object");
            var objStart = r.TokenStartIndex;
            var seen = 0;
            string? role = null;
            int resource = -1, principal = -1;
            while (Next(ref r) != JsonTokenType.EndObject)
            {
                var at = r.TokenStartIndex;
                if (r.ValueTextEquals("resource"u8))
                {
                    Once(ref seen, 1, new PathRef("grants", ordinal, "resource"), at);
                    r.Read();
                    resource = Deferred(ref r, RefKind.GrantResource, ordinal, new PathRef("grants", ordinal, "resource"));
                }
                else if (r.ValueTextEquals("principal"u8))
                {
                    Once(ref seen, 2, new PathRef("grants", ordinal, "principal"), at);
                    r.Read();
                    principal = Deferred(ref r, RefKind.GrantPrincipal, ordinal, new PathRef("grants", ordinal, "principal"));
                }
                else if (r.ValueTextEquals("role"u8))
                {
                    Once(ref seen, 4, new PathRef("grants", ordinal, "role"), at);
                    r.Read();
                    role = Role(ref r, new PathRef("grants", ordinal, "role"));
                }
                else Unknown(ref r, Index("grants", ordinal), "resource, principal, role");
            }

            if ((seen & 1) == 0) Fail(Index("grants", ordinal), objStart, "missing required field 'resource'");
            if ((seen & 2) == 0) Fail(Index("grants", ordinal), objStart, "missing required field 'principal'");
            if (role is null) Fail(Index("grants", ordinal), objStart, "missing required field 'role'");
            _grantResource.Add(resource);
            _grantPrincipal.Add(principal);
            _grantRoles.Add(role!);
            _grantTokenStart.Add((int)objStart);
            if (_pendingGrants.Count >= BatchSize)
            {
                ResolvePendingGrants();
            }
        }

        private readonly List<Ref> _pendingGrants = new(BatchSize + 2);

        /// <summary>A grant's reference, kept for a batched look-up (see <see cref="ResolvePendingGrants"/>) when it is plain.</summary>
        private int Deferred(ref Utf8JsonReader r, RefKind kind, int ordinal, PathRef path)
        {
            if (r.TokenType != JsonTokenType.String || r.ValueIsEscaped || r.ValueSpan.Length == 0)
            {
                return Reference(ref r, kind, ordinal, path);
            }

            _pendingGrants.Add(new Ref { Kind = kind, Offset = (int)r.TokenStartIndex + 1 + _offset, Length = r.ValueSpan.Length, TokenStart = (int)r.TokenStartIndex, Slot = ordinal });
            return -1;
        }

        /// <summary>Resolves the buffered grant references, principals and resources each in one batch; unknown ids become forward references.</summary>
        private void ResolvePendingGrants()
        {
            foreach (var kind in new[] { RefKind.GrantPrincipal, RefKind.GrantResource })
            {
                var n = 0;
                foreach (var x in _pendingGrants)
                {
                    if (x.Kind == kind)
                    {
                        _batchOffsets[n] = x.Offset;
                        _batchLengths[n] = x.Length;
                        n++;
                    }
                }

                var map = kind == RefKind.GrantResource ? _b.ResourceIndex : _b.PrincipalIndex;
                map.FindMany(_data, new ReadOnlySpan<int>(_batchOffsets, 0, n), new ReadOnlySpan<int>(_batchLengths, 0, n), new Span<int>(_batchResults, 0, n));
                var k = 0;
                foreach (var x in _pendingGrants)
                {
                    if (x.Kind != kind)
                    {
                        continue;
                    }

                    var index = _batchResults[k++];
                    if (index < 0)
                    {
                        _refs.Add(x);
                    }
                    else if (kind == RefKind.GrantResource)
                    {
                        _grantResource[x.Slot] = index;
                    }
                    else
                    {
                        _grantPrincipal[x.Slot] = index;
                    }
                }
            }

            _pendingGrants.Clear();
        }

        /// <summary>A role name; the three usual ones without making a new string each time.</summary>
        private string Role(ref Utf8JsonReader r, PathRef path)
        {
            if (r.TokenType == JsonTokenType.String)
            {
                if (r.ValueTextEquals("read"u8)) return "read";
                if (r.ValueTextEquals("write"u8)) return "write";
                if (r.ValueTextEquals("owner"u8)) return "owner";
            }

            return NonEmpty(ref r, path.ToString());
        }

        private const int BatchSize = 64;
        private readonly List<Ref> _pending = new(BatchSize);
        private readonly List<int> _pendingElement = new(BatchSize);
        private readonly int[] _batchOffsets = new int[BatchSize + 2];
        private readonly int[] _batchLengths = new int[BatchSize + 2];
        private readonly int[] _batchResults = new int[BatchSize + 2];

        /// <summary>Resolves the buffered member references of one group; unknown ids become forward references.</summary>
        private void ResolvePendingMembers(int self, int ordinal)
        {
            var n = _pending.Count;
            if (n == 0)
            {
                return;
            }

            for (var k = 0; k < n; k++)
            {
                _batchOffsets[k] = _pending[k].Offset;
                _batchLengths[k] = _pending[k].Length;
            }

            _b.PrincipalIndex.FindMany(_data, new ReadOnlySpan<int>(_batchOffsets, 0, n), new ReadOnlySpan<int>(_batchLengths, 0, n), new Span<int>(_batchResults, 0, n));
            for (var k = 0; k < n; k++)
            {
                var x = _pending[k];
                var m = _batchResults[k];
                if (m < 0)
                {
                    _refs.Add(x);
                    continue;
                }

                CheckMember(m, self, new PathRef("principals", ordinal, "members", _pendingElement[k]), x.TokenStart);
                _b.SetMember(x.Slot, m);
            }

            _pending.Clear();
            _pendingElement.Clear();
        }

        private void CheckMember(int m, int self, PathRef path, long tokenStart)
        {
            if (m < AccessSnapshot.FirstPrincipal)
            {
                Fail(path.ToString(), tokenStart, $"the audience '{_b.PrincipalIds[m]}' can only be named in a grant");
            }

            if (Stamp(m, self + 1))
            {
                Fail(path.ToString(), tokenStart, $"'{_b.PrincipalIds[m]}' is listed twice as a member");
            }
        }

        /// <summary>
        /// Resolves an id reference now when the id is already known (the usual case: principals come
        /// before the groups, resources and grants that name them), else records it for later and
        /// returns -1. Unknown ids are only known to be dangling at the end.
        /// </summary>
        private int Reference(ref Utf8JsonReader r, RefKind kind, int slot, PathRef path)
        {
            if (r.TokenType != JsonTokenType.String)
            {
                Fail(path.ToString(), r.TokenStartIndex, $"expected an id (a string), found {Describe(r.TokenType)}");
            }

            var escaped = r.ValueIsEscaped;
            var text = escaped ? r.GetString()! : null;
            ReadOnlySpan<byte> bytes = escaped ? Encoding.UTF8.GetBytes(text!) : r.ValueSpan;
            if (bytes.Length == 0)
            {
                Fail(path.ToString(), r.TokenStartIndex, "an id cannot be empty");
            }

            var map = kind == RefKind.GrantResource ? _b.ResourceIndex : _b.PrincipalIndex;
            var index = map.Find(bytes);
            if (index >= 0)
            {
                return index;
            }

            var x = new Ref { Kind = kind, Slot = slot, TokenStart = (int)r.TokenStartIndex, Length = bytes.Length };
            if (escaped)
            {
                x.Offset = -(_escaped.Count + 1);
                _escaped.Add(text!);
            }
            else
            {
                x.Offset = (int)r.TokenStartIndex + 1 + _offset; // absolute, into _data, after the opening quote
            }

            _refs.Add(x);
            return -1;
        }

        private void ResolveForwardReferences()
        {
            foreach (var x in _refs)
            {
                var bytes = x.Offset >= 0 ? new ReadOnlySpan<byte>(_data, x.Offset, x.Length) : Encoding.UTF8.GetBytes(_escaped[-x.Offset - 1]);
                var map = x.Kind == RefKind.GrantResource ? _b.ResourceIndex : _b.PrincipalIndex;
                var index = map.Find(bytes);
                if (index < 0)
                {
                    Fail(RefPath(x), x.TokenStart, $"'{RefText(x)}' is not the id of a {(x.Kind == RefKind.GrantResource ? "resource" : "principal")} in this snapshot");
                }

                if (x.Kind != RefKind.GrantPrincipal && x.Kind != RefKind.GrantResource && index < AccessSnapshot.FirstPrincipal)
                {
                    Fail(RefPath(x), x.TokenStart, $"the audience '{RefText(x)}' can only be named in a grant");
                }

                switch (x.Kind)
                {
                    case RefKind.Member:
                        _b.SetMember(x.Slot, index);
                        break;
                    case RefKind.Owner:
                        _b.OwnerPrincipal[x.Slot] = index;
                        break;
                    case RefKind.ResourceGroup:
                        CheckGroup(index, RefPath(x), x.TokenStart);
                        _b.ResourceGroup[x.Slot] = index;
                        break;
                    case RefKind.GrantResource:
                        _grantResource[x.Slot] = index;
                        break;
                    default:
                        _grantPrincipal[x.Slot] = index;
                        break;
                }
            }

            if (_refs.Count == 0)
            {
                return;
            }

            // Forward references may repeat an id within one group or resource: check now that all are known.
            var stamp = new int[_b.PrincipalCount];
            for (var run = 0; run < _b.MemberRunCount; run++)
            {
                var (g, start, end) = _b.MemberRun(run);
                for (var k = start; k < end; k++)
                {
                    var m = _b.MemberAt(k);
                    if (stamp[m] == g + 1)
                    {
                        Fail($"principals[{g - AccessSnapshot.FirstPrincipal}].members", 0, $"'{_b.PrincipalIds[m]}' is listed twice as a member of '{_b.PrincipalIds[g]}'");
                    }

                    stamp[m] = g + 1;
                }
            }

            Array.Clear(stamp, 0, stamp.Length);
            var i = FirstRepeat(_b.OwnerResource, _b.OwnerPrincipal, stamp);
            if (i >= 0)
            {
                var res = _b.OwnerResource[i];
                Fail($"resources[{res}].owners", 0, $"'{_b.PrincipalIds[_b.OwnerPrincipal[i]]}' is listed twice as an owner of '{_b.ResourceIds[res]}'");
            }
        }

        /// <summary>The first pair (owner, principal) that repeats one before it; pairs of one owner are contiguous.</summary>
        private static int FirstRepeat(List<int> owners, List<int> principals, int[] stamp)
        {
            for (var i = 0; i < owners.Count; i++)
            {
                var mark = owners[i] + 1;
                if (stamp[principals[i]] == mark)
                {
                    return i;
                }

                stamp[principals[i]] = mark;
            }

            return -1;
        }

        private void AddGrants()
        {
            var n = _grantRoles.Count;
            var roles = new int[n];
            // The usual roles are the same three strings (see Role): numbered by reference, not hashed per grant.
            string? last = null;
            var lastIndex = -1;
            for (var i = 0; i < n; i++)
            {
                var role = _grantRoles[i];
                if (!ReferenceEquals(role, last))
                {
                    last = role;
                    lastIndex = _b.RoleNameIndex(role);
                }

                roles[i] = lastIndex;
            }

            // Duplicates: visit grants resource by resource; a principal seen twice on one resource is
            // rare (several roles), and only those pairs go into a set with the role.
            var resources = _b.ResourceIds.Count;
            var start = new int[resources + 1];
            for (var i = 0; i < n; i++) start[_grantResource[i] + 1]++;
            for (var r = 0; r < resources; r++) start[r + 1] += start[r];
            var fill = (int[])start.Clone();
            var byResource = new int[n];
            for (var i = 0; i < n; i++) byResource[fill[_grantResource[i]]++] = i;
            var stamp = new int[_b.PrincipalCount];
            var firstOn = new int[_b.PrincipalCount];
            HashSet<(int, int, int)>? several = null;
            var duplicate = int.MaxValue;
            for (var r = 0; r < resources; r++)
            {
                for (var k = start[r]; k < start[r + 1]; k++)
                {
                    var i = byResource[k];
                    var p = _grantPrincipal[i];
                    if (stamp[p] != r + 1)
                    {
                        stamp[p] = r + 1;
                        firstOn[p] = i;
                        continue;
                    }

                    several ??= new HashSet<(int, int, int)>();
                    several.Add((r, p, roles[firstOn[p]]));
                    if (!several.Add((r, p, roles[i])) || roles[firstOn[p]] == roles[i])
                    {
                        duplicate = Math.Min(duplicate, i);
                    }
                }
            }

            if (duplicate != int.MaxValue)
            {
                var i = duplicate;
                Fail(Index("grants", i), _grantTokenStart[i],
                    $"duplicate grant: '{_b.PrincipalIds[_grantPrincipal[i]]}' already has '{_grantRoles[i]}' on '{_b.ResourceIds[_grantResource[i]]}'");
            }

            _b.ReserveGrants(n);
            for (var i = 0; i < n; i++)
            {
                _b.AddGrant(_grantResource[i], _grantPrincipal[i], roles[i]);
            }
        }

        private void CheckGroup(int index, string path, long at)
        {
            if (index < AccessSnapshot.FirstPrincipal || _b.Types[index] != PrincipalType.Group)
            {
                Fail(path, at, $"'{_b.PrincipalIds[index]}' is a {TypeName(_b.Types[index])}, not a group");
            }
        }

        /// <summary>Marks a principal with a stamp; true when it already had that stamp (a duplicate).</summary>
        private bool Stamp(int index, int stamp)
        {
            if (index >= _stamp.Length)
            {
                Array.Resize(ref _stamp, Math.Max(_stamp.Length * 2, index + 1));
            }

            var dup = _stamp[index] == stamp;
            _stamp[index] = stamp;
            return dup;
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
                {
                    var (g, first, _) = _b.MemberRun(_b.MemberRunOf(x.Slot));
                    return $"principals[{Num(g - AccessSnapshot.FirstPrincipal)}].members[{Num(x.Slot - first)}]";
                }

                case RefKind.Owner:
                {
                    var res = _b.OwnerResource[x.Slot];
                    var first = x.Slot;
                    while (first > 0 && _b.OwnerResource[first - 1] == res) first--;
                    return $"resources[{Num(res)}].owners[{Num(x.Slot - first)}]";
                }

                case RefKind.ResourceGroup:
                    return $"resources[{Num(x.Slot)}].group";
                case RefKind.GrantResource:
                    return $"grants[{Num(x.Slot)}].resource";
                default:
                    return $"grants[{Num(x.Slot)}].principal";
            }
        }

        private string RefText(Ref x) => x.Offset >= 0 ? Encoding.UTF8.GetString(_data, x.Offset, x.Length) : _escaped[-x.Offset - 1];

        // ---- token helpers ----------------------------------------------------------------------

        private static string Field(int ordinal, string name) => Index("principals", ordinal) + "." + name;

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

        /// <summary>An enum value spelled exactly, or (rarely) in another case, without making a string for the usual case.</summary>
        private int Enumerated(ref Utf8JsonReader r, byte[][] names, string path, string what)
        {
            if (r.TokenType == JsonTokenType.String)
            {
                for (var i = 0; i < names.Length; i++)
                {
                    if (r.ValueTextEquals(names[i]))
                    {
                        return i;
                    }
                }
            }

            var text = String(ref r, path);
            for (var i = 0; i < names.Length; i++)
            {
                if (string.Equals(Encoding.UTF8.GetString(names[i]), text, StringComparison.OrdinalIgnoreCase))
                {
                    return i;
                }
            }

            Fail(path, r.TokenStartIndex, $"'{text}' is not {what}");
            return -1;
        }

        private string String(ref Utf8JsonReader r, PathRef path) =>
            r.TokenType == JsonTokenType.String ? r.GetString()! : String(ref r, path.ToString());

        private string NonEmpty(ref Utf8JsonReader r, PathRef path)
        {
            var s = String(ref r, path);
            if (s.Length == 0 || s.Trim().Length == 0)
            {
                Fail(path.ToString(), r.TokenStartIndex, "cannot be empty");
            }

            return s;
        }

        private bool Bool(ref Utf8JsonReader r, PathRef path) =>
            r.TokenType == JsonTokenType.True || (r.TokenType != JsonTokenType.False && Bool(ref r, path.ToString()));

        private void Expect(ref Utf8JsonReader r, JsonTokenType type, PathRef path, string what)
        {
            if (r.TokenType != type)
            {
                Fail(path.ToString(), r.TokenStartIndex, $"{what}, found {Describe(r.TokenType)}");
            }
        }

        private int Enumerated(ref Utf8JsonReader r, byte[][] names, PathRef path, string what)
        {
            if (r.TokenType == JsonTokenType.String)
            {
                for (var i = 0; i < names.Length; i++)
                {
                    if (r.ValueTextEquals(names[i]))
                    {
                        return i;
                    }
                }
            }

            return Enumerated(ref r, names, path.ToString(), what);
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

        private void Once(ref int seen, int bit, PathRef path, long at)
        {
            if ((seen & bit) != 0)
            {
                Fail(path.ToString(), at, "the field appears twice");
            }

            seen |= bit;
        }

        private void Once(ref int seen, int bit, string path, long at)
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
            Fail(path == "$" ? name! : path + "." + name, r.TokenStartIndex, $"unknown field '{name}'; allowed here: {allowed}");
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
            IndexPendingPrincipals(); // an earlier duplicate id is the first error
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

