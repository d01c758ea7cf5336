using AgentGovernance.Directory;

namespace AgentGovernance.Tests.Documents;

/// <summary>snapshot@2: snapshot@1 with an inventory of drives (delta link and crawl time each); read strictly, written with stable bytes.</summary>
public sealed class SnapshotInventoryTests
{
    private const string Drives = """
        "inventory": { "drives": [
          { "id": "b!one", "site": "sites/s1", "deltaLink": "https://graph.microsoft.com/v1.0/drives/b!one/root/delta?token=abc", "crawledAt": "2026-12-07T12:00:00Z" }
        ] },
        """;

    private static string Doc(string schema, string inventory) => $$"""
        { "schema": "{{schema}}", "tenant": { "id": "t1" }, "capturedAt": "2026-12-07T12:00:00Z", {{inventory}}
          "principals": [ { "id": "u1", "type": "user" } ],
          "resources": [ { "id": "drives/b!one/items/i1", "type": "driveItem", "displayName": "plan.docx" } ],
          "grants": [ { "resource": "drives/b!one/items/i1", "principal": "u1", "role": "write" } ] }
        """;

    [Fact]
    public void AnInventoryIsReadAndWrittenBackTheSame()
    {
        var s = SnapshotReader.ParseText(Doc("agentgovernance/snapshot@2", Drives));
        var d = Assert.Single(s.Inventory);
        Assert.Equal(("b!one", "sites/s1", "2026-12-07T12:00:00Z"), (d.Id, d.Site, d.CrawledAt));
        Assert.EndsWith("token=abc", d.DeltaLink, StringComparison.Ordinal);

        var written = SnapshotWriter.WriteString(s);
        Assert.StartsWith("{\n  \"schema\": \"agentgovernance/snapshot@2\"", written, StringComparison.Ordinal);
        Assert.Equal(written, SnapshotWriter.WriteString(SnapshotReader.ParseText(written)));
    }

    /// <summary>
    /// What the crawl could not read is kept in the file: without it, a preview on the inventory would
    /// read as Complete although a site's files or OneDrive were never seen.
    /// </summary>
    [Fact]
    public void TheCrawlsGapsAreKeptSoAPreviewOnTheFileStaysPartial()
    {
        var text = Doc("agentgovernance/snapshot@2", """
            "inventory": { "drives": [], "gaps": [ "the files of site s2", "files in users' OneDrive accounts" ] },
            """);
        var s = SnapshotReader.ParseText(text);
        Assert.Equal(new[] { "the files of site s2", "files in users' OneDrive accounts" }, s.CoverageGaps);

        var written = SnapshotWriter.WriteString(s);
        Assert.StartsWith("{\n  \"schema\": \"agentgovernance/snapshot@2\"", written, StringComparison.Ordinal);
        Assert.Equal(s.CoverageGaps, SnapshotReader.ParseText(written).CoverageGaps);
        Assert.Equal(written, SnapshotWriter.WriteString(SnapshotReader.ParseText(written)));
    }

    [Fact]
    public void VersionOneStillLoadsAndIsWrittenAsVersionOne()
    {
        var s = SnapshotReader.ParseText(Doc("agentgovernance/snapshot@1", string.Empty));
        Assert.Empty(s.Inventory);
        Assert.StartsWith("{\n  \"schema\": \"agentgovernance/snapshot@1\"", SnapshotWriter.WriteString(s), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("agentgovernance/snapshot@1", "\"inventory\": { \"drives\": [] },", "'inventory' is a field of 'agentgovernance/snapshot@2'")]
    [InlineData("agentgovernance/snapshot@2", "\"inventory\": { \"drives\": [ { \"id\": \"b!x\", \"site\": \"sites/s\", \"crawledAt\": \"2026-12-07T12:00:00Z\" } ] },", "inventory.drives[0].deltaLink")]
    [InlineData("agentgovernance/snapshot@2", "\"inventory\": { \"drives\": [ { \"id\": \"b!x\", \"site\": \"s\", \"deltaLink\": \"l\", \"crawledAt\": \"yesterday\" } ] },", "'yesterday' is not an ISO 8601")]
    [InlineData("agentgovernance/snapshot@2", "\"inventory\": { \"drives\": [ { \"id\": \"b!x\", \"site\": \"s\", \"deltaLink\": \"l\", \"crawledAt\": \"2026-12-07T12:00:00Z\" }, { \"id\": \"b!x\", \"site\": \"s\", \"deltaLink\": \"l\", \"crawledAt\": \"2026-12-07T12:00:00Z\" } ] },", "duplicate drive id 'b!x'")]
    [InlineData("agentgovernance/snapshot@2", "\"inventory\": { \"drives\": [], \"tokens\": 1 },", "tokens")]
    [InlineData("agentgovernance/snapshot@3", "", "unknown schema 'agentgovernance/snapshot@3'")]
    [InlineData("agentgovernance/snapshot@2", "\"inventory\": { \"drives\": [], \"gaps\": [ \" \" ] },", "inventory.gaps[0]")]
    [InlineData("agentgovernance/snapshot@2", "\"inventory\": { \"drives\": [], \"gaps\": \"all\" },", "inventory.gaps")]
    public void AnInventoryThatIsWrongIsRefusedWithWhereItIsWrong(string schema, string inventory, string message)
    {
        var e = Assert.ThrowsAny<GovernanceException>(() => SnapshotReader.ParseText(Doc(schema, inventory)));
        Assert.Equal("SnapshotInvalid", e.ErrorId);
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }
}
