using System.Security.Cryptography;
using System.Text;

namespace Gardien.Azure.Graph;

/// <summary>Deterministic Entra ID names for Gardien's groups, so that the same dataset and level always find the same group.</summary>
public static class GraphNames
{
    public const int MaxMailNicknameLength = 64;

    /// <summary>
    /// The group's <c>mailNickname</c> (also its <c>uniqueName</c>): the port's group name with the characters Entra ID
    /// refuses replaced by '-', shortened to 64 characters with a hash of the full name when longer.
    /// </summary>
    public static string MailNickname(string groupName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(groupName);
        var clean = new string(
            [.. groupName.Select(
                c => c < 128 && !char.IsControl(c) && !"@()\\[]\";:<>, ".Contains(c, StringComparison.Ordinal) ? c : '-')]);
        if (clean.Length <= MaxMailNicknameLength)
        {
            return clean;
        }

        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(groupName)))[..12];
        return clean[..(MaxMailNicknameLength - hash.Length - 1)].TrimEnd('-') + "-" + hash;
    }

    /// <summary>
    /// The OData reference of a directory object (<c>{base}/directoryObjects/{id}</c>) for <c>@odata.id</c> and <c>@odata.bind</c>.
    /// </summary>
    public static string DirectoryObjectReference(Uri baseUrl, string id)
    {
        ArgumentNullException.ThrowIfNull(baseUrl);
        return $"{baseUrl.AbsoluteUri.TrimEnd('/')}/directoryObjects/{Uri.EscapeDataString(id)}";
    }

    /// <summary>An OData string literal: quotes doubled.</summary>
    public static string Literal(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";
}
