using System.Globalization;
using Gardien.Local.Hosting;
using Gardien.Local.Notifications;
using Gardien.Local.Serve;
using Gardien.Runtime;
using Gardien.Workflows.Approvals;
using Gardien.Workflows.Intake;
using Gardien.Workflows.Notifications;
using Gardien.Workflows.Ports;
using Gardien.Workflows.Text;
using Spectre.Console;

namespace Gardien.Cli;

/// <summary>An approval still waiting for a decision, as its workflow's custom status shows it.</summary>
/// <param name="Undelivered">Messages of the approval that could not be delivered (it waits all the same).</param>
internal sealed record PendingApproval(
    string InstanceId,
    string Role,
    IReadOnlyList<string> Awaiting,
    DateTimeOffset? ExpiresAt,
    bool Escalated,
    string? LastRefusal,
    IReadOnlyList<NotificationFailure>? Undelivered = null);

/// <summary>A governed dataset with its container as the store sees it (null when the container does not exist).</summary>
internal sealed record DatasetView(DatasetRecord Dataset, ContainerInfo? Container);

/// <summary>Everything a data steward wants to see about one DMP's intake (or the update of it that is current).</summary>
internal sealed record IntakeSnapshot(
    string InstanceId,
    string? DmpId,
    WorkflowStatus? RuntimeStatus,
    IntakeStatus? Stage,
    IntakeDmpOutput? Result,
    string? Failure,
    IReadOnlyList<PendingApproval> Awaiting,
    DmpRecord? Registry,
    IReadOnlyList<ApprovalRecord> Approvals,
    IReadOnlyList<DatasetView> Datasets,
    IReadOnlyList<GrantRecord> Grants)
{
    /// <summary>When the instance is an update: what it ended with.</summary>
    public UpdateDmpOutput? UpdateResult { get; init; }

    /// <summary>The instance's workflow (intake or update).</summary>
    public string? Workflow { get; init; }
}

/// <summary>An inbox message with the approval tokens of its links and whether the request it belongs to is still open.</summary>

/// <summary>Reads and renders what the workflows did (registry, store, engine), shared by status, submit, approve and demo.</summary>
internal static class LocalHostViews
{
    private const string IntakePrefix = "intake-";
    private const string UpdatePrefix = "update-";

    /// <summary>True for an intake or update instance id (as opposed to a dmp_id).</summary>
    public static bool IsInstanceId(string text) =>
        text.StartsWith(IntakePrefix, StringComparison.Ordinal) || text.StartsWith(UpdatePrefix, StringComparison.Ordinal);

    /// <summary>
    /// The instance to show for a DMP given by dmp_id: the intake or update that last took the DMP's record (the running
    /// intake, or the one that put the version in force), else the DMP's first intake. An instance id is returned as is.
    /// </summary>
    public static async Task<string> ResolveInstanceIdAsync(
        GardienLocalHost host,
        string dmpIdOrInstanceId,
        CancellationToken cancellationToken)
    {
        if (IsInstanceId(dmpIdOrInstanceId))
        {
            return dmpIdOrInstanceId;
        }

        return await host.Registry.GetDmpAsync(dmpIdOrInstanceId, cancellationToken) is { InstanceId: { } owner } && IsInstanceId(owner)
            ? owner
            : IntakeDmpWorkflow.InstanceIdFor(dmpIdOrInstanceId);
    }

    public static async Task<IReadOnlyList<WorkflowMetadata>> ListIntakesAsync(GardienLocalHost host, CancellationToken cancellationToken)
    {
        var intakes = new List<WorkflowMetadata>();
        await foreach (var instance in host.Client.QueryAllInstancesAsync(
            new WorkflowQuery { InstanceIdPrefix = IntakePrefix, FetchInputsAndOutputs = true }, cancellationToken))
        {
            if (instance.Name == nameof(IntakeDmpWorkflow))
            {
                intakes.Add(instance);
            }
        }

        return [.. intakes.OrderBy(i => i.CreatedAt)];
    }

