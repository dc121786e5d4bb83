using System.Diagnostics;
using System.Globalization;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using FunctionApp.Api;
using FunctionApp.Core;

namespace FunctionApp.Messaging;

/// <summary>How the standalone drain reads the Storage queue (settings <c>StandaloneQueue:*</c>, read in Hosting).</summary>
public sealed record StorageQueueDrainOptions
{
    /// <summary>How long a received message stays hidden while it is applied; sized for a large batch.</summary>
    public TimeSpan VisibilityTimeout { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>After a failed apply the message comes back this soon, rather than after the whole visibility timeout.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>A message that failed this many receipts goes to the poison queue.</summary>
    public int MaxDequeueCount { get; init; } = 5;

    /// <summary>Polling starts at <see cref="MinPollInterval"/> when the queue is empty and doubles up to this.</summary>
    public TimeSpan MaxPollInterval { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan MinPollInterval { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>Most batches applied at once, when acknowledgement leaves room for it.</summary>
    public int MaxParallelApplies { get; init; } = 4;

    /// <summary>While a callback's enqueue takes longer than this (or fails), the drain applies fewer batches at once.</summary>
    public TimeSpan AcknowledgementLatencyTarget { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>How often the drain reads the enqueue latencies and adjusts how many batches it applies at once.</summary>
    public TimeSpan AdjustInterval { get; init; } = TimeSpan.FromMilliseconds(100);
}

/// <summary>
/// Standalone only: drains the Storage queue into the store. Receives messages hidden for the visibility timeout,
/// applies them a few at a time and deletes each one only after its batch is applied. A message that can never be
/// applied goes to <c>&lt;queue&gt;-poison</c> at once; one whose apply failed comes back after the retry delay
/// until it has been received <see cref="StorageQueueDrainOptions.MaxDequeueCount"/> times, then goes there too.
/// <para>
/// Acknowledgement comes first: the drain shares the storage account (locally, one emulator) with the callback route,
/// so it starts a new apply only while <see cref="DrainConcurrencyLimit"/>, fed by the route's enqueue latencies,
/// allows it, and receives only as many messages as that limit can start soon. Once callbacks stop it returns to
/// full speed within a few adjust intervals.
/// </para>
/// On shutdown it stops receiving, lets applies in flight finish (within the host's shutdown timeout) and hands
/// back the messages it had not started; nothing unapplied is ever deleted.
/// </summary>
public sealed class StorageQueueDrain : BackgroundService
{
    /// <summary>Suffix of the poison queue's name.</summary>
    public const string PoisonQueueSuffix = "-poison";

    /// <summary>Messages received per apply allowed at once: at the default 4 applies, a full receive of 32.</summary>
    private const int MessagesPerApplySlot = 8;

    private static readonly TimeSpan ReceiveFailureDelay = TimeSpan.FromSeconds(1);

    private readonly QueueClient _queue;
    private readonly QueueClient _poisonQueue;
    private readonly IRelationshipBatchApplier _applier;
    private readonly StorageQueueDrainOptions _options;
    private readonly EnqueueLatencyMonitor _latency;
    private readonly DrainConcurrencyLimit _limit;
    private readonly int _maxMessagesPerReceive;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _abortApplies = new();
    private long _nextAdjustAt;

    public StorageQueueDrain(QueueClient queue, QueueClient poisonQueue, IRelationshipBatchApplier applier,
        StorageQueueDrainOptions options, EnqueueLatencyMonitor latency, ILoggerFactory loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(loggerFactory);
        _queue = queue ?? throw new ArgumentNullException(nameof(queue));
        _poisonQueue = poisonQueue ?? throw new ArgumentNullException(nameof(poisonQueue));
        _applier = applier ?? throw new ArgumentNullException(nameof(applier));
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _latency = latency ?? throw new ArgumentNullException(nameof(latency));
        _limit = new DrainConcurrencyLimit(options.MaxParallelApplies, options.AcknowledgementLatencyTarget);
        _maxMessagesPerReceive = queue.MaxPeekableMessages;
        _logger = loggerFactory.CreateLogger(ApiLog.ApplyCategory);
    }

    public static string PoisonQueueName(string queueName) => queueName + PoisonQueueSuffix;

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        // The host's shutdown timeout ends the applies still running; until then they may finish and be deleted.
        await using var abort = cancellationToken.Register(() => _abortApplies.Cancel());
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
    }

    public override void Dispose()
    {
        _abortApplies.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var pollInterval = _options.MinPollInterval;
        while (!stoppingToken.IsCancellationRequested)
        {
            var limit = CurrentLimit();
            if (limit == 0)
            {
                await DelayAsync(UntilNextAdjust(), stoppingToken).ConfigureAwait(false);
                continue;
            }

            QueueMessage[] messages;
            try
            {
                var count = Math.Min(_maxMessagesPerReceive, limit * MessagesPerApplySlot);
                messages = (await _queue.ReceiveMessagesAsync(count, _options.VisibilityTimeout, stoppingToken).ConfigureAwait(false)).Value;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                DrainLog.ReceiveFailed(_logger, _queue.Name, ex);
                await DelayAsync(ReceiveFailureDelay, stoppingToken).ConfigureAwait(false);
                continue;
            }

            if (messages.Length == 0)
            {
                await DelayAsync(pollInterval, stoppingToken).ConfigureAwait(false);
                pollInterval = TimeSpan.FromTicks(Math.Min(pollInterval.Ticks * 2, _options.MaxPollInterval.Ticks));
                continue;
            }

            pollInterval = _options.MinPollInterval;
            await ApplyAllAsync(messages, stoppingToken).ConfigureAwait(false);
        }
    }

    /// <summary>Starts each message's apply only while fewer than the current limit run; waits for all of them.</summary>
    private async Task ApplyAllAsync(QueueMessage[] messages, CancellationToken stoppingToken)
    {
        var running = new List<Task>(_options.MaxParallelApplies);
        foreach (var message in messages)
        {
            while (!stoppingToken.IsCancellationRequested && running.Count >= CurrentLimit())
            {
                var window = DelayAsync(UntilNextAdjust(), stoppingToken);
                await (running.Count == 0 ? window : Task.WhenAny(Task.WhenAny(running), window)).ConfigureAwait(false);
                running.RemoveAll(task => task.IsCompleted);
            }

            if (stoppingToken.IsCancellationRequested)
            {
                running.Add(ReleaseAsync(message));
            }
            else if (message.NextVisibleOn is { } visibleAgain && visibleAgain - DateTimeOffset.UtcNow < _options.VisibilityTimeout / 2)
            {
                // Held back so long that its apply might outlast its hiding: it comes back by itself and is received
                // afresh, rather than applied twice at once.
                DrainLog.HeldTooLong(_logger, message.MessageId);
            }
            else
            {
                running.Add(ProcessAsync(message));
            }
        }

        await Task.WhenAll(running).ConfigureAwait(false);
    }

    /// <summary>The applies allowed at once, adjusted from the enqueue latencies once per adjust interval.</summary>
    private int CurrentLimit()
    {
        var now = Stopwatch.GetTimestamp();
        if (now >= _nextAdjustAt)
        {
            var before = _limit.Current;
            var after = _limit.Adjust(_latency.TakeWindow());
            if (after != before)
            {
                DrainLog.LimitChanged(_logger, before, after);
            }

            _nextAdjustAt = now + (long)(_options.AdjustInterval.TotalSeconds * Stopwatch.Frequency);
        }

        return _limit.Current;
    }

    private TimeSpan UntilNextAdjust() =>
        TimeSpan.FromSeconds(Math.Max(0, _nextAdjustAt - Stopwatch.GetTimestamp()) / (double)Stopwatch.Frequency);

    private async Task ProcessAsync(QueueMessage message)
    {
        var started = Stopwatch.GetTimestamp();
        var dequeueCount = message.DequeueCount.ToString(CultureInfo.InvariantCulture);
        var text = message.Body.ToString();
        RelationshipBatch batch;
        try
        {
            batch = RelationshipQueueMessage.Decode(text);
        }
        catch (InvalidBatchException ex)
        {
            await PoisonAsync(message, text, null, ex.Message, started, ex).ConfigureAwait(false);
            return;
        }

        try
        {
            await _applier.ApplyAsync(batch, _abortApplies.Token).ConfigureAwait(false);
        }
        catch (InvalidBatchException ex)
        {
            await PoisonAsync(message, text, batch, ex.Message, started, ex).ConfigureAwait(false);
            return;
        }
        catch (OperationCanceledException) when (_abortApplies.IsCancellationRequested)
        {
            // Shut down mid-apply: left on the queue, it comes back after the visibility timeout.
            LogBatch(LogLevel.Warning, batch, "interrupted", "the app stopped before the apply finished", dequeueCount, started, null);
            return;
        }
        catch (Exception ex)
        {
            var reason = CallbackRequests.Describe(ex);
            if (message.DequeueCount >= _options.MaxDequeueCount)
            {
                await PoisonAsync(message, text, batch, $"failed {message.DequeueCount} times; last: {reason}", started, ex).ConfigureAwait(false);
                return;
            }

            LogBatch(LogLevel.Warning, batch, "retry", reason, dequeueCount, started, ex);
            await TryUpdateVisibilityAsync(message, _options.RetryDelay).ConfigureAwait(false);
            return;
        }

        try
        {
            await _queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // Applied but not deleted (its receipt went stale, say): it comes back and is applied again, which the
            // store makes harmless.
            LogBatch(LogLevel.Warning, batch, "applied-not-deleted", CallbackRequests.Describe(ex), dequeueCount, started, null);
            return;
        }

        LogBatch(LogLevel.Information, batch, "applied", null, dequeueCount, started, null);
    }

    /// <summary>Puts the message text, unchanged, on the poison queue (where it stays inspectable), then deletes the original.</summary>
    private async Task PoisonAsync(QueueMessage message, string text, RelationshipBatch? batch, string reason, long started, Exception exception)
    {
        var dequeueCount = message.DequeueCount.ToString(CultureInfo.InvariantCulture);
        try
        {
            await _poisonQueue.SendMessageAsync(text, visibilityTimeout: null, timeToLive: StorageQueueEventQueue.NeverExpires, CancellationToken.None)
                .ConfigureAwait(false);
            await _queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // Left where it is: it comes back and is poisoned on a later receipt (a copy may then exist twice there).
            DrainLog.PoisonFailed(_logger, message.MessageId, _poisonQueue.Name, ex);
            return;
        }

        if (batch is null)
        {
            ApiLog.Batch(_logger, LogLevel.Error, null, 0, 0, null, 0, "poisoned", $"message {message.MessageId} moved to {_poisonQueue.Name}: {reason}",
                dequeueCount, Elapsed(started), exception);
        }
        else
        {
            LogBatch(LogLevel.Error, batch, "poisoned", $"moved to {_poisonQueue.Name}: {reason}", dequeueCount, started, exception);
        }
    }

    /// <summary>Hands a message back at once (shutdown before its apply started).</summary>
    private Task ReleaseAsync(QueueMessage message) => TryUpdateVisibilityAsync(message, TimeSpan.Zero);

    private async Task TryUpdateVisibilityAsync(QueueMessage message, TimeSpan visibility)
    {
        try
        {
            await _queue.UpdateMessageAsync(message.MessageId, message.PopReceipt, (BinaryData?)null, visibility, CancellationToken.None)
                .ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // Harmless: the message comes back when its visibility timeout ends instead.
            DrainLog.VisibilityUpdateFailed(_logger, message.MessageId, ex);
        }
    }

    private void LogBatch(LogLevel level, RelationshipBatch batch, string outcome, string? reason, string dequeueCount, long started, Exception? exception) =>
        ApiLog.Batch(_logger, level, batch.BatchId, batch.Part, batch.PartCount, batch.Source.AppId, batch.Events.Count, outcome, reason,
            dequeueCount, Elapsed(started), exception);

    private static long Elapsed(long started) => (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds;

    private static async Task DelayAsync(TimeSpan delay, CancellationToken stoppingToken)
    {
        try
        {
            await Task.Delay(delay, stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Stopping: the loop ends.
        }
    }
}

internal static partial class DrainLog
{
    [LoggerMessage(EventId = 20, Level = LogLevel.Warning, Message = "Receiving from queue {Queue} failed; trying again shortly")]
    public static partial void ReceiveFailed(ILogger logger, string queue, Exception exception);

    [LoggerMessage(EventId = 21, Level = LogLevel.Error, Message = "Message {MessageId} could not be moved to {PoisonQueue}; it stays on the queue")]
    public static partial void PoisonFailed(ILogger logger, string messageId, string poisonQueue, Exception exception);

    [LoggerMessage(EventId = 22, Level = LogLevel.Warning, Message = "The visibility of message {MessageId} could not be changed")]
    public static partial void VisibilityUpdateFailed(ILogger logger, string messageId, Exception exception);

    [LoggerMessage(EventId = 23, Level = LogLevel.Debug, Message = "Drain applies at once: {Before} -> {After} (acknowledgement latency)")]
    public static partial void LimitChanged(ILogger logger, int before, int after);

    [LoggerMessage(EventId = 24, Level = LogLevel.Debug, Message = "Message {MessageId} waited too long to start; left to come back")]
    public static partial void HeldTooLong(ILogger logger, string messageId);
}
