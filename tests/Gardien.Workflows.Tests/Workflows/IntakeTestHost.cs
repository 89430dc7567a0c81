using System.Collections.Concurrent;
using Gardien.Runtime;
using Gardien.Runtime.Engine;
using Gardien.Runtime.Storage;
using Gardien.Workflows.Approvals;
using Gardien.Workflows.Hosting;
using Gardien.Workflows.Ports;
using Microsoft.Extensions.Time.Testing;
using Moq;

namespace Gardien.Workflows.Tests.Workflows;

/// <summary>
/// The Gardien workflows on the embedded engine (in-memory store, fake clock) with the real activities wired to Moq
/// STRICT mocks of every port. The mocks' setups keep state in the dictionaries below (so workflows can read what
/// they wrote); any call nobody set up fails the activity, which the tests see as a failed or compensated workflow.
/// </summary>
internal sealed class IntakeTestHost : IAsyncDisposable
{
    public static readonly DateTimeOffset Epoch = new(2026, 2, 2, 8, 0, 0, TimeSpan.Zero);

    /// <summary>Hang guard only: no test asserts on elapsed time.</summary>
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(60);

    private readonly Dictionary<Type, object> _services = [];

    private IntakeTestHost(GardienWorkflowOptions options)
    {
        Options = options;
        SetupDefaults();
        _services[typeof(IStorageProvisioner)] = Storage.Object;
        _services[typeof(IGovernanceRegistry)] = Registry.Object;
        _services[typeof(IDirectory)] = Directory.Object;
        _services[typeof(INotifier)] = Notifier.Object;
        _services[typeof(ISecretStore)] = Secrets.Object;
        _services[typeof(IDmpToolClient)] = DmpTool.Object;
        _services[typeof(IAuditLog)] = Audit.Object;
        _services[typeof(TimeProvider)] = Time;
        _services[typeof(ApprovalTokenService)] = new ApprovalTokenService(Secrets.Object, Registry.Object, new ApprovalTokenSettings(), Time);
        _services[typeof(GardienWorkflowOptions)] = options;
        var registry = new WorkflowRegistry().AddGardienWorkflows();
        Engine = new WorkflowEngine(new InMemoryWorkflowStore(Time), registry, new WorkflowEngineOptions
        {
            TimeProvider = Time,
            Services = new MapServiceProvider(_services),
            AbandonDelay = _ => TimeSpan.Zero,
            StoreErrorBackoff = TimeSpan.FromMilliseconds(1),
            ReceiveTimeout = TimeSpan.FromSeconds(5),
            LockDuration = TimeSpan.FromDays(40),
            MaxConcurrentWorkflowSteps = 2,
            MaxConcurrentActivities = 8,
        });
    }

    public FakeTimeProvider Time { get; } = new(Epoch);

    public GardienWorkflowOptions Options { get; }

    public WorkflowEngine Engine { get; }

    public WorkflowEngineClient Client => Engine.Client;

    public Mock<IStorageProvisioner> Storage { get; } = new(MockBehavior.Strict);

    public Mock<IGovernanceRegistry> Registry { get; } = new(MockBehavior.Strict);

    public Mock<IDirectory> Directory { get; } = new(MockBehavior.Strict);

    public Mock<INotifier> Notifier { get; } = new(MockBehavior.Strict);

    public Mock<ISecretStore> Secrets { get; } = new(MockBehavior.Strict);

    public Mock<IDmpToolClient> DmpTool { get; } = new(MockBehavior.Strict);

    public Mock<IAuditLog> Audit { get; } = new(MockBehavior.Strict);

    // State behind the mocks.
    public ConcurrentDictionary<string, DmpRecord> Dmps { get; } = new();

    public ConcurrentDictionary<(string, string), DatasetRecord> Datasets { get; } = new();

    public ConcurrentDictionary<(string, string, string), GrantRecord> Grants { get; } = new();

