using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Gardien.Workflows.Governance;

namespace Gardien.Workflows.Tests.Governance;

/// <summary>An identifier drawn from a tiny alphabet rich in case and punctuation variants, so near-collisions are frequent.</summary>
public sealed record AdversarialId(string Value)
{
    public override string ToString() => "\"" + Value + "\"";
}

public static class ContainerNamingArbitraries
{
    private static readonly char[] Alphabet =
    [
        'a',
        'A',
        'b',
        '-',
        '_',
        '.',
        '/',
        ' ',
        '#',
        '|',
        ':',
        '1',
        'é',
        'ß',
        '\u0130',
        '\u212A',
        '\0',
    ];

    public static Arbitrary<AdversarialId> AdversarialId() =>
        Gen.Frequency(
                (6, Gen.Elements(Alphabet).ArrayOf().Select(chars => new string(chars))),
                (1, Gen.Choose(60, 300).SelectMany(length => Gen.Elements(Alphabet).ArrayOf(length)).Select(chars => new string(chars))),
                (1, Gen.Elements("", "-", "--", "a", "A", "a-b", "a_b", "A-B", "a b", "a--b", "10.1234/ABC", "10.1234/abc")))
            .Select(text => new AdversarialId(text))
            .ToArbitrary();

    public static Arbitrary<string> Prefix() =>
        Gen.Elements("", "gdn", "a", "neuro-lab", "x1-y2-z3", "abcdefghijklmnopqrst").ToArbitrary();
}

public class ContainerNamingTests
{
    [Property(Arbitrary = [typeof(ContainerNamingArbitraries)], MaxTest = 500)]
    public bool ContainerName_AnyIds_SatisfiesAzureNamingRules(AdversarialId dmpId, AdversarialId datasetId, string prefix) =>
        ContainerNaming.IsValidContainerName(ContainerNaming.ContainerName(prefix, dmpId.Value, datasetId.Value));

    [Property(Arbitrary = [typeof(ContainerNamingArbitraries)], MaxTest = 200)]
    public bool ContainerName_SameInput_IsDeterministic(AdversarialId dmpId, AdversarialId datasetId, string prefix) =>
        ContainerNaming.ContainerName(
            prefix,
            dmpId.Value,
            datasetId.Value) == ContainerNaming.ContainerName(
                prefix, new string(dmpId.Value.AsSpan()), new string(datasetId.Value.AsSpan()));

    [Property(Arbitrary = [typeof(ContainerNamingArbitraries)], MaxTest = 1000)]
    public Property ContainerName_DistinctPairs_NeverCollide(
        AdversarialId dmpA,
        AdversarialId dsA,
        AdversarialId dmpB,
        AdversarialId dsB) =>
        Prop.When(
            (dmpA.Value, dsA.Value) != (dmpB.Value, dsB.Value),
            () => ContainerNaming.ContainerName(
                "gdn", dmpA.Value, dsA.Value) != ContainerNaming.ContainerName("gdn", dmpB.Value, dsB.Value));

    [Property(Arbitrary = [typeof(ContainerNamingArbitraries)], MaxTest = 300)]
    public bool ContainerName_StartsWithPolicyPrefix(AdversarialId dmpId, AdversarialId datasetId, string prefix) =>
        prefix.Length == 0
            || ContainerNaming.ContainerName(prefix, dmpId.Value, datasetId.Value).StartsWith(prefix + "-", StringComparison.Ordinal);

    [Fact]
    public void ContainerName_ManyDatasetsOfOneDmp_AreAllDistinct()
    {
        var names = Enumerable.Range(0, 20_000).Select(i => ContainerNaming.ContainerName("gdn", "10.1/dmp", "ds-" + i))
            .ToHashSet(StringComparer.Ordinal);
        Assert.Equal(20_000, names.Count);
    }

