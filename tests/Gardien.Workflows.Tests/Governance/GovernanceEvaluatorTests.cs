using Gardien.Workflows.Governance;
using Gardien.Workflows.Madmp;
using static Gardien.Workflows.Tests.Governance.TestDmps;

namespace Gardien.Workflows.Tests.Governance;

public class GovernanceEvaluatorTests
{
    // ---- classification table ----

    [Theory]
    [InlineData(DataAccess.Open, false, false, DataClassification.Public)]
    [InlineData(DataAccess.Shared, false, false, DataClassification.Internal)]
    [InlineData(DataAccess.Closed, false, false, DataClassification.Confidential)]
    [InlineData(DataAccess.Open, true, false, DataClassification.Confidential)]
    [InlineData(DataAccess.Shared, true, false, DataClassification.Confidential)]
    [InlineData(DataAccess.Closed, true, false, DataClassification.Confidential)]
    [InlineData(DataAccess.Open, false, true, DataClassification.Restricted)]
    [InlineData(DataAccess.Shared, false, true, DataClassification.Restricted)]
    [InlineData(DataAccess.Closed, true, true, DataClassification.Restricted)]
    public void Classify_Table(DataAccess access, bool personal, bool sensitive, DataClassification expected) =>
        Assert.Equal(expected, GovernanceEvaluator.Classify(access, personal, sensitive));

    [Theory]
    [InlineData(YesNoUnknown.No, YesNoUnknown.No, DataClassification.Public)]
    [InlineData(YesNoUnknown.Unknown, YesNoUnknown.No, DataClassification.Confidential)]
    [InlineData(YesNoUnknown.No, YesNoUnknown.Unknown, DataClassification.Restricted)]
    [InlineData(YesNoUnknown.Yes, YesNoUnknown.Unknown, DataClassification.Restricted)]
    public void Evaluate_UnknownAnswers_CountAsYes(YesNoUnknown personal, YesNoUnknown sensitive, DataClassification expected)
    {
        var plan = Single(Dataset(personal: personal, sensitive: sensitive, distributions: Distribution(DataAccess.Open)));
        Assert.Equal(expected, plan.Classification.Classification);
    }

    [Fact]
    public void Evaluate_SeveralDistributions_TakesTheMostRestrictiveAccess()
    {
        var plan = Single(
            Dataset(distributions: [Distribution(DataAccess.Open), Distribution(DataAccess.Shared), Distribution(DataAccess.Open)]));
        Assert.Equal(DataAccess.Shared, plan.Classification.EffectiveAccess);
        Assert.Equal(DataClassification.Internal, plan.Classification.Classification);
    }

    [Fact]
    public void Evaluate_NoDistribution_IsClosed()
    {
        var plan = Single(Dataset());
        Assert.Equal(DataAccess.Closed, plan.Classification.EffectiveAccess);
        Assert.Contains(plan.Findings, f => f.Code == "NoDistribution");
    }

    // ---- approvals ----

