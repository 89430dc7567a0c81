using System.Globalization;
using Gardien.Workflows.Madmp;

namespace Gardien.Workflows.Governance;

/// <summary>
/// Turns a DMP into the governance it needs under a policy. Pure and deterministic: no clock (the caller passes
/// <c>today</c>), no I/O, output order follows the document order. Rules are documented in docs/policy.md.
/// </summary>
public static class GovernanceEvaluator
{
    private const string PiReason = "the PI approves every governance plan for their data";

    public static GovernancePlan Evaluate(Dmp dmp, GovernancePolicy policy, DateOnly today)
    {
        ArgumentNullException.ThrowIfNull(dmp);
        ArgumentNullException.ThrowIfNull(policy);

        var findings = new List<Finding>();
        var projectEnd = ProjectEnd(dmp, findings);
        var accessEndsOn = projectEnd is { } end ? policy.Access.GraceAfterProjectEnd.AddTo(end) : (DateOnly?)null;
        if (dmp.EthicalIssuesExist == YesNoUnknown.Unknown)
        {
            findings.Add(
                new Finding(
                    FindingSeverity.Info,
                    "EthicalIssuesUnknown",
                    "ethical_issues_exist is unknown or missing: treated as \"yes\" (DPO approval). Answer yes or no in the DMP.",
                    "/dmp/ethical_issues_exist"));
        }

        if (StorageLimits.IdentifierProblem(dmp.DmpId.Value, "dmp_id") is { } dmpIdProblem)
        {
            findings.Add(new Finding(FindingSeverity.Error, "DmpIdNotStorable", dmpIdProblem, "/dmp/dmp_id/identifier"));
        }

        var pi = PrincipalFromContact(dmp.Contact, findings);
        var grants = Grants(dmp, policy, pi, accessEndsOn, findings);

        var shared = new SharedParts(policy);
        var openPersonal = new List<OpenPersonalData>();
        var datasets = new List<DatasetPlan>(dmp.Datasets.Count);
        var keys = DatasetKeys.Assign(dmp.Datasets);
        var dmpIdValue = dmp.DmpId.Value;
        for (var i = 0; i < dmp.Datasets.Count; i++)
        {
            var dataset = dmp.Datasets[i];
            var path = "/dmp/dataset/" + i.ToString(CultureInfo.InvariantCulture);
            var datasetFindings = new List<Finding>();
            if (keys.Problems[i] is { } problem)
            {
                datasetFindings.Add(problem);
            }
            else if (StorageLimits.IdentifierProblem(dataset.DatasetId.Value, "dataset_id") is { } limit)
            {
                datasetFindings.Add(new Finding(FindingSeverity.Error, "DatasetIdNotStorable", limit, path + "/dataset_id/identifier"));
            }

            datasets.Add(EvaluateDataset(
                dmpIdValue, dataset, keys.Keys[i], path, dmp.EthicalIssuesExist, policy, today, projectEnd, grants, datasetFindings, shared,
                openPersonal));
        }

        if (OpenPersonalDataFinding(openPersonal) is { } open)
        {
            findings.Add(open);
        }

        CheckContainersDistinct(datasets);
        var requiredApprovals = UnionApprovals(datasets);
        var approvers = AssignApprovers(dmp.Contact, requiredApprovals, datasets, policy, findings);

        return new GovernancePlan
        {
            DmpId = dmp.DmpId,
            Title = dmp.Title,
            Modified = dmp.Modified,
            EvaluatedOn = today,
            PolicyInstitution = policy.Institution,
            PolicyVersion = policy.PolicyVersion,
            PrincipalInvestigator = pi,
            ProjectEnd = projectEnd,
            AccessEndsOn = accessEndsOn,
            AllowedRegions = policy.Regions,
            RequiredApprovals = requiredApprovals,
            Approvers = approvers,
            Datasets = datasets,
            Findings = findings,
        };
    }

