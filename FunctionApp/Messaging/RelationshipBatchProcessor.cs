using System.Diagnostics;
using FunctionApp.Core;

namespace FunctionApp.Messaging;

/// <summary>
/// The one step every delivery of batches shares: decode the message body, apply the batch, classify what happened
/// and log one line for it. Each delivery (the trigger invocation, the Storage drain, the Service Bus drain) only
/// translates the <see cref="BatchOutcome"/> into its own settle action.
/// </summary>
public sealed class RelationshipBatchProcessor(IRelationshipBatchApplier applier, ILoggerFactory loggerFactory) : IRelationshipBatchProcessor
{
    public const string LogCategory = "FunctionApp.Messaging.Apply";

    private readonly ILogger _logger = loggerFactory.CreateLogger(LogCategory);

    /// <param name="json">The message body: UTF-8 JSON of one <see cref="RelationshipBatch"/>.</param>
    /// <param name="deliveryCount">How often the queue has handed this message over, for the log line.</param>
    public async Task<BatchOutcome> ProcessAsync(ReadOnlyMemory<byte> json, int deliveryCount, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        RelationshipBatch batch;
        try
        {
            batch = RelationshipBatchJson.Deserialize(json.Span);
        }
        catch (InvalidBatchException ex)
        {
            return Logged(new BatchOutcome(BatchOutcomeKind.NeverApplicable, null, ex.Message), deliveryCount, started);
        }

        try
        {
            await applier.ApplyAsync(batch, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex)
        {
            return Logged(new BatchOutcome(BatchOutcomeKind.RetryLater, batch, ErrorDescription.Of(ex), ex), deliveryCount, started);
        }

        return Logged(new BatchOutcome(BatchOutcomeKind.Applied, batch, null), deliveryCount, started);
    }

    private BatchOutcome Logged(BatchOutcome outcome, int deliveryCount, long started)
    {
        var batch = outcome.Batch;
        var level = outcome.Kind == BatchOutcomeKind.Applied ? LogLevel.Information : LogLevel.Error;
        BatchProcessorLog.Batch(_logger, level, batch?.BatchId, batch?.Part ?? 0, batch?.PartCount ?? 0, batch?.Source.AppId,
            batch?.Events.Count ?? 0, outcome.Name, outcome.Reason, deliveryCount, (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds, outcome.Error);
        return outcome;
    }
}

internal static partial class BatchProcessorLog
{
    [LoggerMessage(EventId = 2,
        Message = "Batch batchId={BatchId} part={Part}/{PartCount} app={AppId} events={EventCount} outcome={Outcome} reason={Reason} deliveryCount={DeliveryCount} latencyMs={LatencyMs}")]
    public static partial void Batch(ILogger logger, LogLevel level, string? batchId, int part, int partCount, string? appId,
        int eventCount, string outcome, string? reason, int deliveryCount, long latencyMs, Exception? exception);
}
