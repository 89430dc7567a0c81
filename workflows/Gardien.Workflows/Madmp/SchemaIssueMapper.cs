using System.Globalization;
using Newtonsoft.Json.Linq;
using NJsonSchema;
using NJsonSchema.Validation;

namespace Gardien.Workflows.Madmp;

/// <summary>
/// Turns NJsonSchema's error tree into flat issues a data steward can act on.
/// Format keywords are annotations for the reference verdicts (format not asserted), so format failures are warnings,
/// wherever NJsonSchema nests them.
/// </summary>
internal static class SchemaIssueMapper
{
    public static void Map(
        ICollection<ValidationError> errors,
        MadmpVersion version,
        List<ValidationIssue> outErrors,
        List<ValidationIssue> outWarnings)
    {
        var found = new List<ValidationIssue>();
        var formats = new List<ValidationIssue>();
        foreach (var error in errors)
        {
            Collect(error, version, found, formats);
        }

        outErrors.AddRange(WithoutCascade(found));
        outWarnings.AddRange(WithoutCascade(formats, found));
    }

    /// <summary>
    /// Drops what NJsonSchema reports below a value of the wrong type: it checks "required" and "properties" on a null or
    /// a text where an object belongs, which JSON Schema does not (those keywords apply to objects only), so
    /// <c>{"dmp": null}</c> would get nine errors where the schema's verdict has one.
    /// </summary>
    private static List<ValidationIssue> WithoutCascade(List<ValidationIssue> issues, List<ValidationIssue>? typeErrorsFrom = null)
    {
        var wrongTypes = (typeErrorsFrom ?? issues).Where(i => i.Keyword == "type").Select(i => i.Path + "/").ToList();
        if (wrongTypes.Count == 0)
        {
            return issues;
        }

        return issues.Where(i => !wrongTypes.Any(prefix => i.Path.StartsWith(prefix, StringComparison.Ordinal))).ToList();
    }

    private static void Collect(ValidationError error, MadmpVersion version, List<ValidationIssue> errors, List<ValidationIssue> warnings)
    {
        if (IsFormat(error.Kind))
        {
            warnings.Add(Describe(error, version, IssueSeverity.Warning));
            return;
        }

        if (error is not ChildSchemaValidationError container)
        {
            errors.Add(Describe(error, version, IssueSeverity.Error));
            return;
        }

        switch (error.Kind)
        {
            case ValidationErrorKind.NotOneOf:
            case ValidationErrorKind.NotAnyOf:
            case ValidationErrorKind.NoTypeValidates:
            case ValidationErrorKind.NotAllOf:
                CollectCombinator(container, version, errors, warnings);
                break;
            case ValidationErrorKind.ExcludedSchemaValidates:
                errors.Add(Describe(error, version, IssueSeverity.Error));
                break;
            default:
                // ArrayItemNotValid, PropertyRequired, AdditionalPropertiesNotValid, AdditionalItemNotValid...: the container
                // only says "something below failed"; its verdict is its children's.
                var any = false;
                foreach (var children in container.Errors.Values)
                {
                    foreach (var child in children)
                    {
                        any = true;
                        Collect(child, version, errors, warnings);
                    }
                }

                if (!any)
                {
                    errors.Add(Describe(error, version, IssueSeverity.Error));
                }

                break;
        }
    }

    /// <summary>
    /// A combinator's verdict is recomputed with format failures ignored: a branch whose only failures are formats passes.
    /// NJsonSchema lists every branch (passing ones with no errors), so the count of passing branches is exact.
    /// </summary>
    private static void CollectCombinator(
        ChildSchemaValidationError container,
        MadmpVersion version,
        List<ValidationIssue> errors,
        List<ValidationIssue> warnings)
    {
        var branches = container.Errors.Values
            .Select(children =>
            {
                var branchErrors = new List<ValidationIssue>();
                var branchWarnings = new List<ValidationIssue>();
                foreach (var child in children)
                {
                    Collect(child, version, branchErrors, branchWarnings);
                }

                return (Errors: branchErrors, Warnings: branchWarnings);
            })
            .ToList();

        var passing = branches.Where(b => b.Errors.Count == 0).ToList();
        var ok = container.Kind switch
        {
            ValidationErrorKind.NotOneOf => passing.Count == 1,
            ValidationErrorKind.NotAllOf => passing.Count == branches.Count,
            _ => passing.Count > 0,
        };

        if (ok)
        {
            foreach (var branch in passing)
            {
                warnings.AddRange(branch.Warnings);
            }

            return;
        }

        var issue = Describe(container, version, IssueSeverity.Error);
        if (container.Kind != ValidationErrorKind.NotOneOf || passing.Count == 0)
        {
            // Name the nearest alternative's problems: that is usually the shape the author meant.
            var nearest = branches.Where(b => b.Errors.Count > 0).OrderBy(b => b.Errors.Count).FirstOrDefault();
            if (nearest.Errors is { Count: > 0 })
            {
                issue = issue with
                {
                    Message = issue.Message + " Closest match: " + string.Join(" ", nearest.Errors.Select(e => e.Message)),
                };
            }
        }

        errors.Add(issue);
    }

