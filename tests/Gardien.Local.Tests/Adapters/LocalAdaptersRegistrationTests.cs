using Gardien.Local.Configuration;
using Gardien.Local.Notifications;
using Gardien.Testing;
using Gardien.Workflows.Approvals;
using Gardien.Workflows.Ports;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Gardien.Local.Tests.Adapters;

[Collection(AzuriteCollection.Name)]
public sealed class LocalAdaptersRegistrationTests(AzuriteFixture fixture) : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private ServiceProvider Build(params (string Key, string Value)[] settings)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value)))
            .Build();
        return new ServiceCollection().AddLogging().AddGardienLocalAdapters(configuration).BuildServiceProvider();
    }

    [Fact]
    public async Task AddGardienLocalAdapters_ResolvesEveryPortAndTheyWork()
    {
        using var provider = Build(
            ("Local:StorageConnectionString", fixture.ConnectionString),
            ("Local:InboxPath", _temp.Combine("inbox")),
            ("Local:DirectoryPath", _temp.Combine("directory.json")),
            ("Local:DirectorySeedPath", Path.Combine(RepoPaths.Root, "samples", "directory.sample.json")),
            ("Local:DmpFolder", _temp.Combine("dmps")),
            ("Local:TablePrefix", "reg" + Guid.NewGuid().ToString("N")[..8]),
            ("Local:AuditContainer", "audit-" + Guid.NewGuid().ToString("N")[..8]),
            ("Secrets:approval-signing-key-k1", "a-development-key-that-is-long-enough-0123456789"),
            ("DOTNET_ENVIRONMENT", "Development"));

        Assert.NotNull(provider.GetRequiredService<IStorageProvisioner>());
        Assert.NotNull(provider.GetRequiredService<INotifier>());
        Assert.NotNull(provider.GetRequiredService<InboxReader>());
        Assert.NotNull(provider.GetRequiredService<IDmpToolClient>());
        Assert.Equal("u-dpo", (await provider.GetRequiredService<IDirectory>().FindUserAsync("dpo@neuro-institute.example"))!.Id);
        await provider.GetRequiredService<IGovernanceRegistry>().UpsertDmpAsync(new DmpRecord { DmpId = "d", State = DmpState.Pending });
        var receipt = await provider.GetRequiredService<IAuditLog>()
            .AppendAsync(new AuditEntry("t", "a", "i", "s", DateTimeOffset.UnixEpoch));
        Assert.Equal(1, receipt.Sequence);
        var tokens = provider.GetRequiredService<ApprovalTokenService>();
        var token = await tokens.IssueAsync(
            new ApprovalTokenRequest("t1", "i", "dpo", "dpo@x", ["approve"], DateTimeOffset.UtcNow.AddDays(1)));
        Assert.True((await tokens.RedeemAsync(token, "approve")).IsValid);
    }

    [Theory]
    [InlineData("Local:TablePrefix", "bad-prefix!", "TablePrefix")]
    [InlineData("Local:AuditContainer", "Audit_Trail", "AuditContainer")]
    [InlineData("Local:BlobServiceUri", "http://127.0.0.1:1/x", "TableServiceUri")]
    public void AddGardienLocalAdapters_InvalidOptions_FailValidationNamingTheSetting(string key, string value, string named)
    {
        using var provider = Build((key, value));

        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<LocalAdaptersOptions>>().Value);

        Assert.Contains(ex.Failures, f => f.Contains(named, StringComparison.Ordinal));
    }
}
