using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Threading;
using AgentGovernance.Stores;
using Azure;
using Azure.Data.Tables;

namespace AgentGovernance.Table;

/// <summary>
/// Request locks across processes: a lease, kept in insert-only entities so that a writer with an
/// Add+Read SAS can hold one (an update would need Update, which would let it rewrite the ledger too).
/// <code>
/// PartitionKey  RowKey                                  what
/// lease         &lt;requestId&gt;|&lt;term D10&gt;|&lt;n D10&gt;     n = 0: taken (Owner, DurationMs, Reason when taken over);
///                                                       n &gt; 0: renewed, or released (Released = true)
/// </code>
/// The newest row of a request (the highest term, then n) says who holds it. Taking it is the conditional
/// insert of term + 1, n = 0: two takers conflict (409) and one wins. A lease expires DurationMs after its
/// newest row was written, both times by the service's clock (the row's Timestamp, the answer's Date), so
/// the machines' clocks do not matter. A holder renews every third of the duration and counts its lease as
/// lost once it could not renew within the duration by its own monotonic clock, or finds a higher term.
/// </summary>
internal sealed partial class TableStore
{
    internal const string LeasePartition = "lease";

    /// <summary>How long a lease lasts unrenewed (TableStoreOptions.LeaseDuration).</summary>
    internal TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(30);

    public IDisposable LockRequest(string requestId, TimeSpan timeout)
    {
        var id = SafeId(requestId);
        var watch = Stopwatch.StartNew();

        // Runspaces of this process queue here first, so that only one of them polls the table.
        var gate = ProcessLocks.GetOrAdd(Location + "|apply|" + id, _ => new SemaphoreSlim(1, 1));
        if (!gate.Wait(timeout))
        {
            throw new GovernanceException("RequestBusy", GovernanceErrorKind.InvalidOperation,
                $"Request {requestId} is being applied, undone or decided by another runspace of this process right now; try again.", requestId);
        }

        try
        {
            return RequestLease.Take(this, id, timeout - watch.Elapsed, gate);
        }
        catch
        {
            gate.Release();
            throw;
        }
    }

    internal static string LeaseKey(string id, long term, long n) =>
        id + "|" + term.ToString("D10", CultureInfo.InvariantCulture) + "|" + n.ToString("D10", CultureInfo.InvariantCulture);

    /// <summary>The lease rows of one request, oldest first, and the service's time of the answer.</summary>
    internal (List<TableEntity> Rows, DateTimeOffset ServerNow) ReadLease(string id, long fromTerm = 0)
    {
        var filter = $"PartitionKey eq '{LeasePartition}' and RowKey ge '{(fromTerm > 0 ? LeaseKey(id, fromTerm, 0) : id + "|")}' and RowKey lt '{id}}}'";
        var rows = new List<TableEntity>();
        DateTimeOffset? date = null;
        var pages = Call(Location, () => _table.Query<TableEntity>(filter, maxPerPage: 1000).AsPages());
        using var pageEnum = pages.GetEnumerator();
        while (Call(Location, () => pageEnum.MoveNext()))
        {
            date ??= pageEnum.Current.GetRawResponse().Headers.Date;
            rows.AddRange(pageEnum.Current.Values);
        }

        rows.Sort((a, b) => string.CompareOrdinal(a.RowKey, b.RowKey));
        return (rows, date ?? DateTimeOffset.UtcNow);
    }

    // Set once a delete was refused (403: an Add+Read SAS): the old rows stay, harmlessly, and are not tried again.
    private volatile bool _leaseDeleteRefused;