    [Theory]
    [InlineData(DataAccess.Open, YesNoUnknown.No, YesNoUnknown.No, YesNoUnknown.No, "PrincipalInvestigator")]
    [InlineData(DataAccess.Shared, YesNoUnknown.No, YesNoUnknown.No, YesNoUnknown.No, "PrincipalInvestigator,DataSteward")]
    [InlineData(DataAccess.Closed, YesNoUnknown.No, YesNoUnknown.No, YesNoUnknown.No, "PrincipalInvestigator,DataSteward")]
    [InlineData(
        DataAccess.Closed, YesNoUnknown.Yes, YesNoUnknown.No, YesNoUnknown.No, "PrincipalInvestigator,DataSteward,DataProtectionOfficer")]
    [InlineData(
        DataAccess.Shared, YesNoUnknown.No, YesNoUnknown.Yes, YesNoUnknown.No, "PrincipalInvestigator,DataSteward,DataProtectionOfficer")]
    [InlineData(DataAccess.Open, YesNoUnknown.No, YesNoUnknown.No, YesNoUnknown.Yes, "PrincipalInvestigator,DataProtectionOfficer")]
    [InlineData(DataAccess.Open, YesNoUnknown.No, YesNoUnknown.No, YesNoUnknown.Unknown, "PrincipalInvestigator,DataProtectionOfficer")]
    [InlineData(DataAccess.Open, YesNoUnknown.Unknown, YesNoUnknown.No, YesNoUnknown.No, "PrincipalInvestigator,DataProtectionOfficer")]
    public void Evaluate_ApprovalsTable(
        DataAccess access,
        YesNoUnknown personal,
        YesNoUnknown sensitive,
        YesNoUnknown ethics,
        string expected)
    {
        var dmp = Dmp(Dataset(personal: personal, sensitive: sensitive, distributions: Distribution(access))) with
        {
            EthicalIssuesExist = ethics,
        };
        var plan = Evaluate(dmp);
        Assert.Equal(expected, string.Join(",", plan.Datasets.Single().RequiredApprovals.Select(a => a.Role)));
        Assert.Equal(expected, string.Join(",", plan.RequiredApprovals.Select(a => a.Role)));
        Assert.All(plan.RequiredApprovals, a => Assert.NotEmpty(a.Reasons));
    }

    [Fact]
    public void Evaluate_DpoReasons_NameEveryTrigger()
    {
        var dmp = Dmp(Dataset(personal: YesNoUnknown.Yes, sensitive: YesNoUnknown.Unknown, distributions: Distribution())) with
        {
            EthicalIssuesExist = YesNoUnknown.Yes,
        };
        var dpo = Evaluate(dmp).Datasets.Single().RequiredApprovals.Single(a => a.Role == ApprovalRole.DataProtectionOfficer);
        Assert.Equal(3, dpo.Reasons.Count);
    }

    [Fact]
    public void Evaluate_PolicyWithoutStewardForClosed_AsksNoSteward()
    {
        var policy = Policy with { Approvals = Policy.Approvals with { DataStewardFor = [DataAccess.Shared] } };
        var plan = Single(Dataset(distributions: Distribution(DataAccess.Closed)), policy);
        Assert.DoesNotContain(plan.RequiredApprovals, a => a.Role == ApprovalRole.DataSteward);
    }

    [Fact]
    public void Evaluate_PlanLevelApprovals_AreTheUnionWithDatasetKeys()
    {
        var plan = Evaluate(Dmp(
            Dataset("open", distributions: Distribution(DataAccess.Open)),
            Dataset("health", YesNoUnknown.Yes, YesNoUnknown.Yes, distributions: Distribution(DataAccess.Closed))));
        Assert.Equal(
            [ApprovalRole.PrincipalInvestigator, ApprovalRole.DataSteward, ApprovalRole.DataProtectionOfficer],
            plan.RequiredApprovals.Select(a => a.Role));
        var dpo = plan.RequiredApprovals.Single(a => a.Role == ApprovalRole.DataProtectionOfficer);
        Assert.All(dpo.Reasons, r => Assert.Contains("health", r, StringComparison.Ordinal));
        Assert.Contains("open, health", plan.RequiredApprovals[0].Reasons.Single(), StringComparison.Ordinal);
    }

    // ---- storage ----

    [Fact]
    public void Evaluate_RestrictedData_GetsEncryptionScopeAndCoolTier()
    {
        var plan = Single(Dataset(personal: YesNoUnknown.Yes, sensitive: YesNoUnknown.Yes, distributions: Distribution()));
        Assert.Equal("cmkhealth", plan.Storage.EncryptionScope);
        Assert.Equal(StorageTier.Cool, plan.Storage.Tier);
    }

