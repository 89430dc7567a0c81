namespace Gardien.Runtime;

/// <summary>Runtime status of a workflow instance; mirrors Durable Task's <c>OrchestrationRuntimeStatus</c>.</summary>
public enum WorkflowStatus
{
    /// <summary>Scheduled (possibly for a later start) but no step has run yet.</summary>
    Pending = 0,
    Running = 1,
    Completed = 2,
    Failed = 3,
    Terminated = 4,
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
