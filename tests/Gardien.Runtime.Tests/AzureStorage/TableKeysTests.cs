using FsCheck.Xunit;
using Gardien.Runtime.AzureStorage;

namespace Gardien.Runtime.Tests.AzureStorage;

public sealed class TableKeysTests
{
    [Property]
    public bool Encode_ThenDecode_RoundTrips(string? key)
    {
        key ??= string.Empty;
        return TableKeys.Decode(TableKeys.Encode(key)) == key;
    }

    [Property]
    public bool Encode_NeverEmitsCharactersTablesReject(string? key)
    {
        var encoded = TableKeys.Encode(key ?? string.Empty);
        return !encoded.Any(c => c is '/' or '\\' or '#' or '?' || char.IsControl(c));
    }

    [Property]
    public bool Encode_KeepsPrefixesPrefixes(string? prefix, string? rest)
    {
        prefix ??= string.Empty;
        return TableKeys.Encode(prefix + (rest ?? string.Empty)).StartsWith(TableKeys.Encode(prefix), StringComparison.Ordinal);
    }
}
