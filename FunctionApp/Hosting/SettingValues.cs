using System.Globalization;

namespace FunctionApp.Hosting;

/// <summary>Typed reads of single settings; a malformed value stops startup with the setting named.</summary>
internal static class SettingValues
{
    /// <summary>A text setting, trimmed; absent or blank means <paramref name="fallback"/>.</summary>
    public static string Text(IConfiguration configuration, string name, string fallback)
    {
        var text = configuration[name];
        return string.IsNullOrWhiteSpace(text) ? fallback : text.Trim();
    }

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
    public static int PositiveInt(IConfiguration configuration, string name, int fallback) =>
        WholeNumber(configuration, name, fallback, minimum: 1);

    /// <summary>
    /// A whole number from <paramref name="minimum"/> to <paramref name="maximum"/> (no upper bound by default); absent
    /// or blank means <paramref name="fallback"/>.
    /// </summary>
    public static int WholeNumber(IConfiguration configuration, string name, int fallback, int minimum, int maximum = int.MaxValue)
    {
        var text = configuration[name];
        if (string.IsNullOrWhiteSpace(text))
        {
            return fallback;
        }

        if (int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= minimum && value <= maximum)
        {
            return value;
        }

        var range = maximum == int.MaxValue ? $"of at least {minimum}" : $"from {minimum} to {maximum}";
        throw new InvalidOperationException($"{name} must be a whole number {range}; it is '{text}'.");
    }

    /// <summary>A duration given in whole seconds, at least <paramref name="minimumSeconds"/>; absent or blank means <paramref name="fallback"/>.</summary>
    public static TimeSpan Seconds(IConfiguration configuration, string name, TimeSpan fallback, int minimumSeconds) =>
        TimeSpan.FromSeconds(WholeNumber(configuration, name, (int)fallback.TotalSeconds, minimumSeconds));

    /// <summary>
    /// Shortest secret accepted for a Tencent callback token, the OpenIM callback key or a query API key. Tencent's
    /// Sign is a plain SHA-256 of token and time, so one signed URL lets a short token be guessed offline.
    /// </summary>
    public const int MinSecretLength = 16;

    /// <summary>Stops startup when a secret is shorter than <see cref="MinSecretLength"/>; the message never shows it.</summary>
    public static string Secret(string name, string value) =>
        value.Length >= MinSecretLength
            ? value
            : throw new InvalidOperationException(
                $"{name} must be at least {MinSecretLength} characters long (one is {value.Length}); use a random value such as 'openssl rand -hex 24'.");
}
