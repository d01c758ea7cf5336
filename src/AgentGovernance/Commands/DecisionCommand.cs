using System;
using System.Linq;
using System.Management.Automation;
using System.Security;
using System.Security.Cryptography.X509Certificates;
using AgentGovernance.Approval;

namespace AgentGovernance.Commands;

/// <summary>
/// What Approve-AccessChange and Deny-AccessChange share: the request and the approver's key, a
/// rendering of the stored request (what you see is what you sign), the confirmation, and the signed decision.
/// </summary>
public abstract class DecisionCommand : GovernanceCmdlet
{
    protected const string KeyFileSet = "KeyFile";
    protected const string CertificateFileSet = "CertificateFile";
    protected const string CertificateThumbprintSet = "CertificateThumbprint";

    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(RequestIdCompleter))]
    public string RequestId { get; set; } = string.Empty;

    /// <summary>The approver key file that New-ApproverKey made.</summary>
    [Parameter(ParameterSetName = KeyFileSet, Mandatory = true)]
    [ValidateNotNullOrEmpty]
    public string KeyPath { get; set; } = string.Empty;

    [Parameter(ParameterSetName = KeyFileSet, Mandatory = true)]
    public SecureString Passphrase { get; set; } = null!;

    /// <summary>A certificate with its private key (.pfx).</summary>
    [Parameter(ParameterSetName = CertificateFileSet, Mandatory = true)]
    [ValidateNotNullOrEmpty]
    public string CertificatePath { get; set; } = string.Empty;

    [Parameter(ParameterSetName = CertificateFileSet)]
    public SecureString? CertificatePassword { get; set; }

    /// <summary>A certificate in the user's (or machine's) personal store, by thumbprint.</summary>
    [Parameter(ParameterSetName = CertificateThumbprintSet, Mandatory = true)]
    [ValidateNotNullOrEmpty]
    public string CertificateThumbprint { get; set; } = string.Empty;

    [Parameter(ParameterSetName = CertificateThumbprintSet)]
    public StoreLocation CertificateStoreLocation { get; set; } = StoreLocation.CurrentUser;

    /// <summary>Signed with the decision and kept in the ledger.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Comment { get; set; }

    /// <summary>Decides without the confirmation prompt (-WhatIf still only tells).</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    private protected abstract DecisionKind Kind { get; }

    protected override void ProcessRecord()
    {
        var verb = Kind == DecisionKind.Approve ? "Approve" : "Deny";
        try
        {
            using var governance = OpenGovernance();
            var approvals = governance.Approvals;
            var request = approvals.Get(RequestId);
            using var key = LoadKey();
            var preview = approvals.PreviewDecision(request, key.PublicKey.KeyId, Kind);
            if (preview.Refusal is { } refusal)
            {
                WriteGovernanceError(refusal, preview.Request);
                return;
            }

            foreach (var line in preview.Prompt)
            {
                WriteVerbose(line);
            }

            foreach (var warning in preview.Warnings)
            {
                WriteWarning(warning);
            }

            var approver = preview.Approver!.Id;
            if (!ShouldProcessUnlessForced(Force, Display.SafeText.Show($"{verb} {request.RequestId} as {approver}: {request.Title ?? request.ChangeId}"),
                    preview.Prompt.Concat(new[] { string.Empty, $"Sign this {verb.ToLowerInvariant()} decision as {approver}?" }), $"{verb} access change"))
            {
                return;
            }

            WriteObject(approvals.Decide(preview, key, Comment));
        }
        catch (GovernanceException e)
        {
            WriteGovernanceError(e, RequestId);
        }
    }

    private Approval.SigningKey LoadKey()
    {
        switch (ParameterSetName)
        {
            case KeyFileSet:
                return OpenKeyFile(KeyPath, Passphrase);

            case CertificateFileSet:
                return OpenCertificateFile(CertificatePath, CertificatePassword);

            default:
                using (var certificate = ApproverKeys.FromStore(CertificateThumbprint, CertificateStoreLocation))
                {
                    return Approval.SigningKey.FromCertificate(certificate);
                }
        }
    }
}

/// <summary>Signs an approval of a pending request, after showing what exactly is approved.</summary>
[Cmdlet(VerbsLifecycle.Approve, "AccessChange", DefaultParameterSetName = KeyFileSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(ApprovalRequest))]
public sealed class ApproveAccessChangeCommand : DecisionCommand
{
    private protected override DecisionKind Kind => DecisionKind.Approve;
}

/// <summary>Signs a denial: the request can no longer be approved.</summary>
[Cmdlet(VerbsLifecycle.Deny, "AccessChange", DefaultParameterSetName = KeyFileSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(ApprovalRequest))]
public sealed class DenyAccessChangeCommand : DecisionCommand
{
    private protected override DecisionKind Kind => DecisionKind.Deny;
}
