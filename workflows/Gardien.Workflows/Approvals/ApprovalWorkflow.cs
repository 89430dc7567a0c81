using System.Globalization;
using Gardien.Runtime;
using Gardien.Workflows.Audit;
using Gardien.Workflows.Governance;
using Gardien.Workflows.Notifications;
using Gardien.Workflows.Ports;
using Gardien.Workflows.Text;

namespace Gardien.Workflows.Approvals;

/// <summary>One approval to ask for.</summary>
/// <param name="Subject">What is approved: "intake", "update", "retention-extension:{datasetId}".</param>
/// <param name="Reasons">Why this role must approve (shown to the approver).</param>
/// <param name="Summary">What the approver is asked to approve (Markdown, shown in the request as is: the requester escapes
/// every value it did not write, see <see cref="UntrustedText.MarkdownInline"/>).</param>
/// <param name="ApprovalId">Registry id of the approval; default: the instance id.</param>
/// <param name="PiName">The PI (the DMP's contact): the approver for the PI role.</param>
/// <param name="Policy">The policy approvers and periods come from; null: the configured one.</param>
/// <param name="RequestedWith">The other roles asked for the same request: under the policy's separation of duties,
/// nobody is asked for two of them (see <see cref="ApproverAssignment"/>).</param>
/// <param name="PersonalData">Whether the request involves personal or sensitive data (separation of duties applies by default).</param>
public sealed record ApprovalWorkflowInput(
    string DmpId,
    ApprovalRole Role,
    string Subject,
    IReadOnlyList<string> Reasons,
    string? Summary = null,
    string? ApprovalId = null,
    string? PiName = null,
    string? PiEmail = null,
    string? DmpTitle = null,
    GovernancePolicy? Policy = null,
    IReadOnlyList<ApprovalRole>? RequestedWith = null,
    bool PersonalData = true);

public enum ApprovalOutcome
{
    Approved,
    Rejected,
    Expired,

    /// <summary>The requester withdrew the request (e.g. another approver rejected the same plan).</summary>
    Cancelled,
}

/// <param name="DecidedBy">Who decided: the approver, a delegate, or someone acting on the approver's behalf (<paramref name="OnBehalfOf"/>).</param>
/// <param name="OnBehalfOf">The approver, when <paramref name="DecidedBy"/> decided on their behalf as the policy allows.</param>
public sealed record ApprovalWorkflowOutput(
    string ApprovalId,
    ApprovalRole Role,
    ApprovalOutcome Outcome,
    string Approver,
    string? DecidedBy,
    DateTimeOffset? DecidedAt,
    string? Comment,
    bool Escalated,
    int RemindersSent,
    string? OnBehalfOf = null)
{
    /// <summary>"alice@x", or "alice@x on behalf of dpo@x".</summary>
    public string? DecidedByLabel => DecidedBy is null || OnBehalfOf is null ? DecidedBy : $"{DecidedBy} on behalf of {OnBehalfOf}";

    public bool IsApproved => Outcome == ApprovalOutcome.Approved;
}

/// <summary>The payload of the <see cref="ApprovalWorkflow.DecisionEventName"/> event raised by hosts (<see cref="ApprovalDecisionService"/>).</summary>
/// <param name="Token">The token of the link that was used.</param>
/// <param name="Decision">"approve" or "reject".</param>
/// <param name="Actor">Who submitted it, as the host established it ("user:e-mail"; in Azure from the Entra sign-in, never
/// from a request parameter); null for a bare link click, whose holder counts as the link's approver. Checked against the
/// link's approver and the people the policy authorises (<see cref="ApprovalAuthority"/>).</param>
public sealed record ApprovalDecisionEvent(string Token, string Decision, string? Actor, string? Comment);

/// <summary>The payload of the <see cref="ApprovalWorkflow.CancelEventName"/> event.</summary>
public sealed record ApprovalCancellation(string Reason);

