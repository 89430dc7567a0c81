using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Gardien.Workflows.Ports;

namespace Gardien.Workflows.Approvals;

/// <summary>
/// Signed, single-use, expiring approval-link tokens.
/// <para>
/// Format: <c>base64url(payload JSON) "." base64url(HMAC-SHA256(key[kid], payload bytes))</c>. The payload carries
/// v, kid, tid (token id), iid (instance id), role, apr (approver), opt (decision options) and exp (Unix seconds).
/// Keys come from <see cref="ISecretStore"/> (base64 of at least 32 bytes, or a text secret of at least 32 characters);
/// the kid allows rotation: sign with <see cref="ApprovalTokenSettings.ActiveKeyId"/>, keep verifying the ids in
/// <see cref="ApprovalTokenSettings.AcceptedKeyIds"/>. Within one kid, a store with versioned secrets (Key Vault) also lets
/// the previous version verify during its rotation window (<see cref="IVersionedSecretStore"/>), so a key can be rotated
/// in place. Signatures are compared in constant time; both parts must be canonical base64url (no padding, unused bits
/// zero), so a token has exactly one accepted spelling. Single use is enforced
/// through <see cref="IGovernanceRegistry.TryConsumeTokenAsync"/>.
/// </para>
/// </summary>
public sealed class ApprovalTokenService(
    ISecretStore secrets,
    IGovernanceRegistry registry,
    ApprovalTokenSettings settings,
    TimeProvider? timeProvider = null)
{
    private const int MinimumKeyBytes = 32;
    private readonly TimeProvider _time = timeProvider ?? TimeProvider.System;

    /// <summary>
    /// Issues a token. Deterministic for the same request and key, so an activity retry issues the same link.
    /// Expiry comes from the request (workflow time), not from the clock.
    /// </summary>
    public async Task<string> IssueAsync(ApprovalTokenRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentException.ThrowIfNullOrWhiteSpace(request.TokenId);
        ArgumentException.ThrowIfNullOrWhiteSpace(request.InstanceId);
        ArgumentException.ThrowIfNullOrWhiteSpace(request.Approver);
        if (request.DecisionOptions.Count == 0)
        {
            throw new ArgumentException("A token must allow at least one decision.", nameof(request));
        }

        var kid = settings.ActiveKeyId;
        var key = await GetKeyAsync(kid, cancellationToken)
            ?? throw new PortNotFoundException(
                $"Approval signing key '{settings.SecretNamePrefix}{kid}' is missing from the secret store.");
        var payload = SerializePayload(
            new ApprovalTokenClaims(
                kid, request.TokenId, request.InstanceId, request.Role, request.Approver, request.DecisionOptions, request.ExpiresAt));
        var signature = HMACSHA256.HashData(key, payload);
        return Base64Url(payload) + "." + Base64Url(signature);
    }

    /// <summary>
    /// Checks signature, expiry and (when given) that the token belongs to the instance and approver, without using it up.
    /// For showing the decision page. <paramref name="now"/> defaults to the injected clock.
    /// </summary>
    public async Task<ApprovalTokenValidation> ValidateAsync(
        string token,
        string? expectedInstanceId = null,
        string? expectedApprover = null,
        string? decision = null,
        DateTimeOffset? now = null,
        CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrWhiteSpace(token))
        {
            return ApprovalTokenValidation.Fail(ApprovalTokenFailure.Malformed, "The approval link carries no token.");
        }

        var dot = token.IndexOf('.', StringComparison.Ordinal);
        if (dot <= 0
            || dot != token.LastIndexOf('.')
            || !TryDecodeBase64Url(token[..dot], out var payload)
            || !TryDecodeBase64Url(token[(dot + 1)..], out var signature))
        {
            return ApprovalTokenValidation.Fail(
                ApprovalTokenFailure.Malformed,
                "The approval link is damaged (the token is not in the expected format). Use the link from the latest message.");
        }

        if (!TryParsePayload(payload, out var claims))
        {
            return ApprovalTokenValidation.Fail(
                ApprovalTokenFailure.Malformed,
                "The approval link is damaged (its content cannot be read). Use the link from the latest message.");
        }

        if (!IsAcceptedKeyId(claims.KeyId))
        {
            return ApprovalTokenValidation.Fail(
                ApprovalTokenFailure.UnknownKey, "The approval link was signed with a key that is no longer accepted. Ask for a new link.");
        }

        var keys = await GetVerificationKeysAsync(claims.KeyId, cancellationToken);
        if (keys.Count == 0)
        {
            return ApprovalTokenValidation.Fail(
                ApprovalTokenFailure.UnknownKey,
                "The approval link was signed with a key that is no longer available. Ask for a new link.");
        }

        // A rotated secret keeps its previous version acceptable for a while: links signed just before the rotation still work.
        if (!keys.Any(key => CryptographicOperations.FixedTimeEquals(HMACSHA256.HashData(key, payload), signature)))
        {
            return ApprovalTokenValidation.Fail(
                ApprovalTokenFailure.BadSignature,
                "The approval link is not genuine (bad signature). Use the link from the original message.");
        }

        var instant = now ?? _time.GetUtcNow();
        if (instant >= claims.ExpiresAt)
        {
            return ApprovalTokenValidation.Fail(ApprovalTokenFailure.Expired,
                $"The approval link expired on {claims.ExpiresAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)}"
                + " UTC. Ask for a new link.",
                    claims);
        }

        if (expectedInstanceId is not null && !string.Equals(expectedInstanceId, claims.InstanceId, StringComparison.Ordinal))
        {
            return ApprovalTokenValidation.Fail(
                ApprovalTokenFailure.WrongInstance, "The approval link belongs to another request.", claims);
        }

        if (expectedApprover is not null && !string.Equals(expectedApprover, claims.Approver, StringComparison.OrdinalIgnoreCase))
        {
            return ApprovalTokenValidation.Fail(
                ApprovalTokenFailure.WrongApprover, "The approval link was issued to another approver.", claims);
        }

        if (decision is not null && !claims.DecisionOptions.Contains(decision, StringComparer.OrdinalIgnoreCase))
        {
            return ApprovalTokenValidation.Fail(ApprovalTokenFailure.DecisionNotAllowed,
                $"The decision '{decision}' is not offered by this link (allowed: {string.Join(", ", claims.DecisionOptions)}).", claims);
        }

        return new ApprovalTokenValidation(true, ApprovalTokenFailure.None, "The approval link is valid.", claims);
    }

    /// <summary>
    /// Validates and uses up the token for <paramref name="decision"/>. A second redemption is refused with
    /// <see cref="ApprovalTokenFailure.AlreadyUsed"/>, except a retry of the very same redemption (same decision,
    /// approver and decider), which succeeds again so that a crashed handler can finish its work.
    /// </summary>
    /// <param name="decidedBy">Who decides, when not the approver the token was issued to (a delegate, someone acting on their
    /// behalf).</param>
    public async Task<ApprovalTokenValidation> RedeemAsync(
        string token,
        string decision,
        string? expectedInstanceId = null,
        string? expectedApprover = null,
        DateTimeOffset? now = null,
        string? decidedBy = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(decision);
        var instant = now ?? _time.GetUtcNow();
        var validation = await ValidateAsync(token, expectedInstanceId, expectedApprover, decision, instant, cancellationToken);
        if (!validation.IsValid || validation.Claims is not { } claims)
        {
            return validation;
        }

        var fingerprint = decision.ToUpperInvariant() + "|" + claims.Approver.ToUpperInvariant()
            + (decidedBy is null || string.Equals(decidedBy, claims.Approver, StringComparison.OrdinalIgnoreCase)
                ? string.Empty
                : "|" + decidedBy.ToUpperInvariant());
        var consumption = await registry.TryConsumeTokenAsync(claims.TokenId, fingerprint, instant, claims.ExpiresAt, cancellationToken);
        return consumption == TokenConsumption.AlreadyUsed
            ? ApprovalTokenValidation.Fail(
                ApprovalTokenFailure.AlreadyUsed,
                "The approval link has already been used; a decision was recorded. Each link works once.",
                claims)
            : new ApprovalTokenValidation(true, ApprovalTokenFailure.None, "The decision was accepted.", claims);
    }

    private bool IsAcceptedKeyId(string kid) =>
        string.Equals(kid, settings.ActiveKeyId, StringComparison.Ordinal) || settings.AcceptedKeyIds.Contains(kid, StringComparer.Ordinal);

    private async Task<IReadOnlyList<byte[]>> GetVerificationKeysAsync(string kid, CancellationToken cancellationToken)
    {
        IReadOnlyList<string> values;
        try
        {
            var name = settings.SecretNamePrefix + kid;
            values = secrets is IVersionedSecretStore versioned
                ? await versioned.GetAcceptedSecretValuesAsync(name, cancellationToken)
                : [await secrets.GetSecretAsync(name, cancellationToken)];
        }
        catch (PortNotFoundException)
        {
            return [];
        }

        return [.. values.Select(value => CheckLength(DecodeKey(value), kid))];
    }

    private byte[] CheckLength(byte[] key, string kid) =>
        key.Length >= MinimumKeyBytes
            ? key
            : throw new PortException(
                $"Approval signing key '{settings.SecretNamePrefix}{kid}' is too short: "
                + $"use at least {MinimumKeyBytes} random bytes (base64).",
                isTransient: false);

    private async Task<byte[]?> GetKeyAsync(string kid, CancellationToken cancellationToken)
    {
        string secret;
        try
        {
            secret = await secrets.GetSecretAsync(settings.SecretNamePrefix + kid, cancellationToken);
        }
        catch (PortNotFoundException)
        {
            return null;
        }

        return CheckLength(DecodeKey(secret), kid);
    }

    private static byte[] DecodeKey(string secret)
    {
        var buffer = new byte[secret.Length];
        return Convert.TryFromBase64String(secret, buffer, out var written) && written >= MinimumKeyBytes
            ? buffer[..written]
            : Encoding.UTF8.GetBytes(secret);
    }

    private static byte[] SerializePayload(ApprovalTokenClaims claims)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteNumber("v", 1);
            writer.WriteString("kid", claims.KeyId);
            writer.WriteString("tid", claims.TokenId);
            writer.WriteString("iid", claims.InstanceId);
            writer.WriteString("role", claims.Role);
            writer.WriteString("apr", claims.Approver);
            writer.WriteStartArray("opt");
            foreach (var option in claims.DecisionOptions)
            {
                writer.WriteStringValue(option);
            }

            writer.WriteEndArray();
            writer.WriteNumber("exp", claims.ExpiresAt.ToUnixTimeSeconds());
            writer.WriteEndObject();
        }

        return buffer.ToArray();
    }

    private static bool TryParsePayload(byte[] payload, out ApprovalTokenClaims claims)
    {
        claims = null!;
        try
        {
            using var doc = JsonDocument.Parse(payload);
            var root = doc.RootElement;
            if (root.GetProperty("v").GetInt32() != 1)
            {
                return false;
            }

            claims = new ApprovalTokenClaims(
                root.GetProperty("kid").GetString()!,
                root.GetProperty("tid").GetString()!,
                root.GetProperty("iid").GetString()!,
                root.GetProperty("role").GetString()!,
                root.GetProperty("apr").GetString()!,
                root.GetProperty("opt").EnumerateArray().Select(o => o.GetString()!).ToList(),
                DateTimeOffset.FromUnixTimeSeconds(root.GetProperty("exp").GetInt64()));
            return claims.KeyId is not null && claims.TokenId is not null && claims.InstanceId is not null && claims.Approver is not null;
        }
        catch (Exception ex) when (ex is JsonException
            or KeyNotFoundException
            or InvalidOperationException
            or FormatException
            or ArgumentOutOfRangeException)
        {
            return false;
        }
    }

    private static string Base64Url(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static bool TryDecodeBase64Url(string text, out byte[] bytes)
    {
        bytes = [];
        if (text.Length == 0 || text.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_')))
        {
            return false;
        }

        var base64 = text.Replace('-', '+').Replace('_', '/');
        base64 = base64.PadRight(base64.Length + ((4 - (base64.Length % 4)) % 4), '=');
        var buffer = new byte[base64.Length];
        if (!Convert.TryFromBase64String(base64, buffer, out var written))
        {
            return false;
        }

        // Base64 leaves unused low bits in the last character; a decoder that ignores them accepts several spellings of
        // one token. Only the spelling this service issues is accepted, so a token has exactly one textual form.
        var decoded = buffer[..written];
        if (!string.Equals(Base64Url(decoded), text, StringComparison.Ordinal))
        {
            return false;
        }

        bytes = decoded;
        return true;
    }
}
