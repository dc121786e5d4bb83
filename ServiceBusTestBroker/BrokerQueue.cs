using Microsoft.Azure.Amqp;
using Microsoft.Azure.Amqp.Framing;

namespace ServiceBusTestBroker;

/// <summary>
/// One queue (or a queue's dead-letter sub-queue): peek-lock with lock tokens, settlement, delivery counts,
/// automatic dead-lettering, scheduling, deferral and duplicate detection. Tests read its state through the
/// counts and <see cref="Messages"/>.
/// </summary>
public sealed class BrokerQueue
{
    public const string MaxDeliveryCountExceededReason = "MaxDeliveryCountExceeded";

    private readonly object _sync = new();
    private readonly SortedDictionary<long, QueuedMessage> _inQueue = [];
    private readonly SortedDictionary<long, QueuedMessage> _available = [];
    private readonly SortedDictionary<long, QueuedMessage> _scheduled = [];
    private readonly Dictionary<Guid, QueuedMessage> _locked = [];
    private readonly Dictionary<string, DateTime> _recentMessageIds = [];
    private readonly Queue<(string MessageId, DateTime Seen)> _messageIdsInOrder = new();
    private readonly List<QueueConsumer> _consumers = [];
    private long _lastSequenceNumber;
    private int _nextConsumer;
    private long _totalSent;
    private long _duplicatesDropped;
    private long _completed;

    internal BrokerQueue(string name, int maxDeliveryCount, TimeSpan lockDuration, TimeSpan duplicateDetectionWindow, bool isDeadLetterQueue)
    {
        Name = name;
        MaxDeliveryCount = maxDeliveryCount;
        LockDuration = lockDuration;
        DuplicateDetectionWindow = duplicateDetectionWindow;
        DeadLetterQueue = isDeadLetterQueue
            ? null
            : new BrokerQueue(name + "/" + ServiceBusBroker.DeadLetterQueueSuffix, int.MaxValue, lockDuration, TimeSpan.Zero, true);
    }

    public string Name { get; }
    public int MaxDeliveryCount { get; }
    public TimeSpan LockDuration { get; }
    public TimeSpan DuplicateDetectionWindow { get; }

    /// <summary>The dead-letter sub-queue, itself receivable; null for a dead-letter queue.</summary>
    public BrokerQueue? DeadLetterQueue { get; }

    /// <summary>Messages available or locked, as Service Bus counts active messages.</summary>
    public int ActiveMessageCount => Count(m => m.State is MessageState.Available or MessageState.Locked);

    public int LockedMessageCount => Count(m => m.State == MessageState.Locked);
    public int DeferredMessageCount => Count(m => m.State == MessageState.Deferred);

    public int ScheduledMessageCount
    {
        get
        {
            lock (_sync)
            {
                return _scheduled.Count;
            }
        }
    }

    public int DeadLetterMessageCount => DeadLetterQueue?.ActiveMessageCount ?? 0;

    /// <summary>Messages the broker accepted into this queue, scheduled ones included, dropped duplicates not.</summary>
    public long TotalSent => Interlocked.Read(ref _totalSent);

    public long DuplicatesDropped => Interlocked.Read(ref _duplicatesDropped);
    public long CompletedCount => Interlocked.Read(ref _completed);

    /// <summary>A snapshot of every message in the queue, scheduled ones included, in sequence order.</summary>
    public IReadOnlyList<BrokerMessage> Messages()
    {
        lock (_sync)
        {
            return _inQueue.Values.Concat(_scheduled.Values).OrderBy(m => m.SequenceNumber).Select(m => m.Snapshot()).ToList();
        }
    }

    /// <summary>The dead-lettered messages, with their reasons.</summary>
    public IReadOnlyList<BrokerMessage> DeadLetterMessages() => DeadLetterQueue?.Messages() ?? [];

