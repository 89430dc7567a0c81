using Azure.Data.Tables;
using Gardien.Storage.Registry;
using Gardien.Testing;
using Gardien.Workflows.Ports;

namespace Gardien.Local.Tests.Adapters;

[Collection(AzuriteCollection.Name)]
public sealed class TableGovernanceRegistryTests(AzuriteFixture fixture)
{
    private static readonly DateTimeOffset Now = new(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);

    // A fresh prefix per test class instance keeps tests independent on the shared Azurite.
    private readonly string _prefix = "t" + Guid.NewGuid().ToString("N")[..10];

    private TableGovernanceRegistry? _registryInstance;

    private TableGovernanceRegistry _registry => _registryInstance ??= new(new TableServiceClient(fixture.ConnectionString), _prefix);

    private static DatasetRecord Dataset(string dmp, string id, DateOnly? keepUntil, DatasetState state = DatasetState.Provisioned) =>
        new() { DmpId = dmp, DatasetId = id, Container = "c-" + id.Replace('/', '-'), State = state, KeepUntil = keepUntil };

    [Fact]
    public async Task UpsertDmp_WithWaitingVersions_KeepsTheQueueInOrder()
    {
        var record = new DmpRecord
        {
            DmpId = "https://doi.org/10.1234/queued",
            State = DmpState.Pending,
            Modified = Now,
            InstanceId = "intake-a",
            Queue =
            [
                new QueuedDmpVersion("intake-a-2", Now.AddDays(1), Now),
                new QueuedDmpVersion("intake-a-3", Now.AddDays(2), Now.AddMinutes(1)),
            ],
        };

        await _registry.UpsertDmpAsync(record);
        var read = await _registry.GetDmpAsync(record.DmpId);

        Assert.Equal(record.Queue, read!.Queue);
    }

    [Fact]
    public async Task UpsertDmp_ThenGet_RoundTripsWithAnETag()
    {
        var record = new DmpRecord
        {
            DmpId = "https://doi.org/10.1234/dmp#1?x",
            State = DmpState.Pending,
            Modified = Now,
            ActivePlanJson = """{"plan":true}""",
            NotEnforcedLocally = [new NotEnforcedFeature(GovernanceFeatures.Immutability, "Azurite")],
        };

        var stored = await _registry.UpsertDmpAsync(record);
        var read = await _registry.GetDmpAsync(record.DmpId);

        Assert.NotNull(stored.ETag);
        Assert.Equal(stored.ETag, read!.ETag);
        Assert.Equal(record with { ETag = read.ETag, NotEnforcedLocally = read.NotEnforcedLocally, Queue = read.Queue }, read);
        Assert.Empty(read.Queue);
        Assert.Equal(GovernanceFeatures.Immutability, Assert.Single(read.NotEnforcedLocally).Feature);
        Assert.Null(await _registry.GetDmpAsync("unknown"));
    }

    [Fact]
    public async Task UpsertDmp_WithAStaleETag_ThrowsConcurrencyConflict()
    {
        var first = await _registry.UpsertDmpAsync(new DmpRecord { DmpId = "dmp-race", State = DmpState.Pending });
        var winner = await _registry.UpsertDmpAsync(first with { State = DmpState.Active });

        var ex = await Assert.ThrowsAsync<ConcurrencyConflictException>(
            () => _registry.UpsertDmpAsync(first with { State = DmpState.Rejected }));

        Assert.True(ex.IsTransient);
        Assert.Equal(DmpState.Active, (await _registry.GetDmpAsync("dmp-race"))!.State);
        Assert.NotEqual(first.ETag, winner.ETag);
    }

    [Fact]
    public async Task UpsertDmp_WithoutETag_IsAnIdempotentOverwrite()
    {
        var record = new DmpRecord { DmpId = "dmp-idem", State = DmpState.Active, Title = "T" };

        await _registry.UpsertDmpAsync(record);
        await _registry.UpsertDmpAsync(record);

        Assert.Single(await _registry.ListDmpsAsync(DmpState.Active));
    }

