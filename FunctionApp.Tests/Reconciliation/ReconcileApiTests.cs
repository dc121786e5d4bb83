using System.Net;
using System.Text;
using System.Text.Json;
using FunctionApp.Tests.Hosting;
using FunctionApp.Tests.Infrastructure;

namespace FunctionApp.Tests.Reconciliation;

/// <summary>The real app on the shared Azurite, with one Tencent app of its own reconciled against a fake platform API.</summary>
public abstract class ReconcilingAppTests(AzuriteFixture azurite) : IAsyncLifetime
{
    protected string App { get; } = "14" + Random.Shared.NextInt64(10_000_000, 99_999_999).ToString(System.Globalization.CultureInfo.InvariantCulture);

    protected FakePlatformApi Fake { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Fake = await FakePlatformApi.StartAsync();
        Fake.TencentKeys[App] = ReconcileSetup.TencentKey;
    }

    public async Task DisposeAsync() => await Fake.DisposeAsync();

    protected string[] Settings(params string[] more) =>
    [
        "--RelationshipStorage=" + azurite.ConnectionString,
        $"--Reconciliation:Tencent:Apps:{App}:SecretKey={ReconcileSetup.TencentKey}",
        $"--Reconciliation:Tencent:Apps:{App}:Domain={Fake.BaseUri}",
        .. more,
    ];
}

