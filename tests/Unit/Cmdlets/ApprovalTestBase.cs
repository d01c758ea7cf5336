using System.Collections;
using AgentGovernance.Approval;
using AgentGovernance.Tests.Support;

namespace AgentGovernance.Tests.Cmdlets;

/// <summary>
/// A session on the tiny tenant with its own store and ledger signer in the test's folder, and a policy
/// whose approvers are the test keys. Each test connects afresh (the runspace is shared by the class).
/// </summary>
public abstract class ApprovalTestBase : CmdletTestBase
{
    protected static readonly string[] DefaultApprovers =
        { "carol@tiny.example", "erin@example.org", "frank@example.org", "bob@tiny.example", "sp-bot", "u-alice" };

    protected ApprovalTestBase(HostFixture fixture)
        : base(fixture)
    {
    }

    protected string StorePath => Temp["store"];

    /// <summary>Connects to the tiny tenant with a policy of these approvers (the default set when null).</summary>
    protected void Connect(IEnumerable<string>? approvers = null, IEnumerable<string>? breakGlass = null, string extraPolicy = "")
    {
        TinyPath.ToString();
        Temp.Write("policy.psd1", ApprovalTestData.Policy(approvers ?? DefaultApprovers, breakGlass, extraPolicy));
        Ps.RunClean("Connect-AgentGovernance tiny.snapshot.json -PolicyPath policy.psd1 -StorePath store -LedgerSignerPath keys/signer.json");
    }

    protected RunResult Run(string script, params object?[] args) => Ps.Run(script, ApprovalTestData.Variables(), args);

    protected RunResult RunClean(string script, params object?[] args) => Ps.RunClean(script, ApprovalTestData.Variables(), args);

    /// <summary>Writes a change document and opens a request for it; returns the request.</summary>
    protected ApprovalRequest Open(string changeJson = CmdletTestData.GrantChange, string options = "")
    {
        Temp.Write("change.json", changeJson);
        return RunClean("Import-AccessChange change.json | Request-HumanApproval " + options).Single<ApprovalRequest>();
    }

    protected RunResult Approve(string requestId, string key, string options = "-Force") =>
        Run($"Approve-AccessChange -RequestId $args[0] -KeyPath $key_{key} -Passphrase $pw {options}", requestId);

    protected RunResult Deny(string requestId, string key, string options = "-Force") =>
        Run($"Deny-AccessChange -RequestId $args[0] -KeyPath $key_{key} -Passphrase $pw {options}", requestId);

    protected ApprovalRequest Get(string requestId) => RunClean("Get-ApprovalRequest $args[0]", requestId).Single<ApprovalRequest>();

    protected List<global::AgentGovernance.Ledger.LedgerEntry> Log(string filter = "") => RunClean("Get-GovernanceAuditLog " + filter).Objects<global::AgentGovernance.Ledger.LedgerEntry>().ToList();

    protected static string ChangeWith(string fields, string operation = "{ \"op\": \"grant\", \"resource\": \"site-secret\", \"principal\": \"g-eng\", \"role\": \"read\" }") =>
        CmdletTestData.Change(operation, fields);

    protected static IDictionary None => new Hashtable();
}
