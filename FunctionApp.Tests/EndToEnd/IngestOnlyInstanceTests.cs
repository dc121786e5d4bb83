using System.Net;
using FunctionApp.Hosting;
using FunctionApp.Tests.Hosting;
using FunctionApp.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using static FunctionApp.Tests.EndToEnd.EndToEnd;

namespace FunctionApp.Tests.EndToEnd;

/// <summary>
/// <c>StandaloneQueue:DrainEnabled=false</c> makes an instance that acknowledges and enqueues but applies nothing;
/// whatever it queued is applied by an instance with the drain on.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class IngestOnlyInstanceTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task An_ingest_only_instance_queues_callbacks_that_a_draining_instance_then_applies()
    {
        var appId = NewTencentAppId();
        var queueName = NewName("ingest-only");
        string[] settings = ["--RelationshipStorage=" + azurite.ConnectionString, "--RelationshipEventsQueue=" + queueName, $"--Tencent:Apps:{appId}:CallbackToken="];
        var queue = azurite.Queue(queueName);

        await using (var ingestOnly = await TestApp.StartStandaloneAsync(null, [.. settings, "--StandaloneQueue:DrainEnabled=false"]))
        {
            var (status, body) = await PostTencentAsync(ingestOnly.Client, appId, "Sns.CallbackFriendAdd", Utf8(TencentFriendAdd("alice", ["bob", "carol"])));
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Contains("\"ActionStatus\":\"OK\"", body, StringComparison.Ordinal);

            // Longer than the drain's first polls: a drain would have applied and deleted the message by now.
            await Task.Delay(TimeSpan.FromSeconds(1));
            Assert.Equal(1, await queue.ApproximateCountAsync());
            Assert.Empty(await ItemsAsync(ingestOnly.Client, appId, "alice", "friends"));
        }

        await using var draining = await TestApp.StartStandaloneAsync(null, settings);
        await ExpectUsersAsync(draining.Client, appId, "alice", "friends", "bob", "carol");
        await EventuallyAsync("the queue empty", async () => await queue.ApproximateCountAsync() == 0);
    }

    [Theory]
    [InlineData(null, true)]
    [InlineData("", true)]
    [InlineData("true", true)]
    [InlineData(" False ", false)]
    public void The_drain_setting_is_true_unless_it_says_false(string? value, bool expected)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection([KeyValuePair.Create(AppSettingNames.StandaloneQueueDrainEnabled, value)])
            .Build();
        Assert.Equal(expected, StandaloneQueueSettings.DrainEnabled(configuration));
    }

    [Theory]
    [InlineData("no")]
    [InlineData("0")]
    public void Anything_but_true_or_false_stops_startup_with_the_setting_named(string value)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection([KeyValuePair.Create(AppSettingNames.StandaloneQueueDrainEnabled, (string?)value)])
            .Build();
        var error = Assert.Throws<InvalidOperationException>(() => StandaloneQueueSettings.DrainEnabled(configuration));
        Assert.Contains(AppSettingNames.StandaloneQueueDrainEnabled, error.Message, StringComparison.Ordinal);
    }
}
