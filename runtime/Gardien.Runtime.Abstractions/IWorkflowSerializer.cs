using System.Text.Json;

namespace Gardien.Runtime;

/// <summary>
/// Turns inputs, outputs, event payloads and custom statuses into the strings stored in history; mirrors Durable
/// Task's <c>DataConverter</c>. Must round-trip every type workflows exchange.
/// </summary>
public interface IWorkflowSerializer
{
    /// <summary>Null stays null.</summary>
    string? Serialize(object? value);

    /// <summary>Null or empty data yields the default of <paramref name="targetType"/>.</summary>
    object? Deserialize(string? data, Type targetType);
}

/// <summary>Typed helpers over <see cref="IWorkflowSerializer"/>.</summary>
public static class WorkflowSerializerExtensions
{
    /// <summary>Reads <paramref name="data"/> as a <typeparamref name="T"/> (null or empty data: the default).</summary>
    public static T? Deserialize<T>(this IWorkflowSerializer serializer, string? data)
    {
        ArgumentNullException.ThrowIfNull(serializer);
        return (T?)serializer.Deserialize(data, typeof(T));
    }
}

/// <summary>System.Text.Json serializer (the default; same defaults as Durable Task's <c>JsonDataConverter</c>).</summary>
public sealed class JsonWorkflowSerializer(JsonSerializerOptions? options = null) : IWorkflowSerializer
{
    /// <summary>The serializer with System.Text.Json's general defaults.</summary>
    public static JsonWorkflowSerializer Default { get; } = new();

    private readonly JsonSerializerOptions _options = options ?? new JsonSerializerOptions(JsonSerializerDefaults.General);

    /// <inheritdoc/>
    public string? Serialize(object? value) =>
        value is null ? null : JsonSerializer.Serialize(value, value.GetType(), _options);

    /// <inheritdoc/>
    public object? Deserialize(string? data, Type targetType)
    {
        ArgumentNullException.ThrowIfNull(targetType);
        if (string.IsNullOrEmpty(data))
        {
            return targetType.IsValueType && Nullable.GetUnderlyingType(targetType) is null ? Activator.CreateInstance(targetType) : null;
        }

        return targetType == typeof(object)
            ? JsonSerializer.Deserialize<JsonElement>(data, _options)
            : JsonSerializer.Deserialize(data, targetType, _options);
    }
}
