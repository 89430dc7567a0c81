using System.Globalization;
using System.Text.Json;
using Gardien.Workflows.Governance;

namespace Gardien.Workflows.Http.Pages;

/// <summary>
/// Every word the pages write themselves, in English and French (<see cref="For"/>). Text from a DMP, a person or a
/// workflow message is never translated here: it is shown as it is, escaped. One catalogue, so that a page cannot
/// forget a language: each text is required.
/// </summary>
public sealed class PageTexts
{
    public required string Lang { get; init; }

    public required string SkipToContent { get; init; }

    public required string Dashboard { get; init; }

    public required string Inbox { get; init; }

    public required string Api { get; init; }

    // The approval page.
    public required string ApproveTitle { get; init; }

    public required string RejectTitle { get; init; }

    public required string DecideTitle { get; init; }

    public required string AskedAs { get; init; }

    public required string TheDmp { get; init; }

    public required string WhyYou { get; init; }

    public required string Provisioned { get; init; }

    public required string WhoGetsAccess { get; init; }

    public required string Findings { get; init; }

    public required string NoFindings { get; init; }

    public required string NothingProvisioned { get; init; }

    public required string NobodyGetsAccess { get; init; }

    public required string PlanUnavailable { get; init; }

    public required string YourDecision { get; init; }

    public required string Comment { get; init; }

    public required string Approve { get; init; }

    public required string Reject { get; init; }

    public required string Open { get; init; }

    public required string Title { get; init; }

    public required string DmpId { get; init; }

    public required string PrincipalInvestigator { get; init; }

    public required string ProjectEnd { get; init; }

    public required string Approver { get; init; }

    public required string SignedInAs { get; init; }

    public required string NotSignedIn { get; init; }

    public required string LinkExpires { get; init; }

    public required string Dataset { get; init; }

    public required string Classification { get; init; }

    public required string Container { get; init; }

    public required string Tier { get; init; }

    public required string EncryptionScope { get; init; }

    public required string ImmutabilityDays { get; init; }

    public required string KeepUntil { get; init; }

    public required string ThenAction { get; init; }

    public required string Person { get; init; }

    public required string Access { get; init; }

    public required string Until { get; init; }

    public required string Because { get; init; }

    public required string Severity { get; init; }

    public required string Message { get; init; }

    public required string Where { get; init; }

    public required string LinkUnusable { get; init; }

    public required string DecisionRecorded { get; init; }

    public required string DecisionNotRecorded { get; init; }

    public required string SignInRequired { get; init; }

    public required string SignInRequiredText { get; init; }

    public required string FormExpired { get; init; }

    public required string FormExpiredText { get; init; }

    public required string DecisionOnlyByPost { get; init; }

    // The dashboard.
    public required string DashboardTitle { get; init; }

    public required string DmpsByState { get; init; }

    public required string NoDmps { get; init; }

    public required string State { get; init; }

    public required string Version { get; init; }

    public required string PendingApprovals { get; init; }

    public required string NoPendingApprovals { get; init; }

    public required string Role { get; init; }

    public required string Awaiting { get; init; }

    public required string Age { get; init; }

    public required string Expires { get; init; }

    public required string DatasetsContainers { get; init; }

    public required string Grants { get; init; }

    public required string NoGrants { get; init; }

    public required string ContainerMissing { get; init; }

    public required string Controls { get; init; }

    public required string InForce { get; init; }

    public required string NotEnforcedLocally { get; init; }

    public required string Timeline { get; init; }

    public required string TimelineSummary { get; init; }

    public required string NothingScheduled { get; init; }

    public required string RetentionEnd { get; init; }

    public required string RetentionNotice { get; init; }

    public required string AccessEnds { get; init; }

    public required string AccessReview { get; init; }

    public required string RecentAudit { get; init; }

    public required string AuditIntact { get; init; }

    public required string AuditBroken { get; init; }

    public required string When { get; init; }

    public required string Actor { get; init; }

    public required string Action { get; init; }

    public required string Subject { get; init; }

    public required string Days { get; init; }

    // The inbox.
    public required string InboxTitle { get; init; }

    public required string InboxIntro { get; init; }

    public required string InboxEmpty { get; init; }

    public required string Unread { get; init; }

    public required string ForWhom { get; init; }

    public required string Reference { get; init; }

    public required string Sent { get; init; }

    public required string RequestClosed { get; init; }

    public required string MarkAllRead { get; init; }

