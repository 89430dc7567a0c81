using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Gardien.Runtime;
using Gardien.Workflows.Approvals;
using Gardien.Workflows.Audit;
using Gardien.Workflows.Notifications;
using Gardien.Workflows.Ports;
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

    /// <summary>The disposal stayed on hold for several re-checks: the case goes on as a new execution with a short history.</summary>
    ContinuedAsNew,
}

/// <param name="Certificate">The audit receipt of the deletion certificate, when one was written.</param>
public sealed record RetentionCaseResult(
    RetentionCaseOutcome Outcome,
    string Detail,
    DateOnly KeepUntil,
    DateOnly? NewKeepUntil = null,
    CertificateReceipt? Certificate = null,
    DeletionCertificate? CertificateBody = null)
{
    /// <summary>Messages of this execution that could not be delivered (each audited; the case carried on).</summary>
    public IReadOnlyList<NotificationFailure> UndeliveredNotifications { get; init; } = [];
}

/// <summary>What <c>SetCustomStatus</c> shows.</summary>
/// <param name="Undelivered">Messages of this execution that could not be delivered (the case carries on).</param>
public sealed record RetentionCaseStatus(
    string Stage,
    DateOnly KeepUntil,
    string Disposal,
    IReadOnlyList<int> NoticesSent,
    string? Detail = null,
    IReadOnlyList<NotificationFailure>? Undelivered = null) : IWorkflowStatus
{
    public IWorkflowStatus WaitingForAuditTrail(string damage) => this with { Stage = AuditTrail.WaitingStage, Detail = damage };
}

/// <summary>
/// One dataset's end of retention: notices to the PI at each window (90/30/7 days), PI responses (approve = confirm
/// disposal, reject with a date in the comment = ask for an extension, which the data steward must approve), and on the
/// due date: hold / open-case check (a hold skips disposal, is reported to steward and DPO and re-checked later), the
/// disposal approvals the policy requires (<see cref="DisposalGuard.RequiredRoles"/>), then disposal per plan — delete in
/// two phases (mark, grace period during which the PI can stop it, purge), archive or publish — and a deletion certificate
/// in the audit trail. The disposal activities re-run <see cref="DisposalGuard"/> themselves before touching storage.
/// Instance id: <see cref="InstanceIdFor"/> (one case per dataset and keep-until).
/// PI responses arrive as <see cref="ApprovalWorkflow.DecisionEventName"/> events (<see cref="ApprovalDecisionEvent"/>),
/// verified like any approval link. The execution itself is <see cref="RetentionCaseRun"/>.
/// </summary>
public sealed partial class RetentionCaseWorkflow : Workflow<RetentionCaseInput, RetentionCaseResult>
{
    /// <summary>Deterministic id: repeated sweeps never open a second case for the same dataset and keep-until.</summary>
    public static string InstanceIdFor(string dmpId, string datasetId, DateOnly keepUntil)
    {
        ArgumentNullException.ThrowIfNull(dmpId);
        ArgumentNullException.ThrowIfNull(datasetId);

        // DMP ids are DOIs / URLs: hash them so the id is safe as a table key and a queue message field.
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(dmpId + "\n" + datasetId)))[..24];
        return string.Create(CultureInfo.InvariantCulture, $"retention-case-{hash}-{keepUntil:yyyyMMdd}");
    }

    public override Task<RetentionCaseResult> RunAsync(WorkflowContext context, RetentionCaseInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        return new RetentionCaseRun(context, input).RunAsync();
    }

    /// <summary>First yyyy-MM-dd in a comment: the keep-until a PI asks for when objecting to a disposal.</summary>
    public static DateOnly? RequestedDate(string? comment)
    {
        if (string.IsNullOrWhiteSpace(comment))
        {
            return null;
        }

        var match = IsoDate().Match(comment);
        var valid = DateOnly.TryParseExact(match.Value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date);
        return match.Success && valid ? date : null;
    }

    [GeneratedRegex(@"\b\d{4}-\d{2}-\d{2}\b", RegexOptions.CultureInvariant, 1000)]
    private static partial Regex IsoDate();
}
