using Microsoft.Azure.Amqp;
using Microsoft.Azure.Amqp.Encoding;
using Microsoft.Azure.Amqp.Framing;

namespace ServiceBusTestBroker;

/// <summary>Turns AMQP messages into the bytes the broker keeps, and kept messages back into deliveries.</summary>
internal static class MessageCodec
{
    /// <summary>The message format of a Service Bus batch: each data section is one whole encoded message.</summary>
    public const uint BatchMessageFormat = 0x80013700;

    public static readonly AmqpSymbol EnqueuedTime = "x-opt-enqueued-time";
    public static readonly AmqpSymbol SequenceNumber = "x-opt-sequence-number";
    public static readonly AmqpSymbol LockedUntil = "x-opt-locked-until";
    public static readonly AmqpSymbol ScheduledEnqueueTime = "x-opt-scheduled-enqueue-time";
    public static readonly AmqpSymbol DeadLetterSource = "x-opt-deadletter-source";
    public const string DeadLetterReasonProperty = "DeadLetterReason";
    public const string DeadLetterDescriptionProperty = "DeadLetterErrorDescription";

    /// <summary>The encoded messages one transfer carries: one, or each data section of a batch.</summary>
    public static IReadOnlyList<byte[]> Unpack(AmqpMessage transfer)
    {
        if (transfer.MessageFormat == BatchMessageFormat)
        {
            return transfer.DataBody.Select(data => ToArray((ArraySegment<byte>)data.Value)).ToList();
        }

        // The bytes as they came off the wire (GetPayload would re-encode only the sections already read).
        using var wire = (BufferListStream)((BufferListStream)transfer.ToStream()).Clone();
        return [ToArray(wire.ReadBytes((int)wire.Length))];
    }

    /// <summary>Reads a kept message; every call decodes afresh, so sections can be changed and sent without sharing.</summary>
    public static AmqpMessage Decode(byte[] encoded)
    {
        var message = AmqpMessage.CreateAmqpStreamMessage(new BufferListStream([new ArraySegment<byte>(encoded)]), true);
        message.Deserialize(SectionFlag.All);
        return message;
    }

    public static byte[] Encode(AmqpMessage message) => Concat(message.GetPayload());

    /// <summary>
    /// A new message with the sender's sections and body, and the broker's own header and annotations
    /// (the header's delivery-count is the number of earlier deliveries, which a receiver shows plus one; a peek shows it as is).
    /// </summary>
    public static AmqpMessage ForDelivery(QueuedMessage kept, bool locked, bool peeked = false)
    {
        var sent = Decode(kept.Encoded);
        var delivery = (sent.BodyType & SectionFlag.Data) != 0 ? AmqpMessage.Create(sent.DataBody.ToList())
            : (sent.BodyType & SectionFlag.AmqpValue) != 0 ? AmqpMessage.Create(sent.ValueBody)
            : (sent.BodyType & SectionFlag.AmqpSequence) != 0 ? AmqpMessage.Create(sent.SequenceBody.ToList())
            : AmqpMessage.Create();

        delivery.Header.DeliveryCount = (uint)(peeked ? kept.DeliveryCount : Math.Max(0, kept.DeliveryCount - 1));
        delivery.Header.Ttl = sent.Header.Ttl;
        delivery.Header.Durable = sent.Header.Durable;
        delivery.Header.Priority = sent.Header.Priority;
        if ((sent.Sections & SectionFlag.Properties) != 0)
        {
            CopyProperties(sent.Properties, delivery.Properties);
        }

        if ((sent.Sections & SectionFlag.ApplicationProperties) != 0)
        {
            delivery.ApplicationProperties = sent.ApplicationProperties;
        }

        if (kept.DeadLetterReason is not null)
        {
            delivery.ApplicationProperties.Map[DeadLetterReasonProperty] = kept.DeadLetterReason;
        }

        if (kept.DeadLetterDescription is not null)
        {
            delivery.ApplicationProperties.Map[DeadLetterDescriptionProperty] = kept.DeadLetterDescription;
        }

        if ((sent.Sections & SectionFlag.MessageAnnotations) != 0)
        {
            delivery.MessageAnnotations = sent.MessageAnnotations;
        }

        var annotations = delivery.MessageAnnotations.Map;
        annotations[EnqueuedTime] = kept.EnqueuedTimeUtc;
        annotations[SequenceNumber] = kept.SequenceNumber;
        if (locked)
        {
            annotations[LockedUntil] = kept.LockedUntilUtc;
        }

        if (kept.DeadLetterSource is not null)
        {
            annotations[DeadLetterSource] = kept.DeadLetterSource;
        }

        return delivery;
    }

    public static string? MessageId(AmqpMessage message) =>
        (message.Sections & SectionFlag.Properties) != 0 ? message.Properties.MessageId?.ToString() : null;

    public static DateTime? ScheduledEnqueueTimeUtc(AmqpMessage message) =>
        (message.Sections & SectionFlag.MessageAnnotations) != 0
        && message.MessageAnnotations.Map.TryGetValue<DateTime>(ScheduledEnqueueTime, out var scheduled)
        && scheduled > DateTime.UtcNow
            ? scheduled
            : null;

    private static void CopyProperties(Properties from, Properties to)
    {
        to.MessageId = from.MessageId;
        to.UserId = from.UserId;
        to.To = from.To;
        to.Subject = from.Subject;
        to.ReplyTo = from.ReplyTo;
        to.CorrelationId = from.CorrelationId;
        to.ContentType = from.ContentType;
        to.ContentEncoding = from.ContentEncoding;
        to.AbsoluteExpiryTime = from.AbsoluteExpiryTime;
        to.CreationTime = from.CreationTime;
        to.GroupId = from.GroupId;
        to.GroupSequence = from.GroupSequence;
        to.ReplyToGroupId = from.ReplyToGroupId;
    }

    private static byte[] Concat(ArraySegment<byte>[] segments)
    {
        var bytes = new byte[segments.Sum(segment => segment.Count)];
        var offset = 0;
        foreach (var segment in segments)
        {
            segment.AsSpan().CopyTo(bytes.AsSpan(offset));
            offset += segment.Count;
        }

        return bytes;
    }

    private static byte[] ToArray(ArraySegment<byte> segment) => segment.AsSpan().ToArray();
}
