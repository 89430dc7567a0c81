using Gardien.Testing;

namespace Gardien.Infra.Tests.Support;

/// <summary>Files under infra-bicep/ the tests compile and read.</summary>
public static class InfraPaths
{
    public static string InfraRoot => Path.Combine(RepoPaths.Root, "infra-bicep");

    public static string MainTemplate => Path.Combine(InfraRoot, "main.bicep");

    public static string DevParameters => Path.Combine(InfraRoot, "main.dev.bicepparam");

    public static string ProdParameters => Path.Combine(InfraRoot, "main.prod.bicepparam");

    public static string BicepConfig => Path.Combine(InfraRoot, "bicepconfig.json");

    public static string Modules => Path.Combine(InfraRoot, "modules");

    public static string AppSettingsContract => Path.Combine(InfraRoot, "app-settings.contract.json");

    public static string LocalSettingsSample => Path.Combine(RepoPaths.Root, "local.settings.sample.json");

    /// <summary>Every file the CLI must build/lint cleanly, as (kind, path).</summary>
    public static IReadOnlyList<string> LintedFiles =>
    [
        MainTemplate,
        DevParameters,
        ProdParameters,
    ];
}
