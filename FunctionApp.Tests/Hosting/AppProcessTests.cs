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
    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private Process Start(params (string Name, string Value)[] environment)
    {
        var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "FunctionApp.dll")])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        start.Environment.Remove("PORT");
        start.Environment.Remove("FUNCTIONS_CUSTOMHANDLER_PORT");
        start.Environment["RelationshipStorage"] = azurite.ConnectionString;
        start.Environment["RelationshipEventsQueue"] = "process-" + Guid.NewGuid().ToString("N")[..12];
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task<TimeSpan> WaitForHealthAsync(HttpClient client, Uri health, Stopwatch since)
    {
        while (since.Elapsed < TimeSpan.FromSeconds(30))
        {
            try
            {
                using var response = await client.GetAsync(health);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return since.Elapsed;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(10);
        }

        throw new TimeoutException($"The app did not answer {health} within 30 s.");
    }

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
        var port = FreePort();
        var stopwatch = Stopwatch.StartNew();
        using var process = Start(("FUNCTIONS_CUSTOMHANDLER_PORT", port.ToString(System.Globalization.CultureInfo.InvariantCulture)), ("PORT", "0"));
        try
        {
            using var client = new HttpClient();
            var startup = await WaitForHealthAsync(client, new Uri($"http://127.0.0.1:{port}/api/health"), stopwatch);
            process.Refresh();
            output.WriteLine($"functions mode: first health answer after {startup.TotalMilliseconds:F0} ms, RSS {process.WorkingSet64 / (1024 * 1024)} MiB");

            Assert.False(await AcceptsConnectionAsync(IPAddress.Parse("127.0.0.2"), port));
            Assert.False(await AcceptsConnectionAsync(IPAddress.IPv6Loopback, port));
            using var invocation = await client.PostAsync(new Uri($"http://127.0.0.1:{port}/ReceiveCallback"), new StringContent("{}"));
            Assert.Equal(HttpStatusCode.BadRequest, invocation.StatusCode);
            Assert.Contains("no Data object", await invocation.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    [Fact]
    public async Task Standalone_mode_listens_on_every_address_at_PORT()
    {
        var port = FreePort();
        var stopwatch = Stopwatch.StartNew();
        using var process = Start(("PORT", port.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        try
        {
            using var client = new HttpClient();
            var startup = await WaitForHealthAsync(client, new Uri($"http://127.0.0.1:{port}/api/health"), stopwatch);
            process.Refresh();
            output.WriteLine($"standalone mode: first health answer after {startup.TotalMilliseconds:F0} ms, RSS {process.WorkingSet64 / (1024 * 1024)} MiB");

            Assert.True(await AcceptsConnectionAsync(IPAddress.Parse("127.0.0.2"), port));
            using var invocation = await client.PostAsync(new Uri($"http://127.0.0.1:{port}/ReceiveCallback"), new StringContent("{}"));
            Assert.Equal(HttpStatusCode.NotFound, invocation.StatusCode);
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }
}
