using System.Globalization;

namespace FunctionApp.Core;

/// <summary>
/// The order in which events of one directed edge take effect: source time (else receive time), then receive time,
/// then event id as the tie-breaker. Rendered as a string whose ordinal order is that order, so the store can keep
/// and compare it as a plain property.
/// </summary>
public static class EventVersion
{
    public static string Of(RelationshipEvent relationshipEvent, CallbackSource source)
    {
        ArgumentNullException.ThrowIfNull(relationshipEvent);
        ArgumentNullException.ThrowIfNull(source);
        return Of(relationshipEvent.OccurredAt, source.ReceivedAt, relationshipEvent.EventId);
    }

    /// <summary>The version of an event that occurred at <paramref name="occurredAt"/> and was (first) received at <paramref name="receivedAt"/>.</summary>
    public static string Of(DateTimeOffset occurredAt, DateTimeOffset receivedAt, string eventId) =>
        string.Create(CultureInfo.InvariantCulture, $"{occurredAt.UtcTicks:D19}.{receivedAt.UtcTicks:D19}.{eventId}");

    /// <summary>True when <paramref name="candidate"/> supersedes <paramref name="current"/> (null: nothing yet).</summary>
    public static bool IsNewer(string candidate, string? current) =>
        current is null || string.CompareOrdinal(candidate, current) > 0;
}
