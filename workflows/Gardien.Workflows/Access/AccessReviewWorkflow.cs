using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Gardien.Runtime;
using Gardien.Workflows.Approvals;
using Gardien.Workflows.Audit;
using Gardien.Workflows.Notifications;
using Gardien.Workflows.Ports;
using Gardien.Workflows.Retention;

namespace Gardien.Workflows.Access;

/// <param name="Settings">Review period, deadline, reminders and grace; null: loaded from the configured policy (then carried).</param>
/// <param name="NextReviewOn">Date of the next review; null: one review period from the first start.</param>
/// <param name="Cycle">Reviews completed so far (the instance continues as new after each).</param>
public sealed record AccessReviewInput(string DmpId, RetentionSettings? Settings = null, DateOnly? NextReviewOn = null, int Cycle = 0);

public enum AccessReviewOutcome
{
    /// <summary>Project end + grace reached: every grant was revoked.</summary>
    AccessEnded,

    /// <summary>The DMP is not active (unknown, rejected, disposed): nothing to review.</summary>
    DmpNotActive,

    /// <summary>No member besides the PI had access at the review: nothing asked; continued as new for the next cycle.</summary>
    NoMembers,

    /// <summary>One review cycle done; the instance continued as new for the next.</summary>
    ContinuedAsNew,
}

/// <param name="Confirmed">Principal ids the PI confirmed in the last cycle.</param>
/// <param name="Revoked">Principal ids who lost access in the last cycle (unconfirmed, removed, or access end).</param>
public sealed record AccessReviewResult(
    AccessReviewOutcome Outcome, int Cycle, IReadOnlyList<string> Confirmed, IReadOnlyList<string> Revoked, string Detail)
{
    /// <summary>Messages of this cycle that could not be delivered (each audited; the review carried on).</summary>
    public IReadOnlyList<NotificationFailure> UndeliveredNotifications { get; init; } = [];
}

/// <summary>What <c>SetCustomStatus</c> shows.</summary>
/// <param name="Undelivered">Messages of this cycle that could not be delivered (the review carries on).</param>
public sealed record AccessReviewStatus(
    string Stage,
    int Cycle,
    DateOnly? NextReviewOn,
    DateOnly? AccessEndsOn,
    IReadOnlyList<string> Awaiting,
    string? Detail = null,
    IReadOnlyList<NotificationFailure>? Undelivered = null) : IWorkflowStatus
{
    public IWorkflowStatus WaitingForAuditTrail(string damage) => this with { Stage = AuditTrail.WaitingStage, Detail = damage };
}

/// <summary>
/// Periodic access review of one DMP: one eternal instance per DMP (<see cref="InstanceIdFor"/>), one review per cycle,
/// then ContinueAsNew (history stays small; a policy change applies from the next instance start). Each cycle waits for
/// the review date (or the access end, whichever first); at the review the PI gets one signed Keep / Remove link pair
/// per member (<see cref="ApprovalWorkflow.DecisionEventName"/> events, approve = keep, reject = remove), reminders until
/// the deadline; members not confirmed by the deadline (or removed) lose access (revoked, audited). At project end +
/// grace every grant is revoked and the instance ends. Start it when a DMP becomes active (idempotent per instance id).
/// </summary>
public sealed class AccessReviewWorkflow : Workflow<AccessReviewInput, AccessReviewResult>
{
    public static string InstanceIdFor(string dmpId)
    {
        ArgumentNullException.ThrowIfNull(dmpId);
        return "access-review-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(dmpId)))[..24];
    }

    public override async Task<AccessReviewResult> RunAsync(WorkflowContext context, AccessReviewInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        var settings = input.Settings ?? await context.LoadRetentionSettingsAsync();
        var snapshot = await context.LoadAccessReviewAsync(input.DmpId);
        if (snapshot.DmpState != DmpState.Active)
        {
            return NotActive(input, snapshot);
        }

        var reviewOn = input.NextReviewOn ?? settings.ReviewEvery.AddTo(context.Today());
        var reviewAt = reviewOn.Midnight();

        // Access ends at the start of the day after the last day of access.
        DateTime? endAt = snapshot.AccessEndsOn is { } last ? last.AddDays(1).Midnight() : null;
        context.SetStatus(new AccessReviewStatus("waiting", input.Cycle, reviewOn, snapshot.AccessEndsOn, []));
        var run = new ReviewRun(context, input, settings);
        if (endAt is { } end && end <= reviewAt)
        {
            await context.CreateTimer(end, CancellationToken.None);
            return await run.EndAccessAsync();
        }

        await context.CreateTimer(reviewAt, CancellationToken.None);
        snapshot = await context.LoadAccessReviewAsync(input.DmpId);
        if (snapshot.DmpState != DmpState.Active)
        {
            return NotActive(input, snapshot);
        }

        var members = snapshot.Members.Where(m => !string.Equals(m.Email, snapshot.PiEmail, StringComparison.OrdinalIgnoreCase)).ToList();

        // Nobody to review this time (no grant yet, or only the PI): keep the schedule, members may be granted later.
        var (confirmed, revoked) = members.Count == 0 ? ([], []) : await run.ReviewAsync(snapshot, members);
        var next = input with { Settings = settings, NextReviewOn = settings.ReviewEvery.AddTo(reviewOn), Cycle = input.Cycle + 1 };
        context.ContinueAsNew(next);
        var result = members.Count == 0
            ? new AccessReviewResult(AccessReviewOutcome.NoMembers, input.Cycle, [], [], "No member to review; the next review is planned.")
            : new AccessReviewResult(AccessReviewOutcome.ContinuedAsNew, input.Cycle, confirmed, revoked, $"Review {next.Cycle} done.");
        return result with { UndeliveredNotifications = context.UndeliveredNotifications() };
    }

