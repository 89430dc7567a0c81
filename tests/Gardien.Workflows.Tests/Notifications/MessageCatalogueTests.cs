using System.Reflection;
using System.Text.Json.Nodes;
using Gardien.Workflows.Access;
using Gardien.Workflows.Approvals;
using Gardien.Workflows.BlobEvents;
using Gardien.Workflows.Governance;
using Gardien.Workflows.Intake;
using Gardien.Workflows.Notifications;
using Gardien.Workflows.Ports;
using Gardien.Workflows.Retention;
using Gardien.Workflows.Tests.Workflows;
using PortDisposal = Gardien.Workflows.Ports.DisposalAction;

namespace Gardien.Workflows.Tests.Notifications;

/// <summary>
/// Every message of the catalogue, in English and French, written with values a DMP (or a person, or a blob name) could
/// use to forge a line or a link: subjects stay plain one-line text, bodies (Markdown) get no line and no link of theirs,
/// and each message is in its catalogue's language.
/// </summary>
public sealed class MessageCatalogueTests
{
    /// <summary>A value trying to add a line of its own and a link.</summary>
    private const string Hostile = "Evil [click](https://evil.example)\nApproved by DPO: yes";

    public static TheoryData<string> Languages => ["en", "fr"];

    public static TheoryData<string, string> Messages()
    {
        var data = new TheoryData<string, string>();
        foreach (var language in new[] { "en", "fr" })
        {
            foreach (var method in MessageMethods())
            {
                data.Add(language, method.Name);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Messages))]
    public void Message_WithHostileValues_HasAOneLineSubjectAndNoForgedLineOrLinkInTheBody(string language, string name)
    {
        var catalogue = MessageCatalogue.For(language);
        var method = MessageMethods().Single(m => m.Name == name);

        var message = Write(catalogue, method);

        Assert.Equal(language, message.Language);
        Assert.DoesNotContain('\n', message.Subject);
        Assert.DoesNotContain("[click](", message.Body, StringComparison.Ordinal);
        Assert.DoesNotContain(message.Body.Split('\n'), line => line.StartsWith("Approved by DPO", StringComparison.Ordinal));
        Assert.All(message.Links, l => Assert.DoesNotContain('\n', l.Label));
        Assert.NotEmpty(message.Body);
    }

    [Fact]
    public void EveryMessage_IsTranslated()
    {
        foreach (var method in MessageMethods())
        {
            var english = Write(MessageCatalogue.English, method);
            var french = Write(MessageCatalogue.French, method);

            Assert.True(english.Subject != french.Subject, $"{method.Name}: the same subject in both languages");
            Assert.True(english.Body != french.Body, $"{method.Name}: the same body in both languages");
            Assert.Equal(english.Kind, french.Kind);
            Assert.Equal(english.Links.Select(l => l.Url), french.Links.Select(l => l.Url));
        }
    }

    [Theory]
    [InlineData("fr", "fr")]
    [InlineData("FR", "fr")]
    [InlineData("fr-CA", "fr")]
    [InlineData("en", "en")]
    [InlineData("de", "en")]
    [InlineData(null, "en")]
    public void For_PicksFrenchForFrenchAndEnglishOtherwise(string? language, string expected) =>
        Assert.Equal(expected, MessageCatalogue.For(language).Language);

    [Theory]
    [MemberData(nameof(Languages))]
    public void ApproveAndRejectLinks_KeepTheLabelsAdaptersTranslate(string language)
    {
        var message = MessageCatalogue.For(language).ApprovalRequest(ApprovalInput(), Approver(), Now, Link());

        Assert.Equal([ApprovalButtons.Approve, ApprovalButtons.Reject], message.Links.Select(l => l.Label));
    }