    /// <summary>
    /// Who is asked for each required approval (<see cref="ApproverAssignment"/>, as the approval workflow will ask):
    /// substitutions are reported, a role nobody may be asked for refuses the plan.
    /// </summary>
    private static IReadOnlyList<AssignedApprover> AssignApprovers(
        Contact contact,
        IReadOnlyList<ApprovalRequirement> required,
        List<DatasetPlan> datasets,
        GovernancePolicy policy,
        List<Finding> findings)
    {
        var result = ApproverAssignment.Assign(
            required.Select(r => r.Role), contact.Name, contact.Mbox?.Trim(), policy.Approvals, InvolvesPersonalData(datasets));
        foreach (var approver in result.Approvers.Where(a => a.Substitution is not null))
        {
            findings.Add(
                new Finding(
                    FindingSeverity.Info,
                    "ApproverSubstituted",
                    $"The {ApproverAssignment.Title(approver.Role)} approval is asked of {approver.Name} <{approver.Email}>: "
                    + $"{approver.Substitution}.",
                    "/dmp/contact/mbox"));
        }

        foreach (var (role, problem) in result.Unassigned)
        {
            findings.Add(
                new Finding(
                    FindingSeverity.Error,
                    "ApproverUnavailable",
                    $"Nobody can be asked for the {ApproverAssignment.Title(role)} approval: {problem}.",
                    "/dmp/contact/mbox"));
        }

        return result.Approvers;
    }

    /// <summary>Personal or sensitive data (yes or unknown) in any dataset: what separation of duties keys on by default.</summary>
    public static bool InvolvesPersonalData(IEnumerable<DatasetPlan> datasets)
    {
        ArgumentNullException.ThrowIfNull(datasets);
        return datasets.Any(d => d.Classification.PersonalData || d.Classification.SensitiveData);
    }

    /// <summary>
    /// Two datasets in one container would share their access and their labels. Keys are distinct by construction and
    /// names carry an 80-bit hash of the key, so this never fires in practice; if it ever did, the plan is refused.
    /// </summary>
    private static void CheckContainersDistinct(List<DatasetPlan> datasets)
    {
        var firstByContainer = new Dictionary<string, DatasetPlan>(datasets.Count, StringComparer.Ordinal);
        for (var i = 0; i < datasets.Count; i++)
        {
            var dataset = datasets[i];
            if (firstByContainer.TryAdd(dataset.Storage.ContainerName, dataset))
            {
                continue;
            }

            var first = firstByContainer[dataset.Storage.ContainerName];
            datasets[i] = dataset with
            {
                Findings =
                [
                    .. dataset.Findings,
                    new Finding(
                        FindingSeverity.Error,
                        "ContainerNameCollision",
                        $"Datasets {first.Path} and {dataset.Path} would share container '{dataset.Storage.ContainerName}'. "
                        + "Give one of them another dataset_id.",
                        dataset.Path + "/dataset_id/identifier"),
                ],
            };
        }
    }

    /// <summary>
    /// The classification table: sensitive → Restricted; else personal or closed → Confidential; else shared → Internal;
    /// else (open) → Public. Callers pass unknown answers as true.
    /// </summary>
    public static DataClassification Classify(DataAccess effectiveAccess, bool personal, bool sensitive) =>
        sensitive ? DataClassification.Restricted
        : personal || effectiveAccess == DataAccess.Closed ? DataClassification.Confidential
        : effectiveAccess == DataAccess.Shared ? DataClassification.Internal
        : DataClassification.Public;

    /// <summary>The most restrictive access across distributions; a dataset without distributions is closed.</summary>
    public static DataAccess EffectiveAccess(IReadOnlyList<Distribution> distributions)
    {
        if (distributions.Count == 0)
        {
            return DataAccess.Closed;
        }

        var access = DataAccess.Open;
        foreach (var distribution in distributions)
        {
            if (distribution.DataAccess > access)
            {
                access = distribution.DataAccess;
            }
        }

        return access;
    }

    /// <summary>The approvals rule table for one dataset (PI always, steward by access, DPO by personal/sensitive/ethics).</summary>
    public static IReadOnlyList<ApprovalRequirement> RequiredApprovals(ClassificationResult facts, ApprovalPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(facts);
        ArgumentNullException.ThrowIfNull(policy);
        var approvals = new List<ApprovalRequirement>(3)
        {
            new(ApprovalRole.PrincipalInvestigator, [PiReason]),
        };

        if (policy.DataStewardFor.Contains(facts.EffectiveAccess))
        {
            approvals.Add(new(ApprovalRole.DataSteward, [$"data access is {Lower(facts.EffectiveAccess)}"]));
        }

        var dpoReasons = new List<string>(3);
        if (policy.DpoForPersonalData && facts.PersonalData)
        {
            dpoReasons.Add(Answer("personal_data", facts.PersonalDataAnswer));
        }

        if (policy.DpoForSensitiveData && facts.SensitiveData)
        {
            dpoReasons.Add(Answer("sensitive_data", facts.SensitiveDataAnswer));
        }

        if (policy.DpoForEthicalIssues && facts.EthicalIssues)
        {
            dpoReasons.Add(Answer("ethical_issues_exist", facts.EthicalIssuesAnswer));
        }

        if (dpoReasons.Count > 0)
        {
            approvals.Add(new(ApprovalRole.DataProtectionOfficer, dpoReasons));
        }

        return approvals;
    }

