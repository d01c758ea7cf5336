using System;
using System.Security.Cryptography;

namespace AgentGovernance.Approval;

/// <summary>
/// PBKDF2 with HMAC-SHA256 (RFC 8018 §5.2). netstandard2.0, which the module targets so that it also
/// loads in Windows PowerShell 5.1, has only the SHA-1 variant of Rfc2898DeriveBytes in its reference
/// assemblies; the runtimes themselves have the SHA-256 one (.NET 6+: Rfc2898DeriveBytes.Pbkdf2; .NET
/// Framework 4.7.2+: a constructor taking a HashAlgorithmName), several times faster than managed
/// code, so it is used when present and the managed loop is the fallback. Tests hold all to RFC 7914's vectors.
/// </summary>
internal static class Pbkdf2
{
    private static readonly Func<byte[], byte[], int, int, byte[]>? Platform = FindPlatform();

    public static byte[] DeriveSha256(byte[] password, byte[] salt, int iterations, int length) =>
        Platform is not null ? Platform(password, salt, iterations, length) : DeriveManaged(password, salt, iterations, length);

    private static Func<byte[], byte[], int, int, byte[]>? FindPlatform()
    {
        var type = typeof(Rfc2898DeriveBytes);
        var pbkdf2 = type.GetMethod("Pbkdf2", new[] { typeof(byte[]), typeof(byte[]), typeof(int), typeof(HashAlgorithmName), typeof(int) });
        if (pbkdf2 is not null)
        {
            return (p, s, i, n) => (byte[])pbkdf2.Invoke(null, new object[] { p, s, i, HashAlgorithmName.SHA256, n })!;
        }

        var ctor = type.GetConstructor(new[] { typeof(byte[]), typeof(byte[]), typeof(int), typeof(HashAlgorithmName) });
        if (ctor is not null)
        {
            return (p, s, i, n) =>
            {
                using var kdf = (Rfc2898DeriveBytes)ctor.Invoke(new object[] { p, s, i, HashAlgorithmName.SHA256 });
                return kdf.GetBytes(n);
            };
        }

        return null;
    }

    internal static byte[] DeriveManaged(byte[] password, byte[] salt, int iterations, int length)
    {
        if (iterations < 1 || length < 1)
        {
            throw new ArgumentOutOfRangeException(iterations < 1 ? nameof(iterations) : nameof(length));
        }

        using var hmac = new HMACSHA256(password);
        var result = new byte[length];
        var block = new byte[salt.Length + 4];
        Buffer.BlockCopy(salt, 0, block, 0, salt.Length);
        for (uint i = 1, at = 0; at < length; i++)
        {
            block[salt.Length] = (byte)(i >> 24);
            block[salt.Length + 1] = (byte)(i >> 16);
            block[salt.Length + 2] = (byte)(i >> 8);
            block[salt.Length + 3] = (byte)i;
            var u = hmac.ComputeHash(block);
            var t = (byte[])u.Clone();
            for (var n = 1; n < iterations; n++)
            {
                u = hmac.ComputeHash(u);
                for (var k = 0; k < t.Length; k++)
                {
                    t[k] ^= u[k];
                }
            }

            var take = (int)Math.Min(t.Length, length - at);
            Buffer.BlockCopy(t, 0, result, (int)at, take);
            at += (uint)take;
        }

        return result;
    }
}
