using System.Text.Json.Nodes;
using WireMock;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Types;
using WireMock.Util;

namespace Gardien.Azure.Tests.Fakes;

/// <summary>
/// A stateful fake of the Microsoft.Storage management plane for one account, answering as the ARM REST API documents:
/// containers (with legal hold and immutability policy), immutability policy create / lock / extend with ETags,
/// setLegalHold / clearLegalHold, encryption scopes, the lifecycle management policy, and role assignments on a
/// container's scope (Microsoft.Authorization, create / read / list / delete).
/// </summary>
public sealed class FakeStorageArm : IDisposable
{
    private readonly object _gate = new();
    private int _etag;

    public FakeStorageArm()
    {
        Arm = new FakeArm();
        Arm.Server.Given(Request.Create().WithPath(p => p.StartsWith(FakeArm.AccountId, StringComparison.Ordinal))).AtPriority(100)
            .RespondWith(Response.Create().WithCallback(Handle));
    }

    public FakeArm Arm { get; }

    public Dictionary<string, ContainerRecord> Containers { get; } = new(StringComparer.Ordinal);

    public HashSet<string> EncryptionScopes { get; } = new(StringComparer.Ordinal);

    public JsonArray? LifecycleRules { get; set; }

    /// <summary>Role assignments by container, then by assignment name (a GUID).</summary>
    public Dictionary<string, Dictionary<string, JsonObject>> RoleAssignments { get; } = new(StringComparer.Ordinal);

    /// <summary>Containers ARM must report as missing.</summary>
    public HashSet<string> Missing { get; } = new(StringComparer.Ordinal);

    public IReadOnlyList<WireMock.Logging.ILogEntry> Writes =>
        [.. Arm.Requests.Where(r => r.RequestMessage.Method is "PUT" or "POST" or "DELETE")];

    public void Dispose() => Arm.Dispose();

    public sealed class ContainerRecord
    {
        public string? DefaultEncryptionScope { get; set; } = "$account-encryption-key";
        public bool DenyOverride { get; set; }
        public List<string> HoldTags { get; } = [];
        public int? ImmutabilityDays { get; set; }
        public string? ImmutabilityState { get; set; }
        public string? ImmutabilityETag { get; set; }
    }

    private IResponseMessage Handle(IRequestMessage request)
    {
        lock (_gate)
        {
            var rest = request.Path[FakeArm.AccountId.Length..];
            var body = string.IsNullOrEmpty(request.Body) ? null : JsonNode.Parse(request.Body);
            request.Headers!.TryGetValue("If-Match", out var ifMatchValues);
            var ifMatch = ifMatchValues?.FirstOrDefault();
            var parts = rest.Split('/', StringSplitOptions.RemoveEmptyEntries);
            return (request.Method, parts) switch
            {
                ("GET", ["blobServices", "default", "containers", var c]) => Missing.Contains(c)
                    ? Json(404, FakeArm.Error("ContainerNotFound"))
                    : Json(200, ContainerJson(c, Record(c))),
                ("PUT", ["blobServices", "default", "containers", var c, "immutabilityPolicies", "default"]) => PutPolicy(
                    Record(c), body!, ifMatch),
                ("POST", ["blobServices", "default", "containers", var c, "immutabilityPolicies", "default", "lock"]) => LockPolicy(
                    Record(c), ifMatch),
                ("POST", ["blobServices", "default", "containers", var c, "immutabilityPolicies", "default", "extend"]) => ExtendPolicy(
                    Record(c), body!, ifMatch),
                ("POST", ["blobServices", "default", "containers", var c, "setLegalHold"]) => Hold(Record(c), body!, set: true),
                ("POST", ["blobServices", "default", "containers", var c, "clearLegalHold"]) => Hold(Record(c), body!, set: false),
                ("GET", ["encryptionScopes", var s]) => EncryptionScopes.Contains(s)
                    ? Json(
                        200,
                        new JsonObject
                        {
                            ["name"] = s,
                            ["properties"] = new JsonObject { ["source"] = "Microsoft.Storage", ["state"] = "Enabled" },
                        })
                    : Json(404, FakeArm.Error("EncryptionScopeNotFound")),
                ("PUT", ["encryptionScopes", var s]) => CreateScope(s, body!),
                ("GET", ["managementPolicies", "default"]) => LifecycleRules is null
                    ? Json(404, FakeArm.Error("ManagementPolicyNotFound"))
                    : Json(
                        200,
                        new JsonObject
                        {
                            ["name"] = "DefaultManagementPolicy",
                            ["properties"] = new JsonObject { ["policy"] = new JsonObject { ["rules"] = LifecycleRules.DeepClone() } },
                        }),
                ("PUT", ["managementPolicies", "default"]) => PutPolicyRules(body!),
                ("DELETE", ["managementPolicies", "default"]) => DeletePolicyRules(),
                ("GET", ["blobServices", "default", "containers", var c, "providers", "Microsoft.Authorization", "roleAssignments"]) =>
                    Json(200, new JsonObject { ["value"] = new JsonArray([.. Assignments(c).Values.Select(a => a.DeepClone())]) }),
                ("GET", ["blobServices", "default", "containers", var c, "providers", "Microsoft.Authorization", "roleAssignments",
                        var name]) =>
                    Assignments(c).TryGetValue(name, out var found)
                        ? Json(200, found.DeepClone())
                        : Json(404, FakeArm.Error("RoleAssignmentNotFound")),
                ("PUT", ["blobServices", "default", "containers", var c, "providers", "Microsoft.Authorization", "roleAssignments",
                        var name]) =>
                    PutAssignment(request.Path, c, name, body!),
                ("DELETE", ["blobServices", "default", "containers", var c, "providers", "Microsoft.Authorization", "roleAssignments",
                        var name]) =>
                    Assignments(c).Remove(name, out var removed) ? Json(200, removed) : new ResponseMessage { StatusCode = 204 },
                _ => Json(400, FakeArm.Error("InvalidResourceType", $"The fake does not know {request.Method} {rest}.")),
            };
        }
    }

