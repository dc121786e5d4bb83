using System.Globalization;

namespace FunctionApp.Hosting;

/// <summary>
/// The largest callback body the hosts hand to the ingestor. Hosts read at most <see cref="MaxBodyBytes"/> + 1 bytes
/// and pass on what they read; the ingestor answers 413 in the platform's format when the body is longer than the
/// limit. Read here until the protocol configuration that owns this setting is wired in.
/// </summary>
public sealed record CallbackBodyLimit(int MaxBodyBytes)
{
    public const int DefaultMaxBodyBytes = 1024 * 1024;

    /// <summary>At most this many bytes are read from a callback body (one more than the limit, to detect "too large").</summary>
    public int ReadLimit => MaxBodyBytes + 1;

    public static CallbackBodyLimit Read(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var value = configuration[AppSettingNames.CallbacksMaxBodyBytes];
        if (string.IsNullOrWhiteSpace(value))
        {
            return new CallbackBodyLimit(DefaultMaxBodyBytes);
        }

        return int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var bytes) && bytes is > 0 and < int.MaxValue / 8
            ? new CallbackBodyLimit(bytes)
            : throw new InvalidOperationException(
                $"Setting {AppSettingNames.CallbacksMaxBodyBytes} must be a positive number of bytes; it is '{value}'.");
    }
}