    [Fact]
    public async Task UpsertDmp_LargePlan_IsStoredAcrossChunks()
    {
        var plan = "{\"x\":\"" + new string('p', 150_000) + "\"}";

        await _registry.UpsertDmpAsync(new DmpRecord { DmpId = "dmp-big", State = DmpState.Active, ActivePlanJson = plan });

        Assert.Equal(plan, (await _registry.GetDmpAsync("dmp-big"))!.ActivePlanJson);
    }

    [Fact]
    public async Task ListDatasetsDue_ReturnsOnlyLiveDatasetsDueByTheDate()
    {
        await _registry.UpsertDatasetAsync(Dataset("dmp1", "due", new DateOnly(2027, 1, 1)));
        await _registry.UpsertDatasetAsync(Dataset("dmp1", "due-on-the-day", new DateOnly(2027, 3, 1)));
        await _registry.UpsertDatasetAsync(Dataset("dmp1", "later", new DateOnly(2027, 3, 2)));
        await _registry.UpsertDatasetAsync(Dataset("dmp2", "disposed", new DateOnly(2020, 1, 1), DatasetState.Disposed));
        await _registry.UpsertDatasetAsync(Dataset("dmp2", "keep-forever", null));

        var due = await _registry.ListDatasetsDueAsync(new DateOnly(2027, 3, 1));

        Assert.Equal(["due", "due-on-the-day"], due.Select(d => d.DatasetId));
    }

    [Fact]
    public async Task FindDatasetByContainer_FindsTheGoverningDataset()
    {
        await _registry.UpsertDatasetAsync(Dataset("dmp1", "doi/10.1/x", new DateOnly(2030, 1, 1)));

        var found = await _registry.FindDatasetByContainerAsync("c-doi-10.1-x");

        Assert.Equal("doi/10.1/x", found!.DatasetId);
        Assert.Null(await _registry.FindDatasetByContainerAsync("nobody-knows-me"));
    }

    [Fact]
    public async Task Grants_UpsertTwice_OneGrantListedPerDataset()
    {
        var grant = new GrantRecord
        {
            DmpId = "dmp1",
            DatasetId = "ds1",
            PrincipalId = "u-anna",
            Level = AccessLevel.Contributor,
            State = GrantState.Active,
            ApprovalIds = ["i1:pi", "i1:dpo"],
            EndsOn = new DateOnly(2028, 1, 1),
        };
        await _registry.UpsertGrantAsync(grant);
        await _registry.UpsertGrantAsync(grant);
        await _registry.UpsertGrantAsync(grant with { DatasetId = "ds2" });

        var ds1 = await _registry.ListGrantsAsync("dmp1", "ds1");
        var all = await _registry.ListGrantsAsync("dmp1");

        Assert.Equal(["i1:pi", "i1:dpo"], Assert.Single(ds1).ApprovalIds);
        Assert.Equal(2, all.Count);
        Assert.NotNull(await _registry.GetGrantAsync("dmp1", "ds1", "u-anna"));
    }

    [Fact]
    public async Task Approvals_ListByInstance_FiltersOtherRuns()
    {
        await _registry.UpsertApprovalAsync(
            new ApprovalRecord
            {
                DmpId = "dmp1",
                ApprovalId = "i1:dpo",
                InstanceId = "i1",
                Role = "dpo",
                Decision = ApprovalDecision.Approved,
                DecidedBy = "dpo@x",
                DecidedAt = Now,
                Comment = "ok",
            });
        await _registry.UpsertApprovalAsync(
            new ApprovalRecord
            {
                DmpId = "dmp1",
                ApprovalId = "i2:dpo",
                InstanceId = "i2",
                Role = "dpo",
                Decision = ApprovalDecision.Pending,
            });

        var run1 = await _registry.ListApprovalsAsync("dmp1", "i1");

        Assert.Equal("ok", Assert.Single(run1).Comment);
        Assert.Equal(2, (await _registry.ListApprovalsAsync("dmp1")).Count);
    }

