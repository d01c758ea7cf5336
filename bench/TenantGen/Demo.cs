using AgentGovernance.Changes;
using AgentGovernance.Directory;

namespace TenantGen;

/// <summary>
/// The Contoso demo tenant (examples/contoso.snapshot.json) and the example change documents
/// (examples/changes/*.json). Hand-designed, but built from code with a fixed seed so that
/// <c>TenantGen demo examples</c> regenerates the files byte for byte.
///
/// THE CARELESS NESTING. In 2025 the Mobile team wanted the whole company to dogfood the app: get the
/// beta-build site and the release notes. An admin created <c>g-mobile-dogfood</c> ("Mobile App
/// Dogfood") containing <c>g-all-staff</c>. The beta-build site was granted to <c>g-mobile</c>, so
/// instead of granting it to the new group the admin took the shortcut of nesting
/// <c>g-mobile-dogfood</c> into <c>g-mobile</c>. Because <c>g-all-staff</c> already contains
/// <c>g-eng</c>, which contains <c>g-mobile</c>, this closed the loop
/// <c>g-all-staff → g-eng → g-mobile → g-mobile-dogfood → g-all-staff</c>: every group on it now has
/// every staff member, so "All Engineering" quietly means "all staff" (plus the engineering and
/// department contractors). Nobody noticed: the engineering site and the beta builds are General.
///
/// THE INCIDENT (examples/changes/forum-4411.json). Bob (Data Platform) asks on forum thread 4411 to
/// let Data Platform read the pipeline exports in "User Data Exports" (site-userdata:
/// HighlyConfidential, personal data, readable by g-dataops only). Helpdesk Copilot (sp-helper, an
/// agent) answers with one operation, "Data Platform is part of All Engineering", a read grant to
/// <c>g-eng</c> instead of <c>g-dataplatform</c>. Through the careless nesting that grant reaches
/// every enabled staff member outside Data Ops, the engineering and department contractors (guests),
/// the CI service principal, and Helpdesk Copilot itself (it is a member of IT Helpdesk, inside IT,
/// inside All Staff). Bob is among them. The demo command prints the exact numbers.
///
/// There is also a harmless cycle: Project Atlas and Project Orion contain each other (a joint
/// project), and a small Public Microsoft 365 group (g-social) with a connected site and mailbox.
/// </summary>
internal static class Demo
{
    public const string TenantId = "contoso.onmicrosoft.com";
    public const string TenantName = "Contoso";
    public const string CapturedAt = "2026-11-20T09:00:00Z";
    private const string Domain = "contoso.com";
    private const string SiteRoot = "https://contoso.sharepoint.com/sites/";
    private const ulong Seed = 20261120;

    public static int Run(string outDir)
    {
        var t = Build();
        t.Validate();
        Directory.CreateDirectory(outDir);
        var snapshotPath = Path.Combine(outDir, "contoso.snapshot.json");
        t.Write(snapshotPath, TenantId, TenantName, CapturedAt);

        var changesDir = Path.Combine(outDir, "changes");
        Directory.CreateDirectory(changesDir);
        foreach (var (name, change) in Changes())
        {
            ValidateChange(t, name, change);
            ChangeWriter.WriteFile(change, Path.Combine(changesDir, name));
        }

        PrintSummary(t, snapshotPath);
        return 0;
    }

    // ---- the tenant ---------------------------------------------------------------------------

    private sealed record Named(string Id, string DisplayName, string Upn, bool Disabled = false);