    private static AccessReviewResult NotActive(AccessReviewInput input, AccessReviewSnapshot snapshot) =>
        new(AccessReviewOutcome.DmpNotActive, input.Cycle, [], [], $"The DMP is {snapshot.DmpState?.ToString() ?? "unknown"}.");

    /// <summary>One review cycle: the PI's answers until the deadline, then the revocations; or the end of access.</summary>
    private sealed class ReviewRun(WorkflowContext context, AccessReviewInput input, RetentionSettings settings)
    {
        private readonly string _actor = GardienWorkflowOptions.SystemActor(nameof(AccessReviewWorkflow));
        private readonly string _cycle = input.Cycle.ToString(CultureInfo.InvariantCulture);
        private readonly MessageCatalogue _messages = MessageCatalogue.For(settings.Language);

        private string About => AuditEntries.DmpSubject(input.DmpId);

        /// <summary>Asks the PI to keep or remove each member; those not kept by the deadline lose access.</summary>
        public async Task<(IReadOnlyList<string> Confirmed, IReadOnlyList<string> Revoked)> ReviewAsync(
            AccessReviewSnapshot snapshot, List<ReviewMember> members)
        {
            var pi = snapshot.PiEmail ?? settings.StewardEmail;
            var started = context.CurrentUtcDateTime;
            var deadline = RetentionSettings.Add(started, settings.ReviewDeadline);
            var byToken = new Dictionary<string, ReviewMember>(StringComparer.Ordinal);
            var linked = new List<(ReviewMember Member, ApprovalLink Link)>();
            foreach (var member in members)
            {
                var link = await context.IssueApprovalLinkAsync(DisposalGuard.PiRole, pi, deadline.AsUtc());
                byToken[link.TokenId] = member;
                linked.Add((member, link));
            }

            var review = _messages.AccessReview(input.DmpId, snapshot.Title, deadline.AsUtc(), linked);
            await context.NotifyAsync(review, [pi], $"review-{_cycle}", About);
            var requested = new
            {
                cycle = input.Cycle,
                pi,
                deadline = deadline.AsUtc(),
                members = members.Select(m => m.PrincipalId),
            };
            await AuditAsync("access_review.requested", requested, ":" + _cycle);

            var kept = new HashSet<string>(StringComparer.Ordinal);
            var removed = new HashSet<string>(StringComparer.Ordinal);
            var reminders = await CollectAnswersAsync(snapshot, members, pi, review, started, deadline, byToken, kept, removed);

            var now = context.UtcNow();
            if (kept.Count > 0)
            {
                await context.ConfirmGrantsAsync(
                    new ConfirmGrantsInput(input.DmpId, [.. kept.Order(StringComparer.Ordinal)], now, "user:" + pi));
            }

            var revoked = new List<string>();
            foreach (var member in members.Where(m => !kept.Contains(m.PrincipalId)))
            {
                var byPi = removed.Contains(member.PrincipalId);
                var reason = byPi
                    ? $"removed by the PI in access review {input.Cycle + 1}"
                    : $"not confirmed in access review {input.Cycle + 1} before {now:yyyy-MM-dd}";
                await RevokeAllAsync(member, reason, now, byPi ? "user:" + pi : _actor);
                revoked.Add(member.PrincipalId);
            }

            var completed = new { cycle = input.Cycle, confirmed = kept.Order(StringComparer.Ordinal), revoked, reminders };
            await AuditAsync("access_review.completed", completed, ":" + _cycle);
            var removedNames = members.Where(m => revoked.Contains(m.PrincipalId)).Select(m => m.DisplayName).ToList();
            var done = _messages.AccessReviewDone(input.DmpId, snapshot.Title, kept.Count, removedNames);
            await context.NotifyAsync(done, [pi], $"review-{_cycle}-summary", About);
            return ([.. kept.Order(StringComparer.Ordinal)], revoked);
        }

