using Gardien.Workflows.Approvals;

namespace Gardien.Workflows.Tests.Approvals;

public sealed class ApprovalLinksTests
{
    private const string Token = "eyJ2IjoxfQ.c2lnbmF0dXJl";
    private static readonly Uri Base = new("https://gardien.example/");

    [Theory]
    [InlineData("approve")]
    [InlineData("reject")]
    public void Parse_BuiltLink_GivesTheTokenAndTheLinksOwnDecision(string decision)
    {
        var link = ApprovalLinks.Build(Base, Token, decision);

        var parsed = ApprovalLinks.Parse(link.ToString());

        Assert.True(parsed.IsValid, parsed.Error);
        Assert.Equal(new ApprovalLinkReference(Token, decision), parsed.Link);
    }

    [Theory]
    [InlineData("https://gardien.example/approvals/" + Token + "?decision=reject", "reject")]
    [InlineData("  <https://gardien.example/approvals/" + Token + "?decision=reject>  ", "reject")]
    [InlineData("\"https://gardien.example/base/approvals/" + Token + "?x=1&decision=REJECT#top\"", "reject")]
    [InlineData("/approvals/" + Token + "?decision=approve", "approve")]
    [InlineData(Token + "?decision=rejected", "reject")]
    [InlineData("https://gardien.example/approvals/" + Token + "/", null)]
    [InlineData(Token, null)]
    public void Parse_LinkPathOrToken_KeepsTheDecisionItCarries(string text, string? decision)
    {
        var parsed = ApprovalLinks.Parse(text);

        Assert.True(parsed.IsValid, parsed.Error);
        Assert.Equal(Token, parsed.Link!.Token);
        Assert.Equal(decision, parsed.Link.Decision);
    }

    [Theory]
    [InlineData("", "No approval token")]
    [InlineData(
        "https://gardien.example/approvals/" + Token + "?decision=approve&decision=reject", "both decision=approve and decision=reject")]
    [InlineData("https://gardien.example/approvals/" + Token + "?decision=delete", "neither approve nor reject")]
    [InlineData("https://gardien.example/status/" + Token + "?decision=approve", "not an approval link")]
    [InlineData("https://gardien.example/", "names no approval token")]
    public void Parse_NotAUsableLink_SaysWhatIsWrong(string text, string expected)
    {
        var parsed = ApprovalLinks.Parse(text);

        Assert.False(parsed.IsValid);
        Assert.Contains(expected, parsed.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("reject", null, "reject")]
    [InlineData("approve", null, "approve")]
    [InlineData("reject", "reject", "reject")]
    [InlineData(null, "reject", "reject")]
    [InlineData(null, null, "approve")]
    public void ChooseDecision_AgreeingOrMissing_HonoursTheLinkThenTheRequestThenTheDefault(
        string? fromLink,
        string? requested,
        string expected)
    {
        var choice = ApprovalLinks.ChooseDecision(new ApprovalLinkReference(Token, fromLink), requested, "--x", defaultDecision: "approve");

        Assert.Equal(expected, choice.Decision);
        Assert.Null(choice.Error);
    }

    [Theory]
    [InlineData("reject", "approve", "This is the Reject link (decision=reject), but 'approve' (--approve) was asked for")]
    [InlineData("approve", "reject", "This is the Approve link (decision=approve), but 'reject' (--reject) was asked for")]
    public void ChooseDecision_ContradictingTheLink_IsRefusedWithTheReason(string fromLink, string requested, string expected)
    {
        var choice = ApprovalLinks.ChooseDecision(
            new ApprovalLinkReference(Token, fromLink), requested, "--" + requested, defaultDecision: "approve");

        Assert.Null(choice.Decision);
        Assert.True(choice.Contradiction);
        Assert.StartsWith(expected, choice.Error, StringComparison.Ordinal);
        Assert.Contains("Nothing was recorded", choice.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void ChooseDecision_BareTokenWithoutDefault_AsksForADecision()
    {
        var choice = ApprovalLinks.ChooseDecision(new ApprovalLinkReference(Token, null), null);

        Assert.Null(choice.Decision);
        Assert.False(choice.Contradiction);
        Assert.Contains("approve or reject", choice.Error, StringComparison.Ordinal);
    }
}