    public ConcurrentDictionary<(string, string), ApprovalRecord> Approvals { get; } = new();

    public ConcurrentDictionary<string, string> UsedTokens { get; } = new();

    public ConcurrentQueue<AuditEntry> AuditEntries { get; } = new();

    public ConcurrentQueue<Notification> Sent { get; } = new();

    public ConcurrentDictionary<string, string?> Containers { get; } = new();

    public ConcurrentQueue<(string DmpId, DmpWriteBack WriteBack)> WriteBacks { get; } = new();

    public ConcurrentDictionary<string, DirectoryUser> Users { get; } = new(StringComparer.OrdinalIgnoreCase);

    public ConcurrentDictionary<string, DirectoryGroup> Groups { get; } = new(StringComparer.OrdinalIgnoreCase);

    public ConcurrentDictionary<(string GroupId, string UserId), bool> Memberships { get; } = new();

    public ConcurrentDictionary<(string PrincipalId, string Scope, AccessLevel Role), bool> RoleAssignments { get; } = new();

    /// <summary>Blob index tags by (container, blob name): blobs a test put in a container.</summary>
    public ConcurrentDictionary<(string Container, string Name), Dictionary<string, string>> Blobs { get; } = new();

    public ConcurrentDictionary<string, Dictionary<string, string?>> ContainerMetadata { get; } = new();

    /// <summary>
    /// Fault injection: called with "Port.Method" before the mocked ports act; an exception returned is thrown by the port.
    /// </summary>
    public Func<string, Exception?>? Fault { get; set; }

    /// <summary>
    /// Fault injection after the fact: called with "Port.Method" once the mocked port has acted; an exception returned is
    /// thrown as if the process died right after the side effect, before the activity could report it.
    /// </summary>
    public Func<string, Exception?>? FaultAfter { get; set; }

    public ApprovalTokenService Tokens => (ApprovalTokenService)_services[typeof(ApprovalTokenService)];

    public ApprovalDecisionService Decisions => new(Client, Tokens, Time);

    public DmpSubmissionService Submissions => new(Client, Registry.Object);

    public DmpEventRouter Router => new(Client, Registry.Object);

    public static async Task<IntakeTestHost> StartAsync(Action<IntakeTestHost>? configure = null, GardienWorkflowOptions? options = null)
    {
        var host = new IntakeTestHost(options ?? new GardienWorkflowOptions { ApprovalBaseUrl = new Uri("https://gardien.test/") });
        host.AddUser("u-pi", "Claire Dubois", "claire.dubois@neuro.example", "0000-0002-1825-0097");
        host.AddUser("u-dm", "Mehdi Benali", "mehdi.benali@neuro.example", null);
        configure?.Invoke(host);
        await host.Engine.StartAsync();
        return host;
    }

    public void AddUser(string id, string name, string email, string? orcid) => Users[id] = new DirectoryUser(id, name, email, orcid);

    public IReadOnlyList<Notification> SentTo(string email, NotificationKind? kind = null) =>
        [.. Sent.Where(n => n.To.Contains(email, StringComparer.OrdinalIgnoreCase) && (kind is null || n.Kind == kind))];

    public IReadOnlyList<GrantRecord> ActiveGrants(string dmpId) => [.. Grants.Values.Where(g => g.DmpId == dmpId && g.State == GrantState.Active)];

    public IReadOnlyList<string> AuditActions => [.. AuditEntries.Select(e => e.Action)];

    /// <summary>Waits for the approval request (or escalation) sent to <paramref name="approver"/> and submits the decision through its link's token.</summary>
    public async Task<ApprovalSubmissionResult> DecideAsync(string approver, string decision, string? comment = null, NotificationKind kind = NotificationKind.ApprovalRequest)
    {
        var message = await WaitForMessageAsync(approver, kind);
        var result = await Decisions.SubmitAsync(TokenOf(message, decision), decision, comment, "user:" + approver);
        Assert.True(result.Accepted, result.Message);
        return result;
    }

