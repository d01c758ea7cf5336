using System;
using System.Collections.Generic;
using System.Linq;
using AgentGovernance.Approval;
using AgentGovernance.Changes;
using AgentGovernance.Exposure;
using AgentGovernance.Ledger;
using AgentGovernance.Providers;

namespace AgentGovernance.Apply;

/// <summary>
/// An apply (or undo) made ready: the request, its lock, what the directory says now, and the plan.
/// Nothing is written until <see cref="ApplyService.Execute"/>; disposing it releases the request's lock.
/// </summary>
internal sealed class PreparedChange : IDisposable
{
    private readonly IDisposable _lock;

    public PreparedChange(IDisposable requestLock, string requestId, AccessChange change, ApprovalRequest? request, ExposureReport? reassessed,
        IReadOnlyList<PlannedStep> steps, ApplyAttempt? recovering, bool rollBackRecovery, string? recoveryReason)
    {
        _lock = requestLock;
        RequestId = requestId;
        Change = change;
        Request = request;
        Reassessed = reassessed;
        Steps = steps;
        Recovering = recovering;
        RollBackRecovery = rollBackRecovery;
        RecoveryReason = recoveryReason;
    }

    public string RequestId { get; }

    public AccessChange Change { get; }

    public ApprovalRequest? Request { get; }

    /// <summary>The exposure assessed again on the directory as it is now.</summary>
    public ExposureReport? Reassessed { get; }

    /// <summary>The operations, planned on the directory as it is now (for a recovery: as the dead process planned them).</summary>
    public IReadOnlyList<PlannedStep> Steps { get; }

    /// <summary>An apply whose process died, found with its intent and no outcome.</summary>
    public ApplyAttempt? Recovering { get; }

    public bool RollBackRecovery { get; }

    public string? RecoveryReason { get; }

    /// <summary>Why the request's lock was taken over from another process (its lease expired), or null.</summary>
    public string? LockTakenOver => (_lock as Stores.IRequestLock)?.TakeoverReason;

    /// <summary>
    /// True once the request's lease was lost (not renewed in time, or taken over by another worker): nothing
    /// more may be written to the directory under it. A lock that is not a lease (the folder store's OS lock) is never lost.
    /// </summary>
    public bool LockLost => (_lock as Stores.IRequestLock)?.Lost == true;

    public void Dispose() => _lock.Dispose();
}

/// <summary>
/// The guarded apply: checks quorum, expiry, single use and the exposure on current state (S1, S4, S5),
/// writes the intent before the first operation and the outcome after the last (S7), reverts what was
/// applied when an operation fails, finishes or rolls back an apply whose process died, and undoes
/// and expires applied changes (S9). Every operation goes through the <see cref="IDirectoryProvider"/>.
/// </summary>
internal sealed class ApplyService
{
    private static readonly TimeSpan RequestLockTimeout = TimeSpan.FromSeconds(5);
    private readonly ApprovalService _approvals;
    private readonly IDirectoryProvider _directory;

    /// <summary>The directory's state for a re-check, with a live inventory's age limit taken from the policy the check runs under.</summary>
    private Directory.AccessSnapshot State(AccessChange change)
    {
        if (_directory is Providers.Graph.IGraphDirectory live) live.InventoryMaxAge = _approvals.Policy.InventoryMaxAgeTimeSpan;
        return _directory.ReadState(change);
    }

    public ApplyService(ApprovalService approvals, IDirectoryProvider directory)
    {
        _approvals = approvals;
        _directory = directory;
    }

    private AuditLedger Ledger => _approvals.Ledger;

    /// <summary>The request's lock for an apply or undo; none for a preview (-WhatIf), which writes nothing, not even a lock file.</summary>
    private IDisposable LockRequest(string requestId, bool writes) =>
        writes ? _approvals.Store.LockRequest(requestId, RequestLockTimeout) : NoLock.Instance;

    private sealed class NoLock : IDisposable
    {
        public static readonly NoLock Instance = new();

        public void Dispose()
        {
        }
    }

    private static string Actor => Identities.CurrentUser;

