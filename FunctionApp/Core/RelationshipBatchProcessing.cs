namespace FunctionApp.Core;

/// <summary>What became of one delivered message.</summary>
public enum BatchOutcomeKind
{
    /// <summary>The batch is in the tables: settle the message (complete, delete, 2xx).</summary>
    Applied,

    /// <summary>The store failed, also on the retries within the delivery: redeliver after <see cref="BatchOutcome.Redelivery"/>'s delay.</summary>
    RetryLater,

    /// <summary>No build of this app can ever apply it: park it at once with the reason (dead-letter, poison).</summary>
    NeverApplicable,

    /// <summary>The store has failed on this batch for the whole retry period: park it with the last failure as the reason.</summary>
    RetryPeriodExceeded,
}

/// <param name="Batch">The decoded batch; null when the message is not one.</param>
/// <param name="Reason">Why it was not applied (never a body or a secret); null when applied.</param>
/// <param name="Redelivery">When <see cref="BatchOutcomeKind.RetryLater"/>: the delay and the state the redelivered message carries.</param>
public sealed record BatchOutcome(BatchOutcomeKind Kind, RelationshipBatch? Batch, string? Reason, Exception? Error = null, Redelivery? Redelivery = null)
{
    /// <summary>Short name for logs.</summary>
    public string Name => Kind switch
    {
        BatchOutcomeKind.Applied => "applied",
        BatchOutcomeKind.RetryLater => "retry",
        BatchOutcomeKind.NeverApplicable => "invalid",
        _ => "expired",
    };
}

/// <summary>How the queue handed a message over.</summary>
/// <param name="DeliveryCount">How often the queue has handed this message over, for the log line (0 when unknown).</param>
/// <param name="Redelivery">The state a redelivered message carries; null on a message's first chain link.</param>
public sealed record BatchDelivery(int DeliveryCount, RedeliveryState? Redelivery = null);

/// <summary>
/// Decode, apply (retrying a store failure within the delivery), classify and log one delivered message. Every
/// delivery (the trigger invocation, the Storage drain, the Service Bus drain) goes through it and only translates the
/// outcome into its own settle action.
/// </summary>
public interface IRelationshipBatchProcessor
{
    /// <param name="readBody">
    /// Gives the message body, UTF-8 JSON of one <see cref="RelationshipBatch"/>, from the transport's form of it; throws
    /// <see cref="InvalidBatchException"/> when the message is in none (called once, before anything else).
    /// </param>
    Task<BatchOutcome> ProcessAsync(Func<ReadOnlyMemory<byte>> readBody, BatchDelivery delivery, CancellationToken cancellationToken);
}