    public static PageTexts English { get; } = new()
    {
        Lang = "en",
        SkipToContent = "Skip to the content",
        Dashboard = "Dashboard",
        Inbox = "Inbox",
        Api = "API",
        ApproveTitle = "Approve the request",
        RejectTitle = "Reject the request",
        DecideTitle = "Decide the request",
        AskedAs = "You are asked to decide as {0} for this data management plan.",
        TheDmp = "The DMP",
        WhyYou = "Why you are asked",
        Provisioned = "What will be provisioned",
        WhoGetsAccess = "Who gets access",
        Findings = "Findings",
        NoFindings = "No findings.",
        NothingProvisioned = "No dataset to provision.",
        NobodyGetsAccess = "Nobody gets access.",
        PlanUnavailable = "The plan cannot be shown in detail; the request says:",
        YourDecision = "Your decision",
        Comment = "Comment (optional; shown to the principal investigator on a rejection)",
        Approve = "Approve",
        Reject = "Reject",
        Open = "Open",
        Title = "Title",
        DmpId = "DMP identifier",
        PrincipalInvestigator = "Principal investigator",
        ProjectEnd = "Project end",
        Approver = "Approver",
        SignedInAs = "Signed in as",
        NotSignedIn = "nobody (the link's holder decides as its approver)",
        LinkExpires = "The link expires on",
        Dataset = "Dataset",
        Classification = "Classification",
        Container = "Container",
        Tier = "Tier",
        EncryptionScope = "Encryption scope",
        ImmutabilityDays = "Immutability (days)",
        KeepUntil = "Keep until",
        ThenAction = "Then",
        Person = "Person",
        Access = "Access",
        Until = "Until",
        Because = "Because",
        Severity = "Severity",
        Message = "Message",
        Where = "Where",
        LinkUnusable = "This approval link cannot be used",
        DecisionRecorded = "Decision recorded",
        DecisionNotRecorded = "Your decision was not recorded",
        SignInRequired = "Sign-in required",
        SignInRequiredText = "Sign in with your institution account to decide: a decision is recorded in the name of the person signed in.",
        FormExpired = "This form cannot be accepted",
        FormExpiredText = "The form did not come from this approval page or has expired. Nothing was recorded: open the approval link "
            + "again.",
        DecisionOnlyByPost = "Nothing is decided by opening this page: confirm below.",
        DashboardTitle = "Governance dashboard",
        DmpsByState = "DMPs by state",
        NoDmps = "No DMP has been submitted yet.",
        State = "State",
        Version = "Version",
        PendingApprovals = "Pending approvals",
        NoPendingApprovals = "No approval is awaited.",
        Role = "Role",
        Awaiting = "Awaiting",
        Age = "Waiting for",
        Expires = "Expires",
        DatasetsContainers = "Datasets, containers and grants",
        Grants = "Grants",
        NoGrants = "no grant",
        ContainerMissing = "container missing",
        Controls = "Controls",
        InForce = "recorded on the container",
        NotEnforcedLocally = "not enforced locally",
        Timeline = "Upcoming retention and review dates",
        TimelineSummary = "Timeline of the next dates, earliest first; the same dates are listed below the chart.",
        NothingScheduled = "Nothing scheduled.",
        RetentionEnd = "retention ends",
        RetentionNotice = "retention notice",
        AccessEnds = "access ends",
        AccessReview = "access review",
        RecentAudit = "Recent audit entries",
        AuditIntact = "Audit chain intact: {0} entries verified.",
        AuditBroken = "Audit chain BROKEN at entry {0}: {1}",
        When = "When",
        Actor = "Actor",
        Action = "Action",
        Subject = "Subject",
        Days = "{0} d",
        InboxTitle = "Inbox",
        InboxIntro = "What Gardien sent, newest first, as Teams shows it: each message is the Adaptive Card the Teams adapter posts.",
        InboxEmpty = "No message yet.",
        Unread = "unread",
        ForWhom = "For",
        Reference = "Reference",
        Sent = "Sent",
        RequestClosed = "This request is closed (decided, withdrawn or expired).",
        MarkAllRead = "Mark all as read",
    };

