using FunctionApp.Core;
using FunctionApp.Hosting;
using FunctionApp.Messaging;
using FunctionApp.Tests.Hosting;
using FunctionApp.Tests.Infrastructure;
using FunctionApp.Tests.ServiceBus;
using static FunctionApp.Tests.EndToEnd.EndToEnd;

namespace FunctionApp.Tests.Redrive;

/// <summary>
/// The operator's whole path: a batch parked in the dead-letter or poison queue, re-driven with the command, is
/// applied by the running app and shows in the query API.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class RedriveEndToEndTests(AzuriteFixture azurite, ServiceBusBrokerFixture bus) : IClassFixture<ServiceBusBrokerFixture>
{
    private readonly string _appId = NewTencentAppId();

    private RelationshipBatch Batch(string owner, string peer) =>
        new(RelationshipBatch.CurrentSchemaVersion, NewName("b"), 1, 1,
            new CallbackSource("tencent", _appId, "Sns.CallbackFriendAdd", null, null, null, DateTimeOffset.UtcNow, null),
            [new RelationshipEvent(NewName("e"), RelationshipKind.Friend, RelationshipAction.Added, owner, peer, DateTimeOffset.UtcNow, new Dictionary<string, string>())]);

    [Fact]
    public async Task A_dead_lettered_batch_re_driven_is_applied_by_the_standalone_service_bus_drain()
    {
        var queue = bus.CreateQueue();
        await using (var client = bus.CreateClient())
        {
            // Dead-lettered before the app runs, as after an outage that outlasted the delivery count.
            await client.CreateSender(queue.Name).SendMessageAsync(ServiceBusEventQueue.ToMessage(Batch("rd-sb-owner", "rd-sb-peer")));
            var receiver = client.CreateReceiver(queue.Name);
            await receiver.DeadLetterMessageAsync((await receiver.ReceiveMessageAsync(TimeSpan.FromSeconds(5)))!, "StoreUnavailable", "outage");
        }

        await using var app = await TestApp.StartStandaloneAsync(null, "--RelationshipStorage=" + azurite.ConnectionString,
            "--ServiceBusConnection=" + bus.Broker.ConnectionString, "--RelationshipEventsQueue=" + queue.Name);
        Assert.Empty(await UsersAsync(app.Client, _appId, "rd-sb-owner", "friends"));

        var output = new RedriveOutput();
        var exitCode = await RedriveCommand.RunAsync(["redrive", "--source", "deadletter", "--max", "10", "--duplicate-detection-window", "PT0S"],
            DeadLetterRedriveTests.Settings((AppSettingNames.ServiceBusConnection, bus.Broker.ConnectionString), (AppSettingNames.RelationshipEventsQueue, queue.Name)),
            output, output);

        Assert.True(exitCode == 0, output.Text);
        await ExpectUsersAsync(app.Client, _appId, "rd-sb-owner", "friends", "rd-sb-peer");
        await queue.WaitUntilAsync(q => q.CompletedCount == 1 && q.DeadLetterMessageCount == 0 && q.ActiveMessageCount == 0, TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task A_poisoned_batch_re_driven_is_applied_by_the_standalone_storage_drain()
    {
        var queueName = NewName("rde");
        await using var app = await TestApp.StartStandaloneAsync(null, "--RelationshipStorage=" + azurite.ConnectionString, "--RelationshipEventsQueue=" + queueName);
        var poison = azurite.Queue(StorageQueueDrain.PoisonQueueName(queueName));
        await poison.SendMessageAsync(RelationshipQueueMessage.Encode(Batch("rd-st-owner", "rd-st-peer")));

        var output = new RedriveOutput();
        var exitCode = await RedriveCommand.RunAsync(["redrive", "--source", "poison", "--max", "10"],
            DeadLetterRedriveTests.Settings((AppSettingNames.RelationshipStorage, azurite.ConnectionString), (AppSettingNames.RelationshipEventsQueue, queueName)),
            output, output);

        Assert.True(exitCode == 0, output.Text);
        await ExpectUsersAsync(app.Client, _appId, "rd-st-owner", "friends", "rd-st-peer");
        Assert.Equal(0, await poison.ApproximateCountAsync());
    }
}