/// <summary>What <c>SetCustomStatus</c> shows while the approval runs.</summary>
/// <param name="Awaiting">Who is awaited (the approver, and the delegate once escalated).</param>
/// <param name="LastRefusal">Why the last decision received was refused (used or expired link...), if any.</param>
/// <param name="Authority">Who may decide (approver, delegates, people acting on the approver's behalf): hosts check a
/// decision's identity against it before using the link up.</param>
public sealed record ApprovalStatus(string Stage, string Role, IReadOnlyList<string> Awaiting, DateTimeOffset Since, DateTimeOffset ExpiresAt, bool Escalated, int RemindersSent, string? LastRefusal, ApproverAuthority? Authority = null);

/// <summary>
/// Asks one approver role for a decision: resolves the approver, sends a signed single-use link, waits for the
/// decision event, reminds every N days, escalates to the delegate after M days and expires after the policy's
/// timeout. Every decision event is verified (token genuine, unexpired, for this instance, unused, then used up);
/// a refused one is audited and the workflow keeps waiting.
/// </summary>
public sealed class ApprovalWorkflow : Workflow<ApprovalWorkflowInput, ApprovalWorkflowOutput>
{
    /// <summary>Raised by hosts with an <see cref="ApprovalDecisionEvent"/>.</summary>
    public const string DecisionEventName = "ApprovalDecision";

    /// <summary>Raised by the requesting workflow with an <see cref="ApprovalCancellation"/>.</summary>
    public const string CancelEventName = "ApprovalCancelled";