    public static async Task<IntakeSnapshot?> LoadAsync(
        GardienLocalHost host,
        string dmpIdOrInstanceId,
        CancellationToken cancellationToken)
    {
        var instanceId = await ResolveInstanceIdAsync(host, dmpIdOrInstanceId, cancellationToken);
        var instance = await host.Client.GetInstanceAsync(instanceId, getInputsAndOutputs: true, cancellationToken: cancellationToken);
        var isUpdate = instance?.Name == nameof(UpdateDmpWorkflow);
        var completed = instance is { Status: WorkflowStatus.Completed };
        var result = completed && !isUpdate ? instance!.ReadOutputAs<IntakeDmpOutput>() : null;
        var updateResult = completed && isUpdate ? instance!.ReadOutputAs<UpdateDmpOutput>() : null;
        var dmpId = result?.DmpId ?? updateResult?.DmpId
            ?? (isUpdate ? instance?.ReadInputAs<UpdateDmpInput>()?.DmpId : instance?.ReadInputAs<IntakeDmpInput>()?.DmpId)
            ?? (IsInstanceId(dmpIdOrInstanceId) ? null : dmpIdOrInstanceId);
        var registry = dmpId is null ? null : await host.Registry.GetDmpAsync(dmpId, cancellationToken);
        if (instance is null && registry is null)
        {
            return null;
        }

        var awaiting = new List<PendingApproval>();
        await foreach (var approval in host.Client.QueryAllInstancesAsync(
            new WorkflowQuery { InstanceIdPrefix = instanceId + "-approval-" }, cancellationToken))
        {
            if (approval.IsRunning && approval.ReadCustomStatusAs<ApprovalStatus>() is { } status)
            {
                awaiting.Add(new PendingApproval(
                    approval.InstanceId,
                    status.Role,
                    status.Awaiting,
                    status.ExpiresAt,
                    status.Escalated,
                    status.LastRefusal,
                    status.Undelivered));
            }
        }

        var approvals = dmpId is null ? [] : await host.Registry.ListApprovalsAsync(dmpId, cancellationToken: cancellationToken);
        var datasets = new List<DatasetView>();
        foreach (var dataset in dmpId is null ? [] : await host.Registry.ListDatasetsAsync(dmpId, cancellationToken))
        {
            datasets.Add(new DatasetView(dataset, await host.Storage.GetContainerAsync(dataset.Container, cancellationToken)));
        }

        var grants = dmpId is null ? [] : await host.Registry.ListGrantsAsync(dmpId, cancellationToken: cancellationToken);
        return new IntakeSnapshot(
            instanceId,
            dmpId,
            instance?.Status,
            instance?.SerializedCustomStatus is null ? null : instance.ReadCustomStatusAs<IntakeStatus>(),
            result,
            instance?.FailureDetails?.ErrorMessage,
            awaiting,
            registry,
            [.. approvals.OrderBy(a => a.RequestedAt)],
            [.. datasets.OrderBy(d => d.Dataset.DatasetId, StringComparer.Ordinal)],
            [.. grants.OrderBy(g => g.DatasetId, StringComparer.Ordinal).ThenByDescending(g => g.Level)
                .ThenBy(g => g.PrincipalId, StringComparer.Ordinal)])
        {
            UpdateResult = updateResult,
            Workflow = instance?.Name,
        };
    }

    /// <summary>One line: where the intake stands.</summary>
    public static string Describe(IntakeSnapshot snapshot)
    {
        if (snapshot.Result is { } result)
        {
            return $"{result.State}" + (result.Reason is null ? string.Empty : $" ({result.Reason})");
        }

        if (snapshot.UpdateResult is { } update)
        {
            return $"update {update.State}" + (update.Reason is null ? string.Empty : $" ({update.Reason})");
        }

        if (snapshot.RuntimeStatus is null)
        {
            return $"no intake instance; registry state {snapshot.Registry?.State.ToString() ?? "unknown"}";
        }

        var stage = snapshot.Stage is { } s ? s.Stage + (s.Detail is null ? string.Empty : $": {s.Detail}") : "starting";
        return snapshot.RuntimeStatus switch
        {
            WorkflowStatus.Failed => $"Failed ({snapshot.Failure})",
            WorkflowStatus.Terminated => "Terminated",
            _ => $"{snapshot.RuntimeStatus} - {stage}",
        };
    }

    /// <summary>The awaited approvers, e.g. "principal investigator: claire.dubois@... (expires 2026-12-23)".</summary>
    public static IEnumerable<string> DescribeAwaiting(IntakeSnapshot snapshot) =>
        snapshot.Awaiting.Select(a => $"{a.Role}: {string.Join(", ", a.Awaiting)}"
            + (a.ExpiresAt is { } expires ? string.Create(CultureInfo.InvariantCulture, $" (expires {expires:yyyy-MM-dd})") : string.Empty)
            + (a.Escalated ? " [escalated]" : string.Empty)
            + (a.LastRefusal is null ? string.Empty : $" [last attempt refused: {a.LastRefusal}]")
            + (a.Undelivered is not { Count: > 0 } undelivered
                ? string.Empty
                : " [not delivered: "
                    + string.Join("; ", undelivered.Select(f => $"{f.Kind} to {string.Join(", ", f.To)}: {f.Reason}"))
                    + "]"));

