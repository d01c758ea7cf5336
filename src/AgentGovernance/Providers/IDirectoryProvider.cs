using System;
using AgentGovernance.Changes;
using AgentGovernance.Directory;

namespace AgentGovernance.Providers;

/// <summary>
/// A directory the pipeline reads current state from and applies operations to: a snapshot file,
/// or a live tenant through Microsoft Graph. The pipeline (apply, undo, expiry, crash recovery)
/// only ever talks to this interface, so a new directory never changes the pipeline.
/// </summary>
/// <remarks>
/// The contract every provider keeps:
/// <list type="bullet">
/// <item><see cref="Plan"/> reads, never writes. Its <see cref="OperationPlan.State"/> is written
/// to the ledger before anything is applied (write-ahead), so after a crash <see cref="Recover"/>
/// can tell from the directory alone whether the operation took effect.</item>
/// <item><see cref="Apply"/> is idempotent: an operation already in effect is reported as
/// <see cref="AppliedOperation.Changed"/> = false with no inverse, so undoing never removes access
/// that existed before the change.</item>
/// <item><see cref="Revert"/> applies exactly the recorded inverse (using
/// <see cref="AppliedOperation.Reference"/> where the directory names what it created, such as a
/// sharing link's permission id), and treats "already gone" as done.</item>
/// <item>Failures are <see cref="GovernanceException"/>s with stable ErrorIds
/// (<c>DirectoryReadFailed</c>, <c>DirectoryWriteFailed</c>, <c>DirectoryPermissionDenied</c>, ...).</item>
/// </list>
/// </remarks>
public interface IDirectoryProvider : IDisposable
{
    /// <summary>What kind of directory: <c>snapshot</c> or <c>graph</c>.</summary>
    string Kind { get; }

    /// <summary>Where, for people and the ledger: the snapshot file's full path, or the Graph endpoint and tenant.</summary>
    string Location { get; }

    string TenantId { get; }

    /// <summary>
    /// The current state, as much of it as assessing <paramref name="change"/> needs (the whole
    /// snapshot for a file; for Graph, the part of the tenant the change touches).
    /// </summary>
    AccessSnapshot ReadState(AccessChange change);

    /// <summary>Reads what <paramref name="operation"/> touches now and says what applying it would do and how to undo it.</summary>
    OperationPlan Plan(AccessOperation operation);

    /// <summary>Applies a planned operation. Idempotent; throws a <see cref="GovernanceException"/> when the directory refuses.</summary>
    AppliedOperation Apply(OperationPlan plan);

    /// <summary>
    /// After a crash between the write-ahead entry and the outcome: whether the planned operation
    /// took effect, read from the directory (never by applying anything). Null when it did not.
    /// </summary>
    AppliedOperation? Recover(OperationPlan plan);

    /// <summary>Applies the recorded inverse of <paramref name="applied"/>; a no-op for an operation that changed nothing.</summary>
    void Revert(AppliedOperation applied);
}

/// <summary>What applying one operation would do, read from the directory before anything changes.</summary>
public sealed class OperationPlan
{
    public OperationPlan(AccessOperation operation, bool alreadyInEffect, AccessOperation? inverse, string? state = null)
    {
        Operation = operation ?? throw new ArgumentNullException(nameof(operation));
        AlreadyInEffect = alreadyInEffect;
        Inverse = alreadyInEffect ? null : inverse ?? throw new ArgumentNullException(nameof(inverse), "An operation that changes something needs its inverse.");
        State = state;
    }

    public AccessOperation Operation { get; }

    /// <summary>True when the directory already has what the operation asks for: applying it changes nothing.</summary>
    public bool AlreadyInEffect { get; }

    /// <summary>The operation that undoes this one, given the state read (setVisibility back to the old value, ...); null when nothing changes.</summary>
    public AccessOperation? Inverse { get; }

    /// <summary>
    /// The provider's own record of the state before, as text it can read back (for example the ids of
    /// the sharing links that already existed); kept in the ledger's write-ahead entry for <see cref="IDirectoryProvider.Recover"/>.
    /// </summary>
    public string? State { get; }

    public override string ToString() => AlreadyInEffect ? $"{Operation} (already in effect)" : Operation.ToString();
}

/// <summary>One operation as it was applied: whether it changed anything, and its exact inverse.</summary>
public sealed class AppliedOperation
{
    public AppliedOperation(AccessOperation operation, bool changed, AccessOperation? inverse, string? reference = null)
    {
        Operation = operation ?? throw new ArgumentNullException(nameof(operation));
        Changed = changed;
        Inverse = changed ? inverse ?? throw new ArgumentNullException(nameof(inverse), "An operation that changed something needs its inverse.") : null;
        Reference = reference;
    }

    public AccessOperation Operation { get; }

    /// <summary>False when the directory already had it (then there is nothing to undo).</summary>
    public bool Changed { get; }

    public AccessOperation? Inverse { get; }

    /// <summary>What the directory named the thing it created (a permission id, a role assignment id), when the inverse needs it.</summary>
    public string? Reference { get; }

    public override string ToString() => Changed ? Operation.ToString() : $"{Operation} (no change)";
}