    [Fact]
    public void Evaluate_PublicData_HasNoEncryptionScope()
    {
        var plan = Single(Dataset(distributions: Distribution(DataAccess.Open)));
        Assert.Null(plan.Storage.EncryptionScope);
        Assert.Equal(StorageTier.Hot, plan.Storage.Tier);
    }

    [Theory]
    [InlineData("raw data", true)]
    [InlineData("Raw MRI", true)]
    [InlineData("derived data", false)]
    [InlineData(null, false)]
    public void Evaluate_RawData_IsImmutableWhenThePolicyAsks(string? type, bool immutable)
    {
        var plan = Single(Dataset(type: type, distributions: Distribution()));
        Assert.Equal(immutable ? 3650 : null, plan.Storage.ImmutabilityDays);
    }

    [Fact]
    public void Evaluate_RawData_PolicyOff_IsNotImmutable()
    {
        var policy = Policy with
        {
            Storage = Policy.Storage with { RawDataImmutability = Policy.Storage.RawDataImmutability with { Enabled = false } },
        };
        Assert.Null(Single(Dataset(type: "raw data", distributions: Distribution()), policy).Storage.ImmutabilityDays);
    }

    [Fact]
    public void Evaluate_RawData_LockAfterDays_ReachesThePlanOfRawDataOnly_AndIsOffByDefault()
    {
        var policy = Policy with
        {
            Storage = Policy.Storage with { RawDataImmutability = Policy.Storage.RawDataImmutability with { LockAfterDays = 30 } },
        };

        Assert.Equal(30, Single(Dataset(type: "raw data", distributions: Distribution()), policy).Storage.LockImmutabilityAfterDays);
        Assert.Null(Single(Dataset(type: "derived data", distributions: Distribution()), policy).Storage.LockImmutabilityAfterDays);
        Assert.Null(Single(Dataset(type: "raw data", distributions: Distribution())).Storage.LockImmutabilityAfterDays);
    }

    [Fact]
    public void Evaluate_Quota_IsTheSumOfByteSizes()
    {
        var plan = Single(
            Dataset(distributions: [Distribution(bytes: 1_000), Distribution(bytes: null), Distribution(bytes: 4_000_000_000_000)]));
        Assert.Equal(4_000_000_001_000, plan.Storage.QuotaBytes);
    }

    [Fact]
    public void Evaluate_NoByteSize_HasNoQuotaAndSaysSo()
    {
        var plan = Single(Dataset(distributions: Distribution()));
        Assert.Null(plan.Storage.QuotaBytes);
        Assert.Contains(plan.Findings, f => f.Code == "QuotaUnknown");
    }

    [Fact]
    public void Evaluate_ContainerName_UsesThePolicyPrefixAndIsValid()
    {
        var plan = Single(Dataset("https://doi.org/10.1/x", distributions: Distribution()));
        Assert.StartsWith("gdn-", plan.Storage.ContainerName, StringComparison.Ordinal);
        Assert.True(ContainerNaming.IsValidContainerName(plan.Storage.ContainerName));
    }

    [Fact]
    public void Evaluate_DuplicateDatasetIds_AreRefusedButStayInTheirOwnContainers()
    {
        var plan = Evaluate(
            Dmp(
                Dataset("same", distributions: Distribution()),
                Dataset("same", distributions: Distribution()),
                Dataset("same", distributions: Distribution())));
        Assert.Equal("same", plan.Datasets[0].Key);
        Assert.Equal(3, plan.Datasets.Select(d => d.Storage.ContainerName).Distinct().Count());
        Assert.Equal(
            ["/dmp/dataset/1/dataset_id/identifier", "/dmp/dataset/2/dataset_id/identifier"],
            plan.AllFindings().Where(f => f.Code == "DuplicateDatasetId").Select(f => f.Path));
        Assert.True(plan.HasErrors);
    }

