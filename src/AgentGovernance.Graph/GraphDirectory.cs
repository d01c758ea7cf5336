using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using AgentGovernance.Changes;
using AgentGovernance.Directory;
using AgentGovernance.Providers;
using AgentGovernance.Providers.Graph;
using Microsoft.Graph;
using Microsoft.Graph.Drives.Item.Items.Item.CreateLink;
using Microsoft.Graph.Drives.Item.Items.Item.Invite;
using Microsoft.Graph.Models;

namespace AgentGovernance.Graph;

/// <summary>
/// A live tenant as the pipeline's directory. Every operation has its exact Graph endpoint and inverse:
/// <list type="table">
/// <item><term>addMember</term><description>POST /groups/{g}/members/$ref; inverse removeMember</description></item>
/// <item><term>removeMember</term><description>DELETE /groups/{g}/members/{m}/$ref (never without /$ref: that deletes the member object itself); inverse addMember</description></item>
/// <item><term>setVisibility</term><description>PATCH /groups/{g} {visibility}; inverse the visibility read before</description></item>
/// <item><term>grant on roleDefinitions/{id}</term><description>POST /roleManagement/directory/roleAssignments; inverse DELETE of the created assignment</description></item>
/// <item><term>grant on servicePrincipals/{id}</term><description>POST /servicePrincipals/{id}/appRoleAssignedTo; inverse DELETE /servicePrincipals/{id}/appRoleAssignedTo/{assignment}</description></item>
/// <item><term>grant on drives/{d}/items/{i}</term><description>POST .../invite (no e-mail, sign-in required); inverse DELETE .../permissions/{created}</description></item>
/// <item><term>createLink</term><description>POST .../createLink {view|edit, anonymous|organization}; inverse a revoke of that role from anyone/everyoneExceptExternal carrying the link's permission id</description></item>
/// <item><term>revoke</term><description>DELETE of the assignment or permission found; inverse the grant again</description></item>
/// </list>
/// "Already a member" (400), "already gone" (404) and an existing link (200) are done, not failures.
/// </summary>
public sealed partial class GraphDirectory : IGraphDirectory, IGraphMailer
{
    private readonly Transport _t;
    private readonly GraphConnectionOptions _options;

    private GraphDirectory(Transport transport, GraphConnectionOptions options, string tenantId, string? displayName)
    {
        _t = transport;
        _options = options;
        TenantId = tenantId;
        TenantDisplayName = displayName;
    }

    public string Kind => "graph";

    public string Location => $"{Endpoint} (tenant {TenantId})";

    public string TenantId { get; }

    public string? TenantDisplayName { get; }

    public Uri Endpoint => _options.Endpoint;

    public GraphRequestStatistics Statistics => _t.Stats;

    private GraphServiceClient C => _t.Client;

    /// <summary>Signs in and reads the organization: a bad token, tenant or endpoint fails here, not at the first preview.</summary>
    internal static GraphDirectory Open(GraphConnectionOptions options)
    {
        var stats = new GraphRequestStatistics();
        var t = Connection.Create(options, stats);
        var request = new GraphRequest(t.Client.Organization.ToGetRequestInformation(rc => rc.QueryParameters.Select = new[] { "id", "displayName" }),
            $"the organization of tenant {options.TenantId}", "Organization.Read.All (or any Graph permission: every app may read its own organization)");
        var answer = Transport.Run(() => t.BatchAsync(new[] { request }, CancellationToken.None)).Single();
        if (!answer.Ok)
        {
            throw answer.ToException(write: false);
        }

        var org = answer.Values.FirstOrDefault();
        return new GraphDirectory(t, options, org.Str("id") ?? options.TenantId, org.Str("displayName"));
    }

    public IDisposable BeginCommand() => _t.BeginScope();