/// <summary><c>POST /api/v1/apps/{appId}/users/{userId}/reconcile</c> and the timer invocation, on the real app and store.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class ReconcileApiTests(AzuriteFixture azurite) : ReconcilingAppTests(azurite)
{
    private const string Key = "reconcile-test-key";

    private static async Task<(HttpStatusCode Status, string? ContentType, JsonElement Body)> PostAsync(HttpClient client, string path, string? key = null, string body = "")
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(path, UriKind.Relative)) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        if (key is not null)
        {
            request.Headers.Add("x-api-key", key);
        }

        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        using var document = JsonDocument.Parse(text.Length == 0 ? "null" : text);
        return (response.StatusCode, response.Content.Headers.ContentType?.MediaType, document.RootElement.Clone());
    }

    [Fact]
    public async Task Standalone_the_route_needs_a_key_and_answers_a_report_of_the_repair()
    {
        await using var app = await TestApp.StartStandaloneAsync(null, Settings($"--QueryApi:Keys={Key}"));
        Fake.SetUser(App, "alice/1", [new FakeFriend("bob"), new FakeFriend("carol")], ["eve"]);
        var path = $"api/v1/apps/{App}/users/{Uri.EscapeDataString("alice/1")}/reconcile";

        var refused = await PostAsync(app.Client, path);
        var (status, contentType, report) = await PostAsync(app.Client, path, Key);
        var again = await PostAsync(app.Client, path, Key);

        Assert.Equal(HttpStatusCode.Unauthorized, refused.Status);
        Assert.Equal("application/problem+json", refused.ContentType);
        Assert.Equal((HttpStatusCode.OK, "application/json"), (status, contentType));
        Assert.Equal((App, "alice/1", "repaired"), (report.GetProperty("appId").GetString(), report.GetProperty("userId").GetString(), report.GetProperty("outcome").GetString()));
        Assert.Equal((3, 0, 2), (report.GetProperty("added").GetInt32(), report.GetProperty("removed").GetInt32(), report.GetProperty("pagesRead").GetInt32()));
        Assert.Equal(JsonValueKind.Null, report.GetProperty("error").ValueKind);
        Assert.Equal(("unchanged", 0), (again.Body.GetProperty("outcome").GetString(), again.Body.GetProperty("added").GetInt32()));

        using var friends = new HttpRequestMessage(HttpMethod.Get, new Uri($"api/v1/apps/{App}/users/{Uri.EscapeDataString("alice/1")}/friends", UriKind.Relative));
        friends.Headers.Add("x-api-key", Key);
        using var listed = await app.Client.SendAsync(friends);
        using var page = JsonDocument.Parse(await listed.Content.ReadAsStringAsync());
        Assert.Equal(["bob", "carol"], page.RootElement.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("userId").GetString()));
    }

    [Fact]
    public async Task Standalone_a_key_scoped_to_another_app_is_refused_and_reconciles_nothing()
    {
        const string ownKey = "own-app-key-0123456789";
        const string otherKey = "other-app-key-0123456789";
        await using var app = await TestApp.StartStandaloneAsync(null, Settings(
            $"--QueryApi:AppKeys:{App}={ownKey}",
            $"--QueryApi:AppKeys:1400000009={otherKey}"));
        Fake.SetUser(App, "alice", [new FakeFriend("bob")], []);
        var path = $"api/v1/apps/{App}/users/alice/reconcile";

        var refused = await PostAsync(app.Client, path, otherKey);
        var callsAfterRefusal = Fake.Calls.Count;
        var allowed = await PostAsync(app.Client, path, ownKey);

        Assert.Equal((HttpStatusCode.Forbidden, "application/problem+json"), (refused.Status, refused.ContentType));
        Assert.Equal("API key not valid for this app", refused.Body.GetProperty("title").GetString());
        Assert.Equal(0, callsAfterRefusal);
        Assert.Equal(HttpStatusCode.OK, allowed.Status);
        Assert.Equal(("repaired", 1), (allowed.Body.GetProperty("outcome").GetString(), allowed.Body.GetProperty("added").GetInt32()));
    }

    [Fact]
    public async Task Failures_are_problems_that_still_carry_the_report()
    {
        await using var app = await TestApp.StartStandaloneAsync(null, Settings());
        Fake.SetUser(App, "alice", [new FakeFriend("bob")], ["eve"]);
        Fake.ErrorFor = call => call.Api == "black_list_get" ? 30001 : null;

        var unknownApp = await PostAsync(app.Client, "api/v1/apps/999/users/alice/reconcile");
        var unknownUser = await PostAsync(app.Client, $"api/v1/apps/{App}/users/nobody/reconcile");
        var failed = await PostAsync(app.Client, $"api/v1/apps/{App}/users/alice/reconcile");
        var badId = await PostAsync(app.Client, $"api/v1/apps/{App}/users/%FF/reconcile");
        var otherRoute = await PostAsync(app.Client, $"api/v1/apps/{App}/users/alice/friends");

        Assert.Equal((HttpStatusCode.NotFound, "urn:relationship-callbacks:problem:app-not-reconciled"), (unknownApp.Status, unknownApp.Body.GetProperty("type").GetString()));
        Assert.Equal((HttpStatusCode.NotFound, "urn:relationship-callbacks:problem:reconcile-unknown-user"), (unknownUser.Status, unknownUser.Body.GetProperty("type").GetString()));
        Assert.Equal("unknown-user", unknownUser.Body.GetProperty("report").GetProperty("error").GetProperty("kind").GetString());
        Assert.Equal((HttpStatusCode.BadGateway, "application/problem+json"), (failed.Status, failed.ContentType));
        Assert.Equal(502, failed.Body.GetProperty("status").GetInt32());
        Assert.Equal((1, 0), (failed.Body.GetProperty("report").GetProperty("added").GetInt32(), failed.Body.GetProperty("report").GetProperty("removed").GetInt32()));
        Assert.Equal(HttpStatusCode.BadRequest, badId.Status);
        Assert.Equal(HttpStatusCode.NotFound, otherRoute.Status);
    }

    [Fact]
    public async Task In_functions_mode_the_forwarded_route_and_the_timer_invocation_are_served()
    {
        await using var app = await TestApp.StartFunctionsAsync(null, Settings("--Reconciliation:UsersPerRun=50"));
        Fake.SetUser(App, "alice", [new FakeFriend("bob")], []);
        Fake.SetUser(App, "bob", [new FakeFriend("alice")], []);

        var forwarded = await PostAsync(app.Client, $"api/v1/apps/{App}/users/alice/reconcile");
        var timer = await PostAsync(app.Client, "ReconcileOnSchedule",
            body: """{"Data":{"timer":{"Schedule":{"AdjustForDST":true},"ScheduleStatus":null,"IsPastDue":false}},"Metadata":{"sys":{"MethodName":"ReconcileOnSchedule"}}}""");
        var malformed = await PostAsync(app.Client, "ReconcileOnSchedule", body: """{"Metadata":{}}""");

        Assert.Equal(HttpStatusCode.OK, forwarded.Status);
        Assert.Equal(HttpStatusCode.OK, timer.Status);
        Assert.Equal(JsonValueKind.Object, timer.Body.GetProperty("Outputs").ValueKind);
        // The store knows alice (owner) and bob (peer of her repaired edge): both are walked; bob's own edge is added.
        var log = Assert.Single(timer.Body.GetProperty("Logs").EnumerateArray()).GetString()!;
        Assert.Contains("2 users: 1 repaired, 1 unchanged", log, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, malformed.Status);
    }
}

