using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Linq;
using AgentGovernance.Approval;

namespace AgentGovernance.Policy;

/// <summary>Someone the policy allows to approve or deny changes, with the public keys their decisions must verify against.</summary>
public sealed class PolicyApprover
{
    internal PolicyApprover(string id, IReadOnlyList<PublicKey> keys, bool breakGlass)
    {
        Id = id;
        Keys = new ReadOnlyCollection<PublicKey>(keys.ToArray());
        BreakGlass = breakGlass;
    }

    /// <summary>The approver's identity as the policy names it: a user principal name or a principal id.</summary>
    public string Id { get; }

    public IReadOnlyList<PublicKey> Keys { get; }

    /// <summary>Whether this approver may approve a break-glass request (one that policy would otherwise block).</summary>
    public bool BreakGlass { get; }

    public override string ToString() => Id;
}

/// <summary>The approval side of a policy: who approves, how long requests stay open, break-glass, emergency revocation, ledger signers.</summary>
internal sealed class ApprovalSettings
{
    public ApprovalSettings(IReadOnlyList<PolicyApprover> approvers, TimeSpan approvalExpiry, TimeSpan maxDuration, int breakGlassExtraApprovals,
        bool emergencyRevocation, IReadOnlyList<PublicKey> ledgerSigners, bool allowUnresolvedRequester = false)
    {
        AllowUnresolvedRequester = allowUnresolvedRequester;
        Approvers = new ReadOnlyCollection<PolicyApprover>(approvers.ToArray());
        ApprovalExpiry = approvalExpiry;
        MaxDuration = maxDuration;
        BreakGlassExtraApprovals = breakGlassExtraApprovals;
        EmergencyRevocation = emergencyRevocation;
        LedgerSigners = new ReadOnlyCollection<PublicKey>(ledgerSigners.ToArray());
    }

    public static ApprovalSettings Default { get; } = new(
        Array.Empty<PolicyApprover>(), TimeSpan.FromDays(1), TimeSpan.FromDays(30), 1, true, Array.Empty<PublicKey>());

    public IReadOnlyList<PolicyApprover> Approvers { get; }

    public TimeSpan ApprovalExpiry { get; }

    public TimeSpan MaxDuration { get; }

    public int BreakGlassExtraApprovals { get; }

    public bool EmergencyRevocation { get; }

    public IReadOnlyList<PublicKey> LedgerSigners { get; }

    /// <summary>Whether a request may name a requester the directory does not know (offline planning on a partial snapshot).</summary>
    public bool AllowUnresolvedRequester { get; }
}
