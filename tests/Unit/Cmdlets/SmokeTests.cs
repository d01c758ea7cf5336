using System.Text.Json;
using AgentGovernance.Changes;
using AgentGovernance.Directory;
using AgentGovernance.Exposure;
using AgentGovernance.Tests.Support;

namespace AgentGovernance.Tests.Cmdlets;

/// <summary>
/// The incident of the issue on the demo tenant, as a user types it: the agent's suggestion to let
/// All Engineering read User Data Exports must preview as Critical, with the numbers. The numbers
/// are checked against a plain reading of formats.md over the demo file, not against constants.
/// </summary>
public sealed class SmokeTests : CmdletTestBase
{
    private const string IssueScript = @"
        $snapshot = Import-AccessSnapshot -Path ./examples/contoso.snapshot.json
        $report = Import-AccessChange -Path ./examples/changes/forum-4411.json | Test-ExposureRisk -Snapshot $snapshot
        $report";

    public SmokeTests(HostFixture fixture)
        : base(fixture)
    {
        Ps.SetLocation(Repo.Root);
    }

    [Fact]
    public void IncidentFlowFromTheIssueWorks()
    {
        var result = Ps.RunClean(IssueScript);

        var report = result.Single<ExposureReport>();
        Assert.Equal(RiskLevel.Critical, report.RiskLevel);
        Assert.False(report.Blocked);
        Assert.Equal(2, report.RequiredApprovals);
        Assert.Equal(Repo.Incident, report.Change.Source);
    }

    [Fact]
    public void TheIncidentsNumbersAreWhoReallyGainsAccess()
    {
        var expected = Oracle.Gained(Repo.DemoSnapshot, "site-userdata", "g-eng");

        var report = Ps.RunClean(IssueScript).Single<ExposureReport>();

        var resource = Assert.Single(report.Resources);
        Assert.Equal("site-userdata", resource.ResourceId);
        Assert.Equal(expected.Keys.OrderBy(k => k, StringComparer.Ordinal), resource.Gained.Select(d => d.PrincipalId).OrderBy(k => k, StringComparer.Ordinal));
        Assert.All(resource.Gained, d => Assert.Equal(expected[d.PrincipalId], d.Kind));
        Assert.Equal(expected.Count, report.PrincipalsGained);
        Assert.Equal(expected.Values.Count(k => k == PrincipalKind.Member), report.GainedMembers);
        Assert.Equal(expected.Values.Count(k => k == PrincipalKind.Guest), report.GainedGuests);
        Assert.Equal(expected.Values.Count(k => k == PrincipalKind.ServicePrincipal), report.GainedServicePrincipals);
        Assert.Equal(expected.Values.Count(k => k == PrincipalKind.Agent), report.GainedAgents);
        Assert.Equal(0, report.PrincipalsLost);
        Assert.Empty(resource.Lost);

        // "most of the company"
        Assert.True(report.PrincipalsGained > report.Snapshot.EnabledUserCount / 2, $"{report.PrincipalsGained} of {report.Snapshot.EnabledUserCount}");
    }

    [Fact]
    public void TheIncidentsFindingsSayWhyItIsCritical()
    {
        var report = Ps.RunClean(IssueScript).Single<ExposureReport>();
        var users = report.GainedMembers + report.GainedGuests;

        var ag002 = report.Findings.Single(f => f.RuleId == "AG002");
        Assert.Equal(RiskLevel.Critical, ag002.Severity);
        Assert.Equal("site-userdata", ag002.ResourceId);
        Assert.Contains($"{users} of {report.Snapshot.EnabledUserCount} enabled users", ag002.Message);
        Assert.Equal(RiskLevel.Critical, report.Findings.Single(f => f.RuleId == "AG005").Severity);
        Assert.Contains(report.Findings, f => f.RuleId == "AG003");
        Assert.Contains(report.Findings, f => f.RuleId == "AG004" && f.Count == report.GainedGuests);
        Assert.Contains(report.Findings, f => f.RuleId == "AG007" && f.Message.Contains("bob@contoso.com"));
        Assert.Contains(report.Findings, f => f.RuleId == "AG010");
        Assert.Equal(RiskLevel.Critical, report.Findings[0].Severity);
    }

