using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Gardien.Workflows.Ports;
using Moq;

namespace Gardien.Workflows.Tests.Workflows;

/// <summary>
/// Moq STRICT mocks of every port, each setup backed by in-memory state so that workflows can run end to end on the
/// engine: any call a test did not allow fails. With <c>allowWrites: false</c> only reads are set up, so a single
/// mutating call (a dry run touching storage, the registry, the inbox or the audit) makes the test fail.
/// </summary>
public sealed class RetentionTestFakes
{
    public const string SigningKey = "a-text-secret-of-at-least-thirty-two-characters!";
    public const string StewardEmail = "steward@neuro-institute.example";
    public const string DpoEmail = "dpo@neuro-institute.example";

    private readonly object _gate = new();
    private long _auditSequence;

    public RetentionTestFakes(bool allowWrites = true)
    {
        SetupReads();
        if (allowWrites)
        {
            SetupWrites();
        }
    }

    public Mock<IGovernanceRegistry> Registry { get; } = new(MockBehavior.Strict);
    public Mock<IStorageProvisioner> Storage { get; } = new(MockBehavior.Strict);
    public Mock<INotifier> Notifier { get; } = new(MockBehavior.Strict);
    public Mock<IAuditLog> Audit { get; } = new(MockBehavior.Strict);
    public Mock<IDirectory> Directory { get; } = new(MockBehavior.Strict);
    public Mock<ISecretStore> Secrets { get; } = new(MockBehavior.Strict);

    public ConcurrentDictionary<(string DmpId, string DatasetId), DatasetRecord> Datasets { get; } = new();
    public ConcurrentDictionary<string, DmpRecord> Dmps { get; } = new();
    public ConcurrentDictionary<(string DmpId, string ApprovalId), ApprovalRecord> Approvals { get; } = new();
    public ConcurrentDictionary<(string DmpId, string DatasetId, string PrincipalId), GrantRecord> Grants { get; } = new();
    public ConcurrentDictionary<string, List<StoredBlob>> Blobs { get; } = new();
    public ConcurrentDictionary<string, DeletionMark> Marks { get; } = new();
    public ConcurrentDictionary<string, bool> StorageHolds { get; } = new();
    public ConcurrentDictionary<string, StorageTier> Tiers { get; } = new();
    public ConcurrentDictionary<string, DirectoryUser> Users { get; } = new();
    public ConcurrentDictionary<string, HashSet<string>> GroupMembers { get; } = new();
    public ConcurrentDictionary<string, string> UsedTokens { get; } = new();
    public ConcurrentDictionary<string, bool> ProcessedEvents { get; } = new();
    public ConcurrentDictionary<string, Notification> NotificationsByKey { get; } = new();
    public List<Notification> Notifications { get; } = [];
    public List<AuditEntry> AuditEntries { get; } = [];
    public List<TaggedBlob> TagWrites { get; } = [];

    public IReadOnlyList<Notification> NotificationsSnapshot() { lock (_gate) { return [.. Notifications]; } }

    public IReadOnlyList<AuditEntry> AuditSnapshot() { lock (_gate) { return [.. AuditEntries]; } }

    public DatasetRecord Dataset(string dmpId, string datasetId) => Datasets[(dmpId, datasetId)];

    /// <summary>A provisioned dataset with blobs, its DMP (PI contact) — the usual starting point.</summary>
    public DatasetRecord AddDataset(string dmpId, string datasetId, DateOnly keepUntil, DisposalAction disposal = DisposalAction.Delete, bool personal = false, int blobCount = 3, bool legalHold = false, string? openCase = null)
    {
        var container = "gardien-" + datasetId.ToLowerInvariant();
        Dmps.TryAdd(dmpId, new DmpRecord { DmpId = dmpId, State = DmpState.Active, ContactEmail = "pi@neuro-institute.example", Title = "Study " + dmpId });
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
        Blobs[container] = [.. Enumerable.Range(1, blobCount).Select(i => new StoredBlob($"raw/file-{i}.dat", $"\"0x8D{i:X4}\"", 100 * i, new Dictionary<string, string>(), StorageTier.Hot, null))];
        return record;
    }