    internal static bool IsFormat(ValidationErrorKind kind) => kind is
        ValidationErrorKind.DateTimeExpected or ValidationErrorKind.DateExpected or ValidationErrorKind.TimeExpected
        or ValidationErrorKind.TimeSpanExpected or ValidationErrorKind.UriExpected or ValidationErrorKind.IpV4Expected
        or ValidationErrorKind.IpV6Expected or ValidationErrorKind.GuidExpected or ValidationErrorKind.EmailExpected
        or ValidationErrorKind.HostnameExpected or ValidationErrorKind.Base64Expected or ValidationErrorKind.UuidExpected;

    private static ValidationIssue Describe(ValidationError error, MadmpVersion version, IssueSeverity severity)
    {
        var pointer = JsonPointer.Of(error.Token);
        var property = error.Property ?? "";
        if (error.Kind == ValidationErrorKind.PropertyRequired)
        {
            var parent = pointer;
            pointer = JsonPointer.Append(parent, property);
            return new ValidationIssue(pointer, Required(parent, property), "required", severity);
        }

        var (keyword, message) = error.Kind switch
        {
            ValidationErrorKind.StringExpected => ("type", TypeMessage(pointer, property, "a text string", error.Token)),
            ValidationErrorKind.NumberExpected => ("type", TypeMessage(pointer, property, "a number", error.Token)),
            ValidationErrorKind.IntegerExpected => ("type", TypeMessage(pointer, property, "a whole number", error.Token)),
            ValidationErrorKind.BooleanExpected => ("type", TypeMessage(pointer, property, "true or false", error.Token)),
            ValidationErrorKind.ObjectExpected => ("type", TypeMessage(pointer, property, "an object { ... }", error.Token)),
            ValidationErrorKind.ArrayExpected => ("type", TypeMessage(pointer, property, "a list [ ... ]", error.Token)),
            ValidationErrorKind.NullExpected => ("type", TypeMessage(pointer, property, "null", error.Token)),
            ValidationErrorKind.NoTypeValidates => ("type", $"{Subject(pointer, property)} has a type the schema does not allow here."),
            ValidationErrorKind.NotInEnumeration => ("enum", EnumMessage(pointer, property, error)),
            ValidationErrorKind.NoAdditionalPropertiesAllowed => ("additionalProperties", AdditionalMessage(pointer, property, version)),
            ValidationErrorKind.AdditionalPropertiesNotValid => (
                "additionalProperties", $"\"{property}\" at {pointer} is not allowed by the {version.ToVersionString()} schema."),
            ValidationErrorKind.TooFewItems => (
                "minItems",
                $"{Subject(pointer, property)} must contain at least {error.Schema?.MinItems ?? 1} item(s). "
                + $"Add an entry to the list at {pointer}."),
            ValidationErrorKind.TooManyItems => (
                "maxItems", $"{Subject(pointer, property)} has more items than the {error.Schema?.MaxItems} allowed."),
            ValidationErrorKind.ItemsNotUnique => (
                "uniqueItems", $"{Subject(pointer, property)} contains duplicate items; each item must appear once."),
            ValidationErrorKind.PatternMismatch => (
                "pattern", $"{Subject(pointer, property)} does not match the expected pattern {error.Schema?.Pattern}."),
            ValidationErrorKind.StringTooShort => (
                "minLength", $"{Subject(pointer, property)} is too short (at least {error.Schema?.MinLength} characters)."),
            ValidationErrorKind.StringTooLong => (
                "maxLength", $"{Subject(pointer, property)} is too long (at most {error.Schema?.MaxLength} characters)."),
            ValidationErrorKind.NumberTooSmall => (
                "minimum", $"{Subject(pointer, property)} is below the minimum {error.Schema?.Minimum}."),
            ValidationErrorKind.NumberTooBig or ValidationErrorKind.IntegerTooBig => (
                "maximum", $"{Subject(pointer, property)} is above the maximum {error.Schema?.Maximum}."),
            ValidationErrorKind.NotOneOf => (
                "oneOf",
                $"{Subject(pointer, property)} must match exactly one of the allowed shapes (for an identifier: "
                + $"one object {{\"identifier\": ..., \"type\": ...}} or a list of them)."),
            ValidationErrorKind.NotAnyOf => ("anyOf", $"{Subject(pointer, property)} matches none of the allowed shapes."),
            ValidationErrorKind.NotAllOf => (
                "allOf", $"{Subject(pointer, property)} does not satisfy every constraint of the schema here."),
            ValidationErrorKind.ExcludedSchemaValidates => ("not", $"{Subject(pointer, property)} has a form the schema excludes."),
            ValidationErrorKind.DateExpected => (
                "format", FormatMessage(pointer, property, "a date YYYY-MM-DD (e.g. 2025-09-30)", error.Token)),
            ValidationErrorKind.DateTimeExpected => (
                "format", FormatMessage(pointer, property, "a date and time with time zone (e.g. 2025-09-30T14:00:00Z)", error.Token)),
            ValidationErrorKind.EmailExpected => (
                "format", FormatMessage(pointer, property, "an e-mail address (e.g. name@institute.org)", error.Token)),
            ValidationErrorKind.UriExpected => (
                "format", FormatMessage(pointer, property, "an absolute URI (e.g. https://example.org/page)", error.Token)),
            _ when IsFormat(error.Kind) => (
                "format", FormatMessage(pointer, property, $"in the format the schema names ({error.Kind})", error.Token)),
            _ => ("schema", $"{Subject(pointer, property)} is not valid here ({error.Kind})."),
        };

        return new ValidationIssue(pointer, message, keyword, severity);
    }