    public override async Task<ApprovalWorkflowOutput> RunAsync(WorkflowContext context, ApprovalWorkflowInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        var actor = GardienWorkflowOptions.SystemActor(nameof(ApprovalWorkflow));
        var role = ApprovalRoles.Code(input.Role);
        var approvalId = input.ApprovalId ?? context.InstanceId;
        var requestedAt = context.CurrentUtcDateTime;

        var approver = await context.CallActivityAsync<ResolvedApprover>(
            nameof(ResolveApproverActivity), new ResolveApproverInput(input.Role, input.PiName, input.PiEmail, input.Policy, input.RequestedWith, input.PersonalData), ActivityRetryPolicies.Transient);
        var expiresAt = Add(requestedAt, approver.Timeout);
        DateTime? escalateAt = approver.EscalateAfter.IsZero || Add(requestedAt, approver.EscalateAfter) >= expiresAt ? null : Add(requestedAt, approver.EscalateAfter);
        DateTime? nextReminder = approver.ReminderEvery.IsZero ? null : Add(requestedAt, approver.ReminderEvery);

        var links = new List<ApprovalLink>
        {
            await IssueLinkAsync(context, role, approver.Email, expiresAt),
        };
        var record = new ApprovalRecord
        {
            DmpId = input.DmpId,
            ApprovalId = approvalId,
            InstanceId = context.InstanceId,
            Role = role,
            Decision = ApprovalDecision.Pending,
            Subject = input.Subject,
            Approver = approver.Email,
            RequestedAt = Utc(requestedAt),
            TokenId = links[0].TokenId,
        };
        await RecordAsync(context, record, "approval.requested", actor, new { reasons = input.Reasons, expiresAt = Utc(expiresAt), escalateAt = escalateAt is { } e ? Utc(e) : (DateTimeOffset?)null });
        await NotifyAsync(context, NotificationKind.ApprovalRequest, [approver.Email], $"Approval needed ({ApprovalRoles.Title(input.Role)}): {UntrustedText.PlainLine(Title(input))}", RequestBody(input, approver, expiresAt), [links[0]], "request");

        var escalated = false;
        var reminders = 0;
        string? lastRefusal = null;
        using var waits = new CancellationTokenSource();
        var cancelled = context.WaitForExternalEvent<ApprovalCancellation>(CancelEventName, waits.Token);
        Task<ApprovalDecisionEvent>? decision = null;
        try
        {
            while (true)
            {
                AuditTrail.SetStatus(context, new ApprovalStatus("awaiting-decision", role, [.. links.Select(l => l.Approver)], Utc(requestedAt), Utc(expiresAt), escalated, reminders, lastRefusal, approver.ToAuthority()));
                decision ??= context.WaitForExternalEvent<ApprovalDecisionEvent>(DecisionEventName, waits.Token);
                var next = Min(expiresAt, escalated ? null : escalateAt, nextReminder);
                using var timerCancel = new CancellationTokenSource();
                var timer = context.CreateTimer(next, timerCancel.Token);
                var winner = await Task.WhenAny(decision, timer, cancelled);
                if (winner != timer)
                {
                    timerCancel.Cancel();
                }

                if (winner == cancelled)
                {
                    var reason = (await cancelled).Reason;
                    var withdrawn = record with { Decision = ApprovalDecision.Expired, Comment = "withdrawn: " + reason, DecidedAt = Utc(context.CurrentUtcDateTime), Escalated = escalated };
                    await RecordAsync(context, withdrawn, "approval.cancelled", actor, new { reason });
                    return Output(withdrawn, input.Role, ApprovalOutcome.Cancelled, reminders);
                }

                if (winner == decision)
                {
                    var received = await decision;
                    decision = null;
                    var now = context.CurrentUtcDateTime;
                    var verified = await context.CallActivityAsync<VerifiedDecision>(
                        nameof(VerifyApprovalDecisionActivity), new VerifyApprovalDecisionInput(received.Token, received.Decision, context.InstanceId, Utc(now), received.Actor, approver.ToAuthority()), ActivityRetryPolicies.Transient);
                    if (!verified.IsValid)
                    {
                        lastRefusal = verified.Message;
                        await RecordAsync(context, record, "approval.token_refused", received.Actor ?? "anonymous", new { failure = verified.Failure.ToString(), message = verified.Message, decision = received.Decision }, ":" + context.NewGuid().ToString("N"), writeRecord: false);
                        continue;
                    }

                    var approved = ApprovalDecisions.Normalise(received.Decision) == IssueApprovalLinkActivity.ApproveDecision;
                    var decided = record with
                    {
                        Decision = approved ? ApprovalDecision.Approved : ApprovalDecision.Rejected,
                        DecidedBy = verified.DecidedBy ?? verified.Approver,
                        OnBehalfOf = verified.OnBehalfOf,
                        DecidedAt = Utc(now),
                        Comment = received.Comment,
                        TokenId = verified.TokenId,
                        Escalated = escalated,
                    };
                    await RecordAsync(context, decided, "approval.decided", "user:" + decided.DecidedBy, new { submittedBy = received.Actor, linkIssuedTo = verified.Approver, onBehalfOf = verified.OnBehalfOf });
                    return Output(decided, input.Role, approved ? ApprovalOutcome.Approved : ApprovalOutcome.Rejected, reminders);
                }

                // A timer fired: expiry first, then escalation, then a reminder (one message per tick).
                var tick = context.CurrentUtcDateTime;
                if (tick >= expiresAt)
                {
                    var expired = record with { Decision = ApprovalDecision.Expired, DecidedAt = Utc(tick), Escalated = escalated, Comment = "no decision before " + Utc(expiresAt).ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture) };
                    await RecordAsync(context, expired, "approval.expired", actor);
                    return Output(expired, input.Role, ApprovalOutcome.Expired, reminders);
                }

                if (!escalated && escalateAt is { } escalation && tick >= escalation)
                {
                    escalated = true;
                    record = record with { Escalated = true };
                    if (approver.DelegateEmail is { } delegateEmail)
                    {
                        var delegateLink = await IssueLinkAsync(context, role, delegateEmail, expiresAt);
                        links.Add(delegateLink);
                        await NotifyAsync(context, NotificationKind.Escalation, [delegateEmail], $"Escalated approval ({ApprovalRoles.Title(input.Role)}): {UntrustedText.PlainLine(Title(input))}",
                            $"{Md(approver.Name)} has not decided since {Utc(requestedAt):yyyy-MM-dd}. As their delegate, please decide.\n\n" + RequestBody(input, approver, expiresAt), [delegateLink], "escalation");
                    }
                    else if (approver.EscalationNoticeTo is { } noticeTo && !string.Equals(noticeTo, approver.Email, StringComparison.OrdinalIgnoreCase))
                    {
                        await NotifyAsync(context, NotificationKind.Escalation, [noticeTo], $"Approval overdue ({ApprovalRoles.Title(input.Role)}): {UntrustedText.PlainLine(Title(input))}",
                            $"{Md(approver.Name)} ({Md(approver.Email)}) has not decided since {Utc(requestedAt):yyyy-MM-dd}; the request expires on {Utc(expiresAt):yyyy-MM-dd}. No delegate is named for this role: please follow up.", [], "escalation");
                    }

                    await RecordAsync(context, record, "approval.escalated", actor, new { to = approver.DelegateEmail ?? approver.EscalationNoticeTo });
                    while (nextReminder is { } r && r <= tick)
                    {
                        nextReminder = Add(r, approver.ReminderEvery);
                    }

                    continue;
                }

                if (nextReminder is { } reminderAt && tick >= reminderAt)
                {
                    reminders++;
                    foreach (var link in links)
                    {
                        await NotifyAsync(context, NotificationKind.Reminder, [link.Approver], $"Reminder {reminders}: approval needed ({ApprovalRoles.Title(input.Role)}): {UntrustedText.PlainLine(Title(input))}",
                            RequestBody(input, approver, expiresAt), [link], $"reminder-{reminders}-{link.TokenId}");
                    }

                    await RecordAsync(context, record, "approval.reminded", actor, new { reminder = reminders }, ":" + reminders.ToString(CultureInfo.InvariantCulture), writeRecord: false);
                    while (nextReminder is { } r && r <= tick)
                    {
                        nextReminder = Add(r, approver.ReminderEvery);
                    }
                }
            }
        }
        finally
        {
            waits.Cancel();
        }
    }

    /// <summary>Sub-workflow instance id of one role's approval requested by <paramref name="parentInstanceId"/>.</summary>
    public static string InstanceIdFor(string parentInstanceId, ApprovalRole role) => $"{parentInstanceId}-approval-{ApprovalRoles.Code(role)}";

    /// <summary>Registry id of one role's approval requested by <paramref name="parentInstanceId"/>.</summary>
    public static string ApprovalIdFor(string parentInstanceId, ApprovalRole role) => $"{parentInstanceId}:{ApprovalRoles.Code(role)}";

    /// <summary>
    /// Runs one <see cref="ApprovalWorkflow"/> per request in parallel (for use inside a parent workflow). As soon as one
    /// approval ends other than Approved the others are withdrawn: the plan cannot pass any more, nobody should be asked
    /// in vain. Results come back in request order.
    /// </summary>
    public static async Task<IReadOnlyList<ApprovalWorkflowOutput>> RequestAllAsync(WorkflowContext context, IReadOnlyList<ApprovalWorkflowInput> requests)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(requests);
        var running = new List<(Task<ApprovalWorkflowOutput> Task, string InstanceId, int Index)>();
        for (var i = 0; i < requests.Count; i++)
        {
            var request = requests[i] with { ApprovalId = requests[i].ApprovalId ?? ApprovalIdFor(context.InstanceId, requests[i].Role) };
            var id = InstanceIdFor(context.InstanceId, request.Role);
            running.Add((context.CallSubWorkflowAsync<ApprovalWorkflowOutput>(nameof(ApprovalWorkflow), request, id), id, i));
        }

        var results = new ApprovalWorkflowOutput[requests.Count];
        var withdrawn = false;
        while (running.Count > 0)
        {
            var done = await Task.WhenAny(running.Select(r => r.Task));
            var entry = running.First(r => r.Task == done);
            running.Remove(entry);
            ApprovalWorkflowOutput output;
            try
            {
                output = await done;
            }
            catch (WorkflowTaskFailedException)
            {
                Withdraw(context, running, "another approval of the same request failed");
                throw;
            }

            results[entry.Index] = output;
            if (!output.IsApproved && !withdrawn)
            {
                withdrawn = true;
                Withdraw(context, running, $"the {ApprovalRoles.Title(output.Role)} approval ended {output.Outcome.ToString().ToLowerInvariant()}");
            }
        }

        return results;
    }

    private static void Withdraw(WorkflowContext context, IEnumerable<(Task<ApprovalWorkflowOutput> Task, string InstanceId, int Index)> running, string reason)
    {
        foreach (var other in running)
        {
            context.SendEvent(other.InstanceId, CancelEventName, new ApprovalCancellation(reason));
        }
    }

    private static async Task<ApprovalLink> IssueLinkAsync(WorkflowContext context, string role, string approver, DateTime expiresAt) =>
        await context.CallActivityAsync<ApprovalLink>(
            nameof(IssueApprovalLinkActivity), new IssueApprovalLinkInput(context.NewGuid().ToString("N"), context.InstanceId, role, approver, Utc(expiresAt)), ActivityRetryPolicies.Transient);

    /// <summary>Records and audits a step; while the audit trail is damaged the approval waits for its repair (<see cref="AuditTrail"/>).</summary>
    private static Task<ApprovalRecord> RecordAsync(WorkflowContext context, ApprovalRecord record, string action, string actor, object? details = null, string? discriminator = null, bool writeRecord = true) =>
        AuditTrail.CallAsync<ApprovalRecord>(
            context,
            nameof(RecordApprovalActivity),
            new RecordApprovalInput(record, action, actor, Utc(context.CurrentUtcDateTime), details, discriminator, writeRecord),
            ActivityRetryPolicies.Persistent,
            damage => AuditTrail.LastStatusOf(context) is ApprovalStatus last
                ? last with { Stage = AuditTrail.WaitingStage, LastRefusal = damage }
                : new ApprovalStatus(AuditTrail.WaitingStage, record.Role, record.Approver is { } approver ? [approver] : [], record.RequestedAt ?? Utc(context.CurrentUtcDateTime), Utc(context.CurrentUtcDateTime), record.Escalated, 0, damage));

    private static Task<NotificationReceipt> NotifyAsync(WorkflowContext context, NotificationKind kind, IReadOnlyList<string> to, string subject, string body, IReadOnlyList<ApprovalLink> links, string step) =>
        context.CallActivityAsync<NotificationReceipt>(
            nameof(SendNotificationActivity),
            new Notification(kind, to, subject, body, [.. links.SelectMany(l => new[] { new NotificationLink("Approve", l.ApproveUrl), new NotificationLink("Reject", l.RejectUrl) })], context.InstanceId, $"{context.InstanceId}:{step}"),
            ActivityRetryPolicies.Transient);

    private static ApprovalWorkflowOutput Output(ApprovalRecord record, ApprovalRole role, ApprovalOutcome outcome, int reminders) =>
        new(record.ApprovalId, role, outcome, record.Approver ?? string.Empty, record.DecidedBy, record.DecidedAt, record.Comment, record.Escalated, reminders, record.OnBehalfOf);

    private static string Title(ApprovalWorkflowInput input) => input.DmpTitle ?? input.DmpId;

    /// <summary>A value from the DMP or a person in the Markdown body: escaped, one line (<see cref="UntrustedText.MarkdownInline"/>).</summary>
    private static string Md(string? text) => UntrustedText.MarkdownInline(text);

    private static string RequestBody(ApprovalWorkflowInput input, ResolvedApprover approver, DateTime expiresAt)
    {
        var reasons = input.Reasons.Count == 0 ? string.Empty : "Why you are asked:\n" + string.Concat(input.Reasons.Select(r => $"- {Md(r)}\n")) + "\n";
        return $"Dear {Md(approver.Name)},\n\nGardien asks for your decision as {ApprovalRoles.Title(input.Role)} on \"{Md(Title(input))}\" (DMP {Md(input.DmpId)}, {Md(input.Subject)}).\n\n"
            + reasons
            + (input.Summary is null ? string.Empty : input.Summary + "\n\n")
            + $"Use the Approve or Reject link below. Each link works once and expires on {Utc(expiresAt):yyyy-MM-dd HH:mm} UTC.";
    }

    private static DateTime Add(DateTime at, IsoPeriod period) => at.AddYears(period.Years).AddMonths(period.Months).AddDays(period.Days);

    private static DateTime Min(DateTime first, DateTime? second, DateTime? third)
    {
        var min = first;
        if (second is { } s && s < min)
        {
            min = s;
        }

        if (third is { } t && t < min)
        {
            min = t;
        }

        return min;
    }

    private static DateTimeOffset Utc(DateTime at) => new(DateTime.SpecifyKind(at, DateTimeKind.Utc));
}
