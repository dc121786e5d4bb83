namespace FunctionApp.Protocols;

/// <summary>Case-insensitive look-up in query or header maps, whatever comparer the host built them with.</summary>
internal static class Lookup
{
    public static string? Find(IReadOnlyDictionary<string, string> values, string name)
    {
        if (values.TryGetValue(name, out var exact))
        {
            return exact;
        }

        foreach (var (key, value) in values)
        {
            if (string.Equals(key, name, StringComparison.OrdinalIgnoreCase))
            {
                return value;
            }
        }

        return null;
    }

    /// <summary>The value, or null when absent or blank.</summary>
    public static string? FindNonBlank(IReadOnlyDictionary<string, string> values, string name)
    {
        var value = Find(values, name);
        return string.IsNullOrWhiteSpace(value) ? null : value;
    }
}
