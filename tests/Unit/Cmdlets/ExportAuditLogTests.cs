using System.Management.Automation;
using System.Text.Json;
using AgentGovernance.Ledger;
using AgentGovernance.Tests.Support;

namespace AgentGovernance.Tests.Cmdlets;

/// <summary>Export-GovernanceAuditLog: JSON lines, CSV and CEF a SIEM can read, each entry with its hashes.</summary>
public sealed class ExportAuditLogTests : ApprovalTestBase
{
    public ExportAuditLogTests(HostFixture fixture)
        : base(fixture)
    {
    }

    private List<LedgerEntry> Fill()
    {
        Connect();
        // A title with the characters CEF and CSV must escape.
        var request = Open(ChangeWith("\"requestedBy\": \"bob@tiny.example\", \"title\": \"a|b=c, \\\"quoted\\\"\\nline two\""));
        Approve(request.RequestId, "carol");
        return Log();
    }

    [Fact]
    public void JsonLinesAreTheEntriesWithTheirHashes()
    {
        var entries = Fill();

        var file = RunClean("Export-GovernanceAuditLog log.jsonl -PassThru").Single<FileInfo>();

        var lines = File.ReadAllLines(file.FullName);
        Assert.Equal(entries.Count, lines.Length);
        for (var i = 0; i < lines.Length; i++)
        {
            using var doc = JsonDocument.Parse(lines[i]);
            Assert.Equal(entries[i].Hash, doc.RootElement.GetProperty("hash").GetString());
            Assert.Equal(entries[i].Sequence, doc.RootElement.GetProperty("seq").GetInt64());
            Assert.Equal(entries[i].Summary, doc.RootElement.GetProperty("details").GetProperty("summary").GetString());
        }
    }

    [Fact]
    public void PipedEntriesAreWhatIsExported()
    {
        Fill();

        RunClean("Get-GovernanceAuditLog -Event Approved | Export-GovernanceAuditLog approved.csv -Format Csv");

        var lines = File.ReadAllLines(Temp["approved.csv"]);
        Assert.Equal("seq,time,event,actor,changeId,requestId,summary,details,prev,hash", lines[0]);
        Assert.Equal(2, lines.Length);
        Assert.StartsWith("4,", lines[1]);
        Assert.Contains(",Approved,carol@tiny.example,", lines[1]);
    }

    [Fact]
    public void CsvQuotesWhatNeedsQuotingAndNeverStartsAFormula()
    {
        Fill();

        RunClean("Export-GovernanceAuditLog log.csv -Format Csv");

        var text = File.ReadAllText(Temp["log.csv"]);
        Assert.Contains("\"a|b=c, \"\"quoted\"\"\nline two (suggested by nobody named)\"", text);
        Assert.DoesNotContain(",=", text);
    }

    [Fact]
    public void CefEscapesItsHeaderAndExtensionAndPutsOneEventOnALine()
    {
        var entries = Fill();

        RunClean("Export-GovernanceAuditLog log.cef -Format Cef");

        var lines = File.ReadAllLines(Temp["log.cef"]);
        Assert.Equal(entries.Count, lines.Length);
        Assert.All(lines, l => Assert.StartsWith("CEF:0|AgentGovernance|AgentGovernance|", l));
        var proposed = lines[0];
        Assert.Contains("|ChangeProposed|a\\|b=c, \"quoted\"\\nline two (suggested by nobody named)|3|", proposed);
        Assert.Contains(" msg=a|b\\=c, \"quoted\"\\nline two", proposed);
        Assert.Contains("cs3Label=hash cs3=" + entries[0].Hash, proposed);
        Assert.Contains("suser=bob@tiny.example", proposed);
        Assert.Contains("rt=" + entries[0].Time.ToUnixTimeMilliseconds(), proposed);
    }

    [Fact]
    public void NoClobberAndWhatIfLeaveAnExistingFileAlone()
    {
        Fill();
        Temp.Write("log.jsonl", "keep");

        var refused = Run("Export-GovernanceAuditLog log.jsonl -NoClobber");
        RunClean("Export-GovernanceAuditLog log.jsonl -WhatIf");

        Assert.Equal("FileExists", Assert.Single(refused.Errors).FullyQualifiedErrorId.Split(',')[0]);
        Assert.Equal("keep", File.ReadAllText(Temp["log.jsonl"]));
    }
}
