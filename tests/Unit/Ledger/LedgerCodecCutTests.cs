using System.Text;
using AgentGovernance.Json;
using AgentGovernance.Ledger;

namespace AgentGovernance.Tests.Ledger;

/// <summary>
/// The decoder hashes a line as written, with its hash and sig members cut out, before it falls back to a
/// canonical form of the content. These lines are deliberately NOT canonical (their members out of order), so
/// only the cut-out bytes hash to the stored hash: a cut one byte off fails, because the canonical fallback
/// does not match either.
/// </summary>
public sealed class LedgerCodecCutTests
{
    private const string Sig = "\"sig\":\"AAAA\"";
    private const string Signer = "\"signer\":\"sha256:k\"";

    private static readonly string[] Rest =
    {
        "\"seq\":1", "\"time\":\"2026-12-07T10:00:00.000Z\"", "\"event\":\"Approved\"", "\"actor\":\"a@contoso.com\"",
        "\"details\":{\"n\":1}", "\"prev\":\"sha256:" + new string('0', 64) + "\"",
    };

    [Theory]
    [InlineData(0, 1)] // hash first, sig second
    [InlineData(1, 0)] // sig first, hash second
    [InlineData(0, 4)] // hash first, sig later
    [InlineData(4, 0)] // sig first, hash later
    [InlineData(3, 5)] // both inside
    [InlineData(5, 3)]
    [InlineData(2, 7)] // sig last
    [InlineData(7, 2)] // hash last
    public void TheHashCoversTheLineAsWrittenWithoutItsHashAndSigMembers(int hashAt, int sigAt)
    {
        var members = new List<string>(Rest) { Signer };
        var hashed = "{" + string.Join(",", members) + "}";
        var hash = Hashing.Sha256Id(Encoding.UTF8.GetBytes(hashed));
        var hashMember = "\"hash\":\"" + hash + "\"";
        // Insert the lower position first, so that each ends where its index says.
        foreach (var (at, member) in new[] { (hashAt, hashMember), (sigAt, Sig) }.OrderBy(x => x.Item1))
        {
            members.Insert(at, member);
        }

        var line = Encoding.UTF8.GetBytes("{" + string.Join(",", members) + "}");
        using var codec = new LedgerCodec();

        var entry = codec.Decode(new ArraySegment<byte>(line), out var matches, out var problem);

        Assert.Null(problem);
        Assert.NotNull(entry);
        Assert.Equal(hash, entry!.Hash);
        Assert.True(matches, Encoding.UTF8.GetString(line));
    }
}