    [Fact]
    public void TheIssuesLinesShowSummaryResourcesFindingsAndPaths()
    {
        var summary = Ps.Render(IssueScript);
        var resources = Ps.Render(IssueScript + ".Resources");
        var findings = Ps.Render(IssueScript + ".Findings");
        var access = Ps.Render("Get-EffectiveAccess -Snapshot (Import-AccessSnapshot -Path ./examples/contoso.snapshot.json) -ResourceId site-userdata");
        var report = Ps.RunClean(IssueScript).Single<ExposureReport>();

        Assert.Matches(@"(?m)^Risk\s+: Critical$", summary);
        Assert.Matches(@"(?m)^Approvals\s+: 2 required$", summary);
        Assert.Matches($@"(?m)^Gained\s+: {report.PrincipalsGained} principals newly gain access \(members {report.GainedMembers}, guests {report.GainedGuests}, service principals {report.GainedServicePrincipals}, agents {report.GainedAgents}\)$", summary);
        Assert.Matches(@"(?m)^Findings\s+: Critical AG002 site-userdata: ", summary);
        Assert.Matches($@"\.\.\. and {report.Findings.Count - 5} more in \.Findings", summary);

        Assert.Matches($@"(?m)^site-userdata\s+HighlyConfidential\s+True\s+{report.PrincipalsGained}\s+0\s", resources);
        Assert.StartsWith("Severity RuleId", findings.TrimStart());
        Assert.Matches(@"(?m)^Critical AG002\s+site-userdata\s", findings);
        Assert.Matches(@"(?m)^PrincipalId\s+DisplayName\s+ResourceId\s+Role\s+Path$", access.TrimStart());
        Assert.Matches(@"(?m)^u-carol\s+Carol Nguyen\s+site-userdata\s+Read\s+u-carol -> g-dataops : read$", access);
    }

