using System.Collections.Concurrent;
using Gardien.Workflows.Approvals;
using Gardien.Workflows.Ports;
using Microsoft.Extensions.Time.Testing;
using Moq;

namespace Gardien.Workflows.Tests.Approvals;

public sealed class ApprovalTokenServiceTests
{
    private const string KeyOne = "b25lLW9uZS1vbmUtb25lLW9uZS1vbmUtb25lLW9uZS1vbmUtb25l"; // base64 of 39 bytes
    private const string KeyTwo = "a-text-secret-of-at-least-thirty-two-characters!";
    private static readonly DateTimeOffset Now = new(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);

    private readonly Dictionary<string, string> _secrets = new() { ["approval-signing-key-k1"] = KeyOne };
    private readonly ConcurrentDictionary<string, string> _usedTokens = new();
    private readonly FakeTimeProvider _time = new(Now);

    private ApprovalTokenService Service(ApprovalTokenSettings? settings = null)
    {
        var secrets = new Mock<ISecretStore>(MockBehavior.Strict);
        secrets.Setup(s => s.GetSecretAsync(It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .Returns((string name, CancellationToken _) => _secrets.TryGetValue(name, out var value)
                ? Task.FromResult(value)
                : Task.FromException<string>(new PortNotFoundException(name)));
        var registry = new Mock<IGovernanceRegistry>(MockBehavior.Strict);
        registry.Setup(
            r => r.TryConsumeTokenAsync(
                It.IsAny<string>(),
                It.IsAny<string>(),
                It.IsAny<DateTimeOffset>(),
                It.IsAny<DateTimeOffset>(),
                It.IsAny<CancellationToken>()))
            .Returns((string id, string fingerprint, DateTimeOffset _, DateTimeOffset _, CancellationToken _) =>
            {
                var stored = _usedTokens.GetOrAdd(id, fingerprint);
                return Task.FromResult(ReferenceEquals(stored, fingerprint) ? TokenConsumption.Consumed
                    : stored == fingerprint ? TokenConsumption.AlreadyConsumedBySameUse : TokenConsumption.AlreadyUsed);
            });
        return new ApprovalTokenService(secrets.Object, registry.Object, settings ?? new ApprovalTokenSettings(), _time);
    }

    private static ApprovalTokenRequest Request(string tokenId = "tok-1") =>
        new(tokenId, "approval-inst-1", "dpo", "dpo@neuro-institute.example", ["approve", "reject"], Now.AddDays(14));

    [Fact]
    public async Task Redeem_FreshToken_IsAcceptedWithItsClaims()
    {
        var service = Service();
        var token = await service.IssueAsync(Request());

        var result = await service.RedeemAsync(token, "approve", "approval-inst-1", "dpo@neuro-institute.example");

        Assert.True(result.IsValid, result.Message);
        Assert.Equal("approval-inst-1", result.Claims!.InstanceId);
        Assert.Equal("dpo", result.Claims.Role);
        Assert.Equal("tok-1", result.Claims.TokenId);
    }

    [Fact]
    public async Task Issue_SameRequest_GivesTheSameToken()
    {
        var service = Service();

        Assert.Equal(await service.IssueAsync(Request()), await service.IssueAsync(Request()));
        Assert.NotEqual(await service.IssueAsync(Request("tok-1")), await service.IssueAsync(Request("tok-2")));
    }

    [Fact]
    public async Task Redeem_AfterExpiry_IsRejectedAsExpired()
    {
        var service = Service();
        var token = await service.IssueAsync(Request());
        _time.Advance(TimeSpan.FromDays(14));

        var result = await service.RedeemAsync(token, "approve");

        Assert.False(result.IsValid);
        Assert.Equal(ApprovalTokenFailure.Expired, result.Failure);
        Assert.Contains("expired", result.Message, StringComparison.Ordinal);
        Assert.Empty(_usedTokens);
    }

    [Fact]
    public async Task Redeem_SecondUse_IsRejectedAsAlreadyUsed()
    {
        var service = Service();
        var token = await service.IssueAsync(Request());
        Assert.True((await service.RedeemAsync(token, "approve")).IsValid);

        var second = await service.RedeemAsync(token, "reject");

        Assert.False(second.IsValid);
        Assert.Equal(ApprovalTokenFailure.AlreadyUsed, second.Failure);
        Assert.Contains("already been used", second.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Redeem_RetryOfTheSameUse_IsAcceptedAgain()
    {
        var service = Service();
        var token = await service.IssueAsync(Request());
        Assert.True((await service.RedeemAsync(token, "approve")).IsValid);

        Assert.True((await service.RedeemAsync(token, "approve")).IsValid);
    }

    [Theory]
    [InlineData(5)]
    [InlineData(20)]
    [InlineData(-3)]
    public async Task Validate_TamperedToken_IsRejected(int position)
    {
        var service = Service();
        var token = await service.IssueAsync(Request());
        var index = position >= 0 ? position : token.Length + position;
        var tampered = token[..index] + (token[index] == 'A' ? 'B' : 'A') + token[(index + 1)..];

        var result = await service.ValidateAsync(tampered);

        Assert.False(result.IsValid);
        Assert.Contains(result.Failure, new[] { ApprovalTokenFailure.BadSignature, ApprovalTokenFailure.Malformed });
    }

    [Fact]
    public async Task Validate_PayloadSwappedFromAnotherToken_HasABadSignature()
    {
        var service = Service();
        var mine = await service.IssueAsync(Request());
        var other = await service.IssueAsync(Request() with { InstanceId = "approval-inst-2", TokenId = "tok-9" });

        var swapped = other.Split('.')[0] + "." + mine.Split('.')[1];
        var result = await service.ValidateAsync(swapped);

        Assert.Equal(ApprovalTokenFailure.BadSignature, result.Failure);
    }

    [Fact]
    public async Task Validate_KeyReplacedInTheSecretStore_RejectsOldTokens()
    {
        var service = Service();
        var token = await service.IssueAsync(Request());
        _secrets["approval-signing-key-k1"] = KeyTwo;

        var result = await service.ValidateAsync(token);

        Assert.Equal(ApprovalTokenFailure.BadSignature, result.Failure);
    }

    [Fact]
    public async Task Validate_RotatedKey_OldTokensStayValidWhileTheOldKeyIsAccepted()
    {
        var oldToken = await Service().IssueAsync(Request());
        _secrets["approval-signing-key-k2"] = KeyTwo;
        var rotating = Service(new ApprovalTokenSettings { ActiveKeyId = "k2", AcceptedKeyIds = ["k1"] });
        var rotated = Service(new ApprovalTokenSettings { ActiveKeyId = "k2" });

        var newToken = await rotating.IssueAsync(Request("tok-2"));

        Assert.True((await rotating.ValidateAsync(oldToken)).IsValid);
        Assert.True((await rotating.ValidateAsync(newToken)).IsValid);
        Assert.Equal("k2", (await rotating.ValidateAsync(newToken)).Claims!.KeyId);
        Assert.Equal(ApprovalTokenFailure.UnknownKey, (await rotated.ValidateAsync(oldToken)).Failure);
    }

    [Fact]
    public async Task Validate_WrongInstanceApproverOrDecision_IsRejectedWithTheReason()
    {
        var service = Service();
        var token = await service.IssueAsync(Request());

        Assert.Equal(
            ApprovalTokenFailure.WrongInstance, (await service.ValidateAsync(token, expectedInstanceId: "approval-inst-2")).Failure);
        Assert.Equal(
            ApprovalTokenFailure.WrongApprover, (await service.ValidateAsync(token, expectedApprover: "mallory@x.example")).Failure);
        Assert.Equal(ApprovalTokenFailure.DecisionNotAllowed, (await service.RedeemAsync(token, "delete-everything")).Failure);
        Assert.Empty(_usedTokens);
    }

    [Theory]
    [InlineData("")]
    [InlineData("not-a-token")]
    [InlineData("a.b.c")]
    [InlineData("!!!.???")]
    public async Task Validate_Garbage_IsMalformed(string token)
    {
        var result = await Service().ValidateAsync(token);

        Assert.Equal(ApprovalTokenFailure.Malformed, result.Failure);
    }

    [Fact]
    public async Task Validate_NonCanonicalBase64Url_IsMalformed()
    {
        var service = Service();
        var token = await service.IssueAsync(Request());
        var dot = token.IndexOf('.', StringComparison.Ordinal);
        var variants = new List<string>();
        foreach (var (start, end) in new[] { (0, dot), (dot + 1, token.Length) })
        {
            // Characters that differ from the last one only in bits the decoder discards decode to the same bytes.
            var part = token[start..end];
            var canonical = DecodeLeniently(part);
            variants.AddRange(Base64UrlAlphabet
                .Where(c => c != part[^1] && DecodeLeniently(part[..^1] + c) is { } decoded && decoded.SequenceEqual(canonical!))
                .Select(c => token[..(end - 1)] + c + token[end..]));
        }

        Assert.True((await service.ValidateAsync(token)).IsValid);
        Assert.NotEmpty(variants);
        foreach (var variant in variants)
        {
            var result = await service.ValidateAsync(variant);
            Assert.True(result.Failure == ApprovalTokenFailure.Malformed, $"{variant}: {result.Failure}");
        }

        Assert.Equal(ApprovalTokenFailure.Malformed, (await service.ValidateAsync(token + "=")).Failure);
    }

    [Fact]
    public async Task Issue_MissingKey_ThrowsNotFound()
    {
        _secrets.Clear();

        await Assert.ThrowsAsync<PortNotFoundException>(() => Service().IssueAsync(Request()));
    }

    private const string Base64UrlAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    private static byte[]? DecodeLeniently(string base64Url)
    {
        var base64 = base64Url.Replace('-', '+').Replace('_', '/');
        base64 = base64.PadRight(base64.Length + ((4 - (base64.Length % 4)) % 4), '=');
        var buffer = new byte[base64.Length];
        return Convert.TryFromBase64String(base64, buffer, out var written) ? buffer[..written] : null;
    }
}
