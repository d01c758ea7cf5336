using System;
using System.Collections.Generic;
using System.IO;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using AgentGovernance.Approval;
using AgentGovernance.IO;
using AgentGovernance.Json;

namespace AgentGovernance.Ledger;

/// <summary>
/// The key that signs ledger checkpoints, and the witness of what it signed last, kept under the user's
/// profile, apart from the store and from approver keys. Whoever can write the store but cannot read
/// this key can append entries, but cannot re-hash the chain under a signed checkpoint, and cutting
/// the tail off (checkpoints included) is caught by the witness on the machine that signed.
/// It signs unattended (runbooks), so it is not passphrase-protected: it is an owner-only file
/// (mode 600), like an SSH host key.
/// </summary>
internal sealed class LedgerSigner : IDisposable
{
    public const string Schema = "agentgovernance/ledger-signer@1";
    private readonly SigningKey _key;

    private LedgerSigner(SigningKey key, string path)
    {
        _key = key;
        Path = path;
    }

    public static string DefaultPath => System.IO.Path.Combine(
        Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create),
        "AgentGovernance", "keys", "ledger-signer.json");

    public string Path { get; }

    public PublicKey PublicKey => _key.PublicKey;

    /// <summary>Loads the signer key at <paramref name="path"/>, creating it (owner-only) the first time.</summary>
    public static LedgerSigner OpenOrCreate(string path)
    {
        var full = System.IO.Path.GetFullPath(path);
        if (!File.Exists(full))
        {
            System.IO.Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
            using var fresh = SigningKey.NewEcdsa();
            var p = fresh.ExportEcdsa();
            var doc = new Dictionary<string, object?>
            {
                ["schema"] = Schema,
                ["algorithm"] = PublicKey.ES256,
                ["keyId"] = fresh.PublicKey.KeyId,
                ["publicKey"] = fresh.PublicKey.Base64,
                ["d"] = Convert.ToBase64String(p.D!),
            };
            try
            {
                AtomicFile.WriteText(full, CanonicalJson.Serialize(doc) + "\n", overwrite: false, ownerOnly: true);
            }
            catch (GovernanceException) when (File.Exists(full))
            {
                // Another process made it first: use that one.
            }
        }

        var bytes = DocumentFile.ReadAllBytes(full, "LedgerSigner");
        try
        {
            using var json = JsonDocument.Parse(bytes);
            var root = json.RootElement;
            if (root.GetProperty("schema").GetString() != Schema)
            {
                throw new FormatException("not a ledger signer key");
            }

            var publicKey = PublicKey.Parse(root.GetProperty("publicKey").GetString()!);
            var pub = Export(publicKey);
            var key = SigningKey.FromEcdsa(new ECParameters
            {
                Curve = ECCurve.NamedCurves.nistP256,
                D = Convert.FromBase64String(root.GetProperty("d").GetString()!),
                Q = pub.Q,
            }, full);
            if (!key.PublicKey.Equals(publicKey))
            {
                key.Dispose();
                throw new FormatException("the private key does not match the public key");
            }

            return new LedgerSigner(key, full);
        }
        catch (Exception e) when (e is JsonException || e is FormatException || e is KeyNotFoundException || e is InvalidOperationException || e is CryptographicException)
        {
            throw new GovernanceException("LedgerSignerInvalid", GovernanceErrorKind.InvalidData, $"'{full}' is not a usable ledger signer key: {e.Message}", full, e);
        }
    }

    public byte[] Sign(byte[] data) => _key.Sign(data);

    /// <summary>Where this signer remembers the last checkpoint it signed for a store.</summary>
    public string WitnessPath(string storeId) => WitnessPathFor(System.IO.Path.GetDirectoryName(Path)!, storeId);

    internal static string WitnessPathFor(string keyFolder, string storeId) =>
        System.IO.Path.Combine(keyFolder, "witness", storeId + ".json");

    /// <summary>
    /// Records the checkpoint just signed. Written after the ledger and the checkpoint are on disk, so it
    /// can lag behind them after a machine crash, never run ahead (which would read as truncation); it
    /// therefore needs no flush of its own.
    /// </summary>
    public void WriteWitness(string storeId, long sequence, string hash)
    {
        var path = WitnessPath(storeId);
        System.IO.Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        AtomicFile.WriteText(path, CanonicalJson.Serialize(new Dictionary<string, object?>
        {
            ["store"] = storeId,
            ["seq"] = sequence,
            ["hash"] = hash,
            ["keyId"] = PublicKey.KeyId,
            ["verified"] = LedgerFormat,
        }) + "\n", durable: false);
    }

    /// <summary>What a witness's <c>verified</c> says: its writer verified the whole ledger up to its entry, signatures included.</summary>
    internal const string LedgerFormat = "ledger@2";

    /// <summary>The witness with whether its writer verified every entry's signature up to it (a ledger@2 writer).</summary>
    internal static (long Sequence, string Hash, bool Verified)? ReadWitnessFull(string path, string storeId)
    {
        if (ReadWitness(path, storeId) is not { } w)
        {
            return null;
        }

        try
        {
            using var json = JsonDocument.Parse(File.ReadAllBytes(path));
            var verified = json.RootElement.TryGetProperty("verified", out var v) && v.ValueKind == JsonValueKind.String && v.GetString() == LedgerFormat;
            return (w.Sequence, w.Hash, verified);
        }
        catch (Exception e) when (e is JsonException || e is IOException)
        {
            return (w.Sequence, w.Hash, false);
        }
    }

    /// <summary>The last checkpoint recorded in a witness file, or null when there is none.</summary>
    internal static (long Sequence, string Hash)? ReadWitness(string path, string storeId)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            using var json = JsonDocument.Parse(File.ReadAllBytes(path));
            var root = json.RootElement;
            return root.GetProperty("store").GetString() == storeId
                ? (root.GetProperty("seq").GetInt64(), root.GetProperty("hash").GetString()!)
                : null;
        }
        catch (Exception e) when (e is JsonException || e is KeyNotFoundException || e is InvalidOperationException || e is FormatException || e is IOException)
        {
            throw new GovernanceException("LedgerWitnessInvalid", GovernanceErrorKind.InvalidData, $"The ledger witness '{path}' cannot be read: {e.Message}", path, e);
        }
    }

    public void Dispose() => _key.Dispose();

    private static ECParameters Export(PublicKey key)
    {
        var spki = key.Spki;
        var point = new byte[65];
        Buffer.BlockCopy(spki, spki.Length - 65, point, 0, 65);
        var x = new byte[32];
        var y = new byte[32];
        Buffer.BlockCopy(point, 1, x, 0, 32);
        Buffer.BlockCopy(point, 33, y, 0, 32);
        return new ECParameters { Curve = ECCurve.NamedCurves.nistP256, Q = new ECPoint { X = x, Y = y } };
    }
}

