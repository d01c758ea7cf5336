using AgentGovernance.Changes;
using AgentGovernance.Directory;
using AgentGovernance.Exposure;
using CsCheck;

namespace AgentGovernance.Tests.Engine;

/// <summary>
/// The overlay diff must equal a brute-force before/after recomputation, on random tenants with
/// cycles, guests, disabled users, agents, audiences and Public groups.
/// </summary>
public sealed class OverlayPropertyTests
{
    [Fact]
    public void OverlayDiffEqualsBruteForceRecomputation()
    {
        Gen.Int.Sample(seed => CheckOne(seed), iter: 4000, threads: 1);
    }

    /// <summary>
    /// The membership fast path (candidate classes keyed by the granted groups above them): wider
    /// tenants, where more than 64 groups are granted on the affected resources (keys of several
    /// words), users sit in many groups, and changes are several membership operations (so more than
    /// one class moves on a resource, and a group can be both added and removed).
    /// </summary>
    [Fact]
    public void MembershipOnlyChangesEqualBruteForceOnWideTenants()
    {
        Gen.Int.Sample(seed => CheckOne(seed, WideModel, membershipOnly: true), iter: 200, threads: 1);
    }

    /// <summary>Many users, 100-140 groups nested sparsely (cycles possible), resources granted to many groups.</summary>
    private static TenantModel WideModel(Random rng)
    {
        var m = new TenantModel();
        var users = rng.Next(20, 50);
        for (var i = 0; i < users; i++)
        {
            m.Principals.Add(new TenantModel.Node { Id = $"u{i}", Type = "user", Guest = rng.Next(5) == 0, Enabled = rng.Next(8) != 0, Agent = rng.Next(10) == 0 });
        }

        m.Principals.Add(new TenantModel.Node { Id = "sp0", Type = "servicePrincipal", Enabled = true });
        var groups = rng.Next(100, 140);
        for (var i = 0; i < groups; i++)
        {
            m.Principals.Add(new TenantModel.Node { Id = $"g{i}", Type = "group", Visibility = rng.Next(6) == 0 ? "Public" : "Private" });
        }

        var all = m.Principals.Select(p => p.Id).ToList();
        foreach (var g in m.Principals.Where(p => p.Type == "group"))
        {
            var n = rng.Next(2, 8);
            for (var i = 0; i < n; i++)
            {
                var candidate = all[rng.Next(all.Count)];
                if (candidate != g.Id && !g.Members.Contains(candidate))
                {
                    g.Members.Add(candidate);
                }
            }
        }

        var groupIds = m.Principals.Where(p => p.Type == "group").Select(p => p.Id).ToList();
        var resources = rng.Next(4, 8);
        for (var i = 0; i < resources; i++)
        {
            m.Resources.Add(new TenantModel.Res { Id = $"r{i}", Sensitivity = (Sensitivity)rng.Next(4), Group = rng.Next(4) == 0 ? groupIds[rng.Next(groupIds.Count)] : null });
        }

        var grantees = all.Concat(new[] { "everyone", "everyoneExceptExternal", "anyone" }).ToList();
        foreach (var r in m.Resources)
        {
            // Mostly groups, so the resources together are granted to more than 64 of them.
            var n = rng.Next(30, 60);
            for (var i = 0; i < n; i++)
            {
                var who = rng.Next(6) == 0 ? grantees[rng.Next(grantees.Count)] : groupIds[rng.Next(groupIds.Count)];
                var g = (r.Id, who, TenantModel.RandomRole(rng));
                if (!m.Grants.Contains(g)) m.Grants.Add(g);
            }
        }

        return m;
    }

