using System.Text;
using System.Text.Json;
using Gardien.Workflows.Madmp;
using NJsonSchema;
using NJsonSchema.Validation;

namespace Gardien.Workflows.Governance;

/// <summary>The outcome of loading a policy: the policy when valid, otherwise every error found.</summary>
public sealed record PolicyLoadResult(GovernancePolicy? Policy, IReadOnlyList<ValidationIssue> Errors)
{
    public bool IsValid => Policy is not null;
}

/// <summary>
/// Loads and validates a policy: JSON syntax (line and column), then policy.schema.json (draft-07, NJsonSchema; JSON
/// Pointer paths), then rules a schema cannot say (a role mapped twice, escalation after the timeout...). Never throws
/// for bad input. Hosts read a policy file with <c>PolicyFiles.Load</c> (Gardien.Workflows.Hosting): the core reads no file.
/// </summary>
public static class PolicyLoader
{
    public const string SchemaResourceName = "Gardien.Schemas.policy/policy.schema.json";
    public const string DefaultPolicyResourceName = "Gardien.Schemas.policy/policy.default.json";
    public const int MaxPolicyBytes = 1024 * 1024;

    private static readonly Lazy<JsonSchema> LazySchema = new(
        () => JsonSchema.FromJsonAsync(ReadResource(SchemaResourceName)).GetAwaiter().GetResult());

    private static readonly Lazy<GovernancePolicy> LazyDefault = new(() =>
    {
        var result = Load(ReadResource(DefaultPolicyResourceName));
        return result.Policy
            ?? throw new InvalidOperationException(
                "The built-in policy is invalid: " + string.Join("; ", result.Errors.Select(e => $"{e.Path}: {e.Message}")));
    });

    /// <summary>The policy's JSON Schema text (for tooling and documentation).</summary>
    public static string SchemaJson => ReadResource(SchemaResourceName);

    internal static GovernancePolicy BuiltInDefault => LazyDefault.Value;