    /// <summary>The connection's bearer token for a URL on its Graph host (mail notifications send through sendMail with it).</summary>
    public string? Authorization(Uri url)
    {
        if (!string.Equals(url.Host, Endpoint.Host, StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException($"Only the connection's Graph host ({Endpoint.Host}) gets its token.");
        }

        var info = new Microsoft.Kiota.Abstractions.RequestInformation { HttpMethod = Microsoft.Kiota.Abstractions.Method.POST, URI = url };
        Transport.Run(async () =>
        {
            await _t.Authentication.AuthenticateRequestAsync(info).ConfigureAwait(false);
            return 0;
        });
        return info.Headers.TryGetValue("Authorization", out var values) ? values.FirstOrDefault() : null;
    }

    public AccessSnapshot ReadState(AccessChange change) => LiveRead.ForChange(_t, TenantId, change, Inventory, InventoryMaxAge);

    /// <inheritdoc />
    public TimeSpan InventoryMaxAge { get; set; } = Policy.GovernancePolicy.DefaultInventoryMaxAge;

    /// <inheritdoc />
    public AccessSnapshot? Inventory { get; set; }

    public AccessSnapshot ReadResource(string resourceId) => LiveRead.ForResource(_t, TenantId, resourceId);

    public AccessSnapshot Export(GraphExportOptions options, Action<GraphExportProgress>? progress, CancellationToken cancel) =>
        Transport.Run(() => new TenantExport(_t, TenantId, TenantDisplayName, options, progress, cancel).RunAsync());

    public void Dispose() => _t.HttpClient.Dispose();

    // ---- plan ----------------------------------------------------------------------------------

    public OperationPlan Plan(AccessOperation operation) => Transport.Run(() => PlanAsync(operation));

    private async Task<OperationPlan> PlanAsync(AccessOperation op)
    {
        switch (op.Op)
        {
            case OperationKind.AddMember:
            case OperationKind.RemoveMember:
            {
                var group = await GroupAsync(op.Group!).ConfigureAwait(false);
                if (group.IsDynamic())
                {
                    throw new GovernanceException("GroupMembershipDynamic", GovernanceErrorKind.InvalidOperation,
                        $"Cannot {op}: {op.Group} is a dynamic group; its members follow its rule ({group.Str("membershipRule")}). Change the rule instead.", op.Group);
                }

                var member = await IdAsync(op.Member!).ConfigureAwait(false);
                var isMember = await IsMemberAsync(op.Group!, member).ConfigureAwait(false);
                var add = op.Op == OperationKind.AddMember;
                return new OperationPlan(op, isMember == add,
                    add ? AccessOperation.RemoveMember(op.Group!, op.Member!) : AccessOperation.AddMember(op.Group!, op.Member!),
                    isMember ? "member" : "not a member");
            }

            case OperationKind.SetVisibility:
            {
                var group = await GroupAsync(op.Group!).ConfigureAwait(false);
                var now = group.Visibility();
                if (now == op.Visibility)
                {
                    return new OperationPlan(op, true, null, now.ToString());
                }

                if (op.Visibility == GroupVisibility.HiddenMembership || now == GroupVisibility.HiddenMembership)
                {
                    throw new GovernanceException("VisibilityNotSettable", GovernanceErrorKind.InvalidOperation,
                        $"Cannot {op}: Graph sets HiddenMembership only when a Microsoft 365 group is created, and never changes it afterwards (the group is {now}).", op.Group);
                }

                return new OperationPlan(op, false, AccessOperation.SetVisibility(op.Group!, now), now.ToString());
            }

            case OperationKind.CreateLink:
            {
                var r = DriveItemOnly(op);
                var links = await LinksAsync(r, op.Scope!.Value, op.Role!).ConfigureAwait(false);
                return new OperationPlan(op, links.Count > 0,
                    AccessOperation.Revoke(op.Resource!, op.Scope == LinkScope.Anonymous ? Audiences.Anyone : Audiences.EveryoneExceptExternal, op.Role!),
                    string.Join(",", await AllPermissionIdsAsync(r).ConfigureAwait(false)));
            }

            default:
            {
                var grant = op.Op == OperationKind.Grant;
                var found = await FindGrantAsync(op).ConfigureAwait(false);
                return new OperationPlan(op, grant ? found.Count > 0 : found.Count == 0,
                    grant ? AccessOperation.Revoke(op.Resource!, op.Principal!, op.Role!) : AccessOperation.Grant(op.Resource!, op.Principal!, op.Role!),
                    string.Join(",", found));
            }
        }
    }

    private static LiveResource DriveItemOnly(AccessOperation op)
    {
        var r = LiveResource.Parse(op.Resource!);
        if (r.Kind != LiveResourceKind.DriveItem)
        {
            throw new GovernanceException("OperationUnsupported", GovernanceErrorKind.InvalidArgument,
                $"Cannot {op}: sharing links exist for files and folders (drives/{{drive-id}}/items/{{item-id}}), not for a {r.Type}.", op.Resource);
        }

        return r;
    }

    private async Task<JsonElement> GroupAsync(string group)
    {
        var answer = await OneAsync(new GraphRequest(C.Groups[group].ToGetRequestInformation(rc => rc.QueryParameters.Select = LiveRead.GroupSelect),
            $"the group {group}", "GroupMember.Read.All")).ConfigureAwait(false);
        return answer.Body!.Value;
    }

    /// <summary>An object id for an id or a user principal name.</summary>
    private async Task<string> IdAsync(string idOrUpn)
    {
        if (!idOrUpn.Contains('@'))
        {
            return idOrUpn;
        }

        var answer = await OneAsync(new GraphRequest(C.Users[idOrUpn].ToGetRequestInformation(rc => rc.QueryParameters.Select = new[] { "id" }),
            $"the user {idOrUpn}", "User.Read.All")).ConfigureAwait(false);
        return answer.Body!.Value.Str("id")!;
    }

    private async Task<bool> IsMemberAsync(string group, string member)
    {
        var answer = await OneAsync(new GraphRequest(C.Groups[group].Members.ToGetRequestInformation(rc =>
        {
            rc.QueryParameters.Filter = $"id eq '{member}'";
            rc.QueryParameters.Select = new[] { "id" };
            rc.QueryParameters.Count = true;
            rc.Headers.Add("ConsistencyLevel", "eventual");
        }), $"whether {member} is a member of group {group}", "GroupMember.Read.All")).ConfigureAwait(false);
        return answer.Values.Any(v => string.Equals(v.Str("id"), member, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>The ids of the assignments or permissions that make up this grant (role, app role, or a direct item permission).</summary>
    private async Task<List<string>> FindGrantAsync(AccessOperation op)
    {
        var r = LiveResource.Parse(op.Resource!);
        switch (r.Kind)
        {
            case LiveResourceKind.DirectoryRole:
            {
                if (op.Role != "member")
                {
                    throw new GovernanceException("RoleInvalid", GovernanceErrorKind.InvalidArgument, $"Cannot {op}: a directory role is held as role 'member'.", op.Role);
                }

                var principal = await IdAsync(op.Principal!).ConfigureAwait(false);
                var page = await AllAsync(new GraphRequest(C.RoleManagement.Directory.RoleAssignments.ToGetRequestInformation(rc =>
                {
                    rc.QueryParameters.Filter = $"roleDefinitionId eq '{r.First}' and principalId eq '{principal}'";
                }), $"the assignments of directory role {r.First} to {principal}", "RoleManagement.Read.Directory")).ConfigureAwait(false);
                return page.Where(a => (a.Str("directoryScopeId") ?? "/") == "/").Select(a => a.Str("id")!).ToList();
            }

            case LiveResourceKind.Application:
            {
                var principal = await IdAsync(op.Principal!).ConfigureAwait(false);
                var page = await AllAsync(new GraphRequest(C.ServicePrincipals[r.First].AppRoleAssignedTo.ToGetRequestInformation(rc => rc.QueryParameters.Top = 999),
                    $"who holds app roles of {r.First}", "Application.Read.All")).ConfigureAwait(false);
                return page.Where(a => Same(a.Str("principalId"), principal) && Same(a.Str("appRoleId"), op.Role)).Select(a => a.Str("id")!).ToList();
            }

            case LiveResourceKind.DriveItem:
            {
                var permissions = await PermissionsAsync(r).ConfigureAwait(false);
                if (Audiences.IsAudience(op.Principal!))
                {
                    if (op.Op == OperationKind.Grant || op.Principal == Audiences.Everyone)
                    {
                        throw new GovernanceException("OperationUnsupported", GovernanceErrorKind.InvalidArgument,
                            $"Cannot {op}: on a file, access for an audience is a sharing link: use createLink (anonymous or organization), and revoke from anyone or everyoneExceptExternal.", op.Resource);
                    }

                    var scope = op.Principal == Audiences.Anyone ? LinkScope.Anonymous : LinkScope.Organization;
                    return Links(permissions, scope, op.Role!);
                }

                var principal = await IdAsync(op.Principal!).ConfigureAwait(false);
                var direct = new List<string>();
                foreach (var p in permissions)
                {
                    var to = p.Obj("grantedToV2");
                    var who = to?.Obj("user")?.Str("id") ?? to?.Obj("group")?.Str("id");
                    if (p.Obj("link") is null && Same(who, principal) && HasRole(p, op.Role!))
                    {
                        if (p.Obj("inheritedFrom") is { } from && from.Str("id") is not null)
                        {
                            throw new GovernanceException("PermissionInherited", GovernanceErrorKind.InvalidOperation,
                                $"Cannot {op}: that permission is inherited from {from.Str("path") ?? from.Str("id")}; revoke it there.", op.Resource);
                        }

                        direct.Add(p.Str("id")!);
                    }
                }

                if (op.Op == OperationKind.Grant && op.Role != "read" && op.Role != "write")
                {
                    throw new GovernanceException("RoleInvalid", GovernanceErrorKind.InvalidArgument, $"Cannot {op}: a file or folder can be shared with role read or write.", op.Role);
                }

                return direct;
            }

            default:
                throw new GovernanceException("OperationUnsupported", GovernanceErrorKind.InvalidArgument,
                    $"Cannot {op}: Graph grants people and groups nothing on a site itself (only applications, with Sites.FullControl.All). Grant on the site's files (drives/{{drive-id}}/items/root) or add them to the site's group.", op.Resource);
        }
    }

    private Task<List<JsonElement>> PermissionsAsync(LiveResource r) =>
        AllAsync(new GraphRequest(C.Drives[r.First].Items[r.Second!].Permissions.ToGetRequestInformation(), $"the permissions of {r.Id}", "Files.Read.All"));

    private async Task<List<string>> LinksAsync(LiveResource r, LinkScope scope, string role) => Links(await PermissionsAsync(r).ConfigureAwait(false), scope, role);

    private async Task<List<string>> AllPermissionIdsAsync(LiveResource r) => (await PermissionsAsync(r).ConfigureAwait(false)).Select(p => p.Str("id")!).ToList();

    private static List<string> Links(List<JsonElement> permissions, LinkScope scope, string role)
    {
        var name = AccessOperation.ScopeName(scope);
        return permissions.Where(p => p.Obj("link") is { } l && l.Str("scope") == name && HasRole(p, role)).Select(p => p.Str("id")!).ToList();
    }

    private static bool HasRole(JsonElement permission, string role) =>
        permission.Arr("roles").Any(r => string.Equals(r.GetString(), role, StringComparison.OrdinalIgnoreCase));

    private static bool Same(string? a, string? b) => a is not null && string.Equals(a, b, StringComparison.OrdinalIgnoreCase);

    private async Task<GraphResponse> OneAsync(GraphRequest request)
    {
        var answer = (await _t.BatchAsync(new[] { request }, CancellationToken.None).ConfigureAwait(false))[0];
        return answer.Ok ? answer : throw answer.ToException(write: false);
    }

    private async Task<List<JsonElement>> AllAsync(GraphRequest request)
    {
        var page = (await _t.PagesAsync(new[] { request }, CancellationToken.None).ConfigureAwait(false))[0];
        return page.Ok ? page.Items : throw page.Failure!.ToException(write: false);
    }

    // ---- apply ---------------------------------------------------------------------------------

    public AppliedOperation Apply(OperationPlan plan)
    {
        var outcome = ApplyAll(new[] { plan })[0];
        return outcome.Applied ?? throw outcome.Error!;
    }

    public IReadOnlyList<ApplyOutcome> ApplyAll(IReadOnlyList<OperationPlan> plans) => Transport.Run(() => ApplyAllAsync(plans));

    private async Task<IReadOnlyList<ApplyOutcome>> ApplyAllAsync(IReadOnlyList<OperationPlan> plans)
    {
        var outcomes = new ApplyOutcome?[plans.Count];
        var steps = new List<(int Plan, GraphRequest Request)>();
        for (var i = 0; i < plans.Count; i++)
        {
            if (plans[i].AlreadyInEffect)
            {
                outcomes[i] = new ApplyOutcome(plans[i], new AppliedOperation(plans[i].Operation, false, null), null);
                continue;
            }

            try
            {
                foreach (var request in await RequestsAsync(plans[i].Operation, plans[i].State).ConfigureAwait(false))
                {
                    steps.Add((i, request));
                }
            }
            catch (GovernanceException e)
            {
                outcomes[i] = new ApplyOutcome(plans[i], null, e);
            }
        }

        // Operations on one object keep their order: each step depends on the one before it on that object.
        var dependsOn = new Dictionary<int, int>();
        var last = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        for (var s = 0; s < steps.Count; s++)
        {
            var target = plans[steps[s].Plan].Operation.Target;
            if (last.TryGetValue(target, out var before))
            {
                dependsOn[s] = before;
            }

            last[target] = s;
        }

        var answers = await _t.BatchAsync(steps.Select(s => s.Request).ToList(), CancellationToken.None, dependsOn).ConfigureAwait(false);
        foreach (var group in steps.Select((s, index) => (s.Plan, Answer: answers[index])).GroupBy(x => x.Plan))
        {
            var plan = plans[group.Key];
            try
            {
                outcomes[group.Key] = new ApplyOutcome(plan, Interpret(plan, group.Select(g => g.Answer).ToList()), null);
            }
            catch (GovernanceException e)
            {
                outcomes[group.Key] = new ApplyOutcome(plan, null, e);
            }
        }

        return outcomes.Select(o => o!).ToList();
    }

    /// <summary>The request(s) that carry out an operation (a revoke may remove several permissions).</summary>
    private async Task<List<GraphRequest>> RequestsAsync(AccessOperation op, string? state)
    {
        switch (op.Op)
        {
            case OperationKind.AddMember:
            {
                var member = await IdAsync(op.Member!).ConfigureAwait(false);
                var body = new ReferenceCreate { OdataId = $"{Endpoint.ToString().TrimEnd('/')}/directoryObjects/{member}" };
                return One(C.Groups[op.Group!].Members.Ref.ToPostRequestInformation(body), $"adding {member} to group {op.Group}", "GroupMember.ReadWrite.All");
            }

            case OperationKind.RemoveMember:
            {
                var member = await IdAsync(op.Member!).ConfigureAwait(false);
                // /$ref removes the membership; without it Graph deletes the member object itself.
                return One(C.Groups[op.Group!].Members[member].Ref.ToDeleteRequestInformation(), $"removing {member} from group {op.Group}", "GroupMember.ReadWrite.All");
            }

            case OperationKind.SetVisibility:
                return One(C.Groups[op.Group!].ToPatchRequestInformation(new Group { Visibility = op.Visibility.ToString() }), $"making group {op.Group} {op.Visibility}", "Group.ReadWrite.All");

            case OperationKind.CreateLink:
            {
                var r = DriveItemOnly(op);
                var body = new CreateLinkPostRequestBody { Type = LinkType(op.Role!), Scope = AccessOperation.ScopeName(op.Scope!.Value) };
                return One(C.Drives[r.First].Items[r.Second!].CreateLink.ToPostRequestInformation(body), $"creating an {body.Scope} {body.Type} link to {r.Id}", "Files.ReadWrite.All");
            }

            case OperationKind.Grant:
            {
                var r = LiveResource.Parse(op.Resource!);
                var principal = await IdAsync(op.Principal!).ConfigureAwait(false);
                switch (r.Kind)
                {
                    case LiveResourceKind.DirectoryRole:
                        return One(C.RoleManagement.Directory.RoleAssignments.ToPostRequestInformation(new UnifiedRoleAssignment
                        {
                            OdataType = "#microsoft.graph.unifiedRoleAssignment",
                            RoleDefinitionId = r.First,
                            PrincipalId = principal,
                            DirectoryScopeId = "/",
                        }), $"assigning directory role {r.First} to {principal}", "RoleManagement.ReadWrite.Directory");
                    case LiveResourceKind.Application:
                        return One(C.ServicePrincipals[r.First].AppRoleAssignedTo.ToPostRequestInformation(new AppRoleAssignment
                        {
                            PrincipalId = Guid(principal, "principal"),
                            ResourceId = Guid(r.First, "service principal"),
                            AppRoleId = Guid(op.Role!, "app role"),
                        }), $"assigning app role {op.Role} of {r.First} to {principal}", "AppRoleAssignment.ReadWrite.All");
                    default:
                        return One(C.Drives[r.First].Items[r.Second!].Invite.ToPostRequestInformation(new InvitePostRequestBody
                        {
                            Recipients = new List<DriveRecipient> { new() { ObjectId = principal } },
                            Roles = new List<string> { op.Role! },
                            RequireSignIn = true,
                            SendInvitation = false,
                        }), $"giving {principal} {op.Role} on {r.Id}", "Files.ReadWrite.All");
                }
            }

            default:
            {
                var r = LiveResource.Parse(op.Resource!);
                var ids = (state ?? string.Empty).Split(new[] { ',' }, StringSplitOptions.RemoveEmptyEntries);
                return ids.Select(id => RevokeRequest(r, id, op.ToString())).ToList();
            }
        }
    }

    private GraphRequest RevokeRequest(LiveResource r, string id, string what) => r.Kind switch
    {
        LiveResourceKind.DirectoryRole => new GraphRequest(C.RoleManagement.Directory.RoleAssignments[id].ToDeleteRequestInformation(), $"{what} (assignment {id})", "RoleManagement.ReadWrite.Directory"),
        LiveResourceKind.Application => new GraphRequest(C.ServicePrincipals[r.First].AppRoleAssignedTo[id].ToDeleteRequestInformation(), $"{what} (assignment {id})", "AppRoleAssignment.ReadWrite.All"),
        _ => new GraphRequest(C.Drives[r.First].Items[r.Second!].Permissions[id].ToDeleteRequestInformation(), $"{what} (permission {id})", "Files.ReadWrite.All"),
    };

    private static List<GraphRequest> One(Microsoft.Kiota.Abstractions.RequestInformation info, string what, string permission) => new() { new GraphRequest(info, what, permission) };

    private static string LinkType(string role) => role switch
    {
        "read" => "view",
        "write" => "edit",
        _ => throw new GovernanceException("RoleInvalid", GovernanceErrorKind.InvalidArgument, $"A sharing link gives role read (view) or write (edit), not '{role}'.", role),
    };

    private static Guid Guid(string value, string what) =>
        System.Guid.TryParse(value, out var g) ? g : throw new GovernanceException("IdInvalid", GovernanceErrorKind.InvalidArgument, $"The {what} id '{value}' is not a GUID, as Graph needs for app role assignments.", value);

    /// <summary>What an operation's answers mean: changed, already so (done), or the failure.</summary>
    private static AppliedOperation Interpret(OperationPlan plan, List<GraphResponse> answers)
    {
        var op = plan.Operation;
        string? reference = null;
        var changed = false;
        foreach (var a in answers)
        {
            if (op.Op == OperationKind.AddMember && a.Status == 400 && (a.ErrorMessage ?? string.Empty).IndexOf("already exist", StringComparison.OrdinalIgnoreCase) >= 0)
            {
                continue; // already a member: done
            }

            if ((op.Op == OperationKind.RemoveMember || op.Op == OperationKind.Revoke) && a.Status == 404)
            {
                continue; // already gone: done
            }

            if (!a.Ok)
            {
                throw a.ToException(write: true);
            }

            if (op.Op == OperationKind.CreateLink && a.Status == 200)
            {
                continue; // such a link already existed: Graph returned it
            }

            changed = true;
            if (a.Body is { } body)
            {
                reference ??= body.Str("id") ?? body.Arr("value").Select(v => v.Str("id")).FirstOrDefault(id => id is not null);
            }
        }

        return changed ? new AppliedOperation(op, true, plan.Inverse, reference) : new AppliedOperation(op, false, null);
    }

    // ---- recover and revert ----------------------------------------------------------------------

    public AppliedOperation? Recover(OperationPlan plan)
    {
        if (plan.AlreadyInEffect)
        {
            return new AppliedOperation(plan.Operation, false, null);
        }

        var now = Plan(plan.Operation);
        if (!now.AlreadyInEffect)
        {
            return null;
        }

        // What the directory named what was created: the assignment or permission that is there now and was not before.
        var before = new HashSet<string>((plan.State ?? string.Empty).Split(new[] { ',' }, StringSplitOptions.RemoveEmptyEntries), StringComparer.Ordinal);
        string? reference = null;
        if (plan.Operation.Op == OperationKind.Grant)
        {
            reference = Transport.Run(() => FindGrantAsync(plan.Operation)).FirstOrDefault();
        }
        else if (plan.Operation.Op == OperationKind.CreateLink)
        {
            var r = LiveResource.Parse(plan.Operation.Resource!);
            reference = Transport.Run(() => LinksAsync(r, plan.Operation.Scope!.Value, plan.Operation.Role!)).FirstOrDefault(id => !before.Contains(id));
        }

        return new AppliedOperation(plan.Operation, true, plan.Inverse, reference);
    }

    public void Revert(AppliedOperation applied)
    {
        if (!applied.Changed || applied.Inverse is not { } inverse)
        {
            return;
        }

        if (inverse.Op == OperationKind.Revoke && applied.Reference is { } reference)
        {
            // Exactly what was created, by the id Graph gave it; "already gone" is done.
            var r = LiveResource.Parse(inverse.Resource!);
            var answer = Transport.Run(() => _t.BatchAsync(new[] { RevokeRequest(r, reference, inverse.ToString()) }, CancellationToken.None))[0];
            if (!answer.Ok && answer.Status != 404)
            {
                throw answer.ToException(write: true);
            }

            return;
        }

        Apply(Plan(inverse));
    }
}
