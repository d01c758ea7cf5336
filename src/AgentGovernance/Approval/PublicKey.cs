using System;
using System.Collections.Generic;
using System.IO;
using System.Security.Cryptography;
using System.Text;
using AgentGovernance.Json;

namespace AgentGovernance.Approval;

/// <summary>
/// A public key as the policy lists it: a DER SubjectPublicKeyInfo (what <c>openssl pkey -pubout</c>
/// prints between the PEM lines), for ECDSA P-256 (signatures ES256) or RSA 2048 to 8192 bits (RS256).
/// Its <see cref="KeyId"/> is the SHA-256 of those bytes. Parsing is strict: any other key, curve or
/// trailing byte is refused, so two spellings can never name the same key.
/// </summary>
public sealed class PublicKey : IEquatable<PublicKey>
{
    public const string ES256 = "ES256";
    public const string RS256 = "RS256";

    // 1.2.840.10045.2.1 id-ecPublicKey, 1.2.840.10045.3.1.7 prime256v1, 1.2.840.113549.1.1.1 rsaEncryption.
    private static readonly byte[] EcAlgorithm = { 0x30, 0x13, 0x06, 0x07, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01, 0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07 };
    private static readonly byte[] RsaAlgorithm = { 0x30, 0x0D, 0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01, 0x05, 0x00 };

    private readonly byte[] _spki;
    private readonly ECParameters? _ec;
    private readonly RSAParameters? _rsa;
    private ECDsa? _ecdsa;

    private PublicKey(byte[] spki, ECParameters? ec, RSAParameters? rsa)
    {
        _spki = spki;
        _ec = ec;
        _rsa = rsa;
        Algorithm = ec is null ? RS256 : ES256;
        KeyId = Hashing.Sha256Id(spki);
        KeySize = ec is null ? rsa!.Value.Modulus!.Length * 8 : 256;
    }

    /// <summary>ES256 (ECDSA P-256, SHA-256) or RS256 (RSASSA-PKCS1-v1_5, SHA-256).</summary>
    public string Algorithm { get; }

    /// <summary><c>sha256:</c> + hex SHA-256 of the SubjectPublicKeyInfo bytes.</summary>
    public string KeyId { get; }

    public int KeySize { get; }

    /// <summary>The SubjectPublicKeyInfo, base64: the form the policy takes.</summary>
    public string Base64 => Convert.ToBase64String(_spki);

    /// <summary>The same key as PEM (<c>-----BEGIN PUBLIC KEY-----</c>).</summary>
    public string Pem
    {
        get
        {
            var sb = new StringBuilder("-----BEGIN PUBLIC KEY-----\n");
            var b64 = Base64;
            for (var i = 0; i < b64.Length; i += 64)
            {
                sb.Append(b64, i, Math.Min(64, b64.Length - i)).Append('\n');
            }

            return sb.Append("-----END PUBLIC KEY-----\n").ToString();
        }
    }

    internal byte[] Spki => (byte[])_spki.Clone();

    /// <summary>Reads a key from base64 SubjectPublicKeyInfo, with or without PEM armour and line breaks.</summary>
    public static bool TryParse(string text, out PublicKey? key, out string problem)
    {
        key = null;
        var body = text.Trim();
        if (body.StartsWith("-----BEGIN PUBLIC KEY-----", StringComparison.Ordinal))
        {
            var end = body.IndexOf("-----END PUBLIC KEY-----", StringComparison.Ordinal);
            if (end < 0)
            {
                problem = "the PEM block has no END PUBLIC KEY line";
                return false;
            }

            body = body.Substring("-----BEGIN PUBLIC KEY-----".Length, end - "-----BEGIN PUBLIC KEY-----".Length);
        }

        var b64 = new StringBuilder(body.Length);
        foreach (var c in body)
        {
            if (!char.IsWhiteSpace(c))
            {
                b64.Append(c);
            }
        }

        byte[] der;
        try
        {
            der = Convert.FromBase64String(b64.ToString());
        }
        catch (FormatException)
        {
            problem = "it is not base64 (give the SubjectPublicKeyInfo that New-ApproverKey prints)";
            return false;
        }

        return TryParse(der, out key, out problem);
    }

    public static PublicKey Parse(string text) =>
        TryParse(text, out var key, out var problem) ? key! : throw new FormatException("Not a public key: " + problem + ".");

