using System.Diagnostics;
using AgentGovernance.Directory;

namespace TenantGen;

/// <summary>
/// A large synthetic tenant for benchmarks. Shape (defaults in brackets):
/// <list type="bullet">
/// <item>users [300,000]: ~3% guests, ~2% disabled; service principals: users/1000 [300], ~12% agents.</item>
/// <item>groups [50,000]: 10% form an org tree (All Staff → divisions → ... → teams, at most 9 levels;
/// every user is in one leaf team), so the top of the tree has tens or hundreds of thousands of
/// transitive members. The other 90% get users by a skewed (Zipf-like, weight 1/(rank+20)) draw,
/// ~7.5 per user: a few groups of ~10k direct members, most of a handful. Of those, ~15% are
/// "containers" that nest 1-4 other groups (org units or plain groups), a few chains nest exactly 10
/// deep, and a few small cycles (2-4 groups) exist. ~8% Public, ~2% HiddenMembership.</item>
/// <item>resources [100,000]: ~R/10,000 directory roles (HighlyConfidential), then sites 15%,
/// driveItems 60%, mailboxes 15%, applications 10%; sensitivity Public 10% / General 50% /
/// Confidential 30% / HighlyConfidential 10%; ~10% personalData; most sites, half the mailboxes and
/// a fifth of the files connected to a group.</item>
/// <item>grants: 1-8 per resource (~4.8 on average) [~480k], 1% of resources with 20-60; plus R/5000 to everyone,
/// R/2000 to everyoneExceptExternal and R/10000 to anyone.</item>
/// </list>
/// The membership edges are drawn first (two ints each, then one); then everything is generated in
/// document order into <see cref="SnapshotWriter"/>, which holds the tenant in the module's snapshot
/// builder and writes it with the module's writer at the end (about 330 MiB at the defaults). Every
/// part draws from its own seeded stream.
/// </summary>
internal static class Large
{
    private const string TenantId = "tailspintoys.onmicrosoft.com";
    private const string Domain = "tailspintoys.com";
    private const string CapturedAt = "2026-11-20T09:00:00Z";
    private const int MaxOrgLevels = 9; // org tree depth in groups; a container on top makes 10
    private const int ChainLength = 10;
    private const double ZipfOffset = 20;

    private static readonly string[] OrgLevelNames =
        ["All Staff", "Division", "Department", "Area", "Unit", "Team", "Squad", "Crew", "Cell"];

    private static readonly string[] GroupKinds = ["Project", "Team", "Community", "Security", "Distribution List"];

    private enum Role : byte
    {
        Plain,
        Container,
        Chain,
        Cycle,
    }

    public static int Run(string path, int users, int groups, int resources, ulong seed)
    {
        if (users < 20 || groups < 20 || resources < 20)
        {
            Console.Error.WriteLine("large: --users, --groups and --resources must each be at least 20.");
            return 2;
        }

        var clock = Stopwatch.StartNew();
        var g = new Generator(users, groups, resources, seed);
        g.BuildMemberships();
        var buildTime = clock.Elapsed;
        g.Write(path);
        clock.Stop();

        var size = new FileInfo(path).Length;
        Console.WriteLine($"wrote {path}");
        Console.WriteLine($"principals      {g.U + g.S + g.G,12:N0}  (users {g.U:N0}: guests {g.Guests:N0}, disabled {g.Disabled:N0}; " +
                          $"service principals {g.S:N0}: agents {g.Agents:N0}; groups {g.G:N0})");
        Console.WriteLine($"groups          {g.G,12:N0}  (org tree {g.OrgCount:N0}, branching {g.Branching}; Public {g.PublicGroups:N0}, " +
                          $"HiddenMembership {g.HiddenGroups:N0}; {g.ChainCount} chains of {ChainLength}, {g.CycleCount} cycles; " +
                          $"largest direct membership {g.LargestGroup:N0})");
        Console.WriteLine($"resources       {g.R,12:N0}  (" + string.Join(", ", g.ResourceTypeCounts.Select(kv => $"{kv.Key} {kv.Value:N0}")) + "; " +
                          string.Join(", ", g.SensitivityCounts.Select((c, i) => $"{(Sensitivity)i} {c:N0}")) + $"; personalData {g.Personal:N0})");
        Console.WriteLine($"membership edges{g.MembershipEdges,12:N0}");
        Console.WriteLine($"grant edges     {g.GrantEdges,12:N0}  (everyone {g.AudienceGrants[0]}, everyoneExceptExternal {g.AudienceGrants[1]}, anyone {g.AudienceGrants[2]})");
        Console.WriteLine($"file size       {size,12:N0} bytes ({size / 1048576.0:F1} MiB)");
        Console.WriteLine($"time            {clock.Elapsed.TotalSeconds,12:F1} s (memberships {buildTime.TotalSeconds:F1} s), " +
                          $"peak working set {Process.GetCurrentProcess().PeakWorkingSet64 / 1048576} MiB");
        return 0;
    }

