using Microsoft.Extensions.Logging;

namespace Gardien.Testing.Logging;

/// <summary>
/// Keeps every log line as "{level}: {message}", with the exception's text after " | ", so that tests can check what
/// was logged and what never is (secrets, DMP text).
/// </summary>
public sealed class ListLogger<T>(List<string> lines) : ILogger<T>
{
    public ListLogger()
        : this([])
    {
    }

    public List<string> Lines { get; } = lines;

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(
        LogLevel logLevel,
        EventId eventId,
        TState state,
        Exception? exception,
        Func<TState, Exception?, string> formatter)
    {
        ArgumentNullException.ThrowIfNull(formatter);
        lock (Lines)
        {
            Lines.Add($"{logLevel}: {formatter(state, exception)}" + (exception is null ? string.Empty : " | " + exception));
        }
    }
}
