namespace FunctionApp.Core;

/// <summary>What became of one delivered message.</summary>
public enum BatchOutcomeKind
{
    /// <summary>The batch is in the tables: settle the message (complete, delete, 2xx).</summary>
    Applied,

    /// <summary>The store failed; the message must come back (abandon, visibility, 5xx).</summary>
    RetryLater,

    /// <summary>No build of this app can ever apply it: park it with the reason (dead-letter, poison, 4xx).</summary>
    NeverApplicable,
}

/// <param name="Batch">The decoded batch; null when the message is not one.</param>
/// <param name="Reason">Why it was not applied (never a body or a secret); null when applied.</param>
public sealed record BatchOutcome(BatchOutcomeKind Kind, RelationshipBatch? Batch, string? Reason, Exception? Error = null)
{
    /// <summary>Short name for logs and dead-letter reasons.</summary>
    public string Name => Kind switch
    {
        BatchOutcomeKind.Applied => "applied",
        BatchOutcomeKind.RetryLater => "failed",
        _ => "invalid",
    };
}

/// <summary>
/// Decode, apply, classify and log one delivered message. Every delivery (the trigger invocation, the Storage drain,
/// the Service Bus drain) goes through it and only translates the outcome into its own settle action.
/// </summary>
public interface IRelationshipBatchProcessor
{
    /// <param name="json">The message body: UTF-8 JSON of one <see cref="RelationshipBatch"/>.</param>
    /// <param name="deliveryCount">How often the queue has handed this message over, for the log line (0 when unknown).</param>
    Task<BatchOutcome> ProcessAsync(ReadOnlyMemory<byte> json, int deliveryCount, CancellationToken cancellationToken);
}
