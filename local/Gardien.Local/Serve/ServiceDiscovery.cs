using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;

namespace Gardien.Local.Serve;

/// <summary>What a running service writes in its state folder so that CLI commands find it.</summary>
/// <param name="Url">The base URL (<c>http://127.0.0.1:7071</c>).</param>
/// <param name="ApiKey">The key writes need (header <c>x-functions-key</c>, as in Azure).</param>
public sealed record ServiceEndpoint(Uri Url, string ApiKey, int ProcessId, DateTimeOffset StartedAt);

/// <summary>
/// The API key (generated on first start, kept in <c>{state}/api-key</c>) and the discovery file
/// <c>{state}/serve.json</c> (URL, key, process id) of a running service. Both files are readable by the owner only.
/// </summary>
public static class ServiceDiscovery
{
    public const string KeyHeader = "x-functions-key";
    public const string DiscoveryFileName = "serve.json";
    public const string KeyFileName = "api-key";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    /// <summary>The state folder's API key; created (32 random bytes, base64url) when there is none.</summary>
    public static string EnsureApiKey(string stateDirectory)
    {
        System.IO.Directory.CreateDirectory(stateDirectory);
        var path = Path.Combine(stateDirectory, KeyFileName);
        if (File.Exists(path) && File.ReadAllText(path).Trim() is { Length: >= 32 } existing)
        {
            return existing;
        }

        var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        WritePrivate(path, key + "\n");
        return key;
    }

    public static void Publish(string stateDirectory, ServiceEndpoint endpoint) =>
        WritePrivate(Path.Combine(stateDirectory, DiscoveryFileName), JsonSerializer.Serialize(endpoint, Json));

    /// <summary>Removes the discovery file if it is this process's.</summary>
    public static void Withdraw(string stateDirectory)
    {
        var path = Path.Combine(stateDirectory, DiscoveryFileName);
        if (Read(path) is { } endpoint && endpoint.ProcessId == Environment.ProcessId)
        {
            File.Delete(path);
        }
    }

    /// <summary>
    /// The running service of this state folder, or null: no discovery file, or its process is gone (a service killed
    /// without a clean stop leaves the file behind), or it does not answer its health route within a second.
    /// </summary>
    public static async Task<ServiceEndpoint?> FindAsync(string stateDirectory, CancellationToken cancellationToken = default)
    {
        var endpoint = Read(Path.Combine(stateDirectory, DiscoveryFileName));
        if (endpoint is null || !IsAlive(endpoint.ProcessId))
        {
            return null;
        }

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(1) };
        try
        {
            using var response = await http.GetAsync(new Uri(endpoint.Url, "/api/health"), cancellationToken).ConfigureAwait(false);
            return response.IsSuccessStatusCode ? endpoint : null;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    private static ServiceEndpoint? Read(string path)
    {
        try
        {
            return File.Exists(path) ? JsonSerializer.Deserialize<ServiceEndpoint>(File.ReadAllText(path), Json) : null;
        }
        catch (Exception ex) when (ex is JsonException or IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static bool IsAlive(int processId)
    {
        try
        {
            using var process = Process.GetProcessById(processId);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static void WritePrivate(string path, string content)
    {
        var temp = path + ".tmp";
        File.WriteAllText(temp, content);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        File.Move(temp, path, overwrite: true);
    }
}
