using System;
using System.Collections.Generic;
using System.Linq;

namespace AgentGovernance.Suggestions;

/// <summary>
/// Microsoft Graph PowerShell (v1.0 and beta) and the web request cmdlets. Graph cmdlets are
/// generated from the API: named parameters only, path ids ({Entity}Id), the body either as
/// -BodyParameter (a hashtable with the API's property names) or as one parameter per property
/// (PascalCase), plus -AdditionalProperties. Each maps onto the request it sends, so a cmdlet and an
/// Invoke-MgGraphRequest call to the same endpoint are read by one mapper (<see cref="GraphMapper"/>).
/// </summary>
internal static partial class CommandCatalog
{
    /// <summary>Parameters every generated Graph cmdlet has that do not change what it does.</summary>
    private static readonly string[] GraphCommon =
    {
        "ResponseHeadersVariable|RHV", "!Break", "Headers", "Proxy", "ProxyCredential", "!ProxyUseDefaultCredentials", "!PassThru", "IfMatch",
    };

    private const string Pipeline = "adds .NET steps to the HTTP pipeline, which run code this cmdlet cannot read";
    private const string Identity = "names its object through an identity object, which is only known when the script runs; give the id parameters instead";

    private static readonly string[] AppRoleBody = { "AppRoleId", "PrincipalId", "ResourceId", "PrincipalDisplayName", "ResourceDisplayName", "PrincipalType", "CreatedDateTime", "DeletedDateTime", "Id" };
    private static readonly string[] PermissionBody = { "Roles", "GrantedTo", "GrantedToV2", "GrantedToIdentities", "GrantedToIdentitiesV2", "ExpirationDateTime", "HasPassword", "Id", "InheritedFrom", "Invitation", "Link", "ShareId" };
    private static readonly string[] ScheduleBody = { "Action", "PrincipalId", "RoleDefinitionId", "DirectoryScopeId", "AppScopeId", "Justification", "ScheduleInfo", "TicketInfo", "IsValidationOnly", "Id" };

