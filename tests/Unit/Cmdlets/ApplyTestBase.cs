using AgentGovernance.Approval;
using AgentGovernance.Directory;
using AgentGovernance.Tests.Support;

namespace AgentGovernance.Tests.Cmdlets;

/// <summary>Approval sessions whose snapshot file is the directory changes are applied to (written in the writer's own form, so bytes compare).</summary>
public abstract class ApplyTestBase : ApprovalTestBase
{
    protected ApplyTestBase(HostFixture fixture)
        : base(fixture)
    {
    }

    protected string SnapshotFile => TinyPath;

    protected void ConnectForApply(IEnumerable<string>? approvers = null, string extraPolicy = "")
    {
        SnapshotWriter.WriteFile(SnapshotReader.ReadFile(TinyPath), TinyPath);
        Connect(approvers, extraPolicy: extraPolicy);
    }

    protected AccessSnapshot Directory => SnapshotReader.ReadFile(SnapshotFile);

    /// <summary>Opens a request for the change and approves it with the given keys (carol and erin by default).</summary>
    protected ApprovalRequest Approved(string changeJson = CmdletTestData.GrantChange, string options = "", params string[] keys)
    {
        var request = Open(changeJson, options);
        foreach (var key in keys.Length == 0 ? new[] { "carol", "erin" } : keys)
        {
            var r = Approve(request.RequestId, key);
            Assert.True(r.Errors.Count == 0, string.Join("; ", r.Errors));
        }

        return Get(request.RequestId);
    }

    protected RunResult Invoke(string requestId, string options = "-Force") => Run("Invoke-ApprovedChange $args[0] " + options, requestId);

    protected static bool HasGrant(AccessSnapshot s, string resource, string principal, string role) =>
        s.Grants.Any(g => g.ResourceId == resource && g.PrincipalId == principal && g.Role == role);

    /// <summary>The three-operation change the crash and rollback tests use: none of its operations is in effect in the tiny tenant.</summary>
    protected static string ThreeOperations => ChangeWith(
        "\"requestedBy\": \"bob@tiny.example\", \"title\": \"Three steps\"",
        "{ \"op\": \"addMember\", \"group\": \"g-data\", \"member\": \"u-alice\" }, " +
        "{ \"op\": \"grant\", \"resource\": \"site-general\", \"principal\": \"u-bob\", \"role\": \"write\" }, " +
        "{ \"op\": \"setVisibility\", \"group\": \"g-team\", \"visibility\": \"Public\" }");

    protected static void AssertThreeOperationsInEffect(AccessSnapshot s)
    {
        Assert.Equal(1, s.GetMembers("g-data").Count(m => m == "u-alice"));
        Assert.Equal(1, s.Grants.Count(g => g.ResourceId == "site-general" && g.PrincipalId == "u-bob" && g.Role == "write"));
        Assert.Equal(GroupVisibility.Public, s.FindPrincipal("g-team")!.Visibility);
    }
}
