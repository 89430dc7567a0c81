namespace Gardien.Workflows.Http;

/// <summary>
/// The routes both hosts serve, under <c>/api</c> (the Functions app's route prefix). Who may call what:
/// <list type="table">
/// <item><term><c>POST /api/dmps</c></term><description>write: a function key in Azure, the API key locally.</description></item>
/// <item><term><c>GET /api/dmps</c>, <c>GET /api/dmps/{dmpId}</c>, <c>GET /api/workflows/{instanceId}</c></term>
/// <description>read: a function key in Azure; locally, from this machine only (or with the API key).</description></item>
/// <item><term><c>GET|POST /api/approvals/{token}</c></term><description>the signed link is the authorisation; in Azure
/// also the Entra sign-in of the approver, a delegate or a person allowed on their behalf.</description></item>
/// <item><term><c>GET /api/health</c></term><description>anonymous.</description></item>
/// <item><term><c>POST|OPTIONS /api/events</c></term><description>local only (Azure delivers events through queues): the API
/// key.</description></item>
/// </list>
/// </summary>
public static class GardienRoutes
{
    public const string Dmps = "/api/dmps";
    public const string Workflows = "/api/workflows";
    public const string Approvals = "/api/approvals";
    public const string Health = "/api/health";
    public const string Events = "/api/events";

    /// <summary>The URL path of one DMP: its id URL-encoded as one segment.</summary>
    public static string DmpPath(string dmpId) => $"{Dmps}/{Uri.EscapeDataString(dmpId)}";

    public static string WorkflowPath(string instanceId) => $"{Workflows}/{Uri.EscapeDataString(instanceId)}";

    /// <summary>
    /// An id from a route value: decoded once more, since hosts leave an encoded slash (<c>%2F</c>) encoded in paths;
    /// null when empty.
    /// </summary>
    public static string? DecodeId(string? routeValue)
    {
        if (string.IsNullOrWhiteSpace(routeValue))
        {
            return null;
        }

        try
        {
            return Uri.UnescapeDataString(routeValue).Trim();
        }
        catch (UriFormatException)
        {
            return routeValue.Trim();
        }
    }
}