    internal static bool TryParse(byte[] der, out PublicKey? key, out string problem)
    {
        key = null;
        try
        {
            var outer = new DerReader(der);
            var spki = outer.Read(0x30);
            outer.End();
            var inner = new DerReader(spki);
            var algorithm = inner.ReadRaw(0x30);
            var bits = inner.Read(0x03);
            inner.End();
            if (bits.Length < 2 || bits[0] != 0)
            {
                problem = "the key bits are malformed";
                return false;
            }

            var point = new byte[bits.Length - 1];
            Buffer.BlockCopy(bits, 1, point, 0, point.Length);
            if (Same(algorithm, EcAlgorithm))
            {
                if (point.Length != 65 || point[0] != 0x04)
                {
                    problem = "only uncompressed P-256 points are accepted";
                    return false;
                }

                var ec = new ECParameters
                {
                    Curve = ECCurve.NamedCurves.nistP256,
                    Q = new ECPoint { X = Slice(point, 1, 32), Y = Slice(point, 33, 32) },
                };
                key = new PublicKey((byte[])der.Clone(), ec, null);
                problem = string.Empty;
                return true;
            }

            if (Same(algorithm, RsaAlgorithm))
            {
                var seq = new DerReader(point);
                var body = new DerReader(seq.Read(0x30));
                seq.End();
                var modulus = body.ReadUnsignedInteger();
                var exponent = body.ReadUnsignedInteger();
                body.End();
                if (modulus.Length * 8 < 2048 || modulus.Length * 8 > 8192)
                {
                    problem = $"an RSA key of {modulus.Length * 8} bits is not accepted (2048 to 8192)";
                    return false;
                }

                key = new PublicKey((byte[])der.Clone(), null, new RSAParameters { Modulus = modulus, Exponent = exponent });
                problem = string.Empty;
                return true;
            }

            problem = "only ECDSA P-256 and RSA keys are accepted";
            return false;
        }
        catch (FormatException e)
        {
            problem = "it is not a DER SubjectPublicKeyInfo (" + e.Message + ")";
            return false;
        }
    }

    internal static PublicKey From(ECDsa ecdsa)
    {
        var p = ecdsa.ExportParameters(false);
        if (p.Curve.Oid?.Value != "1.2.840.10045.3.1.7" && p.Curve.Oid?.FriendlyName != "nistP256" && p.Curve.Oid?.FriendlyName != "ECDSA_P256")
        {
            throw new GovernanceException("KeyUnsupported", GovernanceErrorKind.InvalidArgument, "Only ECDSA keys on the P-256 curve are supported.");
        }

        var point = new byte[65];
        point[0] = 0x04;
        Pad(p.Q.X!, point, 1);
        Pad(p.Q.Y!, point, 33);
        var bits = Concat(new byte[] { 0 }, point);
        return FromDer(DerWriter.Sequence(Concat(EcAlgorithm, DerWriter.Element(0x03, bits))));
    }

    internal static PublicKey From(RSA rsa)
    {
        var p = rsa.ExportParameters(false);
        var body = DerWriter.Sequence(Concat(DerWriter.UnsignedInteger(p.Modulus!), DerWriter.UnsignedInteger(p.Exponent!)));
        return FromDer(DerWriter.Sequence(Concat(RsaAlgorithm, DerWriter.Element(0x03, Concat(new byte[] { 0 }, body)))));
    }

