using Gardien.Workflows.Access;
using Gardien.Workflows.Approvals;
using Gardien.Workflows.BlobEvents;
using Gardien.Workflows.Governance;
using Gardien.Workflows.Ports;
using Gardien.Workflows.Retention;
using PortDisposal = Gardien.Workflows.Ports.DisposalAction;

namespace Gardien.Workflows.Notifications;

/// <summary>The messages in English (the default).</summary>
internal sealed class EnglishMessages : MessageCatalogue
{
    public override string Language => NotificationLanguages.English;

    // ---- Intake and update ---------------------------------------------------------------------------------------

    public override Message IntakeInvalid(string title, IReadOnlyList<string> errors) => Create(
        NotificationKind.Rejection,
        $"Gardien could not take your DMP into governance: {Line(title)}",
        "Your DMP could not be accepted. Please fix the following and submit it again:\n\n" + Items(errors.Select(Md)));

    public override Message IntakeRejected(GovernancePlan plan, ApprovalWorkflowOutput refusal) => Create(
        NotificationKind.Rejection,
        $"DMP not approved: {Line(plan.Title)}",
        $"Dear {Md(plan.PrincipalInvestigator.Name)},\n\nthe governance plan of \"{Md(plan.Title)}\" was not approved: "
        + $"{Md(Refusal(refusal))}.\nNothing was provisioned. Revise the DMP and submit it again.");

    public override Message IntakeFailed(GovernancePlan plan, string reason, IReadOnlyList<string> incomplete) => Create(
        NotificationKind.Alert,
        $"DMP provisioning failed: {Line(plan.Title)}",
        $"Dear {Md(plan.PrincipalInvestigator.Name)},\n\nprovisioning of \"{Md(plan.Title)}\" failed: {Md(reason)}.\n"
        + "Everything this attempt granted was revoked and the empty containers it created were removed"
        + (incomplete.Count > 0 ? " except: " + Md(string.Join("; ", incomplete)) + " (the data steward is alerted)" : string.Empty)
        + ". The data steward can retry once the cause is fixed.");

    public override Message IntakeSummary(GovernancePlan plan, IntakeSummaryFacts facts) => Create(
        NotificationKind.Summary,
        $"DMP approved and provisioned: {Line(plan.Title)}",
        $"Dear {Md(plan.PrincipalInvestigator.Name)},\n\nthe governance plan of \"{Md(plan.Title)}\" is approved and in force.\n\n"
        + "Approvals:\n" + Items(facts.Approvals.Select(a => $"{RoleTitle(a.Role)}: {Md(a.DecidedByLabel)} on {Date(a.DecidedAt)}"
            + (string.IsNullOrWhiteSpace(a.Comment) ? string.Empty : $" (\"{Md(a.Comment)}\")")))
        + "\nStorage:\n" + Items(facts.Containers.Select(c => $"{Md(c.DatasetId)}: {Md(c.Location.ToString())}"))
        + "\nAccess:\n" + Items(facts.Grants.Select(g => $"{Md(g.DisplayName ?? g.PrincipalId)}: {Lower(g.Level)} on {Md(g.Container)}"))
        + (facts.NotEnforced.Count == 0 ? string.Empty
            : "\nRecorded but not enforced by this platform:\n" + Items(facts.NotEnforced.Select(f => $"{Md(f.Feature)}: {Md(f.Reason)}")))
        + (facts.Warnings.Count == 0 ? string.Empty : "\nPlease check:\n" + Items(facts.Warnings.Select(Md))));

    public override Message UpdateRejected(GovernancePlan plan, ApprovalWorkflowOutput refusal, PlanDiff diff) => Create(
        NotificationKind.Rejection,
        $"DMP change not approved: {Line(plan.Title)}",
        $"Dear {Md(plan.PrincipalInvestigator.Name)},\n\nthe change to \"{Md(plan.Title)}\" was not approved: {Md(Refusal(refusal))}.\n"
        + $"The previous plan stays in force.\n\n{ChangeSummary(diff)}");

    public override Message UpdateApplied(
        GovernancePlan plan, PlanDiff diff, IReadOnlyList<string> revoked, IReadOnlyList<string> warnings) => Create(
        NotificationKind.Summary,
        $"DMP change applied: {Line(plan.Title)}",
        $"Dear {Md(plan.PrincipalInvestigator.Name)},\n\nthe change to \"{Md(plan.Title)}\" is in force.\n\n{ChangeSummary(diff)}"
        + (revoked.Count == 0 ? string.Empty : "\nAccess revoked:\n" + Items(revoked.Select(Md)))
        + (warnings.Count == 0 ? string.Empty : "\nPlease check:\n" + Items(warnings.Select(Md))));

