using System.Security.Cryptography;
using System.Text;
using AgentGovernance.Approval;
using AgentGovernance.Compliance;

namespace AgentGovernance.Tests.Approval;

/// <summary>
/// The two documents an approver signs, byte for byte as formats.md describes them: an approval decision
/// (<c>agentgovernance/approval-decision@1</c>, signed over <c>"agentgovernance/decision@1\n"</c> and the
/// statement) and a compliance exception (<c>agentgovernance/compliance-exception@1</c>, signed over its schema
/// and a newline, then the statement). The expected bytes are written here from the format, not from the code;
/// RSA PKCS#1 v1.5 signatures are deterministic, so a document the module signs must equal them exactly.
/// </summary>
public sealed class SignedDocumentTests
{
    private const string Pem = ""
        + "-----BEGIN RSA PRIVATE KEY-----\n"
        + "MIIEogIBAAKCAQEAwcPEeFOA/eJtn9WytdKHfNlG4ygyTk+OhAuyMVMVcrW34Jjj\n"
        + "aJHx2YrenDQ8fBJi9qiecnpKqQ9KXVnv8GNyQepIDTudkk9QpNzF4GX7t+NXo16f\n"
        + "U+OXCZsFq/ZwS4GpmCz7hDM5/v0FRXdm5QoIb0+e1RU/3OUIfkCq/+M8UOxLDwsM\n"
        + "jfxumrUyKXaoqzANGDec5CJnypOwIwRKN1WhHsJcDyn5l/p/RgiDkomUu8eyk8Es\n"
        + "a6WGxNczIMaZufipVPCq6WbOuSOvJPpdtwFQoDinoSLL9LTYQIFIjctTX/QBOQ5C\n"
        + "g5CMB6FFyqYvhHNQqguA6jYDCoKj7h6c8Ui4HwIDAQABAoIBAFKweOfguuud9aqA\n"
        + "SAPQFIHzN405Wj6RNQCk/SaPjleltRLkLCg0IEH2QYnnwOgx8InS68tu5O3A2Lt9\n"
        + "5idwSRJYKOd8yYHm10OD8+4Pl5yiKIRPnS7vsUUoIwN/5+xRKU8H405HjjiDQfyj\n"
        + "OAYGghL+p4nHx7k9BKLcdh09nD/r2QEC6CfxWzmKvzoD9Yp6PaPdri80RGFVJuv4\n"
        + "098F5ei8JNkkHj5l7u/u50+X5ZFs+22r9kImqcOCamMkOVtvE2ijO4DUUOympsgt\n"
        + "R0t/aw6vdSWaofIAoha/MGIPCKq+yzlJWyYTSISQpcuHTfO2OgImU7iK5r3mYDc5\n"
        + "3/IZMgECgYEA4UnpSlmiLjnQyUV9/Sin5S41rFeJqD5YTDJ3+VQRLLm9P+3uHoGv\n"
        + "QJSROeDZ875xRs+2FFenNCQrK/7/3z+I7XhKZPEfbq3vDveh89SaHX4TPaXWlBIV\n"
        + "zjmm9QFObwqHeAiKnZRfRx4mOSKy1WNChygN3DD0/MM+4LpWFtZ4POMCgYEA3C28\n"
        + "nz/V1DJD9p0PFNLvxTjXmI813A4McykUz8ptaphCfu/xiVfd3mt7LQDHKRsLUb7/\n"
        + "DIaMRfCGHaKFcUE+GMn9OoJivu+/3wQnpkoHzHy0US9KZEqUT4ZBXTQJGIcmVIn0\n"
        + "hN3HZX/N2Ni++0YO+jMyKpeVGFul50BurrWIGJUCgYA1VKPPH+zOeI0+OB8dALTO\n"
        + "AeReydIia6/HSeMwuH/gUI/GRHKr8hMkfIbsZpfxpVF3a9A0fJNuOmml3pV/qbCm\n"
        + "VmV2A8ZnEvGWX3SNHfTlqmSvoURshON4kBk/wnFow9tRxOPbbbYoRbDSsa4X6Ylk\n"
        + "KU0upMA53ZZS6IlcmqSX9QKBgBkHcfvAa/RVSniMXhyF5g/LaGbFUOAVEME+mEkO\n"
        + "v+VwLY70g8aTIHuaSERTZFB97Il8Zs3rtaJ1tylDQlwfiImU3J58F/GQm4UkmcVD\n"
        + "gSNzwaPA9nn0KGvp3SBVO/t30ZmmnQ9Fjtcw8huGeB9kVWuHylohJSfBs1hYcLyX\n"
        + "kkMJAoGANhU6+vixMTzXKzz5vlci5puJbCMYblFWPlom80qDaZRxKgsUSMAf+tVS\n"
        + "j8004fx4/bbOc9QcODUoD7Hgf7HNZo9CgvcXiBIjQduqpXvJ7MaNI4Nq0gdJeqEc\n"
        + "lZgVtEgo5ZxQjEo1XfFYIoClRMf+06d987ZHrblcgN+62q6/hio=\n"
        + "-----END RSA PRIVATE KEY-----\n";

