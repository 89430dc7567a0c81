using Gardien.Runtime;
using Gardien.Workflows.Approvals;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gardien.Workflows.Hosting;

/// <param name="Message">Safe to show to whoever clicked the link: what happened, or what is wrong and what to do.</param>
/// <param name="Decision">The decision that was (or would have been) recorded, when the link could be read.</param>
public sealed record ApprovalSubmissionResult(
    bool Accepted,
    string Message,
    string? InstanceId,
    ApprovalTokenFailure Failure,
    string? Decision = null);

/// <summary>A decision as a host received it.</summary>
/// <param name="Link">The whole approval link, its path, or the bare token: read by <see cref="ApprovalLinks.Parse"/>.</param>
/// <param name="Decision">A decision asked for besides the link (a CLI flag, a form field); null: the link's own. Refused when it
/// contradicts the link.</param>
/// <param name="DecisionSource">How <paramref name="Decision"/> was asked for, for the message ("--reject", "the form").</param>
/// <param name="DefaultDecision">The decision for a bare token when nothing else says (the CLI's <c>approve</c> command: approve).</param>
/// <param name="Actor">Who decides, as the host established it ("user:e-mail"). In Azure this is the Entra sign-in
/// (<see cref="EntraSignIn"/>), never a request parameter; null for a bare link click, whose holder counts as its approver.</param>
public sealed record ApprovalDecisionRequest(
    string Link,
    string? Decision = null,
    string? Comment = null,
    string? Actor = null,
    string? DecisionSource = null,
    string? DefaultDecision = null);

/// <summary>What a decision page shows before the person confirms: what the link decides, for whom, and whether it still works.</summary>
/// <param name="Decision">The decision the link carries; null for a link without one (the approval page's "Open" link),
/// which offers the <see cref="DecisionOptions"/>.</param>
public sealed record ApprovalLinkPreview(bool Usable, string Message, string? Token, string? Decision, string? Role, string? Approver,
    DateTimeOffset? ExpiresAt, ApprovalTokenFailure Failure)
{
    /// <summary>The approval workflow instance the link decides, once its signature has been checked.</summary>
    public string? InstanceId { get; init; }

    /// <summary>The decisions the token offers ("approve", "reject"), once its signature has been checked.</summary>
    public IReadOnlyList<string> DecisionOptions { get; init; } = [];
}