    /// <summary>
    /// Once a new term is held, the rows of the terms before it (released, or expired and taken over) say nothing
    /// any more: removed in one transaction per 100 rows, each with its ETag (If-Match), where the credential
    /// may delete. Under an Add+Read SAS the service refuses (403) and they stay: the newest row decides, so
    /// old rows cost only their space. The newest term is never removed, so terms only grow and a stalled
    /// holder always finds the higher term that ended its lease.
    /// </summary>
    internal void RemoveOldTerms(IReadOnlyList<TableEntity> older)
    {
        if (_leaseDeleteRefused || older.Count == 0)
        {
            return;
        }

        try
        {
            foreach (var chunk in older.Select((row, i) => (row, i)).GroupBy(x => x.i / MaxBatchActions, x => x.row))
            {
                var actions = chunk.Select(r => new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(LeasePartition, r.RowKey), r.ETag)).ToList();
                if (actions.Count == 1)
                {
                    Call(Location, () => _table.DeleteEntity(LeasePartition, actions[0].Entity.RowKey, actions[0].ETag));
                }
                else
                {
                    Call(Location, () => _table.SubmitTransaction(actions));
                }
            }
        }
        catch (GovernanceException e) when (e.ErrorId == "StoreAccessDenied")
        {
            _leaseDeleteRefused = true;
        }
        catch (Exception e) when (e is GovernanceException || e is RequestFailedException)
        {
            // Gone already (another taker removed them), changed, or the service is busy: cleaning up is never worth failing the lock.
        }
    }

    internal static long TermOf(TableEntity row)
    {
        var parts = row.RowKey.Split('|');
        return parts.Length == 3 && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var term) ? term : 0;
    }

    /// <summary>One held lease: renewed on a timer until disposed, then released (unless lost).</summary>
    private sealed class RequestLease : IRequestLock
    {
        private readonly TableStore _store;
        private readonly string _id;
        private readonly long _term;
        private readonly string _owner;
        private readonly TimeSpan _duration;
        private readonly SemaphoreSlim _gate;
        private readonly Timer _timer;
        private long _renewedAt = Stopwatch.GetTimestamp();
        private readonly object _sync = new();
        private long _n;
        private bool _lost;
        private bool _disposed;

        private RequestLease(TableStore store, string id, long term, string owner, string? reason, SemaphoreSlim gate)
        {
            _store = store;
            _id = id;
            _term = term;
            _owner = owner;
            _duration = store.LeaseDuration;
            _gate = gate;
            TakeoverReason = reason;
            var every = TimeSpan.FromTicks(_duration.Ticks / 3);
            _timer = new Timer(_ => Renew(), null, every, every);
        }

        public string? TakeoverReason { get; }

        public bool Lost
        {
            get
            {
                lock (_sync)
                {
                    return _lost || Stopwatch.GetElapsedTime(_renewedAt) >= _duration;
                }
            }
        }

        public static RequestLease Take(TableStore store, string id, TimeSpan timeout, SemaphoreSlim gate)
        {
            var owner = $"{Environment.UserName}@{Environment.MachineName} pid {Environment.ProcessId} {Guid.NewGuid().ToString("N").Substring(0, 8)}";
            var watch = Stopwatch.StartNew();
            var delay = 20;
            while (true)
            {
                var (rows, serverNow) = store.ReadLease(id);
                var last = rows.Count == 0 ? null : rows[rows.Count - 1];
                string? reason = null;
                var term = 1L;
                if (last is not null)
                {
                    term = TermOf(last) + 1;
                    if (last.GetBoolean("Released") != true)
                    {
                        var holder = Visible(last.GetString("Owner") ?? "(unnamed)");
                        var expires = (last.Timestamp ?? DateTimeOffset.MinValue) + TimeSpan.FromMilliseconds(last.GetInt64("DurationMs") ?? 0);
                        if (serverNow <= expires)
                        {
                            if (watch.Elapsed >= timeout)
                            {
                                throw new GovernanceException("RequestBusy", GovernanceErrorKind.InvalidOperation,
                                    $"Request {id} is being applied, undone or decided by {holder} right now (its lease, renewed while it works, runs until " +
                                    $"{expires.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture)}); try again.", id);
                            }

                            Thread.Sleep(delay);
                            delay = Math.Min(delay * 2, 250);
                            continue;
                        }

                        reason = $"the lease of {holder} (term {term - 1}) expired at {expires.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture)} " +
                                 "without being renewed or released: its process died or stalled";
                    }
                }

                var row = new TableEntity(LeasePartition, LeaseKey(id, term, 0))
                {
                    ["Owner"] = owner,
                    ["DurationMs"] = (long)store.LeaseDuration.TotalMilliseconds,
                };
                if (reason is not null)
                {
                    row["Reason"] = reason;
                }

                try
                {
                    Call(store.Location, () => store._table.AddEntity(row));
                }
                catch (RequestFailedException e) when (e.Status == 409)
                {
                    // Another taker won this term, or our own insert was retried after its answer was lost.
                    var stored = Call(store.Location, () => store._table.GetEntityIfExists<TableEntity>(LeasePartition, row.RowKey));
                    if (!(stored.HasValue && stored.Value!.GetString("Owner") == owner))
                    {
                        continue;
                    }
                }

                store.RemoveOldTerms(rows);
                return new RequestLease(store, id, term, owner, reason, gate);
            }
        }

        /// <summary>Writes the next row of this term and checks that nobody took a later one.</summary>
        private bool Write(bool released)
        {
            lock (_sync)
            {
                if (_lost || (!released && _disposed))
                {
                    return false;
                }

                // Counted from when the row was sent: the service stamps it no earlier.
                var sent = Stopwatch.GetTimestamp();
                var row = new TableEntity(LeasePartition, LeaseKey(_id, _term, ++_n))
                {
                    ["Owner"] = _owner,
                    ["DurationMs"] = (long)_duration.TotalMilliseconds,
                };
                if (released)
                {
                    row["Released"] = true;
                }

                try
                {
                    Call(_store.Location, () => _store._table.AddEntity(row));
                }
                catch (RequestFailedException e) when (e.Status == 409)
                {
                    // Only this holder writes rows of its term: it is our own insert, retried.
                }

                if (_store.ReadLease(_id, _term + 1).Rows.Count > 0)
                {
                    _lost = true;
                    return false;
                }

                _renewedAt = sent;
                return true;
            }
        }

        private void Renew()
        {
            try
            {
                Write(released: false);
            }
            catch (GovernanceException)
            {
                // The service could not be reached: try again at the next tick; Lost says when it is too late.
            }
        }

        public void Dispose()
        {
            lock (_sync)
            {
                if (_disposed)
                {
                    return;
                }

                _disposed = true;
            }

            using (var stopped = new ManualResetEvent(false))
            {
                _timer.Dispose(stopped);
                stopped.WaitOne(TimeSpan.FromSeconds(30));
            }

            try
            {
                if (!Lost)
                {
                    Write(released: true);
                }
            }
            catch (GovernanceException)
            {
                // Not released: it expires on its own after its duration.
            }
            finally
            {
                _gate.Release();
            }
        }
    }
}
