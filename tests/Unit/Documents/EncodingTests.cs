using System.Text;
using AgentGovernance.Changes;
using AgentGovernance.Directory;
using AgentGovernance.Suggestions;
using AgentGovernance.Tests.Support;

namespace AgentGovernance.Tests.Documents;

/// <summary>
/// Issue 11 item 10: invalid UTF-8 and lone surrogates (raw or as \ud800 escapes) in a change, a snapshot
/// or a suggestion's JSON are that document's ErrorId with the line and byte position, never a bare
/// InvalidOperationException from the JSON library.
/// </summary>
public sealed class EncodingTests
{
    private const string Change = "{\"schema\":\"agentgovernance/change@1\",\n\"title\":\"TITLE\",\"requestedBy\":\"bob@contoso.com\",\n\"operations\":[{\"op\":\"addMember\",\"group\":\"g-eng\",\"member\":\"u-joe\"}]}";

    private static readonly string Snapshot = CmdletTestData.Snapshot;

    private static byte[] WithBytes(string json, string marker, byte[] insert)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        var at = Encoding.UTF8.GetBytes(json.Substring(0, json.IndexOf(marker, StringComparison.Ordinal))).Length;
        return bytes.Take(at).Concat(insert).Concat(bytes.Skip(at + Encoding.UTF8.GetByteCount(marker))).ToArray();
    }

    public static TheoryData<string, byte[]> BadText => new()
    {
        { "a stray continuation byte", new byte[] { (byte)'a', 0x80, (byte)'b' } },
        { "a truncated sequence", new byte[] { (byte)'a', 0xE2, 0x82 } },
        { "an overlong form", new byte[] { 0xC0, 0xAF } },
        { "an encoded surrogate", new byte[] { 0xED, 0xA0, 0x80 } },
        { "a lone high surrogate escape", Encoding.ASCII.GetBytes("x\\ud800y") },
        { "a lone low surrogate escape", Encoding.ASCII.GetBytes("\\uDC00") },
        { "a high escape before a non-surrogate escape", Encoding.ASCII.GetBytes("\\ud800\\u0041") },
    };

    [Theory]
    [MemberData(nameof(BadText))]
    public void AChangeWithBadTextIsChangeInvalidWithItsPosition(string what, byte[] insert)
    {
        var e = Assert.Throws<DocumentException>(() => ChangeReader.Parse(WithBytes(Change, "TITLE", insert), "c.json"));

        Assert.Equal("ChangeInvalid", e.ErrorId);
        Assert.True(e.Line == 2 && e.Column >= 10, $"{what}: {e.Message}");
        Assert.Contains("byte offset", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(BadText))]
    public void ASnapshotWithBadTextIsSnapshotInvalidWithItsPosition(string what, byte[] insert)
    {
        var marker = "Joe (vendor)";
        var e = Assert.Throws<DocumentException>(() => SnapshotReader.Parse(WithBytes(Snapshot, marker, insert), "s.json"));

        Assert.Equal("SnapshotInvalid", e.ErrorId);
        var line = Snapshot.Substring(0, Snapshot.IndexOf(marker, StringComparison.Ordinal)).Count(c => c == '\n') + 1;
        Assert.True(e.Line == line, $"{what}: {e.Message}");
        Assert.Contains("byte offset", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnEscapedBackslashBeforeUIsNotAnEscapeAndAPairIsACharacter()
    {
        var change = ChangeReader.ParseText(Change.Replace("TITLE", "C:\\\\ud800 \\ud83d\\ude00", StringComparison.Ordinal));

        Assert.Equal("C:\\ud800 \U0001F600", change.Title);
    }

    [Fact]
    public void ALoneSurrogateInTextGivenAsAStringIsRefusedNotReplaced()
    {
        var change = Assert.Throws<DocumentException>(() => ChangeReader.ParseText(Change.Replace("TITLE", "a" + (char)0xD800 + "b", StringComparison.Ordinal), "c.json"));
        var snapshot = Assert.Throws<DocumentException>(() => SnapshotReader.ParseText(Snapshot.Replace("Joe (vendor)", "Joe" + (char)0xDC00, StringComparison.Ordinal), "s.json"));

        Assert.Equal(("ChangeInvalid", 2L), (change.ErrorId, change.Line));
        Assert.Equal("SnapshotInvalid", snapshot.ErrorId);
        Assert.Contains("lone surrogate", snapshot.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ASuggestionsJsonWithALoneSurrogateIsChangeInvalidWithItsPosition(bool escaped)
    {
        // Built here: a lone surrogate in an attribute's string is replaced by U+FFFD when compiled.
        var title = escaped ? "x\\ud800y" : "x" + (char)0xD800 + "y";
        var text = Change.Replace("TITLE", title, StringComparison.Ordinal);
        var tiny = SnapshotReader.ParseText(CmdletTestData.Snapshot);

        var e = Assert.Throws<DocumentException>(() => SuggestionConverter.Convert(text, SuggestionConverter.HashText(text), "s.json", new SuggestionOptions(), tiny));

        Assert.Equal(("ChangeInvalid", 2L), (e.ErrorId, e.Line));
    }

    [Fact]
    public void AnInvalidByteIsFoundAtItsOffsetWhereverItFallsAmongEightByteStrides()
    {
        // The check skips ASCII eight bytes at a time (issue 16): a bad byte at any offset, after any
        // run of ASCII, is still reported at that offset, and a valid multi-byte character is not.
        for (var pad = 0; pad < 20; pad++)
        {
            var ascii = new string('a', pad);
            var bytes = Encoding.UTF8.GetBytes("{\"s\":\"" + ascii + "é\",\n\"t\":\"" + ascii).Concat(new byte[] { 0xFF }).Concat(Encoding.UTF8.GetBytes(ascii + "\"}")).ToArray();
            var offset = Array.IndexOf(bytes, (byte)0xFF);

            var e = Assert.Throws<DocumentException>(() => SnapshotReader.Parse(bytes, "s.json"));

            Assert.Contains($"byte 0xFF at byte offset {offset}", e.Message, StringComparison.Ordinal);
            Assert.Equal((2L, 6L + pad), (e.Line, e.Column));
        }
    }

    [Fact]
    public void AChangeDocumentLargerThanOneMebibyteIsChangeInvalid()
    {
        var big = Change.Replace("TITLE", new string('a', ChangeReader.MaxBytes), StringComparison.Ordinal);
        var justRight = Change.Replace("TITLE", new string('a', ChangeReader.MaxBytes - Change.Length), StringComparison.Ordinal);

        var e = Assert.Throws<DocumentException>(() => ChangeReader.ParseText(big, "c.json"));
        Assert.Equal("ChangeInvalid", e.ErrorId);
        Assert.Contains("at most 1048576 bytes", e.Message, StringComparison.Ordinal);
        Assert.Equal(ChangeReader.MaxBytes - Change.Length, ChangeReader.ParseText(justRight).Title!.Length);
    }
}
