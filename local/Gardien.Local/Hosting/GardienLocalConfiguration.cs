using Microsoft.Extensions.Configuration;

namespace Gardien.Local.Hosting;

/// <summary>
/// The configuration of the local host, lowest precedence first: the JSON file (<c>--config FILE</c>, else the
/// <c>GARDIEN_CONFIG</c> environment variable, else <c>gardien.local.json</c> in the current directory when present),
/// then environment variables (<c>Section__Key</c>), then explicit overrides. Relative paths inside resolve against
/// the current directory.
/// </summary>
public static class GardienLocalConfiguration
{
    public const string DefaultFileName = "gardien.local.json";
    public const string FileEnvironmentVariable = "GARDIEN_CONFIG";

    /// <exception cref="GardienLocalHostException">The named file is missing or is not valid JSON.</exception>
    public static IConfigurationRoot Build(string? configPath = null, IEnumerable<KeyValuePair<string, string?>>? overrides = null)
    {
        var explicitPath = configPath ?? NullIfEmpty(Environment.GetEnvironmentVariable(FileEnvironmentVariable));
        var path = explicitPath ?? (File.Exists(DefaultFileName) ? DefaultFileName : null);
        if (explicitPath is not null && !File.Exists(explicitPath))
        {
            throw new GardienLocalHostException(
                $"Configuration file '{Path.GetFullPath(explicitPath)}' does not exist. Check --config (or {FileEnvironmentVariable}); "
                + "gardien.local.json at the repository root is a working example.");
        }

        var builder = new ConfigurationBuilder();
        if (path is not null)
        {
            builder.AddJsonFile(Path.GetFullPath(path), optional: false, reloadOnChange: false);
        }

        builder.AddEnvironmentVariables();
        if (overrides is not null)
        {
            builder.AddInMemoryCollection(overrides);
        }

        try
        {
            return builder.Build();
        }
        catch (InvalidDataException ex)
        {
            throw new GardienLocalHostException(
                $"Configuration file '{Path.GetFullPath(path!)}' is not valid JSON: "
                + $"{ex.InnerException?.Message ?? ex.Message} Fix the file (compare with gardien.local.json).",
                ex);
        }
        catch (FormatException ex)
        {
            throw new GardienLocalHostException($"Configuration file '{Path.GetFullPath(path!)}' cannot be read: {ex.Message}", ex);
        }
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
