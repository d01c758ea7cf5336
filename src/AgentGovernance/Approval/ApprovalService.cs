using System;
using System.Collections.Generic;
using System.Linq;
using System.Security.Cryptography;
using AgentGovernance.Changes;
using AgentGovernance.Directory;
using AgentGovernance.Exposure;
using AgentGovernance.Ledger;
using AgentGovernance.Policy;
using AgentGovernance.Stores;

namespace AgentGovernance.Approval;

/// <summary>What <see cref="ApprovalService.Open"/> needs besides the change.</summary>
internal sealed class OpenRequestOptions
{
    public string? RequestedBy { get; set; }

    public TimeSpan? ExpiresIn { get; set; }

    /// <summary>Set to take the break-glass path for a change policy blocks: more approvals, from break-glass approvers only.</summary>
    public string? BreakGlassReason { get; set; }

    public string DirectoryKind { get; set; } = "snapshot";

    public string? DirectoryLocation { get; set; }
}

/// <summary>
/// Opens approval requests, records signed decisions and works out whether a request has its quorum.
/// Every step is in the ledger. The rules (S1-S4, S6) live here, not in the cmdlets.
/// </summary>
internal sealed partial class ApprovalService : IDisposable
{
    private readonly GovernanceHandle _handle;
    private readonly IGovernanceStore _store;
    private readonly GovernancePolicy _policy;
    private readonly AccessSnapshot? _snapshot;
    private readonly Identities _identities;
    private readonly LedgerSigner? _signer;

    /// <param name="signer">The ledger signer; null opens the store read-only (a ledger that does not verify is then shown, never used to write).</param>
    /// <param name="witnessPath">This machine's witness for the store (default: the signer's).</param>
    public ApprovalService(IGovernanceStore store, LedgerSigner? signer, GovernancePolicy policy, AccessSnapshot? snapshot, string? witnessPath = null)
        : this(GovernanceHandle.Over(store, signer, policy, snapshot, witnessPath))
    {
    }

    /// <summary>The approvals of an opened store (<see cref="GovernanceHandle.Approvals"/>); disposing the service disposes the handle.</summary>
    internal ApprovalService(GovernanceHandle handle)
    {
        _handle = handle;
        _store = handle.Store;
        _signer = handle.Signer;
        _policy = handle.Policy;
        _snapshot = handle.Snapshot;
        _identities = new Identities(_snapshot, _policy);
        Ledger = new AuditLedger(_store, _signer, _policy.LedgerSigners, handle.WitnessPath);
    }

    /// <summary>What the last read of the ledger found (null before the first).</summary>
    public LedgerVerification? LedgerVerification { get; private set; }

    public AuditLedger Ledger { get; }

    public GovernancePolicy Policy => _policy;

    public IGovernanceStore Store => _store;

    /// <summary>The store, signer, witness and policy this service works through.</summary>
    public GovernanceHandle Handle => _handle;

    public void Dispose() => _handle.Dispose();

    /// <summary>How many visible letters or digits a break-glass reason needs (grapheme clusters; see <see cref="IdentityText.VisibleLetters"/>).</summary>
    internal const int BreakGlassReasonLetters = 10;

