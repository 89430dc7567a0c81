using System.Text.Json;
using Gardien.Runtime;
using Gardien.Workflows.Approvals;
using Gardien.Workflows.Governance;
using Gardien.Workflows.Intake;
using Gardien.Workflows.Ports;

namespace Gardien.Workflows.Http;

/// <summary>A DMP in the list of <c>GET /api/dmps</c>.</summary>
public sealed record DmpSummary(string DmpId, string? Title, DmpState State, string? StateReason, DateTimeOffset? Modified,
    string? InstanceId, DateTimeOffset? UpdatedAt);

/// <summary>An approval still awaited, as its workflow's custom status says.</summary>
public sealed record PendingApprovalView(
    string InstanceId, string? DmpId, string Role, IReadOnlyList<string> Awaiting, DateTimeOffset Since, DateTimeOffset ExpiresAt,
        bool Escalated, string? LastRefusal);

/// <summary>An approval as the registry recorded it: who decided, when, and their comment.</summary>
public sealed record ApprovalView(
    string ApprovalId, string Role, ApprovalDecision Decision, string? Approver, string? DecidedBy, string? OnBehalfOf,
    DateTimeOffset? RequestedAt, DateTimeOffset? DecidedAt, string? Comment, bool Escalated);

/// <summary>A governed dataset with its container as the store sees it, its retention dates and controls.</summary>
public sealed record DatasetView(
    string DatasetId, string? Title, string Container, bool ContainerExists, DatasetState State, DateOnly? KeepUntil,
    IReadOnlyList<DateOnly> NoticeDates, Ports.DisposalAction Disposal, DateOnly? EmbargoUntil, bool LegalHold, bool PersonalData,
    bool SensitiveData, IReadOnlyList<NotEnforcedFeature> NotEnforcedLocally, IReadOnlyDictionary<string, string>? ContainerMetadata);

public sealed record GrantView(
    string DatasetId, string PrincipalId, PrincipalKind PrincipalKind, AccessLevel Level, GrantState State, DateOnly? EndsOn,
    DateTimeOffset? GrantedAt, IReadOnlyList<string> ApprovalIds);

/// <summary>The workflow that last took the DMP's record, where it stands.</summary>
public sealed record WorkflowView(string InstanceId, string Name, WorkflowStatus Status, DateTimeOffset CreatedAt,
    DateTimeOffset LastUpdatedAt, string? Stage, string? Detail);

/// <summary>Everything <c>GET /api/dmps/{dmpId}</c> says about one DMP.</summary>
/// <param name="Plan">The plan in force, or the one under approval (the governance plan's own JSON form).</param>
public sealed record DmpDetail(
    DmpSummary Dmp,
    string? ContactEmail,
    WorkflowView? Workflow,
    JsonElement? Plan,
    IReadOnlyList<ApprovalView> Approvals,
    IReadOnlyList<PendingApprovalView> PendingApprovals,
    IReadOnlyList<DatasetView> Datasets,
    IReadOnlyList<GrantView> Grants,
    IReadOnlyList<Finding> Findings,
    IReadOnlyList<NotEnforcedFeature> NotEnforcedLocally,
    DateOnly? AccessEndsOn);

