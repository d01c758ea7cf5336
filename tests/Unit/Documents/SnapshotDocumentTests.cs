using System.Text;
using AgentGovernance.Directory;
using AgentGovernance.Tests.Support;

namespace AgentGovernance.Tests.Documents;

public sealed class SnapshotDocumentTests
{
    private const string Head = "{\"schema\":\"agentgovernance/snapshot@1\",\"tenant\":{\"id\":\"t\"},";

    private static DocumentException Invalid(string json)
    {
        var e = Assert.Throws<DocumentException>(() => SnapshotReader.ParseText(json, "x.json"));
        Assert.Equal("SnapshotInvalid", e.ErrorId);
        Assert.Equal("x.json", e.File);
        return e;
    }

    [Fact]
    public void DemoTenantLoadsAndRoundTripsByteForByte()
    {
        var snapshot = SnapshotReader.ReadFile(Repo.DemoSnapshot);
        Assert.Equal("contoso.onmicrosoft.com", snapshot.TenantId);
        Assert.True(snapshot.UserCount >= 300);
        var once = SnapshotWriter.WriteString(snapshot);
        var again = SnapshotWriter.WriteString(SnapshotReader.ParseText(once));
        Assert.Equal(once, again);
        Assert.DoesNotContain("\r", once);
    }

    [Fact]
    public void MinimalDocumentIsValid()
    {
        var s = SnapshotReader.ParseText(Head + "\"principals\":[],\"resources\":[],\"grants\":[]}");
        Assert.Equal(0, s.PrincipalCount);
        Assert.Equal("t", s.TenantId);
    }

    [Fact]
    public void ForwardReferencesResolve()
    {
        var s = SnapshotReader.ParseText(Head + "\"grants\":[{\"resource\":\"r\",\"principal\":\"g\",\"role\":\"read\"}],\"resources\":[{\"id\":\"r\",\"type\":\"site\",\"group\":\"g\"}],\"principals\":[{\"id\":\"g\",\"type\":\"group\",\"members\":[\"u\"]},{\"id\":\"u\",\"type\":\"user\"}]}");
        Assert.Equal(new[] { "u" }, s.GetMembers("g"));
        Assert.Equal("g", s.FindResource("r")!.Group);
    }

    [Fact]
    public void EscapedIdsResolveLikePlainOnes()
    {
        var s = SnapshotReader.ParseText(Head + "\"principals\":[{\"id\":\"g\\u00e9\",\"type\":\"group\",\"members\":[\"\\u0075\"]},{\"id\":\"u\",\"type\":\"user\"}],\"resources\":[],\"grants\":[]}");
        Assert.Equal(new[] { "u" }, s.GetMembers("gé"));
    }

    [Fact]
    public void ByteOrderMarkIsAccepted()
    {
        var bytes = new byte[] { 0xEF, 0xBB, 0xBF }.Concat(Encoding.UTF8.GetBytes(Head + "\"principals\":[]}")).ToArray();
        Assert.Equal("t", SnapshotReader.Parse(bytes).TenantId);
    }