    public static DemoTenant Build()
    {
        var t = new DemoTenant();
        var rng = new Prng(Seed);
        var usedSlugs = new HashSet<string>(StringComparer.Ordinal);

        // Groups first (their order is the document order), members added below.
        Group(t, "g-all-staff", "All Staff", "allstaff");
        Group(t, "g-exec", "Leadership Team", "leadership");
        Group(t, "g-eng", "All Engineering", "engineering");
        Group(t, "g-eng-leads", "Engineering Leads", "engleads");
        Group(t, "g-platform", "Platform", "platform");
        Group(t, "g-dataplatform", "Data Platform", "dataplatform");
        Group(t, "g-mobile", "Mobile", "mobile");
        Group(t, "g-mobile-dogfood", "Mobile App Dogfood", "mobiledogfood");
        Group(t, "g-sales", "Sales", "sales");
        Group(t, "g-sales-amer", "Sales AMER", "sales-amer");
        Group(t, "g-sales-emea", "Sales EMEA", "sales-emea");
        Group(t, "g-marketing", "Marketing", "marketing");
        Group(t, "g-hr", "People & Culture", "people");
        Group(t, "g-finance", "Finance", "finance");
        Group(t, "g-payroll", "Payroll", "payroll");
        Group(t, "g-legal", "Legal", "legal");
        Group(t, "g-support", "Customer Support", "support-team");
        Group(t, "g-it", "IT", "it");
        Group(t, "g-it-helpdesk", "IT Helpdesk", "helpdesk");
        Group(t, "g-dataops", "Data Ops", "dataops-team");
        Group(t, "g-launch", "Product Launch 2027", "launch2027");
        Group(t, "g-social", "Contoso Social Club", "social", GroupVisibility.Public);
        Group(t, "g-proj-atlas", "Project Atlas", "atlas");
        Group(t, "g-proj-orion", "Project Orion", "orion");
        Group(t, "g-proj-harbor", "Project Harbor", "harbor", GroupVisibility.HiddenMembership);

        // Departments: (group, head count of staff members, named people first).
        (string Group, int Size, Named[] People)[] departments =
        [
            ("g-exec", 7,
            [
                N("margaret.chen", "Margaret Chen"), N("david.okafor", "David Okafor"), N("hannah.weber", "Hannah Weber"),
                N("marcus.bell", "Marcus Bell"), N("priya.raman", "Priya Raman"), N("thomas.lindqvist", "Thomas Lindqvist"),
                N("sofia.moreno", "Sofia Moreno"),
            ]),
            // Engineering staff not in a sub-team (architects, managers, TPMs): direct members of g-eng.
            ("g-eng", 8, [N("rachel.stein", "Rachel Stein"), N("tariq.aziz", "Tariq Aziz", disabled: true)]),
            ("g-platform", 42,
            [
                new Named("u-alice", "Alice Park", "alice@" + Domain), N("kenji.watanabe", "Kenji Watanabe"),
            ]),
            ("g-dataplatform", 28,
            [
                new Named("u-bob", "Bob Martin", "bob@" + Domain), N("elena.petrova", "Elena Petrova"),
                N("frank.hughes", "Frank Hughes", disabled: true),
            ]),
            ("g-mobile", 30, [N("samuel.adeyemi", "Samuel Adeyemi"), N("joao.silva", "João Silva")]),
            ("g-sales", 4, [N("nora.lindberg", "Nora Lindberg")]),
            ("g-sales-amer", 30, [N("ethan.cole", "Ethan Cole")]),
            ("g-sales-emea", 28, [N("nina.kowalski", "Nina Kowalski", disabled: true)]),
            ("g-marketing", 30, [N("olivia.brooks", "Olivia Brooks"), N("zoe.muller", "Zoë Müller")]),
            ("g-hr", 14, [N("beatriz.santos", "Beatriz Santos")]),
            ("g-finance", 18, [N("oliver.grant", "Oliver Grant"), N("ingrid.larsen", "Ingrid Larsen", disabled: true)]),
            ("g-legal", 9, [N("renee.dubois", "Renée Dubois")]),
            ("g-support", 48, [N("lucia.fernandez", "Lucía Fernández"), N("victor.ramos", "Victor Ramos", disabled: true)]),
            ("g-it", 14, [N("grace.kim", "Grace Kim"), N("omar.haddad", "Omar Haddad")]),
            ("g-dataops", 11,
            [
                new Named("u-carol", "Carol Nguyen", "carol@" + Domain), N("mika.laine", "Mika Laine", disabled: true),
            ]),
        ];

        // Reserve every hand-picked slug before drawing random names.
        foreach (var d in departments)
        {
            foreach (var p in d.People)
            {
                usedSlugs.Add(p.Id);
            }
        }

        (string Id, string Name, string Vendor, string[] Groups)[] guests =
        [
            ("u-joe", "Joe Rivera (Fabrikam)", "fabrikam.com", ["g-dataplatform"]),
            ("u-kevin.bauer", "Kevin Bauer (Fabrikam)", "fabrikam.com", ["g-proj-orion"]),
            ("u-lena.vogel", "Lena Vogel (Litware)", "litware.com", ["g-platform"]),
            ("u-raj.iyer", "Raj Iyer (Litware)", "litware.com", ["g-platform"]),
            ("u-sam.okoye", "Sam Okoye (Proseware)", "proseware.com", ["g-mobile"]),
            ("u-mia.santos", "Mia Santos (Proseware)", "proseware.com", ["g-mobile"]),
            ("u-chris.dunn", "Chris Dunn (Wingtip Support)", "wingtiptoys.com", ["g-support"]),
            ("u-ana.costa", "Ana Costa (Adatum Agency)", "adatum.com", ["g-marketing", "g-launch"]),
            ("u-mark.ellis", "Mark Ellis (Woodgrove Law)", "woodgrovelaw.com", ["g-legal"]),
            ("u-olga.petrenko", "Olga Petrenko (Woodgrove Bank)", "woodgrovebank.com", ["g-proj-harbor"]),
            ("u-peter.hale", "Peter Hale (Northwind Audit)", "northwindaudit.com", []),
            ("u-julia.brenner", "Julia Brenner (Northwind Audit)", "northwindaudit.com", []),
        ];
        foreach (var g in guests)
        {
            usedSlugs.Add(g.Id);
        }

        var deptMembers = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var (group, size, people) in departments)
        {
            var ids = new List<string>();
            foreach (var p in people)
            {
                t.Add(new DemoPrincipal(p.Id, PrincipalKind.User, p.DisplayName)
                {
                    UserPrincipalName = p.Upn,
                    Mail = p.Upn,
                    Disabled = p.Disabled,
                });
                ids.Add(p.Id);
            }

            while (ids.Count < size)
            {
                var first = rng.Pick(Names.First);
                var last = rng.Pick(Names.Last);
                var slug = Names.Slug(first) + "." + Names.Slug(last);
                if (!usedSlugs.Add("u-" + slug))
                {
                    continue;
                }

                t.Add(new DemoPrincipal("u-" + slug, PrincipalKind.User, first + " " + last)
                {
                    UserPrincipalName = slug + "@" + Domain,
                    Mail = slug + "@" + Domain,
                });
                ids.Add("u-" + slug);
            }

            t.AddMembers(group, ids);
            deptMembers[group] = ids;
        }