    /// <summary>Opens a request for a change whose exposure was assessed in <paramref name="report"/>.</summary>
    public ApprovalRequest Open(ExposureReport report, OpenRequestOptions options)
    {
        var change = report.Change;
        var requesterIdentity = _identities.Rules.Requester(change, options.RequestedBy, Identities.CurrentUser);
        var requester = change.RequestedBy ?? options.RequestedBy?.Trim() ?? Identities.CurrentUser;
        var parties = _identities.Rules.Parties(requesterIdentity, change);
        if (change.DurationTimeSpan is { } duration && duration > _policy.MaxDurationTimeSpan)
        {
            throw new GovernanceException("DurationTooLong", GovernanceErrorKind.InvalidArgument,
                $"The change asks for {change.Duration}, longer than the policy allows ({_policy.MaxDuration}, MaxDuration). Shorten its duration.", change.Id);
        }

        var expiresIn = options.ExpiresIn ?? _policy.ApprovalExpiryTimeSpan;
        if (expiresIn <= TimeSpan.Zero || expiresIn > _policy.ApprovalExpiryTimeSpan)
        {
            throw new GovernanceException("ExpiryTooLong", GovernanceErrorKind.InvalidArgument,
                $"A request may stay open from a moment up to {_policy.ApprovalExpiry} (the policy's ApprovalExpiry); {expiresIn} is not allowed.", expiresIn);
        }

        var required = report.RequiredApprovals;
        var breakGlass = options.BreakGlassReason;
        if (report.Blocked)
        {
            if (breakGlass is null)
            {
                throw new GovernanceException("ChangeBlocked", GovernanceErrorKind.PermissionDenied,
                    $"Policy blocks this change outright ({string.Join(", ", report.BlockingRules)}): no number of approvals can lift a hard-deny. " +
                    "If this is an emergency, the break-glass path (-BreakGlass -Reason '...') needs more approvals from break-glass approvers and is marked in the ledger.", change.Id);
            }

            required += _policy.BreakGlassExtraApprovals;
        }
        else if (breakGlass is not null)
        {
            throw new GovernanceException("BreakGlassNotNeeded", GovernanceErrorKind.InvalidArgument,
                "Policy does not block this change, so there is no glass to break: request approval without -BreakGlass.", change.Id);
        }

        if (breakGlass is not null && IdentityText.VisibleLetters(breakGlass) < BreakGlassReasonLetters)
        {
            throw new GovernanceException("BreakGlassReasonRequired", GovernanceErrorKind.InvalidArgument,
                $"Break-glass needs a reason a person can act on later (at least {BreakGlassReasonLetters} visible letters or digits; spaces, punctuation and invisible characters do not count): what is on fire, and who asked.", change.Id);
        }

        var eligible = _policy.Approvers
            .Where(a => breakGlass is null || a.BreakGlass)
            .Where(a => ApproverProblem(a.Id, parties) is null)
            .Select(a => a.Id)
            .ToList();
        if (eligible.Count < required)
        {
            var who = _policy.Approvers.Count == 0
                ? "the policy lists no approvers (Approvers)"
                : $"only {eligible.Count} of the policy's {_policy.Approvers.Count} approver(s) may decide it" + (breakGlass is null ? string.Empty : " (break-glass approvers other than the requester and agents)");
            throw new GovernanceException("NotEnoughApprovers", GovernanceErrorKind.InvalidOperation,
                $"This change needs {required} approval(s), but {who}: it could never be approved. Add approvers to the policy.", change.Id);
        }

        var created = GovernanceClock.UtcNow;
        var expires = created + expiresIn;
        for (var attempt = 0; ; attempt++)
        {
            var id = NewRequestId("req", created);
            var document = ApprovalRequest.Build(id, _store.StoreId, change, report, required, eligible, requester, created, expires, breakGlass,
                _policy.Fingerprint, _policy.Source, options.DirectoryKind, options.DirectoryLocation, parties.ToDocument());
            var request = ApprovalRequest.Parse(document, id);
            using (_store.Lock(AuditLedger.LockTimeout))
            {
                Ledger.CheckHeadLocked();
                try
                {
                    _store.CreateRequest(id, document);
                }
                catch (GovernanceException e) when (e.ErrorId == "RequestExists" && attempt < 5)
                {
                    continue;
                }

                var events = new List<LedgerEvent>
                {
                    new(LedgerEvents.ChangeProposed, requester, change.Id, id, Details(
                        $"{change.Title ?? change.ToString()} (suggested by {change.SuggestedBy?.ToString() ?? "nobody named"})",
                        ("title", change.Title), ("suggestedBy", change.SuggestedBy?.ToString()), ("requestedBy", requester), ("duration", change.Duration),
                        ("operations", change.Operations.Select(o => (object?)o.ToString()).ToList()))),
                    new(LedgerEvents.RiskAssessed, requester, change.Id, id, Details(
                        $"{report.RiskLevel}{(report.Blocked ? " (blocked)" : string.Empty)}: {report.PrincipalsGained} principal(s) gain access to {report.ResourcesAffected} resource(s)",
                        ("riskLevel", report.RiskLevel.ToString()), ("blocked", report.Blocked), ("principalsGained", report.PrincipalsGained),
                        ("reportHash", request.ReportHash), ("findings", report.Findings.Select(f => (object?)$"{f.RuleId} {f.Severity} {f.ResourceId}").ToList()))),
                    new(LedgerEvents.ApprovalRequested, requester, change.Id, id, Details(
                        $"{required} approval(s) needed from {string.Join(", ", eligible)} by {GovernanceClock.Format(expires)}",
                        ("requestHash", request.RequestHash), ("requiredApprovals", required), ("eligibleApprovers", eligible.Select(e => (object?)e).ToList()),
                        ("expiresAt", GovernanceClock.Format(expires)), ("breakGlass", breakGlass is not null), ("policyFingerprint", _policy.Fingerprint))),
                };
                if (breakGlass is not null)
                {
                    events.Add(new(LedgerEvents.BreakGlassRequested, requester, change.Id, id, Details(
                        $"BREAK-GLASS requested for a change policy blocks ({string.Join(", ", report.BlockingRules)}): {breakGlass}",
                        ("reason", breakGlass), ("blockingRules", report.BlockingRules.Select(r => (object?)r).ToList()), ("requiredApprovals", required))));
                }

                AppendLocked(events);
            }

            return Evaluate(request, LedgerFacts(id));
        }
    }

