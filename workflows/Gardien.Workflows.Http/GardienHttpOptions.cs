namespace Gardien.Workflows.Http;

/// <summary>How a host serves the Gardien routes.</summary>
public sealed class GardienHttpOptions
{
    /// <summary>Largest DMP document <c>POST /api/dmps</c> accepts (413 above); the maDMP reader's own limit by default.</summary>
    public long MaxDmpBytes { get; set; } = 10 * 1024 * 1024;

    /// <summary>Largest event batch <c>POST /api/events</c> accepts (Event Grid delivers at most 1 MB per batch).</summary>
    public long MaxEventBytes { get; set; } = 1024 * 1024;

    /// <summary>Largest approval form (a comment).</summary>
    public long MaxFormBytes { get; set; } = 64 * 1024;

    /// <summary>Page size of <c>GET /api/dmps</c> when the request names none; at most <see cref="MaxPageSize"/>.</summary>
    public int DefaultPageSize { get; set; } = 50;

    public int MaxPageSize { get; set; } = 200;

    /// <summary>The approval page requires an Entra sign-in (Azure: App Service authentication). Off only for the local service.</summary>
    public bool RequireSignIn { get; set; } = true;

    /// <summary>Pages link to the local service's dashboard and inbox.</summary>
    public bool Navigation { get; set; }
}
