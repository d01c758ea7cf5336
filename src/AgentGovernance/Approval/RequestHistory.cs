using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using AgentGovernance.Changes;
using AgentGovernance.Ledger;
using AgentGovernance.Providers;

namespace AgentGovernance.Approval;

/// <summary>One operation of an apply as its write-ahead entry planned it.</summary>
internal sealed class PlannedStep
{
    public PlannedStep(int index, OperationPlan plan)
    {
        Index = index;
        Plan = plan;
    }

    public int Index { get; }

    public OperationPlan Plan { get; }
}

/// <summary>One apply of a request, as the ledger tells it: the plan, what was applied, how it ended.</summary>
internal sealed class ApplyAttempt
{
    public long IntentSequence { get; set; }

    public List<PlannedStep> Plan { get; } = new();

    public Dictionary<int, AppliedOperation> Applied { get; } = new();

    public HashSet<int> RolledBackSteps { get; } = new();

    public string? ProviderKind { get; set; }

    public string? ProviderLocation { get; set; }

    public bool Completed { get; set; }

    public bool RolledBack { get; set; }

    public DateTimeOffset? AccessExpiresAt { get; set; }

    public bool InProgress => !Completed && !RolledBack;
}

/// <summary>An undo (or expiry) of an applied request, as the ledger tells it.</summary>
internal sealed class UndoAttempt
{
    public string Trigger { get; set; } = "undo";

    public HashSet<int> Reverted { get; } = new();

    public bool Completed { get; set; }
}

/// <summary>
/// What the ledger says about one request: the hash it was opened with, the decisions recorded, whether
/// it expired, and its applies and undos. The ledger is the truth; the store's documents are checked against it.
/// </summary>
internal sealed class RequestHistory
{
    public string? RequestHash { get; set; }

    public HashSet<string> Decisions { get; } = new(StringComparer.Ordinal);

    /// <summary>The hashes of the recorded decisions that are denials.</summary>
    public HashSet<string> Denials { get; } = new(StringComparer.Ordinal);

    public bool Expired { get; set; }

    public List<ApplyAttempt> Applies { get; } = new();

    public UndoAttempt? Undo { get; set; }

    public ApplyAttempt? LastApply => Applies.Count == 0 ? null : Applies[Applies.Count - 1];

    public bool IsApplied => LastApply is { Completed: true };

    public bool IsUndone => IsApplied && Undo is { Completed: true };

    /// <summary>Reads every request's history from the ledger in one pass (or one request's).</summary>
    public static Dictionary<string, RequestHistory> Read(IEnumerable<LedgerEntry> ledger, string? requestId = null)
    {
        var all = new Dictionary<string, RequestHistory>(StringComparer.Ordinal);
        foreach (var e in ledger)
        {
            if (e.RequestId is null || (requestId is not null && e.RequestId != requestId))
            {
                continue;
            }

            if (!all.TryGetValue(e.RequestId, out var h))
            {
                all[e.RequestId] = h = new RequestHistory();
            }

            h.Add(e);
        }

        return all;
    }

    private void Add(LedgerEntry e)
    {
        var d = e.Details;
        switch (e.Event)
        {
            case LedgerEvents.ApprovalRequested:
                RequestHash ??= d["requestHash"] as string;
                break;
            case LedgerEvents.Approved:
            case LedgerEvents.Denied:
                if (d["decisionHash"] is string hash)
                {
                    Decisions.Add(hash);
                    if (e.Event == LedgerEvents.Denied)
                    {
                        Denials.Add(hash);
                    }
                }

                break;
            case LedgerEvents.Expired:
                Expired = true;
                break;
            case LedgerEvents.ApplyStarted:
                var attempt = new ApplyAttempt
                {
                    IntentSequence = e.Sequence,
                    ProviderKind = d["providerKind"] as string,
                    ProviderLocation = d["providerLocation"] as string,
                };
                if (d["operations"] is object?[] steps)
                {
                    foreach (var step in steps.OfType<IDictionary>())
                    {
                        var op = Operation(step["operation"]);
                        var inverse = step["inverse"] is IDictionary inv ? Operation(inv) : null;
                        attempt.Plan.Add(new PlannedStep(Convert.ToInt32(step["index"], System.Globalization.CultureInfo.InvariantCulture),
                            new OperationPlan(op, step["alreadyInEffect"] is true, inverse, step["state"] as string)));
                    }
                }

                Applies.Add(attempt);
                Undo = null;
                break;
            case LedgerEvents.OperationApplied when LastApply is { } a:
                var index = Convert.ToInt32(d["index"], System.Globalization.CultureInfo.InvariantCulture);
                a.Applied[index] = new AppliedOperation(Operation(d["operation"]), d["changed"] is true,
                    d["inverse"] is IDictionary i2 ? Operation(i2) : null, d["reference"] as string);
                break;
            case LedgerEvents.OperationReverted:
                var reverted = Convert.ToInt32(d["index"], System.Globalization.CultureInfo.InvariantCulture);
                if (d["phase"] as string == "rollback")
                {
                    LastApply?.RolledBackSteps.Add(reverted);
                }
                else
                {
                    Undo?.Reverted.Add(reverted);
                }

                break;
            case LedgerEvents.ApplyCompleted when LastApply is { } done:
                done.Completed = true;
                done.AccessExpiresAt = d["accessExpiresAt"] is string at && GovernanceClock.TryParse(at, out var t) ? t : null;
                break;
            case LedgerEvents.ApplyRolledBack when LastApply is { } back:
                back.RolledBack = true;
                break;
            case LedgerEvents.UndoStarted:
                // A resumed undo keeps what the one cut off had already reverted.
                if (Undo is not { Completed: false })
                {
                    Undo = new UndoAttempt();
                }

                Undo.Trigger = d["trigger"] as string ?? "undo";
                break;
            case LedgerEvents.UndoCompleted when Undo is { } u:
                u.Completed = true;
                break;
        }
    }

    private static AccessOperation Operation(object? value) =>
        value is IDictionary map ? ChangeReader.ParseOperation(map, "operation") : throw new FormatException("The ledger entry names no operation.");
}