    /// <summary>The request with its status worked out; RequestNotFound when the store has no such request.</summary>
    public ApprovalRequest Get(string requestId)
    {
        var bytes = _store.ReadRequest(requestId)
            ?? throw new GovernanceException("RequestNotFound", GovernanceErrorKind.ObjectNotFound, $"There is no approval request '{requestId}' in the store '{_store.Location}'.", requestId);
        return Evaluate(ApprovalRequest.Parse(bytes, requestId), LedgerFacts(requestId));
    }

    /// <summary>Every request in the store with its status (the ledger is read once).</summary>
    public IEnumerable<ApprovalRequest> List(Action<string, GovernanceException>? unreadable = null)
    {
        var facts = LedgerFacts(null);
        foreach (var id in _store.ListRequests())
        {
            ApprovalRequest request;
            try
            {
                request = ApprovalRequest.Parse(_store.ReadRequest(id) ?? Array.Empty<byte>(), id);
            }
            catch (GovernanceException e)
            {
                unreadable?.Invoke(id, e);
                continue;
            }

            yield return Evaluate(request, facts.TryGetValue(id, out var f) ? f : new RequestHistory());
        }
    }

    /// <summary>
    /// Refuses, with its own ErrorId, a decision <paramref name="approver"/> may not make on the request as
    /// it stands (and records the refusal in the ledger). Null when the decision may be made.
    /// </summary>
    public GovernanceException? CheckDecision(ApprovalRequest request, PolicyApprover? approver, string keyId, DecisionKind kind)
    {
        GovernanceException? Refuse(string id, GovernanceErrorKind k, string message) => new(id, k, message, request.RequestId);
        if (request.Status == ApprovalStatus.Invalid)
        {
            return Refuse("RequestTampered", GovernanceErrorKind.SecurityError,
                $"Request {request.RequestId} is not the request that was opened ({string.Join("; ", request.Problems)}); it cannot be decided. Open a new request.");
        }

        if (request.PolicyFingerprint != _policy.Fingerprint)
        {
            return Refuse("PolicyChanged", GovernanceErrorKind.InvalidOperation,
                $"The policy changed since request {request.RequestId} was opened (fingerprint {request.PolicyFingerprint}, now {_policy.Fingerprint}{(_policy.Source is null ? string.Empty : ", " + _policy.Source)}): " +
                "a request is decided and applied only under the policy it was opened with. Open a new request (Request-HumanApproval) under the current policy.");
        }

        if (approver is null)
        {
            return Refuse("ApproverNotEligible", GovernanceErrorKind.PermissionDenied,
                $"The key {keyId} is not an approver key the policy lists, so it cannot decide request {request.RequestId}. Add its public key to the policy's Approvers (New-ApproverKey prints the line).");
        }

        if (ApproverProblem(approver.Id, _identities.Rules.Parties(request)) is { } problem)
        {
            return Refuse(problem.Id, GovernanceErrorKind.PermissionDenied, problem.Message + $" ({request.RequestId})");
        }

        if (!request.EligibleApprovers.Any(e => _identities.Same(e, approver.Id)))
        {
            return Refuse("ApproverNotEligible", GovernanceErrorKind.PermissionDenied,
                $"{approver.Id} is not one of the approvers of request {request.RequestId} ({string.Join(", ", request.EligibleApprovers)}).");
        }

        if (request.BreakGlass && !approver.BreakGlass)
        {
            return Refuse("ApproverNotEligible", GovernanceErrorKind.PermissionDenied,
                $"Request {request.RequestId} is a break-glass request, and {approver.Id} is not a break-glass approver (BreakGlass = $true in the policy).");
        }

        if (request.Status == ApprovalStatus.Denied)
        {
            return Refuse("RequestDenied", GovernanceErrorKind.InvalidOperation,
                $"Request {request.RequestId} was denied by {string.Join(", ", request.DeniedBy)}; a denied request cannot be decided again. Open a new request if the change is still wanted.");
        }

        if (request.Status is ApprovalStatus.Applied or ApprovalStatus.Applying or ApprovalStatus.Undone)
        {
            return Refuse("AlreadyApplied", GovernanceErrorKind.InvalidOperation,
                $"Request {request.RequestId} was already used to apply its change ({request.Status}); it takes no more decisions.");
        }

        if (GovernanceClock.UtcNow > request.ExpiresAt)
        {
            return Refuse("ApprovalExpired", GovernanceErrorKind.InvalidOperation,
                $"Request {request.RequestId} expired at {GovernanceClock.Format(request.ExpiresAt)}; decisions after that do not count. Open a new request.");
        }

        if (request.Decisions.Any(d => d.Valid && _identities.Same(d.Approver, approver.Id)))
        {
            return Refuse("AlreadyDecided", GovernanceErrorKind.InvalidOperation,
                $"{approver.Id} already decided request {request.RequestId}; one approver counts once.");
        }

        return null;
    }

