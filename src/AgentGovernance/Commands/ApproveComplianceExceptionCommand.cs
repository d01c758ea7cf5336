using System;
using System.Linq;
using System.Management.Automation;
using System.Security;
using System.Security.Cryptography.X509Certificates;
using AgentGovernance.Approval;
using AgentGovernance.Compliance;
using AgentGovernance.Ledger;

namespace AgentGovernance.Commands;

/// <summary>
/// Signs one approver's acceptance of a compliance finding: for its present evidence, with a reason and
/// an end. When approvals by the policy's approvers meet the quorum the finding's severity needs
/// (RequiredApprovals), the next audit gives it the status Accepted, which -FailOn does not count; it
/// lapses at its end or when the finding's evidence changes.
/// </summary>
[Cmdlet(VerbsLifecycle.Approve, "ComplianceException", DefaultParameterSetName = IdKeyFile, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(ComplianceExceptionStatus))]
public sealed class ApproveComplianceExceptionCommand : GovernanceCmdlet
{
    private const string IdKeyFile = "IdKeyFile";
    private const string IdCertificateFile = "IdCertificateFile";
    private const string ObjectKeyFile = "ObjectKeyFile";
    private const string ObjectCertificateFile = "ObjectCertificateFile";

    /// <summary>An exception holds at most 366 days: it is reviewed at least once a year.</summary>
    internal static readonly TimeSpan MaxExpiresIn = TimeSpan.FromDays(366);

