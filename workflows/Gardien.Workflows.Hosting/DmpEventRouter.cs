using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Gardien.Runtime;
using Gardien.Workflows.Governance;
using Gardien.Workflows.Intake;
using Gardien.Workflows.Ports;

namespace Gardien.Workflows.Hosting;

/// <summary>A DMP was created or changed in the DMP tool (webhook, poll, file drop), or submitted by a person.</summary>
/// <param name="DmpJson">The document, when the event carries it; otherwise the workflow fetches it.</param>
/// <param name="Modified">The version's <c>modified</c>, when known without the document.</param>
public sealed record DmpEvent(
    string DmpId,
    string? DmpJson = null,
    DateTimeOffset? Modified = null,
    string? SubmittedBy = null,
    GovernancePolicy? Policy = null);

public enum DmpRoute
{
    Intake,
    Update,

    /// <summary>Nothing was started for this version (see <see cref="DmpRouteResult.Outcome"/>).</summary>
    Ignored,
}

/// <summary>What happened to a submitted version: what the submitter must be told.</summary>
public enum DmpRouteOutcome
{
    /// <summary>
    /// A workflow was started for this version now (an intake of a new or revised DMP, or an update of the version in force).
    /// </summary>
    Started,

    /// <summary>
    /// An intake of an older version is running: an intake was started for this version, which waits for it to end and
    /// then takes its turn (as an update if the older version was approved, as an intake if not), unless a newer
    /// version arrives first.
    /// </summary>
    Queued,

    /// <summary>
    /// This same version is already being taken in, applied or waiting: the submission joined it; nothing new was started.
    /// </summary>
    Joined,

    /// <summary>This same version is the one in force: nothing to do.</summary>
    AlreadyInForce,

    /// <summary>A newer version is in force, in intake or waiting: this older one is refused.</summary>
    Stale,

    /// <summary>
    /// The version cannot be taken in (it was rejected or found invalid as it is, the DMP was disposed of, no identifier).
    /// </summary>
    Refused,
}

/// <param name="InstanceId">The workflow instance handling this version (started or joined), if any.</param>
/// <param name="Reason">What happened and, when refused, what to do: safe to show to the submitter.</param>
/// <param name="WaitsFor">For <see cref="DmpRouteOutcome.Queued"/>: the running intake this version waits for.</param>
public sealed record DmpRouteResult(DmpRoute Route, string? InstanceId, string Reason)
{
    public DmpRouteOutcome Outcome { get; init; } = DmpRouteOutcome.Started;

    public DateTimeOffset? Version { get; init; }

    public string? WaitsFor { get; init; }

    /// <summary>True when the version is (or already was) being handled; false when it was refused.</summary>
    public bool Accepted =>
        Outcome is DmpRouteOutcome.Started or DmpRouteOutcome.Queued or DmpRouteOutcome.Joined or DmpRouteOutcome.AlreadyInForce;
}

/// <summary>
/// The one entrance for DMP versions, whoever submits them (the CLI, the HTTP API, DMP-tool webhooks): it decides from
/// the registry and the running instances what happens to a version and says so truthfully.
/// <list type="bullet">
/// <item>Not governed → an intake (<c>intake-{slug}-{hash}</c>); a running intake of the same version is joined.</item>
/// <item>An intake of an older version is running → an intake for this version (<c>…-{version}</c>), which queues behind it in
/// the registry and is woken when it ends; the newest waiting version takes its turn, older ones give way.</item>
/// <item>Governed (Active) → a newer version starts an update (<c>update-…-{version}</c>), the same version joins the update
/// applying it or is already in force, an older one is refused as stale.</item>
/// <item>Rejected → a revised (newer) version starts a new intake; the rejected version as it is is refused.
/// Failed → the same version is tried again by a new intake, a newer one starts its own.</item>
/// <item>Disposed → refused.</item>
/// </list>
/// Versions are ordered by <c>dmp.modified</c>. The workflows re-check everything atomically (<see cref="RecordDmpActivity"/>,
/// <see cref="ClaimDmpVersionActivity"/>), so two submissions racing here can only both be handled, never lost.
/// </summary>
public sealed class DmpEventRouter(IWorkflowClient client, IGovernanceRegistry registry)
{
    public async Task<DmpRouteResult> RouteAsync(DmpEvent dmpEvent, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dmpEvent);
        ArgumentException.ThrowIfNullOrWhiteSpace(dmpEvent.DmpId);
        var version = dmpEvent.Modified ?? DmpSubmissionService.ExtractModified(dmpEvent.DmpJson);
        var label = version is { } v ? v.ToString("O", CultureInfo.InvariantCulture) : "without a modified date";
        var submission = Guid.NewGuid().ToString("N");
        var record = await registry.GetDmpAsync(dmpEvent.DmpId, cancellationToken).ConfigureAwait(false);
        var primary = IntakeDmpWorkflow.InstanceIdFor(dmpEvent.DmpId);
        var versioned = $"{primary}-{Stamp(version, dmpEvent.DmpJson)}";

