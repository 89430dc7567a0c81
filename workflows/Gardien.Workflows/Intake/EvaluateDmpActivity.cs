using Gardien.Runtime;
using Gardien.Workflows.Governance;
using Gardien.Workflows.Madmp;
using Gardien.Workflows.Madmp.Opidor;
using Gardien.Workflows.Ports;

namespace Gardien.Workflows.Intake;

/// <param name="DmpId">The DMP to evaluate; fetched from the DMP tool when <paramref name="DmpJson"/> is null.</param>
/// <param name="DmpJson">The raw maDMP document, when the caller already has it.</param>
/// <param name="Today">Evaluation date (the workflow's replay-safe date).</param>
/// <param name="Policy">The policy to apply; null: the configured one.</param>
public sealed record EvaluateDmpInput(string? DmpId, string? DmpJson, DateOnly Today, GovernancePolicy? Policy = null);

/// <summary>The outcome of reading (lenient) and evaluating a DMP. <see cref="Plan"/> is set when <see cref="IsValid"/>.</summary>
/// <param name="Errors">"path: message" lines saying what is wrong, where and how to fix it.</param>
/// <param name="Approvals">Reminder, escalation and timeout periods of the policy in force.</param>
public sealed record DmpEvaluation(
    bool IsValid,
    string DmpId,
    DateTimeOffset? Modified,
    string? Title,
    string? ContactName,
    string? ContactEmail,
    IReadOnlyList<string> Errors,
    IReadOnlyList<string> Warnings,
    GovernancePlan? Plan)
{
    /// <summary>The approvers of each role the policy names (PI: the DMP's contact), for showing who is awaited.</summary>
    public IReadOnlyDictionary<ApprovalRole, string> Approvers { get; init; } = new Dictionary<ApprovalRole, string>();

    /// <summary>The language the policy writes messages in (<see cref="NotificationPolicy.Language"/>).</summary>
    public string Language { get; init; } = NotificationLanguages.English;
}

/// <summary>
/// Reads the DMP leniently and evaluates its governance plan. Pure apart from the optional fetch, so it runs as an
/// activity only to keep workflow inputs small and the replay free of schema validation.
/// </summary>
public sealed class EvaluateDmpActivity(IDmpToolClient dmpTool, GardienWorkflowOptions options) : Activity<EvaluateDmpInput, DmpEvaluation>
{
    public override async Task<DmpEvaluation> RunAsync(ActivityContext context, EvaluateDmpInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        var json = input.DmpJson;
        if (json is null)
        {
            if (string.IsNullOrWhiteSpace(input.DmpId))
            {
                return Invalid(
                    string.Empty,
                    "/: neither a DMP document nor a dmp_id was given; submit the maDMP JSON or its identifier.",
                    input.Policy ?? options.Policy);
            }

            var fetched = await dmpTool.FetchDmpAsync(input.DmpId, context.CancellationToken);
            if (fetched is null)
            {
                return Invalid(
                    input.DmpId,
                    $"/dmp/dmp_id: the DMP tool does not know DMP '{input.DmpId}'; check the identifier or export the DMP again.",
                    input.Policy ?? options.Policy);
            }

            json = fetched.Json;
            if (fetched is { NativeExport: { } native, NativeFormat: { } format } && SourceMappers.TryGetValue(format, out var mapper))
            {
                return Evaluate(input.DmpId, json, input.Today, input.Policy ?? options.Policy, mapper, native);
            }
        }

        return Evaluate(input.DmpId, json, input.Today, input.Policy ?? options.Policy);
    }

    /// <summary>Mappers of the tools' native exports, by <see cref="IMadmpSourceMapper.SourceName"/>.</summary>
    private static readonly Dictionary<string, IMadmpSourceMapper> SourceMappers = new(StringComparer.OrdinalIgnoreCase)
    {
        [new OpidorStandardMapper().SourceName] = new OpidorStandardMapper(),
    };

