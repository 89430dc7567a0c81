using System.Text.Json;
using System.Text.Json.Nodes;
using Gardien.Testing;
using Gardien.Workflows.Governance;
using Gardien.Workflows.Hosting;
using Gardien.Workflows.Madmp;

namespace Gardien.Workflows.Tests.Governance;

public class PolicyLoaderTests
{
    private static string SamplePath => Path.Combine(RepoPaths.Root, "policy.sample.json");

    private static JsonObject Sample() => JsonNode.Parse(File.ReadAllText(SamplePath))!.AsObject();

    private static PolicyLoadResult LoadMutated(Action<JsonObject> mutate)
    {
        var json = Sample();
        mutate(json);
        return PolicyLoader.Load(json.ToJsonString());
    }

    [Fact]
    public void LoadFile_Sample_IsValid()
    {
        var result = PolicyFiles.Load(SamplePath);
        Assert.True(result.IsValid, string.Join("\n", result.Errors.Select(e => $"{e.Path}: {e.Message}")));
        var policy = result.Policy!;
        Assert.Equal("gdn", policy.Storage.ContainerPrefix);
        Assert.Equal(IsoPeriod.FromYears(20), policy.Retention.DefaultPeriod.Restricted);
        Assert.Equal(DisposalAction.Publish, policy.Retention.Disposal.Public);
        Assert.Equal([90, 30, 7], policy.Retention.NoticeDays);
        Assert.Equal("dpo@neuro-institute.example", policy.Approvals.DataProtectionOfficer.Email);
        Assert.Single(policy.Approvals.DataProtectionOfficer.Delegates);
        Assert.Equal([DataAccess.Shared, DataAccess.Closed], policy.Approvals.DataStewardFor);
        Assert.Contains("FR", policy.Regions.For(DataClassification.Restricted));
        Assert.DoesNotContain("GB", policy.Regions.For(DataClassification.Restricted));
        Assert.Contains("GB", policy.Regions.For(DataClassification.Public));
        Assert.Null(policy.Roles.DefaultAccess);
    }

    [Fact]
    public void Default_EqualsTheRepositorySample()
    {
        var sample = PolicyFiles.Load(SamplePath).Policy!;
        Assert.Equal(GovernanceJson.Serialize(sample), GovernanceJson.Serialize(GovernancePolicy.Default));
    }

