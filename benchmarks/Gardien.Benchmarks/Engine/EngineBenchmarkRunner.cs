namespace Gardien.Benchmarks.Engine;

/// <summary>Runs the engine throughput scenarios; see docs/engine-azure-storage.md.</summary>
internal static class EngineBenchmarkRunner
{
    public static Task<int> RunAsync(string[] args)
    {
        _ = args;
        Console.WriteLine("Engine benchmarks are not wired yet.");
        return Task.FromResult(0);
    }
}