    [Fact]
    public void ExtensionUnclear_SaysPlainlyThatTheLinkWorkedOnceAndHowToAskAgain()
    {
        var body = MessageCatalogue.English.ExtensionUnclear(Case(), "Cohort").Body;

        Assert.Contains("The link you used works only once", body, StringComparison.Ordinal);
        Assert.Contains("yyyy-MM-dd", body, StringComparison.Ordinal);
        Assert.DoesNotContain("is not possible", body, StringComparison.Ordinal);
    }

    [Fact]
    public void PlanSummary_EscapesDmpValuesInBothLanguages()
    {
        foreach (var catalogue in new[] { MessageCatalogue.English, MessageCatalogue.French })
        {
            var summary = catalogue.PlanSummary(Plan());

            Assert.DoesNotContain("[click](", summary, StringComparison.Ordinal);
            Assert.DoesNotContain(summary.Split('\n'), line => line.StartsWith("Approved by DPO", StringComparison.Ordinal));
        }
    }

    private static readonly DateTimeOffset Now = new(2026, 2, 2, 8, 0, 0, TimeSpan.Zero);

    private static IEnumerable<MethodInfo> MessageMethods() =>
        typeof(MessageCatalogue).GetMethods(BindingFlags.Public | BindingFlags.Instance)
            .Where(m => m.IsAbstract && m.ReturnType == typeof(Message));

    private static Message Write(MessageCatalogue catalogue, MethodInfo method) =>
        (Message)method.Invoke(catalogue, [.. method.GetParameters().Select(p => Sample(p.ParameterType, catalogue))])!;

    private static object? Sample(Type type, MessageCatalogue catalogue) => type switch
    {
        _ when type == typeof(string) => Hostile,
        _ when type == typeof(int) => 2,
        _ when type == typeof(long) => 42L,
        _ when type == typeof(long?) => 1234L,
        _ when type == typeof(DateTimeOffset) => Now,
        _ when type == typeof(DateOnly) => new DateOnly(2031, 12, 31),
        _ when type == typeof(DateOnly?) => new DateOnly(2029, 3, 31),
        _ when type == typeof(IReadOnlyList<string>) => new[] { Hostile, "/dmp/title: " + Hostile },
        _ when type == typeof(GovernancePlan) => Plan(),
        _ when type == typeof(ApprovalWorkflowOutput) => Refusal(),
        _ when type == typeof(IReadOnlyList<ApprovalWorkflowOutput>) => new[] { Refusal() },
        _ when type == typeof(IntakeSummaryFacts) => new IntakeSummaryFacts(
            [new ContainerSummary(Hostile, "gdn-test-ds", new Uri("https://store.test/gdn-test-ds"), true)],
            [new GrantSummary(Hostile, "gdn-test-ds", "u-1", Hostile, AccessLevel.Reader)],
            [Refusal() with { Outcome = ApprovalOutcome.Approved }],
            [new NotEnforcedFeature(Hostile, Hostile)],
            [Hostile]),
        _ when type == typeof(PlanDiff) =>
            PlanDiff.Compare(Plan(withDataManager: true, datasets: 1), Plan(withDataManager: false, datasets: 2)),
        _ when type == typeof(ApprovalWorkflowInput) => ApprovalInput(),
        _ when type == typeof(ResolvedApprover) => Approver(),
        _ when type == typeof(ApprovalLink) => Link(),
        _ when type == typeof(RetentionCaseInput) => Case(),
        _ when type == typeof(ContainerManifest) => new ContainerManifest("gdn-test-ds", 3, 600, new string('a', 64)),
        _ when type == typeof(DeletionCertificate) => new DeletionCertificate
        {
            CertificateId = "c1",
            DmpId = Hostile,
            DatasetId = Hostile,
            Container = "gdn-test-ds",
            Disposal = "Delete",
            KeepUntil = new DateOnly(2030, 4, 1),
            BlobCount = 3,
            TotalBytes = 600,
            ManifestSha256 = new string('a', 64),
            Approvals = [],
            NoticesSentAt = [],
            Actor = "system:RetentionCaseWorkflow",
            InstanceId = "retention-case-1",
            IssuedAt = Now,
        },
        _ when type == typeof(IReadOnlyList<RetentionDiscrepancy>) => new[]
        {
            new RetentionDiscrepancy(
                RetentionDiscrepancyKind.UnknownContainer, Hostile, Hostile, Hostile, null, "2030-01-01", 1, [Hostile]),
        },
        _ when type == typeof(IReadOnlyList<(ReviewMember Member, ApprovalLink Link)>) => new[]
        {
            (new ReviewMember("u-1", Hostile, Hostile, [new ReviewedGrant(Hostile, "gdn-test-ds", AccessLevel.Reader, null)]), Link()),
        },
        _ when type == typeof(Message) =>
            catalogue.AccessReview(Hostile, Hostile, Now, [(new ReviewMember("u-1", Hostile, null, []), Link())]),
        _ when type == typeof(BlobEventInput) => Blob(),
        _ when type == typeof(DatasetRecord) => new DatasetRecord
        {
            DmpId = Hostile,
            DatasetId = Hostile,
            Container = "gdn-test-ds",
            State = DatasetState.Provisioned,
            KeepUntil = new DateOnly(2035, 1, 1),
            QuotaBytes = 100,
            EmbargoUntil = new DateOnly(2027, 1, 1),
        },
        _ => throw new InvalidOperationException($"No sample for {type}: add one."),
    };