    public override string PlanSummary(GovernancePlan plan) =>
        "The plan:\n" + Items(plan.Datasets.Select(d =>
            $"{Md(d.Title)} ({Md(d.Key)}): {Lower(d.Classification.Classification)}, container {Md(d.Storage.ContainerName)}, "
            + $"{Lower(d.Storage.Tier)} tier, kept until {Date(d.Retention.KeepUntil)} then {Lower(d.Retention.Disposal)}; access: "
            + (d.Access.Count == 0 ? "nobody" : string.Join(", ", d.Access.Select(a => $"{Md(a.Principal.Name)} ({Lower(a.Role)})")))));

    public override string ChangeSummary(PlanDiff diff)
    {
        var lines = new List<string>();
        lines.AddRange(diff.DatasetsAdded.Select(d => $"- new dataset {Md(d.Title)} ({Md(d.DatasetKey)}, {Lower(d.Classification)})"));
        lines.AddRange(diff.DatasetsRemoved.Select(d =>
            $"- dataset {Md(d.Title)} ({Md(d.DatasetKey)}) removed (data stays under retention)"));
        lines.AddRange(diff.GrantsAdded.Select(g => $"- {Md(g.Principal.Name)} gains {Lower(g.NewRole)} access to {Md(g.DatasetKey)}"));
        lines.AddRange(diff.GrantsChanged.Select(g =>
            $"- {Md(g.Principal.Name)}: {Lower(g.OldRole)} → {Lower(g.NewRole)} on {Md(g.DatasetKey)}"));
        lines.AddRange(diff.GrantsRemoved.Select(g => $"- {Md(g.Principal.Name)} loses access to {Md(g.DatasetKey)}"));
        lines.AddRange(diff.RetentionChanges.Select(r =>
            $"- {Md(r.DatasetKey)}: keep until {Date(r.NewKeepUntil)} (was {Date(r.OldKeepUntil)})"));
        lines.AddRange(diff.ClassificationChanges.Select(c => $"- {Md(c.DatasetKey)}: {Lower(c.Old)} → {Lower(c.New)}"));
        if (diff.PrincipalInvestigatorChangedTo is { } pi)
        {
            lines.Add($"- the PI becomes {Md(pi.Name)}");
        }

        return "The change:\n" + string.Join("\n", lines) + "\n";
    }

    public override string Refusal(ApprovalWorkflowOutput refusal) => ApprovalRefusals.Describe(refusal);

    // ---- Approvals -----------------------------------------------------------------------------------------------

    public override Message ApprovalRequest(
        ApprovalWorkflowInput input, ResolvedApprover approver, DateTimeOffset expiresAt, ApprovalLink link) => Create(
        NotificationKind.ApprovalRequest,
        $"Approval needed ({RoleTitle(input.Role)}): {Line(TitleOf(input))}",
        RequestBody(input, approver.Name, expiresAt),
        ApproveReject(link));

    public override Message ApprovalReminder(
        ApprovalWorkflowInput input, ResolvedApprover approver, DateTimeOffset expiresAt, int reminder, ApprovalLink link) => Create(
        NotificationKind.Reminder,
        $"Reminder {reminder}: approval needed ({RoleTitle(input.Role)}): {Line(TitleOf(input))}",
        RequestBody(input, link.Approver == approver.Email ? approver.Name : approver.DelegateName ?? link.Approver, expiresAt),
        ApproveReject(link));

    public override Message ApprovalEscalated(
        ApprovalWorkflowInput input,
        ResolvedApprover approver,
        DateTimeOffset requestedAt,
        DateTimeOffset expiresAt,
        ApprovalLink link) => Create(
        NotificationKind.Escalation,
        $"Escalated approval ({RoleTitle(input.Role)}): {Line(TitleOf(input))}",
        $"{Md(approver.Name)} has not decided since {Date(requestedAt)}. As their delegate, please decide.\n\n"
        + RequestBody(input, approver.DelegateName ?? link.Approver, expiresAt),
        ApproveReject(link));

    public override Message ApprovalOverdue(
        ApprovalWorkflowInput input, ResolvedApprover approver, DateTimeOffset requestedAt, DateTimeOffset expiresAt) =>
        Create(
            NotificationKind.Escalation,
            $"Approval overdue ({RoleTitle(input.Role)}): {Line(TitleOf(input))}",
            $"{Md(approver.Name)} ({Md(approver.Email)}) has not decided since {Date(requestedAt)}; the request expires on "
            + $"{Date(expiresAt)}. No delegate is named for this role: please follow up.");

