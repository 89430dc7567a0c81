using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Gardien.Workflows.Ports;
using Moq;

namespace Gardien.Testing.Workflows;

/// <summary>
/// Every port Gardien's activities use, as Moq STRICT mocks whose setups keep their state in the collections below, so
/// that workflows read what they wrote and a test can assert on the state or verify calls. A call nobody set up fails
/// the activity (the test sees a failed or compensated workflow). With <c>allowWrites: false</c> only reads are set up,
/// so a single mutating call (a dry run touching storage, the registry, the inbox or the audit) fails the test.
/// </summary>
/// <remarks>
/// Fault injection: <see cref="Fault"/> is asked before a mutating call acts, <see cref="FaultAfter"/> once it has acted
/// (as a process killed right after the side effect, before the activity could report it). Both receive the call as
/// "Port.Method", e.g. "Storage.EnsureContainer".
/// </remarks>
public sealed class PortFakes
{
    /// <summary>The approval signing key every secret name resolves to (32 bytes, base64).</summary>
    public static readonly string SigningKey = Convert.ToBase64String([.. Enumerable.Range(1, 32).Select(i => (byte)i)]);

    private readonly Lock _gate = new();
    private readonly List<Notification> _sent = [];
    private readonly List<AuditEntry> _audit = [];
    private readonly List<TaggedBlob> _tagWrites = [];

    public PortFakes(bool allowWrites = true)
    {
        SetupReads();
        if (allowWrites)
        {
            SetupWrites();
        }
    }

    public Mock<IGovernanceRegistry> Registry { get; } = new(MockBehavior.Strict);

    public Mock<IStorageProvisioner> Storage { get; } = new(MockBehavior.Strict);

    public Mock<IDirectory> Directory { get; } = new(MockBehavior.Strict);

    public Mock<INotifier> Notifier { get; } = new(MockBehavior.Strict);

    public Mock<ISecretStore> Secrets { get; } = new(MockBehavior.Strict);

    public Mock<IDmpToolClient> DmpTool { get; } = new(MockBehavior.Strict);

    public Mock<IAuditLog> Audit { get; } = new(MockBehavior.Strict);

    public ConcurrentDictionary<string, DmpRecord> Dmps { get; } = new();

    public ConcurrentDictionary<(string DmpId, string DatasetId), DatasetRecord> Datasets { get; } = new();

    public ConcurrentDictionary<(string DmpId, string DatasetId, string PrincipalId), GrantRecord> Grants { get; } = new();

    public ConcurrentDictionary<(string DmpId, string ApprovalId), ApprovalRecord> Approvals { get; } = new();

    /// <summary>Approval tokens used, with the fingerprint of their use.</summary>
    public ConcurrentDictionary<string, string> UsedTokens { get; } = new();

    public ConcurrentDictionary<string, bool> ProcessedEvents { get; } = new();

    /// <summary>Containers by name, with the instance that created them (null: created by the test).</summary>
    public ConcurrentDictionary<string, string?> Containers { get; } = new();

    /// <summary>The blobs of each container; a container exists when it has an entry here.</summary>
    public ConcurrentDictionary<string, List<StoredBlob>> Blobs { get; } = new();

    public ConcurrentDictionary<string, Dictionary<string, string?>> ContainerMetadata { get; } = new();

    public ConcurrentDictionary<string, DeletionMark> Marks { get; } = new();

    public ConcurrentDictionary<string, bool> StorageHolds { get; } = new();

    public ConcurrentDictionary<string, StorageTier> Tiers { get; } = new();

