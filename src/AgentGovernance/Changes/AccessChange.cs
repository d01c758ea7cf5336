using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using AgentGovernance.Json;

namespace AgentGovernance.Changes;

/// <summary>Who suggested a change: usually an AI agent, with where it said so.</summary>
public sealed class SuggestedBy
{
    public SuggestedBy(string type, string? id = null, string? displayName = null, string? source = null, string? textHash = null)
    {
        Type = type;
        Id = id;
        DisplayName = displayName;
        Source = source;
        TextHash = textHash;
    }

    /// <summary>agent or user.</summary>
    public string Type { get; }

    public string? Id { get; }

    public string? DisplayName { get; }

    public string? Source { get; }

    /// <summary>
    /// <c>sha256:</c> + hex SHA-256 of the text the suggester wrote (the answer or script the change was
    /// read from), so the change, and so its id, is bound to exactly that text.
    /// </summary>
    public string? TextHash { get; }

    public bool IsAgent => Type == "agent";

    public override string ToString() => DisplayName is null ? (Id ?? Type) : (Id is null ? DisplayName : $"{DisplayName} ({Id})");
}

/// <summary>
/// One proposed change (<c>agentgovernance/change@1</c>). Immutable; its <see cref="Id"/> is the
/// SHA-256 of its RFC 8785 canonical JSON, so any edit makes a different change.
/// </summary>
public sealed class AccessChange
{
    public const string Schema = "agentgovernance/change@1";

    private string? _id;

    public AccessChange(IEnumerable<AccessOperation> operations, string? title = null, string? justification = null,
        SuggestedBy? suggestedBy = null, string? requestedBy = null, string? duration = null, string? source = null)
    {
        Operations = operations.ToList();
        if (Operations.Count == 0)
        {
            throw new GovernanceException("ChangeInvalid", GovernanceErrorKind.InvalidArgument, "A change needs at least one operation.");
        }

        Title = title;
        Justification = justification;
        SuggestedBy = suggestedBy;
        RequestedBy = requestedBy;
        Duration = duration;
        if (duration is not null)
        {
            if (!IsoDuration.TryParse(duration, out var span, out var problem))
            {
                throw new GovernanceException("ChangeInvalid", GovernanceErrorKind.InvalidArgument, "duration: " + problem, duration);
            }

            DurationTimeSpan = span;
        }

        Source = source;
    }

    /// <summary><c>sha256:</c> + hex SHA-256 of the canonical JSON.</summary>
    public string Id => _id ??= Hashing.Sha256Id(Encoding.UTF8.GetBytes(ToCanonicalJson()));

    public string? Title { get; }

    public string? Justification { get; }

    public SuggestedBy? SuggestedBy { get; }

    public string? RequestedBy { get; }

    /// <summary>The ISO 8601 duration as written (e.g. PT2H), or null for a permanent change.</summary>
    public string? Duration { get; }

    /// <summary>
    /// <see cref="Duration"/> as a TimeSpan. Internal, so ConvertTo-Json writes the duration once, as
    /// ISO 8601; PowerShell reads it as the hidden property DurationTimeSpan (Display.ViewMembers).
    /// </summary>
    internal TimeSpan? DurationTimeSpan { get; }

    public IReadOnlyList<AccessOperation> Operations { get; }

    /// <summary>The file it was read from, if any (not part of the document or its id).</summary>
    public string? Source { get; }

    /// <summary>True when every operation can only narrow access.</summary>
    public bool NarrowsOnly => Operations.All(o => o.NarrowsOnly);

    public string ToCanonicalJson() => CanonicalJson.Canonicalize(ChangeWriter.ToJson(this, indented: false));

    public override string ToString() => Title ?? string.Join("; ", Operations);
}
