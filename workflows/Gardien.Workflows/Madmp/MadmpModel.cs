namespace Gardien.Workflows.Madmp;

/// <summary>RDA DMP Common Standard versions Gardien reads.</summary>
public enum MadmpVersion
{
    V1_0,
    V1_1,
    V1_2,
}

/// <summary>The standard's yes / no / unknown answer. Governance treats <see cref="Unknown"/> as the stricter answer.</summary>
public enum YesNoUnknown
{
    No,
    Yes,
    Unknown,
}

/// <summary>Distribution access level, from the most open to the most closed.</summary>
public enum DataAccess
{
    Open,
    Shared,
    Closed,
}

/// <summary>An identifier with its scheme (doi, orcid, url, other...), as every *_id object in the standard.</summary>
public sealed record Identifier(string Value, string Type);

/// <summary>A parsed maDMP: the version it was read as and the typed, immutable plan.</summary>
public sealed record MadmpDocument(MadmpVersion Version, Dmp Dmp);

// Lists below are ValueList-backed (whatever the caller assigns is copied into one): records of this model compare by
// value all the way down, so the same document read twice gives equal records.

public sealed record Dmp
{
    public required Identifier DmpId { get; init; }
    public required string Title { get; init; }
    public string? Description { get; init; }
    public string? Language { get; init; }
    public DateTimeOffset? Created { get; init; }
    public DateTimeOffset? Modified { get; init; }
    public YesNoUnknown EthicalIssuesExist { get; init; } = YesNoUnknown.Unknown;
    public string? EthicalIssuesDescription { get; init; }
    public string? EthicalIssuesReport { get; init; }
    public required Contact Contact { get; init; }
    public IReadOnlyList<Contributor> Contributors { get; init => field = ValueList.From(value); } = ValueList<Contributor>.Empty;
    public IReadOnlyList<Project> Projects { get; init => field = ValueList.From(value); } = ValueList<Project>.Empty;
    public IReadOnlyList<Dataset> Datasets { get; init => field = ValueList.From(value); } = ValueList<Dataset>.Empty;
    public IReadOnlyList<Cost> Costs { get; init => field = ValueList.From(value); } = ValueList<Cost>.Empty;
    public IReadOnlyList<Identifier> AlternateIdentifiers { get; init => field = ValueList.From(value); } = ValueList<Identifier>.Empty;
}

public sealed record Affiliation(string Name, Identifier? AffiliationId);

public sealed record Contact
{
    public required string Name { get; init; }
    public required string Mbox { get; init; }
    /// <summary>Null when a lenient read accepted a contact without <c>contact_id</c> because <c>mbox</c> identifies it.</summary>
    public Identifier? ContactId { get; init; }
    public IReadOnlyList<Affiliation> Affiliations { get; init => field = ValueList.From(value); } = ValueList<Affiliation>.Empty;
}

public sealed record Contributor
{
    public required string Name { get; init; }
    public string? Mbox { get; init; }
    public Identifier? ContributorId { get; init; }
    /// <summary>
    /// Roles as written in the DMP (free text, CRediT URIs or vocabulary terms), normalised to lower case terms by a lenient read.
    /// </summary>
    public IReadOnlyList<string> Roles { get; init => field = ValueList.From(value); } = ValueList<string>.Empty;
    public IReadOnlyList<Affiliation> Affiliations { get; init => field = ValueList.From(value); } = ValueList<Affiliation>.Empty;
}

public sealed record Funding(Identifier FunderId, string? FundingStatus, Identifier? GrantId);

public sealed record Project
{
    public required string Title { get; init; }
    public string? Description { get; init; }
    public DateOnly? Start { get; init; }
    public DateOnly? End { get; init; }
    public IReadOnlyList<Identifier> ProjectIds { get; init => field = ValueList.From(value); } = ValueList<Identifier>.Empty;
    public IReadOnlyList<Funding> Funding { get; init => field = ValueList.From(value); } = ValueList<Funding>.Empty;
}

public sealed record Dataset
{
    public required Identifier DatasetId { get; init; }
    public required string Title { get; init; }
    public string? Type { get; init; }
    public string? Description { get; init; }
    public YesNoUnknown PersonalData { get; init; } = YesNoUnknown.Unknown;
    public YesNoUnknown SensitiveData { get; init; } = YesNoUnknown.Unknown;
    public bool? IsReused { get; init; }
    public DateOnly? Issued { get; init; }
    public string? Language { get; init; }
    public IReadOnlyList<string> Keywords { get; init => field = ValueList.From(value); } = ValueList<string>.Empty;
    public string? PreservationStatement { get; init; }
    public IReadOnlyList<string> DataQualityAssurance { get; init => field = ValueList.From(value); } = ValueList<string>.Empty;
    public IReadOnlyList<Distribution> Distributions { get; init => field = ValueList.From(value); } = ValueList<Distribution>.Empty;
    public IReadOnlyList<SecurityAndPrivacyItem> SecurityAndPrivacy { get; init => field = ValueList.From(value); }
        = ValueList<SecurityAndPrivacyItem>.Empty;
    public IReadOnlyList<TechnicalResource> TechnicalResources { get; init => field = ValueList.From(value); }
        = ValueList<TechnicalResource>.Empty;

    /// <summary>
    /// Keep-until date from a source richer than the RDA export (DMP OPIDoR's native "standard" export carries the
    /// preservation end date; its RDA export drops it). Null for a plain RDA document.
    /// </summary>
    public DateOnly? PreservationUntil { get; init; }
}

public sealed record Distribution
{
    public required string Title { get; init; }
    public string? Description { get; init; }
    public DataAccess DataAccess { get; init; } = DataAccess.Closed;
    public long? ByteSize { get; init; }
    public DateOnly? AvailableUntil { get; init; }
    public DateOnly? Issued { get; init; }
    public string? AccessUrl { get; init; }
    public string? DownloadUrl { get; init; }
    public IReadOnlyList<string> Formats { get; init => field = ValueList.From(value); } = ValueList<string>.Empty;
    public Host? Host { get; init; }
    public IReadOnlyList<License> Licenses { get; init => field = ValueList.From(value); } = ValueList<License>.Empty;
}

public sealed record Host
{
    public required string Title { get; init; }
    public required string Url { get; init; }
    public string? Description { get; init; }
    public string? StorageType { get; init; }
    public string? BackupFrequency { get; init; }
    public string? BackupType { get; init; }
    public string? Availability { get; init; }
    /// <summary>Certification term (coretrustseal, iso16363...), lower case.</summary>
    public string? CertifiedWith { get; init; }
    /// <summary>ISO 3166-1 alpha-2 country code, upper case.</summary>
    public string? GeoLocation { get; init; }
    public YesNoUnknown? SupportVersioning { get; init; }
    public IReadOnlyList<string> PidSystems { get; init => field = ValueList.From(value); } = ValueList<string>.Empty;
}

public sealed record License(string LicenseRef, DateOnly? StartDate);

public sealed record SecurityAndPrivacyItem(string Title, string? Description);

public sealed record TechnicalResource(string Name, string? Description);

public sealed record Cost(string Title, string? Description, decimal? Value, string? CurrencyCode);