    public static void Render(IAnsiConsole console, IntakeSnapshot snapshot, bool withContainers = true)
    {
        var header = new Grid().AddColumn().AddColumn();
        Pair(header, "DMP", snapshot.DmpId ?? "?");
        Pair(header, "Title", snapshot.Registry?.Title ?? "-");
        Pair(header, snapshot.Workflow == nameof(UpdateDmpWorkflow) ? "Update" : "Intake", $"{snapshot.InstanceId}: {Describe(snapshot)}");
        if (snapshot.Registry is { } dmp)
        {
            Pair(
                header,
                "Registry",
                $"{dmp.State}"
                    + (dmp.Modified is { } version ? $", version {version:O}" : string.Empty)
                    + (dmp.StateReason is null ? string.Empty : $" ({dmp.StateReason})")
                    + (dmp.UpdatedAt is { } at ? $", {Time(at)}" : string.Empty));
            if (dmp.Queue.Count > 0)
            {
                Pair(header, "Waiting", dmp.Queue.Select(q => $"version {q.Modified:O} ({q.InstanceId}), since {Time(q.QueuedAt)}"));
            }
        }

        Pair(header, "Awaiting", snapshot.Awaiting.Count == 0 ? ["nobody"] : DescribeAwaiting(snapshot));
        console.Write(header);
        console.WriteLine();

        if (snapshot.Approvals.Count > 0)
        {
            var approvals = new Table().Title("Approvals")
                .AddColumn("Role")
                .AddColumn("Approver")
                .AddColumn("Decision")
                .AddColumn("Decided by")
                .AddColumn("When")
                .AddColumn("Comment");
            foreach (var a in snapshot.Approvals)
            {
                approvals.AddRow(
                    Cell(a.Role),
                    Cell(a.Approver),
                    Cell(a.Decision.ToString()),
                    Cell(a.OnBehalfOf is null ? a.DecidedBy : $"{a.DecidedBy} on behalf of {a.OnBehalfOf}"),
                    Cell(a.DecidedAt is { } d ? Time(d) : null),
                    Cell(a.Comment));
            }

            console.Write(approvals);
        }

        if (snapshot.Datasets.Count > 0)
        {
            var datasets = new Table().Title("Datasets and their containers")
                .AddColumn("Dataset").AddColumn(new TableColumn("Container").NoWrap()).AddColumn("State")
                .AddColumn("Keep until").AddColumn("Disposal").AddColumn("Data").AddColumn("Controls in force (read back)");
            var containers = new Table().Title("Containers as stored (metadata gardien_*)").AddColumn(new TableColumn("Container").NoWrap())
                .AddColumn("Metadata");

            foreach (var view in snapshot.Datasets)
            {
                var d = view.Dataset;
                var data = string.Join(
                    ", ",
                    new[]
                    {
                        d.PersonalData ? "personal" : null,
                        d.SensitiveData ? "sensitive" : null,
                        d.LegalHold ? "legal hold" : null,
                    }.OfType<string>());
                datasets.AddRow(
                    Cell(ShortId(d.DatasetId)),
                    Cell(d.Container),
                    Cell(view.Container is null ? d.State + " (container missing)" : d.State.ToString()),
                    Cell(d.KeepUntil?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) ?? "keep"),
                    Cell(d.Disposal.ToString()),
                    Cell(data.Length == 0 ? "-" : data),
                    Cell(DescribeControls(d)));
                if (view.Container is { } container)
                {
                    containers.AddRow(Cell(container.Name), Cell(DescribeMetadata(container.Metadata)));
                }
            }

            console.Write(datasets);
            if (withContainers && containers.Rows.Count > 0)
            {
                console.Write(containers);
            }
        }

        if (snapshot.Grants.Count > 0)
        {
            // A person-by-dataset matrix reads better than one row per grant; `status --json` has every grant in full.
            var datasetIds = snapshot.Grants.Select(g => g.DatasetId).Distinct(StringComparer.Ordinal).ToList();
            var grants = new Table().Title("Access grants (active; level per dataset)").AddColumn("Principal");
            foreach (var id in datasetIds)
            {
                grants.AddColumn(ShortId(id));
            }

            grants.AddColumn("Ends on").AddColumn("Justified by approvals");
            foreach (var person in snapshot.Grants.Where(g => g.State == GrantState.Active)
                .GroupBy(g => g.PrincipalId, StringComparer.Ordinal))
            {
                var row = new List<Spectre.Console.Rendering.IRenderable> { Cell(person.Key) };
                row.AddRange(datasetIds.Select(id => Cell(person.FirstOrDefault(g => g.DatasetId == id)?.Level.ToString())));
                row.Add(
                    Cell(
                        string.Join(
                            ", ", person.Select(g => g.EndsOn?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) ?? "-").Distinct())));
                row.Add(
                    Cell(
                        string.Join(", ", person.SelectMany(g => g.ApprovalIds).Select(id => id[(id.LastIndexOf(':') + 1)..]).Distinct())));
                grants.AddRow(row);
            }

