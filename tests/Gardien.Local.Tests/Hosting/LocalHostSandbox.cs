using System.Text.Json;
using Gardien.Cli;
using Gardien.Local.Tests.Adapters;
using Gardien.Testing;

namespace Gardien.Local.Tests.Hosting;

/// <summary>
/// One isolated local Gardien on the shared Azurite: its own task hub, registry tables, audit container, inbox and
/// directory, a configuration file pointing at them, and a copy of the sample DMP with a unique dmp_id (so that its
/// containers are its own too). Runs CLI commands in-process through <see cref="CliRunner"/>.
/// </summary>
internal sealed class LocalHostSandbox : IDisposable
{
    private readonly TempFolder _folder = new();

    public LocalHostSandbox(AzuriteFixture azurite, Action<Dictionary<string, object>>? configure = null)
    {
        var id = Guid.NewGuid().ToString("N")[..10];
        Slug = "t" + id;
        AuditContainer = "audit-" + id;
        ConnectionString = azurite.ConnectionString;
        DmpId = $"https://doi.org/10.99999/{Slug}.dmp";
        var settings = new Dictionary<string, object>
        {
            ["Engine"] = new Dictionary<string, object>
            {
                ["TaskHubName"] = "Hub" + id,
                ["IdleTimeout"] = "00:01:00",
                ["ConnectTimeout"] = "00:00:03",
            },
            ["Local"] = new Dictionary<string, object>
            {
                ["StorageConnectionString"] = azurite.ConnectionString,
                ["InboxPath"] = _folder.Combine("inbox"),
                ["DirectoryPath"] = _folder.Combine("directory.json"),
                ["DirectorySeedPath"] = Path.Combine(RepoPaths.Root, "samples", "directory.sample.json"),
                ["DmpFolder"] = _folder.Combine("dmps"),
                ["TablePrefix"] = "t" + id,
                ["AuditContainer"] = AuditContainer,
            },
            ["Workflows"] = new Dictionary<string, object> { ["PolicyPath"] = Path.Combine(RepoPaths.Root, "policy.sample.json") },
            ["Secrets"] = new Dictionary<string, object> { ["approval-signing-key-k1"] = SigningKey },

            // gardien serve: a free port, its state (API key, discovery file) in the sandbox; no blob watcher unless a test wants one.
            ["Serve"] = new Dictionary<string, object>
            {
                ["Url"] = "http://127.0.0.1:0",
                ["StateDirectory"] = _folder.Combine("state"),
                ["WatchBlobs"] = false,
                ["BlobWatchInterval"] = "00:00:01",
            },
        };
        configure?.Invoke(settings);
        ConfigPath = _folder.Combine("gardien.local.json");
        File.WriteAllText(ConfigPath, JsonSerializer.Serialize(settings));

        // The sample with its identifiers made unique: dmp_id, dataset ids, hence container names.
        DmpPath = _folder.Combine("dmp.json");
        File.WriteAllText(
            DmpPath,
            File.ReadAllText(Path.Combine(RepoPaths.Root, "samples", "dmp-health-study.json"))
                .Replace("10.99999/neurocog-mri", "10.99999/" + Slug, StringComparison.Ordinal));
    }

    public const string SigningKey = "test-only-approval-signing-key-0123456789abcdef";

    public string Slug { get; }

    /// <summary>The sandbox's audit container on the shared Azurite.</summary>
    public string AuditContainer { get; }

    public string ConnectionString { get; }

    public string DmpId { get; }

    public string ConfigPath { get; }

    public string DmpPath { get; }

    public string Combine(string name) => _folder.Combine(name);

    /// <summary>Runs a gardien command with this sandbox's configuration.</summary>
    public async Task<(int Exit, string Out, string Err)> RunAsync(params string[] args)
    {
        var root = CliCommands.CreateRoot("test");
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var exit = await CliRunner.RunAsync(root, [.. args, "--config", ConfigPath], stdout, stderr);
        return (exit, stdout.ToString(), stderr.ToString());
    }

    public void Dispose() => _folder.Dispose();
}