        // A version already waiting for its turn is joined; an older one than the newest waiting gives way at once.
        if (record is not null && version is not null)
        {
            if (record.Queue.FirstOrDefault(q => q.Modified == version) is { } waiting)
            {
                return Result(
                    DmpRoute.Intake,
                    waiting.InstanceId,
                    DmpRouteOutcome.Joined,
                    version,
                    $"version {label} is already waiting for its turn ({waiting.InstanceId}): joined it");
            }

            if (record.Queue.Where(q => q.Modified > version).OrderByDescending(q => q.Modified).FirstOrDefault() is { } newer)
            {
                return Stale(
                    version,
                    $"version {label} is older than version {newer.Modified:O}, which is already waiting for its turn ({newer.InstanceId}"
                    + "); submit the latest version");
            }
        }

        switch (record)
        {
            case null:
                return await NotGovernedAsync(dmpEvent, submission, version, label, primary, versioned, cancellationToken)
                    .ConfigureAwait(false);

            case { State: DmpState.Disposed }:
                return Result(
                    DmpRoute.Ignored,
                    null,
                    DmpRouteOutcome.Refused,
                    version,
                    "the DMP's data has been disposed of; it is no longer governed and cannot be taken in again under the same dmp_id");

            case { State: DmpState.Pending }:
                if (version == record.Modified && record.InstanceId is { } owner)
                {
                    return await StartAsync(
                        DmpRoute.Intake,
                        nameof(IntakeDmpWorkflow),
                        IntakeInput(dmpEvent, submission),
                        owner,
                        version,
                        DmpRouteOutcome.Joined,
                        $"version {label} is already in intake ({owner}): joined it; nothing is provisioned twice",
                        cancellationToken).ConfigureAwait(false);
                }

                if (!RecordDmpActivity.IsNewer(version, record.Modified))
                {
                    return Stale(
                        version,
                        $"version {label} is not newer than version {record.Modified:O}, which is in intake ({record.InstanceId}); "
                        + "submit the latest version");
                }

                return await QueueAsync(
                    dmpEvent,
                    submission,
                    version,
                    label,
                    versioned,
                    record.InstanceId,
                    record.Modified,
                    cancellationToken).ConfigureAwait(false);

            case { State: DmpState.Active }:
                if (!RecordDmpActivity.IsNewer(version, record.Modified))
                {
                    if (version == record.Modified && record.InstanceId is { } claimant
                        && await ApplyingAsync(claimant, cancellationToken).ConfigureAwait(false) is { } applying)
                    {
                        return Result(
                            DmpRoute.Update,
                            applying,
                            DmpRouteOutcome.Joined,
                            version,
                            $"version {label} is being applied ({applying}): joined it");
                    }

                    return version == record.Modified
                        ? Result(
                            DmpRoute.Ignored,
                            record.InstanceId,
                            DmpRouteOutcome.AlreadyInForce,
                            version,
                            $"version {label} is the version in force: nothing to do")
                        : Stale(
                            version,
                            $"version {label} is not newer than the version in force ({record.Modified:O}); submit the latest version");
                }

                var updateId = UpdateDmpWorkflow.InstanceIdFor(dmpEvent.DmpId, version, dmpEvent.DmpJson);
                return await StartAsync(
                    DmpRoute.Update,
                    nameof(UpdateDmpWorkflow),
                    new UpdateDmpInput(dmpEvent.DmpId, dmpEvent.DmpJson, dmpEvent.SubmittedBy, dmpEvent.Policy)
                    {
                        SubmissionId = submission,
                    },
                    updateId,
                    version,
                    DmpRouteOutcome.Started,
                    $"version {label} is newer than the version in force ({record.Modified:O}): update {updateId} started; "
                    + "only the approvals the change needs are asked",
                    cancellationToken).ConfigureAwait(false);

            default:
                // Rejected or Failed.
                var ended = record.State.ToString().ToLowerInvariant();
                if (!RecordDmpActivity.IsNewer(version, record.Modified) && version != record.Modified)
                {
                    return Stale(
                        version,
                        $"version {label} is older than the version whose intake ended {ended} ({record.Modified:O}); "
                        + "submit the latest version");
                }

                if (version == record.Modified && version is not null)
                {
                    if (record.State == DmpState.Rejected)
                    {
                        return Result(DmpRoute.Ignored, record.InstanceId, DmpRouteOutcome.Refused, version,
                            $"version {label} was rejected ({record.StateReason}); revise the DMP (which updates its modified date) "
                            + "and submit the revised version");
                    }

                    // The same version after a failure: a new attempt, one per failed intake, so duplicates join it.
                    var retry = $"{versioned}-retry-{Hash(record.InstanceId ?? string.Empty)[..8]}";
                    return await StartAsync(
                        DmpRoute.Intake,
                        nameof(IntakeDmpWorkflow),
                        IntakeInput(dmpEvent, submission),
                        retry,
                        version,
                        DmpRouteOutcome.Started,
                        $"the intake of version {label} failed ({record.StateReason}); a new intake {retry} was started for it",
                        cancellationToken).ConfigureAwait(false);
                }

                return await StartAsync(
                    DmpRoute.Intake,
                    nameof(IntakeDmpWorkflow),
                    IntakeInput(dmpEvent, submission),
                    versioned,
                    version,
                    DmpRouteOutcome.Started,
                    $"the previous intake ended {ended}; version {label} is taken in by a new intake {versioned}",
                    cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>No record yet: the first intake of the DMP, or a version racing it, or a resubmission after an invalid version.</summary>
    private async Task<DmpRouteResult> NotGovernedAsync(
        DmpEvent dmpEvent,
        string submission,
        DateTimeOffset? version,
        string label,
        string primary,
        string versioned,
        CancellationToken cancellationToken)
    {
        var (created, existing) = await ScheduleAsync(
            nameof(IntakeDmpWorkflow), IntakeInput(dmpEvent, submission), primary, cancellationToken).ConfigureAwait(false);
        if (created)
        {
            return Result(DmpRoute.Intake, primary, DmpRouteOutcome.Started, version, $"version {label} is taken in by intake {primary}");
        }

        var running = existing is { IsCompleted: false };
        var input = existing?.ReadInputAs<IntakeDmpInput>();
        var theirs = DmpSubmissionService.ExtractModified(input?.DmpJson);
        var sameVersion = theirs == version
            && (version is not null || string.Equals(input?.DmpJson, dmpEvent.DmpJson, StringComparison.Ordinal));
        if (running)
        {
            if (sameVersion)
            {
                return Result(
                    DmpRoute.Intake,
                    primary,
                    DmpRouteOutcome.Joined,
                    version,
                    $"version {label} is already in intake ({primary}): joined it; nothing is provisioned twice");
            }

            if (!RecordDmpActivity.IsNewer(version, theirs))
            {
                return Stale(
                    version,
                    $"version {label} is not newer than version {theirs:O}, which is in intake ({primary}); submit the latest version");
            }

            return await QueueAsync(dmpEvent, submission, version, label, versioned, primary, theirs, cancellationToken)
                .ConfigureAwait(false);
        }

        // The first intake ended without recording the DMP (the version was invalid, or the intake was stopped).
        var output = existing?.Status == WorkflowStatus.Completed ? existing.ReadOutputAs<IntakeDmpOutput>() : null;
        if (sameVersion && output?.State == IntakeState.Invalid)
        {
            return Result(
                DmpRoute.Ignored,
                primary,
                DmpRouteOutcome.Refused,
                version,
                $"version {label} was found invalid ({output.Reason}); fix the DMP and submit it again");
        }

        var target = sameVersion ? $"{versioned}-retry-{Hash(primary)[..8]}" : versioned;
        var (started, other) = await ScheduleAsync(nameof(IntakeDmpWorkflow), IntakeInput(dmpEvent, submission), target, cancellationToken)
            .ConfigureAwait(false);
        if (!started
            && other?.Status == WorkflowStatus.Completed
            && other.ReadOutputAs<IntakeDmpOutput>() is { State: IntakeState.Invalid } invalid)
        {
            return Result(
                DmpRoute.Ignored,
                target,
                DmpRouteOutcome.Refused,
                version,
                $"version {label} was found invalid ({invalid.Reason}); fix the DMP and submit it again");
        }

        return Result(DmpRoute.Intake, target, started ? DmpRouteOutcome.Started : DmpRouteOutcome.Joined, version,
            started ? $"version {label} is taken in by intake {target}" : $"version {label} is already in intake ({target}): joined it");
    }

    /// <summary>
    /// The running instance applying the version claimed by <paramref name="claimant"/>: the claimant itself, or, for a
    /// queued version whose turn was claimed for its hand-over update before that update started, its intake.
    /// </summary>
    private async Task<string?> ApplyingAsync(string claimant, CancellationToken cancellationToken)
    {
        if (await IsRunningAsync(claimant, cancellationToken).ConfigureAwait(false))
        {
            return claimant;
        }

        var intake = UpdateDmpWorkflow.HandedOverBy(claimant);
        return intake is not null && await IsRunningAsync(intake, cancellationToken).ConfigureAwait(false) ? intake : null;
    }

    private async Task<bool> IsRunningAsync(string instanceId, CancellationToken cancellationToken) =>
        await client.GetInstanceAsync(instanceId, getInputsAndOutputs: false, cancellationToken: cancellationToken).ConfigureAwait(false)
            is { IsCompleted: false };

    private async Task<DmpRouteResult> QueueAsync(
        DmpEvent dmpEvent,
        string submission,
        DateTimeOffset? version,
        string label,
        string versioned,
        string? owner,
        DateTimeOffset? ownerVersion,
        CancellationToken cancellationToken)
    {
        var (created, _) = await ScheduleAsync(nameof(IntakeDmpWorkflow), IntakeInput(dmpEvent, submission), versioned, cancellationToken)
            .ConfigureAwait(false);
        return Result(DmpRoute.Intake, versioned, created ? DmpRouteOutcome.Queued : DmpRouteOutcome.Joined, version,
            (created ? $"version {label} is queued ({versioned})" : $"version {label} is already queued ({versioned}): joined it")
            + $": the intake {owner} of the older version {ownerVersion:O} is running; when it ends this version takes its turn (as an "
            + "update if the older version was approved, as a new intake if not), unless a newer version arrives first")
            with
        { WaitsFor = owner };
    }

    private async Task<DmpRouteResult> StartAsync(
        DmpRoute route,
        string workflow,
        object input,
        string instanceId,
        DateTimeOffset? version,
        DmpRouteOutcome outcome,
        string reason,
        CancellationToken cancellationToken)
    {
        var (created, _) = await ScheduleAsync(workflow, input, instanceId, cancellationToken).ConfigureAwait(false);
        return outcome == DmpRouteOutcome.Started && !created
            ? Result(route, instanceId, DmpRouteOutcome.Joined, version, $"this version is already handled by {instanceId}: joined it")
            : Result(route, instanceId, outcome, version, reason);
    }

    /// <summary>
    /// Schedules the instance unless it exists; true when this call created it, with the existing instance otherwise.
    /// Scheduling an existing id is a no-op in some clients and an error in others, so whether this submission created
    /// the instance is read back from the instance itself (its input carries the submission's id).
    /// </summary>
    private async Task<(bool Created, WorkflowMetadata? Existing)> ScheduleAsync(
        string workflow,
        object input,
        string instanceId,
        CancellationToken cancellationToken)
    {
        var existing = await client.GetInstanceAsync(instanceId, getInputsAndOutputs: true, cancellationToken: cancellationToken)
            .ConfigureAwait(false);
        if (existing is not null)
        {
            return (false, existing);
        }

        try
        {
            await client.ScheduleNewAsync(workflow, input, instanceId, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        // A concurrent duplicate may lose the create race in some clients: the instance then exists, which is the goal.
#pragma warning disable CA1031
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
#pragma warning restore CA1031
        {
            if (await client.GetInstanceAsync(instanceId, getInputsAndOutputs: false, cancellationToken: cancellationToken)
                .ConfigureAwait(false) is null)
            {
                throw;
            }
        }

        var stored = await client.GetInstanceAsync(instanceId, getInputsAndOutputs: true, cancellationToken: cancellationToken)
            .ConfigureAwait(false)
            ?? throw new InvalidOperationException($"The instance {instanceId} was scheduled but cannot be read back.");
        var mine = SubmissionIdOf(input);
        var theirs = workflow == nameof(UpdateDmpWorkflow)
            ? stored.ReadInputAs<UpdateDmpInput>()?.SubmissionId
            : stored.ReadInputAs<IntakeDmpInput>()?.SubmissionId;
        return mine is not null && string.Equals(mine, theirs, StringComparison.Ordinal) ? (true, null) : (false, stored);
    }

    private static string? SubmissionIdOf(object input) => input switch
    {
        IntakeDmpInput intake => intake.SubmissionId,
        UpdateDmpInput update => update.SubmissionId,
        _ => null,
    };

    private static IntakeDmpInput IntakeInput(DmpEvent dmpEvent, string submission) =>
        new(dmpEvent.DmpId, dmpEvent.DmpJson, dmpEvent.SubmittedBy, dmpEvent.Policy) { SubmissionId = submission };

    private static DmpRouteResult Stale(DateTimeOffset? version, string reason) =>
        Result(DmpRoute.Ignored, null, DmpRouteOutcome.Stale, version, reason);

    private static DmpRouteResult Result(
        DmpRoute route,
        string? instanceId,
        DmpRouteOutcome outcome,
        DateTimeOffset? version,
        string reason) =>
        new(route, instanceId, reason) { Outcome = outcome, Version = version };

    private static string Stamp(DateTimeOffset? modified, string? json) =>
        modified is { } m ? m.UtcTicks.ToString(CultureInfo.InvariantCulture) : Hash(json ?? string.Empty)[..16];

    private static string Hash(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
}
