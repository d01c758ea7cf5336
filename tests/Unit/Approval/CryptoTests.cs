using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using AgentGovernance.Approval;
using AgentGovernance.Tests.Support;
using PublicKey = AgentGovernance.Approval.PublicKey;

namespace AgentGovernance.Tests.Approval;

/// <summary>Public keys, signatures, PBKDF2 and approver key files, checked against .NET's own encoders and published vectors.</summary>
public sealed class CryptoTests
{
    [Fact]
    public void OurSubjectPublicKeyInfoIsTheOneDotNetWritesForEcdsaAndRsa()
    {
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var rsa = RSA.Create(3072);

        Assert.Equal(Convert.ToBase64String(ec.ExportSubjectPublicKeyInfo()), PublicKey.From(ec).Base64);
        Assert.Equal(Convert.ToBase64String(rsa.ExportSubjectPublicKeyInfo()), PublicKey.From(rsa).Base64);
        Assert.Equal(3072, PublicKey.From(rsa).KeySize);
        Assert.Equal(PublicKey.RS256, PublicKey.From(rsa).Algorithm);
    }

    [Fact]
    public void AKeyReadsBackFromBase64AndFromPemAndVerifiesOnlyItsOwnSignatures()
    {
        using var key = SigningKey.NewEcdsa();
        using var other = SigningKey.NewEcdsa();
        var data = Encoding.UTF8.GetBytes("approve req-1");
        var signature = key.Sign(data);

        var fromB64 = PublicKey.Parse(key.PublicKey.Base64);
        var fromPem = PublicKey.Parse(key.PublicKey.Pem);

        Assert.Equal(key.PublicKey.KeyId, fromB64.KeyId);
        Assert.Equal(key.PublicKey.KeyId, fromPem.KeyId);
        Assert.True(fromB64.Verify(data, signature));
        Assert.False(fromB64.Verify(Encoding.UTF8.GetBytes("approve req-2"), signature));
        Assert.False(other.PublicKey.Verify(data, signature));
        signature[10] ^= 1;
        Assert.False(fromB64.Verify(data, signature));
        Assert.False(fromB64.Verify(data, new byte[3]));
    }

    [Fact]
    public void RsaSignaturesVerifyToo()
    {
        using var key = SigningKey.NewRsa(2048);
        var data = Encoding.UTF8.GetBytes("deny");

        Assert.True(PublicKey.Parse(key.PublicKey.Pem).Verify(data, key.Sign(data)));
    }

    [Theory]
    [InlineData("not base64 at all!", "not base64")]
    [InlineData("AAAA", "not a DER")]
    public void TextThatIsNotAKeyIsRefusedWithAReason(string text, string reason)
    {
        Assert.False(PublicKey.TryParse(text, out _, out var problem));
        Assert.Contains(reason, problem);
    }

    [Fact]
    public void OtherCurvesSmallRsaKeysCompressedPointsAndTrailingBytesAreRefused()
    {
        using var p384 = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        using var rsa1024 = RSA.Create(1024);
        using var p256 = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var good = p256.ExportSubjectPublicKeyInfo();

        Assert.False(PublicKey.TryParse(Convert.ToBase64String(p384.ExportSubjectPublicKeyInfo()), out _, out var a));
        Assert.Contains("ECDSA P-256 and RSA", a);
        Assert.False(PublicKey.TryParse(Convert.ToBase64String(rsa1024.ExportSubjectPublicKeyInfo()), out _, out var b));
        Assert.Contains("1024 bits", b);
        Assert.False(PublicKey.TryParse(Convert.ToBase64String(good.Concat(new byte[] { 0 }).ToArray()), out _, out var c));
        Assert.Contains("after the end", c);
        var compressed = (byte[])good.Clone();
        compressed[26] = 0x02;
        Assert.False(PublicKey.TryParse(Convert.ToBase64String(compressed), out _, out var d));
        Assert.Contains("uncompressed", d);
    }

    [Fact]
    public void ACertificatesPublicKeyIsReadAndItsPrivateKeySigns()
    {
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=Carol Approver", ec, HashAlgorithmName.SHA256);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        using var publicOnly = X509CertificateLoader.LoadCertificate(certificate.Export(X509ContentType.Cert));

        var key = SigningKey.PublicKeyOf(publicOnly);
        using var signer = SigningKey.FromCertificate(certificate);
        var data = Encoding.UTF8.GetBytes("x");

        Assert.Equal(Convert.ToBase64String(ec.ExportSubjectPublicKeyInfo()), key.Base64);
        Assert.True(key.Verify(data, signer.Sign(data)));
        var e = Assert.Throws<GovernanceException>(() => SigningKey.FromCertificate(publicOnly));
        Assert.Equal("CertificateHasNoPrivateKey", e.ErrorId);
    }

