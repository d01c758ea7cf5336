using System;
using System.Security;

namespace AgentGovernance.Providers.Graph;

/// <summary>The Microsoft Graph clouds: each has its own Graph endpoint and sign-in authority.</summary>
[Newtonsoft.Json.JsonConverter(typeof(Newtonsoft.Json.Converters.StringEnumConverter))]
public enum GraphEnvironment
{
    Global,
    USGov,
    USGovDoD,
    China,
}

/// <summary>How Connect-AgentGovernance signs in to Microsoft Graph.</summary>
[Newtonsoft.Json.JsonConverter(typeof(Newtonsoft.Json.Converters.StringEnumConverter))]
public enum GraphSignIn
{
    AccessToken,
    ClientSecret,
    Certificate,
    ManagedIdentity,
    DeviceCode,
    InteractiveBrowser,
}

/// <summary>
/// What a Graph connection needs: the tenant, the sign-in, and where Graph is. Only framework types
/// (strings, SecureString, Uri) so that it crosses into the module's own load context unchanged.
/// </summary>
public sealed class GraphConnectionOptions
{
    public GraphConnectionOptions(string tenantId, GraphSignIn signIn)
    {
        TenantId = tenantId ?? throw new ArgumentNullException(nameof(tenantId));
        SignIn = signIn;
    }

    public string TenantId { get; }

    public GraphSignIn SignIn { get; }

    public GraphEnvironment Environment { get; set; } = GraphEnvironment.Global;

    /// <summary>The Graph base URL including the version (https://graph.microsoft.com/v1.0); null: the environment's.</summary>
    public Uri? GraphEndpoint { get; set; }

    /// <summary>The application (client) id: required for secret, certificate, device code and browser sign-in; a user-assigned managed identity's client id.</summary>
    public string? ClientId { get; set; }

    public SecureString? AccessToken { get; set; }

    public SecureString? ClientSecret { get; set; }

    /// <summary>A certificate with its private key in CurrentUser\My or LocalMachine\My.</summary>
    public string? CertificateThumbprint { get; set; }

    /// <summary>A .pfx/.pem file with the private key.</summary>
    public string? CertificatePath { get; set; }

    public SecureString? CertificatePassword { get; set; }

    /// <summary>How long one HTTP request may take before it fails with GraphTimeout.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(100);

    /// <summary>How often a throttled (429) or unavailable (503, 504) request is tried again.</summary>
    public int MaxRetries { get; set; } = 5;

    /// <summary>Where device-code sign-in tells the user what to do (the cmdlet writes it to the host).</summary>
    public Action<string>? ShowMessage { get; set; }

    /// <summary>
    /// Given the sign-in's credential once it is made, so the table store can sign in with it too
    /// (-StoreGraphSignIn); not called for -AccessToken, which holds a token for Graph alone.
    /// </summary>
    public Action<IEntraTokenSource>? SignedIn { get; set; }

    /// <summary>The Graph base URL of an environment (v1.0).</summary>
    public static Uri DefaultEndpoint(GraphEnvironment environment) => new(environment switch
    {
        GraphEnvironment.USGov => "https://graph.microsoft.us/v1.0",
        GraphEnvironment.USGovDoD => "https://dod-graph.microsoft.us/v1.0",
        GraphEnvironment.China => "https://microsoftgraph.chinacloudapi.cn/v1.0",
        _ => "https://graph.microsoft.com/v1.0",
    });

    /// <summary>The Microsoft Entra sign-in authority of an environment.</summary>
    public static Uri Authority(GraphEnvironment environment) => new(environment switch
    {
        GraphEnvironment.USGov or GraphEnvironment.USGovDoD => "https://login.microsoftonline.us/",
        GraphEnvironment.China => "https://login.chinacloudapi.cn/",
        _ => "https://login.microsoftonline.com/",
    });

    public Uri Endpoint => GraphEndpoint ?? DefaultEndpoint(Environment);
}
