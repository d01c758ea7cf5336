using AgentGovernance.Directory;
using AgentGovernance.Exposure;
using AgentGovernance.GraphFake;
using AgentGovernance.Tests.Support;

namespace AgentGovernance.Tests.Graph;

/// <summary>
/// Sensitivity in the permission inventory, on a loopback Graph whose extractSensitivityLabels follows
/// driveitem-extractsensitivitylabels.md (v1.0: the result wrapped in "value", 423 with fileDoubleKeyEncrypted)
/// and whose label list follows sensitivitylabel-list (id and name): a file's own label raises its
/// sensitivity above its site's, and a communication site, which Graph gives no label, is a coverage gap.
/// </summary>
public sealed class GraphInventoryLabelTests : GraphTestBase
{
    private readonly string _dataDrive, _teamDrive;
    private readonly FakeItem _plan, _deck, _draft, _folder;

    public GraphInventoryLabelTests(HostFixture fixture)
        : base(fixture)
    {
        var t = Tenant;
        _dataDrive = t.SiteDrive(t.GroupSites[Fabrikam.Data]); // Data Ops: Highly Confidential
        _teamDrive = t.SiteDrive(t.GroupSites[Fabrikam.Team]); // Team: no label
        _plan = t.AddItem(_dataDrive, "01PLAN", "plan.docx");
        t.Share(_plan, new FakePermission { Id = "p-alice", Role = "write", User = Fabrikam.Alice });
        _plan.LabelId = "label-Public"; // lower than its site's: the site's counts
        _deck = t.AddItem(_teamDrive, "01DECK", "deck.pptx");
        t.Share(_deck, new FakePermission { Id = "p-eng", Role = "read", Group = Fabrikam.Eng });
        _deck.LabelId = "label-Highly Confidential";
        _draft = t.AddItem(_teamDrive, "01DRAFT", "draft.docx"); // labelled but shared with no one: not kept, not read
        _draft.LabelId = "label-Confidential";
        _folder = t.AddItem(_teamDrive, "01FOLDER", "Board", folder: true);
        t.Share(_folder, new FakePermission { Id = "p-org", Role = "read", LinkScope = "organization" });
        // roadmap.docx (Carol's OneDrive) is shared with a SharePoint group: a gap of its own, not this test's.
        t.Items[$"{Fabrikam.Drive}/{Fabrikam.Roadmap}"].Permissions.RemoveAll(p => p.SiteGroup is not null);
    }

    private RunResult Export(string path, bool update = false) => Ps.Run("param($p, $u) Export-AccessSnapshot -FromGraph -Path $p -Update:$u", path, update);

    private static void Clean(RunResult r) => Assert.True(r.Errors.Count == 0, string.Join("\n", r.Errors.Select(e => e.FullyQualifiedErrorId + ": " + e)));

    private List<string> Extracts() => Graph.Requests.Concat(Graph.Steps).Where(r => r.StartsWith("POST ", StringComparison.Ordinal) && r.EndsWith("/extractSensitivityLabels", StringComparison.Ordinal)).ToList();

    private static Sensitivity Of(AccessSnapshot s, string drive, FakeItem item) => s.FindResource($"drives/{drive}/items/{item.Id}")!.Sensitivity;