    private sealed class Generator
    {
        public readonly int U, S, G, R, OrgCount, Branching, ChainCount, CycleCount;
        private readonly int _n; // non-org groups
        private readonly int _firstLeaf;
        private readonly ulong _seed;
        private readonly int _wU, _wS, _wG, _wR;
        private readonly byte[] _level;
        private readonly Role[] _role; // per non-org group
        private int[] _memberStart = [];
        private int[] _members = [];

        public int Guests, Disabled, Agents, PublicGroups, HiddenGroups, LargestGroup, Personal;
        public long MembershipEdges, GrantEdges;
        public readonly int[] AudienceGrants = new int[3];
        public readonly int[] SensitivityCounts = new int[4];
        public readonly SortedDictionary<string, int> ResourceTypeCounts = new(StringComparer.Ordinal);

        public Generator(int users, int groups, int resources, ulong seed)
        {
            U = users;
            G = groups;
            R = resources;
            S = Math.Max(3, users / 1000);
            _seed = seed;
            OrgCount = Math.Max(1, groups / 10);
            _n = groups - OrgCount;
            _wU = Width(U, 6);
            _wS = Width(S, 4);
            _wG = Width(G, 5);
            _wR = Width(R, 6);

            // Smallest branching factor whose 9-level tree holds the org groups.
            var b = 2;
            while (Capacity(b, MaxOrgLevels) < OrgCount)
            {
                b++;
            }

            Branching = b;
            _firstLeaf = (OrgCount - 1 + b - 1) / b;
            _level = new byte[OrgCount];
            for (var i = 1; i < OrgCount; i++)
            {
                _level[i] = (byte)(_level[(i - 1) / b] + 1);
            }

            // Roles of the non-org groups, assigned along a random permutation.
            var rng = Prng.Derive(seed, 10);
            var perm = Enumerable.Range(0, _n).ToArray();
            rng.Shuffle(perm.AsSpan());
            _role = new Role[_n];
            ChainCount = _n >= 400 ? Math.Min(5, _n / 2000 + 1) : 1;
            CycleCount = Math.Max(1, _n / 4500);
            var next = 0;
            _chains = new int[ChainCount][];
            for (var c = 0; c < ChainCount; c++)
            {
                _chains[c] = new int[ChainLength];
                for (var k = 0; k < ChainLength; k++)
                {
                    _chains[c][k] = perm[next];
                    _role[perm[next++]] = Role.Chain;
                }
            }

            _cycles = new int[CycleCount][];
            for (var c = 0; c < CycleCount; c++)
            {
                _cycles[c] = new int[rng.Range(2, 4)];
                for (var k = 0; k < _cycles[c].Length; k++)
                {
                    _cycles[c][k] = perm[next];
                    _role[perm[next++]] = Role.Cycle;
                }
            }

            for (; next < _n; next++)
            {
                if (rng.Chance(0.15))
                {
                    _role[perm[next]] = Role.Container;
                }
            }
        }

        private readonly int[][] _chains;
        private readonly int[][] _cycles;

        private static long Capacity(int b, int levels)
        {
            long total = 0, width = 1;
            for (var l = 0; l < levels && total < int.MaxValue; l++)
            {
                total += width;
                width *= b;
            }

            return total;
        }

