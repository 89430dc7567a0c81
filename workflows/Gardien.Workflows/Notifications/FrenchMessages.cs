using Gardien.Workflows.Access;
using Gardien.Workflows.Approvals;
using Gardien.Workflows.BlobEvents;
using Gardien.Workflows.Governance;
using Gardien.Workflows.Ports;
using Gardien.Workflows.Retention;
using PortDisposal = Gardien.Workflows.Ports.DisposalAction;

namespace Gardien.Workflows.Notifications;

/// <summary>The messages in French (policy <c>notifications.language: "fr"</c>).</summary>
internal sealed class FrenchMessages : MessageCatalogue
{
    public override string Language => NotificationLanguages.French;

    // ---- Intake and update ---------------------------------------------------------------------------------------

    public override Message IntakeInvalid(string title, IReadOnlyList<string> errors) => Create(
        NotificationKind.Rejection,
        $"Gardien n'a pas pu prendre votre PGD en charge : {Line(title)}",
        "Votre plan de gestion des données n'a pas pu être accepté. Corrigez les points suivants, puis soumettez-le à nouveau :\n\n"
        + Items(errors.Select(Md)));

    public override Message IntakeRejected(GovernancePlan plan, ApprovalWorkflowOutput refusal) => Create(
        NotificationKind.Rejection,
        $"PGD non approuvé : {Line(plan.Title)}",
        $"Bonjour {Md(plan.PrincipalInvestigator.Name)},\n\nle plan de gouvernance de « {Md(plan.Title)} » n'a pas été approuvé : "
        + $"{Md(Refusal(refusal))}.\nRien n'a été provisionné. Révisez le PGD, puis soumettez-le à nouveau.");

    public override Message IntakeFailed(GovernancePlan plan, string reason, IReadOnlyList<string> incomplete) => Create(
        NotificationKind.Alert,
        $"Échec du provisionnement du PGD : {Line(plan.Title)}",
        $"Bonjour {Md(plan.PrincipalInvestigator.Name)},\n\nle provisionnement de « {Md(plan.Title)} » a échoué : {Md(reason)}.\n"
        + "Tous les accès accordés par cette tentative ont été retirés et les conteneurs vides qu'elle avait créés ont été supprimés"
        + (incomplete.Count > 0
            ? ", sauf : " + Md(string.Join("; ", incomplete)) + " (le gestionnaire de données est alerté)"
            : string.Empty)
        + ". Le gestionnaire de données pourra relancer le traitement une fois la cause corrigée.");

    public override Message IntakeSummary(GovernancePlan plan, IntakeSummaryFacts facts) => Create(
        NotificationKind.Summary,
        $"PGD approuvé et provisionné : {Line(plan.Title)}",
        $"Bonjour {Md(plan.PrincipalInvestigator.Name)},\n\nle plan de gouvernance de « {Md(plan.Title)} » est approuvé et en vigueur.\n\n"
        + "Approbations :\n" + Items(facts.Approvals.Select(a => $"{RoleTitle(a.Role)} : {Md(a.DecidedByLabel)} le {Date(a.DecidedAt)}"
            + (string.IsNullOrWhiteSpace(a.Comment) ? string.Empty : $" (« {Md(a.Comment)} »)")))
        + "\nStockage :\n" + Items(facts.Containers.Select(c => $"{Md(c.DatasetId)} : {Md(c.Location.ToString())}"))
        + "\nAccès :\n" + Items(facts.Grants.Select(g => $"{Md(g.DisplayName ?? g.PrincipalId)} : {Access(g.Level)} sur {Md(g.Container)}"))
        + (facts.NotEnforced.Count == 0 ? string.Empty
            : "\nEnregistré mais non appliqué par cette plateforme :\n"
                + Items(facts.NotEnforced.Select(f => $"{Md(f.Feature)} : {Md(f.Reason)}")))
        + (facts.Warnings.Count == 0 ? string.Empty : "\nÀ vérifier :\n" + Items(facts.Warnings.Select(Md))));

