using System.Text;
using AgentGovernance.Changes;
using AgentGovernance.Directory;
using AgentGovernance.Json;

namespace AgentGovernance.Tests.Engine;

/// <summary>
/// A deliberately simple tenant model and effective-access computation, written straight from
/// formats.md with no shared code, used as the oracle for the engine.
/// </summary>
public sealed class TenantModel
{
    public sealed class Node
    {
        public required string Id { get; init; }
        public required string Type { get; init; } // user | group | servicePrincipal
        public bool Guest { get; init; }
        public bool Enabled { get; init; } = true;
        public bool Agent { get; init; }
        public string Visibility { get; set; } = "Private";
        public List<string> Members { get; } = new();
    }

    public sealed class Res
    {
        public required string Id { get; init; }
        public string Type { get; init; } = "site";
        public Sensitivity Sensitivity { get; init; } = Sensitivity.General;
        public bool PersonalData { get; init; }
        public string? Group { get; init; }
    }

    public List<Node> Principals { get; } = new();
    public List<Res> Resources { get; } = new();
    public List<(string Resource, string Principal, string Role)> Grants { get; } = new();

    public Node P(string id) => Principals.Single(p => p.Id == id);

    public TenantModel Clone()
    {
        var c = new TenantModel();
        foreach (var p in Principals)
        {
            var n = new Node { Id = p.Id, Type = p.Type, Guest = p.Guest, Enabled = p.Enabled, Agent = p.Agent, Visibility = p.Visibility };
            n.Members.AddRange(p.Members);
            c.Principals.Add(n);
        }

        c.Resources.AddRange(Resources);
        c.Grants.AddRange(Grants);
        return c;
    }

    public string ToJson()
    {
        var sb = new StringBuilder();
        sb.Append("{\"schema\":\"agentgovernance/snapshot@1\",\"tenant\":{\"id\":\"t\"},\"principals\":[");
        sb.Append(string.Join(",", Principals.Select(p =>
        {
            var f = new List<string> { $"\"id\":{JsonText.Quote(p.Id)}", $"\"type\":\"{p.Type}\"" };
            if (p.Type == "user") f.Add($"\"userType\":\"{(p.Guest ? "Guest" : "Member")}\"");
            if (p.Type != "group") f.Add($"\"accountEnabled\":{(p.Enabled ? "true" : "false")}");
            if (p.Agent) f.Add("\"isAgent\":true");
            if (p.Type == "group")
            {
                f.Add($"\"visibility\":\"{p.Visibility}\"");
                f.Add("\"members\":[" + string.Join(",", p.Members.Select(JsonText.Quote)) + "]");
            }

            return "{" + string.Join(",", f) + "}";
        })));
        sb.Append("],\"resources\":[");
        sb.Append(string.Join(",", Resources.Select(r =>
            $"{{\"id\":{JsonText.Quote(r.Id)},\"type\":\"{r.Type}\",\"sensitivity\":\"{r.Sensitivity}\",\"personalData\":{(r.PersonalData ? "true" : "false")}" +
            (r.Group is null ? "" : $",\"group\":{JsonText.Quote(r.Group)}") + "}")));
        sb.Append("],\"grants\":[");
        sb.Append(string.Join(",", Grants.Select(g => $"{{\"resource\":{JsonText.Quote(g.Resource)},\"principal\":{JsonText.Quote(g.Principal)},\"role\":{JsonText.Quote(g.Role)}}}")));
        sb.Append("]}");
        return sb.ToString();
    }

    /// <summary>Transitive members of a group (cycles allowed).</summary>
    public HashSet<string> MembersOf(string group)
    {
        var seen = new HashSet<string>();
        var stack = new Stack<string>();
        stack.Push(group);
        while (stack.Count > 0)
        {
            foreach (var m in P(stack.Pop()).Members)
            {
                if (seen.Add(m) && P(m).Type == "group")
                {
                    stack.Push(m);
                }
            }
        }

        return seen;
    }

    private static AccessRole Level(string role) => role switch { "owner" => AccessRole.Owner, "write" => AccessRole.Write, _ => AccessRole.Read };

    /// <summary>Highest role per (countable principal or "anyone", resource), straight from the definition.</summary>
    public Dictionary<(string Principal, string Resource), AccessRole> Effective()
    {
        var result = new Dictionary<(string, string), AccessRole>();
        var closures = Principals.Where(p => p.Type == "group").ToDictionary(g => g.Id, g => MembersOf(g.Id));
        var countable = Principals.Where(p => p.Type != "group" && p.Enabled).ToList();
        foreach (var r in Resources)
        {
            void Raise(string who, AccessRole role)
            {
                if (!result.TryGetValue((who, r.Id), out var cur) || role > cur)
                {
                    result[(who, r.Id)] = role;
                }
            }

            foreach (var g in Grants.Where(g => g.Resource == r.Id))
            {
                var lvl = Level(g.Role);
                if (g.Principal == "anyone")
                {
                    Raise("anyone", lvl);
                    continue;
                }

                foreach (var p in countable)
                {
                    var reaches = g.Principal == p.Id
                        || (g.Principal == "everyone" && p.Type == "user")
                        || (g.Principal == "everyoneExceptExternal" && p.Type == "user" && !p.Guest)
                        || (closures.TryGetValue(g.Principal, out var members) && members.Contains(p.Id));
                    if (reaches)
                    {
                        Raise(p.Id, lvl);
                    }
                }
            }

            if (r.Group is not null && P(r.Group).Visibility == "Public")
            {
                foreach (var p in countable.Where(p => p.Type == "user" && !p.Guest))
                {
                    Raise(p.Id, AccessRole.Read);
                }
            }
        }

        return result;
    }

