using Azure.Storage.Queues;
using FunctionApp.Core;

namespace FunctionApp.Messaging;

/// <summary>
/// The standalone <see cref="IRelationshipEventQueue"/> on Azure.Storage.Queues: puts every batch of a callback on the
/// Storage queue, in parallel, and returns only when the service has stored them all. It must fail fast when storage
/// is down, because the platform waits about 2 s for its answer: the client it is given has short retries and network
/// timeouts, and the whole call is bounded by <see cref="MaxEnqueueTime"/>. Any failure throws, and the caller answers
/// with the platform's failure answer: an acknowledgement is never sent for a batch that is not stored. Each call's
/// latency goes to the <see cref="EnqueueLatencyMonitor"/> the drain yields to.
/// </summary>
public sealed class StorageQueueEventQueue : IRelationshipEventQueue
{
    /// <summary>The longest an enqueue may take before the callback is answered with a failure: well inside the 2 s Tencent waits, network included.</summary>
    public static readonly TimeSpan MaxEnqueueTime = TimeSpan.FromMilliseconds(1000);

    /// <summary>A message stays until it is applied and deleted (the service default would drop it after 7 days).</summary>
    public static readonly TimeSpan NeverExpires = TimeSpan.FromSeconds(-1);

    private readonly QueueClient _queue;
    private readonly EnqueueLatencyMonitor _latency;

    public StorageQueueEventQueue(QueueClient queue, EnqueueLatencyMonitor latency)
    {
        _queue = queue ?? throw new ArgumentNullException(nameof(queue));
        _latency = latency ?? throw new ArgumentNullException(nameof(latency));
    }

    public int MaxBatchJsonBytes => RelationshipQueueMessage.MaxBatchJsonBytes;

    public async Task EnqueueAsync(IReadOnlyList<RelationshipBatch> batches, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batches);
        var ticket = _latency.Started();
        var succeeded = false;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(MaxEnqueueTime);
        try
        {
            if (batches.Count == 1)
            {
                await SendAsync(batches[0], deadline.Token).ConfigureAwait(false);
            }
            else
            {
                await Task.WhenAll(batches.Select(batch => SendAsync(batch, deadline.Token))).ConfigureAwait(false);
            }

            succeeded = true;
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException(
                $"The batches were not all stored on queue {_queue.Name} within {MaxEnqueueTime.TotalMilliseconds:F0} ms.", ex);
        }
        finally
        {
            _latency.Finished(ticket, succeeded);
        }
    }

    private Task SendAsync(RelationshipBatch batch, CancellationToken cancellationToken) =>
        _queue.SendMessageAsync(RelationshipQueueMessage.Encode(batch), visibilityTimeout: null, timeToLive: NeverExpires, cancellationToken);
}
