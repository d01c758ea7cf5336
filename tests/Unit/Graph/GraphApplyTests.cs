using AgentGovernance.Changes;
using AgentGovernance.Directory;
using AgentGovernance.GraphFake;
using AgentGovernance.Providers;
using AgentGovernance.Providers.Graph;
using AgentGovernance.Tests.Support;

namespace AgentGovernance.Tests.Graph;

/// <summary>
/// Every operation through the Graph provider, as the apply pipeline drives it: plan, apply (twice:
/// idempotent), recover, revert; each checked against what the loopback tenant holds afterwards and
/// against the exact requests that reached it.
/// </summary>
public sealed class GraphApplyTests : GraphTestBase
{
    public GraphApplyTests(HostFixture fixture)
        : base(fixture)
    {
    }

    private IGraphDirectory Provider()
    {
        var result = Connect();
        Assert.Empty(result.Errors);
        return (IGraphDirectory)((dynamic)Assert.Single(result.Output).BaseObject).Provider;
    }

    private string[] StepsAndRequests(string method) =>
        Graph.Requests.Concat(Graph.Steps).Where(r => r.StartsWith(method + " ", StringComparison.Ordinal)).ToArray();

    [Fact]
    public void AddMemberPostsARefIsIdempotentAndRevertsWithARefDelete()
    {
        var p = Provider();
        var op = AccessOperation.AddMember(Fabrikam.Eng, Fabrikam.Joe);
        var plan = p.Plan(op);
        Assert.False(plan.AlreadyInEffect);
        Assert.Equal(AccessOperation.RemoveMember(Fabrikam.Eng, Fabrikam.Joe), plan.Inverse);
        Assert.Contains(Graph.Eventual, e => e.StartsWith("eventual ", StringComparison.Ordinal) && e.Contains("/members?", StringComparison.Ordinal)); // $filter on members needs it

        var applied = p.Apply(plan);
        Assert.True(applied.Changed);
        Assert.Contains(Fabrikam.Joe, Tenant.Groups[Fabrikam.Eng].Members);
        Assert.Contains(StepsAndRequests("POST"), r => r == $"POST /v1.0/groups/{Fabrikam.Eng}/members/$ref");

        // The same plan again (a replay after a crash): Graph says 400 "already exist", which is done.
        var again = p.Apply(plan);
        Assert.False(again.Changed);
        Assert.Null(again.Inverse);

        Assert.Equal(applied.Operation, p.Recover(plan)!.Operation);
        p.Revert(applied);
        Assert.DoesNotContain(Fabrikam.Joe, Tenant.Groups[Fabrikam.Eng].Members);
        Assert.Contains(StepsAndRequests("DELETE"), r => r == $"DELETE /v1.0/groups/{Fabrikam.Eng}/members/{Fabrikam.Joe}/$ref");
        Assert.Null(p.Recover(plan)); // after the revert, the directory says it is not in effect
    }

    [Fact]
    public void RemoveMemberUsesRefSoTheUserIsNeverDeleted()
    {
        var p = Provider();
        var plan = p.Plan(AccessOperation.RemoveMember(Fabrikam.Platform, Fabrikam.Bob));
        var applied = p.Apply(plan);
        Assert.True(applied.Changed);
        Assert.DoesNotContain(Fabrikam.Bob, Tenant.Groups[Fabrikam.Platform].Members);
        Assert.True(Tenant.Users.ContainsKey(Fabrikam.Bob), "Bob's user object must still exist");
        Assert.Empty(Tenant.DeletedObjects);
        Assert.All(StepsAndRequests("DELETE"), r => Assert.EndsWith("/$ref", r));

        // Already gone (404) is done; the plan now says so too.
        Assert.False(p.Apply(plan).Changed);
        Assert.True(p.Plan(plan.Operation).AlreadyInEffect);
        p.Revert(applied);
        Assert.Contains(Fabrikam.Bob, Tenant.Groups[Fabrikam.Platform].Members);
    }

    [Fact]
    public void SetVisibilityPatchesAndItsInverseIsTheVisibilityReadBefore()
    {
        var p = Provider();
        var plan = p.Plan(AccessOperation.SetVisibility(Fabrikam.Team, GroupVisibility.Public));
        Assert.Equal(AccessOperation.SetVisibility(Fabrikam.Team, GroupVisibility.Private), plan.Inverse);
        var applied = p.Apply(plan);
        Assert.Equal("Public", Tenant.Groups[Fabrikam.Team].Visibility);
        Assert.Contains(StepsAndRequests("PATCH"), r => r == $"PATCH /v1.0/groups/{Fabrikam.Team}");
        p.Revert(applied);
        Assert.Equal("Private", Tenant.Groups[Fabrikam.Team].Visibility);
        Assert.True(p.Plan(AccessOperation.SetVisibility(Fabrikam.Team, GroupVisibility.Private)).AlreadyInEffect);
    }