    /// <summary>Applies an operation the way formats.md describes; false when the preview must refuse it.</summary>
    public bool TryApply(AccessOperation op)
    {
        switch (op.Op)
        {
            case OperationKind.Grant:
                if (!Grants.Contains((op.Resource!, op.Principal!, op.Role!))) Grants.Add((op.Resource!, op.Principal!, op.Role!));
                return true;
            case OperationKind.Revoke:
                return Grants.Remove((op.Resource!, op.Principal!, op.Role!));
            case OperationKind.CreateLink:
            {
                var who = op.Scope == LinkScope.Anonymous ? "anyone" : "everyoneExceptExternal";
                if (!Grants.Contains((op.Resource!, who, op.Role!))) Grants.Add((op.Resource!, who, op.Role!));
                return true;
            }

            case OperationKind.AddMember:
                if (op.Group == op.Member) return false;
                if (!P(op.Group!).Members.Contains(op.Member!)) P(op.Group!).Members.Add(op.Member!);
                return true;
            case OperationKind.RemoveMember:
                return P(op.Group!).Members.Remove(op.Member!);
            default:
                P(op.Group!).Visibility = op.Visibility!.Value.ToString();
                return true;
        }
    }

    /// <summary>A random small tenant: nesting with cycles, guests, disabled users, agents, audiences, Public groups.</summary>
    public static TenantModel Random(Random rng)
    {
        var m = new TenantModel();
        var users = rng.Next(1, 10);
        var groups = rng.Next(1, 7);
        var sps = rng.Next(0, 3);
        for (var i = 0; i < users; i++)
        {
            m.Principals.Add(new Node { Id = $"u{i}", Type = "user", Guest = rng.Next(5) == 0, Enabled = rng.Next(6) != 0, Agent = rng.Next(8) == 0 });
        }

        for (var i = 0; i < sps; i++)
        {
            m.Principals.Add(new Node { Id = $"sp{i}", Type = "servicePrincipal", Enabled = rng.Next(6) != 0, Agent = rng.Next(2) == 0 });
        }

        for (var i = 0; i < groups; i++)
        {
            m.Principals.Add(new Node { Id = $"g{i}", Type = "group", Visibility = rng.Next(4) == 0 ? "Public" : "Private" });
        }

        var all = m.Principals.Select(p => p.Id).ToList();
        foreach (var g in m.Principals.Where(p => p.Type == "group"))
        {
            foreach (var candidate in all)
            {
                // Any member, groups included (so cycles and self-loops through others happen).
                if (candidate != g.Id && rng.Next(4) == 0)
                {
                    g.Members.Add(candidate);
                }
            }
        }

        var resources = rng.Next(1, 5);
        var groupIds = m.Principals.Where(p => p.Type == "group").Select(p => p.Id).ToList();
        for (var i = 0; i < resources; i++)
        {
            m.Resources.Add(new Res
            {
                Id = $"r{i}",
                Type = rng.Next(6) == 0 ? "directoryRole" : "site",
                Sensitivity = (Sensitivity)rng.Next(4),
                PersonalData = rng.Next(3) == 0,
                Group = rng.Next(3) == 0 ? groupIds[rng.Next(groupIds.Count)] : null,
            });
        }

        var grantees = all.Concat(new[] { "everyone", "everyoneExceptExternal", "anyone" }).ToList();
        foreach (var r in m.Resources)
        {
            var n = rng.Next(0, 4);
            for (var i = 0; i < n; i++)
            {
                var g = (r.Id, grantees[rng.Next(grantees.Count)], RandomRole(rng));
                if (!m.Grants.Contains(g)) m.Grants.Add(g);
            }
        }

        return m;
    }

    public static string RandomRole(Random rng) => rng.Next(5) switch { 0 => "owner", 1 => "write", 2 => "contribute", _ => "read" };

    public AccessOperation RandomOperation(Random rng)
    {
        var ids = Principals.Select(p => p.Id).ToList();
        var groupIds = Principals.Where(p => p.Type == "group").Select(p => p.Id).ToList();
        var r = Resources[rng.Next(Resources.Count)].Id;
        switch (rng.Next(7))
        {
            case 0:
            case 1:
                return AccessOperation.Grant(r, ids.Concat(new[] { "everyone", "everyoneExceptExternal", "anyone" }).ElementAt(rng.Next(ids.Count + 3)), RandomRole(rng));
            case 2:
                if (Grants.Count > 0 && rng.Next(4) != 0)
                {
                    var g = Grants[rng.Next(Grants.Count)];
                    return AccessOperation.Revoke(g.Resource, g.Principal, g.Role);
                }

                return AccessOperation.Revoke(r, ids[rng.Next(ids.Count)], "read");
            case 3:
                return AccessOperation.AddMember(groupIds[rng.Next(groupIds.Count)], ids[rng.Next(ids.Count)]);
            case 4:
            {
                var g = P(groupIds[rng.Next(groupIds.Count)]);
                return AccessOperation.RemoveMember(g.Id, g.Members.Count > 0 && rng.Next(4) != 0 ? g.Members[rng.Next(g.Members.Count)] : ids[rng.Next(ids.Count)]);
            }

            case 5:
                return AccessOperation.SetVisibility(groupIds[rng.Next(groupIds.Count)], rng.Next(2) == 0 ? GroupVisibility.Public : GroupVisibility.Private);
            default:
                return AccessOperation.CreateLink(r, rng.Next(2) == 0 ? LinkScope.Anonymous : LinkScope.Organization, rng.Next(3) == 0 ? "write" : "read");
        }
    }
}
