using Azure.Data.Tables;
using Gardien.Testing;

namespace Gardien.Runtime.Tests;

[Collection(AzuriteCollection.Name)]
public sealed class AzuriteSmokeTests(AzuriteFixture fixture)
{
    [Fact]
    public async Task Azurite_StartedByTests_AcceptsTableWrites()
    {
        var table = new TableClient(fixture.ConnectionString, "smoke" + Guid.NewGuid().ToString("N")[..8]);
        await table.CreateIfNotExistsAsync();
        await table.AddEntityAsync(new TableEntity("p", "r") { ["Value"] = 42 });

        var read = await table.GetEntityAsync<TableEntity>("p", "r");

        Assert.Equal(42, read.Value.GetInt32("Value"));
    }
}
