using System.Net;
using System.Text.Json;
using FunctionApp.Tests.Hosting;
using FunctionApp.Tests.Infrastructure;
using static FunctionApp.Tests.EndToEnd.EndToEnd;

namespace FunctionApp.Tests.EndToEnd;

/// <summary>
/// The standalone app on a real Azurite: the documented payload of every command of both platforms is posted to
/// the callback route, goes through the Storage queue and the drain into the tables, and is read back through the
/// query API (<see cref="DocumentedCommands"/>; the same runs on Service Bus in both modes).
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class StandaloneEndToEndTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private readonly string _tencentApp = NewTencentAppId();
    private readonly string _openImApp = NewName("openim");
    private TestApp _app = null!;

    private HttpClient Client => _app.Client;

    public async Task InitializeAsync() => _app = await TestApp.StartStandaloneAsync(null,
        "--RelationshipStorage=" + azurite.ConnectionString,
        "--RelationshipEventsQueue=" + NewName("e2e"),
        $"--Tencent:Apps:{_tencentApp}:CallbackToken=",
        "--OpenIm:AppId=" + _openImApp);

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public Task Every_tencent_command_reaches_the_tables_and_reads_back() => DocumentedCommands.TencentAsync(Client, _tencentApp);

    [Fact]
    public Task Every_openim_command_reaches_the_tables_and_reads_back() => DocumentedCommands.OpenImAsync(Client, _openImApp);

    [Fact]
    public async Task Health_reports_the_tables_and_the_queue()
    {
        using var response = await Client.GetAsync(new Uri("api/health", UriKind.Relative));
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ok", body.RootElement.GetProperty("checks").Text("tables"));
        Assert.Equal("ok", body.RootElement.GetProperty("checks").Text("queue"));
    }
}
