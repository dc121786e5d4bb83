using System.Diagnostics;
using System.Globalization;
using FunctionApp.Core;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace FunctionApp.Messaging;

/// <summary>
/// The one step every delivery of batches shares: decode the message body, apply the batch, classify what happened
/// and log one line for it. Each delivery (the trigger invocation, the Storage drain, the Service Bus drain) only
/// translates the <see cref="BatchOutcome"/> into its own settle action.
/// <para>
/// A store failure is retried within the delivery first (Polly: exponential backoff with jitter, bounded in all by
/// <see cref="RedeliveryOptions.RetryWithinDelivery"/>, which the settings keep inside the function timeout, the lock
/// renewal and the visibility timeout). If it still fails, the outcome says when to redeliver (<see cref="RedeliverySchedule"/>),
/// or, once the batch has been failing for the whole retry period, to park it. Only a message that is no batch, or a
/// batch the store can never hold, is parked at once.
/// </para>
/// </summary>
public sealed class RelationshipBatchProcessor : IRelationshipBatchProcessor
{
    public const string LogCategory = "FunctionApp.Messaging.Apply";

    /// <summary>First wait between two tries within a delivery (each try already includes the storage client's own quick retries).</summary>
    public static readonly TimeSpan FirstRetryDelay = TimeSpan.FromSeconds(1);

    private readonly IRelationshipBatchApplier _applier;
    private readonly RedeliverySchedule _schedule;
    private readonly TimeProvider _time;
    private readonly ResiliencePipeline _retryWithinDelivery;
    private readonly ILogger _logger;

