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

/// <param name="DecidedBy">Who decided: the approver, a delegate, or someone acting on the approver's behalf
/// (<paramref name="OnBehalfOf"/>).</param>
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

    /// <summary>Messages of this approval (request, reminders, escalation) that could not be delivered; it waited all the same.</summary>
    public IReadOnlyList<NotificationFailure> UndeliveredNotifications { get; init; } = [];
}

/// <summary>
/// The payload of the <see cref="ApprovalWorkflow.DecisionEventName"/> event raised by hosts (<see cref="ApprovalDecisionService"/>).
/// </summary>
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
/// <param name="Undelivered">Messages of this approval that could not be delivered (the approval waits all the same).</param>
public sealed record ApprovalStatus(
    string Stage,
    string Role,
    IReadOnlyList<string> Awaiting,
    DateTimeOffset Since,
    DateTimeOffset ExpiresAt,
    bool Escalated,
    int RemindersSent,
    string? LastRefusal,
    ApproverAuthority? Authority = null,
    IReadOnlyList<NotificationFailure>? Undelivered = null) : IWorkflowStatus
{
    public IWorkflowStatus WaitingForAuditTrail(string damage) => this with { Stage = AuditTrail.WaitingStage, LastRefusal = damage };
}

/// <summary>
/// Asks one approver role for a decision: resolves the approver, sends a signed single-use link, waits for the
/// decision event, reminds every N days, escalates to the delegate after M days and expires after the policy's
/// timeout. Every decision event is verified (token genuine, unexpired, for this instance, unused, then used up);
/// a refused one is audited and the workflow keeps waiting. A message that cannot be delivered is audited and shown in
/// the status; the approval still waits, reminds and escalates (each reminder carries the same links).
/// </summary>
public sealed class ApprovalWorkflow : Workflow<ApprovalWorkflowInput, ApprovalWorkflowOutput>
{
    /// <summary>Raised by hosts with an <see cref="ApprovalDecisionEvent"/>.</summary>
    public const string DecisionEventName = "ApprovalDecision";

    /// <summary>Raised by the requesting workflow with an <see cref="ApprovalCancellation"/>.</summary>
    public const string CancelEventName = "ApprovalCancelled";

    public override Task<ApprovalWorkflowOutput> RunAsync(WorkflowContext context, ApprovalWorkflowInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        return new ApprovalRun(context, input).RunAsync();
    }

    /// <summary>Sub-workflow instance id of one role's approval requested by <paramref name="parentInstanceId"/>.</summary>
    public static string InstanceIdFor(string parentInstanceId, ApprovalRole role) =>
        $"{parentInstanceId}-approval-{ApprovalRoles.Code(role)}";

    /// <summary>Registry id of one role's approval requested by <paramref name="parentInstanceId"/>.</summary>
    public static string ApprovalIdFor(string parentInstanceId, ApprovalRole role) => $"{parentInstanceId}:{ApprovalRoles.Code(role)}";

