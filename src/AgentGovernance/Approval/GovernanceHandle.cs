using System;
using System.Collections.Generic;
using AgentGovernance.Directory;
using AgentGovernance.Ledger;
using AgentGovernance.Policy;
using AgentGovernance.Stores;

namespace AgentGovernance.Approval;

/// <summary>
/// One opened store with what every command that reads or writes it needs: the ledger signer (only when
/// the command writes), this machine's witness for the store, the policy and the directory snapshot.
/// Opened in one place (GovernanceCmdlet.OpenGovernance), it owns the store and the signer and disposes
/// them once; the approval and apply services and the audit-log commands all work through it.
/// </summary>
internal sealed class GovernanceHandle : IDisposable
{
    private ApprovalService? _approvals;
    private bool _disposed;

    private GovernanceHandle(IGovernanceStore store, LedgerSigner? signer, string? witnessPath, GovernancePolicy policy, AccessSnapshot? snapshot)
    {
        Store = store;
        Signer = signer;
        WitnessPath = witnessPath ?? signer?.WitnessPath(store.StoreId);
        Policy = policy;
        Snapshot = snapshot;
    }

    /// <summary>
    /// Takes <paramref name="store"/> over (it is disposed with the handle, or at once when the signer cannot be opened).
    /// </summary>
    /// <param name="ledgerSignerPath">The ledger signer's key file; its folder holds this machine's witnesses.</param>
    /// <param name="writes">Whether the command appends to the ledger: then the signer is opened (made on first use); else the store is read-only.</param>
    public static GovernanceHandle Open(IGovernanceStore store, string ledgerSignerPath, GovernancePolicy policy, AccessSnapshot? snapshot, bool writes)
    {
        try
        {
            var signer = writes ? LedgerSigner.OpenOrCreate(ledgerSignerPath) : null;
            return new GovernanceHandle(store, signer, WitnessFor(ledgerSignerPath, store.StoreId), policy, snapshot);
        }
        catch
        {
            store.Dispose();
            throw;
        }
    }

    /// <summary>A handle over a store and signer opened elsewhere (the MCP server's tools, tests); it owns both from now on.</summary>
    public static GovernanceHandle Over(IGovernanceStore store, LedgerSigner? signer, GovernancePolicy policy, AccessSnapshot? snapshot, string? witnessPath = null) =>
        new(store, signer, witnessPath, policy, snapshot);

    /// <summary>This machine's witness of a store: beside the ledger signer's key, one file per store id.</summary>
    public static string WitnessFor(string ledgerSignerPath, string storeId) =>
        LedgerSigner.WitnessPathFor(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(ledgerSignerPath))!, storeId);

    public IGovernanceStore Store { get; }

    /// <summary>The ledger signer; null when the handle was opened read-only.</summary>
    public LedgerSigner? Signer { get; }

    /// <summary>This machine's witness for the store (null only for a read-only handle made without a signer path).</summary>
    public string? WitnessPath { get; }

    public GovernancePolicy Policy { get; }

    public AccessSnapshot? Snapshot { get; }

    public bool Writes => Signer is not null;

    /// <summary>The approval service over this handle (made once; disposing it disposes the handle).</summary>
    public ApprovalService Approvals => _approvals ??= new ApprovalService(this);

    /// <summary>The guarded apply on <paramref name="directory"/>, through this handle's approvals and ledger.</summary>
    public Apply.ApplyService Apply(Providers.IDirectoryProvider directory) => new(Approvals, directory);

    /// <summary>
    /// The whole ledger verified: chain, every entry's signature against the policy's LedgerSigners,
    /// checkpoints, this machine's witness, and the anchors given (kept outside the store).
    /// <paramref name="onEntry"/> is given each entry as it verifies, in order.
    /// </summary>
    public LedgerVerification Verify(IReadOnlyList<byte[]>? anchors = null, Action<Ledger.LedgerEntry>? onEntry = null) => LedgerVerifier.Verify(Store, new LedgerVerifyOptions
    {
        Pinned = Policy.LedgerSigners,
        WitnessPath = WitnessPath,
        Anchors = anchors,
        OnEntry = onEntry,
    });

    /// <summary>Disposes the signer and the store, once (both the handle and its approval service may be disposed).</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        Signer?.Dispose();
        Store.Dispose();
    }
}