    private static string Answer(string field, YesNoUnknown answer) =>
        answer == YesNoUnknown.Unknown ? field + " is unknown (counts as yes)" : field + " is yes";

    private static DatasetPlan EvaluateDataset(
        string dmpId,
        Dataset dataset,
        string key,
        string path,
        YesNoUnknown ethical,
        GovernancePolicy policy,
        DateOnly today,
        DateOnly? projectEnd,
        IReadOnlyList<AccessGrant> grants,
        List<Finding> findings,
        SharedParts shared,
        List<OpenPersonalData> openPersonal)
    {
        var access = EffectiveAccess(dataset.Distributions);
        var personal = dataset.PersonalData != YesNoUnknown.No;
        var sensitive = dataset.SensitiveData != YesNoUnknown.No;
        var classification = Classify(access, personal, sensitive);
        var facts = new ClassificationResult(classification, access, personal, sensitive, ethical != YesNoUnknown.No)
        {
            PersonalDataAnswer = dataset.PersonalData,
            SensitiveDataAnswer = dataset.SensitiveData,
            EthicalIssuesAnswer = ethical,
        };

        if (dataset.Distributions.Count == 0)
        {
            findings.Add(
                new Finding(
                    FindingSeverity.Info,
                    "NoDistribution",
                    "The dataset has no distribution: its access is treated as closed.",
                    path + "/distribution"));
        }

        if (dataset.PersonalData == YesNoUnknown.Unknown)
        {
            findings.Add(
                new Finding(
                    FindingSeverity.Info,
                    "PersonalDataUnknown",
                    "personal_data is unknown: treated as \"yes\". Answer yes or no to lift the DPO approval if it does not apply.",
                    path + "/personal_data"));
        }

        if (dataset.SensitiveData == YesNoUnknown.Unknown)
        {
            findings.Add(
                new Finding(
                    FindingSeverity.Info,
                    "SensitiveDataUnknown",
                    "sensitive_data is unknown: treated as \"yes\" (Restricted). Answer yes or no.",
                    path + "/sensitive_data"));
        }

        var allowedRegions = policy.Regions.For(classification);
        var hostRegions = new List<string>();
        long? quota = null;
        DateOnly? availableUntil = null;
        DateOnly? embargo = null;
        for (var j = 0; j < dataset.Distributions.Count; j++)
        {
            var distribution = dataset.Distributions[j];
            var distributionPath = path + "/distribution/" + j.ToString(CultureInfo.InvariantCulture);
            if (distribution.ByteSize is { } size && size >= 0)
            {
                quota = (quota ?? 0) + size;
            }

            if (distribution.AvailableUntil is { } until && (availableUntil is null || until > availableUntil))
            {
                availableUntil = until;
            }

            foreach (var license in distribution.Licenses)
            {
                if (license.StartDate is { } start && start > today && (embargo is null || start > embargo))
                {
                    embargo = start;
                }
            }

            var listed = openPersonal.Count > 0 && openPersonal[^1].DatasetPath == path;
            if (distribution.DataAccess == DataAccess.Open && (personal || sensitive) && !listed)
            {
                openPersonal.Add(new OpenPersonalData(
                    dataset.Title, path, distributionPath + "/data_access", dataset.PersonalData, dataset.SensitiveData));
            }

            CheckHost(distribution.Host, distributionPath + "/host", sensitive, classification, allowedRegions, hostRegions, findings);
        }

        var (immutabilityDays, immutabilityReason) = Immutability(dataset, policy.Storage.RawDataImmutability, path, findings);
        var storage = new StoragePlan
        {
            ContainerName = ContainerNaming.ContainerName(policy.Storage.ContainerPrefix, dmpId, key),
            Tier = policy.Storage.Tier.For(classification),
            EncryptionScope = policy.Storage.Encryption.AppliesTo.Contains(classification) ? policy.Storage.Encryption.Scope : null,
            ImmutabilityDays = immutabilityDays,
            ImmutabilityReason = immutabilityReason,
            LockImmutabilityAfterDays = immutabilityDays is null ? null : policy.Storage.RawDataImmutability.LockAfterDays,
            QuotaBytes = quota,
            HostRegions = hostRegions,
        };

        if (quota is null && dataset.Distributions.Count > 0)
        {
            findings.Add(
                new Finding(
                    FindingSeverity.Info,
                    "QuotaUnknown",
                    "No distribution states byte_size: the container gets no quota. Give an estimated byte_size.",
                    path + "/distribution"));
        }

        var retention = Retention(
            dataset, classification, availableUntil, embargo, policy, today, projectEnd, path, findings, shared.NoticeDays);
        return new DatasetPlan
        {
            Key = key,
            DatasetId = dataset.DatasetId,
            Title = dataset.Title,
            Path = path,
            Classification = facts,
            RequiredApprovals = shared.Approvals(facts),
            Storage = storage,
            Access = grants,
            Retention = retention,
            Findings = findings,
        };
    }

