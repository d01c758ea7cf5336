using System.Text.Json;

namespace TenantGen;

/// <summary>One operation of a change document; null fields are left out.</summary>
internal sealed record ChangeOp(
    string Op,
    string? Resource = null,
    string? Group = null,
    string? Principal = null,
    string? Member = null,
    string? Role = null,
    string? Visibility = null,
    string? Scope = null);

internal sealed record SuggestedBy(string Type, string Id, string DisplayName, string Source);

internal sealed record ChangeDoc(
    string Title,
    string Justification,
    SuggestedBy? SuggestedBy,
    string? RequestedBy,
    string? Duration,
    ChangeOp[] Operations);

/// <summary>
/// Writes an <c>agentgovernance/change@1</c> document: 2-space indent, "\n" newlines, key order
/// schema, title, justification, suggestedBy {type, id, displayName, source}, requestedBy, duration,
/// operations; within an operation: op, resource/group, principal/member, then role/visibility, or for
/// createLink: op, resource, scope, role (as in formats.md's example).
/// </summary>
internal static class ChangeWriter
{
    public const string Schema = "agentgovernance/change@1";

    public static void Write(string path, ChangeDoc doc)
    {
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write);
        using (var w = new Utf8JsonWriter(stream, SnapshotWriter.Options))
        {
            w.WriteStartObject();
            w.WriteString("schema", Schema);
            w.WriteString("title", doc.Title);
            w.WriteString("justification", doc.Justification);
            if (doc.SuggestedBy is { } s)
            {
                w.WriteStartObject("suggestedBy");
                w.WriteString("type", s.Type);
                w.WriteString("id", s.Id);
                w.WriteString("displayName", s.DisplayName);
                w.WriteString("source", s.Source);
                w.WriteEndObject();
            }

            Optional(w, "requestedBy", doc.RequestedBy);
            Optional(w, "duration", doc.Duration);
            w.WriteStartArray("operations");
            foreach (var op in doc.Operations)
            {
                w.WriteStartObject();
                w.WriteString("op", op.Op);
                Optional(w, "resource", op.Resource);
                Optional(w, "group", op.Group);
                Optional(w, "principal", op.Principal);
                Optional(w, "member", op.Member);
                if (op.Op == "createLink")
                {
                    Optional(w, "scope", op.Scope);
                    Optional(w, "role", op.Role);
                }
                else
                {
                    Optional(w, "role", op.Role);
                    Optional(w, "visibility", op.Visibility);
                    Optional(w, "scope", op.Scope);
                }

                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        stream.Write("\n"u8);
    }

    private static void Optional(Utf8JsonWriter w, string name, string? value)
    {
        if (value is not null)
        {
            w.WriteString(name, value);
        }
    }
}