        foreach (var (id, name, vendor, groups) in guests)
        {
            var local = id == "u-joe" ? "joe.rivera" : id[2..];
            t.Add(new DemoPrincipal(id, PrincipalKind.User, name)
            {
                UserPrincipalName = $"{local}_{vendor}#EXT#@{TenantId}",
                Mail = $"{local}@{vendor}",
                Guest = true,
            });
            foreach (var g in groups)
            {
                t.AddMembers(g, id);
            }
        }

        // Service principals: three agents, three ordinary applications.
        t.Add(new DemoPrincipal("sp-helper", PrincipalKind.ServicePrincipal, "Helpdesk Copilot") { IsAgent = true });
        t.Add(new DemoPrincipal("sp-salesbot", PrincipalKind.ServicePrincipal, "Sales Assistant") { IsAgent = true });
        t.Add(new DemoPrincipal("sp-opsagent", PrincipalKind.ServicePrincipal, "Ops Autopilot") { IsAgent = true });
        t.Add(new DemoPrincipal("sp-backup", PrincipalKind.ServicePrincipal, "Contoso Backup"));
        t.Add(new DemoPrincipal("sp-ci", PrincipalKind.ServicePrincipal, "Build Pipeline"));
        t.Add(new DemoPrincipal("sp-hrsync", PrincipalKind.ServicePrincipal, "Workday HR Sync"));

        // Nesting: departments into All Staff, sub-teams into their department.
        t.AddMembers("g-all-staff", "g-exec", "g-eng", "g-sales", "g-marketing", "g-hr", "g-finance", "g-legal",
            "g-support", "g-it", "g-dataops");
        t.AddMembers("g-eng", "g-platform", "g-dataplatform", "g-mobile", "g-eng-leads");
        t.AddMembers("g-eng", "u-david.okafor"); // the CTO is in Leadership and, directly, in Engineering
        t.AddMembers("g-sales", "g-sales-amer", "g-sales-emea");
        t.AddMembers("g-it", "g-it-helpdesk");
        t.AddMembers("g-platform", "sp-ci");

        // The careless nesting (see the class comment): All Staff into Dogfood, Dogfood into Mobile.
        t.AddMembers("g-mobile-dogfood", "g-all-staff");
        t.AddMembers("g-mobile", "g-mobile-dogfood");