    public static PageTexts French { get; } = new()
    {
        Lang = "fr",
        SkipToContent = "Aller au contenu",
        Dashboard = "Tableau de bord",
        Inbox = "Boîte de réception",
        Api = "API",
        ApproveTitle = "Approuver la demande",
        RejectTitle = "Refuser la demande",
        DecideTitle = "Décider de la demande",
        AskedAs = "Votre décision est demandée en tant que {0} pour ce plan de gestion de données.",
        TheDmp = "Le PGD",
        WhyYou = "Pourquoi vous",
        Provisioned = "Ce qui sera créé",
        WhoGetsAccess = "Qui aura accès",
        Findings = "Constats",
        NoFindings = "Aucun constat.",
        NothingProvisioned = "Aucun jeu de données à créer.",
        NobodyGetsAccess = "Personne n'aura accès.",
        PlanUnavailable = "Le plan ne peut pas être affiché en détail ; la demande indique :",
        YourDecision = "Votre décision",
        Comment = "Commentaire (facultatif ; communiqué au responsable scientifique en cas de refus)",
        Approve = "Approuver",
        Reject = "Refuser",
        Open = "Ouvrir",
        Title = "Titre",
        DmpId = "Identifiant du PGD",
        PrincipalInvestigator = "Responsable scientifique",
        ProjectEnd = "Fin du projet",
        Approver = "Approbateur",
        SignedInAs = "Connecté en tant que",
        NotSignedIn = "personne (le détenteur du lien décide en tant que son approbateur)",
        LinkExpires = "Le lien expire le",
        Dataset = "Jeu de données",
        Classification = "Classification",
        Container = "Conteneur",
        Tier = "Niveau",
        EncryptionScope = "Étendue de chiffrement",
        ImmutabilityDays = "Immuabilité (jours)",
        KeepUntil = "Conserver jusqu'au",
        ThenAction = "Ensuite",
        Person = "Personne",
        Access = "Accès",
        Until = "Jusqu'au",
        Because = "Parce que",
        Severity = "Gravité",
        Message = "Message",
        Where = "Où",
        LinkUnusable = "Ce lien d'approbation ne peut pas être utilisé",
        DecisionRecorded = "Décision enregistrée",
        DecisionNotRecorded = "Votre décision n'a pas été enregistrée",
        SignInRequired = "Connexion requise",
        SignInRequiredText =
            "Connectez-vous avec votre compte de l'établissement pour décider : la décision est enregistrée au nom de la personne "
                + "connectée.",
        FormExpired = "Ce formulaire ne peut pas être accepté",
        FormExpiredText = "Le formulaire ne vient pas de cette page d'approbation ou a expiré. Rien n'a été enregistré : "
            + "rouvrez le lien d'approbation.",
        DecisionOnlyByPost = "Ouvrir cette page ne décide rien : confirmez ci-dessous.",
        DashboardTitle = "Tableau de bord de la gouvernance",
        DmpsByState = "PGD par état",
        NoDmps = "Aucun PGD n'a encore été soumis.",
        State = "État",
        Version = "Version",
        PendingApprovals = "Approbations en attente",
        NoPendingApprovals = "Aucune approbation n'est attendue.",
        Role = "Rôle",
        Awaiting = "En attente de",
        Age = "Attend depuis",
        Expires = "Expire le",
        DatasetsContainers = "Jeux de données, conteneurs et accès",
        Grants = "Accès",
        NoGrants = "aucun accès",
        ContainerMissing = "conteneur absent",
        Controls = "Contrôles",
        InForce = "enregistré sur le conteneur",
        NotEnforcedLocally = "non appliqué localement",
        Timeline = "Prochaines échéances de conservation et de revue",
        TimelineSummary = "Frise des prochaines dates, la plus proche d'abord ; les mêmes dates sont listées sous la frise.",
        NothingScheduled = "Aucune échéance.",
        RetentionEnd = "fin de conservation",
        RetentionNotice = "avis de conservation",
        AccessEnds = "fin des accès",
        AccessReview = "revue des accès",
        RecentAudit = "Dernières entrées du journal d'audit",
        AuditIntact = "Chaîne d'audit intacte : {0} entrées vérifiées.",
        AuditBroken = "Chaîne d'audit ROMPUE à l'entrée {0} : {1}",
        When = "Quand",
        Actor = "Acteur",
        Action = "Action",
        Subject = "Objet",
        Days = "{0} j",
        InboxTitle = "Boîte de réception",
        InboxIntro = "Ce que Gardien a envoyé, du plus récent au plus ancien, tel que Teams l'affiche : chaque message est la carte "
            + "adaptative que publie l'adaptateur Teams.",
        InboxEmpty = "Aucun message pour l'instant.",
        Unread = "non lu",
        ForWhom = "Pour",
        Reference = "Référence",
        Sent = "Envoyé le",
        RequestClosed = "Cette demande est close (décidée, retirée ou expirée).",
        MarkAllRead = "Tout marquer comme lu",
    };

    /// <summary>French for "fr" and its regional forms, English otherwise.</summary>
    public static PageTexts For(string? language) =>
        language is not null && (language.Equals("fr", StringComparison.OrdinalIgnoreCase) || language.StartsWith("fr-",
            StringComparison.OrdinalIgnoreCase))
            ? French
            : English;

    /// <summary>
    /// The pages' language: <paramref name="requested"/> (a <c>lang</c> query parameter) when it names English or French,
    /// else the policy's <c>language</c>, else English. The policy is read by the field's JSON name, so a policy
    /// written without the field reads as English.
    /// </summary>
    public static PageTexts For(GovernancePolicy? policy, string? requested = null)
    {
        if (requested is "en" or "fr")
        {
            return For(requested);
        }

        if (policy is null)
        {
            return English;
        }

        var json = JsonSerializer.SerializeToElement(policy, GovernanceJson.Options);
        return json.TryGetProperty("language",
            out var language) && language.ValueKind == JsonValueKind.String ? For(language.GetString()) : English;
    }

    /// <summary>A role code ("pi", "steward", "dpo") as the reader says it.</summary>
    public string RoleName(string? role) => (role, Lang) switch
    {
        ("pi", "fr") => "responsable scientifique",
        ("steward", "fr") => "gestionnaire de données",
        ("dpo", "fr") => "délégué à la protection des données",
        ("pi", _) => "principal investigator",
        ("steward", _) => "data steward",
        ("dpo", _) => "data protection officer",
        _ => role ?? "?",
    };

    public string Format(string text, params object?[] values) => string.Format(CultureInfo.InvariantCulture, text, values);

    public string Date(DateOnly? date) => date?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) ?? "-";

    public string Time(DateTimeOffset? time) => time?.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture) ?? "-";
}
