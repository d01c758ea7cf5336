using System;
using System.IO;
using System.Text;
using AgentGovernance.IO;
using AgentGovernance.Json;

namespace AgentGovernance.Directory;

/// <summary>
/// Writes <c>agentgovernance/snapshot@1</c>, or <c>@2</c> when the snapshot carries a permission inventory: fixed key order, defaults left out, one principal,
/// resource or grant per line, "\n" line ends, UTF-8 without BOM. Same snapshot, same bytes.
/// </summary>
public static class SnapshotWriter
{
    public static void WriteFile(AccessSnapshot snapshot, string path, bool overwrite = true) =>
        AtomicFile.Write(path, s => Write(snapshot, s), overwrite);

    /// <summary>Writes a snapshot file, telling <paramref name="progress"/> (what, entries written, entries in all) every few thousand entries.</summary>
    public static void WriteFile(AccessSnapshot snapshot, string path, bool overwrite, Action<string, long, long>? progress) =>
        AtomicFile.Write(path, s => Write(snapshot, s, progress), overwrite);

    public static string WriteString(AccessSnapshot snapshot)
    {
        using var ms = new MemoryStream();
        Write(snapshot, ms);
        return new UTF8Encoding(false).GetString(ms.ToArray());
    }

    public static void Write(AccessSnapshot s, Stream stream) => Write(s, stream, null);

    private const int ProgressEvery = 4096;