    [Fact]
    public void AFilesOwnLabelRaisesItsSensitivityAndIsReadOnlyForTheFilesTheInventoryKeeps()
    {
        ConnectClean();
        var path = Temp["labels.json"];
        Clean(Export(path));
        var s = SnapshotReader.ReadFile(path);
        Assert.Equal(Sensitivity.HighlyConfidential, Of(s, _teamDrive, _deck)); // its own label, above Team's none
        Assert.Equal(Sensitivity.HighlyConfidential, Of(s, _dataDrive, _plan)); // its site's, above its own Public
        Assert.Equal(Sensitivity.General, Of(s, _teamDrive, _folder)); // a folder has no label of its own
        Assert.Null(s.FindResource($"drives/{_teamDrive}/items/{_draft.Id}"));
        var read = Extracts();
        Assert.Contains(read, r => r.Contains($"/items/{_deck.Id}/", StringComparison.Ordinal));
        Assert.Contains(read, r => r.Contains($"/items/{_plan.Id}/", StringComparison.Ordinal));
        Assert.DoesNotContain(read, r => r.Contains(_draft.Id, StringComparison.Ordinal) || r.Contains(_folder.Id, StringComparison.Ordinal));
        Assert.Empty(s.CoverageGaps);

        // A preview of a grant on the deck answers from the file's label: an Eng member gaining it is a Highly Confidential read.
        Ps.RunClean("param($p) Connect-AgentGovernance -SnapshotPath $p", path);
        var change = ChangeFile("grant.json", $"{{ \"op\": \"grant\", \"resource\": \"drives/{_teamDrive}/items/{_deck.Id}\", \"principal\": \"{Fabrikam.Joe}\", \"role\": \"read\" }}");
        var report = (ExposureReport)Assert.Single(Ps.RunClean("param($f) Import-AccessChange -Path $f | Test-ExposureRisk", change).Output).BaseObject;
        Assert.Equal(Sensitivity.HighlyConfidential, Assert.Single(report.Resources).Sensitivity);

        // -Update: the deck is relabelled General (a change the drive's delta shows); the plan did not change and is not read again.
        ConnectClean();
        Tenant.Label(_deck, "label-General");
        var before = Extracts().Count;
        Clean(Export(path, update: true));
        Assert.Equal(before + 1, Extracts().Count);
        var updated = SnapshotReader.ReadFile(path);
        Assert.Equal(Sensitivity.General, Of(updated, _teamDrive, _deck));
        Assert.Equal(Sensitivity.HighlyConfidential, Of(updated, _dataDrive, _plan));

        var fresh = Temp["labels-fresh.json"];
        Clean(Export(fresh));
        var again = SnapshotReader.ReadFile(fresh);
        Assert.Equal(again.Resources.Select(r => $"{r.Id} {r.Sensitivity}").OrderBy(x => x, StringComparer.Ordinal), updated.Resources.Select(r => $"{r.Id} {r.Sensitivity}").OrderBy(x => x, StringComparer.Ordinal));
    }

    [Fact]
    public void UpdateKeepsAFilesOwnLabelWithoutReadingItAndReadsItAgainWhenItsSitesLabelChanged()
    {
        _plan.LabelId = "label-Confidential"; // below Data Ops' Highly Confidential: not told apart from the site's in the snapshot
        ConnectClean();
        var path = Temp["site-label.json"];
        Clean(Export(path));
        Assert.Equal(Sensitivity.HighlyConfidential, Of(SnapshotReader.ReadFile(path), _teamDrive, _deck));

        // Nothing changed: the deck keeps its own Highly Confidential (above Team's none) and no label is read.
        var before = Extracts().Count;
        Clean(Export(path, update: true));
        Assert.Equal(before, Extracts().Count);
        Assert.Equal(Sensitivity.HighlyConfidential, Of(SnapshotReader.ReadFile(path), _teamDrive, _deck));

        // Data Ops loses its label (a group change, so its site is read again): the plan's own Confidential shows now.
        Tenant.Groups[Fabrikam.Data].Label = null;
        int Reads(FakeItem item) => Extracts().Count(r => r.Contains($"/items/{item.Id}/", StringComparison.Ordinal));
        var (plan, deck) = (Reads(_plan), Reads(_deck));
        Clean(Export(path, update: true));
        Assert.Equal(plan + 1, Reads(_plan));
        Assert.Equal(deck, Reads(_deck));
        var s = SnapshotReader.ReadFile(path);
        Assert.Equal(Sensitivity.Confidential, Of(s, _dataDrive, _plan));
        Assert.Equal(Sensitivity.HighlyConfidential, Of(s, _teamDrive, _deck));
    }

