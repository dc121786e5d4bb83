using System.Diagnostics;
using System.Globalization;
using Azure.Messaging.ServiceBus;
using FunctionApp.Hosting;
using FunctionApp.Messaging;
using Microsoft.Extensions.Configuration;

namespace LoadGenerator;

/// <summary>
/// The Service Bus baseline, measured against the same test broker in the same run as the app, through a client made
/// the way the app makes its one client (<c>ServiceBusConnection.CreateClient</c>: same options and retries).
/// </summary>
internal static class ServiceBusBaselines
{
    /// <summary>A client on <paramref name="connectionString"/> with the app's own client options.</summary>
    public static ServiceBusClient Client(string connectionString) =>
        ServiceBusConnection.CreateClient(new ConfigurationBuilder()
            .AddInMemoryCollection([new KeyValuePair<string, string?>(AppSettingNames.ServiceBusConnection, connectionString)])
            .Build());

    /// <summary>
    /// Opens the sender's link, trying again for up to 30 s as the app's startup does: on a loaded machine the first
    /// connection can take longer than the acknowledgement's 400 ms try.
    /// </summary>
    public static async Task OpenAsync(ServiceBusSender sender, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var batch = await sender.CreateMessageBatchAsync(cancellationToken);
                return;
            }
            catch (ServiceBusException) when (clock.Elapsed < TimeSpan.FromSeconds(30))
            {
                await Task.Delay(100, cancellationToken);
            }
        }
    }

    /// <summary>
    /// Raw <c>ServiceBusSender.SendMessageAsync</c> sends, closed loop on N concurrent loops over one client and one
    /// sender (as the app has): per send a new 3-pair batch with the owner and peer ids the load generator's callbacks
    /// carry, built into its message by the app's own <see cref="ServiceBusEventQueue.ToMessage"/> (same body, message
    /// id <c>{batchId}-{part}</c>, content type). The link is opened before the warm-up, as the app opens its own at startup.
    /// </summary>
    public static async Task<int> SendAsync(Options options, CancellationToken cancellationToken)
    {
        await using var client = Client(options.Required("service-bus"));
        await using var sender = client.CreateSender(options.Required("queue"));
        var pairs = options.Int("pairs", 3);
        var connections = options.Int("connections", 16);
        var duration = TimeSpan.FromSeconds(options.Double("duration", 10));
        var warmup = TimeSpan.FromSeconds(options.Double("warmup", 2));
        var run = options.Get("run", "sb");
        await OpenAsync(sender, cancellationToken);

        var sequences = new long[connections];
        var sampleBytes = ServiceBusEventQueue.ToMessage(StorageBaselines.SampleBatch(pairs, TencentCallbacks.OwnerId(run, 0, 0))).Body.ToMemory().Length;
        var latencies = await StorageBaselines.ClosedLoopAsync(connections, warmup, duration, worker =>
        {
            var owner = TencentCallbacks.OwnerId(run, worker, sequences[worker]++);
            return sender.SendMessageAsync(ServiceBusEventQueue.ToMessage(StorageBaselines.SampleBatch(pairs, owner)), cancellationToken);
        }, cancellationToken);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"sb-send: ok={latencies.Length} rps={latencies.Length / duration.TotalSeconds:F1} p50_ms={HttpLoad.Percentile(latencies, 0.5):F2} "
            + $"p99_ms={HttpLoad.Percentile(latencies, 0.99):F2} message_bytes={sampleBytes}"));
        return 0;
    }
}