    public override Message UpdateRejected(GovernancePlan plan, ApprovalWorkflowOutput refusal, PlanDiff diff) => Create(
        NotificationKind.Rejection,
        $"Modification du PGD non approuvée : {Line(plan.Title)}",
        $"Bonjour {Md(plan.PrincipalInvestigator.Name)},\n\nla modification de « {Md(plan.Title)} » n'a pas été approuvée : "
        + $"{Md(Refusal(refusal))}.\nLe plan précédent reste en vigueur.\n\n{ChangeSummary(diff)}");

    public override Message UpdateApplied(
        GovernancePlan plan, PlanDiff diff, IReadOnlyList<string> revoked, IReadOnlyList<string> warnings) => Create(
        NotificationKind.Summary,
        $"Modification du PGD appliquée : {Line(plan.Title)}",
        $"Bonjour {Md(plan.PrincipalInvestigator.Name)},\n\nla modification de « {Md(plan.Title)} » est en vigueur.\n\n"
        + ChangeSummary(diff)
        + (revoked.Count == 0 ? string.Empty : "\nAccès retirés :\n" + Items(revoked.Select(Md)))
        + (warnings.Count == 0 ? string.Empty : "\nÀ vérifier :\n" + Items(warnings.Select(Md))));

    public override string PlanSummary(GovernancePlan plan) =>
        "Le plan :\n" + Items(plan.Datasets.Select(d =>
            $"{Md(d.Title)} ({Md(d.Key)}) : {Classification(d.Classification.Classification)}, conteneur {Md(d.Storage.ContainerName)}, "
            + $"niveau d'accès {Tier(d.Storage.Tier)}, conservé jusqu'au {Date(d.Retention.KeepUntil)} "
            + $"puis {Disposal(d.Retention.Disposal)} ; accès : "
            + (d.Access.Count == 0 ? "personne" : string.Join(", ", d.Access.Select(a => $"{Md(a.Principal.Name)} ({Access(a.Role)})")))));

    public override string ChangeSummary(PlanDiff diff)
    {
        var lines = new List<string>();
        lines.AddRange(diff.DatasetsAdded.Select(d =>
            $"- nouveau jeu de données {Md(d.Title)} ({Md(d.DatasetKey)}, {Classification(d.Classification)})"));
        lines.AddRange(diff.DatasetsRemoved.Select(d =>
            $"- jeu de données {Md(d.Title)} ({Md(d.DatasetKey)}) retiré (les données restent sous conservation)"));
        lines.AddRange(diff.GrantsAdded.Select(g =>
            $"- {Md(g.Principal.Name)} obtient un accès en {Access(g.NewRole)} à {Md(g.DatasetKey)}"));
        lines.AddRange(diff.GrantsChanged.Select(g =>
            $"- {Md(g.Principal.Name)} : {Access(g.OldRole)} → {Access(g.NewRole)} sur {Md(g.DatasetKey)}"));
        lines.AddRange(diff.GrantsRemoved.Select(g => $"- {Md(g.Principal.Name)} perd l'accès à {Md(g.DatasetKey)}"));
        lines.AddRange(diff.RetentionChanges.Select(r =>
            $"- {Md(r.DatasetKey)} : conservé jusqu'au {Date(r.NewKeepUntil)} (au lieu du {Date(r.OldKeepUntil)})"));
        lines.AddRange(diff.ClassificationChanges.Select(c => $"- {Md(c.DatasetKey)} : {Classification(c.Old)} → {Classification(c.New)}"));
        if (diff.PrincipalInvestigatorChangedTo is { } pi)
        {
            lines.Add($"- {Md(pi.Name)} devient responsable scientifique");
        }

        return "La modification :\n" + string.Join("\n", lines) + "\n";
    }

