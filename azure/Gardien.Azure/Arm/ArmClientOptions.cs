using Azure.Core;

namespace Gardien.Azure.Arm;

/// <summary>
/// Pipeline options of the Azure Resource Manager calls: throttling (429) and 5xx answers are retried with exponential
/// back-off that honours <c>Retry-After</c>; each try is bounded by <see cref="RetryOptions.NetworkTimeout"/>. What is
/// still failing after the retries surfaces as a transient <see cref="Gardien.Workflows.Ports.PortException"/>, so the
/// workflow's own retry policy takes over.
/// </summary>
public sealed class ArmClientOptions : ClientOptions
{
    public ArmClientOptions()
    {
        Retry.Mode = RetryMode.Exponential;
        Retry.MaxRetries = 4;
        Retry.Delay = TimeSpan.FromSeconds(1);
        Retry.MaxDelay = TimeSpan.FromSeconds(30);
        Retry.NetworkTimeout = TimeSpan.FromSeconds(30);
    }
}
