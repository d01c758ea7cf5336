using AgentGovernance.Changes;
using AgentGovernance.Directory;
using AgentGovernance.Tests.Support;

namespace AgentGovernance.Tests.Documents;

public sealed class ChangeDocumentTests
{
    private const string Head = "{\"schema\":\"agentgovernance/change@1\",";

    private static DocumentException Invalid(string json)
    {
        var e = Assert.Throws<DocumentException>(() => ChangeReader.ParseText(json, "c.json"));
        Assert.Equal("ChangeInvalid", e.ErrorId);
        return e;
    }

    [Fact]
    public void FormatsExampleReadsAndKeepsEveryField()
    {
        const string json = """
        {
          "schema": "agentgovernance/change@1",
          "title": "Let Data Platform read the pipeline exports",
          "justification": "Forum thread 4411",
          "suggestedBy": { "type": "agent", "id": "sp-helper", "displayName": "Helpdesk Copilot",
                           "source": "https://forum.contoso.com/t/4411" },
          "requestedBy": "bob@contoso.com",
          "duration": "PT2H",
          "operations": [
            { "op": "grant",        "resource": "site-userdata", "principal": "g-eng", "role": "read" },
            { "op": "revoke",       "resource": "site-userdata", "principal": "g-eng", "role": "read" },
            { "op": "addMember",    "group": "g-eng", "member": "u-joe" },
            { "op": "removeMember", "group": "g-eng", "member": "u-joe" },
            { "op": "setVisibility","group": "g-eng", "visibility": "Public" },
            { "op": "createLink",   "resource": "site-userdata", "scope": "anonymous", "role": "read" }
          ]
        }
        """;
        var c = ChangeReader.ParseText(json);
        Assert.Equal("Let Data Platform read the pipeline exports", c.Title);
        Assert.Equal("sp-helper", c.SuggestedBy!.Id);
        Assert.True(c.SuggestedBy.IsAgent);
        Assert.Equal(TimeSpan.FromHours(2), c.DurationTimeSpan);
        Assert.Equal(6, c.Operations.Count);
        Assert.Equal(AccessOperation.SetVisibility("g-eng", GroupVisibility.Public), c.Operations[4]);
        Assert.Equal(AccessOperation.CreateLink("site-userdata", LinkScope.Anonymous, "read"), c.Operations[5]);

        // Written back: the same change (same id), and writing is stable.
        var written = ChangeWriter.ToJson(c);
        var again = ChangeReader.ParseText(written);
        Assert.Equal(c.Id, again.Id);
        Assert.Equal(written, ChangeWriter.ToJson(again));
        Assert.Contains("\n    { \"op\": \"createLink\", \"resource\": \"site-userdata\", \"scope\": \"anonymous\", \"role\": \"read\" }", written);
    }

    [Fact]
    public void IdIsSha256OfTheCanonicalForm()
    {
        var a = ChangeReader.ParseText(Head + "\"operations\":[{\"op\":\"addMember\",\"group\":\"g\",\"member\":\"u\"}]}");
        var b = ChangeReader.ParseText("{ \"operations\": [ { \"member\": \"u\", \"group\": \"g\", \"op\": \"addMember\" } ],\n \"schema\": \"agentgovernance/change@1\" }");
        Assert.Equal(a.Id, b.Id);
        var canonical = "{\"operations\":[{\"group\":\"g\",\"member\":\"u\",\"op\":\"addMember\"}],\"schema\":\"agentgovernance/change@1\"}";
        Assert.Equal(canonical, a.ToCanonicalJson());
        Assert.Equal("sha256:" + AgentGovernance.Json.Hashing.Sha256Hex(System.Text.Encoding.UTF8.GetBytes(canonical)), a.Id);
        Assert.Matches("^sha256:[0-9a-f]{64}$", a.Id);
        // Any edit makes a different change.
        var c = ChangeReader.ParseText(Head + "\"title\":\"x\",\"operations\":[{\"op\":\"addMember\",\"group\":\"g\",\"member\":\"u\"}]}");
        Assert.NotEqual(a.Id, c.Id);
    }

    [Fact]
    public void TheIncidentDocumentIsValid()
    {
        var c = ChangeReader.ReadFile(Repo.Incident);
        Assert.Equal("sp-helper", c.SuggestedBy!.Id);
        Assert.Null(c.Duration);
    }

