using System.Globalization;

namespace FunctionApp.Hosting;

/// <summary>Typed reads of single settings; a malformed value stops startup with the setting named.</summary>
internal static class SettingValues
{
    /// <summary>A true/false setting (case-insensitive); absent or blank means <paramref name="fallback"/>.</summary>
    public static bool Bool(IConfiguration configuration, string name, bool fallback)
    {
        var text = configuration[name];
        if (string.IsNullOrWhiteSpace(text))
        {
            return fallback;
        }

        return bool.TryParse(text.Trim(), out var value)
            ? value
            : throw new InvalidOperationException($"{name} must be true or false; it is '{text}'.");
    }

    /// <summary>A positive whole number; absent or blank means <paramref name="fallback"/>.</summary>
    public static int PositiveInt(IConfiguration configuration, string name, int fallback)
    {
        var text = configuration[name];
        if (string.IsNullOrWhiteSpace(text))
        {
            return fallback;
        }

        return int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value > 0
            ? value
            : throw new InvalidOperationException($"{name} must be a positive whole number; it is '{text}'.");
    }
}
