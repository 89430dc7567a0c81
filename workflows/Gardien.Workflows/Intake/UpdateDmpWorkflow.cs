using System.Globalization;
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

    /// <summary>
    /// Applying failed after retries: this run's new grants and empty new containers were undone; the previous plan stays in force.
    /// </summary>
    Failed,

    /// <summary>No active governance for the DMP (disposed of, or an intake the update could not hand the version to).</summary>
    NotGoverned,

    /// <summary>
    /// No plan was in force but an intake was running or had ended: this version was handed to an intake of its own
    /// (<see cref="UpdateDmpOutput.Intake"/>).
    /// </summary>
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

    /// <summary>Messages of this update and its approvals that could not be delivered (each audited; the update carried on).</summary>
    public IReadOnlyList<NotificationFailure> UndeliveredNotifications { get; init; } = [];
}

/// <summary>
/// Applies a new version of a governed DMP, in phases: validate → claim (the version against the registry's
/// <c>modified</c>: an older version arriving late is ignored; no plan in force yet: the version goes through an intake of
/// its own, which waits for a running intake and is woken when it ends) → diff with the plan in force → approvals (only
/// those the change needs, <see cref="PlanDiff.RequiredApprovals"/>) → apply (the saga: new datasets provisioned, grants
/// revoked, added and changed in batches, retention dates and tags updated) → announce. New grants, containers and
/// retention changes are undone on failure; revocations never are (they only reduce exposure).
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

    public override Task<UpdateDmpOutput> RunAsync(WorkflowContext context, UpdateDmpInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        return new UpdateRun(context, input).RunAsync();
    }

    /// <summary>One execution of an update: the phases in order, each ending the run early when it decides the outcome.</summary>
    private sealed class UpdateRun : DmpRun
    {
        private readonly UpdateDmpInput _input;
        private readonly List<string> _revoked = [];
        private readonly List<string> _retention = [];
        private DmpEvaluation _evaluation = null!;
        private GovernancePlan _plan = null!;
        private GovernancePlan _current = null!;
        private PlanDiff? _diff;
        private DateTimeOffset? _recordedModified;
        private IReadOnlyList<ApprovalWorkflowOutput> _approvals = [];

        public UpdateRun(WorkflowContext context, UpdateDmpInput input)
            : base(context, GardienWorkflowOptions.SystemActor(nameof(UpdateDmpWorkflow)))
        {
            _input = input;
            DmpId = input.DmpId;
        }

        public async Task<UpdateDmpOutput> RunAsync() =>
            await ValidateAsync()
            ?? await ClaimAsync()
            ?? await DiffAsync()
            ?? await ApprovalsAsync()
            ?? await ApplyAsync()
            ?? await AnnounceAsync();

        /// <summary>Validate: an invalid version is audited and ignored; the plan in force stays.</summary>
        private async Task<UpdateDmpOutput?> ValidateAsync()
        {
            _evaluation = await EvaluateAsync(_input.DmpId, _input.DmpJson, _input.Policy);
            if (_evaluation.IsValid && _evaluation.Plan is { } plan)
            {
                _plan = plan;
                return null;
            }

            await Context.AuditAsync(
                "dmp.update_invalid", About, after: new { errors = _evaluation.Errors }, actor: _input.SubmittedBy ?? "anonymous");
            return Ended(UpdateState.Invalid, string.Join("; ", _evaluation.Errors));
        }

        /// <summary>
        /// Claim: the out-of-order guard (ETag). With no plan in force yet, the version goes through an intake of its own,
        /// which waits for a running intake (and is woken when it ends) or takes the DMP in: nothing is polled or lost.
        /// </summary>
        private async Task<UpdateDmpOutput?> ClaimAsync()
        {
            SetStatus("claiming-version", _evaluation.Modified?.ToString("O", CultureInfo.InvariantCulture));
            var claim = await Context.ClaimDmpVersionAsync(new ClaimDmpVersionInput(DmpId, _evaluation.Modified, Context.UtcNow()));
            if (claim.Outcome is ClaimOutcome.IntakeInProgress or ClaimOutcome.NotGoverned && claim.RecordedState is not DmpState.Disposed
                && !Context.InstanceId.EndsWith(IntakeHandOverSuffix, StringComparison.Ordinal))
            {
                return await TakenInAsync(claim.Outcome);
            }

            switch (claim.Outcome)
            {
                case ClaimOutcome.Stale:
                    var stale = $"version {_evaluation.Modified:O} is not newer than the recorded {claim.RecordedModified:O}";
                    await Context.AuditAsync(
                        "dmp.version_ignored",
                        About,
                        after: new { modified = _evaluation.Modified, recorded = claim.RecordedModified },
                        actor: Actor);
                    SetStatus("ignored", stale);
                    return Ended(UpdateState.Ignored, stale);
                case ClaimOutcome.NotGoverned or ClaimOutcome.IntakeInProgress:
                    await Context.AuditAsync("dmp.update_not_governed", About,
                        after: new { modified = _evaluation.Modified, outcome = claim.Outcome.ToString() }, actor: Actor);
                    SetStatus("not-governed");
                    return Ended(UpdateState.NotGoverned, claim.RecordedState == DmpState.Disposed
                        ? "the DMP's data has been disposed of: it is no longer governed"
                        : "the DMP has no plan in force: submit it for intake");
            }

            if (claim.ActivePlanJson is null || GovernanceJson.DeserializePlan(claim.ActivePlanJson) is not { } current)
            {
                return Ended(UpdateState.NotGoverned, "the registry holds no plan in force for this DMP");
            }

            _current = current;
            _recordedModified = claim.RecordedModified;
            return null;
        }

        private async Task<UpdateDmpOutput> TakenInAsync(ClaimOutcome outcome)
        {
            SetStatus("taking-in", outcome == ClaimOutcome.IntakeInProgress
                ? "an intake of this DMP is running: this version waits for it"
                : "no plan is in force: this version is taken in");
            var intake = await Context.CallSubWorkflowAsync<IntakeDmpOutput>(
                nameof(IntakeDmpWorkflow),
                new IntakeDmpInput(DmpId, _input.DmpJson, _input.SubmittedBy, _input.Policy),
                Context.InstanceId + "-intake");
            var reason = $"no plan was in force: this version went through an intake, which ended {intake.State}"
                + (intake.Reason is null ? string.Empty : $" ({intake.Reason})");
            SetStatus("taken-in", reason);
            Warnings.AddRange(intake.Warnings);
            return new UpdateDmpOutput(
                DmpId,
                UpdateState.TakenIn,
                reason,
                null,
                intake.Approvals,
                intake.Containers,
                intake.Grants,
                [],
                [],
                [.. Warnings],
                intake.CompensationIncomplete)
            {
                Intake = intake,
                UndeliveredNotifications = [.. Context.UndeliveredNotifications(), .. intake.UndeliveredNotifications],
            };
        }

        /// <summary>Diff with the plan in force: no change that governance cares about records the version and ends.</summary>
        private async Task<UpdateDmpOutput?> DiffAsync()
        {
            _diff = PlanDiff.Compare(_current, _plan);
            if (_diff.IsEmpty)
            {
                await Context.SetDmpStateAsync(new SetDmpStateInput(
                    DmpId,
                    DmpState.Active,
                    "update: no governance change",
                    Context.UtcNow(),
                    Actor,
                    GovernanceJson.Serialize(_plan),
                    _evaluation.Modified,
                    RequireOwnership: true,
                    Title: _plan.Title));
                SetStatus("no-changes");
                return Ended(UpdateState.NoChanges, null);
            }

            await Context.AuditAsync(
                "update.started",
                About,
                before: new { modified = _recordedModified },
                after: new { modified = _evaluation.Modified, diff = _diff },
                actor: _input.SubmittedBy ?? "anonymous");
            return null;
        }

        /// <summary>Approvals: only those the change needs; then the version must still be ours (a newer one may claim it).</summary>
        private async Task<UpdateDmpOutput?> ApprovalsAsync()
        {
            var diff = _diff!;
            if (diff.RequiredApprovals.Count > 0)
            {
                Context.SetStatus(AwaitingStatus(diff.RequiredApprovals, _evaluation));
                try
                {
                    var personalData = GovernanceEvaluator.InvolvesPersonalData(_plan.Datasets.Concat(_current.Datasets));
                    _approvals = await RequestApprovalsAsync(
                        diff.RequiredApprovals, "update", Messages.ChangeSummary(diff), _plan, _input.Policy, personalData);
                }
                catch (WorkflowTaskFailedException ex)
                {
                    var reason = "an approval could not be requested: " + FailureMessages.ForUser(ex.FailureDetails);
                    return await UnchangedAsync(UpdateState.Failed, reason, []);
                }

                if (ApprovalRefusals.Decisive(_approvals) is { } refusal)
                {
                    await NotifyPiAsync(_plan, Messages.UpdateRejected(_plan, refusal, diff), "rejected");
                    return await UnchangedAsync(UpdateState.Rejected, ApprovalRefusals.Describe(refusal), []);
                }
            }

            var stillOurs = await Context.ClaimDmpVersionAsync(new ClaimDmpVersionInput(DmpId, _evaluation.Modified, Context.UtcNow()));
            if (stillOurs.Outcome == ClaimOutcome.Claimed)
            {
                return null;
            }

            await Context.AuditAsync("update.superseded", About, actor: Actor,
                after: new
                {
                    modified = _evaluation.Modified,
                    newer = stillOurs.RecordedModified,
                    approvals = _approvals.Select(a => a.ApprovalId),
                });
            SetStatus("superseded");
            return Ended(UpdateState.Superseded, $"a newer version ({stillOurs.RecordedModified:O}) claimed the DMP") with
            {
                Approvals = _approvals,
                UndeliveredNotifications = Undelivered(_approvals),
            };
        }

        /// <summary>
        /// Apply, the saga: new datasets, revocations (first: they only reduce exposure), grants, retention; then the new plan
        /// in the registry if this instance still owns the claim. A failure undoes this run's additions; the plan in force stays.
        /// </summary>
        private async Task<UpdateDmpOutput?> ApplyAsync()
        {
            var diff = _diff!;
            string reason;
            try
            {
                if (await ApplyChangesAsync(diff))
                {
                    return null;
                }

                reason = "a newer version claimed the DMP while this update was being applied";
            }
            catch (WorkflowTaskFailedException ex)
            {
                reason = FailureReason(ex);
            }

            return await UnchangedAsync(UpdateState.Failed, reason, await CompensateAsync(reason));
        }

        /// <summary>True when the registry took the new plan; false when a newer version owns the DMP now.</summary>
        private async Task<bool> ApplyChangesAsync(PlanDiff diff)
        {
            var byKey = _plan.Datasets.ToDictionary(d => d.Key, StringComparer.Ordinal);
            SetStatus("provisioning");
            foreach (var added in diff.DatasetsAdded)
            {
                await ProvisionDatasetAsync(byKey[added.DatasetKey], "update compensation");
            }

            SetStatus("revoking");
            foreach (var removed in diff.GrantsRemoved)
            {
                var result = await Context.RevokeAccessAsync(
                    new RevokeAccessInput
                    {
                        DmpId = DmpId,
                        DatasetId = removed.DatasetKey,
                        Container = removed.ContainerName,
                        Email = removed.Principal.Email,
                        Orcid = removed.Principal.Orcid,
                        Reason = diff.DatasetsRemoved.Any(d => d.DatasetKey == removed.DatasetKey)
                            ? "dataset removed from the DMP"
                            : "no longer in the DMP",
                        At = Context.UtcNow(),
                        Actor = Actor,
                    },
                    ActivityRetryPolicies.Transient);
                if (result.Changed)
                {
                    _revoked.Add($"{removed.Principal.Name} on {removed.ContainerName}");
                }
            }

            SetStatus("granting");
            await GrantAsync(PlannedGrants(diff, byKey), "update compensation");

            SetStatus("retention");
            foreach (var change in diff.RetentionChanges)
            {
                var container = byKey[change.DatasetKey].Storage.ContainerName;
                OnFailureUndo($"restore retention of {change.DatasetKey}", () => Context.UpdateDatasetRetentionAsync(
                    new UpdateDatasetRetentionInput(
                        DmpId, change.DatasetKey, container, change.OldKeepUntil, Disposal(change.OldDisposal), Context.UtcNow(), Actor)));
                var retention = new UpdateDatasetRetentionInput(
                    DmpId, change.DatasetKey, container, change.NewKeepUntil, Disposal(change.NewDisposal), Context.UtcNow(), Actor);
                await Context.UpdateDatasetRetentionAsync(retention, ActivityRetryPolicies.Transient);
                _retention.Add($"{change.DatasetKey}: keep until {change.NewKeepUntil:yyyy-MM-dd} (was {change.OldKeepUntil:yyyy-MM-dd}), "
                    + $"then {change.NewDisposal.ToString().ToLowerInvariant()}");
            }

            foreach (var change in diff.ClassificationChanges.Where(c => c.RequiresReprovisioning))
            {
                Warnings.Add($"{change.DatasetKey} changed from {change.Old} to {change.New}: its storage settings differ "
                    + "(encryption scope, tier or immutability); the data steward must migrate the container by hand.");
            }

            var applied = await Context.SetDmpStateAsync(new SetDmpStateInput(
                DmpId,
                DmpState.Active,
                "update applied",
                Context.UtcNow(),
                Actor,
                GovernanceJson.Serialize(_plan),
                _evaluation.Modified,
                DistinctNotEnforced(),
                RequireOwnership: true,
                Title: _plan.Title,
                ContactEmail: _plan.PrincipalInvestigator.Email));
            return applied.Applied;
        }

        /// <summary>
        /// Added and changed access (new grants carry this update's approvals and are undone on failure), then the grants of
        /// datasets whose access end moved (they keep the approvals they have).
        /// </summary>
        private List<PlannedGrant> PlannedGrants(PlanDiff diff, Dictionary<string, DatasetPlan> byKey)
        {
            var approvalIds = _approvals.Where(a => a.IsApproved).Select(a => a.ApprovalId).ToList();
            var planned = new List<PlannedGrant>();
            foreach (var change in diff.GrantsAdded.Concat(diff.GrantsChanged))
            {
                var dataset = byKey[change.DatasetKey];
                var isNew = diff.GrantsAdded.Any(g => g.DatasetKey == change.DatasetKey && g.Principal.Key == change.Principal.Key);
                var grant = dataset.Access.First(a => a.Principal.Key == change.Principal.Key);
                planned.Add(new PlannedGrant(dataset, grant, approvalIds, UndoOnFailure: isNew));
            }

            foreach (var key in diff.AccessEndChangedFor)
            {
                if (byKey.TryGetValue(key, out var moved))
                {
                    planned.AddRange(moved.Access
                        .Where(a => !planned.Any(p => p.Dataset.Key == key && p.Grant.Principal.Key == a.Principal.Key))
                        .Select(a => new PlannedGrant(moved, a, [], UndoOnFailure: false)));
                }
            }

            return planned;
        }

        /// <summary>Announce: the change is in force; a message or a write-back that fails is reported, never undone.</summary>
        private async Task<UpdateDmpOutput> AnnounceAsync()
        {
            SetStatus("notifying");
            await NotifyPiAsync(_plan, Messages.UpdateApplied(_plan, _diff!, _revoked, Warnings), "summary");
            await WriteBackAsync();
            SetStatus("applied");
            return new UpdateDmpOutput(
                DmpId,
                UpdateState.Applied,
                null,
                _diff,
                _approvals,
                [.. Containers],
                [.. Grants],
                [.. _revoked],
                [.. _retention],
                [.. Warnings],
                [])
            {
                UndeliveredNotifications = Undelivered(_approvals),
            };
        }

        /// <summary>Ends with the previous plan in force (the claimed version stays recorded: older versions stay ignored).</summary>
        private async Task<UpdateDmpOutput> UnchangedAsync(UpdateState state, string reason, IReadOnlyList<string> incomplete)
        {
            var word = state.ToString().ToLowerInvariant();
            SetStatus(word, reason);
            await Context.SetDmpStateAsync(
                new SetDmpStateInput(DmpId, DmpState.Active, $"update {word}: {reason}", Context.UtcNow(), Actor, RequireOwnership: true));
            return Ended(state, reason) with
            {
                Approvals = _approvals,
                CompensationIncomplete = incomplete,
                UndeliveredNotifications = Undelivered(_approvals),
            };
        }

        /// <summary>An update that changed nothing.</summary>
        private UpdateDmpOutput Ended(UpdateState state, string? reason) =>
            new(DmpId, state, reason, _diff, [], [], [], [], [], [.. Warnings], [])
            {
                UndeliveredNotifications = Context.UndeliveredNotifications(),
            };

        private static PortDisposal Disposal(Governance.DisposalAction action) => Enum.Parse<PortDisposal>(action.ToString());
    }
}
