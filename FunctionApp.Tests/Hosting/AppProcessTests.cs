using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using FunctionApp.Tests.Infrastructure;
using Xunit.Abstractions;

namespace FunctionApp.Tests.Hosting;

/// <summary>The built app started as its own process, as the Functions host and the local run start it.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class AppProcessTests(AzuriteFixture azurite, ITestOutputHelper output)
{
    private AppProcess Start(params (string Name, string Value)[] environment) => AppProcess.Start(
    [
        ("RelationshipStorage", azurite.ConnectionString),
        ("RelationshipEventsQueue", "process-" + Guid.NewGuid().ToString("N")[..12]),
        .. environment,
    ]);

    private static async Task<bool> AcceptsConnectionAsync(IPAddress address, int port)
    {
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync(address, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    [Fact]
    public async Task Functions_mode_listens_on_127_0_0_1_at_the_handler_port_only()
    {
        var port = AppProcess.FreePort();
        // Health checks the Service Bus queue in Functions mode, so the handler gets one that answers.
        await using var broker = ServiceBusTestBroker.ServiceBusBroker.Start();
        var queue = broker.CreateQueue("process-" + Guid.NewGuid().ToString("N")[..12]);
        var stopwatch = Stopwatch.StartNew();
        await using var app = Start(("FUNCTIONS_CUSTOMHANDLER_PORT", port.ToString(System.Globalization.CultureInfo.InvariantCulture)), ("PORT", "0"),
            ("ServiceBusConnection", broker.ConnectionString), ("RelationshipEventsQueue", queue.Name));
        using var client = new HttpClient();
        var startup = await app.WaitForHealthAsync(client, new Uri($"http://127.0.0.1:{port}/api/health"), stopwatch);
        app.Process.Refresh();
        output.WriteLine($"functions mode: first health answer after {startup.TotalMilliseconds:F0} ms, RSS {app.Process.WorkingSet64 / (1024 * 1024)} MiB");

        Assert.False(await AcceptsConnectionAsync(IPAddress.Parse("127.0.0.2"), port));
        Assert.False(await AcceptsConnectionAsync(IPAddress.IPv6Loopback, port));
        using var invocation = await client.PostAsync(new Uri($"http://127.0.0.1:{port}/ApplyRelationshipEvents"), new StringContent("{}"));
        Assert.Equal(HttpStatusCode.BadRequest, invocation.StatusCode);
        Assert.Contains("no Data object", await invocation.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Standalone_mode_listens_on_every_address_at_PORT()
    {
        var port = AppProcess.FreePort();
        var stopwatch = Stopwatch.StartNew();
        await using var app = Start(("PORT", port.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        using var client = new HttpClient();
        var startup = await app.WaitForHealthAsync(client, new Uri($"http://127.0.0.1:{port}/api/health"), stopwatch);
        app.Process.Refresh();
        output.WriteLine($"standalone mode: first health answer after {startup.TotalMilliseconds:F0} ms, RSS {app.Process.WorkingSet64 / (1024 * 1024)} MiB");

        Assert.True(await AcceptsConnectionAsync(IPAddress.Parse("127.0.0.2"), port));
        using var invocation = await client.PostAsync(new Uri($"http://127.0.0.1:{port}/ApplyRelationshipEvents"), new StringContent("{}"));
        Assert.Equal(HttpStatusCode.NotFound, invocation.StatusCode);
    }
}
