using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Azure.Messaging.ServiceBus;
using FunctionApp.Tests.Hosting;
using FunctionApp.Tests.Infrastructure;
using ServiceBusTestBroker;

namespace FunctionApp.Tests.ServiceBus;

/// <summary>
/// <c>/api/health</c> with <c>ServiceBusConnection</c> set reports the queue's reachability, through the app's own
/// client against the test broker: ok online, unavailable (and quickly) while the broker refuses or stalls.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class ServiceBusHealthTests(AzuriteFixture azurite, ServiceBusBrokerFixture bus) : IClassFixture<ServiceBusBrokerFixture>
{
    private Task<TestApp> StartStandaloneAsync(BrokerQueue queue) => TestApp.StartStandaloneAsync(null,
        "--RelationshipStorage=" + azurite.ConnectionString, "--ServiceBusConnection=" + bus.Broker.ConnectionString,
        "--RelationshipEventsQueue=" + queue.Name, "--StandaloneQueue:DrainEnabled=false");

    [Fact]
    public async Task Health_reports_service_bus_ok_and_its_probe_takes_no_message()
    {
        var queue = bus.CreateQueue();
        await using (var client = bus.CreateClient())
        {
            await client.CreateSender(queue.Name).SendMessageAsync(new ServiceBusMessage("{}") { MessageId = "waiting" });
        }

        await using var app = await StartStandaloneAsync(queue);

        var (status, checks) = await HealthAsync(app);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("ok", checks["servicebus"]);
        Assert.Equal("ok", checks["tables"]);
        Assert.False(checks.ContainsKey("queue"), "standalone on Service Bus has no Storage queue to check");

        // A peek: the waiting message is neither locked nor counted as delivered.
        var waiting = Assert.Single(queue.Messages());
        Assert.Equal((MessageState.Available, 0), (waiting.State, waiting.DeliveryCount));
    }

    [Theory]
    [InlineData(BrokerAvailability.Refusing)]
    [InlineData(BrokerAvailability.Stalled)]
    public async Task Health_answers_unavailable_promptly_while_the_broker_is_out_and_ok_again_after(BrokerAvailability outage)
    {
        var queue = bus.CreateQueue();
        await using var app = await StartStandaloneAsync(queue);
        Assert.Equal(HttpStatusCode.OK, (await HealthAsync(app)).Status);

        bus.Broker.SetAvailability(outage);
        try
        {
            // A healthy answer is shared for up to 5 s; within a few more the probe has failed. No answer waits long.
            var (status, checks) = await PollAsync(app, HttpStatusCode.ServiceUnavailable, TimeSpan.FromSeconds(15));
            Assert.Equal("unavailable", checks["servicebus"]);
            Assert.Equal("ok", checks["tables"]);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        }
        finally
        {
            bus.Broker.SetAvailability(BrokerAvailability.Online);
        }

        Assert.Equal("ok", (await PollAsync(app, HttpStatusCode.OK, TimeSpan.FromSeconds(20))).Checks["servicebus"]);
    }

    [Fact]
    public async Task Functions_mode_health_reports_service_bus_too()
    {
        var queue = bus.CreateQueue();
        await using var app = await TestApp.StartFunctionsAsync(null,
            "--RelationshipStorage=" + azurite.ConnectionString, "--ServiceBusConnection=" + bus.Broker.ConnectionString, "--RelationshipEventsQueue=" + queue.Name);

        var (status, checks) = await PollAsync(app, HttpStatusCode.OK, TimeSpan.FromSeconds(15));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("ok", checks["servicebus"]);
    }

    /// <summary>Polls until the health answer has <paramref name="expected"/>; every single answer must come within 3 s.</summary>
    private static async Task<(HttpStatusCode Status, IReadOnlyDictionary<string, string> Checks)> PollAsync(TestApp app, HttpStatusCode expected, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var answer = await HealthAsync(app);
            if (answer.Status == expected || clock.Elapsed > timeout)
            {
                return answer;
            }

            await Task.Delay(250);
        }
    }

    private static async Task<(HttpStatusCode Status, IReadOnlyDictionary<string, string> Checks)> HealthAsync(TestApp app)
    {
        var clock = Stopwatch.StartNew();
        using var response = await app.Client.GetAsync(new Uri("api/health", UriKind.Relative));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"/api/health took {clock.Elapsed}");
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var checks = body.RootElement.GetProperty("checks").EnumerateObject().ToDictionary(c => c.Name, c => c.Value.GetString()!);
        return (response.StatusCode, checks);
    }
}
