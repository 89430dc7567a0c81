using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Gardien.Runtime;
using Gardien.Workflows.Access;
using Gardien.Workflows.Approvals;
using Gardien.Workflows.Audit;
using Gardien.Workflows.Governance;
using Gardien.Workflows.Ports;
using Gardien.Workflows.Provisioning;
using PortDisposal = Gardien.Workflows.Ports.DisposalAction;

namespace Gardien.Workflows.Intake;

/// <summary>A new version of a governed DMP.</summary>
/// <param name="DmpJson">The new version; null: fetched from the DMP tool.</param>
public sealed record UpdateDmpInput(string DmpId, string? DmpJson = null, string? SubmittedBy = null, GovernancePolicy? Policy = null)
{
    /// <summary>Unique per submission: tells the submission that started the instance from those that joined it.</summary>
    public string? SubmissionId { get; init; }
}

public enum UpdateState
{
    /// <summary>The change was approved (where needed) and applied: the new plan is in force.</summary>
    Applied,

    /// <summary>The new version changes nothing governance cares about: it is recorded as the version in force.</summary>
    NoChanges,

    /// <summary>This version is not newer than the one recorded (an out-of-order or duplicate event): ignored.</summary>
    Ignored,

    /// <summary>An approver rejected the change (or let it expire): the previous plan stays in force.</summary>
    Rejected,

    /// <summary>Applying failed after retries: this run's new grants and empty new containers were undone; the previous plan stays in force.</summary>
    Failed,

    /// <summary>No active governance for the DMP (disposed of, or an intake the update could not hand the version to).</summary>
    NotGoverned,

    /// <summary>No plan was in force but an intake was running or had ended: this version was handed to an intake of its own (<see cref="UpdateDmpOutput.Intake"/>).</summary>
    TakenIn,

    /// <summary>A newer version claimed the DMP while this one waited for approvals: this one stops, the newer one applies.</summary>
    Superseded,

    /// <summary>The new version could not be read or breaks the policy: the previous plan stays in force.</summary>
    Invalid,
}

/// <summary>What an update ended with.</summary>
public sealed record UpdateDmpOutput(
    string DmpId,
    UpdateState State,
    string? Reason,
    PlanDiff? Diff,
    IReadOnlyList<ApprovalWorkflowOutput> Approvals,
    IReadOnlyList<ContainerSummary> ContainersAdded,
    IReadOnlyList<GrantSummary> Grants,
    IReadOnlyList<string> Revoked,
    IReadOnlyList<string> RetentionUpdated,
    IReadOnlyList<string> Warnings,
    IReadOnlyList<string> CompensationIncomplete)
{
    /// <summary>When <see cref="State"/> is <see cref="UpdateState.TakenIn"/>: what the intake of this version ended with.</summary>
    public IntakeDmpOutput? Intake { get; init; }
}

/// <summary>
/// Applies a new version of a governed DMP: the version is claimed against the registry's <c>modified</c> (an older
/// version arriving late is ignored), the new plan is diffed with the plan in force, only the approvals the change
/// needs are asked (<see cref="PlanDiff.RequiredApprovals"/>), then new datasets are provisioned, grants added, changed
/// and revoked, and retention dates and tags updated. New grants and containers are compensated on failure; revocations
/// are never undone (they only reduce exposure).
/// </summary>
public sealed class UpdateDmpWorkflow : Workflow<UpdateDmpInput, UpdateDmpOutput>
{
    /// <summary>The suffix of an update an intake hands its version to; such an update never hands it back.</summary>
    private const string IntakeHandOverSuffix = "-update";

    /// <summary>The update an intake hands its version to when an older version is in force.</summary>
    public static string HandOverInstanceId(string intakeInstanceId) => intakeInstanceId + IntakeHandOverSuffix;