    public override string RoleTitle(ApprovalRole role) => ApprovalRoles.Title(role);

    // ---- Retention ----------------------------------------------------------------------------------------------

    public override Message RetentionNotice(RetentionCaseInput dataset, string? title, int days, ApprovalLink link) => Create(
        NotificationKind.RetentionNotice,
        $"Retention notice ({days} days): {Line(title ?? dataset.DatasetId)}",
        $"Dataset \"{Md(title ?? dataset.DatasetId)}\" (DMP {Md(dataset.DmpId)}, container {Md(dataset.Container)}) reaches the end of its "
        + $"retention period on {Date(dataset.KeepUntil)}.\n\n"
        + $"Planned action: {Describe(dataset.Disposal)}.\n\n"
        + "Approve to confirm. To keep the data longer, Reject and write the requested new keep-until date (yyyy-MM-dd) and the reason in "
        + "the comment: the data steward decides on the extension. Legal holds are checked again on the due date.",
        new NotificationLink("Confirm the disposal", link.ApproveUrl),
        new NotificationLink("Object / request an extension", link.RejectUrl));

    public override Message DeletionStoppedByPi(RetentionCaseInput dataset, string? title, string by, string? comment) => Create(
        NotificationKind.Alert,
        $"Deletion stopped by the PI: {Line(title ?? dataset.DatasetId)}",
        $"{Md(by)} stopped the deletion of dataset {Md(dataset.DatasetId)} (DMP {Md(dataset.DmpId)}) during its grace period. "
        + $"Comment: {Md(comment ?? "(none)")}.\nThe data is kept; keep-until {Date(dataset.KeepUntil)} has passed, so the data "
        + "steward must decide on an extension or a new disposal.");

    public override Message ExtensionUnclear(RetentionCaseInput dataset, string? title) => Create(
        NotificationKind.Rejection,
        $"Extension request not understood: {Line(title ?? dataset.DatasetId)}",
        $"Your objection to the disposal of dataset {Md(dataset.DatasetId)} was received, but the comment gives no new keep-until date "
        + $"after {Date(dataset.KeepUntil)}. The link you used works only once: to ask for an extension, write to the data steward, "
        + "or answer the next notice with the date written as yyyy-MM-dd in the comment.");

    public override (IReadOnlyList<string> Reasons, string Summary) ExtensionRequest(
        RetentionCaseInput dataset, string requestedBy, DateOnly newKeepUntil, string? comment) =>
        ([$"The PI ({requestedBy}) asks to keep dataset {dataset.DatasetId} until {Date(newKeepUntil)} "
            + $"instead of {Date(dataset.KeepUntil)}."],
            $"Reason given: {Md(comment)}");

    public override Message ExtensionDenied(
        RetentionCaseInput dataset, string? title, DateOnly newKeepUntil, ApprovalWorkflowOutput approval) => Create(
        NotificationKind.Rejection,
        $"Extension not granted: {Line(title ?? dataset.DatasetId)}",
        $"The data steward did not approve keeping dataset {Md(dataset.DatasetId)} until {Date(newKeepUntil)} "
        + $"({approval.Outcome}: {Md(approval.Comment ?? "no comment")}). The planned action on {Date(dataset.KeepUntil)} stands.");

    public override Message RetentionExtended(
        RetentionCaseInput dataset, string? title, DateOnly newKeepUntil, ApprovalWorkflowOutput approval) => Create(
        NotificationKind.Summary,
        $"Retention extended: {Line(title ?? dataset.DatasetId)}",
        $"Dataset {Md(dataset.DatasetId)} (DMP {Md(dataset.DmpId)}) is now kept until {Date(newKeepUntil)} (approved by "
        + $"{Md(approval.DecidedByLabel)}). You will be notified again before that date.");

    public override Message DisposalHeld(RetentionCaseInput dataset, string? title, string reason, DateOnly recheckOn) => Create(
        NotificationKind.Alert,
        $"Disposal on hold: {Line(title ?? dataset.DatasetId)}",
        $"Dataset {Md(dataset.DatasetId)} (DMP {Md(dataset.DmpId)}, container {Md(dataset.Container)}) reached keep-until "
        + $"{Date(dataset.KeepUntil)} but was NOT disposed of: {Md(reason)}\nGardien checks again on {Date(recheckOn)}.");