    // RFC 7914 §11, the PBKDF2-HMAC-SHA256 test vectors.
    [Theory]
    [InlineData("passwd", "salt", 1, 64, "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783")]
    [InlineData("Password", "NaCl", 80000, 64, "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56a1d425a1225833549adb841b51c9b3176a272bdebba1d078478f62b397f33c8d")]
    public void Pbkdf2MatchesRfc7914InBothImplementations(string password, string salt, int iterations, int length, string hex)
    {
        var p = Encoding.UTF8.GetBytes(password);
        var s = Encoding.UTF8.GetBytes(salt);

        Assert.Equal(hex, Convert.ToHexStringLower(Pbkdf2.DeriveSha256(p, s, iterations, length)));
        Assert.Equal(hex, Convert.ToHexStringLower(Pbkdf2.DeriveManaged(p, s, iterations, length)));
    }

    [Fact]
    public void AKeyFileOpensWithItsPassphraseOnlyAndIsOwnerOnly()
    {
        using var temp = new TempDir();
        var path = temp["carol.key"];
        using var key = SigningKey.NewEcdsa();
        var pass = Encoding.UTF8.GetBytes("correct horse battery staple");

        ApproverKeyFile.Write(path, key, "carol@contoso.com", pass, DateTimeOffset.UtcNow, iterations: 1000);

        using var opened = ApproverKeyFile.Open(path, pass);
        Assert.Equal(key.PublicKey.KeyId, opened.PublicKey.KeyId);
        Assert.Equal(("carol@contoso.com", key.PublicKey.KeyId), (ApproverKeyFile.ReadPublic(path).Identity, ApproverKeyFile.ReadPublic(path).Key.KeyId));
        var wrong = Assert.Throws<GovernanceException>(() => ApproverKeyFile.Open(path, Encoding.UTF8.GetBytes("correct horse battery stapler")));
        Assert.Equal("PassphraseIncorrect", wrong.ErrorId);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }

        Assert.Throws<GovernanceException>(() => ApproverKeyFile.Write(path, key, "carol@contoso.com", pass, DateTimeOffset.UtcNow, iterations: 1000));
    }

    [Fact]
    public void AnEditedKeyFileDoesNotOpenEvenWithThePassphrase()
    {
        using var temp = new TempDir();
        var path = temp["carol.key"];
        using var key = SigningKey.NewEcdsa();
        using var other = SigningKey.NewEcdsa();
        var pass = Encoding.UTF8.GetBytes("correct horse battery staple");
        ApproverKeyFile.Write(path, key, "carol@contoso.com", pass, DateTimeOffset.UtcNow, iterations: 1000);

        // Someone swaps the identity, then the public key, keeping the encrypted private key.
        var text = File.ReadAllText(path);
        File.WriteAllText(path, text.Replace("carol@contoso.com", "mallory@contoso.com"));
        Assert.Equal("PassphraseIncorrect", Assert.Throws<GovernanceException>(() => ApproverKeyFile.Open(path, pass)).ErrorId);
        File.WriteAllText(path, text.Replace(key.PublicKey.Base64, other.PublicKey.Base64));
        Assert.Equal("PassphraseIncorrect", Assert.Throws<GovernanceException>(() => ApproverKeyFile.Open(path, pass)).ErrorId);
        File.WriteAllText(path, "{}");
        Assert.Equal("KeyFileInvalid", Assert.Throws<GovernanceException>(() => ApproverKeyFile.Open(path, pass)).ErrorId);
    }

    [Fact]
    public void RsaKeyFilesRoundTrip()
    {
        using var temp = new TempDir();
        using var key = SigningKey.NewRsa(2048);
        var pass = Encoding.UTF8.GetBytes("correct horse battery staple");
        ApproverKeyFile.Write(temp["dave.key"], key, "dave", pass, DateTimeOffset.UtcNow, iterations: 1000);

        using var opened = ApproverKeyFile.Open(temp["dave.key"], pass);
        var data = Encoding.UTF8.GetBytes("x");
        Assert.True(key.PublicKey.Verify(data, opened.Sign(data)));
    }
}
