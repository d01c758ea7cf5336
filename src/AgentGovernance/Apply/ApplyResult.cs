using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Linq;
using AgentGovernance.Changes;

namespace AgentGovernance.Apply;

/// <summary>How an apply, undo or expiry ended.</summary>
[Newtonsoft.Json.JsonConverter(typeof(Newtonsoft.Json.Converters.StringEnumConverter))]
public enum ApplyOutcome
{
    /// <summary>Every operation is in effect.</summary>
    Applied,

    /// <summary>An operation failed (or was declined) and the ones already applied were reverted.</summary>
    RolledBack,

    /// <summary>The change's inverse was applied: it is no longer in effect.</summary>
    Undone,
}

/// <summary>One operation of an apply or undo: what was done, whether it changed anything, and its exact inverse.</summary>
public sealed class OperationOutcome
{
    internal OperationOutcome(int index, AccessOperation operation, bool changed, AccessOperation? inverse, string? reference, bool reverted, bool recovered)
    {
        Index = index;
        Operation = operation;
        Changed = changed;
        Inverse = inverse;
        Reference = reference;
        Reverted = reverted;
        Recovered = recovered;
    }

    public int Index { get; }

    public AccessOperation Operation { get; }

    /// <summary>False when the directory already had it: then there is nothing to undo.</summary>
    public bool Changed { get; }

    public AccessOperation? Inverse { get; }

    /// <summary>What the directory named what it created (a permission id), when the inverse needs it.</summary>
    public string? Reference { get; }

    /// <summary>True when the operation was reverted (rollback or undo).</summary>
    public bool Reverted { get; }

    /// <summary>True when a later command found it applied by a process that died before recording it.</summary>
    public bool Recovered { get; }

    public override string ToString() => Operation + (Changed ? string.Empty : " (already in effect)") + (Reverted ? " (reverted)" : string.Empty);
}

/// <summary>What Invoke-ApprovedChange, Undo-ApprovedChange and Invoke-AccessExpiry did to one change.</summary>
public sealed class ApplyResult
{
    internal ApplyResult(string requestId, AccessChange change, string action, ApplyOutcome outcome, IEnumerable<OperationOutcome> operations,
        DateTimeOffset? accessExpiresAt, long firstSequence, long lastSequence, string directory, bool recovered, string? reason)
    {
        RequestId = requestId;
        Change = change;
        Action = action;
        Outcome = outcome;
        Operations = new ReadOnlyCollection<OperationOutcome>(operations.ToList());
        AccessExpiresAt = accessExpiresAt;
        FirstSequence = firstSequence;
        LastSequence = lastSequence;
        Directory = directory;
        Recovered = recovered;
        Reason = reason;
    }

    public string RequestId { get; }

    public string ChangeId => Change.Id;

    public string? Title => Change.Title;

    public AccessChange Change { get; }

    /// <summary>Apply, Undo, Expiry or EmergencyRevocation.</summary>
    public string Action { get; }

    public ApplyOutcome Outcome { get; }

    public IReadOnlyList<OperationOutcome> Operations { get; }

    /// <summary>How many operations changed the directory.</summary>
    public int Changed => Operations.Count(o => o.Changed);

    /// <summary>For a time-boxed change that was applied: when Invoke-AccessExpiry reverts it.</summary>
    public DateTimeOffset? AccessExpiresAt { get; }

    /// <summary>The ledger entries this command wrote: from FirstSequence to LastSequence.</summary>
    public long FirstSequence { get; }

    public long LastSequence { get; }

    /// <summary>The directory changed: the snapshot file, or the tenant.</summary>
    public string Directory { get; }

    /// <summary>True when this command finished or rolled back an apply whose process had died.</summary>
    public bool Recovered { get; }

    /// <summary>Why it was rolled back, when it was.</summary>
    public string? Reason { get; }

    /// <summary>Inverses an undo or expiry did not apply because they would widen access without approval.</summary>
    public IReadOnlyList<AccessOperation> Withheld { get; internal set; } = Array.Empty<AccessOperation>();

    /// <summary>The withheld inverses as a change, for Request-HumanApproval (null when nothing was withheld).</summary>
    public AccessChange? FollowUpChange { get; internal set; }

    public override string ToString() => $"{RequestId} {Action} {Outcome}: {Changed} of {Operations.Count} operation(s) changed the directory";
}
