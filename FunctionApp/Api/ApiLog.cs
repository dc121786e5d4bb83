namespace FunctionApp.Api;

/// <summary>
/// The app's structured log lines. They carry ids, counts and outcomes only: never a token, signature, key or body.
/// </summary>
internal static partial class ApiLog
{
    public const string CallbacksCategory = "FunctionApp.Api.Callbacks";
    public const string ApplyCategory = "FunctionApp.Api.Apply";

    [LoggerMessage(EventId = 1,
        Message = "Callback platform={Platform} app={AppId} command={Command} events={EventCount} outcome={Outcome} reason={Reason} latencyMs={LatencyMs}")]
    public static partial void Callback(ILogger logger, LogLevel level, string platform, string? appId, string? command,
        int eventCount, string outcome, string? reason, long latencyMs);

    [LoggerMessage(EventId = 2,
        Message = "Batch batchId={BatchId} part={Part}/{PartCount} app={AppId} events={EventCount} outcome={Outcome} reason={Reason} deliveryCount={DeliveryCount} latencyMs={LatencyMs}")]
    public static partial void Batch(ILogger logger, LogLevel level, string? batchId, int part, int partCount, string? appId,
        int eventCount, string outcome, string? reason, string? deliveryCount, long latencyMs, Exception? exception);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning,
        Message = "Invocation {FunctionName} refused: the Functions host sent a payload this handler cannot read: {Reason}")]
    public static partial void InvalidInvocation(ILogger logger, string functionName, string reason);

    [LoggerMessage(EventId = 4, Level = LogLevel.Error, Message = "Query {View} failed: the relationship store did not answer")]
    public static partial void StoreUnavailable(ILogger logger, string view, Exception exception);

    [LoggerMessage(EventId = 5, Level = LogLevel.Warning, Message = "Health probe {Probe} failed")]
    public static partial void ProbeFailed(ILogger logger, string probe, Exception exception);

    [LoggerMessage(EventId = 6, Level = LogLevel.Error,
        Message = "Callback platform={Platform} could not be processed: the ingestor failed")]
    public static partial void IngestorFailed(ILogger logger, string platform, Exception exception);

    [LoggerMessage(EventId = 7, Level = LogLevel.Error,
        Message = "Callback platform={Platform} app={AppId} command={Command}: the batches could not be queued")]
    public static partial void EnqueueFailed(ILogger logger, string platform, string? appId, string? command, Exception exception);
}
