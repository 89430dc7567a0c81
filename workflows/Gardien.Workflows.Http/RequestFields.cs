using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Gardien.Workflows.Http;

/// <summary>A small form or flat JSON object read from a request body, bounded in size.</summary>
internal static class RequestFields
{
    /// <summary>The fields, or null when the body is neither a form nor a JSON object (or is larger than <paramref
    /// name="limit"/>).</summary>
    public static async Task<IReadOnlyDictionary<string, string>?> ReadAsync(HttpRequest request, long limit,
        CancellationToken cancellationToken)
    {
        if (request.ContentLength > limit)
        {
            return null;
        }

        if (request.HasFormContentType)
        {
            var form = await request.ReadFormAsync(cancellationToken).ConfigureAwait(false);
            return form.ToDictionary(f => f.Key, f => f.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        }

        if (request.ContentLength is 0 || (request.ContentType is null && request.ContentLength is null))
        {
            return new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        }

        if (!IsJson(request.ContentType))
        {
            return null;
        }

        var body = await BoundedBody.ReadAsync(request, limit, cancellationToken).ConfigureAwait(false);
        if (body is null)
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            return document.RootElement.EnumerateObject()
                .Where(p => p.Value.ValueKind == JsonValueKind.String)
                .ToDictionary(p => p.Name, p => p.Value.GetString()!, StringComparer.OrdinalIgnoreCase);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public static bool IsJson(string? contentType)
    {
        var mediaType = contentType?.Split(';')[0].Trim();
        return mediaType is not null && (mediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || (mediaType.StartsWith("application/", StringComparison.OrdinalIgnoreCase) && mediaType.EndsWith("+json",
                StringComparison.OrdinalIgnoreCase)));
    }
}

/// <summary>Reads a request body up to a limit, whether or not the client announced its length.</summary>
internal static class BoundedBody
{
    /// <summary>The body, or null when it is longer than <paramref name="limit"/> bytes.</summary>
    public static async Task<byte[]?> ReadAsync(HttpRequest request, long limit, CancellationToken cancellationToken)
    {
        if (request.ContentLength > limit)
        {
            return null;
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > limit)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }
}