    [Fact]
    public void DirectoryRoleGrantIsRevertedByTheAssignmentItCreated()
    {
        var p = Provider();
        var op = AccessOperation.Grant("roleDefinitions/" + Fabrikam.GlobalAdmin, Fabrikam.Alice, "member");
        var plan = p.Plan(op);
        var applied = p.Apply(plan);
        var created = Assert.Single(Tenant.RoleAssignments, a => a.PrincipalId == Fabrikam.Alice);
        Assert.Equal(created.Id, applied.Reference);
        Assert.Equal(AccessOperation.Revoke(op.Resource!, Fabrikam.Alice, "member"), applied.Inverse);
        Assert.True(p.Plan(op).AlreadyInEffect);
        Assert.Equal(created.Id, p.Recover(plan)!.Reference);

        p.Revert(applied);
        Assert.DoesNotContain(Tenant.RoleAssignments, a => a.PrincipalId == Fabrikam.Alice);
        Assert.Contains(StepsAndRequests("DELETE"), r => r == $"DELETE /v1.0/roleManagement/directory/roleAssignments/{created.Id}");
        p.Revert(applied); // already gone: done
        Assert.Single(Tenant.RoleAssignments); // Carol's stays
    }

    [Fact]
    public void RevokingADirectoryRoleDeletesTheAssignmentAndTheInverseGrantsItAgain()
    {
        var p = Provider();
        var op = AccessOperation.Revoke("roleDefinitions/" + Fabrikam.GlobalAdmin, Fabrikam.Carol, "member");
        var plan = p.Plan(op);
        Assert.Equal("ra-carol", plan.State);
        var applied = p.Apply(plan);
        Assert.Empty(Tenant.RoleAssignments);
        Assert.True(p.Plan(op).AlreadyInEffect);
        p.Revert(applied);
        Assert.Single(Tenant.RoleAssignments, a => a.PrincipalId == Fabrikam.Carol && a.DirectoryScopeId == "/");
    }

    [Fact]
    public void AppRoleGrantAndItsInverse()
    {
        var p = Provider();
        var op = AccessOperation.Grant("servicePrincipals/" + Fabrikam.HelperBot, Fabrikam.Alice, Fabrikam.AppRole);
        var applied = p.Apply(p.Plan(op));
        var created = Assert.Single(Tenant.AppRoleAssignments, a => a.PrincipalId == Fabrikam.Alice);
        Assert.Equal(created.Id, applied.Reference);
        p.Revert(applied);
        Assert.DoesNotContain(Tenant.AppRoleAssignments, a => a.PrincipalId == Fabrikam.Alice);
        Assert.Contains(StepsAndRequests("DELETE"), r => r == $"DELETE /v1.0/servicePrincipals/{Fabrikam.HelperBot}/appRoleAssignedTo/{created.Id}");
    }

    [Fact]
    public void FileGrantInvitesWithoutMailAndRevertRemovesExactlyThatPermission()
    {
        var p = Provider();
        var op = AccessOperation.Grant(Fabrikam.PayrollId, Fabrikam.Eng, "read");
        var applied = p.Apply(p.Plan(op));
        var item = Tenant.Items[$"{Fabrikam.Drive}/{Fabrikam.Payroll}"];
        var created = Assert.Single(item.Permissions, x => x.Group == Fabrikam.Eng);
        Assert.Equal(created.Id, applied.Reference);
        Assert.True(p.Plan(op).AlreadyInEffect);
        p.Revert(applied);
        Assert.DoesNotContain(item.Permissions, x => x.Group == Fabrikam.Eng);
        Assert.Equal(2, item.Permissions.Count);
    }

    [Fact]
    public void RevokingAFilePermissionAndGrantingItBack()
    {
        var p = Provider();
        var op = AccessOperation.Revoke(Fabrikam.PayrollId, Fabrikam.Data, "read");
        var plan = p.Plan(op);
        Assert.Equal("p-data", plan.State);
        var applied = p.Apply(plan);
        var item = Tenant.Items[$"{Fabrikam.Drive}/{Fabrikam.Payroll}"];
        Assert.DoesNotContain(item.Permissions, x => x.Group == Fabrikam.Data);
        p.Revert(applied);
        Assert.Single(item.Permissions, x => x.Group == Fabrikam.Data && x.Role == "read");
    }

