using System;
using System.IO;
using AgentGovernance.Changes;
using AgentGovernance.Directory;

namespace AgentGovernance.Providers;

/// <summary>
/// A snapshot file as the directory: changes are applied to the file itself, one operation at a time,
/// each as an atomic rewrite (temporary file, flush, rename: a crash leaves the old file or the new one).
/// The demo tenant, offline planning and tests use it; the pipeline cannot tell it from a live tenant.
/// Operations that name users by user principal name are applied to their ids.
/// </summary>
public sealed class SnapshotFileProvider : IDirectoryProvider
{
    private static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(30);

    public SnapshotFileProvider(string path)
    {
        Location = Path.GetFullPath(path);
        TenantId = Read().TenantId;
    }

    public string Kind => "snapshot";

    public string Location { get; }

    public string TenantId { get; }

    public AccessSnapshot ReadState(AccessChange change) => Read();

    public OperationPlan Plan(AccessOperation operation)
    {
        var s = Read();
        var op = Resolve(s, operation);
        return op.Op switch
        {
            OperationKind.Grant => new OperationPlan(op, HasGrant(s, op.Resource!, op.Principal!, op.Role!), AccessOperation.Revoke(op.Resource!, op.Principal!, op.Role!)),
            OperationKind.Revoke => new OperationPlan(op, !HasGrant(s, op.Resource!, op.Principal!, op.Role!), AccessOperation.Grant(op.Resource!, op.Principal!, op.Role!)),
            OperationKind.CreateLink => new OperationPlan(op, HasGrant(s, op.Resource!, AudienceOf(op.Scope!.Value), op.Role!), AccessOperation.Revoke(op.Resource!, AudienceOf(op.Scope!.Value), op.Role!)),
            OperationKind.AddMember => new OperationPlan(op, IsMember(s, op.Group!, op.Member!), AccessOperation.RemoveMember(op.Group!, op.Member!)),
            OperationKind.RemoveMember => new OperationPlan(op, !IsMember(s, op.Group!, op.Member!), AccessOperation.AddMember(op.Group!, op.Member!)),
            _ => PlanVisibility(s, op),
        };
    }

    public AppliedOperation Apply(OperationPlan plan)
    {
        using (LockFile())
        {
            var s = Read();
            var now = Plan(plan.Operation);
            if (now.AlreadyInEffect)
            {
                // Already there (applied before, or by someone else): nothing changes, so there is nothing to undo.
                return new AppliedOperation(plan.Operation, changed: false, inverse: null);
            }

            FaultInjection.Point("SnapshotFile.Writing");
            Write(SnapshotEditor.Apply(s, now.Operation));
            FaultInjection.Point("SnapshotFile.Written");
            return new AppliedOperation(now.Operation, changed: true, now.Inverse);
        }
    }

    public AppliedOperation? Recover(OperationPlan plan)
    {
        if (plan.AlreadyInEffect)
        {
            return null;
        }

        // The operation took effect if what it asks for is there now (and it was not there when planned).
        return Plan(plan.Operation).AlreadyInEffect ? new AppliedOperation(plan.Operation, changed: true, plan.Inverse) : null;
    }

    public void Revert(AppliedOperation applied)
    {
        if (!applied.Changed)
        {
            return;
        }

        using (LockFile())
        {
            var inverse = Plan(applied.Inverse!);
            if (inverse.AlreadyInEffect)
            {
                return;
            }

            Write(SnapshotEditor.Apply(Read(), inverse.Operation));
        }
    }

    public void Dispose()
    {
    }

    public override string ToString() => Location;

    private OperationPlan PlanVisibility(AccessSnapshot s, AccessOperation op)
    {
        var g = Group(s, op.Group!);
        var before = s.Visibility[g];
        return new OperationPlan(op, before == op.Visibility, AccessOperation.SetVisibility(op.Group!, before), before.ToString());
    }

