using System.Globalization;
using Gardien.Runtime;
using Gardien.Workflows.Audit;
using Gardien.Workflows.Notifications;
using Gardien.Workflows.Ports;
using Gardien.Workflows.Provisioning;

namespace Gardien.Workflows.Retention;

/// <param name="Date">The day swept (the timer's date, UTC): notice windows are computed from it.</param>
/// <param name="DryRun">List what would happen (cases to open, what the due date would decide); start nothing, notify nobody,
/// write nothing.</param>
/// <param name="Settings">Policy values; null: loaded from the configured policy.</param>
public sealed record RetentionSweepInput(DateOnly Date, bool DryRun = false, RetentionSettings? Settings = null);

public enum SweepAction
{
    CaseStarted,
    CaseAlreadyOpen,
    WouldStartCase,
    WouldFindCaseOpen,
}

/// <param name="Window">The notice window the dataset is in today (days before keep-until), null when past keep-until.</param>
/// <param name="CaseStatus">Status of the existing case, when one exists.</param>
/// <param name="DueVerdict">Dry run only: what the disposal guard would decide on the due date with today's facts (held,
/// approvals missing, ...).</param>
/// <param name="DueReason">Dry run only: the guard's reason, in words.</param>
/// <param name="ApprovalsNeeded">Dry run only: roles whose approval the disposal still needs.</param>
public sealed record SweepItem(
    string DmpId,
    string DatasetId,
    string Container,
    DateOnly KeepUntil,
    DisposalAction Disposal,
    int? Window,
    string CaseInstanceId,
    SweepAction Action,
    string? CaseStatus,
    DisposalVerdict? DueVerdict = null,
    string? DueReason = null,
    IReadOnlyList<string>? ApprovalsNeeded = null);

public sealed record RetentionSweepReport(
    DateOnly Date,
    bool DryRun,
    int HorizonDays,
    IReadOnlyList<SweepItem> Items,
    IReadOnlyList<RetentionDiscrepancy> Discrepancies)
{
    public int CasesStarted => Items.Count(i => i.Action == SweepAction.CaseStarted);

    /// <summary>The discrepancy alert, when it could not be delivered (audited; the sweep carried on).</summary>
    public IReadOnlyList<NotificationFailure> UndeliveredNotifications { get; init; } = [];
}

/// <summary>
/// The daily retention sweep: finds the datasets whose keep-until falls within the notice horizon (registry, cross-checked
/// with blob index tags; discrepancies are reported to the data steward, the registry wins) and opens one
/// <see cref="RetentionCaseWorkflow"/> per dataset and keep-until (deterministic ids: a repeated sweep opens nothing new).
/// Started once a day by the host's timer with <see cref="InstanceIdFor"/>; a second start the same day joins the first.
/// </summary>
public sealed class RetentionSweepWorkflow : Workflow<RetentionSweepInput, RetentionSweepReport>
{
    /// <summary>What the sweep's audit entries and undelivered alerts are about.</summary>
    private const string AuditSubject = "retention:sweep";

    /// <summary>One sweep per day: "retention-sweep-20260131".</summary>
    public static string InstanceIdFor(DateOnly date) => string.Create(CultureInfo.InvariantCulture, $"retention-sweep-{date:yyyyMMdd}");

    /// <summary>Dry runs get their own ids (they may be repeated at will and never block the real sweep).</summary>
    public static string DryRunInstanceIdFor(DateOnly date, string runId) =>
        string.Create(CultureInfo.InvariantCulture, $"retention-sweep-dryrun-{date:yyyyMMdd}-{runId}");

