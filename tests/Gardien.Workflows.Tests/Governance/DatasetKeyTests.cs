using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Gardien.Workflows.Governance;
using Gardien.Workflows.Intake;
using Gardien.Workflows.Madmp;
using static Gardien.Workflows.Tests.Governance.TestDmps;

namespace Gardien.Workflows.Tests.Governance;

/// <summary>
/// A dataset's key decides its container, registry records, grants and retention case: two datasets must never end
/// up with one key or one container, whatever ids the DMP uses (repeated, "#n"-suffixed, case or punctuation variants).
/// </summary>
public sealed class DatasetKeyTests
{
    /// <summary>Ids chosen to collide under any "id#n" or case/punctuation-folding scheme.</summary>
    private static readonly string[] IdPool =
    [
        "x",
        "X",
        "x#2",
        "x#3",
        "X#2",
        "x#2#2",
        "x_2",
        "x-2",
        "x 2",
        "x/2",
        "x.2",
        "x ",
        " x",
        "ｘ",
        "x\u200b",
        "https://doi.org/10.1/x",
        "https://doi.org/10.1/X",
    ];

    private static Dataset Restricted(string id) =>
        Dataset(id, YesNoUnknown.Yes, YesNoUnknown.Yes, distributions: Distribution(DataAccess.Closed));

    private static Dataset Open(string id) =>
        Dataset(id, YesNoUnknown.No, YesNoUnknown.No, distributions: Distribution(DataAccess.Open, host: Host("FR")));

