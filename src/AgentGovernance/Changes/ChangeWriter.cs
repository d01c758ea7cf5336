using System.Text;
using AgentGovernance.IO;
using AgentGovernance.Json;

namespace AgentGovernance.Changes;

/// <summary>
/// Writes <c>agentgovernance/change@1</c>: fixed key order (as in the format's documentation), one
/// operation per line, "\n" line ends, UTF-8 without BOM. Same change, same bytes.
/// </summary>
public static class ChangeWriter
{
    public static void WriteFile(AccessChange change, string path, bool overwrite = true) =>
        AtomicFile.WriteText(path, ToJson(change, indented: true), overwrite);

    public static string ToJson(AccessChange c, bool indented = true)
    {
        var nl = indented ? "\n  " : string.Empty;
        var sep = indented ? ", " : ",";
        var colon = indented ? ": " : ":";
        var sb = new StringBuilder();
        sb.Append('{').Append(nl).Append("\"schema\"").Append(colon).Append(JsonText.Quote(AccessChange.Schema));
        void Field(string name, string? value)
        {
            if (value is null) return;
            sb.Append(',').Append(nl).Append('"').Append(name).Append('"').Append(colon);
            JsonText.AppendString(sb, value);
        }

        Field("title", c.Title);
        Field("justification", c.Justification);
        if (c.SuggestedBy is { } s)
        {
            sb.Append(',').Append(nl).Append("\"suggestedBy\"").Append(colon).Append(indented ? "{ " : "{");
            sb.Append("\"type\"").Append(colon);
            JsonText.AppendString(sb, s.Type);
            void Inner(string name, string? value)
            {
                if (value is null) return;
                sb.Append(sep).Append('"').Append(name).Append('"').Append(colon);
                JsonText.AppendString(sb, value);
            }

            Inner("id", s.Id);
            Inner("displayName", s.DisplayName);
            Inner("source", s.Source);
            Inner("textHash", s.TextHash);
            sb.Append(indented ? " }" : "}");
        }

        Field("requestedBy", c.RequestedBy);
        Field("duration", c.Duration);
        sb.Append(',').Append(nl).Append("\"operations\"").Append(colon).Append('[');
        for (var i = 0; i < c.Operations.Count; i++)
        {
            var o = c.Operations[i];
            sb.Append(i > 0 ? "," : string.Empty).Append(indented ? "\n    { " : "{");
            sb.Append("\"op\"").Append(colon).Append('"').Append(o.OpName).Append('"');
            void Op(string name, string? value)
            {
                if (value is null) return;
                sb.Append(sep).Append('"').Append(name).Append('"').Append(colon);
                JsonText.AppendString(sb, value);
            }

            Op("resource", o.Resource);
            Op("group", o.Group);
            Op("principal", o.Principal);
            Op("member", o.Member);
            Op("scope", o.Scope is { } scope ? AccessOperation.ScopeName(scope) : null);
            Op("role", o.Role);
            Op("visibility", o.Visibility?.ToString());
            sb.Append(indented ? " }" : "}");
        }

        sb.Append(indented ? "\n  ]\n}\n" : "]}");
        return sb.ToString();
    }
}
