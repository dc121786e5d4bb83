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
        return string.Create(CultureInfo.InvariantCulture,
            $"{relationshipEvent.OccurredAt.UtcTicks:D19}.{source.ReceivedAt.UtcTicks:D19}.{relationshipEvent.EventId}");
    }

    /// <summary>True when <paramref name="candidate"/> supersedes <paramref name="current"/> (null: nothing yet).</summary>
    public static bool IsNewer(string candidate, string? current) =>
        current is null || string.CompareOrdinal(candidate, current) > 0;
}