    /// <summary>Waits until <paramref name="condition"/> holds, polling; throws <see cref="TimeoutException"/> after <paramref name="timeout"/>.</summary>
    public async Task WaitUntilAsync(Func<BrokerQueue, bool> condition, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var deadline = DateTime.UtcNow + timeout;
        while (!condition(this))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Queue '{Name}' did not reach the expected state within {timeout}.");
            }

            await Task.Delay(20);
        }
    }

    /// <summary>Keeps each encoded message, unless it repeats a message id seen inside the window; returns the sequence numbers.</summary>
    internal IReadOnlyList<long> Enqueue(IEnumerable<byte[]> encodedMessages)
    {
        var sequenceNumbers = new List<long>();
        lock (_sync)
        {
            var now = DateTime.UtcNow;
            foreach (var encoded in encodedMessages)
            {
                var decoded = MessageCodec.Decode(encoded);
                var messageId = MessageCodec.MessageId(decoded);
                if (IsDuplicate(messageId, now))
                {
                    _duplicatesDropped++;
                    continue;
                }

                var message = new QueuedMessage(encoded, messageId, ++_lastSequenceNumber, now)
                {
                    ScheduledEnqueueTimeUtc = MessageCodec.ScheduledEnqueueTimeUtc(decoded),
                };
                if (message.ScheduledEnqueueTimeUtc is not null)
                {
                    message.State = MessageState.Scheduled;
                    _scheduled.Add(message.SequenceNumber, message);
                }
                else
                {
                    MakeAvailable(message);
                }

                _totalSent++;
                sequenceNumbers.Add(message.SequenceNumber);
            }
        }

        Pump();
        return sequenceNumbers;
    }

    internal void CancelScheduled(IEnumerable<long> sequenceNumbers)
    {
        lock (_sync)
        {
            foreach (var sequenceNumber in sequenceNumbers)
            {
                _scheduled.Remove(sequenceNumber);
            }
        }
    }

    internal void AddConsumer(QueueConsumer consumer)
    {
        lock (_sync)
        {
            _consumers.Add(consumer);
        }
    }

    /// <summary>A closed link's locks stay until they expire, as on Service Bus.</summary>
    internal void RemoveConsumer(QueueConsumer consumer)
    {
        lock (_sync)
        {
            _consumers.Remove(consumer);
        }
    }

    internal void AddCredit(QueueConsumer consumer, uint credit, bool drain)
    {
        lock (_sync)
        {
            consumer.Credit = credit == uint.MaxValue ? int.MaxValue : (int)Math.Min(int.MaxValue, (long)consumer.Credit + credit);
        }

        Pump();
        if (drain)
        {
            lock (_sync)
            {
                consumer.Credit = 0;
            }
        }
    }

    /// <summary>Applies a receiver's outcome to the message its lock token names; false when the lock is lost.</summary>
    internal bool Settle(Guid lockToken, DeliveryState outcome)
    {
        lock (_sync)
        {
            if (!_locked.Remove(lockToken, out var message))
            {
                return false;
            }

            switch (outcome)
            {
                case Accepted:
                    Remove(message);
                    _completed++;
                    break;
                case Modified { UndeliverableHere: true }:
                    message.State = MessageState.Deferred;
                    break;
                case Modified:
                    ReturnOrDeadLetter(message);
                    break;
                case Rejected rejected:
                    DeadLetter(message, InfoText(rejected, MessageCodec.DeadLetterReasonProperty), InfoText(rejected, MessageCodec.DeadLetterDescriptionProperty));
                    break;
                default:
                    // Released: handed back unread, so this delivery does not count.
                    message.DeliveryCount--;
                    MakeAvailable(message);
                    break;
            }
        }

        PumpWithDeadLetters();
        return true;
    }

    /// <summary>The management link's settlement (for messages received by sequence number): completed, abandoned, suspended, defered.</summary>
    internal bool Settle(Guid lockToken, string dispositionStatus, string? deadLetterReason, string? deadLetterDescription)
    {
        DeliveryState? outcome = dispositionStatus switch
        {
            "completed" => new Accepted(),
            "abandoned" => new Modified(),
            "defered" => new Modified { UndeliverableHere = true },
            "suspended" => DeadLetterOutcome(deadLetterReason, deadLetterDescription),
            _ => null,
        };
        return outcome is not null && Settle(lockToken, outcome);
    }

    internal DateTime? RenewLock(Guid lockToken)
    {
        lock (_sync)
        {
            if (!_locked.TryGetValue(lockToken, out var message))
            {
                return null;
            }

            message.LockedUntilUtc = DateTime.UtcNow + LockDuration;
            return message.LockedUntilUtc;
        }
    }

    internal IReadOnlyList<AmqpMessage> Peek(long fromSequenceNumber, int count)
    {
        lock (_sync)
        {
            return _inQueue.Values.Concat(_scheduled.Values)
                .Where(m => m.SequenceNumber >= fromSequenceNumber)
                .OrderBy(m => m.SequenceNumber)
                .Take(count)
                .Select(m => MessageCodec.ForDelivery(m, locked: false, peeked: true))
                .ToList();
        }
    }

    /// <summary>Deferred messages by sequence number: locked for the management link, or removed when <paramref name="peekLock"/> is false.</summary>
    internal IReadOnlyList<(AmqpMessage Message, Guid LockToken)> ReceiveDeferred(IEnumerable<long> sequenceNumbers, bool peekLock)
    {
        var received = new List<(AmqpMessage, Guid)>();
        lock (_sync)
        {
            foreach (var sequenceNumber in sequenceNumbers)
            {
                if (!_inQueue.TryGetValue(sequenceNumber, out var message) || message.State != MessageState.Deferred)
                {
                    continue;
                }

                message.DeliveryCount++;
                if (peekLock)
                {
                    Lock(message);
                }
                else
                {
                    Remove(message);
                }

                received.Add((MessageCodec.ForDelivery(message, peekLock), message.LockToken));
            }
        }

        return received;
    }

    /// <summary>Expires locks (a redelivery, or a dead letter at the max delivery count) and enqueues scheduled messages that are due.</summary>
    internal void Sweep(DateTime now)
    {
        lock (_sync)
        {
            foreach (var expired in _locked.Values.Where(m => m.LockedUntilUtc <= now).ToList())
            {
                _locked.Remove(expired.LockToken);
                ReturnOrDeadLetter(expired);
            }

            foreach (var due in _scheduled.Values.Where(m => m.ScheduledEnqueueTimeUtc <= now).ToList())
            {
                _scheduled.Remove(due.SequenceNumber);
                due.EnqueuedTimeUtc = now;
                MakeAvailable(due);
            }

            // Ids were seen in time order, so the expired ones are at the head (a later sighting supersedes an earlier one).
            while (_messageIdsInOrder.TryPeek(out var oldest) && now - oldest.Seen >= DuplicateDetectionWindow)
            {
                _messageIdsInOrder.Dequeue();
                if (_recentMessageIds.TryGetValue(oldest.MessageId, out var seen) && seen == oldest.Seen)
                {
                    _recentMessageIds.Remove(oldest.MessageId);
                }
            }
        }

        PumpWithDeadLetters();
    }

    internal static Rejected DeadLetterOutcome(string? reason, string? description)
    {
        var error = new Error { Condition = ServiceBusBroker.DeadLetterCondition, Info = new Fields() };
        if (reason is not null)
        {
            error.Info[MessageCodec.DeadLetterReasonProperty] = reason;
        }

        if (description is not null)
        {
            error.Info[MessageCodec.DeadLetterDescriptionProperty] = description;
        }

        return new Rejected { Error = error };
    }

    private void AcceptDeadLetter(QueuedMessage original, string? reason, string? description, string source)
    {
        lock (_sync)
        {
            var message = new QueuedMessage(original.Encoded, original.MessageId, original.SequenceNumber, original.EnqueuedTimeUtc)
            {
                DeliveryCount = original.DeliveryCount,
                DeadLetterReason = reason,
                DeadLetterDescription = description,
                DeadLetterSource = source,
            };
            _totalSent++;
            MakeAvailable(message);
        }
    }

    /// <summary>Hands available messages to consumers with credit, one per credit, round robin.</summary>
    private void Pump()
    {
        var deliveries = new List<(QueueConsumer Consumer, AmqpMessage Message, Guid LockToken)>();
        lock (_sync)
        {
            while (_available.Count > 0 && NextConsumerWithCredit() is { } consumer)
            {
                var message = _available.First().Value;
                _available.Remove(message.SequenceNumber);
                consumer.Credit--;
                message.DeliveryCount++;
                if (consumer.ReceiveAndDelete)
                {
                    Remove(message);
                    _completed++;
                }
                else
                {
                    Lock(message);
                }

                deliveries.Add((consumer, MessageCodec.ForDelivery(message, !consumer.ReceiveAndDelete), message.LockToken));
            }
        }

        foreach (var (consumer, message, lockToken) in deliveries)
        {
            if (!consumer.TrySend(message, lockToken))
            {
                Settle(lockToken, new Released());
            }
        }
    }

    private void PumpWithDeadLetters()
    {
        Pump();
        DeadLetterQueue?.Pump();
    }

    private QueueConsumer? NextConsumerWithCredit()
    {
        for (var i = 0; i < _consumers.Count; i++)
        {
            var consumer = _consumers[(_nextConsumer + i) % _consumers.Count];
            if (consumer.Credit > 0)
            {
                _nextConsumer = (_nextConsumer + i + 1) % _consumers.Count;
                return consumer;
            }
        }

        return null;
    }

    private void Lock(QueuedMessage message)
    {
        message.State = MessageState.Locked;
        message.LockToken = Guid.NewGuid();
        message.LockedUntilUtc = DateTime.UtcNow + LockDuration;
        _locked.Add(message.LockToken, message);
    }

    private void MakeAvailable(QueuedMessage message)
    {
        message.State = MessageState.Available;
        _inQueue[message.SequenceNumber] = message;
        _available[message.SequenceNumber] = message;
    }

    private void Remove(QueuedMessage message)
    {
        _inQueue.Remove(message.SequenceNumber);
        _available.Remove(message.SequenceNumber);
    }

    private void ReturnOrDeadLetter(QueuedMessage message)
    {
        if (message.DeliveryCount >= MaxDeliveryCount)
        {
            DeadLetter(message, MaxDeliveryCountExceededReason, $"Message could not be consumed after {MaxDeliveryCount} delivery attempts.");
        }
        else
        {
            MakeAvailable(message);
        }
    }

    private void DeadLetter(QueuedMessage message, string? reason, string? description)
    {
        Remove(message);
        if (DeadLetterQueue is null)
        {
            // Settling a dead letter as dead-lettered again keeps it where it is.
            MakeAvailable(message);
            return;
        }

        DeadLetterQueue.AcceptDeadLetter(message, reason, description, Name);
    }

    private bool IsDuplicate(string? messageId, DateTime now)
    {
        if (messageId is null || DuplicateDetectionWindow <= TimeSpan.Zero)
        {
            return false;
        }

        if (_recentMessageIds.TryGetValue(messageId, out var seen) && now - seen < DuplicateDetectionWindow)
        {
            return true;
        }

        _recentMessageIds[messageId] = now;
        _messageIdsInOrder.Enqueue((messageId, now));
        return false;
    }

    private int Count(Func<QueuedMessage, bool> predicate)
    {
        lock (_sync)
        {
            return _inQueue.Values.Count(predicate);
        }
    }

    private static string? InfoText(Rejected rejected, string key) =>
        rejected.Error?.Info is { } info && info.TryGetValue<string>(key, out var text) ? text : null;
}