    private static void Write(AccessSnapshot s, Stream stream, Action<string, long, long>? progress)
    {
        long total = s.PrincipalCount + s.ResourceCount + s.GrantCount;
        var w = new StreamWriter(stream, new UTF8Encoding(false), 1 << 16) { NewLine = "\n" };
        var sb = new StringBuilder(256);
        sb.Append("{\n  \"schema\": ").Append(JsonText.Quote(s.Inventory.Count > 0 || s.CoverageGaps.Count > 0 || s.InventoryDeltaLinks.Count > 0 ? SnapshotReader.InventorySchema : SnapshotReader.Schema)).Append(",\n  \"tenant\": { \"id\": ").Append(JsonText.Quote(s.TenantId));
        if (s.TenantDisplayName is not null)
        {
            sb.Append(", \"displayName\": ").Append(JsonText.Quote(s.TenantDisplayName));
        }

        sb.Append(" }");
        if (s.CapturedAtText is not null)
        {
            sb.Append(",\n  \"capturedAt\": ").Append(JsonText.Quote(s.CapturedAtText));
        }

        if (s.Inventory.Count > 0 || s.CoverageGaps.Count > 0 || s.InventoryDeltaLinks.Count > 0)
        {
            sb.Append(",\n  \"inventory\": { \"drives\": [");
            for (var d = 0; d < s.Inventory.Count; d++)
            {
                var drive = s.Inventory[d];
                sb.Append(d == 0 ? "\n    { \"id\": " : ",\n    { \"id\": ");
                JsonText.AppendString(sb, drive.Id);
                Field(sb, "site", drive.Site);
                Field(sb, "deltaLink", drive.DeltaLink);
                Field(sb, "crawledAt", drive.CrawledAt);
                sb.Append(" }");
            }

            sb.Append(s.Inventory.Count > 0 ? "\n  ]" : "]");
            if (s.CoverageGaps.Count > 0)
            {
                // What the crawl could not read: kept, so a preview on this file is Partial, not Complete.
                sb.Append(", \"gaps\": [");
                for (var g = 0; g < s.CoverageGaps.Count; g++)
                {
                    sb.Append(g == 0 ? "\n    " : ",\n    ");
                    JsonText.AppendString(sb, s.CoverageGaps[g]);
                }

                sb.Append("\n  ]");
            }

            if (s.InventoryDeltaLinks.Count > 0)
            {
                // Where -Update continues the directory and the sites from (keys in ordinal order).
                sb.Append(", \"deltaLinks\": {");
                var firstLink = true;
                foreach (var link in s.InventoryDeltaLinks)
                {
                    sb.Append(firstLink ? "\n    " : ",\n    ");
                    firstLink = false;
                    JsonText.AppendString(sb, link.Key);
                    sb.Append(": ");
                    JsonText.AppendString(sb, link.Value);
                }

                sb.Append("\n  }");
            }

            sb.Append(" }");
        }

        sb.Append(",\n  \"principals\": [");
        w.Write(sb.ToString());
        var first = true;
        for (var i = AccessSnapshot.FirstPrincipal; i < s.PrincipalSlots; i++)
        {
            if (progress is not null && (i - AccessSnapshot.FirstPrincipal) % ProgressEvery == ProgressEvery - 1)
            {
                progress("principals", i - AccessSnapshot.FirstPrincipal, total);
            }

            sb.Clear();
            sb.Append(first ? "\n    { \"id\": " : ",\n    { \"id\": ");
            first = false;
            JsonText.AppendString(sb, s.PrincipalId(i));
            var type = s.Types[i];
            sb.Append(", \"type\": ").Append(type switch
            {
                PrincipalType.User => "\"user\"",
                PrincipalType.Group => "\"group\"",
                _ => "\"servicePrincipal\"",
            });
            Field(sb, "displayName", NameOrNull(s, i));
            Field(sb, "userPrincipalName", s.Upn[i]);
            Field(sb, "mail", s.Mail[i]);
            Field(sb, "mailNickname", s.MailNickname[i]);
            if (s.IsGuest(i)) sb.Append(", \"userType\": \"Guest\"");
            if (!s.IsEnabled(i)) sb.Append(", \"accountEnabled\": false");
            if (s.IsAgentFlag(i)) sb.Append(", \"isAgent\": true");
            if (type == PrincipalType.Group)
            {
                if (s.Visibility[i] != GroupVisibility.Private) sb.Append(", \"visibility\": \"").Append(s.Visibility[i].ToString()).Append('"');
                var members = s.MembersOf(i);
                if (members.Length > 0)
                {
                    sb.Append(", \"members\": [");
                    for (var m = 0; m < members.Length; m++)
                    {
                        if (m > 0) sb.Append(", ");
                        JsonText.AppendString(sb, s.PrincipalId(members[m]));
                    }

                    sb.Append(']');
                }
            }

            sb.Append(" }");
            w.Write(sb.ToString());
        }

        w.Write(first ? "],\n  \"resources\": [" : "\n  ],\n  \"resources\": [");
        first = true;
        for (var r = 0; r < s.ResourceCount; r++)
        {
            if (progress is not null && r % ProgressEvery == ProgressEvery - 1)
            {
                progress("resources", s.PrincipalCount + r, total);
            }

            sb.Clear();
            sb.Append(first ? "\n    { \"id\": " : ",\n    { \"id\": ");
            first = false;
            JsonText.AppendString(sb, s.ResourceIds[r]);
            sb.Append(", \"type\": ");
            JsonText.AppendString(sb, s.ResourceTypes[r]);
            Field(sb, "displayName", s.ResourceNames[r]);
            Field(sb, "webUrl", s.ResourceUrls[r]);
            if (s.ResourceSensitivity[r] != Sensitivity.General) sb.Append(", \"sensitivity\": \"").Append(s.ResourceSensitivity[r].ToString()).Append('"');
            if (s.ResourcePersonal[r]) sb.Append(", \"personalData\": true");
            var owners = s.OwnersOf(r);
            if (owners.Length > 0)
            {
                sb.Append(", \"owners\": [");
                for (var o = 0; o < owners.Length; o++)
                {
                    if (o > 0) sb.Append(", ");
                    JsonText.AppendString(sb, s.PrincipalId(owners[o]));
                }

                sb.Append(']');
            }

            if (s.ResourceGroup[r] >= 0)
            {
                Field(sb, "group", s.PrincipalId(s.ResourceGroup[r]));
            }

            sb.Append(" }");
            w.Write(sb.ToString());
        }

        w.Write(first ? "],\n  \"grants\": [" : "\n  ],\n  \"grants\": [");
        first = true;
        for (var g = 0; g < s.GrantCount; g++)
        {
            if (progress is not null && g % ProgressEvery == ProgressEvery - 1)
            {
                progress("grants", (long)s.PrincipalCount + s.ResourceCount + g, total);
            }

            sb.Clear();
            sb.Append(first ? "\n    { \"resource\": " : ",\n    { \"resource\": ");
            first = false;
            JsonText.AppendString(sb, s.ResourceIds[s.GrantResource[g]]);
            sb.Append(", \"principal\": ");
            JsonText.AppendString(sb, s.PrincipalId(s.GrantPrincipal[g]));
            sb.Append(", \"role\": ");
            JsonText.AppendString(sb, s.RoleNames[s.GrantRoleName[g]]);
            sb.Append(" }");
            w.Write(sb.ToString());
        }

        w.Write(first ? "]\n}\n" : "\n  ]\n}\n");
        w.Flush();
    }

    private static string? NameOrNull(AccessSnapshot s, int i) => s.HasDisplayName(i) ? s.PrincipalName(i) : null;

    private static void Field(StringBuilder sb, string name, string? value)
    {
        if (value is null)
        {
            return;
        }

        sb.Append(", \"").Append(name).Append("\": ");
        JsonText.AppendString(sb, value);
    }
}
