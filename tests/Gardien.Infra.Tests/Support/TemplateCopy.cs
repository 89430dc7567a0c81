namespace Gardien.Infra.Tests.Support;

/// <summary>A throw-away copy of one template beside the real bicepconfig.json, for negative tests.</summary>
public sealed class TemplateCopy : IDisposable
{
    private readonly string _directory;

    private TemplateCopy(string directory, string filePath)
    {
        _directory = directory;
        FilePath = filePath;
    }

    public string FilePath { get; }

    public static TemplateCopy Of(string template)
    {
        var directory = Path.Combine(Path.GetTempPath(), "gardien-bicep-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        File.Copy(InfraPaths.BicepConfig, Path.Combine(directory, "bicepconfig.json"));
        var filePath = Path.Combine(directory, Path.GetFileName(template));
        File.Copy(template, filePath);
        return new TemplateCopy(directory, filePath);
    }

    public void Replace(string original, string replacement)
    {
        var text = File.ReadAllText(FilePath);
        Assert.Contains(original, text, StringComparison.Ordinal);
        File.WriteAllText(FilePath, text.Replace(original, replacement, StringComparison.Ordinal));
    }

    public void Append(string text) => File.AppendAllText(FilePath, text);

    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is harmless.
        }
    }
}