    private ContainerRecord Record(string container)
    {
        if (!Containers.TryGetValue(container, out var record))
        {
            Containers[container] = record = new ContainerRecord();
        }

        return record;
    }

    private static JsonObject ContainerJson(string name, ContainerRecord record)
    {
        var properties = new JsonObject
        {
            ["defaultEncryptionScope"] = record.DefaultEncryptionScope,
            ["denyEncryptionScopeOverride"] = record.DenyOverride,
            ["publicAccess"] = "None",
            ["hasLegalHold"] = record.HoldTags.Count > 0,
            ["hasImmutabilityPolicy"] = record.ImmutabilityDays is not null,
            ["legalHold"] = new JsonObject
            {
                ["hasLegalHold"] = record.HoldTags.Count > 0,
                ["tags"] = new JsonArray(
                    [.. record.HoldTags.Select(t => (JsonNode)new JsonObject { ["tag"] = t, ["timestamp"] = "2026-01-01T00:00:00Z" })]),
            },
        };
        if (record.ImmutabilityDays is { } days)
        {
            properties["immutabilityPolicy"] = new JsonObject
            {
                ["etag"] = record.ImmutabilityETag,
                ["properties"] = new JsonObject { ["immutabilityPeriodSinceCreationInDays"] = days, ["state"] = record.ImmutabilityState },
            };
        }

        return new JsonObject
        {
            ["id"] = FakeArm.ContainerId(name),
            ["name"] = name,
            ["type"] = "Microsoft.Storage/storageAccounts/blobServices/containers",
            ["properties"] = properties,
        };
    }

    private IResponseMessage PutPolicy(ContainerRecord record, JsonNode body, string? ifMatch)
    {
        if (record.ImmutabilityState == "Locked")
        {
            return Json(409, FakeArm.Error("ImmutabilityPolicyLocked"));
        }

        if (record.ImmutabilityDays is not null && ifMatch != record.ImmutabilityETag)
        {
            return Json(412, FakeArm.Error("ConditionNotMet"));
        }

        record.ImmutabilityDays = body["properties"]!["immutabilityPeriodSinceCreationInDays"]!.GetValue<int>();
        record.ImmutabilityState = "Unlocked";
        record.ImmutabilityETag = $"\"{++_etag}\"";
        return PolicyJson(record);
    }

    private IResponseMessage LockPolicy(ContainerRecord record, string? ifMatch)
    {
        if (record.ImmutabilityDays is null || ifMatch != record.ImmutabilityETag)
        {
            return Json(412, FakeArm.Error("ConditionNotMet"));
        }

        record.ImmutabilityState = "Locked";
        record.ImmutabilityETag = $"\"{++_etag}\"";
        return PolicyJson(record);
    }

