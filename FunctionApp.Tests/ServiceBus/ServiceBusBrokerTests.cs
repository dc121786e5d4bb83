using System.Collections.Concurrent;
using System.Diagnostics;
using Azure.Messaging.ServiceBus;
using ServiceBusTestBroker;

namespace FunctionApp.Tests.ServiceBus;

/// <summary>The real Azure.Messaging.ServiceBus client against the test broker, on the wire.</summary>
public sealed class ServiceBusBrokerTests(ServiceBusBrokerFixture fixture) : IClassFixture<ServiceBusBrokerFixture>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan Nothing = TimeSpan.FromMilliseconds(300);

    [Fact]
    public async Task A_sent_message_is_received_with_its_properties_and_completed()
    {
        await using var bus = fixture.OpenQueue();
        var (queue, sender, receiver) = (bus.Queue, bus.Sender, bus.Receiver);

        var sent = new ServiceBusMessage("hello") { MessageId = "m-1", ContentType = "application/json", Subject = "greeting" };
        sent.ApplicationProperties["kind"] = "test";
        await sender.SendMessageAsync(sent);

        var received = await receiver.ReceiveMessageAsync(Wait);
        Assert.NotNull(received);
        Assert.Equal("hello", received.Body.ToString());
        Assert.Equal("m-1", received.MessageId);
        Assert.Equal("application/json", received.ContentType);
        Assert.Equal("greeting", received.Subject);
        Assert.Equal("test", received.ApplicationProperties["kind"]);
        Assert.Equal(1, received.DeliveryCount);
        Assert.Equal(1, received.SequenceNumber);
        Assert.True(received.LockedUntil > DateTimeOffset.UtcNow);
        Assert.True(received.EnqueuedTime > DateTimeOffset.UtcNow.AddMinutes(-1));
        Assert.Equal(1, queue.LockedMessageCount);

        await receiver.CompleteMessageAsync(received);

        Assert.Equal(0, queue.ActiveMessageCount);
        Assert.Equal(1, queue.CompletedCount);
        Assert.Null(await receiver.ReceiveMessageAsync(Nothing));
    }

    [Fact]
    public async Task A_message_batch_arrives_as_its_separate_messages_sized_by_the_entity_limit()
    {
        await using var bus = fixture.OpenQueue();
        var (queue, sender, receiver) = (bus.Queue, bus.Sender, bus.Receiver);

        using var batch = await sender.CreateMessageBatchAsync();
        Assert.Equal(ServiceBusBroker.DefaultMaxMessageSize, batch.MaxSizeInBytes);
        for (var i = 0; i < 25; i++)
        {
            Assert.True(batch.TryAddMessage(new ServiceBusMessage($"part-{i}") { MessageId = $"b-{i}" }));
        }

        Assert.False(batch.TryAddMessage(new ServiceBusMessage(new byte[ServiceBusBroker.DefaultMaxMessageSize])));
        await sender.SendMessagesAsync(batch);

        Assert.Equal(25, queue.TotalSent);
        var bodies = new List<string>();
        while (bodies.Count < 25)
        {
            var received = await receiver.ReceiveMessagesAsync(25, Wait);
            Assert.NotEmpty(received);
            foreach (var message in received)
            {
                bodies.Add(message.Body.ToString());
                await receiver.CompleteMessageAsync(message);
            }
        }

        Assert.Equal(Enumerable.Range(0, 25).Select(i => $"part-{i}"), bodies);
    }

    [Fact]
    public async Task Receive_honours_the_requested_count_exactly_and_leaves_the_rest_unlocked()
    {
        await using var bus = fixture.OpenQueue();
        var (queue, sender, receiver) = (bus.Queue, bus.Sender, bus.Receiver);
        await sender.SendMessagesAsync(Enumerable.Range(0, 5).Select(i => new ServiceBusMessage($"m{i}")));

        var received = await receiver.ReceiveMessagesAsync(2, Wait);

        Assert.InRange(received.Count, 1, 2);
        Assert.Equal(received.Count, queue.LockedMessageCount);
        Assert.Equal(5, queue.ActiveMessageCount);
    }

    [Fact]
    public async Task Receive_and_delete_takes_the_message_off_the_queue_at_once()
    {
        await using var bus = fixture.OpenQueue();
        var receiver = bus.Client.CreateReceiver(bus.Queue.Name, new ServiceBusReceiverOptions { ReceiveMode = ServiceBusReceiveMode.ReceiveAndDelete });
        await bus.Sender.SendMessageAsync(new ServiceBusMessage("once"));

        var received = await receiver.ReceiveMessageAsync(Wait);

        Assert.Equal("once", received?.Body.ToString());
        Assert.Equal(0, bus.Queue.ActiveMessageCount);
        Assert.Null(await receiver.ReceiveMessageAsync(Nothing));
    }

    [Fact]
    public async Task Sending_to_a_queue_that_was_never_created_fails_as_entity_not_found()
    {
        await using var client = fixture.CreateClient();
        await using var sender = client.CreateSender("no-such-queue");

        var failure = await Assert.ThrowsAsync<ServiceBusException>(() => sender.SendMessageAsync(new ServiceBusMessage("lost")));

        Assert.Equal(ServiceBusFailureReason.MessagingEntityNotFound, failure.Reason);
    }

    [Fact]
    public async Task Abandon_redelivers_with_the_delivery_count_raised()
    {
        await using var bus = fixture.OpenQueue();
        var (queue, sender, receiver) = (bus.Queue, bus.Sender, bus.Receiver);
        await sender.SendMessageAsync(new ServiceBusMessage("retry me"));

        var first = await receiver.ReceiveMessageAsync(Wait);
        Assert.NotNull(first);
        await receiver.AbandonMessageAsync(first);
        var second = await receiver.ReceiveMessageAsync(Wait);

        Assert.NotNull(second);
        Assert.Equal(first.SequenceNumber, second.SequenceNumber);
        Assert.Equal(1, first.DeliveryCount);
        Assert.Equal(2, second.DeliveryCount);
        Assert.NotEqual(first.LockToken, second.LockToken);
    }

    [Fact]
    public async Task A_dead_lettered_message_is_read_from_the_dead_letter_queue_with_its_reason()
    {
        await using var bus = fixture.OpenQueue();
        var (queue, sender, receiver) = (bus.Queue, bus.Sender, bus.Receiver);
        var deadLetters = bus.Client.CreateReceiver(queue.Name, new ServiceBusReceiverOptions { SubQueue = SubQueue.DeadLetter });
        await sender.SendMessageAsync(new ServiceBusMessage("poison") { MessageId = "p-1" });

        var received = await receiver.ReceiveMessageAsync(Wait);
        Assert.NotNull(received);
        await receiver.DeadLetterMessageAsync(received, "UnknownCommand", "The command 'Sns.Nope' is not documented.");

        Assert.Equal(0, queue.ActiveMessageCount);
        var kept = Assert.Single(queue.DeadLetterMessages());
        Assert.Equal(("UnknownCommand", "The command 'Sns.Nope' is not documented."), (kept.DeadLetterReason, kept.DeadLetterDescription));

        var deadLetter = await deadLetters.ReceiveMessageAsync(Wait);
        Assert.NotNull(deadLetter);
        Assert.Equal("p-1", deadLetter.MessageId);
        Assert.Equal("poison", deadLetter.Body.ToString());
        Assert.Equal("UnknownCommand", deadLetter.DeadLetterReason);
        Assert.Equal("The command 'Sns.Nope' is not documented.", deadLetter.DeadLetterErrorDescription);
        Assert.Equal(queue.Name, deadLetter.DeadLetterSource);
        await deadLetters.CompleteMessageAsync(deadLetter);
        Assert.Equal(0, queue.DeadLetterMessageCount);
        Assert.Null(await receiver.ReceiveMessageAsync(Nothing));
    }

    [Fact]
    public async Task A_message_abandoned_max_delivery_count_times_is_dead_lettered_automatically()
    {
        await using var bus = fixture.OpenQueue(maxDeliveryCount: 3);
        var (queue, sender, receiver) = (bus.Queue, bus.Sender, bus.Receiver);
        await sender.SendMessageAsync(new ServiceBusMessage("always fails"));

        for (var attempt = 1; attempt <= 3; attempt++)
        {
            var received = await receiver.ReceiveMessageAsync(Wait);
            Assert.NotNull(received);
            Assert.Equal(attempt, received.DeliveryCount);
            await receiver.AbandonMessageAsync(received);
        }

        Assert.Null(await receiver.ReceiveMessageAsync(Nothing));
        var deadLetter = Assert.Single(queue.DeadLetterMessages());
        Assert.Equal(BrokerQueue.MaxDeliveryCountExceededReason, deadLetter.DeadLetterReason);
        Assert.Equal(3, deadLetter.DeliveryCount);
    }

    [Fact]
    public async Task An_expired_lock_redelivers_and_the_old_lock_token_is_lost()
    {
        await using var bus = fixture.OpenQueue(lockDuration: TimeSpan.FromMilliseconds(400));
        var (queue, sender, receiver) = (bus.Queue, bus.Sender, bus.Receiver);
        await sender.SendMessageAsync(new ServiceBusMessage("slow"));

        var first = await receiver.ReceiveMessageAsync(Wait);
        Assert.NotNull(first);
        var second = await receiver.ReceiveMessageAsync(Wait);

        Assert.NotNull(second);
        Assert.Equal(2, second.DeliveryCount);
        var lost = await Assert.ThrowsAsync<ServiceBusException>(() => receiver.CompleteMessageAsync(first));
        Assert.Equal(ServiceBusFailureReason.MessageLockLost, lost.Reason);
        await receiver.CompleteMessageAsync(second);
    }

    [Fact]
    public async Task Renewing_a_lock_moves_its_expiry()
    {
        await using var bus = fixture.OpenQueue(lockDuration: TimeSpan.FromSeconds(2));
        var (queue, sender, receiver) = (bus.Queue, bus.Sender, bus.Receiver);
        await sender.SendMessageAsync(new ServiceBusMessage("long work"));
        var received = await receiver.ReceiveMessageAsync(Wait);
        Assert.NotNull(received);
        var lockedUntil = received.LockedUntil;

        await Task.Delay(1500);
        await receiver.RenewMessageLockAsync(received);
        await Task.Delay(1000);

        Assert.True(received.LockedUntil > lockedUntil);
        await receiver.CompleteMessageAsync(received);
        Assert.Equal(1, queue.CompletedCount);
    }

    [Fact]
    public async Task A_message_id_seen_inside_the_duplicate_detection_window_is_dropped()
    {
        await using var bus = fixture.OpenQueue(duplicateDetectionWindow: TimeSpan.FromMinutes(1));
        var (queue, sender, receiver) = (bus.Queue, bus.Sender, bus.Receiver);

        await sender.SendMessageAsync(new ServiceBusMessage("first") { MessageId = "batch-7-0" });
        await sender.SendMessageAsync(new ServiceBusMessage("redelivered") { MessageId = "batch-7-0" });
        await sender.SendMessageAsync(new ServiceBusMessage("next") { MessageId = "batch-7-1" });

        Assert.Equal(2, queue.TotalSent);
        Assert.Equal(1, queue.DuplicatesDropped);
        var received = await receiver.ReceiveMessagesAsync(10, Wait);
        Assert.Equal(["first", "next"], received.Select(m => m.Body.ToString()));
    }

    [Fact]
    public async Task Peek_reads_without_locking()
    {
        await using var bus = fixture.OpenQueue();
        var (queue, sender, receiver) = (bus.Queue, bus.Sender, bus.Receiver);
        await sender.SendMessagesAsync([new ServiceBusMessage("a"), new ServiceBusMessage("b")]);

        var peeked = await receiver.PeekMessagesAsync(10);

        Assert.Equal(["a", "b"], peeked.Select(m => m.Body.ToString()));
        Assert.Equal(0, queue.LockedMessageCount);
        Assert.Empty(await receiver.PeekMessagesAsync(10));
    }

    [Fact]
    public async Task A_deferred_message_is_received_again_by_its_sequence_number()
    {
        await using var bus = fixture.OpenQueue();
        var (queue, sender, receiver) = (bus.Queue, bus.Sender, bus.Receiver);
        await sender.SendMessageAsync(new ServiceBusMessage("later"));
        var received = await receiver.ReceiveMessageAsync(Wait);
        Assert.NotNull(received);

        await receiver.DeferMessageAsync(received);
        Assert.Equal(1, queue.DeferredMessageCount);
        Assert.Null(await receiver.ReceiveMessageAsync(Nothing));
        var deferred = await receiver.ReceiveDeferredMessageAsync(received.SequenceNumber);
        await receiver.CompleteMessageAsync(deferred);

        Assert.Equal("later", deferred.Body.ToString());
        Assert.Equal(0, queue.DeferredMessageCount);
        Assert.Equal(1, queue.CompletedCount);
    }

    [Fact]
    public async Task A_scheduled_message_arrives_at_its_time_and_a_cancelled_one_never()
    {
        await using var bus = fixture.OpenQueue();
        var (queue, sender, receiver) = (bus.Queue, bus.Sender, bus.Receiver);
        var due = DateTimeOffset.UtcNow.AddSeconds(1);

        await sender.ScheduleMessageAsync(new ServiceBusMessage("on time"), due);
        var cancelled = await sender.ScheduleMessageAsync(new ServiceBusMessage("cancelled"), due);
        await sender.CancelScheduledMessageAsync(cancelled);
        await sender.SendMessageAsync(new ServiceBusMessage("by property") { ScheduledEnqueueTime = due });

        Assert.Equal(2, queue.ScheduledMessageCount);
        Assert.Null(await receiver.ReceiveMessageAsync(Nothing));
        var received = new List<ServiceBusReceivedMessage>();
        while (received.Count < 2 && await receiver.ReceiveMessageAsync(Wait) is { } message)
        {
            received.Add(message);
        }

        Assert.Equal(["on time", "by property"], received.Select(m => m.Body.ToString()));
        Assert.All(received, m => Assert.True(DateTimeOffset.UtcNow >= due && m.EnqueuedTime >= due.AddMilliseconds(-50)));
        Assert.Null(await receiver.ReceiveMessageAsync(Nothing));
    }

    [Fact]
    public async Task The_processor_runs_handlers_concurrently_and_renews_locks_past_the_lock_duration()
    {
        await using var bus = fixture.OpenQueue(lockDuration: TimeSpan.FromSeconds(1));
        var queue = bus.Queue;
        await bus.Sender.SendMessagesAsync(Enumerable.Range(0, 8).Select(i => new ServiceBusMessage($"m{i}")));
        await using var processor = bus.Client.CreateProcessor(queue.Name, new ServiceBusProcessorOptions { MaxConcurrentCalls = 4 });
        var running = 0;
        var mostRunning = 0;
        var handled = new ConcurrentBag<(string Body, int DeliveryCount)>();
        var errors = new ConcurrentBag<Exception>();
        processor.ProcessMessageAsync += async args =>
        {
            var now = Interlocked.Increment(ref running);
            InterlockedMax(ref mostRunning, now);
            await Task.Delay(TimeSpan.FromSeconds(1.8));
            Interlocked.Decrement(ref running);
            handled.Add((args.Message.Body.ToString(), args.Message.DeliveryCount));
        };
        processor.ProcessErrorAsync += args =>
        {
            errors.Add(args.Exception);
            return Task.CompletedTask;
        };

        await processor.StartProcessingAsync();
        await queue.WaitUntilAsync(q => q.CompletedCount == 8, TimeSpan.FromSeconds(20));
        await processor.StopProcessingAsync();

        Assert.Empty(errors);
        Assert.Equal(4, mostRunning);
        Assert.Equal(Enumerable.Range(0, 8).Select(i => $"m{i}").Order(), handled.Select(h => h.Body).Order());
        Assert.All(handled, h => Assert.Equal(1, h.DeliveryCount));
        Assert.Equal(0, queue.DeadLetterMessageCount);
    }

    [Fact]
    public async Task Sends_fail_fast_while_the_broker_refuses_or_stalls_and_succeed_once_it_is_back()
    {
        // A broker of its own, so that the outage touches no other test.
        await using var broker = ServiceBusBroker.Start();
        var queue = broker.CreateQueue("outage");
        await using var client = new ServiceBusClient(broker.ConnectionString, new ServiceBusClientOptions
        {
            RetryOptions = new ServiceBusRetryOptions { Mode = ServiceBusRetryMode.Fixed, TryTimeout = TimeSpan.FromMilliseconds(500), MaxRetries = 1, Delay = TimeSpan.FromMilliseconds(50) },
        });
        await using var sender = client.CreateSender(queue.Name);
        await sender.SendMessageAsync(new ServiceBusMessage("before"));

        foreach (var outage in new[] { BrokerAvailability.Refusing, BrokerAvailability.Stalled })
        {
            broker.SetAvailability(outage);
            var clock = Stopwatch.StartNew();
            await Assert.ThrowsAnyAsync<Exception>(() => sender.SendMessageAsync(new ServiceBusMessage($"during {outage}")));
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"{outage}: the send took {clock.Elapsed} to fail.");
            broker.SetAvailability(BrokerAvailability.Online);
        }

        await sender.SendMessageAsync(new ServiceBusMessage("after"));
        var kept = queue.Messages().Select(m => System.Text.Encoding.UTF8.GetString(m.Body));
        Assert.Equal(["before", "after"], kept);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        var current = Volatile.Read(ref target);
        while (value > current && Interlocked.CompareExchange(ref target, value, current) is var seen && seen != current)
        {
            current = seen;
        }
    }
}