    /// <summary>
    /// Signs and records a decision. The request is read again under its lock and the store's, so a decision
    /// is never recorded on a request that was denied, expired or edited a moment before, nor counted
    /// against a quorum that another process is changing (the request lock spans processes; on a table
    /// store the store's lock does not).
    /// </summary>
    public ApprovalRequest Decide(string requestId, SigningKey key, DecisionKind kind, string? comment)
    {
        var approver = _policy.FindApproverByKey(key.PublicKey.KeyId);
        using (var requestLock = _store.LockRequest(requestId, AuditLedger.LockTimeout))
        using (_store.Lock(AuditLedger.LockTimeout))
        {
            var request = Get(requestId);
            var refusal = CheckDecision(request, approver, key.PublicKey.KeyId, kind);
            if (refusal is not null)
            {
                RecordRefusalLocked(request.RequestId, request.ChangeId, approver?.Id ?? key.PublicKey.KeyId, kind, refusal);
                throw refusal;
            }

            // A lease lost meanwhile (issue 14): another decider may be counting this quorum right now.
            if (requestLock is IRequestLock { Lost: true })
            {
                throw new GovernanceException("RequestLockLost", GovernanceErrorKind.InvalidOperation,
                    $"The lease on request {request.RequestId} was lost before the decision was recorded (another process took the request over, or the lease could not be renewed in time); nothing was signed or recorded. Decide again.", request.RequestId);
            }

            Ledger.CheckHeadLocked();
            var decision = ApprovalDecision.Sign(key, request, kind, approver!.Id, GovernanceClock.UtcNow, comment);
            _store.AddDecision(request.RequestId, decision.DecisionId, decision.Document);
            var after = Evaluate(request, request.History!, extraRecorded: decision.Hash);
            var summary = kind == DecisionKind.Approve
                ? $"approved by {approver.Id}: {after.Quorum} ({(after.QuorumMet ? "quorum met" : "quorum not yet met")})"
                : $"denied by {approver.Id}";
            AppendLocked(new[]
            {
                new LedgerEvent(kind == DecisionKind.Approve ? LedgerEvents.Approved : LedgerEvents.Denied, approver.Id, request.ChangeId, request.RequestId, Details(
                    summary + (comment is null ? string.Empty : ": " + comment),
                    ("decisionId", decision.DecisionId), ("decisionHash", decision.Hash), ("keyId", decision.KeyId), ("comment", comment),
                    ("approvals", after.Approvals), ("requiredApprovals", after.RequiredApprovals), ("quorumMet", after.QuorumMet), ("breakGlass", request.BreakGlass))),
            });
            return Get(requestId);
        }
    }

