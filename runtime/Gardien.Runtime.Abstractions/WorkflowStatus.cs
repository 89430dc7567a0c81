namespace Gardien.Runtime;

/// <summary>Runtime status of a workflow instance; mirrors Durable Task's <c>OrchestrationRuntimeStatus</c>.</summary>
public enum WorkflowStatus
{
    /// <summary>Scheduled (possibly for a later start) but no step has run yet.</summary>
    Pending = 0,
    /// <summary>Started: running a step or waiting for an activity, a timer or an event.</summary>
    Running = 1,
    /// <summary>Ended with an output.</summary>
    Completed = 2,
    /// <summary>Ended with an unhandled failure (see the instance's failure details).</summary>
    Failed = 3,
    /// <summary>Stopped by a client before it ended.</summary>
    Terminated = 4,
    /// <summary>Paused by a client: events are held until it is resumed.</summary>
    Suspended = 5,

    /// <summary>Transient: the instance restarted itself with new input and history.</summary>
    ContinuedAsNew = 6,
}

/// <summary>Status helpers.</summary>
public static class WorkflowStatusExtensions
{
    /// <summary>Completed, Failed or Terminated: the instance will not run again.</summary>
    public static bool IsTerminal(this WorkflowStatus status) =>
        status is WorkflowStatus.Completed or WorkflowStatus.Failed or WorkflowStatus.Terminated;
}
