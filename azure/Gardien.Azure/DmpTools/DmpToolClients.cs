using System.Collections.Concurrent;
using Gardien.Workflows.Hosting.DmpPolling;
using Gardien.Workflows.Ports;

namespace Gardien.Azure.DmpTools;

/// <summary>
/// The configured DMP tools as one <see cref="IDmpToolClient"/> for the workflows: a DMP is fetched from the first
/// tool that knows it, written back to that tool, and listed from all of them. <see cref="Sources"/> gives the poller
/// the tools one by one.
/// </summary>
public sealed class DmpToolClients(IReadOnlyList<DmpToolSource> sources) : IDmpToolClient
{
    private readonly ConcurrentDictionary<string, IDmpToolClient> _owner = new(StringComparer.Ordinal);

    public IReadOnlyList<DmpToolSource> Sources => sources;

    public async Task<FetchedDmp?> FetchDmpAsync(string dmpId, CancellationToken cancellationToken = default)
    {
        foreach (var source in Ordered(dmpId))
        {
            if (await source.Client.FetchDmpAsync(dmpId, cancellationToken).ConfigureAwait(false) is { } fetched)
            {
                _owner[dmpId] = source.Client;
                return fetched;
            }
        }

        return null;
    }

    public async Task<IReadOnlyList<DmpSummary>> ListDmpsAsync(DateTimeOffset? modifiedAfter, CancellationToken cancellationToken = default)
    {
        var all = new List<DmpSummary>();
        foreach (var source in sources)
        {
            all.AddRange(await source.Client.ListDmpsAsync(modifiedAfter, cancellationToken).ConfigureAwait(false));
        }

        return all;
    }

    public async Task<OperationResult> WriteBackAsync(string dmpId, DmpWriteBack writeBack, CancellationToken cancellationToken = default)
    {
        if (!_owner.ContainsKey(dmpId) && await FetchDmpAsync(dmpId, cancellationToken).ConfigureAwait(false) is null)
        {
            throw new PortNotFoundException(
                $"No configured DMP tool ({string.Join(", ", sources.Select(s => s.Name))}) knows DMP '{dmpId}'; "
                + "the provisioned location was not written back.");
        }

        return await _owner[dmpId].WriteBackAsync(dmpId, writeBack, cancellationToken).ConfigureAwait(false);
    }

    private IEnumerable<DmpToolSource> Ordered(string dmpId) =>
        _owner.TryGetValue(dmpId, out var owner) ? sources.OrderBy(s => ReferenceEquals(s.Client, owner) ? 0 : 1) : sources;
}