    public async Task<Notification> WaitForMessageAsync(string to, NotificationKind kind, int count = 1)
    {
        await WaitUntilAsync(() => Task.FromResult(SentTo(to, kind).Count >= count), $"{count} × {kind} to {to}");
        return SentTo(to, kind)[count - 1];
    }

    /// <summary>The token of the message's approve (or reject) link: <c>{base}/approvals/{token}?decision=...</c>.</summary>
    public static string TokenOf(Notification message, string decision = "approve") =>
        message.Links.Select(l => ApprovalLinks.Parse(l.Url.ToString()).Link).First(link => link?.Decision == decision)!.Token;

    /// <summary>The whole link of the message for <paramref name="decision"/>, as a person would paste it.</summary>
    public static string LinkOf(Notification message, string decision) =>
        message.Links.First(l => ApprovalLinks.Parse(l.Url.ToString()).Link?.Decision == decision).Url.ToString();

    public async Task<WorkflowMetadata> CompletionAsync(string instanceId)
    {
        using var guard = new CancellationTokenSource(HangGuard);
        return await Client.WaitForCompletionAsync(instanceId, cancellationToken: guard.Token);
    }

    /// <summary>Moves the fake clock forward in steps until the instance completes (retry backoffs, timers).</summary>
    public async Task<WorkflowMetadata> AdvanceUntilCompletedAsync(string instanceId, TimeSpan step)
    {
        var deadline = DateTime.UtcNow + HangGuard;
        while (true)
        {
            var instance = await Client.GetInstanceAsync(instanceId);
            if (instance is { IsCompleted: true })
            {
                return instance;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Gave up waiting for {instanceId} to complete (status {instance?.Status}, custom status {instance?.SerializedCustomStatus}).");
            }

            Time.Advance(step);
            await Task.Delay(20);
        }
    }

    public async Task<T?> WaitForCustomStatusAsync<T>(string instanceId, Func<T, bool> condition)
    {
        T? status = default;
        await WaitUntilAsync(
            async () =>
            {
                var instance = await Client.GetInstanceAsync(instanceId);
                status = instance?.SerializedCustomStatus is null ? default : instance.ReadCustomStatusAs<T>();
                return status is not null && condition(status);
            },
            $"custom status of {instanceId}");
        return status;
    }

    /// <summary>
    /// Waits until the instance idles on a timer (every timer it created has fired but the last), then sets the clock to
    /// that timer's due time, so the workflow sees exactly its schedule. Null when the instance completed instead.
    /// </summary>
    public async Task<DateTime?> AdvanceToNextTimerAsync(string instanceId)
    {
        DateTime? fireAt = null;
        await WaitUntilAsync(
            async () =>
            {
                if (await Client.GetInstanceAsync(instanceId) is { IsCompleted: true })
                {
                    fireAt = null;
                    return true;
                }

                var history = await Engine.Store.GetHistoryAsync(instanceId);
                var created = history.Where(e => e.EventType == HistoryEventType.TimerCreated).ToList();
                fireAt = created.Count > 0 ? created[^1].FireAt : null;
                return created.Count > 0 && created.Count == history.Count(e => e.EventType == HistoryEventType.TimerFired) + 1;
            },
            $"{instanceId} to wait on a timer");
        if (fireAt is { } at && new DateTimeOffset(DateTime.SpecifyKind(at, DateTimeKind.Utc)) > Time.GetUtcNow())
        {
            Time.SetUtcNow(new DateTimeOffset(DateTime.SpecifyKind(at, DateTimeKind.Utc)));
        }

        return fireAt;
    }

