using System;

namespace AgentGovernance.Graph;

internal enum LiveResourceKind
{
    DriveItem,
    Site,
    DirectoryRole,
    Application,
}

/// <summary>
/// A resource id on a live tenant names the Graph object it is:
/// <c>drives/{drive-id}/items/{item-id}</c> (a file or folder), <c>sites/{site-id}</c>,
/// <c>roleDefinitions/{role-definition-id}</c> (a directory role, held as role <c>member</c>),
/// <c>servicePrincipals/{id}</c> (an application's app roles, each held as the app role's id).
/// </summary>
internal sealed class LiveResource
{
    public const string Formats = "drives/{drive-id}/items/{item-id}, sites/{site-id}, roleDefinitions/{role-definition-id} or servicePrincipals/{service-principal-id}";

    private LiveResource(string id, LiveResourceKind kind, string first, string? second)
    {
        Id = id;
        Kind = kind;
        First = first;
        Second = second;
    }

    public string Id { get; }

    public LiveResourceKind Kind { get; }

    /// <summary>The drive, site, role definition or service principal id.</summary>
    public string First { get; }

    /// <summary>The item id of a drive item.</summary>
    public string? Second { get; }

    public string Type => Kind switch
    {
        LiveResourceKind.DriveItem => "driveItem",
        LiveResourceKind.Site => "site",
        LiveResourceKind.DirectoryRole => "directoryRole",
        _ => "application",
    };

    public static LiveResource Parse(string id)
    {
        var parts = id.Split('/');
        if (parts.Length == 4 && parts[0] == "drives" && parts[2] == "items" && Ok(parts[1]) && Ok(parts[3]))
        {
            return new LiveResource(id, LiveResourceKind.DriveItem, parts[1], parts[3]);
        }

        if (parts.Length == 2 && Ok(parts[1]))
        {
            switch (parts[0])
            {
                case "sites": return new LiveResource(id, LiveResourceKind.Site, parts[1], null);
                case "roleDefinitions": return new LiveResource(id, LiveResourceKind.DirectoryRole, parts[1], null);
                case "servicePrincipals": return new LiveResource(id, LiveResourceKind.Application, parts[1], null);
            }
        }

        throw new GovernanceException("ResourceIdInvalid", GovernanceErrorKind.InvalidArgument,
            $"'{id}' is not a resource id of a live tenant. Name the Graph object: {Formats}.", id);
    }

    public static string DriveItem(string drive, string item) => $"drives/{drive}/items/{item}";

    public static string Site(string site) => $"sites/{site}";

    public static string Role(string roleDefinition) => $"roleDefinitions/{roleDefinition}";

    public static string App(string servicePrincipal) => $"servicePrincipals/{servicePrincipal}";

    private static bool Ok(string part) => part.Length > 0 && part.IndexOfAny(new[] { '?', '#', '%', ' ' }) < 0;
}
