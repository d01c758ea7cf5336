using System.Globalization;
using System.Text;
using AgentGovernance.Exposure;
using AgentGovernance.GraphFake;
using AgentGovernance.Tests.Support;

namespace AgentGovernance.Tests.Graph;

/// <summary>
/// On random tenants (users, nested security groups, Microsoft 365 groups with sites whose files are
/// shared with groups, people and links), a live membership preview through the inventory and live
/// reads finds who gains what exactly as the offline preview of the same tenant, written as a snapshot
/// by the rules of formats.md.
/// </summary>
public sealed class GraphInventoryPropertyTests : GraphTestBase
{
    public GraphInventoryPropertyTests(HostFixture fixture)
        : base(fixture)
    {
    }

    [Fact]
    public void OnRandomTenantsTheLivePreviewWithTheInventoryEqualsTheOfflinePreview()
    {
        var filesGained = 0;
        for (var seed = 1; seed <= 12; seed++)
        {
            var rng = new Random(seed);
            var t = RandomTenant(rng, seed);
            using var graph = new FakeGraph(t) { DeltaPageSize = 3 };
            Ps.RunClean("param($e, $k) Connect-AgentGovernance -TenantId fabrikam.example -AccessToken ([System.Net.NetworkCredential]::new('', $k).SecurePassword) -GraphEndpoint $e",
                graph.BaseUrl, graph.Token);
            var inventory = Temp[$"inventory-{seed}.json"];
            var export = Ps.Run("param($p) Export-AccessSnapshot -FromGraph -Path $p", inventory);
            Assert.True(export.Errors.Count == 0, string.Join("\n", export.Errors));

            var offline = Temp.Write($"offline-{seed}.json", OfflineSnapshot(t));
            for (var k = 0; k < 3; k++)
            {
                var groups = t.Groups.Keys.OrderBy(x => x, StringComparer.Ordinal).ToList();
                var users = t.Users.Keys.OrderBy(x => x, StringComparer.Ordinal).ToList();
                var group = groups[rng.Next(groups.Count)];
                var member = rng.Next(4) == 0 ? groups[rng.Next(groups.Count)] : users[rng.Next(users.Count)];
                if (member == group || t.Groups[group].Members.Contains(member, StringComparer.OrdinalIgnoreCase)) continue;
                var change = ChangeFile($"change-{seed}-{k}.json", $"{{ \"op\": \"addMember\", \"group\": \"{group}\", \"member\": \"{member}\" }}");

                var live = Report(change);
                Ps.RunClean("param($p) Connect-AgentGovernance -SnapshotPath $p", offline);
                var expected = Report(change);
                Ps.RunClean("param($e, $k, $i) Connect-AgentGovernance -TenantId fabrikam.example -AccessToken ([System.Net.NetworkCredential]::new('', $k).SecurePassword) -GraphEndpoint $e -InventoryPath $i",
                    graph.BaseUrl, graph.Token, inventory);

                Assert.True(Gains(expected) == Gains(live), $"seed {seed}, add {member} to {group}:\noffline {Gains(expected)}\nlive    {Gains(live)}");
                // Complete: the inventory crawled every site's drives and found no user with a OneDrive (404 each).
                Assert.True(live.Coverage == Coverage.Complete, string.Join("; ", live.CoverageReasons));
                if (expected.Resources.Any(x => x.Type == "driveItem" && x.GainedCount > 0)) filesGained++;
            }
        }

        // The property is about files Graph cannot look up from a group: enough changes reached some.
        Assert.True(filesGained >= 5, $"only {filesGained} changes gave access to a file");
    }

    private ExposureReport Report(string change) =>
        (ExposureReport)Assert.Single(Ps.RunClean("param($f) Import-AccessChange -Path $f | Test-ExposureRisk", change).Output).BaseObject;

    /// <summary>Who gains which role on which resource, in one comparable line.</summary>
    private static string Gains(ExposureReport r) => string.Join("; ", r.Resources.Where(x => x.GainedCount > 0).OrderBy(x => x.ResourceId, StringComparer.Ordinal)
        .Select(x => $"{x.ResourceId} [{x.Sensitivity}]: " + string.Join(",", x.Gained.Select(g => $"{g.PrincipalId}={g.After}").OrderBy(s => s, StringComparer.Ordinal))));

