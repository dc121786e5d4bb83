using System.Net;
using System.Text;
using System.Text.Json;
using FunctionApp.Core;
using FunctionApp.Tests.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace FunctionApp.Tests.Api;

/// <summary>The custom-handler invocation endpoints, driven with host-shaped payloads from Fixtures/functions-host.</summary>
public sealed class FunctionsInvocationTests : IAsyncLifetime
{
    private readonly RecordingCallbackIngestor _ingestor;
    private readonly RecordingBatchApplier _applier = new();
    private IngestResult _nextResult = Samples.Result("accepted", 200, Samples.Batch("b-1", 1, 2), Samples.Batch("b-1", 2, 2));
    private TestApp _app = null!;

    public FunctionsInvocationTests() => _ingestor = new RecordingCallbackIngestor(_ => _nextResult);

    public async Task InitializeAsync() => _app = await TestApp.StartFunctionsAsync(services =>
    {
        services.AddSingleton<ICallbackIngestor>(_ingestor);
        services.AddSingleton<IRelationshipBatchApplier>(_applier);
    });

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private static string Fixture(string name) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "functions-host", name));

    private async Task<(HttpStatusCode Status, JsonElement Body)> InvokeAsync(string function, string payload)
    {
        using var content = new StringContent(payload, Encoding.UTF8, "application/json");
        using var response = await _app.Client.PostAsync(new Uri(function, UriKind.Relative), content);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return (response.StatusCode, document.RootElement.Clone());
    }

    [Theory]
    [InlineData("receive-tencent-query-object.json", "tencent", "", "bodies-tencent-friend-add.json")]
    [InlineData("receive-tencent-query-string.json", "tencent", "", "bodies-tencent-friend-add.json")]
    [InlineData("receive-tencent-octet-stream.json", "tencent", "", "bodies-tencent-friend-add.json")]
    [InlineData("receive-openim-params-rest.json", "openim", "key-1/callbackAfterAddFriendCommand", "bodies-openim-add-friend.json")]
    [InlineData("receive-openim-url-only.json", "openim", "key 1/callbackAfterAddFriendCommand", "bodies-openim-add-friend.json")]
    public async Task ReceiveCallback_hands_the_request_to_the_ingestor_as_the_platform_sent_it(string fixture, string platform, string rest, string bodyFixture)
    {
        var (status, body) = await InvokeAsync("ReceiveCallback", Fixture(fixture));

        Assert.Equal(HttpStatusCode.OK, status);
        var callback = Assert.Single(_ingestor.Received);
        Assert.Equal(platform, callback.Platform);
        Assert.Equal(rest, callback.RestPath);
        Assert.Equal(Fixture(bodyFixture), Encoding.UTF8.GetString(callback.Body.Span));
        Assert.NotEmpty(body.GetProperty("Logs").EnumerateArray());
        if (platform == "tencent")
        {
            Assert.Equal("1400000001", callback.Query["sdkappid"]);
            Assert.Equal("17773bc39a671d7b9aa835458704d2a6db81360a5940292b587d6d760d484061", callback.Query["Sign"]);
            Assert.Equal("iOS", callback.Query["OptPlatform"]);
        }
        else
        {
            Assert.Equal("op-1", callback.Headers["OPERATIONID"]);
            Assert.Equal("gzip,deflate", callback.Headers["Accept-Encoding"]);
        }
    }

    [Fact]
    public async Task ReceiveCallback_answers_with_the_http_output_and_every_batch_as_a_json_object()
    {
        var (status, body) = await InvokeAsync("ReceiveCallback", Fixture("receive-tencent-query-object.json"));

        Assert.Equal(HttpStatusCode.OK, status);
        var outputs = body.GetProperty("Outputs");
        var res = outputs.GetProperty("res");
        Assert.Equal(200, res.GetProperty("statusCode").GetInt32());
        Assert.Equal(_nextResult.Answer.Body, res.GetProperty("body").GetString());
        Assert.Equal("application/json", res.GetProperty("headers").GetProperty("Content-Type").GetString());

        var batches = outputs.GetProperty("batches");
        Assert.Equal(2, batches.GetArrayLength());
        Assert.All(batches.EnumerateArray(), b => Assert.Equal(JsonValueKind.Object, b.ValueKind));
        var second = RelationshipBatchJson.Deserialize(Encoding.UTF8.GetBytes(batches[1].GetRawText()));
        Assert.Equal(("b-1", 2, 2), (second.BatchId, second.Part, second.PartCount));
        Assert.Equal(_nextResult.Batches[1].Events[0].EventId, second.Events[0].EventId);
        Assert.Equal(JsonValueKind.Null, body.GetProperty("ReturnValue").ValueKind);
        Assert.Contains(_app.Logs.Messages, m => m.Contains("platform=tencent app=1400000001 command=Sns.CallbackFriendAdd events=2 outcome=accepted", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ReceiveCallback_writes_each_batch_exactly_as_the_queue_message_format_and_a_content_length()
    {
        var source = Samples.Batch("b-9").Source with { ClientIp = "\u00e9\"<>&\u2028" };
        _nextResult = Samples.Result("accepted", 200, Samples.Batch("b-9") with { Source = source });
        using var content = new StringContent(Fixture("receive-tencent-query-object.json"), Encoding.UTF8, "application/json");
        using var response = await _app.Client.PostAsync(new Uri("ReceiveCallback", UriKind.Relative), content);
        var answer = await response.Content.ReadAsByteArrayAsync();

        Assert.Equal(answer.Length, response.Content.Headers.ContentLength);
        using var document = JsonDocument.Parse(answer);
        var written = document.RootElement.GetProperty("Outputs").GetProperty("batches")[0].GetRawText();
        Assert.Equal(Encoding.UTF8.GetString(RelationshipBatchJson.Serialize(_nextResult.Batches[0])), written);
    }

    [Theory]
    [InlineData("rejected", 401)]
    [InlineData("ignored", 200)]
    public async Task ReceiveCallback_sends_no_batches_output_when_nothing_is_to_be_queued(string outcome, int statusCode)
    {
        _nextResult = outcome == "rejected"
            ? Samples.Result(outcome, statusCode, Samples.Batch())
            : Samples.Result(outcome, statusCode);

        var (status, body) = await InvokeAsync("ReceiveCallback", Fixture("receive-tencent-query-object.json"));

        Assert.Equal(HttpStatusCode.OK, status);
        var outputs = body.GetProperty("Outputs");
        Assert.Equal(statusCode, outputs.GetProperty("res").GetProperty("statusCode").GetInt32());
        Assert.False(outputs.TryGetProperty("batches", out _));
    }

    [Fact]
    public async Task ReceiveCallback_passes_a_null_body_as_empty()
    {
        var (status, _) = await InvokeAsync("ReceiveCallback", Fixture("receive-tencent-body-null.json"));

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(0, Assert.Single(_ingestor.Received).Body.Length);
    }

    [Theory]
    [InlineData("hostile-missing-data.json", "no Data object")]
    [InlineData("hostile-missing-req.json", "no Data.req")]
    [InlineData("hostile-data-not-object.json", "no Data object")]
    [InlineData("hostile-query-malformed.json", "Query is a string that is not JSON")]
    [InlineData("hostile-query-array.json", "Query is JSON Array")]
    [InlineData("hostile-no-platform.json", "no 'platform'")]
    [InlineData("hostile-octet-stream-not-base64.json", "not base64")]
    [InlineData("hostile-not-json.txt", "not JSON")]
    public async Task ReceiveCallback_refuses_a_payload_without_the_documented_shape_with_400_and_the_reason(string fixture, string reason)
    {
        var (status, body) = await InvokeAsync("ReceiveCallback", Fixture(fixture));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains(reason, Assert.Single(body.GetProperty("Logs").EnumerateArray()).GetString(), StringComparison.Ordinal);
        Assert.Empty(body.GetProperty("Outputs").EnumerateObject());
        Assert.Empty(_ingestor.Received);
        Assert.Contains(_app.Logs.Messages, m => m.StartsWith("Invocation ReceiveCallback refused", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("apply-message-object.json")]
    [InlineData("apply-message-text.json")]
    [InlineData("apply-message-double-encoded.json")]
    [InlineData("apply-message-base64.json")]
    [InlineData("apply-message-base64-with-bom.json")]
    public async Task ApplyRelationshipEvents_applies_the_message_in_every_form_the_host_sends(string fixture)
    {
        var (status, body) = await InvokeAsync("ApplyRelationshipEvents", Fixture(fixture));

        Assert.Equal(HttpStatusCode.OK, status);
        var batch = Assert.Single(_applier.Applied);
        Assert.Equal("tencent-1400000001-5f2c", batch.BatchId);
        Assert.Equal(("id", "id1", RelationshipAction.Added), (batch.Events[0].Owner, batch.Events[0].Peer, batch.Events[0].Action));
        Assert.Equal("1", batch.Events[0].Attributes["forceFlag"]);
        Assert.Empty(body.GetProperty("Outputs").EnumerateObject());
        Assert.Contains("applied", Assert.Single(body.GetProperty("Logs").EnumerateArray()).GetString(), StringComparison.Ordinal);
        Assert.Contains(_app.Logs.Messages, m => m.Contains("batchId=tencent-1400000001-5f2c part=1/1 app=1400000001 events=1 outcome=applied", StringComparison.Ordinal)
            && m.Contains("deliveryCount=2", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("apply-hostile-schema-version.json", "schemaVersion 99")]
    [InlineData("apply-hostile-not-a-batch.json", "neither a JSON object")]
    [InlineData("apply-hostile-number.json", "JSON Number")]
    [InlineData("apply-hostile-missing-message.json", "no Data.message")]
    [InlineData("hostile-not-json.txt", "not JSON")]
    public async Task ApplyRelationshipEvents_fails_a_message_it_can_never_apply_so_it_is_dead_lettered(string fixture, string reason)
    {
        var (status, body) = await InvokeAsync("ApplyRelationshipEvents", Fixture(fixture));

        Assert.False(((int)status) is >= 200 and < 300);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains(reason, Assert.Single(body.GetProperty("Logs").EnumerateArray()).GetString(), StringComparison.Ordinal);
        Assert.Empty(_applier.Applied);
    }

    [Fact]
    public async Task ApplyRelationshipEvents_answers_non_2xx_when_the_store_fails_so_the_message_is_redelivered()
    {
        _applier.FailWith = new IOException("table service timed out\nsecond line");

        var (status, body) = await InvokeAsync("ApplyRelationshipEvents", Fixture("apply-message-object.json"));

        Assert.Equal(HttpStatusCode.InternalServerError, status);
        var log = Assert.Single(body.GetProperty("Logs").EnumerateArray()).GetString();
        Assert.Contains("tencent-1400000001-5f2c", log, StringComparison.Ordinal);
        Assert.Contains("IOException: table service timed out", log, StringComparison.Ordinal);
        Assert.DoesNotContain("second line", log, StringComparison.Ordinal);
        Assert.Contains(_app.Logs.Messages, m => m.Contains("outcome=failed", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Standalone_callback_route_is_not_served_in_functions_mode()
    {
        using var content = new StringContent("{}", Encoding.UTF8, "application/json");
        using var response = await _app.Client.PostAsync(new Uri("api/callbacks/tencent", UriKind.Relative), content);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Empty(_ingestor.Received);
    }
}

public sealed class FunctionsInvocationLimitTests
{
    [Fact]
    public async Task ReceiveCallback_hands_over_at_most_one_byte_more_than_the_body_limit()
    {
        var ingestor = new RecordingCallbackIngestor(_ => Samples.Result("rejected", 413));
        await using var app = await TestApp.StartFunctionsAsync(s => s.AddSingleton<ICallbackIngestor>(ingestor), "--Callbacks:MaxBodyBytes=100");
        var payload = JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["Data"] = new Dictionary<string, object>
            {
                ["req"] = new Dictionary<string, object>
                {
                    ["Url"] = "http://localhost/api/callbacks/openim",
                    ["Params"] = new Dictionary<string, string> { ["platform"] = "openim" },
                    ["Body"] = new string('x', 5000),
                },
            },
        });

        using var content = new StringContent(payload, Encoding.UTF8, "application/json");
        using var response = await app.Client.PostAsync(new Uri("ReceiveCallback", UriKind.Relative), content);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(101, Assert.Single(ingestor.Received).Body.Length);
    }
}
