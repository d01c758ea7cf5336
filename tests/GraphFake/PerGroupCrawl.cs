using System.Net.Http.Headers;
using System.Text.Json;

namespace AgentGovernance.GraphFake;

/// <summary>
/// The baseline an export is measured against: the same directory read the obvious way, listing
/// every group's members one group at a time (GET /groups/{id}/members, each page followed), with
/// the users, groups and service principals listed at the largest page size. Plain HttpClient, one
/// request after another; it counts nothing itself (the server's request log does).
/// </summary>
public static class PerGroupCrawl
{
    public static async Task<int> RunAsync(string baseUrl, string token)
    {
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var groups = new List<string>();
        await ListAsync(http, baseUrl + "/users?$select=id,displayName,userPrincipalName,userType,accountEnabled&$top=999", _ => { }).ConfigureAwait(false);
        await ListAsync(http, baseUrl + "/groups?$select=id,displayName,visibility,groupTypes&$top=999", g => groups.Add(g.GetProperty("id").GetString()!)).ConfigureAwait(false);
        await ListAsync(http, baseUrl + "/servicePrincipals/delta?$select=id,displayName,appId", _ => { }).ConfigureAwait(false);
        var members = 0;
        foreach (var g in groups)
        {
            await ListAsync(http, $"{baseUrl}/groups/{g}/members?$select=id&$top=999", _ => members++).ConfigureAwait(false);
        }

        return members;
    }

    private static async Task ListAsync(HttpClient http, string url, Action<JsonElement> each)
    {
        for (string? next = url; next is not null;)
        {
            using var response = await http.GetAsync(next).ConfigureAwait(false);
            response.EnsureSuccessStatusCode();
            using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync().ConfigureAwait(false));
            foreach (var item in doc.RootElement.GetProperty("value").EnumerateArray()) each(item);
            next = doc.RootElement.TryGetProperty("@odata.nextLink", out var n) ? n.GetString() : doc.RootElement.TryGetProperty("@odata.deltaLink", out _) ? null : null;
        }
    }
}
