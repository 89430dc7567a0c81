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

    /// <summary>
    /// The same or a newer version of the DMP was already in intake or waiting for its turn: this one stopped, the newest wins.
    /// </summary>
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
    /// <summary>When <see cref="State"/> is <see cref="IntakeState.Updated"/>: what the update of the version in force ended in.</summary>
    public UpdateDmpOutput? Update { get; init; }

    /// <summary>Messages of this intake and its approvals that could not be delivered (each audited; the intake carried on).</summary>
    public IReadOnlyList<NotificationFailure> UndeliveredNotifications { get; init; } = [];
}

/// <summary>The stage shown by <c>SetCustomStatus</c>.</summary>
/// <param name="Awaiting">While approvals run: who is awaited ("role: e-mail"); each approval's own status (instance
/// <c>{instanceId}-approval-{role}</c>) adds the delegate once escalated.</param>
public sealed record IntakeStatus(string Stage, string? Detail = null, IReadOnlyList<string>? Awaiting = null) : IWorkflowStatus
{
    public IWorkflowStatus WaitingForAuditTrail(string damage) => this with { Stage = AuditTrail.WaitingStage, Detail = damage };
}

/// <summary>
/// Takes a DMP into governance, in five phases: validate (lenient read, plan) → record (one version at a time) → approvals
/// (those the plan requires, in parallel) → provision (the saga: containers, grants, registry Active) → announce (PI
/// summary, write-back to the DMP tool). A rejection ends Rejected with nothing provisioned; a failure after retries
/// compensates (revokes what was granted, removes the empty containers this run created) and ends Failed. The instance id
/// derives from the dmp_id (<see cref="InstanceIdFor"/>), so a duplicate submission joins the running instance instead of
/// provisioning twice.
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

    public override Task<IntakeDmpOutput> RunAsync(WorkflowContext context, IntakeDmpInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        return new IntakeRun(context, input).RunAsync();
    }

    /// <summary>How often a queued version checks that the intake it waits for still runs (<see cref="CheckQueueOwnerActivity"/>).
    /// </summary>
    internal static readonly TimeSpan QueueOwnerCheckEvery = TimeSpan.FromDays(1);

    /// <summary>The approvals justifying a dataset's grants: those of the roles the dataset requires (the PI at least).</summary>
    internal static IReadOnlyList<string> ApprovalIdsFor(DatasetPlan dataset, IReadOnlyList<ApprovalWorkflowOutput> approvals)
    {
        var roles = dataset.RequiredApprovals.Select(r => r.Role).ToHashSet();
        var ids = approvals.Where(a => a.IsApproved && roles.Contains(a.Role)).Select(a => a.ApprovalId).ToList();
        return ids.Count > 0 ? ids : [.. approvals.Where(a => a.IsApproved).Select(a => a.ApprovalId)];
    }

    /// <summary>One execution of an intake: the phases in order, each ending the run early when it decides the outcome.</summary>
    private sealed class IntakeRun(WorkflowContext context, IntakeDmpInput input)
        : DmpRun(context, GardienWorkflowOptions.SystemActor(nameof(IntakeDmpWorkflow)))
    {
        private readonly string _submittedBy = input.SubmittedBy ?? "anonymous";
        private DmpEvaluation _evaluation = null!;
        private GovernancePlan _plan = null!;
        private IReadOnlyList<ApprovalWorkflowOutput> _approvals = [];

        public async Task<IntakeDmpOutput> RunAsync() =>
            await ValidateAsync()
            ?? await RecordAsync()
            ?? await ApprovalsAsync()
            ?? await ProvisionAsync()
            ?? await AnnounceAsync();

        /// <summary>Validate: an invalid DMP is audited, its contact told what to fix, and nothing is recorded.</summary>
        private async Task<IntakeDmpOutput?> ValidateAsync()
        {
            _evaluation = await EvaluateAsync(input.DmpId, input.DmpJson, input.Policy);
            DmpId = _evaluation.DmpId.Length > 0 ? _evaluation.DmpId : input.DmpId ?? string.Empty;
            if (_evaluation.IsValid && _evaluation.Plan is { } plan)
            {
                _plan = plan;
                return null;
            }

            await Context.AuditAsync("dmp.invalid", About, after: new { errors = _evaluation.Errors }, actor: _submittedBy);
            if (_evaluation.ContactEmail is { } contact)
            {
                await NotifyAsync(Messages.IntakeInvalid(_evaluation.Title ?? DmpId, _evaluation.Errors), [contact], "invalid");
            }

            SetStatus("invalid", _evaluation.Errors.FirstOrDefault());
            return NothingDone(IntakeState.Invalid, string.Join("; ", _evaluation.Errors));
        }

        /// <summary>
        /// Record: versions of one DMP are taken in one at a time. The registry record decides whether this one proceeds,
        /// waits for the intake of an older version (and is woken when it ends), or gives way to the same or a newer one.
        /// </summary>
        private async Task<IntakeDmpOutput?> RecordAsync()
        {
            RecordDmpResult recorded;
            while (true)
            {
                SetStatus("recording");
                recorded = await Context.RecordDmpAsync(
                    new RecordDmpInput(DmpId, _evaluation.Modified, _evaluation.Title, _evaluation.ContactEmail, Context.UtcNow()));
                Wake(recorded.Wake, "superseded");
                if (recorded.Outcome != RecordDmpOutcome.Queued)
                {
                    break;
                }

                SetStatus("queued", $"waiting for the intake {recorded.Owner} of version {recorded.OwnerModified:O} to end; "
                    + "a newer version arriving meanwhile takes this one's place");
                await WaitForTurnAsync(recorded.Owner);
            }

            switch (recorded.Outcome)
            {
                case RecordDmpOutcome.Superseded:
                    {
                        var reason = $"the same or a newer version ({recorded.OwnerModified:O}) is already taken in by {recorded.Owner}";
                        SetStatus("superseded", reason);
                        return NothingDone(IntakeState.Superseded, reason);
                    }

                case RecordDmpOutcome.NeedsUpdate:
                    // An older version is in force (it may have been approved while this one waited): apply this one as an update.
                    return await AppliedAsUpdateAsync(recorded);

                case RecordDmpOutcome.AlreadyGoverned:
                    {
                        var reason = $"the DMP is already governed ({recorded.ExistingState}, version {recorded.ExistingModified:O})";
                        await Context.AuditAsync("intake.already_governed", About,
                            before: new { state = recorded.ExistingState?.ToString(), modified = recorded.ExistingModified },
                            after: new { modified = _evaluation.Modified, reason },
                            actor: _submittedBy);
                        SetStatus("already-governed", reason);
                        return NothingDone(IntakeState.AlreadyGoverned, reason);
                    }
            }

            await Context.AuditAsync("intake.started", About, actor: _submittedBy, after: new
            {
                modified = _evaluation.Modified,
                datasets = _plan.Datasets.Select(d => new
                {
                    d.Key,
                    classification = d.Classification.Classification.ToString(),
                    container = d.Storage.ContainerName,
                }),
                approvals = _plan.RequiredApprovals.Select(a => a.Role.ToString()),
            });
            return null;
        }

        private async Task<IntakeDmpOutput> AppliedAsUpdateAsync(RecordDmpResult recorded)
        {
            SetStatus("updating", $"version {recorded.ExistingModified:O} is in force; this version is applied as an update");
            var update = await Context.CallSubWorkflowAsync<UpdateDmpOutput>(
                nameof(UpdateDmpWorkflow),
                new UpdateDmpInput(DmpId, input.DmpJson, input.SubmittedBy, input.Policy),
                UpdateDmpWorkflow.HandOverInstanceId(Context.InstanceId));
            Warnings.AddRange(update.Warnings);
            if (update.State is UpdateState.Superseded or UpdateState.Ignored)
            {
                // Not applied: a newer version claimed the DMP first. "Updated" would tell the submitter otherwise.
                var overtaken = $"a newer version overtook this one while it was being applied as an update ({update.Reason})";
                SetStatus("superseded", overtaken);
                return new IntakeDmpOutput(DmpId, IntakeState.Superseded, overtaken, [], [], update.Approvals, [], [.. Warnings], [])
                {
                    Update = update,
                    UndeliveredNotifications = [.. Context.UndeliveredNotifications(), .. update.UndeliveredNotifications],
                };
            }

            var reason = $"version {recorded.ExistingModified:O} was in force: this version was applied as an update, "
                + $"which ended {update.State}"
                + (update.Reason is null ? string.Empty : $" ({update.Reason})");
            SetStatus("updated", reason);
            return new IntakeDmpOutput(
                DmpId, IntakeState.Updated, reason, [], [], update.Approvals, [], [.. Warnings], update.CompensationIncomplete)
            {
                Update = update,
                UndeliveredNotifications = [.. Context.UndeliveredNotifications(), .. update.UndeliveredNotifications],
            };
        }

        /// <summary>
        /// The intake this version waits for wakes it when it ends. One stopped from outside never does, so once a day the
        /// waiting version checks that it still runs; the turn itself always comes from the event or that check.
        /// </summary>
        private async Task WaitForTurnAsync(string? owner)
        {
            while (true)
            {
                try
                {
                    await Context.WaitForExternalEvent<DmpTurn>(TurnEventName, QueueOwnerCheckEvery);
                    return;
                }
                catch (TimeoutException)
                {
                    if (owner is null)
                    {
                        continue;
                    }

                    var check = await Context.CheckQueueOwnerAsync(new CheckQueueOwnerInput(DmpId, owner, Context.UtcNow()));
                    if (check.OwnerEnded)
                    {
                        return;
                    }
                }
            }
        }

        /// <summary>Approvals, in parallel; the first that does not approve withdraws the others, and the registry says Rejected.</summary>
        private async Task<IntakeDmpOutput?> ApprovalsAsync()
        {
            Context.SetStatus(AwaitingStatus(_plan.RequiredApprovals, _evaluation));
            try
            {
                var personalData = GovernanceEvaluator.InvolvesPersonalData(_plan.Datasets);
                _approvals = await RequestApprovalsAsync(
                    _plan.RequiredApprovals, "intake", Messages.PlanSummary(_plan), _plan, input.Policy, personalData);
            }
            catch (WorkflowTaskFailedException ex)
            {
                return await FailedAsync("an approval could not be requested: " + FailureMessages.ForUser(ex.FailureDetails), []);
            }

            if (ApprovalRefusals.Decisive(_approvals) is not { } refusal)
            {
                return null;
            }

            var reason = ApprovalRefusals.Describe(refusal);
            SetStatus("rejected", reason);
            var ended = await Context.SetDmpStateAsync(new SetDmpStateInput(DmpId, DmpState.Rejected, reason, Context.UtcNow(), Actor));
            Wake(ended.Waiting, nameof(DmpState.Rejected));
            await NotifyPiAsync(_plan, Messages.IntakeRejected(_plan, refusal), "rejected");
            return Ended(IntakeState.Rejected, reason, []);
        }

        /// <summary>
        /// Provision, the saga: a container per dataset, the grants, then the registry Active with the plan. A failure after
        /// retries undoes what this run did (every step registered its undo before it ran) and ends Failed.
        /// </summary>
        private async Task<IntakeDmpOutput?> ProvisionAsync()
        {
            SetDmpStateResult activated;
            try
            {
                SetStatus("provisioning");
                foreach (var dataset in _plan.Datasets)
                {
                    await ProvisionDatasetAsync(dataset, "intake compensation");
                }

                SetStatus("granting");
                var planned = _plan.Datasets.SelectMany(d =>
                    d.Access.Select(g => new PlannedGrant(d, g, ApprovalIdsFor(d, _approvals), UndoOnFailure: true)));
                await GrantAsync([.. planned], "intake compensation");

                SetStatus("activating");
                activated = await Context.SetDmpStateAsync(new SetDmpStateInput(
                    DmpId,
                    DmpState.Active,
                    "intake approved and provisioned",
                    Context.UtcNow(),
                    Actor,
                    GovernanceJson.Serialize(_plan),
                    _evaluation.Modified,
                    DistinctNotEnforced(),
                    Title: _plan.Title,
                    ContactEmail: _plan.PrincipalInvestigator.Email));
            }
            catch (WorkflowTaskFailedException ex)
            {
                var reason = FailureReason(ex);
                return await FailedAsync(reason, await CompensateAsync(reason));
            }

            Wake(activated.Waiting, nameof(DmpState.Active));
            return null;
        }

        /// <summary>Announce: governance is in force; a message or a write-back that fails is reported, never undone.</summary>
        private async Task<IntakeDmpOutput> AnnounceAsync()
        {
            SetStatus("notifying");
            var facts = new IntakeSummaryFacts(Containers, Grants, _approvals, DistinctNotEnforced(), Warnings);
            await NotifyPiAsync(_plan, Messages.IntakeSummary(_plan, facts), "summary");
            await WriteBackAsync();
            SetStatus("active");
            return new IntakeDmpOutput(
                DmpId, IntakeState.Active, null, [.. Containers], [.. Grants], _approvals, DistinctNotEnforced(), [.. Warnings], [])
            {
                UndeliveredNotifications = Undelivered(_approvals),
            };
        }

        private async Task<IntakeDmpOutput> FailedAsync(string reason, IReadOnlyList<string> incomplete)
        {
            SetStatus("failed", reason);
            var ended = await Context.SetDmpStateAsync(new SetDmpStateInput(DmpId, DmpState.Failed, reason, Context.UtcNow(), Actor));
            Wake(ended.Waiting, nameof(DmpState.Failed));
            await NotifyPiAsync(_plan, Messages.IntakeFailed(_plan, reason, incomplete), "failed");
            return Ended(IntakeState.Failed, reason, incomplete) with { NotEnforcedLocally = DistinctNotEnforced() };
        }

        /// <summary>Tells the versions waiting for this intake that it ended: each takes its turn or gives way to a newer one.</summary>
        private void Wake(IReadOnlyList<string>? waiting, string state)
        {
            foreach (var instanceId in waiting ?? [])
            {
                if (instanceId != Context.InstanceId)
                {
                    Context.SendEvent(instanceId, TurnEventName, new DmpTurn(Context.InstanceId, state));
                }
            }
        }

        /// <summary>An intake that ended before anything was provisioned or asked: invalid, superseded, already governed.</summary>
        private IntakeDmpOutput NothingDone(IntakeState state, string reason) =>
            new(DmpId, state, reason, [], [], [], [], [.. Warnings], []) { UndeliveredNotifications = Context.UndeliveredNotifications() };

        /// <summary>An intake that asked its approvals and ended without the plan in force (rejected or failed).</summary>
        private IntakeDmpOutput Ended(IntakeState state, string reason, IReadOnlyList<string> incomplete) =>
            new(DmpId, state, reason, [], [], _approvals, [], [.. Warnings], incomplete)
            {
                UndeliveredNotifications = Undelivered(_approvals),
            };
    }
}