/// <summary>A signed statement that the ledger of a store had entry <see cref="Sequence"/> with hash <see cref="Hash"/>.</summary>
public sealed class LedgerCheckpoint
{
    internal const string Schema = "agentgovernance/checkpoint@1";
    private static readonly byte[] Domain = Encoding.UTF8.GetBytes(Schema + "\n");

    internal LedgerCheckpoint(string storeId, long sequence, string hash, DateTimeOffset time, string keyId, byte[] signature)
    {
        StoreId = storeId;
        Sequence = sequence;
        Hash = hash;
        Time = time;
        KeyId = keyId;
        Signature = signature;
    }

    public string StoreId { get; }

    public long Sequence { get; }

    public string Hash { get; }

    public DateTimeOffset Time { get; }

    /// <summary>The signer's key id.</summary>
    public string KeyId { get; }

    internal byte[] Signature { get; }

    internal static LedgerCheckpoint Create(LedgerSigner signer, string storeId, long sequence, string hash, DateTimeOffset time)
    {
        var statement = Statement(storeId, sequence, hash, time, signer.PublicKey.KeyId);
        return new LedgerCheckpoint(storeId, sequence, hash, time, signer.PublicKey.KeyId, signer.Sign(statement));
    }

    internal bool VerifiedBy(PublicKey key) =>
        key.KeyId == KeyId && key.Verify(Statement(StoreId, Sequence, Hash, Time, KeyId), Signature);

    internal byte[] ToLine() => Encoding.UTF8.GetBytes(CanonicalJson.Serialize(new Dictionary<string, object?>
    {
        ["schema"] = Schema,
        ["store"] = StoreId,
        ["seq"] = Sequence,
        ["hash"] = Hash,
        ["time"] = GovernanceClock.Format(Time),
        ["keyId"] = KeyId,
        ["signature"] = Convert.ToBase64String(Signature),
    }) + "\n");

    internal static LedgerCheckpoint? TryParse(byte[] line, out string? problem)
    {
        problem = null;
        try
        {
            using var json = JsonDocument.Parse(line);
            var root = json.RootElement;
            if (root.GetProperty("schema").GetString() != Schema || !GovernanceClock.TryParse(root.GetProperty("time").GetString(), out var time))
            {
                problem = "not a checkpoint";
                return null;
            }

            return new LedgerCheckpoint(
                root.GetProperty("store").GetString()!, root.GetProperty("seq").GetInt64(), root.GetProperty("hash").GetString()!, time,
                root.GetProperty("keyId").GetString()!, Convert.FromBase64String(root.GetProperty("signature").GetString()!));
        }
        catch (Exception e) when (e is JsonException || e is KeyNotFoundException || e is InvalidOperationException || e is FormatException)
        {
            problem = e.Message;
            return null;
        }
    }

    private static byte[] Statement(string storeId, long sequence, string hash, DateTimeOffset time, string keyId) =>
        PublicKey.Concat(Domain, Encoding.UTF8.GetBytes(CanonicalJson.Serialize(new Dictionary<string, object?>
        {
            ["store"] = storeId,
            ["seq"] = sequence,
            ["hash"] = hash,
            ["time"] = GovernanceClock.Format(time),
            ["keyId"] = keyId,
        })));

    public override string ToString() => $"#{Sequence} {Hash} signed by {KeyId}";
}