    public override string Refusal(ApprovalWorkflowOutput refusal) => refusal.Outcome switch
    {
        ApprovalOutcome.Rejected => $"le ou la {RoleTitle(refusal.Role)} ({refusal.DecidedByLabel ?? refusal.Approver}) l'a refusé"
            + (string.IsNullOrWhiteSpace(refusal.Comment) ? string.Empty : $" : « {refusal.Comment} »"),
        ApprovalOutcome.Expired => $"le ou la {RoleTitle(refusal.Role)} ({refusal.Approver}) n'a pas décidé à temps",
        _ => $"l'approbation du ou de la {RoleTitle(refusal.Role)} a été retirée ({refusal.Comment})",
    };

    // ---- Approvals -----------------------------------------------------------------------------------------------

    public override Message ApprovalRequest(
        ApprovalWorkflowInput input, ResolvedApprover approver, DateTimeOffset expiresAt, ApprovalLink link) => Create(
        NotificationKind.ApprovalRequest,
        $"Approbation requise ({RoleTitle(input.Role)}) : {Line(TitleOf(input))}",
        RequestBody(input, approver.Name, expiresAt),
        ApproveReject(link));

    public override Message ApprovalReminder(
        ApprovalWorkflowInput input, ResolvedApprover approver, DateTimeOffset expiresAt, int reminder, ApprovalLink link) => Create(
        NotificationKind.Reminder,
        $"Rappel {reminder} : approbation requise ({RoleTitle(input.Role)}) : {Line(TitleOf(input))}",
        RequestBody(input, link.Approver == approver.Email ? approver.Name : approver.DelegateName ?? link.Approver, expiresAt),
        ApproveReject(link));

    public override Message ApprovalEscalated(
        ApprovalWorkflowInput input,
        ResolvedApprover approver,
        DateTimeOffset requestedAt,
        DateTimeOffset expiresAt,
        ApprovalLink link) => Create(
        NotificationKind.Escalation,
        $"Approbation transmise ({RoleTitle(input.Role)}) : {Line(TitleOf(input))}",
        $"{Md(approver.Name)} n'a pas décidé depuis le {Date(requestedAt)}. En tant que suppléant ou suppléante, merci de décider.\n\n"
        + RequestBody(input, approver.DelegateName ?? link.Approver, expiresAt),
        ApproveReject(link));

    public override Message ApprovalOverdue(
        ApprovalWorkflowInput input, ResolvedApprover approver, DateTimeOffset requestedAt, DateTimeOffset expiresAt) =>
        Create(
            NotificationKind.Escalation,
            $"Approbation en retard ({RoleTitle(input.Role)}) : {Line(TitleOf(input))}",
            $"{Md(approver.Name)} ({Md(approver.Email)}) n'a pas décidé depuis le {Date(requestedAt)} ; la demande expire le "
            + $"{Date(expiresAt)}. Aucun suppléant n'est désigné pour ce rôle : merci d'assurer le suivi.");

    public override string RoleTitle(ApprovalRole role) => role switch
    {
        ApprovalRole.PrincipalInvestigator => "responsable scientifique",
        ApprovalRole.DataSteward => "gestionnaire de données",
        ApprovalRole.DataProtectionOfficer => "délégué à la protection des données",
        _ => role.ToString(),
    };

    // ---- Retention ----------------------------------------------------------------------------------------------

    public override Message RetentionNotice(RetentionCaseInput dataset, string? title, int days, ApprovalLink link) => Create(
        NotificationKind.RetentionNotice,
        $"Avis de fin de conservation ({days} jours) : {Line(title ?? dataset.DatasetId)}",
        $"Le jeu de données « {Md(title ?? dataset.DatasetId)} » (PGD {Md(dataset.DmpId)}, conteneur {Md(dataset.Container)}) "
        + $"atteint la fin de sa durée de conservation le {Date(dataset.KeepUntil)}.\n\n"
        + $"Action prévue : {Describe(dataset.Disposal)}.\n\n"
        + "Approuvez pour confirmer. Pour conserver les données plus longtemps, refusez en écrivant dans le commentaire la nouvelle "
        + "date de fin de conservation souhaitée (aaaa-mm-jj) et sa raison : le gestionnaire de données décide de la prolongation. "
        + "Les gels juridiques sont vérifiés à nouveau à l'échéance.",
        new NotificationLink("Confirmer l'élimination", link.ApproveUrl),
        new NotificationLink("M'opposer / demander une prolongation", link.RejectUrl));