    public RelationshipBatchProcessor(IRelationshipBatchApplier applier, RedeliveryOptions options, TimeProvider time, ILoggerFactory loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        _applier = applier ?? throw new ArgumentNullException(nameof(applier));
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _schedule = new RedeliverySchedule(options);
        _logger = loggerFactory.CreateLogger(LogCategory);
        _retryWithinDelivery = options.RetryWithinDelivery <= TimeSpan.Zero
            ? ResiliencePipeline.Empty
            : new ResiliencePipelineBuilder { TimeProvider = time }
                .AddTimeout(options.RetryWithinDelivery)
                .AddRetry(new RetryStrategyOptions
                {
                    // A batch the store can never hold is not retried; neither is a delivery being stopped.
                    ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is { } ex && ex is not InvalidBatchException
                        && !args.Context.CancellationToken.IsCancellationRequested),
                    BackoffType = DelayBackoffType.Exponential,
                    UseJitter = true,
                    Delay = FirstRetryDelay,
                    MaxDelay = TimeSpan.FromTicks(Math.Max(FirstRetryDelay.Ticks, options.RetryWithinDelivery.Ticks / 4)),
                    MaxRetryAttempts = int.MaxValue,
                    OnRetry = args =>
                    {
                        BatchProcessorLog.RetryingWithinDelivery(_logger, args.AttemptNumber + 1, args.RetryDelay.TotalMilliseconds,
                            LogValue.Escape(args.Outcome.Exception is { } ex ? ErrorDescription.Of(ex) : null));
                        return default;
                    },
                })
                .Build();
    }

    public async Task<BatchOutcome> ProcessAsync(Func<ReadOnlyMemory<byte>> readBody, BatchDelivery delivery, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(readBody);
        ArgumentNullException.ThrowIfNull(delivery);
        var started = Stopwatch.GetTimestamp();
        var startedAt = _time.GetUtcNow();
        RelationshipBatch batch;
        try
        {
            batch = RelationshipBatchJson.Deserialize(readBody().Span);
        }
        catch (InvalidBatchException ex)
        {
            return Logged(new BatchOutcome(BatchOutcomeKind.NeverApplicable, null, ex.Message), delivery, started);
        }

        // A batch already failing for the whole retry period gets one try, not another round of retries.
        var pipeline = _schedule.IsOver(delivery.Redelivery, startedAt) ? ResiliencePipeline.Empty : _retryWithinDelivery;
        var attempt = new ApplyAttempt(_applier, batch);
        Exception failure;
        try
        {
            await pipeline.ExecuteAsync(static (attempt, token) => attempt.RunAsync(token), attempt, cancellationToken).ConfigureAwait(false);
            return Logged(new BatchOutcome(BatchOutcomeKind.Applied, batch, null), delivery, started);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (InvalidBatchException ex)
        {
            return Logged(new BatchOutcome(BatchOutcomeKind.NeverApplicable, batch, ex.Message, ex), delivery, started);
        }
        catch (TimeoutRejectedException ex)
        {
            // The retry budget ran out during a try: the failure to report is the one before it.
            failure = attempt.LastFailure ?? ex;
        }
        catch (Exception ex)
        {
            failure = ex;
        }

        var reason = ErrorDescription.Of(failure);
        var next = _schedule.Next(delivery.Redelivery, startedAt, _time.GetUtcNow());
        if (next is null)
        {
            var since = delivery.Redelivery?.FirstFailedAt ?? startedAt;
            var expired = $"the store failed on every try since {since.UtcDateTime.ToString("O", CultureInfo.InvariantCulture)}; last: {reason}";
            return Logged(new BatchOutcome(BatchOutcomeKind.RetryPeriodExceeded, batch, expired, failure), delivery, started);
        }

        return Logged(new BatchOutcome(BatchOutcomeKind.RetryLater, batch, reason, failure, next), delivery, started);
    }

    private BatchOutcome Logged(BatchOutcome outcome, BatchDelivery delivery, long started)
    {
        var batch = outcome.Batch;
        var level = outcome.Kind switch
        {
            BatchOutcomeKind.Applied => LogLevel.Information,
            BatchOutcomeKind.RetryLater => LogLevel.Warning,
            _ => LogLevel.Error,
        };
        var redelivery = outcome.Redelivery is { } next
            ? string.Create(CultureInfo.InvariantCulture, $"{next.Next.Generation} after {next.Delay.TotalSeconds:0.###} s")
            : null;
        BatchProcessorLog.Batch(_logger, level, LogValue.Escape(batch?.BatchId), batch?.Part ?? 0, batch?.PartCount ?? 0, LogValue.Escape(batch?.Source.AppId),
            batch?.Events.Count ?? 0, outcome.Name, LogValue.Escape(outcome.Reason), delivery.DeliveryCount, redelivery,
            (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds, outcome.Kind == BatchOutcomeKind.Applied ? null : outcome.Error);
        return outcome;
    }

    /// <summary>One apply per try, remembering the last store failure (a timeout of the retry budget hides it otherwise).</summary>
    private sealed class ApplyAttempt(IRelationshipBatchApplier applier, RelationshipBatch batch)
    {
        public Exception? LastFailure { get; private set; }

        public async ValueTask RunAsync(CancellationToken cancellationToken)
        {
            try
            {
                await applier.ApplyAsync(batch, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                LastFailure = ex;
                throw;
            }
        }
    }
}

internal static partial class BatchProcessorLog
{
    [LoggerMessage(EventId = 2,
        Message = "Batch batchId={BatchId} part={Part}/{PartCount} app={AppId} events={EventCount} outcome={Outcome} reason={Reason} deliveryCount={DeliveryCount} redelivery={Redelivery} latencyMs={LatencyMs}")]
    public static partial void Batch(ILogger logger, LogLevel level, string? batchId, int part, int partCount, string? appId,
        int eventCount, string outcome, string? reason, int deliveryCount, string? redelivery, long latencyMs, Exception? exception);

    [LoggerMessage(EventId = 8, Level = LogLevel.Debug, Message = "Apply failed ({Reason}); try {Attempt} within the delivery in {DelayMilliseconds} ms")]
    public static partial void RetryingWithinDelivery(ILogger logger, int attempt, double delayMilliseconds, string? reason);
}
