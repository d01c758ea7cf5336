using System.Text;
using AgentGovernance.Directory;
using Module = AgentGovernance.Directory;

namespace TenantGen;

/// <summary>
/// Collects an <c>agentgovernance/snapshot@1</c> tenant in the module's <see cref="SnapshotBuilder"/>
/// and, at <see cref="End"/>, writes it with the module's <see cref="Module.SnapshotWriter"/>: the one
/// writer of the format, so the layout (key order, defaults left out, one principal, resource or grant
/// per line, UTF-8 without BOM, "\n" newlines) is the module's. Callers add principals (users, then
/// service principals, then groups, in document order), then resources, then grants; a null or empty
/// optional field is left out. Members may name groups that come later in the document; they are
/// resolved at <see cref="End"/> and keep their order. Owners, connected groups and grants name
/// principals and resources that are already defined and are resolved as they are added.
/// </summary>
internal sealed class SnapshotWriter(string path, int principals = 512, int resources = 512) : IDisposable
{
    private readonly string _path = path;
    private SnapshotBuilder? _b;
    private int _section; // 0 header, 1 principals, 2 resources, 3 grants, 4 done
    private int _group = -1; // the open group's index, or -1

    // Membership edges in document order. A member that is not defined yet is stored as ~k, k an
    // index into _pending, and resolved at End.
    private readonly List<int> _memberGroup = new(1024);
    private readonly List<int> _memberTarget = new(1024);
    private readonly List<string> _pending = [];
    private byte[] _utf8 = new byte[256];

    public void Begin(string tenantId, string tenantDisplayName, string capturedAt)
    {
        Expect(0);
        _b = new SnapshotBuilder(tenantId, principals, resources)
        {
            TenantDisplayName = tenantDisplayName,
            CapturedAtText = capturedAt,
            CapturedAt = DateTimeOffset.Parse(capturedAt, System.Globalization.CultureInfo.InvariantCulture),
        };
        _section = 1;
    }

    public void User(ReadOnlySpan<char> id, string displayName, string? upn, string? mail, bool guest, bool disabled,
        bool isAgent = false)
    {
        Expect(1);
        AddPrincipal(id, PrincipalType.User, displayName, upn, guest, !disabled, isAgent, GroupVisibility.Private, mail, null);
    }

    public void ServicePrincipal(ReadOnlySpan<char> id, string displayName, bool isAgent)
    {
        Expect(1);
        AddPrincipal(id, PrincipalType.ServicePrincipal, displayName, null, false, true, isAgent, GroupVisibility.Private, null, null);
    }

    /// <summary>Starts a group; add its members with <see cref="Member"/>, then call <see cref="EndGroup"/>.</summary>
    public void BeginGroup(ReadOnlySpan<char> id, string displayName, string? mail, string? mailNickname,
        GroupVisibility visibility)
    {
        Expect(1);
        _group = AddPrincipal(id, PrincipalType.Group, displayName, null, false, true, false, visibility, mail, mailNickname);
    }

    public void Member(ReadOnlySpan<char> id)
    {
        if (_group < 0)
        {
            throw new InvalidOperationException("Member outside a group.");
        }

        var m = Find(id);
        if (m < 0)
        {
            m = ~_pending.Count;
            _pending.Add(new string(id));
        }
        else if (m == _group)
        {
            throw new InvalidOperationException($"Group '{id}' contains itself.");
        }

        _memberGroup.Add(_group);
        _memberTarget.Add(m);
    }

    public void EndGroup()
    {
        if (_group < 0)
        {
            throw new InvalidOperationException("No group open.");
        }

        _group = -1;
    }

    public void BeginResources()
    {
        Expect(1);
        _section = 2;
    }