    public override Message DeletionStoppedByPi(RetentionCaseInput dataset, string? title, string by, string? comment) => Create(
        NotificationKind.Alert,
        $"Suppression arrêtée par le responsable scientifique : {Line(title ?? dataset.DatasetId)}",
        $"{Md(by)} a arrêté la suppression du jeu de données {Md(dataset.DatasetId)} (PGD {Md(dataset.DmpId)}) pendant son délai de grâce. "
        + $"Commentaire : {Md(comment ?? "(aucun)")}.\nLes données sont conservées ; la date de fin de conservation "
        + $"{Date(dataset.KeepUntil)} est dépassée, le gestionnaire de données doit donc décider d'une prolongation ou d'une nouvelle "
        + "élimination.");

    public override Message ExtensionUnclear(RetentionCaseInput dataset, string? title) => Create(
        NotificationKind.Rejection,
        $"Demande de prolongation incomprise : {Line(title ?? dataset.DatasetId)}",
        $"Votre opposition à l'élimination du jeu de données {Md(dataset.DatasetId)} a bien été reçue, mais le commentaire ne donne aucune "
        + $"nouvelle date de fin de conservation postérieure au {Date(dataset.KeepUntil)}. Le lien utilisé ne sert qu'une fois : pour "
        + "demander une prolongation, écrivez au gestionnaire de données, ou répondez à l'avis suivant en indiquant la date au format "
        + "aaaa-mm-jj dans le commentaire.");

    public override (IReadOnlyList<string> Reasons, string Summary) ExtensionRequest(
        RetentionCaseInput dataset, string requestedBy, DateOnly newKeepUntil, string? comment) =>
        ([$"Le responsable scientifique ({requestedBy}) demande de conserver le jeu de données {dataset.DatasetId} jusqu'au "
            + $"{Date(newKeepUntil)} au lieu du {Date(dataset.KeepUntil)}."],
            $"Raison donnée : {Md(comment)}");

    public override Message ExtensionDenied(
        RetentionCaseInput dataset, string? title, DateOnly newKeepUntil, ApprovalWorkflowOutput approval) => Create(
        NotificationKind.Rejection,
        $"Prolongation non accordée : {Line(title ?? dataset.DatasetId)}",
        $"Le gestionnaire de données n'a pas approuvé la conservation du jeu de données {Md(dataset.DatasetId)} jusqu'au "
        + $"{Date(newKeepUntil)} ({Outcome(approval.Outcome)} : {Md(approval.Comment ?? "sans commentaire")}). L'action prévue le "
        + $"{Date(dataset.KeepUntil)} est maintenue.");

    public override Message RetentionExtended(
        RetentionCaseInput dataset, string? title, DateOnly newKeepUntil, ApprovalWorkflowOutput approval) => Create(
        NotificationKind.Summary,
        $"Conservation prolongée : {Line(title ?? dataset.DatasetId)}",
        $"Le jeu de données {Md(dataset.DatasetId)} (PGD {Md(dataset.DmpId)}) est désormais conservé jusqu'au {Date(newKeepUntil)} "
        + $"(approuvé par {Md(approval.DecidedByLabel)}). Vous serez à nouveau prévenu avant cette date.");

    public override Message DisposalHeld(RetentionCaseInput dataset, string? title, string reason, DateOnly recheckOn) => Create(
        NotificationKind.Alert,
        $"Élimination suspendue : {Line(title ?? dataset.DatasetId)}",
        $"Le jeu de données {Md(dataset.DatasetId)} (PGD {Md(dataset.DmpId)}, conteneur {Md(dataset.Container)}) a atteint sa fin de "
        + $"conservation le {Date(dataset.KeepUntil)} mais n'a PAS été éliminé : {Md(reason)}\n"
        + $"Gardien vérifiera à nouveau le {Date(recheckOn)}.");

