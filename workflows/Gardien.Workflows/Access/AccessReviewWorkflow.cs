using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Gardien.Runtime;
using Gardien.Workflows.Approvals;
using Gardien.Workflows.Audit;
using Gardien.Workflows.Notifications;
using Gardien.Workflows.Ports;
using Gardien.Workflows.Retention;
using Gardien.Workflows.Text;

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
public sealed record AccessReviewResult(AccessReviewOutcome Outcome, int Cycle, IReadOnlyList<string> Confirmed, IReadOnlyList<string> Revoked, string Detail);

/// <summary>What <c>SetCustomStatus</c> shows.</summary>
public sealed record AccessReviewStatus(string Stage, int Cycle, DateOnly? NextReviewOn, DateOnly? AccessEndsOn, IReadOnlyList<string> Awaiting);

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
    /// <summary>A value from the DMP or a person inside a Markdown message body: escaped, one line.</summary>
    private static string Md(string? text) => UntrustedText.MarkdownInline(text);

    public static string InstanceIdFor(string dmpId)
    {
        ArgumentNullException.ThrowIfNull(dmpId);
        return "access-review-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(dmpId)))[..24];
    }

    public override async Task<AccessReviewResult> RunAsync(WorkflowContext context, AccessReviewInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        var actor = GardienWorkflowOptions.SystemActor(nameof(AccessReviewWorkflow));
        var settings = input.Settings
            ?? await context.CallActivityAsync<RetentionSettings>(nameof(LoadRetentionSettingsActivity), null, ActivityRetryPolicies.Transient);
        var snapshot = await LoadAsync(context, input.DmpId);
        if (snapshot.DmpState != DmpState.Active)
        {
            return new AccessReviewResult(AccessReviewOutcome.DmpNotActive, input.Cycle, [], [], $"The DMP is {snapshot.DmpState?.ToString() ?? "unknown"}.");
        }

        var reviewOn = input.NextReviewOn ?? settings.ReviewEvery.AddTo(Today(context));
        var reviewAt = Midnight(reviewOn);

        // Access ends at the start of the day after the last day of access.
        DateTime? endAt = snapshot.AccessEndsOn is { } last ? Midnight(last.AddDays(1)) : null;
        context.SetCustomStatus(new AccessReviewStatus("waiting", input.Cycle, reviewOn, snapshot.AccessEndsOn, []));
        if (endAt is { } end && end <= reviewAt)
        {
            await context.CreateTimer(end, CancellationToken.None);
            return await EndAccessAsync(context, input, actor);
        }

        await context.CreateTimer(reviewAt, CancellationToken.None);
        snapshot = await LoadAsync(context, input.DmpId);
        if (snapshot.DmpState != DmpState.Active)
        {
            return new AccessReviewResult(AccessReviewOutcome.DmpNotActive, input.Cycle, [], [], $"The DMP is {snapshot.DmpState?.ToString() ?? "unknown"}.");
        }

        var pi = snapshot.PiEmail ?? settings.StewardEmail;
        var members = snapshot.Members.Where(m => !string.Equals(m.Email, snapshot.PiEmail, StringComparison.OrdinalIgnoreCase)).ToList();
        // Nobody to review this time (no grant yet, or only the PI): keep the schedule, members may be granted later.
        var (confirmed, revoked) = members.Count == 0 ? ([], []) : await ReviewAsync(context, input, settings, snapshot, members, pi, actor);
        context.ContinueAsNew(input with { Settings = settings, NextReviewOn = settings.ReviewEvery.AddTo(reviewOn), Cycle = input.Cycle + 1 });
        return members.Count == 0
            ? new AccessReviewResult(AccessReviewOutcome.NoMembers, input.Cycle, [], [], "No member to review; the next review is scheduled.")
            : new AccessReviewResult(AccessReviewOutcome.ContinuedAsNew, input.Cycle, confirmed, revoked, $"Review {input.Cycle + 1} done.");
    }

    private static async Task<(IReadOnlyList<string> Confirmed, IReadOnlyList<string> Revoked)> ReviewAsync(
        WorkflowContext context, AccessReviewInput input, RetentionSettings settings, AccessReviewSnapshot snapshot, List<ReviewMember> members, string pi, string actor)
    {
        var started = context.CurrentUtcDateTime;
        var deadline = RetentionSettings.Add(started, settings.ReviewDeadline);
        var cycle = input.Cycle.ToString(CultureInfo.InvariantCulture);
        var byToken = new Dictionary<string, ReviewMember>(StringComparer.Ordinal);
        var links = new List<NotificationLink>();
        var lines = new StringBuilder();
        foreach (var member in members)
        {
            var link = await context.CallActivityAsync<ApprovalLink>(
                nameof(IssueApprovalLinkActivity),
                new IssueApprovalLinkInput(context.NewGuid().ToString("N"), context.InstanceId, DisposalGuard.PiRole, pi, Utc(deadline)),
                ActivityRetryPolicies.Transient);
            byToken[link.TokenId] = member;
            links.Add(new NotificationLink($"Keep {member.DisplayName}", link.ApproveUrl));
            links.Add(new NotificationLink($"Remove {member.DisplayName}", link.RejectUrl));
            lines.Append(CultureInfo.InvariantCulture, $"- {Md(member.DisplayName)} ({Md(member.Email ?? member.PrincipalId)}): {string.Join(", ", member.Grants.Select(g => $"{g.Level} on {Md(g.DatasetId)}"))}\n");
        }

        var subject = $"Access review: {UntrustedText.PlainLine(snapshot.Title ?? input.DmpId)}";
        var body = $"Please confirm who still needs access to the data of DMP {Md(input.DmpId)}. Use Keep or Remove for each person before {Utc(deadline):yyyy-MM-dd} (UTC). "
            + "People you do not confirm by then lose access automatically.\n\n" + lines;
        await NotifyAsync(context, NotificationKind.AccessReview, pi, subject, body, links, $"review-{cycle}");
        await AuditAsync(context, actor, "access_review.requested", input.DmpId, new { cycle = input.Cycle, pi, deadline = Utc(deadline), members = members.Select(m => m.PrincipalId) }, ":" + cycle);

        var kept = new HashSet<string>(StringComparer.Ordinal);
        var removed = new HashSet<string>(StringComparer.Ordinal);
        var nextReminder = settings.ReminderEvery.IsZero ? (DateTime?)null : RetentionSettings.Add(started, settings.ReminderEvery);
        var reminders = 0;
        var received = 0;
        using (var waits = new CancellationTokenSource())
        {
            Task<ApprovalDecisionEvent>? decision = null;
            while (kept.Count + removed.Count < members.Count && context.CurrentUtcDateTime < deadline)
            {
                context.SetCustomStatus(new AccessReviewStatus("awaiting-pi", input.Cycle, null, snapshot.AccessEndsOn,
                    [.. members.Where(m => !kept.Contains(m.PrincipalId) && !removed.Contains(m.PrincipalId)).Select(m => m.DisplayName)]));
                decision ??= context.WaitForExternalEvent<ApprovalDecisionEvent>(ApprovalWorkflow.DecisionEventName, waits.Token);
                var next = nextReminder is { } r && r < deadline ? r : deadline;
                using var timerCancel = new CancellationTokenSource();
                var timer = context.CreateTimer(next, timerCancel.Token);
                var winner = await Task.WhenAny(decision, timer);
                if (winner == decision)
                {
                    timerCancel.Cancel();
                    var evt = await decision;
                    decision = null;
                    received++;
                    var verified = await context.CallActivityAsync<VerifiedDecision>(
                        nameof(VerifyApprovalDecisionActivity), new VerifyApprovalDecisionInput(evt.Token, evt.Decision, context.InstanceId, Utc(context.CurrentUtcDateTime)), ActivityRetryPolicies.Transient);
                    if (!verified.IsValid || verified.TokenId is null || !byToken.TryGetValue(verified.TokenId, out var member))
                    {
                        await AuditAsync(context, evt.Actor ?? "anonymous", "access_review.response_refused", input.DmpId, new { cycle = input.Cycle, message = verified.Message }, $":{cycle}:{received}");
                        continue;
                    }

                    var keep = ApprovalDecisions.Normalise(evt.Decision) == IssueApprovalLinkActivity.ApproveDecision;
                    (keep ? kept : removed).Add(member.PrincipalId);
                    (keep ? removed : kept).Remove(member.PrincipalId);
                    continue;
                }

                if (nextReminder is { } due && context.CurrentUtcDateTime >= due && context.CurrentUtcDateTime < deadline)
                {
                    reminders++;
                    await NotifyAsync(context, NotificationKind.Reminder, pi, $"Reminder {reminders}: {subject}", body, links, $"review-{cycle}-reminder-{reminders}");
                    nextReminder = RetentionSettings.Add(due, settings.ReminderEvery);
                }
            }

            waits.Cancel();
        }

        var now = Utc(context.CurrentUtcDateTime);
        if (kept.Count > 0)
        {
            await context.CallActivityAsync<int>(nameof(ConfirmGrantsActivity), new ConfirmGrantsInput(input.DmpId, [.. kept.Order(StringComparer.Ordinal)], now, "user:" + pi), ActivityRetryPolicies.Persistent);
        }

        var revoked = new List<string>();
        foreach (var member in members.Where(m => !kept.Contains(m.PrincipalId)))
        {
            var reason = removed.Contains(member.PrincipalId) ? $"removed by the PI in access review {input.Cycle + 1}" : $"not confirmed in access review {input.Cycle + 1} before {now:yyyy-MM-dd}";
            await RevokeAllAsync(context, input.DmpId, member, reason, now, removed.Contains(member.PrincipalId) ? "user:" + pi : actor);
            revoked.Add(member.PrincipalId);
        }

        await AuditAsync(context, actor, "access_review.completed", input.DmpId, new { cycle = input.Cycle, confirmed = kept.Order(StringComparer.Ordinal), revoked, reminders }, ":" + cycle);
        await NotifyAsync(context, NotificationKind.Summary, pi, $"Access review done: {UntrustedText.PlainLine(snapshot.Title ?? input.DmpId)}",
            $"Confirmed: {kept.Count}. Access removed: {revoked.Count}" + (revoked.Count == 0 ? "." : ": " + string.Join(", ", members.Where(m => revoked.Contains(m.PrincipalId)).Select(m => m.DisplayName)) + "."),
            [], $"review-{cycle}-summary");
        return ([.. kept.Order(StringComparer.Ordinal)], revoked);
    }

    private static async Task<AccessReviewResult> EndAccessAsync(WorkflowContext context, AccessReviewInput input, string actor)
    {
        var snapshot = await LoadAsync(context, input.DmpId);
        var now = Utc(context.CurrentUtcDateTime);
        var revoked = new List<string>();
        foreach (var member in snapshot.Members)
        {
            await RevokeAllAsync(context, input.DmpId, member, $"project ended; access ended after {snapshot.AccessEndsOn:yyyy-MM-dd} (project end + grace)", now, actor);
            revoked.Add(member.PrincipalId);
        }

        await AuditAsync(context, actor, "access.ended", input.DmpId, new { accessEndsOn = snapshot.AccessEndsOn, revoked });
        if (snapshot.PiEmail is { } pi)
        {
            await NotifyAsync(context, NotificationKind.Summary, pi, $"Access ended: {UntrustedText.PlainLine(snapshot.Title ?? input.DmpId)}",
                $"The project's access period ended on {snapshot.AccessEndsOn:yyyy-MM-dd} (project end + grace). Gardien removed the access of {revoked.Count} people. The data itself stays until its keep-until date.",
                [], "access-ended");
        }

        return new AccessReviewResult(AccessReviewOutcome.AccessEnded, input.Cycle, [], revoked, $"Access ended after {snapshot.AccessEndsOn:yyyy-MM-dd}.");
    }

    private static async Task RevokeAllAsync(WorkflowContext context, string dmpId, ReviewMember member, string reason, DateTimeOffset at, string actor)
    {
        foreach (var grant in member.Grants)
        {
            await context.CallActivityAsync<RevokeAccessResult>(
                nameof(RevokeAccessActivity),
                new RevokeAccessInput
                {
                    DmpId = dmpId,
                    DatasetId = grant.DatasetId,
                    Container = grant.Container,
                    PrincipalId = member.PrincipalId,
                    Email = member.Email,
                    Reason = reason,
                    RemoveEmptyGroupAssignment = true,
                    At = at,
                    Actor = actor,
                },
                ActivityRetryPolicies.Persistent);
        }
    }

    private static Task<AccessReviewSnapshot> LoadAsync(WorkflowContext context, string dmpId) =>
        context.CallActivityAsync<AccessReviewSnapshot>(nameof(LoadAccessReviewActivity), dmpId, ActivityRetryPolicies.Transient);

    private static Task<NotificationReceipt> NotifyAsync(WorkflowContext context, NotificationKind kind, string to, string subject, string body, IReadOnlyList<NotificationLink> links, string step) =>
        context.CallActivityAsync<NotificationReceipt>(
            nameof(SendNotificationActivity), new Notification(kind, [to], subject, body, links, context.InstanceId, $"{context.InstanceId}:{step}"), ActivityRetryPolicies.Transient);

    private static Task<AuditReceipt> AuditAsync(WorkflowContext context, string actor, string action, string dmpId, object after, string? discriminator = null) =>
        context.CallActivityAsync<AuditReceipt>(
            nameof(WriteAuditActivity), AuditEntries.Create(actor, action, context.InstanceId, AuditEntries.DmpSubject(dmpId), context.CurrentUtcDateTime, after: after, discriminator: discriminator), ActivityRetryPolicies.Persistent);

    private static DateOnly Today(WorkflowContext context) => DateOnly.FromDateTime(context.CurrentUtcDateTime);

    private static DateTime Midnight(DateOnly date) => date.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc);

    private static DateTimeOffset Utc(DateTime at) => new(DateTime.SpecifyKind(at, DateTimeKind.Utc));
}
