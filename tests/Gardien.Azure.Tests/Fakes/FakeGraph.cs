using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using WireMock;
using WireMock.Matchers;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Gardien.Azure.Tests.Fakes;

/// <summary>
/// A fake Microsoft Graph v1.0 on 127.0.0.1 holding users, groups and memberships, speaking the documented requests the
/// adapters make (users and their $filter forms, security groups with mailNickname / uniqueName, members@odata.bind,
/// members/$ref, sendActivityNotification, sendMail) with Graph's status codes and error bodies. Every request must carry
/// the bearer token. <see cref="Fail"/> queues faults in front of the state.
/// </summary>
public sealed partial class FakeGraph : IDisposable
{
    private readonly object _gate = new();
    private readonly List<Fault> _faults = [];
    private int _nextId;

    public FakeGraph()
    {
        Loopback = Loopback.Http();
        Loopback.Server.Given(Request.Create().WithPath(new WildcardMatcher("/*")))
            .AtPriority(10)
            .RespondWith(Response.Create().WithCallback(Handle));
    }

    public Loopback Loopback { get; }

    public Uri BaseUrl => new(Loopback.Uri, "v1.0");

    public List<FakeUser> Users { get; } = [];

    public Dictionary<string, FakeGroup> Groups { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Users who do not have the Gardien Teams app: their activity notifications get 403.</summary>
    public HashSet<string> WithoutTeamsApp { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Activity notifications accepted: (user id, body).</summary>
    public List<(string UserId, JsonObject Body)> Activities { get; } = [];

    /// <summary>Mails accepted: (sender, body).</summary>
    public List<(string Sender, JsonObject Body)> Mails { get; } = [];

    /// <summary>Groups a freshly created group stays invisible to member operations (replication delay), counted in requests.</summary>
    public int ReplicationLagRequests { get; set; }

    /// <summary>A copy of the accepted activity notifications and mails, safe to read while the fake serves requests.</summary>
    public (IReadOnlyList<(string UserId, JsonObject Body)> Activities, IReadOnlyList<(string Sender, JsonObject Body)> Mails) Delivered()
    {
        lock (_gate)
        {
            return ([.. Activities], [.. Mails]);
        }
    }

    /// <summary>Graph requests, oldest first (the test's own faults included).</summary>
    public IReadOnlyList<IRequestMessage> Requests => Loopback.Requests;

    public FakeUser AddUser(string displayName, string? mail, string upn, IReadOnlyList<string>? otherMails = null, string? orcid = null)
    {
        var user = new FakeUser(Guid.NewGuid().ToString(), displayName, mail, upn, otherMails ?? [], orcid);
        Users.Add(user);
        return user;
    }

    public FakeGroup AddGroup(
        string displayName,
        string mailNickname,
        bool securityEnabled = true,
        bool mailEnabled = false,
        DateTimeOffset? created = null)
    {
        var group = new FakeGroup(
            NewId(),
            displayName,
            "pre-existing",
            mailNickname,
            null,
            securityEnabled,
            mailEnabled,
            created ?? DateTimeOffset.UtcNow.AddDays(-30));
        Groups[group.Id] = group;
        return group;
    }

    /// <summary>The next <paramref name="times"/> requests matching answer with <paramref name="response"/> instead.</summary>
    public void Fail(string method, string pathContains, int times, Func<ResponseMessage> response)
    {
        lock (_gate)
        {
            _faults.Add(new Fault(method, pathContains, times, response));
        }
    }

    public static ResponseMessage Error(int status, string code, string message, params (string Name, string Value)[] headers) =>
        Loopback.Json(
            status, new JsonObject { ["error"] = new JsonObject { ["code"] = code, ["message"] = message } }.ToJsonString(), headers);

    public void Dispose() => Loopback.Dispose();

    private string NewId() => $"00000000-0000-0000-0000-{Interlocked.Increment(ref _nextId):D12}";

    private ResponseMessage Handle(IRequestMessage request)
    {
        lock (_gate)
        {
            if (Loopback.Header(request, "Authorization") != "Bearer " + FixedTokenCredential.Token)
            {
                return Error(401, "InvalidAuthenticationToken", "Access token is empty.");
            }

            var path = Uri.UnescapeDataString(request.Path);
            var fault = _faults.FirstOrDefault(
                f => f.Times > 0 && f.Method == request.Method && path.Contains(f.PathContains, StringComparison.Ordinal));
            if (fault is not null)
            {
                fault.Times--;
                return fault.Response();
            }

            var query = Loopback.Query(request);
            try
            {
                return Route(request.Method, path, query, request);
            }
            catch (JsonException)
            {
                return Error(400, "BadRequest", "Unable to read JSON request payload.");
            }
        }
    }

    private ResponseMessage Route(string method, string path, IReadOnlyDictionary<string, string> query, IRequestMessage request)
    {
        const string v = "/v1.0";
        if (!path.StartsWith(v, StringComparison.Ordinal))
        {
            return Error(400, "BadRequest", "Invalid version.");
        }

        var p = path[v.Length..];
        Match m;
        if (method == "GET" && p == "/users")
        {
            return UsersQuery(query, request);
        }

        if ((m = UserAction().Match(p)).Success && method == "POST")
        {
            return UserAction(m.Groups["id"].Value, m.Groups["action"].Value, request);
        }

        if (method == "GET" && (m = UserPath().Match(p)).Success)
        {
            var user = FindUser(m.Groups["id"].Value);
            return user is null
                ? Error(
                    404,
                    "Request_ResourceNotFound",
                    $"Resource '{m.Groups["id"].Value}' does not exist or one of its queried reference-property objects are not present.")
                : Loopback.Json(200, UserJson(user).ToJsonString());
        }

        if (p == "/groups" && method == "GET")
        {
            var filter = query.GetValueOrDefault("$filter") ?? string.Empty;
            var nick = NicknameFilter().Match(filter);
            if (!nick.Success)
            {
                return Error(400, "Request_UnsupportedQuery", "Unsupported query.");
            }

            var found = Groups.Values.Where(
                g => string.Equals(
                    g.MailNickname,
                    nick.Groups["v"].Value.Replace("''", "'", StringComparison.Ordinal),
                    StringComparison.OrdinalIgnoreCase) && Visible(g));
            return Collection(found.Select(GroupJson));
        }

        if (p == "/groups" && method == "POST")
        {
            return CreateGroup(JsonNode.Parse(request.Body!)!.AsObject());
        }

        if ((m = UniqueNamePath().Match(p)).Success && method == "GET")
        {
            var group = Groups.Values.FirstOrDefault(
                g => string.Equals(g.UniqueName, m.Groups["u"].Value, StringComparison.OrdinalIgnoreCase));
            return group is null || !Visible(group) ? NotFound(m.Groups["u"].Value) : Loopback.Json(200, GroupJson(group).ToJsonString());
        }

        if ((m = GroupPath().Match(p)).Success)
        {
            if (!Groups.TryGetValue(m.Groups["id"].Value, out var group) || !Visible(group))
            {
                return NotFound(m.Groups["id"].Value);
            }

            var rest = m.Groups["rest"].Value;
            return (method, rest) switch
            {
                ("GET", "") => Loopback.Json(200, GroupJson(group).ToJsonString()),
                ("PATCH", "") => PatchGroup(group, JsonNode.Parse(request.Body!)!.AsObject()),
                ("POST", "/members/$ref") => AddMemberRef(group, JsonNode.Parse(request.Body!)!.AsObject()),
                ("GET", "/members") => Collection(
                    group.Members.Select(id => new JsonObject { ["@odata.type"] = "#microsoft.graph.user", ["id"] = id })),
                ("GET", "/members/microsoft.graph.user" or "/members/graph.user") => Collection(
                    group.Members.Select(FindUser).OfType<FakeUser>().Select(UserJson)),
                _ when method == "DELETE" && MemberRef().Match(rest) is { Success: true } r => group.Members.Remove(r.Groups["uid"].Value)
                    ? Loopback.Empty(204)
                    : NotFound(r.Groups["uid"].Value),
                _ => Error(405, "Request_BadRequest", $"{method} {p} is not supported by the fake."),
            };
        }

        return Error(400, "BadRequest", $"Resource not found for the segment '{p}'.");
    }

    private ResponseMessage UsersQuery(IReadOnlyDictionary<string, string> query, IRequestMessage request)
    {
        var filter = query.GetValueOrDefault("$filter") ?? string.Empty;
        var advanced = filter.Contains("/any(", StringComparison.Ordinal) || filter.Contains("extension_", StringComparison.Ordinal);
        if (advanced && (Loopback.Header(request, "ConsistencyLevel") != "eventual" || query.GetValueOrDefault("$count") != "true"))
        {
            return Error(
                400,
                "Request_UnsupportedQuery",
                "Unsupported or invalid query filter clause specified for property 'otherMails' of resource 'User'.");
        }

        var clauses = filter.Split(" or ", StringSplitOptions.TrimEntries);
        var matches = Users.Where(u => clauses.Any(c => Matches(u, c))).ToList();
        return Collection(matches.Select(UserJson), count: matches.Count);
    }

    private static bool Matches(FakeUser user, string clause)
    {
        var any = AnyClause().Match(clause);
        if (any.Success)
        {
            return user.OtherMails.Contains(Unquote(any.Groups["v"].Value), StringComparer.OrdinalIgnoreCase);
        }

        var eq = EqClause().Match(clause);
        if (!eq.Success)
        {
            throw new InvalidOperationException($"Unsupported filter clause '{clause}'.");
        }

        var value = Unquote(eq.Groups["v"].Value);
        return eq.Groups["p"].Value switch
        {
            "mail" => string.Equals(user.Mail, value, StringComparison.OrdinalIgnoreCase),
            "userPrincipalName" => string.Equals(user.Upn, value, StringComparison.OrdinalIgnoreCase),
            var p when p.StartsWith("extension_", StringComparison.Ordinal) => string.Equals(
                user.Orcid, value, StringComparison.OrdinalIgnoreCase),
            _ => false,
        };
    }

    private static string Unquote(string quoted) => quoted.Replace("''", "'", StringComparison.Ordinal);

    private ResponseMessage UserAction(string userRef, string action, IRequestMessage request)
    {
        var user = FindUser(userRef);
        if (user is null)
        {
            return NotFound(userRef);
        }

        var body = JsonNode.Parse(request.Body!)!.AsObject();
        if (action == "teamwork/sendActivityNotification")
        {
            if (WithoutTeamsApp.Contains(user.Id))
            {
                return Error(403, "Forbidden", "Forbidden: the app is not installed for the user.");
            }

            Activities.Add((user.Id, body));
            return Loopback.Empty(204);
        }

        if (action == "sendMail")
        {
            // Action parameters are matched case-insensitively, as Graph does (the SDK sends "Message").
            var message = body.FirstOrDefault(p => string.Equals(p.Key, "message", StringComparison.OrdinalIgnoreCase)).Value as JsonObject;
            if (message?["toRecipients"] is not JsonArray { Count: > 0 } || message["subject"] is null || message["body"] is null)
            {
                return Error(400, "ErrorInvalidRecipients", "At least one recipient, a subject and a body are required.");
            }

            Mails.Add((userRef, body));
            return Loopback.Empty(202);
        }

        return Error(400, "BadRequest", "Unknown action.");
    }

    private ResponseMessage CreateGroup(JsonObject body)
    {
        var unique = body["uniqueName"]?.GetValue<string>();
        if (unique is not null && Groups.Values.Any(g => string.Equals(g.UniqueName, unique, StringComparison.OrdinalIgnoreCase)))
        {
            return Error(400, "Request_BadRequest", "Another object with the same value for property uniqueName already exists.");
        }

        if (body["mailNickname"]?.GetValue<string>() is not { Length: > 0 and <= 64 } nickname || body["displayName"] is null
            || body["securityEnabled"] is null || body["mailEnabled"] is null)
        {
            return Error(400, "Request_BadRequest", "Invalid value specified for property 'mailNickname' of resource 'Group'.");
        }

        var group = new FakeGroup(
            NewId(), body["displayName"]!.GetValue<string>(), body["description"]?.GetValue<string>(), nickname, unique,
            body["securityEnabled"]!.GetValue<bool>(), body["mailEnabled"]!.GetValue<bool>(), DateTimeOffset.UtcNow)
        {
            InvisibleFor = ReplicationLagRequests,
        };
        foreach (var owner in body["owners@odata.bind"]?.AsArray() ?? [])
        {
            group.Owners.Add(owner!.GetValue<string>());
        }

        Groups[group.Id] = group;
        return Loopback.Json(201, GroupJson(group, includeInvisible: true).ToJsonString());
    }

    private ResponseMessage PatchGroup(FakeGroup group, JsonObject body)
    {
        var binds = body["members@odata.bind"]?.AsArray().Select(n => n!.GetValue<string>()).ToList() ?? [];
        if (binds.Count > 20)
        {
            return Error(400, "Request_BadRequest", "The request exceeds the limit of 20 references in a single request.");
        }

        var ids = binds.Select(b => b[(b.LastIndexOf('/') + 1)..]).ToList();
        if (ids.Any(id => FindUser(id) is null))
        {
            return Error(
                404,
                "Request_ResourceNotFound",
                "Resource does not exist or one of its queried reference-property objects are not present.");
        }

        if (ids.Any(group.Members.Contains))
        {
            return Error(
                400,
                "Request_BadRequest",
                "One or more added object references already exist for the following modified properties: 'members'.");
        }

        group.Members.AddRange(ids);
        return Loopback.Empty(204);
    }

    private ResponseMessage AddMemberRef(FakeGroup group, JsonObject body)
    {
        var reference = body["@odata.id"]!.GetValue<string>();
        var id = reference[(reference.LastIndexOf('/') + 1)..];
        if (FindUser(id) is null)
        {
            return NotFound(id);
        }

        if (group.Members.Contains(id))
        {
            return Error(
                400,
                "Request_BadRequest",
                "One or more added object references already exist for the following modified properties: 'members'.");
        }

        group.Members.Add(id);
        return Loopback.Empty(204);
    }

    private bool Visible(FakeGroup group)
    {
        if (group.InvisibleFor <= 0)
        {
            return true;
        }

        group.InvisibleFor--;
        return false;
    }

    private FakeUser? FindUser(string idOrUpn) =>
        Users.FirstOrDefault(
            u => string.Equals(u.Id, idOrUpn, StringComparison.OrdinalIgnoreCase)
                || string.Equals(u.Upn, idOrUpn, StringComparison.OrdinalIgnoreCase));

    private static ResponseMessage NotFound(string what) =>
        Error(
            404,
            "Request_ResourceNotFound",
            $"Resource '{what}' does not exist or one of its queried reference-property objects are not present.");

    private static ResponseMessage Collection(IEnumerable<JsonObject> items, int? count = null)
    {
        var page = new JsonObject { ["value"] = new JsonArray([.. items]) };
        if (count is { } c)
        {
            page["@odata.count"] = c;
        }

        return Loopback.Json(200, page.ToJsonString());
    }

    private static JsonObject UserJson(FakeUser user)
    {
        var json = new JsonObject
        {
            ["id"] = user.Id,
            ["displayName"] = user.DisplayName,
            ["mail"] = user.Mail,
            ["userPrincipalName"] = user.Upn,
            ["otherMails"] = new JsonArray([.. user.OtherMails.Select(m => (JsonNode)m)]),
        };
        if (user.Orcid is not null)
        {
            json[OrcidAttribute] = user.Orcid;
        }

        return json;
    }

    private static JsonObject GroupJson(FakeGroup group) => GroupJson(group, includeInvisible: false);

    private static JsonObject GroupJson(FakeGroup group, bool includeInvisible) => new()
    {
        ["id"] = group.Id,
        ["displayName"] = group.DisplayName,
        ["description"] = group.Description,
        ["mailNickname"] = group.MailNickname,
        ["securityEnabled"] = group.SecurityEnabled,
        ["mailEnabled"] = group.MailEnabled,
        ["createdDateTime"] = group.Created.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
    };

    public const string OrcidAttribute = "extension_0a1b2c3d4e5f60718293a4b5c6d7e8f9_orcid";

    [GeneratedRegex(@"^/users/(?<id>[^/]+)/(?<action>teamwork/sendActivityNotification|sendMail)$")]
    private static partial Regex UserAction();

    [GeneratedRegex(@"^/users/(?<id>[^/]+)$")]
    private static partial Regex UserPath();

    [GeneratedRegex(@"^/groups\(uniqueName='(?<u>[^']+)'\)$")]
    private static partial Regex UniqueNamePath();

    [GeneratedRegex(@"^/groups/(?<id>[^/]+)(?<rest>/.*)?$")]
    private static partial Regex GroupPath();

    [GeneratedRegex(@"^/members/(?<uid>[^/]+)/\$ref$")]
    private static partial Regex MemberRef();

    [GeneratedRegex(@"^mailNickname eq '(?<v>(?:[^']|'')*)'$")]
    private static partial Regex NicknameFilter();

    [GeneratedRegex(@"^otherMails/any\(m:m eq '(?<v>(?:[^']|'')*)'\)$")]
    private static partial Regex AnyClause();

    [GeneratedRegex(@"^(?<p>\w+) eq '(?<v>(?:[^']|'')*)'$")]
    private static partial Regex EqClause();

    private sealed class Fault(string method, string pathContains, int times, Func<ResponseMessage> response)
    {
        public string Method { get; } = method;

        public string PathContains { get; } = pathContains;

        public int Times { get; set; } = times;

        public Func<ResponseMessage> Response { get; } = response;
    }
}

public sealed record FakeUser(string Id, string DisplayName, string? Mail, string Upn, IReadOnlyList<string> OtherMails, string? Orcid);

public sealed record FakeGroup(
    string Id,
    string DisplayName,
    string? Description,
    string MailNickname,
    string? UniqueName,
    bool SecurityEnabled,
    bool MailEnabled,
    DateTimeOffset Created)
{
    public List<string> Members { get; } = [];

    public List<string> Owners { get; } = [];

    public int InvisibleFor { get; set; }
}