/// <summary>
/// Turns a click on an approval link into a decision event for the waiting <see cref="ApprovalWorkflow"/>. The link is
/// read by <see cref="ApprovalLinks"/> (the decision it carries is honoured, a contradicting one refused), the token is
/// checked up-front (signature, expiry, decision offered, instance still waiting), the identity of the person is checked
/// against the link's approver and the people the policy authorises (<see cref="ApprovalAuthority"/>), and only then is the
/// token used up atomically, so the person gets a clear answer at once ("expired", "already used", "sent to someone else")
/// and a refused identity leaves the link usable by its approver. The workflow verifies all of it again before recording
/// anything. Never throws for bad input or an unavailable backend: the result says what happened.
/// </summary>
/// <param name="logger">Gets what the catch-all catches (the person only sees "a backend is unavailable").</param>
public sealed partial class ApprovalDecisionService(
    IWorkflowClient client, ApprovalTokenService tokens, TimeProvider? timeProvider = null, ILogger<ApprovalDecisionService>? logger = null)
{
    private readonly TimeProvider _time = timeProvider ?? TimeProvider.System;
    private readonly ILogger _logger = (ILogger?)logger ?? NullLogger.Instance;

    /// <summary>A decision with a token or a link; <paramref name="decision"/> must agree with the link's own decision.</summary>
    public Task<ApprovalSubmissionResult> SubmitAsync(
        string token,
        string decision,
        string? comment,
        string? actor,
        CancellationToken cancellationToken = default) =>
        SubmitAsync(new ApprovalDecisionRequest(token, decision, comment, actor), cancellationToken);

    public async Task<ApprovalSubmissionResult> SubmitAsync(ApprovalDecisionRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var parsed = ApprovalLinks.Parse(request.Link);
        if (parsed.Link is not { } link)
        {
            return Refused(ApprovalTokenFailure.NotALink, parsed.Error!);
        }

        var choice = ApprovalLinks.ChooseDecision(link, request.Decision, request.DecisionSource, request.DefaultDecision);
        if (choice.Decision is not { } decision)
        {
            return Refused(
                choice.Contradiction ? ApprovalTokenFailure.DecisionContradictsLink : ApprovalTokenFailure.DecisionNotAllowed,
                choice.Error!);
        }

        try
        {
            var now = _time.GetUtcNow();
            var validation = await tokens.ValidateAsync(link.Token, decision: decision, now: now, cancellationToken: cancellationToken)
                .ConfigureAwait(false);
            if (!validation.IsValid || validation.Claims is not { } claims)
            {
                return Refused(validation.Failure, validation.Message, decision: decision);
            }

            var instance = await client.GetInstanceAsync(
                claims.InstanceId, getInputsAndOutputs: false, cancellationToken: cancellationToken).ConfigureAwait(false);
            if (instance is null)
            {
                return Refused(ApprovalTokenFailure.WrongInstance, "This approval request no longer exists.", claims.InstanceId, decision);
            }

            if (instance.IsCompleted)
            {
                return Refused(
                    ApprovalTokenFailure.AlreadyUsed,
                    "This approval request is already closed (decided, withdrawn or expired); your decision was not recorded.",
                    claims.InstanceId,
                    decision);
            }

            // Checked before the token is used up: someone who may not decide must not spend the approver's link.
            var authority = ApprovalAuthority.Check(request.Actor, claims.Approver, ReadAuthority(instance));
            if (!authority.Allowed)
            {
                return Refused(ApprovalTokenFailure.WrongApprover, authority.Refusal!, claims.InstanceId, decision);
            }

            var redemption = await tokens.RedeemAsync(
                link.Token, decision, claims.InstanceId, null, now, authority.DecidedBy, cancellationToken).ConfigureAwait(false);
            if (!redemption.IsValid)
            {
                return Refused(redemption.Failure, redemption.Message, claims.InstanceId, decision);
            }

            await client.RaiseEventAsync(
                claims.InstanceId,
                ApprovalWorkflow.DecisionEventName,
                new ApprovalDecisionEvent(link.Token, decision, request.Actor ?? claims.Approver, request.Comment),
                cancellationToken).ConfigureAwait(false);
            var who = authority.OnBehalfOf is null ? string.Empty : $" on behalf of {authority.OnBehalfOf}";
            return new ApprovalSubmissionResult(
                true, $"Thank you: your decision ({decision}){who} was recorded.", claims.InstanceId, ApprovalTokenFailure.None, decision);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
#pragma warning disable CA1031 // The contract: a person clicking a link gets a message, never a stack trace.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogSubmissionFailed(_logger, ex, decision);
            return Refused(
                ApprovalTokenFailure.None,
                "Your decision could not be submitted right now (a backend is unavailable). "
                + "Please use the same link again in a few minutes.",
                decision: decision);
        }
    }

    /// <summary>
    /// Reads a link for a decision page without using it up: which decision it carries, for which role and approver,
    /// and whether it still works. <paramref name="decision"/> as in <see cref="ApprovalDecisionRequest.Decision"/>.
    /// </summary>
    public async Task<ApprovalLinkPreview> PreviewAsync(string link, string? decision = null, CancellationToken cancellationToken = default)
    {
        var parsed = ApprovalLinks.Parse(link);
        if (parsed.Link is not { } reference)
        {
            return new ApprovalLinkPreview(false, parsed.Error!, null, null, null, null, null, ApprovalTokenFailure.NotALink);
        }

        var choice = ApprovalLinks.ChooseDecision(reference, decision);
        var chosen = choice.Decision;

        // A link without a decision (the "Open" button) is previewed as is: the page offers the token's decisions.
        var open = chosen is null && reference.Decision is null && decision is null;
        if (chosen is null && !open)
        {
            return new ApprovalLinkPreview(false, choice.Error!, reference.Token, null, null, null, null,
                choice.Contradiction ? ApprovalTokenFailure.DecisionContradictsLink : ApprovalTokenFailure.DecisionNotAllowed);
        }

        try
        {
            var validation = await tokens.ValidateAsync(
                reference.Token, decision: chosen, now: _time.GetUtcNow(), cancellationToken: cancellationToken).ConfigureAwait(false);
            var claims = validation.Claims;
            if (validation.IsValid && claims is not null
                && await client.GetInstanceAsync(claims.InstanceId, getInputsAndOutputs: false, cancellationToken: cancellationToken)
                    .ConfigureAwait(false) is not { IsCompleted: false })
            {
                return new ApprovalLinkPreview(false, "This approval request is already closed (decided, withdrawn or expired).",
                    reference.Token, chosen, claims.Role, claims.Approver, claims.ExpiresAt, ApprovalTokenFailure.AlreadyUsed)
                {
                    InstanceId = claims.InstanceId,
                };
            }

            return new ApprovalLinkPreview(validation.IsValid, validation.Message, reference.Token, chosen, claims?.Role, claims?.Approver,
                claims?.ExpiresAt, validation.Failure)
            {
                InstanceId = validation.IsValid ? claims?.InstanceId : null,
                DecisionOptions = validation.IsValid && claims is not null ? claims.DecisionOptions : [],
            };
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
#pragma warning disable CA1031 // As for submissions: a message, never a stack trace.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogPreviewFailed(_logger, ex);
            return new ApprovalLinkPreview(
                false,
                "This link cannot be checked right now (a backend is unavailable). Please try again in a few minutes.",
                reference.Token,
                chosen,
                null,
                null,
                null,
                ApprovalTokenFailure.None);
        }
    }

    private static ApproverAuthority? ReadAuthority(WorkflowMetadata instance)
    {
        try
        {
            return instance.SerializedCustomStatus is null ? null : instance.ReadCustomStatusAs<ApprovalStatus>()?.Authority;
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    // The token is a credential: it is never logged, only what failed.
    [LoggerMessage(
        EventId = 1,
        Level = LogLevel.Error,
        Message = "An approval decision ({Decision}) could not be submitted; the person was asked to retry")]
    private static partial void LogSubmissionFailed(ILogger logger, Exception exception, string decision);

    [LoggerMessage(
        EventId = 2, Level = LogLevel.Error, Message = "An approval link could not be checked for its page; the person was asked to retry")]
    private static partial void LogPreviewFailed(ILogger logger, Exception exception);

    private static ApprovalSubmissionResult Refused(
        ApprovalTokenFailure failure,
        string message,
        string? instanceId = null,
        string? decision = null) => new(false, message, instanceId, failure, decision);
}
