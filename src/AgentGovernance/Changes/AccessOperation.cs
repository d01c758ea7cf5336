using System;
using AgentGovernance.Directory;

namespace AgentGovernance.Changes;

[Newtonsoft.Json.JsonConverter(typeof(Newtonsoft.Json.Converters.StringEnumConverter))]
public enum OperationKind
{
    Grant,
    Revoke,
    AddMember,
    RemoveMember,
    SetVisibility,
    CreateLink,
}

[Newtonsoft.Json.JsonConverter(typeof(Newtonsoft.Json.Converters.StringEnumConverter))]
public enum LinkScope
{
    Anonymous,
    Organization,
}

/// <summary>One operation of a change. Immutable; make one with the static factories.</summary>
public sealed class AccessOperation : IEquatable<AccessOperation>
{
    private AccessOperation(OperationKind op, string? resource, string? principal, string? role, string? group, string? member, GroupVisibility? visibility, LinkScope? scope)
    {
        Op = op;
        Resource = resource;
        Principal = principal;
        Role = role;
        Group = group;
        Member = member;
        Visibility = visibility;
        Scope = scope;
    }

    public OperationKind Op { get; }

    /// <summary>The document spelling of <see cref="Op"/>: grant, revoke, addMember, ...</summary>
    public string OpName => Name(Op);

    public string? Resource { get; }

    public string? Principal { get; }

    public string? Role { get; }

    public string? Group { get; }

    public string? Member { get; }

    public GroupVisibility? Visibility { get; }

    public LinkScope? Scope { get; }

    /// <summary>The resource or group the operation acts on.</summary>
    public string Target => Resource ?? Group!;

    /// <summary>True when the operation can only narrow access (revoke, removeMember, setVisibility Private).</summary>
    public bool NarrowsOnly => Op == OperationKind.Revoke || Op == OperationKind.RemoveMember
        || (Op == OperationKind.SetVisibility && Visibility != GroupVisibility.Public);

    public static AccessOperation Grant(string resource, string principal, string role) => new(OperationKind.Grant, resource, principal, role, null, null, null, null);

    public static AccessOperation Revoke(string resource, string principal, string role) => new(OperationKind.Revoke, resource, principal, role, null, null, null, null);

    public static AccessOperation AddMember(string group, string member) => new(OperationKind.AddMember, null, null, null, group, member, null, null);

    public static AccessOperation RemoveMember(string group, string member) => new(OperationKind.RemoveMember, null, null, null, group, member, null, null);

    public static AccessOperation SetVisibility(string group, GroupVisibility visibility) => new(OperationKind.SetVisibility, null, null, null, group, null, visibility, null);

    public static AccessOperation CreateLink(string resource, LinkScope scope, string role) => new(OperationKind.CreateLink, resource, null, role, null, null, null, scope);

    public static string Name(OperationKind op) => op switch
    {
        OperationKind.Grant => "grant",
        OperationKind.Revoke => "revoke",
        OperationKind.AddMember => "addMember",
        OperationKind.RemoveMember => "removeMember",
        OperationKind.SetVisibility => "setVisibility",
        _ => "createLink",
    };

    public static string ScopeName(LinkScope scope) => scope == LinkScope.Anonymous ? "anonymous" : "organization";

    /// <summary>A sentence a person reads: "grant read on site-userdata to g-eng".</summary>
    public override string ToString() => Op switch
    {
        OperationKind.Grant => $"grant {Role} on {Resource} to {Principal}",
        OperationKind.Revoke => $"revoke {Role} on {Resource} from {Principal}",
        OperationKind.AddMember => $"add {Member} to group {Group}",
        OperationKind.RemoveMember => $"remove {Member} from group {Group}",
        OperationKind.SetVisibility => $"make group {Group} {Visibility}",
        _ => $"create {ScopeName(Scope!.Value)} {Role} link to {Resource}",
    };

    /// <summary>The operation as the change document spells it (for the ledger); read back with ChangeReader.ParseOperation.</summary>
    internal System.Collections.Generic.Dictionary<string, object?> ToDocument()
    {
        var d = new System.Collections.Generic.Dictionary<string, object?> { ["op"] = OpName };
        void Put(string key, string? value)
        {
            if (value is not null)
            {
                d[key] = value;
            }
        }

        Put("resource", Resource);
        Put("principal", Principal);
        Put("role", Role);
        Put("group", Group);
        Put("member", Member);
        Put("visibility", Visibility?.ToString());
        Put("scope", Scope is { } scope ? ScopeName(scope) : null);
        return d;
    }

    public bool Equals(AccessOperation? other) => other is not null && Op == other.Op && Resource == other.Resource
        && Principal == other.Principal && Role == other.Role && Group == other.Group && Member == other.Member
        && Visibility == other.Visibility && Scope == other.Scope;

    public override bool Equals(object? obj) => Equals(obj as AccessOperation);

    public override int GetHashCode() => (Op, Resource, Principal, Role, Group, Member, Visibility, Scope).GetHashCode();
}
