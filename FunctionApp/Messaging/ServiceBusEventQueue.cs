using Azure.Messaging.ServiceBus;
using FunctionApp.Core;

namespace FunctionApp.Messaging;

/// <summary>
/// The <see cref="IRelationshipEventQueue"/> on a Service Bus queue, through one <see cref="ServiceBusSender"/>. Each
/// batch part is one message whose <c>MessageId</c> is <c>{batchId}-{part}</c>, so a callback the platform sends again
/// is dropped by the queue's duplicate detection. Parts are packed into <see cref="ServiceBusMessageBatch"/>es, sized
/// by the entity's own maximum message size, and the ingestor cuts callbacks to that size (<see cref="MaxBatchJsonBytes"/>).
/// A send that has not returned within <see cref="MaxEnqueueTime"/> fails, so the platform gets its failure answer;
/// an acknowledgement is never sent for a message Service Bus has not accepted.
/// <para>
/// It also schedules the redelivery copies of batches the store failed on (<see cref="IBatchRedeliveryScheduler"/>).
/// A copy must not reuse the original's <c>MessageId</c>: duplicate detection would drop it (and with it the batch)
/// inside the window. Its id is <see cref="RedeliveryMessageId"/>, derived from the original's and the generation, so a
/// copy of one generation scheduled twice (a settle that failed after the copy was sent) is still dropped once.
/// </para>
/// </summary>
public sealed class ServiceBusEventQueue : IRelationshipEventQueue, IBatchRedeliveryScheduler
{
    /// <summary>The longest an enqueue may take before the callback is answered with a failure: well inside the 2 s Tencent waits.</summary>
    public static readonly TimeSpan MaxEnqueueTime = TimeSpan.FromMilliseconds(1000);

    /// <summary>Maximum message size of the Standard tier (256 KiB), assumed until the entity has reported its own.</summary>
    public const long StandardTierMaxMessageBytes = 256 * 1024;

    /// <summary>
    /// Room in a message for everything but the batch JSON: the AMQP header, properties with the message id and content
    /// type, and the batch envelope a <see cref="ServiceBusMessageBatch"/> reserves per message.
    /// </summary>
    public const int MessageOverheadBytes = 1024;

    public const string ContentType = "application/json";

    /// <summary>
    /// Client retries that keep a failed send inside <see cref="MaxEnqueueTime"/>: each try (connection, link and send
    /// included) gets 400 ms and there is one retry 50 ms later, at most 850 ms in all, so an outage ends in the
    /// platform's failure answer (and the platform's own retry) rather than a late answer the platform has given up on.
    /// </summary>
    public static ServiceBusRetryOptions AcknowledgementRetryOptions() => new()
    {
        Mode = ServiceBusRetryMode.Fixed,
        MaxRetries = 1,
        Delay = TimeSpan.FromMilliseconds(50),
        MaxDelay = TimeSpan.FromMilliseconds(100),
        TryTimeout = TimeSpan.FromMilliseconds(400),
    };

    private readonly ServiceBusSender _sender;
    private long _entityMaxMessageBytes = StandardTierMaxMessageBytes;

    public ServiceBusEventQueue(ServiceBusSender sender) => _sender = sender ?? throw new ArgumentNullException(nameof(sender));

    /// <summary>The queue this sends to.</summary>
    public string QueueName => _sender.EntityPath;

    /// <summary>
    /// The entity's maximum message size (the sender link's, as <see cref="ServiceBusMessageBatch.MaxSizeInBytes"/>
    /// reports it once the link is open; 256 KiB before), less <see cref="MessageOverheadBytes"/>.
    /// </summary>
    public int MaxBatchJsonBytes => (int)Math.Min(int.MaxValue, Interlocked.Read(ref _entityMaxMessageBytes) - MessageOverheadBytes);

    /// <summary>The message of one batch part: its JSON as the body, <c>{batchId}-{part}</c> as the message id.</summary>
    public static ServiceBusMessage ToMessage(RelationshipBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        return new ServiceBusMessage(RelationshipBatchJson.Serialize(batch))
        {
            MessageId = MessageIdOf(batch),
            ContentType = ContentType,
        };
    }

    public static string MessageIdOf(RelationshipBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        return $"{batch.BatchId}-{batch.Part}";
    }

    /// <summary>
    /// Opens the sender's link (at startup, so the first callback does not pay for the connection) and learns the
    /// entity's maximum message size from it.
    /// </summary>
    public async Task ConnectAsync(CancellationToken cancellationToken)
    {
        using var batch = await _sender.CreateMessageBatchAsync(cancellationToken).ConfigureAwait(false);
        Learn(batch);
    }