    [Fact]
    public void Evaluate_AddingADataset_DoesNotRenameTheFirstContainer()
    {
        var one = Evaluate(Dmp(Dataset("same", distributions: Distribution())));
        var two = Evaluate(Dmp(Dataset("other", distributions: Distribution()), Dataset("same", distributions: Distribution())));
        Assert.Equal(one.Datasets[0].Storage.ContainerName, two.Datasets[1].Storage.ContainerName);
    }

    // ---- regions and findings ----

    [Fact]
    public void Evaluate_HealthDataHostedOutsideEu_IsAnError()
    {
        var plan = Single(
            Dataset(
                personal: YesNoUnknown.Yes, sensitive: YesNoUnknown.Yes, distributions: Distribution(host: Host("US", "coretrustseal"))));
        var finding = Assert.Single(plan.Findings, f => f.Code == "HostOutsideAllowedRegions");
        Assert.Equal(FindingSeverity.Error, finding.Severity);
        Assert.Equal("/dmp/dataset/0/distribution/0/host/geo_location", finding.Path);
        Assert.Equal(["US"], plan.Storage.HostRegions);
    }

    [Fact]
    public void Evaluate_PublicDataInSwitzerland_IsAllowedButHealthDataIsNot()
    {
        Assert.DoesNotContain(
            Single(Dataset(distributions: Distribution(DataAccess.Open, host: Host("CH")))).Findings,
            f => f.Code == "HostOutsideAllowedRegions");
        Assert.Contains(
            Single(Dataset(sensitive: YesNoUnknown.Yes, distributions: Distribution(host: Host("CH", "coretrustseal")))).Findings,
            f => f.Code == "HostOutsideAllowedRegions");
    }

    [Fact]
    public void Evaluate_SensitiveDataWithoutCertifiedHost_IsReported()
    {
        var plan = Single(Dataset(sensitive: YesNoUnknown.Yes, distributions: Distribution(host: Host("FR", certifiedWith: null))));
        var finding = Assert.Single(plan.Findings, f => f.Code == "SensitiveDataWithoutCertifiedHost");
        Assert.Equal("/dmp/dataset/0/distribution/0/host/certified_with", finding.Path);
    }

    [Fact]
    public void Evaluate_ProtectedDataOnHostWithoutRegion_IsReported() =>
        Assert.Contains(
            Single(Dataset(personal: YesNoUnknown.Yes, distributions: Distribution(host: Host(null, "coretrustseal")))).Findings,
            f => f.Code == "HostRegionUnknown");

    [Fact]
    public void Evaluate_PersonalDataInOpenDistribution_IsAnErrorOfTheDmpAtTheDistribution()
    {
        var distributions = new[] { Distribution(DataAccess.Closed), Distribution(DataAccess.Open), Distribution(DataAccess.Open) };
        var plan = Evaluate(Dmp(Dataset(personal: YesNoUnknown.Yes, distributions: distributions)));
        var finding = Assert.Single(plan.AllFindings(), f => f.Code == "PersonalDataInOpenDistribution");
        Assert.Contains(finding, plan.Findings);
        Assert.Equal(FindingSeverity.Error, finding.Severity);
        Assert.Equal("/dmp/dataset/0/distribution/1/data_access", finding.Path);
        Assert.Equal(DataClassification.Confidential, plan.Datasets.Single().Classification.Classification);
    }

    [Fact]
    public void Evaluate_NoProjectEnd_IsReportedAtPlanLevel()
    {
        var plan = Evaluate(Dmp(Dataset(distributions: Distribution())) with { Projects = [] });
        Assert.Contains(plan.Findings, f => f.Code == "NoProjectEndDate" && f.Path == "/dmp/project");
        Assert.Null(plan.AccessEndsOn);
        Assert.All(plan.Datasets.Single().Access, g => Assert.Null(g.Until));
    }

    // ---- access ----