    public override (IReadOnlyList<string> Reasons, string Summary) DisposalRequest(
        RetentionCaseInput dataset, string noticesTo, int noticesSent) =>
        ([$"Le jeu de données {dataset.DatasetId} a atteint sa fin de conservation le {Date(dataset.KeepUntil)} ; action prévue : "
            + $"{Describe(dataset.Disposal)}. La politique exige votre approbation avant qu'elle ait lieu."],
            $"Conteneur {Md(dataset.Container)}. Avis envoyés à {Md(noticesTo)} : {noticesSent}.");

    public override Message DisposalNotApproved(
        RetentionCaseInput dataset, string? title, IReadOnlyList<ApprovalWorkflowOutput> refused) => Create(
        NotificationKind.Alert,
        $"Élimination non approuvée : {Line(title ?? dataset.DatasetId)}",
        $"Le jeu de données {Md(dataset.DatasetId)} (PGD {Md(dataset.DmpId)}) a atteint sa fin de conservation le "
        + $"{Date(dataset.KeepUntil)} mais son élimination n'a pas été approuvée ("
        + Md(string.Join("; ", refused.Select(r => $"{RoleTitle(r.Role)} : {Outcome(r.Outcome)} {r.Comment}".Trim())))
        + "). Rien n'a été éliminé ; fixez une nouvelle date de fin de conservation (mise à jour du PGD ou prolongation) pour clore "
        + "le dossier.");

    public override Message MarkedForDeletion(
        RetentionCaseInput dataset, string? title, ContainerManifest? manifest, DateTimeOffset purgeAt, ApprovalLink link) => Create(
        NotificationKind.RetentionNotice,
        $"Marqué pour suppression : {Line(title ?? dataset.DatasetId)}",
        $"Le jeu de données {Md(dataset.DatasetId)} (PGD {Md(dataset.DmpId)}, conteneur {Md(dataset.Container)} : {manifest?.BlobCount} "
        + $"objets, {manifest?.TotalBytes} octets) est marqué pour suppression. Il sera purgé de façon irréversible le "
        + $"{Minute(purgeAt)} UTC. D'ici là, le lien ci-dessous arrête la suppression.",
        new NotificationLink("Arrêter la suppression", link.RejectUrl));

    public override Message DisposalCompleted(
        RetentionCaseInput dataset, string? title, DeletionCertificate certificate, long auditSequence) => Create(
        NotificationKind.Summary,
        $"Élimination terminée : {Line(title ?? dataset.DatasetId)}",
        $"Le jeu de données {Md(dataset.DatasetId)} (PGD {Md(dataset.DmpId)}) a été éliminé ({Describe(dataset.Disposal)}) : "
        + $"{certificate.BlobCount} objets, {certificate.TotalBytes} octets, empreinte SHA-256 du manifeste {certificate.ManifestSha256}. "
        + $"Le certificat {certificate.CertificateId} est l'entrée n° {auditSequence} du journal d'audit.");

    public override Message SweepDiscrepancies(DateOnly date, IReadOnlyList<RetentionDiscrepancy> discrepancies) => Create(
        NotificationKind.Alert,
        $"Contrôle de conservation du {Date(date)} : {discrepancies.Count} incohérences d'étiquettes",
        "Des étiquettes d'index d'objets contredisent le registre (le registre fait foi ; aucune action n'a été faite sur les "
        + "étiquettes) :\n"
        + string.Join("\n", discrepancies.Select(d =>
            $"- {d.Kind} : conteneur {Md(d.Container)} ({d.BlobCount} objets, p. ex. {string.Join(", ", d.Examples.Select(Md))}), "
            + $"fin de conservation au registre {Md(d.RegistryKeepUntil ?? "aucune")}, étiquette {Md(d.TagKeepUntil)}"
            + (d.DmpId is null ? string.Empty : $", jeu de données {Md(d.DmpId)}/{Md(d.DatasetId)}"))));

    // ---- Access reviews -----------------------------------------------------------------------------------------

