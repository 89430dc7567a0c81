using Gardien.Workflows.Ports;

namespace Gardien.Workflows.Retention;

/// <summary>Why a disposal may or may not run.</summary>
public enum DisposalVerdict
{
    /// <summary>Every condition holds: the disposal may run now.</summary>
    Proceed,

    /// <summary>The dataset has no keep-until date: it is kept forever, never disposed.</summary>
    NoKeepUntil,

    /// <summary>Today is before keep-until.</summary>
    NotYetDue,

    /// <summary>The registry's keep-until is not the one the case was opened for (an extension happened): the case is stale.</summary>
    KeepUntilChanged,

    /// <summary>A legal hold (registry or storage) or an open case blocks disposal.</summary>
    Held,

    /// <summary>An approval the policy requires is missing or was refused.</summary>
    MissingApprovals,

    /// <summary>Already disposed, archived or published: nothing left to do.</summary>
    AlreadyDisposed,

    /// <summary>The dataset is in no state a disposal applies to (never provisioned, failed).</summary>
    InvalidState,
}

/// <summary>
/// What the guard decides from. Built by activities from the registry (authoritative) and the storage hold status;
/// the workflow gets the same facts through an activity result, so the workflow's decision and the disposal activity's
/// re-check use one function.
/// </summary>
/// <param name="ExpectedKeepUntil">The keep-until the retention case was opened for; null skips that check.</param>
/// <param name="StorageLegalHold">Hold state reported by the storage (platform or recorded flag).</param>
public sealed record DisposalFacts(
    string DmpId,
    string DatasetId,
    DatasetState State,
    DateOnly? KeepUntil,
    DisposalAction Action,
    bool RegistryLegalHold,
    string? OpenCaseId,
    bool StorageLegalHold,
    bool PersonalData,
    bool SensitiveData,
    IReadOnlyList<ApprovalFact> Approvals,
    DateOnly? ExpectedKeepUntil = null);

/// <summary>One approval as the guard sees it.</summary>
/// <param name="Role">"steward", "dpo", "pi".</param>
/// <param name="Subject">What it approves; only <see cref="DisposalGuard.ApprovalSubject"/> of this very disposal counts.</param>
public sealed record ApprovalFact(
    string Role,
    ApprovalDecision Decision,
    string? Subject,
    string? ApprovalId = null,
    string? DecidedBy = null,
    DateTimeOffset? DecidedAt = null);

/// <param name="MissingRoles">Required roles without a valid approval (when the verdict is
/// <see cref="DisposalVerdict.MissingApprovals"/>).</param>
public sealed record DisposalDecision(DisposalVerdict Verdict, string Reason, IReadOnlyList<string> MissingRoles)
{
    public bool Allowed => Verdict == DisposalVerdict.Proceed;
}

/// <summary>
/// The safety rules of disposal, as one pure function: never before keep-until, never under a hold or an open case,
/// never without the approvals the policy requires for that dataset and that keep-until. Used by the retention case
/// workflow to decide and, again, by the disposal activities right before they touch storage (defence in depth).
/// </summary>
public static class DisposalGuard
{
    public const string StewardRole = "steward";
    public const string DpoRole = "dpo";
    public const string PiRole = "pi";

    /// <summary>
    /// Roles whose approval a disposal needs. Deleting or publishing is irreversible (or exposes data): the data steward
    /// signs off, and the DPO too when the data is personal or sensitive. Archiving keeps the data (cooler tier):
    /// the PI's notices suffice. The PI's own confirmation is recorded when given but is not a gate, so that a departed
    /// PI cannot block the schedule forever; the PI can still stop the case by requesting an extension.
    /// </summary>
    public static IReadOnlyList<string> RequiredRoles(DisposalAction action, bool personalData, bool sensitiveData) => action switch
    {
        DisposalAction.Archive => [],
        _ when personalData || sensitiveData => [StewardRole, DpoRole],
        _ => [StewardRole],
    };

    /// <summary>Subject of a disposal approval: binds the approval to the dataset and the keep-until it was given for.</summary>
    public static string ApprovalSubject(string dmpId, string datasetId, DateOnly keepUntil) =>
        FormattableString.Invariant($"retention-disposal:{dmpId}/{datasetId}:{keepUntil:yyyy-MM-dd}");

    public static DisposalDecision Evaluate(DisposalFacts facts, DateOnly today)
    {
        ArgumentNullException.ThrowIfNull(facts);
        if (facts.State is DatasetState.Disposed or DatasetState.Archived or DatasetState.Published)
        {
            return Deny(DisposalVerdict.AlreadyDisposed, $"The dataset is already {facts.State}.");
        }

        if (facts.State is not (DatasetState.Provisioned or DatasetState.MarkedForDeletion))
        {
            return Deny(DisposalVerdict.InvalidState, $"The dataset is {facts.State}; only a provisioned dataset can be disposed of.");
        }

        if (facts.KeepUntil is not { } keepUntil)
        {
            return Deny(DisposalVerdict.NoKeepUntil, "The dataset has no keep-until date: it is kept, never disposed of.");
        }

        if (facts.ExpectedKeepUntil is { } expected && expected != keepUntil)
        {
            return Deny(
                DisposalVerdict.KeepUntilChanged,
                FormattableString.Invariant(
                    $"Keep-until is now {keepUntil:yyyy-MM-dd}, not {expected:yyyy-MM-dd} as when the case opened."));
        }

        if (today < keepUntil)
        {
            return Deny(
                DisposalVerdict.NotYetDue,
                FormattableString.Invariant($"Keep-until is {keepUntil:yyyy-MM-dd}; today is {today:yyyy-MM-dd}."));
        }

        if (facts.RegistryLegalHold || facts.StorageLegalHold || !string.IsNullOrEmpty(facts.OpenCaseId))
        {
            var why = new List<string>();
            if (facts.RegistryLegalHold)
            {
                why.Add("legal hold in the registry");
            }

            if (facts.StorageLegalHold)
            {
                why.Add("legal hold on the container");
            }

            if (!string.IsNullOrEmpty(facts.OpenCaseId))
            {
                why.Add($"open case '{facts.OpenCaseId}'");
            }

            return Deny(DisposalVerdict.Held, "Disposal is blocked: " + string.Join(", ", why) + ".");
        }

        var subject = ApprovalSubject(facts.DmpId, facts.DatasetId, keepUntil);
        var missing = RequiredRoles(facts.Action, facts.PersonalData, facts.SensitiveData)
            .Where(role => !IsApproved(facts.Approvals, role, subject))
            .ToList();
        if (missing.Count > 0)
        {
            return new DisposalDecision(
                DisposalVerdict.MissingApprovals, $"Approval missing or refused: {string.Join(", ", missing)}.", missing);
        }

        return new DisposalDecision(
            DisposalVerdict.Proceed,
            FormattableString.Invariant($"Keep-until {keepUntil:yyyy-MM-dd} reached, no hold, approvals present."),
            []);
    }

    /// <summary>Approved by the role for this subject, and not refused by it (a refusal wins over an approval).</summary>
    private static bool IsApproved(IReadOnlyList<ApprovalFact> approvals, string role, string subject)
    {
        var relevant = approvals.Where(
            a => string.Equals(a.Role, role, StringComparison.OrdinalIgnoreCase)
                && string.Equals(a.Subject, subject, StringComparison.Ordinal)).ToList();
        return relevant.Any(a => a.Decision == ApprovalDecision.Approved) && !relevant.Any(a => a.Decision == ApprovalDecision.Rejected);
    }

    private static DisposalDecision Deny(DisposalVerdict verdict, string reason) => new(verdict, reason, []);
}