    [Fact]
    public void Evaluate_ContactIsOwnerAndGrantsEndAtProjectEndPlusGrace()
    {
        var plan = Evaluate(Dmp(Dataset(distributions: Distribution())));
        var grant = Assert.Single(plan.Datasets.Single().Access);
        Assert.Equal(AccessRole.Owner, grant.Role);
        Assert.Equal("orcid:0000-0002-1825-0097", grant.Principal.Key);
        Assert.Equal(new DateOnly(2029, 3, 31), grant.Until);
        Assert.Equal(new DateOnly(2029, 3, 31), plan.AccessEndsOn);
        Assert.Equal("Claire Dubois", plan.PrincipalInvestigator.Name);
    }

    [Fact]
    public void Evaluate_ContributorRoles_MapThroughThePolicy()
    {
        var dmp = Dmp(Dataset(distributions: Distribution())) with
        {
            Contributors =
            [
                Contributor("Manager", "m@x.example", "0000-0001-5109-3700", "DataManager"),
                Contributor("Viz", "v@x.example", null, "https://credit.niso.org/contributor-roles/visualization/"),
                Contributor("Lead", null, "https://orcid.org/0000-0003-4126-742x", "ProjectLeader", "Researcher"),
                Contributor("Stat", "s@x.example", null, "Statistician"),
                Contributor("Ghost", null, null, "Researcher"),
            ],
        };
        var plan = Evaluate(dmp);
        var grants = plan.Datasets.Single().Access.ToDictionary(g => g.Principal.Name, g => g);
        Assert.Equal(AccessRole.Contributor, grants["Manager"].Role);
        Assert.Equal("orcid:0000-0001-5109-3700", grants["Manager"].Principal.Key);
        Assert.Equal(AccessRole.Reader, grants["Viz"].Role);
        Assert.Equal("mailto:v@x.example", grants["Viz"].Principal.Key);
        Assert.Equal(AccessRole.Owner, grants["Lead"].Role);
        Assert.Equal("orcid:0000-0003-4126-742X", grants["Lead"].Principal.Key);
        Assert.False(grants.ContainsKey("Stat"));
        Assert.False(grants.ContainsKey("Ghost"));
        Assert.Contains(plan.Findings, f => f.Code == "UnmappedContributorRole" && f.Path == "/dmp/contributor/3/role");
        Assert.Contains(plan.Findings, f => f.Code == "ContributorWithoutIdentity" && f.Path == "/dmp/contributor/4");
    }

    [Fact]
    public void Evaluate_PolicyDefaultAccess_AppliesToUnmappedRoles()
    {
        var policy = Policy with { Roles = Policy.Roles with { DefaultAccess = AccessRole.Reader } };
        var dmp = Dmp(Dataset(distributions: Distribution())) with
        {
            Contributors = [Contributor("Stat", "s@x.example", null, "Statistician")],
        };
        Assert.Contains(Evaluate(dmp, policy).Datasets.Single().Access, g => g.Principal.Name == "Stat" && g.Role == AccessRole.Reader);
    }

    [Fact]
    public void Evaluate_ContactListedAsContributor_IsOneOwnerGrant()
    {
        var dmp = Dmp(Dataset(distributions: Distribution())) with
        {
            Contributors = [Contributor("Claire D.", "CLAIRE.DUBOIS@neuro.example", null, "DataCollector")],
        };
        var grant = Assert.Single(Evaluate(dmp).Datasets.Single().Access);
        Assert.Equal(AccessRole.Owner, grant.Role);
        Assert.Equal(["contact", "DataCollector"], grant.Because);
    }

    [Fact]
    public void Evaluate_ContributorWithSeveralRoles_GetsTheHighest()
    {
        var dmp = Dmp(Dataset(distributions: Distribution())) with
        {
            Contributors = [Contributor("A", "a@x.example", null, "Supervisor", "DataCurator")],
        };
        Assert.Equal(AccessRole.Contributor, Evaluate(dmp).Datasets.Single().Access.Single(g => g.Principal.Name == "A").Role);
    }

    // ---- retention ----

