using Gardien.Runtime;
using Gardien.Workflows.Approvals;

namespace Gardien.Workflows.Hosting;

/// <param name="Message">Safe to show to whoever clicked the link: what happened, or what is wrong and what to do.</param>
public sealed record ApprovalSubmissionResult(bool Accepted, string Message, string? InstanceId, ApprovalTokenFailure Failure);

/// <summary>
/// Turns a click on an approval link into a decision event for the waiting <see cref="ApprovalWorkflow"/>. The token is
/// checked up-front (signature, expiry, decision offered, instance still waiting) and used up atomically, so the person
/// gets a clear answer at once ("expired", "already used"); the workflow verifies it again before recording anything.
/// Never throws for bad input or an unavailable backend: the result says what happened.
/// </summary>
public sealed class ApprovalDecisionService(IWorkflowClient client, ApprovalTokenService tokens, TimeProvider? timeProvider = null)
{
    private readonly TimeProvider _time = timeProvider ?? TimeProvider.System;

    public async Task<ApprovalSubmissionResult> SubmitAsync(string token, string decision, string? comment, string? actor, CancellationToken cancellationToken = default)
    {
        if (ApprovalDecisions.Normalise(decision) is not { } normalised)
        {
            return Refused(ApprovalTokenFailure.DecisionNotAllowed, $"'{decision}' is not a decision: use decision=approve or decision=reject.");
        }

        try
        {
            var now = _time.GetUtcNow();
            var validation = await tokens.ValidateAsync(token, decision: normalised, now: now, cancellationToken: cancellationToken).ConfigureAwait(false);
            if (!validation.IsValid || validation.Claims is not { } claims)
            {
                return Refused(validation.Failure, validation.Message);
            }

            var instance = await client.GetInstanceAsync(claims.InstanceId, getInputsAndOutputs: false, cancellationToken: cancellationToken).ConfigureAwait(false);
            if (instance is null)
            {
                return Refused(ApprovalTokenFailure.WrongInstance, "This approval request no longer exists.", claims.InstanceId);
            }

            if (instance.IsCompleted)
            {
                return Refused(ApprovalTokenFailure.AlreadyUsed, "This approval request is already closed (decided, withdrawn or expired); your decision was not recorded.", claims.InstanceId);
            }

            var redemption = await tokens.RedeemAsync(token, normalised, claims.InstanceId, null, now, cancellationToken).ConfigureAwait(false);
            if (!redemption.IsValid)
            {
                return Refused(redemption.Failure, redemption.Message, claims.InstanceId);
            }

            await client.RaiseEventAsync(claims.InstanceId, ApprovalWorkflow.DecisionEventName, new ApprovalDecisionEvent(token, normalised, actor ?? claims.Approver, comment), cancellationToken).ConfigureAwait(false);
            return new ApprovalSubmissionResult(true, $"Thank you: your decision ({normalised}) was recorded.", claims.InstanceId, ApprovalTokenFailure.None);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
#pragma warning disable CA1031 // The contract: a person clicking a link gets a message, never a stack trace.
        catch (Exception)
#pragma warning restore CA1031
        {
            return Refused(ApprovalTokenFailure.None, "Your decision could not be submitted right now (a backend is unavailable). Please use the same link again in a few minutes.");
        }
    }

    private static ApprovalSubmissionResult Refused(ApprovalTokenFailure failure, string message, string? instanceId = null) => new(false, message, instanceId, failure);
}
