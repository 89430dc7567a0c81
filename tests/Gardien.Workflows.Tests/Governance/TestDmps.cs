using Gardien.Workflows.Governance;
using Gardien.Workflows.Madmp;

namespace Gardien.Workflows.Tests.Governance;

/// <summary>Small DMP models built directly (no reader), so governance tests state exactly the facts they depend on.</summary>
internal static class TestDmps
{
    public static readonly DateOnly Today = new(2026, 1, 15);

    public static GovernancePolicy Policy => GovernancePolicy.Default;

    public static Contact Pi { get; } = new()
    {
        Name = "Claire Dubois",
        Mbox = "claire.dubois@neuro.example",
        ContactId = new Identifier("https://orcid.org/0000-0002-1825-0097", "orcid"),
    };

    public static Dmp Dmp(params Dataset[] datasets) => new()
    {
        DmpId = new Identifier("10.99999/dmp.1", "doi"),
        Title = "Test DMP",
        Modified = new DateTimeOffset(2025, 3, 2, 16, 45, 12, TimeSpan.Zero),
        EthicalIssuesExist = YesNoUnknown.No,
        Contact = Pi,
        Projects = [new Project { Title = "P", Start = new DateOnly(2024, 1, 1), End = new DateOnly(2028, 12, 31) }],
        Datasets = datasets,
    };

    public static Dataset Dataset(
        string id = "ds-1",
        YesNoUnknown personal = YesNoUnknown.No,
        YesNoUnknown sensitive = YesNoUnknown.No,
        string? type = null,
        params Distribution[] distributions) => new()
        {
            DatasetId = new Identifier(id, "other"),
            Title = "Dataset " + id,
            Type = type,
            PersonalData = personal,
            SensitiveData = sensitive,
            Distributions = distributions,
        };

    public static Distribution Distribution(
        DataAccess access = DataAccess.Closed,
        long? bytes = null,
        DateOnly? availableUntil = null,
        Host? host = null,
        params License[] licenses) => new()
        {
            Title = "dist " + access,
            DataAccess = access,
            ByteSize = bytes,
            AvailableUntil = availableUntil,
            Host = host ?? Host("FR", "coretrustseal"),
            Licenses = licenses,
        };

    public static Host Host(string? country, string? certifiedWith = null) => new()
    {
        Title = "Host " + (country ?? "?"),
        Url = "https://host.example",
        GeoLocation = country,
        CertifiedWith = certifiedWith,
    };

    public static Contributor Contributor(string name, string? mbox, string? orcid, params string[] roles) => new()
    {
        Name = name,
        Mbox = mbox,
        ContributorId = orcid is null ? null : new Identifier(orcid, "orcid"),
        Roles = roles,
    };

    public static GovernancePlan Evaluate(Dmp dmp, GovernancePolicy? policy = null, DateOnly? today = null) =>
        GovernanceEvaluator.Evaluate(dmp, policy ?? Policy, today ?? Today);

    public static DatasetPlan Single(Dataset dataset, GovernancePolicy? policy = null) =>
        Evaluate(Dmp(dataset), policy).Datasets.Single();
}