/// <summary>Reads the DMP views the API and the dashboard show, from the registry, the store and the workflows.</summary>
public sealed class DmpDetails(IWorkflowClient client, IGovernanceRegistry registry, IStorageProvisioner storage,
    GardienWorkflowOptions options)
{
    public static DmpSummary Summary(DmpRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        return new DmpSummary(record.DmpId, record.Title, record.State, record.StateReason, record.Modified, record.InstanceId,
            record.UpdatedAt);
    }

    /// <summary>Every approval workflow still waiting for a decision, oldest first.</summary>
    public async Task<IReadOnlyList<PendingApprovalView>> ListPendingApprovalsAsync(string? instanceIdPrefix = null,
        CancellationToken cancellationToken = default)
    {
        var pending = new List<PendingApprovalView>();
        var query = new WorkflowQuery
        {
            Statuses = [WorkflowStatus.Running, WorkflowStatus.Pending],
            InstanceIdPrefix = instanceIdPrefix,
            FetchInputsAndOutputs = true
        };
        await foreach (var instance in QueryAllAsync(client, query, cancellationToken).ConfigureAwait(false))
        {
            if (instance.Name != nameof(ApprovalWorkflow) || Read(() => instance.ReadCustomStatusAs<ApprovalStatus>()) is not { } status)
            {
                continue;
            }

            var dmpId = Read(() => instance.ReadInputAs<ApprovalWorkflowInput>())?.DmpId;
            pending.Add(new PendingApprovalView(instance.InstanceId, dmpId, status.Role, status.Awaiting, status.Since, status.ExpiresAt,
                status.Escalated, status.LastRefusal));
        }

        return [.. pending.OrderBy(p => p.Since)];
    }

    /// <summary>The DMP's detail, or null when the registry does not know it.</summary>
    public async Task<DmpDetail?> GetAsync(string dmpId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(dmpId);
        var record = await registry.GetDmpAsync(dmpId, cancellationToken).ConfigureAwait(false);
        if (record is null)
        {
            return null;
        }

        var instance = record.InstanceId is null ? null
            : await client.GetInstanceAsync(record.InstanceId, getInputsAndOutputs: true,
                cancellationToken: cancellationToken).ConfigureAwait(false);
        var plan = PlanOf(record, instance);
        var stage = Read(() => instance?.ReadCustomStatusAs<IntakeStatus>());
        var workflow = instance is null ? null
            : new WorkflowView(instance.InstanceId, instance.Name, instance.Status, instance.CreatedAt, instance.LastUpdatedAt,
                stage?.Stage, stage?.Detail);

        var approvals = await registry.ListApprovalsAsync(dmpId, cancellationToken: cancellationToken).ConfigureAwait(false);
        var pending = record.InstanceId is null ? [] : await ListPendingApprovalsAsync(record.InstanceId + "-",
            cancellationToken).ConfigureAwait(false);
        var datasets = new List<DatasetView>();
        foreach (var dataset in await registry.ListDatasetsAsync(dmpId, cancellationToken).ConfigureAwait(false))
        {
            var container = await storage.GetContainerAsync(dataset.Container, cancellationToken).ConfigureAwait(false);
            var planned = plan?.Datasets.FirstOrDefault(d => d.Key == dataset.DatasetId);
            datasets.Add(new DatasetView(
                dataset.DatasetId, dataset.Title ?? planned?.Title, dataset.Container, container is not null, dataset.State,
                    dataset.KeepUntil,
                planned?.Retention.NoticeDates ?? [], dataset.Disposal, dataset.EmbargoUntil, dataset.LegalHold, dataset.PersonalData,
                dataset.SensitiveData, dataset.NotEnforcedLocally, container?.Metadata));
        }

        var grants = await registry.ListGrantsAsync(dmpId, cancellationToken: cancellationToken).ConfigureAwait(false);
        return new DmpDetail(
            Summary(record),
            record.ContactEmail,
            workflow,
            plan is null ? null : JsonSerializer.SerializeToElement(plan, GovernanceJson.Options),
            [.. approvals.OrderBy(a => a.RequestedAt).Select(a => new ApprovalView(
                a.ApprovalId, a.Role, a.Decision, a.Approver, a.DecidedBy, a.OnBehalfOf, a.RequestedAt, a.DecidedAt, a.Comment,
                    a.Escalated))],
            pending,
            [.. datasets.OrderBy(d => d.DatasetId, StringComparer.Ordinal)],
            [.. grants.OrderBy(g => g.DatasetId, StringComparer.Ordinal).ThenBy(g => g.PrincipalId, StringComparer.Ordinal)
                .Select(g => new GrantView(g.DatasetId, g.PrincipalId, g.PrincipalKind, g.Level, g.State, g.EndsOn, g.GrantedAt,
                    g.ApprovalIds))],
            plan is null ? [] : [.. plan.AllFindings()],
            record.NotEnforcedLocally,
            plan?.AccessEndsOn);
    }

    /// <summary>
    /// The plan in force; while the DMP is in intake, the plan its intake evaluated, evaluated again from the same document
    /// and policy (the evaluation is pure).
    /// </summary>
    private GovernancePlan? PlanOf(DmpRecord record, WorkflowMetadata? instance)
    {
        if (record.ActivePlanJson is { } active && Read(() => GovernanceJson.DeserializePlan(active)) is { } plan)
        {
            return plan;
        }

        if (instance is null || Read(() => instance.ReadInputAs<IntakeDmpInput>()) is not { DmpJson: { } json } input)
        {
            return null;
        }

        var today = DateOnly.FromDateTime(instance.CreatedAt.UtcDateTime);
        return Read(() => EvaluateDmpActivity.Evaluate(record.DmpId, json, today, input.Policy ?? options.Policy).Plan);
    }

    /// <summary>Every page of a query (the port's client interface pages; the abstract client has this built in).</summary>
    internal static async IAsyncEnumerable<WorkflowMetadata> QueryAllAsync(
        IWorkflowClient client, WorkflowQuery query,
            [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        while (true)
        {
            var page = await client.QueryInstancesAsync(query, cancellationToken).ConfigureAwait(false);
            foreach (var instance in page.Instances)
            {
                yield return instance;
            }

            if (page.ContinuationToken is null)
            {
                yield break;
            }

            query = query with { ContinuationToken = page.ContinuationToken };
        }
    }

    private static T? Read<T>(Func<T?> read)
        where T : class
    {
        try
        {
            return read();
        }
        catch (Exception ex) when (ex is JsonException or FormatException or ArgumentException or InvalidOperationException
            or NotSupportedException)
        {
            return null;
        }
    }
}