    private static string Required(string parent, string property)
    {
        var (label, example) = property switch
        {
            "mbox" => ("e-mail address", "\"name@institute.org\""),
            "name" => ("name", "\"Jane Doe\""),
            "title" => ("title", "\"...\""),
            "contact" => ("contact (who answers questions about the plan)", "{ \"name\": ..., \"mbox\": ..., \"contact_id\": {...} }"),
            "contact_id" => ("identifier", "{ \"identifier\": \"https://orcid.org/0000-0000-0000-0000\", \"type\": \"orcid\" }"),
            "contributor_id" => ("identifier", "{ \"identifier\": \"https://orcid.org/0000-0000-0000-0000\", \"type\": \"orcid\" }"),
            "dmp_id" => ("identifier", "{ \"identifier\": \"https://doi.org/10.0000/xyz\", \"type\": \"doi\" }"),
            "dataset_id" => ("identifier", "{ \"identifier\": \"...\", \"type\": \"other\" }"),
            "identifier" => ("identifier value", "\"...\""),
            "type" => ("identifier type", "\"other\""),
            "created" => ("creation date and time", "\"2025-01-31T09:00:00Z\""),
            "modified" => ("last modification date and time", "\"2025-01-31T09:00:00Z\""),
            "language" => ("language (ISO 639-3)", "\"eng\""),
            "ethical_issues_exist" => ("answer on ethical issues", "\"yes\", \"no\" or \"unknown\""),
            "personal_data" => ("answer on personal data", "\"yes\", \"no\" or \"unknown\""),
            "sensitive_data" => ("answer on sensitive data", "\"yes\", \"no\" or \"unknown\""),
            "data_access" => ("access level", "\"open\", \"shared\" or \"closed\""),
            "dataset" => ("list of datasets", "[ { \"title\": ..., \"dataset_id\": {...}, ... } ]"),
            "role" => ("roles", "[ \"DataManager\" ]"),
            "url" => ("URL", "\"https://...\""),
            "license_ref" => ("licence URL", "\"https://creativecommons.org/licenses/by/4.0/\""),
            "start_date" => ("start date", "\"2025-01-31\""),
            "start" => ("start date", "\"2025-01-31\""),
            "end" => ("end date", "\"2028-12-31\""),
            "funder_id" => ("funder identifier", "{ \"identifier\": \"...\", \"type\": \"fundref\" }"),
            "grant_id" => ("grant identifier", "{ \"identifier\": \"...\", \"type\": \"other\" }"),
            "metadata_standard_id" => ("metadata standard identifier", "{ \"identifier\": \"...\", \"type\": \"url\" }"),
            "dmp" => ("plan object", "{ ... }"),
            _ => (property.Replace('_', ' '), "..."),
        };

        var owner = Owner(parent);
        var where = parent.Length == 0 ? "the top level of the document" : parent;
        return $"{Capitalise(owner + label)} ({property}) is missing. Add \"{property}\": {example} to {where}.";
    }

    private static string TypeMessage(string pointer, string property, string expected, JToken? token) =>
        $"{Subject(pointer, property)} must be {expected}, but it is {Kind(token)}.";

    private static string FormatMessage(string pointer, string property, string expected, JToken? token) =>
        $"{Subject(pointer, property)} should be {expected}; found {Shorten(token)}.";