    /// <summary>
    /// The evaluation itself (pure). With a <paramref name="mapper"/>, the tool's <paramref name="nativeExport"/> fills in
    /// what the RDA document lacks before the plan is made; what the mapper could not use becomes a warning.
    /// </summary>
    public static DmpEvaluation Evaluate(
        string? expectedDmpId,
        string json,
        DateOnly today,
        GovernancePolicy policy,
        IMadmpSourceMapper? mapper = null,
        string? nativeExport = null)
    {
        ArgumentNullException.ThrowIfNull(policy);
        return EvaluateIn(expectedDmpId, json, today, policy, mapper, nativeExport) with { Language = policy.Notifications.Language };
    }

    private static DmpEvaluation EvaluateIn(
        string? expectedDmpId, string json, DateOnly today, GovernancePolicy policy, IMadmpSourceMapper? mapper, string? nativeExport)
    {
        var read = MadmpReader.Default.Read(json, new MadmpReadOptions { Mode = ValidationMode.Lenient });
        var warnings = read.Warnings.Select(Format).ToList();
        if (!read.IsValid || read.Document is null)
        {
            return new DmpEvaluation(
                false, expectedDmpId ?? string.Empty, null, null, null, null, [.. read.Errors.Select(Format)], warnings, null);
        }

        var document = read.Document;
        if (mapper is not null && nativeExport is not null)
        {
            var mapped = mapper.Enrich(document, System.Text.Encoding.UTF8.GetBytes(nativeExport));
            document = mapped.Document;
            warnings.AddRange(mapped.Warnings.Select(w => $"{mapper.SourceName} export {Format(w)}"));
        }

        var dmp = document.Dmp;
        if (expectedDmpId is not null && !string.Equals(expectedDmpId, dmp.DmpId.Value, StringComparison.Ordinal))
        {
            return new DmpEvaluation(
                false,
                expectedDmpId,
                dmp.Modified,
                dmp.Title,
                dmp.Contact.Name,
                Mailbox.Problem(dmp.Contact.Mbox?.Trim()) is null ? dmp.Contact.Mbox!.Trim() : null,
                [
                    $"/dmp/dmp_id/identifier: the document is DMP '{dmp.DmpId.Value}' but '{expectedDmpId}' was expected; "
                    + "submit the right document.",
                ],
                warnings,
                null);
        }

        var plan = GovernanceEvaluator.Evaluate(dmp, policy, today);
        var planErrors = plan.AllFindings().Where(f => f.Severity == FindingSeverity.Error).Select(f => $"{f.Path}: {f.Message}").ToList();
        warnings.AddRange(plan.AllFindings().Where(f => f.Severity == FindingSeverity.Warning).Select(f => $"{f.Path}: {f.Message}"));
        // The plan's approvers; roles only an update may add (e.g. the DPO for a shortened retention) as asked alone.
        var approvers = plan.Approvers.ToDictionary(a => a.Role, a => a.Email);
        foreach (var role in Enum.GetValues<ApprovalRole>().Where(r => !approvers.ContainsKey(r)))
        {
            if (ApproverAssignment.Assign([role], dmp.Contact.Name, dmp.Contact.Mbox?.Trim(), policy.Approvals, personalData: false)
                .For(role) is { } alone)
            {
                approvers[role] = alone.Email;
            }
        }


        // Only a mailbox that can be real is recorded and written to: a look-alike must receive nothing about the DMP.
        return new DmpEvaluation(
            planErrors.Count == 0,
            dmp.DmpId.Value,
            dmp.Modified,
            dmp.Title,
            dmp.Contact.Name,
            plan.PrincipalInvestigator.Email,
            planErrors,
            warnings,
            planErrors.Count == 0 ? plan : null)
        {
            Approvers = approvers,
        };
    }

    private static DmpEvaluation Invalid(string dmpId, string error, GovernancePolicy policy) =>
        new(false, dmpId, null, null, null, null, [error], [], null) { Language = policy.Notifications.Language };

    private static string Format(ValidationIssue issue) => $"{(issue.Path.Length == 0 ? "/" : issue.Path)}: {issue.Message}";
}
