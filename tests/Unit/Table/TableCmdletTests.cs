using AgentGovernance.Approval;
using AgentGovernance.Compliance;
using AgentGovernance.Commands;
using AgentGovernance.Ledger;
using AgentGovernance.Tests.Cmdlets;
using AgentGovernance.Tests.Support;

namespace AgentGovernance.Tests.Table;

/// <summary>
/// The cmdlets on a table store (Azurite): the whole pipeline, eight worker processes at once, and
/// Copy-GovernanceStore from a folder to a table and back.
/// </summary>
[Collection("Azurite")]
public sealed class TableCmdletTests : ApplyTestBase
{
    private const string WorkerScript = """
        param($snapshot, $policy, $connection, $table, $signer, $carol, $erin, $pass, $change, $count)
        $ErrorActionPreference = 'Stop'
        $cs = [System.Net.NetworkCredential]::new('', $connection).SecurePassword
        Connect-AgentGovernance -SnapshotPath $snapshot -PolicyPath $policy -StoreConnectionString $cs -StoreTable $table -LedgerSignerPath $signer
        $pw = [System.Net.NetworkCredential]::new('', $pass).SecurePassword
        foreach ($i in 1..[int]$count) {
            $r = Import-AccessChange $change | Request-HumanApproval
            $null = Approve-AccessChange -RequestId $r.RequestId -KeyPath $carol -Passphrase $pw -Force
            $null = Approve-AccessChange -RequestId $r.RequestId -KeyPath $erin -Passphrase $pw -Force
            "done $($r.RequestId)"
        }
        """;

    private readonly Azurite _azurite;

    public TableCmdletTests(HostFixture fixture, Azurite azurite)
        : base(fixture)
    {
        _azurite = azurite;
    }

    private string ConnectTable(string? table = null)
    {
        table ??= _azurite.NewTable("c");
        ConnectForApply();
        RunClean("Connect-AgentGovernance -StoreConnectionString ([System.Net.NetworkCredential]::new('', $args[0]).SecurePassword) -StoreTable $args[1]", _azurite.ConnectionString, table);
        return table;
    }

    [Fact]
    public void The_whole_pipeline_runs_on_a_table_store_and_its_ledger_verifies()
    {
        var table = ConnectTable();
        var session = RunClean("Connect-AgentGovernance -PassThru").Single<GovernanceSession>();
        Assert.Equal("azureTable", session.StoreKind);
        Assert.EndsWith("/" + table, session.StorePath);
        Assert.DoesNotContain(Azurite.Key, session.StorePath);

        var request = Approved();
        Assert.Equal(ApprovalStatus.Approved, request.Status);
        var applied = Invoke(request.RequestId);
        Assert.True(applied.Errors.Count == 0, string.Join("; ", applied.Errors));
        Assert.Equal(ApprovalStatus.Applied, Get(request.RequestId).Status);
        Assert.True(HasGrant(Directory, "site-secret", "g-eng", "read"));

        var verification = RunClean("Test-GovernanceAuditLog").Single<LedgerVerification>();
        Assert.True(verification.IsValid, verification.Message);
        Assert.Contains(Log(), e => e.Event == LedgerEvents.ApplyCompleted);
    }

    [Fact]
    public void Eight_worker_processes_requesting_and_approving_at_once_lose_nothing_and_fork_nothing()
    {
        var table = ConnectTable();
        Temp.Write("change.json", CmdletTestData.GrantChange);
        var script = Temp.Write("worker.ps1", WorkerScript);
        const int workers = 8, each = 2;
        var processes = Enumerable.Range(0, workers).Select(w => WorkerProcess.Start(script, new[]
        {
            SnapshotFile, Temp["policy.psd1"], _azurite.ConnectionString, table, Temp[$"worker{w}/signer.json"],
            ApprovalTestData.Keys["carol@tiny.example"].Path, ApprovalTestData.Keys["erin@example.org"].Path, ApprovalTestData.Passphrase, Temp["change.json"], each.ToString(),
        })).ToList();
        try
        {
            foreach (var p in processes)
            {
                Assert.True(p.WaitForExit(TimeSpan.FromMinutes(8)), p.Describe());
                Assert.True(p.ExitCode == 0, p.Describe());
            }

            var done = processes.SelectMany(p => p.Output).Where(l => l.StartsWith("done ", StringComparison.Ordinal)).Select(l => l.Substring(5)).ToList();
            Assert.Equal(workers * each, done.Distinct().Count());

            var verification = RunClean("Test-GovernanceAuditLog").Single<LedgerVerification>();
            Assert.True(verification.IsValid, verification.Message);
            var log = Log();
            Assert.Equal(Enumerable.Range(1, log.Count).Select(i => (long)i), log.Select(e => e.Sequence));
            foreach (var id in done)
            {
                Assert.Equal(ApprovalStatus.Approved, Get(id).Status);
                Assert.Single(log, e => e.RequestId == id && e.Event == LedgerEvents.ChangeProposed);
                Assert.Equal(2, log.Count(e => e.RequestId == id && e.Event == LedgerEvents.Approved));
            }
        }
        finally
        {
            foreach (var p in processes)
            {
                p.Dispose();
            }
        }
    }

