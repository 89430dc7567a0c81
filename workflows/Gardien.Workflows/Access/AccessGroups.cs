using Gardien.Workflows.Ports;

namespace Gardien.Workflows.Access;

/// <summary>
/// Access to a dataset goes through one directory group per container and access level, holding the members and
/// carrying the role assignment on the container: membership is what grants and revocations change.
/// </summary>
public static class AccessGroups
{
    public static string GroupName(string container, AccessLevel level) => $"{container}-{level.ToString().ToLowerInvariant()}s";

    public static string Description(string dmpId, string datasetId, AccessLevel level) =>
        $"Gardien: {level} access to dataset '{datasetId}' of DMP '{dmpId}'";

    /// <summary>Resolves a person by directory id, then e-mail, then ORCID; null when the directory does not know them.</summary>
    public static async Task<DirectoryUser?> ResolveUserAsync(
        IDirectory directory,
        string? principalId,
        string? email,
        string? orcid,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(directory);
        if (!string.IsNullOrWhiteSpace(principalId) && await directory.GetUserAsync(principalId, cancellationToken) is { } byId)
        {
            return byId;
        }

        if (!string.IsNullOrWhiteSpace(email) && await directory.FindUserAsync(email, cancellationToken) is { } byEmail)
        {
            return byEmail;
        }

        return !string.IsNullOrWhiteSpace(orcid) ? await directory.FindUserAsync(orcid, cancellationToken) : null;
    }
}
