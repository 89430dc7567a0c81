using System.Text;

namespace Gardien.Workflows.Text;

/// <summary>Words of free text compared as a person reads them: whole words, without case or accents.</summary>
internal static class FoldedWords
{
    /// <summary>Lower case without accents, so that terms compare as a person reads them (no ICU: the hosts run invariant).</summary>
    public static string Fold(char c) => char.ToLowerInvariant(c) switch
    {
        >= '\u0300' and <= '\u036F' => string.Empty, // combining accents of decomposed text
        'à' or 'á' or 'â' or 'ã' or 'ä' or 'å' or 'ā' or 'ă' or 'ą' => "a",
        'ç' or 'ć' or 'č' => "c",
        'è' or 'é' or 'ê' or 'ë' or 'ē' or 'ė' or 'ę' or 'ě' => "e",
        'ì' or 'í' or 'î' or 'ï' or 'ī' or 'į' => "i",
        'ñ' or 'ń' or 'ň' => "n",
        'ò' or 'ó' or 'ô' or 'õ' or 'ö' or 'ø' or 'ō' or 'ő' => "o",
        'ù' or 'ú' or 'û' or 'ü' or 'ū' or 'ů' or 'ű' => "u",
        'ý' or 'ÿ' => "y",
        'œ' => "oe",
        'æ' => "ae",
        'ß' => "ss",
        var lower => lower.ToString(),
    };

    /// <summary>
    /// The words of a text, folded (<see cref="Fold"/>), with where each starts and ends in the text: runs of letters and
    /// digits (and the accents combined with them); hyphens, apostrophes and punctuation separate words.
    /// </summary>
    public static List<(string Folded, int Start, int End)> Split(string text)
    {
        var words = new List<(string, int, int)>();
        var current = new StringBuilder();
        var start = -1;
        for (var i = 0; i <= text.Length; i++)
        {
            var c = i < text.Length ? text[i] : ' ';
            var continues = char.IsLetterOrDigit(c) || (start >= 0 && c is >= '\u0300' and <= '\u036F');
            if (continues)
            {
                start = start < 0 ? i : start;
                current.Append(Fold(c));
            }
            else if (start >= 0)
            {
                words.Add((current.ToString(), start, i));
                current.Clear();
                start = -1;
            }
        }

        return words;
    }
}