    /// <summary>A dataset with personal or sensitive data (yes or unknown) and an open distribution (the first one).</summary>
    private sealed record OpenPersonalData(
        string Title, string DatasetPath, string AccessPath, YesNoUnknown Personal, YesNoUnknown Sensitive)
    {
        public bool Declared => Personal == YesNoUnknown.Yes || Sensitive == YesNoUnknown.Yes;

        public override string ToString() => $"'{Title}' ({AccessPath})";
    }

    /// <summary>
    /// Open distributions of personal or sensitive data, reported once for the DMP: most real DMPs answer "unknown",
    /// which counts as yes, so one finding per distribution would bury the others. Datasets that declare such data come
    /// first, because for them the conflict is certain.
    /// </summary>
    private static Finding? OpenPersonalDataFinding(List<OpenPersonalData> datasets)
    {
        const int Shown = 10;
        if (datasets.Count == 0)
        {
            return null;
        }

        static string List(IReadOnlyList<OpenPersonalData> group) =>
            string.Join(", ", group.Take(Shown)) + (group.Count > Shown ? $" and {group.Count - Shown} more" : string.Empty);

        var declared = datasets.Where(d => d.Declared).ToList();
        var unknown = datasets.Where(d => !d.Declared).ToList();
        var parts = new List<string>(2);
        if (declared.Count > 0)
        {
            parts.Add($"declared personal or sensitive: {List(declared)}");
        }

        if (unknown.Count > 0)
        {
            parts.Add($"answered unknown (which counts as yes): {List(unknown)}");
        }

        var count = datasets.Count == 1 ? "One dataset has" : $"{datasets.Count} datasets have";
        return new Finding(FindingSeverity.Error, "PersonalDataInOpenDistribution",
            $"{count} an open distribution but may hold personal or sensitive data; {string.Join("; ", parts)}. "
            + "Anonymise the data and answer \"no\" to personal_data and sensitive_data, or make those distributions shared or closed.",
            datasets.Count == 1 ? datasets[0].AccessPath : "/dmp/dataset");
    }

    private static void CheckHost(
        Host? host,
        string hostPath,
        bool sensitive,
        DataClassification classification,
        IReadOnlyList<string> allowedRegions,
        List<string> hostRegions,
        List<Finding> findings)
    {
        if (host is null)
        {
            if (classification >= DataClassification.Confidential)
            {
                findings.Add(
                    new Finding(
                        FindingSeverity.Warning,
                        "HostUnknown",
                        "The distribution names no host: the region and certification of protected data cannot be checked. "
                        + "Describe the host.",
                        hostPath));
            }

            return;
        }

        if (sensitive && string.IsNullOrWhiteSpace(host.CertifiedWith))
        {
            findings.Add(
                new Finding(
                    FindingSeverity.Warning,
                    "SensitiveDataWithoutCertifiedHost",
                    $"Host '{host.Title}' stores sensitive data but states no certified_with (one of the standard's terms, e.g. "
                    + "coretrustseal, iso16363). Use a certified host or record its certification.",
                    hostPath + "/certified_with"));
        }

        if (string.IsNullOrWhiteSpace(host.GeoLocation))
        {
            if (classification >= DataClassification.Confidential)
            {
                findings.Add(
                    new Finding(
                        FindingSeverity.Warning,
                        "HostRegionUnknown",
                        $"Host '{host.Title}' has no geo_location: the policy's allowed regions for {Lower(classification)}"
                        + " data cannot be checked. Give the ISO 3166-1 country code.",
                        hostPath + "/geo_location"));
            }

            return;
        }

        var region = host.GeoLocation.Trim().ToUpperInvariant();
        if (!hostRegions.Contains(region))
        {
            hostRegions.Add(region);
        }

        if (allowedRegions.Count > 0 && !allowedRegions.Contains(region, StringComparer.OrdinalIgnoreCase))
        {
            // The allowed countries are listed once, in the plan's allowed_regions, not in every finding.
            findings.Add(new Finding(FindingSeverity.Error, "HostOutsideAllowedRegions",
                $"Host '{host.Title}' is in {region}, which the policy does not allow for {Lower(classification)} data "
                + $"({allowedRegions.Count} countries are allowed: see allowed_regions in the plan). Choose a host in an allowed country.",
                hostPath + "/geo_location"));
        }
    }

