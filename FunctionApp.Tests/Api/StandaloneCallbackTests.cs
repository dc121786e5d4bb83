using System.Net;
using System.Text;
using FunctionApp.Core;
using FunctionApp.Tests.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace FunctionApp.Tests.Api;

/// <summary>Standalone <c>POST /api/callbacks/{platform}/{**rest}</c>: ingest, queue, then answer.</summary>
public sealed class StandaloneCallbackTests
{
    private const string Sign = "17773bc39a671d7b9aa835458704d2a6db81360a5940292b587d6d760d484061";

    private static async Task<(TestApp App, RecordingCallbackIngestor Ingestor, RecordingEventQueue Queue)> StartAsync(
        Func<InboundCallback, IngestResult> script, params string[] settings)
    {
        var ingestor = new RecordingCallbackIngestor(script);
        var queue = new RecordingEventQueue();
        var app = await TestApp.StartStandaloneAsync(services =>
        {
            services.AddSingleton<ICallbackIngestor>(ingestor);
            services.AddSingleton<IRelationshipEventQueue>(queue);
        }, settings);
        return (app, ingestor, queue);
    }

    [Fact]
    public async Task Builds_the_inbound_callback_from_the_request_and_answers_after_queueing()
    {
        var batches = new[] { Samples.Batch("b-7", 1, 2), Samples.Batch("b-7", 2, 2) };
        var (app, ingestor, queue) = await StartAsync(_ => Samples.Result("accepted", 200, batches));
        await using var _ = app;
        const string Body = "{\"CallbackCommand\":\"Sns.CallbackFriendAdd\",\"PairList\":[]}";
        using var request = new HttpRequestMessage(HttpMethod.Post,
            new Uri($"api/callbacks/openim/key%2F1/callbackAfterAddFriendCommand?SdkAppid=1400000001&sdkappid=dup&Sign={Sign}&empty=", UriKind.Relative))
        {
            Content = new StringContent(Body, Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("operationID", ["op-1", "op-2"]);

        using var response = await app.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("{\"ActionStatus\":\"OK\",\"ErrorCode\":0,\"ErrorInfo\":\"\"}", await response.Content.ReadAsStringAsync());
        var callback = Assert.Single(ingestor.Received);
        Assert.Equal("openim", callback.Platform);
        Assert.Equal("key/1/callbackAfterAddFriendCommand", callback.RestPath);
        Assert.Equal("1400000001", callback.Query["SDKAPPID"]);
        Assert.Equal(Sign, callback.Query["Sign"]);
        Assert.Equal("", callback.Query["empty"]);
        Assert.Equal("op-1, op-2", callback.Headers["operationid"]); // HttpClient folds the two values into one header line.
        Assert.Equal(Body, Encoding.UTF8.GetString(callback.Body.Span));
        Assert.True(callback.ReceivedAt > DateTimeOffset.UtcNow.AddMinutes(-1));
        Assert.Equal(["b-7/1", "b-7/2"], queue.Enqueued.Select(b => $"{b.BatchId}/{b.Part}"));
    }

    [Fact]
    public async Task Answers_with_the_platforms_failure_answer_when_the_queue_refuses_the_batches()
    {
        var (app, _, queue) = await StartAsync(_ => Samples.Result("accepted", 200, Samples.Batch()));
        await using var _ = app;
        queue.FailWith = new IOException("queue service unavailable");

        using var response = await app.Client.PostAsync(new Uri("api/callbacks/tencent", UriKind.Relative), new StringContent("{}"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("\"ActionStatus\":\"FAIL\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Contains(app.Logs.Messages, m => m.Contains("outcome=enqueue-failed reason=IOException: queue service unavailable", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("rejected", 401)]
    [InlineData("ignored", 200)]
    public async Task Queues_nothing_for_a_rejected_or_ignored_callback(string outcome, int statusCode)
    {
        var (app, _, queue) = await StartAsync(_ => outcome == "rejected"
            ? Samples.Result(outcome, statusCode, Samples.Batch())
            : Samples.Result(outcome, statusCode));
        await using var _ = app;

        using var response = await app.Client.PostAsync(new Uri("api/callbacks/tencent", UriKind.Relative), new StringContent("{}"));

        Assert.Equal(statusCode, (int)response.StatusCode);
        Assert.Empty(queue.Enqueued);
        Assert.Contains(app.Logs.Messages, m => m.Contains($"outcome={outcome} reason=scripted {outcome}", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Reads_at_most_one_byte_more_than_the_body_limit()
    {
        var (app, ingestor, _) = await StartAsync(_ => Samples.Result("rejected", 413), "--Callbacks:MaxBodyBytes=100");
        await using var _ = app;

        using var response = await app.Client.PostAsync(new Uri("api/callbacks/tencent", UriKind.Relative),
            new ByteArrayContent(new byte[64 * 1024]));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal(101, Assert.Single(ingestor.Received).Body.Length);
    }

    [Fact]
    public async Task Logs_one_line_per_callback_and_never_the_signature_even_with_verbose_framework_logging()
    {
        var (app, _, _) = await StartAsync(_ => Samples.Result("accepted", 200, Samples.Batch()),
            "--Logging:LogLevel:Default=Trace", "--Logging:LogLevel:Microsoft.AspNetCore=Trace");
        await using var _ = app;

        using var response = await app.Client.PostAsync(
            new Uri($"api/callbacks/tencent?SdkAppid=1400000001&CallbackCommand=Sns.CallbackFriendAdd&Sign={Sign}&RequestTime=1669872112", UriKind.Relative),
            new StringContent("{}"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Single(app.Logs.Messages, m => m.StartsWith("Callback platform=tencent app=1400000001 command=Sns.CallbackFriendAdd events=1 outcome=accepted", StringComparison.Ordinal));
        Assert.DoesNotContain(app.Logs.Messages, m => m.Contains(Sign, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Invocation_routes_are_not_served_standalone()
    {
        var (app, ingestor, _) = await StartAsync(_ => Samples.Result());
        await using var _ = app;

        using var response = await app.Client.PostAsync(new Uri("ApplyRelationshipEvents", UriKind.Relative), new StringContent("{}"));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Empty(ingestor.Received);
    }
}
