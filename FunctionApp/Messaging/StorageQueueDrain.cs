using System.Diagnostics;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using FunctionApp.Core;

namespace FunctionApp.Messaging;

/// <summary>How the standalone drain reads the Storage queue (settings <c>StandaloneQueue:*</c>, read in Hosting).</summary>
public sealed record StorageQueueDrainOptions
{
    /// <summary>How long a received message stays hidden while it is applied; sized for a large batch.</summary>
    public TimeSpan VisibilityTimeout { get; init; } = TimeSpan.FromMinutes(2);

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
/// Standalone only: drains the Storage queue into the store. Receives messages hidden for the visibility timeout and
/// hands each to the <see cref="IRelationshipBatchProcessor"/>, a few at a time, then settles it by the outcome: deleted
/// once applied; after a store failure, made visible again after the outcome's growing delay, its text carrying the
/// redelivery state (<see cref="RelationshipQueueMessage.WithRedelivery"/>); moved to <c>&lt;queue&gt;-poison</c>, as
/// first put, when it can never be applied or its batch has failed for the whole retry period.
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
    private readonly IRelationshipBatchProcessor _batches;
    private readonly StorageQueueDrainOptions _options;
    private readonly EnqueueLatencyMonitor _latency;
    private readonly DrainConcurrencyLimit _limit;
    private readonly int _maxMessagesPerReceive;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _abortApplies = new();
    private long _nextAdjustAt;

    public const string LogCategory = "FunctionApp.Messaging.StorageQueueDrain";

    public StorageQueueDrain(QueueClient queue, QueueClient poisonQueue, IRelationshipBatchProcessor batches,
        StorageQueueDrainOptions options, EnqueueLatencyMonitor latency, ILoggerFactory loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(loggerFactory);
        _queue = queue ?? throw new ArgumentNullException(nameof(queue));
        _poisonQueue = poisonQueue ?? throw new ArgumentNullException(nameof(poisonQueue));
        _batches = batches ?? throw new ArgumentNullException(nameof(batches));
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _latency = latency ?? throw new ArgumentNullException(nameof(latency));
        _limit = new DrainConcurrencyLimit(options.MaxParallelApplies, options.AcknowledgementLatencyTarget);
        _maxMessagesPerReceive = queue.MaxPeekableMessages;
        _logger = loggerFactory.CreateLogger(LogCategory);
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
        var (redelivery, payload) = RelationshipQueueMessage.Read(message.Body.ToString());
        BatchOutcome outcome;
        try
        {
            outcome = await _batches.ProcessAsync(() => RelationshipQueueMessage.DecodeJson(payload),
                new BatchDelivery((int)Math.Min(int.MaxValue, message.DequeueCount), redelivery), _abortApplies.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_abortApplies.IsCancellationRequested)
        {
            // Shut down mid-apply: left on the queue, it comes back after the visibility timeout.
            DrainLog.Interrupted(_logger, message.MessageId);
            return;
        }

        switch (outcome.Kind)
        {
            case BatchOutcomeKind.Applied:
                await DeleteAsync(message).ConfigureAwait(false);
                break;
            case BatchOutcomeKind.RetryLater:
                await TryUpdateAsync(message, RelationshipQueueMessage.WithRedelivery(payload, outcome.Redelivery!.Next), outcome.Redelivery.Delay)
                    .ConfigureAwait(false);
                break;
            default:
                await PoisonAsync(message, payload, outcome.Reason).ConfigureAwait(false);
                break;
        }
    }

    private async Task DeleteAsync(QueueMessage message)
    {
        try
        {
            await _queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // Applied but not deleted (its receipt went stale, say): it comes back and is applied again, which the
            // store makes harmless.
            DrainLog.AppliedNotDeleted(_logger, message.MessageId, ex);
        }
    }

    /// <summary>Puts the payload as first put (no redelivery state, so it can be put back as it is) on the poison queue, then deletes the original.</summary>
    private async Task PoisonAsync(QueueMessage message, string payload, string? reason)
    {
        try
        {
            await _poisonQueue.SendMessageAsync(payload, visibilityTimeout: null, timeToLive: StorageQueueEventQueue.NeverExpires, CancellationToken.None)
                .ConfigureAwait(false);
            await _queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // Left where it is: it comes back and is poisoned on a later receipt (a copy may then exist twice there).
            DrainLog.PoisonFailed(_logger, message.MessageId, _poisonQueue.Name, ex);
            return;
        }

        DrainLog.Poisoned(_logger, message.MessageId, _poisonQueue.Name, LogValue.Escape(reason));
    }

    /// <summary>Hands a message back at once (shutdown before its apply started).</summary>
    private Task ReleaseAsync(QueueMessage message) => TryUpdateAsync(message, null, TimeSpan.Zero);

    /// <summary>Makes the message visible again after <paramref name="visibility"/>, with new text when <paramref name="text"/> is given.</summary>
    private async Task TryUpdateAsync(QueueMessage message, string? text, TimeSpan visibility)
    {
        try
        {
            await _queue.UpdateMessageAsync(message.MessageId, message.PopReceipt, text is null ? null : new BinaryData(text), visibility, CancellationToken.None)
                .ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // Harmless: the message comes back unchanged when its visibility timeout ends instead.
            DrainLog.VisibilityUpdateFailed(_logger, message.MessageId, ex);
        }
    }

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

    [LoggerMessage(EventId = 25, Level = LogLevel.Warning, Message = "Message {MessageId} was applied but could not be deleted; it comes back and is applied again harmlessly")]
    public static partial void AppliedNotDeleted(ILogger logger, string messageId, Exception exception);

    [LoggerMessage(EventId = 26, Level = LogLevel.Error, Message = "Message {MessageId} moved to {PoisonQueue}: {Reason}")]
    public static partial void Poisoned(ILogger logger, string messageId, string poisonQueue, string? reason);

    [LoggerMessage(EventId = 27, Level = LogLevel.Warning, Message = "Message {MessageId}: the app stopped before its apply finished; it comes back after the visibility timeout")]
    public static partial void Interrupted(ILogger logger, string messageId);
}
