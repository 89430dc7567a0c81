using System.Globalization;
using Gardien.Runtime;
using Gardien.Workflows.Approvals;
using Gardien.Workflows.Audit;
using Gardien.Workflows.Governance;
using Gardien.Workflows.Notifications;
using Gardien.Workflows.Ports;
using Gardien.Workflows.Provisioning;
using DisposalAction = Gardien.Workflows.Ports.DisposalAction;

namespace Gardien.Workflows.Retention;

/// <summary>
/// One execution of <see cref="RetentionCaseWorkflow"/>, in two phases: notices (until keep-until, answering the PI's
/// responses) and the due date (hold checks, approvals, disposal). Its fields are the execution's state; every decision
/// goes through the context (deterministic).
/// </summary>
internal sealed class RetentionCaseRun(WorkflowContext context, RetentionCaseInput input)
{
    private const int RoundsBeforeContinueAsNew = 8;

    private readonly string _actor = GardienWorkflowOptions.SystemActor(nameof(RetentionCaseWorkflow));
    private readonly List<int> _noticesSent = [.. input.NoticesSent];
    private readonly List<DateTimeOffset> _noticeTimestamps = [.. input.NoticeTimestamps];
    private readonly RetentionSettings _settings = input.Settings;
    private readonly MessageCatalogue _messages = MessageCatalogue.For(input.Settings.Language);
    private string? _piEmail;
    private string? _title;
    private int _round = input.Round;
    private int _responses;

    private string Subject => AuditEntries.DatasetSubject(input.DmpId, input.DatasetId);

    private string Recipient => _piEmail ?? _settings.StewardEmail;

    public async Task<RetentionCaseResult> RunAsync()
    {
        if (Early(await LoadAsync()) is { } early)
        {
            return early;
        }

        if (input.Phase == RetentionCasePhase.Notice && await NoticesAsync() is { } ended)
        {
            return ended;
        }

        return await DueAsync();
    }

    /// <summary>The case ends at once when the dataset is gone, already disposed of, or its keep-until moved.</summary>
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

