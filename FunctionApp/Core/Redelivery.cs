using System.Globalization;

namespace FunctionApp.Core;

/// <summary>
/// How a batch the store failed on is tried again (settings <c>Redelivery:*</c>, read and validated in Hosting). A
/// store failure is first retried within the delivery, then the message comes back after a growing delay, until
/// the batch has been failing for <see cref="ParkAfter"/>; only then is it parked (dead-letter or poison queue).
/// </summary>
public sealed class RedeliveryOptions
{
    /// <summary>How long one delivery keeps retrying a failing apply (with backoff) before the message is redelivered; 0: one try.</summary>
    public TimeSpan RetryWithinDelivery { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Delay before the first redelivery; each later one waits twice as long as the one before.</summary>
    public TimeSpan FirstDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The longest delay between two redeliveries.</summary>
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>A batch still failing this long after its first failure is parked, with the last failure as its reason.</summary>
    public TimeSpan ParkAfter { get; set; } = TimeSpan.FromHours(6);
}

/// <summary>
/// What a redelivered message carries so the next delivery knows how far its batch got: the redelivery it is (1 for
/// the first copy) and when its batch first failed. On Service Bus these are application properties of the copy; on
/// the Storage queue, a prefix of the message text.
/// </summary>
public readonly record struct RedeliveryState(int Generation, DateTimeOffset FirstFailedAt)
{
    public const string GenerationProperty = "RedeliveryGeneration";
    public const string FirstFailedAtProperty = "RedeliveryFirstFailedAt";

    /// <summary>The message id of the first message of the chain, from which every copy's id is derived.</summary>
    public const string OriginalMessageIdProperty = "RedeliveryOriginalMessageId";

    /// <summary>The state carried by message properties; null when they carry none (a first delivery) or it does not parse.</summary>
    /// <param name="property">Looks a property up by name: a number or text, as the transport gives it.</param>
    public static RedeliveryState? FromProperties(Func<string, object?> property)
    {
        ArgumentNullException.ThrowIfNull(property);
        var generation = property(GenerationProperty) switch
        {
            int value => value,
            long value and > 0 and <= int.MaxValue => (int)value,
            string text when int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) => value,
            _ => 0,
        };
        var firstFailedAt = property(FirstFailedAtProperty) switch
        {
            DateTimeOffset value => value,
            DateTime value => new DateTimeOffset(DateTime.SpecifyKind(value, DateTimeKind.Utc)),
            string text when DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var value) => value,
            _ => (DateTimeOffset?)null,
        };
        return generation > 0 && firstFailedAt is { } since ? new RedeliveryState(generation, since) : null;
    }

    /// <summary>The id of the chain's first message: the property a copy carries, else the message's own id.</summary>
    public static string? OriginalMessageId(Func<string, object?> property, string? messageId)
    {
        ArgumentNullException.ThrowIfNull(property);
        return property(OriginalMessageIdProperty) is string { Length: > 0 } original ? original : messageId;
    }

    /// <summary>The properties a copy carries, values as text so every transport and the Functions host pass them unchanged.</summary>
    public IReadOnlyDictionary<string, string> ToProperties() => new Dictionary<string, string>
    {
        [GenerationProperty] = Generation.ToString(CultureInfo.InvariantCulture),
        [FirstFailedAtProperty] = FirstFailedAt.UtcDateTime.ToString("O", CultureInfo.InvariantCulture),
    };
}

/// <summary>The next try of a batch: after <paramref name="Delay"/>, carrying <paramref name="Next"/>.</summary>
public sealed record Redelivery(TimeSpan Delay, RedeliveryState Next);

/// <summary>The redelivery decisions, from <see cref="RedeliveryOptions"/> and the state a message carries; no I/O.</summary>
public sealed class RedeliverySchedule(RedeliveryOptions options)
{
    private readonly RedeliveryOptions _options = options ?? throw new ArgumentNullException(nameof(options));

    public RedeliveryOptions Options => _options;

    /// <summary>Delay before redelivery <paramref name="generation"/> (1, 2, ...): the first delay, doubled each time, at most the max delay.</summary>
    public TimeSpan DelayBefore(int generation)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(generation, 1);
        var doublings = Math.Min(generation - 1, 40);
        var ticks = _options.FirstDelay.Ticks * Math.Pow(2, doublings);
        return ticks >= _options.MaxDelay.Ticks ? _options.MaxDelay : TimeSpan.FromTicks((long)ticks);
    }

    /// <summary>Whether a batch in <paramref name="state"/> has been failing for the whole retry period at <paramref name="now"/>.</summary>
    public bool IsOver(RedeliveryState? state, DateTimeOffset now) => state is { } failing && now - failing.FirstFailedAt >= _options.ParkAfter;

    /// <summary>
    /// After a failed delivery that started at <paramref name="deliveryStarted"/> (the first failure, when the message
    /// carries no <paramref name="state"/>): the next redelivery, or null when the batch has been failing for the whole
    /// retry period at <paramref name="now"/> and is to be parked.
    /// </summary>
    public Redelivery? Next(RedeliveryState? state, DateTimeOffset deliveryStarted, DateTimeOffset now)
    {
        var current = state ?? new RedeliveryState(0, deliveryStarted);
        if (IsOver(current, now))
        {
            return null;
        }

        var generation = current.Generation == int.MaxValue ? int.MaxValue : current.Generation + 1;
        return new Redelivery(DelayBefore(generation), current with { Generation = generation });
    }
}

/// <summary>
/// Sends a redelivery copy of a message: the same body, due after the redelivery's delay, with the state as its
/// properties and a message id derived from the original's and the generation (Service Bus only; the Storage queue
/// redelivers by making the message visible again).
/// </summary>
public interface IBatchRedeliveryScheduler
{
    /// <param name="body">The message body exactly as received.</param>
    /// <param name="originalMessageId">The id of the chain's first message (<see cref="RedeliveryState.OriginalMessageIdProperty"/>, else the message's own id).</param>
    Task ScheduleAsync(ReadOnlyMemory<byte> body, string originalMessageId, Redelivery redelivery, CancellationToken cancellationToken);
}