    [Fact]
    public void ExplainPathsAreValidAndShortest()
    {
        Gen.Int.Sample(seed =>
        {
            var rng = new Random(seed);
            var model = TenantModel.Random(rng);
            var snapshot = SnapshotReader.ParseText(model.ToJson());
            var effective = model.Effective();
            foreach (var r in model.Resources)
            {
                var entries = EffectiveAccess.ForResource(snapshot, r.Id);
                var expected = effective.Where(kv => kv.Key.Resource == r.Id).ToDictionary(kv => kv.Key.Principal, kv => kv.Value);
                Assert.Equal(expected.OrderBy(k => k.Key).Select(k => (k.Key, k.Value)), entries.Select(e => (e.PrincipalId, e.Role)).OrderBy(k => k.PrincipalId));
                foreach (var e in entries)
                {
                    CheckPath(model, e.PrincipalId, r.Id, e.Path);
                    var single = EffectiveAccess.Explain(snapshot, e.PrincipalId, r.Id);
                    Assert.NotNull(single);
                    Assert.Equal(e.Role, single!.Level);
                    Assert.Equal(e.Path.Length, single.Length);
                    CheckPath(model, e.PrincipalId, r.Id, single);
                }
            }

            // From the principal's side: the same roles, resource by resource.
            foreach (var p in model.Principals.Where(p => p.Type != "group"))
            {
                var mine = EffectiveAccess.ForPrincipal(snapshot, p.Id).ToDictionary(e => e.ResourceId, e => e.Role);
                var expected = effective.Where(kv => kv.Key.Principal == p.Id).ToDictionary(kv => kv.Key.Resource, kv => kv.Value);
                Assert.Equal(expected.OrderBy(k => k.Key), mine.OrderBy(k => k.Key));
            }
        }, iter: 1500, threads: 1);
    }

    /// <summary>The path is a real chain of memberships ending at something that grants the role, and no shorter one exists.</summary>
    private static void CheckPath(TenantModel model, string principal, string resource, AccessPath path)
    {
        Assert.Equal(principal, path.Steps[0]);
        if (principal == "anyone")
        {
            Assert.Equal(new[] { "anyone" }, path.Steps);
            Assert.Contains((resource, "anyone", path.Role), model.Grants);
            return;
        }

        for (var i = 1; i < path.Steps.Count; i++)
        {
            Assert.Contains(path.Steps[i - 1], model.P(path.Steps[i]).Members);
        }

        var last = path.Steps[^1];
        switch (path.Via)
        {
            case AccessVia.Grant:
                Assert.Equal(last, path.GrantedTo);
                Assert.Contains((resource, last, path.Role), model.Grants);
                break;
            case AccessVia.Audience:
                Assert.Single(path.Steps);
                Assert.Contains((resource, path.GrantedTo, path.Role), model.Grants);
                break;
            default:
                Assert.Equal(path.GrantedTo, model.Resources.Single(r => r.Id == resource).Group);
                Assert.Equal("Public", model.P(path.GrantedTo).Visibility);
                break;
        }

        // Shortest: breadth-first over memberships from the principal to any grantee of that level.
        var level = path.Level;
        var grantees = model.Grants.Where(g => g.Resource == resource && Level(g.Role) == level).Select(g => g.Principal).ToHashSet();
        var audienceOrPublic = (grantees.Contains("everyone") && model.P(principal).Type == "user") || (grantees.Contains("everyoneExceptExternal") && IsMemberUser(model, principal))
            || (level == AccessRole.Read && model.Resources.Single(r => r.Id == resource).Group is { } g0 && model.P(g0).Visibility == "Public" && IsMemberUser(model, principal));
        // Hops: a direct grant is 1; an audience or a Public group counts like one group (2); each group adds one.
        var shortest = grantees.Contains(principal) ? 1 : audienceOrPublic ? 2 : int.MaxValue;
        if (shortest > 2)
        {
            var depth = new Dictionary<string, int> { [principal] = 1 };
            var queue = new Queue<string>();
            queue.Enqueue(principal);
            while (queue.Count > 0)
            {
                var x = queue.Dequeue();
                foreach (var parent in model.Principals.Where(p => p.Type == "group" && p.Members.Contains(x)))
                {
                    if (depth.ContainsKey(parent.Id)) continue;
                    depth[parent.Id] = depth[x] + 1;
                    if (grantees.Contains(parent.Id) && depth[parent.Id] < shortest) shortest = depth[parent.Id];
                    queue.Enqueue(parent.Id);
                }
            }
        }

        Assert.Equal(shortest, path.Length);
    }