    [Theory]
    [InlineData("{\"schema\":\"agentgovernance/snapshot@9\",\"tenant\":{\"id\":\"t\"}}", "schema", "unknown schema")]
    [InlineData("{\"tenant\":{\"id\":\"t\"}}", "schema", "missing required field 'schema'")]
    [InlineData("{\"schema\":\"agentgovernance/snapshot@1\"}", "tenant", "missing required field 'tenant'")]
    [InlineData(Head + "\"extra\":1}", "extra", "unknown field 'extra'")]
    [InlineData(Head + "\"principals\":[{\"id\":\"u\"}]}", "principals[0]", "missing required field 'type'")]
    [InlineData(Head + "\"principals\":[{\"id\":\"u\",\"type\":\"robot\"}]}", "principals[0].type", "'robot' is not a principal type")]
    [InlineData(Head + "\"principals\":[{\"id\":\"u\",\"type\":\"user\",\"accountEnabled\":\"yes\"}]}", "principals[0].accountEnabled", "expected true or false")]
    [InlineData(Head + "\"principals\":[{\"id\":\"u\",\"type\":\"user\",\"members\":[]}]}", "principals[0].members", "only a group has members")]
    [InlineData(Head + "\"principals\":[{\"id\":\"g\",\"type\":\"group\",\"userType\":\"Guest\"}]}", "principals[0].userType", "only a user has a userType")]
    [InlineData(Head + "\"principals\":[{\"id\":\"u\",\"type\":\"user\"},{\"id\":\"u\",\"type\":\"user\"}]}", "principals[1].id", "duplicate principal id 'u'")]
    // Principal ids are indexed in batches: a duplicate is still the first error, before a later one in the same batch.
    [InlineData(Head + "\"principals\":[{\"id\":\"u\",\"type\":\"user\"},{\"id\":\"u\",\"type\":\"user\"},{\"id\":\"v\",\"type\":\"user\",\"colour\":\"red\"}]}", "principals[1].id", "duplicate principal id 'u'")]
    [InlineData(Head + "\"principals\":[{\"id\":\"u\",\"type\":\"user\"},{\"id\":\"u\",\"type\":\"user\"},{\"id\":\"v\",\"type\":\"user\",}]}", "principals[1].id", "duplicate principal id 'u'")]
    [InlineData(Head + "\"principals\":[{\"id\":\"u\",\"type\":\"user\"},{\"id\":\"g\",\"type\":\"group\",\"members\":[\"u\"]},{\"id\":\"u\",\"type\":\"group\"}]}", "principals[2].id", "duplicate principal id 'u'")]
    [InlineData(Head + "\"principals\":[{\"id\":\"everyone\",\"type\":\"group\"}]}", "principals[0].id", "reserved audience")]
    [InlineData(Head + "\"principals\":[{\"id\":\"g\",\"type\":\"group\",\"members\":[\"nobody\"]}]}", "principals[0].members[0]", "'nobody' is not the id of a principal")]
    [InlineData(Head + "\"principals\":[{\"id\":\"g\",\"type\":\"group\",\"members\":[\"everyone\"]}]}", "principals[0].members[0]", "can only be named in a grant")]
    [InlineData(Head + "\"principals\":[{\"id\":\"u\",\"type\":\"user\"},{\"id\":\"g\",\"type\":\"group\",\"members\":[\"u\",\"u\"]}]}", "principals[1].members[1]", "listed twice")]
    [InlineData(Head + "\"principals\":[{\"id\":\"g\",\"type\":\"group\",\"members\":[1]}]}", "principals[0].members[0]", "expected an id")]
    [InlineData(Head + "\"principals\":[{\"id\":\"u\",\"type\":\"user\",\"id\":\"v\"}]}", "principals[0].id", "appears twice")]
    [InlineData(Head + "\"resources\":[{\"id\":\"r\",\"type\":\"site\",\"sensitivity\":\"Secret\"}]}", "resources[0].sensitivity", "'Secret' is not a sensitivity")]
    [InlineData(Head + "\"resources\":[{\"id\":\"r\"}]}", "resources[0]", "missing required field 'type'")]
    [InlineData(Head + "\"principals\":[{\"id\":\"u\",\"type\":\"user\"}],\"resources\":[{\"id\":\"r\",\"type\":\"site\",\"group\":\"u\"}]}", "resources[0].group", "not a group")]
    [InlineData(Head + "\"resources\":[{\"id\":\"r\",\"type\":\"site\",\"owners\":[\"ghost\"]}]}", "resources[0].owners[0]", "'ghost' is not the id of a principal")]
    [InlineData(Head + "\"resources\":[{\"id\":\"r\",\"type\":\"site\"}],\"grants\":[{\"resource\":\"r\",\"principal\":\"ghost\",\"role\":\"read\"}]}", "grants[0].principal", "'ghost' is not the id of a principal")]
    [InlineData(Head + "\"grants\":[{\"resource\":\"nowhere\",\"principal\":\"everyone\",\"role\":\"read\"}]}", "grants[0].resource", "'nowhere' is not the id of a resource")]
    [InlineData(Head + "\"resources\":[{\"id\":\"r\",\"type\":\"site\"}],\"grants\":[{\"resource\":\"r\",\"principal\":\"everyone\"}]}", "grants[0]", "missing required field 'role'")]
    [InlineData(Head + "\"resources\":[{\"id\":\"r\",\"type\":\"site\"}],\"grants\":[{\"resource\":\"r\",\"principal\":\"everyone\",\"role\":\"read\"},{\"resource\":\"r\",\"principal\":\"everyone\",\"role\":\"read\"}]}", "grants[1]", "duplicate grant")]
    [InlineData(Head + "\"capturedAt\":\"yesterday\"}", "capturedAt", "not an ISO 8601")]
    [InlineData(Head + "\"principals\":{}}", "principals", "expected an array")]
    public void StrictReaderNamesTheField(string json, string field, string problem)
    {
        var e = Invalid(json);
        Assert.Equal(field, e.Field);
        Assert.Contains(problem, e.Problem);
        Assert.True(e.Line >= 1 && e.Column >= 1, e.Message);
        Assert.StartsWith("x.json:", e.Message);
    }