    /// <summary>Whether <paramref name="signature"/> is this key's signature of <paramref name="data"/>.</summary>
    public bool Verify(byte[] data, byte[] signature)
    {
        try
        {
            if (_ec is { } ec)
            {
                if (signature.Length != 64)
                {
                    return false;
                }

                // One imported key per public key: the ledger verifies a signature per entry.
                lock (_spki)
                {
                    _ecdsa ??= ECDsa.Create(ec);
                    return _ecdsa.VerifyData(data, signature, HashAlgorithmName.SHA256);
                }
            }

            using var rsa = RSA.Create();
            rsa.ImportParameters(_rsa!.Value);
            return rsa.VerifyData(data, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        }
        catch (CryptographicException)
        {
            // A point not on the curve, a signature of the wrong size: not a valid signature.
            return false;
        }
    }

    public bool Equals(PublicKey? other) => other is not null && other.KeyId == KeyId;

    public override bool Equals(object? obj) => Equals(obj as PublicKey);

    public override int GetHashCode() => KeyId.GetHashCode();

    public override string ToString() => $"{Algorithm} {KeyId}";

    private static PublicKey FromDer(byte[] der) =>
        TryParse(der, out var key, out var problem) ? key! : throw new CryptographicException("Cannot encode the public key: " + problem);

    private static bool Same(byte[] a, byte[] b)
    {
        if (a.Length != b.Length)
        {
            return false;
        }

        for (var i = 0; i < a.Length; i++)
        {
            if (a[i] != b[i])
            {
                return false;
            }
        }

        return true;
    }

    private static byte[] Slice(byte[] a, int start, int length)
    {
        var r = new byte[length];
        Buffer.BlockCopy(a, start, r, 0, length);
        return r;
    }

    private static void Pad(byte[] value, byte[] into, int at) => Buffer.BlockCopy(value, 0, into, at + 32 - value.Length, value.Length);

    internal static byte[] Concat(params byte[][] parts)
    {
        var length = 0;
        foreach (var p in parts)
        {
            length += p.Length;
        }

        var r = new byte[length];
        var at = 0;
        foreach (var p in parts)
        {
            Buffer.BlockCopy(p, 0, r, at, p.Length);
            at += p.Length;
        }

        return r;
    }

    /// <summary>Just enough DER to read a SubjectPublicKeyInfo: definite lengths in minimal form only.</summary>
    private sealed class DerReader
    {
        private readonly byte[] _data;
        private int _at;

        public DerReader(byte[] data) => _data = data;

        public byte[] Read(byte tag)
        {
            var (start, length) = Header(tag);
            _at = start + length;
            return Slice(_data, start, length);
        }

        /// <summary>The whole element, tag and length included.</summary>
        public byte[] ReadRaw(byte tag)
        {
            var begin = _at;
            var (start, length) = Header(tag);
            _at = start + length;
            return Slice(_data, begin, _at - begin);
        }

        public byte[] ReadUnsignedInteger()
        {
            var value = Read(0x02);
            if (value.Length == 0 || (value[0] & 0x80) != 0)
            {
                throw new FormatException("a negative or empty INTEGER");
            }

            if (value.Length > 1 && value[0] == 0 && (value[1] & 0x80) == 0)
            {
                throw new FormatException("an INTEGER not in minimal form");
            }

            return value[0] == 0 && value.Length > 1 ? Slice(value, 1, value.Length - 1) : value;
        }

        public void End()
        {
            if (_at != _data.Length)
            {
                throw new FormatException("bytes after the end");
            }
        }

        private (int Start, int Length) Header(byte tag)
        {
            if (_at + 2 > _data.Length || _data[_at] != tag)
            {
                throw new FormatException($"expected tag 0x{tag:X2}");
            }

            var first = _data[_at + 1];
            var at = _at + 2;
            int length;
            if (first < 0x80)
            {
                length = first;
            }
            else
            {
                var count = first & 0x7F;
                if (count == 0 || count > 3 || at + count > _data.Length)
                {
                    throw new FormatException("a length DER does not allow");
                }

                length = 0;
                for (var i = 0; i < count; i++)
                {
                    length = (length << 8) | _data[at + i];
                }

                if (length < 0x80 || (count > 1 && _data[at] == 0))
                {
                    throw new FormatException("a length not in minimal form");
                }

                at += count;
            }

            if (at + length > _data.Length)
            {
                throw new FormatException("a length past the end");
            }

            return (at, length);
        }
    }

    private static class DerWriter
    {
        public static byte[] Sequence(byte[] content) => Element(0x30, content);

        public static byte[] UnsignedInteger(byte[] value)
        {
            var start = 0;
            while (start < value.Length - 1 && value[start] == 0)
            {
                start++;
            }

            var trimmed = Slice(value, start, value.Length - start);
            return Element(0x02, (trimmed[0] & 0x80) != 0 ? Concat(new byte[] { 0 }, trimmed) : trimmed);
        }

        public static byte[] Element(byte tag, byte[] content)
        {
            var header = new List<byte> { tag };
            if (content.Length < 0x80)
            {
                header.Add((byte)content.Length);
            }
            else
            {
                var len = new List<byte>();
                for (var n = content.Length; n > 0; n >>= 8)
                {
                    len.Insert(0, (byte)(n & 0xFF));
                }

                header.Add((byte)(0x80 | len.Count));
                header.AddRange(len);
            }

            using var ms = new MemoryStream(header.Count + content.Length);
            ms.Write(header.ToArray(), 0, header.Count);
            ms.Write(content, 0, content.Length);
            return ms.ToArray();
        }
    }
}
