using Gardien.Workflows.Madmp;
using Gardien.Workflows.Text;

namespace Gardien.Workflows.Governance;

/// <summary>Whether a dataset holds raw data, as far as its DMP says.</summary>
public enum Rawness
{
    /// <summary>Nothing says raw (or the type, keywords or title say derived): no immutability.</summary>
    NotRaw,

    /// <summary>The type, a keyword or the title says raw, and none of them says derived.</summary>
    Raw,

    /// <summary>The words conflict (raw and derived in one title), or only the free-text description mentions raw data.</summary>
    Undecided,
}

/// <param name="RawEvidence">The terms found that say raw, each with its field (<c>title "brutes"</c>).</param>
/// <param name="NotRawEvidence">The terms found that say derived.</param>
/// <param name="FromDescription">True when the evidence comes from the description alone.</param>
public sealed record RawDataDecision(
    Rawness Rawness, IReadOnlyList<string> RawEvidence, IReadOnlyList<string> NotRawEvidence, bool FromDescription = false);

/// <summary>
/// Finds the policy's raw-data terms in a dataset as a data steward would read it: in its <c>type</c>, keywords and
/// title (what the author says the dataset is) and in its description (free text, which mentions raw data in passing:
/// "features derived from the raw scans"). Terms match whole words, ignoring case and accents, so "raw" does not match
/// "drawings" and "donnees brutes" matches "Données brutes"; each word of a term also matches its plural and French
/// feminine forms (s, e, es: "brut" matches "brutes", "acquisition" "acquisitions"). A longer term wins over a term
/// it contains ("non traité" is raw, although "traité" says derived).
/// </summary>
public static class RawDataTerms
{
    /// <summary>The built-in raw-data terms, English and French (a policy that gives none uses these).</summary>
    public static IReadOnlyList<string> DefaultRaw { get; } =
    [
        "raw", "raw data", "primary data", "unprocessed", "acquisition", "DICOM", "source data",
        "brut", "données brutes", "données primaires", "non traité", "données sources",
    ];

    /// <summary>The built-in terms that say a dataset is derived from others, English and French.</summary>
    public static IReadOnlyList<string> DefaultNotRaw { get; } =
    [
        "derived", "processed", "preprocessed", "pre-processed", "aggregated", "summary statistics",
        "dérivé", "traité", "prétraité", "agrégé", "statistiques agrégées",
    ];

    private static readonly string[] Suffixes = ["", "s", "e", "es"];

    // Policies are immutable records: the compiled terms of one are valid for its lifetime.
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<ImmutabilityPolicy, Compiled> CompiledTerms = new();

    /// <summary>
    /// Reads the dataset against the policy's terms (<see cref="ImmutabilityPolicy.EffectiveRawTerms"/>,
    /// <see cref="ImmutabilityPolicy.EffectiveNotRawTerms"/>).
    /// </summary>
    public static RawDataDecision Decide(Dataset dataset, ImmutabilityPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(policy);
        var terms = CompiledTerms.GetValue(policy, p => new Compiled(p.EffectiveRawTerms, p.EffectiveNotRawTerms));

        var raw = new List<string>();
        var notRaw = new List<string>();
        terms.Find("type", dataset.Type, raw, notRaw);
        foreach (var keyword in dataset.Keywords)
        {
            terms.Find("keyword", keyword, raw, notRaw);
        }

        terms.Find("title", dataset.Title, raw, notRaw);
        if (raw.Count > 0 || notRaw.Count > 0)
        {
            var rawness = notRaw.Count == 0 ? Rawness.Raw : raw.Count == 0 ? Rawness.NotRaw : Rawness.Undecided;
            return new RawDataDecision(rawness, raw, notRaw);
        }

        terms.Find("description", dataset.Description, raw, notRaw);
        return raw.Count > 0
            ? new RawDataDecision(Rawness.Undecided, raw, notRaw, FromDescription: true)
            : new RawDataDecision(Rawness.NotRaw, [], notRaw, FromDescription: notRaw.Count > 0);
    }

    private sealed class Compiled(IReadOnlyList<string> raw, IReadOnlyList<string> notRaw)
    {
        private readonly List<(string[] Words, bool Raw)> _terms =
        [
            .. raw.Select(t => (FoldedWords.Split(t).Select(w => w.Folded).ToArray(), true))
                .Concat(notRaw.Select(t => (FoldedWords.Split(t).Select(w => w.Folded).ToArray(), false)))
                .Where(t => t.Item1.Length > 0),
        ];

        /// <summary>Adds <c>field "words as written"</c> to the raw or derived list for each term in <paramref name="text"/>.</summary>
        public void Find(string field, string? text, List<string> raw, List<string> notRaw)
        {
            if (string.IsNullOrWhiteSpace(text))
            {
                return;
            }

            var words = FoldedWords.Split(text);
            var matches = new List<(int Start, int Length, bool Raw)>();
            foreach (var (termWords, isRaw) in _terms)
            {
                for (var start = 0; start + termWords.Length <= words.Count; start++)
                {
                    if (Matches(words, start, termWords))
                    {
                        matches.Add((start, termWords.Length, isRaw));
                    }
                }
            }

            foreach (var match in matches)
            {
                // A match inside a longer one counts only as part of it: "non traité" is raw, although "traité" says derived.
                var end = match.Start + match.Length;
                if (matches.Any(other => other.Length > match.Length && other.Start <= match.Start && other.Start + other.Length >= end))
                {
                    continue;
                }

                var from = words[match.Start].Start;
                var to = words[match.Start + match.Length - 1].End;
                var quoted = $"{field} \"{text[from..to]}\"";
                var list = match.Raw ? raw : notRaw;
                if (!list.Contains(quoted))
                {
                    list.Add(quoted);
                }
            }
        }

        private static bool Matches(List<(string Folded, int Start, int End)> words, int start, string[] termWords)
        {
            for (var i = 0; i < termWords.Length; i++)
            {
                var word = words[start + i].Folded;
                var term = termWords[i];
                var inflected = word.Length >= term.Length && word.StartsWith(term, StringComparison.Ordinal)
                    && Suffixes.Contains(word[term.Length..]);
                if (!inflected)
                {
                    return false;
                }
            }

            return true;
        }
    }
}
