using System.Text.RegularExpressions;
using Gardien.Runtime;

namespace Gardien.Workflows;

/// <summary>
/// Turns a failed task into one line a user can read: the innermost cause's message, without the HTTP dump an SDK
/// exception carries (request and response headers, bodies, client request ids), which is noise to a researcher and
/// may echo request details that belong in logs only.
/// </summary>
public static partial class FailureMessages
{
    private const int MaxLength = 500;

    public static string ForUser(TaskFailureDetails failure)
    {
        ArgumentNullException.ThrowIfNull(failure);
        var innermost = failure;
        while (innermost.InnerFailure is { } inner)
        {
            innermost = inner;
        }

        return ForUser(innermost.ErrorMessage);
    }

    /// <summary>A message as <see cref="ForUser(TaskFailureDetails)"/> shows it.</summary>
    public static string ForUser(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (HttpStatus(message) is { } status)
        {
            var code = ErrorCodeLine().Match(message);
            return "the storage service refused the request: "
                + $"{status.Reason} (HTTP {status.Code}{(code.Success ? ", " + code.Groups[1].Value : string.Empty)})";
        }

        // The first paragraph, on one line: later paragraphs of SDK messages are dumps.
        var paragraph = message.Split("\n\n", 2, StringSplitOptions.None)[0];
        var line = string.Join(' ', paragraph.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        return line.Length <= MaxLength ? line : line[..MaxLength] + "…";
    }

    /// <summary>
    /// The HTTP status an Azure SDK <c>RequestFailedException</c> message states ("Status: 400 (reason)"), when the
    /// message has that form; adapters should translate such failures, this catches those that escape.
    /// </summary>
    public static (int Code, string Reason)? HttpStatus(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var match = StatusLine().Match(message);
        return match.Success
            ? (int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), match.Groups[2].Value.Trim())
            : null;
    }

    [GeneratedRegex(
        @"^Status: (\d{3})(?: \(([^\r\n]*)\))?", RegexOptions.Multiline | RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex StatusLine();

    [GeneratedRegex(@"^ErrorCode: ([^\s]+)", RegexOptions.Multiline | RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex ErrorCodeLine();
}
