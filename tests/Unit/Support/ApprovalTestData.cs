using System.Collections;
using System.Security;
using System.Text;
using AgentGovernance.Approval;

namespace AgentGovernance.Tests.Support;

/// <summary>
/// Approver keys made once per test run (with few PBKDF2 iterations, so that tests are quick; the
/// cmdlets themselves always use the full count), and the policies and sessions the approval tests use.
/// </summary>
public static class ApprovalTestData
{
    public const string Passphrase = "correct horse battery staple";

    private static readonly Lazy<IReadOnlyDictionary<string, (string Path, PublicKey Key)>> KeySet = new(MakeKeys);

    /// <summary>
    /// carol (u-carol in the tiny tenant, by UPN), erin and frank (not in the tenant; frank's key is RSA),
    /// bob (the requester of the incident change), sp-bot (the agent that suggested it), u-alice (listed as
    /// an agent under her UPN in <see cref="Policy"/>), and mallory (whose key no policy lists).
    /// </summary>
    public static IReadOnlyDictionary<string, (string Path, PublicKey Key)> Keys => KeySet.Value;

    public static SecureString SecurePassphrase => Secure(Passphrase);

    public static SecureString Secure(string text)
    {
        var s = new SecureString();
        foreach (var c in text)
        {
            s.AppendChar(c);
        }

        s.MakeReadOnly();
        return s;
    }

    /// <summary>A policy .psd1 with the given approvers (ids whose keys are in <see cref="Keys"/>), break-glass approvers and extra text.</summary>
    public static string Policy(IEnumerable<string> approvers, IEnumerable<string>? breakGlass = null, string extra = "")
    {
        var bg = new HashSet<string>(breakGlass ?? Array.Empty<string>());
        var sb = new StringBuilder("@{\n    AgentIdentities = @('alice@tiny.example')\n    Approvers = @(\n");
        foreach (var a in approvers)
        {
            sb.Append($"        @{{ Id = '{a}'; PublicKey = '{Keys[a].Key.Base64}'{(bg.Contains(a) ? "; BreakGlass = $true" : string.Empty)} }}\n");
        }

        return sb.Append("    )\n").Append(extra).Append("}\n").ToString();
    }

    /// <summary>The variables a test script uses: $pw (the passphrase), and $key_&lt;name&gt; (each key file's path).</summary>
    public static IDictionary Variables()
    {
        var v = new Hashtable { ["pw"] = SecurePassphrase };
        foreach (var (name, (path, _)) in Keys)
        {
            v["key_" + name.Split('@')[0].Replace("-", "_")] = path;
        }

        return v;
    }

    private static IReadOnlyDictionary<string, (string, PublicKey)> MakeKeys()
    {
        var folder = Path.Combine(Path.GetTempPath(), "ag-keys-" + Guid.NewGuid().ToString("N").Substring(0, 8));
        System.IO.Directory.CreateDirectory(folder);
        var keys = new Dictionary<string, (string, PublicKey)>(StringComparer.Ordinal);
        foreach (var name in new[] { "carol@tiny.example", "erin@example.org", "frank@example.org", "bob@tiny.example", "sp-bot", "u-alice", "mallory@example.org" })
        {
            using var key = name.StartsWith("frank", StringComparison.Ordinal) ? SigningKey.NewRsa(2048) : SigningKey.NewEcdsa();
            var path = Path.Combine(folder, name.Split('@')[0] + ".key");
            ApproverKeyFile.Write(path, key, name, Encoding.UTF8.GetBytes(Passphrase), DateTimeOffset.UtcNow, iterations: 1000);
            keys[name] = (path, key.PublicKey);
        }

        return keys;
    }
}