    public static PolicyLoadResult Load(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        if (json.Length > 0 && json[0] == '\uFEFF')
        {
            json = json[1..];
        }

        if (string.IsNullOrWhiteSpace(json))
        {
            return Fail("", "The policy is empty. Start from policy.sample.json.", "json");
        }

        if (Encoding.UTF8.GetByteCount(json) > MaxPolicyBytes)
        {
            return Fail("", $"The policy is larger than {MaxPolicyBytes} bytes.", "size");
        }

        try
        {
            using var document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 64 });
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return Fail(
                    "",
                    $"The policy must be a JSON object, not {document.RootElement.ValueKind.ToString().ToLowerInvariant()}. "
                    + "Start from policy.sample.json.",
                    "type");
            }
        }
        catch (JsonException ex)
        {
            var line = (int)(ex.LineNumber ?? 0) + 1;
            var column = (int)(ex.BytePositionInLine ?? 0) + 1;
            return new PolicyLoadResult(
                null,
                [
                    new ValidationIssue("", $"The policy is not valid JSON at line {line}, column {column}: {FirstSentence(ex.Message)}"
                        + " Fix the syntax (a missing comma or quote, a trailing comma, a comment).", "json", IssueSeverity.Error)
                        {
                            Line = line,
                            Column = column,
                        }]);
        }

        ICollection<ValidationError> schemaErrors;
        try
        {
            schemaErrors = LazySchema.Value.Validate(json);
        }
        catch (Exception ex) when (ex is Newtonsoft.Json.JsonException or InvalidOperationException or FormatException)
        {
            return Fail("", "The policy could not be checked against its schema: " + ex.Message, "json");
        }

        if (schemaErrors.Count > 0)
        {
            var issues = new List<ValidationIssue>();
            foreach (var error in schemaErrors)
            {
                Flatten(error, issues);
            }

            return new PolicyLoadResult(null, issues.DistinctBy(i => (i.Path, i.Keyword, i.Message)).ToList());
        }

        GovernancePolicy? policy;
        try
        {
            policy = JsonSerializer.Deserialize<GovernancePolicy>(json, GovernanceJson.Options);
        }
        catch (JsonException ex)
        {
            return Fail(PointerFromJsonPath(ex.Path), $"The policy does not fit its model: {FirstSentence(ex.Message)}", "type");
        }

        if (policy is null)
        {
            return Fail("", "The policy is null. Start from policy.sample.json.", "type");
        }

        var ruleErrors = CheckRules(policy);
        return ruleErrors.Count > 0 ? new PolicyLoadResult(null, ruleErrors) : new PolicyLoadResult(policy, []);
    }

    /// <summary>Rules that cross fields, which the schema cannot express.</summary>
    private static List<ValidationIssue> CheckRules(GovernancePolicy policy)
    {
        var errors = new List<ValidationIssue>();
        var seen = new Dictionary<string, (AccessRole Access, string Path)>(StringComparer.Ordinal);
        for (var i = 0; i < policy.Roles.Mappings.Count; i++)
        {
            var mapping = policy.Roles.Mappings[i];
            for (var j = 0; j < mapping.Roles.Count; j++)
            {
                var key = GovernanceEvaluator.NormaliseRole(mapping.Roles[j]);
                var path = $"/roles/mappings/{i}/roles/{j}";
                if (key.Length == 0)
                {
                    errors.Add(Error(path, "A role term is blank. Remove it.", "roles"));
                }
                else if (seen.TryGetValue(key, out var first) && first.Access != mapping.Access)
                {
                    errors.Add(
                        Error(
                            path,
                            $"Role '{mapping.Roles[j]}' is mapped to {Lower(mapping.Access)} here and to {Lower(first.Access)}"
                            + $" at {first.Path}. Map each role once.",
                            "roles"));
                }
                else
                {
                    seen.TryAdd(key, (mapping.Access, path));
                }
            }
        }

        var approvals = policy.Approvals;
        CheckApprover(approvals.DataSteward, "/approvals/data_steward", errors);
        CheckApprover(approvals.DataProtectionOfficer, "/approvals/data_protection_officer", errors);
        if (approvals.FallbackApprover is { } fallback)
        {
            CheckApprover(fallback, "/approvals/fallback_approver", errors);
        }

        if (approvals.ReminderEvery.IsZero)
        {
            errors.Add(
                Error(
                    "/approvals/reminder_every",
                    "Reminders every zero days would flood approvers. Use a period of at least one day, e.g. P3D.",
                    "rules"));
        }

        if (approvals.Timeout.IsZero)
        {
            errors.Add(Error("/approvals/timeout", "A zero timeout expires every approval at once. Use e.g. P30D.", "rules"));
        }
        else if (approvals.EscalateAfter.MinimumDays >= approvals.Timeout.MinimumDays)
        {
            errors.Add(
                Error(
                    "/approvals/escalate_after",
                    $"Escalation after {approvals.EscalateAfter} never happens before the timeout {approvals.Timeout}. "
                    + "Escalate earlier than the timeout.",
                    "rules"));
        }

        if (policy.Access.ReviewEvery.IsZero)
        {
            errors.Add(Error("/access/review_every", "An access review every zero days is not a schedule. Use e.g. P6M.", "rules"));
        }

        var periods = policy.Retention.DefaultPeriod;
        foreach (var (name, period) in new[]
        {
            ("public", periods.Public),
            ("internal", periods.Internal),
            ("confidential", periods.Confidential),
            ("restricted", periods.Restricted),
        })
        {
            if (period.IsZero)
            {
                errors.Add(
                    Error(
                        "/retention/default_period/" + name,
                        "A zero retention period disposes of data the day the project ends. Give the institution's retention period, e.g. "
                        + "P10Y.",
                        "rules"));
            }
        }

        var immutability = policy.Storage.RawDataImmutability;
        if (immutability.DatasetTypes is not null && immutability.RawTerms is not null)
        {
            errors.Add(Error("/storage/raw_data_immutability/dataset_types",
                "\"dataset_types\" is the former name of \"raw_terms\", which is also given. Keep only \"raw_terms\".", "rules"));
        }

        if (immutability.Enabled && immutability.EffectiveRawTerms.All(t => Text.FoldedWords.Split(t).Count == 0))
        {
            var key = immutability.RawTerms is null && immutability.DatasetTypes is not null ? "dataset_types" : "raw_terms";
            errors.Add(Error("/storage/raw_data_immutability/" + key,
                "Raw-data immutability is enabled but no term has a letter or digit, so no dataset could ever be found raw. "
                + "List words such as \"raw\", \"brut\".",
                "rules"));
        }

        if (policy.Storage.Encryption.AppliesTo.Contains(DataClassification.Restricted) is false)
        {
            errors.Add(
                Error(
                    "/storage/encryption/applies_to",
                    "Restricted (sensitive, e.g. health) data must use the encryption scope. Add \"restricted\".",
                    "rules"));
        }

        return errors;
    }

    /// <summary>Approval links go to these addresses: each must be a mailbox that cannot be mistaken for another.</summary>
    private static void CheckApprover(Approver approver, string path, List<ValidationIssue> errors)
    {
        if (Mailbox.Problem(approver.Email) is { } problem)
        {
            errors.Add(
                Error(
                    path + "/email",
                    $"'{approver.Email}' cannot receive approvals: {problem}. Give the approver's real address.",
                    "rules"));
        }

        for (var i = 0; i < approver.Delegates.Count; i++)
        {
            if (Mailbox.Problem(approver.Delegates[i].Email) is { } delegateProblem)
            {
                errors.Add(
                    Error(
                        $"{path}/delegates/{i}/email",
                        $"'{approver.Delegates[i].Email}' cannot receive approvals: {delegateProblem}. Give the delegate's real address.",
                        "rules"));
            }
        }
    }

    private static void Flatten(ValidationError error, List<ValidationIssue> issues)
    {
        if (error is ChildSchemaValidationError child && child.Errors.Count > 0 && error.Kind != ValidationErrorKind.NotOneOf)
        {
            foreach (var nested in child.Errors.Values.SelectMany(e => e))
            {
                Flatten(nested, issues);
            }

            return;
        }

        var path = PointerFromSchemaPath(error.Path);
        var issue = new ValidationIssue(path, Describe(error, path), Keyword(error.Kind), IssueSeverity.Error);
        if (error.HasLineInfo)
        {
            issue = issue with { Line = error.LineNumber, Column = error.LinePosition };
        }

        issues.Add(issue);
    }

    private static string Describe(ValidationError error, string path)
    {
        var hint = error.Schema?.Description is { Length: > 0 } description ? " Expected: " + description : string.Empty;
        var property = error.Property ?? path.Split('/')[^1];
        return error.Kind switch
        {
            ValidationErrorKind.PropertyRequired => $"Required property '{property}' is missing. "
                + "Add it (see policy.sample.json and docs/policy.md).",
            ValidationErrorKind.NoAdditionalPropertiesAllowed => $"Unknown property '{property}'. "
                + "Remove it or correct its spelling (keys are snake_case).",
            ValidationErrorKind.NotInEnumeration => "Value is not allowed; use one of: "
                + $"{string.Join(", ", (error.Schema?.Enumeration ?? []).Select(v => v?.ToString()))}.",
            ValidationErrorKind.PatternMismatch => "Value does not have the expected form."
                + $"{(hint.Length > 0 ? hint : " Pattern: " + error.Schema?.Pattern)}",
            ValidationErrorKind.StringExpected => "Expected a string." + hint,
            ValidationErrorKind.IntegerExpected => "Expected a whole number." + hint,
            ValidationErrorKind.NumberExpected => "Expected a number." + hint,
            ValidationErrorKind.BooleanExpected => "Expected true or false.",
            ValidationErrorKind.ObjectExpected => "Expected an object." + hint,
            ValidationErrorKind.ArrayExpected => "Expected an array." + hint,
            ValidationErrorKind.StringTooShort => $"Text is too short (at least {error.Schema?.MinLength} characters).",
            ValidationErrorKind.StringTooLong => $"Text is too long (at most {error.Schema?.MaxLength} characters).",
            ValidationErrorKind.NumberTooSmall => $"Number is too small (minimum {error.Schema?.Minimum}).",
            ValidationErrorKind.NumberTooBig => $"Number is too large (maximum {error.Schema?.Maximum}).",
            ValidationErrorKind.TooFewItems => $"List has too few items (at least {error.Schema?.MinItems}).",
            ValidationErrorKind.ItemsNotUnique => "List repeats an item. Remove the duplicate.",
            ValidationErrorKind.IntegerTooBig => "Number is too large.",
            ValidationErrorKind.NotOneOf => "Value matches none of the allowed forms." + hint,
            _ => $"Value is invalid ({error.Kind}).{hint}",
        };
    }

    private static string Keyword(ValidationErrorKind kind) => kind switch
    {
        ValidationErrorKind.PropertyRequired => "required",
        ValidationErrorKind.NoAdditionalPropertiesAllowed => "additionalProperties",
        ValidationErrorKind.NotInEnumeration => "enum",
        ValidationErrorKind.PatternMismatch => "pattern",
        ValidationErrorKind.StringTooShort => "minLength",
        ValidationErrorKind.StringTooLong => "maxLength",
        ValidationErrorKind.NumberTooSmall => "minimum",
        ValidationErrorKind.NumberTooBig => "maximum",
        ValidationErrorKind.TooFewItems => "minItems",
        ValidationErrorKind.ItemsNotUnique => "uniqueItems",
        ValidationErrorKind.NotOneOf => "oneOf",
        _ when kind.ToString().EndsWith("Expected", StringComparison.Ordinal) => "type",
        _ => kind.ToString(),
    };

    /// <summary>NJsonSchema paths look like <c>#/approvals.data_steward.delegates[0].email</c>; policy keys contain no dots.</summary>
    internal static string PointerFromSchemaPath(string? path)
    {
        if (string.IsNullOrEmpty(path) || path == "#" || path == "#/")
        {
            return "";
        }

        var body = path.StartsWith("#/", StringComparison.Ordinal) ? path[2..] : path.TrimStart('#');
        var builder = new StringBuilder();
        foreach (var part in body.Split('.'))
        {
            var rest = part;
            var bracket = rest.IndexOf('[', StringComparison.Ordinal);
            var name = bracket >= 0 ? rest[..bracket] : rest;
            if (name.Length > 0)
            {
                builder.Append('/').Append(name.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal));
            }

            while (bracket >= 0)
            {
                var close = rest.IndexOf(']', bracket);
                if (close < 0)
                {
                    break;
                }

                builder.Append('/').Append(rest, bracket + 1, close - bracket - 1);
                rest = rest[(close + 1)..];
                bracket = rest.IndexOf('[', StringComparison.Ordinal);
            }
        }

        return builder.ToString();
    }

    /// <summary>System.Text.Json paths look like <c>$.approvals.timeout</c> or <c>$.roles.mappings[0]</c>.</summary>
    private static string PointerFromJsonPath(string? path) =>
        string.IsNullOrEmpty(path) ? "" : PointerFromSchemaPath("#/" + path.TrimStart('$').TrimStart('.'));

    private static string FirstSentence(string message)
    {
        var cut = message.IndexOf(". ", StringComparison.Ordinal);
        return cut > 0 ? message[..(cut + 1)] : message;
    }

    private static PolicyLoadResult Fail(string path, string message, string keyword) => new(null, [Error(path, message, keyword)]);

    private static ValidationIssue Error(string path, string message, string keyword) => new(path, message, keyword, IssueSeverity.Error);

    private static string Lower(AccessRole role) => role.ToString().ToLowerInvariant();

    private static string ReadResource(string name)
    {
        using var stream = typeof(PolicyLoader).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException(
                $"Embedded resource '{name}' is missing from {typeof(PolicyLoader).Assembly.GetName().Name}.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }
}
