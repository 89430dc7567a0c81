using Gardien.Runtime;
using Gardien.Workflows.Approvals;
using Gardien.Workflows.Hosting;
using Gardien.Workflows.Ports;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Moq;

namespace Gardien.Workflows.Tests.Workflows;

/// <summary>What the decision service's catch-all catches reaches the logs; the person only reads "try again".</summary>
public sealed class ApprovalDecisionServiceLoggingTests
{
    private static readonly DateTimeOffset Now = new(2026, 2, 2, 8, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Submit_BackendFails_ThePersonIsAskedToRetry_AndTheFailureIsLoggedWithoutTheToken()
    {
        var (service, logger, token) = await ServiceWithBrokenBackendAsync();

        var result = await service.SubmitAsync(token, "approve", null, "user:pi@neuro.example");

        Assert.False(result.Accepted);
        Assert.Contains("in a few minutes", result.Message, StringComparison.Ordinal);
        var entry = Assert.Single(logger.Entries);
        Assert.Equal(LogLevel.Error, entry.Level);
        Assert.Equal("table storage unreachable", entry.Exception!.Message);
        Assert.DoesNotContain(token, entry.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Preview_BackendFails_ThePageSaysTryAgain_AndTheFailureIsLogged()
    {
        var (service, logger, token) = await ServiceWithBrokenBackendAsync(failSecrets: true);

        var preview = await service.PreviewAsync("https://gardien.test/approvals/" + token + "?decision=approve");

        Assert.False(preview.Usable);
        Assert.Contains("try again", preview.Message, StringComparison.Ordinal);
        Assert.Equal("key vault unreachable", Assert.Single(logger.Entries).Exception!.Message);
    }

    private static async Task<(ApprovalDecisionService Service, CapturingLogger Logger, string Token)> ServiceWithBrokenBackendAsync(
        bool failSecrets = false)
    {
        var time = new FakeTimeProvider(Now);
        var key = "a-text-secret-of-at-least-thirty-two-characters!";
        var secrets = new Mock<ISecretStore>(MockBehavior.Strict);
        secrets.Setup(s => s.GetSecretAsync(It.IsAny<string>(), It.IsAny<CancellationToken>())).ReturnsAsync(key);
        var registry = new Mock<IGovernanceRegistry>(MockBehavior.Strict);
        var token = await new ApprovalTokenService(secrets.Object, registry.Object, new ApprovalTokenSettings(), time)
            .IssueAsync(new ApprovalTokenRequest(
                "tok-1", "intake-x-approval-pi", "pi", "pi@neuro.example", ["approve", "reject"], Now.AddDays(14)));
        if (failSecrets)
        {
            secrets.Setup(s => s.GetSecretAsync(It.IsAny<string>(), It.IsAny<CancellationToken>()))
                .ThrowsAsync(new InvalidOperationException("key vault unreachable"));
        }

        var client = new Mock<IWorkflowClient>(MockBehavior.Strict);
        client.Setup(c => c.GetInstanceAsync(It.IsAny<string>(), It.IsAny<bool>(), It.IsAny<bool>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new InvalidOperationException("table storage unreachable"));
        var logger = new CapturingLogger();
        var tokens = new ApprovalTokenService(secrets.Object, registry.Object, new ApprovalTokenSettings(), time);
        return (new ApprovalDecisionService(client.Object, tokens, time, logger), logger, token);
    }

    private sealed class CapturingLogger : ILogger<ApprovalDecisionService>
    {
        public List<(LogLevel Level, Exception? Exception, string Message)> Entries { get; } = [];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(
            LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Entries.Add((logLevel, exception, formatter(state, exception)));
    }
}