    /// <summary>
    /// Approves every approval request of <paramref name="instanceId"/> (and its sub-workflows) as it arrives, until the
    /// instance completes; refused submissions (e.g. an approval withdrawn meanwhile) are ignored.
    /// </summary>
    public async Task<WorkflowMetadata> ApproveAllUntilCompletedAsync(string instanceId)
    {
        var decided = new HashSet<string>(StringComparer.Ordinal);
        WorkflowMetadata? done = null;
        await WaitUntilAsync(
            async () =>
            {
                foreach (var message in Sent.Where(m => m.Kind == NotificationKind.ApprovalRequest && m.CorrelationId.StartsWith(instanceId, StringComparison.Ordinal)).ToList())
                {
                    if (decided.Add(message.DeduplicationKey))
                    {
                        await Decisions.SubmitAsync(TokenOf(message), "approve", null, "user:" + message.To[0]);
                    }
                }

                done = await Client.GetInstanceAsync(instanceId);
                return done is { IsCompleted: true };
            },
            $"{instanceId} to complete");
        return done!;
    }

    /// <summary>Waits until the instance has created at least <paramref name="count"/> timers (it is then idle, waiting).</summary>
    public Task WaitForTimersAsync(string instanceId, int count) =>
        WaitUntilAsync(
            async () => (await Engine.Store.GetHistoryAsync(instanceId)).Count(e => e.EventType == HistoryEventType.TimerCreated) >= count,
            $"{count} timers in {instanceId}");