    public async Task EnqueueAsync(IReadOnlyList<RelationshipBatch> batches, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batches);
        if (batches.Count == 0)
        {
            return;
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(MaxEnqueueTime);
        var packed = new List<ServiceBusMessageBatch>();
        try
        {
            // The deadline holds even if a send does not observe its token: the answer is never late.
            if (batches.Count == 1)
            {
                // Most callbacks are one part, cut to the entity's size already: a message batch would encode it twice.
                await _sender.SendMessageAsync(ToMessage(batches[0]), deadline.Token).WaitAsync(MaxEnqueueTime, deadline.Token).ConfigureAwait(false);
                return;
            }

            // One wait around packing and sending: packing asks the link for a batch, which an outage can hold too.
            await PackAndSendAsync(batches, packed, deadline.Token).WaitAsync(MaxEnqueueTime, deadline.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or TimeoutException && !cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException(
                $"The batches were not all accepted by Service Bus queue {QueueName} within {MaxEnqueueTime.TotalMilliseconds:F0} ms.", ex);
        }
        finally
        {
            foreach (var batch in packed)
            {
                batch.Dispose();
            }
        }
    }

    private async Task PackAndSendAsync(IReadOnlyList<RelationshipBatch> batches, List<ServiceBusMessageBatch> packed, CancellationToken cancellationToken)
    {
        await PackAsync(batches, packed, cancellationToken).ConfigureAwait(false);
        await Task.WhenAll(packed.Select(batch => _sender.SendMessagesAsync(batch, cancellationToken))).ConfigureAwait(false);
    }

    /// <summary>Fills as few message batches as the entity's size allows, in part order.</summary>
    private async Task PackAsync(IReadOnlyList<RelationshipBatch> batches, List<ServiceBusMessageBatch> packed, CancellationToken cancellationToken)
    {
        var current = await _sender.CreateMessageBatchAsync(cancellationToken).ConfigureAwait(false);
        packed.Add(current);
        Learn(current);
        foreach (var batch in batches)
        {
            var message = ToMessage(batch);
            if (current.TryAddMessage(message))
            {
                continue;
            }

            if (current.Count > 0)
            {
                current = await _sender.CreateMessageBatchAsync(cancellationToken).ConfigureAwait(false);
                packed.Add(current);
                if (current.TryAddMessage(message))
                {
                    continue;
                }
            }

            throw new InvalidOperationException(
                $"Batch {batch.BatchId} part {batch.Part}/{batch.PartCount} ({message.Body.ToMemory().Length} bytes) is larger than a message " +
                $"of Service Bus queue {QueueName} holds ({current.MaxSizeInBytes} bytes).");
        }
    }

    /// <summary>Service Bus limits a message id to 128 characters.</summary>
    public const int MaxMessageIdLength = 128;

    /// <summary><c>{original}-r{generation}</c>; an original too long for that is replaced by its SHA-256 (hex).</summary>
    public static string RedeliveryMessageId(string originalMessageId, int generation)
    {
        ArgumentNullException.ThrowIfNull(originalMessageId);
        var suffix = "-r" + generation.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var stem = originalMessageId.Length + suffix.Length <= MaxMessageIdLength
            ? originalMessageId
            : Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(originalMessageId)));
        return stem + suffix;
    }

    /// <summary>
    /// The copy of a batch message for its redelivery: the same body and content type, due after the redelivery's
    /// delay, with the redelivery state and the original's id as application properties.
    /// </summary>
    public static ServiceBusMessage ToRedelivery(ReadOnlyMemory<byte> body, string originalMessageId, Redelivery redelivery)
    {
        ArgumentNullException.ThrowIfNull(redelivery);
        var message = new ServiceBusMessage(new BinaryData(body))
        {
            MessageId = RedeliveryMessageId(originalMessageId, redelivery.Next.Generation),
            ContentType = ContentType,
        };
        foreach (var (name, value) in redelivery.Next.ToProperties())
        {
            message.ApplicationProperties[name] = value;
        }

        message.ApplicationProperties[RedeliveryState.OriginalMessageIdProperty] = originalMessageId;
        return message;
    }

    /// <summary>
    /// A plain send with the scheduled enqueue time set, not the schedule-message operation: a send that duplicate
    /// detection drops is still reported as accepted, so a repeated schedule of one generation succeeds and is dropped.
    /// </summary>
    public async Task ScheduleAsync(ReadOnlyMemory<byte> body, string originalMessageId, Redelivery redelivery, CancellationToken cancellationToken)
    {
        var message = ToRedelivery(body, originalMessageId, redelivery);
        message.ScheduledEnqueueTime = DateTimeOffset.UtcNow + redelivery.Delay;
        await _sender.SendMessageAsync(message, cancellationToken).ConfigureAwait(false);
    }

    private void Learn(ServiceBusMessageBatch batch) => Interlocked.Exchange(ref _entityMaxMessageBytes, batch.MaxSizeInBytes);
}
