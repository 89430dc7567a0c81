using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Gardien.Workflows.Hosting.DmpPolling;

/// <summary>A configured DMP tool the poller asks for changed plans.</summary>
/// <param name="Name">Short stable name (the checkpoint key and the events' <c>tool</c>), e.g. "opidor".</param>
public sealed record DmpToolSource(string Name, Workflows.Ports.IDmpToolClient Client);

public enum DmpChangeKind
{
    /// <summary>Gardien does not govern the DMP yet.</summary>
    Submitted,

    /// <summary>A new version of a DMP Gardien knows.</summary>
    Updated,
}

/// <summary>
/// One new version of a DMP in a tool: a reference, never the document (the workflow fetches it). Its
/// <see cref="EventId"/> is the same every time the same version is seen, so a duplicate is recognisable downstream.
/// </summary>
/// <param name="ToolId">The tool's own id of the plan, when it has one besides the dmp_id.</param>
public sealed record DmpChange(string Tool, string DmpId, string? ToolId, DateTimeOffset Modified, DmpChangeKind Kind)
{
    public const string SubmittedType = "Gardien.Dmp.Submitted";
    public const string UpdatedType = "Gardien.Dmp.Updated";

    /// <summary>The CloudEvent type.</summary>
    public string EventType => Kind == DmpChangeKind.Submitted ? SubmittedType : UpdatedType;

    /// <summary>The CloudEvent source: <c>/gardien/dmp-tools/{tool}</c>.</summary>
    public string Source => "/gardien/dmp-tools/" + Tool;

    public string EventId =>
        Convert.ToHexStringLower(
            SHA256.HashData(Encoding.UTF8.GetBytes($"{Tool}\n{DmpId}\n{Modified.UtcTicks.ToString(CultureInfo.InvariantCulture)}")))[..32];

    /// <summary>The event's data: tool, id (the tool's, else the dmp_id), dmp_id and modified.</summary>
    public DmpChangeReference Reference => new(Tool, ToolId ?? DmpId, DmpId, Modified);

    /// <summary>The router's input for this version: the workflow fetches the document itself.</summary>
    public DmpEvent ToDmpEvent() => new(DmpId, null, Modified);
}

/// <summary>The data of a <c>Gardien.Dmp.Submitted</c> / <c>Gardien.Dmp.Updated</c> CloudEvent (JSON, camelCase).</summary>
public sealed record DmpChangeReference(string Tool, string Id, string DmpId, DateTimeOffset Modified)
{
    public DmpEvent ToDmpEvent() => new(DmpId, null, Modified);
}

/// <summary>Where the poller sends changes: Event Grid in Azure, the router directly in a single-process host.</summary>
public interface IDmpChangePublisher
{
    /// <summary>Publishes the changes in order, all or none (a failure throws; the poller then keeps its checkpoint).</summary>
    Task PublishAsync(IReadOnlyList<DmpChange> changes, CancellationToken cancellationToken = default);
}

/// <summary>The poller's durable position per tool.</summary>
/// <param name="Watermark">The latest <c>modified</c> published.</param>
/// <param name="Recent">Versions published within the overlap window before <paramref name="Watermark"/> ("dmpId\nticks"), not published
/// twice.</param>
/// <param name="ETag">The stored version; null for a new checkpoint.</param>
public sealed record DmpPollCheckpoint(string Tool, DateTimeOffset? Watermark, IReadOnlyList<string> Recent, string? ETag = null);

/// <summary>
/// Stores the poller's checkpoints (a table in Azure). Saves are optimistic: a stale ETag throws
/// <see cref="Workflows.Ports.ConcurrencyConflictException"/>.
/// </summary>
public interface IDmpPollCheckpointStore
{
    Task<DmpPollCheckpoint?> GetAsync(string tool, CancellationToken cancellationToken = default);

    /// <summary>Stores the checkpoint and returns it with its new ETag.</summary>
    Task<DmpPollCheckpoint> SaveAsync(DmpPollCheckpoint checkpoint, CancellationToken cancellationToken = default);
}

/// <summary>Publishes straight to the router: the local host, where there is no Event Grid.</summary>
public sealed class RouterDmpChangePublisher(DmpEventRouter router) : IDmpChangePublisher
{
    public async Task PublishAsync(IReadOnlyList<DmpChange> changes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(changes);
        foreach (var change in changes)
        {
            await router.RouteAsync(change.ToDmpEvent(), cancellationToken).ConfigureAwait(false);
        }
    }
}
