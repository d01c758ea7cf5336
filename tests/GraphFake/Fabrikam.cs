namespace AgentGovernance.GraphFake;

/// <summary>
/// Fabrikam in miniature, as a loopback Graph serves it. Ids are GUIDs as in Entra.
/// Enabled member users: Alice, Bob, Carol, Erin; Dave is disabled; Joe is a guest.
/// All Engineering = { Alice, Platform }; Platform = { Bob, Dave, Pipeline App };
/// Data Ops (Microsoft 365, Private, label "Highly Confidential", owner Carol) = { Carol } with its site;
/// Team (Microsoft 365, Private) = { Erin } with its site; Sales (dynamic) = { Erin }; Hidden (members not readable).
/// Global Administrator is held by Carol; Platform holds app role R1 of Helper Bot, which Erin holds too.
/// payroll.xlsx: Carol write, Data Ops read; roadmap.docx: a SharePoint group, and an inherited read for Erin.
/// </summary>
public static class Fabrikam
{
    public static readonly string Alice = FakeTenant.NewId(1), Bob = FakeTenant.NewId(2), Carol = FakeTenant.NewId(3),
        Dave = FakeTenant.NewId(4), Joe = FakeTenant.NewId(5), Erin = FakeTenant.NewId(6);

    public static readonly string Eng = FakeTenant.NewId(11), Platform = FakeTenant.NewId(12), Data = FakeTenant.NewId(13),
        Team = FakeTenant.NewId(14), Sales = FakeTenant.NewId(15), Hidden = FakeTenant.NewId(16);

    public static readonly string PipelineApp = FakeTenant.NewId(21), HelperBot = FakeTenant.NewId(22), Device = FakeTenant.NewId(31);

    public static readonly string GlobalAdmin = "62e90394-69f5-4237-9190-012177145e10", AppRole = "aaaaaaaa-0000-0000-0000-000000000001";

    public const string Drive = "b!drive1", Payroll = "01PAYROLL", Roadmap = "01ROADMAP";

    public static string PayrollId => $"drives/{Drive}/items/{Payroll}";

    public static string RoadmapId => $"drives/{Drive}/items/{Roadmap}";

    public static FakeTenant Build()
    {
        var t = new FakeTenant();
        t.AddUser(Alice, "Alice Park");
        t.AddUser(Bob, "Bob Stone");
        t.AddUser(Carol, "Carol Diaz");
        t.AddUser(Dave, "Dave Old", enabled: false);
        t.AddUser(Joe, "Joe Vendor", guest: true);
        t.AddUser(Erin, "Erin Lake");
        t.AddServicePrincipal(PipelineApp, "Pipeline App", "app-pipeline");
        t.AddServicePrincipal(HelperBot, "Helper Bot", "app-helper", AppRole);
        t.Others[Device] = "device";
        t.AddGroup(Eng, "All Engineering", members: new[] { Alice, Platform });
        t.AddGroup(Platform, "Platform", members: new[] { Bob, Dave, PipelineApp, Device });
        var data = t.AddGroup(Data, "Data Ops", unified: true, visibility: "Private", members: Carol);
        data.Label = "Highly Confidential";
        data.Owners.Add(Carol);
        t.AddGroup(Team, "Team", unified: true, visibility: "Private", members: Erin);
        t.AddGroup(Sales, "Sales", members: Erin).Dynamic = true;
        t.AddGroup(Hidden, "Hidden", members: Joe).MembersHidden = true;
        t.GroupSites[Data] = new FakeSite("fabrikam.example,site-data,1", "Data Ops");
        t.GroupSites[Team] = new FakeSite("fabrikam.example,site-team,1", "Team");
        t.RoleDefinitions.Add(new FakeRoleDefinition(GlobalAdmin, "Global Administrator"));
        t.RoleAssignments.Add(new FakeRoleAssignment("ra-carol", GlobalAdmin, Carol));
        t.AppRoleAssignments.Add(new FakeAppRoleAssignment("ara-platform", HelperBot, Platform, AppRole));
        t.AppRoleAssignments.Add(new FakeAppRoleAssignment("ara-erin", HelperBot, Erin, AppRole));
        var payroll = new FakeItem(Drive, Payroll, "payroll.xlsx");
        payroll.Permissions.Add(new FakePermission { Id = "p-carol", Role = "write", User = Carol });
        payroll.Permissions.Add(new FakePermission { Id = "p-data", Role = "read", Group = Data });
        t.Items[$"{Drive}/{Payroll}"] = payroll;
        t.Drives[Drive] = Carol; // payroll.xlsx and roadmap.docx are in Carol's OneDrive
        var roadmap = new FakeItem(Drive, Roadmap, "roadmap.docx");
        roadmap.Permissions.Add(new FakePermission { Id = "p-sg", Role = "read", SiteGroup = "Roadmap Visitors" });
        roadmap.Permissions.Add(new FakePermission { Id = "p-erin", Role = "read", User = Erin, Inherited = true });
        t.Items[$"{Drive}/{Roadmap}"] = roadmap;
        return t;
    }
}

