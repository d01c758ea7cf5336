using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.CompilerServices;
using AgentGovernance.Directory;
using AgentGovernance.Policy;

namespace AgentGovernance.Approval;

/// <summary>
/// An identity as S2 compares it: the name given, its one spelling (<see cref="IdentityText.Key"/>),
/// the directory principals it resolves to, and every name those principals go by (id, user principal
/// name, mail, mail nickname). Two identities are one person when their names meet; they are
/// confusable when their UTS #39 skeletons meet.
/// </summary>
internal sealed class ResolvedIdentity
{
    private HashSet<string>? _skeletons;

    internal ResolvedIdentity(string given, string? key, string? problem, IReadOnlyList<string> principals, IEnumerable<string> spellings, bool agentFlag, bool group)
    {
        Given = given;
        Key = key;
        Problem = problem;
        Principals = principals;
        AgentFlag = agentFlag;
        IsGroup = group;
        var all = new List<string>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var s in new[] { given }.Concat(spellings))
        {
            if (IdentityText.Key(s, out _) is { } k)
            {
                all.Add(s.Trim());
                names.Add(k);
            }
        }

        foreach (var p in principals)
        {
            names.Add("\u0001" + p); // a principal id as such, apart from names that merely spell like one
        }

        Spellings = all.Distinct(StringComparer.Ordinal).ToList();
        Names = names;
    }

    /// <summary>The name as given.</summary>
    public string Given { get; }

    /// <summary>Its one spelling; null when the name cannot be an identity (<see cref="Problem"/> says why).</summary>
    public string? Key { get; }

    public string? Problem { get; }

    /// <summary>The directory principals (ids) the name resolves to: none when the directory does not know it, more than one when it is ambiguous.</summary>
    public IReadOnlyList<string> Principals { get; }

    public bool Resolved => Principals.Count == 1;

    public bool Ambiguous => Principals.Count > 1;

    /// <summary>The directory marks the principal as an AI agent (isAgent).</summary>
    public bool AgentFlag { get; }

    public bool IsGroup { get; }

    /// <summary>Every spelling of every name the identity goes by, as written (for the request document and skeletons).</summary>
    public IReadOnlyList<string> Spellings { get; }

    /// <summary>The comparison keys of those names, and the principal ids.</summary>
    public IReadOnlyCollection<string> Names { get; }

    /// <summary>Case-folded UTS #39 skeletons of every spelling (as written, and case-folded).</summary>
    public IReadOnlyCollection<string> Skeletons => _skeletons ??= MakeSkeletons();

    public bool Meets(ResolvedIdentity other) => Names.Any(n => other.Names.Contains(n));

    public override string ToString() => Resolved && !string.Equals(Principals[0], Given, StringComparison.Ordinal) ? $"{Given} ({Principals[0]})" : Given;

    private HashSet<string> MakeSkeletons()
    {
        var set = new HashSet<string>(StringComparer.Ordinal);
        foreach (var s in Spellings)
        {
            if (IdentityText.Key(s, out _) is not { } key)
            {
                continue;
            }

            set.Add(Fold(Confusables.Skeleton(s.Normalize(System.Text.NormalizationForm.FormKC))));
            set.Add(Fold(Confusables.Skeleton(key)));
        }

        return set;
    }

    private static string Fold(string s) => s.ToLowerInvariant();
}

/// <summary>
/// Resolves requesters, approvers and agents through the directory: the snapshot's ids, user principal
/// names, mail addresses and mail nicknames, compared by their one spelling. One index per snapshot,
/// built on first use. Without a snapshot (a live tenant after the request was opened), identities
/// keep the names given and those the request recorded.
/// </summary>
internal sealed class IdentityResolver
{
    private static readonly ConditionalWeakTable<AccessSnapshot, Index> Indexes = new();
    private readonly AccessSnapshot? _snapshot;
    private readonly Lazy<HashSet<string>> _agentNames;

    public IdentityResolver(AccessSnapshot? snapshot, GovernancePolicy policy)
    {
        _snapshot = snapshot;
        _agentNames = new Lazy<HashSet<string>>(() =>
        {
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (var agent in policy.AgentIdentities)
            {
                names.UnionWith(Resolve(agent).Names);
            }

            return names;
        });
    }

