using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Text;
using FunctionApp.Core;
using FunctionApp.Tests.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace FunctionApp.Tests.Api;

/// <summary>
/// With no query key the query API must be unreachable from another machine whatever the headers say, also when
/// the framework trusts forwarded headers (<c>ASPNETCORE_FORWARDEDHEADERS_ENABLED=true</c>, a usual container setting).
/// The app runs on real Kestrel; the "other machine" is this one's own non-loopback address.
/// </summary>
public sealed class KeylessQueryApiTests
{
    private const string FriendsPath = "/api/v1/apps/a/users/u/friends";

    private static IPAddress NonLoopbackAddress() =>
        NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus == OperationalStatus.Up && n.NetworkInterfaceType != NetworkInterfaceType.Loopback)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address)
            .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a))
        ?? throw new InvalidOperationException("This machine has no non-loopback IPv4 address to play the remote caller.");

    private static async Task<int> GetStatusAsync(IPAddress address, int port, string path, string extraHeaders = "")
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(address, port);
        await using var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: example.test\r\nConnection: close\r\n{extraHeaders}\r\n"));
        using var reader = new StreamReader(stream, Encoding.ASCII);
        var statusLine = await reader.ReadLineAsync() ?? "";
        return int.Parse(statusLine.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
    }

    [Theory]
    [InlineData("X-Forwarded-For: 127.0.0.1\r\n")]
    [InlineData("X-Forwarded-For: ::1\r\n")]
    [InlineData("X-Forwarded-For: 127.0.0.1, 127.0.0.1\r\nX-Forwarded-Host: localhost\r\n")]
    [InlineData("")]
    public async Task A_remote_caller_claiming_loopback_in_forwarded_headers_is_refused(string spoofed)
    {
        var queries = new ScriptedRelationshipQueries();
        await using var app = await TestApp.StartStandaloneAsync(
            s => s.AddSingleton<IRelationshipQueries>(queries), "--FORWARDEDHEADERS_ENABLED=true");

        Assert.Equal(403, await GetStatusAsync(NonLoopbackAddress(), app.BaseAddress.Port, FriendsPath, spoofed));
        Assert.Empty(queries.Calls);

        // A caller on this machine is still answered.
        Assert.Equal(200, await GetStatusAsync(IPAddress.Loopback, app.BaseAddress.Port, FriendsPath));
        Assert.Equal(200, await GetStatusAsync(IPAddress.IPv6Loopback, app.BaseAddress.Port, FriendsPath));
    }
}

/// <summary>Query API keys travel in headers: a key in the URL would end up in proxy logs and request telemetry.</summary>
public sealed class QueryKeyInUrlTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_key_in_the_code_query_parameter_is_refused(bool functionsMode)
    {
        var queries = new ScriptedRelationshipQueries();
        await using var app = functionsMode
            ? await TestApp.StartFunctionsAsync(s => s.AddSingleton<IRelationshipQueries>(queries))
            : await TestApp.StartStandaloneAsync(s => s.AddSingleton<IRelationshipQueries>(queries));

        using var response = await app.Client.GetAsync(new Uri("api/v1/apps/a/users/u/friends?code=some-function-key", UriKind.Relative));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("x-functions-key", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Empty(queries.Calls);
    }
}


/// <summary>Query keys scoped to app ids (<c>QueryApi:AppKeys:&lt;appId&gt;</c>) beside unscoped ones (<c>QueryApi:Keys</c>).</summary>
public sealed class ScopedQueryKeyTests
{
    [Fact]
    public async Task A_scoped_key_reads_its_own_apps_only_and_an_unscoped_key_reads_every_app()
    {
        var queries = new ScriptedRelationshipQueries();
        await using var app = await TestApp.StartStandaloneAsync(s => s.AddSingleton<IRelationshipQueries>(queries),
            "--QueryApi:Keys=unscoped-key-0123456789",
            "--QueryApi:AppKeys:1400000001=app-one-key-0123456789, shared-key-0123456789",
            "--QueryApi:AppKeys:openim=shared-key-0123456789");

        async Task<HttpStatusCode> GetAsync(string appId, string key)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"api/v1/apps/{appId}/users/u/friends", UriKind.Relative));
            request.Headers.Add("x-api-key", key);
            using var response = await app.Client.SendAsync(request);
            return response.StatusCode;
        }

        Assert.Equal(HttpStatusCode.OK, await GetAsync("1400000001", "app-one-key-0123456789"));
        Assert.Equal(HttpStatusCode.Forbidden, await GetAsync("1400000002", "app-one-key-0123456789"));
        Assert.Equal(HttpStatusCode.Forbidden, await GetAsync("openim", "app-one-key-0123456789"));
        Assert.Equal(HttpStatusCode.OK, await GetAsync("openim", "shared-key-0123456789"));
        Assert.Equal(HttpStatusCode.OK, await GetAsync("1400000001", "shared-key-0123456789"));
        Assert.Equal(HttpStatusCode.OK, await GetAsync("1400000002", "unscoped-key-0123456789"));
        Assert.Equal(HttpStatusCode.Forbidden, await GetAsync("1400000002", "nobodys-key-0123456789"));
        Assert.Equal(["1400000001", "openim", "1400000001", "1400000002"], queries.Calls.Select(c => c.AppId));
    }
}
