using System.Globalization;

namespace LoadGenerator;

/// <summary>Command-line options of the form <c>--name value</c> (repeatable) and bare <c>--flag</c>s.</summary>
internal sealed class Options
{
    private readonly Dictionary<string, List<string>> _values = new(StringComparer.Ordinal);

    public Options(IEnumerable<string> args)
    {
        var list = args.ToList();
        for (var i = 0; i < list.Count; i++)
        {
            if (!list[i].StartsWith("--", StringComparison.Ordinal))
            {
                throw new ArgumentException($"Unexpected argument '{list[i]}'.");
            }

            var name = list[i][2..];
            var value = i + 1 < list.Count && !list[i + 1].StartsWith("--", StringComparison.Ordinal) ? list[++i] : "true";
            if (!_values.TryGetValue(name, out var values))
            {
                _values[name] = values = [];
            }

            values.Add(value);
        }
    }

    public string Required(string name) =>
        Get(name) ?? throw new ArgumentException($"Option --{name} is required.");

    public string? Get(string name) => _values.TryGetValue(name, out var values) ? values[^1] : null;

    public string Get(string name, string fallback) => Get(name) ?? fallback;

    public IReadOnlyList<string> All(string name) => _values.TryGetValue(name, out var values) ? values : [];

    public int Int(string name, int fallback) =>
        Get(name) is { } value ? int.Parse(value, CultureInfo.InvariantCulture) : fallback;

    public double Double(string name, double fallback) =>
        Get(name) is { } value ? double.Parse(value, CultureInfo.InvariantCulture) : fallback;

    public bool Flag(string name) => Get(name) is "true";
}