        t.AddMembers("g-eng-leads", "u-david.okafor", "u-rachel.stein", "u-kenji.watanabe", "u-elena.petrova", "u-samuel.adeyemi");
        t.AddMembers("g-payroll", "u-hannah.weber", "u-oliver.grant", "u-priya.raman", "u-beatriz.santos");
        t.AddMembers("g-payroll", PickEnabled(t, rng, deptMembers["g-finance"], 1, exclude: ["u-oliver.grant"]));
        t.AddMembers("g-it-helpdesk", PickEnabled(t, rng, deptMembers["g-it"], 4, exclude: ["u-grace.kim", "u-omar.haddad"]));
        t.AddMembers("g-it-helpdesk", "sp-helper");
        t.AddMembers("g-launch", "u-olivia.brooks", "u-zoe.muller", "u-samuel.adeyemi", "u-ethan.cole");
        t.AddMembers("g-launch", PickEnabled(t, rng, deptMembers["g-marketing"], 3, exclude: ["u-olivia.brooks", "u-zoe.muller"]));
        t.AddMembers("g-launch", PickEnabled(t, rng, deptMembers["g-mobile"], 1, exclude: ["u-samuel.adeyemi"]));
        t.AddMembers("g-proj-harbor", "u-margaret.chen", "u-hannah.weber", "u-thomas.lindqvist", "u-renee.dubois");

        // The harmless cycle: two project groups that were merged by adding each to the other.
        t.AddMembers("g-proj-atlas", PickEnabled(t, rng, deptMembers["g-platform"], 5, exclude: ["u-alice"]));
        t.AddMembers("g-proj-atlas", "g-proj-orion");
        t.AddMembers("g-proj-orion", PickEnabled(t, rng, deptMembers["g-dataplatform"], 4, exclude: ["u-bob"]));
        t.AddMembers("g-proj-orion", "g-proj-atlas");

        // The Public social club: a slice of the company, members only.
        var staff = t.Users.Where(u => !u.Guest).Select(u => u.Id).ToList();
        t.AddMembers("g-social", "u-sofia.moreno");
        t.AddMembers("g-social", PickEnabled(t, rng, staff, 64, exclude: ["u-sofia.moreno"]));