    public ConcurrentDictionary<string, DirectoryUser> Users { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Groups by name; a group's id is "g-" and its name.</summary>
    public ConcurrentDictionary<string, DirectoryGroup> Groups { get; } = new(StringComparer.OrdinalIgnoreCase);

    public ConcurrentDictionary<(string GroupId, string UserId), bool> Memberships { get; } = new();

    public ConcurrentDictionary<(string PrincipalId, string Scope, AccessLevel Role), bool> RoleAssignments { get; } = new();

    public ConcurrentQueue<(string DmpId, DmpWriteBack WriteBack)> WriteBacks { get; } = new();

    /// <summary>Fault injection before a mutating call acts: an exception returned is thrown by the port.</summary>
    public Func<string, Exception?>? Fault { get; set; }

    /// <summary>Fault injection once a mutating call has acted: an exception returned is thrown after the side effect.</summary>
    public Func<string, Exception?>? FaultAfter { get; set; }

    /// <summary>Notifications sent, in order, each deduplication key once (a snapshot).</summary>
    public IReadOnlyList<Notification> Sent
    {
        get
        {
            lock (_gate)
            {
                return [.. _sent];
            }
        }
    }

    /// <summary>Audit entries appended, in order, each idempotency key once (a snapshot).</summary>
    public IReadOnlyList<AuditEntry> AuditEntries
    {
        get
        {
            lock (_gate)
            {
                return [.. _audit];
            }
        }
    }

    public IReadOnlyList<string> AuditActions => [.. AuditEntries.Select(e => e.Action)];

    /// <summary>Every blob-tag write, in order, including writes to blobs that did not exist (a snapshot).</summary>
    public IReadOnlyList<TaggedBlob> TagWrites
    {
        get
        {
            lock (_gate)
            {
                return [.. _tagWrites];
            }
        }
    }

    public IReadOnlyList<Notification> SentTo(string email, NotificationKind? kind = null) =>
        [.. Sent.Where(n => n.To.Contains(email, StringComparer.OrdinalIgnoreCase) && (kind is null || n.Kind == kind))];

    public IReadOnlyList<GrantRecord> ActiveGrants(string dmpId) =>
        [.. Grants.Values.Where(g => g.DmpId == dmpId && g.State == GrantState.Active)];

    public DatasetRecord Dataset(string dmpId, string datasetId) => Datasets[(dmpId, datasetId)];

    public void AddUser(string id, string name, string email, string? orcid = null) =>
        Users[id] = new DirectoryUser(id, name, email, orcid);

    /// <summary>Puts <paramref name="userId"/> in the group named <paramref name="groupName"/>, creating the group.</summary>
    public void AddMember(string groupName, string userId) =>
        Memberships[(Groups.GetOrAdd(groupName, NewGroup).Id, userId)] = true;

    /// <summary>The user ids in the group named <paramref name="groupName"/> (none when it does not exist).</summary>
    public IReadOnlyList<string> MembersOf(string groupName) =>
        Groups.TryGetValue(groupName, out var group) ? [.. Memberships.Keys.Where(m => m.GroupId == group.Id).Select(m => m.UserId)] : [];

    /// <summary>Puts a blob with <paramref name="tags"/> in <paramref name="container"/> (which then exists).</summary>
    public void AddBlob(string container, string name, Dictionary<string, string>? tags = null, long size = 10)
    {
        var blobs = Blobs.GetOrAdd(container, _ => []);
        lock (_gate)
        {
            blobs.RemoveAll(b => b.Name == name);
            blobs.Add(new StoredBlob(name, $"\"0x8D{blobs.Count + 1:X4}\"", size, tags ?? [], StorageTier.Hot, null));
        }
    }

    /// <summary>The index tags of one blob.</summary>
    public IReadOnlyDictionary<string, string> BlobTags(string container, string name) =>
        BlobsOf(container).Single(b => b.Name == name).Tags;

    /// <summary>A provisioned dataset with blobs and its DMP (PI contact): the usual starting point of retention tests.</summary>
    public DatasetRecord AddDataset(
        string dmpId, string datasetId, DateOnly keepUntil, DisposalAction disposal = DisposalAction.Delete, bool personal = false,
        int blobCount = 3, bool legalHold = false, string? openCase = null)
    {
        var container = "gardien-" + datasetId.ToLowerInvariant();
        Dmps.TryAdd(dmpId, new DmpRecord
        {
            DmpId = dmpId,
            State = DmpState.Active,
            ContactEmail = "pi@neuro-institute.example",
            Title = "Study " + dmpId,
        });
        var record = new DatasetRecord
        {
            DmpId = dmpId,
            DatasetId = datasetId,
            Container = container,
            State = DatasetState.Provisioned,
            KeepUntil = keepUntil,
            Disposal = disposal,
            PersonalData = personal,
            LegalHold = legalHold,
            OpenCaseId = openCase,
            Title = "Dataset " + datasetId,
        };
        Datasets[(dmpId, datasetId)] = record;
        Containers.TryAdd(container, null);
        Blobs[container] =
        [
            .. Enumerable.Range(1, blobCount).Select(i =>
                new StoredBlob($"raw/file-{i}.dat", $"\"0x8D{i:X4}\"", 100 * i, new Dictionary<string, string>(), StorageTier.Hot, null)),
        ];
        return record;
    }

    private static DirectoryGroup NewGroup(string name) => new("g-" + name, name, null);

    private static string NewETag() => Guid.NewGuid().ToString("N");

    private static void CheckETag(string? storedETag, bool exists, string? expected, string what)
    {
        if (expected is not null && (!exists || !string.Equals(expected, storedETag, StringComparison.Ordinal)))
        {
            throw new ConcurrencyConflictException($"{what} changed since it was read.");
        }
    }

    private static bool Matches(string value, TagCondition condition)
    {
        var cmp = string.CompareOrdinal(value, condition.Value);
        return condition.Operator switch
        {
            TagOperator.Equal => cmp == 0,
            TagOperator.LessThan => cmp < 0,
            TagOperator.LessThanOrEqual => cmp <= 0,
            TagOperator.GreaterThan => cmp > 0,
            _ => cmp >= 0,
        };
    }

    private static async IAsyncEnumerable<T> ToAsync<T>(
        IEnumerable<T> items, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        foreach (var item in items)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return item;
        }

        await Task.CompletedTask;
    }

