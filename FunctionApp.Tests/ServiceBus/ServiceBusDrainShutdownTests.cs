using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using Azure.Messaging.ServiceBus;
using FunctionApp.Core;
using FunctionApp.Hosting;
using FunctionApp.Messaging;
using FunctionApp.Tests.Hosting;
using FunctionApp.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using ServiceBusTestBroker;
using static FunctionApp.Tests.EndToEnd.EndToEnd;

namespace FunctionApp.Tests.ServiceBus;

/// <summary>
/// Shutdown of the standalone Service Bus drain: it stops taking messages, lets the batches in hand finish and
/// settle, closes its clients, and exits within the host's shutdown timeout even when an apply hangs, losing nothing
/// and dead-lettering nothing.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class ServiceBusDrainShutdownTests(AzuriteFixture azurite, ServiceBusBrokerFixture bus) : IClassFixture<ServiceBusBrokerFixture>
{
    private const int ConcurrentApplies = 4;

    private Task<TestApp> StartAsync(BrokerQueue queue, GatedApplier applier, TimeSpan? shutdownTimeout = null) =>
        TestApp.StartStandaloneAsync(services =>
        {
            services.RemoveAll<IRelationshipBatchApplier>();
            services.AddSingleton<IRelationshipBatchApplier>(applier);
            if (shutdownTimeout is { } timeout)
            {
                services.Configure<HostOptions>(options => options.ShutdownTimeout = timeout);
            }
        }, "--RelationshipStorage=" + azurite.ConnectionString, "--ServiceBusConnection=" + bus.Broker.ConnectionString, "--RelationshipEventsQueue=" + queue.Name);

    private async Task SendBatchesAsync(BrokerQueue queue, int count)
    {
        await using var client = bus.CreateClient();
        await client.CreateSender(queue.Name).SendMessagesAsync(
            Enumerable.Range(1, count).Select(i => ServiceBusEventQueue.ToMessage(Samples.Batch($"b-stop-{i}"))));
    }

    [Fact]
    public async Task On_stop_the_batches_in_hand_finish_and_complete_nothing_more_is_taken_and_the_clients_close()
    {
        var queue = bus.CreateQueue(lockDuration: TimeSpan.FromSeconds(30));
        await SendBatchesAsync(queue, 2 * ConcurrentApplies);
        var applier = new GatedApplier();
        var app = await StartAsync(queue, applier);
        var sender = app.Services.GetRequiredService<ServiceBusClient>();
        var drain = app.Services.GetRequiredKeyedService<ServiceBusClient>(ServiceBusClientProfile.Apply);
        Assert.NotSame(sender, drain);
        await applier.WaitForEnteredAsync(ConcurrentApplies);

        var stopping = app.DisposeAsync().AsTask();
        await Task.Delay(500);
        Assert.False(stopping.IsCompleted, "the stop did not wait for the batches in hand");
        Assert.Equal(ConcurrentApplies, queue.LockedMessageCount);

        var released = Stopwatch.StartNew();
        applier.Open();
        await stopping.WaitAsync(TimeSpan.FromSeconds(20));

        Assert.True(released.Elapsed < TimeSpan.FromSeconds(10), $"stopping took {released.Elapsed} after the applies finished");
        Assert.Equal(ConcurrentApplies, applier.Applied.Count);
        Assert.Equal((ConcurrentApplies, ConcurrentApplies, 0, 0), (queue.CompletedCount, queue.ActiveMessageCount, queue.LockedMessageCount, queue.DeadLetterMessageCount));
        Assert.All(queue.Messages(), message => Assert.Equal(0, message.DeliveryCount));
        Assert.True(sender.IsClosed && drain.IsClosed, "a Service Bus client was left open");
    }

    [Fact]
    public async Task An_apply_that_outlasts_the_shutdown_timeout_does_not_hold_the_stop_and_its_message_comes_back()
    {
        var queue = bus.CreateQueue(lockDuration: TimeSpan.FromSeconds(2));
        await SendBatchesAsync(queue, 1);
        var applier = new GatedApplier();
        var app = await StartAsync(queue, applier, shutdownTimeout: TimeSpan.FromSeconds(1));
        await applier.WaitForEnteredAsync(1);

        var clock = Stopwatch.StartNew();
        await app.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(20));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(8), $"stopping took {clock.Elapsed} with a 1 s shutdown timeout");

        // Its lock lapses and the message is there again, one delivery counted, not dead-lettered.
        await queue.WaitUntilAsync(q => q.LockedMessageCount == 0, TimeSpan.FromSeconds(10));
        applier.Open();
        var back = Assert.Single(queue.Messages());
        Assert.Equal(("b-stop-1-1", MessageState.Available, 1), (back.MessageId, back.State, back.DeliveryCount));
        Assert.Equal((0L, 0), (queue.CompletedCount, queue.DeadLetterMessageCount));
    }

    [Fact]
    public async Task Sigterm_during_a_hung_apply_exits_within_the_shutdown_timeout_and_the_batch_is_applied_by_the_next_start()
    {
        var queue = bus.CreateQueue(lockDuration: TimeSpan.FromSeconds(2));
        await using var storage = await AzuriteProcess.StartAsync([]);
        var appId = NewTencentAppId();
        (string, string)[] settings =
        [
            ("RelationshipStorage", storage.ConnectionString),
            ("ServiceBusConnection", bus.Broker.ConnectionString),
            ("RelationshipEventsQueue", queue.Name),
            ($"Tencent__Apps__{appId}__CallbackToken", ""),
            ("shutdownTimeoutSeconds", "2"),
        ];
        var port = AppProcess.FreePort();
        await using var app = AppProcess.Start([("PORT", port.ToString(CultureInfo.InvariantCulture)), .. settings]);
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
        await app.WaitForHealthAsync(client, new Uri(client.BaseAddress, "api/health"), Stopwatch.StartNew());

        // Storage stops answering (it accepts connections and says nothing), so the apply hangs in its retries.
        var azurite = storage.ProcessId;
        Assert.Equal(0, Signal(azurite, SigStop));
        try
        {
            var (status, answer) = await PostTencentAsync(client, appId, "Sns.CallbackFriendAdd", Utf8(TencentFriendAdd("stop-owner", ["stop-peer"])));
            Assert.True(status == HttpStatusCode.OK, answer);
            await queue.WaitUntilAsync(q => q.LockedMessageCount == 1, TimeSpan.FromSeconds(15));

            var clock = Stopwatch.StartNew();
            Assert.Equal(0, Signal(app.Process.Id, SigTerm));
            using var exited = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await app.Process.WaitForExitAsync(exited.Token);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"the app took {clock.Elapsed} to exit with a 2 s shutdown timeout:\n{app.Output}");
            Assert.True(app.Process.ExitCode == 0, $"exit code {app.Process.ExitCode}:\n{app.Output}");
        }
        finally
        {
            Signal(azurite, SigCont);
        }

        await queue.WaitUntilAsync(q => q.LockedMessageCount == 0 && q.ActiveMessageCount == 1, TimeSpan.FromSeconds(10));
        Assert.Equal(0, queue.DeadLetterMessageCount);

        // The next start applies it: nothing was lost.
        var nextPort = AppProcess.FreePort();
        await using var next = AppProcess.Start([("PORT", nextPort.ToString(CultureInfo.InvariantCulture)), .. settings]);
        using var nextClient = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{nextPort}/") };
        await next.WaitForHealthAsync(nextClient, new Uri(nextClient.BaseAddress, "api/health"), Stopwatch.StartNew());
        await ExpectUsersAsync(nextClient, appId, "stop-owner", "friends", "stop-peer");
        await queue.WaitUntilAsync(q => q.CompletedCount == 1 && q.ActiveMessageCount == 0, TimeSpan.FromSeconds(15));
        Assert.Equal(0, queue.DeadLetterMessageCount);
    }

    private const string SigTerm = "TERM";
    private const string SigStop = "STOP";
    private const string SigCont = "CONT";

    /// <summary>Sends a signal with the system's kill command; returns its exit code.</summary>
    private static int Signal(int pid, string signal)
    {
        using var kill = Process.Start("kill", ["-" + signal, pid.ToString(CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
        return kill.ExitCode;
    }

    /// <summary>Blocks each apply until <see cref="Open"/>, recording what entered and what finished.</summary>
    private sealed class GatedApplier : IRelationshipBatchApplier
    {
        private readonly TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _entered;

        public ConcurrentQueue<RelationshipBatch> Applied { get; } = new();

        public void Open() => _open.TrySetResult();

        public async Task WaitForEnteredAsync(int count)
        {
            var clock = Stopwatch.StartNew();
            while (Volatile.Read(ref _entered) < count)
            {
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"only {_entered} of {count} applies started");
                await Task.Delay(20);
            }
        }

        public async Task ApplyAsync(RelationshipBatch batch, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _entered);
            await _open.Task.ConfigureAwait(false);
            Applied.Enqueue(batch);
        }
    }
}
