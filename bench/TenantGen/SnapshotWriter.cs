using System.Text.Encodings.Web;
using System.Text.Json;

namespace TenantGen;

/// <summary>
/// Streams an <c>agentgovernance/snapshot@1</c> document. Callers write principals, then resources,
/// then grants; this class fixes the key order (formats.md's example order) and leaves out every field
/// that holds its default (userType Member, accountEnabled true, isAgent false, visibility Private,
/// sensitivity General, personalData false, empty lists). Output: UTF-8 without BOM, 2-space indent,
/// "\n" newlines, non-ASCII written as is, so the same calls give the same bytes on every OS.
/// </summary>
internal sealed class SnapshotWriter : IDisposable
{
    public const string Schema = "agentgovernance/snapshot@1";

    private static readonly JsonEncodedText PId = JsonEncodedText.Encode("id");
    private static readonly JsonEncodedText PType = JsonEncodedText.Encode("type");
    private static readonly JsonEncodedText PDisplayName = JsonEncodedText.Encode("displayName");
    private static readonly JsonEncodedText PUpn = JsonEncodedText.Encode("userPrincipalName");
    private static readonly JsonEncodedText PMail = JsonEncodedText.Encode("mail");
    private static readonly JsonEncodedText PMailNickname = JsonEncodedText.Encode("mailNickname");
    private static readonly JsonEncodedText PUserType = JsonEncodedText.Encode("userType");
    private static readonly JsonEncodedText PAccountEnabled = JsonEncodedText.Encode("accountEnabled");
    private static readonly JsonEncodedText PIsAgent = JsonEncodedText.Encode("isAgent");
    private static readonly JsonEncodedText PVisibility = JsonEncodedText.Encode("visibility");
    private static readonly JsonEncodedText PMembers = JsonEncodedText.Encode("members");
    private static readonly JsonEncodedText PWebUrl = JsonEncodedText.Encode("webUrl");
    private static readonly JsonEncodedText PSensitivity = JsonEncodedText.Encode("sensitivity");
    private static readonly JsonEncodedText PPersonalData = JsonEncodedText.Encode("personalData");
    private static readonly JsonEncodedText POwners = JsonEncodedText.Encode("owners");
    private static readonly JsonEncodedText PGroup = JsonEncodedText.Encode("group");
    private static readonly JsonEncodedText PResource = JsonEncodedText.Encode("resource");
    private static readonly JsonEncodedText PPrincipal = JsonEncodedText.Encode("principal");
    private static readonly JsonEncodedText PRole = JsonEncodedText.Encode("role");

    private static readonly JsonEncodedText VUser = JsonEncodedText.Encode("user");
    private static readonly JsonEncodedText VGroup = JsonEncodedText.Encode("group");
    private static readonly JsonEncodedText VServicePrincipal = JsonEncodedText.Encode("servicePrincipal");
    private static readonly JsonEncodedText VGuest = JsonEncodedText.Encode("Guest");

    private const int FlushThreshold = 1 << 20;

    private readonly Stream _stream;
    private readonly Utf8JsonWriter _w;
    private int _section; // 0 header, 1 principals, 2 resources, 3 grants, 4 done

