using BenchmarkDotNet.Running;
using Gardien.Benchmarks.Engine;

// `engine` runs the throughput scenarios of the durable engine (a custom runner: BenchmarkDotNet measures
// per-call latency, these scenarios measure sustained throughput per instance); anything else goes to BenchmarkDotNet.
if (args.Length > 0 && string.Equals(args[0], "engine", StringComparison.OrdinalIgnoreCase))
{
    return await EngineBenchmarkRunner.RunAsync(args[1..]).ConfigureAwait(false);
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
