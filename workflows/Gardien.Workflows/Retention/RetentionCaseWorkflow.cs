using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Gardien.Runtime;
using Gardien.Workflows.Approvals;
using Gardien.Workflows.Audit;
using Gardien.Workflows.Governance;
using Gardien.Workflows.Notifications;
using Gardien.Workflows.Ports;
using Gardien.Workflows.Provisioning;
using Gardien.Workflows.Text;
using DisposalAction = Gardien.Workflows.Ports.DisposalAction;

namespace Gardien.Workflows.Retention;

/// <summary>Where a case is: before keep-until (notices) or on/after it (hold checks, approvals, disposal).</summary>
public enum RetentionCasePhase
{
    Notice,
    Due,
}

/// <summary>One dataset reaching its keep-until date. Started by <see cref="RetentionSweepWorkflow"/>.</summary>
/// <param name="Settings">Policy values copied at start (replay never depends on a later policy change).</param>
/// <param name="NoticesSent">Windows (days before keep-until) already notified; carried over ContinueAsNew.</param>
/// <param name="NoticeTimestamps">When each notice went out (for the certificate).</param>
/// <param name="Round">Hold re-checks and approval rounds so far (sub-workflow ids stay unique across ContinueAsNew).</param>
public sealed record RetentionCaseInput
{
    public required string DmpId { get; init; }
    public required string DatasetId { get; init; }
    public required string Container { get; init; }
    public required DateOnly KeepUntil { get; init; }
    public DisposalAction Disposal { get; init; } = DisposalAction.Delete;
    public required RetentionSettings Settings { get; init; }
    public string? SweepInstanceId { get; init; }
    public RetentionCasePhase Phase { get; init; } = RetentionCasePhase.Notice;
    public IReadOnlyList<int> NoticesSent { get; init; } = [];
    public IReadOnlyList<DateTimeOffset> NoticeTimestamps { get; init; } = [];
    public int Round { get; init; }
}

public enum RetentionCaseOutcome
{
    Disposed,
    Archived,
    Published,

    /// <summary>An extension was approved: keep-until moved; a later sweep opens a new case for the new date.</summary>
    Extended,

    /// <summary>The PI stopped the deletion during the grace period; the data steward follows up.</summary>
    StoppedByPi,

    /// <summary>A required disposal approval was refused or expired: nothing was disposed of.</summary>
    NotApproved,

    /// <summary>Keep-until changed outside this case (DMP update): the case is stale and ends.</summary>
    Superseded,

    DatasetGone,
    AlreadyDisposed,

    /// <summary>The disposal activity refused (its own re-check failed) for a reason other than a hold.</summary>
    Refused,
}

/// <param name="Certificate">The audit receipt of the deletion certificate, when one was written.</param>
public sealed record RetentionCaseResult(RetentionCaseOutcome Outcome, string Detail, DateOnly KeepUntil, DateOnly? NewKeepUntil = null, CertificateReceipt? Certificate = null, DeletionCertificate? CertificateBody = null);

/// <summary>What <c>SetCustomStatus</c> shows.</summary>
public sealed record RetentionCaseStatus(string Stage, DateOnly KeepUntil, string Disposal, IReadOnlyList<int> NoticesSent, string? Detail = null);

/// <summary>
/// One dataset's end of retention: notices to the PI at each window (90/30/7 days), PI responses (approve = confirm
/// disposal, reject with a date in the comment = ask for an extension, which the data steward must approve), and on the
/// due date: hold / open-case check (a hold skips disposal, is reported to steward and DPO and re-checked later), the
/// disposal approvals the policy requires (<see cref="DisposalGuard.RequiredRoles"/>), then disposal per plan — delete in
/// two phases (mark, grace period during which the PI can stop it, purge), archive or publish — and a deletion certificate
/// in the audit trail. The disposal activities re-run <see cref="DisposalGuard"/> themselves before touching storage.
/// Instance id: <see cref="InstanceIdFor"/> (one case per dataset and keep-until).
/// PI responses arrive as <see cref="ApprovalWorkflow.DecisionEventName"/> events (<see cref="ApprovalDecisionEvent"/>),
/// verified like any approval link.
/// </summary>
public sealed partial class RetentionCaseWorkflow : Workflow<RetentionCaseInput, RetentionCaseResult>
{
    /// <summary>A value from the DMP or a person inside a Markdown message body: escaped, one line.</summary>
    private static string Md(string? text) => UntrustedText.MarkdownInline(text);

