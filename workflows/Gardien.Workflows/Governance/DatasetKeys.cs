using System.Globalization;
using Gardien.Workflows.Madmp;

namespace Gardien.Workflows.Governance;

/// <summary>
/// The identity of each dataset inside its DMP (<see cref="DatasetPlan.Key"/>), which names its container and keys
/// its registry records, grants, retention case and audit subject.
/// <para>
/// A dataset's key is its <c>dataset_id</c>, exactly as written. An id used by an earlier dataset of the same DMP, or a
/// blank id, is refused (an error finding at the id's JSON path): a repeated id cannot say which dataset an update,
/// a write-back or a retention case means, and any positional scheme ("#2") moves containers, with their labels and
/// access, from one dataset to another as soon as datasets are added, removed or reordered. So that an invalid plan
/// can still be shown, refused datasets get a placeholder key that no other dataset of the DMP has.
/// </para>
/// </summary>
public static class DatasetKeys
{
    public sealed record Assignment(IReadOnlyList<string> Keys, IReadOnlyList<Finding?> Problems);

    public static Assignment Assign(IReadOnlyList<Dataset> datasets)
    {
        ArgumentNullException.ThrowIfNull(datasets);
        var keys = new string[datasets.Count];
        var problems = new Finding?[datasets.Count];
        var firstPathById = new Dictionary<string, int>(datasets.Count, StringComparer.Ordinal);
        var refused = new List<int>();
        for (var i = 0; i < datasets.Count; i++)
        {
            var id = datasets[i].DatasetId.Value;
            var idPath = Path(i) + "/dataset_id/identifier";
            if (string.IsNullOrWhiteSpace(id))
            {
                problems[i] = new Finding(
                    FindingSeverity.Error,
                    "DatasetIdMissing",
                    "The dataset has no dataset_id: its container, access and retention are keyed by it. "
                    + "Give the dataset an identifier (a DOI, a handle or a local id unique in the DMP).",
                    idPath);
                refused.Add(i);
            }
            else if (firstPathById.TryGetValue(id, out var first))
            {
                problems[i] = new Finding(
                    FindingSeverity.Error,
                    "DuplicateDatasetId",
                    $"dataset_id '{id}' is already the id of {Path(first)} ('{datasets[first].Title}'). "
                    + "Every dataset needs its own dataset_id, because the id decides its container, its access and its retention: "
                    + "give this dataset a distinct identifier.",
                    idPath);
                refused.Add(i);
            }
            else
            {
                firstPathById[id] = i;
                keys[i] = id;
            }
        }

        // Placeholders only exist in refused plans; they avoid every real id and each other, so even an invalid plan
        // shown to a user never puts two datasets in one container.
        var taken = new HashSet<string>(firstPathById.Keys, StringComparer.Ordinal);
        foreach (var i in refused)
        {
            var stem = string.IsNullOrWhiteSpace(datasets[i].DatasetId.Value) ? "dataset" : datasets[i].DatasetId.Value;
            var n = i + 1;
            string candidate;
            do
            {
                candidate = stem + "#" + n.ToString(CultureInfo.InvariantCulture);
                n++;
            }
            while (!taken.Add(candidate));

            keys[i] = candidate;
        }

        return new Assignment(keys, problems);
    }

    private static string Path(int index) => "/dmp/dataset/" + index.ToString(CultureInfo.InvariantCulture);
}
