using Gardien.Runtime;
using Gardien.Workflows.Access;
using Gardien.Workflows.Approvals;
using Gardien.Workflows.Audit;
using Gardien.Workflows.Governance;
using Gardien.Workflows.Notifications;
using Gardien.Workflows.Ports;
using Gardien.Workflows.Provisioning;

namespace Gardien.Workflows.Intake;

/// <summary>A grant a run asks for, with the approvals that justify it and whether a failure later must undo it.</summary>
internal sealed record PlannedGrant(DatasetPlan Dataset, AccessGrant Grant, IReadOnlyList<string> ApprovalIds, bool UndoOnFailure);

/// <summary>
/// What an intake and an update of a DMP have in common: reading the version, asking the approvals, the saga that
/// provisions and grants (every step registers its undo before it runs), telling the PI and writing back. One instance
/// per execution of the workflow code; its fields are that execution's state.
/// </summary>
internal abstract class DmpRun(WorkflowContext context, string actor)
{
    /// <summary>
    /// At most this many grants go to one <see cref="GrantAccessBatchActivity"/> (whole datasets, unless one dataset alone has more).
    /// </summary>
    internal const int GrantsPerBatch = 100;

    private readonly List<(string What, Func<Task> Undo)> _undos = [];

    protected WorkflowContext Context { get; } = context;

    protected string Actor { get; } = actor;

    protected string DmpId { get; set; } = string.Empty;

    protected MessageCatalogue Messages { get; private set; } = MessageCatalogue.English;

    /// <summary>Lenient-read deviations, plan warnings, people the directory does not know, failed write-backs and messages.</summary>
    protected List<string> Warnings { get; } = [];

    protected List<ContainerSummary> Containers { get; } = [];

    protected List<GrantSummary> Grants { get; } = [];

    protected List<NotEnforcedFeature> NotEnforced { get; } = [];

    protected string About => AuditEntries.DmpSubject(DmpId);

    protected void SetStatus(string stage, string? detail = null) => Context.SetStatus(new IntakeStatus(stage, detail));

    /// <summary>Reads the version leniently and evaluates its plan; the policy's language becomes the run's.</summary>
    protected async Task<DmpEvaluation> EvaluateAsync(string? dmpId, string? dmpJson, GovernancePolicy? policy)
    {
        SetStatus("validating");
        var evaluation = await Context.EvaluateDmpAsync(new EvaluateDmpInput(dmpId, dmpJson, Context.Today(), policy));
        Messages = MessageCatalogue.For(evaluation.Language);
        Warnings.AddRange(evaluation.Warnings);
        return evaluation;
    }

    /// <summary>The approvals of <paramref name="requirements"/>, in parallel; the first that does not pass withdraws the others.</summary>
    protected Task<IReadOnlyList<ApprovalWorkflowOutput>> RequestApprovalsAsync(
        IReadOnlyList<ApprovalRequirement> requirements,
        string subject,
        string summary,
        GovernancePlan plan,
        GovernancePolicy? policy,
        bool personalData)
    {
        var roles = requirements.Select(r => r.Role).ToList();
        var pi = plan.PrincipalInvestigator;
        return ApprovalWorkflow.RequestAllAsync(Context, [.. requirements.Select(r => new ApprovalWorkflowInput(
            DmpId, r.Role, subject, r.Reasons, summary, null, pi.Name, pi.Email, plan.Title, policy, roles, personalData))]);
    }

    /// <summary>Who is awaited, "role: e-mail".</summary>
    protected static IntakeStatus AwaitingStatus(IReadOnlyList<ApprovalRequirement> requirements, DmpEvaluation evaluation) =>
        new("awaiting-approvals", string.Join(", ", requirements.Select(a => ApprovalRoles.Title(a.Role))),
            [.. requirements.Select(a => $"{ApprovalRoles.Title(a.Role)}: {evaluation.Approvers.GetValueOrDefault(a.Role, "?")}")]);

    /// <summary>Provisions a dataset's container; a later failure removes it if it is still empty and this run created it.</summary>
    protected async Task ProvisionDatasetAsync(DatasetPlan dataset, string undoReason)
    {
        var container = dataset.Storage.ContainerName;
        OnFailureUndo($"remove container {container}", () => Context.RemoveContainerIfEmptyAsync(
            new RemoveContainerIfEmptyInput(DmpId, dataset.Key, container, Context.InstanceId, undoReason, Context.UtcNow(), Actor)));
        var provisioned = await Context.ProvisionContainerAsync(ProvisionContainerInput.FromPlan(DmpId, dataset, Context.UtcNow(), Actor));
        var created = provisioned.Outcome == ProvisionOutcome.Created;
        Containers.Add(new ContainerSummary(dataset.Key, provisioned.Container, provisioned.Location, created));
        NotEnforced.AddRange(provisioned.NotEnforcedLocally);
    }

