using System.Collections.Generic;
using System.Linq;
using AgentGovernance.Approval;
using AgentGovernance.Changes;
using AgentGovernance.Providers;

namespace AgentGovernance.Apply;

/// <summary>
/// What an undo or an expiry may revert at once, and what it may not: an inverse that narrows access
/// (a revoke, a member removed, a group made Private again) is applied immediately (S9); one that
/// would widen it (a member added back, a grant restored, a group made Public again) is withheld and
/// becomes a change of its own that needs approval, since nobody approved that access being restored.
/// </summary>
internal sealed class UndoPlan
{
    private UndoPlan(List<KeyValuePair<int, AppliedOperation>> immediate, List<KeyValuePair<int, AppliedOperation>> withheld)
    {
        Immediate = immediate;
        Withheld = withheld;
    }

    /// <summary>The operations reverted now, last applied first.</summary>
    public IReadOnlyList<KeyValuePair<int, AppliedOperation>> Immediate { get; }

    /// <summary>The operations whose inverse would widen access: not reverted without approval.</summary>
    public IReadOnlyList<KeyValuePair<int, AppliedOperation>> Withheld { get; }

    public static UndoPlan Of(ApplyAttempt attempt)
    {
        var changed = attempt.Applied.Where(a => a.Value.Changed && a.Value.Inverse is not null).OrderByDescending(a => a.Key).ToList();
        return new UndoPlan(changed.Where(a => a.Value.Inverse!.NarrowsOnly).ToList(), changed.Where(a => !a.Value.Inverse!.NarrowsOnly).ToList());
    }

    /// <summary>The withheld inverses as a change to request approval for (null when nothing was withheld).</summary>
    public AccessChange? FollowUp(string requestId, AccessChange original) => Withheld.Count == 0 ? null : new AccessChange(
        Withheld.OrderBy(w => w.Key).Select(w => w.Value.Inverse!),
        title: $"Restore what {requestId} took away" + (original.Title is null ? string.Empty : $" ({original.Title})"),
        justification: $"The undo or expiry of {requestId} ({original.Id}) reverted what narrows access at once; restoring access needs its own approval.");

    public string Describe() => string.Join("; ", Withheld.Select(w => w.Value.Inverse!.ToString()));
}