    private AccessSnapshot Read()
    {
        try
        {
            return SnapshotReader.ReadFile(Location);
        }
        catch (GovernanceException e) when (e.ErrorId == "SnapshotNotFound" || e.ErrorId == "SnapshotUnreadable")
        {
            throw new GovernanceException("DirectoryReadFailed", GovernanceErrorKind.ReadError, $"Cannot read the directory: {e.Message}", Location, e);
        }
    }

    private void Write(AccessSnapshot snapshot)
    {
        try
        {
            SnapshotWriter.WriteFile(snapshot, Location);
        }
        catch (GovernanceException e)
        {
            throw new GovernanceException("DirectoryWriteFailed", GovernanceErrorKind.WriteError, $"Cannot write the directory: {e.Message}", Location, e);
        }
    }

    /// <summary>One writer of the snapshot at a time: the lock file beside it (released by the OS if its holder dies, removed when its holder lets go).</summary>
    private IDisposable LockFile()
    {
        var path = Path.Combine(Path.GetDirectoryName(Location)!, "." + Path.GetFileName(Location) + ".lock");
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return IO.LockFile.Take(path);
            }
            catch (IOException) when (watch.Elapsed < LockTimeout)
            {
                System.Threading.Thread.Sleep(10);
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                throw new GovernanceException("DirectoryBusy", GovernanceErrorKind.InvalidOperation, $"The snapshot '{Location}' stayed locked by another writer: {e.Message}", Location, e);
            }
        }
    }

    /// <summary>The operation with principals, members and groups named by their ids.</summary>
    private static AccessOperation Resolve(AccessSnapshot s, AccessOperation op)
    {
        string Id(string name) => s.TryResolvePrincipal(name, out var i) ? s.PrincipalId(i)
            : throw new GovernanceException("DirectoryObjectNotFound", GovernanceErrorKind.ObjectNotFound, $"'{name}' is not a principal in the directory {s.TenantId}.", name);
        string Res(string id) => s.TryGetResourceIndex(id, out _) ? id
            : throw new GovernanceException("DirectoryObjectNotFound", GovernanceErrorKind.ObjectNotFound, $"'{id}' is not a resource in the directory {s.TenantId}.", id);
        return op.Op switch
        {
            OperationKind.Grant => AccessOperation.Grant(Res(op.Resource!), Id(op.Principal!), op.Role!),
            OperationKind.Revoke => AccessOperation.Revoke(Res(op.Resource!), Id(op.Principal!), op.Role!),
            OperationKind.CreateLink => AccessOperation.CreateLink(Res(op.Resource!), op.Scope!.Value, op.Role!),
            OperationKind.AddMember => AccessOperation.AddMember(Id(op.Group!), Id(op.Member!)),
            OperationKind.RemoveMember => AccessOperation.RemoveMember(Id(op.Group!), Id(op.Member!)),
            _ => AccessOperation.SetVisibility(Id(op.Group!), op.Visibility!.Value),
        };
    }

    private static string AudienceOf(LinkScope scope) => scope == LinkScope.Anonymous ? Audiences.Anyone : Audiences.EveryoneExceptExternal;

    private static bool HasGrant(AccessSnapshot s, string resource, string principal, string role)
    {
        s.TryGetResourceIndex(resource, out var r);
        s.TryResolvePrincipal(principal, out var p);
        foreach (var g in s.GrantsOfResource(r))
        {
            if (s.GrantPrincipal[g] == p && s.RoleNames[s.GrantRoleName[g]] == role)
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsMember(AccessSnapshot s, string group, string member)
    {
        var g = Group(s, group);
        s.TryResolvePrincipal(member, out var m);
        return s.MembersOf(g).IndexOf(m) >= 0;
    }

    private static int Group(AccessSnapshot s, string id)
    {
        s.TryResolvePrincipal(id, out var g);
        if (s.Types[g] != PrincipalType.Group)
        {
            throw new GovernanceException("NotAGroup", GovernanceErrorKind.InvalidArgument, $"'{id}' is a {s.Types[g]}, not a group.", id);
        }

        return g;
    }
}