        private static int Width(int count, int min) => Math.Max(min, (count - 1).ToString(System.Globalization.CultureInfo.InvariantCulture).Length);

        private int NonOrg(int k) => OrgCount + k;

        private int EncUser(int i) => i;

        private int EncSp(int j) => U + j;

        private int EncGroup(int g) => U + S + g;

        public void BuildMemberships()
        {
            var from = new IntList(U * 9);
            var to = new IntList(U * 9);
            void Add(int group, int member)
            {
                from.Add(group);
                to.Add(member);
            }

            // Org tree.
            for (var i = 1; i < OrgCount; i++)
            {
                Add((i - 1) / Branching, EncGroup(i));
            }

            // Users: one leaf team each, plus ~7.5 skewed draws over the non-org groups.
            var rankToGroup = Enumerable.Range(0, _n).ToArray();
            var rngRank = Prng.Derive(_seed, 11);
            rngRank.Shuffle(rankToGroup.AsSpan());
            var cumulative = new double[_n];
            var total = 0.0;
            for (var r = 0; r < _n; r++)
            {
                total += 1.0 / (r + ZipfOffset);
                cumulative[r] = total;
            }

            var rng = Prng.Derive(_seed, 12);
            Span<int> drawn = stackalloc int[16];
            var leaves = OrgCount - _firstLeaf;
            for (var i = 0; i < U; i++)
            {
                Add(_firstLeaf + rng.NextInt(leaves), EncUser(i));
                var k = rng.NextInt(16);
                var count = 0;
                for (var d = 0; d < k; d++)
                {
                    var x = rng.NextDouble() * total;
                    var rank = Array.BinarySearch(cumulative, x);
                    rank = rank < 0 ? ~rank : rank + 1;
                    if (rank >= _n)
                    {
                        rank = _n - 1;
                    }

                    var grp = NonOrg(rankToGroup[rank]);
                    if (!drawn[..count].Contains(grp))
                    {
                        drawn[count++] = grp;
                        Add(grp, EncUser(i));
                    }
                }
            }

            // Service principals: ~30% are in one or two groups.
            var rngSp = Prng.Derive(_seed, 13);
            for (var j = 0; j < S; j++)
            {
                if (rngSp.Chance(0.3))
                {
                    var c = 1 + rngSp.NextInt(2);
                    for (var d = 0; d < c; d++)
                    {
                        Add(NonOrg(rngSp.NextInt(_n)), EncSp(j));
                    }
                }
            }

            // Containers nest 1-4 org units or plain/cycle groups (never a container or chain group, so
            // no nesting path is longer than 10 groups apart from the cycles).
            var rngNest = Prng.Derive(_seed, 14);
            for (var k = 0; k < _n; k++)
            {
                if (_role[k] != Role.Container)
                {
                    continue;
                }

                var c = 1 + rngNest.NextInt(4);
                for (var d = 0; d < c; d++)
                {
                    if (rngNest.Chance(0.4))
                    {
                        Add(NonOrg(k), EncGroup(rngNest.NextInt(OrgCount)));
                        continue;
                    }

                    for (var attempt = 0; attempt < 32; attempt++)
                    {
                        var target = rngNest.NextInt(_n);
                        if (_role[target] is Role.Plain or Role.Cycle)
                        {
                            Add(NonOrg(k), EncGroup(NonOrg(target)));
                            break;
                        }
                    }
                }
            }

            foreach (var chain in _chains)
            {
                for (var k = 0; k + 1 < chain.Length; k++)
                {
                    Add(NonOrg(chain[k]), EncGroup(NonOrg(chain[k + 1])));
                }
            }

            foreach (var cycle in _cycles)
            {
                for (var k = 0; k < cycle.Length; k++)
                {
                    Add(NonOrg(cycle[k]), EncGroup(NonOrg(cycle[(k + 1) % cycle.Length])));
                }
            }

            // No empty groups: give each one a user.
            var counts = new int[G];
            for (var e = 0; e < from.Count; e++)
            {
                counts[from[e]]++;
            }

            var rngFix = Prng.Derive(_seed, 15);
            for (var grp = 0; grp < G; grp++)
            {
                if (counts[grp] == 0)
                {
                    Add(grp, EncUser(rngFix.NextInt(U)));
                }
            }

            // Group by group (counting sort), then sort and de-duplicate each group's members.
            var start = new int[G + 1];
            for (var e = 0; e < from.Count; e++)
            {
                start[from[e] + 1]++;
            }

            for (var grp = 0; grp < G; grp++)
            {
                start[grp + 1] += start[grp];
            }

            var fill = (int[])start.Clone();
            var members = new int[from.Count];
            for (var e = 0; e < from.Count; e++)
            {
                members[fill[from[e]]++] = to[e];
            }

            from = null!;
            to = null!;
            var write = 0;
            for (var grp = 0; grp < G; grp++)
            {
                var seg = members.AsSpan(start[grp], start[grp + 1] - start[grp]);
                seg.Sort();
                start[grp] = write;
                for (var i = 0; i < seg.Length; i++)
                {
                    if (i == 0 || seg[i] != seg[i - 1])
                    {
                        members[write++] = seg[i];
                    }
                }

                LargestGroup = Math.Max(LargestGroup, write - start[grp]);
            }

            start[G] = write;
            _memberStart = start;
            _members = members;
            MembershipEdges = write;
        }