    private static FakeTenant RandomTenant(Random rng, int seed)
    {
        var t = new FakeTenant();
        var users = new List<string>();
        for (var i = 0; i < 12; i++)
        {
            var id = FakeTenant.NewId(1000 * seed + i);
            t.AddUser(id, $"User {seed} {i}", guest: rng.Next(6) == 0, enabled: rng.Next(10) != 0);
            users.Add(id);
        }

        var groups = new List<string>();
        for (var i = 0; i < 7; i++)
        {
            var id = FakeTenant.NewId(500_000 + 1000 * seed + i);
            var unified = i % 3 == 0;
            var g = t.AddGroup(id, $"Group {seed} {i}", unified, unified ? "Private" : null);
            foreach (var u in users.OrderBy(_ => rng.Next()).Take(1 + rng.Next(3))) g.Members.Add(u);
            if (groups.Count > 0 && rng.Next(2) == 0) g.Members.Add(groups[rng.Next(groups.Count)]); // nested under an earlier group
            if (unified)
            {
                g.Owners.Add(users[rng.Next(users.Count)]);
                if (rng.Next(2) == 0) g.Label = rng.Next(2) == 0 ? "Confidential" : "Highly Confidential";
                t.GroupSites[id] = new FakeSite($"fabrikam.example,site-{seed}-{i},1", $"Site {seed} {i}");
            }

            groups.Add(id);
        }

        var n = 0;
        var labels = new Random(seed); // its own sequence, so the tenants' shapes stay those of earlier runs
        foreach (var site in t.GroupSites.Values.ToList())
        {
            var drive = t.SiteDrive(site);
            for (var f = 0; f < 4; f++)
            {
                var item = t.AddItem(drive, $"01F{seed}X{n++}", $"file {f}.docx");
                // A file's own label (extractSensitivityLabels), above, equal to or below its site's.
                item.LabelId = labels.Next(3) switch { 0 => null, 1 => "label-Confidential", _ => labels.Next(2) == 0 ? "label-Highly Confidential" : "label-Public" };
                switch (rng.Next(5))
                {
                    case 0: break; // shared with no one
                    case 1: t.Share(item, new FakePermission { Id = t.NextId(), Role = "read", Group = groups[rng.Next(groups.Count)] }); break;
                    case 2: t.Share(item, new FakePermission { Id = t.NextId(), Role = "write", User = users[rng.Next(users.Count)] }); break;
                    case 3: t.Share(item, new FakePermission { Id = t.NextId(), Role = "read", LinkScope = "organization" }); break;
                    default:
                        t.Share(item, new FakePermission { Id = t.NextId(), Role = "write", Group = groups[rng.Next(groups.Count)] });
                        t.Share(item, new FakePermission { Id = t.NextId(), Role = "read", Group = groups[rng.Next(groups.Count)] });
                        break;
                }
            }
        }

        return t;
    }

    /// <summary>The same tenant as snapshot@1, by formats.md: a group's site is connected to it (members write, owners owner), its files are connected to the group and carry the higher of its label and their own.</summary>
    private static string OfflineSnapshot(FakeTenant t)
    {
        static string Label(string? label) => label switch { "Confidential" => "Confidential", "Highly Confidential" => "HighlyConfidential", "Public" => "Public", _ => "General" };
        var sb = new StringBuilder();
        sb.Append("{ \"schema\": \"agentgovernance/snapshot@1\", \"tenant\": { \"id\": \"fabrikam.example\" }, \"principals\": [");
        var parts = new List<string>();
        foreach (var u in t.Users.Values)
        {
            parts.Add($"{{ \"id\": \"{u.Id}\", \"type\": \"user\", \"userPrincipalName\": \"{u.Upn}\", \"userType\": \"{(u.Guest ? "Guest" : "Member")}\", \"accountEnabled\": {(u.Enabled ? "true" : "false")} }}");
        }

        foreach (var g in t.Groups.Values)
        {
            parts.Add($"{{ \"id\": \"{g.Id}\", \"type\": \"group\", \"visibility\": \"{g.Visibility ?? "Private"}\", \"members\": [{string.Join(", ", g.Members.Select(m => $"\"{m}\""))}] }}");
        }

        sb.Append(string.Join(",\n", parts)).Append("], \"resources\": [");
        var resources = new List<string>();
        var grants = new List<string>();
        foreach (var (groupId, site) in t.GroupSites)
        {
            var g = t.Groups[groupId];
            var label = Label(g.Label);
            var siteId = "sites/" + site.Id;
            resources.Add($"{{ \"id\": \"{siteId}\", \"type\": \"site\", \"sensitivity\": \"{label}\", \"owners\": [{string.Join(", ", g.Owners.Select(o => $"\"{o}\""))}], \"group\": \"{groupId}\" }}");
            grants.Add($"{{ \"resource\": \"{siteId}\", \"principal\": \"{groupId}\", \"role\": \"write\" }}");
            grants.AddRange(g.Owners.Select(o => $"{{ \"resource\": \"{siteId}\", \"principal\": \"{o}\", \"role\": \"owner\" }}"));
            var drive = t.SiteDrive(site);
            foreach (var item in t.Items.Values.Where(i => i.Drive == drive && i.Permissions.Count > 0))
            {
                var id = $"drives/{drive}/items/{item.Id}";
                var own = Label(item.LabelId?.Substring("label-".Length));
                var order = new[] { "Public", "General", "Confidential", "HighlyConfidential" };
                var sensitivity = Array.IndexOf(order, own) > Array.IndexOf(order, label) ? own : label;
                resources.Add($"{{ \"id\": \"{id}\", \"type\": \"driveItem\", \"sensitivity\": \"{sensitivity}\", \"group\": \"{groupId}\" }}");
                foreach (var p in item.Permissions)
                {
                    var who = p.LinkScope switch { "organization" => "everyoneExceptExternal", "anonymous" => "anyone", _ => p.User ?? p.Group! };
                    grants.Add($"{{ \"resource\": \"{id}\", \"principal\": \"{who}\", \"role\": \"{p.Role}\" }}");
                }
            }
        }

        sb.Append(string.Join(",\n", resources)).Append("], \"grants\": [").Append(string.Join(",\n", grants)).Append("] }");
        return sb.ToString();
    }
}