    [Fact]
    public void EmbeddedDefault_IsByteForByteTheRepositorySample()
    {
        var embedded = Path.Combine(RepoPaths.Root, "workflows", "Gardien.Workflows", "Schemas", "policy", "policy.default.json");
        Assert.Equal(File.ReadAllText(SamplePath), File.ReadAllText(embedded));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Policy_RoundTripsThroughSystemTextJson(bool fileOptions)
    {
        var options = fileOptions ? GovernanceJson.Options : JsonSerializerOptions.Default;
        var json = JsonSerializer.Serialize(GovernancePolicy.Default, options);
        var back = JsonSerializer.Deserialize<GovernancePolicy>(json, options)!;
        Assert.Equal(json, JsonSerializer.Serialize(back, options));
    }

    [Fact]
    public void Serialize_Policy_ReloadsThroughTheLoader()
    {
        var result = PolicyLoader.Load(GovernanceJson.Serialize(GovernancePolicy.Default));
        Assert.True(result.IsValid, string.Join("\n", result.Errors.Select(e => $"{e.Path}: {e.Message}")));
    }

    [Fact]
    public void Load_MalformedJson_ReportsLineAndColumn()
    {
        var result = PolicyLoader.Load("{\n  \"policy_version\": 1,\n  \"institution\": \"x\"\n  \"roles\": {}\n}");
        var error = Assert.Single(result.Errors);
        Assert.False(result.IsValid);
        Assert.Equal("json", error.Keyword);
        Assert.Equal(4, error.Line);
        Assert.Equal(3, error.Column);
        Assert.Contains("line 4", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("\uFEFF")]
    public void Load_Empty_IsAnErrorNotAnException(string json)
    {
        var result = PolicyLoader.Load(json);
        Assert.Equal("json", Assert.Single(result.Errors).Keyword);
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("42")]
    [InlineData("null")]
    public void Load_NotAnObject_IsATypeError(string json) =>
        Assert.Equal("type", Assert.Single(PolicyLoader.Load(json).Errors).Keyword);

    [Fact]
    public void Load_WithBom_IsValid() =>
        Assert.True(PolicyLoader.Load("\uFEFF" + File.ReadAllText(SamplePath)).IsValid);

    [Fact]
    public void Load_MissingRequiredSection_PointsAtTheRoot()
    {
        var result = LoadMutated(p => p.Remove("retention"));
        var error = Assert.Single(result.Errors);
        Assert.Equal("required", error.Keyword);
        Assert.Equal("/retention", error.Path);
        Assert.Contains("retention", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_MissingApproverEmail_PointsAtTheApprover()
    {
        var result = LoadMutated(p => p["approvals"]!["data_protection_officer"]!.AsObject().Remove("email"));
        var error = Assert.Single(result.Errors);
        Assert.Equal("/approvals/data_protection_officer/email", error.Path);
        Assert.Equal("required", error.Keyword);
    }

    [Fact]
    public void Load_UnknownKey_IsRejectedWithItsPath()
    {
        var result = LoadMutated(p => p["storage"]!["containr_prefix"] = "x");
        var error = Assert.Single(result.Errors);
        Assert.Equal("additionalProperties", error.Keyword);
        Assert.Equal("/storage/containr_prefix", error.Path);
    }

    [Fact]
    public void Load_BadEnumInArray_PointsAtTheItem()
    {
        var result = LoadMutated(p => p["roles"]!["mappings"]![1]!["access"] = "admin");
        var error = Assert.Single(result.Errors);
        Assert.Equal("enum", error.Keyword);
        Assert.Equal("/roles/mappings/1/access", error.Path);
        Assert.Contains("owner", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("GDN")]
    [InlineData("gdn-")]
    [InlineData("g--dn")]
    [InlineData("gdn_lab")]
    public void Load_InvalidContainerPrefix_ExplainsTheRule(string prefix)
    {
        var result = LoadMutated(p => p["storage"]!["container_prefix"] = prefix);
        var error = Assert.Single(result.Errors);
        Assert.Equal("/storage/container_prefix", error.Path);
        Assert.Equal("pattern", error.Keyword);
        Assert.Contains("Lowercase letters", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("10 years")]
    [InlineData("PT10H")]
    [InlineData("P")]
    [InlineData("P1D2Y")]
    public void Load_InvalidPeriod_IsReportedAtItsPath(string period)
    {
        var result = LoadMutated(p => p["retention"]!["default_period"]!["restricted"] = period);
        var error = Assert.Single(result.Errors);
        Assert.Equal("/retention/default_period/restricted", error.Path);
    }

    [Fact]
    public void Load_RetentionInYearsAsNumber_IsAccepted()
    {
        var result = LoadMutated(p => p["retention"]!["default_period"]!["restricted"] = 25);
        Assert.True(result.IsValid);
        Assert.Equal(IsoPeriod.FromYears(25), result.Policy!.Retention.DefaultPeriod.Restricted);
    }

    [Fact]
    public void Load_LowerCaseCountryCode_IsRejected()
    {
        var result = LoadMutated(p => p["regions"]!["restricted"]![0] = "fr");
        Assert.Equal("/regions/restricted/0", Assert.Single(result.Errors).Path);
    }

    [Fact]
    public void Load_SeveralErrors_AreAllReported()
    {
        var result = LoadMutated(p =>
        {
            p["institution"] = 3;
            p["storage"]!["tier"]!["public"] = "warm";
            p["approvals"]!.AsObject().Remove("data_steward");
        });
        Assert.Equal(
            ["/approvals/data_steward", "/institution", "/storage/tier/public"],
            result.Errors.Select(e => e.Path).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Load_RoleMappedToTwoAccessLevels_IsRejected()
    {
        var result = LoadMutated(p => p["roles"]!["mappings"]![2]!["roles"]!.AsArray().Add("ProjectLeader"));
        var error = Assert.Single(result.Errors);
        Assert.Equal("roles", error.Keyword);
        Assert.StartsWith("/roles/mappings/2/roles/", error.Path, StringComparison.Ordinal);
        Assert.Contains("/roles/mappings/0/roles/0", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_EscalationAfterTimeout_IsRejected()
    {
        var result = LoadMutated(p => p["approvals"]!["escalate_after"] = "P60D");
        Assert.Equal("/approvals/escalate_after", Assert.Single(result.Errors).Path);
    }

    [Fact]
    public void Load_RestrictedDataWithoutEncryptionScope_IsRejected()
    {
        var result = LoadMutated(p => p["storage"]!["encryption"]!["applies_to"] = new JsonArray("confidential"));
        Assert.Equal("/storage/encryption/applies_to", Assert.Single(result.Errors).Path);
    }

    [Fact]
    public void LoadFile_Missing_IsAnIoError()
    {
        var result = PolicyFiles.Load(Path.Combine(Path.GetTempPath(), "gardien-no-such-policy-" + Guid.NewGuid() + ".json"));
        Assert.Equal("io", Assert.Single(result.Errors).Keyword);
    }

    [Fact]
    public void Load_DeeplyNested_IsAnErrorNotAnException()
    {
        var json = string.Concat(Enumerable.Repeat("{\"a\":", 200)) + "1" + new string('}', 200);
        var result = PolicyLoader.Load(json);
        Assert.False(result.IsValid);
        Assert.Equal("json", Assert.Single(result.Errors).Keyword);
    }

    [Fact]
    public void SchemaJson_IsDraft07() =>
        Assert.Contains("draft-07", PolicyLoader.SchemaJson, StringComparison.Ordinal);

    [Theory]
    [InlineData("P10Y", 10, 0, 0)]
    [InlineData("P6M", 0, 6, 0)]
    [InlineData("P2W", 0, 0, 14)]
    [InlineData("P1Y6M15D", 1, 6, 15)]
    [InlineData("P90D", 0, 0, 90)]
    public void IsoPeriod_Parses(string text, int years, int months, int days)
    {
        Assert.True(IsoPeriod.TryParse(text, out var period));
        Assert.Equal(new IsoPeriod(years, months, days), period);
    }

    [Fact]
    public void IsoPeriod_AddTo_ClampsToMonthEnd() =>
        Assert.Equal(new DateOnly(2025, 2, 28), new IsoPeriod(1, 0, 0).AddTo(new DateOnly(2024, 2, 29)));

    [Fact]
    public void Load_LookAlikeDelegateAddress_IsRejectedAtItsPath()
    {
        var result = LoadMutated(p => p["approvals"]!["data_steward"]!["delegates"]![0]!["email"] = "rds-hеad@neuro-institute.example");
        var error = Assert.Single(result.Errors);
        Assert.Equal("/approvals/data_steward/delegates/0/email", error.Path);
        Assert.Contains("Cyrillic", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_SeparationOfDuties_DefaultsToPersonalDataAndRejectsUnknownValues()
    {
        var omitted = LoadMutated(p => p["approvals"]!.AsObject().Remove("separation_of_duties"));
        Assert.Equal(SeparationOfDuties.PersonalData, omitted.Policy!.Approvals.SeparationOfDuties);
        Assert.Null(LoadMutated(p => p["approvals"]!.AsObject().Remove("fallback_approver")).Policy!.Approvals.FallbackApprover);
        var bad = LoadMutated(p => p["approvals"]!["separation_of_duties"] = "sometimes");
        Assert.Equal("/approvals/separation_of_duties", Assert.Single(bad.Errors).Path);
    }

    [Fact]
    public void Load_LockAfterDays_IsReadAndAbsentMeansNeverLocked()
    {
        var locked = LoadMutated(json => json["storage"]!["raw_data_immutability"]!["lock_after_days"] = 30);
        var absent = LoadMutated(_ => { });

        Assert.Equal(30, locked.Policy!.Storage.RawDataImmutability.LockAfterDays);
        Assert.Null(absent.Policy!.Storage.RawDataImmutability.LockAfterDays);
    }

    [Fact]
    public void Load_NegativeLockAfterDays_IsAnErrorAtItsPath()
    {
        var result = LoadMutated(json => json["storage"]!["raw_data_immutability"]!["lock_after_days"] = -1);

        Assert.Null(result.Policy);
        Assert.Contains(result.Errors, e => e.Path == "/storage/raw_data_immutability/lock_after_days");
    }
}