    /// <summary>Records a refused decision (who tried, and why) so that attempts are audited too.</summary>
    public void RecordRefusal(string requestId, string? changeId, string actor, DecisionKind kind, GovernanceException refusal)
    {
        using (_store.Lock(AuditLedger.LockTimeout))
        {
            RecordRefusalLocked(requestId, changeId, actor, kind, refusal);
        }
    }

    /// <summary>Records that a request ran out of time (once).</summary>
    public void RecordExpired(ApprovalRequest request)
    {
        using (_store.Lock(AuditLedger.LockTimeout))
        {
            var facts = LedgerFacts(request.RequestId);
            if (facts.TryGetValue(request.RequestId, out var f) && f.Expired)
            {
                return;
            }

            AppendLocked(new[]
            {
                new LedgerEvent(LedgerEvents.Expired, Identities.CurrentUser, request.ChangeId, request.RequestId, Details(
                    $"expired at {GovernanceClock.Format(request.ExpiresAt)} with {request.Quorum} approval(s)",
                    ("expiresAt", GovernanceClock.Format(request.ExpiresAt)), ("approvals", request.Approvals), ("requiredApprovals", request.RequiredApprovals))),
            });
        }
    }

    private void RecordRefusalLocked(string requestId, string? changeId, string actor, DecisionKind kind, GovernanceException refusal) =>
        AppendLocked(new[]
        {
            new LedgerEvent(LedgerEvents.ApprovalRefused, actor, changeId, requestId, Details(
                $"{(kind == DecisionKind.Approve ? "approval" : "denial")} by {actor} refused: {refusal.ErrorId}",
                ("decision", kind == DecisionKind.Approve ? "approve" : "deny"), ("reason", refusal.ErrorId), ("message", refusal.Message))),
        });

    /// <summary>Why <paramref name="approver"/> can never decide a change of these parties (S2), or null.</summary>
    private (string Id, string Message)? ApproverProblem(string approver, ChangeParties parties) => _identities.Rules.Problem(approver, parties);

    /// <summary>Works out the status of a request from its decisions and what the ledger recorded about it.</summary>
    private ApprovalRequest Evaluate(ApprovalRequest request, Dictionary<string, RequestHistory> facts, string? extraRecorded = null) =>
        Evaluate(request, facts.TryGetValue(request.RequestId, out var f) ? f : new RequestHistory(), extraRecorded);