    /// <summary>
    /// Runs one <see cref="ApprovalWorkflow"/> per request in parallel (for use inside a parent workflow). As soon as one
    /// approval ends other than Approved the others are withdrawn: the plan cannot pass any more, nobody should be asked
    /// in vain. Results come back in request order.
    /// </summary>
    public static async Task<IReadOnlyList<ApprovalWorkflowOutput>> RequestAllAsync(
        WorkflowContext context, IReadOnlyList<ApprovalWorkflowInput> requests)
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
                var ended = $"the {ApprovalRoles.Title(output.Role)} approval ended {output.Outcome.ToString().ToLowerInvariant()}";
                Withdraw(context, running, ended);
            }
        }

        return results;
    }

    private static void Withdraw(
        WorkflowContext context, IEnumerable<(Task<ApprovalWorkflowOutput> Task, string InstanceId, int Index)> running, string reason)
    {
        foreach (var other in running)
        {
            context.SendEvent(other.InstanceId, CancelEventName, new ApprovalCancellation(reason));
        }
    }

    /// <summary>One execution of an approval: the request, then a loop that hands each wake-up to its handler.</summary>
    private sealed class ApprovalRun(WorkflowContext context, ApprovalWorkflowInput input)
    {
        private readonly string _actor = GardienWorkflowOptions.SystemActor(nameof(ApprovalWorkflow));
        private readonly string _role = ApprovalRoles.Code(input.Role);
        private readonly DateTime _requestedAt = context.CurrentUtcDateTime;
        private readonly List<ApprovalLink> _links = [];
        private ResolvedApprover _approver = null!;
        private MessageCatalogue _messages = MessageCatalogue.English;
        private ApprovalRecord _record = null!;
        private DateTime _expiresAt;
        private DateTime? _escalateAt;
        private DateTime? _nextReminder;
        private bool _escalated;
        private int _reminders;
        private string? _lastRefusal;

        private string About => AuditEntries.DmpSubject(input.DmpId);

        public async Task<ApprovalWorkflowOutput> RunAsync()
        {
            await RequestAsync();
            using var waits = new CancellationTokenSource();
            var cancelled = context.WaitForExternalEvent<ApprovalCancellation>(CancelEventName, waits.Token);
            Task<ApprovalDecisionEvent>? decision = null;
            try
            {
                while (true)
                {
                    ShowStatus("awaiting-decision");
                    decision ??= context.WaitForExternalEvent<ApprovalDecisionEvent>(DecisionEventName, waits.Token);
                    using var timerCancel = new CancellationTokenSource();
                    var timer = context.CreateTimer(NextWakeUp(), timerCancel.Token);
                    var winner = await Task.WhenAny(decision, timer, cancelled);
                    if (winner != timer)
                    {
                        timerCancel.Cancel();
                    }

                    if (winner == cancelled)
                    {
                        return await WithdrawnAsync((await cancelled).Reason);
                    }

                    if (winner == decision)
                    {
                        var received = await decision;
                        decision = null;
                        if (await DecisionAsync(received) is { } decided)
                        {
                            return decided;
                        }

                        continue;
                    }

                    if (await TimerAsync() is { } expired)
                    {
                        return expired;
                    }
                }
            }
            finally
            {
                waits.Cancel();
            }
        }

        /// <summary>Resolves the approver, issues the link, records the pending approval and sends the request.</summary>
        private async Task RequestAsync()
        {
            _approver = await context.ResolveApproverAsync(
                new ResolveApproverInput(input.Role, input.PiName, input.PiEmail, input.Policy, input.RequestedWith, input.PersonalData));
            _messages = MessageCatalogue.For(_approver.Language);
            _expiresAt = Add(_requestedAt, _approver.Timeout);
            var escalation = Add(_requestedAt, _approver.EscalateAfter);
            _escalateAt = _approver.EscalateAfter.IsZero || escalation >= _expiresAt ? null : escalation;
            _nextReminder = _approver.ReminderEvery.IsZero ? null : Add(_requestedAt, _approver.ReminderEvery);
            ShowStatus("requesting");

            var link = await context.IssueApprovalLinkAsync(_role, _approver.Email, _expiresAt.AsUtc());
            _links.Add(link);
            _record = new ApprovalRecord
            {
                DmpId = input.DmpId,
                ApprovalId = input.ApprovalId ?? context.InstanceId,
                InstanceId = context.InstanceId,
                Role = _role,
                Decision = ApprovalDecision.Pending,
                Subject = input.Subject,
                Approver = _approver.Email,
                RequestedAt = _requestedAt.AsUtc(),
                TokenId = link.TokenId,
            };
            var escalateAt = _escalateAt is { } e ? e.AsUtc() : (DateTimeOffset?)null;
            var details = new { reasons = input.Reasons, expiresAt = _expiresAt.AsUtc(), escalateAt };
            await RecordAsync(_record, "approval.requested", _actor, details);
            await NotifyAsync(_messages.ApprovalRequest(input, _approver, _expiresAt.AsUtc(), link), _approver.Email, "request");
        }

        /// <summary>Verifies a decision; a refused one is audited and the approval keeps waiting (null).</summary>
        private async Task<ApprovalWorkflowOutput?> DecisionAsync(ApprovalDecisionEvent received)
        {
            var now = context.UtcNow();
            var verified = await context.VerifyDecisionAsync(
                new VerifyApprovalDecisionInput(
                    received.Token, received.Decision, context.InstanceId, now, received.Actor, _approver.ToAuthority()));
            if (!verified.IsValid)
            {
                _lastRefusal = verified.Message;
                await RecordAsync(_record, "approval.token_refused", received.Actor ?? "anonymous",
                    new { failure = verified.Failure.ToString(), message = verified.Message, decision = received.Decision },
                    ":" + context.NewGuid().ToString("N"), writeRecord: false);
                return null;
            }

            var approved = ApprovalDecisions.Normalise(received.Decision) == IssueApprovalLinkActivity.ApproveDecision;
            var decided = _record with
            {
                Decision = approved ? ApprovalDecision.Approved : ApprovalDecision.Rejected,
                DecidedBy = verified.DecidedBy ?? verified.Approver,
                OnBehalfOf = verified.OnBehalfOf,
                DecidedAt = now,
                Comment = received.Comment,
                TokenId = verified.TokenId,
                Escalated = _escalated,
            };
            await RecordAsync(decided, "approval.decided", "user:" + decided.DecidedBy,
                new { submittedBy = received.Actor, linkIssuedTo = verified.Approver, onBehalfOf = verified.OnBehalfOf });
            return Output(decided, approved ? ApprovalOutcome.Approved : ApprovalOutcome.Rejected);
        }

        /// <summary>The requester withdrew the request (another approval of it did not pass).</summary>
        private async Task<ApprovalWorkflowOutput> WithdrawnAsync(string reason)
        {
            var withdrawn = _record with
            {
                Decision = ApprovalDecision.Expired,
                Comment = "withdrawn: " + reason,
                DecidedAt = context.UtcNow(),
                Escalated = _escalated,
            };
            await RecordAsync(withdrawn, "approval.cancelled", _actor, new { reason });
            return Output(withdrawn, ApprovalOutcome.Cancelled);
        }

        /// <summary>A timer fired: expiry first, then escalation, then a reminder (one message per wake-up).</summary>
        private async Task<ApprovalWorkflowOutput?> TimerAsync()
        {
            var now = context.CurrentUtcDateTime;
            if (now >= _expiresAt)
            {
                var expired = _record with
                {
                    Decision = ApprovalDecision.Expired,
                    DecidedAt = now.AsUtc(),
                    Escalated = _escalated,
                    Comment = "no decision before " + _expiresAt.AsUtc().ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture),
                };
                await RecordAsync(expired, "approval.expired", _actor);
                return Output(expired, ApprovalOutcome.Expired);
            }

            if (!_escalated && _escalateAt is { } escalateAt && now >= escalateAt)
            {
                await EscalateAsync();
            }
            else if (_nextReminder is { } reminderAt && now >= reminderAt)
            {
                await RemindAsync();
            }

            // Reminders that fell due meanwhile are not sent late, one after another: the next one is in the future.
            while (_nextReminder is { } due && due <= now)
            {
                _nextReminder = Add(due, _approver.ReminderEvery);
            }

            return null;
        }

        /// <summary>A link for the delegate; without a delegate, the data steward hears that the approval is overdue.</summary>
        private async Task EscalateAsync()
        {
            _escalated = true;
            _record = _record with { Escalated = true };
            if (_approver.DelegateEmail is { } delegateEmail)
            {
                var link = await context.IssueApprovalLinkAsync(_role, delegateEmail, _expiresAt.AsUtc());
                _links.Add(link);
                var escalated = _messages.ApprovalEscalated(input, _approver, _requestedAt.AsUtc(), _expiresAt.AsUtc(), link);
                await NotifyAsync(escalated, delegateEmail, "escalation");
            }
            else if (_approver.EscalationNoticeTo is { } noticeTo
                && !string.Equals(noticeTo, _approver.Email, StringComparison.OrdinalIgnoreCase))
            {
                var overdue = _messages.ApprovalOverdue(input, _approver, _requestedAt.AsUtc(), _expiresAt.AsUtc());
                await NotifyAsync(overdue, noticeTo, "escalation");
            }

            await RecordAsync(_record, "approval.escalated", _actor, new { to = _approver.DelegateEmail ?? _approver.EscalationNoticeTo });
        }

        /// <summary>Everyone holding a link hears again, with the same link.</summary>
        private async Task RemindAsync()
        {
            _reminders++;
            foreach (var link in _links)
            {
                var reminder = _messages.ApprovalReminder(input, _approver, _expiresAt.AsUtc(), _reminders, link);
                await NotifyAsync(reminder, link.Approver, $"reminder-{_reminders}-{link.TokenId}");
            }

            var discriminator = ":" + _reminders.ToString(CultureInfo.InvariantCulture);
            await RecordAsync(_record, "approval.reminded", _actor, new { reminder = _reminders }, discriminator, writeRecord: false);
        }

        private DateTime NextWakeUp()
        {
            var next = _expiresAt;
            if (!_escalated && _escalateAt is { } escalateAt && escalateAt < next)
            {
                next = escalateAt;
            }

            return _nextReminder is { } reminderAt && reminderAt < next ? reminderAt : next;
        }

        /// <summary>Records and audits a step; while the audit trail is damaged the approval waits for its repair.</summary>
        private Task<ApprovalRecord> RecordAsync(
            ApprovalRecord record,
            string action,
            string actor,
            object? details = null,
            string? discriminator = null,
            bool writeRecord = true) =>
            context.RecordApprovalAsync(
                new RecordApprovalInput(record, action, actor, context.UtcNow(), details, discriminator, writeRecord));

        /// <summary>Sends a message of the approval; one not delivered is audited and shown, and the approval goes on.</summary>
        private Task<NotificationFailure?> NotifyAsync(Message message, string to, string step) =>
            context.NotifyAsync(message, [to], step, About);

        private void ShowStatus(string stage)
        {
            var undelivered = context.UndeliveredNotifications();
            context.SetStatus(new ApprovalStatus(
                stage,
                _role,
                [.. _links.Select(l => l.Approver).DefaultIfEmpty(_approver.Email)],
                _requestedAt.AsUtc(),
                _expiresAt.AsUtc(),
                _escalated,
                _reminders,
                _lastRefusal,
                _approver.ToAuthority(),
                undelivered.Count == 0 ? null : undelivered));
        }

        private ApprovalWorkflowOutput Output(ApprovalRecord record, ApprovalOutcome outcome) =>
            new(
                record.ApprovalId,
                input.Role,
                outcome,
                record.Approver ?? string.Empty,
                record.DecidedBy,
                record.DecidedAt,
                record.Comment,
                record.Escalated,
                _reminders,
                record.OnBehalfOf)
            {
                UndeliveredNotifications = context.UndeliveredNotifications(),
            };

        private static DateTime Add(DateTime at, IsoPeriod period) =>
            at.AddYears(period.Years).AddMonths(period.Months).AddDays(period.Days);

    }
}