    private static void AddGraph()
    {
        GraphCmdlet("New-MgGroupMember", "POST", "groups/{GroupId}/members/$ref", "DirectoryObjectId");
        GraphCmdlet("New-MgGroupMemberByRef", "POST", "groups/{GroupId}/members/$ref", "OdataId");
        GraphCmdlet("Remove-MgGroupMemberByRef", "DELETE", "groups/{GroupId}/members/{DirectoryObjectId}/$ref");
        GraphCmdlet("Remove-MgGroupMemberDirectoryObjectByRef", "DELETE", "groups/{GroupId}/members/{DirectoryObjectId}/$ref");
        GraphCmdlet("New-MgGroupOwnerByRef", "POST", "groups/{GroupId}/owners/$ref", "OdataId");
        GraphCmdlet("New-MgGroupOwner", "POST", "groups/{GroupId}/owners/$ref", "DirectoryObjectId");
        GraphCmdlet("Remove-MgGroupOwnerByRef", "DELETE", "groups/{GroupId}/owners/{DirectoryObjectId}/$ref");
        GraphCmdlet("Update-MgGroup", "PATCH", "groups/{GroupId}",
            "Visibility", "DisplayName", "Description", "MailNickname", "MembershipRule", "MembershipRuleProcessingState", "GroupTypes",
            "SecurityEnabled", "MailEnabled", "IsAssignableToRole", "Classification", "Members", "Owners", "AssignedLabels");
        GraphCmdlet("Remove-MgGroup", "DELETE", "groups/{GroupId}");
        GraphCmdlet("New-MgRoleManagementDirectoryRoleAssignment", "POST", "roleManagement/directory/roleAssignments",
            "PrincipalId", "RoleDefinitionId", "DirectoryScopeId", "AppScopeId", "Condition", "Id", "Principal", "RoleDefinition", "DirectoryScope", "AppScope");
        GraphCmdlet("Remove-MgRoleManagementDirectoryRoleAssignment", "DELETE", "roleManagement/directory/roleAssignments/{UnifiedRoleAssignmentId}");
        GraphCmdlet("New-MgRoleManagementDirectoryRoleAssignmentScheduleRequest", "POST", "roleManagement/directory/roleAssignmentScheduleRequests", ScheduleBody);
        GraphCmdlet("New-MgRoleManagementDirectoryRoleEligibilityScheduleRequest", "POST", "roleManagement/directory/roleEligibilityScheduleRequests", ScheduleBody);
        GraphCmdlet("New-MgServicePrincipalAppRoleAssignedTo", "POST", "servicePrincipals/{ServicePrincipalId}/appRoleAssignedTo", AppRoleBody);
        GraphCmdlet("New-MgServicePrincipalAppRoleAssignment", "POST", "servicePrincipals/{ServicePrincipalId}/appRoleAssignments", AppRoleBody);
        GraphCmdlet("New-MgUserAppRoleAssignment", "POST", "users/{UserId}/appRoleAssignments", AppRoleBody);
        GraphCmdlet("New-MgGroupAppRoleAssignment", "POST", "groups/{GroupId}/appRoleAssignments", AppRoleBody);
        GraphCmdlet("Remove-MgServicePrincipalAppRoleAssignedTo", "DELETE", "servicePrincipals/{ServicePrincipalId}/appRoleAssignedTo/{AppRoleAssignmentId}");
        GraphCmdlet("Remove-MgServicePrincipalAppRoleAssignment", "DELETE", "servicePrincipals/{ServicePrincipalId}/appRoleAssignments/{AppRoleAssignmentId}");
        GraphCmdlet("Remove-MgUserAppRoleAssignment", "DELETE", "users/{UserId}/appRoleAssignments/{AppRoleAssignmentId}");
        GraphCmdlet("Remove-MgGroupAppRoleAssignment", "DELETE", "groups/{GroupId}/appRoleAssignments/{AppRoleAssignmentId}");
        GraphCmdlet("New-MgOauth2PermissionGrant", "POST", "oauth2PermissionGrants", "ClientId", "ConsentType", "PrincipalId", "ResourceId", "Scope", "Id");
        GraphCmdlet("Update-MgOauth2PermissionGrant", "PATCH", "oauth2PermissionGrants/{OAuth2PermissionGrantId}", "Scope");
        GraphCmdlet("Remove-MgOauth2PermissionGrant", "DELETE", "oauth2PermissionGrants/{OAuth2PermissionGrantId}");
        GraphCmdlet("New-MgSitePermission", "POST", "sites/{SiteId}/permissions", PermissionBody);
        GraphCmdlet("Update-MgSitePermission", "PATCH", "sites/{SiteId}/permissions/{PermissionId}", PermissionBody);
        GraphCmdlet("Remove-MgSitePermission", "DELETE", "sites/{SiteId}/permissions/{PermissionId}");
        GraphCmdlet("New-MgDriveItemLink", "POST", "drives/{DriveId}/items/{DriveItemId}/createLink",
            "Type", "Scope", "ExpirationDateTime", "Message", "Password", "Recipients", "!RetainInheritedPermissions", "!SendNotification");
        GraphCmdlet("Invoke-MgInviteDriveItem", "POST", "drives/{DriveId}/items/{DriveItemId}/invite",
            "Recipients", "Roles", "!RequireSignIn", "!SendInvitation", "Message", "ExpirationDateTime", "Password", "!RetainInheritedPermissions");
        GraphCmdlet("New-MgDriveItemPermission", "POST", "drives/{DriveId}/items/{DriveItemId}/permissions", PermissionBody);
        GraphCmdlet("Remove-MgDriveItemPermission", "DELETE", "drives/{DriveId}/items/{DriveItemId}/permissions/{PermissionId}");
        GraphCmdlet("New-MgTeamMember", "POST", "teams/{TeamId}/members", "Roles", "DisplayName", "VisibleHistoryStartDateTime", "Id");
        GraphCmdlet("Remove-MgTeamMember", "DELETE", "teams/{TeamId}/members/{ConversationMemberId}");
        GraphCmdlet("New-MgInvitation", "POST", "invitations", "InvitedUserEmailAddress", "InviteRedirectUrl", "InvitedUserDisplayName", "!SendInvitationMessage", "InvitedUserType", "InvitedUserMessageInfo");

        var webCommon = new[]
        {
            "Headers", "ContentType", "OutFile", "!PassThru", "WebSession", "SessionVariable|SV", "Credential", "!UseDefaultCredentials",
            "Authentication", "Token", "!UseBasicParsing", "TimeoutSec", "MaximumRedirection", "MaximumRetryCount", "RetryIntervalSec", "Proxy",
            "ProxyCredential", "!ProxyUseDefaultCredentials", "UserAgent", "!DisableKeepAlive", "TransferEncoding", "!SkipCertificateCheck",
            "!SkipHeaderValidation", "!SkipHttpErrorCheck", "SslProtocol", "StatusCodeVariable", "ResponseHeadersVariable|RHV",
            "!FollowRelLink|FL", "MaximumFollowRelLink|ML", "!PreserveAuthorizationOnRedirect", "!AllowUnencryptedAuthentication", "!NoProxy",
            "!Resume", "HttpVersion", "ConnectionTimeoutSeconds", "OperationTimeoutSeconds", "CertificateThumbprint", "Certificate",
            "!AllowInsecureRedirect", "!PreserveHttpMethodOnRedirect", "UnixSocket",
        };
        foreach (var name in new[] { "Invoke-RestMethod", "Invoke-WebRequest" })
        {
            Add(new CommandSpec(name, CommandFamily.PowerShell, (c, m) => MapWebRequest(c, m, c.OptText("CustomMethod") ?? c.OptText("Method") ?? "GET", "Uri", relative: false))
                .With("Uri@0", "Method", "CustomMethod|CM", "Body", "Form")
                .Harmless(webCommon)
                .Refusing("InFile", "sends a file as the body, and what the file holds is not part of the suggestion"));
        }

        Add(new CommandSpec("Invoke-MgGraphRequest", CommandFamily.Graph, (c, m) => MapWebRequest(c, m, HttpMethod(c.OptText("Method") ?? "GET"), "Uri", relative: true))
            .With("Method@1", "Uri@2", "Body@3", "Headers@4")
            .Harmless("OutputFilePath", "!InferOutputFileName", "!PassThru", "Token", "!SkipHeaderValidation", "ContentType", "Authentication",
                "SessionVariable|SV", "ResponseHeadersVariable|RHV", "StatusCodeVariable", "!SkipHttpErrorCheck", "GraphRequestSession", "UserAgent",
                "OutputType", "!Break")
            .Refusing("InputFilePath", "sends a file as the body, and what the file holds is not part of the suggestion"));
    }

