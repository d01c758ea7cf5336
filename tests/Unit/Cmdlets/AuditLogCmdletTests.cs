using System.Management.Automation;
using AgentGovernance.Ledger;
using AgentGovernance.Tests.Support;

namespace AgentGovernance.Tests.Cmdlets;

/// <summary>Get-GovernanceAuditLog's filters and Test-GovernanceAuditLog's verdicts, as a runbook uses them.</summary>
public sealed class AuditLogCmdletTests : ApprovalTestBase
{
    public AuditLogCmdletTests(HostFixture fixture)
        : base(fixture)
    {
    }

    private string LedgerFile => Path.Combine(StorePath, "ledger.jsonl");

    [Fact]
    public void TheLogFiltersByRequestChangeEventActorTimeAndCount()
    {
        // erin is not in the tiny tenant: the policy's offline switch lets her request.
        Connect(extraPolicy: "    AllowUnresolvedRequester = $true\n");
        var a = Open();
        var b = Open(CmdletTestData.SmallChange, "-RequestedBy erin@example.org");
        Approve(a.RequestId, "carol");
        Approve(b.RequestId, "carol");

        Assert.Equal(8, Log().Count);
        Assert.Equal(new long[] { 1, 2, 3, 7 }, Log("-RequestId " + a.RequestId).Select(e => e.Sequence));
        Assert.Equal(4, Log("-ChangeId " + b.ChangeId).Count);
        Assert.Equal(4, Log("-Event Approv*").Count);
        Assert.Equal(2, Log("-Event Approved").Count);
        Assert.Equal(new[] { 4L, 5L, 6L }, Log("-Actor erin*").Select(e => e.Sequence));
        Assert.Equal(new[] { 7L, 8L }, Log("-Last 2").Select(e => e.Sequence));
        Assert.Empty(Log("-After ([DateTimeOffset]::UtcNow.AddMinutes(5))"));
        Assert.Equal(8, Log("-Before ([DateTimeOffset]::UtcNow.AddMinutes(5))").Count);
        Assert.Equal(3, RunClean("$args[0] | Get-GovernanceAuditLog -Event ChangeProposed, RiskAssessed, Approved", a).Objects<LedgerEntry>().Count());
    }

    [Fact]
    public void AWholeLedgerVerifiesAndSaysHowMuchIsSealed()
    {
        Connect();
        var request = Open();
        Approve(request.RequestId, "carol");

        var result = Run("Test-GovernanceAuditLog");

        Assert.Empty(result.Errors);
        var v = result.Single<LedgerVerification>();
        Assert.True(v.IsValid);
        Assert.Equal(4, v.Entries);
        Assert.Equal(4, v.LastSealedSequence);
        Assert.True(v.WitnessChecked);
        Assert.False(v.SignersPinned);
        Assert.Contains(result.Warnings, w => w.Contains("not pinned"));
    }

    [Fact]
    public void SignersPinnedInThePolicyAreTheOnlyOnesTrusted()
    {
        Connect();
        Open();
        var signer = File.ReadAllText(System.IO.Directory.GetFiles(Path.Combine(StorePath, "signers")).Single()).Trim();

        Connect(extraPolicy: $"    LedgerSigners = '{signer}'\n");
        var pinned = Run("Test-GovernanceAuditLog").Single<LedgerVerification>();
        Assert.True(pinned.IsValid);
        Assert.True(pinned.SignersPinned);

        using var other = global::AgentGovernance.Approval.SigningKey.NewEcdsa();
        Connect(extraPolicy: $"    LedgerSigners = '{other.PublicKey.Base64}'\n");
        var untrusted = Run("Test-GovernanceAuditLog");
        var found = untrusted.Single<LedgerVerification>();
        Assert.Equal("EntrySignerUntrusted", found.Problem);
        Assert.Contains(found.Problems, p => p.Code == "CheckpointSignerUntrusted");
    }

    [Fact]
    public void AnEditedLedgerIsAnErrorARunbookCanStopOnAndQuietSaysFalse()
    {
        Connect();
        var request = Open();
        Approve(request.RequestId, "carol");
        var lines = File.ReadAllLines(LedgerFile);
        lines[1] = lines[1].Replace("\"riskLevel\":\"Critical\"", "\"riskLevel\":\"Low\"");
        File.WriteAllLines(LedgerFile, lines);

        var result = Run("Test-GovernanceAuditLog");
        var stopped = Run("try { Test-GovernanceAuditLog -ErrorAction Stop; 'went on' } catch { 'stopped: ' + $_.FullyQualifiedErrorId }");

        var error = SingleError(result, "LedgerInvalid", "TestGovernanceAuditLogCommand", ErrorCategory.SecurityError);
        Assert.Contains("Entry 2 (RiskAssessed) was changed after it was written", error.Exception.Message);
        Assert.Equal(2, result.Single<LedgerVerification>().FirstBadSequence);
        Assert.Equal("stopped: LedgerInvalid,AgentGovernance.Commands.TestGovernanceAuditLogCommand", stopped.Objects<string>().Last());
        Assert.False(RunClean("Test-GovernanceAuditLog -Quiet").Single<bool>());
        // Nothing more is chained onto a last entry that does not verify, and no decision is stored for it.
        lines = File.ReadAllLines(LedgerFile);
        lines[^1] = lines[^1].Replace("carol@tiny.example", "erin@example.org");
        File.WriteAllLines(LedgerFile, lines);
        var refused = Approve(request.RequestId, "erin");
        Assert.Equal("LedgerTampered", Assert.Single(refused.Errors).FullyQualifiedErrorId.Split(',')[0]);
        Assert.Single(System.IO.Directory.GetFiles(Path.Combine(StorePath, "decisions", request.RequestId)));
    }

    [Fact]
    public void TheVerdictViewSaysWhatIsWrongFirst()
    {
        Connect();
        Open();
        File.WriteAllLines(LedgerFile, File.ReadAllLines(LedgerFile).Take(1));

        var text = PowerShellHost.Plain(string.Join("\n", Run("Test-GovernanceAuditLog 3>$null 2>$null | Out-Default").Errors.Select(e => e.ToString())));
        var view = Ps.Render("Test-GovernanceAuditLog 3>$null 2>$null");

        Assert.Equal(string.Empty, text);
        Assert.Contains("IsValid          : False", view);
        Assert.Contains("LedgerTruncated", view);
        Assert.Contains("entries 2 to 3 were cut off", view);
    }
}