    [Fact]
    public void AnInheritedPermissionIsRefusedWhereItIsNotDefined()
    {
        var p = Provider();
        var e = Assert.Throws<GovernanceException>(() => p.Plan(AccessOperation.Revoke(Fabrikam.RoadmapId, Fabrikam.Erin, "read")));
        Assert.Equal("PermissionInherited", e.ErrorId);
        Assert.Contains("/drive/root:/Shared", e.Message);
    }

    [Fact]
    public void CreateLinkIsRevertedByTheLinksPermissionIdAndAnExistingLinkIsDone()
    {
        var p = Provider();
        var op = AccessOperation.CreateLink(Fabrikam.PayrollId, LinkScope.Organization, "read");
        var plan = p.Plan(op);
        Assert.Equal(AccessOperation.Revoke(Fabrikam.PayrollId, Audiences.EveryoneExceptExternal, "read"), plan.Inverse);
        var applied = p.Apply(plan);
        var item = Tenant.Items[$"{Fabrikam.Drive}/{Fabrikam.Payroll}"];
        var link = Assert.Single(item.Permissions, x => x.LinkScope == "organization");
        Assert.Equal(link.Id, applied.Reference);
        Assert.Equal(link.Id, p.Recover(plan)!.Reference); // found again from the directory: the id not in the plan's state

        // Graph answers 200 with the existing link: nothing changed, nothing to undo.
        Assert.False(p.Apply(plan).Changed);
        Assert.Single(item.Permissions, x => x.LinkScope == "organization");

        p.Revert(applied);
        Assert.DoesNotContain(item.Permissions, x => x.LinkScope is not null);
        Assert.Contains(StepsAndRequests("DELETE"), r => r == $"DELETE /v1.0/drives/{Fabrikam.Drive}/items/{Fabrikam.Payroll}/permissions/{link.Id}");
    }

    [Fact]
    public void ADynamicGroupsMembersAreNotChanged()
    {
        var p = Provider();
        var e = Assert.Throws<GovernanceException>(() => p.Plan(AccessOperation.AddMember(Fabrikam.Sales, Fabrikam.Alice)));
        Assert.Equal("GroupMembershipDynamic", e.ErrorId);
    }

    [Fact]
    public void ABatchWithMixedResultsReportsEachOperationAndSkipsWhatDependsOnAFailure()
    {
        var p = Provider();
        var plans = new[]
        {
            p.Plan(AccessOperation.AddMember(Fabrikam.Team, Fabrikam.Alice)),            // succeeds
            p.Plan(AccessOperation.AddMember(Fabrikam.Eng, Fabrikam.Joe)),               // refused (403 below)
            p.Plan(AccessOperation.SetVisibility(Fabrikam.Eng, GroupVisibility.Public)), // same object, after the refused one: 424
            p.Plan(AccessOperation.RemoveMember(Fabrikam.Team, Fabrikam.Erin)),          // succeeds, after the first on Team
        };
        Graph.Fail(new Fault { Method = "POST", Path = $"/groups/{Fabrikam.Eng}/members/$ref", Status = 403, Code = "Authorization_RequestDenied", InBatch = true });
        var before = Graph.RequestCount;
        var outcomes = p.ApplyAll(plans);

        Assert.Equal(1, Graph.RequestCount - before); // one $batch
        Assert.True(outcomes[0].Succeeded && outcomes[0].Applied!.Changed);
        Assert.Equal("DirectoryPermissionDenied", outcomes[1].Error!.ErrorId);
        Assert.Contains("GroupMember.ReadWrite.All", outcomes[1].Error!.Message);
        Assert.Equal("DirectoryWriteSkipped", outcomes[2].Error!.ErrorId);
        Assert.True(outcomes[3].Succeeded && outcomes[3].Applied!.Changed);
        Assert.Contains(Fabrikam.Alice, Tenant.Groups[Fabrikam.Team].Members);
        Assert.DoesNotContain(Fabrikam.Erin, Tenant.Groups[Fabrikam.Team].Members);
        Assert.Null(Tenant.Groups[Fabrikam.Eng].Visibility);
        Assert.DoesNotContain(Fabrikam.Joe, Tenant.Groups[Fabrikam.Eng].Members);
    }
}
