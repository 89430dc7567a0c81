using Gardien.Local.Notifications;
using Gardien.Workflows.Ports;
using Microsoft.Extensions.Time.Testing;

namespace Gardien.Local.Tests.Adapters;

public sealed class InboxNotifierTests : IDisposable
{
    private readonly TempFolder _temp = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 23, 12, 0, 0, TimeSpan.Zero));

    public void Dispose() => _temp.Dispose();

    private static Notification Approval(string key = "intake-1:dpo:request") => new(
        NotificationKind.ApprovalRequest,
        ["dpo@neuro-institute.example", "dpo-deputy@neuro-institute.example"],
        "Approval needed: health study",
        "Please review the plan.",
        [
            new NotificationLink("Approve", new Uri("http://127.0.0.1:7071/approve?token=abc")),
            new NotificationLink("Reject", new Uri("http://127.0.0.1:7071/reject?token=abc")),
        ],
        "intake-1",
        key);

    [Fact]
    public async Task Send_WritesJsonAndMarkdownPerRecipient_ReadableByTheInboxReader()
    {
        var notifier = new InboxNotifier(_temp.Path, _time);

        var receipt = await notifier.SendAsync(Approval());

        Assert.False(receipt.Duplicate);
        var reader = new InboxReader(_temp.Path);
        var messages = await reader.ListAsync("DPO@neuro-institute.example");
        var message = Assert.Single(messages);
        Assert.Equal(receipt.MessageId, message.MessageId);
        Assert.Equal(NotificationKind.ApprovalRequest, message.Kind);
        Assert.Equal("http://127.0.0.1:7071/approve?token=abc", message.Links[0].Url.ToString());
        Assert.True(File.Exists(Path.ChangeExtension(message.FilePath, ".md")));
        Assert.Contains(
            "[Approve](<http://127.0.0.1:7071/approve?token=abc>)",
            await File.ReadAllTextAsync(Path.ChangeExtension(message.FilePath, ".md")),
            StringComparison.Ordinal);
        Assert.Equal(["dpo-deputy@neuro-institute.example", "dpo@neuro-institute.example"], reader.ListRecipients());
        Assert.Contains("approval-request", Path.GetFileName(message.FilePath), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Send_SameDeduplicationKeyTwice_DeliversOnce()
    {
        var notifier = new InboxNotifier(_temp.Path, _time);

        var first = await notifier.SendAsync(Approval());
        _time.Advance(TimeSpan.FromMinutes(5));
        var second = await notifier.SendAsync(Approval());

        Assert.True(second.Duplicate);
        Assert.Equal(first.MessageId, second.MessageId);
        Assert.Equal(2, (await new InboxReader(_temp.Path).ListAsync()).Count); // one copy per recipient
    }

    [Fact]
    public async Task Send_SameKeyConcurrently_DeliversOnce()
    {
        var notifier = new InboxNotifier(_temp.Path, _time);

        var receipts = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => notifier.SendAsync(Approval("same"))));

        Assert.Single(receipts.Select(r => r.MessageId).Distinct());
        Assert.Single(await new InboxReader(_temp.Path).ListAsync("dpo@neuro-institute.example"));
    }

    [Fact]
    public async Task Send_DifferentKeys_AreSeparateMessagesInOrder()
    {
        var notifier = new InboxNotifier(_temp.Path, _time);

        await notifier.SendAsync(Approval("k1"));
        _time.Advance(TimeSpan.FromDays(3));
        await notifier.SendAsync(Approval("k2") with { Kind = NotificationKind.Reminder });

        var messages = await new InboxReader(_temp.Path).ListAsync("dpo@neuro-institute.example");
        Assert.Equal([NotificationKind.ApprovalRequest, NotificationKind.Reminder], messages.Select(m => m.Kind));
    }

    [Fact]
    public async Task Send_NoRecipient_ThrowsNonTransient()
    {
        var ex = await Assert.ThrowsAsync<PortRefusedException>(
            () => new InboxNotifier(_temp.Path, _time).SendAsync(Approval() with { To = [] }));

        Assert.False(ex.IsTransient);
    }
}
