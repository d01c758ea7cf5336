using System;

namespace AgentGovernance.Stores;

/// <summary>How to sign in to an Azure Table Storage store.</summary>
public enum TableCredentialKind
{
    /// <summary>A storage connection string (account key, or a SAS in it); Azurite's too.</summary>
    ConnectionString,

    /// <summary>A shared access signature for the table (writers need Add and Read; nothing more).</summary>
    Sas,

    /// <summary>Entra: the managed identity of the machine (system-assigned, or the user-assigned one named by ClientId).</summary>
    ManagedIdentity,

    /// <summary>Entra: an application's certificate (TenantId, ClientId and a PFX/PEM file).</summary>
    Certificate,

    /// <summary>Entra: the credential the session signed in to Microsoft Graph with (Connect-AgentGovernance -TenantId).</summary>
    GraphSignIn,

    /// <summary>Entra: an OAuth access token for https://storage.azure.com/ that the caller got elsewhere.</summary>
    AccessToken,
}

/// <summary>Where an Azure Table Storage store is and how to reach it. Secrets are held only in memory.</summary>
public sealed class TableStoreOptions
{
    /// <summary>The table's service endpoint (https://account.table.core.windows.net/ or Azurite's), unless a connection string gives it.</summary>
    public Uri? Endpoint { get; set; }

    /// <summary>The table that holds the store (3 to 63 letters and digits, starting with a letter).</summary>
    public string Table { get; set; } = "AgentGovernance";

    public TableCredentialKind Credential { get; set; } = TableCredentialKind.ConnectionString;

    public string? ConnectionString { get; set; }

    /// <summary>The SAS token (the query string, with or without its leading '?').</summary>
    public string? SasToken { get; set; }

    public string? AccessToken { get; set; }

    public DateTimeOffset AccessTokenExpiresOn { get; set; } = DateTimeOffset.MaxValue;

    public string? TenantId { get; set; }

    public string? ClientId { get; set; }

    public string? CertificatePath { get; set; }

    public string? CertificatePassword { get; set; }

    /// <summary>For <see cref="TableCredentialKind.GraphSignIn"/>: the Graph connection's credential (plain types across the two load contexts).</summary>
    public Providers.IEntraTokenSource? TokenSource { get; set; }

    /// <summary>When the store is created by this open, the id to give it (Copy-GovernanceStore keeps the source's, as the ledger's genesis is chained to it).</summary>
    public string? StoreIdForNew { get; set; }

    /// <summary>How many times a request that failed with 503 ServerBusy, 500 or a timeout is retried.</summary>
    public int MaxRetries { get; set; } = 6;

    /// <summary>How long one request may take before it counts as timed out (and is retried).</summary>
    public TimeSpan NetworkTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long a request lock (a lease entity) lasts without renewal; the holder renews it every third of
    /// this. A holder that dies blocks the request this long, and no longer: then another process takes it over.
    /// </summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The shortest lease: renewed every third of it, a shorter one would not survive one slow round-trip.</summary>
    public static readonly TimeSpan MinLeaseDuration = TimeSpan.FromSeconds(3);

    /// <summary>The longest lease: a holder that dies blocks its request this long.</summary>
    public static readonly TimeSpan MaxLeaseDuration = TimeSpan.FromMinutes(10);

    /// <summary>StoreLeaseDurationInvalid unless the lease lasts <see cref="MinLeaseDuration"/> to <see cref="MaxLeaseDuration"/>.</summary>
    public static void CheckLeaseDuration(TimeSpan duration)
    {
        if (duration < MinLeaseDuration || duration > MaxLeaseDuration)
        {
            throw new GovernanceException("StoreLeaseDurationInvalid", GovernanceErrorKind.InvalidArgument,
                $"A request lock's lease on the table store lasts {MinLeaseDuration.TotalSeconds:0} s to {MaxLeaseDuration.TotalMinutes:0} min, not " +
                $"{duration.TotalSeconds.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture)} s.", duration.ToString());
        }
    }

    /// <summary>Where it is, for people: endpoint and table, never a secret.</summary>
    public string Describe()
    {
        var endpoint = Endpoint?.GetLeftPart(UriPartial.Path) ?? EndpointFromConnectionString(ConnectionString) ?? "(no endpoint)";
        return endpoint.TrimEnd('/') + "/" + Table;
    }

    internal static string? EndpointFromConnectionString(string? cs)
    {
        if (cs is null)
        {
            return null;
        }

        string? account = null;
        foreach (var part in cs.Split(';'))
        {
            var eq = part.IndexOf('=');
            if (eq <= 0)
            {
                continue;
            }

            var key = part.Substring(0, eq).Trim();
            var value = part.Substring(eq + 1).Trim();
            if (key.Equals("TableEndpoint", StringComparison.OrdinalIgnoreCase))
            {
                return value;
            }

            if (key.Equals("UseDevelopmentStorage", StringComparison.OrdinalIgnoreCase) && value.Equals("true", StringComparison.OrdinalIgnoreCase))
            {
                return "http://127.0.0.1:10002/devstoreaccount1";
            }

            if (key.Equals("AccountName", StringComparison.OrdinalIgnoreCase))
            {
                account = value;
            }
        }

        return account is null ? null : $"https://{account}.table.core.windows.net";
    }
}