        /// <summary>Keep / Remove answers until all are in or the deadline passes, with reminders; returns how many were sent.</summary>
        private async Task<int> CollectAnswersAsync(
            AccessReviewSnapshot snapshot,
            List<ReviewMember> members,
            string pi,
            Message review,
            DateTime started,
            DateTime deadline,
            Dictionary<string, ReviewMember> byToken,
            HashSet<string> kept,
            HashSet<string> removed)
        {
            var nextReminder = settings.ReminderEvery.IsZero ? (DateTime?)null : RetentionSettings.Add(started, settings.ReminderEvery);
            var reminders = 0;
            var received = 0;
            using var waits = new CancellationTokenSource();
            Task<ApprovalDecisionEvent>? decision = null;
            while (kept.Count + removed.Count < members.Count && context.CurrentUtcDateTime < deadline)
            {
                var undelivered = context.UndeliveredNotifications();
                context.SetStatus(new AccessReviewStatus("awaiting-pi", input.Cycle, null, snapshot.AccessEndsOn,
                    [.. members.Where(m => !kept.Contains(m.PrincipalId) && !removed.Contains(m.PrincipalId)).Select(m => m.DisplayName)],
                    Undelivered: undelivered.Count == 0 ? null : undelivered));
                decision ??= context.WaitForExternalEvent<ApprovalDecisionEvent>(ApprovalWorkflow.DecisionEventName, waits.Token);
                var next = nextReminder is { } r && r < deadline ? r : deadline;
                using var timerCancel = new CancellationTokenSource();
                var timer = context.CreateTimer(next, timerCancel.Token);
                if (await Task.WhenAny(decision, timer) == decision)
                {
                    timerCancel.Cancel();
                    var answer = await decision;
                    decision = null;
                    received++;
                    await AnswerAsync(answer, received, byToken, kept, removed);
                    continue;
                }

                if (nextReminder is { } due && context.CurrentUtcDateTime >= due && context.CurrentUtcDateTime < deadline)
                {
                    reminders++;
                    var reminder = _messages.AccessReviewReminder(review, reminders);
                    await context.NotifyAsync(reminder, [pi], $"review-{_cycle}-reminder-{reminders}", About);
                    nextReminder = RetentionSettings.Add(due, settings.ReminderEvery);
                }
            }

            waits.Cancel();
            return reminders;
        }

        /// <summary>A verified Keep or Remove for one member; anything else is audited and ignored.</summary>
        private async Task AnswerAsync(
            ApprovalDecisionEvent answer,
            int received,
            Dictionary<string, ReviewMember> byToken,
            HashSet<string> kept,
            HashSet<string> removed)
        {
            var verified = await context.VerifyDecisionAsync(
                new VerifyApprovalDecisionInput(answer.Token, answer.Decision, context.InstanceId, context.UtcNow()));
            if (!verified.IsValid || verified.TokenId is null || !byToken.TryGetValue(verified.TokenId, out var member))
            {
                var refused = new { cycle = input.Cycle, message = verified.Message };
                await AuditAsync("access_review.response_refused", refused, $":{_cycle}:{received}", answer.Actor ?? "anonymous");
                return;
            }

            var keep = ApprovalDecisions.Normalise(answer.Decision) == IssueApprovalLinkActivity.ApproveDecision;
            (keep ? kept : removed).Add(member.PrincipalId);
            (keep ? removed : kept).Remove(member.PrincipalId);
        }

        /// <summary>Project end + grace: every grant goes, the PI is told, the instance ends.</summary>
        public async Task<AccessReviewResult> EndAccessAsync()
        {
            var snapshot = await context.LoadAccessReviewAsync(input.DmpId);
            var now = context.UtcNow();
            var revoked = new List<string>();
            foreach (var member in snapshot.Members)
            {
                var reason = $"project ended; access ended after {snapshot.AccessEndsOn:yyyy-MM-dd} (project end + grace)";
                await RevokeAllAsync(member, reason, now, _actor);
                revoked.Add(member.PrincipalId);
            }

            await AuditAsync("access.ended", new { accessEndsOn = snapshot.AccessEndsOn, revoked });
            if (snapshot.PiEmail is { } pi)
            {
                var ended = _messages.AccessEnded(input.DmpId, snapshot.Title, snapshot.AccessEndsOn, revoked.Count);
                await context.NotifyAsync(ended, [pi], "access-ended", About);
            }

            var detail = $"Access ended after {snapshot.AccessEndsOn:yyyy-MM-dd}.";
            return new AccessReviewResult(AccessReviewOutcome.AccessEnded, input.Cycle, [], revoked, detail)
            {
                UndeliveredNotifications = context.UndeliveredNotifications(),
            };
        }

        private async Task RevokeAllAsync(ReviewMember member, string reason, DateTimeOffset at, string actor)
        {
            foreach (var grant in member.Grants)
            {
                await context.RevokeAccessAsync(new RevokeAccessInput
                {
                    DmpId = input.DmpId,
                    DatasetId = grant.DatasetId,
                    Container = grant.Container,
                    PrincipalId = member.PrincipalId,
                    Email = member.Email,
                    Reason = reason,
                    RemoveEmptyGroupAssignment = true,
                    At = at,
                    Actor = actor,
                });
            }
        }

        private Task<AuditReceipt> AuditAsync(string action, object after, string? discriminator = null, string? actor = null) =>
            context.AuditAsync(action, About, after: after, actor: actor ?? _actor, discriminator: discriminator);
    }
}
