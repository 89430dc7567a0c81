using System.Security.Cryptography;
using System.Text;
using Gardien.Runtime;
using Gardien.Workflows.Access;
using Gardien.Workflows.Approvals;
using Gardien.Workflows.Audit;
using Gardien.Workflows.Governance;
using Gardien.Workflows.Notifications;
using Gardien.Workflows.Ports;
using Gardien.Workflows.Provisioning;
using Gardien.Workflows.Text;

namespace Gardien.Workflows.Intake;

/// <summary>A DMP submitted for governance.</summary>
/// <param name="DmpId">The DMP's dmp_id; with <paramref name="DmpJson"/> null the document is fetched from the DMP tool.</param>
/// <param name="DmpJson">The raw maDMP document.</param>
/// <param name="SubmittedBy">Who submitted it (audit actor), e.g. "user:alice@uni.example" or "system:dmp-tool-webhook".</param>
/// <param name="Policy">The policy to apply; null: the configured one.</param>
public sealed record IntakeDmpInput(string? DmpId, string? DmpJson = null, string? SubmittedBy = null, GovernancePolicy? Policy = null)
{
    /// <summary>Unique per submission: tells the submission that started the instance from those that joined it.</summary>
    public string? SubmissionId { get; init; }
}

public enum IntakeState
{
    /// <summary>Approved, provisioned and granted: the plan is in force.</summary>
    Active,

    /// <summary>An approver rejected the plan or let it expire: nothing was provisioned.</summary>
    Rejected,

    /// <summary>A step failed after retries: compensation undid what this run provisioned and granted.</summary>
    Failed,

    /// <summary>The DMP could not be read or breaks the policy: nothing was recorded.</summary>
    Invalid,

    /// <summary>This or a newer version of the DMP is already governed: nothing to do (a newer one goes through an update).</summary>
    AlreadyGoverned,

    /// <summary>The same or a newer version of the DMP was already in intake or waiting for its turn: this one stopped, the newest wins.</summary>
    Superseded,

    /// <summary>
    /// This version waited for an intake of an older version, which ended with the older version in force: this one was
    /// applied as an update of it (<see cref="IntakeDmpOutput.Update"/>).
    /// </summary>
    Updated,
}

/// <summary>The payload of <see cref="IntakeDmpWorkflow.TurnEventName"/>: the intake a version waited for has ended.</summary>
public sealed record DmpTurn(string EndedInstanceId, string EndedState);

public sealed record ContainerSummary(string DatasetId, string Container, Uri Location, bool CreatedByThisRun);

public sealed record GrantSummary(string DatasetId, string Container, string PrincipalId, string? DisplayName, AccessLevel Level);

/// <summary>What an intake ended with.</summary>
/// <param name="Warnings">Lenient-read deviations, plan warnings, people the directory does not know, failed write-backs.</param>
/// <param name="CompensationIncomplete">Compensation steps that failed (each also audited as an alert): a human must finish them.</param>
public sealed record IntakeDmpOutput(
    string DmpId,
    IntakeState State,
    string? Reason,
    IReadOnlyList<ContainerSummary> Containers,
    IReadOnlyList<GrantSummary> Grants,
    IReadOnlyList<ApprovalWorkflowOutput> Approvals,
    IReadOnlyList<NotEnforcedFeature> NotEnforcedLocally,
    IReadOnlyList<string> Warnings,
    IReadOnlyList<string> CompensationIncomplete)
{
    /// <summary>When <see cref="State"/> is <see cref="IntakeState.Updated"/>: what the update of the version in force ended with.</summary>
    public UpdateDmpOutput? Update { get; init; }
}

/// <summary>The stage shown by <c>SetCustomStatus</c>.</summary>
/// <param name="Awaiting">While approvals run: who is awaited ("role: e-mail"); each approval's own status (instance
/// <c>{instanceId}-approval-{role}</c>) adds the delegate once escalated.</param>
public sealed record IntakeStatus(string Stage, string? Detail = null, IReadOnlyList<string>? Awaiting = null);