    private IResponseMessage ExtendPolicy(ContainerRecord record, JsonNode body, string? ifMatch)
    {
        var days = body["properties"]!["immutabilityPeriodSinceCreationInDays"]!.GetValue<int>();
        if (record.ImmutabilityState != "Locked" || ifMatch != record.ImmutabilityETag || days < record.ImmutabilityDays)
        {
            return Json(400, FakeArm.Error("InvalidImmutabilityPolicyExtension"));
        }

        record.ImmutabilityDays = days;
        record.ImmutabilityETag = $"\"{++_etag}\"";
        return PolicyJson(record);
    }

    private static IResponseMessage PolicyJson(ContainerRecord record) => Json(200, new JsonObject
    {
        ["etag"] = record.ImmutabilityETag,
        ["properties"] = new JsonObject
        {
            ["immutabilityPeriodSinceCreationInDays"] = record.ImmutabilityDays,
            ["state"] = record.ImmutabilityState,
        },
    });

    private static IResponseMessage Hold(ContainerRecord record, JsonNode body, bool set)
    {
        foreach (var tag in body["tags"]!.AsArray().Select(t => t!.GetValue<string>()))
        {
            if (set && !record.HoldTags.Contains(tag))
            {
                record.HoldTags.Add(tag);
            }
            else if (!set)
            {
                record.HoldTags.Remove(tag);
            }
        }

        return Json(
            200,
            new JsonObject
            {
                ["hasLegalHold"] = record.HoldTags.Count > 0,
                ["tags"] = new JsonArray([.. record.HoldTags.Select(t => (JsonNode)JsonValue.Create(t))]),
            });
    }

    private IResponseMessage CreateScope(string scope, JsonNode body)
    {
        if (body["properties"]?["source"]?.GetValue<string>() != "Microsoft.Storage")
        {
            return Json(400, FakeArm.Error("InvalidEncryptionScopeSource"));
        }

        EncryptionScopes.Add(scope);
        return Json(201, new JsonObject { ["name"] = scope, ["properties"] = body["properties"]!.DeepClone() });
    }

    private IResponseMessage PutPolicyRules(JsonNode body)
    {
        var rules = body["properties"]?["policy"]?["rules"] as JsonArray;
        if (rules is null || rules.Count == 0 || rules.Count > 100)
        {
            return Json(400, FakeArm.Error("InvalidManagementPolicy"));
        }

        LifecycleRules = (JsonArray)rules.DeepClone();
        return Json(
            200, new JsonObject { ["properties"] = new JsonObject { ["policy"] = new JsonObject { ["rules"] = rules.DeepClone() } } });
    }

    private IResponseMessage DeletePolicyRules()
    {
        var existed = LifecycleRules is not null;
        LifecycleRules = null;
        return new ResponseMessage { StatusCode = existed ? 200 : 204 };
    }

    private Dictionary<string, JsonObject> Assignments(string container)
    {
        if (!RoleAssignments.TryGetValue(container, out var assignments))
        {
            RoleAssignments[container] = assignments = new Dictionary<string, JsonObject>(StringComparer.OrdinalIgnoreCase);
        }

        return assignments;
    }

    private IResponseMessage PutAssignment(string path, string container, string name, JsonNode body)
    {
        var assignments = Assignments(container);
        var properties = body["properties"]!;
        if (assignments.Values.Any(a => (string?)a["properties"]!["principalId"] == (string?)properties["principalId"]
            && (string?)a["properties"]!["roleDefinitionId"] == (string?)properties["roleDefinitionId"] && (string?)a["name"] != name))
        {
            return Json(409, FakeArm.Error("RoleAssignmentExists", "The role assignment already exists."));
        }

        var scope = path[..path.IndexOf("/providers/Microsoft.Authorization", StringComparison.Ordinal)];
        var assignment = new JsonObject
        {
            ["id"] = path,
            ["name"] = name,
            ["type"] = "Microsoft.Authorization/roleAssignments",
            ["properties"] = new JsonObject
            {
                ["principalId"] = (string?)properties["principalId"],
                ["principalType"] = (string?)properties["principalType"],
                ["roleDefinitionId"] = (string?)properties["roleDefinitionId"],
                ["scope"] = scope,
            },
        };
        assignments[name] = assignment;
        return Json(201, assignment.DeepClone());
    }

    private static IResponseMessage Json(int status, JsonNode body)
    {
        var message = new ResponseMessage
        {
            StatusCode = status,
            BodyData = new BodyData { BodyAsString = body.ToJsonString(), DetectedBodyType = BodyType.String },
        };
        message.AddHeader("Content-Type", "application/json");
        return message;
    }
}
