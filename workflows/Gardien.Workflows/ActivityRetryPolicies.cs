using Gardien.Runtime;
using Gardien.Workflows.Ports;

namespace Gardien.Workflows;

/// <summary>
/// Retry policies the Gardien workflows put on their activity calls. Transient port failures (throttling, outages,
/// ETag races) are retried with exponential backoff on durable timers; failures that cannot succeed later (a missing
/// thing, bad input, a refused operation) fail at once so that compensation starts without delay.
/// </summary>
public static class ActivityRetryPolicies
{
    /// <summary>Port calls: 5 attempts, 5 s then doubling, at most 2 min apart.</summary>
    public static RetryPolicy Transient { get; } = new(5, TimeSpan.FromSeconds(5), 2.0, TimeSpan.FromMinutes(2))
    {
        Handle = IsRetryable,
    };

    /// <summary>Bookkeeping that must eventually happen (audit, registry state): more patience.</summary>
    public static RetryPolicy Persistent { get; } = new(10, TimeSpan.FromSeconds(5), 2.0, TimeSpan.FromMinutes(5))
    {
        Handle = IsRetryable,
    };

    /// <summary>Whether a failed activity call may succeed when tried again.</summary>
    public static bool IsRetryable(TaskFailureDetails failure)
    {
        ArgumentNullException.ThrowIfNull(failure);
        return !(failure.IsCausedBy<PortNotFoundException>()
            || failure.IsCausedBy<PortRefusedException>()
            || failure.IsCausedBy<AuditTrailDamagedException>()
            || failure.IsCausedBy<NonRetryableActivityException>()
            || failure.IsCausedBy<ArgumentException>()
            || failure.IsCausedBy<ArgumentNullException>()
            || failure.IsCausedBy<System.Text.Json.JsonException>()
            || IsRefusedByService(failure));
    }

    /// <summary>
    /// An Azure SDK failure an adapter let through: a 4xx answer other than a timeout (408), a conflict or failed
    /// precondition (409, 412: a lost race) or throttling (429) says the request itself is wrong, and sending it again
    /// only delays compensation (a 3,000-character id once retried a 400 for minutes).
    /// </summary>
    private static bool IsRefusedByService(TaskFailureDetails failure)
    {
        for (var f = failure; f is not null; f = f.InnerFailure)
        {
            if (f.ErrorType == "Azure.RequestFailedException"
                && FailureMessages.HttpStatus(f.ErrorMessage) is { Code: >= 400 and < 500 and not (408 or 409 or 412 or 429) })
            {
                return true;
            }
        }

        return false;
    }
}

/// <summary>Thrown by an activity when trying again cannot help (the retry policies above stop at once).</summary>
public sealed class NonRetryableActivityException : Exception
{
    public NonRetryableActivityException()
    {
    }

    public NonRetryableActivityException(string message)
        : base(message)
    {
    }

    public NonRetryableActivityException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