    [Fact]
    public async Task TryConsumeToken_IsSingleUseButToleratesARetryOfTheSameUse()
    {
        var first = await _registry.TryConsumeTokenAsync("tok-1", "APPROVE|DPO@X", Now, Now.AddDays(1));
        var retry = await _registry.TryConsumeTokenAsync("tok-1", "APPROVE|DPO@X", Now, Now.AddDays(1));
        var other = await _registry.TryConsumeTokenAsync("tok-1", "REJECT|DPO@X", Now, Now.AddDays(1));

        Assert.Equal(TokenConsumption.Consumed, first);
        Assert.Equal(TokenConsumption.AlreadyConsumedBySameUse, retry);
        Assert.Equal(TokenConsumption.AlreadyUsed, other);
    }

    [Fact]
    public async Task TryConsumeToken_ConcurrentUses_ExactlyOneWins()
    {
        var results = await Task.WhenAll(
            Enumerable.Range(0, 8).Select(i => _registry.TryConsumeTokenAsync("tok-race", "use-" + i, Now, Now.AddDays(1))));

        Assert.Single(results, r => r == TokenConsumption.Consumed);
    }

    [Fact]
    public async Task TryMarkEventProcessed_DuplicateEvent_ReturnsFalse()
    {
        Assert.False(await _registry.IsEventProcessedAsync("evt/1"));
        Assert.True(await _registry.TryMarkEventProcessedAsync("evt/1", Now));
        Assert.False(await _registry.TryMarkEventProcessedAsync("evt/1", Now));
        Assert.True(await _registry.IsEventProcessedAsync("evt/1"));
    }

    [Fact]
    public async Task UpsertDmp_PlanOfAThousandDatasets_FitsOneEntityAndRoundTrips()
    {
        // About what a 1,000-dataset plan serialises to (2.5 MB): Azurite would take it in 84 string properties, Azure
        // refuses an entity over 1 MiB or 255 properties.
        var access = string.Join(",", Enumerable.Range(0, 5).Select(p =>
            $"{{\"principal\":\"researcher{p}@neuro-institute.example\",\"role\":\"contributor\",\"until\":\"2029-03-31\"}}"));
        var plan = "{\"datasets\":[" + string.Join(",", Enumerable.Range(0, 1000).Select(i =>
            $"{{\"key\":\"https://doi.org/10.99999/ds.{i}\",\"classification\":\"restricted\",\"access\":[{access}],"
            + $"\"padding\":\"{new string(' ', 2000)}\"}}")) + "]}";
        var record = new DmpRecord { DmpId = "dmp-large", State = DmpState.Active, ActivePlanJson = plan };

        await _registry.UpsertDmpAsync(record);
        var read = await _registry.GetDmpAsync("dmp-large");

        Assert.True(plan.Length > 2_000_000);
        Assert.Equal(plan, read!.ActivePlanJson);
        var raw = (await new TableServiceClient(fixture.ConnectionString).GetTableClient(_prefix + "Dmps")
            .GetEntityAsync<Azure.Data.Tables.TableEntity>(TableGovernanceRegistry.Key("dmp-large"), "")).Value;
        Assert.True(raw.Count < 255, $"{raw.Count} properties");
        Assert.True(raw.Sum(p => p.Value is byte[] b ? b.Length : p.Value is string t ? t.Length * 2 : 8) < 1024 * 1024);
        var updated = await _registry.UpsertDmpAsync(read with { ActivePlanJson = "{}" });
        Assert.Equal("{}", (await _registry.GetDmpAsync("dmp-large"))!.ActivePlanJson);
        Assert.NotNull(updated.ETag);
    }

    [Fact]
    public async Task UpsertDmp_RecordTooLargeEvenCompressed_IsRefusedSayingWhatToDo()
    {
        var noise = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(1_500_000));
        var error = await Assert.ThrowsAsync<PortRefusedException>(
            () => _registry.UpsertDmpAsync(new DmpRecord { DmpId = "dmp-huge", State = DmpState.Active, ActivePlanJson = noise }));
        Assert.Contains("Split the DMP", error.Message, StringComparison.Ordinal);
    }
}
