using Microsoft.Extensions.Options;

namespace Gardien.Azure.Configuration;

/// <summary>
/// Collects start-up validation errors of one options section, each naming the setting as it is written in app settings
/// and environment variables (<c>Section__Key</c>), so that a misconfigured deployment says exactly what to fix.
/// </summary>
internal sealed class OptionsErrors(string section)
{
    private readonly List<string> _errors = [];

    public string Setting(string key) => $"{section}__{key}";

    public void Add(string key, string problem) => _errors.Add($"{Setting(key)}: {problem}");

    public void RequireHttps(string key, Uri? value, bool required = true)
    {
        if (value is null)
        {
            if (required)
            {
                Add(key, "is required (an absolute https:// URL).");
            }

            return;
        }

        if (!value.IsAbsoluteUri || !string.Equals(value.Scheme, Uri.UriSchemeHttps, StringComparison.OrdinalIgnoreCase))
        {
            Add(key, $"'{value}' must be an absolute https:// URL.");
        }
    }

    public void RequirePositive(string key, TimeSpan value, TimeSpan? max = null)
    {
        if (value <= TimeSpan.Zero)
        {
            Add(key, $"'{value}' must be a positive duration (e.g. 00:00:30).");
        }
        else if (max is { } limit && value > limit)
        {
            Add(key, $"'{value}' must be at most {limit}.");
        }
    }

    public ValidateOptionsResult Result() => _errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(_errors);
}
