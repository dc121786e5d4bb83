using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using Azure.Data.Tables;
using Azure.Messaging.ServiceBus;
using FunctionApp.Hosting;
using FunctionApp.Tests.Hosting;
using FunctionApp.Tests.Infrastructure;
using ServiceBusTestBroker;
using Xunit.Abstractions;
using static FunctionApp.Tests.EndToEnd.EndToEnd;

namespace FunctionApp.Tests.EndToEnd;

/// <summary>
/// A storage outage parks nothing: under steady callback load the tables' Azurite is stopped and started again on
/// the same ports with its data, and every callback acknowledged before, during or after the outage is applied once
/// it is back, with nothing dead-lettered or poisoned. In the suite the outage lasts 15 s with the redelivery delays
/// shrunk; <c>bench/reliability.sh storage-outage</c> sets <c>RELIABILITY_OUTAGE_SECONDS</c> (3 minutes) and runs
/// the app with its default settings, and prints the figures.
/// </summary>
internal sealed class StorageOutageRun(ITestOutputHelper output)
{
    /// <summary>Set by the reliability run: the outage length in seconds, with the app's default redelivery settings.</summary>
    public const string OutageSecondsVariable = "RELIABILITY_OUTAGE_SECONDS";

    /// <summary>One outage at a time: each runs an app, an Azurite and a broker of its own under load.</summary>
    public const string Collection = "Storage outage";

    private static readonly string? FullOutageSeconds = Environment.GetEnvironmentVariable(OutageSecondsVariable);

    public static bool IsFullRun => !string.IsNullOrWhiteSpace(FullOutageSeconds);

    public static TimeSpan Outage => IsFullRun ? TimeSpan.FromSeconds(int.Parse(FullOutageSeconds!, CultureInfo.InvariantCulture)) : TimeSpan.FromSeconds(15);

    /// <summary>The suite shrinks the delays so the run takes seconds after the outage; the full run keeps the defaults.</summary>
    public static (string Name, string Value)[] RedeliverySettings => IsFullRun
        ? []
        : [("Redelivery__RetryWithinDeliverySeconds", "2"), ("Redelivery__FirstDelaySeconds", "1"), ("Redelivery__MaxDelaySeconds", "4")];

    private static readonly TimeSpan LoadAround = TimeSpan.FromSeconds(3);

    private readonly ConcurrentDictionary<string, bool> _acknowledged = new(StringComparer.Ordinal);
    private int _refused;

    /// <summary>
    /// Load on <paramref name="client"/> (two callers, a callback every 100 ms each, one new edge per callback), the
    /// outage, then waits until every acknowledged edge is stored; returns the figures and asserts on them.
    /// </summary>
    public async Task RunAsync(string delivery, AzuriteProcess storage, HttpClient client, string appId, Func<Task<int>> parked)
    {
        using var stopLoad = new CancellationTokenSource();
        var next = 0;
        var load = Task.WhenAll(Enumerable.Range(0, 2).Select(_ => Task.Run(async () =>
        {
            while (!stopLoad.IsCancellationRequested)
            {
                var owner = "o-" + Interlocked.Increment(ref next).ToString("D6", CultureInfo.InvariantCulture);
                try
                {
                    var (status, answer) = await PostTencentAsync(client, appId, "Sns.CallbackFriendAdd", Utf8(TencentFriendAdd(owner, [owner + "-peer"])));
                    if (status == HttpStatusCode.OK && answer.Contains("\"ActionStatus\":\"OK\"", StringComparison.Ordinal))
                    {
                        _acknowledged[owner] = true;
                    }
                    else
                    {
                        Interlocked.Increment(ref _refused);
                    }
                }
                catch (HttpRequestException)
                {
                    Interlocked.Increment(ref _refused);
                }

                await Task.Delay(100, CancellationToken.None);
            }
        })));

        await Task.Delay(LoadAround);
        var acknowledgedBefore = _acknowledged.Count;
        await storage.StopAsync();
        output.WriteLine($"{delivery}: Azurite stopped after {acknowledgedBefore} acknowledged callbacks");
        await Task.Delay(Outage);
        await storage.RestartAsync();
        var restored = Stopwatch.StartNew();
        output.WriteLine($"{delivery}: Azurite back after {Outage.TotalSeconds:0} s");
        await Task.Delay(LoadAround);
        await stopLoad.CancelAsync();
        await load;

        var edges = StorageClients.FromConnectionString(storage.ConnectionString).GetTableServiceClient().GetTableClient(ResourceNames.EdgesTable);
        var limit = IsFullRun ? TimeSpan.FromMinutes(20) : TimeSpan.FromSeconds(120);
        HashSet<string> applied = [];
        while (true)
        {
            applied = await StoredOwnersAsync(edges, appId);
            if (_acknowledged.Keys.All(applied.Contains))
            {
                break;
            }

            Assert.True(restored.Elapsed < limit,
                $"{delivery}: {_acknowledged.Keys.Count(owner => !applied.Contains(owner))} of {_acknowledged.Count} acknowledged callbacks not applied {restored.Elapsed.TotalSeconds:0} s after the outage");
            await Task.Delay(500);
        }

        var allAppliedAfter = restored.Elapsed;
        var parkedCount = await parked();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"storage_outage_{delivery}: outage_s={Outage.TotalSeconds:0} acknowledged={_acknowledged.Count} applied={applied.Count} " +
            $"not_acknowledged={Volatile.Read(ref _refused)} dead_lettered_or_poisoned={parkedCount} all_applied_after_restore_s={allAppliedAfter.TotalSeconds:0.0}"));
        Assert.True(_acknowledged.Count > acknowledgedBefore, $"{delivery}: nothing acknowledged after the outage began");
        Assert.Equal(0, parkedCount);
    }

    private static async Task<HashSet<string>> StoredOwnersAsync(TableClient edges, string appId)
    {
        var owners = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var edge in edges.QueryAsync<TableEntity>($"AppId eq '{appId}'", select: ["Owner"]))
        {
            owners.Add(edge.GetString("Owner"));
        }

        return owners;
    }
}

