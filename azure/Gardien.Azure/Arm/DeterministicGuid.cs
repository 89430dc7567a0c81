using System.Security.Cryptography;
using System.Text;

namespace Gardien.Azure.Arm;

/// <summary>Name-based GUIDs (RFC 4122 version 5): the same inputs always give the same role-assignment name.</summary>
internal static class DeterministicGuid
{
    // A fixed namespace for Gardien's role-assignment names; changing it would orphan every existing assignment.
    private static readonly Guid Namespace = new("6f0c2c8e-6a4e-4f7b-9a51-3f3a7e0d9c21");

    public static Guid Create(params string[] parts)
    {
        var name = Encoding.UTF8.GetBytes(string.Join("|", parts.Select(p => p.ToLowerInvariant())));
        var ns = Namespace.ToByteArray(bigEndian: true);
        var input = new byte[ns.Length + name.Length];
        ns.CopyTo(input, 0);
        name.CopyTo(input, ns.Length);
#pragma warning disable CA5350 // RFC 4122 version 5 is defined over SHA-1; this names a resource, it protects nothing.
        var hash = SHA1.HashData(input);
#pragma warning restore CA5350
        var bytes = hash.AsSpan(0, 16).ToArray();
        bytes[6] = (byte)((bytes[6] & 0x0F) | 0x50);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new Guid(bytes, bigEndian: true);
    }
}