    [Fact]
    public void Retention_AvailableUntil_IsTheLatestAcrossDistributions()
    {
        var plan = Single(
            Dataset(
                distributions: [
                    Distribution(availableUntil: new DateOnly(2035, 1, 1)),
                    Distribution(availableUntil: new DateOnly(2040, 6, 30)),
                ]));
        Assert.Equal(new DateOnly(2040, 6, 30), plan.Retention.KeepUntil);
        Assert.Equal(RetentionSource.AvailableUntil, plan.Retention.Source);
    }

    [Fact]
    public void Retention_PreservationUntil_IsUsedWithoutAvailableUntil()
    {
        var plan = Single(Dataset(distributions: Distribution()) with { PreservationUntil = new DateOnly(2050, 12, 31) });
        Assert.Equal(new DateOnly(2050, 12, 31), plan.Retention.KeepUntil);
        Assert.Equal(RetentionSource.PreservationUntil, plan.Retention.Source);
    }

    [Theory]
    [InlineData(DataAccess.Open, YesNoUnknown.No, 2038, DisposalAction.Publish)]
    [InlineData(DataAccess.Shared, YesNoUnknown.No, 2038, DisposalAction.Archive)]
    [InlineData(DataAccess.Closed, YesNoUnknown.No, 2043, DisposalAction.Delete)]
    [InlineData(DataAccess.Closed, YesNoUnknown.Yes, 2048, DisposalAction.Archive)]
    public void Retention_Default_IsProjectEndPlusThePeriodOfTheClass(
        DataAccess access,
        YesNoUnknown sensitive,
        int year,
        DisposalAction disposal)
    {
        var plan = Single(Dataset(sensitive: sensitive, distributions: Distribution(access)));
        Assert.Equal(new DateOnly(year, 12, 31), plan.Retention.KeepUntil);
        Assert.Equal(RetentionSource.ProjectEndPlusPolicy, plan.Retention.Source);
        Assert.Equal(disposal, plan.Retention.Disposal);
    }

    [Fact]
    public void Retention_NoProjectEnd_IsTodayPlusDefaultWithAFinding()
    {
        var plan = Evaluate(
            Dmp(Dataset(distributions: Distribution(DataAccess.Open))) with
            {
                Projects = [new Project { Title = "no end" }],
            }).Datasets.Single();
        Assert.Equal(new DateOnly(2036, 1, 15), plan.Retention.KeepUntil);
        Assert.Equal(RetentionSource.EvaluationDatePlusPolicy, plan.Retention.Source);
        Assert.Contains(plan.Findings, f => f.Code == "RetentionFromEvaluationDate");
    }

    [Fact]
    public void Retention_NoticeDates_FollowThePolicyWindows()
    {
        var plan = Single(Dataset(distributions: Distribution(availableUntil: new DateOnly(2030, 6, 30))));
        Assert.Equal([new DateOnly(2030, 4, 1), new DateOnly(2030, 5, 31), new DateOnly(2030, 6, 23)], plan.Retention.NoticeDates);
    }

    [Fact]
    public void Retention_PastKeepUntil_IsReported() =>
        Assert.Contains(
            Single(Dataset(distributions: Distribution(availableUntil: new DateOnly(2020, 1, 1)))).Findings,
            f => f.Code == "KeepUntilInPast");

    [Fact]
    public void Embargo_FutureLicenceStart_IsTheEmbargo()
    {
        var plan = Single(
            Dataset(
                distributions: Distribution(
                    DataAccess.Open,
                    licenses: [
                        new License("https://creativecommons.org/licenses/by/4.0/", new DateOnly(2027, 1, 1)),
                        new License("https://x.example", new DateOnly(2026, 6, 1)),
                    ])));
        Assert.Equal(new DateOnly(2027, 1, 1), plan.Retention.EmbargoUntil);
    }

