using System.Diagnostics;
using System.Net;
using FunctionApp.Core;
using FunctionApp.Messaging;
using FunctionApp.Storage.Relationships;
using FunctionApp.Tests.Hosting;
using FunctionApp.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using static FunctionApp.Tests.EndToEnd.EndToEnd;

namespace FunctionApp.Tests.EndToEnd;

/// <summary>The standalone queue when things go wrong: storage going away, and the app stopping mid-apply.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class StandaloneQueueFailureTests(AzuriteFixture azurite)
{
    /// <summary>The real store, slowed down, reporting when an apply starts and ends.</summary>
    private sealed class SlowApplier(TableRelationshipStore store) : IRelationshipBatchApplier
    {
        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool Finished { get; private set; }

        public async Task ApplyAsync(RelationshipBatch batch, CancellationToken cancellationToken)
        {
            Started.TrySetResult();
            await Task.Delay(TimeSpan.FromSeconds(1.5), CancellationToken.None);
            await store.ApplyAsync(batch, cancellationToken);
            Finished = true;
        }
    }

    [Fact]
    public async Task Stopping_the_app_lets_an_apply_in_flight_finish_and_delete_its_message()
    {
        var appId = NewTencentAppId();
        var queueName = NewName("stop");
        SlowApplier? applier = null;
        var app = await TestApp.StartStandaloneAsync(
            services => services.AddSingleton<IRelationshipBatchApplier>(provider =>
                applier = new SlowApplier(provider.GetRequiredService<TableRelationshipStore>())),
            "--RelationshipStorage=" + azurite.ConnectionString,
            "--RelationshipEventsQueue=" + queueName,
            $"--Tencent:Apps:{appId}:CallbackToken=");
        try
        {
            var (status, _) = await PostTencentAsync(app.Client, appId, "Sns.CallbackFriendAdd", Utf8(TencentFriendAdd("carol", ["dave"])));
            Assert.Equal(HttpStatusCode.OK, status);
            await applier!.Started.Task.WaitAsync(TimeSpan.FromSeconds(10));
        }
        finally
        {
            await app.DisposeAsync();
        }

        Assert.True(applier.Finished);
        Assert.Equal(0, await azurite.Queue(queueName).ApproximateCountAsync());
        Assert.Contains(app.Logs.Messages, m => m.Contains($"app={appId} events=1 outcome=applied", StringComparison.Ordinal));
    }

    [Fact]
    public async Task While_storage_is_down_callbacks_get_the_platforms_failure_answer_fast_and_never_an_acknowledgement()
    {
        var appId = NewTencentAppId();
        var storage = await AzuriteProcess.StartAsync([]);
        await using var app = await TestApp.StartStandaloneAsync(null,
            "--RelationshipStorage=" + storage.ConnectionString,
            $"--Tencent:Apps:{appId}:CallbackToken=");
        var (before, _) = await PostTencentAsync(app.Client, appId, "Sns.CallbackFriendAdd", Utf8(TencentFriendAdd("erin", ["frank"])));
        Assert.Equal(HttpStatusCode.OK, before);

        await storage.DisposeAsync();
        for (var i = 0; i < 5; i++)
        {
            var stopwatch = Stopwatch.StartNew();
            var (status, answer) = await PostTencentAsync(app.Client, appId, "Sns.CallbackFriendAdd", Utf8(TencentFriendAdd("erin", [$"peer-{i}"])));
            stopwatch.Stop();

            Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
            Assert.Contains("\"ActionStatus\":\"FAIL\"", answer, StringComparison.Ordinal);
            Assert.True(stopwatch.Elapsed < StorageQueueEventQueue.MaxEnqueueTime + TimeSpan.FromMilliseconds(300), $"answered after {stopwatch.ElapsedMilliseconds} ms");
        }

        using var health = await app.Client.GetAsync(new Uri("api/health", UriKind.Relative));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
        Assert.Contains(app.Logs.Messages, m => m.Contains("outcome=enqueue-failed", StringComparison.Ordinal));
    }
}