        return facts.KeepUntil != input.KeepUntil
            ? Result(RetentionCaseOutcome.Superseded, $"Keep-until is now {Format(facts.KeepUntil)}, not {Format(input.KeepUntil)}.",
                facts.KeepUntil)
            : null;
    }

    // ---- Notices -----------------------------------------------------------------------------------------------------

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
            if (notices.Any(n => n.DaysBefore < days && n.Date <= context.Today()))
            {
                continue;
            }

            if (await WaitUntilAsync(date.Midnight()) is { } ended)
            {
                return ended;
            }

            await SendNoticeAsync(days);
        }

        return await WaitUntilAsync(input.KeepUntil.Midnight());
    }

    private async Task SendNoticeAsync(int days)
    {
        SetStatus("notifying", $"{days} days before keep-until");
        var expiresAt = input.KeepUntil.Midnight().AsUtc().AddDays(1);
        var link = await context.IssueApprovalLinkAsync(DisposalGuard.PiRole, Recipient, expiresAt);
        await NotifyAsync(_messages.RetentionNotice(input, _title, days, link), [Recipient], $"notice-{days}");
        _noticesSent.Add(days);
        _noticeTimestamps.Add(context.UtcNow());
        await AuditAsync(
            "retention.notice_sent",
            after: new { daysBefore = days, keepUntil = input.KeepUntil, to = Recipient, disposal = input.Disposal.ToString() },
            discriminator: ":" + days.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>Waits until <paramref name="fireAt"/> while handling PI responses; non-null when a response ended the case.</summary>
    private async Task<RetentionCaseResult?> WaitUntilAsync(DateTime fireAt)
    {
        while (context.CurrentUtcDateTime < fireAt)
        {
            var beforeKeepUntil = input.Phase == RetentionCasePhase.Notice && context.Today() < input.KeepUntil;
            SetStatus(beforeKeepUntil ? "waiting-notice" : "waiting", $"until {fireAt:yyyy-MM-dd}");
            if (await WaitForResponseAsync(fireAt) is not { } response)
            {
                return null;
            }

            if (await ResponseAsync(response, inGrace: false) is { } ended)
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
    private async Task<RetentionCaseResult?> ResponseAsync(ApprovalDecisionEvent response, bool inGrace)
    {
        _responses++;
        var verified = await context.VerifyDecisionAsync(
            new VerifyApprovalDecisionInput(response.Token, response.Decision, context.InstanceId, context.UtcNow()));
        if (!verified.IsValid)
        {
            await AuditAsync(
                "retention.response_refused",
                after: new { failure = verified.Failure.ToString(), message = verified.Message, decision = response.Decision },
                actor: response.Actor ?? "anonymous",
                discriminator: ":" + _responses.ToString(CultureInfo.InvariantCulture));
            return null;
        }

        var by = verified.Approver ?? Recipient;
        if (ApprovalDecisions.Normalise(response.Decision) == IssueApprovalLinkActivity.ApproveDecision)
        {
            if (!inGrace)
            {
                await ConfirmedByPiAsync(by, response.Comment, verified.TokenId);
            }

            return null;
        }

        if (inGrace)
        {
            var reason = $"stopped by {by} during the grace period: {response.Comment}";
            await context.CancelDeletionAsync(
                new CancelDeletionInput(input.DmpId, input.DatasetId, reason, context.UtcNow(), "user:" + by));
            var stopped = _messages.DeletionStoppedByPi(input, _title, by, response.Comment);
            await NotifyAsync(stopped, [_settings.StewardEmail, Recipient], "stopped");
            return Result(RetentionCaseOutcome.StoppedByPi, $"Stopped by {by}: {response.Comment}");
        }

        return await ExtensionAsync(by, response.Comment);
    }

    /// <summary>The PI's confirmation counts as the PI's disposal approval.</summary>
    private Task<ApprovalRecord> ConfirmedByPiAsync(string by, string? comment, string? tokenId) =>
        context.RecordApprovalAsync(new RecordApprovalInput(
            new ApprovalRecord
            {
                DmpId = input.DmpId,
                ApprovalId = $"{context.InstanceId}:pi",
                InstanceId = context.InstanceId,
                Role = DisposalGuard.PiRole,
                Decision = ApprovalDecision.Approved,
                Subject = DisposalGuard.ApprovalSubject(input.DmpId, input.DatasetId, input.KeepUntil),
                Approver = Recipient,
                DecidedBy = by,
                DecidedAt = context.UtcNow(),
                Comment = comment,
                TokenId = tokenId,
            },
            "approval.decided",
            "user:" + by,
            context.UtcNow()));

    /// <summary>An objection with a later date asks the data steward for an extension; without one, the PI is told how to ask.</summary>
    private async Task<RetentionCaseResult?> ExtensionAsync(string requestedBy, string? comment)
    {
        if (RetentionCaseWorkflow.RequestedDate(comment) is not { } newKeepUntil || newKeepUntil <= input.KeepUntil)
        {
            await NotifyAsync(_messages.ExtensionUnclear(input, _title), [Recipient], $"extension-unclear-{_responses}");
            await AuditAsync(
                "retention.extension_unclear",
                after: new { requestedBy, comment },
                discriminator: ":" + _responses.ToString(CultureInfo.InvariantCulture));
            return null;
        }

        SetStatus("awaiting-extension-approval", $"requested {Format(newKeepUntil)}");
        _round++;
        var (reasons, summary) = _messages.ExtensionRequest(input, requestedBy, newKeepUntil, comment);
        var approval = await context.CallSubWorkflowAsync<ApprovalWorkflowOutput>(
            nameof(ApprovalWorkflow),
            new ApprovalWorkflowInput(
                input.DmpId,
                ApprovalRole.DataSteward,
                ExtensionSubject(newKeepUntil),
                reasons,
                Summary: summary,
                ApprovalId: $"{context.InstanceId}:steward:extension:{_round}",
                PiEmail: _piEmail,
                DmpTitle: _title,

                // The PI asked for the extension: the steward who decides must be someone else.
                RequestedWith: [ApprovalRole.PrincipalInvestigator]),
            $"{context.InstanceId}-extension-{_round}");
        if (!approval.IsApproved)
        {
            await NotifyAsync(_messages.ExtensionDenied(input, _title, newKeepUntil, approval), [Recipient], $"extension-denied-{_round}");
            await AuditAsync(
                "retention.extension_denied",
                after: new { requested = newKeepUntil, outcome = approval.Outcome.ToString(), decidedBy = approval.DecidedBy },
                discriminator: ":" + _round.ToString(CultureInfo.InvariantCulture));
            return null;
        }

        await context.CancelDeletionAsync(
            new CancelDeletionInput(input.DmpId, input.DatasetId, "retention extended", context.UtcNow(), _actor));
        var approvedBy = "user:" + (approval.DecidedBy ?? approval.Approver);
        await context.UpdateDatasetRetentionAsync(new UpdateDatasetRetentionInput(
            input.DmpId, input.DatasetId, input.Container, newKeepUntil, input.Disposal, context.UtcNow(), approvedBy));
        await AuditAsync("retention.extended", before: new { keepUntil = input.KeepUntil },
            after: new { keepUntil = newKeepUntil, requestedBy, approvedBy = approval.DecidedBy, approvalId = approval.ApprovalId });
        await NotifyAsync(_messages.RetentionExtended(input, _title, newKeepUntil, approval), [Recipient], $"extended-{_round}");
        return Result(RetentionCaseOutcome.Extended, $"Extended to {Format(newKeepUntil)}.", newKeepUntil);
    }

    // ---- Due date ----------------------------------------------------------------------------------------------------

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
            var decision = DisposalGuard.Evaluate(facts, context.Today());
            var ended = decision.Verdict switch
            {
                DisposalVerdict.NotYetDue => await WaitUntilAsync(input.KeepUntil.Midnight()),
                DisposalVerdict.Held => await HeldAsync(decision),
                DisposalVerdict.MissingApprovals => await RequestDisposalApprovalsAsync(decision.MissingRoles),
                DisposalVerdict.Proceed => await DisposeAsync(facts),
                DisposalVerdict.AlreadyDisposed => Result(RetentionCaseOutcome.AlreadyDisposed, decision.Reason),
                DisposalVerdict.KeepUntilChanged => Result(RetentionCaseOutcome.Superseded, decision.Reason, facts.KeepUntil),
                _ => await RefusedAsync(decision),
            };
            if (ended is not null)
            {
                return ended;
            }
        }
    }

    private async Task<RetentionCaseResult> RefusedAsync(DisposalDecision decision)
    {
        await AuditAsync("retention.case_refused", after: new { verdict = decision.Verdict.ToString(), reason = decision.Reason });
        return Result(RetentionCaseOutcome.Refused, decision.Reason);
    }

    /// <summary>Reports the hold, waits for the re-check; continues as new now and then so history stays short.</summary>
    private async Task<RetentionCaseResult?> HeldAsync(DisposalDecision decision)
    {
        _round++;
        SetStatus("held", decision.Reason);
        var recheckAt = RetentionSettings.Add(context.CurrentUtcDateTime, _settings.HoldRecheckEvery);
        var held = _messages.DisposalHeld(input, _title, decision.Reason, DateOnly.FromDateTime(recheckAt));
        await NotifyAsync(held, [_settings.StewardEmail, _settings.DpoEmail], $"held-{_round}");
        await AuditAsync(
            "retention.disposal_held",
            after: new { reason = decision.Reason, recheckAfter = _settings.HoldRecheckEvery.ToString() },
            discriminator: ":" + _round.ToString(CultureInfo.InvariantCulture));
        if (await WaitUntilAsync(RetentionSettings.Add(context.CurrentUtcDateTime, _settings.HoldRecheckEvery)) is { } ended)
        {
            return ended;
        }

        if (_round - input.Round < RoundsBeforeContinueAsNew)
        {
            return null;
        }

        context.ContinueAsNew(input with
        {
            Phase = RetentionCasePhase.Due,
            NoticesSent = [.. _noticesSent],
            NoticeTimestamps = [.. _noticeTimestamps],
            Round = _round,
        });
        return Result(RetentionCaseOutcome.ContinuedAsNew, $"Still on hold after {_round} re-checks: the case goes on with a new history.");
    }

    /// <summary>One approval per role the policy requires, in parallel; a refusal or an expiry ends the case unchanged.</summary>
    private async Task<RetentionCaseResult?> RequestDisposalApprovalsAsync(IReadOnlyList<string> roles)
    {
        _round++;
        SetStatus("awaiting-disposal-approval", string.Join(", ", roles));
        var (reasons, summary) = _messages.DisposalRequest(input, Recipient, _noticesSent.Count);
        var running = roles.Select(role => context.CallSubWorkflowAsync<ApprovalWorkflowOutput>(
            nameof(ApprovalWorkflow),
            new ApprovalWorkflowInput(
                input.DmpId,
                ToApprovalRole(role),
                DisposalGuard.ApprovalSubject(input.DmpId, input.DatasetId, input.KeepUntil),
                reasons,
                Summary: summary,
                ApprovalId: $"{context.InstanceId}:{role}:disposal:{_round}",
                PiEmail: _piEmail,
                DmpTitle: _title,
                RequestedWith: [.. roles.Select(ToApprovalRole)]),
            $"{context.InstanceId}-disposal-{_round}-{ApprovalRoles.Code(ToApprovalRole(role))}")).ToList();
        var refused = (await Task.WhenAll(running)).Where(r => !r.IsApproved).ToList();
        if (refused.Count == 0)
        {
            return null;
        }

        await AuditAsync("retention.disposal_not_approved",
            after: new
            {
                refused = refused.Select(r => new
                {
                    role = ApprovalRoles.Code(r.Role),
                    outcome = r.Outcome.ToString(),
                    r.DecidedBy,
                    r.Comment,
                }),
            });
        var notApproved = _messages.DisposalNotApproved(input, _title, refused);
        await NotifyAsync(notApproved, [_settings.StewardEmail, Recipient], $"not-approved-{_round}");
        return Result(RetentionCaseOutcome.NotApproved, ApprovalRefusals.Summary(refused));
    }

    /// <summary>
    /// Disposes as planned: a deletion marks first, waits the grace period (the PI can stop it) and purges; the
    /// certificate goes to the audit trail. The activities check the guard again: a refusal sends the case back to the checks.
    /// </summary>
    private async Task<RetentionCaseResult?> DisposeAsync(DisposalFacts facts)
    {
        SetStatus("disposing", Describe(input.Disposal));
        var purgeNotBefore = RetentionSettings.Add(context.CurrentUtcDateTime, _settings.DeletionGrace);
        var phase1At = context.UtcNow();
        var phase1 = await context.DisposeDatasetAsync(new DisposeDatasetInput(
            input.DmpId,
            input.DatasetId,
            input.KeepUntil,
            phase1At,
            input.Disposal == DisposalAction.Delete ? purgeNotBefore.AsUtc() : null,
            _actor));
        if (phase1.Outcome == DisposalStepOutcome.Refused)
        {
            // The activity's own re-check saw something the workflow did not (a hold set a moment ago): loop and re-decide.
            return BackToTheChecks(phase1.Decision) ? null : Result(RetentionCaseOutcome.Refused, phase1.Detail);
        }

        if (phase1.Decision.Verdict == DisposalVerdict.AlreadyDisposed)
        {
            return Result(RetentionCaseOutcome.AlreadyDisposed, phase1.Detail);
        }

        DisposalStepResult? phase2 = null;
        DateTimeOffset? phase2At = null;
        if (input.Disposal == DisposalAction.Delete)
        {
            var link = await context.IssueApprovalLinkAsync(DisposalGuard.PiRole, Recipient, purgeNotBefore.AsUtc());
            var marked = _messages.MarkedForDeletion(input, _title, phase1.Manifest, purgeNotBefore.AsUtc(), link);
            await NotifyAsync(marked, [Recipient, _settings.StewardEmail], "marked");
            while (context.CurrentUtcDateTime < purgeNotBefore)
            {
                SetStatus("grace-period", $"purge on {purgeNotBefore:yyyy-MM-dd}");
                var response = await WaitForResponseAsync(purgeNotBefore);
                if (response is not null && await ResponseAsync(response, inGrace: true) is { } stopped)
                {
                    return stopped;
                }
            }

            phase2At = context.UtcNow();
            phase2 = await context.PurgeDatasetAsync(
                new PurgeDatasetInput(input.DmpId, input.DatasetId, input.KeepUntil, phase2At.Value, _actor));
            if (phase2.Outcome == DisposalStepOutcome.Refused)
            {
                // Typically a hold that arrived during the grace period: undo the mark, report, and go back to the checks.
                await context.CancelDeletionAsync(
                    new CancelDeletionInput(input.DmpId, input.DatasetId, "purge refused: " + phase2.Detail, context.UtcNow(), _actor));
                return BackToTheChecks(phase2.Decision) ? null : Result(RetentionCaseOutcome.Refused, phase2.Detail);
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
            Approvals =
            [
                .. facts.Approvals.Select(a =>
                    new CertificateApproval(a.Role, a.Decision.ToString(), a.DecidedBy, a.DecidedAt, a.ApprovalId)),
            ],
            NoticesSentAt = [.. _noticeTimestamps],
            ApprovedAt = facts.Approvals.Where(a => a.Decision == ApprovalDecision.Approved).Max(a => a.DecidedAt),
            Phase1At = phase1At,
            Phase2At = phase2At,
            Actor = _actor,
            InstanceId = context.InstanceId,
            IssuedAt = context.UtcNow(),
            Phase1ManifestSha256 =
                phase1.Manifest is { } first && phase2?.Manifest is { } second && first.ManifestSha256 != second.ManifestSha256
                    ? first.ManifestSha256
                    : null,
        };
        var receipt = await context.WriteDeletionCertificateAsync(certificate);
        var completed = _messages.DisposalCompleted(input, _title, certificate, receipt.Sequence);
        await NotifyAsync(completed, [Recipient, _settings.StewardEmail], "completed");
        SetStatus("completed", Describe(input.Disposal));
        var outcome = input.Disposal switch
        {
            DisposalAction.Archive => RetentionCaseOutcome.Archived,
            DisposalAction.Publish => RetentionCaseOutcome.Published,
            _ => RetentionCaseOutcome.Disposed,
        };
        var detail = $"Certificate {certificate.CertificateId} (audit #{receipt.Sequence}).";
        return new RetentionCaseResult(outcome, detail, input.KeepUntil, null, receipt, certificate)
        {
            UndeliveredNotifications = context.UndeliveredNotifications(),
        };
    }

    // ---- Helpers -----------------------------------------------------------------------------------------------------

    private async Task<RetentionCaseSnapshot> LoadAsync()
    {
        var snapshot = await context.LoadRetentionCaseAsync(new LoadRetentionCaseInput(input.DmpId, input.DatasetId, input.KeepUntil));
        _piEmail = snapshot.PiEmail;
        _title = snapshot.Title;
        return snapshot;
    }

    private Task<NotificationFailure?> NotifyAsync(Message message, IEnumerable<string?> to, string step) =>
        context.NotifyAsync(message, to, step, Subject);

    private Task<AuditReceipt> AuditAsync(
        string action, object? before = null, object? after = null, string? actor = null, string? discriminator = null) =>
        context.AuditAsync(action, Subject, before, after, actor ?? _actor, discriminator, input.SweepInstanceId);

    private void SetStatus(string stage, string? detail)
    {
        var undelivered = context.UndeliveredNotifications();
        context.SetStatus(new RetentionCaseStatus(
            stage, input.KeepUntil, input.Disposal.ToString(), [.. _noticesSent], detail, undelivered.Count == 0 ? null : undelivered));
    }

    private RetentionCaseResult Result(RetentionCaseOutcome outcome, string detail, DateOnly? newKeepUntil = null) =>
        new(outcome, detail, input.KeepUntil, newKeepUntil) { UndeliveredNotifications = context.UndeliveredNotifications() };

    private string ExtensionSubject(DateOnly newKeepUntil) =>
        string.Create(CultureInfo.InvariantCulture, $"retention-extension:{input.DmpId}/{input.DatasetId}:{newKeepUntil:yyyy-MM-dd}");

    /// <summary>A refusal the case waits out (a hold, approvals, a date): the due-date checks run again.</summary>
    private static bool BackToTheChecks(DisposalDecision decision) =>
        decision.Verdict is DisposalVerdict.Held or DisposalVerdict.MissingApprovals or DisposalVerdict.NotYetDue;

    private static ApprovalRole ToApprovalRole(string role) => role switch
    {
        DisposalGuard.DpoRole => ApprovalRole.DataProtectionOfficer,
        DisposalGuard.PiRole => ApprovalRole.PrincipalInvestigator,
        _ => ApprovalRole.DataSteward,
    };

    /// <summary>The planned action, for statuses (messages word it in their own language).</summary>
    private static string Describe(DisposalAction action) => action switch
    {
        DisposalAction.Archive => "move to the archive tier and keep",
        DisposalAction.Publish => "hand off for publication",
        _ => "delete (marked first, purged after the grace period)",
    };


    private static string Format(DateOnly? date) => date?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) ?? "none";
}
