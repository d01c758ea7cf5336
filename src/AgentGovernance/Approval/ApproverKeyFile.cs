using System;
using System.Collections.Generic;
using System.IO;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using AgentGovernance.IO;
using AgentGovernance.Json;

namespace AgentGovernance.Approval;

/// <summary>
/// An approver's key file (<c>agentgovernance/approver-key@1</c>): the public key in the clear, the
/// private key encrypted under the passphrase. PBKDF2-HMAC-SHA256 (600,000 iterations) derives an
/// AES-256-CBC key and an HMAC-SHA256 key; the MAC covers every field of the file (encrypt-then-MAC),
/// so a wrong passphrase and an edited file are both told apart from a good one before any decryption.
/// </summary>
internal static class ApproverKeyFile
{
    public const string Schema = "agentgovernance/approver-key@1";
    public const int DefaultIterations = 600_000;
    private const string Kdf = "PBKDF2-HMAC-SHA256";
    private const string Cipher = "AES-256-CBC+HMAC-SHA256";

    public static void Write(string path, SigningKey key, string identity, byte[] passphrase, DateTimeOffset createdAt, int iterations = DefaultIterations)
    {
        var salt = Random(16);
        var iv = Random(16);
        var (encKey, macKey) = Derive(passphrase, salt, iterations);
        var plain = Encoding.UTF8.GetBytes(CanonicalJson.Serialize(PrivateFields(key)));
        byte[] cipher;
        try
        {
            using var aes = Aes.Create();
            aes.Key = encKey;
            aes.IV = iv;
            aes.Mode = CipherMode.CBC;
            aes.Padding = PaddingMode.PKCS7;
            using var enc = aes.CreateEncryptor();
            cipher = enc.TransformFinalBlock(plain, 0, plain.Length);
        }
        finally
        {
            Array.Clear(plain, 0, plain.Length);
            Array.Clear(encKey, 0, encKey.Length);
        }

        var doc = new Dictionary<string, object?>
        {
            ["schema"] = Schema,
            ["identity"] = identity,
            ["algorithm"] = key.PublicKey.Algorithm,
            ["keyId"] = key.PublicKey.KeyId,
            ["publicKey"] = key.PublicKey.Base64,
            ["createdAt"] = GovernanceClock.Format(createdAt),
            ["kdf"] = Kdf,
            ["iterations"] = iterations,
            ["salt"] = Convert.ToBase64String(salt),
            ["cipher"] = Cipher,
            ["iv"] = Convert.ToBase64String(iv),
            ["privateKey"] = Convert.ToBase64String(cipher),
        };
        doc["mac"] = Convert.ToBase64String(Mac(macKey, doc));
        AtomicFile.WriteText(path, Indent(doc), overwrite: false, ownerOnly: true);
    }

    /// <summary>The public half and the identity, without the passphrase.</summary>
    public static (string Identity, PublicKey Key) ReadPublic(string path)
    {
        using var doc = Load(path);
        var root = doc.RootElement;
        var key = PublicKey.TryParse(Str(root, "publicKey", path), out var k, out var problem) ? k! : throw Invalid(path, "publicKey: " + problem);
        return (Str(root, "identity", path), key);
    }

    /// <summary>Decrypts the private key; PassphraseIncorrect when the MAC does not match (wrong passphrase, or an edited file).</summary>
    public static SigningKey Open(string path, byte[] passphrase)
    {
        using var doc = Load(path);
        var root = doc.RootElement;
        var fields = new Dictionary<string, object?>();
        foreach (var p in root.EnumerateObject())
        {
            if (p.Name != "mac")
            {
                fields[p.Name] = p.Value.Clone();
            }
        }

        if (Str(root, "kdf", path) != Kdf || Str(root, "cipher", path) != Cipher)
        {
            throw Invalid(path, $"kdf/cipher: only {Kdf} with {Cipher} is supported.");
        }

        var iterations = root.TryGetProperty("iterations", out var it) && it.TryGetInt32(out var n) && n >= 1 ? n : throw Invalid(path, "iterations: expected a positive whole number.");
        var salt = Bytes(root, "salt", path);
        var (encKey, macKey) = Derive(passphrase, salt, iterations);
        if (!FixedTimeEquals(Mac(macKey, fields), Bytes(root, "mac", path)))
        {
            throw new GovernanceException("PassphraseIncorrect", GovernanceErrorKind.SecurityError,
                $"The passphrase does not open the key file '{path}' (or the file was changed since it was made).", path);
        }

        byte[] plain;
        using (var aes = Aes.Create())
        {
            aes.Key = encKey;
            aes.IV = Bytes(root, "iv", path);
            aes.Mode = CipherMode.CBC;
            aes.Padding = PaddingMode.PKCS7;
            using var dec = aes.CreateDecryptor();
            var cipher = Bytes(root, "privateKey", path);
            plain = dec.TransformFinalBlock(cipher, 0, cipher.Length);
        }

        Array.Clear(encKey, 0, encKey.Length);
        try
        {
            using var priv = JsonDocument.Parse(plain);
            var p = priv.RootElement;
            var publicKey = PublicKey.Parse(Str(root, "publicKey", path));
            SigningKey key = Str(root, "algorithm", path) switch
            {
                PublicKey.ES256 => SigningKey.FromEcdsa(new ECParameters
                {
                    Curve = ECCurve.NamedCurves.nistP256,
                    D = Bytes(p, "d", path),
                    Q = new ECPoint { X = Bytes(p, "x", path), Y = Bytes(p, "y", path) },
                }, path),
                PublicKey.RS256 => SigningKey.FromRsa(new RSAParameters
                {
                    Modulus = Bytes(p, "n", path),
                    Exponent = Bytes(p, "e", path),
                    D = Bytes(p, "d", path),
                    P = Bytes(p, "p", path),
                    Q = Bytes(p, "q", path),
                    DP = Bytes(p, "dp", path),
                    DQ = Bytes(p, "dq", path),
                    InverseQ = Bytes(p, "qi", path),
                }, path),
                var other => throw Invalid(path, $"algorithm: '{other}' is not ES256 or RS256."),
            };

            if (!key.PublicKey.Equals(publicKey))
            {
                key.Dispose();
                throw Invalid(path, "the private key does not belong to the file's public key.");
            }

            return key;
        }
        finally
        {
            Array.Clear(plain, 0, plain.Length);
        }
    }