        AddResources(t);
        return t;
    }

    private static Named N(string slug, string displayName, bool disabled = false) =>
        new("u-" + slug, displayName, slug + "@" + Domain, disabled);

    private static void Group(DemoTenant t, string id, string name, string nickname, GroupVisibility visibility = GroupVisibility.Private) =>
        t.Add(new DemoPrincipal(id, PrincipalKind.Group, name)
        {
            Mail = nickname + "@" + Domain,
            MailNickname = nickname,
            Visibility = visibility,
        });

    private static List<string> PickEnabled(DemoTenant t, Prng rng, List<string> from, int count, string[] exclude)
    {
        var pool = from.Where(id => t[id].EnabledUser && !exclude.Contains(id)).ToList();
        rng.Shuffle(pool);
        var picked = pool.Take(count).ToList();
        picked.Sort(StringComparer.Ordinal);
        return picked;
    }

    private static void AddResources(DemoTenant t)
    {
        void Res(string id, string type, string name, Sensitivity s, bool personal, string[] owners, string? group = null, string? url = null) =>
            t.Resources.Add(new DemoResource(id, type, name, s, personal, owners, group, url));

        const Sensitivity Pub = Sensitivity.Public, Gen = Sensitivity.General, Conf = Sensitivity.Confidential,
            HC = Sensitivity.HighlyConfidential;

        // Sites.
        Res("site-intranet", "site", "Contoso Intranet", Pub, false, ["u-grace.kim"], url: SiteRoot + "Intranet");
        Res("site-userdata", "site", "User Data Exports", HC, true, ["u-carol"], "g-dataops", SiteRoot + "UserDataExports");
        Res("site-dataops", "site", "Data Ops", Conf, false, ["u-carol"], "g-dataops", SiteRoot + "DataOps");
        Res("site-eng", "site", "Engineering Hub", Gen, false, ["u-david.okafor"], "g-eng", SiteRoot + "Engineering");
        Res("site-platform", "site", "Platform", Gen, false, ["u-kenji.watanabe"], "g-platform", SiteRoot + "Platform");
        Res("site-dataplatform", "site", "Data Platform", Conf, false, ["u-elena.petrova"], "g-dataplatform", SiteRoot + "DataPlatform");
        Res("site-mobile", "site", "Mobile", Gen, false, ["u-samuel.adeyemi"], "g-mobile", SiteRoot + "Mobile");
        Res("site-mobile-beta", "site", "Mobile Beta Builds", Gen, false, ["u-samuel.adeyemi"], url: SiteRoot + "MobileBeta");
        Res("site-sales", "site", "Sales", Conf, false, ["u-marcus.bell"], "g-sales", SiteRoot + "Sales");
        Res("site-marketing", "site", "Marketing", Gen, false, ["u-olivia.brooks"], "g-marketing", SiteRoot + "Marketing");
        Res("site-launch", "site", "Product Launch 2027", Conf, false, ["u-olivia.brooks"], "g-launch", SiteRoot + "Launch2027");
        Res("site-hr", "site", "People & Culture", Conf, true, ["u-priya.raman"], "g-hr", SiteRoot + "People");
        Res("site-hr-cases", "site", "Employee Relations Cases", HC, true, ["u-priya.raman", "u-beatriz.santos"], url: SiteRoot + "ERCases");
        Res("site-finance", "site", "Finance", Conf, false, ["u-hannah.weber"], "g-finance", SiteRoot + "Finance");
        Res("site-payroll", "site", "Payroll", HC, true, ["u-hannah.weber"], "g-payroll", SiteRoot + "Payroll");
        Res("site-legal", "site", "Legal", Conf, false, ["u-thomas.lindqvist"], "g-legal", SiteRoot + "Legal");
        Res("site-harbor", "site", "Project Harbor", HC, false, ["u-thomas.lindqvist"], "g-proj-harbor", SiteRoot + "Harbor");
        Res("site-support-kb", "site", "Support Knowledge Base", Gen, false, ["u-lucia.fernandez"], "g-support", SiteRoot + "SupportKB");
        Res("site-it", "site", "IT Operations", Conf, false, ["u-grace.kim"], "g-it", SiteRoot + "ITOps");
        Res("site-social", "site", "Contoso Social Club", Pub, false, ["u-sofia.moreno"], "g-social", SiteRoot + "Social");
        Res("site-atlas", "site", "Project Atlas", Gen, false, ["u-kenji.watanabe"], "g-proj-atlas", SiteRoot + "Atlas");
        Res("site-exec", "site", "Leadership Team", HC, false, ["u-margaret.chen"], "g-exec", SiteRoot + "Leadership");
        // An old archive still readable company-wide, owned by someone who has left.
        Res("site-archive", "site", "Old Projects Archive", Conf, false, ["u-tariq.aziz"], url: SiteRoot + "Archive2019");

        // Files.
        Res("item-pricing", "driveItem", "FY27 Price List.xlsx", Conf, false, ["u-marcus.bell"], "g-sales",
            SiteRoot + "Sales/Shared%20Documents/FY27%20Price%20List.xlsx");
        Res("item-customer-list", "driveItem", "Top Customers.xlsx", Conf, true, ["u-marcus.bell"], "g-sales",
            SiteRoot + "Sales/Shared%20Documents/Top%20Customers.xlsx");
        Res("item-userdata-export", "driveItem", "users_export_2026-11-19.parquet", HC, true, ["u-carol"], "g-dataops",
            SiteRoot + "UserDataExports/Exports/users_export_2026-11-19.parquet");
        Res("item-salary-bands", "driveItem", "Salary Bands 2027.xlsx", HC, true, ["u-priya.raman"]);
        Res("item-board-deck", "driveItem", "Board Deck Q4 2026.pptx", HC, false, ["u-margaret.chen"], "g-exec");
        Res("item-brand", "driveItem", "Brand Guidelines.pdf", Pub, false, ["u-olivia.brooks"]);
        Res("item-handbook", "driveItem", "Employee Handbook 2026.pdf", Gen, false, ["u-priya.raman"]);
        Res("item-roadmap", "driveItem", "Product Roadmap 2027.pptx", Conf, false, ["u-david.okafor"]);
        Res("item-oncall", "driveItem", "Platform On-call Runbook.docx", Gen, false, ["u-kenji.watanabe"], "g-platform");
        Res("item-incident-review", "driveItem", "Incident Review 2026-10.docx", Conf, false, ["u-rachel.stein"]);
        Res("item-msa-template", "driveItem", "MSA Template.docx", Gen, false, ["u-renee.dubois"], "g-legal");
        Res("item-audit-2026", "driveItem", "External Audit 2026.pdf", Conf, false, ["u-hannah.weber"], "g-finance");
        Res("item-vendor-sow", "driveItem", "Fabrikam SOW 2026.pdf", Conf, false, ["u-thomas.lindqvist"], "g-legal");
        Res("item-ticket-export", "driveItem", "Support Tickets Export Nov 2026.csv", Conf, true, ["u-lucia.fernandez"], "g-support");
        Res("item-webinar-leads", "driveItem", "Webinar Leads Q4.csv", Conf, true, ["u-olivia.brooks"], "g-marketing");
        Res("item-launch-plan", "driveItem", "Launch Plan.docx", Conf, false, ["u-olivia.brooks"], "g-launch");
        Res("item-social-photos", "driveItem", "Summer Party 2026 Photos", Gen, false, ["u-sofia.moreno"], "g-social");
        Res("item-beta-notes", "driveItem", "Beta Release Notes.docx", Gen, false, ["u-samuel.adeyemi"]);

        // Mailboxes.
        Res("mbx-hr", "mailbox", "hr@contoso.com", Conf, true, ["u-priya.raman"]);
        Res("mbx-support", "mailbox", "support@contoso.com", Conf, true, ["u-lucia.fernandez"]);
        Res("mbx-ceo", "mailbox", "Margaret Chen (mailbox)", HC, true, ["u-margaret.chen"]);
        Res("mbx-dataops", "mailbox", "Data Ops (group mailbox)", Gen, false, ["u-carol"], "g-dataops");
        Res("mbx-social", "mailbox", "Contoso Social Club (group mailbox)", Gen, false, ["u-sofia.moreno"], "g-social");

        // Applications and directory roles.
        Res("app-crm", "application", "Contoso CRM", Conf, true, ["u-marcus.bell"]);
        Res("app-payroll", "application", "Payroll System", HC, true, ["u-hannah.weber"]);
        Res("app-helpdesk", "application", "Helpdesk Ticketing", Gen, true, ["u-grace.kim"]);
        Res("role-global-admin", "directoryRole", "Global Administrator", HC, false, []);
        Res("role-user-admin", "directoryRole", "User Administrator", HC, false, []);
        Res("role-sharepoint-admin", "directoryRole", "SharePoint Administrator", HC, false, []);

        // Grants, per resource.
        t.Grant("site-intranet", "everyoneExceptExternal", "read");
        t.Grant("site-intranet", "g-it", "write");
        t.Grant("site-userdata", "g-dataops", "read");
        t.Grant("site-dataops", "g-dataops", "write");
        t.Grant("site-eng", "g-eng", "write");
        t.Grant("site-platform", "g-platform", "write");
        t.Grant("site-dataplatform", "g-dataplatform", "write");
        t.Grant("site-mobile", "g-mobile", "write");
        t.Grant("site-mobile-beta", "g-mobile", "read");
        t.Grant("site-sales", "g-sales", "write");
        t.Grant("site-sales", "sp-backup", "read");
        t.Grant("site-marketing", "g-marketing", "write");
        t.Grant("site-launch", "g-launch", "write");
        t.Grant("site-hr", "g-hr", "write");
        t.Grant("site-hr", "sp-backup", "read");
        t.Grant("site-hr-cases", "g-hr", "read");
        t.Grant("site-finance", "g-finance", "write");
        t.Grant("site-finance", "sp-backup", "read");
        t.Grant("site-payroll", "g-payroll", "write");
        t.Grant("site-legal", "g-legal", "write");
        t.Grant("site-harbor", "g-proj-harbor", "write");
        t.Grant("site-support-kb", "g-support", "write");
        t.Grant("site-it", "g-it", "write");
        t.Grant("site-it", "sp-opsagent", "write");
        t.Grant("site-social", "g-social", "write");
        t.Grant("site-atlas", "g-proj-atlas", "write");
        t.Grant("site-exec", "g-exec", "write");
        t.Grant("site-archive", "everyoneExceptExternal", "read");
        t.Grant("item-pricing", "g-sales", "write");
        t.Grant("item-customer-list", "g-sales", "read");
        t.Grant("item-customer-list", "sp-salesbot", "read");
        t.Grant("item-userdata-export", "g-dataops", "read");
        t.Grant("item-salary-bands", "g-hr", "read");
        t.Grant("item-salary-bands", "g-payroll", "read");
        t.Grant("item-board-deck", "g-exec", "read");
        t.Grant("item-brand", "everyone", "read");
        t.Grant("item-handbook", "everyoneExceptExternal", "read");
        t.Grant("item-roadmap", "g-eng-leads", "write");
        t.Grant("item-roadmap", "g-launch", "read");
        t.Grant("item-oncall", "g-platform", "write");
        t.Grant("item-incident-review", "g-eng-leads", "read");
        t.Grant("item-msa-template", "g-legal", "write");
        t.Grant("item-msa-template", "g-sales", "read");
        t.Grant("item-audit-2026", "g-finance", "read");
        t.Grant("item-audit-2026", "u-peter.hale", "read");
        t.Grant("item-audit-2026", "u-julia.brenner", "read");
        t.Grant("item-vendor-sow", "g-legal", "read");
        t.Grant("item-vendor-sow", "u-joe", "read");
        t.Grant("item-ticket-export", "g-support", "read");
        t.Grant("item-webinar-leads", "g-marketing", "read");
        t.Grant("item-launch-plan", "g-launch", "write");
        t.Grant("item-social-photos", "g-social", "write");
        t.Grant("item-beta-notes", "g-mobile-dogfood", "read");
        t.Grant("mbx-hr", "g-hr", "write");
        t.Grant("mbx-hr", "sp-backup", "read");
        t.Grant("mbx-support", "g-support", "write");
        t.Grant("mbx-support", "sp-helper", "read");
        t.Grant("mbx-ceo", "u-sofia.moreno", "write");
        t.Grant("mbx-ceo", "sp-backup", "read");
        t.Grant("mbx-dataops", "g-dataops", "write");
        t.Grant("mbx-social", "g-social", "write");
        t.Grant("app-crm", "g-sales", "write");
        t.Grant("app-crm", "g-support", "read");
        t.Grant("app-crm", "sp-salesbot", "read");
        t.Grant("app-payroll", "g-payroll", "write");
        t.Grant("app-payroll", "sp-hrsync", "write");
        t.Grant("app-helpdesk", "g-it-helpdesk", "write");
        t.Grant("app-helpdesk", "g-support", "read");
        t.Grant("app-helpdesk", "sp-helper", "write");
        t.Grant("role-global-admin", "u-grace.kim", "owner");
        t.Grant("role-global-admin", "u-omar.haddad", "owner");
        t.Grant("role-user-admin", "g-it-helpdesk", "owner");
        t.Grant("role-sharepoint-admin", "u-omar.haddad", "owner");
    }

    // ---- the change documents -------------------------------------------------------------------

    /// <summary>Helpdesk Copilot, answering on a forum thread.</summary>
    private static SuggestedBy Helper(int thread) =>
        new("agent", "sp-helper", "Helpdesk Copilot", "https://forum.contoso.com/t/" + thread.ToString(System.Globalization.CultureInfo.InvariantCulture));

    public static IEnumerable<(string File, AccessChange Change)> Changes()
    {
        // The incident: one grant to the broad group the agent believed was "Data Platform and friends".
        yield return ("forum-4411.json", new AccessChange(
            [AccessOperation.Grant("site-userdata", "g-eng", "read")],
            "Let Data Platform read the pipeline exports",
            "Forum thread 4411: Data Platform needs to read the nightly pipeline exports in User Data Exports " +
            "to debug the customer pipeline. Data Platform is part of All Engineering, so a read grant to " +
            "All Engineering covers the team.",
            Helper(4411),
            "bob@contoso.com"));

        yield return ("grant-small.json", new AccessChange(
            [AccessOperation.Grant("site-support-kb", "u-alice", "read")],
            "Read access to the Support Knowledge Base for tonight's on-call",
            "Forum thread 4502: Alice is on call for the Platform tonight and needs the customer-facing runbooks.",
            Helper(4502),
            "alice@contoso.com",
            "PT8H"));

        yield return ("public-switch.json", new AccessChange(
            [AccessOperation.SetVisibility("g-launch", GroupVisibility.Public)],
            "Make the Product Launch 2027 team discoverable",
            "Forum thread 4520: people keep asking how to join the launch team; making the group Public lets them find it.",
            Helper(4520),
            "olivia.brooks@contoso.com"));

        yield return ("anonymous-link.json", new AccessChange(
            [AccessOperation.CreateLink("item-pricing", LinkScope.Anonymous, "read")],
            "Share the FY27 price list with a prospect",
            "Opportunity OPP-20931: the prospect's procurement team cannot sign in to our tenant.",
            new SuggestedBy("agent", "sp-salesbot", "Sales Assistant", "https://crm.contoso.com/opportunities/OPP-20931"),
            "ethan.cole@contoso.com",
            "P7D"));

        yield return ("revoke-guest.json", new AccessChange(
            [AccessOperation.RemoveMember("g-dataplatform", "u-joe")],
            "Remove Joe Rivera (Fabrikam) from Data Platform",
            "Ticket IT-8812: the Fabrikam contract ended on 2026-11-15; offboard the vendor's guest account.",
            Helper(4533),
            "elena.petrova@contoso.com"));
    }

    private static void ValidateChange(DemoTenant t, string name, AccessChange change)
    {
        void Require(bool ok, string what)
        {
            if (!ok)
            {
                throw new InvalidOperationException($"{name}: {what}");
            }
        }

        if (change.SuggestedBy is { Id: { } sid })
        {
            Require(t.Contains(sid), $"suggestedBy '{sid}' undefined");
        }

        Require(change.RequestedBy is null || t.Users.Any(u => u.UserPrincipalName == change.RequestedBy), $"requestedBy '{change.RequestedBy}' is no user's UPN");
        foreach (var op in change.Operations)
        {
            Require(op.Resource is null || t.Resources.Any(r => r.Id == op.Resource), $"resource '{op.Resource}' undefined");
            Require(op.Group is null || (t.Contains(op.Group) && t[op.Group].Kind == PrincipalKind.Group), $"group '{op.Group}' undefined");
            Require(op.Principal is null || t.Contains(op.Principal), $"principal '{op.Principal}' undefined");
            Require(op.Member is null || t.Contains(op.Member), $"member '{op.Member}' undefined");
            if (op.Op == OperationKind.RemoveMember)
            {
                Require(t[op.Group!].Members.Contains(op.Member!), $"'{op.Member}' is not a direct member of '{op.Group}'");
            }
        }
    }

    private static void PrintSummary(DemoTenant t, string snapshotPath)
    {
        var users = t.Users;
        var enabled = users.Count(u => !u.Disabled);
        Console.WriteLine($"wrote {snapshotPath} ({new FileInfo(snapshotPath).Length:N0} bytes)");
        Console.WriteLine($"users {users.Count} (guests {users.Count(u => u.Guest)}, disabled {users.Count(u => u.Disabled)}, enabled {enabled}), " +
                          $"groups {t.Groups.Count}, service principals {t.ServicePrincipals.Count} (agents {t.ServicePrincipals.Count(s => s.IsAgent)})");
        Console.WriteLine($"resources {t.Resources.Count}: " + string.Join(", ",
            Enum.GetValues<Sensitivity>().Select(s => $"{s} {t.Resources.Count(r => r.Sensitivity == s)}")) +
            $"; personalData {t.Resources.Count(r => r.PersonalData)}");
        Console.WriteLine($"memberships {t.Groups.Sum(g => g.Members.Count)}, grants {t.Grants.Count}");

        var before = t.Readers("site-userdata");
        var after = t.Readers("site-userdata", [new DemoGrant("site-userdata", "g-eng", "read")]);
        after.ExceptWith(before);
        var newUsers = after.Where(id => t.Contains(id) && t[id].Kind == PrincipalKind.User).ToList();
        var newSps = after.Where(id => t.Contains(id) && t[id].Kind == PrincipalKind.ServicePrincipal).ToList();
        Console.WriteLine($"forum-4411: site-userdata readers before {before.Count}; newly reached: {newUsers.Count} of {enabled} enabled users " +
                          $"({100.0 * newUsers.Count / enabled:F1}%), guests {newUsers.Count(id => t[id].Guest)}, " +
                          $"service principals {newSps.Count} ({string.Join(", ", newSps)}), bob included: {newUsers.Contains("u-bob")}");
    }
}