/// <summary>The standalone schedule and the reconciliation settings.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class ReconcileScheduleHostingTests(AzuriteFixture azurite) : ReconcilingAppTests(azurite)
{
    private async Task SeedAsync()
    {
        // One known user, through the app's own reconcile route, so the schedule has someone to walk.
        Fake.SetUser(App, "alice", [new FakeFriend("bob")], []);
        Fake.SetUser(App, "bob", [], []);
        await using var seeding = await TestApp.StartStandaloneAsync(null, Settings());
        using var response = await seeding.Client.PostAsync(new Uri($"api/v1/apps/{App}/users/alice/reconcile", UriKind.Relative), null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Fake.ClearCalls();
    }

    [Fact]
    public async Task Standalone_the_background_schedule_runs_when_enabled()
    {
        await SeedAsync();
        await using var app = await TestApp.StartStandaloneAsync(null, Settings("--Reconciliation:StandaloneEnabled=true", "--ReconciliationSchedule=* * * * * *"));

        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (DateTime.UtcNow < deadline && !(Fake.Calls.Any(c => c.UserId == "bob") && Fake.Calls.Any(c => c.UserId == "alice")))
        {
            await Task.Delay(100);
        }

        Assert.Contains(Fake.Calls, c => c.UserId == "alice");
        Assert.Contains(Fake.Calls, c => c.UserId == "bob");
    }

    [Fact]
    public async Task Standalone_the_schedule_is_off_by_default()
    {
        await SeedAsync();
        await using var app = await TestApp.StartStandaloneAsync(null, Settings("--ReconciliationSchedule=* * * * * *"));

        await Task.Delay(2500);

        Assert.Empty(Fake.Calls);
    }

    [Theory]
    [InlineData("--ReconciliationSchedule=every hour", "ReconciliationSchedule")]
    [InlineData("--Reconciliation:UsersPerRun=0", "Reconciliation:UsersPerRun")]
    [InlineData("--Reconciliation:Concurrency=x", "Reconciliation:Concurrency")]
    [InlineData("--Reconciliation:Concurrency=257", "Reconciliation:Concurrency must be a whole number from 1 to 256")]
    [InlineData("--Reconciliation:CallsPerSecond=0", "Reconciliation:CallsPerSecond")]
    [InlineData("--Reconciliation:Tencent:Apps:abc:SecretKey=k", "Reconciliation:Tencent:Apps:abc")]
    [InlineData("--Reconciliation:OpenIm:ApiUrl=http://openim:10002", "Reconciliation:OpenIm:Secret")]
    public void A_malformed_setting_stops_startup_naming_it(string setting, string named)
    {
        // Unsigned callbacks allowed, so startup gets as far as reconciliation's settings.
        var error = Assert.Throws<InvalidOperationException>(() =>
            FunctionApp.Hosting.RelationshipCallbacksApp.Build(["--PORT=0", "--Callbacks:AllowUnsigned=true", .. Settings(setting)]));

        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }
}
