using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Text.Json;
using AgentGovernance.Approval;
using AgentGovernance.Ledger;
using AgentGovernance.Stores;

namespace AgentGovernance.Commands;

/// <summary>What Copy-GovernanceStore copied, and that the ledger verified on both sides.</summary>
public sealed class GovernanceStoreCopy
{
    internal GovernanceStoreCopy(string source, string destination, string storeId, long entries, int requests, int decisions, int checkpoints, int reports, bool sourceValid, bool destinationValid)
    {
        Reports = reports;
        Source = source;
        Destination = destination;
        StoreId = storeId;
        Entries = entries;
        Requests = requests;
        Decisions = decisions;
        Checkpoints = checkpoints;
        SourceVerified = sourceValid;
        DestinationVerified = destinationValid;
    }

    public string Source { get; }

    public string Destination { get; }

    public string StoreId { get; }

    public long Entries { get; }

    public int Requests { get; }

    public int Decisions { get; }

    public int Checkpoints { get; }

    /// <summary>The full compliance reports copied: each one a ComplianceAudited entry of the ledger names (compliance/&lt;hash&gt;).</summary>
    public int Reports { get; }

    public bool SourceVerified { get; }

    public bool DestinationVerified { get; }
}

/// <summary>
/// Copies a store whole (requests, decisions, signers, compliance reports, ledger, checkpoints) between a folder and the
/// session's table store, keeping its id (the ledger's first entry is chained to it). The source's
/// chain is verified before anything is written and the destination's after; the destination must be new.
/// </summary>
[Cmdlet(VerbsCommon.Copy, "GovernanceStore", DefaultParameterSetName = FromFolder, SupportsShouldProcess = true)]
[OutputType(typeof(GovernanceStoreCopy))]
public sealed class CopyGovernanceStoreCommand : GovernanceCmdlet
{
    private const string FromFolder = "FromFolder";
    private const string ToFolder = "ToFolder";