    private static RetentionPlan Retention(
        Dataset dataset,
        DataClassification classification,
        DateOnly? availableUntil,
        DateOnly? embargo,
        GovernancePolicy policy,
        DateOnly today,
        DateOnly? projectEnd,
        string path,
        List<Finding> findings,
        int[] noticeDays)
    {
        var period = policy.Retention.DefaultPeriod.For(classification);
        DateOnly keepUntil;
        RetentionSource source;
        if (availableUntil is { } until)
        {
            (keepUntil, source) = (until, RetentionSource.AvailableUntil);
        }
        else if (dataset.PreservationUntil is { } preservation)
        {
            (keepUntil, source) = (preservation, RetentionSource.PreservationUntil);
        }
        else if (projectEnd is { } end)
        {
            (keepUntil, source) = (period.AddTo(end), RetentionSource.ProjectEndPlusPolicy);
        }
        else
        {
            (keepUntil, source) = (period.AddTo(today), RetentionSource.EvaluationDatePlusPolicy);
            findings.Add(
                new Finding(
                    FindingSeverity.Warning,
                    "RetentionFromEvaluationDate",
                    $"Neither available_until nor a project end date is known: keep-until is the evaluation date + {period} and changes if "
                    + "re-evaluated later. Give available_until or the project's end date.",
                    path + "/distribution"));
        }

        if (keepUntil < today)
        {
            findings.Add(
                new Finding(
                    FindingSeverity.Warning,
                    "KeepUntilInPast",
                    $"Keep-until {keepUntil:yyyy-MM-dd} has passed: the dataset is due for disposal ("
                    + $"{Lower(policy.Retention.Disposal.For(classification))}). Extend available_until if the data must be kept.",
                    path));
        }
        else if (source == RetentionSource.AvailableUntil && projectEnd is { } end && keepUntil < end)
        {
            findings.Add(
                new Finding(
                    FindingSeverity.Warning,
                    "KeepUntilBeforeProjectEnd",
                    $"available_until {keepUntil:yyyy-MM-dd} is before the project ends ({end:yyyy-MM-dd}).",
                    path + "/distribution"));
        }

        if (embargo is { } embargoUntil && embargoUntil > keepUntil)
        {
            findings.Add(
                new Finding(
                    FindingSeverity.Warning,
                    "EmbargoAfterKeepUntil",
                    $"The licence starts {embargoUntil:yyyy-MM-dd}, after keep-until {keepUntil:yyyy-MM-dd}: "
                    + "the data would be disposed of before it can be published.",
                    path + "/distribution"));
        }

        var notices = new DateOnly[noticeDays.Length];
        for (var i = 0; i < noticeDays.Length; i++)
        {
            notices[i] = keepUntil.AddDays(-noticeDays[i]);
        }

        return new RetentionPlan
        {
            KeepUntil = keepUntil,
            Source = source,
            EmbargoUntil = embargo,
            Disposal = policy.Retention.Disposal.For(classification),
            NoticeDates = notices,
        };
    }

    private static DateOnly? ProjectEnd(Dmp dmp, List<Finding> findings)
    {
        DateOnly? end = null;
        foreach (var project in dmp.Projects)
        {
            if (project.End is { } e && (end is null || e > end))
            {
                end = e;
            }
        }

        if (end is null)
        {
            findings.Add(new Finding(FindingSeverity.Warning, "NoProjectEndDate",
                "No project states an end date that can be read: access does not end automatically and default retention cannot be "
                + "computed from it. Add project.end as YYYY-MM-DD (a date that was given but not read is among the reading warnings).",
                "/dmp/project"));
        }

        return end;
    }

