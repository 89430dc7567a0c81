using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Gardien.Workflows.Ports;

namespace Gardien.Local.Directory;

/// <summary>
/// <see cref="IDirectory"/> over a local JSON file of users, groups and role assignments (format:
/// samples/directory.sample.json). When the file does not exist it is seeded from <c>seedPath</c>. Every change is
/// written back atomically (temporary file + rename) and the file is re-read whenever it changed on disk, so the CLI
/// and the local host see each other's changes. Calls are serialised within the process; separate processes writing at
/// the same instant are not coordinated (last rename wins) — fine for a developer machine, not for production.
/// Role assignments are recorded in the file but enforce nothing: they are reported as not enforced locally.
/// </summary>
public sealed class JsonFileDirectory : IDirectory
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    private static readonly NotEnforcedFeature RoleAssignmentNotEnforced = new(
        GovernanceFeatures.RoleAssignment,
        "The local JSON directory records role assignments but no storage checks them; the Azure adapter creates them through ARM.",
        "directory file roleAssignments");

    private readonly string _path;
    private readonly string? _seedPath;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private ((string Path, DateTime WrittenAt, long Length) Stamp, DirectoryFile File)? _cached;

    public JsonFileDirectory(string path, string? seedPath = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        _path = Path.GetFullPath(path);
        _seedPath = seedPath is null ? null : Path.GetFullPath(seedPath);
    }

    /// <summary>The file this directory reads and writes.</summary>
    public string FilePath => _path;

    public Task<DirectoryUser?> FindUserAsync(string emailOrOrcid, CancellationToken cancellationToken = default) =>
        ReadAsync(file =>
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(emailOrOrcid);
            var needle = emailOrOrcid.Trim();
            var user = needle.Contains('@', StringComparison.Ordinal)
                ? file.Users.FirstOrDefault(u => string.Equals(u.Email?.Trim(), StripMailto(needle), StringComparison.OrdinalIgnoreCase))
                : file.Users.FirstOrDefault(
                    u => u.Orcid is not null
                        && string.Equals(NormaliseOrcid(u.Orcid), NormaliseOrcid(needle), StringComparison.OrdinalIgnoreCase));
            return user?.ToPort();
        }, cancellationToken);

    public Task<DirectoryUser?> GetUserAsync(string userId, CancellationToken cancellationToken = default) =>
        ReadAsync(
            file => file.Users.FirstOrDefault(u => string.Equals(u.Id, userId, StringComparison.Ordinal))?.ToPort(), cancellationToken);

    public Task<DirectoryGroup> EnsureGroupAsync(string groupName, string description, CancellationToken cancellationToken = default) =>
        UpdateAsync(file =>
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(groupName);
            var existing = file.Groups.FirstOrDefault(g => string.Equals(g.Name, groupName, StringComparison.OrdinalIgnoreCase));
            if (existing is not null)
            {
                return (existing.ToPort(), false);
            }

            var group = new GroupEntry
            {
                Id = "grp-" + ShortHash(groupName.ToUpperInvariant()),
                Name = groupName,
                Description = description,
            };
            file.Groups.Add(group);
            return (group.ToPort(), true);
        }, cancellationToken);

    public Task<DirectoryGroup?> FindGroupAsync(string groupName, CancellationToken cancellationToken = default) =>
        ReadAsync(
            file => file.Groups.FirstOrDefault(g => string.Equals(g.Name, groupName, StringComparison.OrdinalIgnoreCase))?.ToPort(),
            cancellationToken);

    public Task<bool> AddMemberAsync(string groupId, string userId, CancellationToken cancellationToken = default) =>
        UpdateAsync(file =>
        {
            var group = RequireGroup(file, groupId);
            if (!file.Users.Any(u => string.Equals(u.Id, userId, StringComparison.Ordinal)))
            {
                throw new PortNotFoundException($"User '{userId}' is not in the directory ({_path}).");
            }

            if (group.Members.Contains(userId, StringComparer.Ordinal))
            {
                return (false, false);
            }

            group.Members.Add(userId);
            return (true, true);
        }, cancellationToken);

    /// <summary>All the users join in one change of the file (one rewrite), checked first: an unknown user changes nothing.</summary>
    public Task<IReadOnlyList<string>> AddMembersAsync(
        string groupId,
        IReadOnlyList<string> userIds,
        CancellationToken cancellationToken = default) =>
        UpdateAsync<IReadOnlyList<string>>(file =>
        {
            ArgumentNullException.ThrowIfNull(userIds);
            var group = RequireGroup(file, groupId);
            var known = file.Users.Select(u => u.Id).ToHashSet(StringComparer.Ordinal);
            if (userIds.FirstOrDefault(id => !known.Contains(id)) is { } unknown)
            {
                throw new PortNotFoundException($"User '{unknown}' is not in the directory ({_path}).");
            }

            var members = group.Members.ToHashSet(StringComparer.Ordinal);
            var added = userIds.Distinct(StringComparer.Ordinal).Where(members.Add).ToList();
            group.Members.AddRange(added);
            return (added, added.Count > 0);
        }, cancellationToken);

    public Task<bool> RemoveMemberAsync(string groupId, string userId, CancellationToken cancellationToken = default) =>
        UpdateAsync(file =>
        {
            var removed = RequireGroup(file, groupId).Members.RemoveAll(m => string.Equals(m, userId, StringComparison.Ordinal)) > 0;
            return (removed, removed);
        }, cancellationToken);

    public Task<IReadOnlyList<DirectoryUser>> ListMembersAsync(string groupId, CancellationToken cancellationToken = default) =>
        ReadAsync<IReadOnlyList<DirectoryUser>>(file =>
        {
            var group = RequireGroup(file, groupId);
            return [.. group.Members
                .Select(
                    id => file.Users.FirstOrDefault(u => string.Equals(u.Id, id, StringComparison.Ordinal))?.ToPort()
                        ?? new DirectoryUser(id, id, null, null))];
        }, cancellationToken);

    public Task<RoleAssignmentResult> AssignRoleAsync(
        PrincipalRef principal,
        string scope,
        AccessLevel role,
        CancellationToken cancellationToken = default) =>
        UpdateAsync(file =>
        {
            ArgumentNullException.ThrowIfNull(principal);
            var id = AssignmentId(principal, scope, role);
            if (file.RoleAssignments.Any(a => a.Id == id))
            {
                return (new RoleAssignmentResult(id, false, [RoleAssignmentNotEnforced]), false);
            }

            file.RoleAssignments.Add(
                new RoleAssignmentEntry
                {
                    Id = id,
                    PrincipalId = principal.Id,
                    PrincipalKind = principal.Kind,
                    Scope = scope,
                    Role = role,
                });
            return (new RoleAssignmentResult(id, true, [RoleAssignmentNotEnforced]), true);
        }, cancellationToken);

    public Task<RoleAssignmentResult> RemoveRoleAssignmentAsync(
        PrincipalRef principal,
        string scope,
        AccessLevel role,
        CancellationToken cancellationToken = default) =>
        UpdateAsync(file =>
        {
            ArgumentNullException.ThrowIfNull(principal);
            var id = AssignmentId(principal, scope, role);
            var removed = file.RoleAssignments.RemoveAll(a => a.Id == id) > 0;
            return (new RoleAssignmentResult(id, removed, [RoleAssignmentNotEnforced]), removed);
        }, cancellationToken);

    public Task<IReadOnlyList<RoleAssignment>> ListRoleAssignmentsAsync(string scope, CancellationToken cancellationToken = default) =>
        ReadAsync<IReadOnlyList<RoleAssignment>>(file =>
            [.. file.RoleAssignments
                .Where(a => string.Equals(a.Scope, scope, StringComparison.Ordinal))
                .Select(a => new RoleAssignment(a.Id, new PrincipalRef(a.PrincipalId, a.PrincipalKind), a.Scope, a.Role))],
            cancellationToken);

    /// <summary>Deterministic: the same principal, scope and role always give the same id.</summary>
    internal static string AssignmentId(PrincipalRef principal, string scope, AccessLevel role) =>
        "ra-" + ShortHash($"{principal.Kind}|{principal.Id}|{scope}|{role}");

    private static string ShortHash(string value) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)))[..16];

    private static string StripMailto(string value) =>
        value.StartsWith("mailto:", StringComparison.OrdinalIgnoreCase) ? value[7..] : value;

    private static string NormaliseOrcid(string value)
    {
        var trimmed = value.Trim();
        var slash = trimmed.LastIndexOf('/');
        return slash >= 0 ? trimmed[(slash + 1)..] : trimmed;
    }

    private GroupEntry RequireGroup(DirectoryFile file, string groupId) =>
        file.Groups.FirstOrDefault(g => string.Equals(g.Id, groupId, StringComparison.Ordinal))
        ?? throw new PortNotFoundException($"Group '{groupId}' is not in the directory ({_path}).");

    private async Task<T> ReadAsync<T>(Func<DirectoryFile, T> read, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return read(await LoadAsync(cancellationToken).ConfigureAwait(false));
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<T> UpdateAsync<T>(Func<DirectoryFile, (T Result, bool Changed)> update, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var file = await LoadAsync(cancellationToken).ConfigureAwait(false);
            (T Result, bool Changed) outcome;
            try
            {
                outcome = update(file);
                if (outcome.Changed)
                {
                    await SaveAsync(file, cancellationToken).ConfigureAwait(false);
                }
            }
            catch
            {
                // The update may have changed the cached copy before failing: read the file again next time.
                _cached = null;
                throw;
            }

            return outcome.Result;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// The file's content, parsed again only when the file changed (its write time or length): a large directory
    /// (thousands of groups after big intakes) is then parsed once per change instead of once per call.
    /// </summary>
    private async Task<DirectoryFile> LoadAsync(CancellationToken cancellationToken)
    {
        var source = File.Exists(_path) ? _path : _seedPath is not null && File.Exists(_seedPath) ? _seedPath : null;
        if (source is null)
        {
            _cached = null;
            return new DirectoryFile();
        }

        var stamp = Stamp(source);
        if (_cached is { } cached && cached.Stamp == stamp)
        {
            return cached.File;
        }

        try
        {
            DirectoryFile file;
            await using (var stream = File.OpenRead(source))
            {
                file = await JsonSerializer.DeserializeAsync<DirectoryFile>(stream, Json, cancellationToken).ConfigureAwait(false)
                    ?? new DirectoryFile();
            }

            _cached = (stamp, file);
            return file;
        }
        catch (JsonException ex)
        {
            throw new PortRefusedException(
                $"The directory file {source} is not valid JSON at {ex.Path} (line {ex.LineNumber + 1}): "
                + $"{ex.Message} Fix the file or delete it to start from the seed.",
                ex);
        }
    }

    private async Task SaveAsync(DirectoryFile file, CancellationToken cancellationToken)
    {
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
        var temp = _path + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp";
        await using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
        {
            await JsonSerializer.SerializeAsync(stream, file, Json, cancellationToken).ConfigureAwait(false);
            await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
        }

        File.Move(temp, _path, overwrite: true);
        _cached = (Stamp(_path), file);
    }

    private static (string Path, DateTime WrittenAt, long Length) Stamp(string path)
    {
        var info = new FileInfo(path);
        return (path, info.LastWriteTimeUtc, info.Length);
    }

    private sealed class DirectoryFile
    {
        public List<UserEntry> Users { get; set; } = [];
        public List<GroupEntry> Groups { get; set; } = [];
        public List<RoleAssignmentEntry> RoleAssignments { get; set; } = [];
    }

    private sealed class UserEntry
    {
        public string Id { get; set; } = string.Empty;
        public string DisplayName { get; set; } = string.Empty;
        public string? Email { get; set; }
        public string? Orcid { get; set; }
        /// <summary>Free text for humans reading the sample (role in the project); ignored by Gardien.</summary>
        public string? Note { get; set; }

        public DirectoryUser ToPort() => new(Id, DisplayName, Email, Orcid);
    }

    private sealed class GroupEntry
    {
        public string Id { get; set; } = string.Empty;
        public string Name { get; set; } = string.Empty;
        public string? Description { get; set; }
        public List<string> Members { get; set; } = [];

        public DirectoryGroup ToPort() => new(Id, Name, Description);
    }

    private sealed class RoleAssignmentEntry
    {
        public string Id { get; set; } = string.Empty;
        public string PrincipalId { get; set; } = string.Empty;
        public PrincipalKind PrincipalKind { get; set; }
        public string Scope { get; set; } = string.Empty;
        public AccessLevel Role { get; set; }
    }
}