    [Theory]
    [InlineData("a-b", "a_b")]
    [InlineData("a-b", "A-B")]
    [InlineData("a-b", "a b")]
    [InlineData("a-b", "a--b")]
    [InlineData("10.1234/ABC", "10.1234/abc")]
    [InlineData("ds", "ds ")]
    [InlineData("", "-")]
    public void ContainerName_IdsWithTheSameSlug_GetDifferentContainers(string first, string second)
    {
        var a = ContainerNaming.ContainerName("gdn", "dmp", first);
        var b = ContainerNaming.ContainerName("gdn", "dmp", second);
        Assert.NotEqual(a, b);
        Assert.True(ContainerNaming.IsValidContainerName(a), a);
        Assert.True(ContainerNaming.IsValidContainerName(b), b);
    }

    [Fact]
    public void ContainerName_SeparatorInsideIds_DoesNotMakePairsAmbiguous()
    {
        Assert.NotEqual(
            ContainerNaming.ContainerName("gdn", "a\n1:b", "c"),
            ContainerNaming.ContainerName("gdn", "a", "b\n1:c"));
        Assert.NotEqual(
            ContainerNaming.ContainerName("gdn", "ab", "c"),
            ContainerNaming.ContainerName("gdn", "a", "bc"));
    }

    [Fact]
    public void ContainerName_ReadableDoi_KeepsTheDistinctiveTailAsSlug()
    {
        var name = ContainerNaming.ContainerName(
            "gdn", "https://doi.org/10.99999/neurocog-mri.dmp", "https://doi.org/10.99999/neurocog-mri.raw-mri");
        Assert.StartsWith("gdn-10-99999-neurocog-mri-raw-mri-", name, StringComparison.Ordinal);
        Assert.Equal("gdn-10-99999-neurocog-mri-raw-mri-".Length + ContainerNaming.HashLength, name.Length);
        Assert.True(ContainerNaming.IsValidContainerName(name));
    }

    [Fact]
    public void ContainerName_LongId_DropsWholeLeadingSegments()
    {
        var name = ContainerNaming.ContainerName(
            "gdn", "d", "https://repository.example/collections/neuroimaging/cohort-2024/subjects/sessions/raw-mri");
        Assert.StartsWith("gdn-", name, StringComparison.Ordinal);
        var slug = name[4..^(ContainerNaming.HashLength + 1)];
        Assert.EndsWith("sessions-raw-mri", slug, StringComparison.Ordinal);
        Assert.EndsWith("-" + slug, "collections-neuroimaging-cohort-2024-subjects-sessions-raw-mri", StringComparison.Ordinal);
    }

    [Fact]
    public void ContainerName_VeryLongId_StaysWithin63Characters()
    {
        var name = ContainerNaming.ContainerName("abcdefghijklmnopqrst", new string('x', 5000), new string('y', 5000));
        Assert.True(name.Length <= 63);
        Assert.True(ContainerNaming.IsValidContainerName(name), name);
    }

    [Theory]
    [InlineData("ab", false)]
    [InlineData("abc", true)]
    [InlineData("-abc", false)]
    [InlineData("abc-", false)]
    [InlineData("a--bc", false)]
    [InlineData("aBc", false)]
    [InlineData("a_bc", false)]
    [InlineData("a-b-c", true)]
    public void IsValidContainerName_FollowsAzureRules(string name, bool valid) =>
        Assert.Equal(valid, ContainerNaming.IsValidContainerName(name));

    [Fact]
    public void IsValidContainerName_64Characters_IsInvalid() =>
        Assert.False(ContainerNaming.IsValidContainerName(new string('a', 64)));

    [Theory]
    [InlineData("Gdn")]
    [InlineData("gdn-")]
    [InlineData("abcdefghijklmnopqrstu")]
    public void ContainerName_InvalidPrefix_IsRefused(string prefix) =>
        Assert.Throws<ArgumentException>(() => ContainerNaming.ContainerName(prefix, "d", "x"));
}
