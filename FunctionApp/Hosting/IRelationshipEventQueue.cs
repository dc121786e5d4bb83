using FunctionApp.Core;

namespace FunctionApp.Hosting;

/// <summary>
/// The durable queue between ingestion and apply when the app runs standalone (on Azure, the Functions host's
/// Service Bus output binding plays this part). A callback is acknowledged only after this call returns.
/// </summary>
public interface IRelationshipEventQueue
{
    /// <summary>Puts every batch durably on the queue, or throws.</summary>
    Task EnqueueAsync(IReadOnlyList<RelationshipBatch> batches, CancellationToken cancellationToken);
}
