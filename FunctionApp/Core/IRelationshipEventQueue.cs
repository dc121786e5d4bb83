namespace FunctionApp.Core;

/// <summary>
/// The durable queue between ingestion and apply (standalone: a Storage queue). A callback is acknowledged only
/// after <see cref="EnqueueAsync"/> returns.
/// </summary>
public interface IRelationshipEventQueue
{
    /// <summary>
    /// Largest batch, as its <see cref="RelationshipBatchJson"/> in bytes, that one message of this queue carries; the
    /// ingestor cuts callbacks into batches no larger than this.
    /// </summary>
    int MaxBatchJsonBytes { get; }

    /// <summary>Puts every batch durably on the queue, or throws.</summary>
    Task EnqueueAsync(IReadOnlyList<RelationshipBatch> batches, CancellationToken cancellationToken);
}
