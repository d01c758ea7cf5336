using System;
using System.Management.Automation;
using System.Security;
using System.Security.Cryptography.X509Certificates;
using AgentGovernance.Approval;

namespace AgentGovernance.Commands;

/// <summary>
/// Makes an approver key (ECDSA P-256 or RSA) in a passphrase-protected key file, or reads the public
/// key of a certificate, and prints the public half with the line to add to the policy.
/// </summary>
[Cmdlet(VerbsCommon.New, "ApproverKey", DefaultParameterSetName = KeyFileSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(ApproverKeyInfo))]
public sealed class NewApproverKeyCommand : GovernanceCmdlet
{
    private const string KeyFileSet = "KeyFile";
    private const string CertificateFileSet = "CertificateFile";
    private const string CertificateThumbprintSet = "CertificateThumbprint";
    private const int MinimumPassphrase = 12;

    /// <summary>The approver's identity as the policy will name it (user principal name or principal id).</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string Identity { get; set; } = string.Empty;

    /// <summary>The key file to create (never overwritten).</summary>
    [Parameter(ParameterSetName = KeyFileSet, Mandatory = true, Position = 1)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = string.Empty;

    [Parameter(ParameterSetName = KeyFileSet)]
    [ValidateSet("ECDsaP256", "RSA")]
    public string Algorithm { get; set; } = "ECDsaP256";

    [Parameter(ParameterSetName = KeyFileSet)]
    [ValidateSet("2048", "3072", "4096")]
    public int KeySize { get; set; } = 3072;

    /// <summary>Protects the private key (at least 12 characters).</summary>
    [Parameter(ParameterSetName = KeyFileSet, Mandatory = true)]
    public SecureString Passphrase { get; set; } = null!;

    [Parameter(ParameterSetName = CertificateFileSet, Mandatory = true)]
    [ValidateNotNullOrEmpty]
    public string CertificatePath { get; set; } = string.Empty;

    [Parameter(ParameterSetName = CertificateFileSet)]
    public SecureString? CertificatePassword { get; set; }

    [Parameter(ParameterSetName = CertificateThumbprintSet, Mandatory = true)]
    [ValidateNotNullOrEmpty]
    public string CertificateThumbprint { get; set; } = string.Empty;

    [Parameter(ParameterSetName = CertificateThumbprintSet)]
    public StoreLocation CertificateStoreLocation { get; set; } = StoreLocation.CurrentUser;

    protected override void ProcessRecord()
    {
        try
        {
            if (ParameterSetName != KeyFileSet)
            {
                using var certificate = ParameterSetName == CertificateFileSet
                    ? ApproverKeys.FromFile(FileSystemPath(CertificatePath) ?? CertificatePath, CertificatePassword)
                    : ApproverKeys.FromStore(CertificateThumbprint, CertificateStoreLocation);
                var info = new ApproverKeyInfo(Identity, SigningKey.PublicKeyOf(certificate), null, $"{certificate.Thumbprint} ({certificate.Subject})");
                if (!certificate.HasPrivateKey)
                {
                    WriteWarning($"The certificate {certificate.Thumbprint} has no private key here: it can be listed in the policy, but decisions must be signed where its private key is.");
                }

                WriteObject(info);
                return;
            }

            if (FileSystemPath(Path) is not { } file)
            {
                return;
            }

            if (System.IO.File.Exists(file))
            {
                throw new GovernanceException("KeyFileExists", GovernanceErrorKind.WriteError,
                    $"'{file}' already exists; an approver key is never overwritten. Choose another path (or remove the old key and its policy entry first).", file);
            }

            if (Passphrase.Length < MinimumPassphrase)
            {
                throw new GovernanceException("PassphraseTooShort", GovernanceErrorKind.InvalidArgument,
                    $"The passphrase has {Passphrase.Length} characters; an approver key needs at least {MinimumPassphrase}.", file);
            }

            if (!ShouldProcess(file, $"Create a {(Algorithm == "RSA" ? $"RSA {KeySize}" : "ECDSA P-256")} approver key for {Identity}"))
            {
                return;
            }

            using var key = Algorithm == "RSA" ? SigningKey.NewRsa(KeySize) : SigningKey.NewEcdsa();
            var secret = ApproverKeys.Utf8(Passphrase);
            try
            {
                ApproverKeyFile.Write(file, key, Identity, secret, GovernanceClock.UtcNow);
            }
            finally
            {
                Array.Clear(secret, 0, secret.Length);
            }

            WriteVerbose($"Wrote {file} (owner-only). Add the PolicyEntry to the policy's Approvers; keep the file and its passphrase to yourself.");
            WriteObject(new ApproverKeyInfo(Identity, key.PublicKey, file, null));
        }
        catch (GovernanceException e)
        {
            WriteGovernanceError(e, Identity);
        }
    }
}
