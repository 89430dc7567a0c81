namespace Gardien.Workflows.Madmp.Opidor;

/// <summary>
/// The seam for DMP tools whose RDA export loses governance facts that their native export keeps. A mapper takes the
/// validated RDA document (the identity and the structure) and the tool's native export, and returns the document with
/// the missing facts filled in. It never removes or overrides what the RDA document states explicitly.
/// </summary>
public interface IMadmpSourceMapper
{
    /// <summary>The tool this mapper understands, e.g. "dmp-opidor".</summary>
    string SourceName { get; }

    MadmpSourceMapResult Enrich(MadmpDocument rdaDocument, ReadOnlyMemory<byte> nativeExport);
}

/// <summary>The enriched document, and what could not be mapped (JSON Pointers into the native export).</summary>
public sealed record MadmpSourceMapResult(MadmpDocument Document, IReadOnlyList<ValidationIssue> Warnings);
