using AgentGovernance.Tests.Support;

namespace AgentGovernance.Tests.Cmdlets;

/// <summary>
/// The default views, rendered as a console shows them (Out-Default through a host whose screen is
/// captured): each must answer the question its cmdlet exists for at a glance.
/// </summary>
public sealed class FormattingTests : CmdletTestBase
{
    public FormattingTests(HostFixture fixture)
        : base(fixture)
    {
    }

    /// <summary>Renders a script's output with $s the tiny tenant and $r the miniature incident's report.</summary>
    private string Render(string script)
    {
        Temp.Write("incident.json", CmdletTestData.GrantChange);
        return Ps.Render(@"
            $s = Import-AccessSnapshot -LiteralPath $args[0]
            $r = Import-AccessChange incident.json | Test-ExposureRisk -Snapshot $s
            " + script, TinyPath);
    }

    private static string[] Lines(string text) => text.Split('\n').Select(l => l.TrimEnd()).Where(l => l.Length > 0).ToArray();

    /// <summary>The line of a table whose first cell is <paramref name="first"/>, split into cells.</summary>
    private static string[] Row(string text, string first) =>
        Lines(text).First(l => l.StartsWith(first + " ", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries);

    private static string[] Header(string text) => Lines(text)[0].Split(' ', StringSplitOptions.RemoveEmptyEntries);

    [Fact]
    public void TheReportIsAOneScreenSummaryWithRiskApprovalsAndCounts()
    {
        var text = Render("$r");

        Assert.Matches(@"(?m)^Change\s+: Let Engineering read the exports \[[0-9a-f]{12}\]$", text);
        Assert.Matches(@"(?m)^Risk\s+: Critical$", text);
        Assert.Matches(@"(?m)^Approvals\s+: 2 required$", text);
        Assert.Matches(@"(?m)^Gained\s+: 3 principals newly gain access \(members 2, guests 0, service principals 1, agents 0\)$", text);
        Assert.Matches(@"(?m)^Lost\s+: 0 principals lose access$", text);
        Assert.Matches(@"(?m)^Resources\s+: 1 resource changes \(1 sensitive\): site-secret \+3/-0$", text);
        Assert.Matches(@"(?m)^Findings\s+: Critical AG002 site-secret: 2 of 4 enabled users", text);
        Assert.Contains("Low AG010 site-secret", text);
        Assert.True(Lines(text).Length < 25, "one screen:\n" + text);
    }

    [Fact]
    public void ABlockedReportSaysSoInTheRiskLine()
    {
        var text = Render("New-AccessChange -CreateLink Anonymous -ResourceId site-secret | Test-ExposureRisk -Snapshot $s -WarningAction SilentlyContinue");

        Assert.Matches(@"(?m)^Risk\s+: Critical - BLOCKED by policy \(AG001\)$", text);
        Assert.Matches(@"(?m)^Gained\s+: anyone with a link newly gains access \(no named principal does\)$", text);
    }

    [Fact]
    public void AReportWithNoFindingsSaysNone()
    {
        var text = Render("New-AccessChange -Revoke -ResourceId site-general -PrincipalId g-eng | Test-ExposureRisk -Snapshot $s");

        Assert.Matches(@"(?m)^Risk\s+: None$", text);
        Assert.Matches(@"(?m)^Findings\s+: none$", text);
        Assert.Matches(@"(?m)^Lost\s+: 3 principals lose access$", text);
        Assert.DoesNotMatch(@"(?m)^Notes\s+:", text);
    }

    [Fact]
    public void TheReportShowsItsNotes()
    {
        var text = Render("New-AccessChange -Grant -ResourceId site-general -PrincipalId g-eng | Test-ExposureRisk -Snapshot $s -WarningAction SilentlyContinue");

        Assert.Matches(@"(?m)^Notes\s+: grant read on site-general to g-eng: already granted; nothing changes\.$", text);
    }

    [Fact]
    public void TheFindingsTableLeadsWithSeverityAndRuleId()
    {
        var text = Render("$r.Findings");

        Assert.Equal(new[] { "Severity", "RuleId", "ResourceId", "Message" }, Header(text));
        Assert.Equal(new[] { "Critical", "AG002", "site-secret", "2", "of", "4" }, Row(text, "Critical").Take(6));
        Assert.Equal(new[] { "High", "AG005", "site-secret" }, Row(text, "High").Take(3));
        Assert.Contains("nobody should widen their own access", text);
    }

    [Fact]
    public void AHardDenyFindingIsMarkedInTheTable()
    {
        var text = Render("(New-AccessChange -CreateLink Anonymous -ResourceId site-secret | Test-ExposureRisk -Snapshot $s -WarningAction SilentlyContinue).Findings");

        Assert.Equal(new[] { "Critical", "AG001", "site-secret", "[hard-deny]", "Anyone" }, Row(text, "Critical").Take(5));
    }

    [Fact]
    public void TheResourcesTableCountsWhoGainsByKind()
    {
        var text = Render("$r.Resources");

        Assert.Equal(new[] { "ResourceId", "Sensitivity", "PersonalData", "GainedCount", "LostCount", "Members", "Guests", "SPs", "Agents", "Anonymous" }, Header(text));
        Assert.Equal(new[] { "site-secret", "HighlyConfidential", "True", "3", "0", "2", "0", "1", "0", "False" }, Row(text, "site-secret"));
    }

    [Fact]
    public void TheGainedEntriesShowWhoAndHowTheirRoleRises()
    {
        var text = Render("$r.Resources[0].Gained");

        Assert.Equal(new[] { "PrincipalId", "DisplayName", "Kind", "Before", "After", "ResourceId" }, Header(text));
        Assert.Equal(new[] { "u-bob", "Bob", "Member", "None", "Read", "site-secret" }, Row(text, "u-bob"));
        Assert.Equal(new[] { "sp-app", "Pipeline", "App", "ServicePrincipal", "None", "Read", "site-secret" }, Row(text, "sp-app"));
    }

    [Fact]
    public void EffectiveAccessShowsPrincipalRoleAndPath()
    {
        var text = Render("Get-EffectiveAccess site-general -Snapshot $s");

        Assert.Equal(new[] { "PrincipalId", "DisplayName", "ResourceId", "Role", "Path" }, Header(text));
        Assert.Equal(new[] { "u-bob", "Bob", "site-general", "Read", "u-bob", "->", "g-platform", "->", "g-eng", ":", "read" }, Row(text, "u-bob"));
        Assert.Equal(new[] { "u-carol", "Carol", "site-general", "Owner", "u-carol", ":", "owner" }, Row(text, "u-carol"));
    }

    [Fact]
    public void APathShowsHowTheAccessIsGiven()
    {
        var text = Render("(Get-EffectiveAccess -PrincipalId u-bob -Snapshot $s).Path");

        Assert.Equal(new[] { "Via", "Role", "Path" }, Header(text));
        Assert.Equal(new[] { "Grant", "read", "u-bob", "->", "g-platform", "->", "g-eng", ":", "read" }, Row(text, "Grant"));
    }

    [Fact]
    public void TheSnapshotViewSummarisesTheTenant()
    {
        var text = Render("$s");

        Assert.Matches(@"(?m)^Tenant\s+: Tiny \(tiny\.example\)$", text);
        Assert.Matches(@"(?m)^Users\s+: 5 \(1 guests, 1 disabled\)$", text);
        Assert.Matches(@"(?m)^Groups\s+: 4$", text);
        Assert.Matches(@"(?m)^ServicePrincipals\s+: 2$", text);
        Assert.Matches(@"(?m)^AgentIdentities\s+: \d+$", text);
        Assert.Matches(@"(?m)^Resources\s+: 4$", text);
        Assert.Matches(@"(?m)^Grants\s+: 4$", text);
        Assert.Matches(@"(?m)^Memberships\s+: 6$", text);
        Assert.Contains("tiny.snapshot.json", text);
    }

    [Fact]
    public void PrincipalsResourcesAndGrantsOfASnapshotHaveTables()
    {
        var principals = Render("$s.Principals");
        var resources = Render("$s.Resources");
        var grants = Render("$s.Grants");

        Assert.Equal(new[] { "Id", "Type", "DisplayName", "UserPrincipalName", "UserType", "Enabled", "Agent" }, Header(principals));
        Assert.Equal(new[] { "u-bob", "User", "Bob", "bob@tiny.example", "Member", "True", "False" }, Row(principals, "u-bob"));
        Assert.Equal(new[] { "Id", "Type", "Sensitivity", "PersonalData", "DisplayName" }, Header(resources));
        Assert.Equal(new[] { "site-secret", "site", "HighlyConfidential", "True", "Secret", "Exports" }, Row(resources, "site-secret"));
        Assert.Equal(new[] { "ResourceId", "PrincipalId", "Role" }, Header(grants));
        Assert.Equal(new[] { "role-admin", "u-carol", "member" }, Row(grants, "role-admin"));
    }

    [Fact]
    public void TheChangeViewListsItsOperationsInWords()
    {
        var text = Render("Import-AccessChange incident.json; New-AccessChange -AddMember -GroupId g-eng -MemberId u-joe -Duration PT8H");

        Assert.Matches(@"(?m)^Id\s+: sha256:[0-9a-f]{64}$", text);
        Assert.Matches(@"(?m)^Title\s+: Let Engineering read the exports$", text);
        Assert.Matches(@"(?m)^SuggestedBy\s+: Helper Bot \(sp-bot\)$", text);
        Assert.Matches(@"(?m)^Source\s+: https://forum\.example/t/1$", text);
        Assert.Matches(@"(?m)^RequestedBy\s+: bob@tiny\.example$", text);
        Assert.Matches(@"(?m)^Duration\s+: \(permanent\)$", text);
        Assert.Matches(@"(?m)^Operations\s+: grant read on site-secret to g-eng$", text);
        Assert.Matches(@"(?m)^Duration\s+: PT8H \(08:00:00\)$", text);
        Assert.Matches(@"(?m)^Operations\s+: add u-joe to group g-eng$", text);
    }

    [Fact]
    public void OperationsHaveATable()
    {
        var text = Render("(New-AccessChange -Operation @{ op = 'grant'; resource = 'r'; principal = 'p'; role = 'write' }, @{ op = 'createLink'; resource = 'r'; scope = 'organization'; role = 'read' }, @{ op = 'setVisibility'; group = 'g'; visibility = 'Public' }, @{ op = 'addMember'; group = 'g'; member = 'm' }).Operations");

        Assert.Equal(new[] { "Op", "Target", "Principal", "Detail" }, Header(text));
        Assert.Equal(new[] { "grant", "r", "p", "write" }, Row(text, "grant"));
        Assert.Equal(new[] { "createLink", "r", "Organization", "link,", "read" }, Row(text, "createLink"));
        Assert.Equal(new[] { "setVisibility", "g", "Public" }, Row(text, "setVisibility"));
        Assert.Equal(new[] { "addMember", "g", "m" }, Row(text, "addMember"));
    }

    [Fact]
    public void AnAnonymousLinkSaysSoInTheOperationsTable()
    {
        var text = Render("(New-AccessChange -CreateLink Anonymous -ResourceId r).Operations");

        Assert.Equal(new[] { "createLink", "r", "Anonymous", "link,", "read" }, Row(text, "createLink"));
    }

    [Fact]
    public void TheSessionAndThePolicyHaveViews()
    {
        var session = Render("Connect-AgentGovernance -Snapshot $s -Policy ([AgentGovernance.Policy.GovernancePolicy]::Default) -PassThru");
        var policy = Render("[AgentGovernance.Policy.GovernancePolicy]::Default");

        Assert.Matches(@"(?m)^TenantId\s+: tiny\.example$", session);
        Assert.Matches(@"(?m)^Directory\s+: .*tiny\.snapshot\.json$", session);
        Assert.Matches(@"(?m)^Policy\s+: \(built-in defaults\)$", session);
        Assert.Matches(@"(?m)^SensitiveFrom\s+: Confidential$", policy);
        Assert.Matches(@"(?m)^HardDeny\s+: AG001 at Critical$", policy);
        Assert.Matches(@"(?m)^ApprovalsByRisk\s+: None 1, Low 1, Medium 1, High 2, Critical 2$", policy);
    }
}