    private static Principal PrincipalFromContact(Contact contact, List<Finding> findings)
    {
        var orcid = contact.ContactId is { } id && IsOrcid(id) ? NormaliseOrcid(id.Value) : null;
        var mail = UsableMailbox(contact.Mbox, "/dmp/contact/mbox", orcid is null
            ? "Nothing is sent to it, the PI gets no access through it, and the PI approval goes to the policy's fallback approver. "
                + "Correct the contact's mbox"
            : "Nothing is sent to it, the PI is known by ORCID only, and the PI approval goes to the policy's fallback approver. "
                + "Correct the contact's mbox",
                findings);
        var principal = MakePrincipal(contact.Name, mail, orcid);
        if (principal is not null)
        {
            return principal;
        }

        if (!string.IsNullOrWhiteSpace(contact.Mbox))
        {
            // Known by an address nobody may use: the key keeps plan versions comparable, no grant or message uses it.
            return new Principal { Name = contact.Name, Key = "mailto:" + contact.Mbox.Trim().ToLowerInvariant() };
        }

        // A lenient read should never yield this, but a plan must still be produced: nobody can sign in as "unidentified:".
        findings.Add(
            new Finding(
                FindingSeverity.Error,
                "ContactWithoutIdentity",
                "The contact has neither mbox nor an ORCID contact_id: the PI cannot be granted access or asked to approve. "
                + "Add the contact's e-mail.",
                "/dmp/contact"));
        return new Principal { Name = contact.Name, Key = "unidentified:" + contact.Name };
    }

    /// <summary>The address when it can be a real mailbox; otherwise null and a finding saying why and what follows.</summary>
    private static string? UsableMailbox(string? email, string path, string consequence, List<Finding> findings)
    {
        if (string.IsNullOrWhiteSpace(email))
        {
            return null;
        }

        if (Mailbox.Problem(email.Trim()) is { } problem)
        {
            findings.Add(
                new Finding(
                    FindingSeverity.Warning,
                    "MailboxUnusable",
                    $"'{email.Trim()}' cannot be a real mailbox: {problem}. {consequence}.",
                    path));
            return null;
        }

        return email.Trim();
    }

    private static Principal? MakePrincipal(string name, string? email, string? orcid)
    {
        var mail = string.IsNullOrWhiteSpace(email) ? null : email.Trim();
        var key = orcid is not null ? "orcid:" + orcid : mail is not null ? "mailto:" + mail.ToLowerInvariant() : null;
        return key is null ? null : new Principal { Name = name, Email = mail, Orcid = orcid, Key = key };
    }

