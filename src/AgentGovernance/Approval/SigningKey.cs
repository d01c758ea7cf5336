using System;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace AgentGovernance.Approval;

/// <summary>A private key that signs: an approver's (from a key file or a certificate), or a ledger signer's.</summary>
internal sealed class SigningKey : IDisposable
{
    private readonly ECDsa? _ec;
    private readonly RSA? _rsa;

    private SigningKey(ECDsa? ec, RSA? rsa, string? source)
    {
        _ec = ec;
        _rsa = rsa;
        PublicKey = ec is not null ? PublicKey.From(ec) : PublicKey.From(rsa!);
        Source = source;
    }

    public PublicKey PublicKey { get; }

    /// <summary>The key file or certificate it came from, for messages.</summary>
    public string? Source { get; }

    public static SigningKey NewEcdsa() => new(ECDsa.Create(ECCurve.NamedCurves.nistP256), null, null);

    public static SigningKey NewRsa(int bits)
    {
        if (bits < 2048 || bits > 8192 || bits % 1024 != 0)
        {
            throw new GovernanceException("KeyUnsupported", GovernanceErrorKind.InvalidArgument, $"An RSA key of {bits} bits is not supported: use 2048, 3072 or 4096.");
        }

        var rsa = RSA.Create();
        rsa.KeySize = bits;
        return new SigningKey(null, rsa, null);
    }

    internal static SigningKey FromEcdsa(ECParameters parameters, string? source) => new(ECDsa.Create(parameters), null, source);

    internal static SigningKey FromRsa(RSAParameters parameters, string? source)
    {
        var rsa = RSA.Create();
        rsa.ImportParameters(parameters);
        return new SigningKey(null, rsa, source);
    }

    /// <summary>The certificate's private key; KeyUnsupported for a certificate without one, or of another kind.</summary>
    public static SigningKey FromCertificate(X509Certificate2 certificate)
    {
        var source = $"certificate {certificate.Thumbprint} ({certificate.Subject})";
        if (!certificate.HasPrivateKey)
        {
            throw new GovernanceException("CertificateHasNoPrivateKey", GovernanceErrorKind.InvalidArgument,
                $"The {source} has no private key here, so it cannot sign. Use the certificate with its private key (a .pfx, or the store entry you enrolled).", certificate.Thumbprint);
        }

        var ec = certificate.GetECDsaPrivateKey();
        if (ec is not null)
        {
            return new SigningKey(ec, null, source);
        }

        var rsa = certificate.GetRSAPrivateKey();
        if (rsa is not null)
        {
            return new SigningKey(null, rsa, source);
        }

        throw new GovernanceException("KeyUnsupported", GovernanceErrorKind.InvalidArgument, $"The {source} holds neither an ECDSA nor an RSA key.", certificate.Thumbprint);
    }

    /// <summary>The public key of a certificate, checked to be one a policy can list.</summary>
    public static PublicKey PublicKeyOf(X509Certificate2 certificate)
    {
        using var ec = certificate.GetECDsaPublicKey();
        if (ec is not null)
        {
            return PublicKey.From(ec);
        }

        using var rsa = certificate.GetRSAPublicKey();
        if (rsa is not null)
        {
            return PublicKey.From(rsa);
        }

        throw new GovernanceException("KeyUnsupported", GovernanceErrorKind.InvalidArgument, $"The certificate {certificate.Thumbprint} holds neither an ECDSA nor an RSA key.", certificate.Thumbprint);
    }

    /// <summary>ES256 signatures are IEEE P1363 (r || s, 64 bytes); RS256 are PKCS#1 v1.5 over SHA-256.</summary>
    public byte[] Sign(byte[] data) => _ec is not null
        ? _ec.SignData(data, HashAlgorithmName.SHA256)
        : _rsa!.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);

    internal ECParameters ExportEcdsa() => _ec!.ExportParameters(true);

    internal RSAParameters ExportRsa() => _rsa!.ExportParameters(true);

    internal bool IsEcdsa => _ec is not null;

    public void Dispose()
    {
        _ec?.Dispose();
        _rsa?.Dispose();
    }
}
