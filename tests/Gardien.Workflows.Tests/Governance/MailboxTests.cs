using Gardien.Workflows.Governance;

namespace Gardien.Workflows.Tests.Governance;

public sealed class MailboxTests
{
    [Theory]
    [InlineData("claire.dubois@neuro-institute.example")]
    [InlineData("data-steward+pi@neuro-institute.example")]
    [InlineData("o'brien@uni.example")]
    [InlineData("TMiksa@sba-research.org")]
    [InlineData("josé@université.fr")]
    [InlineData("иван@почта.рф")]
    [InlineData("李@例子.中国")]
    [InlineData("たなか@例え.jp")]
    public void Problem_RealMailbox_IsNone(string address) => Assert.Null(Mailbox.Problem(address));

    [Theory]
    [InlineData("clаire.dubois@neuro-institute.example", "mixes Cyrillic and Latin")]
    [InlineData("claire.dubois@neurо-institute.example", "mixes Cyrillic and Latin")]
    [InlineData("claire.dubois＠neuro-institute.example", "U+FF20")]
    [InlineData("ｃlaire@neuro-institute.example", "U+FF43")]
    [InlineData("сосо@neuro-institute.example", "Cyrillic letters that all look Latin")]
    [InlineData("claire@ορυ.example", "Greek letters that all look Latin")]
    [InlineData("claıre@neuro-institute.example", "U+0131")]
    [InlineData("claire\u200b@neuro-institute.example", "U+200B")]
    [InlineData("\u202eclaire@neuro-institute.example", "U+202E")]
    [InlineData("claire @neuro-institute.example", "space")]
    [InlineData("claire@localhost", "no dot")]
    [InlineData("claire@@neuro-institute.example", "exactly one '@'")]
    [InlineData("claire", "exactly one '@'")]
    [InlineData("claire..dubois@neuro-institute.example", "two dots")]
    [InlineData("\"claire\"@neuro-institute.example", "unquoted")]
    [InlineData("", "empty")]
    public void Problem_LookAlikeOrInvalidAddress_SaysWhy(string address, string expected)
    {
        var problem = Mailbox.Problem(address);
        Assert.NotNull(problem);
        Assert.Contains(expected, problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Problem_DecomposedAccent_IsRefused() =>
        Assert.Contains("separate accent", Mailbox.Problem("jose\u0301@universite.fr"), StringComparison.Ordinal);

    [Theory]
    [InlineData("Data-Steward@Neuro-Institute.example", "data-steward@neuro-institute.example", true)]
    [InlineData("data-steward+pi@neuro-institute.example", "data-steward@neuro-institute.example", true)]
    [InlineData("mailto:data-steward@neuro-institute.example", "data-steward@neuro-institute.example", true)]
    [InlineData("data-steward@neuro-institute.example", "rds-head@neuro-institute.example", false)]
    [InlineData(null, "rds-head@neuro-institute.example", false)]
    public void SamePerson_IgnoresCaseTagsAndScheme(string? first, string second, bool same) =>
        Assert.Equal(same, Mailbox.SamePerson(first, second));
}
