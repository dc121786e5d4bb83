using Azure.Core;
using FunctionApp.Core;
using FunctionApp.Hosting;
using FunctionApp.Storage.Http;

namespace FunctionApp.Storage.Queues;

/// <summary>
/// The standalone <see cref="IRelationshipEventQueue"/>: puts every batch of a callback on the Storage queue, in
/// parallel, and returns only when the service has stored them all. It must fail fast when storage is down, because
/// the platform waits about 2 s for its answer: the client it is given uses <see cref="AcknowledgementOptions"/>, and
/// the whole call is bounded by <see cref="MaxEnqueueTime"/>. Any failure throws, and the caller answers with the
/// platform's failure answer: an acknowledgement is never sent for a batch that is not stored.
/// </summary>
public sealed class StorageQueueEventQueue : IRelationshipEventQueue
{
    /// <summary>The longest an enqueue may take before the callback is answered with a failure: well inside the 2 s Tencent waits, network included.</summary>
    public static readonly TimeSpan MaxEnqueueTime = TimeSpan.FromMilliseconds(1000);

    private readonly QueueClient _queue;

    public StorageQueueEventQueue(QueueClient queue) => _queue = queue ?? throw new ArgumentNullException(nameof(queue));

    /// <summary>Pipeline options of the acknowledgement path: two quick retries, short per-attempt timeout.</summary>
    public static StorageClientOptions AcknowledgementOptions()
    {
        var options = new StorageClientOptions();
        options.Retry.Mode = RetryMode.Exponential;
        options.Retry.MaxRetries = 2;
        options.Retry.Delay = TimeSpan.FromMilliseconds(100);
        options.Retry.MaxDelay = TimeSpan.FromMilliseconds(250);
        options.Retry.NetworkTimeout = TimeSpan.FromMilliseconds(500);
        return options;
    }

    public async Task EnqueueAsync(IReadOnlyList<RelationshipBatch> batches, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batches);
        var texts = batches.Select(RelationshipQueueMessage.Encode).ToList();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(MaxEnqueueTime);
        try
        {
            await Task.WhenAll(texts.Select(text => _queue.SendMessageAsync(text, cancellationToken: deadline.Token))).ConfigureAwait(false);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException(
                $"The batches were not all stored on queue {_queue.Name} within {MaxEnqueueTime.TotalMilliseconds:F0} ms.", ex);
        }
    }
}
