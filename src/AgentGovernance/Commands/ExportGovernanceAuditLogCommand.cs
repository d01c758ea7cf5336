using System.Collections.Generic;
using System.Management.Automation;
using System.Text;
using AgentGovernance.IO;
using AgentGovernance.Ledger;

namespace AgentGovernance.Commands;

/// <summary>Writes the ledger (or the entries piped in from Get-GovernanceAuditLog) as JSON lines, CSV or CEF for a SIEM.</summary>
[Cmdlet(VerbsData.Export, "GovernanceAuditLog", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(System.IO.FileInfo))]
public sealed class ExportGovernanceAuditLogCommand : GovernanceCmdlet
{
    private readonly List<LedgerEntry> _piped = new();

    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = string.Empty;

    [Parameter]
    public LedgerExportFormat Format { get; set; } = LedgerExportFormat.Json;

    /// <summary>Entries to write (from Get-GovernanceAuditLog); the whole ledger when none are piped.</summary>
    [Parameter(ValueFromPipeline = true)]
    public LedgerEntry[]? InputObject { get; set; }

    [Parameter]
    public SwitchParameter NoClobber { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        if (InputObject is not null)
        {
            _piped.AddRange(InputObject);
        }
    }

    protected override void EndProcessing()
    {
        if (FileSystemPath(Path) is not { } file)
        {
            return;
        }

        try
        {
            if (Format == LedgerExportFormat.Anchor)
            {
                ExportAnchor(file);
                return;
            }

            IEnumerable<LedgerEntry> entries = _piped;
            Approval.GovernanceHandle? governance = null;
            if (!MyInvocation.ExpectingInput)
            {
                governance = OpenGovernance(writes: false);
                entries = governance.Approvals.Ledger.Read();
            }

            using (governance)
            {
                if (!ShouldProcess(file, $"Export the audit log as {Format}"))
                {
                    return;
                }

                var version = typeof(ExportGovernanceAuditLogCommand).Assembly.GetName().Version?.ToString(3) ?? "0";
                AtomicFile.Write(file, s =>
                {
                    using var w = new System.IO.StreamWriter(s, new UTF8Encoding(false), 1 << 16, leaveOpen: true);
                    LedgerExport.Write(w, entries, Format, version);
                }, overwrite: !NoClobber);
            }

            if (PassThru)
            {
                WriteFileItem(file);
            }
        }
        catch (GovernanceException e)
        {
            WriteGovernanceError(e, file);
        }
    }

    /// <summary>A checkpoint of the verified head, signed now by this machine's ledger signer, written on its own line.</summary>
    private void ExportAnchor(string file)
    {
        if (MyInvocation.ExpectingInput)
        {
            throw new GovernanceException("AnchorNeedsLedger", GovernanceErrorKind.InvalidArgument,
                "An anchor vouches for the whole ledger, not for entries piped in: run Export-GovernanceAuditLog -Format Anchor without input.", file);
        }

        if (!ShouldProcess(file, "Export a signed anchor of the ledger's head"))
        {
            return;
        }

        using var governance = OpenGovernance();
        var line = governance.Approvals.Ledger.Anchor();
        AtomicFile.Write(file, s => s.Write(line, 0, line.Length), overwrite: !NoClobber);
        WriteVerbose($"Anchor of {governance.Store.Location}: {Encoding.UTF8.GetString(line).TrimEnd()}");
        if (PassThru)
        {
            WriteFileItem(file);
        }
    }
}