    /// <summary>
    /// Grants, a batch of whole datasets at a time (<see cref="GrantBatches"/>); the grants a later failure must undo
    /// register their revocation first. People the directory does not know are not granted: a warning says so.
    /// </summary>
    protected async Task GrantAsync(IReadOnlyList<PlannedGrant> planned, string undoReason)
    {
        foreach (var batch in GrantBatches(planned))
        {
            var requests = batch.Select(p => GrantAccessInput.FromPlan(DmpId, p.Dataset, p.Grant, p.ApprovalIds, Context.UtcNow(), Actor))
                .ToList();
            for (var i = 0; i < batch.Count; i++)
            {
                if (batch[i].UndoOnFailure)
                {
                    OnFailureUndo($"revoke {batch[i].Grant.Principal.Name} on {requests[i].Container}", UndoGrant(requests[i], undoReason));
                }
            }

            var granted = await Context.GrantAccessBatchAsync(new GrantAccessBatchInput(requests));
            for (var i = 0; i < batch.Count; i++)
            {
                var (dataset, grant, _, _) = batch[i];
                var result = granted.Results[i];
                if (result.Status == GrantStatus.PrincipalNotFound)
                {
                    Warnings.Add($"{grant.Principal.Name} ({grant.Principal.Email ?? grant.Principal.Orcid}) is not in the directory: no "
                        + $"{grant.Role.ToString().ToLowerInvariant()} access to {dataset.Key} was granted. "
                        + "Add them to the directory and resubmit the DMP.");
                    continue;
                }

                Grants.Add(new GrantSummary(dataset.Key, result.Container, result.PrincipalId!, result.DisplayName, result.Level));
                NotEnforced.AddRange(result.NotEnforcedLocally);
            }
        }
    }

    /// <summary>
    /// Consecutive grants in batches of at most <see cref="GrantsPerBatch"/>; a dataset's grants are never split unless they
    /// alone are more.
    /// </summary>
    internal static IEnumerable<IReadOnlyList<PlannedGrant>> GrantBatches(IReadOnlyList<PlannedGrant> planned)
    {
        var batch = new List<PlannedGrant>();
        for (var start = 0; start < planned.Count;)
        {
            var end = start + 1;
            while (end < planned.Count && planned[end].Dataset.Key == planned[start].Dataset.Key)
            {
                end++;
            }

            if (batch.Count > 0 && batch.Count + (end - start) > GrantsPerBatch)
            {
                yield return batch;
                batch = [];
            }

            batch.AddRange(planned.Skip(start).Take(end - start));
            start = end;
        }

        if (batch.Count > 0)
        {
            yield return batch;
        }
    }

    /// <summary>Registers an undo before the step it undoes runs: a step that failed after retries may still have half-happened.</summary>
    protected void OnFailureUndo(string what, Func<Task> undo) => _undos.Add((what, undo));

    /// <summary>Runs the undos newest first; each failure is kept (and audited) and the others still run.</summary>
    protected async Task<IReadOnlyList<string>> CompensateAsync(string reason)
    {
        SetStatus("compensating", reason);
        var incomplete = new List<string>();
        for (var i = _undos.Count - 1; i >= 0; i--)
        {
            try
            {
                await _undos[i].Undo();
            }
            catch (WorkflowTaskFailedException ex)
            {
                incomplete.Add($"{_undos[i].What}: {FailureMessages.ForUser(ex.FailureDetails)}");
            }
        }

        if (incomplete.Count > 0)
        {
            await Context.AuditAsync("compensation.incomplete", About, after: new { reason, incomplete }, actor: Actor);
        }

        return incomplete;
    }

    protected Task NotifyPiAsync(GovernancePlan plan, Message message, string step) =>
        NotifyAsync(message, [plan.PrincipalInvestigator.Email], step);

    /// <summary>Sends a message; one that cannot be delivered becomes a warning (and is audited), never a failure.</summary>
    protected async Task NotifyAsync(Message message, IEnumerable<string?> to, string step)
    {
        if (await Context.NotifyAsync(message, to, step, About) is { } failure)
        {
            Warnings.Add($"'{failure.Subject}' could not be sent: {failure.Reason}");
        }
    }

    /// <summary>Writes each new container's location back to the DMP tool; a failure is a warning, never undone.</summary>
    protected async Task WriteBackAsync()
    {
        SetStatus("writing-back");
        foreach (var container in Containers)
        {
            try
            {
                await Context.WriteBackDmpAsync(
                    new WriteBackDmpInput(DmpId, container.DatasetId, container.Location, container.Container, Context.UtcNow(), Actor));
            }
            catch (WorkflowTaskFailedException ex)
            {
                Warnings.Add($"the provisioned location of {container.DatasetId} could not be written back to the DMP tool: "
                    + FailureMessages.ForUser(ex.FailureDetails));
            }
        }
    }

    protected IReadOnlyList<NotEnforcedFeature> DistinctNotEnforced() =>
        [.. NotEnforced.DistinctBy(f => f.Feature).OrderBy(f => f.Feature, StringComparer.Ordinal)];

    /// <summary>This run's undelivered messages and those of its approvals.</summary>
    protected IReadOnlyList<NotificationFailure> Undelivered(IEnumerable<ApprovalWorkflowOutput> approvals) =>
        [.. Context.UndeliveredNotifications(), .. approvals.SelectMany(a => a.UndeliveredNotifications)];

    /// <summary>"{activity} failed after retries: {why}", or the message of a failure the run raised itself.</summary>
    protected static string FailureReason(WorkflowTaskFailedException failure) =>
        string.IsNullOrEmpty(failure.TaskName)
            ? failure.Message
            : $"{failure.TaskName} failed after retries: {FailureMessages.ForUser(failure.FailureDetails)}";

    private Func<Task> UndoGrant(GrantAccessInput request, string reason) => () => Context.RevokeAccessAsync(new RevokeAccessInput
    {
        DmpId = DmpId,
        DatasetId = request.DatasetId,
        Container = request.Container,
        Email = request.Email,
        Orcid = request.Orcid,
        Reason = reason,
        RemoveEmptyGroupAssignment = true,
        At = Context.UtcNow(),
        Actor = Actor,
    });
}
