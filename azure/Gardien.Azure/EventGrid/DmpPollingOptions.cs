using Microsoft.Extensions.Options;

namespace Gardien.Azure.EventGrid;

/// <summary>
/// Settings of the DMP-tool poller in Azure, read from the app settings the infrastructure already sets:
/// <c>EventGrid__DmpTopicEndpoint</c> (the custom topic), <c>ResearchData__tableServiceUri</c> (where checkpoints live),
/// and optionally <c>DmpPolling__CheckpointTable</c>, <c>DmpPolling__OverlapMinutes</c>, <c>DmpPolling__BatchSize</c>,
/// <c>DmpPolling__Schedule</c>.
/// </summary>
public sealed class DmpPollingOptions
{
    /// <summary>The poller timer's NCRONTAB schedule (six fields, seconds first); the Functions timer reads the same setting.</summary>
    public string Schedule { get; set; } = "0 */15 * * * *";

    public Uri? TopicEndpoint { get; set; }

    public Uri? TableServiceUri { get; set; }

    public string CheckpointTable { get; set; } = "GardienDmpPoll";

    public int OverlapMinutes { get; set; } = 10;

    public int BatchSize { get; set; } = 50;
}

internal sealed class DmpPollingOptionsValidator : IValidateOptions<DmpPollingOptions>
{
    public ValidateOptionsResult Validate(string? name, DmpPollingOptions options)
    {
        var errors = new List<string>();
        if (options.TopicEndpoint is not { Scheme: "https" })
        {
            errors.Add(
                "EventGrid__DmpTopicEndpoint is required and must be the https:// endpoint of the DMP topic (infra-bicep eventgrid output "
                + $"dmpTopicEndpoint); got '{options.TopicEndpoint}'.");
        }

        if (options.TableServiceUri is not { Scheme: "https" })
        {
            errors.Add(
                "ResearchData__tableServiceUri is required and must be an https:// table endpoint (the poll checkpoints live there); "
                + $"got '{options.TableServiceUri}'.");
        }

        if (string.IsNullOrWhiteSpace(options.CheckpointTable)
            || options.CheckpointTable.Length is < 3 or > 63
            || !char.IsAsciiLetter(options.CheckpointTable[0])
            || !options.CheckpointTable.All(char.IsAsciiLetterOrDigit))
        {
            errors.Add(
                $"DmpPolling__CheckpointTable '{options.CheckpointTable}' is not a table name: 3–63 letters and digits, "
                + "starting with a letter.");
        }

        if (options.OverlapMinutes is < 0 or > 1440)
        {
            errors.Add($"DmpPolling__OverlapMinutes must be 0–1440; got {options.OverlapMinutes}.");
        }

        if (string.IsNullOrWhiteSpace(options.Schedule) || options.Schedule.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length != 6)
        {
            errors.Add(
                $"DmpPolling__Schedule '{options.Schedule}' is not an NCRONTAB schedule: six fields, seconds first (e.g. 0 */15 * * * *).");
        }

        if (options.BatchSize is < 1 or > 500)
        {
            errors.Add($"DmpPolling__BatchSize must be 1–500; got {options.BatchSize}.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
