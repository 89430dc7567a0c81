using System.Text;
using System.Text.Json;

namespace Gardien.Workflows.Hosting;

/// <summary>
/// The signed-in person behind an HTTP request to the Azure Functions app, as App Service authentication (Easy Auth)
/// with Microsoft Entra ID reports it in the <c>X-MS-CLIENT-PRINCIPAL</c> header: base64 of
/// <c>{"auth_typ":"aad","claims":[{"typ":…,"val":…}],"name_typ":…,"role_typ":…}</c>. The platform strips that header
/// from incoming requests and sets it itself, so it can be trusted when authentication is on (the deployment turns it
/// on for the approval endpoints). A decision's identity comes from here, never from a query or form parameter.
/// </summary>
public static class EntraSignIn
{
    public const string PrincipalHeader = "X-MS-CLIENT-PRINCIPAL";

    // In order of preference: the sign-in name Entra shows, then the mail claims, then the UPN.
    private static readonly string[] IdentityClaims =
    [
        "preferred_username",
        "email",
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
        "upn",
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn",
    ];

    /// <summary>The signed-in person as an actor ("user:e-mail"), or null when the request carries no Entra sign-in.</summary>
    /// <param name="header">Reads a request header by name (case-insensitive), null when absent.</param>
    public static string? ActorOf(Func<string, string?> header)
    {
        ArgumentNullException.ThrowIfNull(header);
        var encoded = header(PrincipalHeader);
        if (string.IsNullOrWhiteSpace(encoded))
        {
            return null;
        }

        try
        {
            var buffer = new byte[encoded.Length];
            if (!Convert.TryFromBase64String(encoded.Trim(), buffer, out var written))
            {
                return null;
            }

            using var document = JsonDocument.Parse(Encoding.UTF8.GetString(buffer, 0, written));
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("auth_typ", out var authType)
                || !string.Equals(authType.GetString(), "aad", StringComparison.OrdinalIgnoreCase)
                || !root.TryGetProperty("claims", out var claims) || claims.ValueKind != JsonValueKind.Array)
            {
                return null;
            }

            var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var claim in claims.EnumerateArray())
            {
                if (claim.ValueKind == JsonValueKind.Object
                    && claim.TryGetProperty("typ", out var type)
                    && claim.TryGetProperty("val", out var value)
                    && type.GetString() is { Length: > 0 } name && value.GetString() is { Length: > 0 } text)
                {
                    values.TryAdd(name, text);
                }
            }

            var nameType = root.TryGetProperty("name_typ", out var nt) ? nt.GetString() : null;
            var identity = IdentityClaims.Select(values.GetValueOrDefault)
                .FirstOrDefault(v => v is not null && v.Contains('@', StringComparison.Ordinal))
                ?? (nameType is null ? null : values.GetValueOrDefault(nameType));
            return string.IsNullOrWhiteSpace(identity) ? null : "user:" + identity.Trim();
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
