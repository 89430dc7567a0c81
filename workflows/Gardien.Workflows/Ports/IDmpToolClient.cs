namespace Gardien.Workflows.Ports;

/// <summary>The DMP tool a plan comes from (DMP OPIDoR, DMPTool, a folder locally): fetch a DMP, write provisioning facts back.</summary>
public interface IDmpToolClient
{
    /// <summary>The DMP as the tool serves it (raw maDMP JSON), or null when the tool does not know it.</summary>
    Task<FetchedDmp?> FetchDmpAsync(string dmpId, CancellationToken cancellationToken = default);

    /// <summary>DMPs modified after the instant (all when null), as in the Common maDMP API <c>GET /dmps?modified_after=</c>.</summary>
    Task<IReadOnlyList<DmpSummary>> ListDmpsAsync(DateTimeOffset? modifiedAfter, CancellationToken cancellationToken = default);

    /// <summary>
    /// Writes the provisioning facts of one dataset back to the DMP (<c>distribution.host</c>). Idempotent merge keyed
    /// by <see cref="DmpWriteBack.DatasetId"/>: writing the same facts again changes nothing (<c>Changed = false</c>).
    /// </summary>
    Task<OperationResult> WriteBackAsync(string dmpId, DmpWriteBack writeBack, CancellationToken cancellationToken = default);
}

/// <param name="Json">The maDMP document exactly as served (the reader validates it).</param>
/// <param name="Modified">The DMP's <c>modified</c> as the tool reports it, when known without parsing.</param>
/// <param name="Version">Tool-side version tag (ETag, file hash), when any.</param>
public sealed record FetchedDmp(string DmpId, string Json, DateTimeOffset? Modified, string? Version)
{
    /// <summary>
    /// The tool's own export of the same version, when it carries governance facts the RDA export drops (DMP OPIDoR's
    /// "standard" export: storage type, backup, preservation end date). Evaluation merges it in with the mapper named by
    /// <see cref="NativeFormat"/>; it never overrides what <see cref="Json"/> states.
    /// </summary>
    public string? NativeExport { get; init; }

    /// <summary>The mapper for <see cref="NativeExport"/> (<c>IMadmpSourceMapper.SourceName</c>, e.g. "dmp-opidor").</summary>
    public string? NativeFormat { get; init; }
}

/// <summary>A plan the DMP tool lists.</summary>
/// <param name="DmpId">The plan's <c>dmp_id</c>.</param>
/// <param name="Modified">Its <c>modified</c>, when the listing says.</param>
public sealed record DmpSummary(string DmpId, DateTimeOffset? Modified)
{
    /// <summary>
    /// The tool's own identifier of the plan (DMP OPIDoR plan number, Common maDMP API system id), when it differs from the dmp_id.
    /// </summary>
    public string? ToolId { get; init; }
}

/// <param name="HostUrl">Written to <c>host.url</c>.</param>
/// <param name="StorageType">Written to <c>host.storage_type</c>.</param>
/// <param name="BackupFrequency">Written to <c>host.backup_frequency</c>.</param>
/// <param name="ProvisionedLocation">Human-readable location (account/container).</param>
public sealed record DmpWriteBack(string DatasetId, Uri HostUrl, string StorageType, string BackupFrequency, string ProvisionedLocation);
