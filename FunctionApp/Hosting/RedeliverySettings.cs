using FunctionApp.Core;
using Microsoft.Extensions.Options;

namespace FunctionApp.Hosting;

/// <summary>
/// <see cref="RedeliveryOptions"/> from the <c>Redelivery:*</c> settings, registered as <see cref="IOptions{TOptions}"/>
/// and validated at start: a malformed or inconsistent value stops startup with the setting named.
/// </summary>
public static class RedeliverySettings
{
    /// <summary>
    /// Longest retry within one delivery: host.json gives an invocation 5 minutes (functionTimeout) and renews its lock
    /// for 5 (maxAutoLockRenewalDuration), as the standalone Service Bus drain does; a minute is left for the apply and the settle.
    /// </summary>
    public static readonly TimeSpan MaxRetryWithinDelivery = TimeSpan.FromMinutes(4);

    /// <summary>Longest redelivery delay: a Storage queue message can be hidden for at most 7 days.</summary>
    public static readonly TimeSpan MaxDelayLimit = TimeSpan.FromDays(7);

    public static RedeliveryOptions Read(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var defaults = new RedeliveryOptions();
        return new RedeliveryOptions
        {
            RetryWithinDelivery = SettingValues.Seconds(configuration, AppSettingNames.RedeliveryRetryWithinDeliverySeconds, defaults.RetryWithinDelivery, 0),
            FirstDelay = SettingValues.Seconds(configuration, AppSettingNames.RedeliveryFirstDelaySeconds, defaults.FirstDelay, 1),
            MaxDelay = SettingValues.Seconds(configuration, AppSettingNames.RedeliveryMaxDelaySeconds, defaults.MaxDelay, 1),
            ParkAfter = SettingValues.Seconds(configuration, AppSettingNames.RedeliveryParkAfterSeconds, defaults.ParkAfter, 1),
        };
    }

    /// <summary>Registers the options read from <paramref name="configuration"/>, checked when the app starts.</summary>
    public static OptionsBuilder<RedeliveryOptions> AddRedeliveryOptions(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        return services.AddOptions<RedeliveryOptions>()
            .Configure(options =>
            {
                var read = Read(configuration);
                (options.RetryWithinDelivery, options.FirstDelay, options.MaxDelay, options.ParkAfter) =
                    (read.RetryWithinDelivery, read.FirstDelay, read.MaxDelay, read.ParkAfter);
            })
            .Validate(options => options.RetryWithinDelivery <= MaxRetryWithinDelivery,
                $"{AppSettingNames.RedeliveryRetryWithinDeliverySeconds} must be at most {MaxRetryWithinDelivery.TotalSeconds:0}: a delivery must end inside the function timeout and the lock renewal.")
            .Validate(options => options.MaxDelay >= options.FirstDelay,
                $"{AppSettingNames.RedeliveryMaxDelaySeconds} must be at least {AppSettingNames.RedeliveryFirstDelaySeconds}.")
            .Validate(options => options.MaxDelay <= MaxDelayLimit,
                $"{AppSettingNames.RedeliveryMaxDelaySeconds} must be at most {MaxDelayLimit.TotalSeconds:0} (7 days, the longest a Storage queue message can be hidden).")
            .ValidateOnStart();
    }
}
