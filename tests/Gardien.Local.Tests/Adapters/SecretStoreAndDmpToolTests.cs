using Gardien.Local.DmpTool;
using Gardien.Local.Secrets;
using Gardien.Testing;
using Gardien.Workflows.Ports;
using Microsoft.Extensions.Configuration;

namespace Gardien.Local.Tests.Adapters;

public sealed class SecretStoreAndDmpToolTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private static IConfiguration Config(params (string Key, string Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value))).Build();

    [Fact]
    public async Task DevelopmentSecretStore_ReadsTheSecretsSection()
    {
        var store = new DevelopmentConfigurationSecretStore(
            Config(("Secrets:approval-signing-key-k1", "s3cret"), ("DOTNET_ENVIRONMENT", "Development")));

        Assert.Equal("s3cret", await store.GetSecretAsync("approval-signing-key-k1"));
        var ex = await Assert.ThrowsAsync<PortNotFoundException>(() => store.GetSecretAsync("missing"));
        Assert.Contains("Secrets__missing", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DevelopmentSecretStore_InProduction_RefusesToStart()
    {
        var ex = Assert.Throws<InvalidOperationException>(
            () => new DevelopmentConfigurationSecretStore(Config(("ASPNETCORE_ENVIRONMENT", "Production"))));

        Assert.Contains("Production", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FileDmpTool_FetchesByDmpIdFromAnyFileName()
    {
        File.Copy(Path.Combine(RepoPaths.MadmpData, "examples", "rda-1.2", "ex5-dataset-planned-host.json"), _temp.Combine("ex5.json"));
        var client = new FileDmpToolClient(_temp.Path);

        var dmp = await client.FetchDmpAsync("10.0000/00.0.1234");

        Assert.NotNull(dmp);
        Assert.Contains("\"dmp_id\"", dmp.Json, StringComparison.Ordinal);
        Assert.Equal(new DateTimeOffset(2019, 2, 22, 15, 10, 56, 900, TimeSpan.Zero), dmp.Modified);
        Assert.Null(await client.FetchDmpAsync("10.9999/unknown"));
    }

    [Fact]
    public async Task FileDmpTool_ListsOnlyDmpsModifiedAfter()
    {
        File.Copy(
            Path.Combine(RepoPaths.MadmpData, "examples", "rda-1.2", "ex5-dataset-planned-host.json"),
            _temp.Combine(FileDmpToolClient.Slug("10.0000/00.0.1234") + ".json"));
        var client = new FileDmpToolClient(_temp.Path);

        Assert.Single(await client.ListDmpsAsync(null));
        Assert.Single(await client.ListDmpsAsync(new DateTimeOffset(2019, 1, 1, 0, 0, 0, TimeSpan.Zero)));
        Assert.Empty(await client.ListDmpsAsync(new DateTimeOffset(2020, 1, 1, 0, 0, 0, TimeSpan.Zero)));
    }

    [Fact]
    public async Task FileDmpTool_WriteBack_MergesByDatasetAndIsIdempotent()
    {
        var client = new FileDmpToolClient(_temp.Path);
        var a = new DmpWriteBack(
            "ds-a", new Uri("http://127.0.0.1:10000/devstoreaccount1/ds-a"), "Azure Blob Storage", "continuous", "devstoreaccount1/ds-a");
        var b = a with { DatasetId = "ds-b", HostUrl = new Uri("http://127.0.0.1:10000/devstoreaccount1/ds-b") };

        var first = await client.WriteBackAsync("10.1/x", a);
        var repeat = await client.WriteBackAsync("10.1/x", a);
        await client.WriteBackAsync("10.1/x", b);

        Assert.True(first.Changed);
        Assert.False(repeat.Changed);
        var written = await File.ReadAllTextAsync(Path.Combine(client.WriteBackFolder, "10-1-x.json"));
        Assert.Contains("ds-a", written, StringComparison.Ordinal);
        Assert.Contains("ds-b", written, StringComparison.Ordinal);
        Assert.Contains("\"storage_type\": \"Azure Blob Storage\"", written, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("https://doi.org/10.1234/ABC.5", "https-doi-org-10-1234-abc-5")]
    [InlineData("10.0000/00.0.1234", "10-0000-00-0-1234")]
    public void Slug_IsLowerCaseWithSingleHyphens(string dmpId, string slug) => Assert.Equal(slug, FileDmpToolClient.Slug(dmpId));
}