    private ApprovalRequest Evaluate(ApprovalRequest request, RequestHistory facts, string? extraRecorded = null)
    {
        var problems = new List<string>();
        if (facts.RequestHash is null)
        {
            problems.Add("RequestNotRecorded: the ledger has no ApprovalRequested entry for it");
        }
        else if (facts.RequestHash != request.RequestHash)
        {
            problems.Add("RequestTampered: the stored request was changed after it was opened (its hash differs from the one in the ledger)");
        }

        if (request.StoreId != _store.StoreId)
        {
            problems.Add($"RequestTampered: the request belongs to store {request.StoreId}, not this one");
        }

        if (LedgerVerification is { IsValid: false } bad)
        {
            problems.Add($"LedgerTampered: the ledger does not verify ({bad.Problem} at entry {bad.FirstBadSequence}), so no state is derived from it past entry {bad.FirstBadSequence - 1}");
        }

        var checks = new List<DecisionCheck>();
        var counted = new HashSet<string>(StringComparer.Ordinal);
        var stored = new HashSet<string>(StringComparer.Ordinal);
        foreach (var bytes in _store.ReadDecisions(request.RequestId))
        {
            ApprovalDecision decision;
            try
            {
                decision = ApprovalDecision.Parse(bytes);
            }
            catch (FormatException)
            {
                continue;
            }

            stored.Add(decision.Hash);

            var (id, why) = Check(request, decision, facts, extraRecorded);
            if (id is null && !counted.Add(_identities.Key(decision.Approver)))
            {
                (id, why) = ("AlreadyDecided", $"{decision.Approver} decided this request before; one approver counts once.");
            }

            checks.Add(new DecisionCheck(decision, id, why));
        }

        // A decision the ledger records is part of the request's state: its file gone (or unreadable) is tampering, never absence.
        foreach (var recorded in facts.Decisions.Where(h => !stored.Contains(h)).OrderBy(h => h, StringComparer.Ordinal))
        {
            problems.Add($"DecisionMissing: the ledger records decision {recorded} ({(facts.Denials.Contains(recorded) ? "a denial" : "an approval")}), but the store has no readable decision file with that hash");
        }

        checks.Sort((a, b) => a.Time.CompareTo(b.Time));
        request.Decisions = checks;
        request.Problems = problems;
        request.History = facts;
        request.PolicyChanged = request.PolicyFingerprint != _policy.Fingerprint;
        var approvals = request.Approvals;
        request.Status = problems.Count > 0 ? ApprovalStatus.Invalid
            : facts.IsUndone ? ApprovalStatus.Undone
            : facts.IsApplied ? ApprovalStatus.Applied
            : facts.LastApply is { InProgress: true } ? ApprovalStatus.Applying
            : checks.Any(c => c.Valid && c.Kind == DecisionKind.Deny) ? ApprovalStatus.Denied
            : GovernanceClock.UtcNow > request.ExpiresAt ? ApprovalStatus.Expired
            : approvals >= request.RequiredApprovals ? ApprovalStatus.Approved
            : ApprovalStatus.Pending;
        return request;
    }

