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
/// Pipeline: size and encoding checks (UTF-16, bytes that are not UTF-8) → one-pass parse into a JsonNode tree
/// (<see cref="JsonTreeBuilder"/>: depth limit, the last of repeated keys, lone surrogates as U+FFFD; malformed JSON
/// described by <see cref="JsonSyntaxMessages"/> with line and column) → version detection → lenient normalisation on the JsonNode
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
            // Never expected: every input the tests know gives an issue with its path or position instead.
            errors.Add(
                new ValidationIssue(
                    "",
                    $"Gardien could not read this document ({ex.GetType().Name}: {ex.Message}). This is a defect in Gardien, "
                    + "not in the document: please report it with the file.",
                    "internal",
                    IssueSeverity.Error));
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

    public async Task<MadmpReadResult> ReadAsync(
        Stream stream,
        MadmpReadOptions? options = null,
        CancellationToken cancellationToken = default)
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
            while ((read = await stream.ReadAsync(chunk, cancellationToken)) > 0)
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
            return Fail(
                options.SchemaVersion,
                [new ValidationIssue("", $"The document could not be read from its source: {ex.Message}", "io", IssueSeverity.Error)],
                []);
        }

        return Read(bytes, options);
    }

    private static MadmpReadResult ReadCore(
        ReadOnlySpan<byte> span,
        MadmpReadOptions options,
        List<ValidationIssue> errors,
        List<ValidationIssue> warnings,
        ref MadmpVersion? version)
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
            errors.Add(
                new ValidationIssue(
                    "",
                    "The document is encoded as UTF-16. Save it as UTF-8 (the encoding JSON requires) and try again.",
                    "encoding",
                    IssueSeverity.Error)
                {
                    Line = 1,
                    Column = 1,
                });
            return Fail(version, errors, warnings);
        }

        if (IsBlank(span))
        {
            errors.Add(
                new ValidationIssue(
                    "", "The document is empty. Expected a JSON object such as { \"dmp\": { ... } }.", "json", IssueSeverity.Error)
                {
                    Line = 1,
                    Column = 1,
                });
            return Fail(version, errors, warnings);
        }

        var maxDepth = Math.Clamp(options.MaxDepth, 1, DepthCeiling);
        if (!TryParse(span, maxDepth, options.Mode, errors, warnings, out var node))
        {
            return Fail(version, errors, warnings);
        }

        if (node is not JsonObject root)
        {
            errors.Add(
                new ValidationIssue(
                    "",
                    $"The document is {Describe(node)}, but a maDMP is a JSON object: {{ \"dmp\": {{ ... }} }}.",
                    "type",
                    IssueSeverity.Error));
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
            var normalised = warnings.Count;
            SchemaIssueMapper.Map(schemaErrors, version.Value, errors, warnings);

            // A date the normaliser would not guess has its warning already, with both readings: one is enough.
            var explained = warnings.Take(normalised).Where(w => w.Keyword == "format").Select(w => w.Path)
                .ToHashSet(StringComparer.Ordinal);
            if (explained.Count > 0)
            {
                var fromSchema = warnings.Skip(normalised).Where(w => w.Keyword != "format" || !explained.Contains(w.Path)).ToList();
                warnings.RemoveRange(normalised, warnings.Count - normalised);
                warnings.AddRange(fromSchema);
            }
            if (errors.Count > 0)
            {
                return Fail(version, errors, warnings);
            }
        }

        var document = new MadmpModelMapper(synthesised).Map(root, version.Value);
        return new MadmpReadResult(true, version, document, [], warnings);
    }

    private static bool TryParse(
        ReadOnlySpan<byte> span,
        int maxDepth,
        ValidationMode mode,
        List<ValidationIssue> errors,
        List<ValidationIssue> warnings,
        out JsonNode? node)
    {
        if (JsonSyntaxMessages.InvalidUtf8(span) is { } encoding)
        {
            errors.Add(encoding);
            node = null;
            return false;
        }

        var strict = new JsonReaderOptions { MaxDepth = maxDepth };
        var found = new List<ValidationIssue>();
        try
        {
            node = JsonTreeBuilder.Build(span, strict, found);
            warnings.AddRange(found);
            return true;
        }
        catch (JsonException ex)
        {
            var (issue, kind) = JsonSyntaxMessages.Describe(ex, span, maxDepth);
            if (mode == ValidationMode.Lenient && kind != JsonSyntaxMessages.Kind.Depth)
            {
                // Hand-edited files often keep a trailing comma or a comment: accept them, with a warning.
                var tolerant = strict with { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip };
                found.Clear();
                try
                {
                    node = JsonTreeBuilder.Build(span, tolerant, found);
                    warnings.Add(issue with
                    {
                        Severity = IssueSeverity.Warning,
                        Message = $"Line {issue.Line}, column {issue.Column}: {kind switch
                        {
                            JsonSyntaxMessages.Kind.Comment => "a comment",
                            JsonSyntaxMessages.Kind.TrailingComma => "a comma after the last item",
                            _ => "a trailing comma or a comment",
                        }}, which JSON does not allow. It was read anyway; remove it so that other tools can read the file.",
                    });
                    warnings.AddRange(found);
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

    private static ValidationIssue TooLarge(long size, long limit, bool atLeast) =>
        new(
            "",
            $"The document is {(atLeast ? "more than " : "")}{size:N0} bytes; the limit is {limit:N0} bytes. "
            + "A maDMP is normally well under 1 MB: check that this is the right file, or raise MaxBytes.",
            "size",
            IssueSeverity.Error);

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