    private static bool IsMemberUser(TenantModel m, string id) => m.P(id) is { Type: "user", Guest: false, Enabled: true };

    private static AccessRole Level(string role) => role switch { "owner" => AccessRole.Owner, "write" => AccessRole.Write, _ => AccessRole.Read };

    private static void CheckOne(int seed) => CheckOne(seed, TenantModel.Random, membershipOnly: false);

    private static void CheckOne(int seed, Func<Random, TenantModel> generate, bool membershipOnly)
    {
        var rng = new Random(seed);
        var model = generate(rng);
        var snapshot = SnapshotReader.ParseText(model.ToJson());
        var before = model.Effective();
        var after = model.Clone();
        var ops = new List<AccessOperation>();
        var valid = true;
        var count = rng.Next(1, membershipOnly ? 6 : 4);
        for (var i = 0; i < count; i++)
        {
            var op = after.RandomOperation(rng);
            while (membershipOnly && op.Op is not (OperationKind.AddMember or OperationKind.RemoveMember))
            {
                op = after.RandomOperation(rng);
            }

            ops.Add(op);
            if (!after.TryApply(op))
            {
                valid = false;
                break;
            }
        }

        var change = new AccessChange(ops, duration: rng.Next(2) == 0 ? "PT1H" : null);
        if (!valid)
        {
            var e = Assert.ThrowsAny<GovernanceException>(() => ExposureEngine.Assess(snapshot, change));
            Assert.Contains(e.ErrorId, new[] { "GrantNotFound", "MemberNotFound", "ChangeInvalid" });
            return;
        }

        var report = ExposureEngine.Assess(snapshot, change);
        var afterRoles = after.Effective();
        var keys = before.Keys.Union(afterRoles.Keys);
        var expectedGained = new SortedSet<string>();
        var expectedLost = new SortedSet<string>();
        foreach (var k in keys)
        {
            before.TryGetValue(k, out var b);
            afterRoles.TryGetValue(k, out var a);
            if (a > b) expectedGained.Add($"{k.Resource}/{k.Principal}:{b}->{a}");
            if (a < b) expectedLost.Add($"{k.Resource}/{k.Principal}:{b}->{a}");
        }

        var gained = new SortedSet<string>(report.Resources.SelectMany(r => r.Gained).Select(d => $"{d.ResourceId}/{d.PrincipalId}:{d.Before}->{d.After}"));
        var lost = new SortedSet<string>(report.Resources.SelectMany(r => r.Lost).Select(d => $"{d.ResourceId}/{d.PrincipalId}:{d.Before}->{d.After}"));
        Assert.Equal(expectedGained, gained);
        Assert.Equal(expectedLost, lost);
        Assert.Equal(expectedGained.Select(x => x.Split('/')[1].Split(':')[0]).Where(p => p != "anyone").Distinct().Count(), report.PrincipalsGained);

        // Kinds: every gained entry is counted once, by its kind.
        foreach (var r in report.Resources)
        {
            Assert.Equal(r.GainedCount, r.GainedMembers + r.GainedGuests + r.GainedServicePrincipals + r.GainedAgents + (r.GainedAnonymous ? 1 : 0));
            foreach (var d in r.Gained)
            {
                var expectedKind = d.PrincipalId == "anyone" ? PrincipalKind.Anonymous
                    : model.P(d.PrincipalId).Agent ? PrincipalKind.Agent
                    : model.P(d.PrincipalId).Type == "servicePrincipal" ? PrincipalKind.ServicePrincipal
                    : model.P(d.PrincipalId).Guest ? PrincipalKind.Guest : PrincipalKind.Member;
                Assert.Equal(expectedKind, d.Kind);
            }
        }

        // Explaining any gained access on the after-state gives a path to the new role.
        foreach (var d in report.Resources.SelectMany(r => r.Gained))
        {
            var path = report.Explain(d.PrincipalId, d.ResourceId);
            Assert.NotNull(path);
            Assert.Equal(d.After, path!.Level);
        }
    }
}
