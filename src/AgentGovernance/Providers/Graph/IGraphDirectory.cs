using System;
using System.Collections.Generic;
using System.Threading;
using AgentGovernance.Directory;

namespace AgentGovernance.Providers.Graph;

/// <summary>
/// The live tenant through Microsoft Graph: an <see cref="IDirectoryProvider"/>, plus what only a live
/// directory has (a read cache for one command, request counts, batched apply, a whole-tenant export).
/// Implemented in AgentGovernance.Graph.dll, which runs in the module's own load context; only this
/// assembly's types and the framework's cross over.
/// </summary>
public interface IGraphDirectory : IDirectoryProvider
{
    /// <summary>The Graph base URL requests go to.</summary>
    Uri Endpoint { get; }

    /// <summary>The tenant's display name, read when connecting.</summary>
    string? TenantDisplayName { get; }

    /// <summary>
    /// The permission inventory (snapshot@2) live previews look in for the SharePoint and OneDrive items a
    /// membership change reaches, whose permissions they then read live (Connect-AgentGovernance -InventoryPath).
    /// </summary>
    AccessSnapshot? Inventory { get; set; }

    /// <summary>
    /// How old <see cref="Inventory"/> may be before a preview that looks in it is Partial: the policy's
    /// Inventory.MaxAge (default one day), set from the policy each preview and re-check runs under.
    /// </summary>
    TimeSpan InventoryMaxAge { get; set; }

    /// <summary>Requests sent so far, for -Verbose and the request-count measurements.</summary>
    GraphRequestStatistics Statistics { get; }

    /// <summary>
    /// Starts one command's read cache: what is read until the scope is disposed is read once. Outside a
    /// scope nothing is cached, so the apply pipeline always reads current state.
    /// </summary>
    IDisposable BeginCommand();

    /// <summary>
    /// Entra's audit log between two times (GET auditLogs/directoryAudits, $filter on activityDateTime, every page):
    /// the directoryAudit objects as one JSON array. Needs AuditLog.Read.All.
    /// </summary>
    string ReadDirectoryAudits(DateTimeOffset from, DateTimeOffset until);

    /// <summary>
    /// SharePoint's sharing events between two times through Purview's audit log query API (POST
    /// security/auditLog/queries, polled until succeeded, every page of its records): the auditLogRecord objects
    /// as one JSON array. Needs AuditLogsQuery-SharePoint.Read.All; a query that fails or times out is an error.
    /// </summary>
    string ReadSharingAuditRecords(DateTimeOffset from, DateTimeOffset until);

    /// <summary>The state of one resource: its grants and whoever reaches it (for Get-EffectiveAccess).</summary>
    AccessSnapshot ReadResource(string resourceId);

    /// <summary>
    /// Applies several planned operations with JSON batching (20 per request). Operations on the same
    /// object keep their order (a failed one fails those after it, with 424); every plan gets its own outcome.
    /// </summary>
    IReadOnlyList<ApplyOutcome> ApplyAll(IReadOnlyList<OperationPlan> plans);

    /// <summary>Reads the whole tenant (delta queries, $select) into a snapshot; see <see cref="GraphExportOptions"/>.</summary>
    AccessSnapshot Export(GraphExportOptions options, Action<GraphExportProgress>? progress, CancellationToken cancel);
}

/// <summary>The outcome of one operation of <see cref="IGraphDirectory.ApplyAll"/>: applied, or the error that stopped it.</summary>
public sealed class ApplyOutcome
{
    public ApplyOutcome(OperationPlan plan, AppliedOperation? applied, GovernanceException? error)
    {
        Plan = plan ?? throw new ArgumentNullException(nameof(plan));
        if ((applied is null) == (error is null))
        {
            throw new ArgumentException("An outcome is either applied or failed.");
        }

        Applied = applied;
        Error = error;
    }

    public OperationPlan Plan { get; }

    public AppliedOperation? Applied { get; }

    public GovernanceException? Error { get; }

    public bool Succeeded => Applied is not null;

    public override string ToString() => Succeeded ? Applied!.ToString() : $"{Plan.Operation}: {Error!.ErrorId}";
}

/// <summary>Counts of the HTTP requests a Graph connection has sent.</summary>
public sealed class GraphRequestStatistics
{
    private long _requests;
    private long _batches;
    private long _batchSteps;
    private long _throttled;
    private long _unavailable;

    /// <summary>HTTP requests on the wire (retries included; a $batch is one).</summary>
    public long Requests => Interlocked.Read(ref _requests);

    public long Batches => Interlocked.Read(ref _batches);

    /// <summary>Requests carried inside $batch calls.</summary>
    public long BatchSteps => Interlocked.Read(ref _batchSteps);

    /// <summary>Responses (or batch steps) of 429 Too Many Requests.</summary>
    public long Throttled => Interlocked.Read(ref _throttled);

    /// <summary>Responses (or batch steps) of 503 or 504.</summary>
    public long Unavailable => Interlocked.Read(ref _unavailable);

    public void AddRequest() => Interlocked.Increment(ref _requests);

    public void AddBatch(int steps)
    {
        Interlocked.Increment(ref _batches);
        Interlocked.Add(ref _batchSteps, steps);
    }

    public void AddStatus(int status)
    {
        if (status == 429) Interlocked.Increment(ref _throttled);
        else if (status == 503 || status == 504) Interlocked.Increment(ref _unavailable);
    }

    public override string ToString() => $"{Requests} requests ({Batches} batches carrying {BatchSteps}), {Throttled} throttled, {Unavailable} unavailable";
}

/// <summary>What Export-AccessSnapshot -FromGraph asks for.</summary>
public sealed class GraphExportOptions
{
    public GraphExportOptions(string journalPath) => JournalPath = journalPath ?? throw new ArgumentNullException(nameof(journalPath));

    /// <summary>Where pages read so far are kept, so an interrupted export can resume; the caller deletes it once the snapshot is written.</summary>
    public string JournalPath { get; }

    /// <summary>Continue from the journal of an interrupted export instead of starting again.</summary>
    public bool Resume { get; set; }

    /// <summary>
    /// Also crawl the permission inventory: every site's drives by delta, and the permissions of the
    /// items that are shared (the snapshot becomes snapshot@2).
    /// </summary>
    public bool Inventory { get; set; }

    /// <summary>
    /// An earlier inventory to refresh (-Update): each drive continues from its stored delta link, and
    /// only what changed is read again. Implies <see cref="Inventory"/>.
    /// </summary>
    public AccessSnapshot? Previous { get; set; }
}

/// <summary>One progress record of an export.</summary>
public sealed class GraphExportProgress
{
    public GraphExportProgress(string activity, string status, int percent)
    {
        Activity = activity;
        Status = status;
        Percent = percent;
    }

    public string Activity { get; }

    public string Status { get; }

    /// <summary>0-100, or -1 when unknown.</summary>
    public int Percent { get; }
}
