using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace Gardien.Azure.Arm;

/// <summary>
/// The research-data storage account, section <c>ResearchData</c> (app settings <c>ResearchData__resourceId</c>,
/// <c>ResearchData__blobServiceUri</c>, ...). Identity-based only: there is no key or connection-string setting.
/// </summary>
public sealed partial class ResearchStorageOptions
{
    public const string SectionName = "ResearchData";

    /// <summary>
    /// ARM resource id of the account: <c>/subscriptions/{id}/resourceGroups/{rg}/providers/Microsoft.Storage/storageAccounts/{name}</c>.
    /// </summary>
    public string? ResourceId { get; set; }

    /// <summary>Blob endpoint of the account; defaults to <c>https://{name}.blob.core.windows.net/</c>.</summary>
    public Uri? BlobServiceUri { get; set; }

    /// <summary>Azure Resource Manager endpoint; another cloud's (or a test fake's) when set.</summary>
    public Uri ResourceManagerEndpoint { get; set; } = new("https://management.azure.com/");

    /// <summary>
    /// Client id of the user-assigned managed identity; when empty, <c>AZURE_CLIENT_ID</c> (DefaultAzureCredential) decides.
    /// </summary>
    public string? ClientId { get; set; }

    /// <summary>Days without modification after which governed blobs move to the cool tier (lifecycle rule); null: never.</summary>
    public int? TierToCoolAfterDays { get; set; }

    /// <summary>Days without modification after which governed blobs move to the archive tier (lifecycle rule); null: never.</summary>
    public int? TierToArchiveAfterDays { get; set; }

    /// <summary>Parsed <see cref="ResourceId"/>; valid only after validation.</summary>
    internal StorageAccountId Account => StorageAccountId.Parse(ResourceId!);

    internal Uri EffectiveBlobServiceUri => BlobServiceUri ?? new Uri($"https://{Account.AccountName}.blob.core.windows.net/");

    internal static bool TryParse(string? resourceId, out StorageAccountId id)
    {
        var match = resourceId is null ? null : ResourceIdPattern().Match(resourceId.Trim());
        id = match is { Success: true }
            ? new StorageAccountId(match.Groups[1].Value, match.Groups[2].Value, match.Groups[3].Value)
            : default;
        return match is { Success: true };
    }

    [GeneratedRegex(
        "^/subscriptions/([0-9A-Fa-f-]{36})/resourceGroups/([-\\w\\._\\(\\)]{1,90})/"
        + "providers/Microsoft\\.Storage/storageAccounts/([a-z0-9]{3,24})$",
        RegexOptions.IgnoreCase)]
    private static partial Regex ResourceIdPattern();
}

/// <summary>The account's coordinates in ARM.</summary>
internal readonly record struct StorageAccountId(string SubscriptionId, string ResourceGroup, string AccountName)
{
    public string ResourceId =>
        $"/subscriptions/{SubscriptionId}/resourceGroups/{ResourceGroup}/providers/Microsoft.Storage/storageAccounts/{AccountName}";

    public string ContainerId(string container) => $"{ResourceId}/blobServices/default/containers/{container}";

    public static StorageAccountId Parse(string resourceId) =>
        ResearchStorageOptions.TryParse(resourceId, out var id)
            ? id
            : throw new FormatException($"'{resourceId}' is not a storage account resource id.");
}

/// <summary>Start-up validation: every error names the app setting to fix.</summary>
internal sealed class ResearchStorageOptionsValidator : IValidateOptions<ResearchStorageOptions>
{
    private const string Prefix = ResearchStorageOptions.SectionName + "__";

    public ValidateOptionsResult Validate(string? name, ResearchStorageOptions options)
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(options.ResourceId))
        {
            errors.Add(
                $"{Prefix}resourceId is required: set it to the research account's ARM resource id "
                + "(/subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.Storage/storageAccounts/<name>); "
                + "infra-bicep outputs it as storage-research resourceId.");
        }
        else if (!ResearchStorageOptions.TryParse(options.ResourceId, out _))
        {
            errors.Add(
                $"{Prefix}resourceId '{options.ResourceId}' is not a storage account resource id: "
                + "expected /subscriptions/<guid>/resourceGroups/<rg>/providers/Microsoft.Storage/storageAccounts/<3-24 lower-case letters "
                + "and digits>.");
        }

        if (options.BlobServiceUri is { } blob && blob.Scheme != Uri.UriSchemeHttps)
        {
            errors.Add($"{Prefix}blobServiceUri must be an https:// URL (tokens are never sent over plain HTTP); got '{blob}'.");
        }

        if (options.ResourceManagerEndpoint is not { Scheme: "https" })
        {
            errors.Add($"{Prefix}resourceManagerEndpoint must be an https:// URL; got '{options.ResourceManagerEndpoint}'.");
        }

        foreach (var (key, days) in new[]
        {
            ("tierToCoolAfterDays", options.TierToCoolAfterDays),
            ("tierToArchiveAfterDays", options.TierToArchiveAfterDays),
        })
        {
            if (days is < 0 or > 99_999)
            {
                errors.Add($"{Prefix}{key} must be between 0 and 99999 days; got {days}.");
            }
        }

        if (options is { TierToCoolAfterDays: { } cool, TierToArchiveAfterDays: { } archive } && archive <= cool)
        {
            errors.Add($"{Prefix}tierToArchiveAfterDays ({archive}) must be greater than {Prefix}tierToCoolAfterDays ({cool}).");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
