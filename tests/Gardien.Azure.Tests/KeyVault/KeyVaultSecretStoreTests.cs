using Azure.Core.Pipeline;
using Azure.Security.KeyVault.Secrets;
using Gardien.Azure.KeyVault;
using Gardien.Azure.Tests.Fakes;
using Gardien.Testing.Logging;
using Gardien.Workflows.Approvals;
using Gardien.Workflows.Ports;
using Microsoft.Extensions.Time.Testing;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Gardien.Azure.Tests.KeyVault;

public sealed class KeyVaultSecretStoreTests : IDisposable
{
    private const string KeyName = "approval-signing-key-k1";
    private static readonly string KeyV1 = Convert.ToBase64String(Enumerable.Range(1, 48).Select(i => (byte)i).ToArray());
    private static readonly string KeyV2 = Convert.ToBase64String(Enumerable.Range(100, 48).Select(i => (byte)i).ToArray());

    private readonly FakeKeyVault _vault = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero));
    private readonly FixedTokenCredential _credential = new();
    private readonly ListLogger<KeyVaultSecretStore> _log = new();

    public void Dispose() => _vault.Dispose();

    [Fact]
    public async Task GetSecret_AnswersTheChallengeWithTheIdentitysToken_OverHttps()
    {
        _vault.SetSecret(KeyName, KeyV1, _time.GetUtcNow().AddDays(-2));

        Assert.Equal(KeyV1, await Store().GetSecretAsync(KeyName));

        Assert.Equal(2, _vault.Requests.Count);
        Assert.Null(Loopback.Header(_vault.Requests[0], "Authorization"));
        var request = Assert.Single(_vault.AuthenticatedRequests);
        Assert.Equal(
            ("GET", "/secrets/" + KeyName, "Bearer test-token"),
            (request.Method, request.Path.TrimEnd('/'), Loopback.Header(request, "Authorization")));
        Assert.Equal("https", new Uri(request.Url).Scheme);
        Assert.True(Loopback.Query(request).ContainsKey("api-version"));
        Assert.Contains("https://vault.azure.net/.default", _credential.Scopes);
    }

    [Fact]
    public async Task GetSecret_WithinTheCacheDuration_AsksOnce_ThenPicksUpTheRotatedVersion()
    {
        var store = Store();
        _vault.SetSecret(KeyName, KeyV1, _time.GetUtcNow().AddDays(-2));
        Assert.Equal(KeyV1, await store.GetSecretAsync(KeyName));

        _vault.SetSecret(KeyName, KeyV2, _time.GetUtcNow());
        _time.Advance(TimeSpan.FromMinutes(4));
        Assert.Equal(KeyV1, await store.GetSecretAsync(KeyName));
        Assert.Single(_vault.AuthenticatedRequests);

        _time.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(KeyV2, await store.GetSecretAsync(KeyName));
        Assert.Equal(2, _vault.AuthenticatedRequests.Count);
    }

    [Fact]
    public async Task AcceptedValues_PreviousVersionOnlyWithinTheRotationWindow()
    {
        var now = _time.GetUtcNow();
        _vault.SetSecret(KeyName, KeyV1, now.AddDays(-60));
        _vault.SetSecret(KeyName, KeyV2, now.AddDays(-1));
        var store = Store();

        Assert.Equal([KeyV2, KeyV1], await store.GetAcceptedSecretValuesAsync(KeyName));
        Assert.Contains(_vault.AuthenticatedRequests, r => r.Path.TrimEnd('/') == $"/secrets/{KeyName}/versions");

        _time.Advance(TimeSpan.FromDays(30));
        Assert.Equal([KeyV2], await store.GetAcceptedSecretValuesAsync(KeyName));
    }

    [Fact]
    public void AcceptedVersions_DisabledExpiredAndFutureVersionsAreNeverAccepted()
    {
        var now = _time.GetUtcNow();
        static SecretProperties Version(
            string id,
            DateTimeOffset created,
            bool enabled = true,
            DateTimeOffset? expires = null,
            DateTimeOffset? notBefore = null)
        {
            var properties = SecretModelFactory.SecretProperties(
                new Uri($"https://v.example/secrets/s/{id}"), name: "s", version: id, createdOn: created);
            properties.Enabled = enabled;
            properties.ExpiresOn = expires;
            properties.NotBefore = notBefore;
            return properties;
        }

        var accepted = KeyVaultSecretStore.AcceptedVersions(
            [
                Version("old", now.AddDays(-3)),
                Version("disabled", now.AddDays(-2), enabled: false),
                Version("current", now.AddDays(-1)),
                Version("expired", now.AddHours(-2), expires: now.AddHours(-1)),
                Version("future", now.AddHours(-1), notBefore: now.AddDays(1)),
            ],
            now,
            TimeSpan.FromDays(30));

        Assert.Equal(["current", "old"], accepted.Select(v => v.Version));
    }

    [Fact]
    public async Task ApprovalLink_SignedBeforeARotation_VerifiesDuringTheWindowOnly()
    {
        var ledger = new MemoryLedger();
        var store = Store();
        var tokens = new ApprovalTokenService(store, ledger, new ApprovalTokenSettings(), _time);
        _vault.SetSecret(KeyName, KeyV1, _time.GetUtcNow().AddDays(-90));
        var request = new ApprovalTokenRequest("t1", "i1", "pi", "pi@inst.example", ["approve", "reject"], _time.GetUtcNow().AddDays(60));
        var before = await tokens.IssueAsync(request);

        _vault.SetSecret(KeyName, KeyV2, _time.GetUtcNow());
        _time.Advance(TimeSpan.FromMinutes(6));
        var after = await tokens.IssueAsync(request);

        Assert.NotEqual(before, after);
        Assert.True((await tokens.ValidateAsync(before)).IsValid);
        Assert.True((await tokens.ValidateAsync(after)).IsValid);

        _time.Advance(TimeSpan.FromDays(31));
        Assert.Equal(ApprovalTokenFailure.BadSignature, (await tokens.ValidateAsync(before)).Failure);
        Assert.True((await tokens.ValidateAsync(after)).IsValid);
    }

    [Fact]
    public async Task MissingSecret_IsNotFound()
    {
        var ex = await Assert.ThrowsAsync<PortNotFoundException>(() => Store().GetSecretAsync("teams-workflow-webhook-url"));

        Assert.Contains("teams-workflow-webhook-url", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RefusedIdentity_IsRefusedNamingTheRole()
    {
        _vault.SetSecret(KeyName, KeyV1, _time.GetUtcNow());
        _vault.Fail(() => FakeKeyVault.Error(403, "Forbidden", "Caller is not authorized to perform action on resource."));

        var ex = await Assert.ThrowsAsync<PortRefusedException>(() => Store().GetSecretAsync(KeyName));

        Assert.Contains("Key Vault Secrets User", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Throttled_IsRetriedAfterRetryAfter()
    {
        _vault.SetSecret(KeyName, KeyV1, _time.GetUtcNow());
        _vault.Fail(() => FakeKeyVault.Error(429, "Throttled", "Rate limit exceeded.", ("Retry-After", "1")));

        Assert.Equal(KeyV1, await Store(o => o.MaxRetries = 2).GetSecretAsync(KeyName));
        Assert.Equal(2, _vault.AuthenticatedRequests.Count);
    }

    [Fact]
    public async Task Outage_AfterTheRetries_IsTransient()
    {
        _vault.SetSecret(KeyName, KeyV1, _time.GetUtcNow());
        _vault.Fail(() => FakeKeyVault.Error(503, "ServiceUnavailable", "Down."), () => FakeKeyVault.Error(500, "InternalError", "Oops."));

        var ex = await Assert.ThrowsAsync<PortException>(() => Store(o => o.MaxRetries = 1).GetSecretAsync(KeyName));

        Assert.True(ex.IsTransient);
        Assert.Equal(2, _vault.AuthenticatedRequests.Count);
    }

    [Fact]
    public async Task MalformedAnswer_IsTransient()
    {
        _vault.SetSecret(KeyName, KeyV1, _time.GetUtcNow());
        _vault.Fail(() => Loopback.Json(200, "{\"value\": \"abc\", \"id\": "));

        var ex = await Assert.ThrowsAsync<PortException>(() => Store().GetSecretAsync(KeyName));

        Assert.True(ex.IsTransient);
    }

    [Fact]
    public async Task SlowVault_TimesOutAsTransient()
    {
        _vault.Loopback.Server.Given(Request.Create().WithPath("/secrets/slow*").UsingGet()).AtPriority(1)
            .RespondWith(Response.Create().WithStatusCode(200).WithBody("{}").WithDelay(TimeSpan.FromSeconds(2)));

        var ex = await Assert.ThrowsAsync<PortException>(
            () => Store(o => o.NetworkTimeout = TimeSpan.FromMilliseconds(300)).GetSecretAsync("slow-secret"));

        Assert.True(ex.IsTransient);
    }

    [Fact]
    public async Task InvalidName_IsRefusedWithoutAsking()
    {
        await Assert.ThrowsAsync<PortRefusedException>(() => Store().GetSecretAsync("approval_signing/key"));
        Assert.Empty(_vault.Requests);
    }

    [Fact]
    public async Task SecretValues_AreNeverLogged()
    {
        _vault.SetSecret(KeyName, KeyV1, _time.GetUtcNow().AddDays(-40));
        _vault.SetSecret(KeyName, KeyV2, _time.GetUtcNow().AddDays(-1));
        var store = Store();

        await store.GetSecretAsync(KeyName);
        await store.GetAcceptedSecretValuesAsync(KeyName);

        Assert.NotEmpty(_log.Lines);
        Assert.DoesNotContain(
            _log.Lines, line => line.Contains(KeyV1, StringComparison.Ordinal) || line.Contains(KeyV2, StringComparison.Ordinal));
    }

    private KeyVaultSecretStore Store(Action<KeyVaultOptions>? configure = null)
    {
        var options = new KeyVaultOptions { VaultUri = _vault.VaultUri, MaxRetries = 0 };
        configure?.Invoke(options);
        var client = KeyVaultSecretStore.CreateClient(
            options, _credential, new HttpClientTransport(Loopback.TrustingHandler()), disableChallengeResourceVerification: true);
        return new KeyVaultSecretStore(client, options, _time, _log);
    }
}