    /// <summary>The intake that hands its version to <paramref name="updateInstanceId"/>; null for an update started on its own.</summary>
    public static string? HandedOverBy(string updateInstanceId) =>
        updateInstanceId.StartsWith("intake-", StringComparison.Ordinal)
        && updateInstanceId.EndsWith(IntakeHandOverSuffix, StringComparison.Ordinal)
            ? updateInstanceId[..^IntakeHandOverSuffix.Length]
            : null;

    /// <summary>
    /// Instance id of the update of a DMP to the version <paramref name="modified"/>: "update-" + the intake id's slug and
    /// hash + "-" + the version stamp (UTC ticks; the content hash when the DMP has no <c>modified</c>). Duplicates of a
    /// version join one instance; each version gets its own.
    /// </summary>
    public static string InstanceIdFor(string dmpId, DateTimeOffset? modified, string? dmpJson = null)
    {
        var stem = IntakeDmpWorkflow.InstanceIdFor(dmpId)["intake-".Length..];
        var version = modified is { } m
            ? m.UtcTicks.ToString(CultureInfo.InvariantCulture)
            : Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(dmpJson ?? string.Empty)))[..16];
        return $"update-{stem}-{version}";
    }

    public override async Task<UpdateDmpOutput> RunAsync(WorkflowContext context, UpdateDmpInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        var actor = GardienWorkflowOptions.SystemActor(nameof(UpdateDmpWorkflow));
        var warnings = new List<string>();

        AuditTrail.SetStatus(context, new IntakeStatus("validating"));
        var evaluation = await context.CallActivityAsync<DmpEvaluation>(
            nameof(EvaluateDmpActivity), new EvaluateDmpInput(input.DmpId, input.DmpJson, DateOnly.FromDateTime(context.CurrentUtcDateTime), input.Policy), ActivityRetryPolicies.Transient);
        warnings.AddRange(evaluation.Warnings);
        if (!evaluation.IsValid || evaluation.Plan is not { } plan)
        {
            await IntakeDmpWorkflow.AuditAsync(context, AuditEntries.Create(input.SubmittedBy ?? "anonymous", "dmp.update_invalid", context.InstanceId, AuditEntries.DmpSubject(input.DmpId), context.CurrentUtcDateTime, after: new { errors = evaluation.Errors }));
            return Output(input.DmpId, UpdateState.Invalid, string.Join("; ", evaluation.Errors), null, [], [], [], [], [], warnings, []);
        }

        // The out-of-order guard: claim this version against the registry (ETag).
        AuditTrail.SetStatus(context, new IntakeStatus("claiming-version", evaluation.Modified?.ToString("O", CultureInfo.InvariantCulture)));
        var claim = await IntakeDmpWorkflow.Audited<ClaimDmpVersionResult>(context,
            nameof(ClaimDmpVersionActivity), new ClaimDmpVersionInput(input.DmpId, evaluation.Modified, IntakeDmpWorkflow.Now(context)), ActivityRetryPolicies.Persistent);
        if (claim.Outcome is ClaimOutcome.IntakeInProgress or ClaimOutcome.NotGoverned && claim.RecordedState is not DmpState.Disposed
            && !context.InstanceId.EndsWith(IntakeHandOverSuffix, StringComparison.Ordinal))
        {
            // No plan in force yet: the version goes through an intake of its own, which waits for a running intake
            // (and is woken when it ends) or takes the DMP in after a rejection or a failure. Nothing is polled or lost.
            AuditTrail.SetStatus(context, new IntakeStatus("taking-in", claim.Outcome == ClaimOutcome.IntakeInProgress ? "an intake of this DMP is running: this version waits for it" : "no plan is in force: this version is taken in"));
            var intake = await context.CallSubWorkflowAsync<IntakeDmpOutput>(
                nameof(IntakeDmpWorkflow), new IntakeDmpInput(input.DmpId, input.DmpJson, input.SubmittedBy, input.Policy), context.InstanceId + "-intake");
            var reason = $"no plan was in force: this version went through an intake, which ended {intake.State}" + (intake.Reason is null ? string.Empty : $" ({intake.Reason})");
            AuditTrail.SetStatus(context, new IntakeStatus("taken-in", reason));
            return Output(input.DmpId, UpdateState.TakenIn, reason, null, intake.Approvals, intake.Containers, intake.Grants, [], [], [.. warnings, .. intake.Warnings], intake.CompensationIncomplete) with { Intake = intake };
        }

        switch (claim.Outcome)
        {
            case ClaimOutcome.Stale:
                var stale = $"version {evaluation.Modified:O} is not newer than the recorded {claim.RecordedModified:O}";
                await IntakeDmpWorkflow.AuditAsync(context, AuditEntries.Create(actor, "dmp.version_ignored", context.InstanceId, AuditEntries.DmpSubject(input.DmpId), context.CurrentUtcDateTime, after: new { modified = evaluation.Modified, recorded = claim.RecordedModified }));
                AuditTrail.SetStatus(context, new IntakeStatus("ignored", stale));
                return Output(input.DmpId, UpdateState.Ignored, stale, null, [], [], [], [], [], warnings, []);
            case ClaimOutcome.NotGoverned or ClaimOutcome.IntakeInProgress:
                await IntakeDmpWorkflow.AuditAsync(context, AuditEntries.Create(actor, "dmp.update_not_governed", context.InstanceId, AuditEntries.DmpSubject(input.DmpId), context.CurrentUtcDateTime, after: new { modified = evaluation.Modified, outcome = claim.Outcome.ToString() }));
                AuditTrail.SetStatus(context, new IntakeStatus("not-governed"));
                return Output(input.DmpId, UpdateState.NotGoverned, claim.RecordedState == DmpState.Disposed ? "the DMP's data has been disposed of: it is no longer governed" : "the DMP has no plan in force: submit it for intake", null, [], [], [], [], [], warnings, []);
        }

        if (claim.ActivePlanJson is null || GovernanceJson.DeserializePlan(claim.ActivePlanJson) is not { } current)
        {
            return Output(input.DmpId, UpdateState.NotGoverned, "the registry holds no plan in force for this DMP", null, [], [], [], [], [], warnings, []);
        }

        var diff = PlanDiff.Compare(current, plan);
        var planJson = GovernanceJson.Serialize(plan);
        if (diff.IsEmpty)
        {
            await IntakeDmpWorkflow.Audited<SetDmpStateResult>(context, nameof(SetDmpStateActivity),
                new SetDmpStateInput(input.DmpId, DmpState.Active, "update: no governance change", IntakeDmpWorkflow.Now(context), actor, planJson, evaluation.Modified, RequireOwnership: true, Title: plan.Title), ActivityRetryPolicies.Persistent);
            AuditTrail.SetStatus(context, new IntakeStatus("no-changes"));
            return Output(input.DmpId, UpdateState.NoChanges, null, diff, [], [], [], [], [], warnings, []);
        }

        await IntakeDmpWorkflow.AuditAsync(context, AuditEntries.Create(input.SubmittedBy ?? "anonymous", "update.started", context.InstanceId, AuditEntries.DmpSubject(input.DmpId), context.CurrentUtcDateTime,
            before: new { modified = claim.RecordedModified }, after: new { modified = evaluation.Modified, diff }));

        // Only the approvals the change needs.
        IReadOnlyList<ApprovalWorkflowOutput> approvals = [];
        if (diff.RequiredApprovals.Count > 0)
        {
            AuditTrail.SetStatus(context, IntakeDmpWorkflow.AwaitingStatus(diff.RequiredApprovals, evaluation));
            try
            {
                var roles = diff.RequiredApprovals.Select(r => r.Role).ToList();
                var personal = GovernanceEvaluator.InvolvesPersonalData(plan.Datasets.Concat(current.Datasets));
                approvals = await ApprovalWorkflow.RequestAllAsync(context, [.. diff.RequiredApprovals.Select(r => new ApprovalWorkflowInput(
                    input.DmpId, r.Role, "update", r.Reasons, ChangeSummary(diff), null, plan.PrincipalInvestigator.Name, plan.PrincipalInvestigator.Email, plan.Title, input.Policy, roles, personal))]);
            }
            catch (WorkflowTaskFailedException ex)
            {
                return await EndUnchangedAsync(context, input.DmpId, UpdateState.Failed, "an approval could not be requested: " + FailureMessages.ForUser(ex.FailureDetails), diff, [], [], warnings, actor);
            }

            if (IntakeDmpWorkflow.DecisiveRefusal(approvals) is { } refusal)
            {
                var reason = IntakeDmpWorkflow.RefusalReason(refusal);
                await IntakeDmpWorkflow.TryNotifyAsync(context, new Notification(
                    NotificationKind.Rejection, IntakeDmpWorkflow.PiAddress(plan), $"DMP change not approved: {IntakeDmpWorkflow.Line(plan.Title)}",
                    $"Dear {Md(plan.PrincipalInvestigator.Name)},\n\nthe change to \"{Md(plan.Title)}\" was not approved: {Md(reason)}.\nThe previous plan stays in force.\n\n{ChangeSummary(diff)}",
                    [], context.InstanceId, context.InstanceId + ":rejected"), warnings);
                return await EndUnchangedAsync(context, input.DmpId, UpdateState.Rejected, reason, diff, approvals, [], warnings, actor);
            }
        }

        // A newer version may have claimed the DMP while we waited: then it applies, not us.
        var stillOurs = await IntakeDmpWorkflow.Audited<ClaimDmpVersionResult>(context,
            nameof(ClaimDmpVersionActivity), new ClaimDmpVersionInput(input.DmpId, evaluation.Modified, IntakeDmpWorkflow.Now(context)), ActivityRetryPolicies.Persistent);
        if (stillOurs.Outcome != ClaimOutcome.Claimed)
        {
            await IntakeDmpWorkflow.AuditAsync(context, AuditEntries.Create(actor, "update.superseded", context.InstanceId, AuditEntries.DmpSubject(input.DmpId), context.CurrentUtcDateTime,
                after: new { modified = evaluation.Modified, newer = stillOurs.RecordedModified, approvals = approvals.Select(a => a.ApprovalId) }));
            AuditTrail.SetStatus(context, new IntakeStatus("superseded"));
            return Output(input.DmpId, UpdateState.Superseded, $"a newer version ({stillOurs.RecordedModified:O}) claimed the DMP", diff, approvals, [], [], [], [], warnings, []);
        }

        var approvalIds = approvals.Where(a => a.IsApproved).Select(a => a.ApprovalId).ToList();
        var containers = new List<ContainerSummary>();
        var grants = new List<GrantSummary>();
        var revoked = new List<string>();
        var retention = new List<string>();
        var notEnforced = new List<NotEnforcedFeature>();
        var compensations = new List<(string What, Func<Task> Undo)>();
        var byKey = plan.Datasets.ToDictionary(d => d.Key, StringComparer.Ordinal);
        try
        {
            AuditTrail.SetStatus(context, new IntakeStatus("provisioning"));
            foreach (var added in diff.DatasetsAdded)
            {
                var dataset = byKey[added.DatasetKey];
                compensations.Add(($"remove container {added.ContainerName}", () => IntakeDmpWorkflow.Audited<ContainerDeletionOutcome>(context,
                    nameof(RemoveContainerIfEmptyActivity), new RemoveContainerIfEmptyInput(input.DmpId, dataset.Key, added.ContainerName, context.InstanceId, "update compensation", IntakeDmpWorkflow.Now(context), actor), ActivityRetryPolicies.Persistent)));
                var provisioned = await IntakeDmpWorkflow.Audited<ProvisionedContainer>(context,
                    nameof(ProvisionContainerActivity), ProvisionContainerInput.FromPlan(input.DmpId, dataset, IntakeDmpWorkflow.Now(context), actor), ActivityRetryPolicies.Transient);
                containers.Add(new ContainerSummary(dataset.Key, provisioned.Container, provisioned.Location, provisioned.Outcome == ProvisionOutcome.Created));
                notEnforced.AddRange(provisioned.NotEnforcedLocally);
            }

            // Revocations first: they only reduce exposure and need no approval.
            AuditTrail.SetStatus(context, new IntakeStatus("revoking"));
            foreach (var removed in diff.GrantsRemoved)
            {
                var result = await IntakeDmpWorkflow.Audited<RevokeAccessResult>(context, nameof(RevokeAccessActivity), new RevokeAccessInput
                {
                    DmpId = input.DmpId,
                    DatasetId = removed.DatasetKey,
                    Container = removed.ContainerName,
                    Email = removed.Principal.Email,
                    Orcid = removed.Principal.Orcid,
                    Reason = diff.DatasetsRemoved.Any(d => d.DatasetKey == removed.DatasetKey) ? "dataset removed from the DMP" : "no longer in the DMP",
                    At = IntakeDmpWorkflow.Now(context),
                    Actor = actor,
                }, ActivityRetryPolicies.Transient);
                if (result.Changed)
                {
                    revoked.Add($"{removed.Principal.Name} on {removed.ContainerName}");
                }
            }

            AuditTrail.SetStatus(context, new IntakeStatus("granting"));
            var toGrant = diff.GrantsAdded.Concat(diff.GrantsChanged).Select(g => (g.DatasetKey, g.Principal.Key, ApprovalIds: (IReadOnlyList<string>)approvalIds)).ToList();
            foreach (var key in diff.AccessEndChangedFor)
            {
                if (byKey.TryGetValue(key, out var moved))
                {
                    toGrant.AddRange(moved.Access.Where(a => !toGrant.Any(t => t.DatasetKey == key && t.Key == a.Principal.Key)).Select(a => (key, a.Principal.Key, (IReadOnlyList<string>)[])));
                }
            }

            foreach (var (datasetKey, principalKey, ids) in toGrant)
            {
                var dataset = byKey[datasetKey];
                var grant = dataset.Access.First(a => a.Principal.Key == principalKey);
                var isNew = diff.GrantsAdded.Any(g => g.DatasetKey == datasetKey && g.Principal.Key == principalKey);
                var request = GrantAccessInput.FromPlan(input.DmpId, dataset, grant, ids, IntakeDmpWorkflow.Now(context), actor);
                if (isNew)
                {
                    compensations.Add(($"revoke {grant.Principal.Name} on {request.Container}", () => IntakeDmpWorkflow.Audited<RevokeAccessResult>(context,
                        nameof(RevokeAccessActivity), new RevokeAccessInput
                        {
                            DmpId = input.DmpId,
                            DatasetId = request.DatasetId,
                            Container = request.Container,
                            Email = request.Email,
                            Orcid = request.Orcid,
                            Reason = "update compensation",
                            RemoveEmptyGroupAssignment = true,
                            At = IntakeDmpWorkflow.Now(context),
                            Actor = actor,
                        },
                        ActivityRetryPolicies.Persistent)));
                }

                var granted = await IntakeDmpWorkflow.Audited<GrantAccessResult>(context, nameof(GrantAccessActivity), request, ActivityRetryPolicies.Transient);
                if (granted.Status == GrantStatus.PrincipalNotFound)
                {
                    warnings.Add($"{grant.Principal.Name} ({grant.Principal.Email ?? grant.Principal.Orcid}) is not in the directory: no access to {datasetKey} was granted.");
                    continue;
                }

                grants.Add(new GrantSummary(datasetKey, granted.Container, granted.PrincipalId!, granted.DisplayName, granted.Level));
                notEnforced.AddRange(granted.NotEnforcedLocally);
            }

            AuditTrail.SetStatus(context, new IntakeStatus("retention"));
            foreach (var change in diff.RetentionChanges)
            {
                var dataset = byKey[change.DatasetKey];
                var oldDisposal = Enum.Parse<PortDisposal>(change.OldDisposal.ToString());
                compensations.Add(($"restore retention of {change.DatasetKey}", () => IntakeDmpWorkflow.Audited<UpdateDatasetRetentionResult>(context,
                    nameof(UpdateDatasetRetentionActivity), new UpdateDatasetRetentionInput(input.DmpId, change.DatasetKey, dataset.Storage.ContainerName, change.OldKeepUntil, oldDisposal, IntakeDmpWorkflow.Now(context), actor), ActivityRetryPolicies.Persistent)));
                await IntakeDmpWorkflow.Audited<UpdateDatasetRetentionResult>(context,
                    nameof(UpdateDatasetRetentionActivity),
                    new UpdateDatasetRetentionInput(input.DmpId, change.DatasetKey, dataset.Storage.ContainerName, change.NewKeepUntil, Enum.Parse<PortDisposal>(change.NewDisposal.ToString()), IntakeDmpWorkflow.Now(context), actor),
                    ActivityRetryPolicies.Transient);
                retention.Add($"{change.DatasetKey}: keep until {change.NewKeepUntil:yyyy-MM-dd} (was {change.OldKeepUntil:yyyy-MM-dd}), then {change.NewDisposal.ToString().ToLowerInvariant()}");
            }

            foreach (var change in diff.ClassificationChanges.Where(c => c.RequiresReprovisioning))
            {
                warnings.Add($"{change.DatasetKey} changed from {change.Old} to {change.New}: its storage settings differ (encryption scope, tier or immutability); the data steward must migrate the container by hand.");
            }

            var applied = await IntakeDmpWorkflow.Audited<SetDmpStateResult>(context, nameof(SetDmpStateActivity),
                new SetDmpStateInput(input.DmpId, DmpState.Active, "update applied", IntakeDmpWorkflow.Now(context), actor, planJson, evaluation.Modified, IntakeDmpWorkflow.Distinct(notEnforced), RequireOwnership: true, Title: plan.Title, ContactEmail: plan.PrincipalInvestigator.Email),
                ActivityRetryPolicies.Persistent);
            if (!applied.Applied)
            {
                throw new WorkflowTaskFailedException("a newer version claimed the DMP while this update was being applied");
            }
        }
        catch (WorkflowTaskFailedException ex)
        {
            var reason = string.IsNullOrEmpty(ex.TaskName) ? ex.Message : $"{ex.TaskName} failed after retries: {FailureMessages.ForUser(ex.FailureDetails)}";
            var incomplete = await IntakeDmpWorkflow.CompensateAsync(context, input.DmpId, compensations, reason, actor);
            return await EndUnchangedAsync(context, input.DmpId, UpdateState.Failed, reason, diff, approvals, incomplete, warnings, actor);
        }

        AuditTrail.SetStatus(context, new IntakeStatus("notifying"));
        await IntakeDmpWorkflow.TryNotifyAsync(context, new Notification(
            NotificationKind.Summary, IntakeDmpWorkflow.PiAddress(plan), $"DMP change applied: {IntakeDmpWorkflow.Line(plan.Title)}",
            $"Dear {Md(plan.PrincipalInvestigator.Name)},\n\nthe change to \"{Md(plan.Title)}\" is in force.\n\n{ChangeSummary(diff)}"
            + (revoked.Count == 0 ? string.Empty : "\nAccess revoked:\n" + string.Concat(revoked.Select(r => $"- {Md(r)}\n")))
            + (warnings.Count == 0 ? string.Empty : "\nPlease check:\n" + string.Concat(warnings.Select(w => $"- {Md(w)}\n"))),
            [], context.InstanceId, context.InstanceId + ":summary"), warnings);
        foreach (var container in containers)
        {
            try
            {
                await IntakeDmpWorkflow.Audited<OperationResult>(context,
                    nameof(WriteBackDmpActivity), new WriteBackDmpInput(input.DmpId, container.DatasetId, container.Location, container.Container, IntakeDmpWorkflow.Now(context), actor), ActivityRetryPolicies.Transient);
            }
            catch (WorkflowTaskFailedException ex)
            {
                warnings.Add($"the provisioned location of {container.DatasetId} could not be written back to the DMP tool: {FailureMessages.ForUser(ex.FailureDetails)}");
            }
        }

        AuditTrail.SetStatus(context, new IntakeStatus("applied"));
        return Output(input.DmpId, UpdateState.Applied, null, diff, approvals, containers, grants, revoked, retention, warnings, []);
    }

    /// <summary>Ends with the previous plan still in force (the claimed version stays recorded, so older versions stay ignored).</summary>
    private static async Task<UpdateDmpOutput> EndUnchangedAsync(WorkflowContext context, string dmpId, UpdateState state, string reason, PlanDiff diff, IReadOnlyList<ApprovalWorkflowOutput> approvals, IReadOnlyList<string> incomplete, List<string> warnings, string actor)
    {
        AuditTrail.SetStatus(context, new IntakeStatus(state.ToString().ToLowerInvariant(), reason));
        await IntakeDmpWorkflow.Audited<SetDmpStateResult>(context, nameof(SetDmpStateActivity),
            new SetDmpStateInput(dmpId, DmpState.Active, $"update {state.ToString().ToLowerInvariant()}: {reason}", IntakeDmpWorkflow.Now(context), actor, RequireOwnership: true), ActivityRetryPolicies.Persistent);
        return Output(dmpId, state, reason, diff, approvals, [], [], [], [], warnings, incomplete);
    }

    internal static string ChangeSummary(PlanDiff diff)
    {
        var lines = new List<string>();
        lines.AddRange(diff.DatasetsAdded.Select(d => $"- new dataset {Md(d.Title)} ({Md(d.DatasetKey)}, {d.Classification.ToString().ToLowerInvariant()})"));
        lines.AddRange(diff.DatasetsRemoved.Select(d => $"- dataset {Md(d.Title)} ({Md(d.DatasetKey)}) removed (data stays under retention)"));
        lines.AddRange(diff.GrantsAdded.Select(g => $"- {Md(g.Principal.Name)} gains {g.NewRole?.ToString().ToLowerInvariant()} access to {Md(g.DatasetKey)}"));
        lines.AddRange(diff.GrantsChanged.Select(g => $"- {Md(g.Principal.Name)}: {g.OldRole?.ToString().ToLowerInvariant()} → {g.NewRole?.ToString().ToLowerInvariant()} on {Md(g.DatasetKey)}"));
        lines.AddRange(diff.GrantsRemoved.Select(g => $"- {Md(g.Principal.Name)} loses access to {Md(g.DatasetKey)}"));
        lines.AddRange(diff.RetentionChanges.Select(r => $"- {Md(r.DatasetKey)}: keep until {r.NewKeepUntil:yyyy-MM-dd} (was {r.OldKeepUntil:yyyy-MM-dd})"));
        lines.AddRange(diff.ClassificationChanges.Select(c => $"- {Md(c.DatasetKey)}: {c.Old.ToString().ToLowerInvariant()} → {c.New.ToString().ToLowerInvariant()}"));
        if (diff.PrincipalInvestigatorChangedTo is { } pi)
        {
            lines.Add($"- the PI becomes {Md(pi.Name)}");
        }

        return "The change:\n" + string.Join("\n", lines) + "\n";
    }

    private static string Md(string? text) => IntakeDmpWorkflow.Md(text);

    private static UpdateDmpOutput Output(string dmpId, UpdateState state, string? reason, PlanDiff? diff, IReadOnlyList<ApprovalWorkflowOutput> approvals, IReadOnlyList<ContainerSummary> containers, IReadOnlyList<GrantSummary> grants, IReadOnlyList<string> revoked, IReadOnlyList<string> retention, List<string> warnings, IReadOnlyList<string> incomplete) =>
        new(dmpId, state, reason, diff, approvals, containers, grants, revoked, retention, [.. warnings], incomplete);
}
