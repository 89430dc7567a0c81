using Gardien.Runtime;

namespace Gardien.Workflows.BlobEvents;

/// <summary>The blob-event activities as typed calls: name, input, result and retry policy in one place.</summary>
internal static class BlobEventCalls
{
    public static Task<BlobEventAnalysis> AnalyzeBlobEventAsync(this WorkflowContext context, AnalyzeBlobEventInput input) =>
        context.CallActivityAsync<BlobEventAnalysis>(nameof(AnalyzeBlobEventActivity), input, ActivityRetryPolicies.Transient);

    public static Task<TagBlobResult> TagBlobAsync(this WorkflowContext context, TagBlobInput input) =>
        context.CallActivityAsync<TagBlobResult>(nameof(TagBlobActivity), input, ActivityRetryPolicies.Transient);

    public static Task<bool> MarkBlobEventProcessedAsync(this WorkflowContext context, MarkBlobEventProcessedInput input) =>
        context.CallActivityAsync<bool>(nameof(MarkBlobEventProcessedActivity), input, ActivityRetryPolicies.Persistent);
}