    public void Resource(ReadOnlySpan<char> id, string type, string displayName, string? webUrl, Sensitivity sensitivity,
        bool personalData, ReadOnlySpan<string> owners, ReadOnlySpan<char> group)
    {
        Expect(2);
        var g = -1;
        if (!group.IsEmpty)
        {
            g = Defined(group, "group of resource " + id.ToString());
            if (_b!.Types[g] != PrincipalType.Group)
            {
                throw new InvalidOperationException($"Resource '{id}': '{group}' is not a group.");
            }
        }

        var r = _b!.AddResource(Utf8(id), id.ToString(), type, displayName, sensitivity, personalData, g, OrNull(webUrl));
        if (r < 0)
        {
            throw new InvalidOperationException($"Duplicate resource id '{id}'.");
        }

        foreach (var o in owners)
        {
            _b.AddOwner(r, Defined(o, "owner of resource " + id.ToString()));
        }
    }

    public void BeginGrants()
    {
        Expect(2);
        _section = 3;
    }

    public void Grant(ReadOnlySpan<char> resource, ReadOnlySpan<char> principal, string role)
    {
        Expect(3);
        var r = _b!.ResourceIndex.Find(Utf8(resource));
        if (r < 0)
        {
            throw new InvalidOperationException($"Grant: resource '{resource}' is not defined.");
        }

        _b.AddGrant(r, Defined(principal, "grant on " + resource.ToString()), role);
    }

    /// <summary>Resolves the members, builds the snapshot and writes it with the module's writer.</summary>
    public void End()
    {
        Expect(3);
        var b = _b!;
        var resolved = new int[_pending.Count];
        for (var k = 0; k < resolved.Length; k++)
        {
            resolved[k] = Defined(_pending[k], "member");
        }

        for (var e = 0; e < _memberGroup.Count; e++)
        {
            var g = _memberGroup[e];
            var m = _memberTarget[e];
            if (m < 0)
            {
                m = resolved[~m];
                if (m == g)
                {
                    throw new InvalidOperationException($"Group '{b.PrincipalIds[g]}' contains itself.");
                }
            }

            if (b.Types[m] == PrincipalType.Audience)
            {
                throw new InvalidOperationException($"Group '{b.PrincipalIds[g]}': an audience cannot be a member.");
            }

            b.AddMember(g, m);
        }

        _memberGroup.Clear();
        _memberTarget.Clear();
        _pending.Clear();
        var snapshot = b.Build();
        _b = null;
        var dir = Path.GetDirectoryName(Path.GetFullPath(_path));
        if (!string.IsNullOrEmpty(dir))
        {
            Directory.CreateDirectory(dir);
        }

        Module.SnapshotWriter.WriteFile(snapshot, _path);
        _section = 4;
    }

    public void Dispose()
    {
        // Nothing is written before End; an abandoned writer leaves no file behind.
        _b = null;
    }

    private int AddPrincipal(ReadOnlySpan<char> id, PrincipalType type, string displayName, string? upn, bool guest,
        bool enabled, bool agent, GroupVisibility visibility, string? mail, string? mailNickname)
    {
        var index = _b!.AddPrincipal(Utf8(id), id.ToString(), type, displayName, OrNull(upn), guest, enabled, agent,
            visibility, OrNull(mail), OrNull(mailNickname));
        return index >= 0 ? index : throw new InvalidOperationException($"Duplicate principal id '{id}'.");
    }

    /// <summary>The index of a principal (or audience) that must already be defined.</summary>
    private int Defined(ReadOnlySpan<char> id, string what)
    {
        var i = Find(id);
        return i >= 0 ? i : throw new InvalidOperationException($"{what}: principal '{id}' is not defined.");
    }

    private int Find(ReadOnlySpan<char> id) => _b!.PrincipalIndex.Find(Utf8(id));

    /// <summary>The id as UTF-8, in a buffer reused from call to call.</summary>
    private ReadOnlySpan<byte> Utf8(ReadOnlySpan<char> s)
    {
        var max = Encoding.UTF8.GetMaxByteCount(s.Length);
        if (max > _utf8.Length)
        {
            _utf8 = new byte[max];
        }

        return _utf8.AsSpan(0, Encoding.UTF8.GetBytes(s, _utf8));
    }

    private static string? OrNull(string? s) => string.IsNullOrEmpty(s) ? null : s;

    private void Expect(int section)
    {
        if (_section != section || _group >= 0)
        {
            throw new InvalidOperationException($"Snapshot written out of order (section {_section}, expected {section}).");
        }
    }
}
