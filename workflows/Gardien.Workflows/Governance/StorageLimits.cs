using System.Globalization;
using System.Text;

namespace Gardien.Workflows.Governance;

/// <summary>
/// Limits the storage Gardien writes to imposes on the DMP's identifiers, checked when the plan is made so that a DMP
/// that cannot be stored is refused at once, with the JSON path to fix, instead of failing at provisioning after its
/// approvals. The ids are stored percent-encoded (non-ASCII characters take 6 to 12 characters):
/// <list type="bullet">
/// <item>registry keys (Azure Table PartitionKey/RowKey: at most 1 KiB; a grant's row key holds the dataset id and the
/// person's directory id);</item>
/// <item>container metadata (<c>gardien_dmp_id</c>, <c>gardien_dataset_id</c>: all metadata of a container at most 8 KiB);</item>
/// <item>directory group descriptions (Entra ID: at most 1,024 characters) name both ids.</item>
/// </list>
/// Container names (3–63 characters) and group names derive from a hash and always fit; blob index tags (10 per blob,
/// values at most 256 characters) carry the ids shortened, for reading only. Control and invisible characters are
/// refused because ids are joined with separators (retention case ids, audit subjects) and shown to approvers.
/// </summary>
public static class StorageLimits
{
    /// <summary>At most this many characters in a dmp_id or dataset_id.</summary>
    public const int MaxIdentifierLength = 255;

    /// <summary>At most this many characters once percent-encoded (as stored in table keys and metadata).</summary>
    public const int MaxEncodedIdentifierLength = 400;

    /// <summary>Null when the id can be stored; otherwise what is wrong and how to fix it.</summary>
    public static string? IdentifierProblem(string id, string field)
    {
        ArgumentNullException.ThrowIfNull(id);
        foreach (var rune in id.EnumerateRunes())
        {
            if (Rune.GetUnicodeCategory(
                rune) is UnicodeCategory.Control
                    or UnicodeCategory.Format
                    or UnicodeCategory.LineSeparator
                    or UnicodeCategory.ParagraphSeparator)
            {
                return $"{field} contains the control or invisible character U+{rune.Value.ToString("X4", CultureInfo.InvariantCulture)}, "
                    + "which cannot be shown or stored safely. Remove it.";
            }
        }

        if (id.Length > MaxIdentifierLength)
        {
            return $"{field} is {id.Length:N0} characters long; at most {MaxIdentifierLength} are accepted (it keys the registry, "
                + "the container metadata and the access groups). Use a shorter identifier, such as the DOI or a local id.";
        }

        var encoded = Uri.EscapeDataString(id).Length;
        return encoded > MaxEncodedIdentifierLength
            ? $"{field} takes {encoded:N0} characters once encoded for storage (non-ASCII characters count 6 to 12); "
                + $"at most {MaxEncodedIdentifierLength} fit. Use a shorter identifier, or one in ASCII."
            : null;
    }
}