    public override async Task<RetentionSweepReport> RunAsync(WorkflowContext context, RetentionSweepInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        context.SetStatus(new WorkflowStage("loading"));
        var settings = input.Settings ?? await context.LoadRetentionSettingsAsync();
        var horizon = settings.MaxNoticeDays;
        var found = await context.FindRetentionCandidatesAsync(new FindRetentionCandidatesInput(input.Date, horizon));

        context.SetStatus(new WorkflowStage(input.DryRun ? "dry-run" : "starting-cases"));
        var items = await Task.WhenAll(found.Candidates.Select(c => HandleAsync(context, input, settings, c)));
        var report = new RetentionSweepReport(input.Date, input.DryRun, horizon, items, found.Discrepancies);
        if (input.DryRun)
        {
            context.SetStatus(new WorkflowStage("completed", "dry run"));
            return report;
        }

        // Immutability policies whose lock day has come are locked on the same daily round (policy lock_after_days). A
        // failure here must not cost the day's retention cases: it is reported, and tomorrow's sweep tries again.
        LockDueImmutabilityResult locks;
        try
        {
            locks = await context.LockDueImmutabilityAsync(new LockDueImmutabilityInput(
                input.Date, context.UtcNow(), GardienWorkflowOptions.SystemActor(nameof(RetentionSweepWorkflow))));
        }
        catch (WorkflowTaskFailedException ex)
        {
            locks = new LockDueImmutabilityResult([], [], [$"the lock round failed: {ex.FailureDetails.ErrorMessage}"]);
        }

        if (found.Discrepancies.Count > 0)
        {
            var alert = MessageCatalogue.For(settings.Language).SweepDiscrepancies(input.Date, found.Discrepancies);
            await context.NotifyAsync(alert, [settings.StewardEmail], "discrepancies", AuditSubject);
        }

        await context.AuditAsync("retention.sweep_completed", AuditSubject, after: new
        {
            date = input.Date,
            horizonDays = horizon,
            casesStarted = report.CasesStarted,
            casesOpen = items.Count(i => i.Action == SweepAction.CaseAlreadyOpen),
            cases = items.Select(i => new { i.DmpId, i.DatasetId, i.KeepUntil, action = i.Action.ToString(), i.CaseInstanceId }),
            discrepancies = found.Discrepancies,
            immutabilityLocked = locks.Locked,
            immutabilityLockFailed = locks.Failed,
        });
        context.SetStatus(new WorkflowStage("completed"));
        return report with { UndeliveredNotifications = context.UndeliveredNotifications() };
    }

    private static async Task<SweepItem> HandleAsync(
        WorkflowContext context, RetentionSweepInput input, RetentionSettings settings, RetentionCandidate candidate)
    {
        var id = RetentionCaseWorkflow.InstanceIdFor(candidate.DmpId, candidate.DatasetId, candidate.KeepUntil);
        var window = NoticeSchedule.CurrentWindow(candidate.KeepUntil, input.Date, settings.NoticeDays);
        if (input.DryRun)
        {
            var status = await context.GetRetentionCaseStatusAsync(id);

            // Read-only preview of the due date: holds and missing approvals show up now, not on the day.
            var snapshot = await context.LoadRetentionCaseAsync(
                new LoadRetentionCaseInput(candidate.DmpId, candidate.DatasetId, candidate.KeepUntil));
            var dueOn = candidate.KeepUntil > input.Date ? candidate.KeepUntil : input.Date;
            var due = snapshot.Facts is { } facts ? DisposalGuard.Evaluate(facts, dueOn) : null;
            return Item(status is null ? SweepAction.WouldStartCase : SweepAction.WouldFindCaseOpen, status) with
            {
                DueVerdict = due?.Verdict,
                DueReason = due?.Reason ?? "The registry no longer knows the dataset.",
                ApprovalsNeeded = due?.MissingRoles ?? [],
            };
        }

        var started = await context.StartRetentionCaseAsync(new StartRetentionCaseInput(id, new RetentionCaseInput
        {
            DmpId = candidate.DmpId,
            DatasetId = candidate.DatasetId,
            Container = candidate.Container,
            KeepUntil = candidate.KeepUntil,
            Disposal = candidate.Disposal,
            Settings = settings,
            SweepInstanceId = context.InstanceId,
        }));
        return Item(started.Started ? SweepAction.CaseStarted : SweepAction.CaseAlreadyOpen, started.ExistingStatus);

        SweepItem Item(SweepAction action, string? status) =>
            new(candidate.DmpId, candidate.DatasetId, candidate.Container, candidate.KeepUntil, candidate.Disposal, window, id, action,
                status);
    }
}