    public SnapshotWriter(string path)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(dir))
        {
            Directory.CreateDirectory(dir);
        }

        _stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        _w = new Utf8JsonWriter(_stream, Options);
    }

    public static JsonWriterOptions Options => new()
    {
        Indented = true,
        IndentSize = 2,
        IndentCharacter = ' ',
        NewLine = "\n",
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public long BytesWritten => _w.BytesCommitted + _w.BytesPending;

    public void Begin(string tenantId, string tenantDisplayName, string capturedAt)
    {
        Expect(0);
        _w.WriteStartObject();
        _w.WriteString("schema", Schema);
        _w.WriteStartObject("tenant");
        _w.WriteString("id", tenantId);
        _w.WriteString("displayName", tenantDisplayName);
        _w.WriteEndObject();
        _w.WriteString("capturedAt", capturedAt);
        _w.WriteStartArray("principals");
        _section = 1;
    }

    public void User(ReadOnlySpan<char> id, ReadOnlySpan<char> displayName, ReadOnlySpan<char> upn,
        ReadOnlySpan<char> mail, bool guest, bool disabled, bool isAgent = false)
    {
        Expect(1);
        _w.WriteStartObject();
        _w.WriteString(PId, id);
        _w.WriteString(PType, VUser);
        _w.WriteString(PDisplayName, displayName);
        OptionalString(PUpn, upn);
        OptionalString(PMail, mail);
        if (guest)
        {
            _w.WriteString(PUserType, VGuest);
        }

        if (disabled)
        {
            _w.WriteBoolean(PAccountEnabled, false);
        }

        if (isAgent)
        {
            _w.WriteBoolean(PIsAgent, true);
        }

        _w.WriteEndObject();
        MaybeFlush();
    }

    public void ServicePrincipal(ReadOnlySpan<char> id, ReadOnlySpan<char> displayName, bool isAgent)
    {
        Expect(1);
        _w.WriteStartObject();
        _w.WriteString(PId, id);
        _w.WriteString(PType, VServicePrincipal);
        _w.WriteString(PDisplayName, displayName);
        if (isAgent)
        {
            _w.WriteBoolean(PIsAgent, true);
        }

        _w.WriteEndObject();
        MaybeFlush();
    }

    /// <summary>Starts a group; write its members with <see cref="Member"/>, then call <see cref="EndGroup"/>.</summary>
    public void BeginGroup(ReadOnlySpan<char> id, ReadOnlySpan<char> displayName, ReadOnlySpan<char> mail,
        ReadOnlySpan<char> mailNickname, Visibility visibility, bool hasMembers)
    {
        Expect(1);
        _w.WriteStartObject();
        _w.WriteString(PId, id);
        _w.WriteString(PType, VGroup);
        _w.WriteString(PDisplayName, displayName);
        OptionalString(PMail, mail);
        OptionalString(PMailNickname, mailNickname);
        if (visibility != Visibility.Private)
        {
            _w.WriteString(PVisibility, visibility.ToString());
        }

        if (hasMembers)
        {
            _w.WriteStartArray(PMembers);
        }

        _groupOpen = hasMembers ? 2 : 1;
    }

    private int _groupOpen;

    public void Member(ReadOnlySpan<char> id)
    {
        if (_groupOpen != 2)
        {
            throw new InvalidOperationException("Member outside a group's members.");
        }

        _w.WriteStringValue(id);
        if (_w.BytesPending > FlushThreshold)
        {
            _w.Flush();
        }
    }

    public void EndGroup()
    {
        if (_groupOpen == 0)
        {
            throw new InvalidOperationException("No group open.");
        }

        if (_groupOpen == 2)
        {
            _w.WriteEndArray();
        }

        _w.WriteEndObject();
        _groupOpen = 0;
        MaybeFlush();
    }

    public void BeginResources()
    {
        Expect(1);
        _w.WriteEndArray();
        _w.WriteStartArray("resources");
        _section = 2;
    }

    public void Resource(ReadOnlySpan<char> id, ReadOnlySpan<char> type, ReadOnlySpan<char> displayName,
        ReadOnlySpan<char> webUrl, Sensitivity sensitivity, bool personalData, ReadOnlySpan<string> owners,
        ReadOnlySpan<char> group)
    {
        Expect(2);
        _w.WriteStartObject();
        _w.WriteString(PId, id);
        _w.WriteString(PType, type);
        _w.WriteString(PDisplayName, displayName);
        OptionalString(PWebUrl, webUrl);
        if (sensitivity != Sensitivity.General)
        {
            _w.WriteString(PSensitivity, sensitivity.ToString());
        }

        if (personalData)
        {
            _w.WriteBoolean(PPersonalData, true);
        }

        if (owners.Length > 0)
        {
            _w.WriteStartArray(POwners);
            foreach (var o in owners)
            {
                _w.WriteStringValue(o);
            }

            _w.WriteEndArray();
        }

        OptionalString(PGroup, group);
        _w.WriteEndObject();
        MaybeFlush();
    }

    public void BeginGrants()
    {
        Expect(2);
        _w.WriteEndArray();
        _w.WriteStartArray("grants");
        _section = 3;
    }

    public void Grant(ReadOnlySpan<char> resource, ReadOnlySpan<char> principal, string role)
    {
        Expect(3);
        _w.WriteStartObject();
        _w.WriteString(PResource, resource);
        _w.WriteString(PPrincipal, principal);
        _w.WriteString(PRole, role);
        _w.WriteEndObject();
        MaybeFlush();
    }

    public void End()
    {
        Expect(3);
        _w.WriteEndArray();
        _w.WriteEndObject();
        _w.Flush();
        _stream.Write("\n"u8);
        _stream.Flush();
        _section = 4;
    }

    public void Dispose()
    {
        _w.Dispose();
        _stream.Dispose();
    }

    private void OptionalString(JsonEncodedText name, ReadOnlySpan<char> value)
    {
        if (!value.IsEmpty)
        {
            _w.WriteString(name, value);
        }
    }

    private void Expect(int section)
    {
        if (_section != section || _groupOpen != 0)
        {
            throw new InvalidOperationException($"Snapshot written out of order (section {_section}, expected {section}).");
        }
    }

    private void MaybeFlush()
    {
        if (_w.BytesPending > FlushThreshold)
        {
            _w.Flush();
        }
    }
}

internal enum Visibility
{
    Private,
    Public,
    HiddenMembership,
}

internal enum Sensitivity
{
    Public,
    General,
    Confidential,
    HighlyConfidential,
}
