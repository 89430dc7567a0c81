using Gardien.Runtime;
using Gardien.Workflows.Access;
using Gardien.Workflows.Ports;

namespace Gardien.Workflows.Tests.Workflows;

public sealed class AccessReviewWorkflowTests
{
    private const string Dmp = "https://doi.org/10.1234/health-study";

    private static (PortFakes Fakes, DatasetRecord Dataset) Project(DateOnly accessEndsOn)
    {
        var fakes = new PortFakes();
        var dataset = fakes.AddDataset(Dmp, "mri-raw", accessEndsOn.AddYears(10));
        foreach (var (id, name, level) in new[]
        {
            ("u-pi", "pi", AccessLevel.Owner),
            ("u-alice", "alice", AccessLevel.Contributor),
            ("u-bob", "bob", AccessLevel.Reader),
        })
        {
            fakes.Users[id] = new DirectoryUser(id, name, name + "@neuro-institute.example", null);
            fakes.Grants[(Dmp, "mri-raw", id)] = new GrantRecord
            {
                DmpId = Dmp,
                DatasetId = "mri-raw",
                PrincipalId = id,
                Level = level,
                State = GrantState.Active,
                EndsOn = level == AccessLevel.Owner ? null : accessEndsOn,
            };
            fakes.AddMember(AccessGroups.GroupName(dataset.Container, level), id);
        }

        return (fakes, dataset);
    }

    private static Task<string> StartAsync(WorkflowTestEnvironment host) =>
        host.Client.ScheduleNewAsync(
            nameof(AccessReviewWorkflow),
            new AccessReviewInput(Dmp, WorkflowTestEnvironment.Settings),
            AccessReviewWorkflow.InstanceIdFor(Dmp));

    [Fact]
    public async Task AccessReview_UnconfirmedMemberLosesAccessAfterTheDeadline_ConfirmedMemberKeepsIt()
    {
        var (fakes, dataset) = Project(WorkflowTestEnvironment.Today.AddYears(3));
        await using var host = await WorkflowTestEnvironment.StartAsync(fakes);
        var id = await StartAsync(host);

        var review = await host.RunUntilNotifiedAsync(id, n => n.Kind == NotificationKind.AccessReview);
        Assert.Equal(["pi@neuro-institute.example"], review.To);
        Assert.Equal(["Keep alice", "Remove alice", "Keep bob", "Remove bob"], review.Links.Select(l => l.Label));
        await host.DecideAsync(review, "approve", linkIndex: 0);
        await host.RunUntilNotifiedAsync(id, n => n.Kind == NotificationKind.Reminder);
        await host.RunUntilAsync(id, () => Task.FromResult(fakes.AuditEntries.Any(e => e.Action == "access_review.completed")));

        Assert.Equal(GrantState.Revoked, fakes.Grants[(Dmp, "mri-raw", "u-bob")].State);
        Assert.Contains("not confirmed", fakes.Grants[(Dmp, "mri-raw", "u-bob")].RevokedReason, StringComparison.Ordinal);
        Assert.DoesNotContain("u-bob", fakes.MembersOf(AccessGroups.GroupName(dataset.Container, AccessLevel.Reader)));
        Assert.Equal(GrantState.Active, fakes.Grants[(Dmp, "mri-raw", "u-alice")].State);
        Assert.NotNull(fakes.Grants[(Dmp, "mri-raw", "u-alice")].ConfirmedAt);
        Assert.Equal(GrantState.Active, fakes.Grants[(Dmp, "mri-raw", "u-pi")].State);
        var revokedAt = fakes.Grants[(Dmp, "mri-raw", "u-bob")].RevokedAt!.Value;
        Assert.True(revokedAt >= WorkflowTestEnvironment.Epoch.AddMonths(6).AddDays(14).Date, "revoked only after the review deadline");

        // One review per cycle: the instance continues as new and waits for the next review.
        await host.RunUntilAsync(
            id,
            async () => (await host.Client.GetInstanceAsync(id, getInputsAndOutputs: true))!.ReadInputAs<AccessReviewInput>()!.Cycle == 1);
        Assert.Equal(WorkflowStatus.Running, (await host.Client.GetInstanceAsync(id))!.Status);
    }

    [Fact]
    public async Task AccessReview_ProjectEndPlusGrace_RevokesEveryGrantAndEnds()
    {
        var (fakes, _) = Project(WorkflowTestEnvironment.Today.AddDays(40));
        await using var host = await WorkflowTestEnvironment.StartAsync(fakes);
        var id = await StartAsync(host);

        var done = await host.RunToCompletionAsync(id);

        var result = done.ReadOutputAs<AccessReviewResult>()!;
        Assert.Equal(AccessReviewOutcome.AccessEnded, result.Outcome);
        Assert.Equal(["u-alice", "u-bob", "u-pi"], result.Revoked.Order());
        Assert.All(fakes.Grants.Values, g => Assert.Equal(GrantState.Revoked, g.State));
        Assert.All(
            fakes.Grants.Values,
            g => Assert.True(
                DateOnly.FromDateTime(g.RevokedAt!.Value.UtcDateTime) > WorkflowTestEnvironment.Today.AddDays(40),
                "never before the last day of access"));
        Assert.Contains(fakes.AuditEntries, e => e.Action == "access.ended");
        Assert.DoesNotContain(fakes.Sent, n => n.Kind == NotificationKind.AccessReview);
    }

    [Fact]
    public async Task AccessReview_DmpNotActive_EndsWithoutTouchingAccess()
    {
        var (fakes, _) = Project(WorkflowTestEnvironment.Today.AddYears(1));
        fakes.Dmps[Dmp] = fakes.Dmps[Dmp] with { State = DmpState.Rejected };
        await using var host = await WorkflowTestEnvironment.StartAsync(fakes);
        var id = await StartAsync(host);

        var done = await host.RunToCompletionAsync(id);

        Assert.Equal(AccessReviewOutcome.DmpNotActive, done.ReadOutputAs<AccessReviewResult>()!.Outcome);
        Assert.All(fakes.Grants.Values, g => Assert.Equal(GrantState.Active, g.State));
    }

    [Fact]
    public async Task AccessReview_NoMemberYet_AsksNothingAndKeepsReviewingNextCycles()
    {
        var (fakes, _) = Project(WorkflowTestEnvironment.Today.AddYears(3));
        foreach (var key in fakes.Grants.Keys.Where(k => k.PrincipalId != "u-pi").ToList())
        {
            fakes.Grants.TryRemove(key, out _);
        }

        await using var host = await WorkflowTestEnvironment.StartAsync(fakes);
        var id = await StartAsync(host);

        await host.RunUntilAsync(
            id,
            async () => (await host.Client.GetInstanceAsync(id, getInputsAndOutputs: true))!.ReadInputAs<AccessReviewInput>()!.Cycle == 2);

        Assert.Equal(WorkflowStatus.Running, (await host.Client.GetInstanceAsync(id))!.Status);
        Assert.DoesNotContain(fakes.Sent, n => n.Kind == NotificationKind.AccessReview);
        Assert.Equal(GrantState.Active, fakes.Grants[(Dmp, "mri-raw", "u-pi")].State);
    }
}
