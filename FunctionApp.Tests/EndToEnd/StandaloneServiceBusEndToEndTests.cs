using System.Diagnostics;
using System.Globalization;
using System.Net;
using Azure.Messaging.ServiceBus;
using FunctionApp.Core;
using FunctionApp.Messaging;
using FunctionApp.Tests.Hosting;
using FunctionApp.Tests.Infrastructure;
using FunctionApp.Tests.ServiceBus;
using ServiceBusTestBroker;
using Xunit.Abstractions;
using static FunctionApp.Tests.EndToEnd.EndToEnd;

namespace FunctionApp.Tests.EndToEnd;

/// <summary>
/// The built app standalone with <c>ServiceBusConnection</c> set: callbacks sent to the test broker with the real
/// client, drained by the app's own <see cref="ServiceBusQueueDrain"/> into Azurite, settled by the batch's outcome
/// (the kill of the app is in <see cref="CrashRecoveryTests"/>).
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class StandaloneServiceBusEndToEndTests(AzuriteFixture azurite, ServiceBusBrokerFixture bus, ITestOutputHelper output)
    : IClassFixture<ServiceBusBrokerFixture>
{
    private readonly string _appId = NewTencentAppId();
    private readonly string _openImApp = NewName("openim");

    private async Task<(AppProcess App, HttpClient Client)> StartAppAsync(BrokerQueue queue, ServiceBusBroker? broker = null)
    {
        var port = AppProcess.FreePort();
        var app = AppProcess.Start(
            ("PORT", port.ToString(CultureInfo.InvariantCulture)),
            ("RelationshipStorage", azurite.ConnectionString),
            ("ServiceBusConnection", (broker ?? bus.Broker).ConnectionString),
            ("RelationshipEventsQueue", queue.Name),
            ($"Tencent__Apps__{_appId}__CallbackToken", ""),
            ("OpenIm__AppId", _openImApp));
        var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
        await app.WaitForHealthAsync(client, new Uri(client.BaseAddress, "api/health"), Stopwatch.StartNew());
        return (app, client);
    }

    [Fact]
    public async Task Callbacks_go_through_service_bus_and_are_applied_and_completed()
    {
        var queue = bus.CreateQueue();
        var (app, client) = await StartAppAsync(queue);
        await using var _ = app;
        using var __ = client;

        foreach (var owner in new[] { "sb-a", "sb-b", "sb-c" })
        {
            var (status, answer) = await PostTencentAsync(client, _appId, "Sns.CallbackFriendAdd", Utf8(TencentFriendAdd(owner, [owner + "-peer"])));
            Assert.True(status == HttpStatusCode.OK && answer.Contains("\"ActionStatus\":\"OK\"", StringComparison.Ordinal), $"{(int)status} {answer}");
        }

        await ExpectUsersAsync(client, _appId, "sb-c", "friends", "sb-c-peer");
        await ExpectUsersAsync(client, _appId, "sb-a-peer", "friend-of", "sb-a");
        await queue.WaitUntilAsync(q => q.CompletedCount == 3 && q.ActiveMessageCount == 0, TimeSpan.FromSeconds(10));
        Assert.Equal(0, queue.DeadLetterMessageCount);
    }

    [Fact]
    public async Task Every_documented_command_goes_from_callback_to_query_result()
    {
        var queue = bus.CreateQueue(duplicateDetectionWindow: TimeSpan.FromMinutes(10));
        var (app, client) = await StartAppAsync(queue);
        await using var _ = app;
        using var __ = client;

        await DocumentedCommands.TencentAsync(client, _appId);
        await DocumentedCommands.OpenImAsync(client, _openImApp);

        await queue.WaitUntilAsync(q => q.ActiveMessageCount == 0, TimeSpan.FromSeconds(10));
        Assert.Equal(0, queue.DeadLetterMessageCount);
        Assert.Equal(queue.TotalSent, queue.CompletedCount);
    }

    [Fact]
    public async Task A_broker_outage_gets_the_failure_answer_within_the_deadline_and_everything_is_applied_after_it()
    {
        await using var broker = ServiceBusBroker.Start();
        var queue = broker.CreateQueue("outage", maxDeliveryCount: 10, lockDuration: TimeSpan.FromSeconds(5), duplicateDetectionWindow: TimeSpan.FromMinutes(10));
        var (app, client) = await StartAppAsync(queue, broker);
        await using var _ = app;
        using var __ = client;
        // The drain takes the first callback before the outage, so the outage meets an idle drain.
        await BrokerOutage.AcknowledgeAroundAnOutageAsync(broker, queue, client, _appId, output,
            () => queue.WaitUntilAsync(q => q.CompletedCount == 1, TimeSpan.FromSeconds(15)));

        // The drain lost its connection in the outage and takes up the queue again.
        await BrokerOutage.ExpectEverythingAppliedAsync(queue, client, _appId);
    }

    [Fact]
    public async Task Messages_that_can_never_be_applied_are_dead_lettered_at_once_with_their_reasons()
    {
        var queue = bus.CreateQueue(maxDeliveryCount: 10);
        var (app, client) = await StartAppAsync(queue);
        await using var _ = app;
        using var __ = client;

        // Not a batch this build can read, and a batch no store can hold (a 600-character owner is over the Table key limit).
        var unstorable = new RelationshipBatch(RelationshipBatch.CurrentSchemaVersion, "b-unstorable", 1, 1,
            new CallbackSource("tencent", _appId, "Sns.CallbackFriendAdd", null, null, null, DateTimeOffset.UtcNow, null),
            [new RelationshipEvent("e-unstorable", RelationshipKind.Friend, RelationshipAction.Added, new string('u', 600), "peer", DateTimeOffset.UtcNow, new Dictionary<string, string>())]);
        await using var serviceBus = bus.CreateClient();
        await using var sender = serviceBus.CreateSender(queue.Name);
        await sender.SendMessageAsync(new ServiceBusMessage("{\"schemaVersion\":99}") { MessageId = "poison-1" });
        await sender.SendMessageAsync(ServiceBusEventQueue.ToMessage(unstorable));

        await queue.WaitUntilAsync(q => q.DeadLetterMessageCount == 2, TimeSpan.FromSeconds(30));
        var dead = queue.DeadLetterMessages().ToDictionary(m => m.MessageId!);
        Assert.Equal(["b-unstorable-1", "poison-1"], dead.Keys.Order(StringComparer.Ordinal));
        Assert.All(dead.Values, m => Assert.Equal(ServiceBusQueueDrain.InvalidBatchReason, m.DeadLetterReason));
        Assert.Contains("schemaVersion 99", dead["poison-1"].DeadLetterDescription, StringComparison.Ordinal);
        Assert.Contains("table key", dead["b-unstorable-1"].DeadLetterDescription, StringComparison.Ordinal);
        // Delivered once: never retried first.
        Assert.All(dead.Values, m => Assert.Equal(1, m.DeliveryCount));
        Assert.Equal(0, queue.CompletedCount);
    }
}
