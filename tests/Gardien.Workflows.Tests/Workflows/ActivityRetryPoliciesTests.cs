using Gardien.Runtime;
using Gardien.Workflows.Ports;

namespace Gardien.Workflows.Tests.Workflows;

public sealed class ActivityRetryPoliciesTests
{
    [Theory]
    [InlineData(typeof(PortRefusedException))]
    [InlineData(typeof(PortNotFoundException))]
    [InlineData(typeof(NonRetryableActivityException))]
    [InlineData(typeof(ArgumentException))]
    public void RetryPolicy_FailureThatCannotSucceedLater_IsNotRetried(Type exceptionType)
    {
        var failure = new TaskFailureDetails(exceptionType.FullName!, "refused");

        Assert.False(ActivityRetryPolicies.IsRetryable(failure));
        Assert.False(ActivityRetryPolicies.Transient.Handle!(failure));
    }

    [Theory]
    [InlineData(typeof(PortException))]
    [InlineData(typeof(ConcurrencyConflictException))]
    [InlineData(typeof(TimeoutException))]
    public void RetryPolicy_TransientFailure_IsRetried(Type exceptionType)
    {
        Assert.True(ActivityRetryPolicies.IsRetryable(new TaskFailureDetails(exceptionType.FullName!, "try again")));
    }

    [Fact]
    public void RetryPolicy_RefusalWrappedInActivityFailure_IsNotRetried()
    {
        var wrapped = new TaskFailureDetails(typeof(InvalidOperationException).FullName!, "activity failed",
            InnerFailure: new TaskFailureDetails(typeof(PortRefusedException).FullName!, "container is under a legal hold"));

        Assert.False(ActivityRetryPolicies.IsRetryable(wrapped));
    }
}
