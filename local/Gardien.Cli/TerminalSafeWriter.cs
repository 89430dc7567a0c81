using System.Text;
using Gardien.Workflows.Text;

namespace Gardien.Cli;

/// <summary>
/// The last line of defence between text Gardien did not write and the terminal: every control, bidi and invisible
/// formatting character is written as a visible escape (<see cref="UntrustedText"/>), except the line feeds of the
/// output's own lines. Values that must stay on one line are neutralised where they are formatted
/// (<see cref="UntrustedText.Console"/>); this writer makes sure that a value formatted anywhere else can still not
/// clear the screen, move the cursor, open a hyperlink or reorder what is read.
/// </summary>
internal sealed class TerminalSafeWriter(TextWriter inner) : TextWriter
{
    private char _pendingHighSurrogate;
    private bool _pendingCarriageReturn;

    public override Encoding Encoding => inner.Encoding;

    public override IFormatProvider FormatProvider => inner.FormatProvider;

    public override void Write(char value)
    {
        if (_pendingCarriageReturn)
        {
            // Only the CR of a CR LF line ending (Windows) goes out as is; any other CR would overwrite the line.
            _pendingCarriageReturn = false;
            inner.Write(value == '\n' ? "\r" : "\\r");
        }

        if (_pendingHighSurrogate != '\0')
        {
            var high = _pendingHighSurrogate;
            _pendingHighSurrogate = '\0';
            if (char.IsLowSurrogate(value))
            {
                inner.Write(UntrustedText.ConsoleBlock(new string([high, value])));
                return;
            }

            inner.Write(UntrustedText.ConsoleBlock(high.ToString()));
        }

        if (char.IsHighSurrogate(value))
        {
            _pendingHighSurrogate = value;
        }
        else if (value == '\r')
        {
            _pendingCarriageReturn = true;
        }
        else if (value == '\n' || char.IsLowSurrogate(value) || !UntrustedText.IsNeutralised(new Rune(value)))
        {
            inner.Write(char.IsLowSurrogate(value) ? UntrustedText.ConsoleBlock(value.ToString()) : value.ToString());
        }
        else
        {
            inner.Write(UntrustedText.ConsoleBlock(value.ToString()));
        }
    }

    public override void Write(string? value)
    {
        if (value is null)
        {
            return;
        }

        foreach (var c in value)
        {
            Write(c);
        }
    }

    public override void Write(char[] buffer, int index, int count)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        for (var i = index; i < index + count; i++)
        {
            Write(buffer[i]);
        }
    }

    public override void Flush()
    {
        if (_pendingCarriageReturn)
        {
            _pendingCarriageReturn = false;
            inner.Write("\\r");
        }

        if (_pendingHighSurrogate != '\0')
        {
            inner.Write(UntrustedText.ConsoleBlock(_pendingHighSurrogate.ToString()));
            _pendingHighSurrogate = '\0';
        }

        inner.Flush();
    }

    public override Task FlushAsync()
    {
        Flush();
        return Task.CompletedTask;
    }

    public override string ToString() => inner.ToString() ?? string.Empty;

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Flush();
        }

        base.Dispose(disposing);
    }
}
