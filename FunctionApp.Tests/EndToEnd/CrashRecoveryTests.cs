using System.Diagnostics;
using System.Globalization;
using FunctionApp.Tests.Hosting;
using FunctionApp.Tests.Infrastructure;
using FunctionApp.Tests.ServiceBus;
using Xunit.Abstractions;
using static FunctionApp.Tests.EndToEnd.EndToEnd;

namespace FunctionApp.Tests.EndToEnd;

/// <summary>
/// The built app as its own process: acknowledged callbacks survive a SIGKILL right after the last acknowledgement,
/// and a restarted app stores each of them exactly once, on each queue and in each mode: standalone on the Storage
/// queue, standalone on Service Bus (the killed process's drain held some messages locked), and in Functions mode on
/// Service Bus (the host's trigger delivers what the killed handler acknowledged to the handler started after it).
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class CrashRecoveryTests(AzuriteFixture azurite, ServiceBusBrokerFixture bus, ITestOutputHelper output)
    : IClassFixture<ServiceBusBrokerFixture>
{
    private const int Callbacks = 40;
    private const int PairsPerCallback = 10;

    /// <summary>A message locked by the killed process comes back this soon.</summary>
    private static readonly TimeSpan ShortLock = TimeSpan.FromSeconds(3);

    private readonly string _appId = NewTencentAppId();
    private readonly string[] _owners = [.. Enumerable.Range(0, Callbacks).Select(i => $"crash-{i:D2}")];

    [Fact]
    public async Task Every_acknowledged_callback_is_stored_exactly_once_after_a_kill_and_a_restart()
    {
        var queueName = NewName("crash");
        var port = AppProcess.FreePort();
        (string, string)[] settings =
        [
            ("PORT", port.ToString(CultureInfo.InvariantCulture)),
            ("RelationshipStorage", azurite.ConnectionString),
            ("RelationshipEventsQueue", queueName),
            ($"Tencent__Apps__{_appId}__CallbackToken", ""),
            ("StandaloneQueue__VisibilityTimeoutSeconds", ShortLock.TotalSeconds.ToString(CultureInfo.InvariantCulture)),
        ];
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };

        await AcknowledgeThenKillAsync(settings, client);

        var queue = azurite.Queue(queueName);
        output.WriteLine($"messages left on the queue when the app was killed: {await queue.ApproximateCountAsync()} of {Callbacks}");

        await using var second = AppProcess.Start(settings);
        await second.WaitForHealthAsync(client, new Uri(client.BaseAddress, "api/health"), Stopwatch.StartNew());
        await ExpectEachStoredOnceAsync(client);
        await EventuallyAsync("the queue drained", async () => await queue.ApproximateCountAsync() == 0);
        Assert.Equal(0, await azurite.Queue(queueName + "-poison").ApproximateCountAsync());
    }

    [Fact]
    public async Task Standalone_on_service_bus_every_acknowledged_callback_is_stored_exactly_once_after_a_kill_and_a_restart()
    {
        var queue = bus.CreateQueue(lockDuration: ShortLock, duplicateDetectionWindow: TimeSpan.FromMinutes(10));
        var port = AppProcess.FreePort();
        var settings = ServiceBusSettings("PORT", port, queue.Name);
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };

        // The drain runs while the callbacks arrive: the kill finds batches applied, locked mid-apply and waiting.
        await AcknowledgeThenKillAsync(settings, client);
        output.WriteLine($"when the app was killed: {queue.CompletedCount} completed, {queue.LockedMessageCount} locked, {queue.ActiveMessageCount} active");
        Assert.Equal(Callbacks, queue.TotalSent);

        await using var second = AppProcess.Start(settings);
        await second.WaitForHealthAsync(client, new Uri(client.BaseAddress, "api/health"), Stopwatch.StartNew());
        await ExpectEachStoredOnceAsync(client);
        await queue.WaitUntilAsync(q => q.ActiveMessageCount == 0, TimeSpan.FromSeconds(30));
        Assert.Equal(0, queue.DeadLetterMessageCount);
    }

    [Fact]
    public async Task In_functions_mode_every_acknowledged_callback_is_stored_exactly_once_after_a_kill_of_the_handler()
    {
        var queue = bus.CreateQueue(duplicateDetectionWindow: TimeSpan.FromMinutes(10));
        var port = AppProcess.FreePort();
        var settings = ServiceBusSettings("FUNCTIONS_CUSTOMHANDLER_PORT", port, queue.Name);
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };

        // Acknowledged means sent: every part is on the queue before the handler dies.
        await AcknowledgeThenKillAsync(settings, client);
        Assert.Equal(Callbacks, queue.ActiveMessageCount);

        // The host starts the handler again and its trigger delivers the queue to it.
        await using var second = AppProcess.Start(settings);
        await second.WaitForHealthAsync(client, new Uri(client.BaseAddress, "api/health"), Stopwatch.StartNew());
        await using var serviceBus = bus.CreateClient();
        await using (var trigger = await FunctionsHostTrigger.StartAsync(serviceBus, queue.Name, client))
        {
            await ExpectEachStoredOnceAsync(client);
            await queue.WaitUntilAsync(q => q.ActiveMessageCount == 0, TimeSpan.FromSeconds(30));
        }

        Assert.Equal((Callbacks, 0), (queue.CompletedCount, queue.DeadLetterMessageCount));
    }

    /// <summary>The app on the class's broker, listening on <paramref name="port"/> in the mode <paramref name="portSetting"/> chooses.</summary>
    private (string, string)[] ServiceBusSettings(string portSetting, int port, string queueName) =>
    [
        (portSetting, port.ToString(CultureInfo.InvariantCulture)),
        ("RelationshipStorage", azurite.ConnectionString),
        ("ServiceBusConnection", bus.Broker.ConnectionString),
        ("RelationshipEventsQueue", queueName),
        ($"Tencent__Apps__{_appId}__CallbackToken", ""),
    ];

    /// <summary>Starts the app, has every callback acknowledged (8 at a time), and kills the app right after the last.</summary>
    private async Task AcknowledgeThenKillAsync((string, string)[] settings, HttpClient client)
    {
        await using var first = AppProcess.Start(settings);
        await first.WaitForHealthAsync(client, new Uri(client.BaseAddress!, "api/health"), Stopwatch.StartNew());
        var acknowledged = 0;
        await Parallel.ForEachAsync(_owners, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (owner, _) =>
        {
            var body = TencentFriendAdd(owner, Enumerable.Range(0, PairsPerCallback).Select(j => $"{owner}-peer-{j}"));
            // A send past the 1 s deadline on a loaded machine gets the failure answer, never an acknowledgement; the
            // platform then sends the same callback again, and so does this test.
            await PostTencentUntilAcknowledgedAsync(client, _appId, "Sns.CallbackFriendAdd", Utf8(body), TimeSpan.FromSeconds(6));
            Interlocked.Increment(ref acknowledged);
        });
        await first.KillAsync();
        Assert.Equal(Callbacks, acknowledged);
    }

    /// <summary>Each owner has all its edges, and its history one row per edge with no event twice.</summary>
    private async Task ExpectEachStoredOnceAsync(HttpClient client)
    {
        await EventuallyAsync("every acknowledged edge stored", async () =>
        {
            foreach (var owner in _owners)
            {
                if ((await UsersAsync(client, _appId, owner, "friends")).Length != PairsPerCallback)
                {
                    return false;
                }
            }

            return true;
        }, TimeSpan.FromSeconds(30));

        foreach (var owner in _owners)
        {
            var history = await ItemsAsync(client, _appId, owner, "history");
            Assert.Equal(PairsPerCallback, history.Length);
            Assert.Equal(PairsPerCallback, history.Select(h => h.Text("eventId")).Distinct().Count());
            Assert.Equal(
                Enumerable.Range(0, PairsPerCallback).Select(j => $"{owner}-peer-{j}").Order(StringComparer.Ordinal),
                history.Select(h => h.Text("peer")).Order(StringComparer.Ordinal));
        }
    }
}