    private void SetupReads()
    {
        Secrets.Setup(s => s.GetSecretAsync(It.IsAny<string>(), It.IsAny<CancellationToken>())).ReturnsAsync(SigningKey);

        Registry.Setup(r => r.GetDatasetAsync(It.IsAny<string>(), It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((string d, string s, CancellationToken _) => Datasets.GetValueOrDefault((d, s)));
        Registry.Setup(r => r.GetDmpAsync(It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((string d, CancellationToken _) => Dmps.GetValueOrDefault(d));
        Registry.Setup(r => r.ListDmpsAsync(It.IsAny<DmpState?>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((DmpState? state, CancellationToken _) => (IReadOnlyList<DmpRecord>)[.. Dmps.Values.Where(d => state is null || d.State == state)]);
        Registry.Setup(r => r.ListDatasetsAsync(It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((string d, CancellationToken _) => (IReadOnlyList<DatasetRecord>)[.. Datasets.Values.Where(x => x.DmpId == d)]);
        Registry.Setup(r => r.ListDatasetsDueAsync(It.IsAny<DateOnly>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((DateOnly until, CancellationToken _) => (IReadOnlyList<DatasetRecord>)[.. Datasets.Values.Where(x => x.KeepUntil <= until && x.State is not (DatasetState.Disposed or DatasetState.Archived or DatasetState.Published))]);
        Registry.Setup(r => r.FindDatasetByContainerAsync(It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((string c, CancellationToken _) => Datasets.Values.FirstOrDefault(x => x.Container == c));
        Registry.Setup(r => r.ListApprovalsAsync(It.IsAny<string>(), It.IsAny<string?>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((string d, string? i, CancellationToken _) => (IReadOnlyList<ApprovalRecord>)[.. Approvals.Values.Where(a => a.DmpId == d && (i is null || a.InstanceId == i))]);
        Registry.Setup(r => r.GetApprovalAsync(It.IsAny<string>(), It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((string d, string a, CancellationToken _) => Approvals.GetValueOrDefault((d, a)));
        Registry.Setup(r => r.ListGrantsAsync(It.IsAny<string>(), It.IsAny<string?>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((string d, string? s, CancellationToken _) => (IReadOnlyList<GrantRecord>)[.. Grants.Values.Where(g => g.DmpId == d && (s is null || g.DatasetId == s))]);
        Registry.Setup(r => r.GetGrantAsync(It.IsAny<string>(), It.IsAny<string>(), It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((string d, string s, string p, CancellationToken _) => Grants.GetValueOrDefault((d, s, p)));
        Registry.Setup(r => r.IsEventProcessedAsync(It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((string id, CancellationToken _) => ProcessedEvents.ContainsKey(id));

        Storage.Setup(s => s.GetContainerAsync(It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((string c, CancellationToken _) => Blobs.ContainsKey(c)
                ? new ContainerInfo(c, new Uri("http://127.0.0.1/" + c), new Dictionary<string, string>(), "\"etag\"", DateTimeOffset.UnixEpoch, null, Marks.GetValueOrDefault(c), StorageHolds.GetValueOrDefault(c))
                : null);
        Storage.Setup(s => s.GetHoldStatusAsync(It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((string c, CancellationToken _) => new HoldStatus(StorageHolds.GetValueOrDefault(c), StorageHolds.GetValueOrDefault(c) ? ["case1"] : [], null, false));
        // A store like Azurite: metadata only; a hold is recorded, not enforced; nothing to lock.
        Storage.Setup(s => s.GetControlsAsync(It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((string c, CancellationToken _) => new ContainerControls(
                c,
                [GovernanceFeatures.ContainerMetadata],
                StorageHolds.GetValueOrDefault(c) ? [new NotEnforcedFeature(GovernanceFeatures.LegalHold, "test store records holds only")] : [],
                new HoldStatus(StorageHolds.GetValueOrDefault(c), StorageHolds.GetValueOrDefault(c) ? ["case1"] : [], null, false)));
        Storage.Setup(s => s.LockImmutabilityAsync(It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync(new OperationResult(false, [new NotEnforcedFeature(GovernanceFeatures.Immutability, "test store has no immutability")]));
        Storage.Setup(s => s.ComputeManifestAsync(It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((string c, CancellationToken _) => ContainerManifest.Compute(c, BlobsOf(c)));
        Storage.Setup(s => s.ListBlobsAsync(It.IsAny<string>(), It.IsAny<string?>(), It.IsAny<CancellationToken>()))
            .Returns((string c, string? _, CancellationToken _) => ToAsync(BlobsOf(c)));
        Storage.Setup(s => s.FindBlobsByTagsAsync(It.IsAny<IReadOnlyList<TagCondition>>(), It.IsAny<CancellationToken>()))
            .Returns((IReadOnlyList<TagCondition> conditions, CancellationToken _) => ToAsync(
                Blobs.SelectMany(kv => BlobsOf(kv.Key).Select(b => new TaggedBlob(kv.Key, b.Name, b.Tags)))
                    .Where(t => conditions.All(c => t.Tags.TryGetValue(c.Key, out var v) && Matches(v, c)))
                    .ToList()));

        Directory.Setup(d => d.GetUserAsync(It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((string id, CancellationToken _) => Users.GetValueOrDefault(id));
        Directory.Setup(d => d.FindUserAsync(It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((string key, CancellationToken _) => Users.Values.FirstOrDefault(u => string.Equals(u.Email, key, StringComparison.OrdinalIgnoreCase)));
        Directory.Setup(d => d.FindGroupAsync(It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((string name, CancellationToken _) => GroupMembers.ContainsKey(name) ? new DirectoryGroup(name, name, null) : null);
        Directory.Setup(d => d.ListMembersAsync(It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((string g, CancellationToken _) => (IReadOnlyList<DirectoryUser>)[.. GroupMembers.GetValueOrDefault(g, []).Select(id => Users[id])]);
    }

    private void SetupWrites()
    {
        Registry.Setup(r => r.UpsertDatasetAsync(It.IsAny<DatasetRecord>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((DatasetRecord d, CancellationToken _) => Datasets[(d.DmpId, d.DatasetId)] = d);
        Registry.Setup(r => r.UpsertApprovalAsync(It.IsAny<ApprovalRecord>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((ApprovalRecord a, CancellationToken _) => Approvals[(a.DmpId, a.ApprovalId)] = a);
        Registry.Setup(r => r.UpsertGrantAsync(It.IsAny<GrantRecord>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((GrantRecord g, CancellationToken _) => Grants[(g.DmpId, g.DatasetId, g.PrincipalId)] = g);
        Registry.Setup(r => r.TryConsumeTokenAsync(It.IsAny<string>(), It.IsAny<string>(), It.IsAny<DateTimeOffset>(), It.IsAny<DateTimeOffset>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((string id, string fingerprint, DateTimeOffset _, DateTimeOffset _, CancellationToken _) =>
            {
                var stored = UsedTokens.GetOrAdd(id, fingerprint);
                return ReferenceEquals(stored, fingerprint) ? TokenConsumption.Consumed : stored == fingerprint ? TokenConsumption.AlreadyConsumedBySameUse : TokenConsumption.AlreadyUsed;
            });
        Registry.Setup(r => r.TryMarkEventProcessedAsync(It.IsAny<string>(), It.IsAny<DateTimeOffset>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((string id, DateTimeOffset _, CancellationToken _) => ProcessedEvents.TryAdd(id, true));

        Storage.Setup(s => s.MarkForDeletionAsync(It.IsAny<string>(), It.IsAny<DateTimeOffset>(), It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((string c, DateTimeOffset at, string reason, CancellationToken _) =>
            {
                if (StorageHolds.GetValueOrDefault(c))
                {
                    throw new PortRefusedException($"Container '{c}' is under a legal hold.");
                }

                return Marks.TryAdd(c, new DeletionMark(at, reason)) ? OperationResult.Done : OperationResult.Unchanged;
            });
        Storage.Setup(s => s.UnmarkForDeletionAsync(It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((string c, CancellationToken _) => Marks.TryRemove(c, out DeletionMark? _) ? OperationResult.Done : OperationResult.Unchanged);
        Storage.Setup(s => s.PurgeAsync(It.IsAny<string>(), It.IsAny<DateTimeOffset>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((string c, DateTimeOffset now, CancellationToken _) =>
            {
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
                Blobs.TryRemove(c, out List<StoredBlob>? _);
                return new PurgeResult(PurgeOutcome.Purged, manifest, "purged");
            });
        Storage.Setup(s => s.SetTierAsync(It.IsAny<string>(), It.IsAny<StorageTier>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((string c, StorageTier t, CancellationToken _) =>
            {
                Tiers[c] = t;
                return OperationResult.Done;
            });
        Storage.Setup(s => s.SetContainerMetadataAsync(It.IsAny<string>(), It.IsAny<IReadOnlyDictionary<string, string?>>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync(OperationResult.Done);
        Storage.Setup(s => s.SetBlobTagsAsync(It.IsAny<string>(), It.IsAny<string>(), It.IsAny<IReadOnlyDictionary<string, string>>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((string c, string name, IReadOnlyDictionary<string, string> tags, CancellationToken _) =>
            {
                lock (_gate)
                {
                    TagWrites.Add(new TaggedBlob(c, name, tags));
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
                    return OperationResult.Done;
                }
            });

        Notifier.Setup(n => n.SendAsync(It.IsAny<Notification>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((Notification n, CancellationToken _) =>
            {
                lock (_gate)
                {
                    if (!NotificationsByKey.TryAdd(n.DeduplicationKey, n))
                    {
                        return new NotificationReceipt(n.DeduplicationKey, true);
                    }

                    Notifications.Add(n);
                    return new NotificationReceipt(n.DeduplicationKey, false);
                }
            });
        Audit.Setup(a => a.AppendAsync(It.IsAny<AuditEntry>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((AuditEntry e, CancellationToken _) =>
            {
                lock (_gate)
                {
                    var existing = e.IdempotencyKey is null ? -1 : AuditEntries.FindIndex(x => x.IdempotencyKey == e.IdempotencyKey);
                    if (existing >= 0)
                    {
                        return new AuditReceipt(existing + 1, "h" + (existing + 1), "audit/0", true);
                    }

                    AuditEntries.Add(e);
                    _auditSequence = AuditEntries.Count;
                    return new AuditReceipt(_auditSequence, "h" + _auditSequence, "audit/0", false);
                }
            });
        Directory.Setup(d => d.RemoveMemberAsync(It.IsAny<string>(), It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((string g, string u, CancellationToken _) =>
            {
                lock (_gate)
                {
                    return GroupMembers.TryGetValue(g, out var members) && members.Remove(u);
                }
            });
        Directory.Setup(d => d.RemoveRoleAssignmentAsync(It.IsAny<PrincipalRef>(), It.IsAny<string>(), It.IsAny<AccessLevel>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((PrincipalRef p, string scope, AccessLevel level, CancellationToken _) => new RoleAssignmentResult(p.Id + scope + level, true, []));
    }

    private List<StoredBlob> BlobsOf(string container)
    {
        lock (_gate)
        {
            return Blobs.TryGetValue(container, out var list) ? [.. list] : [];
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

    private static async IAsyncEnumerable<T> ToAsync<T>(IEnumerable<T> items, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        foreach (var item in items)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return item;
        }

        await Task.CompletedTask;
    }
}