/// <summary>
/// Takes a DMP into governance: validate (lenient) → evaluate the plan → record it → the approvals the plan requires,
/// in parallel → provision a container per dataset → grant access → record Active → notify the PI → write back to the DMP
/// tool. A rejection ends Rejected with nothing provisioned; a failure after retries compensates (revokes what was
/// granted, removes the empty containers this run created) and ends Failed. The instance id derives from the dmp_id
/// (<see cref="InstanceIdFor"/>), so a duplicate submission joins the running instance instead of provisioning twice.
/// </summary>
public sealed class IntakeDmpWorkflow : Workflow<IntakeDmpInput, IntakeDmpOutput>
{
    /// <summary>Raised (with a <see cref="DmpTurn"/>) on a waiting version's intake when the intake it waited for ends.</summary>
    public const string TurnEventName = "DmpTurn";

    private const string InstancePrefix = "intake-";

    /// <summary>
    /// The instance id of a DMP's intake: "intake-" + a readable slug of the id's last segment + "-" + 16 hex digits of
    /// SHA-256(dmp_id). Stable, collision-resistant, and made of [a-z0-9-] only (safe as a table key and in URLs).
    /// </summary>
    public static string InstanceIdFor(string dmpId)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(dmpId);
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(dmpId.Trim())))[..16];
        var slug = Slug(dmpId);
        return slug.Length == 0 ? InstancePrefix + hash : $"{InstancePrefix}{slug}-{hash}";
    }

    /// <summary>Lower-case letters and digits of the id's last path segment, single hyphens, at most 24 characters.</summary>
    internal static string Slug(string dmpId)
    {
        var trimmed = dmpId.Trim().TrimEnd('/');
        var last = trimmed[(trimmed.LastIndexOfAny(['/', ':']) + 1)..];
        var builder = new StringBuilder();
        foreach (var c in last.ToLowerInvariant())
        {
            if (builder.Length >= 24)
            {
                break;
            }

            if (char.IsAsciiLetterOrDigit(c))
            {
                builder.Append(c);
            }
            else if (builder.Length > 0 && builder[^1] != '-')
            {
                builder.Append('-');
            }
        }

        return builder.ToString().Trim('-');
    }

    public override async Task<IntakeDmpOutput> RunAsync(WorkflowContext context, IntakeDmpInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        var actor = GardienWorkflowOptions.SystemActor(nameof(IntakeDmpWorkflow));
        var submittedBy = input.SubmittedBy ?? "anonymous";

        AuditTrail.SetStatus(context, new IntakeStatus("validating"));
        var evaluation = await context.CallActivityAsync<DmpEvaluation>(
            nameof(EvaluateDmpActivity), new EvaluateDmpInput(input.DmpId, input.DmpJson, DateOnly.FromDateTime(context.CurrentUtcDateTime), input.Policy), ActivityRetryPolicies.Transient);
        var dmpId = evaluation.DmpId.Length > 0 ? evaluation.DmpId : input.DmpId ?? string.Empty;
        var warnings = new List<string>(evaluation.Warnings);
        if (!evaluation.IsValid || evaluation.Plan is not { } plan)
        {
            await AuditAsync(context, AuditEntries.Create(submittedBy, "dmp.invalid", context.InstanceId, AuditEntries.DmpSubject(dmpId), context.CurrentUtcDateTime, after: new { errors = evaluation.Errors }));
            if (evaluation.ContactEmail is { } contact)
            {
                await TryNotifyAsync(context, new Notification(
                    NotificationKind.Rejection, [contact], $"Gardien could not take your DMP into governance: {Line(evaluation.Title ?? dmpId)}",
                    "Your DMP could not be accepted. Please fix the following and submit it again:\n\n" + string.Concat(evaluation.Errors.Select(e => $"- {Md(e)}\n")),
                    [], context.InstanceId, context.InstanceId + ":invalid"), warnings);
            }

            AuditTrail.SetStatus(context, new IntakeStatus("invalid", evaluation.Errors.FirstOrDefault()));
            return Output(dmpId, IntakeState.Invalid, string.Join("; ", evaluation.Errors), [], [], [], [], warnings, []);
        }

        // Versions of one DMP are taken in one at a time: the registry record decides whether this one proceeds, waits
        // for the intake of an older version (and is woken when it ends), or gives way to the same or a newer one.
        RecordDmpResult recorded;
        while (true)
        {
            AuditTrail.SetStatus(context, new IntakeStatus("recording"));
            recorded = await Audited<RecordDmpResult>(context,
                nameof(RecordDmpActivity), new RecordDmpInput(dmpId, evaluation.Modified, evaluation.Title, evaluation.ContactEmail, Now(context)), ActivityRetryPolicies.Persistent);
            Wake(context, recorded.Wake, context.InstanceId, "superseded");
            if (recorded.Outcome != RecordDmpOutcome.Queued)
            {
                break;
            }

            AuditTrail.SetStatus(context, new IntakeStatus("queued", $"waiting for the intake {recorded.Owner} of version {recorded.OwnerModified:O} to end; a newer version arriving meanwhile takes this one's place"));
            await WaitForTurnAsync(context, dmpId, recorded.Owner);
        }

        switch (recorded.Outcome)
        {
            case RecordDmpOutcome.Superseded:
                {
                    var reason = $"the same or a newer version ({recorded.OwnerModified:O}) is already taken in by {recorded.Owner}";
                    AuditTrail.SetStatus(context, new IntakeStatus("superseded", reason));
                    return Output(dmpId, IntakeState.Superseded, reason, [], [], [], [], warnings, []);
                }

            case RecordDmpOutcome.NeedsUpdate:
                {
                    // An older version is in force (it may have been approved while this one waited): apply this one as an update.
                    AuditTrail.SetStatus(context, new IntakeStatus("updating", $"version {recorded.ExistingModified:O} is in force; this version is applied as an update"));
                    var update = await context.CallSubWorkflowAsync<UpdateDmpOutput>(
                        nameof(UpdateDmpWorkflow),
                        new UpdateDmpInput(dmpId, input.DmpJson, input.SubmittedBy, input.Policy),
                        UpdateDmpWorkflow.HandOverInstanceId(context.InstanceId));
                    if (update.State is UpdateState.Superseded or UpdateState.Ignored)
                    {
                        // Not applied: a newer version claimed the DMP first. "Updated" would tell the submitter otherwise.
                        var overtaken = $"a newer version overtook this one while it was being applied as an update ({update.Reason})";
                        AuditTrail.SetStatus(context, new IntakeStatus("superseded", overtaken));
                        List<string> all = [.. warnings, .. update.Warnings];
                        var stopped = Output(dmpId, IntakeState.Superseded, overtaken, [], [], update.Approvals, [], all, []);
                        return stopped with { Update = update };
                    }

                    var reason = $"version {recorded.ExistingModified:O} was in force: this version was applied as an update, which ended {update.State}" + (update.Reason is null ? string.Empty : $" ({update.Reason})");
                    AuditTrail.SetStatus(context, new IntakeStatus("updated", reason));
                    return Output(dmpId, IntakeState.Updated, reason, [], [], update.Approvals, [], [.. warnings, .. update.Warnings], update.CompensationIncomplete) with { Update = update };
                }

            case RecordDmpOutcome.AlreadyGoverned:
                {
                    var reason = $"the DMP is already governed ({recorded.ExistingState}, version {recorded.ExistingModified:O})";
                    await AuditAsync(context, AuditEntries.Create(submittedBy, "intake.already_governed", context.InstanceId, AuditEntries.DmpSubject(dmpId), context.CurrentUtcDateTime,
                        before: new { state = recorded.ExistingState?.ToString(), modified = recorded.ExistingModified }, after: new { modified = evaluation.Modified, reason }));
                    AuditTrail.SetStatus(context, new IntakeStatus("already-governed", reason));
                    return Output(dmpId, IntakeState.AlreadyGoverned, reason, [], [], [], [], warnings, []);
                }
        }

        await AuditAsync(context, AuditEntries.Create(submittedBy, "intake.started", context.InstanceId, AuditEntries.DmpSubject(dmpId), context.CurrentUtcDateTime,
            after: new { modified = evaluation.Modified, datasets = plan.Datasets.Select(d => new { d.Key, classification = d.Classification.Classification.ToString(), container = d.Storage.ContainerName }), approvals = plan.RequiredApprovals.Select(a => a.Role.ToString()) }));

        // Approvals, in parallel; the first that does not approve withdraws the others.
        AuditTrail.SetStatus(context, AwaitingStatus(plan.RequiredApprovals, evaluation));
        IReadOnlyList<ApprovalWorkflowOutput> approvals;
        try
        {
            var roles = plan.RequiredApprovals.Select(r => r.Role).ToList();
            var personal = GovernanceEvaluator.InvolvesPersonalData(plan.Datasets);
            approvals = await ApprovalWorkflow.RequestAllAsync(context, [.. plan.RequiredApprovals.Select(r => new ApprovalWorkflowInput(
                dmpId, r.Role, "intake", r.Reasons, PlanSummary(plan), null, plan.PrincipalInvestigator.Name, plan.PrincipalInvestigator.Email, plan.Title, input.Policy, roles, personal))]);
        }
        catch (WorkflowTaskFailedException ex)
        {
            var reason = "an approval could not be requested: " + FailureMessages.ForUser(ex.FailureDetails);
            return await FailAsync(context, dmpId, plan, reason, [], [], [], warnings, actor);
        }

        if (DecisiveRefusal(approvals) is { } refusal)
        {
            var reason = RefusalReason(refusal);
            AuditTrail.SetStatus(context, new IntakeStatus("rejected", reason));
            var ended = await Audited<SetDmpStateResult>(context, nameof(SetDmpStateActivity), new SetDmpStateInput(dmpId, DmpState.Rejected, reason, Now(context), actor), ActivityRetryPolicies.Persistent);
            Wake(context, ended.Waiting, context.InstanceId, nameof(DmpState.Rejected));
            await TryNotifyAsync(context, new Notification(
                NotificationKind.Rejection, PiAddress(plan), $"DMP not approved: {Line(plan.Title)}",
                $"Dear {Md(plan.PrincipalInvestigator.Name)},\n\nthe governance plan of \"{Md(plan.Title)}\" was not approved: {Md(reason)}.\nNothing was provisioned. Revise the DMP and submit it again.",
                [], context.InstanceId, context.InstanceId + ":rejected"), warnings);
            return Output(dmpId, IntakeState.Rejected, reason, [], [], approvals, [], warnings, []);
        }

        // The saga: everything below is undone on failure. Compensations are registered before each step, because a
        // step that failed after retries may still have half-happened (a container created, then the registry failed).
        var containers = new List<ContainerSummary>();
        var grants = new List<GrantSummary>();
        var notEnforced = new List<NotEnforcedFeature>();
        var compensations = new List<(string What, Func<Task> Undo)>();
        SetDmpStateResult activated;
        try
        {
            AuditTrail.SetStatus(context, new IntakeStatus("provisioning"));
            foreach (var dataset in plan.Datasets)
            {
                var container = dataset.Storage.ContainerName;
                var datasetId = dataset.Key;
                compensations.Add(($"remove container {container}", () => Audited<ContainerDeletionOutcome>(context,
                    nameof(RemoveContainerIfEmptyActivity), new RemoveContainerIfEmptyInput(dmpId, datasetId, container, context.InstanceId, "intake compensation", Now(context), actor), ActivityRetryPolicies.Persistent)));
                var provisioned = await Audited<ProvisionedContainer>(context,
                    nameof(ProvisionContainerActivity), ProvisionContainerInput.FromPlan(dmpId, dataset, Now(context), actor), ActivityRetryPolicies.Transient);
                containers.Add(new ContainerSummary(datasetId, provisioned.Container, provisioned.Location, provisioned.Outcome == ProvisionOutcome.Created));
                notEnforced.AddRange(provisioned.NotEnforcedLocally);
            }

            AuditTrail.SetStatus(context, new IntakeStatus("granting"));
            foreach (var batch in GrantBatches(plan.Datasets))
            {
                var requests = new List<(DatasetPlan Dataset, AccessGrant Grant, GrantAccessInput Request)>();
                foreach (var dataset in batch)
                {
                    var approvalIds = ApprovalIdsFor(dataset, approvals);
                    foreach (var grant in dataset.Access)
                    {
                        var request = GrantAccessInput.FromPlan(dmpId, dataset, grant, approvalIds, Now(context), actor);
                        compensations.Add(($"revoke {grant.Principal.Name} on {request.Container}", () => Audited<RevokeAccessResult>(context,
                            nameof(RevokeAccessActivity), new RevokeAccessInput
                            {
                                DmpId = dmpId,
                                DatasetId = request.DatasetId,
                                Container = request.Container,
                                Email = request.Email,
                                Orcid = request.Orcid,
                                Reason = "intake compensation",
                                RemoveEmptyGroupAssignment = true,
                                At = Now(context),
                                Actor = actor,
                            },
                            ActivityRetryPolicies.Persistent)));
                        requests.Add((dataset, grant, request));
                    }
                }

                if (requests.Count == 0)
                {
                    continue;
                }

                var granted = await Audited<GrantAccessBatchResult>(context,
                    nameof(GrantAccessBatchActivity), new GrantAccessBatchInput([.. requests.Select(r => r.Request)]), ActivityRetryPolicies.Transient);
                for (var i = 0; i < requests.Count; i++)
                {
                    var (dataset, grant, _) = requests[i];
                    var result = granted.Results[i];
                    if (result.Status == GrantStatus.PrincipalNotFound)
                    {
                        warnings.Add($"{grant.Principal.Name} ({grant.Principal.Email ?? grant.Principal.Orcid}) is not in the directory: no {grant.Role.ToString().ToLowerInvariant()} access to {dataset.Key} was granted. Add them to the directory and resubmit the DMP.");
                        continue;
                    }

                    grants.Add(new GrantSummary(dataset.Key, result.Container, result.PrincipalId!, result.DisplayName, result.Level));
                    notEnforced.AddRange(result.NotEnforcedLocally);
                }
            }

            AuditTrail.SetStatus(context, new IntakeStatus("activating"));
            activated = await Audited<SetDmpStateResult>(context,
                nameof(SetDmpStateActivity),
                new SetDmpStateInput(dmpId, DmpState.Active, "intake approved and provisioned", Now(context), actor, GovernanceJson.Serialize(plan), evaluation.Modified, Distinct(notEnforced), Title: plan.Title, ContactEmail: plan.PrincipalInvestigator.Email),
                ActivityRetryPolicies.Persistent);
        }
        catch (WorkflowTaskFailedException ex)
        {
            var reason = $"{ex.TaskName} failed after retries: {FailureMessages.ForUser(ex.FailureDetails)}";
            var incomplete = await CompensateAsync(context, dmpId, compensations, reason, actor);
            return await FailAsync(context, dmpId, plan, reason, approvals, Distinct(notEnforced), incomplete, warnings, actor);
        }

        Wake(context, activated.Waiting, context.InstanceId, nameof(DmpState.Active));

        // Past this point governance is in force; a failing message or write-back is reported, never undone.
        AuditTrail.SetStatus(context, new IntakeStatus("notifying"));
        await TryNotifyAsync(context, new Notification(
            NotificationKind.Summary, PiAddress(plan), $"DMP approved and provisioned: {Line(plan.Title)}",
            SummaryBody(plan, containers, grants, approvals, Distinct(notEnforced), warnings), [], context.InstanceId, context.InstanceId + ":summary"), warnings);

        AuditTrail.SetStatus(context, new IntakeStatus("writing-back"));
        foreach (var container in containers)
        {
            try
            {
                await Audited<OperationResult>(context,
                    nameof(WriteBackDmpActivity), new WriteBackDmpInput(dmpId, container.DatasetId, container.Location, container.Container, Now(context), actor), ActivityRetryPolicies.Transient);
            }
            catch (WorkflowTaskFailedException ex)
            {
                warnings.Add($"the provisioned location of {container.DatasetId} could not be written back to the DMP tool: {FailureMessages.ForUser(ex.FailureDetails)}");
            }
        }

        AuditTrail.SetStatus(context, new IntakeStatus("active"));
        return Output(dmpId, IntakeState.Active, null, containers, grants, approvals, Distinct(notEnforced), warnings, []);
    }

    /// <summary>How often a queued version checks that the intake it waits for still runs (<see cref="CheckQueueOwnerActivity"/>).
    /// </summary>
    internal static readonly TimeSpan QueueOwnerCheckEvery = TimeSpan.FromDays(1);

    /// <summary>
    /// The intake this version waits for wakes it when it ends. One stopped from outside never does, so once a day the
    /// waiting version checks that it still runs; the turn itself always comes from the event or that check.
    /// </summary>
    private static async Task WaitForTurnAsync(WorkflowContext context, string dmpId, string? owner)
    {
        while (true)
        {
            try
            {
                await context.WaitForExternalEvent<DmpTurn>(TurnEventName, QueueOwnerCheckEvery);
                return;
            }
            catch (TimeoutException)
            {
                if (owner is null)
                {
                    continue;
                }

                var check = await Audited<QueueOwnerCheck>(
                    context, nameof(CheckQueueOwnerActivity), new CheckQueueOwnerInput(dmpId, owner, Now(context)),
                    ActivityRetryPolicies.Persistent);
                if (check.OwnerEnded)
                {
                    return;
                }
            }
        }
    }

    /// <summary>At most this many grants go to one <see cref="GrantAccessBatchActivity"/> (whole datasets, unless one dataset alone has more).</summary>
    internal const int GrantsPerBatch = 100;

    /// <summary>Consecutive datasets grouped so that each group holds at most <see cref="GrantsPerBatch"/> grants.</summary>
    internal static IEnumerable<IReadOnlyList<DatasetPlan>> GrantBatches(IReadOnlyList<DatasetPlan> datasets)
    {
        var batch = new List<DatasetPlan>();
        var grants = 0;
        foreach (var dataset in datasets)
        {
            if (batch.Count > 0 && grants + dataset.Access.Count > GrantsPerBatch)
            {
                yield return batch;
                batch = [];
                grants = 0;
            }

            batch.Add(dataset);
            grants += dataset.Access.Count;
        }

        if (batch.Count > 0)
        {
            yield return batch;
        }
    }

    /// <summary>Runs the compensations newest first; each failure is kept (and audited) and the others still run.</summary>
    internal static async Task<List<string>> CompensateAsync(WorkflowContext context, string dmpId, List<(string What, Func<Task> Undo)> compensations, string reason, string actor)
    {
        AuditTrail.SetStatus(context, new IntakeStatus("compensating", reason));
        var incomplete = new List<string>();
        for (var i = compensations.Count - 1; i >= 0; i--)
        {
            try
            {
                await compensations[i].Undo();
            }
            catch (WorkflowTaskFailedException ex)
            {
                incomplete.Add($"{compensations[i].What}: {FailureMessages.ForUser(ex.FailureDetails)}");
            }
        }

        if (incomplete.Count > 0)
        {
            await AuditAsync(context, AuditEntries.Create(actor, "compensation.incomplete", context.InstanceId, AuditEntries.DmpSubject(dmpId), context.CurrentUtcDateTime, after: new { reason, incomplete }));
        }

        return incomplete;
    }

    private static async Task<IntakeDmpOutput> FailAsync(WorkflowContext context, string dmpId, GovernancePlan plan, string reason, IReadOnlyList<ApprovalWorkflowOutput> approvals, IReadOnlyList<NotEnforcedFeature> notEnforced, IReadOnlyList<string> incomplete, List<string> warnings, string actor)
    {
        AuditTrail.SetStatus(context, new IntakeStatus("failed", reason));
        var ended = await Audited<SetDmpStateResult>(context, nameof(SetDmpStateActivity), new SetDmpStateInput(dmpId, DmpState.Failed, reason, Now(context), actor), ActivityRetryPolicies.Persistent);
        Wake(context, ended.Waiting, context.InstanceId, nameof(DmpState.Failed));
        await TryNotifyAsync(context, new Notification(
            NotificationKind.Alert, PiAddress(plan), $"DMP provisioning failed: {Line(plan.Title)}",
            $"Dear {Md(plan.PrincipalInvestigator.Name)},\n\nprovisioning of \"{Md(plan.Title)}\" failed: {Md(reason)}.\nEverything this attempt granted was revoked and the empty containers it created were removed"
            + (incomplete.Count > 0 ? " except: " + Md(string.Join("; ", incomplete)) + " (the data steward is alerted)" : string.Empty)
            + ". The data steward can retry once the cause is fixed.",
            [], context.InstanceId, context.InstanceId + ":failed"), warnings);
        return Output(dmpId, IntakeState.Failed, reason, [], [], approvals, notEnforced, warnings, incomplete);
    }

    /// <summary>Tells the versions waiting for this intake that it ended; each then takes its turn or gives way to a newer one.</summary>
    internal static void Wake(WorkflowContext context, IReadOnlyList<string>? waiting, string ended, string state)
    {
        foreach (var instanceId in waiting ?? [])
        {
            if (instanceId != context.InstanceId)
            {
                context.SendEvent(instanceId, TurnEventName, new DmpTurn(ended, state));
            }
        }
    }

    internal static async Task TryNotifyAsync(WorkflowContext context, Notification notification, List<string> warnings)
    {
        if (notification.To.Count == 0)
        {
            warnings.Add($"'{notification.Subject}' has no recipient and was not sent.");
            return;
        }

        try
        {
            await context.CallActivityAsync<NotificationReceipt>(nameof(SendNotificationActivity), notification, ActivityRetryPolicies.Transient);
        }
        catch (WorkflowTaskFailedException ex)
        {
            warnings.Add($"'{notification.Subject}' could not be sent: {FailureMessages.ForUser(ex.FailureDetails)}");
        }
    }

    /// <summary>
    /// An activity that appends to the audit trail: while the trail is damaged the intake waits for its repair (stage
    /// <see cref="AuditTrail.WaitingStage"/>, with what to repair) instead of failing, then runs the step again.
    /// </summary>
    internal static Task<T> Audited<T>(WorkflowContext context, string activity, object input, RetryPolicy retryPolicy) =>
        AuditTrail.CallAsync<T>(context, activity, input, retryPolicy, damage => new IntakeStatus(AuditTrail.WaitingStage, damage));

    internal static Task<AuditReceipt> AuditAsync(WorkflowContext context, AuditEntry entry) =>
        Audited<AuditReceipt>(context, nameof(WriteAuditActivity), entry, ActivityRetryPolicies.Persistent);

    /// <summary>The approvals justifying a dataset's grants: those of the roles the dataset requires (the PI at least).</summary>
    internal static IReadOnlyList<string> ApprovalIdsFor(DatasetPlan dataset, IReadOnlyList<ApprovalWorkflowOutput> approvals)
    {
        var roles = dataset.RequiredApprovals.Select(r => r.Role).ToHashSet();
        var ids = approvals.Where(a => a.IsApproved && roles.Contains(a.Role)).Select(a => a.ApprovalId).ToList();
        return ids.Count > 0 ? ids : [.. approvals.Where(a => a.IsApproved).Select(a => a.ApprovalId)];
    }

    /// <summary>
    /// The approval that stopped the request: a rejection before an expiry before a withdrawal. The others are withdrawn
    /// because of it, and the PI must hear the approver's own reason, not "withdrawn".
    /// </summary>
    internal static ApprovalWorkflowOutput? DecisiveRefusal(IReadOnlyList<ApprovalWorkflowOutput> approvals) =>
        approvals.Where(a => !a.IsApproved).OrderBy(a => a.Outcome switch
        {
            ApprovalOutcome.Rejected => 0,
            ApprovalOutcome.Expired => 1,
            _ => 2,
        }).FirstOrDefault();

    internal static string RefusalReason(ApprovalWorkflowOutput refusal) => refusal.Outcome switch
    {
        ApprovalOutcome.Rejected => $"the {ApprovalRoles.Title(refusal.Role)} ({refusal.DecidedByLabel ?? refusal.Approver}) rejected it" + (string.IsNullOrWhiteSpace(refusal.Comment) ? string.Empty : $": \"{refusal.Comment}\""),
        ApprovalOutcome.Expired => $"the {ApprovalRoles.Title(refusal.Role)} ({refusal.Approver}) did not decide in time",
        _ => $"the {ApprovalRoles.Title(refusal.Role)} approval was withdrawn ({refusal.Comment})",
    };

    internal static IntakeStatus AwaitingStatus(IReadOnlyList<ApprovalRequirement> requirements, DmpEvaluation evaluation) =>
        new("awaiting-approvals", string.Join(", ", requirements.Select(a => ApprovalRoles.Title(a.Role))),
            [.. requirements.Select(a => $"{ApprovalRoles.Title(a.Role)}: {evaluation.Approvers.GetValueOrDefault(a.Role, "?")}")]);

    internal static IReadOnlyList<string> PiAddress(GovernancePlan plan) =>
        plan.PrincipalInvestigator.Email is { } email ? [email] : [];

    internal static IReadOnlyList<NotEnforcedFeature> Distinct(IEnumerable<NotEnforcedFeature> features) =>
        [.. features.DistinctBy(f => f.Feature).OrderBy(f => f.Feature, StringComparer.Ordinal)];

    internal static TaskFailureDetails Innermost(TaskFailureDetails details) => details.InnerFailure is { } inner ? Innermost(inner) : details;

    internal static DateTimeOffset Now(WorkflowContext context) => new(DateTime.SpecifyKind(context.CurrentUtcDateTime, DateTimeKind.Utc));

    /// <summary>The plan for approvers, in Markdown: every value from the DMP is escaped (<see cref="Md"/>).</summary>
    internal static string PlanSummary(GovernancePlan plan) =>
        "The plan:\n" + string.Concat(plan.Datasets.Select(d =>
            $"- {Md(d.Title)} ({Md(d.Key)}): {d.Classification.Classification.ToString().ToLowerInvariant()}, container {Md(d.Storage.ContainerName)}, {d.Storage.Tier.ToString().ToLowerInvariant()} tier, kept until {d.Retention.KeepUntil:yyyy-MM-dd} then {d.Retention.Disposal.ToString().ToLowerInvariant()}; access: "
            + (d.Access.Count == 0 ? "nobody" : string.Join(", ", d.Access.Select(a => $"{Md(a.Principal.Name)} ({a.Role.ToString().ToLowerInvariant()})"))) + "\n"));

    /// <summary>
    /// A value Gardien did not write (DMP text, names, comments, messages quoting them) inside a Markdown message body:
    /// one line, no markup, so it can neither forge a line ("Approved by DPO: yes") nor become a link.
    /// </summary>
    internal static string Md(string? text) => UntrustedText.MarkdownInline(text);

    /// <summary>Such a value in a plain one-line field (a message subject).</summary>
    internal static string Line(string? text) => UntrustedText.PlainLine(text);

    private static string SummaryBody(GovernancePlan plan, List<ContainerSummary> containers, List<GrantSummary> grants, IReadOnlyList<ApprovalWorkflowOutput> approvals, IReadOnlyList<NotEnforcedFeature> notEnforced, List<string> warnings) =>
        $"Dear {Md(plan.PrincipalInvestigator.Name)},\n\nthe governance plan of \"{Md(plan.Title)}\" is approved and in force.\n\nApprovals:\n"
        + string.Concat(approvals.Select(a => $"- {ApprovalRoles.Title(a.Role)}: {Md(a.DecidedByLabel)} on {a.DecidedAt:yyyy-MM-dd}{(string.IsNullOrWhiteSpace(a.Comment) ? string.Empty : $" (\"{Md(a.Comment)}\")")}\n"))
        + "\nStorage:\n" + string.Concat(containers.Select(c => $"- {Md(c.DatasetId)}: {Md(c.Location.ToString())}\n"))
        + "\nAccess:\n" + string.Concat(grants.Select(g => $"- {Md(g.DisplayName ?? g.PrincipalId)}: {g.Level.ToString().ToLowerInvariant()} on {Md(g.Container)}\n"))
        + (notEnforced.Count == 0 ? string.Empty : "\nRecorded but not enforced by this platform:\n" + string.Concat(notEnforced.Select(f => $"- {Md(f.Feature)}: {Md(f.Reason)}\n")))
        + (warnings.Count == 0 ? string.Empty : "\nPlease check:\n" + string.Concat(warnings.Select(w => $"- {Md(w)}\n")));

    private static IntakeDmpOutput Output(string dmpId, IntakeState state, string? reason, IReadOnlyList<ContainerSummary> containers, IReadOnlyList<GrantSummary> grants, IReadOnlyList<ApprovalWorkflowOutput> approvals, IReadOnlyList<NotEnforcedFeature> notEnforced, List<string> warnings, IReadOnlyList<string> incomplete) =>
        new(dmpId, state, reason, containers, grants, approvals, notEnforced, [.. warnings], incomplete);
}
