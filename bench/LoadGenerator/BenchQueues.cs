using Azure;
using Azure.Storage.Queues;
using FunctionApp.Hosting;

namespace LoadGenerator;

/// <summary>
/// Queue clients of the benchmarks: the app's own Azure.Storage.Queues clients (same options, same service version),
/// so a baseline put is the very request the app's enqueue makes, with nothing around it.
/// </summary>
internal static class BenchQueues
{
    public static QueueClient Get(string connectionString, string queueName, StorageClientProfile profile = StorageClientProfile.Apply) =>
        StorageClients.FromConnectionString(connectionString).GetQueueServiceClient(profile).GetQueueClient(queueName);

    /// <summary>The approximate message count; 0 for a queue that does not exist.</summary>
    public static async Task<long> ApproximateCountAsync(QueueClient queue, CancellationToken cancellationToken)
    {
        try
        {
            return (await queue.GetPropertiesAsync(cancellationToken)).Value.ApproximateMessagesCountLong;
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return 0;
        }
    }
}
