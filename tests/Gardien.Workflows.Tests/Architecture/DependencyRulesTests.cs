using System.Xml.Linq;
using Gardien.Testing;
using Gardien.Workflows;
using Gardien.Workflows.Hosting;

namespace Gardien.Workflows.Tests.Architecture;

/// <summary>
/// The core must run unchanged on Durable Functions: it may depend on the workflow port, never on the embedded engine or
/// a host, so that the Functions app can never ship the engine.
/// </summary>
public sealed class DependencyRulesTests
{
    private static readonly string[] EngineAndHostAssemblies =
    [
        "Gardien.Runtime",
        "Gardien.Local",
        "Gardien.Cli",
        "Gardien.Functions",
        "Gardien.Azure",
    ];

    [Fact]
    public void Core_CompiledAssembly_ReferencesOnlyThePortAmongGardienAssemblies()
    {
        var references = typeof(GardienWorkflowRegistration).Assembly.GetReferencedAssemblies().Select(a => a.Name!)
            .Where(n => n.StartsWith("Gardien.", StringComparison.Ordinal));

        Assert.Equal(["Gardien.Runtime.Abstractions"], references.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void HostServices_CompiledAssembly_ReferenceNeitherTheEngineNorAHost()
    {
        var references = typeof(GardienHostServicesRegistration).Assembly.GetReferencedAssemblies().Select(a => a.Name!)
            .ToHashSet(StringComparer.Ordinal);

        Assert.Empty(references.Intersect(EngineAndHostAssemblies));
        Assert.Contains("Gardien.Workflows", references);
    }

    [Theory]
    [InlineData("workflows/Gardien.Workflows/Gardien.Workflows.csproj", new[] { "Gardien.Runtime.Abstractions" })]
    [InlineData(
        "workflows/Gardien.Workflows.Hosting/Gardien.Workflows.Hosting.csproj",
        new[] { "Gardien.Runtime.Abstractions", "Gardien.Workflows" })]
    public void Project_References_OnlyWhatTheLayeringAllows(string project, string[] allowed)
    {
        var references = XDocument.Load(Path.Combine(RepoPaths.Root, project))
            .Descendants("ProjectReference")
            .Select(r => Path.GetFileNameWithoutExtension(r.Attribute("Include")!.Value.Replace('\\', '/')))
            .Order(StringComparer.Ordinal);

        Assert.Equal(allowed.Order(StringComparer.Ordinal), references);
    }

    [Fact]
    public void Core_PublicTypes_LiveInCapabilityOrSharedNamespaces()
    {
        string[] allowed =
        [
            "Gardien.Workflows", "Gardien.Workflows.Intake", "Gardien.Workflows.Approvals", "Gardien.Workflows.Provisioning",
            "Gardien.Workflows.Access", "Gardien.Workflows.Retention", "Gardien.Workflows.BlobEvents", "Gardien.Workflows.Audit",
            "Gardien.Workflows.Notifications", "Gardien.Workflows.Madmp", "Gardien.Workflows.Madmp.Opidor",
            "Gardien.Workflows.Governance", "Gardien.Workflows.Ports", "Gardien.Workflows.Text",
        ];
        var namespaces = typeof(GardienWorkflowRegistration).Assembly.GetExportedTypes().Select(t => t.Namespace!).Distinct();

        Assert.Empty(namespaces.Except(allowed));
    }

    [Theory]
    [InlineData("DmpSubmissionService")]
    [InlineData("DmpEventRouter")]
    [InlineData("ApprovalDecisionService")]
    [InlineData("RetentionService")]
    public void HostService_LivesOutsideTheDeterministicCore(string name)
    {
        Assert.DoesNotContain(typeof(GardienWorkflowRegistration).Assembly.GetExportedTypes(), t => t.Name == name);
        Assert.Contains(typeof(GardienHostServicesRegistration).Assembly.GetExportedTypes(), t => t.Name == name);
    }

    [Theory]
    [InlineData("P:System.DateTime.Now")]
    [InlineData("P:System.DateTime.UtcNow")]
    [InlineData("P:System.DateTime.Today")]
    [InlineData("P:System.DateTimeOffset.Now")]
    [InlineData("P:System.DateTimeOffset.UtcNow")]
    [InlineData("M:System.Guid.NewGuid")]
    [InlineData("T:System.Random")]
    [InlineData("M:System.Threading.Tasks.Task.Delay(System.TimeSpan)")]
    [InlineData("M:System.Threading.Tasks.Task.Run(System.Func{System.Threading.Tasks.Task})")]
    [InlineData("T:System.Threading.Thread")]
    [InlineData("T:System.Threading.Timer")]
    [InlineData("T:System.Timers.Timer")]
    [InlineData("T:System.Environment")]
    [InlineData("T:System.IO.File")]
    [InlineData("T:System.Net.Http.HttpClient")]
    [InlineData("M:System.Threading.Tasks.Task.ConfigureAwait(System.Boolean)")]
    [InlineData("M:System.Threading.Tasks.Task`1.ConfigureAwait(System.Boolean)")]
    public void Core_BansNonDeterministicApis_AsBuildErrors(string symbol)
    {
        var project = XDocument.Load(Path.Combine(RepoPaths.Root, "workflows/Gardien.Workflows/Gardien.Workflows.csproj"));
        var banned = File.ReadAllLines(Path.Combine(RepoPaths.Root, "workflows/Gardien.Workflows/BannedSymbols.txt"))
            .Where(l => !l.StartsWith("//", StringComparison.Ordinal)).Select(l => l.Split(';')[0].Trim());

        Assert.Contains(symbol, banned);
        Assert.Contains(
            project.Descendants("PackageReference"), r => r.Attribute("Include")?.Value == "Microsoft.CodeAnalysis.BannedApiAnalyzers");
        Assert.Contains(project.Descendants("AdditionalFiles"), f => f.Attribute("Include")?.Value == "BannedSymbols.txt");
        Assert.Contains("RS0030", project.Descendants("WarningsAsErrors").Single().Value, StringComparison.Ordinal);
    }
}