    [Fact]
    public void ALabelGraphCannotExtractOrNameIsACoverageGapAndTheFileKeepsItsSitesLabel()
    {
        _deck.LabelError = "fileDoubleKeyEncrypted";
        _plan.LabelId = "label-unknown-to-the-list";
        Tenant.LabelsDenied = true; // the list cannot be read: the groups' labels name what they can
        var board = Tenant.AddItem(_dataDrive, "01BOARD", "board.docx");
        Tenant.Share(board, new FakePermission { Id = "p-bob", Role = "read", User = Fabrikam.Bob });
        board.LabelId = "label-Highly Confidential"; // Data Ops carries this label: named from the group
        var memo = Tenant.AddItem(_teamDrive, "01MEMO", "memo.docx");
        Tenant.Share(memo, new FakePermission { Id = "p-bob", Role = "read", User = Fabrikam.Bob });
        memo.LabelId = "label-Highly Confidential";
        ConnectClean();
        var path = Temp["locked.json"];
        var result = Export(path);
        Clean(result);
        var s = SnapshotReader.ReadFile(path);
        Assert.Equal(Sensitivity.General, Of(s, _teamDrive, _deck));
        Assert.Equal(Sensitivity.HighlyConfidential, Of(s, _teamDrive, memo));
        Assert.Contains(s.CoverageGaps, g => g == "the sensitivity labels of 1 shared files that Graph could not extract");
        Assert.Contains(s.CoverageGaps, g => g.StartsWith("the sensitivity labels of files labelled 1 labels whose names could not be read", StringComparison.Ordinal));
        Assert.Contains(result.Warnings, w => w.Contains("1 HTTP 423 fileDoubleKeyEncrypted", StringComparison.Ordinal));
        Assert.Contains(result.Warnings, w => w.Contains("sensitivity labels", StringComparison.Ordinal) && w.Contains("SensitivityLabel.Read", StringComparison.Ordinal));
    }

    [Fact]
    public void ACommunicationSitesFilesAreCrawledAndItsUnknownLabelMakesCoveragePartial()
    {
        var news = new FakeSite("fabrikam.example,site-news,1", "News");
        Tenant.CommunicationSites.Add(news);
        var drive = Tenant.SiteDrive(news);
        var post = Tenant.AddItem(drive, "01POST", "post.docx");
        Tenant.Share(post, new FakePermission { Id = "p-joe", Role = "read", User = Fabrikam.Joe });
        ConnectClean();
        var path = Temp["news.json"];
        Clean(Export(path));
        var s = SnapshotReader.ReadFile(path);
        Assert.Contains(s.Inventory, d => d.Id == drive && d.Site == "sites/" + news.Id);
        var item = s.FindResource($"drives/{drive}/items/{post.Id}")!;
        Assert.Null(item.Group);
        var gap = Assert.Single(s.CoverageGaps);
        Assert.StartsWith("the sensitivity label of 1 sites with no Microsoft 365 group (communication sites)", gap, StringComparison.Ordinal);

        // A preview on the inventory says so: Partial, with the reason, not a silent General.
        Ps.RunClean("param($p) Connect-AgentGovernance -SnapshotPath $p", path);
        var change = ChangeFile("grant-news.json", $"{{ \"op\": \"grant\", \"resource\": \"drives/{drive}/items/{post.Id}\", \"principal\": \"{Fabrikam.Erin}\", \"role\": \"read\" }}");
        var report = (ExposureReport)Assert.Single(Ps.RunClean("param($f) Import-AccessChange -Path $f | Test-ExposureRisk", change).Output).BaseObject;
        Assert.Equal(Coverage.Partial, report.Coverage);
        Assert.Contains(report.CoverageReasons, r => r.Contains("communication sites", StringComparison.Ordinal));

        // -Update recomputes the gap rather than piling up copies of it.
        ConnectClean();
        Clean(Export(path, update: true));
        Assert.Single(SnapshotReader.ReadFile(path).CoverageGaps, g => g.StartsWith("the sensitivity label of ", StringComparison.Ordinal));
    }
}
