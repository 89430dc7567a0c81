using System.Collections.Concurrent;
using System.Globalization;
using Azure.Core;
using Azure.Core.Pipeline;

namespace Gardien.Benchmarks.Engine;

/// <summary>
/// Counts storage requests by operation (method and resource kind), to see where the requests per activity go.
/// Enabled with the environment variable <c>GARDIEN_BENCH_BREAKDOWN=1</c>.
/// </summary>
internal sealed class RequestBreakdownPolicy : HttpPipelineSynchronousPolicy
{
    private readonly ConcurrentDictionary<string, long> _counts = new(StringComparer.Ordinal);

    public static bool Enabled => Environment.GetEnvironmentVariable("GARDIEN_BENCH_BREAKDOWN") == "1";

    public override void OnSendingRequest(HttpMessage message) => Count(message);

    public void PrintAndReset(string scenario, int items)
    {
        Console.WriteLine($"  requests by operation, {scenario}:");
        foreach (var (key, count) in _counts.OrderByDescending(c => c.Value))
        {
            Console.WriteLine(
                string.Create(CultureInfo.InvariantCulture, $"    {key,-40} {count,7} ({(double)count / items:F2} per item)"));
        }

        _counts.Clear();
    }

    private void Count(HttpMessage message)
    {
        var path = message.Request.Uri.Path;
        var query = message.Request.Uri.Query;
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var resource = segments.Length > 1 ? segments[1] : path;
        var kind = resource.Contains("-control-", StringComparison.Ordinal) ? "control"
            : resource.EndsWith("-workitems", StringComparison.Ordinal) ? "workitems"
            : resource.Contains("History", StringComparison.Ordinal) ? "History"
            : resource.Contains("Instances", StringComparison.Ordinal) ? "Instances"
            : resource.StartsWith("$batch", StringComparison.Ordinal) ? "table-batch"
            : resource;
        var detail = query.Contains("peekonly", StringComparison.OrdinalIgnoreCase) ? " peek"
            : query.Contains("popreceipt", StringComparison.OrdinalIgnoreCase) ? " receipt"
            : query.Contains("filter", StringComparison.OrdinalIgnoreCase) ? " query"
            : string.Empty;
        _counts.AddOrUpdate($"{message.Request.Method} {kind}{detail}", 1, (_, n) => n + 1);
    }
}
