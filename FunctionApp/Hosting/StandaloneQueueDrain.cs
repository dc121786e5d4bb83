using System.Diagnostics;
using System.Globalization;
using FunctionApp.Api;
using FunctionApp.Core;
using FunctionApp.Storage.Queues;

namespace FunctionApp.Hosting;

/// <summary>How the standalone drain reads the queue (settings <c>StandaloneQueue:*</c>).</summary>
public sealed record StandaloneQueueDrainOptions
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

    /// <summary>Most batches applied at once.</summary>
    public int MaxParallelApplies { get; init; } = 4;

    /// <summary>Reads the options; a malformed value stops startup with the setting named.</summary>
    public static StandaloneQueueDrainOptions Read(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var defaults = new StandaloneQueueDrainOptions();
        return new StandaloneQueueDrainOptions
        {
            VisibilityTimeout = TimeSpan.FromSeconds(Number(configuration, AppSettingNames.StandaloneQueueVisibilityTimeoutSeconds,
                (int)defaults.VisibilityTimeout.TotalSeconds, minimum: 1)),
            RetryDelay = TimeSpan.FromSeconds(Number(configuration, AppSettingNames.StandaloneQueueRetryDelaySeconds,
                (int)defaults.RetryDelay.TotalSeconds, minimum: 0)),
            MaxDequeueCount = Number(configuration, AppSettingNames.StandaloneQueueMaxDequeueCount, defaults.MaxDequeueCount, minimum: 1),
            MaxPollInterval = TimeSpan.FromMilliseconds(Number(configuration, AppSettingNames.StandaloneQueueMaxPollIntervalMilliseconds,
                (int)defaults.MaxPollInterval.TotalMilliseconds, minimum: (int)defaults.MinPollInterval.TotalMilliseconds)),
        };
    }

    private static int Number(IConfiguration configuration, string name, int fallback, int minimum)
    {
        var text = configuration[name];
        if (string.IsNullOrWhiteSpace(text))
        {
            return fallback;
        }

        return int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= minimum
            ? value
            : throw new InvalidOperationException($"{name} must be a whole number of at least {minimum}; it is '{text}'.");
    }
}

/// <summary>
/// Standalone only: drains the Storage queue into the store. Receives up to 32 messages hidden for the visibility
/// timeout, applies them (a few at a time) and deletes each one only after its batch is applied. A message that can
/// never be applied goes to <c>&lt;queue&gt;-poison</c> at once; one whose apply failed comes back after the retry delay
/// until it has been received <see cref="StandaloneQueueDrainOptions.MaxDequeueCount"/> times, then goes there too.
/// On shutdown it stops receiving, lets applies in flight finish (within the host's shutdown timeout) and hands
/// back the messages it had not started; nothing unapplied is ever deleted.
/// </summary>
public sealed class StandaloneQueueDrain : BackgroundService
{
    /// <summary>Suffix of the poison queue's name.</summary>
    public const string PoisonQueueSuffix = "-poison";

    private static readonly TimeSpan ReceiveFailureDelay = TimeSpan.FromSeconds(1);

    private readonly QueueClient _queue;
    private readonly QueueClient _poisonQueue;
    private readonly IRelationshipBatchApplier _applier;
    private readonly StandaloneQueueDrainOptions _options;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _abortApplies = new();

    public StandaloneQueueDrain(QueueClient queue, QueueClient poisonQueue, IRelationshipBatchApplier applier,
        StandaloneQueueDrainOptions options, ILoggerFactory loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(loggerFactory);
        _queue = queue ?? throw new ArgumentNullException(nameof(queue));
        _poisonQueue = poisonQueue ?? throw new ArgumentNullException(nameof(poisonQueue));
        _applier = applier ?? throw new ArgumentNullException(nameof(applier));
        _options = options ?? throw new ArgumentNullException(nameof(options));
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
            IReadOnlyList<QueueMessage> messages;
            try
            {
                messages = await _queue.ReceiveMessagesAsync(QueueClient.MaxMessagesPerReceive, _options.VisibilityTimeout, stoppingToken).ConfigureAwait(false);
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

            if (messages.Count == 0)
            {
                await DelayAsync(pollInterval, stoppingToken).ConfigureAwait(false);
                pollInterval = TimeSpan.FromTicks(Math.Min(pollInterval.Ticks * 2, _options.MaxPollInterval.Ticks));
                continue;
            }

            pollInterval = _options.MinPollInterval;
            await Parallel.ForEachAsync(
                messages,
                new ParallelOptions { MaxDegreeOfParallelism = _options.MaxParallelApplies },
                async (message, _) =>
                {
                    if (stoppingToken.IsCancellationRequested)
                    {
                        await ReleaseAsync(message).ConfigureAwait(false);
                        return;
                    }

                    await ProcessAsync(message).ConfigureAwait(false);
                }).ConfigureAwait(false);
        }
    }

    private async Task ProcessAsync(QueueMessage message)
    {
        var started = Stopwatch.GetTimestamp();
        var dequeueCount = message.DequeueCount.ToString(CultureInfo.InvariantCulture);
        RelationshipBatch batch;
        try
        {
            batch = RelationshipQueueMessage.Decode(message.MessageText);
        }
        catch (InvalidBatchException ex)
        {
            await PoisonAsync(message, null, ex.Message, started, ex).ConfigureAwait(false);
            return;
        }

        try
        {
            await _applier.ApplyAsync(batch, _abortApplies.Token).ConfigureAwait(false);
        }
        catch (InvalidBatchException ex)
        {
            await PoisonAsync(message, batch, ex.Message, started, ex).ConfigureAwait(false);
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
            var reason = Api.CallbackRequests.Describe(ex);
            if (message.DequeueCount >= _options.MaxDequeueCount)
            {
                await PoisonAsync(message, batch, $"failed {message.DequeueCount} times; last: {reason}", started, ex).ConfigureAwait(false);
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
            LogBatch(LogLevel.Warning, batch, "applied-not-deleted", Api.CallbackRequests.Describe(ex), dequeueCount, started, null);
            return;
        }

        LogBatch(LogLevel.Information, batch, "applied", null, dequeueCount, started, null);
    }

    /// <summary>Puts the message text, unchanged, on the poison queue (where it stays inspectable), then deletes the original.</summary>
    private async Task PoisonAsync(QueueMessage message, RelationshipBatch? batch, string reason, long started, Exception exception)
    {
        var dequeueCount = message.DequeueCount.ToString(CultureInfo.InvariantCulture);
        try
        {
            await _poisonQueue.SendMessageAsync(message.MessageText, cancellationToken: CancellationToken.None).ConfigureAwait(false);
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
            await _queue.UpdateVisibilityAsync(message.MessageId, message.PopReceipt, visibility, CancellationToken.None).ConfigureAwait(false);
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
}
