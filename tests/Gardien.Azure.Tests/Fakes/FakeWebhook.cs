using System.Collections.Concurrent;
using WireMock;
using WireMock.Matchers;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Gardien.Azure.Tests.Fakes;

/// <summary>
/// A Teams Workflows webhook ("When a Teams webhook request is received") over HTTPS on 127.0.0.1: 202 Accepted unless a fault is queued.
/// </summary>
public sealed class FakeWebhook : IDisposable
{
    private readonly ConcurrentQueue<Func<ResponseMessage>> _faults = new();

    public FakeWebhook()
    {
        Loopback = Loopback.Https();
        Loopback.Server.Given(Request.Create().WithPath(new WildcardMatcher("/*"))).RespondWith(Response.Create().WithCallback(_ =>
            _faults.TryDequeue(out var fault) ? fault() : Loopback.Empty(202)));
    }

    public Loopback Loopback { get; }

    /// <summary>The secret URL, with its signature in the query as Teams issues it.</summary>
    public Uri Url =>
        new(
            Loopback.Uri,
            "workflows/0f1e2d/triggers/manual/paths/invoke?api-version=1&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=SECRETSIGNATURE");

    public IReadOnlyList<IRequestMessage> Requests => Loopback.Requests;

    public void Fail(params Func<ResponseMessage>[] responses)
    {
        foreach (var response in responses)
        {
            _faults.Enqueue(response);
        }
    }

    public void Dispose() => Loopback.Dispose();
}
