namespace AgentGovernance.Approval;

/// <summary>What New-ApproverKey made or read: the public half of an approver key and the policy entry that lists it.</summary>
public sealed class ApproverKeyInfo
{
    internal ApproverKeyInfo(string identity, PublicKey key, string? path, string? certificate)
    {
        Identity = identity;
        Algorithm = key.Algorithm;
        KeySize = key.KeySize;
        KeyId = key.KeyId;
        PublicKey = key.Base64;
        Pem = key.Pem;
        Path = path;
        Certificate = certificate;
    }

    public string Identity { get; }

    public string Algorithm { get; }

    public int KeySize { get; }

    public string KeyId { get; }

    /// <summary>The SubjectPublicKeyInfo, base64: what the policy lists.</summary>
    public string PublicKey { get; }

    public string Pem { get; }

    /// <summary>The key file (private key encrypted under the passphrase), when one was made.</summary>
    public string? Path { get; }

    /// <summary>The certificate (thumbprint and subject), when the key is a certificate's.</summary>
    public string? Certificate { get; }

    /// <summary>The line to add to the policy's Approvers list.</summary>
    public string PolicyEntry => $"@{{ Id = '{Identity.Replace("'", "''")}'; PublicKey = '{PublicKey}' }}";

    public override string ToString() => PolicyEntry;
}
