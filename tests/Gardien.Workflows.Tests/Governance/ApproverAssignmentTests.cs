using Gardien.Workflows.Approvals;
using Gardien.Workflows.Governance;
using Gardien.Workflows.Madmp;
using static Gardien.Workflows.Tests.Governance.TestDmps;

namespace Gardien.Workflows.Tests.Governance;

/// <summary>Who is asked for each approval: look-alike contact mailboxes and separation of duties.</summary>
public sealed class ApproverAssignmentTests
{
    private const string Steward = "data-steward@neuro-institute.example";
    private const string StewardDelegate = "rds-head@neuro-institute.example";
    private const string Dpo = "dpo@neuro-institute.example";
    private const string Fallback = "research-office@neuro-institute.example";

    private static Dataset Health() =>
        Dataset("cohort", YesNoUnknown.Yes, YesNoUnknown.Yes, distributions: Distribution(DataAccess.Closed));

    private static Dataset Anonymous() =>
        Dataset("atlas", YesNoUnknown.No, YesNoUnknown.No, distributions: Distribution(DataAccess.Closed));

    private static GovernancePlan WithContact(string mbox, bool orcid, GovernancePolicy? policy = null, params Dataset[] datasets) =>
        Evaluate(Dmp(datasets) with { Contact = Pi with { Mbox = mbox, ContactId = orcid ? Pi.ContactId : null } }, policy);

    private static GovernancePolicy With(Func<ApprovalPolicy, ApprovalPolicy> change) =>
        Policy with { Approvals = change(Policy.Approvals) };

    private static AssignedApprover For(GovernancePlan plan, ApprovalRole role) => Assert.Single(plan.Approvers, a => a.Role == role);

    [Fact]
    public void Plan_ContactIsTheDataSteward_WithPersonalData_AsksTheStewardsDelegate()
    {
        var plan = WithContact(Steward, orcid: false, datasets: Health());

        Assert.Equal(Steward, For(plan, ApprovalRole.PrincipalInvestigator).Email);
        var steward = For(plan, ApprovalRole.DataSteward);
        Assert.Equal(StewardDelegate, steward.Email);
        Assert.Null(steward.DelegateEmail);
        Assert.Equal(Dpo, For(plan, ApprovalRole.DataProtectionOfficer).Email);
        var finding = Assert.Single(plan.Findings, f => f.Code == "ApproverSubstituted");
        Assert.Contains("separation_of_duties", finding.Message, StringComparison.Ordinal);
        Assert.False(plan.HasErrors);
    }

    [Fact]
    public void Plan_ContactIsTheDataSteward_WithoutPersonalData_ByDefaultKeepsTheSteward()
    {
        var plan = WithContact(Steward, orcid: false, datasets: Anonymous());
        Assert.Equal(Steward, For(plan, ApprovalRole.DataSteward).Email);
        Assert.DoesNotContain(plan.Findings, f => f.Code == "ApproverSubstituted");
    }

    [Fact]
    public void Plan_SeparationAlways_AppliesWithoutPersonalData()
    {
        var plan = WithContact(
            Steward.ToUpperInvariant(), orcid: false, With(a => a with { SeparationOfDuties = SeparationOfDuties.Always }), Anonymous());
        Assert.Equal(StewardDelegate, For(plan, ApprovalRole.DataSteward).Email);
    }

    [Fact]
    public void Plan_SeparationNever_LetsOnePersonGiveBothApprovals()
    {
        var plan = WithContact(Steward, orcid: false, With(a => a with { SeparationOfDuties = SeparationOfDuties.Never }), Health());
        Assert.Equal(Steward, For(plan, ApprovalRole.DataSteward).Email);
    }

    [Fact]
    public void Plan_ContactIsTheStewardsOnlyDelegate_StewardKeepsNoEscalationDelegate()
    {
        var plan = WithContact(StewardDelegate, orcid: false, datasets: Health());
        var steward = For(plan, ApprovalRole.DataSteward);
        Assert.Equal(Steward, steward.Email);
        Assert.Null(steward.DelegateEmail);
    }