    public override (IReadOnlyList<string> Reasons, string Summary) DisposalRequest(
        RetentionCaseInput dataset, string noticesTo, int noticesSent) =>
        ([$"Dataset {dataset.DatasetId} reached keep-until {Date(dataset.KeepUntil)}; planned action: {Describe(dataset.Disposal)}. "
            + "The policy requires your approval before it happens."],
            $"Container {Md(dataset.Container)}. Notices sent to {Md(noticesTo)}: {noticesSent}.");

    public override Message DisposalNotApproved(
        RetentionCaseInput dataset, string? title, IReadOnlyList<ApprovalWorkflowOutput> refused) => Create(
        NotificationKind.Alert,
        $"Disposal not approved: {Line(title ?? dataset.DatasetId)}",
        $"Dataset {Md(dataset.DatasetId)} (DMP {Md(dataset.DmpId)}) reached keep-until {Date(dataset.KeepUntil)} but its disposal was not "
        + $"approved ({Md(ApprovalRefusals.Summary(refused))}). Nothing was disposed of; set a new keep-until (DMP update or extension) to "
        + "close the case.");

    public override Message MarkedForDeletion(
        RetentionCaseInput dataset, string? title, ContainerManifest? manifest, DateTimeOffset purgeAt, ApprovalLink link) => Create(
        NotificationKind.RetentionNotice,
        $"Marked for deletion: {Line(title ?? dataset.DatasetId)}",
        $"Dataset {Md(dataset.DatasetId)} (DMP {Md(dataset.DmpId)}, container {Md(dataset.Container)}: {manifest?.BlobCount} blobs, "
        + $"{manifest?.TotalBytes} bytes) is marked for deletion. It will be purged irreversibly on {Minute(purgeAt)} UTC. Until then, "
        + "Reject (the link below) stops the deletion.",
        new NotificationLink("Stop the deletion", link.RejectUrl));

    public override Message DisposalCompleted(
        RetentionCaseInput dataset, string? title, DeletionCertificate certificate, long auditSequence) => Create(
        NotificationKind.Summary,
        $"Disposal completed: {Line(title ?? dataset.DatasetId)}",
        $"Dataset {Md(dataset.DatasetId)} (DMP {Md(dataset.DmpId)}) was disposed of ({Describe(dataset.Disposal)}): "
        + $"{certificate.BlobCount} blobs, {certificate.TotalBytes} bytes, manifest SHA-256 {certificate.ManifestSha256}. "
        + $"Certificate {certificate.CertificateId} is audit entry #{auditSequence}.");

    public override Message SweepDiscrepancies(DateOnly date, IReadOnlyList<RetentionDiscrepancy> discrepancies) => Create(
        NotificationKind.Alert,
        $"Retention sweep {Date(date)}: {discrepancies.Count} tag discrepancies",
        "Blob index tags disagree with the registry (the registry is authoritative; no action was taken on the tags):\n"
        + string.Join("\n", discrepancies.Select(d =>
            $"- {d.Kind}: container {Md(d.Container)} ({d.BlobCount} blobs, e.g. {string.Join(", ", d.Examples.Select(Md))}), "
            + $"registry keep-until {Md(d.RegistryKeepUntil ?? "none")}, tag {Md(d.TagKeepUntil)}"
            + (d.DmpId is null ? string.Empty : $", dataset {Md(d.DmpId)}/{Md(d.DatasetId)}"))));

    // ---- Access reviews -----------------------------------------------------------------------------------------

    public override Message AccessReview(
        string dmpId, string? title, DateTimeOffset deadline, IReadOnlyList<(ReviewMember Member, ApprovalLink Link)> members) => Create(
        NotificationKind.AccessReview,
        $"Access review: {Line(title ?? dmpId)}",
        $"Please confirm who still needs access to the data of DMP {Md(dmpId)}. Use Keep or Remove for each person before {Date(deadline)} "
        + "(UTC). People you do not confirm by then lose access automatically.\n\n"
        + Items(members.Select(m => $"{Md(m.Member.DisplayName)} ({Md(m.Member.Email ?? m.Member.PrincipalId)}): "
            + string.Join(", ", m.Member.Grants.Select(g => $"{g.Level} on {Md(g.DatasetId)}")))),
        [.. members.SelectMany(m => new[]
        {
            new NotificationLink($"Keep {Line(m.Member.DisplayName)}", m.Link.ApproveUrl),
            new NotificationLink($"Remove {Line(m.Member.DisplayName)}", m.Link.RejectUrl),
        })]);

    public override Message AccessReviewReminder(Message review, int reminder) =>
        review with { Kind = NotificationKind.Reminder, Subject = $"Reminder {reminder}: {review.Subject}" };

