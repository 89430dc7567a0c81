using System.Text.Json;
using Gardien.Workflows.Ports;

namespace Gardien.Workflows.Audit;

/// <summary>Builds audit entries (pure: usable from workflow code with the replay-safe time).</summary>
public static class AuditEntries
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>
    /// An entry whose idempotency key is "{instanceId}:{action}:{subject}{discriminator}", stable across replays and retries.
    /// </summary>
    public static AuditEntry Create(
        string actor,
        string action,
        string instanceId,
        string subject,
        DateTime at,
        object? before = null,
        object? after = null,
        string? correlationId = null,
        string? discriminator = null) =>
        new(
            actor,
            action,
            instanceId,
            subject,
            new DateTimeOffset(DateTime.SpecifyKind(at, DateTimeKind.Utc)),
            ToJson(before),
            ToJson(after),
            correlationId,
            $"{instanceId}:{action}:{subject}{discriminator}");

    public static JsonElement? ToJson(object? value) =>
        value is null ? null : JsonSerializer.SerializeToElement(value, value.GetType(), Json);

    public static string DmpSubject(string dmpId) => "dmp:" + dmpId;

    public static string DatasetSubject(string dmpId, string datasetId) => $"dataset:{dmpId}/{datasetId}";

    public static string ContainerSubject(string container) => "container:" + container;
}