    [Fact]
    public void Plan_ContactIsTheStewardWithoutDelegates_IsRefused()
    {
        var policy = With(a => a with { DataSteward = a.DataSteward with { Delegates = [] } });
        var plan = WithContact("Data-Steward+me@neuro-institute.example", orcid: false, policy, Health());

        var error = Assert.Single(plan.Findings, f => f.Code == "ApproverUnavailable");
        Assert.Equal(FindingSeverity.Error, error.Severity);
        Assert.Contains("add a delegate", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(plan.Approvers, a => a.Role == ApprovalRole.DataSteward);
    }

    [Fact]
    public void Plan_LookAlikeContactMailbox_AsksTheFallbackAndSendsNothingThere()
    {
        const string lookAlike = "claire.dubois@neurо.example";
        var plan = WithContact(lookAlike, orcid: false, datasets: Health());

        var warning = Assert.Single(plan.Findings, f => f.Code == "MailboxUnusable");
        Assert.Equal("/dmp/contact/mbox", warning.Path);
        Assert.Contains("Cyrillic", warning.Message, StringComparison.Ordinal);
        Assert.Null(plan.PrincipalInvestigator.Email);
        Assert.Equal(Fallback, For(plan, ApprovalRole.PrincipalInvestigator).Email);
        Assert.Contains(plan.Findings, f => f.Code == "ApproverSubstituted" && f.Message.Contains(Fallback, StringComparison.Ordinal));
        Assert.DoesNotContain(plan.Datasets[0].Access, g => g.Principal.Key == plan.PrincipalInvestigator.Key);
        Assert.False(plan.HasErrors);
    }

    [Fact]
    public void Plan_FullwidthAtSignWithOrcid_GrantsByOrcidOnly()
    {
        var plan = WithContact("claire.dubois＠neuro.example", orcid: true, datasets: Health());

        Assert.Null(plan.PrincipalInvestigator.Email);
        var owner = Assert.Single(plan.Datasets[0].Access, g => g.Role == AccessRole.Owner);
        Assert.Equal("0000-0002-1825-0097", owner.Principal.Orcid);
        Assert.Null(owner.Principal.Email);
        Assert.Equal(Fallback, For(plan, ApprovalRole.PrincipalInvestigator).Email);
    }

    [Fact]
    public void Plan_LookAlikeContactWithoutFallback_IsRefused()
    {
        var plan = WithContact("clаire@neuro.example", orcid: true, With(a => a with { FallbackApprover = null }), Health());

        var error = Assert.Single(plan.Findings, f => f.Code == "ApproverUnavailable");
        Assert.Contains("fallback_approver", error.Message, StringComparison.Ordinal);
        Assert.True(plan.HasErrors);
    }

    [Fact]
    public void Plan_LookAlikeContributorMailbox_GrantsNothingThroughIt()
    {
        var dmp = Dmp(Health()) with { Contributors = [Contributor("Mallory", "mehdi.benali@neurо.example", null, "DataManager")] };
        var plan = Evaluate(dmp);

        Assert.Contains(plan.Findings, f => f.Code == "MailboxUnusable" && f.Path == "/dmp/contributor/0/mbox");
        Assert.DoesNotContain(plan.Datasets[0].Access, g => g.Principal.Name == "Mallory");
    }

    [Fact]
    public void Resolve_SameRequest_FollowsThePlansAssignment()
    {
        var plan = WithContact(Steward, orcid: false, datasets: Health());
        var roles = plan.RequiredApprovals.Select(r => r.Role).ToList();

        foreach (var planned in plan.Approvers)
        {
            var resolved = ResolveApproverActivity.Resolve(
                new ResolveApproverInput(planned.Role, "Claire", Steward, null, roles, PersonalData: true), Policy);
            Assert.Equal(planned.Email, resolved.Email);
            Assert.Equal(planned.DelegateEmail, resolved.DelegateEmail);
        }
    }

    [Fact]
    public void Resolve_LookAlikePiAddressFromARecord_GoesToTheFallback()
    {
        var resolved = ResolveApproverActivity.Resolve(
            new ResolveApproverInput(ApprovalRole.PrincipalInvestigator, "Claire", "clаire@neuro.example"), Policy);
        Assert.Equal(Fallback, resolved.Email);
    }

    [Fact]
    public void Resolve_NoUsablePiAndNoFallback_FailsSayingWhatToFix()
    {
        var error = Assert.Throws<NonRetryableActivityException>(() =>
            ResolveApproverActivity.Resolve(
                new ResolveApproverInput(ApprovalRole.PrincipalInvestigator, "Claire", null),
                With(a => a with { FallbackApprover = null })));
        Assert.Contains("mbox", error.Message, StringComparison.Ordinal);
    }
}
