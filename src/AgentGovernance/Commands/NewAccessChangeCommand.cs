using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using AgentGovernance.Changes;
using AgentGovernance.Directory;

namespace AgentGovernance.Commands;

/// <summary>Builds a change from parameters: one operation, or a list of them.</summary>
[Cmdlet(VerbsCommon.New, "AccessChange", DefaultParameterSetName = GrantSet)]
[OutputType(typeof(AccessChange))]
public sealed class NewAccessChangeCommand : GovernanceCmdlet
{
    private const string GrantSet = "Grant";
    private const string RevokeSet = "Revoke";
    private const string AddMemberSet = "AddMember";
    private const string RemoveMemberSet = "RemoveMember";
    private const string VisibilitySet = "SetVisibility";
    private const string LinkSet = "CreateLink";
    private const string OperationsSet = "Operation";

    [Parameter(ParameterSetName = GrantSet, Mandatory = true)]
    public SwitchParameter Grant { get; set; }

    [Parameter(ParameterSetName = RevokeSet, Mandatory = true)]
    public SwitchParameter Revoke { get; set; }

    [Parameter(ParameterSetName = AddMemberSet, Mandatory = true)]
    public SwitchParameter AddMember { get; set; }

    [Parameter(ParameterSetName = RemoveMemberSet, Mandatory = true)]
    public SwitchParameter RemoveMember { get; set; }

    /// <summary>Makes the group Private or Public.</summary>
    [Parameter(ParameterSetName = VisibilitySet, Mandatory = true)]
    [ValidateSet("Private", "Public")]
    public string SetVisibility { get; set; } = string.Empty;

    /// <summary>Creates a sharing link: Anonymous (anyone with the link) or Organization.</summary>
    [Parameter(ParameterSetName = LinkSet, Mandatory = true)]
    [ValidateSet("Anonymous", "Organization")]
    public string CreateLink { get; set; } = string.Empty;

    [Parameter(ParameterSetName = GrantSet, Mandatory = true)]
    [Parameter(ParameterSetName = RevokeSet, Mandatory = true)]
    [Parameter(ParameterSetName = LinkSet, Mandatory = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(ResourceIdCompleter))]
    public string ResourceId { get; set; } = string.Empty;

    [Parameter(ParameterSetName = GrantSet, Mandatory = true)]
    [Parameter(ParameterSetName = RevokeSet, Mandatory = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(PrincipalIdCompleter))]
    public string PrincipalId { get; set; } = string.Empty;