    public static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + HangGuard;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("Gave up waiting for: " + what);
            }

            await Task.Delay(10);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Engine.DisposeAsync();
    }

    private static string NewETag() => Guid.NewGuid().ToString("N");

    private static T CheckETag<T>(T? stored, string? etag, string what)
        where T : class
    {
        if (etag is not null && (stored is null || !string.Equals(etag, (string?)stored.GetType().GetProperty("ETag")!.GetValue(stored), StringComparison.Ordinal)))
        {
            throw new ConcurrencyConflictException($"{what} changed since it was read.");
        }

        return stored!;
    }

    private void SetupDefaults()
    {
        Secrets.Setup(s => s.GetSecretAsync("approval-signing-key-k1", It.IsAny<CancellationToken>())).ReturnsAsync(Convert.ToBase64String(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray()));

        // Registry: dictionaries with ETag checks (a conditional write on a changed record throws, as the port says).
        Registry.Setup(r => r.GetDmpAsync(It.IsAny<string>(), It.IsAny<CancellationToken>())).ReturnsAsync((string id, CancellationToken _) => Dmps.GetValueOrDefault(id));
        Registry.Setup(r => r.UpsertDmpAsync(It.IsAny<DmpRecord>(), It.IsAny<CancellationToken>())).ReturnsAsync((DmpRecord record, CancellationToken _) =>
        {
            Inject("Registry.UpsertDmp");
            lock (Dmps)
            {
                CheckETag(Dmps.GetValueOrDefault(record.DmpId), record.ETag, "DMP " + record.DmpId);
                return After("Registry.UpsertDmp", Dmps[record.DmpId] = record with { ETag = NewETag() });
            }
        });
        Registry.Setup(r => r.GetDatasetAsync(It.IsAny<string>(), It.IsAny<string>(), It.IsAny<CancellationToken>())).ReturnsAsync((string dmp, string ds, CancellationToken _) => Datasets.GetValueOrDefault((dmp, ds)));
        Registry.Setup(r => r.UpsertDatasetAsync(It.IsAny<DatasetRecord>(), It.IsAny<CancellationToken>())).ReturnsAsync((DatasetRecord record, CancellationToken _) =>
        {
            Inject("Registry.UpsertDataset");
            lock (Datasets)
            {
                CheckETag(Datasets.GetValueOrDefault((record.DmpId, record.DatasetId)), record.ETag, "dataset " + record.DatasetId);
                return After("Registry.UpsertDataset", Datasets[(record.DmpId, record.DatasetId)] = record with { ETag = NewETag() });
            }
        });
        Registry.Setup(r => r.GetGrantAsync(It.IsAny<string>(), It.IsAny<string>(), It.IsAny<string>(), It.IsAny<CancellationToken>())).ReturnsAsync((string dmp, string ds, string p, CancellationToken _) => Grants.GetValueOrDefault((dmp, ds, p)));
        Registry.Setup(r => r.UpsertGrantAsync(It.IsAny<GrantRecord>(), It.IsAny<CancellationToken>())).ReturnsAsync((GrantRecord record, CancellationToken _) =>
        {
            Inject("Registry.UpsertGrant");
            lock (Grants)
            {
                CheckETag(Grants.GetValueOrDefault((record.DmpId, record.DatasetId, record.PrincipalId)), record.ETag, "grant");
                return After("Registry.UpsertGrant", Grants[(record.DmpId, record.DatasetId, record.PrincipalId)] = record with { ETag = NewETag() });
            }
        });
        Registry.Setup(r => r.GetApprovalAsync(It.IsAny<string>(), It.IsAny<string>(), It.IsAny<CancellationToken>())).ReturnsAsync((string dmp, string id, CancellationToken _) => Approvals.GetValueOrDefault((dmp, id)));
        Registry.Setup(r => r.UpsertApprovalAsync(It.IsAny<ApprovalRecord>(), It.IsAny<CancellationToken>())).ReturnsAsync((ApprovalRecord record, CancellationToken _) =>
            After("Registry.UpsertApproval", Approvals[(record.DmpId, record.ApprovalId)] = record with { ETag = NewETag() }));
        Registry.Setup(r => r.TryConsumeTokenAsync(It.IsAny<string>(), It.IsAny<string>(), It.IsAny<DateTimeOffset>(), It.IsAny<DateTimeOffset>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((string tokenId, string use, DateTimeOffset _, DateTimeOffset _, CancellationToken _) => After("Registry.TryConsumeToken",
                UsedTokens.TryAdd(tokenId, use) ? TokenConsumption.Consumed
                : UsedTokens[tokenId] == use ? TokenConsumption.AlreadyConsumedBySameUse
                : TokenConsumption.AlreadyUsed));

        Audit.Setup(a => a.AppendAsync(It.IsAny<AuditEntry>(), It.IsAny<CancellationToken>())).ReturnsAsync((AuditEntry entry, CancellationToken _) =>
        {
            Inject("Audit.Append");
            lock (AuditEntries)
            {
                var duplicate = entry.IdempotencyKey is { } key && AuditEntries.Any(e => e.IdempotencyKey == key);
                if (!duplicate)
                {
                    AuditEntries.Enqueue(entry);
                }

                return After("Audit.Append", new AuditReceipt(AuditEntries.Count, new string('a', 64), "audit/0.jsonl", duplicate));
            }
        });
        Notifier.Setup(n => n.SendAsync(It.IsAny<Notification>(), It.IsAny<CancellationToken>())).ReturnsAsync((Notification n, CancellationToken _) =>
        {
            Inject("Notifier.Send");
            lock (Sent)
            {
                var duplicate = Sent.Any(s => s.DeduplicationKey == n.DeduplicationKey);
                if (!duplicate)
                {
                    Sent.Enqueue(n);
                }

                return After("Notifier.Send", new NotificationReceipt("msg-" + n.DeduplicationKey.GetHashCode(StringComparison.Ordinal), duplicate));
            }
        });

        Storage.Setup(s => s.EnsureContainerAsync(It.IsAny<ContainerSpec>(), It.IsAny<CancellationToken>())).ReturnsAsync((ContainerSpec spec, CancellationToken _) =>
        {
            Inject("Storage.EnsureContainer");
            var created = Containers.TryAdd(spec.Name, spec.OwnerInstanceId);
            IReadOnlyList<NotEnforcedFeature> notEnforced = spec.ImmutabilityDays is null ? [] : [new NotEnforcedFeature(GovernanceFeatures.Immutability, "test store has no immutability")];
            return After("Storage.EnsureContainer", new ProvisionResult(spec.Name, created ? ProvisionOutcome.Created : ProvisionOutcome.AlreadyExisted, new Uri("https://store.test/" + spec.Name), [GovernanceFeatures.ContainerMetadata], notEnforced));
        });
        // What the test store enforces: its metadata; immutability is only recorded (the Azure adapter enforces it).
        Storage.Setup(s => s.GetControlsAsync(It.IsAny<string>(), It.IsAny<CancellationToken>())).ReturnsAsync((string name, CancellationToken _) =>
            new ContainerControls(name, [GovernanceFeatures.ContainerMetadata], [], new HoldStatus(false, [], null, false)));
        Storage.Setup(s => s.DeleteContainerIfEmptyAsync(It.IsAny<string>(), It.IsAny<string?>(), It.IsAny<CancellationToken>())).ReturnsAsync((string name, string? owner, CancellationToken _) =>
            !Containers.TryGetValue(name, out var recorded) ? ContainerDeletionOutcome.NotFound
            : owner is not null && recorded != owner ? ContainerDeletionOutcome.NotOwned
            : Containers.TryRemove(name, out var _) ? ContainerDeletionOutcome.Deleted : ContainerDeletionOutcome.NotFound);

        Directory.Setup(d => d.FindUserAsync(It.IsAny<string>(), It.IsAny<CancellationToken>())).ReturnsAsync((string key, CancellationToken _) =>
            Users.Values.FirstOrDefault(u => string.Equals(u.Email, key, StringComparison.OrdinalIgnoreCase) || (u.Orcid is not null && key.EndsWith(u.Orcid, StringComparison.Ordinal))));
        Directory.Setup(d => d.GetUserAsync(It.IsAny<string>(), It.IsAny<CancellationToken>())).ReturnsAsync((string id, CancellationToken _) => Users.GetValueOrDefault(id));
        Directory.Setup(d => d.EnsureGroupAsync(It.IsAny<string>(), It.IsAny<string>(), It.IsAny<CancellationToken>())).ReturnsAsync((string name, string description, CancellationToken _) =>
        {
            Inject("Directory.EnsureGroup");
            return After("Directory.EnsureGroup", Groups.GetOrAdd(name, n => new DirectoryGroup("g-" + n, n, description)));
        });
        Directory.Setup(d => d.FindGroupAsync(It.IsAny<string>(), It.IsAny<CancellationToken>())).ReturnsAsync((string name, CancellationToken _) => Groups.GetValueOrDefault(name));
        Directory.Setup(d => d.AddMemberAsync(It.IsAny<string>(), It.IsAny<string>(), It.IsAny<CancellationToken>())).ReturnsAsync((string g, string u, CancellationToken _) =>
        {
            Inject("Directory.AddMember");
            return After("Directory.AddMember", Memberships.TryAdd((g, u), true));
        });
        Directory.Setup(d => d.AddMembersAsync(It.IsAny<string>(), It.IsAny<IReadOnlyList<string>>(), It.IsAny<CancellationToken>())).ReturnsAsync((string g, IReadOnlyList<string> users, CancellationToken _) =>
        {
            Inject("Directory.AddMembers");
            return After("Directory.AddMembers", (IReadOnlyList<string>)[.. users.Distinct().Where(u => Memberships.TryAdd((g, u), true))]);
        });
        Directory.Setup(d => d.RemoveMemberAsync(It.IsAny<string>(), It.IsAny<string>(), It.IsAny<CancellationToken>())).ReturnsAsync((string g, string u, CancellationToken _) => Memberships.TryRemove((g, u), out var _));
        Directory.Setup(d => d.ListMembersAsync(It.IsAny<string>(), It.IsAny<CancellationToken>())).ReturnsAsync((string g, CancellationToken _) =>
            (IReadOnlyList<DirectoryUser>)[.. Memberships.Keys.Where(k => k.GroupId == g).Select(k => Users[k.UserId])]);
        Directory.Setup(d => d.AssignRoleAsync(It.IsAny<PrincipalRef>(), It.IsAny<string>(), It.IsAny<AccessLevel>(), It.IsAny<CancellationToken>())).ReturnsAsync((PrincipalRef p, string scope, AccessLevel role, CancellationToken _) =>
            Inject("Directory.AssignRole") ?? After("Directory.AssignRole", new RoleAssignmentResult($"{p.Id}|{scope}|{role}", RoleAssignments.TryAdd((p.Id, scope, role), true), [new NotEnforcedFeature(GovernanceFeatures.RoleAssignment, "recorded in the test directory only")])));
        Directory.Setup(d => d.RemoveRoleAssignmentAsync(It.IsAny<PrincipalRef>(), It.IsAny<string>(), It.IsAny<AccessLevel>(), It.IsAny<CancellationToken>())).ReturnsAsync((PrincipalRef p, string scope, AccessLevel role, CancellationToken _) =>
            new RoleAssignmentResult($"{p.Id}|{scope}|{role}", RoleAssignments.TryRemove((p.Id, scope, role), out var _), []));

        Storage.Setup(s => s.SetContainerMetadataAsync(It.IsAny<string>(), It.IsAny<IReadOnlyDictionary<string, string?>>(), It.IsAny<CancellationToken>())).ReturnsAsync((string container, IReadOnlyDictionary<string, string?> metadata, CancellationToken _) =>
        {
            var stored = ContainerMetadata.GetOrAdd(container, _ => []);
            lock (stored)
            {
                foreach (var (key, value) in metadata)
                {
                    stored[key] = value;
                }
            }

            return OperationResult.Done;
        });
        Storage.Setup(s => s.ListBlobsAsync(It.IsAny<string>(), It.IsAny<string?>(), It.IsAny<CancellationToken>())).Returns((string container, string? prefix, CancellationToken _) =>
            Blobs.Where(b => b.Key.Container == container && (prefix is null || b.Key.Name.StartsWith(prefix, StringComparison.Ordinal)))
                .Select(b => new StoredBlob(b.Key.Name, "etag", 10, new Dictionary<string, string>(b.Value), null, null)).ToArray().ToAsyncEnumerable());
        Storage.Setup(s => s.SetBlobTagsAsync(It.IsAny<string>(), It.IsAny<string>(), It.IsAny<IReadOnlyDictionary<string, string>>(), It.IsAny<CancellationToken>())).ReturnsAsync((string container, string name, IReadOnlyDictionary<string, string> tags, CancellationToken _) =>
        {
            var stored = Blobs[(container, name)];
            lock (stored)
            {
                foreach (var (key, value) in tags)
                {
                    stored[key] = value;
                }
            }

            return OperationResult.Done;
        });

        // An idempotent merge, as the port says: the same write-back again changes nothing.
        DmpTool.Setup(t => t.WriteBackAsync(It.IsAny<string>(), It.IsAny<DmpWriteBack>(), It.IsAny<CancellationToken>())).ReturnsAsync((string dmpId, DmpWriteBack writeBack, CancellationToken _) =>
        {
            lock (WriteBacks)
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

    /// <summary>Throws the fault injected after <paramref name="call"/> took effect, if any; otherwise returns <paramref name="result"/>.</summary>
    private T After<T>(string call, T result) =>
        FaultAfter?.Invoke(call) is { } fault ? throw fault : result;

    /// <summary>Throws the injected fault of <paramref name="call"/>, if any (returns null so it fits in expressions).</summary>
    private RoleAssignmentResult? Inject(string call) =>
        Fault?.Invoke(call) is { } fault ? throw fault : null;

    private sealed class MapServiceProvider(Dictionary<Type, object> services) : IServiceProvider
    {
        public object? GetService(Type serviceType) => services.GetValueOrDefault(serviceType);
    }
}
