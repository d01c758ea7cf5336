using System;
using System.Collections.Generic;
using System.Text;
using System.Text.Json;
using AgentGovernance.Json;

namespace AgentGovernance.Approval;

/// <summary>
/// The envelope of a document an approver signs (a decision, a compliance exception):
/// <c>{ "schema", "statement", "keyId", "algorithm", "signature" }</c> as canonical JSON, the signature (base64)
/// over the document kind's domain line followed by the statement's canonical JSON.
/// </summary>
internal static class SignedEnvelope
{
    /// <summary>The signed document of <paramref name="statement"/>, as canonical JSON.</summary>
    internal static string Seal(string schema, byte[] domain, SigningKey key, Dictionary<string, object?> statement)
    {
        var signature = key.Sign(SignedBytes(domain, statement));
        return CanonicalJson.Serialize(new Dictionary<string, object?>
        {
            ["schema"] = schema,
            ["statement"] = statement,
            ["keyId"] = key.PublicKey.KeyId,
            ["algorithm"] = key.PublicKey.Algorithm,
            ["signature"] = Convert.ToBase64String(signature),
        });
    }

    /// <summary>The statement and the signer's fields of a document of <paramref name="schema"/>; FormatException (<paramref name="notOne"/>) for another.</summary>
    internal static (JsonElement Statement, string KeyId, string Algorithm, byte[] Signature) Open(JsonElement root, string schema, string notOne)
    {
        if (root.GetProperty("schema").GetString() != schema)
        {
            throw new FormatException(notOne);
        }

        return (root.GetProperty("statement"), root.GetProperty("keyId").GetString()!, root.GetProperty("algorithm").GetString()!,
            Convert.FromBase64String(root.GetProperty("signature").GetString()!));
    }

    /// <summary>Whether <paramref name="signature"/> is <paramref name="key"/>'s over <paramref name="statement"/>, and the document names that key.</summary>
    internal static bool Verifies(PublicKey key, string keyId, string algorithm, byte[] domain, Dictionary<string, object?> statement, byte[] signature) =>
        key.KeyId == keyId && key.Algorithm == algorithm && key.Verify(SignedBytes(domain, statement), signature);

    private static byte[] SignedBytes(byte[] domain, Dictionary<string, object?> statement) =>
        PublicKey.Concat(domain, Encoding.UTF8.GetBytes(CanonicalJson.Serialize(statement)));
}