/// <summary>The Service Bus deliveries: the app in <paramref name="Mode"/> on its own Azurite and test broker.</summary>
internal sealed record ServiceBusOutageSetup(string Mode)
{
    public async Task RunAsync(ITestOutputHelper output, string delivery, Func<ServiceBusClient, BrokerQueue, HttpClient, Task<IAsyncDisposable?>> startDrain)
    {
        var appId = NewTencentAppId();
        await using var storage = await AzuriteProcess.StartPersistentAsync();
        await using var broker = ServiceBusBroker.Start();
        var queue = broker.CreateQueue("outage", maxDeliveryCount: 10, lockDuration: null, duplicateDetectionWindow: TimeSpan.FromMinutes(10));
        var port = AppProcess.FreePort();
        await using var app = AppProcess.Start([
            (Mode, port.ToString(CultureInfo.InvariantCulture)),
            ("RelationshipStorage", storage.ConnectionString),
            ("ServiceBusConnection", broker.ConnectionString),
            ("RelationshipEventsQueue", queue.Name),
            ($"Tencent__Apps__{appId}__CallbackToken", ""),
            .. StorageOutageRun.RedeliverySettings]);
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
        await app.WaitForHealthAsync(client, new Uri(client.BaseAddress, "api/health"), Stopwatch.StartNew());
        await using var serviceBus = new ServiceBusClient(broker.ConnectionString);
        var drain = await startDrain(serviceBus, queue, client);
        try
        {
            await new StorageOutageRun(output).RunAsync(delivery, storage, client, appId, () => Task.FromResult(queue.DeadLetterMessageCount));
            await queue.WaitUntilAsync(q => q.ActiveMessageCount == 0 && q.ScheduledMessageCount == 0, TimeSpan.FromSeconds(60));
            Assert.Equal(0, queue.DeadLetterMessageCount);
        }
        finally
        {
            if (drain is not null)
            {
                await drain.DisposeAsync();
            }
        }
    }
}

/// <summary>Functions mode: the <c>ApplyRelationshipEvents</c> invocation, driven by the stand-in of the host's Service Bus trigger.</summary>
[Collection(StorageOutageRun.Collection)]
public sealed class FunctionsModeStorageOutageTests(ITestOutputHelper output)
{
    [Fact]
    public Task A_storage_outage_under_load_dead_letters_nothing_and_everything_is_applied_once_it_is_back() =>
        new ServiceBusOutageSetup("FUNCTIONS_CUSTOMHANDLER_PORT").RunAsync(output, "functions",
            async (serviceBus, queue, client) => await FunctionsHostTrigger.StartAsync(serviceBus, queue.Name, client));
}

/// <summary>Standalone on Service Bus: the app's own <c>ServiceBusProcessor</c> drain.</summary>
[Collection(StorageOutageRun.Collection)]
public sealed class StandaloneServiceBusStorageOutageTests(ITestOutputHelper output)
{
    [Fact]
    public Task A_storage_outage_under_load_dead_letters_nothing_and_everything_is_applied_once_it_is_back() =>
        new ServiceBusOutageSetup("PORT").RunAsync(output, "servicebus", (_, _, _) => Task.FromResult<IAsyncDisposable?>(null));
}

/// <summary>Standalone on the Storage queue, which is in the Azurite that goes away: callbacks get the failure answer while it is down.</summary>
[Collection(StorageOutageRun.Collection)]
public sealed class StandaloneQueueStorageOutageTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_storage_outage_under_load_poisons_nothing_and_everything_is_applied_once_it_is_back()
    {
        var appId = NewTencentAppId();
        var queueName = NewName("outage");
        await using var storage = await AzuriteProcess.StartPersistentAsync();
        var port = AppProcess.FreePort();
        (string, string)[] visibility = StorageOutageRun.IsFullRun ? [] : [("StandaloneQueue__VisibilityTimeoutSeconds", "10")];
        await using var app = AppProcess.Start([
            ("PORT", port.ToString(CultureInfo.InvariantCulture)),
            ("RelationshipStorage", storage.ConnectionString),
            ("RelationshipEventsQueue", queueName),
            ($"Tencent__Apps__{appId}__CallbackToken", ""),
            .. StorageOutageRun.RedeliverySettings,
            .. visibility]);
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
        await app.WaitForHealthAsync(client, new Uri(client.BaseAddress, "api/health"), Stopwatch.StartNew());
        var clients = StorageClients.FromConnectionString(storage.ConnectionString).GetQueueServiceClient();

        await new StorageOutageRun(output).RunAsync("storagequeue", storage, client, appId,
            async () => await clients.GetQueueClient(queueName + "-poison").ApproximateCountAsync());

        await EventuallyAsync("the queue empty", async () => await clients.GetQueueClient(queueName).ApproximateCountAsync() == 0, TimeSpan.FromSeconds(60));
    }
}
