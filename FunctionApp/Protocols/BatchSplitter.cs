using FunctionApp.Core;

namespace FunctionApp.Protocols;

/// <summary>
/// Cuts a callback's events into queue messages no larger than a limit (Service Bus Standard: 256 KB). Parts keep
/// the event order, share the batch id and source, and are numbered 1..N with PartCount N.
/// </summary>
public static class BatchSplitter
{
    public static IReadOnlyList<RelationshipBatch> Split(string batchId, CallbackSource source, IReadOnlyList<RelationshipEvent> events, int maxMessageBytes)
    {
        ArgumentNullException.ThrowIfNull(events);
        if (events.Count == 0)
        {
            return [];
        }

        var whole = new RelationshipBatch(RelationshipBatch.CurrentSchemaVersion, batchId, 1, 1, source, events);
        if (RelationshipBatchJson.Serialize(whole).Length <= maxMessageBytes)
        {
            return [whole];
        }

        // Measure with the widest part numbers any part could carry, so the real parts can only be smaller.
        var envelope = whole with { Part = events.Count, PartCount = events.Count, Events = [] };
        var envelopeBytes = RelationshipBatchJson.Serialize(envelope).Length;
        var groups = new List<List<RelationshipEvent>>();
        var current = new List<RelationshipEvent>();
        var currentBytes = envelopeBytes;
        foreach (var relationshipEvent in events)
        {
            var eventBytes = RelationshipBatchJson.Serialize(envelope with { Events = [relationshipEvent] }).Length - envelopeBytes;
            if (envelopeBytes + eventBytes > maxMessageBytes)
            {
                throw new CallbackRejectedException(CallbackProblemKind.TooLarge,
                    $"One event of this callback needs {envelopeBytes + eventBytes} bytes, more than a queue message holds ({maxMessageBytes}).");
            }

            var separator = current.Count == 0 ? 0 : 1;
            if (currentBytes + separator + eventBytes > maxMessageBytes)
            {
                groups.Add(current);
                current = [];
                currentBytes = envelopeBytes;
                separator = 0;
            }

            current.Add(relationshipEvent);
            currentBytes += separator + eventBytes;
        }

        groups.Add(current);
        return groups
            .Select((group, index) => whole with { Part = index + 1, PartCount = groups.Count, Events = group })
            .ToList();
    }
}
