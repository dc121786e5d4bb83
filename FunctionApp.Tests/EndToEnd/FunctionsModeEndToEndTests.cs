using System.Diagnostics;
using System.Globalization;
using System.Net;
using Azure.Messaging.ServiceBus;
using FunctionApp.Protocols.Tencent;
using FunctionApp.Tests.Hosting;
using FunctionApp.Tests.Infrastructure;
using FunctionApp.Tests.ServiceBus;
using ServiceBusTestBroker;
using Xunit.Abstractions;
using static FunctionApp.Tests.EndToEnd.EndToEnd;

namespace FunctionApp.Tests.EndToEnd;

/// <summary>
/// The built app in Functions mode, driven as the Functions host drives it: callbacks forwarded raw to the callback
/// route, which sends them to the test broker with the real Service Bus client; each message delivered to
/// <c>POST /ApplyRelationshipEvents</c> by a stand-in of the Service Bus trigger (<see cref="FunctionsHostTrigger"/>);
/// the tables in Azurite read back through the query routes (the kill of the handler is in <see cref="CrashRecoveryTests"/>).
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class FunctionsModeEndToEndTests(AzuriteFixture azurite, ServiceBusBrokerFixture bus, ITestOutputHelper output)
    : IClassFixture<ServiceBusBrokerFixture>
{
    private const string CallbackToken = "e2e-callback-token-0123";
    private readonly string _appId = NewTencentAppId();
    private readonly string _signedAppId = NewTencentAppId();
    private readonly string _openImApp = NewName("openim");

    private (AppProcess App, HttpClient Client) StartApp(ServiceBusBroker broker, BrokerQueue queue)
    {
        var port = AppProcess.FreePort();
        var app = AppProcess.Start(
            ("FUNCTIONS_CUSTOMHANDLER_PORT", port.ToString(CultureInfo.InvariantCulture)),
            ("RelationshipStorage", azurite.ConnectionString),
            ("ServiceBusConnection", broker.ConnectionString),
            ("RelationshipEventsQueue", queue.Name),
            ($"Tencent__Apps__{_appId}__CallbackToken", ""),
            ($"Tencent__Apps__{_signedAppId}__CallbackToken", CallbackToken),
            ("OpenIm__AppId", _openImApp),
            ("Callbacks__MaxPairs", "1000"));
        return (app, new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") });
    }

    [Fact]
    public async Task Every_documented_command_goes_from_callback_to_query_result()
    {
        var queue = bus.CreateQueue(duplicateDetectionWindow: TimeSpan.FromMinutes(10));
        var (app, client) = StartApp(bus.Broker, queue);
        await using var _ = app;
        using var __ = client;
        await app.WaitForHealthAsync(client, new Uri(client.BaseAddress!, "api/health"), Stopwatch.StartNew());
        await using var serviceBus = bus.CreateClient();
        await using var trigger = await FunctionsHostTrigger.StartAsync(serviceBus, queue.Name, client);

        await DocumentedCommands.TencentAsync(client, _appId);
        await DocumentedCommands.OpenImAsync(client, _openImApp);

        await queue.WaitUntilAsync(q => q.ActiveMessageCount == 0, TimeSpan.FromSeconds(10));
        Assert.Equal(0, queue.DeadLetterMessageCount);
        Assert.Equal(queue.TotalSent, queue.CompletedCount);
    }

    [Fact]
    public async Task A_thousand_pair_callback_goes_through_service_bus_in_parts_and_reads_back_and_a_repeat_is_dropped()
    {
        var queue = bus.CreateQueue(duplicateDetectionWindow: TimeSpan.FromMinutes(10));
        var (app, client) = StartApp(bus.Broker, queue);
        await using var _ = app;
        using var __ = client;
        await app.WaitForHealthAsync(client, new Uri(client.BaseAddress!, "api/health"), Stopwatch.StartNew());

        // 1,000 pairs with long ids: more than one Service Bus message.
        var peers = Enumerable.Range(0, 1000).Select(i => $"peer-{i:D3}-" + new string('p', 116)).ToArray();
        var body = Utf8(TencentFriendAdd("owner", peers));
        // Signed: Sign and RequestTime identify the delivery, so a retry of it carries the same batch id.
        var requestTime = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var signedAppQuery = $"{_signedAppId}&RequestTime={requestTime}&Sign={TencentSignature.Compute(CallbackToken, requestTime)}";
        var (status, answer) = await PostTencentAsync(client, signedAppQuery, "Sns.CallbackFriendAdd", body);
        Assert.True(status == HttpStatusCode.OK && answer.Contains("\"ActionStatus\":\"OK\"", StringComparison.Ordinal), $"{(int)status} {answer}");

        // Acknowledged only after the send returned: every part is on the queue already.
        var parts = queue.Messages();
        Assert.True(parts.Count > 1, $"{parts.Count} message(s)");
        Assert.All(parts, m => Assert.Matches("^[0-9a-f]{32}-[0-9]+$", m.MessageId!));

        await using var serviceBus = bus.CreateClient();
        await using (var trigger = await FunctionsHostTrigger.StartAsync(serviceBus, queue.Name, client))
        {
            await queue.WaitUntilAsync(q => q.CompletedCount == parts.Count, TimeSpan.FromSeconds(30));
            output.WriteLine($"{parts.Count} parts applied in {trigger.Invocations} invocations");
        }

        Assert.Equal(peers.Order(StringComparer.Ordinal), await UsersAsync(client, _signedAppId, "owner", "friends"));
        Assert.Equal(["owner"], await UsersAsync(client, _signedAppId, peers[42], "friend-of"));
        var entry = Assert.Single(await ItemsAsync(client, _signedAppId, peers[7], "history"));
        Assert.Equal(("friend", "added", "owner"), (entry.Text("kind"), entry.Text("action"), entry.Text("owner")));

        // The platform sends it again (a retry after a lost answer): the queue drops every part as a duplicate.
        var (again, _) = await PostTencentAsync(client, signedAppQuery, "Sns.CallbackFriendAdd", body);
        Assert.Equal(HttpStatusCode.OK, again);
        Assert.Equal(parts.Count, queue.DuplicatesDropped);
        Assert.Equal(0, queue.ActiveMessageCount);
    }

    [Fact]
    public async Task A_broker_outage_gets_the_failure_answer_within_the_deadline_and_the_retry_after_it_is_applied()
    {
        await using var broker = ServiceBusBroker.Start();
        var queue = broker.CreateQueue("outage", maxDeliveryCount: 10, lockDuration: null, duplicateDetectionWindow: TimeSpan.FromMinutes(10));
        var (app, client) = StartApp(broker, queue);
        await using var _ = app;
        using var __ = client;
        await app.WaitForHealthAsync(client, new Uri(client.BaseAddress!, "api/health"), Stopwatch.StartNew());
        // The callback acknowledged before the outage waits on the queue for the trigger, as the retry does.
        await BrokerOutage.AcknowledgeAroundAnOutageAsync(broker, queue, client, _appId, output);

        await using var serviceBus = new ServiceBusClient(broker.ConnectionString);
        await using var trigger = await FunctionsHostTrigger.StartAsync(serviceBus, queue.Name, client);
        await BrokerOutage.ExpectEverythingAppliedAsync(queue, client, _appId);
    }

    [Fact]
    public async Task A_message_that_can_never_be_applied_ends_in_the_dead_letter_queue()
    {
        var queue = bus.CreateQueue(maxDeliveryCount: 3);
        var (app, client) = StartApp(bus.Broker, queue);
        await using var _ = app;
        using var __ = client;
        await app.WaitForHealthAsync(client, new Uri(client.BaseAddress!, "api/health"), Stopwatch.StartNew());

        await using var serviceBus = bus.CreateClient();
        await using var sender = serviceBus.CreateSender(queue.Name);
        await sender.SendMessageAsync(new ServiceBusMessage("{\"schemaVersion\":99}") { MessageId = "poison-1" });
        await using var trigger = await FunctionsHostTrigger.StartAsync(serviceBus, queue.Name, client);

        await queue.WaitUntilAsync(q => q.DeadLetterMessageCount == 1, TimeSpan.FromSeconds(20));
        var dead = Assert.Single(queue.DeadLetterMessages());
        Assert.Equal("poison-1", dead.MessageId);
        Assert.Equal(BrokerQueue.MaxDeliveryCountExceededReason, dead.DeadLetterReason);
        Assert.Equal(3, trigger.Invocations);
    }
}
