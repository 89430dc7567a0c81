using System.Diagnostics;
using System.Reflection;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Gardien.Functions.Events;
using Gardien.Runtime;
using Gardien.Testing;
using Gardien.Workflows;
using Gardien.Workflows.Hosting.Events;
using Microsoft.Azure.Functions.Worker;

namespace Gardien.Functions.Tests.Build;

/// <summary>
/// The built app: every registered workflow and activity is a function with the right trigger, the publish output carries no engine, and
/// every setting the app reads is in the settings contract.
/// </summary>
public sealed class FunctionsAppBuildTests
{
    private static readonly string AppProject = Path.Combine(RepoPaths.Root, "functions", "Gardien.Functions");

    // bin/{Configuration}/net10.0 of this test assembly: the app was built in the same configuration.
    private static readonly string Configuration = new DirectoryInfo(
        Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)).Parent!.Name;

    private static JsonArray Metadata() =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(AppProject, "bin", Configuration, "net10.0", "functions.metadata")))!.AsArray();

    private static string TriggerOf(string function) =>
        Metadata().Single(f => f!["name"]!.GetValue<string>() == function)!["bindings"]!.AsArray()
            .Single(b => b!["type"]!.GetValue<string>().EndsWith("Trigger", StringComparison.Ordinal))!["type"]!.GetValue<string>();

    [Fact]
    public void Metadata_ListsEveryRegisteredWorkflowAsAnOrchestrator_AndEveryActivityAsAnActivity()
    {
        var registry = new WorkflowRegistry().AddGardienWorkflows();
        var names = Metadata().Select(f => f!["name"]!.GetValue<string>()).ToList();

        Assert.Equal(names.Count, names.Distinct(StringComparer.Ordinal).Count());
        Assert.All(registry.WorkflowNames, w => Assert.Equal("orchestrationTrigger", TriggerOf(w)));
        Assert.All(registry.ActivityNames, a => Assert.Equal("activityTrigger", TriggerOf(a)));
        var durable = names.Where(n => TriggerOf(n) is "orchestrationTrigger" or "activityTrigger").Order(StringComparer.Ordinal);
        Assert.Equal(registry.WorkflowNames.Concat(registry.ActivityNames).Order(StringComparer.Ordinal), durable);
    }

    [Theory]
    [InlineData("SubmitDmp", "dmps", "post", "Function")]
    [InlineData("ListDmps", "dmps", "get", "Function")]
    [InlineData("GetDmp", "dmps/{dmpId}", "get", "Function")]
    [InlineData("GetWorkflow", "workflows/{instanceId}", "get", "Function")]
    [InlineData("ApprovalPage", "approvals/{token}", "get", "Anonymous")]
    [InlineData("ApprovalDecision", "approvals/{token}", "post", "Anonymous")]
    [InlineData("Health", "health", "get", "Anonymous")]
    public void Metadata_HasEachHttpRouteWithItsMethodAndKeyLevel(string function, string route, string method, string authLevel)
    {
        var bindings = Metadata().Single(f => f!["name"]!.GetValue<string>() == function)!["bindings"]!.AsArray();
        var trigger = Assert.Single(bindings, b => b!["type"]?.GetValue<string>() == "httpTrigger")!;

        Assert.Equal(route, trigger["route"]?.GetValue<string>());
        Assert.Equal([method], trigger["methods"]!.AsArray().Select(m => m!.GetValue<string>()));
        Assert.Equal(authLevel, trigger["authLevel"]?.GetValue<string>());
    }

    [Fact]
    public void Metadata_HasTheQueueAndTimerTriggers()
    {
        var functions = Metadata().ToDictionary(f => f!["name"]!.GetValue<string>(), f => f!["bindings"]!.AsArray());

        Assert.Equal("queueTrigger", TriggerOf("OnBlobEvent"));
        Assert.Equal("queueTrigger", TriggerOf("OnDmpEvent"));
        Assert.Contains(
            functions["OnBlobEvent"],
            b => b!["queueName"]?.GetValue<string>() == EventQueueFunctions.BlobEventsQueue
                && b["connection"]?.GetValue<string>() == EventQueueFunctions.Connection);
        Assert.Contains(functions["OnDmpEvent"], b => b!["queueName"]?.GetValue<string>() == EventQueueFunctions.DmpEventsQueue);
        Assert.Equal("timerTrigger", TriggerOf("RetentionSweepTimer"));
        Assert.Equal("timerTrigger", TriggerOf("AccessReviewTimer"));
        Assert.Contains(functions["RetentionSweepTimer"], b => b!["schedule"]?.GetValue<string>() == TimerFunctions.RetentionSweepSchedule);
    }

    [Fact]
    public void EveryFunctionMethod_IsInTheMetadata()
    {
        var declared = typeof(GardienFunctionsOptions).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static))
            .Select(m => m.GetCustomAttribute<FunctionAttribute>()?.Name)
            .OfType<string>()
            .Order(StringComparer.Ordinal);

        Assert.Equal(declared, Metadata().Select(f => f!["name"]!.GetValue<string>()).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Publish_Succeeds_WithHostFilesAndPolicy_AndWithoutTheEmbeddedEngine()
    {
        var output = Path.Combine(Path.GetTempPath(), "gardien-publish-" + Guid.NewGuid().ToString("N"));
        try
        {
            // The app is built already (a project reference of these tests): publishing only lays out its files.
            var (code, log) = await RunAsync("dotnet", $"publish \"{AppProject}\" -c {Configuration} --no-build --nologo -o \"{output}\"");
            Assert.True(code == 0, log);

            Assert.False(File.Exists(Path.Combine(output, "Gardien.Runtime.dll")), "the Functions app must not ship the embedded engine");
            foreach (var file in new[]
            {
                "Gardien.Functions.dll",
                "Gardien.Workflows.dll",
                "Gardien.Workflows.Hosting.dll",
                "Gardien.Runtime.Abstractions.dll",
                "host.json",
                "functions.metadata",
                "extensions.json",
                "worker.config.json",
                "policy.sample.json",
            })
            {
                Assert.True(File.Exists(Path.Combine(output, file)), file + " is missing from the publish output");
            }

            Assert.False(File.Exists(Path.Combine(output, "local.settings.sample.json")), "local settings are for developer machines only");
        }
        finally
        {
            if (Directory.Exists(output))
            {
                Directory.Delete(output, recursive: true);
            }
        }
    }

    [Fact]
    public void EverySettingTheAppReads_IsInTheContractAndTheLocalSample()
    {
        var entries = JsonNode.Parse(
            File.ReadAllText(Path.Combine(RepoPaths.Root, "infra-bicep", "app-settings.contract.json")))!["settings"]!.AsArray();
        var contract = entries.Where(s => s!["pattern"] is null).Select(s => s!["name"]!.GetValue<string>())
            .ToHashSet(StringComparer.OrdinalIgnoreCase);
        var patterns = entries.Where(s => s!["pattern"] is not null)
            .Select(
                s => new Regex(
                    "^" + Regex.Replace(Regex.Escape(s!["name"]!.GetValue<string>()), "<[a-z]+>", "[A-Za-z0-9]+(__[0-9]+)?") + "$"))
            .ToList();
        var local = JsonNode.Parse(File.ReadAllText(Path.Combine(RepoPaths.Root, "local.settings.sample.json")))!["Values"]!.AsObject()
            .Select(p => p.Key).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var hostJson = File.ReadAllText(Path.Combine(RepoPaths.Root, "host.json"));
        bool Listed(string name) => contract.Contains(name) || patterns.Any(p => p.IsMatch(name));

        // Settings binding expressions resolve (host.json, trigger attributes), the app's own options, and every setting a
        // deployment gives the adapters (the wiring tests build the app from exactly these).
        var read = typeof(GardienFunctionsOptions).GetProperties().Select(p => $"{GardienFunctionsOptions.SectionName}__{p.Name}")
            .Concat(Regex.Matches(hostJson, "%([^%]+)%").Select(m => m.Groups[1].Value))
            .Concat(Regex.Matches(Metadata().ToJsonString(), "%([^%]+)%").Select(m => m.Groups[1].Value))
            .Concat(
                Wiring.AppWiringTests.AzureSettings().Keys.Where(k => k != "WEBSITE_HOSTNAME")
                    .Select(k => k.Replace(":", "__", StringComparison.Ordinal)))
            .Distinct(StringComparer.Ordinal)
            .ToList();

        Assert.Contains(DmpPollingFunctions.ScheduleSetting, read);
        Assert.All(read, name => Assert.True(Listed(name), $"{name} is not in infra-bicep/app-settings.contract.json"));
        Assert.All(
            read.Where(n => n != "AZURE_CLIENT_ID"),
            name => Assert.True(
                local.Contains(name) || patterns.Any(p => p.IsMatch(name)), $"{name} is not in local.settings.sample.json"));

        // The secret deploy.sh seeds (main.bicep's approval-signing-key-<id>) is the one the Key Vault adapter reads.
        Assert.Equal("approval-signing-key-", new Gardien.Azure.KeyVault.KeyVaultOptions().SigningKeySecretPrefix);

        // The host storage connection the queue triggers and Durable Functions use: identity-based in Azure, Azurite locally.
        Assert.Contains($"\"connectionName\": \"{EventQueueFunctions.Connection}\"", hostJson, StringComparison.Ordinal);
        Assert.Contains(EventQueueFunctions.Connection + "__queueServiceUri", contract);
        Assert.Contains(EventQueueFunctions.Connection + "__credential", contract);
        Assert.Contains(EventQueueFunctions.Connection, local);
    }

    private static async Task<(int Code, string Log)> RunAsync(string file, string arguments)
    {
        var start = new ProcessStartInfo(file, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var guard = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await process.WaitForExitAsync(guard.Token);
        return (process.ExitCode, await stdout + await stderr);
    }
}