    [Fact]
    public void Plan_RepeatedIdBesideLiteralHashSuffix_KeepsEveryDatasetInItsOwnContainer()
    {
        // The restricted id repeated, then a literal "x#2" that is open and public: under positional keys the second
        // restricted dataset and the public one shared a container labelled Public.
        var plan = Evaluate(Dmp(Restricted("x"), Restricted("x"), Open("x#2")));

        AssertEachDatasetOnceInItsOwnContainer(plan, 3);
        Assert.Equal(
            [DataClassification.Restricted, DataClassification.Restricted, DataClassification.Public],
            plan.Datasets.Select(d => d.Classification.Classification));
        var finding = Assert.Single(plan.AllFindings(), f => f.Code == "DuplicateDatasetId");
        Assert.Equal(FindingSeverity.Error, finding.Severity);
        Assert.Equal("/dmp/dataset/1/dataset_id/identifier", finding.Path);
        Assert.Contains("/dmp/dataset/0", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Plan_LiteralHashSuffixBeforeRepeatedId_DropsNoDatasetOutOfGovernance()
    {
        var plan = Evaluate(Dmp(Open("x#2"), Restricted("x"), Restricted("x")));

        AssertEachDatasetOnceInItsOwnContainer(plan, 3);
        Assert.Equal("x#2", plan.Datasets[0].Key);
        Assert.Equal(DataClassification.Public, plan.Datasets[0].Classification.Classification);
        Assert.True(plan.HasErrors);
    }

    [Fact]
    public void Evaluation_RepeatedDatasetId_IsRefusedWithItsPath()
    {
        var json = IntakeTestDmps.Json(datasets: [new("x", "yes", "yes", "closed"), new("x", "yes", "yes", "closed"), new("x#2")]);

        var evaluation = EvaluateDmpActivity.Evaluate(null, json, Today, Policy);

        Assert.False(evaluation.IsValid);
        Assert.Null(evaluation.Plan);
        var error = Assert.Single(evaluation.Errors);
        Assert.StartsWith("/dmp/dataset/1/dataset_id/identifier: ", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Plan_CaseAndPunctuationVariants_AreDistinctDatasetsKeyedByTheirOwnIds()
    {
        string[] ids = ["a-b", "a_b", "A-B", "a-b ", "a#b"];
        var plan = Evaluate(Dmp([.. ids.Select(Open)]));

        AssertEachDatasetOnceInItsOwnContainer(plan, ids.Length);
        Assert.Equal(ids, plan.Datasets.Select(d => d.Key));
        Assert.False(plan.HasErrors);
    }

    [Fact]
    public void Plan_BlankDatasetId_IsRefusedWithItsPath()
    {
        var plan = Evaluate(Dmp(Open("ok"), Open("  ")));

        var finding = Assert.Single(plan.AllFindings(), f => f.Code == "DatasetIdMissing");
        Assert.Equal(FindingSeverity.Error, finding.Severity);
        Assert.Equal("/dmp/dataset/1/dataset_id/identifier", finding.Path);
    }

    /// <summary>
    /// Over generated DMPs: every dataset appears in the plan exactly once, in document order, with its own container
    /// and the classification of its own facts; repeated ids are refused, all others are keyed by the id itself.
    /// </summary>
    [Property(MaxTest = 400)]
    public Property Plan_GeneratedDmps_OneDatasetOneContainerOwnLabels() =>
        Prop.ForAll(Arb.From(DatasetsGen()), (DatasetFacts[] facts) =>
        {
            var plan = Evaluate(Dmp([.. facts.Select(f => f.ToDataset())]));
            var paths = plan.Datasets.Select(d => d.Path).ToList();
            var expectedPaths = Enumerable.Range(0, facts.Length).Select(i => "/dmp/dataset/" + i).ToList();
            var containersDistinct = plan.Datasets.Select(d => d.Storage.ContainerName).Distinct(StringComparer.Ordinal)
                .Count() == facts.Length;
            var keysDistinct = plan.Datasets.Select(d => d.Key).Distinct(StringComparer.Ordinal).Count() == facts.Length;
            var ownLabels = plan.Datasets.Select((d, i) => d.Classification.Classification == facts[i].Expected).All(ok => ok);
            var repeated = facts.GroupBy(f => f.Id, StringComparer.Ordinal).Any(g => g.Count() > 1);
            var refusedExactlyWhenRepeated = plan.AllFindings()
                .Any(f => f.Code == "DuplicateDatasetId" && f.Severity == FindingSeverity.Error) == repeated;
            var keyedById = repeated || plan.Datasets.Select((d, i) => d.Key == facts[i].Id).All(ok => ok);
            return (paths.SequenceEqual(expectedPaths)
                && containersDistinct
                && keysDistinct
                && ownLabels
                && refusedExactlyWhenRepeated
                && keyedById)
                .Label($"ids: {string.Join(" | ", facts.Select(f => $"'{f.Id}'"))}");
        });

    /// <summary>
    /// An update may reorder, drop or add datasets: every dataset still in the DMP keeps its key and its container,
    /// so its data, grants, registry records and retention case stay where they are.
    /// </summary>
    [Property(MaxTest = 300)]
    public Property Plan_ReorderedOrReducedDmp_KeepsEachDatasetsKeyAndContainer() =>
        Prop.ForAll(
            Arb.From(
                DatasetsGen().Select(f => f.DistinctBy(d => d.Id, StringComparer.Ordinal).ToArray())
                    .SelectMany(f => Gen.Shuffle(f).Select(s => (f, s)))),
            pair =>
        {
            var (original, shuffled) = pair;
            var before = Evaluate(Dmp([.. original.Select(f => f.ToDataset())]));
            var after = Evaluate(Dmp([.. shuffled.Skip(shuffled.Length / 3).Select(f => f.ToDataset())]));
            var containerByKey = before.Datasets.ToDictionary(d => d.Key, d => d.Storage.ContainerName, StringComparer.Ordinal);
            return after.Datasets.All(
                d => containerByKey.TryGetValue(d.Key, out var container)
                    && container == d.Storage.ContainerName
                    && d.Key == d.DatasetId.Value);
        });

    internal sealed record DatasetFacts(string Id, YesNoUnknown Personal, YesNoUnknown Sensitive, DataAccess Access)
    {
        public DataClassification Expected =>
            GovernanceEvaluator.Classify(Access, Personal != YesNoUnknown.No, Sensitive != YesNoUnknown.No);

        public Dataset ToDataset() =>
            Dataset(Id, Personal, Sensitive, distributions: Distribution(Access, host: Host("FR", "coretrustseal")));
    }

    internal static Gen<DatasetFacts[]> DatasetsGen()
    {
        var answers = Gen.Elements(YesNoUnknown.Yes, YesNoUnknown.No, YesNoUnknown.Unknown);
        var dataset =
            from id in Gen.Elements(IdPool)
            from personal in answers
            from sensitive in answers
            from access in Gen.Elements(DataAccess.Open, DataAccess.Shared, DataAccess.Closed)
            select new DatasetFacts(id, personal, sensitive, access);
        return Gen.Choose(1, 8).SelectMany(n => Gen.ArrayOf(dataset, n));
    }

    private static void AssertEachDatasetOnceInItsOwnContainer(GovernancePlan plan, int count)
    {
        Assert.Equal(count, plan.Datasets.Count);
        Assert.Equal(Enumerable.Range(0, count).Select(i => "/dmp/dataset/" + i), plan.Datasets.Select(d => d.Path));
        Assert.Equal(count, plan.Datasets.Select(d => d.Key).Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(count, plan.Datasets.Select(d => d.Storage.ContainerName).Distinct(StringComparer.Ordinal).Count());
    }
}