    /// <summary>The finding's id (<c>AUD003:site-secret</c>), as the last audit of the store recorded it.</summary>
    [Parameter(ParameterSetName = IdKeyFile, Mandatory = true, Position = 0)]
    [Parameter(ParameterSetName = IdCertificateFile, Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string FindingId { get; set; } = string.Empty;

    /// <summary>A finding from Invoke-ComplianceAudit.</summary>
    [Parameter(ParameterSetName = ObjectKeyFile, Mandatory = true, ValueFromPipeline = true)]
    [Parameter(ParameterSetName = ObjectCertificateFile, Mandatory = true, ValueFromPipeline = true)]
    public ComplianceFinding InputObject { get; set; } = null!;

    /// <summary>Why the finding is accepted; signed and kept in the ledger.</summary>
    [Parameter(Mandatory = true)]
    [ValidateNotNullOrEmpty]
    public string Reason { get; set; } = string.Empty;

    /// <summary>How long the exception holds (at most 366 days): a TimeSpan or an ISO 8601 duration (P90D).</summary>
    [Parameter(Mandatory = true)]
    [DurationTransformation]
    public TimeSpan ExpiresIn { get; set; }

    /// <summary>The approver key file that New-ApproverKey made.</summary>
    [Parameter(ParameterSetName = IdKeyFile, Mandatory = true)]
    [Parameter(ParameterSetName = ObjectKeyFile, Mandatory = true)]
    [ValidateNotNullOrEmpty]
    public string KeyPath { get; set; } = string.Empty;

    [Parameter(ParameterSetName = IdKeyFile, Mandatory = true)]
    [Parameter(ParameterSetName = ObjectKeyFile, Mandatory = true)]
    public SecureString Passphrase { get; set; } = null!;

    /// <summary>A certificate with its private key (.pfx).</summary>
    [Parameter(ParameterSetName = IdCertificateFile, Mandatory = true)]
    [Parameter(ParameterSetName = ObjectCertificateFile, Mandatory = true)]
    [ValidateNotNullOrEmpty]
    public string CertificatePath { get; set; } = string.Empty;

    [Parameter(ParameterSetName = IdCertificateFile)]
    [Parameter(ParameterSetName = ObjectCertificateFile)]
    public SecureString? CertificatePassword { get; set; }

    /// <summary>Signs without the confirmation prompt (-WhatIf still only tells).</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessRecord()
    {
        var target = InputObject?.Id ?? FindingId;
        try
        {
            if (ExpiresIn <= TimeSpan.Zero || ExpiresIn > MaxExpiresIn)
            {
                throw new GovernanceException("ExceptionExpiryInvalid", GovernanceErrorKind.InvalidArgument,
                    $"-ExpiresIn must be more than zero and at most {MaxExpiresIn.TotalDays:0} days, not {ExpiresIn}: an exception is reviewed at least once a year.", ExpiresIn);
            }

            var policy = CurrentPolicy(null);
            using var approvals = OpenApprovals(policy);
            var (entries, verification) = approvals.Ledger.ReadVerified();
            if (!verification.IsValid)
            {
                throw new GovernanceException("LedgerInvalid", GovernanceErrorKind.SecurityError,
                    $"The ledger does not verify ({verification.Problem} at entry {verification.FirstBadSequence}); no exception is recorded in it. Run Test-GovernanceAuditLog.", target);
            }

            string tenantId, findingId, evidenceHash;
            ComplianceSeverity severity;
            if (InputObject is not null)
            {
                if (InputObject.Status is FindingStatus.Resolved)
                {
                    throw new GovernanceException("FindingResolved", GovernanceErrorKind.InvalidOperation,
                        $"{InputObject.Id} is resolved: there is nothing to accept.", target);
                }

                var run = entries.Select(ComplianceRun.From).OfType<ComplianceRun>().LastOrDefault(r => r.Findings.Any(f => f.Id == InputObject.Id && f.EvidenceHash == InputObject.EvidenceHash))
                    ?? throw new GovernanceException("FindingNotFound", GovernanceErrorKind.ObjectNotFound,
                        $"No audit recorded in this store's ledger found {InputObject.Id} with this evidence ({InputObject.EvidenceHash}): accept findings of an audit of this store.", target);
                (tenantId, findingId, evidenceHash, severity) = (run.TenantId, InputObject.Id, InputObject.EvidenceHash, InputObject.Severity);
            }
            else
            {
                var tenant = Session.Snapshot?.TenantId;
                var run = entries.Select(ComplianceRun.From).OfType<ComplianceRun>().LastOrDefault(r => tenant is null || string.Equals(r.TenantId, tenant, StringComparison.OrdinalIgnoreCase))
                    ?? throw new GovernanceException("FindingNotFound", GovernanceErrorKind.ObjectNotFound,
                        $"No compliance audit is recorded in this store{(tenant is null ? string.Empty : " for " + tenant)}: run Invoke-ComplianceAudit first.", target);
                var recorded = run.Findings.FirstOrDefault(f => string.Equals(f.Id, FindingId, StringComparison.OrdinalIgnoreCase))
                    ?? throw new GovernanceException("FindingNotFound", GovernanceErrorKind.ObjectNotFound,
                        $"The last audit of {run.TenantId} (entry #{run.Sequence}, {GovernanceClock.Format(run.AuditedAt)}) has no finding {FindingId}.", target);
                (tenantId, findingId, evidenceHash, severity) = (run.TenantId, recorded.Id, recorded.EvidenceHash, recorded.Severity);
            }

            using var key = LoadKey();
            var approver = policy.FindApproverByKey(key.PublicKey.KeyId)
                ?? throw new GovernanceException("ApproverNotEligible", GovernanceErrorKind.PermissionDenied,
                    $"The key {key.PublicKey.KeyId} is not an approver key the policy lists, so it cannot accept {findingId}. Add its public key to the policy's Approvers.", target);
            var book = new ComplianceExceptions(entries, policy, tenantId, Session.Snapshot);
            if (book.IsAgent(approver.Id))
            {
                throw new GovernanceException("ApproverIsAgent", GovernanceErrorKind.PermissionDenied,
                    $"{approver.Id} is an agent identity (in the policy's AgentIdentities or marked isAgent in the directory): an agent cannot accept a finding.", target);
            }

            var now = GovernanceClock.UtcNow;
            var required = ComplianceExceptions.RequiredFor(policy, severity);
            var text = Display.SafeText.Show($"Accept {findingId} ({severity}, evidence {evidenceHash}) as {approver.Id} until {GovernanceClock.Format(now + ExpiresIn)}: {Reason}");
            if (!ShouldProcessUnlessForced(Force, text, new[] { text, string.Empty, $"{required} approval(s) accept a {severity} finding. Sign this exception as {approver.Id}?" }, "Accept compliance finding"))
            {
                return;
            }

            var approval = ComplianceExceptionApproval.Sign(key, tenantId, findingId, evidenceHash, severity, Reason, approver.Id, now, now + ExpiresIn);
            var after = book.For(findingId, evidenceHash, severity, approval);
            approvals.Ledger.Append(approval.ToLedgerEvent(after.Approvals.Count, after.RequiredApprovals));
            if (!after.QuorumMet)
            {
                WriteWarning($"{findingId} has {after.Quorum} approvals: the audit accepts it once {after.RequiredApprovals} approvers have signed.");
            }

            WriteObject(after);
        }
        catch (GovernanceException e)
        {
            WriteGovernanceError(e, target);
        }
    }

    private SigningKey LoadKey() =>
        ParameterSetName is IdKeyFile or ObjectKeyFile ? OpenKeyFile(KeyPath, Passphrase) : OpenCertificateFile(CertificatePath, CertificatePassword);
}
