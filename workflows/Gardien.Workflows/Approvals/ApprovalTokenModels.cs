namespace Gardien.Workflows.Approvals;

/// <summary>What a signed approval link authorises.</summary>
/// <param name="TokenId">Unique per link; derive it replay-safely in the workflow (context GUID) so re-issuing on retry yields the same
/// token.</param>
/// <param name="InstanceId">The approval workflow instance that waits for the decision.</param>
/// <param name="Role">Approver role ("pi", "steward", "dpo").</param>
/// <param name="Approver">Who may use the link (e-mail or directory id).</param>
/// <param name="DecisionOptions">Decisions the link may carry, e.g. "approve", "reject".</param>
/// <param name="ExpiresAt">After this instant the link is refused.</param>
public sealed record ApprovalTokenRequest(
    string TokenId,
    string InstanceId,
    string Role,
    string Approver,
    IReadOnlyList<string> DecisionOptions,
    DateTimeOffset ExpiresAt);

/// <summary>A verified token's claims.</summary>
public sealed record ApprovalTokenClaims(
    string KeyId,
    string TokenId,
    string InstanceId,
    string Role,
    string Approver,
    IReadOnlyList<string> DecisionOptions,
    DateTimeOffset ExpiresAt);

public enum ApprovalTokenFailure
{
    None,
    Malformed,
    UnknownKey,
    BadSignature,
    Expired,
    AlreadyUsed,
    WrongInstance,
    WrongApprover,
    DecisionNotAllowed,

    /// <summary>The decision asked for contradicts the one the link was issued for (the Reject link used to approve).</summary>
    DecisionContradictsLink,

    /// <summary>What was given is not an approval link or token at all.</summary>
    NotALink,
}

/// <summary>Outcome of checking a token. <see cref="Message"/> is safe to show to the person who clicked the link.</summary>
public sealed record ApprovalTokenValidation(bool IsValid, ApprovalTokenFailure Failure, string Message, ApprovalTokenClaims? Claims)
{
    internal static ApprovalTokenValidation Fail(ApprovalTokenFailure failure, string message, ApprovalTokenClaims? claims = null) =>
        new(false, failure, message, claims);
}

/// <summary>Signing-key settings. Keys live in the secret store as <c>{SecretNamePrefix}{keyId}</c>.</summary>
public sealed record ApprovalTokenSettings
{
    /// <summary>Key id used to sign new tokens.</summary>
    public string ActiveKeyId { get; init; } = "k1";

    /// <summary>
    /// Key ids still accepted for verification (the active one is always accepted): list the previous key while rotating.
    /// </summary>
    public IReadOnlyList<string> AcceptedKeyIds { get; init; } = [];

    public string SecretNamePrefix { get; init; } = "approval-signing-key-";
}
