namespace Gardien.Runtime;

/// <summary>
/// Retry policy for activities and sub-workflows, same shape and semantics as Durable Task's <c>RetryPolicy</c>:
/// attempt n (n ≥ 2) waits <c>firstRetryInterval × backoffCoefficient^(n-2)</c>, capped at <see cref="MaxRetryInterval"/>,
/// on a durable timer; no new attempt starts once <see cref="RetryTimeout"/> has elapsed since the first attempt.
/// </summary>
public sealed record RetryPolicy
{
    /// <summary>A policy of <paramref name="maxNumberOfAttempts"/> attempts (the first included).</summary>
    /// <param name="maxNumberOfAttempts">Attempts in all, at least 1.</param>
    /// <param name="firstRetryInterval">Delay before the second attempt; positive.</param>
    /// <param name="backoffCoefficient">Factor applied to the delay at each further attempt; 1.0 or more.</param>
    /// <param name="maxRetryInterval">Longest delay between two attempts (default one hour).</param>
    /// <param name="retryTimeout">No attempt starts later than this after the first (default: no limit).</param>
    public RetryPolicy(
        int maxNumberOfAttempts,
        TimeSpan firstRetryInterval,
        double backoffCoefficient = 1.0,
        TimeSpan? maxRetryInterval = null,
        TimeSpan? retryTimeout = null)
    {
        if (maxNumberOfAttempts < 1)
        {
            throw new ArgumentOutOfRangeException(
                nameof(maxNumberOfAttempts), maxNumberOfAttempts, "A retry policy needs at least one attempt.");
        }

        if (firstRetryInterval <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(
                nameof(firstRetryInterval), firstRetryInterval, "The first retry interval must be positive.");
        }

        if (backoffCoefficient < 1.0)
        {
            throw new ArgumentOutOfRangeException(
                nameof(backoffCoefficient), backoffCoefficient, "The backoff coefficient must be 1.0 or more.");
        }

        MaxNumberOfAttempts = maxNumberOfAttempts;
        FirstRetryInterval = firstRetryInterval;
        BackoffCoefficient = backoffCoefficient;
        MaxRetryInterval = maxRetryInterval ?? TimeSpan.FromHours(1);
        RetryTimeout = retryTimeout ?? Timeout.InfiniteTimeSpan;
    }

    /// <summary>Attempts in all, the first included.</summary>
    public int MaxNumberOfAttempts { get; }

    /// <summary>Delay before the second attempt.</summary>
    public TimeSpan FirstRetryInterval { get; }

    /// <summary>Factor applied to the delay at each further attempt.</summary>
    public double BackoffCoefficient { get; }

    /// <summary>Longest delay between two attempts.</summary>
    public TimeSpan MaxRetryInterval { get; }

    /// <summary><see cref="Timeout.InfiniteTimeSpan"/> means no overall limit.</summary>
    public TimeSpan RetryTimeout { get; }

    /// <summary>Decides whether a failure is retried at all (default: every failure). Must be deterministic.</summary>
    public Func<TaskFailureDetails, bool>? Handle { get; init; }

    /// <summary>Delay before attempt <paramref name="nextAttempt"/> (2 = first retry).</summary>
    public TimeSpan DelayBeforeAttempt(int nextAttempt)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(nextAttempt, 2);
        var ticks = FirstRetryInterval.Ticks * Math.Pow(BackoffCoefficient, nextAttempt - 2);
        return ticks >= MaxRetryInterval.Ticks ? MaxRetryInterval : TimeSpan.FromTicks((long)ticks);
    }
}
