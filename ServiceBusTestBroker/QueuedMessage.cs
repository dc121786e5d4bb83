namespace ServiceBusTestBroker;

/// <summary>Where a kept message is in its queue's life cycle.</summary>
public enum MessageState
{
    Available,
    Locked,
    Deferred,
    Scheduled,
}

/// <summary>One message as the broker keeps it: the bytes the sender encoded, and the broker's own state.</summary>
internal sealed class QueuedMessage(byte[] encoded, string? messageId, long sequenceNumber, DateTime enqueuedTimeUtc)
{
    public byte[] Encoded { get; } = encoded;
    public string? MessageId { get; } = messageId;
    public long SequenceNumber { get; } = sequenceNumber;
    public DateTime EnqueuedTimeUtc { get; set; } = enqueuedTimeUtc;
    public DateTime? ScheduledEnqueueTimeUtc { get; set; }
    public MessageState State { get; set; }

    /// <summary>Deliveries so far, the current one included.</summary>
    public int DeliveryCount { get; set; }

    public Guid LockToken { get; set; }
    public DateTime LockedUntilUtc { get; set; }
    public string? DeadLetterReason { get; set; }
    public string? DeadLetterDescription { get; set; }
    public string? DeadLetterSource { get; set; }

    public BrokerMessage Snapshot()
    {
        var decoded = MessageCodec.Decode(Encoded);
        var body = decoded.DataBody?.SelectMany(data => ((ArraySegment<byte>)data.Value).ToArray()).ToArray() ?? [];
        return new BrokerMessage(SequenceNumber, MessageId, body, State, DeliveryCount, EnqueuedTimeUtc, DeadLetterReason, DeadLetterDescription);
    }
}

/// <summary>What a test sees of a message in a queue.</summary>
public sealed record BrokerMessage(
    long SequenceNumber,
    string? MessageId,
    byte[] Body,
    MessageState State,
    int DeliveryCount,
    DateTime EnqueuedTimeUtc,
    string? DeadLetterReason,
    string? DeadLetterDescription);