    private static IReadOnlyList<AccessGrant> Grants(
        Dmp dmp,
        GovernancePolicy policy,
        Principal pi,
        DateOnly? until,
        List<Finding> findings)
    {
        // Keyed by principal; the first key seen fixes the order, the highest role wins.
        var order = new List<string>();
        var byKey = new Dictionary<string, (Principal Principal, AccessRole Role, List<string> Because)>(StringComparer.Ordinal);
        var keyByEmail = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

        void Add(Principal principal, AccessRole role, string because)
        {
            var key = principal.Key;
            if (principal.Email is { } mail && keyByEmail.TryGetValue(mail, out var known))
            {
                key = known;
            }

            if (byKey.TryGetValue(key, out var existing))
            {
                if (!existing.Because.Contains(because))
                {
                    existing.Because.Add(because);
                }

                var merged = existing.Principal with
                {
                    Email = existing.Principal.Email ?? principal.Email,
                    Orcid = existing.Principal.Orcid ?? principal.Orcid,
                };
                byKey[key] = (merged, role > existing.Role ? role : existing.Role, existing.Because);
            }
            else
            {
                order.Add(key);
                byKey[key] = (principal, role, [because]);
            }

            if (principal.Email is { } email)
            {
                keyByEmail.TryAdd(email, key);
            }
        }

        if (pi.Email is not null || pi.Orcid is not null)
        {
            Add(pi, AccessRole.Owner, "contact");
        }
        var mappings = RoleLookups.GetValue(policy.Roles, RoleLookup);
        for (var i = 0; i < dmp.Contributors.Count; i++)
        {
            var contributor = dmp.Contributors[i];
            var path = "/dmp/contributor/" + i.ToString(CultureInfo.InvariantCulture);
            var orcid = contributor.ContributorId is { } id && IsOrcid(id) ? NormaliseOrcid(id.Value) : null;
            var mail = UsableMailbox(contributor.Mbox, path + "/mbox", orcid is null
                ? $"No access is granted to contributor '{contributor.Name}' through it. Correct the contributor's mbox or add their ORCID"
                : $"Contributor '{contributor.Name}' is found in the directory by ORCID only. Correct the contributor's mbox", findings);
            var principal = MakePrincipal(contributor.Name, mail, orcid);
            if (principal is null && !string.IsNullOrWhiteSpace(contributor.Mbox))
            {
                continue;
            }

            if (principal is null)
            {
                findings.Add(
                    new Finding(
                        FindingSeverity.Warning,
                        "ContributorWithoutIdentity",
                        $"Contributor '{contributor.Name}' has neither mbox nor an ORCID contributor_id: no access can be granted. "
                        + "Add an e-mail or ORCID.",
                        path));
                continue;
            }

            AccessRole? best = null;
            var because = new List<string>();
            foreach (var role in contributor.Roles)
            {
                if (mappings.TryGetValue(NormaliseRole(role), out var mapped))
                {
                    because.Add(role);
                    if (best is null || mapped > best)
                    {
                        best = mapped;
                    }
                }
            }

            if (best is null)
            {
                if (policy.Roles.DefaultAccess is { } fallback)
                {
                    best = fallback;
                    because.Add(contributor.Roles.Count == 0 ? "no role (policy default)" : "unmapped role (policy default)");
                }
                else
                {
                    findings.Add(
                        new Finding(
                            FindingSeverity.Info,
                            "UnmappedContributorRole",
                            $"No role of contributor '{contributor.Name}' ({string.Join(", ", contributor.Roles)}) "
                            + "is mapped by the policy and it has no default: no access is granted.",
                            path + "/role"));
                    continue;
                }
            }

            Add(principal, best.Value, string.Join(", ", because));
        }

        var grants = new List<AccessGrant>(order.Count);
        foreach (var key in order)
        {
            var (principal, role, reasons) = byKey[key];
            grants.Add(new AccessGrant { Principal = principal, Role = role, Because = reasons, Until = until });
        }

        return grants;
    }

    // Policies are immutable records: the lookup built from one is valid for its lifetime.
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<RolePolicy, Dictionary<string, AccessRole>> RoleLookups =
        new();

    private static Dictionary<string, AccessRole> RoleLookup(RolePolicy roles)
    {
        var lookup = new Dictionary<string, AccessRole>(StringComparer.Ordinal);
        foreach (var mapping in roles.Mappings)
        {
            foreach (var role in mapping.Roles)
            {
                var key = NormaliseRole(role);
                if (!lookup.TryGetValue(key, out var existing) || mapping.Access > existing)
                {
                    lookup[key] = mapping.Access;
                }
            }
        }

        return lookup;
    }

    /// <summary>
    /// Role terms compare case-insensitively, ignoring surrounding spaces and a trailing slash (CRediT URIs come both ways).
    /// </summary>
    internal static string NormaliseRole(string role) => role.Trim().TrimEnd('/').ToLowerInvariant();

    private static bool IsOrcid(Identifier id) =>
        string.Equals(id.Type, "orcid", StringComparison.OrdinalIgnoreCase)
            || id.Value.Contains("orcid.org/", StringComparison.OrdinalIgnoreCase);

    private static string NormaliseOrcid(string value)
    {
        var trimmed = value.Trim().TrimEnd('/');
        var slash = trimmed.LastIndexOf('/');
        return (slash >= 0 ? trimmed[(slash + 1)..] : trimmed).ToUpperInvariant();
    }