    [Theory]
    [InlineData("{\"operations\":[]}", "schema", "missing required field 'schema'")]
    [InlineData("{\"schema\":\"agentgovernance/change@2\",\"operations\":[]}", "schema", "unknown schema")]
    [InlineData(Head + "\"title\":\"t\"}", "operations", "missing required field 'operations'")]
    [InlineData(Head + "\"operations\":[]}", "operations", "at least one operation")]
    [InlineData(Head + "\"operations\":{}}", "operations", "expected an array")]
    [InlineData(Head + "\"ops\":[]}", "ops", "unknown field 'ops'")]
    [InlineData(Head + "\"title\":5,\"operations\":[{\"op\":\"addMember\",\"group\":\"g\",\"member\":\"u\"}]}", "title", "expected a string")]
    [InlineData(Head + "\"duration\":\"2 hours\",\"operations\":[{\"op\":\"addMember\",\"group\":\"g\",\"member\":\"u\"}]}", "duration", "not an ISO 8601 duration")]
    [InlineData(Head + "\"duration\":\"P1M\",\"operations\":[{\"op\":\"addMember\",\"group\":\"g\",\"member\":\"u\"}]}", "duration", "years or months")]
    [InlineData(Head + "\"duration\":\"PT0S\",\"operations\":[{\"op\":\"addMember\",\"group\":\"g\",\"member\":\"u\"}]}", "duration", "not a positive duration")]
    [InlineData(Head + "\"suggestedBy\":{\"id\":\"x\"},\"operations\":[{\"op\":\"addMember\",\"group\":\"g\",\"member\":\"u\"}]}", "suggestedBy", "missing required field 'type'")]
    [InlineData(Head + "\"suggestedBy\":{\"type\":\"robot\"},\"operations\":[{\"op\":\"addMember\",\"group\":\"g\",\"member\":\"u\"}]}", "suggestedBy.type", "not a suggester type")]
    [InlineData(Head + "\"operations\":[{\"op\":\"delete\",\"group\":\"g\"}]}", "operations[0].op", "'delete' is not an operation")]
    [InlineData(Head + "\"operations\":[{\"group\":\"g\"}]}", "operations[0]", "missing required field 'op'")]
    [InlineData(Head + "\"operations\":[{\"op\":\"grant\",\"resource\":\"r\",\"principal\":\"p\"}]}", "operations[0]", "needs 'role'")]
    [InlineData(Head + "\"operations\":[{\"op\":\"grant\",\"resource\":\"r\",\"principal\":\"p\",\"role\":\"read\",\"member\":\"u\"}]}", "operations[0].member", "does not belong to a grant operation")]
    [InlineData(Head + "\"operations\":[{\"op\":\"grant\",\"resource\":\"r\",\"principal\":\" \",\"role\":\"read\"}]}", "operations[0].principal", "cannot be empty")]
    [InlineData(Head + "\"operations\":[{\"op\":\"addMember\",\"group\":\"g\",\"member\":\"everyone\"}]}", "operations[0].member", "cannot be a group member")]
    [InlineData(Head + "\"operations\":[{\"op\":\"setVisibility\",\"group\":\"g\",\"visibility\":\"HiddenMembership\"}]}", "operations[0].visibility", "only be chosen when a group is created")]
    [InlineData(Head + "\"operations\":[{\"op\":\"setVisibility\",\"group\":\"g\",\"visibility\":\"Open\"}]}", "operations[0].visibility", "not a visibility")]
    [InlineData(Head + "\"operations\":[{\"op\":\"createLink\",\"resource\":\"r\",\"scope\":\"world\",\"role\":\"read\"}]}", "operations[0].scope", "not a link scope")]
    [InlineData(Head + "\"operations\":[{\"op\":\"createLink\",\"resource\":\"r\",\"scope\":\"anonymous\",\"role\":\"owner\"}]}", "operations[0].role", "read or write")]
    [InlineData(Head + "\"operations\":[{\"op\":\"addMember\",\"group\":\"g\",\"member\":\"u\",\"member\":\"v\"}]}", null, "appears twice")]
    public void StrictReaderNamesTheField(string json, string? field, string problem)
    {
        var e = Invalid(json);
        Assert.Equal(field, e.Field);
        Assert.Contains(problem, e.Problem);
        Assert.True(e.Line >= 1 && e.Column >= 1, e.Message);
    }

    [Fact]
    public void PositionsAreLineAndColumn()
    {
        var e = Invalid("{\n  \"schema\": \"agentgovernance/change@1\",\n  \"operations\": [\n    { \"op\": \"grant\", \"resource\": \"r\", \"principal\": \"p\", \"role\": 7 }\n  ]\n}");
        Assert.Equal("operations[0].role", e.Field);
        Assert.Equal(4, e.Line);
        Assert.Equal(65, e.Column);
        Assert.Equal("c.json:4:65: operations[0].role: expected a string, found a number", e.Message);
    }

    [Theory]
    [InlineData("PT2H", 2 * 3600)]
    [InlineData("P1D", 86400)]
    [InlineData("P2W", 14 * 86400)]
    [InlineData("P1DT12H", 36 * 3600)]
    [InlineData("PT90M", 5400)]
    [InlineData("PT1.5S", 1.5)]
    public void DurationsParse(string text, double seconds)
    {
        Assert.True(IsoDuration.TryParse(text, out var span, out _));
        Assert.Equal(seconds, span.TotalSeconds);
    }

    [Theory]
    [InlineData("P")]
    [InlineData("PT")]
    [InlineData("P1Y")]
    [InlineData("P1M")]
    [InlineData("P1W2D")]
    [InlineData("T2H")]
    [InlineData("PT-1H")]
    [InlineData("pt2h")]
    [InlineData("P99999D")]
    public void BadDurationsAreRefused(string text) => Assert.False(IsoDuration.TryParse(text, out _, out _));

    [Fact]
    public void DurationFormatRoundTrips()
    {
        foreach (var span in new[] { TimeSpan.FromHours(2), TimeSpan.FromDays(1.5), TimeSpan.FromMinutes(90), TimeSpan.FromSeconds(1.25) })
        {
            Assert.True(IsoDuration.TryParse(IsoDuration.Format(span), out var back, out _));
            Assert.Equal(span, back);
        }
    }
}