    private static readonly DateTimeOffset Time = new(2026, 12, 7, 21, 0, 0, 125, TimeSpan.Zero);

    private const string DecisionStatement =
        "{\"approver\":\"carol@tiny.example\",\"changeId\":\"chg-1\",\"comment\":\"ok \u2028 then\",\"decision\":\"approve\","
        + "\"reportHash\":\"sha256:bb\",\"requestHash\":\"sha256:aa\",\"requestId\":\"req-1\",\"time\":\"2026-12-07T21:00:00.125Z\"}";

    private const string ExceptionStatement =
        "{\"approver\":\"erin@tiny.example\",\"evidenceHash\":\"sha256:cc\",\"expiresAt\":\"2027-01-06T21:00:00.125Z\",\"findingId\":\"AUD003:site-secret\","
        + "\"reason\":\"board pack\",\"severity\":\"High\",\"tenantId\":\"tiny.example\",\"time\":\"2026-12-07T21:00:00.125Z\"}";

    private static (SigningKey Key, RSA Rsa) Key()
    {
        var rsa = RSA.Create();
        rsa.ImportFromPem(Pem);
        return (SigningKey.FromRsa(rsa.ExportParameters(true), null), rsa);
    }

    private static string Envelope(string schema, string statement, string keyId, byte[] signature) =>
        "{\"algorithm\":\"RS256\",\"keyId\":\"" + keyId + "\",\"schema\":\"" + schema + "\",\"signature\":\"" + Convert.ToBase64String(signature)
        + "\",\"statement\":" + statement + "}";

    private static byte[] SignedOver(RSA rsa, string domain, string statement) =>
        rsa.SignData(Encoding.UTF8.GetBytes(domain + statement), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);

    [Fact]
    public void ADecisionIsSignedToTheExactBytesOfTheFormatAndReadsBack()
    {
        var (key, rsa) = Key();
        using (key)
        using (rsa)
        {
            var expected = Envelope("agentgovernance/approval-decision@1", DecisionStatement, key.PublicKey.KeyId,
                SignedOver(rsa, "agentgovernance/decision@1\n", DecisionStatement));

            var signed = ApprovalDecision.Sign(key, "req-1", "sha256:aa", "chg-1", "sha256:bb", DecisionKind.Approve, "carol@tiny.example", Time, "ok \u2028 then");

            Assert.Equal(expected, Encoding.UTF8.GetString(signed.Document));
            var read = ApprovalDecision.Parse(Encoding.UTF8.GetBytes(expected));
            Assert.True(read.VerifiedBy(key.PublicKey));
            Assert.Equal(("req-1", "sha256:aa", "chg-1", "sha256:bb", DecisionKind.Approve, "carol@tiny.example", Time, "ok \u2028 then"),
                (read.RequestId, read.RequestHash, read.ChangeId, read.ReportHash, read.Decision, read.Approver, read.Time, read.Comment));
            Assert.Equal(key.PublicKey.KeyId, read.KeyId);

            // One changed byte of the statement, and the signature no longer holds; another schema is not a decision.
            Assert.False(ApprovalDecision.Parse(Encoding.UTF8.GetBytes(expected.Replace("\"approve\"", "\"deny\"", StringComparison.Ordinal))).VerifiedBy(key.PublicKey));
            Assert.Throws<FormatException>(() => ApprovalDecision.Parse(Encoding.UTF8.GetBytes(expected.Replace("approval-decision@1", "compliance-exception@1", StringComparison.Ordinal))));
        }
    }

    [Fact]
    public void AComplianceExceptionIsSignedToTheExactBytesOfTheFormatAndReadsBack()
    {
        var (key, rsa) = Key();
        using (key)
        using (rsa)
        {
            var expected = Envelope("agentgovernance/compliance-exception@1", ExceptionStatement, key.PublicKey.KeyId,
                SignedOver(rsa, "agentgovernance/compliance-exception@1\n", ExceptionStatement));

            var signed = ComplianceExceptionApproval.Sign(key, "tiny.example", "AUD003:site-secret", "sha256:cc", ComplianceSeverity.High, "board pack",
                "erin@tiny.example", Time, Time.AddDays(30));

            Assert.Equal(expected, signed.Document);
            var read = ComplianceExceptionApproval.Parse(expected);
            Assert.True(read.VerifiedBy(key.PublicKey));
            Assert.Equal(("tiny.example", "AUD003:site-secret", "sha256:cc", ComplianceSeverity.High, "board pack", "erin@tiny.example", Time, Time.AddDays(30)),
                (read.TenantId, read.FindingId, read.EvidenceHash, read.Severity, read.Reason, read.Approver, read.Time, read.ExpiresAt));

            Assert.False(ComplianceExceptionApproval.Parse(expected.Replace("board pack", "board pick", StringComparison.Ordinal)).VerifiedBy(key.PublicKey));
            Assert.Throws<FormatException>(() => ComplianceExceptionApproval.Parse(expected.Replace("compliance-exception@1", "approval-decision@1", StringComparison.Ordinal)));
        }
    }
}
