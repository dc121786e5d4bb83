using FunctionApp.Messaging;

namespace FunctionApp.Hosting;

/// <summary>The standalone Storage queue's settings (<c>StandaloneQueue:*</c>); a malformed value stops startup with the setting named.</summary>
public static class StandaloneQueueSettings
{
    public static StorageQueueDrainOptions ReadDrainOptions(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var defaults = new StorageQueueDrainOptions();
        return defaults with
        {
            VisibilityTimeout = TimeSpan.FromSeconds(SettingValues.WholeNumber(configuration, AppSettingNames.StandaloneQueueVisibilityTimeoutSeconds,
                (int)defaults.VisibilityTimeout.TotalSeconds, minimum: 1)),
            RetryDelay = TimeSpan.FromSeconds(SettingValues.WholeNumber(configuration, AppSettingNames.StandaloneQueueRetryDelaySeconds,
                (int)defaults.RetryDelay.TotalSeconds, minimum: 0)),
            MaxDequeueCount = SettingValues.WholeNumber(configuration, AppSettingNames.StandaloneQueueMaxDequeueCount, defaults.MaxDequeueCount, minimum: 1),
            MaxPollInterval = TimeSpan.FromMilliseconds(SettingValues.WholeNumber(configuration, AppSettingNames.StandaloneQueueMaxPollIntervalMilliseconds,
                (int)defaults.MaxPollInterval.TotalMilliseconds, minimum: (int)defaults.MinPollInterval.TotalMilliseconds)),
            AcknowledgementLatencyTarget = TimeSpan.FromMilliseconds(SettingValues.WholeNumber(configuration,
                AppSettingNames.StandaloneQueueAcknowledgementLatencyTargetMilliseconds,
                (int)defaults.AcknowledgementLatencyTarget.TotalMilliseconds, minimum: 1)),
        };
    }

    /// <summary>Whether this standalone instance applies queued batches; a value other than true or false stops startup.</summary>
    public static bool DrainEnabled(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return SettingValues.Bool(configuration, AppSettingNames.StandaloneQueueDrainEnabled, fallback: true);
    }

    /// <summary>Storage queue names: 3-63 lower-case letters, digits and single hyphens; the poison queue adds a suffix.</summary>
    public static string QueueName(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var name = configuration[AppSettingNames.RelationshipEventsQueue];
        name = string.IsNullOrWhiteSpace(name) ? ResourceNames.DefaultRelationshipEventsQueue : name.Trim();
        var maxLength = 63 - StorageQueueDrain.PoisonQueueSuffix.Length;
        var valid = name.Length >= 3 && name.Length <= maxLength
                    && name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-')
                    && char.IsAsciiLetterOrDigit(name[0]) && char.IsAsciiLetterOrDigit(name[^1])
                    && !name.Contains("--", StringComparison.Ordinal);
        return valid
            ? name
            : throw new InvalidOperationException(
                $"Setting '{AppSettingNames.RelationshipEventsQueue}' must be a Storage queue name of 3 to {maxLength} lower-case letters, digits and single hyphens; it is '{name}'.");
    }
}
