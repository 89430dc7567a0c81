using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using NJsonSchema.Validation;

namespace Gardien.Workflows.Madmp;

/// <summary>
/// Reads, validates and maps RDA DMP Common Standard documents (1.0, 1.1, 1.2). Thread-safe and stateless; the parsed
/// schemas are shared process-wide. Bad input never throws: every problem comes back as an issue in the result.
/// </summary>
/// <remarks>
/// Pipeline: size and encoding checks → System.Text.Json parse (one-pass <see cref="JsonTreeBuilder"/>; JsonNode.Parse
/// for anything unusual, for its line/column; depth limit) → version detection → lenient normalisation on the JsonNode
/// tree (warnings) → NJsonSchema validation of the normalised tree against the official schema (format failures are
/// warnings; skipped when <see cref="SchemaFastPath"/> proves it would find nothing) → mapping to
/// <see cref="MadmpDocument"/> when no error remains.
/// </remarks>
public sealed class MadmpReader
{
    /// <summary>Deeper documents are refused whatever the options say: the tree walkers recurse once per level.</summary>
    internal const int DepthCeiling = 1000;

    private static readonly JsonSchemaValidatorSettings ValidatorSettings = new();

    public static MadmpReader Default { get; } = new();

    public MadmpReadResult Read(ReadOnlyMemory<byte> utf8Json, MadmpReadOptions? options = null)
    {
        options ??= new MadmpReadOptions();
        var errors = new List<ValidationIssue>();
        var warnings = new List<ValidationIssue>();
        MadmpVersion? version = options.SchemaVersion;
        try
        {
            return ReadCore(utf8Json.Span, options, errors, warnings, ref version);
        }
#pragma warning disable CA1031 // The reader's contract: no exception escapes for any input; report it as an error instead.
        catch (Exception ex) when (ex is not OutOfMemoryException)
#pragma warning restore CA1031
        {
            errors.Add(new ValidationIssue("", $"The document could not be read: {ex.Message}", "internal", IssueSeverity.Error));
            return Fail(version, errors, warnings);
        }
    }

    public MadmpReadResult Read(string json, MadmpReadOptions? options = null)
    {
        options ??= new MadmpReadOptions();
        if (json is null)
        {
            return Fail(options.SchemaVersion, [new ValidationIssue("", "No document was given.", "json", IssueSeverity.Error)], []);
        }

        // Every char is at least one UTF-8 byte: refuse oversized text before encoding it.
        if (json.Length > options.MaxBytes)
        {
            return Fail(options.SchemaVersion, [TooLarge(json.Length, options.MaxBytes, atLeast: true)], []);
        }

        return Read(Encoding.UTF8.GetBytes(json), options);
    }