    private const int RoundsBeforeContinueAsNew = 8;

    /// <summary>Deterministic id: repeated sweeps never open a second case for the same dataset and keep-until.</summary>
    public static string InstanceIdFor(string dmpId, string datasetId, DateOnly keepUntil)
    {
        ArgumentNullException.ThrowIfNull(dmpId);
        ArgumentNullException.ThrowIfNull(datasetId);

        // DMP ids are DOIs / URLs: hash them so the id is safe as a table key and a queue message field.
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(dmpId + "\n" + datasetId)))[..24];
        return string.Create(CultureInfo.InvariantCulture, $"retention-case-{hash}-{keepUntil:yyyyMMdd}");
    }

    public override async Task<RetentionCaseResult> RunAsync(WorkflowContext context, RetentionCaseInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        var run = new CaseRun(context, input);
        return await run.RunAsync();
    }

    /// <summary>First yyyy-MM-dd in a comment: the keep-until a PI asks for when objecting to a disposal.</summary>
    public static DateOnly? RequestedDate(string? comment)
    {
        if (string.IsNullOrWhiteSpace(comment))
        {
            return null;
        }

        var match = IsoDate().Match(comment);
        return match.Success && DateOnly.TryParseExact(match.Value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date) ? date : null;
    }

    [GeneratedRegex(@"\b\d{4}-\d{2}-\d{2}\b", RegexOptions.CultureInvariant, 1000)]
    private static partial Regex IsoDate();

    /// <summary>The state of one execution; all decisions go through the context (deterministic).</summary>
    private sealed class CaseRun(WorkflowContext context, RetentionCaseInput input)
    {
        private readonly string _actor = GardienWorkflowOptions.SystemActor(nameof(RetentionCaseWorkflow));
        private readonly List<int> _noticesSent = [.. input.NoticesSent];
        private readonly List<DateTimeOffset> _noticeTimestamps = [.. input.NoticeTimestamps];
        private readonly RetentionSettings _settings = input.Settings;
        private string? _piEmail;
        private string? _title;
        private int _round = input.Round;
        private int _responses;

        private DateOnly Today => DateOnly.FromDateTime(context.CurrentUtcDateTime);

        private DateTimeOffset Now => Utc(context.CurrentUtcDateTime);

        private string Subject => AuditEntries.DatasetSubject(input.DmpId, input.DatasetId);

        private string Recipient => _piEmail ?? _settings.StewardEmail;

        public async Task<RetentionCaseResult> RunAsync()
        {
            var snapshot = await LoadAsync();
            if (Early(snapshot) is { } early)
            {
                return early;
            }

            if (input.Phase == RetentionCasePhase.Notice)
            {
                if (await NoticesAsync() is { } ended)
                {
                    return ended;
                }
            }

            return await DueAsync();
        }

        private RetentionCaseResult? Early(RetentionCaseSnapshot snapshot)
        {
            if (!snapshot.Found || snapshot.Facts is not { } facts)
            {
                return Result(RetentionCaseOutcome.DatasetGone, "The registry no longer knows the dataset.");
            }

            if (facts.State is DatasetState.Disposed or DatasetState.Archived or DatasetState.Published)
            {
                return Result(RetentionCaseOutcome.AlreadyDisposed, $"The dataset is already {facts.State}.");
            }

            if (facts.KeepUntil != input.KeepUntil)
            {
                return Result(RetentionCaseOutcome.Superseded, $"Keep-until is now {Format(facts.KeepUntil)}, not {Format(input.KeepUntil)}.", facts.KeepUntil);
            }

            return null;
        }

        // ---- Notices -------------------------------------------------------------------------------------------

        private async Task<RetentionCaseResult?> NoticesAsync()
        {
            var notices = NoticeSchedule.Notices(input.KeepUntil, _settings.NoticeDays);
            foreach (var (days, date) in notices)
            {
                if (_noticesSent.Contains(days))
                {
                    continue;
                }

                // A case opened late skips the windows a smaller, already open window supersedes (one notice, not three).
                if (notices.Any(n => n.DaysBefore < days && n.Date <= Today))
                {
                    continue;
                }

                if (await WaitUntilAsync(Midnight(date)) is { } ended)
                {
                    return ended;
                }

                await SendNoticeAsync(days);
            }

            return await WaitUntilAsync(Midnight(input.KeepUntil));
        }

        private async Task SendNoticeAsync(int days)
        {
            SetStatus("notifying", $"{days} days before keep-until");
            var link = await IssueLinkAsync(Recipient, Utc(Midnight(input.KeepUntil)).AddDays(1));
            var body = $"Dataset \"{Md(_title ?? input.DatasetId)}\" (DMP {Md(input.DmpId)}, container {Md(input.Container)}) reaches the end of its retention period on {Format(input.KeepUntil)}.\n\n"
                + $"Planned action: {Describe(input.Disposal)}.\n\n"
                + "Approve to confirm. To keep the data longer, Reject and write the requested new keep-until date (yyyy-MM-dd) and the reason in the comment: "
                + "the data steward decides on the extension. Legal holds are checked again on the due date.";
            await NotifyAsync(NotificationKind.RetentionNotice, [Recipient], $"Retention notice ({days} days): {UntrustedText.PlainLine(_title ?? input.DatasetId)}", body, Links(link), $"notice-{days}");
            _noticesSent.Add(days);
            _noticeTimestamps.Add(Now);
            await AuditAsync("retention.notice_sent", after: new { daysBefore = days, keepUntil = input.KeepUntil, to = Recipient, disposal = input.Disposal.ToString() }, discriminator: ":" + days.ToString(CultureInfo.InvariantCulture));
        }

        /// <summary>Waits until <paramref name="fireAt"/> while handling PI responses; non-null when a response ended the case.</summary>
        private async Task<RetentionCaseResult?> WaitUntilAsync(DateTime fireAt)
        {
            while (context.CurrentUtcDateTime < fireAt)
            {
                SetStatus(input.Phase == RetentionCasePhase.Notice && Today < input.KeepUntil ? "waiting-notice" : "waiting", $"until {fireAt:yyyy-MM-dd}");
                var response = await WaitForResponseAsync(fireAt);
                if (response is null)
                {
                    return null;
                }

                if (await HandleResponseAsync(response, inGrace: false) is { } ended)
                {
                    return ended;
                }
            }

            return null;
        }

        private async Task<ApprovalDecisionEvent?> WaitForResponseAsync(DateTime fireAt)
        {
            using var cancel = new CancellationTokenSource();
            var timer = context.CreateTimer(fireAt, cancel.Token);
            var response = context.WaitForExternalEvent<ApprovalDecisionEvent>(ApprovalWorkflow.DecisionEventName, cancel.Token);
            var winner = await Task.WhenAny(timer, response);
            cancel.Cancel();
            return winner == response ? await response : null;
        }

        /// <summary>Verifies and applies a PI response. Returns a result when it ends the case.</summary>
        private async Task<RetentionCaseResult?> HandleResponseAsync(ApprovalDecisionEvent response, bool inGrace)
        {
            _responses++;
            var verified = await context.CallActivityAsync<VerifiedDecision>(
                nameof(VerifyApprovalDecisionActivity), new VerifyApprovalDecisionInput(response.Token, response.Decision, context.InstanceId, Now), ActivityRetryPolicies.Transient);
            if (!verified.IsValid)
            {
                await AuditAsync("retention.response_refused", after: new { failure = verified.Failure.ToString(), message = verified.Message, decision = response.Decision }, actor: response.Actor ?? "anonymous", discriminator: ":" + _responses.ToString(CultureInfo.InvariantCulture));
                return null;
            }

            var by = verified.Approver ?? Recipient;
            var approve = ApprovalDecisions.Normalise(response.Decision) == IssueApprovalLinkActivity.ApproveDecision;
            if (approve)
            {
                if (!inGrace)
                {
                    await RecordApprovalAsync(new ApprovalRecord
                    {
                        DmpId = input.DmpId,
                        ApprovalId = $"{context.InstanceId}:pi",
                        InstanceId = context.InstanceId,
                        Role = DisposalGuard.PiRole,
                        Decision = ApprovalDecision.Approved,
                        Subject = DisposalGuard.ApprovalSubject(input.DmpId, input.DatasetId, input.KeepUntil),
                        Approver = Recipient,
                        DecidedBy = by,
                        DecidedAt = Now,
                        Comment = response.Comment,
                        TokenId = verified.TokenId,
                    }, "approval.decided", "user:" + by);
                }

                return null;
            }

            if (inGrace)
            {
                await context.CallActivityAsync<bool>(nameof(CancelDeletionActivity), new CancelDeletionInput(input.DmpId, input.DatasetId, $"stopped by {by} during the grace period: {response.Comment}", Now, "user:" + by), ActivityRetryPolicies.Persistent);
                await NotifyAsync(NotificationKind.Alert, [_settings.StewardEmail, Recipient], $"Deletion stopped by the PI: {UntrustedText.PlainLine(_title ?? input.DatasetId)}",
                    $"{Md(by)} stopped the deletion of dataset {Md(input.DatasetId)} (DMP {Md(input.DmpId)}) during its grace period. Comment: {Md(response.Comment ?? "(none)")}.\nThe data is kept; keep-until {Format(input.KeepUntil)} has passed, so the data steward must decide on an extension or a new disposal.", [], "stopped");
                return Result(RetentionCaseOutcome.StoppedByPi, $"Stopped by {by}: {response.Comment}");
            }

            return await ExtensionAsync(by, response.Comment);
        }

        private async Task<RetentionCaseResult?> ExtensionAsync(string requestedBy, string? comment)
        {
            var requested = RequestedDate(comment);
            if (requested is not { } newKeepUntil || newKeepUntil <= input.KeepUntil)
            {
                await NotifyAsync(NotificationKind.Rejection, [Recipient], $"Extension request not understood: {UntrustedText.PlainLine(_title ?? input.DatasetId)}",
                    $"Your objection to the disposal of dataset {Md(input.DatasetId)} was received, but the comment gives no new keep-until date after {Format(input.KeepUntil)}. "
                    + "Use the link of the latest notice again is not possible (links work once): ask the data steward, or wait for the next notice, and write the date as yyyy-MM-dd.",
                    [], $"extension-unclear-{_responses}");
                await AuditAsync("retention.extension_unclear", after: new { requestedBy, comment }, discriminator: ":" + _responses.ToString(CultureInfo.InvariantCulture));
                return null;
            }

            SetStatus("awaiting-extension-approval", $"requested {Format(newKeepUntil)}");
            _round++;
            var approval = await context.CallSubWorkflowAsync<ApprovalWorkflowOutput>(
                nameof(ApprovalWorkflow),
                new ApprovalWorkflowInput(
                    input.DmpId,
                    ApprovalRole.DataSteward,
                    string.Create(CultureInfo.InvariantCulture, $"retention-extension:{input.DmpId}/{input.DatasetId}:{newKeepUntil:yyyy-MM-dd}"),
                    [$"The PI ({requestedBy}) asks to keep dataset {input.DatasetId} until {Format(newKeepUntil)} instead of {Format(input.KeepUntil)}."],
                    Summary: $"Reason given: {comment}",
                    ApprovalId: $"{context.InstanceId}:steward:extension:{_round}",
                    PiEmail: _piEmail,
                    DmpTitle: _title,

                    // The PI asked for the extension: the steward who decides must be someone else.
                    RequestedWith: [ApprovalRole.PrincipalInvestigator]),
                $"{context.InstanceId}-extension-{_round}");
            if (!approval.IsApproved)
            {
                await NotifyAsync(NotificationKind.Rejection, [Recipient], $"Extension not granted: {UntrustedText.PlainLine(_title ?? input.DatasetId)}",
                    $"The data steward did not approve keeping dataset {Md(input.DatasetId)} until {Format(newKeepUntil)} ({approval.Outcome}: {Md(approval.Comment ?? "no comment")}). The planned action on {Format(input.KeepUntil)} stands.",
                    [], $"extension-denied-{_round}");
                await AuditAsync("retention.extension_denied", after: new { requested = newKeepUntil, outcome = approval.Outcome.ToString(), decidedBy = approval.DecidedBy }, discriminator: ":" + _round.ToString(CultureInfo.InvariantCulture));
                return null;
            }

            await context.CallActivityAsync<bool>(nameof(CancelDeletionActivity), new CancelDeletionInput(input.DmpId, input.DatasetId, "retention extended", Now, _actor), ActivityRetryPolicies.Persistent);
            await context.CallActivityAsync<UpdateDatasetRetentionResult>(
                nameof(UpdateDatasetRetentionActivity),
                new UpdateDatasetRetentionInput(input.DmpId, input.DatasetId, input.Container, newKeepUntil, input.Disposal, Now, "user:" + (approval.DecidedBy ?? approval.Approver)),
                ActivityRetryPolicies.Persistent);
            await AuditAsync("retention.extended", before: new { keepUntil = input.KeepUntil }, after: new { keepUntil = newKeepUntil, requestedBy, approvedBy = approval.DecidedBy, approvalId = approval.ApprovalId });
            await NotifyAsync(NotificationKind.Summary, [Recipient], $"Retention extended: {UntrustedText.PlainLine(_title ?? input.DatasetId)}",
                $"Dataset {Md(input.DatasetId)} (DMP {Md(input.DmpId)}) is now kept until {Format(newKeepUntil)} (approved by {Md(approval.DecidedByLabel)}). You will be notified again before that date.", [], $"extended-{_round}");
            return Result(RetentionCaseOutcome.Extended, $"Extended to {Format(newKeepUntil)}.", newKeepUntil);
        }

        // ---- Due date --------------------------------------------------------------------------------------------

        private async Task<RetentionCaseResult> DueAsync()
        {
            while (true)
            {
                var snapshot = await LoadAsync();
                if (Early(snapshot) is { } early)
                {
                    return early;
                }

                var facts = snapshot.Facts!;
                var decision = DisposalGuard.Evaluate(facts, Today);
                switch (decision.Verdict)
                {
                    case DisposalVerdict.NotYetDue:
                        if (await WaitUntilAsync(Midnight(input.KeepUntil)) is { } ended)
                        {
                            return ended;
                        }

                        continue;
                    case DisposalVerdict.Held:
                        if (await HeldAsync(decision) is { } afterHold)
                        {
                            return afterHold;
                        }

                        continue;
                    case DisposalVerdict.MissingApprovals:
                        if (await RequestDisposalApprovalsAsync(decision.MissingRoles) is { } notApproved)
                        {
                            return notApproved;
                        }

                        continue;
                    case DisposalVerdict.Proceed:
                        if (await DisposeAsync(facts) is { } disposed)
                        {
                            return disposed;
                        }

                        continue;
                    case DisposalVerdict.AlreadyDisposed:
                        return Result(RetentionCaseOutcome.AlreadyDisposed, decision.Reason);
                    case DisposalVerdict.KeepUntilChanged:
                        return Result(RetentionCaseOutcome.Superseded, decision.Reason, facts.KeepUntil);
                    default:
                        await AuditAsync("retention.case_refused", after: new { verdict = decision.Verdict.ToString(), reason = decision.Reason });
                        return Result(RetentionCaseOutcome.Refused, decision.Reason);
                }
            }
        }

        /// <summary>Reports the hold, waits for the re-check; continues as new now and then so history stays short.</summary>
        private async Task<RetentionCaseResult?> HeldAsync(DisposalDecision decision)
        {
            _round++;
            SetStatus("held", decision.Reason);
            await NotifyAsync(NotificationKind.Alert, [_settings.StewardEmail, _settings.DpoEmail], $"Disposal on hold: {UntrustedText.PlainLine(_title ?? input.DatasetId)}",
                $"Dataset {Md(input.DatasetId)} (DMP {Md(input.DmpId)}, container {Md(input.Container)}) reached keep-until {Format(input.KeepUntil)} but was NOT disposed of: {Md(decision.Reason)}\nGardien checks again on {Format(DateOnly.FromDateTime(RetentionSettings.Add(context.CurrentUtcDateTime, _settings.HoldRecheckEvery)))}.",
                [], $"held-{_round}");
            await AuditAsync("retention.disposal_held", after: new { reason = decision.Reason, recheckAfter = _settings.HoldRecheckEvery.ToString() }, discriminator: ":" + _round.ToString(CultureInfo.InvariantCulture));
            if (await WaitUntilAsync(RetentionSettings.Add(context.CurrentUtcDateTime, _settings.HoldRecheckEvery)) is { } ended)
            {
                return ended;
            }

            if (_round - input.Round >= RoundsBeforeContinueAsNew)
            {
                context.ContinueAsNew(Carry());
                return Result(RetentionCaseOutcome.Refused, "continued as new");
            }

            return null;
        }

        private async Task<RetentionCaseResult?> RequestDisposalApprovalsAsync(IReadOnlyList<string> roles)
        {
            _round++;
            SetStatus("awaiting-disposal-approval", string.Join(", ", roles));
            var subject = DisposalGuard.ApprovalSubject(input.DmpId, input.DatasetId, input.KeepUntil);
            var requests = roles.Select(role => (Role: ToApprovalRole(role), Request: new ApprovalWorkflowInput(
                input.DmpId,
                ToApprovalRole(role),
                subject,
                [$"Dataset {input.DatasetId} reached keep-until {Format(input.KeepUntil)}; planned action: {Describe(input.Disposal)}. The policy requires your approval before it happens."],
                Summary: $"Container {input.Container}. Notices sent to {Recipient}: {_noticesSent.Count}.",
                ApprovalId: $"{context.InstanceId}:{role}:disposal:{_round}",
                PiEmail: _piEmail,
                DmpTitle: _title,
                RequestedWith: [.. roles.Select(ToApprovalRole)]))).ToList();
            var running = requests.Select(r => context.CallSubWorkflowAsync<ApprovalWorkflowOutput>(
                nameof(ApprovalWorkflow), r.Request, $"{context.InstanceId}-disposal-{_round}-{ApprovalRoles.Code(r.Role)}")).ToList();
            var results = await Task.WhenAll(running);
            var refused = results.Where(r => !r.IsApproved).ToList();
            if (refused.Count == 0)
            {
                return null;
            }

            var detail = string.Join("; ", refused.Select(r => $"{ApprovalRoles.Title(r.Role)}: {r.Outcome} {r.Comment}".Trim()));
            await AuditAsync("retention.disposal_not_approved", after: new { refused = refused.Select(r => new { role = ApprovalRoles.Code(r.Role), outcome = r.Outcome.ToString(), r.DecidedBy, r.Comment }) });
            await NotifyAsync(NotificationKind.Alert, [_settings.StewardEmail, Recipient], $"Disposal not approved: {UntrustedText.PlainLine(_title ?? input.DatasetId)}",
                $"Dataset {Md(input.DatasetId)} (DMP {Md(input.DmpId)}) reached keep-until {Format(input.KeepUntil)} but its disposal was not approved ({Md(detail)}). Nothing was disposed of; set a new keep-until (DMP update or extension) to close the case.",
                [], $"not-approved-{_round}");
            return Result(RetentionCaseOutcome.NotApproved, detail);
        }

        private async Task<RetentionCaseResult?> DisposeAsync(DisposalFacts facts)
        {
            SetStatus("disposing", Describe(input.Disposal));
            var purgeNotBefore = RetentionSettings.Add(context.CurrentUtcDateTime, _settings.DeletionGrace);
            var phase1At = Now;
            var phase1 = await context.CallActivityAsync<DisposalStepResult>(
                nameof(DisposeDatasetActivity),
                new DisposeDatasetInput(input.DmpId, input.DatasetId, input.KeepUntil, phase1At, input.Disposal == DisposalAction.Delete ? Utc(purgeNotBefore) : null, _actor),
                ActivityRetryPolicies.Transient);
            if (phase1.Outcome == DisposalStepOutcome.Refused)
            {
                // The activity's own re-check saw something the workflow did not (a hold set a moment ago): loop and re-decide.
                return phase1.Decision.Verdict is DisposalVerdict.Held or DisposalVerdict.MissingApprovals or DisposalVerdict.NotYetDue
                    ? null
                    : Result(RetentionCaseOutcome.Refused, phase1.Detail);
            }

            if (phase1.Decision.Verdict == DisposalVerdict.AlreadyDisposed)
            {
                return Result(RetentionCaseOutcome.AlreadyDisposed, phase1.Detail);
            }

            DisposalStepResult? phase2 = null;
            DateTimeOffset? phase2At = null;
            if (input.Disposal == DisposalAction.Delete)
            {
                var link = await IssueLinkAsync(Recipient, Utc(purgeNotBefore));
                await NotifyAsync(NotificationKind.RetentionNotice, [Recipient, _settings.StewardEmail], $"Marked for deletion: {UntrustedText.PlainLine(_title ?? input.DatasetId)}",
                    $"Dataset {Md(input.DatasetId)} (DMP {Md(input.DmpId)}, container {Md(input.Container)}: {phase1.Manifest?.BlobCount} blobs, {phase1.Manifest?.TotalBytes} bytes) is marked for deletion. "
                    + $"It will be purged irreversibly on {Utc(purgeNotBefore):yyyy-MM-dd HH:mm} UTC. Until then, Reject (the link below) stops the deletion.",
                    [new NotificationLink("Stop the deletion", link.RejectUrl)], "marked");
                while (context.CurrentUtcDateTime < purgeNotBefore)
                {
                    SetStatus("grace-period", $"purge on {purgeNotBefore:yyyy-MM-dd}");
                    var response = await WaitForResponseAsync(purgeNotBefore);
                    if (response is not null && await HandleResponseAsync(response, inGrace: true) is { } stopped)
                    {
                        return stopped;
                    }
                }

                phase2At = Now;
                phase2 = await context.CallActivityAsync<DisposalStepResult>(
                    nameof(PurgeDatasetActivity), new PurgeDatasetInput(input.DmpId, input.DatasetId, input.KeepUntil, phase2At.Value, _actor), ActivityRetryPolicies.Transient);
                if (phase2.Outcome == DisposalStepOutcome.Refused)
                {
                    // Typically a hold that arrived during the grace period: undo the mark, report, and go back to the checks.
                    await context.CallActivityAsync<bool>(nameof(CancelDeletionActivity), new CancelDeletionInput(input.DmpId, input.DatasetId, "purge refused: " + phase2.Detail, Now, _actor), ActivityRetryPolicies.Persistent);
                    return phase2.Decision.Verdict is DisposalVerdict.Held or DisposalVerdict.MissingApprovals or DisposalVerdict.NotYetDue
                        ? null
                        : Result(RetentionCaseOutcome.Refused, phase2.Detail);
                }
            }

            var manifest = phase2?.Manifest ?? phase1.Manifest ?? ContainerManifest.Compute(input.Container, []);
            var certificate = new DeletionCertificate
            {
                CertificateId = context.NewGuid().ToString("N"),
                DmpId = input.DmpId,
                DatasetId = input.DatasetId,
                Container = input.Container,
                Disposal = input.Disposal.ToString(),
                KeepUntil = input.KeepUntil,
                BlobCount = manifest.BlobCount,
                TotalBytes = manifest.TotalBytes,
                ManifestSha256 = manifest.ManifestSha256,
                Approvals = [.. facts.Approvals.Select(a => new CertificateApproval(a.Role, a.Decision.ToString(), a.DecidedBy, a.DecidedAt, a.ApprovalId))],
                NoticesSentAt = [.. _noticeTimestamps],
                ApprovedAt = facts.Approvals.Where(a => a.Decision == ApprovalDecision.Approved).Max(a => a.DecidedAt),
                Phase1At = phase1At,
                Phase2At = phase2At,
                Actor = _actor,
                InstanceId = context.InstanceId,
                IssuedAt = Now,
                Phase1ManifestSha256 = phase1.Manifest is { } first && phase2?.Manifest is { } second && first.ManifestSha256 != second.ManifestSha256 ? first.ManifestSha256 : null,
            };
            var receipt = await context.CallActivityAsync<CertificateReceipt>(nameof(WriteDeletionCertificateActivity), certificate, ActivityRetryPolicies.Persistent);
            await NotifyAsync(NotificationKind.Summary, [Recipient, _settings.StewardEmail], $"Disposal completed: {UntrustedText.PlainLine(_title ?? input.DatasetId)}",
                $"Dataset {Md(input.DatasetId)} (DMP {Md(input.DmpId)}) was disposed of ({Describe(input.Disposal)}): {certificate.BlobCount} blobs, {certificate.TotalBytes} bytes, manifest SHA-256 {certificate.ManifestSha256}. "
                + $"Certificate {certificate.CertificateId} is audit entry #{receipt.Sequence}.",
                [], "completed");
            SetStatus("completed", Describe(input.Disposal));
            var outcome = input.Disposal switch
            {
                DisposalAction.Archive => RetentionCaseOutcome.Archived,
                DisposalAction.Publish => RetentionCaseOutcome.Published,
                _ => RetentionCaseOutcome.Disposed,
            };
            return new RetentionCaseResult(outcome, $"Certificate {certificate.CertificateId} (audit #{receipt.Sequence}).", input.KeepUntil, null, receipt, certificate);
        }

        // ---- Helpers -------------------------------------------------------------------------------------------

        private async Task<RetentionCaseSnapshot> LoadAsync()
        {
            var snapshot = await context.CallActivityAsync<RetentionCaseSnapshot>(
                nameof(LoadRetentionCaseActivity), new LoadRetentionCaseInput(input.DmpId, input.DatasetId, input.KeepUntil), ActivityRetryPolicies.Transient);
            _piEmail = snapshot.PiEmail;
            _title = snapshot.Title;
            return snapshot;
        }

        private Task<ApprovalLink> IssueLinkAsync(string approver, DateTimeOffset expiresAt) =>
            context.CallActivityAsync<ApprovalLink>(
                nameof(IssueApprovalLinkActivity), new IssueApprovalLinkInput(context.NewGuid().ToString("N"), context.InstanceId, DisposalGuard.PiRole, approver, expiresAt), ActivityRetryPolicies.Transient);

        private static IReadOnlyList<NotificationLink> Links(ApprovalLink link) =>
            [new NotificationLink("Confirm the disposal", link.ApproveUrl), new NotificationLink("Object / request an extension", link.RejectUrl)];

        private Task<NotificationReceipt> NotifyAsync(NotificationKind kind, IReadOnlyList<string> to, string subject, string body, IReadOnlyList<NotificationLink> links, string step) =>
            context.CallActivityAsync<NotificationReceipt>(
                nameof(SendNotificationActivity),
                new Notification(kind, [.. to.Distinct(StringComparer.OrdinalIgnoreCase)], subject, body, links, context.InstanceId, $"{context.InstanceId}:{step}"),
                ActivityRetryPolicies.Transient);

        private Task<AuditReceipt> AuditAsync(string action, object? before = null, object? after = null, string? actor = null, string? discriminator = null) =>
            context.CallActivityAsync<AuditReceipt>(
                nameof(WriteAuditActivity),
                AuditEntries.Create(actor ?? _actor, action, context.InstanceId, Subject, context.CurrentUtcDateTime, before, after, input.SweepInstanceId, discriminator),
                ActivityRetryPolicies.Persistent);

        private Task<ApprovalRecord> RecordApprovalAsync(ApprovalRecord record, string action, string actor) =>
            context.CallActivityAsync<ApprovalRecord>(
                nameof(RecordApprovalActivity), new RecordApprovalInput(record, action, actor, Now), ActivityRetryPolicies.Persistent);

        private void SetStatus(string stage, string? detail) =>
            context.SetCustomStatus(new RetentionCaseStatus(stage, input.KeepUntil, input.Disposal.ToString(), [.. _noticesSent], detail));

        private RetentionCaseInput Carry() => input with
        {
            Phase = RetentionCasePhase.Due,
            NoticesSent = [.. _noticesSent],
            NoticeTimestamps = [.. _noticeTimestamps],
            Round = _round,
        };

        private RetentionCaseResult Result(RetentionCaseOutcome outcome, string detail, DateOnly? newKeepUntil = null) => new(outcome, detail, input.KeepUntil, newKeepUntil);

        private static ApprovalRole ToApprovalRole(string role) => role switch
        {
            DisposalGuard.DpoRole => ApprovalRole.DataProtectionOfficer,
            DisposalGuard.PiRole => ApprovalRole.PrincipalInvestigator,
            _ => ApprovalRole.DataSteward,
        };

        private static string Describe(DisposalAction action) => action switch
        {
            DisposalAction.Archive => "move to the archive tier and keep",
            DisposalAction.Publish => "hand off for publication",
            _ => "delete (marked first, purged after the grace period)",
        };
    }

    private static DateTime Midnight(DateOnly date) => date.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc);

    private static DateTimeOffset Utc(DateTime at) => new(DateTime.SpecifyKind(at, DateTimeKind.Utc));

    private static string Format(DateOnly? date) => date?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) ?? "none";
}