    /// <summary>Why a stored decision does not count for a request (an ErrorId and a message), or (null, null).</summary>
    private (string? Id, string? Why) Check(ApprovalRequest request, ApprovalDecision d, RequestHistory facts, string? extraRecorded)
    {
        if (d.RequestId != request.RequestId || d.RequestHash != request.RequestHash || d.ChangeId != request.ChangeId || d.ReportHash != request.ReportHash)
        {
            return ("DecisionReplayed", $"The decision of {d.Approver} was made for another request, change or exposure report ({d.RequestId}, {d.ChangeId}).");
        }

        var approver = _policy.FindApproverByKey(d.KeyId);
        if (approver is null)
        {
            return ("ApproverNotEligible", $"The decision is signed with {d.KeyId}, a key the policy does not list for any approver.");
        }

        var key = approver.Keys.First(k => k.KeyId == d.KeyId);
        if (!_identities.Same(approver.Id, d.Approver) || !d.VerifiedBy(key))
        {
            return ("SignatureInvalid", $"The decision names {d.Approver}, but its signature does not verify with {approver.Id}'s key {d.KeyId}.");
        }

        if (ApproverProblem(approver.Id, _identities.Rules.Parties(request)) is { } problem)
        {
            return (problem.Id, problem.Message);
        }

        if (!request.EligibleApprovers.Any(e => _identities.Same(e, approver.Id)) || (request.BreakGlass && !approver.BreakGlass))
        {
            return ("ApproverNotEligible", $"{approver.Id} is not one of the request's approvers.");
        }

        if (d.Time > request.ExpiresAt || d.Time < request.CreatedAt)
        {
            return ("ApprovalExpired", $"The decision is dated {GovernanceClock.Format(d.Time)}, outside the request's window ({GovernanceClock.Format(request.CreatedAt)} to {GovernanceClock.Format(request.ExpiresAt)}).");
        }

        if (!facts.Decisions.Contains(d.Hash) && d.Hash != extraRecorded)
        {
            return ("DecisionNotRecorded", "The decision is in the store but not in the ledger, so it was not made through Approve-AccessChange or Deny-AccessChange.");
        }

        return (null, null);
    }

    /// <summary>The entry with the fingerprint of the policy its step runs under (every step records it).</summary>
    internal LedgerEvent Stamp(LedgerEvent e)
    {
        if (e.Details.ContainsKey("policyFingerprint"))
        {
            return e;
        }

        var details = e.Details.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        details["policyFingerprint"] = _policy.Fingerprint;
        return new LedgerEvent(e.Event, e.Actor, e.ChangeId, e.RequestId, details);
    }

    private void AppendLocked(IEnumerable<LedgerEvent> events) => Ledger.AppendLocked(events.Select(Stamp).ToList());

    /// <summary>What the ledger says about each request (or one).</summary>
    /// <remarks>
    /// Only from the verified ledger: every entry chained and signed by a trusted ledger signer, the
    /// checkpoints and this machine's witness agreeing. A service that writes refuses a ledger that does not
    /// verify (LedgerTampered); a read-only one reads the entries up to the first that does not verify and
    /// marks every request Invalid, so that Get-ApprovalRequest keeps showing what there is.
    /// </remarks>
    internal Dictionary<string, RequestHistory> LedgerFacts(string? requestId)
    {
        var (entries, result) = Ledger.ReadVerified();
        LedgerVerification = result;
        if (!result.IsValid && _signer is not null)
        {
            throw AuditLedger.Tampered(result, "no request's state is read from it, and nothing was written");
        }

        return RequestHistory.Read(entries, requestId);
    }

    /// <summary>A request id: <c>req-</c> (or <c>rev-</c> for an emergency revocation), the UTC date, eight random hex digits.</summary>
    internal static string NewRequestId(string prefix, DateTimeOffset now)
    {
        var b = new byte[4];
        using var rng = RandomNumberGenerator.Create();
        rng.GetBytes(b);
        return prefix + "-" + now.UtcDateTime.ToString("yyyyMMdd", System.Globalization.CultureInfo.InvariantCulture) + "-" + Json.Hashing.ToHex(b);
    }

    internal static Dictionary<string, object?> Details(string summary, params (string Key, object? Value)[] values)
    {
        var d = new Dictionary<string, object?> { ["summary"] = summary, ["ranBy"] = Identities.CurrentUser };
        foreach (var (key, value) in values)
        {
            if (value is not null)
            {
                d[key] = value;
            }
        }

        return d;
    }
}
