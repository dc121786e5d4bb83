using System.Globalization;
using System.Text;

namespace FunctionApp.Storage.Tables;

/// <summary>
/// Builds OData <c>$filter</c> expressions with every value rendered as a typed literal (strings quoted with quotes
/// doubled), so no value can change the expression: <c>ODataFilter.Create($"PartitionKey eq {pk} and Kind eq {kind}")</c>.
/// </summary>
public static class ODataFilter
{
    public static string Create(FormattableString filter)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var arguments = filter.GetArguments().Select(Literal).ToArray<object?>();
        return string.Format(CultureInfo.InvariantCulture, filter.Format, arguments);
    }

    /// <summary>A value as an OData literal.</summary>
    public static string Literal(object? value) => value switch
    {
        null => "null",
        string text => Quote(text),
        bool flag => flag ? "true" : "false",
        int number => number.ToString(CultureInfo.InvariantCulture),
        long number => number.ToString(CultureInfo.InvariantCulture) + "L",
        double number => number.ToString("R", CultureInfo.InvariantCulture) is var text && text.AsSpan().IndexOfAny(".E") >= 0 ? text : text + ".0",
        DateTimeOffset time => "datetime'" + time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture) + "'",
        Guid guid => "guid'" + guid.ToString("D") + "'",
        byte[] bytes => "X'" + Convert.ToHexString(bytes) + "'",
        _ => throw new ArgumentException($"A {value.GetType().Name} cannot be an OData literal.", nameof(value)),
    };

    /// <summary>A string literal: single quotes around, inner quotes doubled.</summary>
    public static string Quote(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return new StringBuilder(text.Length + 2).Append('\'').Append(text.Replace("'", "''", StringComparison.Ordinal)).Append('\'').ToString();
    }
}