    [Fact]
    public void NobodyWhoGainsCouldReachTheDataBeforeAndThePathExplainsHow()
    {
        var result = Ps.RunClean(IssueScript + @"
            Get-EffectiveAccess -Snapshot $snapshot -ResourceId site-userdata
            $report.Explain('bob@contoso.com', 'site-userdata')");

        var report = result.Single<ExposureReport>();
        var before = result.Objects<EffectiveAccessEntry>().Select(e => e.PrincipalId).ToHashSet();
        Assert.NotEmpty(before);
        Assert.DoesNotContain(report.Resources[0].Gained, d => before.Contains(d.PrincipalId));
        var path = result.Single<AccessPath>();
        Assert.Equal("u-bob", path.Steps[0]);
        Assert.Equal("g-eng", path.Steps[^1]);
        Assert.Equal(AccessVia.Grant, path.Via);
    }

    [Fact]
    public void TheSessionFormGivesTheSameReport()
    {
        using var fresh = new PowerShellHost();

        var result = fresh.RunClean(@"
            Connect-AgentGovernance -SnapshotPath ./examples/contoso.snapshot.json
            Import-AccessChange ./examples/changes/forum-4411.json | Test-ExposureRisk
            " + IssueScript);

        var reports = result.Objects<ExposureReport>().ToList();
        Assert.Equal(2, reports.Count);
        Assert.Equal(reports[1].ChangeId, reports[0].ChangeId);
        Assert.Equal(reports[1].PrincipalsGained, reports[0].PrincipalsGained);
        Assert.Equal(reports[1].Findings.Select(f => f.ToString()), reports[0].Findings.Select(f => f.ToString()));
    }

    [Fact]
    public void EverySampleChangeReadsAndPreviews()
    {
        var result = Ps.Run(@"
            $snapshot = Import-AccessSnapshot ./examples/contoso.snapshot.json
            Import-AccessChange ./examples/changes/*.json | Test-ExposureRisk -Snapshot $snapshot -WarningAction SilentlyContinue");

        Assert.Empty(result.Errors);
        var reports = result.Objects<ExposureReport>().ToDictionary(r => Path.GetFileName(r.Change.Source!));
        Assert.Equal(System.IO.Directory.GetFiles(Path.Combine(Repo.Examples, "changes"), "*.json").Length, reports.Count);
        Assert.Equal(RiskLevel.Critical, reports["forum-4411.json"].RiskLevel);
        Assert.True(reports["anonymous-link.json"].Blocked);
        Assert.All(reports.Values.Where(r => r.Change.NarrowsOnly), r => Assert.Equal(0, r.PrincipalsGained));
    }

    /// <summary>Effective read access as formats.md defines it, computed the slow, obvious way from the JSON.</summary>
    private static class Oracle
    {
        private sealed record P(string Type, bool Guest, bool Enabled, bool Agent, string Visibility, string[] Members);

        /// <summary>Who newly reaches <paramref name="resource"/> when <paramref name="grantee"/> is granted read on it, with their kind.</summary>
        public static Dictionary<string, PrincipalKind> Gained(string snapshotFile, string resource, string grantee)
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(snapshotFile));
            var root = doc.RootElement;
            var principals = new Dictionary<string, P>();
            foreach (var p in root.GetProperty("principals").EnumerateArray())
            {
                principals[p.GetProperty("id").GetString()!] = new P(
                    p.GetProperty("type").GetString()!,
                    p.TryGetProperty("userType", out var ut) && ut.GetString() == "Guest",
                    !p.TryGetProperty("accountEnabled", out var en) || en.GetBoolean(),
                    p.TryGetProperty("isAgent", out var ag) && ag.GetBoolean(),
                    p.TryGetProperty("visibility", out var vis) ? vis.GetString()! : "Private",
                    p.TryGetProperty("members", out var ms) ? ms.EnumerateArray().Select(m => m.GetString()!).ToArray() : Array.Empty<string>());
            }

            var res = root.GetProperty("resources").EnumerateArray().Single(r => r.GetProperty("id").GetString() == resource);
            var enabledUsers = principals.Where(kv => kv.Value.Type == "user" && kv.Value.Enabled).Select(kv => kv.Key).ToList();
            var enabledMembers = enabledUsers.Where(u => !principals[u].Guest).ToList();

            IEnumerable<string> Reached(string id)
            {
                switch (id)
                {
                    case "everyone": return enabledUsers;
                    case "everyoneExceptExternal": return enabledMembers;
                    case "anyone": return new[] { "anyone" };
                }

                var found = new HashSet<string>();
                var seen = new HashSet<string> { id };
                var stack = new Stack<string>();
                stack.Push(id);
                while (stack.Count > 0)
                {
                    var x = stack.Pop();
                    var px = principals[x];
                    if (px.Type != "group")
                    {
                        if (px.Enabled)
                        {
                            found.Add(x);
                        }

                        continue;
                    }

                    foreach (var m in px.Members.Where(seen.Add))
                    {
                        stack.Push(m);
                    }
                }

                return found;
            }

            var before = new HashSet<string>();
            foreach (var g in root.GetProperty("grants").EnumerateArray().Where(g => g.GetProperty("resource").GetString() == resource))
            {
                before.UnionWith(Reached(g.GetProperty("principal").GetString()!));
            }

            if (res.TryGetProperty("group", out var connected) && principals[connected.GetString()!].Visibility == "Public")
            {
                before.UnionWith(enabledMembers);
            }

            return Reached(grantee).Where(p => !before.Contains(p)).ToDictionary(
                p => p,
                p => principals[p].Agent ? PrincipalKind.Agent
                    : principals[p].Type == "servicePrincipal" ? PrincipalKind.ServicePrincipal
                    : principals[p].Guest ? PrincipalKind.Guest : PrincipalKind.Member);
        }
    }
}