    public override Message AccessReviewDone(string dmpId, string? title, int confirmed, IReadOnlyList<string> removed) => Create(
        NotificationKind.Summary,
        $"Access review done: {Line(title ?? dmpId)}",
        $"Confirmed: {confirmed}. Access removed: {removed.Count}"
        + (removed.Count == 0 ? "." : ": " + string.Join(", ", removed.Select(Md)) + "."));

    public override Message AccessEnded(string dmpId, string? title, DateOnly? accessEndsOn, int revoked) => Create(
        NotificationKind.Summary,
        $"Access ended: {Line(title ?? dmpId)}",
        $"The project's access period ended on {Date(accessEndsOn)} (project end + grace). Gardien removed the access of {revoked} people. "
        + "The data itself stays until its keep-until date.");

    // ---- Blob events --------------------------------------------------------------------------------------------

    public override Message BlobInUnknownContainer(BlobEventInput blob) => Create(
        NotificationKind.Alert,
        "Blob in a container no plan knows",
        $"Blob '{Md(blob.BlobName)}' ({blob.ContentLength} bytes) was written to container '{Md(blob.Container)}', which no governed DMP "
        + "declares. Data outside a plan is not governed: find its owner and add it to a DMP, or remove it.");

    public override Message BlobDeletedOutsideDisposal(BlobEventInput blob, DatasetRecord dataset) => Create(
        NotificationKind.Alert,
        $"Blob deleted outside a disposal: {Line(dataset.DatasetId)}",
        $"Blob '{Md(blob.BlobName)}' (etag {Md(blob.ETag)}) was deleted from container '{Md(blob.Container)}' "
        + $"(dataset {Md(dataset.DatasetId)} of DMP {Md(dataset.DmpId)}, state {dataset.State}, keep-until {Date(dataset.KeepUntil)}) "
        + "although no disposal is under way. "
        + "Check whether the deletion was legitimate; restore from backup if not.");

    public override Message BlobWrittenDuringDisposal(BlobEventInput blob, DatasetRecord dataset) => Create(
        NotificationKind.Alert,
        $"Data written to a dataset being disposed of: {Line(dataset.DatasetId)}",
        $"Blob '{Md(blob.BlobName)}' was written to container '{Md(blob.Container)}' while dataset {Md(dataset.DatasetId)} "
        + $"(DMP {Md(dataset.DmpId)}) is {dataset.State}. It will be included in the disposal unless the deletion is stopped.");

    public override Message QuotaExceeded(BlobEventInput blob, DatasetRecord dataset, long? usedBytes) => Create(
        NotificationKind.Alert,
        $"Storage quota exceeded: {Line(dataset.DatasetId)}",
        $"Container '{Md(blob.Container)}' (dataset {Md(dataset.DatasetId)} of DMP {Md(dataset.DmpId)}) holds {usedBytes} bytes, above the "
        + $"{dataset.QuotaBytes} bytes the DMP declares. Update the DMP's byte_size or remove data.");

    public override Message OpenBeforeEmbargo(DatasetRecord dataset) => Create(
        NotificationKind.Alert,
        $"Open distribution before embargo end: {Line(dataset.DatasetId)}",
        $"Dataset {Md(dataset.DatasetId)} (DMP {Md(dataset.DmpId)}) is distributed openly but is under embargo until "
        + $"{Date(dataset.EmbargoUntil)}. Writing data is fine; publishing it before that date is not.");

    // ---- Words --------------------------------------------------------------------------------------------------

    private string RequestBody(ApprovalWorkflowInput input, string name, DateTimeOffset expiresAt) =>
        $"Dear {Md(name)},\n\nGardien asks for your decision as {RoleTitle(input.Role)} on \"{Md(TitleOf(input))}\" "
        + $"(DMP {Md(input.DmpId)}, {Md(input.Subject)}).\n\n"
        + (input.Reasons.Count == 0 ? string.Empty : "Why you are asked:\n" + Items(input.Reasons.Select(Md)) + "\n")
        + (input.Summary is null ? string.Empty : input.Summary + "\n\n")
        + $"Use the Approve or Reject link below. Each link works once and expires on {Minute(expiresAt)} UTC.";

    private static string TitleOf(ApprovalWorkflowInput input) => input.DmpTitle ?? input.DmpId;

    private static string Describe(PortDisposal action) => action switch
    {
        PortDisposal.Archive => "move to the archive tier and keep",
        PortDisposal.Publish => "hand off for publication",
        _ => "delete (marked first, purged after the grace period)",
    };

    private static string Lower(Enum? value) => value?.ToString().ToLowerInvariant() ?? string.Empty;
}
