using Azure.Storage.Queues;

namespace FunctionApp.Tests.Infrastructure;

/// <summary>The app's own Queue clients (SDK, Azurite's service version) for tests that look at a queue directly.</summary>
internal static class QueueTestExtensions
{
    public static QueueClient Queue(this AzuriteFixture azurite, string queueName) =>
        azurite.Clients.GetQueueServiceClient().GetQueueClient(queueName);

    /// <summary>The service's approximate count of messages in the queue, visible or not.</summary>
    public static async Task<int> ApproximateCountAsync(this QueueClient queue) =>
        (await queue.GetPropertiesAsync()).Value.ApproximateMessagesCount;
}
