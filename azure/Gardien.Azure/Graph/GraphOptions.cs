using System.Text.RegularExpressions;
using Gardien.Azure.Configuration;
using Microsoft.Extensions.Options;

namespace Gardien.Azure.Graph;

/// <summary>Microsoft Graph (Entra ID users and groups), section <c>Graph</c> (<c>Graph__BaseUrl</c>, ...).</summary>
public sealed class GraphOptions
{
    public const string SectionName = "Graph";

    /// <summary>The Graph endpoint with its version: <c>https://graph.microsoft.com/v1.0</c> (a national cloud has its own host).</summary>
    public Uri BaseUrl { get; set; } = new("https://graph.microsoft.com/v1.0");

    /// <summary>
    /// The directory extension attribute holding a user's ORCID iD, e.g. <c>extension_0a1b…_orcid</c> (bare
    /// <c>0000-0002-1825-0097</c> or the https://orcid.org/ form). Empty: people are found by e-mail only.
    /// </summary>
    public string? OrcidAttribute { get; set; }

    /// <summary>
    /// Object id of the service principal made owner of the groups Gardien creates (the app's managed identity). With
    /// only <c>Group.Create</c>, a group created without an owner cannot be changed by the app afterwards.
    /// </summary>
    public string? GroupOwnerId { get; set; }

    /// <summary>
    /// Attempts of one Graph call on throttling (429, 503, 504; Retry-After honoured) and on replication delays just after a group was
    /// created.
    /// </summary>
    public int MaxAttempts { get; set; } = 5;

    /// <summary>
    /// Longest wait between two attempts, whatever Retry-After asks; a longer wait fails the call as transient so the workflow retries
    /// later.
    /// </summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>First wait when a new group is not visible yet (doubles on each attempt).</summary>
    public TimeSpan ReplicationRetryDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How long after its creation a group's "not found" is taken for replication delay and retried.</summary>
    public TimeSpan ReplicationWindow { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Time allowed for one HTTP request.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The token scope: <c>https://{Graph host}/.default</c>.</summary>
    public string Scope => $"https://{BaseUrl.Host}/.default";
}

internal sealed partial class GraphOptionsValidator : IValidateOptions<GraphOptions>
{
    public ValidateOptionsResult Validate(string? name, GraphOptions options)
    {
        var errors = new OptionsErrors(GraphOptions.SectionName);
        errors.RequireHttps(nameof(GraphOptions.BaseUrl), options.BaseUrl);
        if (options.BaseUrl is { IsAbsoluteUri: true } && options.BaseUrl.AbsolutePath.Trim('/') is not ("v1.0" or "beta"))
        {
            errors.Add(
                nameof(GraphOptions.BaseUrl), $"'{options.BaseUrl}' must end with the API version, e.g. https://graph.microsoft.com/v1.0.");
        }

        if (!string.IsNullOrWhiteSpace(options.OrcidAttribute) && !ExtensionAttribute().IsMatch(options.OrcidAttribute))
        {
            errors.Add(
                nameof(GraphOptions.OrcidAttribute),
                $"'{options.OrcidAttribute}' is not a directory extension attribute name: "
                + "expected extension_<app id without hyphens>_<name>, e.g. extension_0a1b2c3d4e5f60718293a4b5c6d7e8f9_orcid.");
        }

        if (!string.IsNullOrWhiteSpace(options.GroupOwnerId) && !Guid.TryParse(options.GroupOwnerId, out _))
        {
            errors.Add(
                nameof(GraphOptions.GroupOwnerId),
                $"'{options.GroupOwnerId}' must be the object id (a GUID) of the app's service principal.");
        }

        if (options.MaxAttempts is < 1 or > 10)
        {
            errors.Add(nameof(GraphOptions.MaxAttempts), $"{options.MaxAttempts} must be between 1 and 10.");
        }

        errors.RequirePositive(nameof(GraphOptions.MaxRetryDelay), options.MaxRetryDelay, TimeSpan.FromMinutes(5));
        errors.RequirePositive(nameof(GraphOptions.ReplicationRetryDelay), options.ReplicationRetryDelay, TimeSpan.FromMinutes(1));
        errors.RequirePositive(nameof(GraphOptions.ReplicationWindow), options.ReplicationWindow, TimeSpan.FromHours(1));
        errors.RequirePositive(nameof(GraphOptions.RequestTimeout), options.RequestTimeout, TimeSpan.FromMinutes(5));
        return errors.Result();
    }

    [GeneratedRegex("^extension_[0-9a-fA-F]{32}_[A-Za-z0-9_]{1,100}$")]
    private static partial Regex ExtensionAttribute();
}
