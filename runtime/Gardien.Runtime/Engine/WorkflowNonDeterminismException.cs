namespace Gardien.Runtime.Engine;

/// <summary>
/// The workflow code, replayed over its history, took a different action than the one recorded: the code changed
/// incompatibly while instances were running (register the change as a new version instead) or it is not deterministic.
/// The instance fails with this error.
/// </summary>
public sealed class WorkflowNonDeterminismException : Exception
{
    public WorkflowNonDeterminismException()
    {
    }

    public WorkflowNonDeterminismException(string message)
        : base(message)
    {
    }

    public WorkflowNonDeterminismException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