    [Fact]
    public void PositionsPointAtTheOffendingToken()
    {
        var json = "{\n  \"schema\": \"agentgovernance/snapshot@1\",\n  \"tenant\": { \"id\": \"t\" },\n  \"principals\": [\n    { \"id\": \"g\", \"type\": \"group\", \"members\": [\"u\", \"ghost\"] },\n    { \"id\": \"u\", \"type\": \"user\" }\n  ]\n}\n";
        var e = Invalid(json);
        Assert.Equal("principals[0].members[1]", e.Field);
        Assert.Equal(5, e.Line);
        Assert.Equal(52, e.Column);
    }

    [Fact]
    public void MalformedJsonIsReportedWithItsPosition()
    {
        var e = Invalid("{\n  \"schema\": \"agentgovernance/snapshot@1\",\n  \"tenant\": { \"id\": \"t\" }\n  \"principals\": []\n}");
        Assert.Equal(4, e.Line);
        Assert.Contains("not valid JSON", e.Problem);
    }

    [Fact]
    public void MissingFileIsSnapshotNotFound()
    {
        var e = Assert.Throws<GovernanceException>(() => SnapshotReader.ReadFile(Path.Combine(Path.GetTempPath(), Guid.NewGuid() + ".json")));
        Assert.Equal("SnapshotNotFound", e.ErrorId);
    }

    [Fact]
    public void WriterLeavesOutDefaultsAndKeepsOrder()
    {
        var json = Head + "\"principals\":[{\"isAgent\":false,\"type\":\"user\",\"id\":\"u\",\"accountEnabled\":true,\"userType\":\"member\"},{\"id\":\"g\",\"type\":\"group\",\"visibility\":\"hiddenmembership\",\"members\":[\"u\"]}],\"resources\":[{\"id\":\"r\",\"type\":\"site\",\"sensitivity\":\"general\",\"personalData\":false,\"group\":\"g\"}],\"grants\":[{\"role\":\"contribute\",\"principal\":\"g\",\"resource\":\"r\"}]}";
        var text = SnapshotWriter.WriteString(SnapshotReader.ParseText(json));
        Assert.Equal(
            "{\n  \"schema\": \"agentgovernance/snapshot@1\",\n  \"tenant\": { \"id\": \"t\" },\n  \"principals\": [\n" +
            "    { \"id\": \"u\", \"type\": \"user\" },\n" +
            "    { \"id\": \"g\", \"type\": \"group\", \"visibility\": \"HiddenMembership\", \"members\": [\"u\"] }\n  ],\n  \"resources\": [\n" +
            "    { \"id\": \"r\", \"type\": \"site\", \"group\": \"g\" }\n  ],\n  \"grants\": [\n" +
            "    { \"resource\": \"r\", \"principal\": \"g\", \"role\": \"contribute\" }\n  ]\n}\n", text);
    }

    [Fact]
    public void AtomicWriteLeavesNoTemporaryFiles()
    {
        var dir = System.IO.Directory.CreateTempSubdirectory("ag-snap-").FullName;
        try
        {
            var snapshot = SnapshotReader.ReadFile(Repo.DemoSnapshot);
            var path = Path.Combine(dir, "s.json");
            SnapshotWriter.WriteFile(snapshot, path);
            SnapshotWriter.WriteFile(snapshot, path);
            Assert.Equal(new[] { "s.json" }, System.IO.Directory.GetFiles(dir).Select(Path.GetFileName));
            var e = Assert.Throws<GovernanceException>(() => SnapshotWriter.WriteFile(snapshot, path, overwrite: false));
            Assert.Equal("FileExists", e.ErrorId);
        }
        finally
        {
            System.IO.Directory.Delete(dir, true);
        }
    }
}