    public ResolvedIdentity Resolve(string name)
    {
        var key = IdentityText.Key(name, out var problem);
        if (key is null || _snapshot is null)
        {
            return new ResolvedIdentity(name, key, problem, Array.Empty<string>(), Array.Empty<string>(), false, false);
        }

        var index = Indexes.GetValue(_snapshot, s => new Index(s));
        var found = index.Find(name, key);
        var spellings = new List<string>();
        var agent = false;
        var group = false;
        foreach (var p in found)
        {
            spellings.Add(_snapshot.PrincipalId(p));
            foreach (var alias in new[] { _snapshot.Upn[p], _snapshot.Mail[p], _snapshot.MailNickname[p] })
            {
                if (alias is not null)
                {
                    spellings.Add(alias);
                }
            }

            agent |= _snapshot.IsAgentFlag(p);
            group |= _snapshot.Types[p] == PrincipalType.Group;
        }

        return new ResolvedIdentity(name, key, null, found.Select(_snapshot.PrincipalId).ToList(), spellings, agent, group);
    }

    /// <summary>An identity as a request recorded it (its spellings and principals then), joined with what the directory says now.</summary>
    public ResolvedIdentity Recorded(string given, IEnumerable<string> spellings, IEnumerable<string> principals)
    {
        var now = Resolve(given);
        var all = now.Spellings.Concat(spellings).ToList();
        var ids = now.Principals.Concat(principals).Distinct(StringComparer.Ordinal).ToList();
        return new ResolvedIdentity(given, now.Key, now.Problem, ids, all, now.AgentFlag, now.IsGroup);
    }

    public bool Same(ResolvedIdentity a, ResolvedIdentity b) => a.Meets(b);

    /// <summary>Different identities whose names look alike (UTS #39): never a requester and its approver, nor an agent and an approver.</summary>
    public bool Confusable(ResolvedIdentity a, ResolvedIdentity b) => a.Skeletons.Any(s => b.Skeletons.Contains(s));

    /// <summary>An agent: marked isAgent in the directory, or listed in the policy's AgentIdentities under any of its names.</summary>
    public bool IsAgent(ResolvedIdentity identity) => identity.AgentFlag || identity.Names.Any(_agentNames.Value.Contains);

    /// <summary>The policy's agents, as identities (for the look-alike check).</summary>
    public IEnumerable<ResolvedIdentity> PolicyAgents(GovernancePolicy policy) => policy.AgentIdentities.Select(Resolve);

    /// <summary>Every name of every principal of a snapshot by its one spelling; names two principals share map to both.</summary>
    private sealed class Index
    {
        private readonly Dictionary<string, int> _one = new(StringComparer.Ordinal);
        private readonly Dictionary<string, List<int>> _many = new(StringComparer.Ordinal);
        private readonly AccessSnapshot _s;

        public Index(AccessSnapshot s)
        {
            _s = s;
            for (var i = AccessSnapshot.FirstPrincipal; i < s.PrincipalSlots; i++)
            {
                Add(s.PrincipalId(i), i);
                Add(s.Upn[i], i);
                Add(s.Mail[i], i);
                Add(s.MailNickname[i], i);
            }
        }

        public IReadOnlyList<int> Find(string name, string key)
        {
            if (_many.TryGetValue(key, out var several))
            {
                return several;
            }

            if (_one.TryGetValue(key, out var p))
            {
                return new[] { p };
            }

            // An exact id the index could not spell (a name with invisible characters is no key at all).
            return _s.TryGetPrincipalIndex(name, out p) && p >= AccessSnapshot.FirstPrincipal ? new[] { p } : Array.Empty<int>();
        }

        private void Add(string? name, int principal)
        {
            if (name is null || IdentityText.Key(name, out _) is not { } key)
            {
                return;
            }

            if (_many.TryGetValue(key, out var several))
            {
                if (!several.Contains(principal))
                {
                    several.Add(principal);
                }
            }
            else if (_one.TryGetValue(key, out var other))
            {
                if (other != principal)
                {
                    _one.Remove(key);
                    _many[key] = new List<int> { other, principal };
                }
            }
            else
            {
                _one[key] = principal;
            }
        }
    }
}
