namespace Gardien.Runtime;

/// <summary>What went wrong in an activity, sub-workflow or workflow; mirrors Durable Task's <c>TaskFailureDetails</c>.</summary>
public sealed record TaskFailureDetails(
    string ErrorType,
    string ErrorMessage,
    string? StackTrace = null,
    TaskFailureDetails? InnerFailure = null)
{
    /// <summary>
    /// The details of <paramref name="exception"/> and its inner exceptions (a task failure keeps the details it carries).
    /// </summary>
    public static TaskFailureDetails FromException(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return exception is WorkflowTaskFailedException taskFailed
            ? new TaskFailureDetails(exception.GetType().FullName!, exception.Message, exception.StackTrace, taskFailed.FailureDetails)
            : new TaskFailureDetails(
                exception.GetType().FullName!,
                exception.Message,
                exception.StackTrace,
                exception.InnerException is { } inner ? FromException(inner) : null);
    }

    /// <summary>
    /// True when this failure (or its cause chain) was produced by an exception of type <typeparamref name="TException"/>.
    /// </summary>
    public bool IsCausedBy<TException>()
        where TException : Exception =>
        ErrorType == typeof(TException).FullName || (InnerFailure?.IsCausedBy<TException>() ?? false);

    /// <summary>Type and message, then the inner failures after "---&gt;".</summary>
    public override string ToString() =>
        InnerFailure is null ? $"{ErrorType}: {ErrorMessage}" : $"{ErrorType}: {ErrorMessage} ---> {InnerFailure}";
}

/// <summary>
/// Thrown into workflow code when an activity or sub-workflow it awaited failed; mirrors Durable Task's
/// <c>TaskFailedException</c>. The original exception does not cross the process boundary, only its <see cref="FailureDetails"/>.
/// </summary>
public sealed class WorkflowTaskFailedException : Exception
{
    /// <summary>A failure of no task in particular, with a default message.</summary>
    public WorkflowTaskFailedException()
        : this("A workflow task failed.")
    {
    }

    /// <summary>A failure of no task in particular, described by <paramref name="message"/>.</summary>
    public WorkflowTaskFailedException(string message)
        : this(message, string.Empty, -1, new TaskFailureDetails(typeof(WorkflowTaskFailedException).FullName!, message))
    {
    }

    /// <summary>A failure of no task in particular, caused by <paramref name="innerException"/>.</summary>
    public WorkflowTaskFailedException(string message, Exception innerException)
        : base(message, innerException)
    {
        TaskName = string.Empty;
        TaskId = -1;
        FailureDetails = TaskFailureDetails.FromException(innerException);
    }

    /// <summary>The failure of the call <paramref name="taskId"/> to <paramref name="taskName"/>, as reported by its engine.</summary>
    public WorkflowTaskFailedException(string taskName, int taskId, TaskFailureDetails failureDetails)
        : this(
            $"Task '{taskName}' (#{taskId}) failed with an unhandled exception: {failureDetails?.ErrorMessage}",
            taskName,
            taskId,
            failureDetails!)
    {
    }

    private WorkflowTaskFailedException(string message, string taskName, int taskId, TaskFailureDetails failureDetails)
        : base(message)
    {
        ArgumentNullException.ThrowIfNull(failureDetails);
        TaskName = taskName;
        TaskId = taskId;
        FailureDetails = failureDetails;
    }

    /// <summary>Name of the activity or sub-workflow that failed.</summary>
    public string TaskName { get; }

    /// <summary>Task id of the failed call in the workflow's history.</summary>
    public int TaskId { get; }

    /// <summary>What went wrong in the task (its exception type, message and causes).</summary>
    public TaskFailureDetails FailureDetails { get; }
}