    private static string EnumMessage(string pointer, string property, ValidationError error)
    {
        var allowed = error.Schema?.ActualSchema.Enumeration?.Select(e => e?.ToString() ?? "null").ToList() ?? [];
        var list = allowed.Count <= 12
            ? string.Join(", ", allowed.Select(a => "\"" + a + "\""))
            : string.Join(", ", allowed.Take(8).Select(a => "\"" + a + "\""))
                + $", ... ({allowed.Count} allowed values{EnumHint(property)})";
        return $"{Subject(pointer, property)} has the value {Shorten(error.Token)}, which is not allowed. Use one of: {list}.";
    }

    private static string EnumHint(string property) => property switch
    {
        "language" => ": ISO 639-3 codes such as \"eng\", \"fra\", \"deu\"",
        "geo_location" => ": ISO 3166-1 alpha-2 country codes such as \"FR\", \"DE\"",
        "currency_code" => ": ISO 4217 codes such as \"EUR\"",
        _ => "",
    };

    private static string AdditionalMessage(string pointer, string property, MadmpVersion version) =>
        property == "$schema" && version == MadmpVersion.V1_1
            ? $"\"$schema\" at {pointer} is not allowed by the 1.1 schema (documents published with 1.2 carry it). Validate as 1.2, "
                + "or remove \"$schema\"."
            : $"\"{property}\" at {pointer} is not allowed by the {version.ToVersionString()} schema. Remove it or check its spelling.";

    /// <summary>A readable name for the thing at a pointer: "The contact's mbox", "Dataset 2's title".</summary>
    internal static string Subject(string pointer, string property)
    {
        var parent = pointer.Length > 0 && pointer.LastIndexOf('/') is var cut and >= 0 ? pointer[..cut] : "";
        var name = string.IsNullOrEmpty(property) || property.StartsWith('[') ? LastSegment(pointer) : property;
        if (name.Length > 0 && name.All(char.IsAsciiDigit) && Owner(pointer) is { Length: > 0 } item)
        {
            // A list item is named by its position: "Distribution 1 of dataset 2", not "the distribution of dataset 2's 0".
            return $"{Capitalise(item[..^3])} ({Display(pointer)})";
        }

        var owner = Owner(parent);
        return owner.Length == 0 ? $"The value at {Display(pointer)}" : $"{Capitalise(owner)}{name} ({Display(pointer)})";
    }

    private static string Display(string pointer) => pointer.Length == 0 ? "the document root" : pointer;

    private static string LastSegment(string pointer) => pointer.Length == 0 ? "" : pointer[(pointer.LastIndexOf('/') + 1)..];

    /// <summary>"the contact's ", "dataset 3's ", "distribution 1 of dataset 2's ", "the plan's " (with a trailing space), or "".</summary>
    internal static string Owner(string pointer)
    {
        var segments = pointer.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (segments.Length == 0)
        {
            return "";
        }

        var parts = new List<string>();
        for (var i = 0; i < segments.Length; i++)
        {
            var segment = segments[i];
            var index = i + 1 < segments.Length && int.TryParse(segments[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out var n)
                ? n
                : -1;
            if (segment == "dmp" && i == 0)
            {
                parts.Add("the plan");
                continue;
            }

            if (index >= 0)
            {
                parts.Add($"{segment.Replace('_', ' ')} {index + 1}");
                i++;
            }
            else if (!int.TryParse(segment, NumberStyles.None, CultureInfo.InvariantCulture, out _))
            {
                parts.Add(segment.Replace('_', ' '));
            }
        }

        // Innermost first reads naturally: "the host of distribution 1 of dataset 2".
        if (parts.Count > 1 && parts[0] == "the plan")
        {
            parts.RemoveAt(0);
        }

        parts.Reverse();
        var text = string.Join(" of ", parts);
        if (!text.StartsWith("the ", StringComparison.Ordinal) && !char.IsDigit(parts[0][^1]))
        {
            text = "the " + text;
        }

        return text + "'s ";
    }

    private static string Capitalise(string text) => text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text[1..];

    private static string Kind(JToken? token) => token?.Type switch
    {
        JTokenType.String => $"the text {Shorten(token)}",
        JTokenType.Integer or JTokenType.Float => $"the number {Shorten(token)}",
        JTokenType.Boolean => $"the boolean {Shorten(token)}",
        JTokenType.Object => "an object",
        JTokenType.Array => "a list",
        JTokenType.Null => "null",
        _ => "missing",
    };

    private static string Shorten(JToken? token)
    {
        var text = token switch
        {
            null => "nothing",
            JValue { Type: JTokenType.String } v => "\"" + (string?)v + "\"",
            JValue { Type: JTokenType.Null } => "null",
            JValue v => Convert.ToString(v.Value, CultureInfo.InvariantCulture) ?? "",
            JObject => "an object",
            JArray => "a list",
            _ => token.ToString(),
        };
        return text.Length > 80 ? text[..77] + "...\"" : text;
    }
}
