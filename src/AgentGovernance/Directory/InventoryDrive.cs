namespace AgentGovernance.Directory;

/// <summary>
/// One drive of a permission inventory (snapshot@2): the site it belongs to, the delta link that
/// continues its crawl (-Update), and when it was crawled.
/// </summary>
public sealed class InventoryDrive
{
    public InventoryDrive(string id, string site, string deltaLink, string crawledAt)
    {
        Id = id;
        Site = site;
        DeltaLink = deltaLink;
        CrawledAt = crawledAt;
    }

    /// <summary>The Graph drive id.</summary>
    public string Id { get; }

    /// <summary>The resource id of the drive's site (sites/{site-id}).</summary>
    public string Site { get; }

    /// <summary>The @odata.deltaLink the drive's last crawl ended with.</summary>
    public string DeltaLink { get; }

    /// <summary>When the drive's last crawl ended (ISO 8601, UTC).</summary>
    public string CrawledAt { get; }
}
