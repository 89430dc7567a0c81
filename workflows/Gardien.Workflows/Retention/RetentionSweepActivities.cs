using Gardien.Runtime;
using Gardien.Workflows.Ports;
using Gardien.Workflows.Provisioning;

namespace Gardien.Workflows.Retention;

/// <summary>Loads the retention settings from the configured policy (an activity, so the values are recorded in history).</summary>
public sealed class LoadRetentionSettingsActivity(GardienWorkflowOptions? options = null) : Activity<string?, RetentionSettings>
{
    public override Task<RetentionSettings> RunAsync(ActivityContext context, string? input) =>
        Task.FromResult(RetentionSettings.FromPolicy((options ?? new GardienWorkflowOptions()).Policy));
}

public sealed record FindRetentionCandidatesInput(DateOnly Today, int HorizonDays);

/// <summary>A dataset whose keep-until falls within the notice horizon (registry view, authoritative).</summary>
public sealed record RetentionCandidate(
    string DmpId,
    string DatasetId,
    string Container,
    DateOnly KeepUntil,
    DisposalAction Disposal,
    DatasetState State);

public enum RetentionDiscrepancyKind
{
    /// <summary>Blobs carry governance tags in a container no plan knows.</summary>
    UnknownContainer,

    /// <summary>A blob's keep-until tag disagrees with the registry (the registry wins; the tag should be rewritten).</summary>
    TagDisagrees,

    /// <summary>Tags point at a dataset the registry has already disposed of, archived or published.</summary>
    TagOnDisposedDataset,
}

/// <param name="Examples">Up to a few blob names, to find the problem.</param>
public sealed record RetentionDiscrepancy(
    RetentionDiscrepancyKind Kind,
    string Container,
    string? DmpId,
    string? DatasetId,
    string? RegistryKeepUntil,
    string? TagKeepUntil,
    int BlobCount,
    IReadOnlyList<string> Examples);

public sealed record RetentionCandidates(IReadOnlyList<RetentionCandidate> Candidates, IReadOnlyList<RetentionDiscrepancy> Discrepancies);

/// <summary>
/// Finds the datasets due for notice: the registry's retention schedule (keep-until within the horizon), cross-checked
/// with the blob index tags (keep-until tag within the horizon). Read-only. The registry is authoritative: tags that
/// disagree are reported as discrepancies, never acted on.
/// </summary>
public sealed class FindRetentionCandidatesActivity(
    IGovernanceRegistry registry,
    IStorageProvisioner storage) : Activity<FindRetentionCandidatesInput, RetentionCandidates>
{
    private const int MaxExamples = 5;

    public override async Task<RetentionCandidates> RunAsync(ActivityContext context, FindRetentionCandidatesInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        var ct = context.CancellationToken;
        var horizon = input.Today.AddDays(Math.Max(0, input.HorizonDays));
        var due = await registry.ListDatasetsDueAsync(horizon, ct);
        var candidates = due
            .Where(d => d.KeepUntil is not null && d.State is DatasetState.Provisioned or DatasetState.MarkedForDeletion)
            .Select(d => new RetentionCandidate(d.DmpId, d.DatasetId, d.Container, d.KeepUntil!.Value, d.Disposal, d.State))
            .OrderBy(c => c.KeepUntil).ThenBy(c => c.DmpId, StringComparer.Ordinal).ThenBy(c => c.DatasetId, StringComparer.Ordinal)
            .ToList();

        // Group tagged blobs by (container, tag value): millions of blobs collapse to a few rows.
        var groups = new Dictionary<(string Container, string Tag), (int Count, List<string> Examples)>();
        var condition = new TagCondition(GovernanceMetadata.KeepUntil, TagOperator.LessThanOrEqual, GovernanceMetadata.Date(horizon));
        await foreach (var blob in storage.FindBlobsByTagsAsync([condition], ct))
        {
            var tag = blob.Tags.TryGetValue(GovernanceMetadata.KeepUntil, out var value) ? value : string.Empty;
            var key = (blob.Container, tag);
            if (!groups.TryGetValue(key, out var group))
            {
                group = (0, []);
            }

            if (group.Examples.Count < MaxExamples)
            {
                group.Examples.Add(blob.Name);
            }

            groups[key] = (group.Count + 1, group.Examples);
        }

        var discrepancies = new List<RetentionDiscrepancy>();
        foreach (var ((container, tag), (count, examples)) in groups.OrderBy(g => g.Key.Container, StringComparer.Ordinal)
            .ThenBy(g => g.Key.Tag, StringComparer.Ordinal))
        {
            var dataset = await registry.FindDatasetByContainerAsync(container, ct);
            if (dataset is null)
            {
                discrepancies.Add(new(RetentionDiscrepancyKind.UnknownContainer, container, null, null, null, tag, count, examples));
                continue;
            }

            var registryDate = dataset.KeepUntil is { } k ? GovernanceMetadata.Date(k) : null;
            if (dataset.State is DatasetState.Disposed or DatasetState.Archived or DatasetState.Published)
            {
                discrepancies.Add(
                    new(
                        RetentionDiscrepancyKind.TagOnDisposedDataset,
                        container,
                        dataset.DmpId,
                        dataset.DatasetId,
                        registryDate,
                        tag,
                        count,
                        examples));
            }
            else if (!string.Equals(registryDate, tag, StringComparison.Ordinal))
            {
                discrepancies.Add(
                    new(
                        RetentionDiscrepancyKind.TagDisagrees,
                        container,
                        dataset.DmpId,
                        dataset.DatasetId,
                        registryDate,
                        tag,
                        count,
                        examples));
            }
        }

        return new RetentionCandidates(candidates, discrepancies);
    }
}

public sealed record StartRetentionCaseInput(string InstanceId, Gardien.Workflows.Retention.RetentionCaseInput Case);

/// <summary>
/// Starts a retention case as an independent instance (a case lives for months; the sweep must not wait for it).
/// Idempotent by instance id: a repeated sweep never starts a second case for the same dataset and keep-until.
/// </summary>
public sealed class StartRetentionCaseActivity(IWorkflowClient client) : Activity<StartRetentionCaseInput, StartedInstance>
{
    public override Task<StartedInstance> RunAsync(ActivityContext context, StartRetentionCaseInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        return WorkflowStarts.StartOnceAsync(
            client, nameof(Gardien.Workflows.Retention.RetentionCaseWorkflow), input.Case, input.InstanceId, context.CancellationToken);
    }
}

/// <summary>Does a case with this id exist? (dry runs report without starting anything).</summary>
public sealed class GetRetentionCaseStatusActivity(IWorkflowClient client) : Activity<string, string?>
{
    public override async Task<string?> RunAsync(ActivityContext context, string input)
    {
        ArgumentNullException.ThrowIfNull(context);
        var existing = await client.GetInstanceAsync(input, getInputsAndOutputs: false, cancellationToken: context.CancellationToken);
        return existing?.Status.ToString();
    }
}
