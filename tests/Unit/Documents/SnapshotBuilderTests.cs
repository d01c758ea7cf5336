using AgentGovernance.Directory;

namespace AgentGovernance.Tests.Documents;

/// <summary>
/// The builder keeps memberships as runs of one group (issue 16): runs in group order are the compressed
/// rows as they stand, any other order is grouped; both must give the same members and parents.
/// </summary>
public sealed class SnapshotBuilderTests
{
    private static AccessSnapshot Build(IEnumerable<(int Group, int Member)> memberships)
    {
        var b = new SnapshotBuilder("t", 8, 0);
        for (var i = 0; i < 4; i++) b.AddPrincipal("u" + i, PrincipalType.User);
        for (var i = 0; i < 3; i++) b.AddPrincipal("g" + i, PrincipalType.Group);
        foreach (var (g, m) in memberships) b.AddMember(g + AccessSnapshot.FirstPrincipal, m + AccessSnapshot.FirstPrincipal);
        return b.Build();
    }

    private static string Rows(AccessSnapshot s)
    {
        var parts = new List<string>();
        for (var i = AccessSnapshot.FirstPrincipal; i < s.PrincipalSlots; i++)
        {
            parts.Add(s.PrincipalId(i) + ":[" + string.Join(",", s.MembersOf(i).ToArray().Select(s.PrincipalId)) + "]^[" + string.Join(",", s.ParentsOf(i).ToArray().Select(s.PrincipalId)) + "]");
        }

        return string.Join(" ", parts);
    }

    [Fact]
    public void MembershipsInAnyOrderGiveTheSameRowsAsInGroupOrder()
    {
        // g0 = 4, g1 = 5, g2 = 6 (principal ordinals); members u0..u3 and g0 (nested into g2).
        var inOrder = new[] { (4, 0), (4, 1), (5, 1), (5, 2), (5, 3), (6, 4), (6, 0) };
        var shuffled = new[] { (5, 1), (6, 4), (4, 0), (5, 2), (6, 0), (4, 1), (5, 3) };

        var expected = "u0:[]^[g0,g2] u1:[]^[g0,g1] u2:[]^[g1] u3:[]^[g1] g0:[u0,u1]^[g2] g1:[u1,u2,u3]^[] g2:[g0,u0]^[]";
        Assert.Equal(expected, Rows(Build(inOrder)));
        Assert.Equal("u0:[]^[g0,g2] u1:[]^[g1,g0] u2:[]^[g1] u3:[]^[g1] g0:[u0,u1]^[g2] g1:[u1,u2,u3]^[] g2:[g0,u0]^[]", Rows(Build(shuffled)));
        Assert.Equal(7, Build(shuffled).MembershipCount);
    }

    [Fact]
    public void MoreMembershipsThanTheBuilderGuessedAreAllKept()
    {
        // The builder's first guess is four memberships a principal; many more make it grow.
        var many = Enumerable.Range(0, 4).SelectMany(m => Enumerable.Range(0, 3).Select(g => (g + 4, m))).ToList();
        var lots = new List<(int, int)>();
        for (var round = 0; round < 10; round++) lots.AddRange(many);
        var s = Build(lots.OrderBy(x => x.Item1));

        Assert.Equal(120, s.MembershipCount);
        Assert.Equal(40, s.MembersOf(4 + AccessSnapshot.FirstPrincipal).Length);
    }
}
