using System.Globalization;
using Gardien.Workflows.Access;
using Gardien.Workflows.Approvals;
using Gardien.Workflows.BlobEvents;
using Gardien.Workflows.Governance;
using Gardien.Workflows.Intake;
using Gardien.Workflows.Ports;
using Gardien.Workflows.Retention;
using Gardien.Workflows.Text;

namespace Gardien.Workflows.Notifications;

/// <summary>
/// Every message Gardien sends to people, in one place and in each language the policy may choose
/// (<see cref="NotificationPolicy.Language"/>): <see cref="For"/> picks the language, each method writes one message.
/// Values Gardien did not write (DMP titles and identifiers, names, comments, blob names, messages quoting them) go into
/// bodies through <see cref="Md"/> (one line, no markup, no link) and into subjects through <see cref="Line"/>, so a DMP can
/// neither forge a line of a message nor turn into a link. Approve / Reject links keep those labels in every language:
/// the adapters recognise them and render their own buttons in the message's language.
/// </summary>
public abstract class MessageCatalogue
{
    public static MessageCatalogue English { get; } = new EnglishMessages();

    public static MessageCatalogue French { get; } = new FrenchMessages();

    /// <summary>The language code this catalogue writes ("en", "fr").</summary>
    public abstract string Language { get; }

    /// <summary>French for "fr" and its regional forms, English otherwise (the policy's default).</summary>
    public static MessageCatalogue For(string? language) =>
        language is not null
        && (language.Equals(NotificationLanguages.French, StringComparison.OrdinalIgnoreCase)
            || language.StartsWith(NotificationLanguages.French + "-", StringComparison.OrdinalIgnoreCase))
            ? French
            : English;

    // ---- Intake and update ---------------------------------------------------------------------------------------

    /// <summary>To the DMP's contact: the DMP could not be read or breaks the policy.</summary>
    public abstract Message IntakeInvalid(string title, IReadOnlyList<string> errors);

    /// <summary>To the PI: an approver refused the plan (or let it expire); nothing was provisioned.</summary>
    public abstract Message IntakeRejected(GovernancePlan plan, ApprovalWorkflowOutput refusal);

    /// <summary>To the PI: provisioning failed and was undone, except <paramref name="incomplete"/>.</summary>
    public abstract Message IntakeFailed(GovernancePlan plan, string reason, IReadOnlyList<string> incomplete);

    /// <summary>To the PI: the plan is in force.</summary>
    public abstract Message IntakeSummary(GovernancePlan plan, IntakeSummaryFacts facts);

    /// <summary>To the PI: an approver refused a change; the previous plan stays in force.</summary>
    public abstract Message UpdateRejected(GovernancePlan plan, ApprovalWorkflowOutput refusal, PlanDiff diff);

    /// <summary>To the PI: the change is in force.</summary>
    public abstract Message UpdateApplied(
        GovernancePlan plan, PlanDiff diff, IReadOnlyList<string> revoked, IReadOnlyList<string> warnings);

    /// <summary>What approvers of an intake are asked to approve (Markdown, shown in the request as is).</summary>
    public abstract string PlanSummary(GovernancePlan plan);

    /// <summary>What approvers of an update are asked to approve (Markdown, shown in the request as is).</summary>
    public abstract string ChangeSummary(PlanDiff diff);

    /// <summary>Why a request stopped, for people: the approver's own words, not "withdrawn".</summary>
    public abstract string Refusal(ApprovalWorkflowOutput refusal);

    // ---- Approvals -----------------------------------------------------------------------------------------------

    public abstract Message ApprovalRequest(
        ApprovalWorkflowInput input, ResolvedApprover approver, DateTimeOffset expiresAt, ApprovalLink link);

    public abstract Message ApprovalReminder(
        ApprovalWorkflowInput input, ResolvedApprover approver, DateTimeOffset expiresAt, int reminder, ApprovalLink link);

    /// <summary>To the delegate, with a link of their own.</summary>
    public abstract Message ApprovalEscalated(
        ApprovalWorkflowInput input, ResolvedApprover approver, DateTimeOffset requestedAt, DateTimeOffset expiresAt, ApprovalLink link);

    /// <summary>To the data steward when the role names no delegate.</summary>
    public abstract Message ApprovalOverdue(
        ApprovalWorkflowInput input, ResolvedApprover approver, DateTimeOffset requestedAt, DateTimeOffset expiresAt);

    public abstract string RoleTitle(ApprovalRole role);

    // ---- Retention ----------------------------------------------------------------------------------------------

    /// <summary>To the PI, <paramref name="days"/> before keep-until: confirm, or object and ask for an extension.</summary>
    public abstract Message RetentionNotice(RetentionCaseInput dataset, string? title, int days, ApprovalLink link);

    public abstract Message DeletionStoppedByPi(RetentionCaseInput dataset, string? title, string by, string? comment);

