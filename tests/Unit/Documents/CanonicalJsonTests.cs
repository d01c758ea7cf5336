using System.Text.Json;
using AgentGovernance.Json;

namespace AgentGovernance.Tests.Documents;

public sealed class CanonicalJsonTests
{
    [Fact]
    public void Rfc8785Example()
    {
        // RFC 8785 §3.2.2 (the example document and its canonical form).
        const string input = "{\n  \"numbers\": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],\n  \"string\": \"\\u20ac$\\u000F\\u000aA'\\u0042\\u0022\\u005c\\\\\\\"\\/\",\n  \"literals\": [null, true, false]\n}";
        Assert.Equal("{\"literals\":[null,true,false],\"numbers\":[333333333.3333333,1e+30,4.5,0.002,1e-27],\"string\":\"€$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}", CanonicalJson.Canonicalize(input));
    }

    [Theory]
    [InlineData("0", "0")]
    [InlineData("-0", "0")]
    [InlineData("1", "1")]
    [InlineData("-1.5", "-1.5")]
    [InlineData("5e-324", "5e-324")]
    [InlineData("1.7976931348623157e308", "1.7976931348623157e+308")]
    [InlineData("9007199254740992", "9007199254740992")]
    [InlineData("1e21", "1e+21")]
    [InlineData("1e20", "100000000000000000000")]
    [InlineData("1e-7", "1e-7")]
    [InlineData("0.000001", "0.000001")]
    [InlineData("123456789012345680000", "123456789012345680000")]
    [InlineData("0.1", "0.1")]
    [InlineData("295147905179352830000", "295147905179352830000")]
    public void NumbersUseTheEcmaScriptForm(string json, string expected) => Assert.Equal(expected, CanonicalJson.Canonicalize(json));

    [Fact]
    public void MembersAreSortedByUtf16CodeUnits()
    {
        // RFC 8785 §3.2.3: sorting compares UTF-16 code units, so U+1F600 (a surrogate pair, D83D...) sorts before U+FB33.
        var canonical = CanonicalJson.Canonicalize("{\"\\ufb33\":1,\"\\ud83d\\ude00\":2,\"a\":3,\"B\":4,\"\\u00e9\":5}");
        Assert.Equal("{\"B\":4,\"a\":3,\"é\":5,\"😀\":2,\"דּ\":1}", canonical);
    }

    [Fact]
    public void DuplicateMemberNamesHaveNoCanonicalForm() =>
        Assert.Throws<FormatException>(() => CanonicalJson.Canonicalize("{\"a\":1,\"a\":2}"));

    [Fact]
    public void ControlCharactersUseLowercaseHexEscapes() =>
        Assert.Equal("\"\\u0001\\b\\t\\n\\f\\r\\u001f <>&'\"", CanonicalJson.Canonicalize("\"\\u0001\\b\\t\\n\\f\\r\\u001f <>&'\""));

    [Fact]
    public void HashIsSha256OfTheCanonicalBytes()
    {
        using var doc = JsonDocument.Parse("{ \"b\": 1, \"a\": \"x\" }");
        // sha256 of {"a":"x","b":1}
        Assert.Equal("sha256:" + Hashing.Sha256Hex(System.Text.Encoding.UTF8.GetBytes("{\"a\":\"x\",\"b\":1}")), CanonicalJson.Hash(doc.RootElement));
        Assert.Equal("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", Hashing.Sha256Id(Array.Empty<byte>()));
    }
}