        public void Write(string path)
        {
            using var w = new SnapshotWriter(path, U + S + G, R);
            w.Begin(TenantId, "Tailspin Toys (synthetic, seed " + _seed.ToString(System.Globalization.CultureInfo.InvariantCulture) + ")", CapturedAt);
            Span<char> id = stackalloc char[32];

            // Users.
            var lowerFirst = Names.First.Select(Names.Slug).ToArray();
            var lowerLast = Names.Last.Select(Names.Slug).ToArray();
            var rng = Prng.Derive(_seed, 20);
            for (var i = 0; i < U; i++)
            {
                var guest = rng.Chance(0.03);
                var disabled = rng.Chance(0.02);
                var f = rng.NextInt(Names.First.Length);
                var l = rng.NextInt(Names.Last.Length);
                var n = FormatId(id, "u-", i, _wU);
                string upn;
                if (guest)
                {
                    Guests++;
                    var vendor = Names.Vendors[rng.NextInt(Names.Vendors.Length)];
                    upn = $"{lowerFirst[f]}.{lowerLast[l]}{i}_{vendor}#EXT#@{TenantId}";
                }
                else
                {
                    upn = $"{lowerFirst[f]}.{lowerLast[l]}{i}@{Domain}";
                }

                if (disabled)
                {
                    Disabled++;
                }

                w.User(id[..n], Names.First[f] + " " + Names.Last[l], upn, null, guest, disabled);
            }

            // Service principals.
            var rngSp = Prng.Derive(_seed, 21);
            for (var j = 0; j < S; j++)
            {
                var agent = j == 0 || rngSp.Chance(0.12);
                var word = Names.Words[rngSp.NextInt(Names.Words.Length)];
                if (agent)
                {
                    Agents++;
                }

                var n = FormatId(id, "sp-", j, _wS);
                w.ServicePrincipal(id[..n], agent ? $"{word} Copilot {j}" : $"{word} Service {j}", agent);
            }

            // Groups.
            var rngG = Prng.Derive(_seed, 22);
            Span<char> mid = stackalloc char[32];
            for (var grp = 0; grp < G; grp++)
            {
                string name;
                string? nickname = null;
                var visibility = GroupVisibility.Private;
                if (grp < OrgCount)
                {
                    name = grp == 0 ? OrgLevelNames[0] : $"{OrgLevelNames[_level[grp]]} {grp}";
                }
                else
                {
                    var word = Names.Words[rngG.NextInt(Names.Words.Length)];
                    var kind = GroupKinds[rngG.NextInt(GroupKinds.Length)];
                    name = $"{word} {kind} {grp}";
                    if (rngG.Chance(0.5))
                    {
                        nickname = $"{Names.Slug(word)}-{grp}";
                    }

                    var v = rngG.NextDouble();
                    visibility = v < 0.08 ? GroupVisibility.Public : v < 0.10 ? GroupVisibility.HiddenMembership : GroupVisibility.Private;
                }

                if (visibility == GroupVisibility.Public)
                {
                    PublicGroups++;
                }
                else if (visibility == GroupVisibility.HiddenMembership)
                {
                    HiddenGroups++;
                }

                var n = FormatId(id, "g-", grp, _wG);
                var from = _memberStart[grp];
                var to = _memberStart[grp + 1];
                w.BeginGroup(id[..n], name, nickname is null ? null : nickname + "@" + Domain, nickname, visibility);
                for (var e = from; e < to; e++)
                {
                    w.Member(mid[..FormatMember(mid, _members[e])]);
                }

                w.EndGroup();
            }

            _members = [];

            // Resources.
            w.BeginResources();
            var roles = Math.Max(1, R / 10000);
            var types = new byte[R]; // 0 role, 1 site, 2 driveItem, 3 mailbox, 4 application
            string[] typeNames = ["directoryRole", "site", "driveItem", "mailbox", "application"];
            string[] prefixes = ["role-", "site-", "item-", "mbx-", "app-"];
            string[] extensions = [".docx", ".xlsx", ".pptx", ".pdf", ".csv"];
            var rngR = Prng.Derive(_seed, 23);
            var owners = new string[2];
            Span<char> gid = stackalloc char[32];
            for (var i = 0; i < R; i++)
            {
                byte type;
                if (i < roles)
                {
                    type = 0;
                }
                else
                {
                    var t = rngR.NextDouble();
                    type = t < 0.15 ? (byte)1 : t < 0.75 ? (byte)2 : t < 0.90 ? (byte)3 : (byte)4;
                }

                types[i] = type;
                ResourceTypeCounts[typeNames[type]] = ResourceTypeCounts.GetValueOrDefault(typeNames[type]) + 1;
                var word = Names.Words[rngR.NextInt(Names.Words.Length)];
                string name = type switch
                {
                    0 => i < Names.DirectoryRoles.Length ? Names.DirectoryRoles[i] : $"{Names.DirectoryRoles[i % Names.DirectoryRoles.Length]} {i}",
                    1 => $"{word} Site {i}",
                    2 => $"{word} {i}{extensions[rngR.NextInt(extensions.Length)]}",
                    3 => $"{Names.Slug(word)}.{i}@{Domain}",
                    _ => $"{word} App {i}",
                };

                Sensitivity sensitivity;
                var personal = false;
                var ownerCount = 0;
                var group = -1;
                if (type == 0)
                {
                    sensitivity = Sensitivity.HighlyConfidential;
                }
                else
                {
                    var s = rngR.NextDouble();
                    sensitivity = s < 0.10 ? Sensitivity.Public : s < 0.60 ? Sensitivity.General
                        : s < 0.90 ? Sensitivity.Confidential : Sensitivity.HighlyConfidential;
                    personal = rngR.Chance(0.10);
                    ownerCount = rngR.Chance(0.3) ? 2 : 1;
                    for (var o = 0; o < ownerCount; o++)
                    {
                        var owner = rngR.NextInt(U);
                        owners[o] = new string(id[..FormatId(id, "u-", owner, _wU)]);
                    }

                    if (ownerCount == 2 && owners[0] == owners[1])
                    {
                        ownerCount = 1;
                    }

                    var connect = type switch { 1 => 0.7, 2 => 0.2, 3 => 0.5, _ => 0.0 };
                    if (rngR.Chance(connect))
                    {
                        group = NonOrg(rngR.NextInt(_n));
                    }
                }

                SensitivityCounts[(int)sensitivity]++;
                if (personal)
                {
                    Personal++;
                }

                var n = FormatId(id, prefixes[type], i, _wR);
                var gn = group >= 0 ? FormatId(gid, "g-", group, _wG) : 0;
                w.Resource(id[..n], typeNames[type], name,
                    type == 1 ? $"https://tailspintoys.sharepoint.com/sites/S{i}" : null,
                    sensitivity, personal, owners.AsSpan(0, ownerCount), gid[..gn]);
            }

            // Grants.
            w.BeginGrants();
            var rngAud = Prng.Derive(_seed, 24);
            var audience = new byte[R]; // bit 1 everyone, 2 everyoneExceptExternal, 4 anyone
            (int Count, byte Bit)[] audiences = [(Math.Max(1, R / 5000), 1), (Math.Max(1, R / 2000), 2), (Math.Max(1, R / 10000), 4)];
            foreach (var (count, bit) in audiences)
            {
                for (var c = 0; c < count; c++)
                {
                    audience[roles + rngAud.NextInt(R - roles)] |= bit;
                }
            }

            var rngGr = Prng.Derive(_seed, 25);
            var chosen = new List<int>(64);
            Span<char> pid = stackalloc char[32];
            for (var i = 0; i < R; i++)
            {
                var n = FormatId(id, prefixes[types[i]], i, _wR);
                var res = id[..n];
                chosen.Clear();
                if (types[i] == 0)
                {
                    var k = 2 + rngGr.NextInt(5);
                    for (var c = 0; c < k; c++)
                    {
                        var p = rngGr.Chance(0.2) ? EncGroup(NonOrg(rngGr.NextInt(_n))) : EncUser(rngGr.NextInt(U));
                        if (!chosen.Contains(p))
                        {
                            chosen.Add(p);
                            w.Grant(res, pid[..FormatMember(pid, p)], "owner");
                            GrantEdges++;
                        }
                    }

                    continue;
                }

                var grants = rngGr.Chance(0.01) ? 20 + rngGr.NextInt(41) : 1 + rngGr.NextInt(8);
                for (var c = 0; c < grants; c++)
                {
                    var kind = rngGr.NextDouble();
                    int p;
                    if (kind < 0.45)
                    {
                        p = rngGr.Chance(0.15) ? EncGroup(rngGr.NextInt(OrgCount)) : EncGroup(NonOrg(rngGr.NextInt(_n)));
                    }
                    else if (kind < 0.93)
                    {
                        p = EncUser(rngGr.NextInt(U));
                    }
                    else
                    {
                        p = EncSp(rngGr.NextInt(S));
                    }

                    var rr = rngGr.NextDouble();
                    var role = rr < 0.70 ? "read" : rr < 0.95 ? "write" : "owner";
                    if (!chosen.Contains(p))
                    {
                        chosen.Add(p);
                        w.Grant(res, pid[..FormatMember(pid, p)], role);
                        GrantEdges++;
                    }
                }

                if ((audience[i] & 1) != 0)
                {
                    w.Grant(res, "everyone", "read");
                    AudienceGrants[0]++;
                    GrantEdges++;
                }

                if ((audience[i] & 2) != 0)
                {
                    w.Grant(res, "everyoneExceptExternal", "read");
                    AudienceGrants[1]++;
                    GrantEdges++;
                }

                if ((audience[i] & 4) != 0)
                {
                    w.Grant(res, "anyone", "read");
                    AudienceGrants[2]++;
                    GrantEdges++;
                }
            }

            w.End();
        }

        private int FormatMember(Span<char> buf, int m) =>
            m < U ? FormatId(buf, "u-", m, _wU)
            : m < U + S ? FormatId(buf, "sp-", m - U, _wS)
            : FormatId(buf, "g-", m - U - S, _wG);

        /// <summary>Writes prefix + n zero-padded to width into buf; returns the length.</summary>
        private static int FormatId(Span<char> buf, string prefix, int n, int width)
        {
            prefix.AsSpan().CopyTo(buf);
            var end = prefix.Length + width;
            for (var p = end - 1; p >= prefix.Length; p--)
            {
                buf[p] = (char)('0' + n % 10);
                n /= 10;
            }

            return end;
        }
    }

    /// <summary>A growable int array without List's per-call overhead.</summary>
    private sealed class IntList(int capacity)
    {
        private int[] _items = new int[Math.Max(16, capacity)];

        public int Count { get; private set; }

        public int this[int i] => _items[i];

        public void Add(int value)
        {
            if (Count == _items.Length)
            {
                Array.Resize(ref _items, _items.Length * 2);
            }

            _items[Count++] = value;
        }
    }
}
