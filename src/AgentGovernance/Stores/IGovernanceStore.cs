using System;
using System.Collections.Generic;

namespace AgentGovernance.Stores;

/// <summary>
/// Where approval requests, signed decisions, the ledger and its checkpoints live. The store keeps
/// bytes; what they mean (hash chains, signatures, quorum) is decided above it, so a store that lies
/// can make things fail but never make them pass. Documents are written once and never changed;
/// the ledger only grows. Implementations: a local (or network) folder, and a table on Azure Table Storage.
/// </summary>
public interface IGovernanceStore : IDisposable
{
    /// <summary><c>folder</c> or <c>azureTable</c>.</summary>
    string Kind { get; }

    /// <summary>Where it is, for people: the folder's full path.</summary>
    string Location { get; }

    /// <summary>A random id given to the store when it was created; the ledger's first entry is chained to it.</summary>
    string StoreId { get; }

    /// <summary>
    /// Holds the store's one write lock until disposed. Writers of the ledger hold it from reading the
    /// head to writing the checkpoint. A holder that dies releases it (the operating system does), and
    /// there is only one lock, taken never nested, so it cannot deadlock. StoreBusy after <paramref name="timeout"/>.
    /// </summary>
    IDisposable Lock(TimeSpan timeout);

    /// <summary>
    /// Holds the lock of one request until disposed, across processes and machines: whoever applies, undoes,
    /// recovers or decides a request holds it for the whole operation, so a second process can tell a live
    /// apply (lock held) from one whose process died (lock free, intent without outcome in the ledger), and a
    /// quorum is never counted while another decision on the same request is being recorded. The folder
    /// store holds an OS file lock (released when its process dies); the table store a lease that is renewed
    /// while held and taken over only once it has expired. RequestBusy after <paramref name="timeout"/>.
    /// The lock returned may be an <see cref="IRequestLock"/>.
    /// </summary>
    IDisposable LockRequest(string requestId, TimeSpan timeout);

    /// <summary>Writes a new request document; RequestExists if one has that id.</summary>
    void CreateRequest(string requestId, byte[] document);

    /// <summary>The request document as stored, or null.</summary>
    byte[]? ReadRequest(string requestId);

    IReadOnlyList<string> ListRequests();

    /// <summary>Writes a decision document for a request; DecisionExists if one has that id.</summary>
    void AddDecision(string requestId, string decisionId, byte[] document);

    IReadOnlyList<byte[]> ReadDecisions(string requestId);

    /// <summary>
    /// Writes a document into a named slot (<c>compliance</c>: a compliance report, by its hash), once;
    /// DocumentExists if the slot has one with that id. What it means (its hash in the ledger) is decided above.
    /// </summary>
    void CreateDocument(string slot, string id, byte[] document);

    /// <summary>A document of a slot as stored, or null.</summary>
    byte[]? ReadDocument(string slot, string id);

    /// <summary>The last complete ledger line, or null for an empty ledger. Call under <see cref="Lock"/>.</summary>
    byte[]? ReadLedgerHead();

    /// <summary>
    /// Appends complete lines (each ends with '\n') and, when <paramref name="durable"/>, returns only once they are on disk.
    /// Call under <see cref="Lock"/>, after <see cref="ReadLedgerHead"/>. A store whose lock does not
    /// exclude other processes (the table store) throws StoreConflict, writing nothing, when the first
    /// line's sequence was taken meanwhile; the ledger then reads the head again and chains onto it.
    /// </summary>
    void AppendLedger(IReadOnlyList<byte[]> lines, bool durable);

    /// <summary>
    /// The ledger's lines in order, without their line ends. A segment is valid until the next one is
    /// read. A last line without its '\n' (an append cut off by a crash) is reported through
    /// <paramref name="tornTail"/> instead of being returned.
    /// </summary>
    IEnumerable<ArraySegment<byte>> ReadLedger(Action<byte[]>? tornTail = null);

    void AppendCheckpoint(byte[] line);

    IReadOnlyList<byte[]> ReadCheckpoints();

    /// <summary>Records a checkpoint signer's public key (idempotent).</summary>
    void RegisterSigner(string keyId, string publicKey);

    /// <summary>The public keys (base64 SubjectPublicKeyInfo) of the signers registered in the store.</summary>
    IReadOnlyList<string> ReadSigners();
}

/// <summary>A request lock that says how it was got: free, or taken over from a holder whose lease expired.</summary>
public interface IRequestLock : IDisposable
{
    /// <summary>Null when the lock was free; else who held it, and when their lease expired (a process that died or stalled).</summary>
    string? TakeoverReason { get; }

    /// <summary>True once the lease could not be renewed in time, or another process took it over: stop writing under it.</summary>
    bool Lost { get; }
}