            console.Write(grants);
            var revoked = snapshot.Grants.Count(g => g.State == GrantState.Revoked);
            if (revoked > 0)
            {
                console.WriteLine($"{revoked} revoked grant(s) not shown (see gardien status --json).");
            }
        }

        var notEnforced = snapshot.Registry?.NotEnforcedLocally ?? snapshot.Result?.NotEnforcedLocally ?? [];
        if (notEnforced.Count > 0)
        {
            var table = new Table().Title("Recorded but NOT enforced locally (Azurite lacks them; the Azure adapters enforce them)")
                .AddColumn("Feature")
                .AddColumn("Why")
                .AddColumn("Recorded as");
            foreach (var f in notEnforced)
            {
                table.AddRow(Cell(f.Feature), Cell(f.Reason), Cell(f.RecordedAs));
            }

            console.Write(table);
        }

        foreach (var warning in snapshot.Result?.Warnings ?? [])
        {
            console.WriteLine("warning: " + UntrustedText.Console(warning));
        }
    }

    /// <summary>What the store reported in force when the dataset was last provisioned or locked, and what it could not enforce.</summary>
    public static string DescribeControls(DatasetRecord dataset)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        if (dataset.Controls is not { } controls)
        {
            return "not read yet";
        }

        var enforced = controls.Enforced.Count == 0 ? "none" : string.Join(", ", controls.Enforced);
        if (controls.ImmutabilityDays is { } days)
        {
            enforced += $" (immutable {days} d, {(controls.ImmutabilityLocked ? "locked" : "unlocked")})";
        }

        var lockDue = dataset.ImmutabilityLockDue is { } due && !controls.ImmutabilityLocked
            ? $"; lock due {due.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}"
            : string.Empty;
        var missing = controls.NotEnforced.Select(f => f.Feature).Distinct(StringComparer.Ordinal).ToList();
        return enforced + lockDue + (missing.Count == 0 ? string.Empty : "; not enforced: " + string.Join(", ", missing));
    }

    /// <summary>The inbox, oldest first, with the tokens of approval links and whether each request is still open.</summary>
    public static async Task<IReadOnlyList<InboxEntry>> LoadInboxAsync(
        GardienLocalHost host,
        string? recipient,
        CancellationToken cancellationToken) =>
        [.. (await InboxView.LoadAsync(host.Inbox, host.Client, recipient, cancellationToken)).Reverse()];

    public static string Time(DateTimeOffset value) => value.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) + "Z";

    /// <summary>A table cell of one line: text from a DMP or a person (titles, names, comments, reasons) cannot break out of it.</summary>
    public static Markup Cell(string? text) => new(Markup.Escape(string.IsNullOrEmpty(text) ? "-" : UntrustedText.Console(text)));

    /// <summary>A table cell of several lines, each neutralised as one line.</summary>
    public static Markup Cell(IEnumerable<string?> lines) =>
        new(
            Markup.Escape(
                string.Join("\n", lines.Select(l => string.IsNullOrEmpty(l) ? "-" : UntrustedText.Console(l))) is { Length: > 0 } text
                    ? text
                    : "-"));

    private static void Pair(Grid grid, string name, string value) => Pair(grid, name, [value]);

    private static void Pair(Grid grid, string name, IEnumerable<string> lines) =>
        grid.AddRow(new Markup(Markup.Escape(name)), Cell(lines));

    /// <summary>The last path segment of a URL-like id ("https://doi.org/10.1/x.raw" gives "x.raw"), for display only.</summary>
    public static string ShortId(string id)
    {
        var trimmed = id.TrimEnd('/');
        var last = trimmed[(trimmed.LastIndexOf('/') + 1)..];
        return last.Length == 0 ? id : last;
    }

    /// <summary>Gardien's container metadata, decoded, without what the other columns already show.</summary>
    private static string DescribeMetadata(IReadOnlyDictionary<string, string> metadata) =>
        string.Join(", ", metadata
            .Where(m => m.Key is not ("gardien_dmp_id" or "gardien_dataset_id"))
            .OrderBy(m => m.Key, StringComparer.Ordinal)
            .Select(
                m =>
                    $"{(m.Key.StartsWith("gardien_", StringComparison.Ordinal) ? m.Key["gardien_".Length..] : m.Key)}"
                    + $"={Uri.UnescapeDataString(m.Value)}"));
}
