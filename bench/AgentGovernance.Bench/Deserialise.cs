using System.Text.Json;
using System.Text.Json.Serialization;

namespace AgentGovernanceBench;

/// <summary>
/// The second baseline of the snapshot load (issue 16): what straightforward code does. The file is
/// read, <see cref="JsonSerializer"/> deserialises it into plain classes (one object per principal,
/// resource and grant, a string per member id), and the ids are resolved through two dictionaries
/// into the same kind of index arrays the module keeps (members, owners, resource groups, grants).
/// No validation beyond what resolving needs (an unknown id throws), so it does less than the
/// module's reader, which checks every field, position and duplicate.
/// </summary>
internal static class Deserialise
{
    private static readonly JsonSerializerOptions Options = new() { MaxDepth = 64 };

    public sealed class Document
    {
        [JsonPropertyName("schema")] public string? Schema { get; set; }
        [JsonPropertyName("tenant")] public TenantDto? Tenant { get; set; }
        [JsonPropertyName("capturedAt")] public string? CapturedAt { get; set; }
        [JsonPropertyName("principals")] public List<PrincipalDto> Principals { get; set; } = new();
        [JsonPropertyName("resources")] public List<ResourceDto> Resources { get; set; } = new();
        [JsonPropertyName("grants")] public List<GrantDto> Grants { get; set; } = new();
    }

    public sealed class TenantDto
    {
        [JsonPropertyName("id")] public string? Id { get; set; }
        [JsonPropertyName("displayName")] public string? DisplayName { get; set; }
    }

    public sealed class PrincipalDto
    {
        [JsonPropertyName("id")] public string Id { get; set; } = "";
        [JsonPropertyName("type")] public string Type { get; set; } = "";
        [JsonPropertyName("displayName")] public string? DisplayName { get; set; }
        [JsonPropertyName("userPrincipalName")] public string? UserPrincipalName { get; set; }
        [JsonPropertyName("mail")] public string? Mail { get; set; }
        [JsonPropertyName("mailNickname")] public string? MailNickname { get; set; }
        [JsonPropertyName("userType")] public string? UserType { get; set; }
        [JsonPropertyName("accountEnabled")] public bool? AccountEnabled { get; set; }
        [JsonPropertyName("isAgent")] public bool? IsAgent { get; set; }
        [JsonPropertyName("visibility")] public string? Visibility { get; set; }
        [JsonPropertyName("members")] public List<string>? Members { get; set; }
    }

    public sealed class ResourceDto
    {
        [JsonPropertyName("id")] public string Id { get; set; } = "";
        [JsonPropertyName("type")] public string Type { get; set; } = "";
        [JsonPropertyName("displayName")] public string? DisplayName { get; set; }
        [JsonPropertyName("webUrl")] public string? WebUrl { get; set; }
        [JsonPropertyName("sensitivity")] public string? Sensitivity { get; set; }
        [JsonPropertyName("personalData")] public bool? PersonalData { get; set; }
        [JsonPropertyName("owners")] public List<string>? Owners { get; set; }
        [JsonPropertyName("group")] public string? Group { get; set; }
    }

    public sealed class GrantDto
    {
        [JsonPropertyName("resource")] public string Resource { get; set; } = "";
        [JsonPropertyName("principal")] public string Principal { get; set; } = "";
        [JsonPropertyName("role")] public string Role { get; set; } = "";
    }

    /// <summary>The resolved result: kept alive by the caller so that nothing is optimised away.</summary>
    public sealed record Resolved(Document Document, int[] MemberTarget, int[] OwnerTarget, int[] ResourceGroup, int[] GrantResource, int[] GrantPrincipal);

    public static Resolved ReadFile(string path) => Run(File.ReadAllBytes(path));

    public static Resolved Run(byte[] utf8)
    {
        var doc = JsonSerializer.Deserialize<Document>(utf8, Options) ?? throw new InvalidDataException("null document");
        // The three audiences first, as in the module.
        var principals = new Dictionary<string, int>(doc.Principals.Count + 3, StringComparer.Ordinal)
        {
            ["everyone"] = 0,
            ["everyoneExceptExternal"] = 1,
            ["anyone"] = 2,
        };
        foreach (var p in doc.Principals)
        {
            if (!principals.TryAdd(p.Id, principals.Count)) throw new InvalidDataException("duplicate principal " + p.Id);
        }

        var resources = new Dictionary<string, int>(doc.Resources.Count, StringComparer.Ordinal);
        foreach (var r in doc.Resources)
        {
            if (!resources.TryAdd(r.Id, resources.Count)) throw new InvalidDataException("duplicate resource " + r.Id);
        }

        var members = new List<int>();
        foreach (var p in doc.Principals)
        {
            if (p.Members is null) continue;
            foreach (var m in p.Members) members.Add(principals[m]);
        }

        var owners = new List<int>();
        var groups = new int[doc.Resources.Count];
        for (var i = 0; i < doc.Resources.Count; i++)
        {
            var r = doc.Resources[i];
            groups[i] = r.Group is null ? -1 : principals[r.Group];
            if (r.Owners is null) continue;
            foreach (var o in r.Owners) owners.Add(principals[o]);
        }

        var grantResource = new int[doc.Grants.Count];
        var grantPrincipal = new int[doc.Grants.Count];
        for (var i = 0; i < doc.Grants.Count; i++)
        {
            grantResource[i] = resources[doc.Grants[i].Resource];
            grantPrincipal[i] = principals[doc.Grants[i].Principal];
        }

        return new Resolved(doc, members.ToArray(), owners.ToArray(), groups, grantResource, grantPrincipal);
    }
}
