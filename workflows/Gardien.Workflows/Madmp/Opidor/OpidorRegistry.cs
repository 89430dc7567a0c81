using System.Text.Json;

namespace Gardien.Workflows.Madmp.Opidor;

/// <summary>A DMP OPIDoR bilingual vocabulary (en_GB / fr_FR), embedded from config/registries.</summary>
internal sealed class OpidorRegistry
{
    private readonly Dictionary<string, string> _toEnglish = new(StringComparer.OrdinalIgnoreCase);

    private OpidorRegistry(string name)
    {
        var resource = $"Gardien.Schemas.opidor/{name}.json";
        using var stream = typeof(OpidorRegistry).Assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"Embedded registry {resource} is missing.");
        using var document = JsonDocument.Parse(stream);
        foreach (var entry in document.RootElement.GetProperty(name).EnumerateArray())
        {
            var english = entry.TryGetProperty("en_GB", out var en) ? en.GetString() : null;
            if (english is null)
            {
                continue;
            }

            _toEnglish[english.Trim()] = english;
            if (entry.TryGetProperty("fr_FR", out var fr) && fr.GetString() is { } french)
            {
                _toEnglish[french.Trim()] = english;
            }
        }
    }

    public static OpidorRegistry StorageType { get; } = new("StorageType");

    public static OpidorRegistry BackupType { get; } = new("BackupType");

    /// <summary>The en_GB label for a label in either language; null when the value is not in the registry.</summary>
    public string? ToEnglish(string label) => _toEnglish.TryGetValue(label.Trim(), out var english) ? english : null;
}
