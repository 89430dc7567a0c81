namespace Gardien.Workflows.Madmp;

/// <summary>Whether an issue rejects the document or only informs the data steward.</summary>
public enum IssueSeverity
{
    Error,
    Warning,
}

/// <summary>
/// One problem found while reading a maDMP: where (JSON Pointer), what is wrong and how to fix it (message),
/// and which schema keyword raised it (required, type, enum, format, additionalProperties, json, size, depth, lenient...).
/// </summary>
public sealed record ValidationIssue(string Path, string Message, string Keyword, IssueSeverity Severity)
{
    /// <summary>1-based line, set for problems found in the text (malformed JSON, encoding, a repeated key).</summary>
    public int? Line { get; init; }

    /// <summary>1-based column in characters, set with <see cref="Line"/>.</summary>
    public int? Column { get; init; }
}

/// <summary>Strict gives exactly the schema's verdict; lenient accepts known real-world deviations as warnings.</summary>
public enum ValidationMode
{
    Lenient,
    Strict,
}

public sealed record MadmpReadOptions
{
    public ValidationMode Mode { get; init; } = ValidationMode.Lenient;

    /// <summary>Forces the schema version instead of detecting it from <c>$schema</c> or the document's shape.</summary>
    public MadmpVersion? SchemaVersion { get; init; }

    public long MaxBytes { get; init; } = 10 * 1024 * 1024;

    public int MaxDepth { get; init; } = 64;
}

/// <summary>The outcome of a read. <see cref="Document"/> is non-null if and only if <see cref="IsValid"/>.</summary>
public sealed record MadmpReadResult(
    bool IsValid,
    MadmpVersion? Version,
    MadmpDocument? Document,
    IReadOnlyList<ValidationIssue> Errors,
    IReadOnlyList<ValidationIssue> Warnings);

public static class MadmpVersionExtensions
{
    public static string ToVersionString(this MadmpVersion v) => v switch
    {
        MadmpVersion.V1_0 => "1.0",
        MadmpVersion.V1_1 => "1.1",
        MadmpVersion.V1_2 => "1.2",
        _ => throw new ArgumentOutOfRangeException(nameof(v), v, "Unknown maDMP version."),
    };

    /// <summary>Parses "1.0", "1.1", "1.2" (also "v1.2", "1_2").</summary>
    public static bool TryParse(string? text, out MadmpVersion version)
    {
        var normalised = text?.Trim().TrimStart('v', 'V').Replace('_', '.');
        switch (normalised)
        {
            case "1.0" or "1":
                version = MadmpVersion.V1_0;
                return true;
            case "1.1":
                version = MadmpVersion.V1_1;
                return true;
            case "1.2":
                version = MadmpVersion.V1_2;
                return true;
            default:
                version = default;
                return false;
        }
    }

    public static MadmpVersion ParseVersion(string text) =>
        TryParse(text, out var v) ? v : throw new FormatException($"'{text}' is not a maDMP version; expected 1.0, 1.1 or 1.2.");
}