    /// <summary>To the PI: an objection without a usable new keep-until date.</summary>
    public abstract Message ExtensionUnclear(RetentionCaseInput dataset, string? title);

    /// <summary>Why the data steward is asked to approve an extension (reasons, summary).</summary>
    public abstract (IReadOnlyList<string> Reasons, string Summary) ExtensionRequest(
        RetentionCaseInput dataset, string requestedBy, DateOnly newKeepUntil, string? comment);

    public abstract Message ExtensionDenied(
        RetentionCaseInput dataset, string? title, DateOnly newKeepUntil, ApprovalWorkflowOutput approval);

    public abstract Message RetentionExtended(
        RetentionCaseInput dataset, string? title, DateOnly newKeepUntil, ApprovalWorkflowOutput approval);

    public abstract Message DisposalHeld(RetentionCaseInput dataset, string? title, string reason, DateOnly recheckOn);

    /// <summary>Why a role is asked to approve a disposal (reasons, summary).</summary>
    public abstract (IReadOnlyList<string> Reasons, string Summary) DisposalRequest(
        RetentionCaseInput dataset, string noticesTo, int noticesSent);

    public abstract Message DisposalNotApproved(RetentionCaseInput dataset, string? title, IReadOnlyList<ApprovalWorkflowOutput> refused);

    /// <summary>To the PI and the steward: phase 1 done, the purge follows unless the PI stops it.</summary>
    public abstract Message MarkedForDeletion(
        RetentionCaseInput dataset, string? title, ContainerManifest? manifest, DateTimeOffset purgeAt, ApprovalLink link);

    public abstract Message DisposalCompleted(
        RetentionCaseInput dataset, string? title, DeletionCertificate certificate, long auditSequence);

    public abstract Message SweepDiscrepancies(DateOnly date, IReadOnlyList<RetentionDiscrepancy> discrepancies);

    // ---- Access reviews -----------------------------------------------------------------------------------------

    public abstract Message AccessReview(
        string dmpId, string? title, DateTimeOffset deadline, IReadOnlyList<(ReviewMember Member, ApprovalLink Link)> members);

    public abstract Message AccessReviewReminder(Message review, int reminder);

    public abstract Message AccessReviewDone(string dmpId, string? title, int confirmed, IReadOnlyList<string> removed);

    public abstract Message AccessEnded(string dmpId, string? title, DateOnly? accessEndsOn, int revoked);

    // ---- Blob events --------------------------------------------------------------------------------------------

    public abstract Message BlobInUnknownContainer(BlobEventInput blob);

    public abstract Message BlobDeletedOutsideDisposal(BlobEventInput blob, DatasetRecord dataset);

    public abstract Message BlobWrittenDuringDisposal(BlobEventInput blob, DatasetRecord dataset);

    public abstract Message QuotaExceeded(BlobEventInput blob, DatasetRecord dataset, long? usedBytes);

    public abstract Message OpenBeforeEmbargo(DatasetRecord dataset);

    // ---- Shared -------------------------------------------------------------------------------------------------

    /// <summary>A value Gardien did not write, inside a Markdown body: one line, no markup, no link.</summary>
    protected static string Md(string? text) => UntrustedText.MarkdownInline(text);

    /// <summary>Such a value in a one-line field (a subject).</summary>
    protected static string Line(string? text) => UntrustedText.PlainLine(text);

    protected static string Date(DateOnly? date) => date?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) ?? "-";

    protected static string Date(DateTimeOffset? at) => at?.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) ?? "-";

    protected static string Minute(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);

    /// <summary>Markdown list items, one per line.</summary>
    protected static string Items(IEnumerable<string> lines) => string.Concat(lines.Select(l => $"- {l}\n"));

    protected Message Create(NotificationKind kind, string subject, string body, params IReadOnlyList<NotificationLink> links) =>
        new(kind, Language, subject, body) { Links = links };

    /// <summary>The two links of an approval: labels the adapters translate into buttons.</summary>
    protected static IReadOnlyList<NotificationLink> ApproveReject(ApprovalLink link) =>
        [new NotificationLink(ApprovalButtons.Approve, link.ApproveUrl), new NotificationLink(ApprovalButtons.Reject, link.RejectUrl)];
}

/// <summary>The facts the PI's intake summary lists.</summary>
public sealed record IntakeSummaryFacts(
    IReadOnlyList<ContainerSummary> Containers,
    IReadOnlyList<GrantSummary> Grants,
    IReadOnlyList<ApprovalWorkflowOutput> Approvals,
    IReadOnlyList<NotEnforcedFeature> NotEnforced,
    IReadOnlyList<string> Warnings);

/// <summary>The link labels notification adapters render as their own Approve / Reject buttons, in the message's language.</summary>
public static class ApprovalButtons
{
    public const string Approve = "Approve";
    public const string Reject = "Reject";
}