    /// <summary>A folder store to copy into the session's table store (into -DestinationTable, a new table).</summary>
    [Parameter(ParameterSetName = FromFolder, Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string SourcePath { get; set; } = string.Empty;

    /// <summary>The new table to copy into, on the session's table account and credential; the session's table unless given.</summary>
    [Parameter(ParameterSetName = FromFolder)]
    [ValidateNotNullOrEmpty]
    public string? DestinationTable { get; set; }

    /// <summary>A new folder to copy the session's store into.</summary>
    [Parameter(ParameterSetName = ToFolder, Mandatory = true)]
    [ValidateNotNullOrEmpty]
    public string DestinationPath { get; set; } = string.Empty;

    protected override void EndProcessing()
    {
        try
        {
            var session = Session;
            if (ParameterSetName == FromFolder)
            {
                if (session.TableStore is null)
                {
                    throw new GovernanceException("NoTableStore", GovernanceErrorKind.InvalidOperation,
                        "Copy-GovernanceStore -SourcePath copies into the session's table store: run Connect-AgentGovernance -StoreEndpoint/-StoreConnectionString first.");
                }

                if (FileSystemFolder(SourcePath) is not { } folder)
                {
                    return;
                }

                if (!System.IO.File.Exists(System.IO.Path.Combine(folder, "store.json")))
                {
                    throw new GovernanceException("StoreNotFound", GovernanceErrorKind.ObjectNotFound, $"'{folder}' is not a store (it has no store.json).", folder);
                }

                using var source = OpenGovernance(writes: false, store: FolderStore.Open(folder));
                var table = session.TableStore;
                var options = new TableStoreOptions
                {
                    Endpoint = table.Endpoint, Table = DestinationTable ?? table.Table, Credential = table.Credential, ConnectionString = table.ConnectionString,
                    SasToken = table.SasToken, AccessToken = table.AccessToken, TenantId = table.TenantId, ClientId = table.ClientId,
                    CertificatePath = table.CertificatePath, StoreIdForNew = source.Store.StoreId, MaxRetries = table.MaxRetries, NetworkTimeout = table.NetworkTimeout,
                };
                if (!ShouldProcess(options.Describe(), $"Copy the store {source.Store.Location}"))
                {
                    return;
                }

                var reports = VerifySource(source);
                using var destination = OpenGovernance(writes: false, store: TableStoreLoader.Open(options, MyInvocation.MyCommand.Module?.ModuleBase));
                WriteObject(Copy(source, destination, reports));
            }
            else
            {
                if (FileSystemFolder(DestinationPath) is not { } folder)
                {
                    return;
                }

                if (System.IO.Directory.Exists(folder) && System.IO.Directory.EnumerateFileSystemEntries(folder).Any())
                {
                    throw new GovernanceException("StoreNotEmpty", GovernanceErrorKind.InvalidOperation, $"'{folder}' is not empty: Copy-GovernanceStore copies into a new folder only.", folder);
                }

                using var source = OpenGovernance(writes: false);
                if (!ShouldProcess(folder, $"Copy the store {source.Store.Location}"))
                {
                    return;
                }

                var reports = VerifySource(source);
                using var destination = OpenGovernance(writes: false, store: FolderStore.Open(folder, source.Store.StoreId));
                WriteObject(Copy(source, destination, reports));
            }
        }
        catch (GovernanceException e)
        {
            ThrowGovernanceError(e);
        }
    }

    /// <summary>Verifies the source's ledger in full, and returns the ids of the compliance reports its entries name (compliance/&lt;hash&gt;).</summary>
    private static List<string> VerifySource(GovernanceHandle source)
    {
        var reports = new List<string>();
        var result = source.Verify(onEntry: e =>
        {
            if (Compliance.ComplianceRun.From(e) is { } run)
            {
                reports.Add(Compliance.ComplianceReport.DocumentId(run.ReportHash));
            }
        });
        if (!result.IsValid)
        {
            throw new GovernanceException("LedgerInvalid", GovernanceErrorKind.SecurityError,
                $"The ledger of '{source.Store.Location}' does not verify, so it was not copied: {result.Message}", source.Store.Location);
        }

        return reports;
    }

    private GovernanceStoreCopy Copy(GovernanceHandle sourceHandle, GovernanceHandle destinationHandle, IReadOnlyList<string> reportIds)
    {
        var (source, destination) = (sourceHandle.Store, destinationHandle.Store);
        if (destination.StoreId != source.StoreId)
        {
            throw new GovernanceException("StoreNotEmpty", GovernanceErrorKind.InvalidOperation,
                $"'{destination.Location}' is already a store (id {destination.StoreId}): Copy-GovernanceStore copies into a new one only.", destination.Location);
        }

        using (destination.Lock(AuditLedger.LockTimeout))
        {
            if (destination.ReadLedgerHead() is not null || destination.ListRequests().Count > 0)
            {
                throw new GovernanceException("StoreNotEmpty", GovernanceErrorKind.InvalidOperation,
                    $"'{destination.Location}' already holds a ledger or requests: Copy-GovernanceStore copies into a new store only.", destination.Location);
            }

            // Signers and documents (requests, decisions, compliance reports) first, the ledger that vouches for them after, the checkpoints that seal it last.
            var signers = source.ReadSigners();
            foreach (var key in signers)
            {
                if (!PublicKey.TryParse(key, out var parsed, out var problem))
                {
                    throw new GovernanceException("SignerInvalid", GovernanceErrorKind.InvalidData, $"A signer registered in '{source.Location}' is not a public key ({problem}); nothing more was copied.", source.Location);
                }

                destination.RegisterSigner(parsed!.KeyId, key);
            }

            var requests = source.ListRequests();
            var decisions = 0;
            foreach (var id in requests)
            {
                WriteVerbose($"Request {id}");
                destination.CreateRequest(id, source.ReadRequest(id)!);
                foreach (var doc in source.ReadDecisions(id))
                {
                    destination.AddDecision(id, DecisionId(doc, id), doc);
                    decisions++;
                }
            }

            // The full compliance reports the verified ledger names (ComplianceAudited entries: compliance/<hash>).
            var reports = 0;
            foreach (var id in reportIds)
            {
                if (source.ReadDocument(Compliance.ComplianceReport.Slot, id) is { } report)
                {
                    try
                    {
                        destination.CreateDocument(Compliance.ComplianceReport.Slot, id, report);
                        reports++;
                    }
                    catch (GovernanceException e) when (e.ErrorId == "DocumentExists")
                    {
                        // Two audits with the same report hash name one document.
                    }
                }
            }

            long entries = 0;
            var batch = new List<byte[]>();
            foreach (var line in source.ReadLedger())
            {
                var bytes = new byte[line.Count + 1];
                Array.Copy(line.Array!, line.Offset, bytes, 0, line.Count);
                bytes[line.Count] = (byte)'\n';
                batch.Add(bytes);
                entries++;
                if (batch.Count == 100)
                {
                    destination.AppendLedger(batch, durable: true);
                    batch.Clear();
                }
            }

            if (batch.Count > 0)
            {
                destination.AppendLedger(batch, durable: true);
            }

            var checkpoints = source.ReadCheckpoints();
            foreach (var c in checkpoints)
            {
                var bytes = new byte[c.Length + 1];
                c.CopyTo(bytes, 0);
                bytes[c.Length] = (byte)'\n';
                destination.AppendCheckpoint(c.Length > 0 && c[c.Length - 1] == (byte)'\n' ? c : bytes);
            }

            var after = destinationHandle.Verify();
            if (!after.IsValid)
            {
                throw new GovernanceException("LedgerInvalid", GovernanceErrorKind.SecurityError,
                    $"The copy in '{destination.Location}' does not verify: {after.Message}", destination.Location);
            }

            return new GovernanceStoreCopy(source.Location, destination.Location, source.StoreId, entries, requests.Count, decisions, checkpoints.Count, reports, true, after.IsValid);
        }
    }

    private static string DecisionId(byte[] document, string requestId)
    {
        try
        {
            return ApprovalDecision.Parse(document).DecisionId;
        }
        catch (Exception e) when (e is FormatException || e is JsonException || e is InvalidOperationException || e is KeyNotFoundException)
        {
            throw new GovernanceException("DecisionInvalid", GovernanceErrorKind.InvalidData, $"A decision of request {requestId} is not valid ({e.Message}); nothing more was copied.", requestId, e);
        }
    }
}