    /// <summary>
    /// Registers a generated Graph cmdlet and its beta twin (Verb-MgBetaNoun). Path placeholders
    /// {Param} are its id parameters; <paramref name="body"/> its per-property parameters ('!' for switches).
    /// </summary>
    private static void GraphCmdlet(string name, string method, string path, params string[] body)
    {
        foreach (var (cmdlet, version) in new[] { (name, "v1.0"), (name.Replace("-Mg", "-MgBeta"), "beta") })
        {
            var spec = new CommandSpec(cmdlet, CommandFamily.Graph, (c, m) => GraphMapper.Map(GraphCmdletRequest(c, method, path, version, body), m))
                .Harmless(GraphCommon)
                .Refusing("HttpPipelineAppend", Pipeline)
                .Refusing("HttpPipelinePrepend", Pipeline)
                .Refusing("InputObject", Identity);
            foreach (var p in PathParams(path))
            {
                spec.With(p);
            }

            if (body.Length > 0)
            {
                spec.With("BodyParameter", "AdditionalProperties").With(body);
            }

            Add(spec);
        }
    }

    private static IEnumerable<string> PathParams(string path) =>
        path.Split('/').Where(s => s.StartsWith("{", StringComparison.Ordinal)).Select(s => s.Trim('{', '}'));

    /// <summary>The request a generated Graph cmdlet sends for the parameters it was given.</summary>
    private static GraphRequest GraphCmdletRequest(BoundCommand c, string method, string path, string version, string[] body)
    {
        var segments = path.Split('/').Select(s => s.StartsWith("{", StringComparison.Ordinal) ? c.Text(s.Trim('{', '}')) : s).ToList();
        Value? content = null;
        if (c.Has("BodyParameter"))
        {
            content = ValueText.Table(c.Get("BodyParameter")!, "-BodyParameter");
        }
        else
        {
            var entries = new List<KeyValuePair<string, Value>>();
            foreach (var p in body.Select(b => b.TrimStart('!')).Where(c.Has))
            {
                var value = c.Get(p)!;
                if (p == "DirectoryObjectId" && path.EndsWith("$ref", StringComparison.Ordinal))
                {
                    // New-MgGroupMember -DirectoryObjectId x posts {"@odata.id": ".../directoryObjects/x"}.
                    entries.Add(new("@odata.id", new TextValue("https://graph.microsoft.com/" + version + "/directoryObjects/" + c.Text(p))));
                }
                else
                {
                    entries.Add(new(p == "OdataId" ? "@odata.id" : char.ToLowerInvariant(p[0]) + p.Substring(1), value));
                }
            }

            if (c.Has("AdditionalProperties"))
            {
                entries.AddRange(ValueText.Table(c.Get("AdditionalProperties")!, "-AdditionalProperties").Entries);
            }

            content = entries.Count > 0 ? new TableValue(entries) : null;
        }

        return new GraphRequest(method, segments, content, $"{c.Name} ({method} /{string.Join("/", segments)})");
    }

    private static string HttpMethod(string method) => MapContext.Is(method, "GET", "POST", "PATCH", "PUT", "DELETE", "HEAD", "OPTIONS", "MERGE", "TRACE")
        ? method
        : throw new SuggestionRefusal(SuggestionFindingKind.Unmappable,
            $"'{method}' is bound to -Method (the first position), and is not an HTTP method: PowerShell's binding of the positional arguments cannot be told; name them (-Method, -Uri, -Body).");

    /// <summary>Invoke-RestMethod, Invoke-WebRequest, Invoke-MgGraphRequest and Invoke-PnPGraphMethod: Graph requests are mapped; other writes refused.</summary>
    private static void MapWebRequest(BoundCommand c, MapContext m, string method, string uriParam, bool relative)
    {
        var uri = c.Text(uriParam);
        var body = c.Get("Body") ?? c.Get("Form") ?? c.Get("Content");
        var request = GraphRequest.FromUri(method, uri, body, relative);
        if (request is null)
        {
            if (MapContext.Is(method, "GET", "HEAD", "OPTIONS"))
            {
                m.Ignore($"{c.Name} only reads {uri}");
                return;
            }

            throw new SuggestionRefusal(SuggestionFindingKind.Unmappable,
                $"it sends {method.ToUpperInvariant()} to {uri}, which is not Microsoft Graph; what that changes cannot be told.");
        }

        GraphMapper.Map(request, m);
    }
}
