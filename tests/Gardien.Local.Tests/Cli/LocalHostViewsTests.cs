using Gardien.Cli;
using Gardien.Workflows.Notifications;
using Gardien.Workflows.Ports;

namespace Gardien.Local.Tests.Cli;

public sealed class LocalHostViewsTests
{
    [Fact]
    public void DescribeAwaiting_RequestNotDelivered_SaysWhatDidNotGoOutAndWhy()
    {
        var failure = new NotificationFailure(
            NotificationKind.ApprovalRequest, ["pi@uni.example"], "Approval needed", "request", "mail server down");
        var pending = new PendingApproval(
            "intake-x-approval-pi",
            "pi",
            ["pi@uni.example"],
            new DateTimeOffset(2026, 3, 4, 8, 0, 0, TimeSpan.Zero),
            false,
            null,
            [failure]);
        var snapshot = new IntakeSnapshot("intake-x", "dmp-x", null, null, null, null, [pending], null, [], [], []);

        var line = Assert.Single(LocalHostViews.DescribeAwaiting(snapshot));

        Assert.Equal("pi: pi@uni.example (expires 2026-03-04) [not delivered: ApprovalRequest to pi@uni.example: mail server down]", line);
    }
}