    public override Message AccessReview(
        string dmpId, string? title, DateTimeOffset deadline, IReadOnlyList<(ReviewMember Member, ApprovalLink Link)> members) => Create(
        NotificationKind.AccessReview,
        $"Revue des accès : {Line(title ?? dmpId)}",
        $"Merci de confirmer qui a encore besoin d'accéder aux données du PGD {Md(dmpId)}. Utilisez Garder ou Retirer pour chaque personne "
        + $"avant le {Date(deadline)} (UTC). Les personnes non confirmées d'ici là perdent automatiquement leur accès.\n\n"
        + Items(members.Select(m => $"{Md(m.Member.DisplayName)} ({Md(m.Member.Email ?? m.Member.PrincipalId)}) : "
            + string.Join(", ", m.Member.Grants.Select(g => $"{Access(g.Level)} sur {Md(g.DatasetId)}")))),
        [.. members.SelectMany(m => new[]
        {
            new NotificationLink($"Garder {Line(m.Member.DisplayName)}", m.Link.ApproveUrl),
            new NotificationLink($"Retirer {Line(m.Member.DisplayName)}", m.Link.RejectUrl),
        })]);

    public override Message AccessReviewReminder(Message review, int reminder) =>
        review with { Kind = NotificationKind.Reminder, Subject = $"Rappel {reminder} : {review.Subject}" };

    public override Message AccessReviewDone(string dmpId, string? title, int confirmed, IReadOnlyList<string> removed) => Create(
        NotificationKind.Summary,
        $"Revue des accès terminée : {Line(title ?? dmpId)}",
        $"Confirmés : {confirmed}. Accès retirés : {removed.Count}"
        + (removed.Count == 0 ? "." : " : " + string.Join(", ", removed.Select(Md)) + "."));

    public override Message AccessEnded(string dmpId, string? title, DateOnly? accessEndsOn, int revoked) => Create(
        NotificationKind.Summary,
        $"Fin des accès : {Line(title ?? dmpId)}",
        $"La période d'accès du projet s'est terminée le {Date(accessEndsOn)} (fin du projet + délai de grâce). Gardien a retiré "
        + $"l'accès de {revoked} personnes. Les données elles-mêmes restent conservées jusqu'à leur date de fin de conservation.");

    // ---- Blob events --------------------------------------------------------------------------------------------

    public override Message BlobInUnknownContainer(BlobEventInput blob) => Create(
        NotificationKind.Alert,
        "Objet dans un conteneur qu'aucun plan ne connaît",
        $"L'objet « {Md(blob.BlobName)} » ({blob.ContentLength} octets) a été écrit dans le conteneur « {Md(blob.Container)} », "
        + "qu'aucun PGD gouverné ne déclare. Des données hors plan ne sont pas gouvernées : trouvez leur propriétaire et ajoutez-les à "
        + "un PGD, ou supprimez-les.");

    public override Message BlobDeletedOutsideDisposal(BlobEventInput blob, DatasetRecord dataset) => Create(
        NotificationKind.Alert,
        $"Objet supprimé hors élimination : {Line(dataset.DatasetId)}",
        $"L'objet « {Md(blob.BlobName)} » (etag {Md(blob.ETag)}) a été supprimé du conteneur « {Md(blob.Container)} » (jeu de données "
        + $"{Md(dataset.DatasetId)} du PGD {Md(dataset.DmpId)}, état {State(dataset.State)}, fin de conservation "
        + $"{Date(dataset.KeepUntil)}) alors qu'aucune élimination n'est en cours. Vérifiez que la suppression était légitime ; sinon, "
        + "restaurez depuis la sauvegarde.");

    public override Message BlobWrittenDuringDisposal(BlobEventInput blob, DatasetRecord dataset) => Create(
        NotificationKind.Alert,
        $"Données écrites dans un jeu de données en cours d'élimination : {Line(dataset.DatasetId)}",
        $"L'objet « {Md(blob.BlobName)} » a été écrit dans le conteneur « {Md(blob.Container)} » alors que le jeu de données "
        + $"{Md(dataset.DatasetId)} (PGD {Md(dataset.DmpId)}) est {State(dataset.State)}. Il sera compris dans l'élimination, sauf si la "
        + "suppression est arrêtée.");

