using System.Text.Json;
using System.Text.Json.Serialization;

namespace Gardien.Workflows.Governance;

/// <summary>
/// The JSON shape of policies and plans as files and CLI output: snake_case keys and enum values, nulls omitted.
/// Policies and plans also round-trip with default System.Text.Json options (workflow inputs), this is only the file form.
/// </summary>
public static class GovernanceJson
{
    public static JsonSerializerOptions Options { get; } = Create();

    public static string Serialize(GovernancePlan plan) => JsonSerializer.Serialize(plan, Options);

    public static string Serialize(GovernancePolicy policy) => JsonSerializer.Serialize(policy, Options);

    public static GovernancePlan? DeserializePlan(string json) => JsonSerializer.Deserialize<GovernancePlan>(json, Options);

    private static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.General)
        {
            PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
            DictionaryKeyPolicy = JsonNamingPolicy.SnakeCaseLower,
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
            WriteIndented = true,
            MaxDepth = 64,

            // Output goes to files, terminals and tables, never into HTML: keep accents and apostrophes readable.
            Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        };
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower, allowIntegerValues: false));
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
