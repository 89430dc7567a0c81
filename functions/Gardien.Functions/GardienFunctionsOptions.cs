using System.ComponentModel.DataAnnotations;

namespace Gardien.Functions;

/// <summary>The app's own settings (section <c>Gardien</c>: <c>Gardien__TaskHub</c>, <c>Gardien__PolicyPath</c>).</summary>
public sealed class GardienFunctionsOptions
{
    public const string SectionName = "Gardien";

    /// <summary>The Durable Functions task hub (host.json reads the same setting).</summary>
    [Required(ErrorMessage = "Gardien__TaskHub is not set: name the Durable Functions task hub (letters and digits, 3 to 45 characters).")]
    [RegularExpression(
        "^[A-Za-z][A-Za-z0-9]{2,44}$", ErrorMessage = "Gardien__TaskHub must start with a letter and hold 3 to 45 letters or digits.")]
    public string? TaskHub { get; set; }

    /// <summary>The institution's governance policy file, relative to the app's content (see policy.sample.json).</summary>
    [Required(ErrorMessage = "Gardien__PolicyPath is not set: give the policy file's path relative to the app (e.g. policy.json).")]
    public string? PolicyPath { get; set; }
}
