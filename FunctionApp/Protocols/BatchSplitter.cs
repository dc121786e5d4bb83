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
        if (MaxSerializedBytes(whole) <= maxMessageBytes || RelationshipBatchJson.Serialize(whole).Length <= maxMessageBytes)
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

    /// <summary>Room for everything but the strings of the envelope: names, punctuation, numbers, two times.</summary>
    private const int EnvelopeAllowance = 1024;

    /// <summary>The same per event: names, punctuation, kind, action and the time.</summary>
    private const int EventAllowance = 256;

    /// <summary>The same per attribute: quotes, colon and comma.</summary>
    private const int AttributeAllowance = 8;

    /// <summary>Worst case of one UTF-16 character in JSON: an escape such as <c>\u00e9</c>.</summary>
    private const int MaxBytesPerChar = 6;

    /// <summary>
    /// An upper bound of the batch's serialized size, found without serializing it, so the usual small callback is
    /// not serialized once here to be measured and again when it is sent.
    /// </summary>
    internal static long MaxSerializedBytes(RelationshipBatch batch)
    {
        var source = batch.Source;
        long chars = Length(batch.BatchId) + Length(source.Platform) + Length(source.AppId) + Length(source.Command)
            + Length(source.ClientIp) + Length(source.OptPlatform) + Length(source.OperationId);
        long bytes = EnvelopeAllowance;
        foreach (var relationshipEvent in batch.Events)
        {
            bytes += EventAllowance;
            chars += Length(relationshipEvent.EventId) + Length(relationshipEvent.Owner) + Length(relationshipEvent.Peer);
            foreach (var (name, value) in relationshipEvent.Attributes)
            {
                bytes += AttributeAllowance;
                chars += Length(name) + Length(value);
            }
        }

        return bytes + (chars * MaxBytesPerChar);
    }

    private static int Length(string? text) => text?.Length ?? 0;
}
