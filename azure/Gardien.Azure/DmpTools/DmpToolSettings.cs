using Microsoft.Extensions.Options;

namespace Gardien.Azure.DmpTools;

/// <summary>Which API a configured DMP tool speaks.</summary>
public enum DmpToolKind
{
    /// <summary>DMP OPIDoR's REST API v1 (<c>/api/v1/madmp/...</c>).</summary>
    Opidor,

    /// <summary>The RDA Common maDMP API (<c>/dmps</c>): DAMAP and other tools.</summary>
    CommonMadmpApi,
}

/// <summary>
/// The DMP tools Gardien reads, section <c>DmpTools</c>, one entry per tool under <c>Tools</c>:
/// <c>DmpTools__Tools__opidor__Kind=Opidor</c>, <c>DmpTools__Tools__opidor__BaseUrl=https://dmp.opidor.fr/</c>, ...
/// Credentials are never settings: the settings name Key Vault secrets (read through the secret store).
/// </summary>
public sealed class DmpToolsOptions
{
    public const string SectionName = "DmpTools";

    public Dictionary<string, DmpToolSettings> Tools { get; } = new(StringComparer.OrdinalIgnoreCase);
}

public sealed class DmpToolSettings
{
    public DmpToolKind Kind { get; set; }

    /// <summary>The API's root, https.</summary>
    public Uri? BaseUrl { get; set; }

    /// <summary>
    /// DMP OPIDoR: <c>client_credentials</c> (client id and secret of an API client) or <c>authorization_code</c> (the
    /// user e-mail and code DMP OPIDoR's API page issues), sent to <c>POST /api/v1/authenticate</c>.
    /// Common maDMP API: <c>client_credentials</c> against <see cref="TokenUrl"/> (OAuth 2.0), <c>bearer</c> (a static
    /// token in <see cref="ClientSecretName"/>) or <c>none</c>.
    /// </summary>
    public string GrantType { get; set; } = "client_credentials";

    /// <summary>Secret holding the client id (DMP OPIDoR authorization_code: the account e-mail).</summary>
    public string? ClientIdSecretName { get; set; }

    /// <summary>Secret holding the client secret (authorization_code: the code; bearer: the token).</summary>
    public string? ClientSecretName { get; set; }

    /// <summary>Common maDMP API with client_credentials: the OAuth 2.0 token endpoint.</summary>
    public Uri? TokenUrl { get; set; }

    /// <summary>Common maDMP API with client_credentials: the scope asked for, if the server needs one.</summary>
    public string? Scope { get; set; }

    /// <summary>
    /// DMP OPIDoR: the plan numbers to watch. Its API has no listing, so the poller reads these plans' exports and
    /// compares their <c>modified</c>.
    /// </summary>
    public IList<string> PlanIds { get; } = [];

    /// <summary>Common maDMP API: page size of <c>GET /dmps</c> (1–100).</summary>
    public int PageSize { get; set; } = 100;

    /// <summary>Seconds one request may take before it is abandoned (and retried).</summary>
    public int TimeoutSeconds { get; set; } = 30;

    /// <summary>Tries for throttled (429) or failing (5xx) requests, honouring <c>Retry-After</c>.</summary>
    public int MaxAttempts { get; set; } = 4;
}

/// <summary>Start-up validation: every error names the app setting to fix.</summary>
internal sealed class DmpToolsOptionsValidator : IValidateOptions<DmpToolsOptions>
{
    public ValidateOptionsResult Validate(string? name, DmpToolsOptions options)
    {
        var errors = new List<string>();
        foreach (var (tool, settings) in options.Tools)
        {
            var prefix = $"{DmpToolsOptions.SectionName}__Tools__{tool}__";
            if (settings.BaseUrl is not { Scheme: "https" } && !(settings.BaseUrl is { IsLoopback: true }))
            {
                errors.Add(
                    $"{prefix}BaseUrl is required and must be an https:// URL (credentials travel with every request); "
                    + $"got '{settings.BaseUrl}'.");
            }

            var grant = settings.GrantType.ToLowerInvariant();
            var grants = settings.Kind == DmpToolKind.Opidor
                ? new[] { "client_credentials", "authorization_code" }
                : ["client_credentials", "bearer", "none"];
            if (!grants.Contains(grant))
            {
                errors.Add(
                    $"{prefix}GrantType '{settings.GrantType}' is not supported for {settings.Kind}: use {string.Join(" or ", grants)}.");
            }

            if (grant is "client_credentials" or "authorization_code" && string.IsNullOrWhiteSpace(settings.ClientIdSecretName))
            {
                errors.Add(
                    $"{prefix}ClientIdSecretName is required with GrantType {grant}: "
                    + $"name the Key Vault secret that holds the {(grant == "authorization_code" ? "account e-mail" : "client id")}.");
            }

            if (grant is not "none" && string.IsNullOrWhiteSpace(settings.ClientSecretName))
            {
                errors.Add(
                    $"{prefix}ClientSecretName is required with GrantType {grant}: "
                    + $"name the Key Vault secret that holds the {(grant == "bearer" ? "token" : "secret")}.");
            }

            if (settings.Kind == DmpToolKind.CommonMadmpApi
                && grant == "client_credentials"
                && settings.TokenUrl is not { Scheme: "https" }
                && !(settings.TokenUrl is { IsLoopback: true }))
            {
                errors.Add(
                    $"{prefix}TokenUrl is required with GrantType client_credentials and must be an https:// URL (the OAuth 2.0 token "
                    + "endpoint).");
            }

            if (settings.Kind == DmpToolKind.Opidor && settings.PlanIds.Count == 0)
            {
                errors.Add(
                    $"{prefix}PlanIds is empty: DMP OPIDoR's API cannot list plans, "
                    + $"so name the plan numbers to watch (DmpTools__Tools__{tool}__PlanIds__0=1234).");
            }

            if (settings.PageSize is < 1 or > 100)
            {
                errors.Add($"{prefix}PageSize must be between 1 and 100 (the Common maDMP API's limit); got {settings.PageSize}.");
            }

            if (settings.TimeoutSeconds is < 1 or > 600 || settings.MaxAttempts is < 1 or > 10)
            {
                errors.Add($"{prefix}TimeoutSeconds must be 1–600 and {prefix}MaxAttempts 1–10.");
            }
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