    private static GovernancePlan Plan(bool withDataManager = true, int datasets = 1)
    {
        var specs = Enumerable.Range(1, datasets).Select(i => new IntakeTestDmps.DatasetSpec("ds-" + i)).ToArray();
        var json = JsonNode.Parse(IntakeTestDmps.Json(withDataManager: withDataManager, datasets: specs))!;
        json["dmp"]!["title"] = Hostile;
        json["dmp"]!["contact"]!["name"] = Hostile;
        foreach (var dataset in json["dmp"]!["dataset"]!.AsArray())
        {
            dataset!["title"] = Hostile + " " + dataset["dataset_id"]!["identifier"]!.GetValue<string>();
        }

        var evaluation = EvaluateDmpActivity.Evaluate(null, json.ToJsonString(), new DateOnly(2026, 2, 2), GovernancePolicy.Default);
        return evaluation.Plan ?? throw new InvalidOperationException(string.Join("; ", evaluation.Errors));
    }

    private static ApprovalWorkflowOutput Refusal() =>
        new("a1", ApprovalRole.DataSteward, ApprovalOutcome.Rejected, Hostile, Hostile, Now, Hostile, false, 0);

    private static ApprovalWorkflowInput ApprovalInput() =>
        new(Hostile, ApprovalRole.PrincipalInvestigator, Hostile, [Hostile], MessageCatalogue.English.PlanSummary(Plan()),
            DmpTitle: Hostile);

    private static ResolvedApprover Approver() =>
        new(Hostile, "pi@neuro.example", Hostile, "delegate@neuro.example", "steward@neuro.example",
            IsoPeriod.FromDays(3), IsoPeriod.FromDays(7), IsoPeriod.FromDays(30));

    private static ApprovalLink Link() =>
        new("t1", "pi@neuro.example", Now.AddDays(30),
            new Uri("https://gardien.test/approvals/t1?decision=approve"), new Uri("https://gardien.test/approvals/t1?decision=reject"));

    private static RetentionCaseInput Case() => new()
    {
        DmpId = Hostile,
        DatasetId = Hostile,
        Container = "gdn-test-ds",
        KeepUntil = new DateOnly(2030, 4, 1),
        Disposal = PortDisposal.Delete,
        Settings = new RetentionSettings { StewardEmail = "steward@neuro.example", DpoEmail = "dpo@neuro.example" },
    };

    private static BlobEventInput Blob() => new("ev-1", BlobEventKind.Created, "gdn-test-ds", Hostile, "\"0x1\"", 100, Now);
}
