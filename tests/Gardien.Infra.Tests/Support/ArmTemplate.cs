using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Gardien.Infra.Tests.Support;

/// <summary>One template level: the root template or a module's inline template, with the parameter values its caller passes.</summary>
public sealed class ArmScope(JsonObject template, IReadOnlyDictionary<string, JsonNode?> provided, ArmScope? parent, string path)
{
    public JsonObject Template { get; } = template;

    /// <summary>
    /// Values the caller passes (still expressions of the caller's scope); empty for the root unless a parameter file is applied.
    /// </summary>
    public IReadOnlyDictionary<string, JsonNode?> Provided { get; } = provided;

    public ArmScope? Parent { get; } = parent;

    /// <summary>Module path, e.g. "main/functionapp".</summary>
    public string Path { get; } = path;

    public JsonObject Parameters => Template["parameters"] as JsonObject ?? [];

    public JsonObject Outputs => Template["outputs"] as JsonObject ?? [];
}

/// <summary>A resource anywhere in the compiled template tree.</summary>
public sealed record ArmResource(string Type, JsonObject Json, ArmScope Scope)
{
    public string Name => Json["name"]?.ToString() ?? "";

    public string? Condition => Json["condition"]?.ToString();

    /// <summary>The raw node at a property path such as "properties", "siteConfig", "minTlsVersion".</summary>
    public JsonNode? Raw(params string[] path)
    {
        JsonNode? node = Json;
        foreach (var segment in path)
        {
            node = node is JsonObject obj ? obj[segment] : null;
        }

        return node;
    }

    /// <summary>The node at a property path with parameter/variable references followed up through the module chain.</summary>
    public JsonNode? Value(params string[] path) => ArmTemplate.Resolve(Raw(path), Scope);

    public override string ToString() => $"{Type} '{Name}' in {Scope.Path}";
}

/// <summary>
/// Reads a compiled ARM template (bicep build output) and its nested module deployments, and follows simple
/// "[parameters('x')]" / "[variables('x')]" references to the literal a caller or default supplies.
/// </summary>
public sealed partial class ArmTemplate
{
    private ArmTemplate(ArmScope root, IReadOnlyList<ArmResource> resources, IReadOnlyList<ArmScope> scopes)
    {
        Root = root;
        Resources = resources;
        Scopes = scopes;
    }

    public ArmScope Root { get; }

    /// <summary>Every resource at every module level (module deployments included).</summary>
    public IReadOnlyList<ArmResource> Resources { get; }

    /// <summary>The root scope and every module scope.</summary>
    public IReadOnlyList<ArmScope> Scopes { get; }

    public static ArmTemplate Parse(string json, string rootName, IReadOnlyDictionary<string, JsonNode?>? parameterValues = null)
    {
        var template = JsonNode.Parse(json)?.AsObject() ?? throw new InvalidOperationException("Empty template");
        var root = new ArmScope(template, parameterValues ?? new Dictionary<string, JsonNode?>(), null, rootName);
        var resources = new List<ArmResource>();
        var scopes = new List<ArmScope>();
        Walk(root, resources, scopes);
        return new ArmTemplate(root, resources, scopes);
    }

    public IEnumerable<ArmResource> OfType(string type) =>
        Resources.Where(resource => string.Equals(resource.Type, type, StringComparison.OrdinalIgnoreCase));

    public ArmResource Single(string type) => Assert.Single(OfType(type));

    /// <summary>The module deployment resource whose (literal) name is <paramref name="name"/>.</summary>
    public ArmResource Module(string name) =>
        Assert.Single(OfType("Microsoft.Resources/deployments"), resource => resource.Name == name);

    public static JsonNode? Resolve(JsonNode? value, ArmScope scope)
    {
        for (var hops = 0; hops < 32 && value is JsonValue && value.GetValueKind() == System.Text.Json.JsonValueKind.String; hops++)
        {
            var text = value.GetValue<string>();
            var parameter = ParameterReference().Match(text);
            var variable = VariableReference().Match(text);
            if (parameter.Success)
            {
                var name = parameter.Groups[1].Value;
                if (scope.Provided.TryGetValue(name, out var provided))
                {
                    if (scope.Parent is null)
                    {
                        return provided;
                    }

                    value = provided;
                    scope = scope.Parent;
                    continue;
                }

                var fallback = (scope.Parameters[name] as JsonObject)?["defaultValue"];
                if (fallback is null)
                {
                    return value;
                }

                value = fallback;
            }
            else if (variable.Success)
            {
                var found = (scope.Template["variables"] as JsonObject)?[variable.Groups[1].Value];
                if (found is null)
                {
                    return value;
                }

                value = found;
            }
            else
            {
                return value;
            }
        }

        return value;
    }

    private static void Walk(ArmScope scope, List<ArmResource> resources, List<ArmScope> scopes)
    {
        scopes.Add(scope);
        foreach (var node in EnumerateResources(scope.Template))
        {
            var type = node["type"]?.ToString() ?? "";
            var resource = new ArmResource(type, node, scope);
            resources.Add(resource);
            if (type == "Microsoft.Resources/deployments" && resource.Raw("properties", "template") is JsonObject inner)
            {
                var provided = new Dictionary<string, JsonNode?>();
                if (resource.Raw("properties", "parameters") is JsonObject parameters)
                {
                    foreach (var (name, parameter) in parameters)
                    {
                        // A conditional value compiles to one expression string instead of {"value": ...}.
                        provided[name] = parameter is JsonObject wrapper ? wrapper["value"] : parameter;
                    }
                }

                Walk(new ArmScope(inner, provided, scope, scope.Path + "/" + resource.Name), resources, scopes);
            }
        }
    }

    private static IEnumerable<JsonObject> EnumerateResources(JsonObject template) => template["resources"] switch
    {
        JsonArray array => array.OfType<JsonObject>(),
        // languageVersion 2.0 templates key resources by symbolic name.
        JsonObject map => map.Select(pair => pair.Value).OfType<JsonObject>(),
        _ => [],
    };

    [GeneratedRegex(@"^\[parameters\('([^']+)'\)\]$")]
    private static partial Regex ParameterReference();

    [GeneratedRegex(@"^\[variables\('([^']+)'\)\]$")]
    private static partial Regex VariableReference();
}