    /// <summary>
    /// Raw data is write-once when the policy asks (<see cref="RawDataTerms"/>). A dataset whose rawness the DMP leaves
    /// open is treated as raw, the cautious answer while the policy is unlocked (it can still be lifted), and a finding
    /// asks the DMP to say which it is.
    /// </summary>
    private static (int? Days, string? Reason) Immutability(Dataset dataset, ImmutabilityPolicy policy, string path, List<Finding> findings)
    {
        if (!policy.Enabled)
        {
            return (null, null);
        }

        var decision = RawDataTerms.Decide(dataset, policy);
        switch (decision.Rawness)
        {
            case Rawness.Raw:
                return (policy.Days, "raw data: " + string.Join(", ", decision.RawEvidence.Take(3)));
            case Rawness.Undecided:
                static string Say(IReadOnlyList<string> evidence) => string.Join(", ", evidence) + (evidence.Count == 1 ? " says" : " say");
                var why = decision.FromDescription
                    ? $"only its description mentions raw data ({string.Join(", ", decision.RawEvidence.Concat(decision.NotRawEvidence))})"
                    : $"{Say(decision.RawEvidence)} raw but {Say(decision.NotRawEvidence)} derived";
                findings.Add(new Finding(FindingSeverity.Warning, "RawDataUndecided",
                    $"Whether the dataset holds raw data cannot be decided: {why}. "
                    + $"It is treated as raw (write-once for {policy.Days} days). "
                    + "Say which it is in its type or keywords (e.g. \"raw data\" or \"processed\"); "
                    + "split raw and derived data into two datasets.",
                    path + (decision.FromDescription ? "/description" : "/type")));
                return (policy.Days, "rawness undecided, treated as raw: " + why);
            default:
                return (null, null);
        }
    }

    /// <summary>One requirement per role; each distinct reason once, followed by the datasets it comes from (the first few).</summary>
    internal static List<ApprovalRequirement> UnionApprovals(IReadOnlyList<DatasetPlan> datasets)
    {
        const int KeysShown = 5;
        var result = new List<ApprovalRequirement>(3);
        foreach (var role in (ApprovalRole[])[
            ApprovalRole.PrincipalInvestigator,
            ApprovalRole.DataSteward,
            ApprovalRole.DataProtectionOfficer,
        ])
        {
            var reasonOrder = new List<string>();
            var keysByReason = new Dictionary<string, List<string>>(StringComparer.Ordinal);
            var countByReason = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var dataset in datasets)
            {
                foreach (var requirement in dataset.RequiredApprovals)
                {
                    if (requirement.Role != role)
                    {
                        continue;
                    }

                    foreach (var reason in requirement.Reasons)
                    {
                        if (!keysByReason.TryGetValue(reason, out var keys))
                        {
                            reasonOrder.Add(reason);
                            keysByReason[reason] = keys = [];
                            countByReason[reason] = 0;
                        }

                        countByReason[reason]++;
                        if (keys.Count < KeysShown)
                        {
                            keys.Add(dataset.Key);
                        }
                    }
                }
            }

            var reasons = new List<string>(reasonOrder.Count);
            foreach (var reason in reasonOrder)
            {
                var more = countByReason[reason] - keysByReason[reason].Count;
                var suffix = more > 0 ? $" and {more} more" : string.Empty;
                reasons.Add($"{reason} ({string.Join(", ", keysByReason[reason])}{suffix})");
            }

            if (role == ApprovalRole.PrincipalInvestigator && reasons.Count == 0)
            {
                reasons.Add(PiReason);
            }

            if (reasons.Count > 0)
            {
                result.Add(new ApprovalRequirement(role, reasons));
            }
        }

        return result;
    }

    private static string Lower<T>(T value)
        where T : struct, Enum => value.ToString().ToLowerInvariant();

    /// <summary>Per-evaluation values every dataset shares: immutable, so datasets with the same facts share one instance.</summary>
    private sealed class SharedParts(GovernancePolicy policy)
    {
        private readonly Dictionary<(DataAccess, YesNoUnknown, YesNoUnknown, YesNoUnknown), IReadOnlyList<ApprovalRequirement>> _approvals =
            [];

        /// <summary>Notice windows in days, distinct, largest first (so notice dates come earliest first).</summary>
        public int[] NoticeDays { get; }
            = [.. policy.Retention.NoticeDays.Where(days => days > 0).Distinct().OrderByDescending(days => days)];

        public IReadOnlyList<ApprovalRequirement> Approvals(ClassificationResult facts)
        {
            var key = (facts.EffectiveAccess, facts.PersonalDataAnswer, facts.SensitiveDataAnswer, facts.EthicalIssuesAnswer);
            if (!_approvals.TryGetValue(key, out var approvals))
            {
                _approvals[key] = approvals = RequiredApprovals(facts, policy.Approvals);
            }

            return approvals;
        }
    }
}