    [Parameter(ParameterSetName = GrantSet)]
    [Parameter(ParameterSetName = RevokeSet)]
    [Parameter(ParameterSetName = LinkSet)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(RoleCompleter))]
    public string Role { get; set; } = "read";

    [Parameter(ParameterSetName = AddMemberSet, Mandatory = true)]
    [Parameter(ParameterSetName = RemoveMemberSet, Mandatory = true)]
    [Parameter(ParameterSetName = VisibilitySet, Mandatory = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(PrincipalIdCompleter))]
    public string GroupId { get; set; } = string.Empty;

    [Parameter(ParameterSetName = AddMemberSet, Mandatory = true)]
    [Parameter(ParameterSetName = RemoveMemberSet, Mandatory = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(PrincipalIdCompleter))]
    public string MemberId { get; set; } = string.Empty;

    /// <summary>Operations: AccessOperation objects, or hashtables with the document's fields (op, resource, principal, role, group, member, visibility, scope).</summary>
    [Parameter(ParameterSetName = OperationsSet, Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public object[] Operation { get; set; } = Array.Empty<object>();

    [Parameter]
    public string? Title { get; set; }

    [Parameter]
    public string? Justification { get; set; }

    /// <summary>The id of the agent (or person) that suggested the change.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? SuggestedBy { get; set; }

    [Parameter]
    [ValidateSet("agent", "user")]
    public string SuggestedByType { get; set; } = "agent";

    [Parameter]
    public string? SuggestedByName { get; set; }

    /// <summary>Where the suggestion was made (a forum thread, a chat, a ticket).</summary>
    [Parameter]
    public string? SuggestionSource { get; set; }

    /// <summary>The person who asks for the change (a UPN or principal id).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? RequestedBy { get; set; }

    /// <summary>How long the change lasts: a TimeSpan, or an ISO 8601 duration such as PT2H or P1D.</summary>
    [Parameter]
    [ValidateNotNull]
    public object? Duration { get; set; }

    protected override void EndProcessing()
    {
        try
        {
            if (ParameterSetName is GrantSet or RevokeSet or LinkSet)
            {
                Role = CheckRole(Role, ResourceId);
            }

            var ops = ParameterSetName switch
            {
                GrantSet => new List<AccessOperation> { AccessOperation.Grant(ResourceId, PrincipalId, Role) },
                RevokeSet => new List<AccessOperation> { AccessOperation.Revoke(ResourceId, PrincipalId, Role) },
                AddMemberSet => new List<AccessOperation> { AccessOperation.AddMember(GroupId, MemberId) },
                RemoveMemberSet => new List<AccessOperation> { AccessOperation.RemoveMember(GroupId, MemberId) },
                VisibilitySet => new List<AccessOperation> { AccessOperation.SetVisibility(GroupId, SetVisibility == "Public" ? GroupVisibility.Public : GroupVisibility.Private) },
                LinkSet => new List<AccessOperation> { ChangeReader.ParseOperation(new Hashtable { ["op"] = "createLink", ["resource"] = ResourceId, ["scope"] = CreateLink.ToLowerInvariant(), ["role"] = Role }, "CreateLink") },
                _ => Operation.Select((o, i) => ToOperation(o, i)).ToList(),
            };

            var suggestedBy = SuggestedBy is null && SuggestedByName is null && SuggestionSource is null
                ? null
                : new SuggestedBy(SuggestedByType, SuggestedBy, SuggestedByName, SuggestionSource);
            WriteObject(new AccessChange(ops, Title, Justification, suggestedBy, RequestedBy, DurationText(Duration)));
        }
        catch (GovernanceException e)
        {
            ThrowGovernanceError(e);
        }
    }

    /// <summary>
    /// read, write or owner (in any case), member (a directory role's membership, as Microsoft Graph
    /// reads and writes it), or a role name the connected directory grants. Another name would
    /// silently count as read, so a typo (reader, Owners) is RoleUnknown.
    /// </summary>
    internal static string CheckRole(string role, string? resourceId)
    {
        var known = Array.Find(RoleCompleter.Known, r => string.Equals(r, role, StringComparison.OrdinalIgnoreCase));
        if (known is not null)
        {
            return known;
        }

        var granted = RoleCompleter.GrantedRoles(GovernanceSession.Current?.Snapshot, null);
        if (granted.Contains(role, StringComparer.Ordinal))
        {
            return role;
        }

        var others = granted.Except(RoleCompleter.Known, StringComparer.Ordinal).Take(10).ToList();
        throw new GovernanceException("RoleUnknown", GovernanceErrorKind.InvalidArgument,
            $"-Role '{Display.SafeText.Show(role)}' is not a role: give read, write or owner (member for a directory role)" +
            (others.Count > 0 ? $", or a role the connected directory grants ({string.Join(", ", others.Select(Display.SafeText.Show))})" : string.Empty) +
            ". Another name would count as read.", role);
    }

    private static Hashtable Unwrap(IDictionary map)
    {
        var plain = new Hashtable();
        foreach (DictionaryEntry e in map)
        {
            plain[e.Key] = e.Value is PSObject pso ? pso.BaseObject : e.Value;
        }

        return plain;
    }

    private static AccessOperation ToOperation(object item, int index)
    {
        var value = item is PSObject pso ? pso.BaseObject : item;
        return value switch
        {
            AccessOperation op => op,
            IDictionary map => ChangeReader.ParseOperation(Unwrap(map), "Operation[" + index + "]"),
            _ => throw new GovernanceException("ChangeInvalid", GovernanceErrorKind.InvalidArgument,
                $"Operation[{index}] is a {value?.GetType().Name ?? "null"}; give AccessOperation objects or hashtables such as @{{ op = 'grant'; resource = 'site-x'; principal = 'g-y'; role = 'read' }}.", value),
        };
    }
}