    public override Message QuotaExceeded(BlobEventInput blob, DatasetRecord dataset, long? usedBytes) => Create(
        NotificationKind.Alert,
        $"Quota de stockage dépassé : {Line(dataset.DatasetId)}",
        $"Le conteneur « {Md(blob.Container)} » (jeu de données {Md(dataset.DatasetId)} du PGD {Md(dataset.DmpId)}) contient {usedBytes} "
        + $"octets, au-delà des {dataset.QuotaBytes} octets déclarés par le PGD. Mettez à jour le byte_size du PGD ou supprimez des "
        + "données.");

    public override Message OpenBeforeEmbargo(DatasetRecord dataset) => Create(
        NotificationKind.Alert,
        $"Diffusion ouverte avant la fin de l'embargo : {Line(dataset.DatasetId)}",
        $"Le jeu de données {Md(dataset.DatasetId)} (PGD {Md(dataset.DmpId)}) est diffusé en accès ouvert mais reste sous embargo jusqu'au "
        + $"{Date(dataset.EmbargoUntil)}. Écrire des données est permis ; les publier avant cette date ne l'est pas.");

    // ---- Words --------------------------------------------------------------------------------------------------

    private string RequestBody(ApprovalWorkflowInput input, string name, DateTimeOffset expiresAt) =>
        $"Bonjour {Md(name)},\n\nGardien vous demande de décider, en tant que {RoleTitle(input.Role)}, sur « {Md(TitleOf(input))} » "
        + $"(PGD {Md(input.DmpId)}, {Md(input.Subject)}).\n\n"
        + (input.Reasons.Count == 0 ? string.Empty : "Pourquoi vous êtes sollicité :\n" + Items(input.Reasons.Select(Md)) + "\n")
        + (input.Summary is null ? string.Empty : input.Summary + "\n\n")
        + $"Utilisez le lien Approuver ou Refuser ci-dessous. Chaque lien ne sert qu'une fois et expire le {Minute(expiresAt)} UTC.";

    private static string TitleOf(ApprovalWorkflowInput input) => input.DmpTitle ?? input.DmpId;

    private static string Describe(PortDisposal action) => action switch
    {
        PortDisposal.Archive => "passage au niveau d'accès archive et conservation",
        PortDisposal.Publish => "transmission pour publication",
        _ => "suppression (marquage d'abord, purge après le délai de grâce)",
    };

    private static string Outcome(ApprovalOutcome outcome) => outcome switch
    {
        ApprovalOutcome.Approved => "approuvée",
        ApprovalOutcome.Rejected => "refusée",
        ApprovalOutcome.Expired => "expirée",
        _ => "retirée",
    };

    private static string Classification(DataClassification classification) => classification switch
    {
        DataClassification.Public => "public",
        DataClassification.Internal => "interne",
        DataClassification.Confidential => "confidentiel",
        _ => "restreint",
    };

    private static string Tier(Governance.StorageTier tier) => tier switch
    {
        Governance.StorageTier.Hot => "chaud",
        Governance.StorageTier.Cool => "froid",
        Governance.StorageTier.Cold => "à froid",
        _ => "archive",
    };

    private static string Disposal(Governance.DisposalAction action) => action switch
    {
        Governance.DisposalAction.Archive => "archivé",
        Governance.DisposalAction.Publish => "publié",
        _ => "supprimé",
    };

    private static string Access(Enum? level) => level?.ToString() switch
    {
        null => string.Empty,
        "Reader" => "lecture",
        "Contributor" => "contribution",
        "Owner" => "propriétaire",
        var other => other.ToLowerInvariant(),
    };

    private static string State(DatasetState state) => state switch
    {
        DatasetState.Planned => "prévu",
        DatasetState.Provisioned => "provisionné",
        DatasetState.MarkedForDeletion => "marqué pour suppression",
        DatasetState.Disposed => "éliminé",
        DatasetState.Archived => "archivé",
        DatasetState.Published => "publié",
        _ => "en échec",
    };
}
