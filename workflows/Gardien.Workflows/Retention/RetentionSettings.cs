using Gardien.Workflows.Governance;

namespace Gardien.Workflows.Retention;

/// <summary>
/// The parts of the institution policy a retention case or an access review runs on. Copied into the workflow input
/// when the instance starts, so that a later policy change never alters the replay of a running instance.
/// </summary>
public sealed record RetentionSettings
{
    /// <summary>Days before keep-until at which the PI is notified (e.g. 90, 30, 7).</summary>
    public IReadOnlyList<int> NoticeDays { get; init; } = [90, 30, 7];

    /// <summary>Between disposal phase 1 (mark) and phase 2 (purge).</summary>
    public IsoPeriod DeletionGrace { get; init; } = IsoPeriod.FromDays(30);

    public IsoPeriod ReminderEvery { get; init; } = IsoPeriod.FromDays(3);

    public IsoPeriod EscalateAfter { get; init; } = IsoPeriod.FromDays(7);

    /// <summary>An approval still pending after this is Expired (the disposal does not happen; the case is reported).</summary>
    public IsoPeriod ApprovalTimeout { get; init; } = IsoPeriod.FromDays(30);

    /// <summary>How long a held disposal waits before the hold is checked again.</summary>
    public IsoPeriod HoldRecheckEvery { get; init; } = IsoPeriod.FromDays(30);

    public required string StewardEmail { get; init; }

    public IReadOnlyList<string> StewardDelegates { get; init; } = [];

    public required string DpoEmail { get; init; }

    public IReadOnlyList<string> DpoDelegates { get; init; } = [];

    /// <summary>Access review: how often, how long the PI has to answer, and the grace after project end.</summary>
    public IsoPeriod ReviewEvery { get; init; } = new(0, 6, 0);

    public IsoPeriod ReviewDeadline { get; init; } = IsoPeriod.FromDays(14);

    public IsoPeriod AccessGraceAfterProjectEnd { get; init; } = IsoPeriod.FromDays(90);

    /// <summary>The language the policy writes messages in (<see cref="NotificationPolicy.Language"/>).</summary>
    public string Language { get; init; } = NotificationLanguages.English;

    /// <summary>Largest notice window (how far ahead the sweep looks).</summary>
    public int MaxNoticeDays => NoticeDays.Count == 0 ? 0 : NoticeDays.Max();

    public static RetentionSettings FromPolicy(GovernancePolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        return new RetentionSettings
        {
            NoticeDays = [.. policy.Retention.NoticeDays.Where(d => d >= 0).Distinct().OrderDescending()],
            DeletionGrace = policy.Retention.DeletionGrace,
            ReminderEvery = policy.Approvals.ReminderEvery,
            EscalateAfter = policy.Approvals.EscalateAfter,
            ApprovalTimeout = policy.Approvals.Timeout,
            StewardEmail = policy.Approvals.DataSteward.Email,
            StewardDelegates = [.. policy.Approvals.DataSteward.Delegates.Select(d => d.Email)],
            DpoEmail = policy.Approvals.DataProtectionOfficer.Email,
            DpoDelegates = [.. policy.Approvals.DataProtectionOfficer.Delegates.Select(d => d.Email)],
            ReviewEvery = policy.Access.ReviewEvery,
            ReviewDeadline = policy.Access.ReviewDeadline,
            AccessGraceAfterProjectEnd = policy.Access.GraceAfterProjectEnd,
            Language = policy.Notifications.Language,
        };
    }

    /// <summary>Adds a calendar period to an instant (date arithmetic, time of day kept).</summary>
    public static DateTime Add(DateTime at, IsoPeriod period) =>
        period.AddTo(DateOnly.FromDateTime(at)).ToDateTime(TimeOnly.FromDateTime(at), DateTimeKind.Utc);
}

/// <summary>Notice windows: pure date arithmetic shared by the sweep and the case.</summary>
public static class NoticeSchedule
{
    /// <summary>Notice dates (keep-until minus each window), earliest first, with the window that produced each.</summary>
    public static IReadOnlyList<(int DaysBefore, DateOnly Date)> Notices(DateOnly keepUntil, IReadOnlyList<int> noticeDays)
    {
        ArgumentNullException.ThrowIfNull(noticeDays);
        return [.. noticeDays.Distinct().Where(d => d >= 0).OrderDescending().Select(d => (d, keepUntil.AddDays(-d)))];
    }

    /// <summary>True when keep-until is within the largest notice window from <paramref name="today"/> (or already past).</summary>
    public static bool IsWithinNoticeHorizon(DateOnly keepUntil, DateOnly today, IReadOnlyList<int> noticeDays)
    {
        ArgumentNullException.ThrowIfNull(noticeDays);
        var horizon = today.AddDays(noticeDays.Count == 0 ? 0 : noticeDays.Max());
        return keepUntil <= horizon;
    }

    /// <summary>The window a dataset is in today (the smallest opened window), or null when none is open yet.</summary>
    public static int? CurrentWindow(DateOnly keepUntil, DateOnly today, IReadOnlyList<int> noticeDays)
    {
        ArgumentNullException.ThrowIfNull(noticeDays);
        var open = noticeDays.Where(d => d >= 0 && keepUntil.AddDays(-d) <= today).ToList();
        return open.Count == 0 ? null : open.Min();
    }
}
