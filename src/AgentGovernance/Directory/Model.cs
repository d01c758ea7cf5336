using System.Collections.Generic;

namespace AgentGovernance.Directory;

[Newtonsoft.Json.JsonConverter(typeof(Newtonsoft.Json.Converters.StringEnumConverter))]
public enum PrincipalType : byte
{
    User = 0,
    Group = 1,
    ServicePrincipal = 2,

    /// <summary>One of the reserved audiences: everyone, everyoneExceptExternal, anyone.</summary>
    Audience = 3,
}

[Newtonsoft.Json.JsonConverter(typeof(Newtonsoft.Json.Converters.StringEnumConverter))]
public enum GroupVisibility : byte
{
    Private = 0,
    Public = 1,
    HiddenMembership = 2,
}

/// <summary>Roles in exposure order; role names other than read/write/owner count as Read.</summary>
[Newtonsoft.Json.JsonConverter(typeof(Newtonsoft.Json.Converters.StringEnumConverter))]
public enum AccessRole : byte
{
    None = 0,
    Read = 1,
    Write = 2,
    Owner = 3,
}

/// <summary>How a principal is counted in an exposure: each principal is exactly one kind.</summary>
[Newtonsoft.Json.JsonConverter(typeof(Newtonsoft.Json.Converters.StringEnumConverter))]
public enum PrincipalKind : byte
{
    Member = 0,
    Guest = 1,
    ServicePrincipal = 2,
    Agent = 3,
    Anonymous = 4,
}

/// <summary>The reserved audience ids.</summary>
public static class Audiences
{
    public const string Everyone = "everyone";
    public const string EveryoneExceptExternal = "everyoneExceptExternal";
    public const string Anyone = "anyone";

    public static bool IsAudience(string id) => id == Everyone || id == EveryoneExceptExternal || id == Anyone;
}

/// <summary>A principal of a snapshot (a read-only view).</summary>
public sealed class Principal
{
    internal Principal(AccessSnapshot snapshot, int index)
    {
        Index = index;
        Id = snapshot.PrincipalId(index);
        Type = snapshot.PrincipalTypeOf(index);
        DisplayName = snapshot.PrincipalName(index);
        UserPrincipalName = snapshot.Upn[index];
        Mail = snapshot.Mail[index];
        MailNickname = snapshot.MailNickname[index];
        IsGuest = snapshot.IsGuest(index);
        AccountEnabled = snapshot.IsEnabled(index);
        IsAgent = snapshot.IsAgentFlag(index);
        Visibility = Type == PrincipalType.Group ? snapshot.VisibilityOf(index) : null;
        MemberCount = Type == PrincipalType.Group ? snapshot.MemberCount(index) : 0;
    }

    internal int Index { get; }

    public string Id { get; }

    public PrincipalType Type { get; }

    public string DisplayName { get; }

    public string? UserPrincipalName { get; }

    public string? Mail { get; }

    public string? MailNickname { get; }

    public string? UserType => Type == PrincipalType.User ? (IsGuest ? "Guest" : "Member") : null;

    public bool IsGuest { get; }

    public bool AccountEnabled { get; }

    public bool IsAgent { get; }

    public GroupVisibility? Visibility { get; }

    /// <summary>Direct members (groups only).</summary>
    public int MemberCount { get; }

    public override string ToString() => Id;
}

/// <summary>A resource of a snapshot (a read-only view).</summary>
public sealed class Resource
{
    internal Resource(AccessSnapshot snapshot, int index)
    {
        Index = index;
        Id = snapshot.ResourceIds[index];
        Type = snapshot.ResourceTypes[index];
        DisplayName = snapshot.ResourceNames[index] ?? Id;
        WebUrl = snapshot.ResourceUrls[index];
        Sensitivity = snapshot.ResourceSensitivity[index];
        PersonalData = snapshot.ResourcePersonal[index];
        var owners = new List<string>();
        foreach (var o in snapshot.OwnersOf(index))
        {
            owners.Add(snapshot.PrincipalId(o));
        }

        Owners = owners;
        var g = snapshot.ResourceGroup[index];
        Group = g >= 0 ? snapshot.PrincipalId(g) : null;
    }

    internal int Index { get; }

    public string Id { get; }

    public string Type { get; }

    public string DisplayName { get; }

    public string? WebUrl { get; }

    public Sensitivity Sensitivity { get; }

    public bool PersonalData { get; }

    public IReadOnlyList<string> Owners { get; }

    /// <summary>The group this resource is connected to (a Microsoft 365 group's site, team files, mailbox).</summary>
    public string? Group { get; }

    public override string ToString() => Id;
}

/// <summary>A grant of a snapshot (a read-only view).</summary>
public sealed class Grant
{
    internal Grant(string resourceId, string principalId, string role)
    {
        ResourceId = resourceId;
        PrincipalId = principalId;
        Role = role;
    }

    public string ResourceId { get; }

    public string PrincipalId { get; }

    /// <summary>The role name as written (read, write, owner, or another name that counts as read).</summary>
    public string Role { get; }

    public override string ToString() => $"{PrincipalId} {Role} {ResourceId}";
}

/// <summary>Role-name helpers.</summary>
public static class Roles
{
    /// <summary>The three role names that rank access, lowest first.</summary>
    public static readonly string[] Names = { "read", "write", "owner" };

    public static AccessRole Max(AccessRole a, AccessRole b) => a > b ? a : b;

    public static AccessRole Level(string role)
    {
        switch (role)
        {
            case "owner": return AccessRole.Owner;
            case "write": return AccessRole.Write;
            default: return AccessRole.Read;
        }
    }
}
