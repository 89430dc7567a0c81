using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Gardien.Runtime;
using Gardien.Testing;

namespace Gardien.Workflows.Tests.Replay;

/// <summary>
/// Histories of real workflow runs kept in <c>Replay/Histories/*.json</c>, replayed against today's workflow code.
/// They are written only when <see cref="RecordVariable"/> is set: after a deliberate, versioned change of a workflow,
/// or to add a history. Otherwise a missing file fails the test rather than being recorded silently.
/// </summary>
internal static class RecordedHistories
{
    /// <summary>Set to 1 to (re)write the histories from the scenarios of <see cref="WorkflowReplayTests"/>.</summary>
    public const string RecordVariable = "GARDIEN_RECORD_HISTORIES";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,

        // Readable payloads (they are JSON in JSON); the files are test data, never HTML.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter() },
    };

    public static bool Recording => Environment.GetEnvironmentVariable(RecordVariable) is "1" or "true";

    public static string PathOf(string name) =>
        Path.Combine(RepoPaths.Root, "tests", "Gardien.Workflows.Tests", "Replay", "Histories", name + ".json");

    public static IReadOnlyList<HistoryEvent> Load(string name)
    {
        var path = PathOf(name);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"No recorded history '{name}' at {path}: record it with {RecordVariable}=1.", path);
        }

        return JsonSerializer.Deserialize<List<HistoryEvent>>(File.ReadAllText(path), Json)!;
    }

    public static void Save(string name, IReadOnlyList<HistoryEvent> history) =>
        File.WriteAllText(PathOf(name), JsonSerializer.Serialize(history, Json) + "\n");
}
