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
    private readonly RecordingRedeliveryScheduler _redeliveries = new();
    private readonly IngestResult _nextResult = Samples.Result("accepted", 200, Samples.Batch("b-1", 1, 2), Samples.Batch("b-1", 2, 2));
    private TestApp _app = null!;

    public FunctionsInvocationTests() => _ingestor = new RecordingCallbackIngestor(_ => _nextResult);

    public async Task InitializeAsync() => _app = await TestApp.StartFunctionsAsync(services =>
    {
        services.AddSingleton<ICallbackIngestor>(_ingestor);
        services.AddSingleton<IRelationshipBatchApplier>(_applier);
        services.AddSingleton<IRelationshipEventQueue>(_queue);
        services.AddSingleton<IBatchRedeliveryScheduler>(_redeliveries);
    }, "--Redelivery:RetryWithinDeliverySeconds=0", "--Redelivery:FirstDelaySeconds=10");

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

    /// <summary>The object fixture with the given application properties in its metadata, as the host passes them.</summary>
    private static string WithApplicationProperties(string properties)
    {
        var payload = System.Text.Json.Nodes.JsonNode.Parse(Fixture("apply-message-object.json"))!;
        payload["Metadata"]!["ApplicationProperties"] = System.Text.Json.Nodes.JsonNode.Parse(properties);
        return payload.ToJsonString();
    }

    [Fact]
    public async Task When_the_store_fails_a_copy_is_scheduled_for_later_and_the_answer_is_2xx_so_the_host_completes_the_original()
    {
        _applier.FailWith = new IOException("table service timed out\nsecond line");

        var (status, body) = await InvokeAsync("ApplyRelationshipEvents", Fixture("apply-message-object.json"));

        Assert.Equal(HttpStatusCode.OK, status);
        var scheduled = Assert.Single(_redeliveries.Scheduled);
        Assert.Equal("3c1f9d0e7a5b4e2c9d8f", scheduled.OriginalMessageId);
        Assert.Equal(TimeSpan.FromSeconds(10), scheduled.Redelivery.Delay);
        Assert.Equal(1, scheduled.Redelivery.Next.Generation);
        Assert.Equal("tencent-1400000001-5f2c", RelationshipBatchJson.Deserialize(scheduled.Body.Span).BatchId);
        var log = Assert.Single(body.GetProperty("Logs").EnumerateArray()).GetString();
        Assert.Contains("tencent-1400000001-5f2c", log, StringComparison.Ordinal);
        Assert.Contains("IOException: table service timed out", log, StringComparison.Ordinal);
        Assert.Contains("redelivery 1 scheduled in 10 s", log, StringComparison.Ordinal);
        Assert.DoesNotContain("second line", log, StringComparison.Ordinal);
        Assert.Contains(_app.Logs.Messages, m => m.Contains("outcome=retry", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("{\"RedeliveryGeneration\":\"2\",\"RedeliveryFirstFailedAt\":\"{since}\",\"RedeliveryOriginalMessageId\":\"first-id\"}")]
    [InlineData("\"{\\\"RedeliveryGeneration\\\":2,\\\"RedeliveryFirstFailedAt\\\":\\\"{since}\\\",\\\"RedeliveryOriginalMessageId\\\":\\\"first-id\\\"}\"")]
    public async Task A_redelivered_copy_that_fails_again_schedules_the_next_generation_of_the_same_chain(string properties)
    {
        _applier.FailWith = new IOException("still down");
        var since = DateTimeOffset.UtcNow.AddMinutes(-1);

        var (status, _) = await InvokeAsync("ApplyRelationshipEvents",
            WithApplicationProperties(properties.Replace("{since}", since.UtcDateTime.ToString("O", System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)));

        Assert.Equal(HttpStatusCode.OK, status);
        var scheduled = Assert.Single(_redeliveries.Scheduled);
        Assert.Equal("first-id", scheduled.OriginalMessageId);
        Assert.Equal(new RedeliveryState(3, since), scheduled.Redelivery.Next);
        Assert.Equal(TimeSpan.FromSeconds(40), scheduled.Redelivery.Delay);
    }

    [Fact]
    public async Task When_the_copy_cannot_be_sent_the_answer_is_non_2xx_so_the_host_redelivers_the_original()
    {
        _applier.FailWith = new IOException("table service timed out");
        _redeliveries.FailWith = new TimeoutException("Service Bus did not answer");

        var (status, body) = await InvokeAsync("ApplyRelationshipEvents", Fixture("apply-message-object.json"));

        Assert.Equal(HttpStatusCode.InternalServerError, status);
        Assert.Contains("could not be scheduled", Assert.Single(body.GetProperty("Logs").EnumerateArray()).GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_batch_failing_for_the_whole_retry_period_is_failed_so_the_host_dead_letters_it()
    {
        _applier.FailWith = new IOException("still down");

        var (status, body) = await InvokeAsync("ApplyRelationshipEvents",
            WithApplicationProperties("{\"RedeliveryGeneration\":40,\"RedeliveryFirstFailedAt\":\"2020-01-01T00:00:00Z\"}"));

        Assert.Equal(HttpStatusCode.InternalServerError, status);
        Assert.Empty(_redeliveries.Scheduled);
        Assert.Contains("dead-letter", Assert.Single(body.GetProperty("Logs").EnumerateArray()).GetString(), StringComparison.Ordinal);
        Assert.Contains(_app.Logs.Messages, m => m.Contains("outcome=expired", StringComparison.Ordinal));
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
