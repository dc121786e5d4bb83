using System.Diagnostics;
using Azure.Messaging.ServiceBus;
using FunctionApp.Core;
using FunctionApp.Hosting;
using FunctionApp.Messaging.Redrive;
using FunctionApp.Tests.ServiceBus;
using Microsoft.Extensions.Configuration;
using ServiceBusTestBroker;

namespace FunctionApp.Tests.Redrive;

/// <summary>
/// <c>FunctionApp redrive --source deadletter</c> against the test broker with the real client: what moves, what it
/// keeps, what is held inside the duplicate-detection window, a dry run, and interruptions (a cancel, and a SIGKILL of
/// the real process) that lose nothing.
/// </summary>
public sealed class DeadLetterRedriveTests(ServiceBusBrokerFixture bus) : IClassFixture<ServiceBusBrokerFixture>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task Moves_dead_letters_back_onto_the_queue_keeping_body_message_id_and_properties_but_not_the_retry_state()
    {
        await using var queue = bus.OpenQueue();
        await DeadLetterAsync(queue, 3);

        var output = new RedriveOutput();
        var exitCode = await RunAsync(queue.Queue, ["--max", "10", "--duplicate-detection-window", "PT0S"], output);

        Assert.True(exitCode == 0, output.Text);
        Assert.Equal(0, queue.Queue.DeadLetterMessageCount);
        Assert.Equal(3, output.Lines.Count(line => line.StartsWith("moved ", StringComparison.Ordinal)));
        Assert.Contains("Summary: moved 3, skipped 0, failed 0.", output.Text, StringComparison.Ordinal);

        var moved = await queue.Receiver.ReceiveMessagesAsync(3, TimeSpan.FromSeconds(5));
        Assert.Equal(["m-1", "m-2", "m-3"], moved.Select(m => m.MessageId).Order());
        foreach (var message in moved)
        {
            Assert.Equal("{\"batch\":\"" + message.MessageId + "\"}", message.Body.ToString());
            Assert.Equal("application/json", message.ContentType);
            Assert.Equal("kept", message.ApplicationProperties["origin"]);
            // Its retries start afresh (kept, the old first failure would park it again at once), under the same chain id.
            Assert.False(message.ApplicationProperties.ContainsKey(RedeliveryState.GenerationProperty));
            Assert.False(message.ApplicationProperties.ContainsKey(RedeliveryState.FirstFailedAtProperty));
            Assert.Equal("batch-" + message.MessageId[2..] + "-1", message.ApplicationProperties[RedeliveryState.OriginalMessageIdProperty]);
            // The broker's dead-letter facts stay behind: on the queue it is an ordinary message again.
            Assert.Null(message.DeadLetterReason);
            Assert.False(message.ApplicationProperties.ContainsKey("DeadLetterErrorDescription"));
        }
    }

    [Fact]
    public async Task A_dead_letter_whose_id_is_still_in_the_duplicate_detection_window_is_held_and_moves_after_it()
    {
        var window = TimeSpan.FromSeconds(3);
        await using var queue = bus.OpenQueue(duplicateDetectionWindow: window);
        await DeadLetterAsync(queue, 1);
        var request = new RedriveRequest(10, DryRun: false) { DuplicateDetectionWindow = window, ClockSkewAllowance = TimeSpan.Zero };
        var redrive = new DeadLetterRedrive(queue.Client, queue.Queue.Name, TimeProvider.System) { EmptyWait = TimeSpan.FromSeconds(1) };

        var output = new RedriveOutput();
        var held = await redrive.RunAsync(request, new RedriveReport(output, dryRun: false), CancellationToken.None);

        Assert.Equal((0, 1, 0, 0), (held.Moved, held.Skipped, held.Failed, held.ExitCode));
        Assert.Contains(output.Lines, line => line.StartsWith("held ", StringComparison.Ordinal) && line.Contains("m-1", StringComparison.Ordinal));
        Assert.Equal(1, queue.Queue.TotalSent);
        // Left in the dead-letter queue, handed back (not locked) at the end of the run.
        var deadLetters = queue.Queue.DeadLetterQueue!;
        await deadLetters.WaitUntilAsync(q => q.ActiveMessageCount == 1 && q.LockedMessageCount == 0, Patience);

        // The hazard is real: a copy sent now is accepted by the client and dropped by the queue.
        await queue.Sender.SendMessageAsync(new ServiceBusMessage("{}") { MessageId = "m-1" });
        Assert.Equal((1L, 1L, 0), (queue.Queue.DuplicatesDropped, queue.Queue.TotalSent, queue.Queue.ActiveMessageCount));

        // After the time it was held until, the next run moves it, and the queue keeps it.
        var wait = held.HeldUntil!.Value - DateTimeOffset.UtcNow + TimeSpan.FromMilliseconds(200);
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait);
        }

        var moved = await redrive.RunAsync(request, new RedriveReport(new RedriveOutput(), dryRun: false), CancellationToken.None);
        Assert.Equal((1, 0, 0), (moved.Moved, moved.Skipped, moved.Failed));
        await queue.Queue.WaitUntilAsync(q => q.ActiveMessageCount == 1 && q.DeadLetterMessageCount == 0, Patience);
        Assert.Equal("m-1", Assert.Single(queue.Queue.Messages()).MessageId);
    }

    [Fact]
    public async Task Held_messages_use_the_default_window_of_the_bicep_queue()
    {
        await using var queue = bus.OpenQueue(duplicateDetectionWindow: TimeSpan.FromMinutes(10));
        await DeadLetterAsync(queue, 2);

        var output = new RedriveOutput();
        var exitCode = await RunAsync(queue.Queue, ["--max", "5"], output);

        // Done, nothing lost: both held until ten minutes (and 30 s) after they were enqueued.
        Assert.True(exitCode == 0, output.Text);
        Assert.Contains("Summary: moved 0, skipped 2 (held until ", output.Text, StringComparison.Ordinal);
        Assert.Equal(2, output.Lines.Count(line => line.StartsWith("held ", StringComparison.Ordinal) && line.Contains("10-minute", StringComparison.Ordinal)));
        await queue.Queue.DeadLetterQueue!.WaitUntilAsync(q => q.ActiveMessageCount == 2 && q.LockedMessageCount == 0, Patience);
        Assert.Equal(2, queue.Queue.TotalSent);
    }

    [Fact]
    public async Task A_dry_run_lists_id_enqueued_time_and_reason_and_moves_nothing()
    {
        await using var queue = bus.OpenQueue(duplicateDetectionWindow: TimeSpan.FromMinutes(10));
        await DeadLetterAsync(queue, 2);
        var before = queue.Queue.DeadLetterMessages();

        var output = new RedriveOutput();
        var exitCode = await RunAsync(queue.Queue, ["--max", "10", "--dry-run", "--duplicate-detection-window", "PT0S"], output);

        Assert.True(exitCode == 0, output.Text);
        Assert.StartsWith("Dry run:", output.Lines[0], StringComparison.Ordinal);
        foreach (var message in before)
        {
            var line = Assert.Single(output.Lines, line => line.Contains(message.MessageId!, StringComparison.Ordinal));
            Assert.StartsWith("would move", line, StringComparison.Ordinal);
            Assert.Contains("enqueued " + RedriveReport.Time(message.EnqueuedTimeUtc), line, StringComparison.Ordinal);
            Assert.Contains("reason Unusable: batch " + message.MessageId + " was refused", line, StringComparison.Ordinal);
        }

        Assert.Contains("Summary: would move 2, skipped 0, failed 0.", output.Text, StringComparison.Ordinal);
        // Peeked only: nothing moved, locked or counted as a delivery.
        Assert.Equal(before.Select(m => (m.MessageId, m.DeliveryCount)), queue.Queue.DeadLetterMessages().Select(m => (m.MessageId, m.DeliveryCount)));
        Assert.Equal((2L, 0), (queue.Queue.TotalSent, queue.Queue.DeadLetterQueue!.LockedMessageCount));

        // With the default window the same dry run says each would be held, and until when.
        var held = new RedriveOutput();
        Assert.Equal(0, await RunAsync(queue.Queue, ["--max", "10", "--dry-run"], held));
        Assert.Equal(2, held.Lines.Count(line => line.StartsWith("would hold", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Max_bounds_the_messages_taken()
    {
        await using var queue = bus.OpenQueue();
        await DeadLetterAsync(queue, 5);

        var output = new RedriveOutput();
        Assert.Equal(0, await RunAsync(queue.Queue, ["--max", "2", "--duplicate-detection-window", "PT0S"], output));

        Assert.Contains("Summary: moved 2, skipped 0, failed 0.", output.Text, StringComparison.Ordinal);
        await queue.Queue.WaitUntilAsync(q => q.ActiveMessageCount == 2 && q.DeadLetterMessageCount == 3 && q.DeadLetterQueue!.LockedMessageCount == 0, Patience);
    }

    [Fact]
    public async Task Cancelled_after_a_message_the_run_stops_there_and_every_message_is_in_exactly_one_place()
    {
        await using var queue = bus.OpenQueue();
        await DeadLetterAsync(queue, 6);

        using var cancel = new CancellationTokenSource();
        var output = new RedriveOutput("moved ", cancel);
        var exitCode = await RunAsync(queue.Queue, ["--max", "10", "--duplicate-detection-window", "PT0S"], output, cancel.Token);

        Assert.Equal(130, exitCode);
        Assert.Contains("Interrupted: run again to move the rest.", output.Text, StringComparison.Ordinal);
        var movedCount = output.Lines.Count(line => line.StartsWith("moved ", StringComparison.Ordinal));
        Assert.InRange(movedCount, 1, 5);
        await queue.Queue.WaitUntilAsync(q => q.DeadLetterQueue!.LockedMessageCount == 0, Patience);
        var onQueue = queue.Queue.Messages().Select(m => m.MessageId).ToList();
        var deadLetters = queue.Queue.DeadLetterMessages().Select(m => m.MessageId).ToList();
        Assert.Equal(movedCount, onQueue.Count);
        Assert.Equal(Ids(6), onQueue.Concat(deadLetters).Order());
    }

    [Fact]
    public async Task A_redrive_killed_mid_run_loses_nothing_and_a_second_run_finishes_the_move()
    {
        const int count = 400;
        await using var queue = bus.OpenQueue(lockDuration: TimeSpan.FromSeconds(2));
        await DeadLetterAsync(queue, count);

        using var process = StartRedriveProcess(queue.Queue, "--max", "1000", "--duplicate-detection-window", "PT0S");
        var printed = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        try
        {
            // SIGKILL somewhere in the middle: between any two steps, a send and its complete included.
            await queue.Queue.WaitUntilAsync(q => q.TotalSent >= count + 20, TimeSpan.FromSeconds(30));
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        Assert.True(queue.Queue.TotalSent < 2 * count, "the run finished before it was killed:\n" + await printed + await errors);

        // Once the killed run's locks lapse, every message is on the queue, in the dead-letter queue, or in both.
        await queue.Queue.DeadLetterQueue!.WaitUntilAsync(q => q.LockedMessageCount == 0, Patience);
        var onQueue = queue.Queue.Messages().Select(m => m.MessageId!).ToList();
        var deadLetters = queue.Queue.DeadLetterMessages().Select(m => m.MessageId!).ToList();
        Assert.Equal(Ids(count), onQueue.Union(deadLetters).Order());
        Assert.InRange(onQueue.Intersect(deadLetters).Count(), 0, 1);

        var output = new RedriveOutput();
        Assert.Equal(0, await RunAsync(queue.Queue, ["--max", "1000", "--duplicate-detection-window", "PT0S"], output));
        Assert.Equal(0, queue.Queue.DeadLetterMessageCount);
        Assert.Equal(Ids(count), queue.Queue.Messages().Select(m => m.MessageId!).Distinct().Order());
    }

    [Fact]
    public async Task Sigterm_stops_the_real_process_after_the_message_in_hand_with_exit_code_130_and_no_copy_in_both_places()
    {
        const int count = 400;
        await using var queue = bus.OpenQueue();
        await DeadLetterAsync(queue, count);

        using var process = StartRedriveProcess(queue.Queue, "--max", "1000", "--duplicate-detection-window", "PT0S");
        var printed = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        try
        {
            await queue.Queue.WaitUntilAsync(q => q.TotalSent >= count + 20, TimeSpan.FromSeconds(30));
            using var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            await kill.WaitForExitAsync();
            using var exited = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            await process.WaitForExitAsync(exited.Token);
        }
        finally
        {
            process.Kill(entireProcessTree: true);
        }

        var text = await printed + await errors;
        Assert.True(process.ExitCode == 130, $"exit code {process.ExitCode}:\n{text}");
        Assert.Contains("Interrupted: run again to move the rest.", text, StringComparison.Ordinal);
        await queue.Queue.DeadLetterQueue!.WaitUntilAsync(q => q.LockedMessageCount == 0, Patience);
        var onQueue = queue.Queue.Messages().Select(m => m.MessageId!).ToList();
        var deadLetters = queue.Queue.DeadLetterMessages().Select(m => m.MessageId!).ToList();
        Assert.NotEmpty(deadLetters);
        Assert.Equal(Ids(count), onQueue.Concat(deadLetters).Order());
        Assert.Equal(onQueue.Count, text.Split('\n').Count(line => line.StartsWith("moved ", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task An_unknown_queue_fails_with_exit_code_1_and_says_nothing_is_lost()
    {
        var error = new RedriveOutput();
        var exitCode = await RedriveCommand.RunAsync(["redrive", "--source", "deadletter", "--max", "1"],
            Settings(("ServiceBusConnection", bus.Broker.ConnectionString), ("RelationshipEventsQueue", "no-such-queue")), new RedriveOutput(), error);

        Assert.Equal(RedriveCommand.FailureExitCode, exitCode);
        Assert.Contains("Re-drive failed: ServiceBusException", error.Text, StringComparison.Ordinal);
        Assert.Contains("Nothing is lost", error.Text, StringComparison.Ordinal);
    }

    private Task<int> RunAsync(BrokerQueue queue, string[] options, RedriveOutput output, CancellationToken cancellationToken = default) =>
        RedriveCommand.RunAsync(["redrive", "--source", "deadletter", .. options],
            Settings(("ServiceBusConnection", bus.Broker.ConnectionString), ("RelationshipEventsQueue", queue.Name)), output, output,
            cancellationToken: cancellationToken);

    /// <summary>The built executable, as an operator runs it, with the settings in its environment.</summary>
    private Process StartRedriveProcess(BrokerQueue queue, params string[] options) =>
        Process.Start(new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "FunctionApp.dll"), "redrive", "--source", "deadletter", .. options])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            Environment =
            {
                [AppSettingNames.ServiceBusConnection] = bus.Broker.ConnectionString,
                [AppSettingNames.RelationshipEventsQueue] = queue.Name,
            },
        })!;

    internal static IConfiguration Settings(params (string Name, string Value)[] settings) =>
        new ConfigurationBuilder().AddInMemoryCollection(settings.Select(s => KeyValuePair.Create(s.Name, (string?)s.Value))).Build();

    private static IEnumerable<string> Ids(int count) => Enumerable.Range(1, count).Select(i => $"m-{i}").Order();

    /// <summary>Sends <paramref name="count"/> messages and dead-letters each with a reason, as the drain does with a batch it can never apply.</summary>
    private static async Task DeadLetterAsync(QueueClients queue, int count)
    {
        var messages = Enumerable.Range(1, count).Select(i => new ServiceBusMessage("{\"batch\":\"m-" + i + "\"}")
        {
            MessageId = $"m-{i}",
            ContentType = "application/json",
            ApplicationProperties =
            {
                ["origin"] = "kept",
                // A batch parked after its retry period carries its redelivery state.
                [RedeliveryState.GenerationProperty] = "12",
                [RedeliveryState.FirstFailedAtProperty] = "2026-01-01T00:00:00.0000000+00:00",
                [RedeliveryState.OriginalMessageIdProperty] = $"batch-{i}-1",
            },
        }).ToList();
        foreach (var chunk in messages.Chunk(100))
        {
            await queue.Sender.SendMessagesAsync(chunk);
        }

        var deadLettered = 0;
        while (deadLettered < count)
        {
            foreach (var message in await queue.Receiver.ReceiveMessagesAsync(100, TimeSpan.FromSeconds(5)))
            {
                await queue.Receiver.DeadLetterMessageAsync(message, "Unusable", $"batch {message.MessageId} was refused");
                deadLettered++;
            }
        }

        await queue.Queue.WaitUntilAsync(q => q.DeadLetterMessageCount == count && q.ActiveMessageCount == 0, Patience);
    }
}
