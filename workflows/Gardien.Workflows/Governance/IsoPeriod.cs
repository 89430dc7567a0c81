using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Gardien.Workflows.Governance;

/// <summary>
/// A calendar period in days granularity (ISO 8601 duration restricted to years, months, weeks and days, e.g. <c>P10Y</c>,
/// <c>P6M</c>, <c>P90D</c>). Governance deadlines are dates, never instants, so time components are refused on purpose.
/// Serialised as its ISO string; a bare integer in JSON means years (policy files often say "retention: 10").
/// </summary>
[JsonConverter(typeof(IsoPeriodJsonConverter))]
public readonly record struct IsoPeriod(int Years, int Months, int Days)
{
    public static IsoPeriod Zero => default;

    public static IsoPeriod FromDays(int days) => new(0, 0, days);

    public static IsoPeriod FromYears(int years) => new(years, 0, 0);

    public bool IsZero => Years == 0 && Months == 0 && Days == 0;

    /// <summary>Adds years, then months (clamping to the month's last day), then days — the order ISO 8601 prescribes.</summary>
    public DateOnly AddTo(DateOnly date) => date.AddYears(Years).AddMonths(Months).AddDays(Days);

    public DateOnly SubtractFrom(DateOnly date) => date.AddYears(-Years).AddMonths(-Months).AddDays(-Days);

    /// <summary>A lower bound in days, for comparisons that do not depend on a start date (a month counts 28 days, a year 365).</summary>
    public int MinimumDays => (Years * 365) + (Months * 28) + Days;

    public override string ToString()
    {
        if (IsZero)
        {
            return "P0D";
        }

        var text = "P";
        if (Years != 0)
        {
            text += Years.ToString(CultureInfo.InvariantCulture) + "Y";
        }

        if (Months != 0)
        {
            text += Months.ToString(CultureInfo.InvariantCulture) + "M";
        }

        if (Days != 0)
        {
            text += Days.ToString(CultureInfo.InvariantCulture) + "D";
        }

        return text;
    }

    public static IsoPeriod Parse(string text) =>
        TryParse(text, out var period)
            ? period
            : throw new FormatException($"'{text}' is not an ISO 8601 period such as P10Y, P6M, P2W or P90D.");

    public static bool TryParse(string? text, out IsoPeriod period)
    {
        period = default;
        if (string.IsNullOrEmpty(text) || text.Length < 3 || text[0] != 'P')
        {
            return false;
        }

        long years = 0, months = 0, days = 0;
        var position = 1;
        var lastOrder = -1;
        while (position < text.Length)
        {
            var start = position;
            while (position < text.Length && char.IsAsciiDigit(text[position]))
            {
                position++;
            }

            if (position == start || position - start > 6 || position >= text.Length)
            {
                return false;
            }

            var value = long.Parse(text.AsSpan(start, position - start), NumberStyles.None, CultureInfo.InvariantCulture);
            var order = text[position] switch { 'Y' => 0, 'M' => 1, 'W' => 2, 'D' => 3, _ => -1 };
            if (order <= lastOrder)
            {
                return false;
            }

            lastOrder = order;
            switch (order)
            {
                case 0: years = value; break;
                case 1: months = value; break;
                case 2: days += value * 7; break;
                default: days += value; break;
            }

            position++;
        }

        if (years > 1000 || months > 12_000 || days > 400_000)
        {
            return false;
        }

        period = new IsoPeriod((int)years, (int)months, (int)days);
        return true;
    }
}

internal sealed class IsoPeriodJsonConverter : JsonConverter<IsoPeriod>
{
    public override IsoPeriod Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var years) && years is >= 0 and <= 1000)
        {
            return IsoPeriod.FromYears(years);
        }

        if (reader.TokenType == JsonTokenType.String && IsoPeriod.TryParse(reader.GetString(), out var period))
        {
            return period;
        }

        throw new JsonException("Expected an ISO 8601 period such as \"P10Y\", \"P6M\", \"P2W\" or \"P90D\", or a whole number of years.");
    }

    public override void Write(Utf8JsonWriter writer, IsoPeriod value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.ToString());
}
