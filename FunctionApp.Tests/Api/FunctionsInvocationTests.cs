using System.Net;
using System.Text;
using System.Text.Json;
using FunctionApp.Core;
using FunctionApp.Tests.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace FunctionApp.Tests.Api;

/// <summary>
/// Functions mode: the <c>ApplyRelationshipEvents</c> invocation, driven with host-shaped payloads from
/// Fixtures/functions-host, and the callback route the host forwards raw.
/// </summary>
public sealed class FunctionsInvocationTests : IAsyncLifetime
{
    private readonly RecordingCallbackIngestor _ingestor;
    private readonly RecordingBatchApplier _applier = new();
    private readonly RecordingEventQueue _queue = new();
    private readonly IngestResult _nextResult = Samples.Result("accepted", 200, Samples.Batch("b-1", 1, 2), Samples.Batch("b-1", 2, 2));
    private TestApp _app = null!;

    public FunctionsInvocationTests() => _ingestor = new RecordingCallbackIngestor(_ => _nextResult);

    public async Task InitializeAsync() => _app = await TestApp.StartFunctionsAsync(services =>
    {
        services.AddSingleton<ICallbackIngestor>(_ingestor);
        services.AddSingleton<IRelationshipBatchApplier>(_applier);
        services.AddSingleton<IRelationshipEventQueue>(_queue);
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
    public async Task The_callback_route_is_served_in_functions_mode_and_answers_only_after_the_send()
    {
        using var content = new StringContent("{}", Encoding.UTF8, "application/json");
        using var response = await _app.Client.PostAsync(new Uri("api/callbacks/tencent?SdkAppid=1", UriKind.Relative), content);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("tencent", Assert.Single(_ingestor.Received).Platform);
        Assert.Equal(["b-1", "b-1"], _queue.Enqueued.Select(b => b.BatchId));
    }

    [Fact]
    public async Task A_failed_send_gets_the_platform_failure_answer()
    {
        _queue.FailWith = new TimeoutException("not accepted within 1000 ms");
        using var content = new StringContent("{}", Encoding.UTF8, "application/json");
        using var response = await _app.Client.PostAsync(new Uri("api/callbacks/tencent?SdkAppid=1", UriKind.Relative), content);

        Assert.Equal(_nextResult.EnqueueFailedAnswer.StatusCode, (int)response.StatusCode);
        Assert.Equal(_nextResult.EnqueueFailedAnswer.Body, await response.Content.ReadAsStringAsync());
        Assert.Contains(_app.Logs.Messages, m => m.Contains("outcome=enqueue-failed", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_former_callback_invocation_is_not_served()
    {
        using var content = new StringContent(Fixture("apply-message-object.json"), Encoding.UTF8, "application/json");
        using var response = await _app.Client.PostAsync(new Uri("ReceiveCallback", UriKind.Relative), content);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Empty(_ingestor.Received);
    }
}
