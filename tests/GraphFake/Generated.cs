namespace AgentGovernance.GraphFake;

/// <summary>A synthetic tenant of a given size (seeded, so every run is the same), for request counts.</summary>
public static class Generated
{
    /// <summary>
    /// <paramref name="users"/> users (3% guests, 2% disabled), <paramref name="groups"/> groups (20%
    /// Microsoft 365 with a site, every fifth labelled; the rest security groups, 10% nested in another),
    /// each with 5-60 members, <paramref name="servicePrincipals"/> service principals (10% with an app
    /// role held by some users), 30 directory roles held by a few users.
    /// </summary>
    public static FakeTenant Tenant(int users, int groups, int servicePrincipals, int seed = 42)
    {
        var rng = new Random(seed);
        var t = new FakeTenant();
        var userIds = new List<string>(users);
        for (var i = 0; i < users; i++)
        {
            var id = FakeTenant.NewId(1_000_000 + i);
            t.AddUser(id, $"User {i}", guest: rng.NextDouble() < 0.03, enabled: rng.NextDouble() >= 0.02);
            userIds.Add(id);
        }

        var spIds = new List<string>();
        for (var i = 0; i < servicePrincipals; i++)
        {
            var id = FakeTenant.NewId(3_000_000 + i);
            var withRole = i % 10 == 0;
            var role = $"bbbbbbbb-0000-0000-0000-{i:D12}";
            t.AddServicePrincipal(id, $"App {i}", $"app-{i}", withRole ? new[] { role } : Array.Empty<string>());
            spIds.Add(id);
            if (withRole)
            {
                for (var k = 0; k < 5; k++)
                {
                    t.AppRoleAssignments.Add(new FakeAppRoleAssignment(t.NextId(), id, userIds[rng.Next(userIds.Count)], role));
                }
            }
        }

        var groupIds = new List<string>();
        for (var i = 0; i < groups; i++)
        {
            var id = FakeTenant.NewId(2_000_000 + i);
            var unified = i % 5 == 0;
            var g = t.AddGroup(id, $"Group {i}", unified, unified ? "Private" : null);
            var n = 5 + rng.Next(56);
            var members = new HashSet<string>();
            while (members.Count < n) members.Add(userIds[rng.Next(userIds.Count)]);
            g.Members.AddRange(members);
            if (groupIds.Count > 0 && i % 10 == 1) g.Members.Add(groupIds[rng.Next(groupIds.Count)]);
            if (rng.NextDouble() < 0.05 && spIds.Count > 0) g.Members.Add(spIds[rng.Next(spIds.Count)]);
            if (unified)
            {
                g.Owners.Add(userIds[rng.Next(userIds.Count)]);
                if (i % 25 == 0) g.Label = "Confidential";
                t.GroupSites[id] = new FakeSite($"fabrikam.example,site-{i},1", $"Group {i}");
            }

            groupIds.Add(id);
        }

        for (var r = 0; r < 30; r++)
        {
            var role = $"cccccccc-0000-0000-0000-{r:D12}";
            t.RoleDefinitions.Add(new FakeRoleDefinition(role, $"Role {r}"));
            for (var k = 0; k < 1 + r % 3; k++)
            {
                t.RoleAssignments.Add(new FakeRoleAssignment(t.NextId(), role, userIds[rng.Next(userIds.Count)]));
            }
        }

        return t;
    }
}
