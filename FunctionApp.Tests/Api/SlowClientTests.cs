using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using FunctionApp.Api;
using FunctionApp.Core;
using FunctionApp.Tests.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace FunctionApp.Tests.Api;

/// <summary>
/// What an unauthenticated or slow client can hold on the standalone server: real Kestrel on a free port, real
/// sockets. Credentials in the URL are checked before the body is read, buffers grow with the bytes that arrive,
/// and connections, body data rate, header time and request time are bounded.
/// </summary>
public sealed class SlowClientTests
{
    private const string SignedApp = "1400000001";
    private const string Token = "tencent-token-for-slow-client-tests";
    private const string OpenImKey = "openim-key-for-slow-client-tests";

    private static Task<TestApp> StartAsync(params string[] settings) => TestApp.StartStandaloneAsync(
        s => s.AddSingleton<IRelationshipEventQueue>(new RecordingEventQueue()),
        [$"--Tencent:Apps:{SignedApp}:CallbackToken={Token}", "--Tencent:Apps:1400000002:CallbackToken=",
         $"--OpenIm:CallbackKey={OpenImKey}", "--Callbacks:AllowUnsigned=true", .. settings]);

    private static string Head(string target, long contentLength) =>
        $"POST {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {contentLength}\r\n\r\n";

    /// <summary>Sends <paramref name="head"/>, then <paramref name="chunk"/> bytes every <paramref name="interval"/>
    /// until the server answers or closes, or <paramref name="deadline"/> passes; returns the status line (null when
    /// closed without one, "" when still open at the deadline) and the time it took.</summary>
    private static async Task<(string? StatusLine, TimeSpan Elapsed)> TrickleAsync(
        int port, string head, int chunk, TimeSpan interval, TimeSpan deadline)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, port);
        var stream = tcp.GetStream();
        var stopwatch = Stopwatch.StartNew();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
        var reader = new StreamReader(stream, Encoding.ASCII);
        var answer = reader.ReadLineAsync();
        var payload = Encoding.ASCII.GetBytes(new string(' ', Math.Max(chunk, 1)));
        while (stopwatch.Elapsed < deadline)
        {
            if (await Task.WhenAny(answer, Task.Delay(interval)) == answer)
            {
                return (await SafeAsync(answer), stopwatch.Elapsed);
            }

            if (chunk > 0)
            {
                try
                {
                    await stream.WriteAsync(payload);
                }
                catch (IOException)
                {
                    return (await SafeAsync(answer), stopwatch.Elapsed);
                }
            }
        }

        return ("", stopwatch.Elapsed);
    }

    private static async Task<string?> SafeAsync(Task<string?> line)
    {
        try
        {
            return await line;
        }
        catch (IOException)
        {
            return null;
        }
    }

    [Theory]
    [InlineData("/api/callbacks/tencent?SdkAppid=1400009999&CallbackCommand=Sns.CallbackFriendAdd", "403")]
    [InlineData("/api/callbacks/tencent?SdkAppid=1400000001&CallbackCommand=Sns.CallbackFriendAdd&RequestTime=1&Sign=00", "401")]
    [InlineData("/api/callbacks/tencent?SdkAppid=1400000001&CallbackCommand=Sns.CallbackFriendAdd", "401")]
    [InlineData("/api/callbacks/openim/wrong-key/callbackAfterAddFriendCommand", "403")]
    [InlineData("/api/callbacks/openim/callbackAfterAddFriendCommand", "403")]
    [InlineData("/api/callbacks/nowhere", "404")]
    public async Task A_callback_with_wrong_url_credentials_is_answered_before_its_body_arrives(string target, string status)
    {
        await using var app = await StartAsync();

        var (statusLine, _) = await TrickleAsync(app.BaseAddress.Port, Head(target, 1024 * 1024), 0, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(3));

        Assert.StartsWith($"HTTP/1.1 {status} ", statusLine, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_body_announced_large_but_arriving_small_takes_a_small_buffer()
    {
        var context = new DefaultHttpContext();
        context.Request.ContentLength = 1024 * 1024;
        context.Request.Body = new MemoryStream(Encoding.UTF8.GetBytes("{\"PairList\":[]}"));

        var before = GC.GetAllocatedBytesForCurrentThread();
        var body = await CallbackRequests.ReadBoundedBodyAsync(context.Request, 1024 * 1024 + 1, CancellationToken.None);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(15, body.Length);
        Assert.True(allocated < 64 * 1024, $"{allocated} bytes allocated for a 15-byte body");
    }

    [Fact]
    public async Task A_signed_client_trickling_its_body_below_the_minimum_rate_is_cut_off()
    {
        await using var app = await StartAsync();
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
        var target = $"/api/callbacks/tencent?SdkAppid={SignedApp}&CallbackCommand=Sns.CallbackFriendAdd&RequestTime={now}"
            + $"&Sign={FunctionApp.Protocols.Tencent.TencentSignature.Compute(Token, now)}";

        // 500 bytes/s: above Kestrel's own minimum (240), below the app's default (4096).
        var (statusLine, elapsed) = await TrickleAsync(app.BaseAddress.Port, Head(target, 1024 * 1024), 250, TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(15));

        Assert.NotEqual("", statusLine);
        Assert.True(elapsed < TimeSpan.FromSeconds(12), $"cut off after {elapsed}");
    }

    [Fact]
    public async Task Request_headers_must_arrive_within_the_header_timeout()
    {
        await using var app = await StartAsync("--Http:RequestHeadersTimeoutSeconds=2");

        var (statusLine, elapsed) = await TrickleAsync(app.BaseAddress.Port, "POST /api/callbacks/tencent HTTP/1.1\r\nHost: 127.0.0.1\r\n",
            0, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(10));

        Assert.NotEqual("", statusLine);
        Assert.True(elapsed < TimeSpan.FromSeconds(6), $"closed after {elapsed}");
    }

    [Fact]
    public async Task A_request_is_ended_at_the_request_timeout_however_steadily_it_trickles()
    {
        await using var app = await StartAsync("--Http:RequestTimeoutSeconds=2", "--Http:MinRequestBodyBytesPerSecond=100");
        var target = "/api/callbacks/tencent?SdkAppid=1400000002&CallbackCommand=Sns.CallbackFriendAdd";

        var (statusLine, elapsed) = await TrickleAsync(app.BaseAddress.Port, Head(target, 1024 * 1024), 250, TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(10));

        Assert.NotEqual("", statusLine);
        Assert.True(elapsed < TimeSpan.FromSeconds(6), $"ended after {elapsed}");
    }

    [Fact]
    public async Task Connections_over_the_limit_are_closed()
    {
        await using var app = await StartAsync("--Http:MaxConcurrentConnections=2");
        var held = new List<TcpClient>();
        try
        {
            for (var i = 0; i < 2; i++)
            {
                var client = new TcpClient();
                held.Add(client);
                await client.ConnectAsync(IPAddress.Loopback, app.BaseAddress.Port);
                await client.GetStream().WriteAsync(Encoding.ASCII.GetBytes("GET /api/health HTTP/1.1\r\n"));
            }

            await Task.Delay(300);
            var (statusLine, elapsed) = await TrickleAsync(app.BaseAddress.Port, "GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
                0, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(3));
            Assert.True(statusLine is null || statusLine.StartsWith("HTTP/1.1 503", StringComparison.Ordinal), $"'{statusLine}' after {elapsed}");
        }
        finally
        {
            held.ForEach(c => c.Dispose());
        }
    }
}