    private static Dictionary<string, object?> PrivateFields(SigningKey key)
    {
        if (key.IsEcdsa)
        {
            var p = key.ExportEcdsa();
            return new Dictionary<string, object?> { ["d"] = B64(p.D), ["x"] = B64(p.Q.X), ["y"] = B64(p.Q.Y) };
        }

        var r = key.ExportRsa();
        return new Dictionary<string, object?>
        {
            ["n"] = B64(r.Modulus), ["e"] = B64(r.Exponent), ["d"] = B64(r.D), ["p"] = B64(r.P), ["q"] = B64(r.Q),
            ["dp"] = B64(r.DP), ["dq"] = B64(r.DQ), ["qi"] = B64(r.InverseQ),
        };
    }

    private static string B64(byte[]? b) => Convert.ToBase64String(b ?? throw new CryptographicException("The key has no private part."));

    private static (byte[] Enc, byte[] Mac) Derive(byte[] passphrase, byte[] salt, int iterations)
    {
        var both = Pbkdf2.DeriveSha256(passphrase, salt, iterations, 64);
        var enc = new byte[32];
        var mac = new byte[32];
        Buffer.BlockCopy(both, 0, enc, 0, 32);
        Buffer.BlockCopy(both, 32, mac, 0, 32);
        Array.Clear(both, 0, both.Length);
        return (enc, mac);
    }

    private static byte[] Mac(byte[] macKey, Dictionary<string, object?> fields)
    {
        using var hmac = new HMACSHA256(macKey);
        return hmac.ComputeHash(Encoding.UTF8.GetBytes(CanonicalJson.Serialize(fields)));
    }

    private static JsonDocument Load(string path)
    {
        var bytes = DocumentFile.ReadAllBytes(path, "KeyFile");
        try
        {
            var doc = JsonDocument.Parse(bytes);
            if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty("schema", out var s) || s.ValueKind != JsonValueKind.String || s.GetString() != Schema)
            {
                doc.Dispose();
                throw Invalid(path, $"schema: not an approver key file (expected \"{Schema}\").");
            }

            return doc;
        }
        catch (JsonException e)
        {
            throw Invalid(path, "not JSON: " + e.Message);
        }
    }

    private static string Str(JsonElement e, string name, string path) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : throw Invalid(path, $"{name}: missing or not a string.");

    private static byte[] Bytes(JsonElement e, string name, string path)
    {
        try
        {
            return Convert.FromBase64String(Str(e, name, path));
        }
        catch (FormatException)
        {
            throw Invalid(path, $"{name}: not base64.");
        }
    }

    private static GovernanceException Invalid(string path, string problem) =>
        new("KeyFileInvalid", GovernanceErrorKind.InvalidData, $"'{path}' is not a valid approver key file: {problem}", path);

    private static byte[] Random(int n)
    {
        var b = new byte[n];
        using var rng = RandomNumberGenerator.Create();
        rng.GetBytes(b);
        return b;
    }

    internal static bool FixedTimeEquals(byte[] a, byte[] b)
    {
        if (a.Length != b.Length)
        {
            return false;
        }

        var diff = 0;
        for (var i = 0; i < a.Length; i++)
        {
            diff |= a[i] ^ b[i];
        }

        return diff == 0;
    }

    /// <summary>One field per line, so that a person can read the identity and public key.</summary>
    private static string Indent(Dictionary<string, object?> doc)
    {
        var sb = new StringBuilder("{\n");
        var order = new[] { "schema", "identity", "algorithm", "keyId", "publicKey", "createdAt", "kdf", "iterations", "salt", "cipher", "iv", "privateKey", "mac" };
        for (var i = 0; i < order.Length; i++)
        {
            sb.Append("  ").Append(JsonText.Quote(order[i])).Append(": ").Append(CanonicalJson.Serialize(doc[order[i]]));
            sb.Append(i < order.Length - 1 ? ",\n" : "\n");
        }

        return sb.Append("}\n").ToString();
    }
}