    [Theory]
    [InlineData(2020, 1, 1)]
    [InlineData(2026, 1, 15)]
    public void Embargo_LicenceStartedAlreadyOrToday_IsNoEmbargo(int year, int month, int day)
    {
        var plan = Single(
            Dataset(
                distributions: Distribution(DataAccess.Open, licenses: new License("https://x.example", new DateOnly(year, month, day)))));
        Assert.Null(plan.Retention.EmbargoUntil);
    }

    [Fact]
    public void Embargo_AfterKeepUntil_IsReported()
    {
        var plan = Single(
            Dataset(
                distributions: Distribution(
                    DataAccess.Open,
                    availableUntil: new DateOnly(2027, 1, 1),
                    licenses: new License("https://x.example", new DateOnly(2028, 1, 1)))));
        Assert.Contains(plan.Findings, f => f.Code == "EmbargoAfterKeepUntil");
    }

    // ---- plan-level facts ----

    [Fact]
    public void Evaluate_CarriesDmpIdentityTitleModifiedAndPolicy()
    {
        var plan = Evaluate(Dmp(Dataset(distributions: Distribution())));
        Assert.Equal("10.99999/dmp.1", plan.DmpId.Value);
        Assert.Equal("Test DMP", plan.Title);
        Assert.Equal(new DateTimeOffset(2025, 3, 2, 16, 45, 12, TimeSpan.Zero), plan.Modified);
        Assert.Equal(Today, plan.EvaluatedOn);
        Assert.Equal(GovernancePolicy.Default.Institution, plan.PolicyInstitution);
        Assert.Equal(new DateOnly(2028, 12, 31), plan.ProjectEnd);
    }

    [Fact]
    public void Evaluate_NoDatasets_StillNeedsThePi()
    {
        var plan = Evaluate(Dmp());
        Assert.Empty(plan.Datasets);
        Assert.Equal(ApprovalRole.PrincipalInvestigator, Assert.Single(plan.RequiredApprovals).Role);
    }
}

public class GovernanceEvaluatorEdgeTests
{
    [Fact]
    public void Evaluate_ContactWithoutAnyIdentity_IsAnErrorFindingAndNoGrant()
    {
        var dmp = Dmp(Dataset(distributions: Distribution())) with
        {
            Contact = new Gardien.Workflows.Madmp.Contact { Name = "Nobody", Mbox = " " },
        };
        var plan = Evaluate(dmp);
        Assert.Contains(plan.Findings, f => f.Code == "ContactWithoutIdentity" && f.Severity == FindingSeverity.Error);
        Assert.Empty(plan.Datasets.Single().Access);
        Assert.True(plan.HasErrors);
    }

    [Fact]
    public void Evaluate_NonLatinAndEmptyIds_StillNameValidContainers()
    {
        var plan = Evaluate(
            Dmp(
                Dataset("脳画像データ", distributions: Distribution()),
                Dataset("", distributions: Distribution()),
                Dataset("Ωμέγα/βήτα", distributions: Distribution())));
        Assert.All(plan.Datasets, d => Assert.True(ContainerNaming.IsValidContainerName(d.Storage.ContainerName), d.Storage.ContainerName));
        Assert.Equal(3, plan.Datasets.Select(d => d.Storage.ContainerName).Distinct().Count());
    }

    [Fact]
    public void Evaluate_TenThousandDatasets_AllContainersDistinct()
    {
        var datasets = Enumerable.Range(0, 10_000).Select(i => Dataset("ds-" + i, distributions: Distribution())).ToArray();
        var plan = Evaluate(Dmp(datasets));
        Assert.Equal(10_000, plan.Datasets.Select(d => d.Storage.ContainerName).Distinct(StringComparer.Ordinal).Count());
        Assert.EndsWith(
            "and 9995 more)",
            plan.RequiredApprovals.Single(a => a.Role == ApprovalRole.DataSteward).Reasons.Single(),
            StringComparison.Ordinal);
    }
}