    [Fact]
    public void Copy_GovernanceStore_copies_a_folder_store_into_a_table_and_back_verifying_both_sides()
    {
        // A folder store with a pipeline's worth of history.
        ConnectForApply();
        var request = Approved();
        Assert.True(Invoke(request.RequestId).Errors.Count == 0);
        // And a compliance audit, whose full report the store keeps beside its ledger entry.
        Assert.Empty(Run("Invoke-ComplianceAudit -WarningAction SilentlyContinue").Errors);
        var report = RunClean("Get-ComplianceAuditResult -Last 1 -Full").Single<StoredComplianceReport>();
        var folderLog = Log();

        var table = _azurite.NewTable("copy");
        RunClean("Connect-AgentGovernance -StoreConnectionString ([System.Net.NetworkCredential]::new('', $args[0]).SecurePassword) -StoreTable $args[1]", _azurite.ConnectionString, _azurite.NewTable("s"));
        var there = RunClean("Copy-GovernanceStore -SourcePath store -DestinationTable $args[0]", table).Single<GovernanceStoreCopy>();
        Assert.True(there.SourceVerified && there.DestinationVerified);
        Assert.Equal(folderLog.Count, there.Entries);
        Assert.Equal(1, there.Requests);
        Assert.Equal(2, there.Decisions);
        Assert.Equal(1, there.Reports);

        // The copy is a store of its own: the session on it sees the same request and the same ledger.
        RunClean("Connect-AgentGovernance -StoreConnectionString ([System.Net.NetworkCredential]::new('', $args[0]).SecurePassword) -StoreTable $args[1]", _azurite.ConnectionString, table);
        Assert.Equal(ApprovalStatus.Applied, Get(request.RequestId).Status);
        Assert.Equal(folderLog.Select(e => e.Hash), Log().Select(e => e.Hash));
        Assert.True(RunClean("Test-GovernanceAuditLog").Single<LedgerVerification>().IsValid);
        Assert.Equal(report.ReportHash, RunClean("Get-ComplianceAuditResult -Last 1 -Full").Single<StoredComplianceReport>().ReportHash);

        // And back into a new folder.
        var back = RunClean("Copy-GovernanceStore -DestinationPath back").Single<GovernanceStoreCopy>();
        Assert.True(back.DestinationVerified);
        Assert.Equal(File.ReadAllBytes(Path.Combine(StorePath, "ledger.jsonl")), File.ReadAllBytes(Temp["back/ledger.jsonl"]));
        Assert.Equal(1, back.Reports);
        var stored = "compliance/" + report.ReportHash.Substring("sha256:".Length) + ".json";
        Assert.Equal(File.ReadAllBytes(Path.Combine(StorePath, stored)), File.ReadAllBytes(Temp["back/" + stored]));

        // Never into a store that has a history already.
        var again = Run("Copy-GovernanceStore -SourcePath store -DestinationTable $args[0]", table);
        Assert.StartsWith("StoreNotEmpty", Assert.Single(again.Errors).FullyQualifiedErrorId);
        var intoFull = Run("Copy-GovernanceStore -DestinationPath back");
        Assert.StartsWith("StoreNotEmpty", Assert.Single(intoFull.Errors).FullyQualifiedErrorId);
    }

    [Fact]
    public void A_table_store_with_no_sign_in_or_two_of_them_is_refused_and_the_session_keeps_its_store()
    {
        ConnectForApply();
        var r = Run("Connect-AgentGovernance -StoreEndpoint $args[0]", _azurite.Endpoint);
        Assert.StartsWith("StoreCredentialInvalid", Assert.Single(r.Errors).FullyQualifiedErrorId);
        r = Run("Connect-AgentGovernance -StoreConnectionString ([System.Net.NetworkCredential]::new('', 'x').SecurePassword) -StoreManagedIdentity -StoreEndpoint $args[0]", _azurite.Endpoint);
        Assert.StartsWith("StoreCredentialInvalid", Assert.Single(r.Errors).FullyQualifiedErrorId);
        r = Run("Connect-AgentGovernance -StorePath other -StoreConnectionString ([System.Net.NetworkCredential]::new('', $args[0]).SecurePassword)", _azurite.ConnectionString);
        Assert.StartsWith("StoreAmbiguous", Assert.Single(r.Errors).FullyQualifiedErrorId);
        Assert.Equal("folder", RunClean("Connect-AgentGovernance -PassThru").Single<GovernanceSession>().StoreKind);
    }
}
