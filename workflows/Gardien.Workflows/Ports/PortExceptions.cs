namespace Gardien.Workflows.Ports;

/// <summary>
/// A failure reported by a port adapter. Adapters throw instead of returning error codes so that the workflow
/// engine's retry policies act; <see cref="IsTransient"/> tells a retry policy whether trying again can help.
/// Exceptions other than <see cref="PortException"/> escaping an adapter (network, timeouts) are to be treated as transient.
/// </summary>
public class PortException : Exception
{
    /// <summary>A failure with a default message.</summary>
    public PortException()
    {
    }

    /// <summary>A failure described by <paramref name="message"/>.</summary>
    public PortException(string message)
        : base(message)
    {
    }

    /// <summary>A failure described by <paramref name="message"/>, caused by <paramref name="innerException"/>.</summary>
    public PortException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>
    /// A failure described by <paramref name="message"/>; <paramref name="isTransient"/> tells whether trying again can help.
    /// </summary>
    public PortException(string message, bool isTransient, Exception? innerException = null)
        : base(message, innerException)
    {
        IsTransient = isTransient;
    }

    /// <summary>
    /// True when the same call may succeed later (throttling, outage, a lost race); false for bad input or a refused operation.
    /// </summary>
    public bool IsTransient { get; }
}

/// <summary>
/// Another writer changed the record since it was read (ETag mismatch), or a create-only write found the record
/// already there. Transient by nature: re-read, re-decide, write again.
/// </summary>
public sealed class ConcurrencyConflictException : PortException
{
    /// <summary>A failure with a default message.</summary>
    public ConcurrencyConflictException()
    {
    }

    /// <summary>A failure described by <paramref name="message"/>.</summary>
    public ConcurrencyConflictException(string message)
        : base(message, isTransient: true)
    {
    }

    /// <summary>A failure described by <paramref name="message"/>, caused by <paramref name="innerException"/>.</summary>
    public ConcurrencyConflictException(string message, Exception innerException)
        : base(message, isTransient: true, innerException)
    {
    }
}

/// <summary>A named thing the call needs (container, group, secret, DMP) does not exist. Not transient.</summary>
public sealed class PortNotFoundException : PortException
{
    /// <summary>A failure with a default message.</summary>
    public PortNotFoundException()
    {
    }

    /// <summary>A failure described by <paramref name="message"/>.</summary>
    public PortNotFoundException(string message)
        : base(message, isTransient: false)
    {
    }

    /// <summary>A failure described by <paramref name="message"/>, caused by <paramref name="innerException"/>.</summary>
    public PortNotFoundException(string message, Exception innerException)
        : base(message, isTransient: false, innerException)
    {
    }
}

/// <summary>
/// The port refused the call for a reason that trying again cannot fix (invalid name or tag, a legal hold, a corrupt
/// record). Its own type because only the exception type crosses the durable boundary to a retry policy, so the
/// workflows stop retrying at once and compensate.
/// </summary>
public sealed class PortRefusedException : PortException
{
    /// <summary>A failure with a default message.</summary>
    public PortRefusedException()
    {
    }

    /// <summary>A failure described by <paramref name="message"/>.</summary>
    public PortRefusedException(string message)
        : base(message, isTransient: false)
    {
    }

    /// <summary>A failure described by <paramref name="message"/>, caused by <paramref name="innerException"/>.</summary>
    public PortRefusedException(string message, Exception innerException)
        : base(message, isTransient: false, innerException)
    {
    }
}

/// <summary>
/// The audit trail cannot be appended to safely (its tail is damaged: a torn or altered last entry). Appending would
/// hide the damage behind a valid-looking link, so the log refuses until the trail is repaired. Not transient in the
/// retry policies' sense: workflows stop retrying the step and wait for the trail to verify again
/// (<see cref="Audit.AuditTrail"/>). The message says where the damage is and how to repair it.
/// </summary>
public sealed class AuditTrailDamagedException : PortException
{
    /// <summary>A failure with a default message.</summary>
    public AuditTrailDamagedException()
    {
    }

    /// <summary>A failure described by <paramref name="message"/>.</summary>
    public AuditTrailDamagedException(string message)
        : base(message, isTransient: false)
    {
    }

    /// <summary>A failure described by <paramref name="message"/>, caused by <paramref name="innerException"/>.</summary>
    public AuditTrailDamagedException(string message, Exception innerException)
        : base(message, isTransient: false, innerException)
    {
    }
}
