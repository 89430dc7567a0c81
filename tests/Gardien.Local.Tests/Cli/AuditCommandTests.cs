using System.CommandLine;
using System.Text.Json;
using Azure.Storage.Blobs;
using Gardien.Cli;
using Gardien.Local.Tests.Adapters;
using Gardien.Storage.Audit;
using Gardien.Testing;

namespace Gardien.Local.Tests.Cli;

[Collection(AzuriteCollection.Name)]
public sealed class AuditCommandTests(AzuriteFixture fixture)
{
    private readonly string _containerName = "audit-" + Guid.NewGuid().ToString("N")[..12];

    private BlobContainerClient Container => new BlobServiceClient(fixture.ConnectionString).GetBlobContainerClient(_containerName);

    private async Task<(int Exit, string Out, string Err)> RunAsync(params string[] args)
    {
        var root = new RootCommand("test") { AuditCommand.Create() };
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var exit = await CliRunner.RunAsync(root, args, stdout, stderr);
        return (exit, stdout.ToString(), stderr.ToString());
    }

    private async Task SeedAsync(int count)
    {
        var log = new AppendBlobAuditLog(Container);
        for (var i = 1; i <= count; i++)
        {
            await log.AppendAsync(AppendBlobAuditLogTests.Entry(i));
        }
    }

    [Fact]
    public async Task Verify_IntactChain_ExitsZeroAndCountsEntries()
    {
        await SeedAsync(4);

        var (exit, output, _) = await RunAsync(
            "audit", "verify", "--connection-string", fixture.ConnectionString, "--container", _containerName);

        Assert.Equal(CliRunner.Ok, exit);
        Assert.Contains("intact: 4 entries checked", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_OneTamperedEntry_ExitsOneAndNamesThatEntry()
    {
        await SeedAsync(5);
        await AppendBlobAuditLogTests.TamperAsync(Container, line: 2, "intake-2", "intake-9");

        var (exit, output, _) = await RunAsync(
            "audit", "verify", "--connection-string", fixture.ConnectionString, "--container", _containerName);

        Assert.Equal(CliRunner.Invalid, exit);
        Assert.Contains("BROKEN at entry 2: chain/00000001.jsonl line 2", output, StringComparison.Ordinal);
        Assert.Contains("modified", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_Json_ReportsTheBrokenLink()
    {
        await SeedAsync(3);
        await AppendBlobAuditLogTests.TamperAsync(Container, line: 3, "container:ds-3", "container:ds-0");

        var (exit, output, _) = await RunAsync(
            "audit", "verify", "--connection-string", fixture.ConnectionString, "--container", _containerName, "--json");

        Assert.Equal(CliRunner.Invalid, exit);
        using var json = JsonDocument.Parse(output);
        Assert.False(json.RootElement.GetProperty("intact").GetBoolean());
        Assert.Equal(3, json.RootElement.GetProperty("firstBrokenLink").GetProperty("sequence").GetInt64());
        Assert.Equal(2, json.RootElement.GetProperty("entriesChecked").GetInt64());
    }

    [Fact]
    public async Task Verify_MissingContainer_ExitsTwo()
    {
        var (exit, _, error) = await RunAsync(
            "audit", "verify", "--connection-string", fixture.ConnectionString, "--container", _containerName);

        Assert.Equal(CliRunner.UsageOrIoError, exit);
        Assert.Contains("does not exist", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_BothConnectionOptions_IsAUsageError()
    {
        var (exit, _, error) = await RunAsync("audit", "verify", "--connection-string", "x", "--blob-service-uri", "http://127.0.0.1:1/a");

        Assert.Equal(CliRunner.UsageOrIoError, exit);
        Assert.Contains("not both", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Show_Last_PrintsTheLatestEntries()
    {
        await SeedAsync(5);

        var (exit, output, _) = await RunAsync(
            "audit", "show", "--last", "2", "--connection-string", fixture.ConnectionString, "--container", _containerName);

        Assert.Equal(CliRunner.Ok, exit);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.StartsWith("#4 ", lines[0], StringComparison.Ordinal);
        Assert.Contains("container.provisioned container:ds-5 [intake-5]", lines[1], StringComparison.Ordinal);
    }
}