    /// <summary>Checks everything an apply needs and plans it, writing nothing; a refusal is recorded and thrown.</summary>
    /// <param name="audit">Record a refusal in the ledger (not under -WhatIf, which writes nothing).</param>
    public PreparedChange PrepareApply(string requestId, bool audit = true)
    {
        var requestLock = LockRequest(requestId, audit);
        try
        {
            var request = _approvals.Get(requestId);
            if (request.Status == ApprovalStatus.Applying)
            {
                return PrepareRecovery(requestLock, request, rollBack: false);
            }

            var refusal = Refusal(request);
            ExposureReport? now = null;
            if (refusal is null)
            {
                now = ExposureEngine.Assess(State(request.Change), request.Change, _approvals.Policy);
                refusal = StaleOrBlocked(request, now);
            }

            if (refusal is not null)
            {
                if (audit)
                {
                    Record(new LedgerEvent(LedgerEvents.ApplyRefused, Actor, request.ChangeId, request.RequestId,
                        ApprovalService.Details($"apply refused: {refusal.ErrorId}", ("reason", refusal.ErrorId), ("message", refusal.Message))));
                }

                throw refusal;
            }

            var steps = request.Change.Operations.Select((op, i) => new PlannedStep(i, _directory.Plan(op))).ToList();
            return new PreparedChange(requestLock, requestId, request.Change, request, now, steps, null, false, null);
        }
        catch
        {
            requestLock.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Applies a prepared change: the write-ahead intent, each operation (asking <paramref name="confirm"/>
    /// immediately before it) and its entry, then the outcome. A failure or a "no" reverts what was applied.
    /// </summary>
    public ApplyResult Execute(PreparedChange prepared, Func<OperationPlan, bool> confirm, Action<string>? verbose = null)
    {
        var first = 0L;
        var applied = new Dictionary<int, AppliedOperation>();
        var recovered = new HashSet<int>();
        var change = prepared.Change;
        if (prepared.Recovering is { } dead)
        {
            foreach (var pair in dead.Applied)
            {
                applied[pair.Key] = pair.Value;
            }

            foreach (var step in prepared.Steps.Where(s => !applied.ContainsKey(s.Index)))
            {
                // Applied by the process that died, after its entry was due? The directory says.
                if (_directory.Recover(step.Plan) is { } found)
                {
                    applied[step.Index] = found;
                    recovered.Add(step.Index);
                }
            }

            first = Record(new LedgerEvent(LedgerEvents.ApplyRecovered, Actor, change.Id, prepared.RequestId, ApprovalService.Details(
                $"found the apply of entry {dead.IntentSequence} without an outcome ({applied.Count} of {prepared.Steps.Count} operation(s) in effect); " +
                (prepared.RollBackRecovery ? "rolling it back" : "completing it") + (prepared.RecoveryReason is null ? string.Empty : ": " + prepared.RecoveryReason),
                ("intent", dead.IntentSequence), ("decision", prepared.RollBackRecovery ? "rollBack" : "complete"), ("reason", prepared.RecoveryReason), ("lockTakenOver", prepared.LockTakenOver),
                ("inEffect", applied.Keys.OrderBy(k => k).Select(k => (object?)k).ToList()))));
            foreach (var index in recovered.OrderBy(i => i))
            {
                RecordApplied(change, prepared.RequestId, index, applied[index], recoveredStep: true);
            }

            if (prepared.RollBackRecovery)
            {
                return RollBack(prepared, applied, recovered, first, prepared.RecoveryReason ?? "rolled back on recovery");
            }
        }
        else
        {
            if (prepared.LockLost)
            {
                // Taken over between the checks and the intent: nothing was written, and the other worker decides.
                Record(new LedgerEvent(LedgerEvents.ApplyRefused, Actor, change.Id, prepared.RequestId, ApprovalService.Details(
                    "apply refused: RequestLockLost before its first operation", ("reason", "RequestLockLost"), ("message", LockLostMessage(prepared, "before its first operation", false)))));
                throw LockLost(prepared, "before its first operation", false);
            }

            first = Record(Intent(prepared));
        }

        FaultInjection.Point("Apply.IntentWritten");
        foreach (var step in prepared.Steps)
        {
            if (applied.ContainsKey(step.Index))
            {
                continue;
            }

            bool confirmed;
            try
            {
                confirmed = confirm(step.Plan);
            }
            catch (Exception e) when (e is not GovernanceException)
            {
                // The host could not ask (a runbook without -Force), or the prompt was stopped: nothing stays half-applied.
                RollBack(prepared, applied, recovered, first, $"operation {step.Index + 1} ({step.Plan.Operation}) could not be confirmed: {e.Message}");
                throw;
            }

            if (!confirmed)
            {
                return RollBack(prepared, applied, recovered, first, $"operation {step.Index + 1} ({step.Plan.Operation}) was declined");
            }

            StopIfLockLost(prepared, step.Index, "apply", applied.Count(a => a.Value.Changed));
            AppliedOperation done;
            try
            {
                done = _directory.Apply(step.Plan);
            }
            catch (GovernanceException e)
            {
                Record(new LedgerEvent(LedgerEvents.ApplyFailed, Actor, change.Id, prepared.RequestId, ApprovalService.Details(
                    $"operation {step.Index + 1} failed: {e.ErrorId}: {e.Message}", ("index", step.Index), ("errorId", e.ErrorId), ("message", e.Message))));
                RollBack(prepared, applied, recovered, first, $"operation {step.Index + 1} ({step.Plan.Operation}) failed: {e.Message}");
                throw new GovernanceException("ApplyFailed", e.Kind,
                    $"Applying request {prepared.RequestId} failed at operation {step.Index + 1} ({step.Plan.Operation}): {e.Message} " +
                    $"The {applied.Count(a => a.Value.Changed)} operation(s) applied before it were reverted; the ledger says so.", prepared.RequestId, e);
            }

            applied[step.Index] = done;
            FaultInjection.Point($"Apply.Operation{step.Index + 1}.Applied");
            RecordApplied(change, prepared.RequestId, step.Index, done, recoveredStep: false);
            verbose?.Invoke($"Applied {step.Plan.Operation}{(done.Changed ? string.Empty : " (already in effect: nothing changed)")}.");
            FaultInjection.Point($"Apply.Operation{step.Index + 1}.Recorded");
        }

        DateTimeOffset? expires = change.DurationTimeSpan is { } d ? GovernanceClock.UtcNow + d : null;
        var last = Record(new LedgerEvent(LedgerEvents.ApplyCompleted, Actor, change.Id, prepared.RequestId, ApprovalService.Details(
            $"applied: {applied.Count(a => a.Value.Changed)} of {prepared.Steps.Count} operation(s) changed {_directory.Location}" +
            (expires is null ? string.Empty : $"; in effect until {GovernanceClock.Format(expires.Value)}"),
            ("changed", applied.Count(a => a.Value.Changed)), ("accessExpiresAt", expires is null ? null : GovernanceClock.Format(expires.Value)),
            ("recovered", prepared.Recovering is not null))));
        FaultInjection.Point("Apply.Completed");
        return Result(prepared, "Apply", ApplyOutcome.Applied, applied, recovered, new HashSet<int>(), expires, first, last, null);
    }

    /// <summary>Checks an undo (or expiry) and makes it ready; a refusal is recorded and thrown.</summary>
    public PreparedChange PrepareUndo(string requestId, string trigger, bool audit = true)
    {
        var requestLock = LockRequest(requestId, audit);
        try
        {
            var request = _approvals.Get(requestId);
            if (request.Status == ApprovalStatus.Applying)
            {
                // An apply that died midway: undoing it means rolling back what it applied.
                return PrepareRecovery(requestLock, request, rollBack: true);
            }

            GovernanceException? refusal = request.Status switch
            {
                ApprovalStatus.Applied => null,
                ApprovalStatus.Undone => new("AlreadyUndone", GovernanceErrorKind.InvalidOperation, $"Request {requestId} was already undone.", requestId),
                _ => new("NotApplied", GovernanceErrorKind.InvalidOperation, $"Request {requestId} is {request.Status}: it was never applied, so there is nothing to undo.", requestId),
            };
            if (refusal is null && trigger == "undo")
            {
                var plan = UndoPlan.Of(request.History!.LastApply!);
                if (plan.Immediate.Count == 0 && plan.Withheld.Count > 0)
                {
                    refusal = new GovernanceException("UndoWidensAccess", GovernanceErrorKind.PermissionDenied,
                        $"Undoing request {requestId} would only widen access again ({plan.Describe()}), and nobody approved that: " +
                        "request approval for the inverse change instead (New-AccessChange with those operations, then Request-HumanApproval).", requestId);
                }
                else if (!_approvals.Policy.EmergencyRevocation)
                {
                    refusal = new GovernanceException("EmergencyRevocationDisabled", GovernanceErrorKind.PermissionDenied,
                        $"The policy does not allow reducing access without approval (EmergencyRevocation = $false): request approval for the inverse of {requestId}.", requestId);
                }
            }

            var attempt = request.History!.LastApply;
            if (refusal is null && attempt?.ProviderLocation is { } where && where != _directory.Location)
            {
                refusal = new GovernanceException("DirectoryMismatch", GovernanceErrorKind.InvalidOperation,
                    $"Request {requestId} was applied to {where}, but this session's directory is {_directory.Location}. Connect to that directory to undo it.", requestId);
            }

            if (refusal is not null)
            {
                if (audit && refusal.ErrorId is not ("AlreadyUndone" or "NotApplied"))
                {
                    Record(new LedgerEvent(LedgerEvents.ApplyRefused, Actor, request.ChangeId, requestId,
                        ApprovalService.Details($"{trigger} refused: {refusal.ErrorId}", ("reason", refusal.ErrorId), ("message", refusal.Message), ("trigger", trigger))));
                }

                throw refusal;
            }

            return new PreparedChange(requestLock, requestId, request.Change, request, null, attempt!.Plan, attempt, false, trigger);
        }
        catch
        {
            requestLock.Dispose();
            throw;
        }
    }

    /// <summary>Reverts every operation the apply changed, last first (resuming an undo whose process died).</summary>
    public ApplyResult ExecuteUndo(PreparedChange prepared, string trigger, Func<AppliedOperation, bool> confirm)
    {
        if (prepared.RollBackRecovery)
        {
            return Execute(prepared, _ => true);
        }

        var attempt = prepared.Recovering!;
        var history = prepared.Request!.History!;
        var resumed = history.Undo is { Completed: false };
        var reverted = new HashSet<int>(resumed ? history.Undo!.Reverted : Enumerable.Empty<int>());
        var plan = UndoPlan.Of(attempt);
        var toRevert = plan.Immediate;
        var first = Record(new LedgerEvent(LedgerEvents.UndoStarted, Actor, prepared.Change.Id, prepared.RequestId, ApprovalService.Details(
            (trigger == "expiry" ? "access expired: " : "undo: ") + $"reverting {toRevert.Count} operation(s) on {_directory.Location}" + (resumed ? " (resuming an undo whose process died)" : string.Empty),
            ("trigger", trigger), ("resumed", resumed),
            ("operations", toRevert.Select(a => (object?)new Dictionary<string, object?> { ["index"] = a.Key, ["inverse"] = a.Value.Inverse!.ToDocument() }).ToList()),
            ("withheld", Withheld(plan)))));
        foreach (var pair in toRevert)
        {
            var (index, op) = (pair.Key, pair.Value);
            if (reverted.Contains(index))
            {
                continue;
            }

            if (!confirm(op))
            {
                throw new GovernanceException("UndoDeclined", GovernanceErrorKind.InvalidOperation,
                    $"Reverting {op.Inverse} was declined; request {prepared.RequestId} is partly undone. Run Undo-ApprovedChange again to finish.", prepared.RequestId);
            }

            StopIfLockLost(prepared, index, trigger, reverted.Count);
            _directory.Revert(op);
            reverted.Add(index);
            RecordReverted(prepared, index, op, "undo");
            FaultInjection.Point($"Undo.Operation{index + 1}.Reverted");
        }

        var last = Record(new LedgerEvent(LedgerEvents.UndoCompleted, Actor, prepared.Change.Id, prepared.RequestId, ApprovalService.Details(
            (trigger == "expiry" ? "access expired and was reverted" : "undone") + $": {toRevert.Count} operation(s) reverted" +
            (plan.Withheld.Count == 0 ? string.Empty : $"; {plan.Withheld.Count} withheld, since reverting them would widen access without approval: {plan.Describe()}"),
            ("trigger", trigger), ("reverted", toRevert.Count), ("withheld", Withheld(plan)))));
        var result = Result(prepared, trigger == "expiry" ? "Expiry" : "Undo", ApplyOutcome.Undone, attempt.Applied, new HashSet<int>(), reverted, null, first, last, null);
        result.Withheld = plan.Withheld.Select(w => w.Value.Inverse!).ToList();
        result.FollowUpChange = plan.FollowUp(prepared.RequestId, prepared.Change);
        return result;
    }

    /// <summary>
    /// A change that only reduces access, applied without an approval because the policy allows it (S9):
    /// audited like any apply, under its own id (<c>rev-…</c>).
    /// </summary>
    public PreparedChange PrepareEmergencyRevocation(AccessChange change, bool audit = true)
    {
        if (!change.NarrowsOnly)
        {
            throw new GovernanceException("ApprovalRequired", GovernanceErrorKind.PermissionDenied,
                "Only a change that reduces access (revoke, removeMember, setVisibility Private) can be applied without approval; this one can widen access. Request approval for it.", change.Id);
        }

        if (!_approvals.Policy.EmergencyRevocation)
        {
            throw new GovernanceException("EmergencyRevocationDisabled", GovernanceErrorKind.PermissionDenied,
                "The policy does not allow reducing access without approval (EmergencyRevocation = $false): request approval for this change.", change.Id);
        }

        var id = ApprovalService.NewRequestId("rev", GovernanceClock.UtcNow);
        var requestLock = LockRequest(id, audit);
        try
        {
            var now = ExposureEngine.Assess(State(change), change, _approvals.Policy);
            var steps = change.Operations.Select((op, i) => new PlannedStep(i, _directory.Plan(op))).ToList();
            if (audit)
            {
                Record(new LedgerEvent(LedgerEvents.EmergencyRevocation, Actor, change.Id, id, ApprovalService.Details(
                $"EMERGENCY REVOCATION without approval: {change.Title ?? change.ToString()} ({now.PrincipalsLost} principal(s) lose access)",
                ("title", change.Title), ("requestedBy", change.RequestedBy), ("operations", change.Operations.Select(o => (object?)o.ToString()).ToList()),
                ("principalsLost", now.PrincipalsLost))));
            }

            return new PreparedChange(requestLock, id, change, null, now, steps, null, false, null);
        }
        catch
        {
            requestLock.Dispose();
            throw;
        }
    }

    /// <summary>Every applied change whose time is up, reverted (idempotent: run it as often as you like).</summary>
    public IEnumerable<(ApprovalRequest Request, GovernanceException? Skipped)> Expired()
    {
        var now = GovernanceClock.UtcNow;
        foreach (var request in _approvals.List())
        {
            if (request.Status == ApprovalStatus.Applied && request.AccessExpiresAt is { } at && at <= now)
            {
                var where = request.History!.LastApply!.ProviderLocation;
                yield return (request, where is not null && where != _directory.Location
                    ? new GovernanceException("DirectoryMismatch", GovernanceErrorKind.InvalidOperation,
                        $"Request {request.RequestId} expired at {GovernanceClock.Format(at)} but was applied to {where}, not to this session's directory {_directory.Location}; connect to it to revert it.", request.RequestId)
                    : null);
            }
        }
    }

    private PreparedChange PrepareRecovery(IDisposable requestLock, ApprovalRequest request, bool rollBack)
    {
        var attempt = request.History!.LastApply!;
        string? reason = rollBack ? "Undo-ApprovedChange was asked to undo it" : null;
        if (!rollBack)
        {
            // Complete only what is still approved and no worse than approved; else roll back.
            var refusal = request.PolicyChanged ? PolicyChanged(request)
                : GovernanceClock.UtcNow > request.ExpiresAt
                ? new GovernanceException("ApprovalExpired", GovernanceErrorKind.InvalidOperation, "its approval expired", request.RequestId)
                : request.Approvals < request.RequiredApprovals
                    ? new GovernanceException("QuorumNotMet", GovernanceErrorKind.PermissionDenied, "its quorum is no longer met", request.RequestId)
                    : StaleOrBlocked(request, ExposureEngine.Assess(State(request.Change), request.Change, _approvals.Policy));
            if (refusal is not null)
            {
                rollBack = true;
                reason = $"{refusal.ErrorId}: {refusal.Message}";
            }
        }

        return new PreparedChange(requestLock, request.RequestId, request.Change, request, null, attempt.Plan, attempt, rollBack, reason);
    }

    /// <summary>Why an approved request cannot be applied as it stands, or null (S1, S4).</summary>
    private GovernanceException? Refusal(ApprovalRequest r)
    {
        GovernanceException Refuse(string id, GovernanceErrorKind kind, string message) => new(id, kind, message, r.RequestId);
        return r.Status switch
        {
            ApprovalStatus.Invalid => Refuse("RequestTampered", GovernanceErrorKind.SecurityError,
                $"Request {r.RequestId} is not the request that was opened ({string.Join("; ", r.Problems)}); nothing is applied."),
            ApprovalStatus.Denied => Refuse("RequestDenied", GovernanceErrorKind.PermissionDenied,
                $"Request {r.RequestId} was denied by {string.Join(", ", r.DeniedBy)}; it cannot be applied."),
            ApprovalStatus.Expired => Refuse("ApprovalExpired", GovernanceErrorKind.PermissionDenied,
                $"The approvals of request {r.RequestId} expired at {GovernanceClock.Format(r.ExpiresAt)}; request approval again."),
            ApprovalStatus.Pending => Refuse("QuorumNotMet", GovernanceErrorKind.PermissionDenied,
                $"Request {r.RequestId} has {r.Quorum} valid approvals; it needs {r.RequiredApprovals} from distinct eligible approvers before it can be applied."),
            ApprovalStatus.Applied or ApprovalStatus.Undone => Refuse("AlreadyApplied", GovernanceErrorKind.InvalidOperation,
                $"Request {r.RequestId} was already applied ({r.Status}); an approval is used once. Request approval again to apply the change again."),
            _ when r.PolicyChanged => PolicyChanged(r),
            _ => r.StoreId == _approvals.Store.StoreId && r.Exposure.TenantId == _directory.TenantId ? null
                : Refuse("DirectoryMismatch", GovernanceErrorKind.InvalidOperation,
                    $"Request {r.RequestId} was assessed on tenant {r.Exposure.TenantId}, but this session's directory is {_directory.TenantId} ({_directory.Location})."),
        };
    }

    /// <summary>A request is applied only under the policy it was opened with (its fingerprint).</summary>
    private GovernanceException PolicyChanged(ApprovalRequest r) => new("PolicyChanged", GovernanceErrorKind.PermissionDenied,
        $"The policy changed since request {r.RequestId} was opened (fingerprint {r.PolicyFingerprint}, now {_approvals.Policy.Fingerprint}): " +
        "its approvals were given under the other policy and do not count under this one. Nothing was applied; open a new request (Request-HumanApproval).", r.RequestId);

    /// <summary>S5: refuses when the exposure on current state is worse than the approved one, or now blocked.</summary>
    private GovernanceException? StaleOrBlocked(ApprovalRequest request, ExposureReport now)
    {
        if (now.Blocked && !request.BreakGlass)
        {
            return new GovernanceException("ChangeBlocked", GovernanceErrorKind.PermissionDenied,
                $"On the directory as it is now, policy blocks this change outright ({string.Join(", ", now.BlockingRules)}).", request.RequestId);
        }

        var reasons = StaleApproval.Reasons(request.Exposure, now);
        var needed = now.RequiredApprovals + (request.BreakGlass ? _approvals.Policy.BreakGlassExtraApprovals : 0);
        if (request.Approvals < needed)
        {
            reasons.Add($"it now needs {needed} approval(s) and has {request.Approvals}");
        }

        return reasons.Count == 0 ? null : new GovernanceException("ApprovalStale", GovernanceErrorKind.PermissionDenied,
            $"The directory changed since request {request.RequestId} was approved, and the change is now worse than what the approvers saw: " +
            string.Join("; ", reasons) + ". Nothing was applied; request approval again (the new request shows the current exposure).", request.RequestId);
    }

    /// <summary>
    /// Issue 14: a worker whose request lease was lost (another took the request over once it expired)
    /// stops before its next directory write. It records where it stopped (ApplyFailed, RequestLockLost) and
    /// neither rolls back nor finishes: the apply (or undo) stays in progress in the ledger, and whoever
    /// holds the request now completes or rolls it back (the recovery of an apply whose process died).
    /// A write already sent when the lease ran out cannot be called back; the recovery reads the directory.
    /// </summary>
    private void StopIfLockLost(PreparedChange p, int index, string phase, int done)
    {
        if (!p.LockLost)
        {
            return;
        }

        var where = $"before operation {index + 1} of its {phase} ({done} written)";
        Record(new LedgerEvent(LedgerEvents.ApplyFailed, Actor, p.Change.Id, p.RequestId, ApprovalService.Details(
            $"stopped {where}: the request's lease was lost (another worker took the request over, or the lease could not be renewed)",
            ("index", index), ("phase", phase), ("errorId", "RequestLockLost"), ("message", LockLostMessage(p, where, true)))));
        throw LockLost(p, where, true);
    }

    private static string LockLostMessage(PreparedChange p, string where, bool started) =>
        $"The lease on request {p.RequestId} was lost (another worker took the request over, or the lease could not be renewed in time), so this worker stopped {where}. " +
        (started
            ? "Nothing more was written; the ledger says where it stopped, and whoever holds the request now completes or rolls it back (run the command again once it is free)."
            : "Nothing was written to the directory; run the command again once the request is free.");

    private static GovernanceException LockLost(PreparedChange p, string where, bool started) =>
        new("RequestLockLost", GovernanceErrorKind.InvalidOperation, LockLostMessage(p, where, started), p.RequestId);

    private LedgerEvent Intent(PreparedChange p)
    {
        var now = p.Reassessed;
        return new LedgerEvent(LedgerEvents.ApplyStarted, Actor, p.Change.Id, p.RequestId, ApprovalService.Details(
            $"applying {p.Steps.Count} operation(s) to {_directory.Location}" + (now is null ? string.Empty : $" (now {now.RiskLevel}: {now.PrincipalsGained} principal(s) gain access)"),
            ("providerKind", _directory.Kind), ("providerLocation", _directory.Location), ("tenant", _directory.TenantId),
            ("approvedBy", p.Request?.ApprovedBy.Select(a => (object?)a).ToList()), ("duration", p.Change.Duration),
            ("riskLevel", now?.RiskLevel.ToString()), ("principalsGained", now?.PrincipalsGained),
            ("operations", p.Steps.Select(s => (object?)new Dictionary<string, object?>
            {
                ["index"] = s.Index,
                ["operation"] = s.Plan.Operation.ToDocument(),
                ["alreadyInEffect"] = s.Plan.AlreadyInEffect,
                ["inverse"] = s.Plan.Inverse?.ToDocument(),
                ["state"] = s.Plan.State,
            }).ToList())));
    }

    private ApplyResult RollBack(PreparedChange p, Dictionary<int, AppliedOperation> applied, HashSet<int> recovered, long first, string reason)
    {
        var reverted = new HashSet<int>(p.Recovering?.RolledBackSteps ?? Enumerable.Empty<int>());
        var failures = new List<string>();
        foreach (var pair in applied.Where(a => a.Value.Changed).OrderByDescending(a => a.Key))
        {
            if (reverted.Contains(pair.Key))
            {
                continue;
            }

            StopIfLockLost(p, pair.Key, "rollback", reverted.Count);
            try
            {
                _directory.Revert(pair.Value);
                reverted.Add(pair.Key);
                RecordReverted(p, pair.Key, pair.Value, "rollback");
            }
            catch (GovernanceException e)
            {
                failures.Add($"{pair.Value.Inverse}: {e.Message}");
            }
        }

        if (failures.Count > 0)
        {
            Record(new LedgerEvent(LedgerEvents.ApplyFailed, Actor, p.Change.Id, p.RequestId, ApprovalService.Details(
                $"ROLLBACK INCOMPLETE: {failures.Count} operation(s) could not be reverted", ("failures", failures.Select(f => (object?)f).ToList()))));
            throw new GovernanceException("RollbackIncomplete", GovernanceErrorKind.WriteError,
                $"Request {p.RequestId} was being rolled back ({reason}), and these could not be reverted: {string.Join("; ", failures)}. " +
                "The directory holds part of the change: run Undo-ApprovedChange again, or revert them by hand.", p.RequestId);
        }

        var last = Record(new LedgerEvent(LedgerEvents.ApplyRolledBack, Actor, p.Change.Id, p.RequestId, ApprovalService.Details(
            $"rolled back: {reason}; {reverted.Count} operation(s) reverted", ("reason", reason), ("reverted", reverted.Count))));
        return Result(p, "Apply", ApplyOutcome.RolledBack, applied, recovered, reverted, null, first == 0 ? last : first, last, reason);
    }

    private void RecordApplied(AccessChange change, string requestId, int index, AppliedOperation done, bool recoveredStep) =>
        Record(new LedgerEvent(LedgerEvents.OperationApplied, Actor, change.Id, requestId, ApprovalService.Details(
            $"{done.Operation}{(done.Changed ? string.Empty : " (already in effect: nothing changed)")}{(recoveredStep ? " (found applied after a crash)" : string.Empty)}",
            ("index", index), ("operation", done.Operation.ToDocument()), ("changed", done.Changed), ("inverse", done.Inverse?.ToDocument()),
            ("reference", done.Reference), ("recovered", recoveredStep ? true : null))));

    private void RecordReverted(PreparedChange p, int index, AppliedOperation op, string phase) =>
        Record(new LedgerEvent(LedgerEvents.OperationReverted, Actor, p.Change.Id, p.RequestId, ApprovalService.Details(
            $"reverted {op.Operation}: {op.Inverse}", ("index", index), ("phase", phase), ("operation", op.Inverse!.ToDocument()), ("reference", op.Reference))));

    private static List<object?>? Withheld(UndoPlan plan) =>
        plan.Withheld.Count == 0 ? null : plan.Withheld.Select(w => (object?)new Dictionary<string, object?> { ["index"] = w.Key, ["inverse"] = w.Value.Inverse!.ToDocument() }).ToList();

    private long Record(LedgerEvent e) => Ledger.Append(_approvals.Stamp(e)).Sequence;

    private ApplyResult Result(PreparedChange p, string action, ApplyOutcome outcome, IReadOnlyDictionary<int, AppliedOperation> applied, HashSet<int> recovered,
        HashSet<int> reverted, DateTimeOffset? expires, long first, long last, string? reason) =>
        new(p.RequestId, p.Change, action, outcome,
            p.Steps.Select(s => applied.TryGetValue(s.Index, out var a)
                ? new OperationOutcome(s.Index, a.Operation, a.Changed, a.Inverse, a.Reference, reverted.Contains(s.Index), recovered.Contains(s.Index))
                : new OperationOutcome(s.Index, s.Plan.Operation, false, null, null, false, false)),
            expires, first, last, _directory.Location, p.Recovering is not null && action == "Apply", reason);
}
