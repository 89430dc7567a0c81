using System.Globalization;
using System.Text.Json;
using Azure.Identity;
using Gardien.Workflows.Ports;
using Microsoft.Graph.Models.ODataErrors;
using Microsoft.Kiota.Abstractions;

namespace Gardien.Azure.Graph;

/// <summary>
/// Runs one Graph call: waits and tries again on throttling (429, 503, 504, honouring Retry-After up to
/// <see cref="GraphOptions.MaxRetryDelay"/>) and, when the caller says so, on the "not found" of a group that was just
/// created; then translates what is left into port exceptions.
/// </summary>
internal sealed class GraphCaller(GraphOptions options, Func<TimeSpan, CancellationToken, Task> delay)
{
    public GraphOptions Options => options;

    /// <summary>Waits with the real clock.</summary>
    public static Func<TimeSpan, CancellationToken, Task> RealDelay(TimeProvider time) => (span, ct) => Task.Delay(span, time, ct);

    public async Task<T> RunAsync<T>(
        string what,
        Func<CancellationToken, Task<T>> call,
        Func<ApiException, bool>? replicationDelay,
        CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await call(cancellationToken).ConfigureAwait(false);
            }
            catch (ApiException ex) when (attempt < options.MaxAttempts && IsThrottled(ex.ResponseStatusCode))
            {
                var wait = RetryAfter(ex.ResponseHeaders) ?? Backoff(TimeSpan.FromSeconds(1), attempt);
                if (wait > options.MaxRetryDelay)
                {
                    throw new PortException(
                        $"Microsoft Graph is throttling ({what}) and asks to wait {wait.TotalSeconds:0} s, "
                        + "longer than Graph__MaxRetryDelay; the call will be retried later.",
                        isTransient: true,
                        ex);
                }

                await delay(wait, cancellationToken).ConfigureAwait(false);
            }
            catch (ApiException ex) when (attempt < options.MaxAttempts && replicationDelay?.Invoke(ex) == true)
            {
                await delay(Backoff(options.ReplicationRetryDelay, attempt), cancellationToken).ConfigureAwait(false);
            }
            catch (ApiException ex)
            {
                throw Translate(what, ex);
            }
            catch (HttpRequestException ex)
            {
                throw new PortException($"Microsoft Graph could not be reached ({what}): {ex.Message}", isTransient: true, ex);
            }
            catch (AuthenticationFailedException ex)
            {
                throw new PortException(
                    $"The app's identity could not get a Microsoft Graph token ({what}): {ex.Message}", isTransient: true, ex);
            }
            catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
            {
                throw new PortException(
                    $"Microsoft Graph did not answer within Graph__RequestTimeout ({what}); the call can be retried.",
                    isTransient: true,
                    ex);
            }
            catch (Exception ex) when (ex is JsonException or FormatException or InvalidOperationException)
            {
                throw new PortException(
                    $"Microsoft Graph sent an unreadable answer ({what}); the call can be retried.", isTransient: true, ex);
            }
        }
    }

    public Task RunAsync(
        string what,
        Func<CancellationToken, Task> call,
        Func<ApiException, bool>? replicationDelay,
        CancellationToken cancellationToken) =>
        RunAsync<bool>(what, async ct =>
        {
            await call(ct).ConfigureAwait(false);
            return true;
        }, replicationDelay, cancellationToken);

    public static bool IsThrottled(int status) => status is 429 or 503 or 504;

    /// <summary>The error's code and message as Graph sent them, for diagnostics.</summary>
    public static string Describe(ApiException ex) =>
        ex is ODataError { Error: { } error }
            ? $"{ex.ResponseStatusCode} {error.Code}: {error.Message}"
            : ex.ResponseStatusCode.ToString(CultureInfo.InvariantCulture);

    /// <summary>Graph's words for a reference that is already there (adding an existing member).</summary>
    public static bool IsAlreadyExists(ApiException ex) =>
        ex.ResponseStatusCode == 400 && ex is ODataError { Error.Message: { } message }
        && message.Contains("already exist", StringComparison.OrdinalIgnoreCase);

    /// <summary>A 404, or Graph's 400 for a referenced object it cannot see (both happen while a new group replicates).</summary>
    public static bool IsNotFound(ApiException ex) =>
        ex.ResponseStatusCode == 404
        || (ex.ResponseStatusCode == 400 && ex is ODataError { Error.Message: { } message }
            && (message.Contains("does not exist", StringComparison.OrdinalIgnoreCase)
                || message.Contains("do not exist", StringComparison.OrdinalIgnoreCase)));

    public static PortException Translate(string what, ApiException ex) => ex.ResponseStatusCode switch
    {
        401 => new PortRefusedException(
            $"Microsoft Graph rejected the app's token ({what}, {Describe(ex)}): check that the managed identity (AZURE_CLIENT_ID) "
            + "belongs to this tenant.",
            ex),
        403 => new PortRefusedException(
            $"Microsoft Graph refused {what} ({Describe(ex)}): the managed identity lacks an application permission (docs/ops.md lists "
            + "them: User.Read.All, GroupMember.ReadWrite.All, Group.Create, TeamsActivity.Send, Mail.Send).",
            ex),
        404 => new PortNotFoundException($"Microsoft Graph: not found ({what}, {Describe(ex)}).", ex),
        400 when IsNotFound(ex) => new PortNotFoundException($"Microsoft Graph: an object does not exist ({what}, {Describe(ex)}).", ex),
        400 or 405 or 413 or 422 => new PortRefusedException($"Microsoft Graph rejected {what} ({Describe(ex)}).", ex),
        409 or 412 => new ConcurrencyConflictException($"Microsoft Graph reports a conflict ({what}, {Describe(ex)}); try again.", ex),
        _ => new PortException($"Microsoft Graph failed ({what}, {Describe(ex)}); the call can be retried.", isTransient: true, ex),
    };

    /// <summary>Retry-After as seconds or an HTTP date; null when absent or unreadable.</summary>
    public static TimeSpan? RetryAfter(IDictionary<string, IEnumerable<string>>? headers)
    {
        var value = headers?.FirstOrDefault(h => string.Equals(h.Key, "Retry-After", StringComparison.OrdinalIgnoreCase))
            .Value?.FirstOrDefault();
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
        {
            return TimeSpan.FromSeconds(seconds);
        }

        return DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)
            ? TimeSpan.FromSeconds(Math.Max(0, Math.Ceiling((at - DateTimeOffset.UtcNow).TotalSeconds)))
            : null;
    }

    private static TimeSpan Backoff(TimeSpan first, int attempt) => first * Math.Pow(2, attempt - 1);
}