    private List<StoredBlob> BlobsOf(string container)
    {
        lock (_gate)
        {
            return Blobs.TryGetValue(container, out var list) ? [.. list] : [];
        }
    }

    /// <summary>Throws the fault injected before <paramref name="call"/>, if any.</summary>
    private void Inject(string call)
    {
        if (Fault?.Invoke(call) is { } fault)
        {
            throw fault;
        }
    }

    /// <summary>
    /// Throws the fault injected after <paramref name="call"/> took effect, if any; otherwise returns <paramref name="result"/>.
    /// </summary>
    private T After<T>(string call, T result) => FaultAfter?.Invoke(call) is { } fault ? throw fault : result;

    private void SetupReads()
    {
        Secrets.Setup(s => s.GetSecretAsync(It.IsAny<string>(), It.IsAny<CancellationToken>())).ReturnsAsync(SigningKey);

        Registry.Setup(r => r.GetDmpAsync(It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((string id, CancellationToken _) => Dmps.GetValueOrDefault(id));
        Registry.Setup(r => r.ListDmpsAsync(It.IsAny<DmpState?>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((DmpState? state, CancellationToken _) =>
                (IReadOnlyList<DmpRecord>)[.. Dmps.Values.Where(d => state is null || d.State == state)]);
        Registry.Setup(r => r.GetDatasetAsync(It.IsAny<string>(), It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((string d, string s, CancellationToken _) => Datasets.GetValueOrDefault((d, s)));
        Registry.Setup(r => r.ListDatasetsAsync(It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((string d, CancellationToken _) => (IReadOnlyList<DatasetRecord>)[.. Datasets.Values.Where(x => x.DmpId == d)]);
        Registry.Setup(r => r.ListDatasetsDueAsync(It.IsAny<DateOnly>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((DateOnly until, CancellationToken _) => (IReadOnlyList<DatasetRecord>)
                [
                    .. Datasets.Values.Where(x => x.KeepUntil <= until
                        && x.State is not (DatasetState.Disposed or DatasetState.Archived or DatasetState.Published)),
                ]);
        Registry.Setup(r => r.FindDatasetByContainerAsync(It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((string c, CancellationToken _) => Datasets.Values.FirstOrDefault(x => x.Container == c));
        Registry.Setup(r => r.GetGrantAsync(It.IsAny<string>(), It.IsAny<string>(), It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((string d, string s, string p, CancellationToken _) => Grants.GetValueOrDefault((d, s, p)));
        Registry.Setup(r => r.ListGrantsAsync(It.IsAny<string>(), It.IsAny<string?>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((string d, string? s, CancellationToken _) =>
                (IReadOnlyList<GrantRecord>)[.. Grants.Values.Where(g => g.DmpId == d && (s is null || g.DatasetId == s))]);
        Registry.Setup(r => r.GetApprovalAsync(It.IsAny<string>(), It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((string d, string a, CancellationToken _) => Approvals.GetValueOrDefault((d, a)));
        Registry.Setup(r => r.ListApprovalsAsync(It.IsAny<string>(), It.IsAny<string?>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((string d, string? i, CancellationToken _) =>
                (IReadOnlyList<ApprovalRecord>)[.. Approvals.Values.Where(a => a.DmpId == d && (i is null || a.InstanceId == i))]);
        Registry.Setup(r => r.IsEventProcessedAsync(It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((string id, CancellationToken _) => ProcessedEvents.ContainsKey(id));

        Storage.Setup(s => s.GetContainerAsync(It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((string c, CancellationToken _) => Blobs.ContainsKey(c)
                ? new ContainerInfo(
                    c, new Uri("https://store.test/" + c), new Dictionary<string, string>(), "\"etag\"", DateTimeOffset.UnixEpoch,
                    Containers.GetValueOrDefault(c), Marks.GetValueOrDefault(c), StorageHolds.GetValueOrDefault(c))
                : null);
        Storage.Setup(s => s.GetHoldStatusAsync(It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((string c, CancellationToken _) =>
                new HoldStatus(StorageHolds.GetValueOrDefault(c), StorageHolds.GetValueOrDefault(c) ? ["case1"] : [], null, false));
        // A store like Azurite: metadata only; a hold is recorded, not enforced; nothing to lock.
        Storage.Setup(s => s.GetControlsAsync(It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((string c, CancellationToken _) => new ContainerControls(
                c,
                [GovernanceFeatures.ContainerMetadata],
                StorageHolds.GetValueOrDefault(c)
                    ? [new NotEnforcedFeature(GovernanceFeatures.LegalHold, "test store records holds only")]
                    : [],
                new HoldStatus(StorageHolds.GetValueOrDefault(c), StorageHolds.GetValueOrDefault(c) ? ["case1"] : [], null, false)));
        Storage.Setup(s => s.LockImmutabilityAsync(It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync(
                new OperationResult(false, [new NotEnforcedFeature(GovernanceFeatures.Immutability, "test store has no immutability")]));
        Storage.Setup(s => s.ComputeManifestAsync(It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((string c, CancellationToken _) => ContainerManifest.Compute(c, BlobsOf(c)));
        Storage.Setup(s => s.ListBlobsAsync(It.IsAny<string>(), It.IsAny<string?>(), It.IsAny<CancellationToken>()))
            .Returns((string c, string? prefix, CancellationToken _) =>
                ToAsync(BlobsOf(c).Where(b => prefix is null || b.Name.StartsWith(prefix, StringComparison.Ordinal))));
        Storage.Setup(s => s.FindBlobsByTagsAsync(It.IsAny<IReadOnlyList<TagCondition>>(), It.IsAny<CancellationToken>()))
            .Returns((IReadOnlyList<TagCondition> conditions, CancellationToken _) => ToAsync(
                Blobs.Keys.SelectMany(c => BlobsOf(c).Select(b => new TaggedBlob(c, b.Name, b.Tags)))
                    .Where(t => conditions.All(c => t.Tags.TryGetValue(c.Key, out var v) && Matches(v, c)))
                    .ToList()));

        Directory.Setup(d => d.FindUserAsync(It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((string key, CancellationToken _) => Users.Values.FirstOrDefault(u =>
                string.Equals(u.Email, key, StringComparison.OrdinalIgnoreCase)
                || (u.Orcid is not null && key.EndsWith(u.Orcid, StringComparison.Ordinal))));
        Directory.Setup(d => d.GetUserAsync(It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((string id, CancellationToken _) => Users.GetValueOrDefault(id));
        Directory.Setup(d => d.FindGroupAsync(It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((string name, CancellationToken _) => Groups.GetValueOrDefault(name));
        Directory.Setup(d => d.ListMembersAsync(It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((string g, CancellationToken _) =>
                (IReadOnlyList<DirectoryUser>)[.. Memberships.Keys.Where(k => k.GroupId == g).Select(k => Users[k.UserId])]);
    }

    private void SetupWrites()
    {
        SetupRegistryWrites();
        SetupStorageWrites();
        SetupDirectoryWrites();

        Notifier.Setup(n => n.SendAsync(It.IsAny<Notification>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((Notification n, CancellationToken _) =>
            {
                Inject("Notifier.Send");
                lock (_gate)
                {
                    var duplicate = _sent.Any(s => s.DeduplicationKey == n.DeduplicationKey);
                    if (!duplicate)
                    {
                        _sent.Add(n);
                    }

                    return After("Notifier.Send", new NotificationReceipt("msg-" + n.DeduplicationKey, duplicate));
                }
            });
        Audit.Setup(a => a.AppendAsync(It.IsAny<AuditEntry>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((AuditEntry entry, CancellationToken _) =>
            {
                Inject("Audit.Append");
                lock (_gate)
                {
                    var existing = entry.IdempotencyKey is null ? -1 : _audit.FindIndex(e => e.IdempotencyKey == entry.IdempotencyKey);
                    if (existing < 0)
                    {
                        _audit.Add(entry);
                    }

                    var sequence = existing >= 0 ? existing + 1 : _audit.Count;
                    return After("Audit.Append", new AuditReceipt(sequence, "h" + sequence, "audit/0.jsonl", existing >= 0));
                }
            });

        // An idempotent merge, as the port says: the same write-back again changes nothing.
        DmpTool.Setup(t => t.WriteBackAsync(It.IsAny<string>(), It.IsAny<DmpWriteBack>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((string dmpId, DmpWriteBack writeBack, CancellationToken _) =>
            {
                lock (_gate)
                {
                    if (WriteBacks.Contains((dmpId, writeBack)))
                    {
                        return After("DmpTool.WriteBack", OperationResult.Unchanged);
                    }

                    WriteBacks.Enqueue((dmpId, writeBack));
                    return After("DmpTool.WriteBack", OperationResult.Done);
                }
            });
    }

    /// <summary>Registry records with ETags: a conditional write on a record changed since it was read throws, as the port says.</summary>
    private void SetupRegistryWrites()
    {
        Registry.Setup(r => r.UpsertDmpAsync(It.IsAny<DmpRecord>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((DmpRecord record, CancellationToken _) =>
            {
                Inject("Registry.UpsertDmp");
                lock (_gate)
                {
                    var stored = Dmps.GetValueOrDefault(record.DmpId);
                    CheckETag(stored?.ETag, stored is not null, record.ETag, "DMP " + record.DmpId);
                    return After("Registry.UpsertDmp", Dmps[record.DmpId] = record with { ETag = NewETag() });
                }
            });
        Registry.Setup(r => r.UpsertDatasetAsync(It.IsAny<DatasetRecord>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((DatasetRecord record, CancellationToken _) =>
            {
                Inject("Registry.UpsertDataset");
                lock (_gate)
                {
                    var stored = Datasets.GetValueOrDefault((record.DmpId, record.DatasetId));
                    CheckETag(stored?.ETag, stored is not null, record.ETag, "dataset " + record.DatasetId);
                    return After("Registry.UpsertDataset", Datasets[(record.DmpId, record.DatasetId)] = record with { ETag = NewETag() });
                }
            });
        Registry.Setup(r => r.UpsertGrantAsync(It.IsAny<GrantRecord>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((GrantRecord record, CancellationToken _) =>
            {
                Inject("Registry.UpsertGrant");
                lock (_gate)
                {
                    var stored = Grants.GetValueOrDefault((record.DmpId, record.DatasetId, record.PrincipalId));
                    CheckETag(stored?.ETag, stored is not null, record.ETag, "grant");
                    var written = record with { ETag = NewETag() };
                    Grants[(record.DmpId, record.DatasetId, record.PrincipalId)] = written;
                    return After("Registry.UpsertGrant", written);
                }
            });
        Registry.Setup(r => r.UpsertApprovalAsync(It.IsAny<ApprovalRecord>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((ApprovalRecord record, CancellationToken _) =>
            {
                return After("Registry.UpsertApproval", Approvals[(record.DmpId, record.ApprovalId)] = record with { ETag = NewETag() });
            });
        Registry.Setup(r => r.TryConsumeTokenAsync(
                It.IsAny<string>(),
                It.IsAny<string>(),
                It.IsAny<DateTimeOffset>(),
                It.IsAny<DateTimeOffset>(),
                It.IsAny<CancellationToken>()))
            .ReturnsAsync((string tokenId, string use, DateTimeOffset _, DateTimeOffset _, CancellationToken _) =>
            {
                return After(
                    "Registry.TryConsumeToken",
                    UsedTokens.TryAdd(tokenId, use) ? TokenConsumption.Consumed
                    : UsedTokens[tokenId] == use ? TokenConsumption.AlreadyConsumedBySameUse
                    : TokenConsumption.AlreadyUsed);
            });
        Registry.Setup(r => r.TryMarkEventProcessedAsync(It.IsAny<string>(), It.IsAny<DateTimeOffset>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((string id, DateTimeOffset _, CancellationToken _) =>
            {
                Inject("Registry.TryMarkEventProcessed");
                return After("Registry.TryMarkEventProcessed", ProcessedEvents.TryAdd(id, true));
            });
    }

    private void SetupStorageWrites()
    {
        Storage.Setup(s => s.EnsureContainerAsync(It.IsAny<ContainerSpec>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((ContainerSpec spec, CancellationToken _) =>
            {
                Inject("Storage.EnsureContainer");
                var created = Containers.TryAdd(spec.Name, spec.OwnerInstanceId);
                Blobs.TryAdd(spec.Name, []);
                IReadOnlyList<NotEnforcedFeature> notEnforced = spec.ImmutabilityDays is null
                    ? []
                    : [new NotEnforcedFeature(GovernanceFeatures.Immutability, "test store has no immutability")];
                return After("Storage.EnsureContainer", new ProvisionResult(
                    spec.Name,
                    created ? ProvisionOutcome.Created : ProvisionOutcome.AlreadyExisted,
                    new Uri("https://store.test/" + spec.Name),
                    [GovernanceFeatures.ContainerMetadata],
                    notEnforced));
            });
        Storage.Setup(s => s.DeleteContainerIfEmptyAsync(It.IsAny<string>(), It.IsAny<string?>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((string name, string? owner, CancellationToken _) =>
            {
                lock (_gate)
                {
                    if (!Containers.TryGetValue(name, out var recorded))
                    {
                        return ContainerDeletionOutcome.NotFound;
                    }

                    if (owner is not null && recorded != owner)
                    {
                        return ContainerDeletionOutcome.NotOwned;
                    }

                    if (Blobs.TryGetValue(name, out var blobs) && blobs.Count > 0)
                    {
                        return ContainerDeletionOutcome.NotEmpty;
                    }

                    Blobs.TryRemove(name, out var _);
                    var deleted = Containers.TryRemove(name, out var _);
                    var outcome = deleted ? ContainerDeletionOutcome.Deleted : ContainerDeletionOutcome.NotFound;
                    return After("Storage.DeleteContainerIfEmpty", outcome);
                }
            });
        Storage.Setup(s => s.SetContainerMetadataAsync(
                It.IsAny<string>(), It.IsAny<IReadOnlyDictionary<string, string?>>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((string container, IReadOnlyDictionary<string, string?> metadata, CancellationToken _) =>
            {
                Inject("Storage.SetContainerMetadata");
                var stored = ContainerMetadata.GetOrAdd(container, _ => []);
                lock (_gate)
                {
                    foreach (var (key, value) in metadata)
                    {
                        stored[key] = value;
                    }
                }

                return After("Storage.SetContainerMetadata", OperationResult.Done);
            });
        Storage.Setup(s => s.SetBlobTagsAsync(
                It.IsAny<string>(), It.IsAny<string>(), It.IsAny<IReadOnlyDictionary<string, string>>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((string c, string name, IReadOnlyDictionary<string, string> tags, CancellationToken _) =>
            {
                Inject("Storage.SetBlobTags");
                lock (_gate)
                {
                    _tagWrites.Add(new TaggedBlob(c, name, tags));
                    if (!Blobs.TryGetValue(c, out var list) || list.FindIndex(b => b.Name == name) is var i && i < 0)
                    {
                        throw new PortNotFoundException($"Blob '{name}' not found in '{c}'.");
                    }

                    var merged = new Dictionary<string, string>(list[i].Tags);
                    foreach (var (k, v) in tags)
                    {
                        merged[k] = v;
                    }

                    list[i] = list[i] with { Tags = merged };
                    return After("Storage.SetBlobTags", OperationResult.Done);
                }
            });
        Storage.Setup(s => s.MarkForDeletionAsync(
                It.IsAny<string>(), It.IsAny<DateTimeOffset>(), It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((string c, DateTimeOffset at, string reason, CancellationToken _) =>
            {
                Inject("Storage.MarkForDeletion");
                if (StorageHolds.GetValueOrDefault(c))
                {
                    throw new PortRefusedException($"Container '{c}' is under a legal hold.");
                }

                var marked = Marks.TryAdd(c, new DeletionMark(at, reason));
                return After("Storage.MarkForDeletion", marked ? OperationResult.Done : OperationResult.Unchanged);
            });
        Storage.Setup(s => s.UnmarkForDeletionAsync(It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((string c, CancellationToken _) =>
            {
                Inject("Storage.UnmarkForDeletion");
                return After("Storage.UnmarkForDeletion", Marks.TryRemove(c, out var _) ? OperationResult.Done : OperationResult.Unchanged);
            });
        Storage.Setup(s => s.PurgeAsync(It.IsAny<string>(), It.IsAny<DateTimeOffset>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((string c, DateTimeOffset now, CancellationToken _) =>
            {
                Inject("Storage.Purge");
                if (!Blobs.ContainsKey(c))
                {
                    return new PurgeResult(PurgeOutcome.AlreadyGone, null, "gone");
                }

                if (StorageHolds.GetValueOrDefault(c))
                {
                    return new PurgeResult(PurgeOutcome.UnderLegalHold, null, "held");
                }

                if (!Marks.TryGetValue(c, out var mark))
                {
                    return new PurgeResult(PurgeOutcome.NotMarked, null, "not marked");
                }

                if (now < mark.PurgeNotBefore)
                {
                    return new PurgeResult(PurgeOutcome.GracePeriodNotOver, null, "too early");
                }

                var manifest = ContainerManifest.Compute(c, BlobsOf(c));
                Blobs.TryRemove(c, out var _);
                Containers.TryRemove(c, out var _);
                return After("Storage.Purge", new PurgeResult(PurgeOutcome.Purged, manifest, "purged"));
            });
        Storage.Setup(s => s.SetTierAsync(It.IsAny<string>(), It.IsAny<StorageTier>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((string c, StorageTier t, CancellationToken _) =>
            {
                Inject("Storage.SetTier");
                Tiers[c] = t;
                return After("Storage.SetTier", OperationResult.Done);
            });
    }

    private void SetupDirectoryWrites()
    {
        Directory.Setup(d => d.EnsureGroupAsync(It.IsAny<string>(), It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((string name, string description, CancellationToken _) =>
            {
                Inject("Directory.EnsureGroup");
                return After("Directory.EnsureGroup", Groups.GetOrAdd(name, n => NewGroup(n) with { Description = description }));
            });
        Directory.Setup(d => d.AddMemberAsync(It.IsAny<string>(), It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((string g, string u, CancellationToken _) =>
            {
                Inject("Directory.AddMember");
                return After("Directory.AddMember", Memberships.TryAdd((g, u), true));
            });
        Directory.Setup(d => d.AddMembersAsync(It.IsAny<string>(), It.IsAny<IReadOnlyList<string>>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((string g, IReadOnlyList<string> users, CancellationToken _) =>
            {
                Inject("Directory.AddMembers");
                IReadOnlyList<string> added = [.. users.Distinct(StringComparer.Ordinal).Where(u => Memberships.TryAdd((g, u), true))];
                return After("Directory.AddMembers", added);
            });
        Directory.Setup(d => d.RemoveMemberAsync(It.IsAny<string>(), It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((string g, string u, CancellationToken _) =>
            {
                return After("Directory.RemoveMember", Memberships.TryRemove((g, u), out var _));
            });
        Directory.Setup(d => d.AssignRoleAsync(
                It.IsAny<PrincipalRef>(), It.IsAny<string>(), It.IsAny<AccessLevel>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((PrincipalRef p, string scope, AccessLevel role, CancellationToken _) =>
            {
                Inject("Directory.AssignRole");
                return After("Directory.AssignRole", new RoleAssignmentResult(
                    $"{p.Id}|{scope}|{role}", RoleAssignments.TryAdd((p.Id, scope, role), true),
                    [new NotEnforcedFeature(GovernanceFeatures.RoleAssignment, "recorded in the test directory only")]));
            });
        Directory.Setup(d => d.RemoveRoleAssignmentAsync(
                It.IsAny<PrincipalRef>(), It.IsAny<string>(), It.IsAny<AccessLevel>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((PrincipalRef p, string scope, AccessLevel role, CancellationToken _) =>
            {
                var removed = RoleAssignments.TryRemove((p.Id, scope, role), out var _);
                return After("Directory.RemoveRoleAssignment", new RoleAssignmentResult($"{p.Id}|{scope}|{role}", removed, []));
            });
    }
}
