using System.Collections.Generic;
using System.Linq;
using AgentGovernance.Changes;
using AgentGovernance.Policy;

namespace AgentGovernance.Approval;

/// <summary>Who asked for a change and who suggested it, resolved (S2 compares approvers with them).</summary>
internal sealed class ChangeParties
{
    public ChangeParties(ResolvedIdentity requester, ResolvedIdentity? suggester, bool suggesterIsAgent)
    {
        Requester = requester;
        Suggester = suggester;
        SuggesterDeclaredAgent = suggesterIsAgent;
    }

    public ResolvedIdentity Requester { get; }

    public ResolvedIdentity? Suggester { get; }

    /// <summary>The change says its suggester is an agent (suggestedBy.type).</summary>
    public bool SuggesterDeclaredAgent { get; }

    /// <summary>The parties as a request document records them, so later decisions compare against what the directory said then too.</summary>
    public Dictionary<string, object?> ToDocument()
    {
        static Dictionary<string, object?> One(ResolvedIdentity i) => new()
        {
            ["names"] = i.Spellings.Select(s => (object?)s).ToList(),
            ["principals"] = i.Principals.Select(p => (object?)p).ToList(),
        };

        var d = new Dictionary<string, object?> { ["requester"] = One(Requester) };
        if (Suggester is not null)
        {
            d["suggester"] = One(Suggester);
        }

        return d;
    }
}

/// <summary>
/// S2, one identity resolution for all: who requested a change (resolved through the directory and
/// refused when it cannot be), and why an approver may never decide it: the requester, the suggesting
/// agent or any agent under any name, or a name that looks like one of them (UTS #39).
/// </summary>
internal sealed class ApproverRules
{
    private readonly IdentityResolver _resolver;
    private readonly GovernancePolicy _policy;

    public ApproverRules(IdentityResolver resolver, GovernancePolicy policy)
    {
        _resolver = resolver;
        _policy = policy;
    }

    public IdentityResolver Resolver => _resolver;

    /// <summary>
    /// The requester of a change: the change's requestedBy, else the one given, else the user running
    /// the command. Refused when the name is not an identity (IdentityInvalid), names two people
    /// (RequesterAmbiguous), is not a person (RequesterUnresolved for a group), or is unknown to the
    /// directory unless the policy allows that (AllowUnresolvedRequester).
    /// </summary>
    public ResolvedIdentity Requester(AccessChange change, string? given, string currentUser)
    {
        if (change.RequestedBy is not null && given is not null)
        {
            var inChange = _resolver.Resolve(change.RequestedBy);
            IdentityText.RequireKey(given, "requester");
            var named = _resolver.Resolve(given);
            if (inChange.Key is null || !_resolver.Same(inChange, named))
            {
                throw new GovernanceException("RequesterMismatch", GovernanceErrorKind.InvalidArgument,
                    $"The change says it is requested by {IdentityText.Visible(change.RequestedBy)}, not {IdentityText.Visible(given)}; the requester is part of the change (and of its id).", change.Id);
            }
        }

        var name = change.RequestedBy ?? given;
        var requester = _resolver.Resolve(name ?? currentUser);
        IdentityText.RequireKey(requester.Given, "requester");
        if (requester.Ambiguous)
        {
            throw new GovernanceException("RequesterAmbiguous", GovernanceErrorKind.InvalidArgument,
                $"The requester '{IdentityText.Visible(requester.Given)}' names {requester.Principals.Count} principals of the directory ({string.Join(", ", requester.Principals)}); name one of them by its id or user principal name.", change.Id);
        }

        if (requester.IsGroup)
        {
            throw new GovernanceException("RequesterUnresolved", GovernanceErrorKind.InvalidArgument,
                $"The requester '{IdentityText.Visible(requester.Given)}' is a group; a request is asked for by a person or a service principal.", change.Id);
        }

        if (!requester.Resolved && !_policy.AllowUnresolvedRequester)
        {
            var who = name is null ? $"Nobody was named, and the user running this command ({IdentityText.Visible(currentUser)})" : $"'{IdentityText.Visible(name)}'";
            throw new GovernanceException("RequesterUnresolved", GovernanceErrorKind.InvalidArgument,
                $"{who} is not in the directory (by id, user principal name, mail or mail nickname), so nobody could tell whether an approver is the same person. " +
                "Name the requester as the directory knows them (-RequestedBy or the change's requestedBy). For offline planning on a partial snapshot, the policy's AllowUnresolvedRequester = $true accepts unknown requesters.", change.Id);
        }

        return requester;
    }

    public ChangeParties Parties(ResolvedIdentity requester, AccessChange change) =>
        new(requester, change.SuggestedBy?.Id is { } s ? _resolver.Resolve(s) : null, change.SuggestedBy?.IsAgent == true);

    /// <summary>The parties of an opened request: its names now, joined with the names it recorded when it was opened.</summary>
    public ChangeParties Parties(ApprovalRequest request)
    {
        var recorded = request.RecordedParties;
        ResolvedIdentity Join(string given, string role) => recorded.TryGetValue(role, out var r)
            ? _resolver.Recorded(given, r.Names, r.Principals)
            : _resolver.Resolve(given);
        var suggester = request.Change.SuggestedBy?.Id;
        return new ChangeParties(Join(request.RequestedBy, "requester"), suggester is null ? null : Join(suggester, "suggester"), request.Change.SuggestedBy?.IsAgent == true);
    }

    /// <summary>Why <paramref name="approverId"/> can never decide a change of these parties (S2), or null.</summary>
    public (string Id, string Message)? Problem(string approverId, ChangeParties parties)
    {
        var approver = _resolver.Resolve(approverId);
        if (approver.Key is null)
        {
            return ("IdentityInvalid", $"The approver '{IdentityText.Visible(approverId)}' cannot be an identity: {approver.Problem}.");
        }

        if (_resolver.Same(approver, parties.Requester))
        {
            return ("ApproverIsRequester", $"{approverId} requested this change (as {IdentityText.Visible(parties.Requester.Given)}), and nobody approves their own request.");
        }

        if (parties.Suggester is { } suggester && _resolver.Same(approver, suggester))
        {
            return parties.SuggesterDeclaredAgent || _resolver.IsAgent(suggester) || _resolver.IsAgent(approver)
                ? ("ApproverIsAgent", $"{approverId} is the agent that suggested this change (as {IdentityText.Visible(suggester.Given)}); an agent can never approve.")
                : ("ApproverIsSuggester", $"{approverId} suggested this change, and nobody approves their own suggestion.");
        }

        if (_resolver.IsAgent(approver))
        {
            return ("ApproverIsAgent", $"{approverId} is an agent identity (in the policy's AgentIdentities or marked isAgent in the directory); an agent can never approve.");
        }

        if (_resolver.Confusable(approver, parties.Requester))
        {
            return ("ApproverConfusable", $"{approverId} looks like the requester {IdentityText.Visible(parties.Requester.Given)} (their UTS #39 skeletons are equal): a look-alike name cannot approve, whoever holds it.");
        }

        foreach (var agent in new[] { parties.Suggester }.Concat(_resolver.PolicyAgents(_policy)))
        {
            if (agent is not null && _resolver.Confusable(approver, agent))
            {
                return ("ApproverConfusable", $"{approverId} looks like the agent {IdentityText.Visible(agent.Given)} (their UTS #39 skeletons are equal): a look-alike of an agent cannot approve.");
            }
        }

        return null;
    }
}
