using BenchmarkDotNet.Running;
using Gardien.Benchmarks.Engine;
using Gardien.Benchmarks.Intake;

// `intake` runs one end-to-end intake of a large DMP on the local host (time and memory). `engine` runs the throughput scenarios of the
// durable engine (a custom runner: BenchmarkDotNet measures
// per-call latency, these scenarios measure sustained throughput per instance); anything else goes to BenchmarkDotNet.
if (args.Length > 0 && string.Equals(args[0], "engine", StringComparison.OrdinalIgnoreCase))
{
    return await EngineBenchmarkRunner.RunAsync(args[1..]).ConfigureAwait(false);
}

if (args.Length > 0 && string.Equals(args[0], "intake", StringComparison.OrdinalIgnoreCase))
{
    return await IntakeBenchmarkRunner.RunAsync(args[1..]).ConfigureAwait(false);
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
