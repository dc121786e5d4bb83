using System.Globalization;
using System.Text;

namespace FunctionApp.Core;

/// <summary>
/// Makes a value that came from a request safe for one log line: control characters (CR, LF, tab, the rest of C0
/// and C1, DEL) and the Unicode line and paragraph separators become visible escapes (<c>\r</c>, <c>\n</c>,
/// <c>\u2028</c>), a backslash is doubled so an escape cannot be faked, and a very long value is cut. A caller can
/// then neither start a forged log line nor flood one.
/// </summary>
public static class LogValue
{
    /// <summary>Longest escaped value kept in a log line; the rest is replaced by "...".</summary>
    public const int MaxLength = 512;

    private static readonly System.Buffers.SearchValues<char> NeedsEscape = System.Buffers.SearchValues.Create(
        "\\\u2028\u2029" + new string([.. Enumerable.Range(0, 0x20).Select(i => (char)i), .. Enumerable.Range(0x7f, 0x21).Select(i => (char)i)]));

    public static string? Escape(string? value)
    {
        if (value is null)
        {
            return null;
        }

        if (value.Length <= MaxLength && !value.AsSpan().ContainsAny(NeedsEscape))
        {
            return value;
        }

        var text = new StringBuilder(Math.Min(value.Length, MaxLength) + 16);
        foreach (var c in value)
        {
            if (text.Length >= MaxLength)
            {
                text.Append("...");
                break;
            }

            switch (c)
            {
                case '\\':
                    text.Append(@"\\");
                    break;
                case '\r':
                    text.Append(@"\r");
                    break;
                case '\n':
                    text.Append(@"\n");
                    break;
                case '\t':
                    text.Append(@"\t");
                    break;
                default:
                    if (char.IsControl(c) || c is '\u2028' or '\u2029')
                    {
                        text.Append(@"\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        text.Append(c);
                    }

                    break;
            }
        }

        return text.ToString();
    }
}