    public async Task<MadmpReadResult> ReadAsync(Stream stream, MadmpReadOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new MadmpReadOptions();
        if (stream is null)
        {
            return Fail(options.SchemaVersion, [new ValidationIssue("", "No document was given.", "json", IssueSeverity.Error)], []);
        }

        byte[] bytes;
        try
        {
            // Read one byte past the limit at most, so a huge upload is refused without buffering it.
            var limit = options.MaxBytes;
            using var buffer = new MemoryStream();
            var chunk = new byte[81920];
            int read;
            while ((read = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
            {
                buffer.Write(chunk, 0, read);
                if (buffer.Length > limit)
                {
                    return Fail(options.SchemaVersion, [TooLarge(buffer.Length, limit, atLeast: true)], []);
                }
            }

            bytes = buffer.ToArray();
        }
        catch (IOException ex)
        {
            return Fail(options.SchemaVersion, [new ValidationIssue("", $"The document could not be read from its source: {ex.Message}", "io", IssueSeverity.Error)], []);
        }

        return Read(bytes, options);
    }

    private static MadmpReadResult ReadCore(ReadOnlySpan<byte> span, MadmpReadOptions options, List<ValidationIssue> errors, List<ValidationIssue> warnings, ref MadmpVersion? version)
    {
        if (span.Length > options.MaxBytes)
        {
            errors.Add(TooLarge(span.Length, options.MaxBytes, atLeast: false));
            return Fail(version, errors, warnings);
        }

        if (span.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
        {
            // A UTF-8 byte order mark is legal in files saved by Windows editors; JSON parsers must not see it.
            span = span[3..];
        }
        else if (span.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE]) || span.StartsWith((ReadOnlySpan<byte>)[0xFE, 0xFF]))
        {
            errors.Add(new ValidationIssue("", "The document is encoded as UTF-16. Save it as UTF-8 (the encoding JSON requires) and try again.", "encoding", IssueSeverity.Error) { Line = 1, Column = 1 });
            return Fail(version, errors, warnings);
        }

        if (IsBlank(span))
        {
            errors.Add(new ValidationIssue("", "The document is empty. Expected a JSON object such as { \"dmp\": { ... } }.", "json", IssueSeverity.Error) { Line = 1, Column = 1 });
            return Fail(version, errors, warnings);
        }

        var maxDepth = Math.Clamp(options.MaxDepth, 1, DepthCeiling);
        if (!TryParse(span, maxDepth, options.Mode, errors, warnings, out var node))
        {
            return Fail(version, errors, warnings);
        }

        if (node is not JsonObject root)
        {
            errors.Add(new ValidationIssue("", $"The document is {Describe(node)}, but a maDMP is a JSON object: {{ \"dmp\": {{ ... }} }}.", "type", IssueSeverity.Error));
            return Fail(version, errors, warnings);
        }

        version ??= MadmpVersionDetector.Detect(root);
        IReadOnlySet<JsonNode>? synthesised = null;
        if (options.Mode == ValidationMode.Lenient)
        {
            synthesised = LenientNormaliser.Run(root, version.Value, warnings).Synthesised;
        }

        // Most documents are clean; proving it on the JsonNode tree is an order of magnitude cheaper than NJsonSchema,
        // which stays the judge (and the source of every error and warning) whenever the pre-check has any doubt.
        if (!MadmpSchemaCatalog.GetFastPath(version.Value).IsClean(root))
        {
            var schema = MadmpSchemaCatalog.Get(version.Value);
            var token = JsonNodeConversion.ToJToken(root);
            var schemaErrors = new JsonSchemaValidator(ValidatorSettings).Validate(token, schema);
            SchemaIssueMapper.Map(schemaErrors, version.Value, errors, warnings);
            if (errors.Count > 0)
            {
                return Fail(version, errors, warnings);
            }
        }

        var document = new MadmpModelMapper(synthesised).Map(root, version.Value);
        return new MadmpReadResult(true, version, document, [], warnings);
    }

    private static bool TryParse(ReadOnlySpan<byte> span, int maxDepth, ValidationMode mode, List<ValidationIssue> errors, List<ValidationIssue> warnings, out JsonNode? node)
    {
        if (JsonTreeBuilder.TryBuild(span, maxDepth, out node, out var duplicate))
        {
            return true;
        }

        if (duplicate is not null)
        {
            errors.Add(new ValidationIssue("", $"Line {duplicate.Line}, column {duplicate.Column}: the property \"{duplicate.Name}\" appears twice in the same object. Keep one of them.", "json", IssueSeverity.Error) { Line = duplicate.Line, Column = duplicate.Column });
            return false;
        }

        var strict = new JsonDocumentOptions { MaxDepth = maxDepth, AllowDuplicateProperties = false };
        try
        {
            node = JsonNode.Parse(span, documentOptions: strict);
            return true;
        }
        catch (JsonException ex)
        {
            var issue = ParseIssue(ex, maxDepth);
            if (mode == ValidationMode.Lenient && issue.Keyword == "json")
            {
                // Hand-edited files often keep a trailing comma or a comment: accept them, once, with a warning.
                var tolerant = strict with { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip };
                try
                {
                    node = JsonNode.Parse(span, documentOptions: tolerant);
                    warnings.Add(issue with
                    {
                        Severity = IssueSeverity.Warning,
                        Message = $"Line {issue.Line}, column {issue.Column}: a trailing comma or a comment, which JSON does not allow. It was read anyway; remove it so that other tools can read the file.",
                    });
                    return true;
                }
                catch (JsonException)
                {
                    // Report the first, strict, problem: it is where the author should look.
                }
            }

            errors.Add(issue);
            node = null;
            return false;
        }
    }

    private static ValidationIssue ParseIssue(JsonException ex, int maxDepth)
    {
        var line = (int)Math.Min(int.MaxValue, (ex.LineNumber ?? 0) + 1);
        var column = (int)Math.Min(int.MaxValue, (ex.BytePositionInLine ?? 0) + 1);
        var message = ex.Message;
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        if (cut < 0)
        {
            cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        }

        var reason = cut > 0 ? message[..cut] : message;
        if (reason.Contains("maximum configured depth", StringComparison.OrdinalIgnoreCase) || reason.Contains("depth", StringComparison.OrdinalIgnoreCase) && reason.Contains(maxDepth.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal))
        {
            return new ValidationIssue("", $"The document nests objects or lists more than {maxDepth} levels deep (line {line}, column {column}). A maDMP needs fewer than 10; check for a generated or corrupted file.", "depth", IssueSeverity.Error) { Line = line, Column = column };
        }

        if (reason.Contains("Duplicate", StringComparison.OrdinalIgnoreCase))
        {
            return new ValidationIssue("", $"Line {line}, column {column}: a property name appears twice in the same object. Keep one of them. ({reason})", "json", IssueSeverity.Error) { Line = line, Column = column };
        }

        return new ValidationIssue("", $"The document is not valid JSON at line {line}, column {column}: {reason}", "json", IssueSeverity.Error) { Line = line, Column = column };
    }

    private static ValidationIssue TooLarge(long size, long limit, bool atLeast) =>
        new("", $"The document is {(atLeast ? "more than " : "")}{size:N0} bytes; the limit is {limit:N0} bytes. A maDMP is normally well under 1 MB: check that this is the right file, or raise MaxBytes.", "size", IssueSeverity.Error);

    private static bool IsBlank(ReadOnlySpan<byte> span)
    {
        foreach (var b in span)
        {
            if (b is not ((byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n'))
            {
                return false;
            }
        }

        return true;
    }

    private static string Describe(JsonNode? node) => node switch
    {
        null => "the JSON literal null",
        JsonArray => "a JSON list [ ... ]",
        JsonValue value => value.GetValueKind() switch
        {
            JsonValueKind.String => "a JSON string",
            JsonValueKind.Number => "a JSON number",
            JsonValueKind.True or JsonValueKind.False => "a JSON boolean",
            _ => "a JSON value",
        },
        _ => "not an object",
    };

    private static MadmpReadResult Fail(MadmpVersion? version, List<ValidationIssue> errors, List<ValidationIssue> warnings) =>
        new(false, version, null, errors, warnings);
}
