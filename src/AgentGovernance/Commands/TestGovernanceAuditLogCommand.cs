using System;
using System.Collections.Generic;
using System.Management.Automation;
using AgentGovernance.Ledger;

namespace AgentGovernance.Commands;

/// <summary>
/// Verifies the whole ledger: the hash chain, every signed checkpoint, and this machine's witness of
/// the last checkpoint it signed. Reports the first entry that does not verify and why.
/// </summary>
[Cmdlet(VerbsDiagnostic.Test, "GovernanceAuditLog")]
[OutputType(typeof(LedgerVerification), typeof(bool))]
public sealed class TestGovernanceAuditLogCommand : GovernanceCmdlet
{
    /// <summary>Returns only $true or $false, and writes no error.</summary>
    [Parameter]
    public SwitchParameter Quiet { get; set; }

    /// <summary>Anchor files (from Export-GovernanceAuditLog -Format Anchor, kept outside the store): the store must not be older than any.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? Anchor { get; set; }

    protected override void EndProcessing()
    {
        try
        {
            using var governance = OpenGovernance(writes: false);
            List<byte[]>? anchors = null;
            foreach (var path in Anchor ?? Array.Empty<string>())
            {
                if (FileSystemPath(path) is not { } file)
                {
                    return;
                }

                anchors ??= new List<byte[]>();
                var bytes = IO.DocumentFile.ReadAllBytes(file, "Anchor");
                anchors.AddRange(SplitLines(bytes));
            }

            var result = governance.Verify(anchors);
            if (Quiet)
            {
                WriteObject(result.IsValid);
                return;
            }

            foreach (var warning in result.Warnings)
            {
                WriteWarning(warning);
            }

            WriteObject(result);
            if (!result.IsValid)
            {
                WriteError(new ErrorRecord(new GovernanceException("LedgerInvalid", GovernanceErrorKind.SecurityError, result.Message, result.Store),
                    "LedgerInvalid", ErrorCategory.SecurityError, result)
                {
                    ErrorDetails = new ErrorDetails(result.Message)
                    {
                        RecommendedAction = $"Entry {result.FirstBadSequence} is the first that does not verify ({result.Problem}). Keep a copy of the store as evidence and investigate who could write to it.",
                    },
                });
            }
        }
        catch (GovernanceException e)
        {
            WriteGovernanceError(e);
        }
    }

    private static IEnumerable<byte[]> SplitLines(byte[] bytes)
    {
        var start = 0;
        for (var i = 0; i <= bytes.Length; i++)
        {
            if (i == bytes.Length || bytes[i] == (byte)'\n')
            {
                var end = i > start && bytes[i - 1] == (byte)'\r' ? i - 1 : i;
                if (end > start)
                {
                    var line = new byte[end - start];
                    Buffer.BlockCopy(bytes, start, line, 0, line.Length);
                    yield return line;
                }

                start = i + 1;
            }
        }
    }
}
