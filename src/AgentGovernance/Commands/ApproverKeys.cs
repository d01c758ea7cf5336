using System;
using System.Management.Automation;
using System.Runtime.InteropServices;
using System.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace AgentGovernance.Commands;

/// <summary>Where the cmdlets get a certificate and a passphrase from; one place, so every cmdlet reads them alike.</summary>
internal static class ApproverKeys
{
    /// <summary>The passphrase as UTF-8 bytes; the caller clears them after use.</summary>
    public static byte[] Utf8(SecureString secret)
    {
        var ptr = Marshal.SecureStringToGlobalAllocUnicode(secret);
        var chars = new char[secret.Length];
        try
        {
            Marshal.Copy(ptr, chars, 0, chars.Length);
            return Encoding.UTF8.GetBytes(chars);
        }
        finally
        {
            Array.Clear(chars, 0, chars.Length);
            Marshal.ZeroFreeGlobalAllocUnicode(ptr);
        }
    }

    public static X509Certificate2 FromFile(string path, SecureString? password)
    {
        try
        {
            return password is null ? new X509Certificate2(path) : new X509Certificate2(path, password, X509KeyStorageFlags.DefaultKeySet);
        }
        catch (CryptographicException e)
        {
            throw new GovernanceException("CertificateUnreadable", GovernanceErrorKind.ReadError,
                $"Cannot read the certificate '{path}': {e.Message} (a .pfx needs -CertificatePassword; a .cer has no private key and can only be listed in the policy).", path, e);
        }
    }

    public static X509Certificate2 FromStore(string thumbprint, StoreLocation location)
    {
        var wanted = thumbprint.Replace(" ", string.Empty).ToUpperInvariant();
        using var store = new X509Store(StoreName.My, location);
        try
        {
            store.Open(OpenFlags.ReadOnly | OpenFlags.OpenExistingOnly);
        }
        catch (CryptographicException e)
        {
            throw new GovernanceException("CertificateNotFound", GovernanceErrorKind.ObjectNotFound,
                $"Cannot open the {location}\\My certificate store: {e.Message}", thumbprint, e);
        }

        foreach (var certificate in store.Certificates)
        {
            if (string.Equals(certificate.Thumbprint, wanted, StringComparison.OrdinalIgnoreCase))
            {
                return certificate;
            }
        }

        throw new GovernanceException("CertificateNotFound", GovernanceErrorKind.ObjectNotFound,
            $"No certificate with thumbprint {wanted} in {location}\\My.", thumbprint);
    }
}
