using System.Management.Automation;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using AgentGovernance.Approval;
using AgentGovernance.Tests.Support;

namespace AgentGovernance.Tests.Cmdlets;

/// <summary>New-ApproverKey: key files (at the full PBKDF2 cost) and certificates, and approving with them.</summary>
public sealed class ApproverKeyCmdletTests : ApprovalTestBase
{
    private const string Cmd = "NewApproverKeyCommand";

    public ApproverKeyCmdletTests(HostFixture fixture)
        : base(fixture)
    {
    }

    [Theory]
    [InlineData("", "ES256", 256)]
    [InlineData("-Algorithm RSA -KeySize 2048", "RS256", 2048)]
    public void MakesAKeyFileWhosePolicyEntryLetsItsOwnerApprove(string options, string algorithm, int bits)
    {
        var info = RunClean("New-ApproverKey -Identity erin@example.org -Path erin.key -Passphrase $pw " + options).Single<ApproverKeyInfo>();

        Assert.Equal(algorithm, info.Algorithm);
        Assert.Equal(bits, info.KeySize);
        Assert.Equal(Temp["erin.key"], info.Path);
        Assert.Equal($"@{{ Id = 'erin@example.org'; PublicKey = '{info.PublicKey}' }}", info.PolicyEntry);
        Assert.Contains("\"iterations\": 600000", File.ReadAllText(Temp["erin.key"]));

        TinyPath.ToString();
        var others = ApprovalTestData.Policy(new[] { "carol@tiny.example" });
        Temp.Write("policy.psd1", others.Replace("    )\n", "        " + info.PolicyEntry + "\n    )\n"));
        RunClean("Connect-AgentGovernance tiny.snapshot.json -PolicyPath policy.psd1 -StorePath store -LedgerSignerPath keys/signer.json");
        var request = Open();
        Assert.Empty(Run("Approve-AccessChange $args[0] -KeyPath erin.key -Passphrase $pw -Force", request.RequestId).Errors);
        Assert.Equal(new[] { "erin@example.org" }, Get(request.RequestId).ApprovedBy);
    }

    [Fact]
    public void AShortPassphraseAnExistingFileAndWhatIfWriteNothing()
    {
        SingleError(Run("New-ApproverKey erin@example.org short.key -Passphrase ([System.Net.NetworkCredential]::new('', 'too short').SecurePassword)"),
            "PassphraseTooShort", Cmd, ErrorCategory.InvalidArgument);
        Assert.False(File.Exists(Temp["short.key"]));

        Temp.Write("taken.key", "mine");
        SingleError(Run("New-ApproverKey erin@example.org taken.key -Passphrase $pw"), "KeyFileExists", Cmd, ErrorCategory.WriteError);
        Assert.Equal("mine", File.ReadAllText(Temp["taken.key"]));

        Assert.Empty(RunClean("New-ApproverKey erin@example.org whatif.key -Passphrase $pw -WhatIf").Output);
        Assert.False(File.Exists(Temp["whatif.key"]));
    }

    [Fact]
    public void ACertificateFileGivesItsPublicKeyAndSignsDecisions()
    {
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var cert = new CertificateRequest("CN=Erin Approver", ec, HashAlgorithmName.SHA256).CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        File.WriteAllBytes(Temp["erin.pfx"], cert.Export(X509ContentType.Pfx, ApprovalTestData.Passphrase));
        File.WriteAllBytes(Temp["erin.cer"], cert.Export(X509ContentType.Cert));

        var info = RunClean("New-ApproverKey erin@example.org -CertificatePath erin.pfx -CertificatePassword $pw").Single<ApproverKeyInfo>();
        var publicOnly = Run("New-ApproverKey erin@example.org -CertificatePath erin.cer");

        Assert.Equal(Convert.ToBase64String(ec.ExportSubjectPublicKeyInfo()), info.PublicKey);
        Assert.Contains(cert.Thumbprint, info.Certificate);
        Assert.Equal(info.PublicKey, publicOnly.Single<ApproverKeyInfo>().PublicKey);
        Assert.Contains(publicOnly.Warnings, w => w.Contains("no private key"));

        TinyPath.ToString();
        Temp.Write("policy.psd1", ApprovalTestData.Policy(new[] { "carol@tiny.example" }).Replace("    )\n", "        " + info.PolicyEntry + "\n    )\n"));
        RunClean("Connect-AgentGovernance tiny.snapshot.json -PolicyPath policy.psd1 -StorePath store -LedgerSignerPath keys/signer.json");
        var request = Open();
        Assert.Empty(Run("Approve-AccessChange $args[0] -CertificatePath erin.pfx -CertificatePassword $pw -Force", request.RequestId).Errors);
        var noKey = Run("Deny-AccessChange $args[0] -CertificatePath erin.cer -Force", request.RequestId);
        Assert.Equal("CertificateHasNoPrivateKey", Assert.Single(noKey.Errors).FullyQualifiedErrorId.Split(',')[0]);
        Assert.Equal(new[] { "erin@example.org" }, Get(request.RequestId).ApprovedBy);
    }

    [Fact]
    public void AThumbprintThatIsNotInTheStoreIsNamed()
    {
        var result = Run("New-ApproverKey erin@example.org -CertificateThumbprint 0000000000000000000000000000000000000000");

        SingleError(result, "CertificateNotFound", Cmd, ErrorCategory.ObjectNotFound);
    }

    [Fact]
    public void TheDefaultViewPrintsTheLineToAddToThePolicy()
    {
        var text = Ps.Render("New-ApproverKey -Identity erin@example.org -Path erin.key -Passphrase $args[0]", ApprovalTestData.SecurePassphrase);

        Assert.Contains("Identity    : erin@example.org", text);
        Assert.Contains("ES256 (256 bits)", text);
        Assert.Contains("AddToPolicy : Approvers = @(", text);
        // The entry wraps at its spaces (a 120-column view); the key itself is kept whole.
        Assert.Contains("@{ Id = 'erin@example.org'; PublicKey =", text);
        Assert.Contains("'MFkw", text);
    }
}
