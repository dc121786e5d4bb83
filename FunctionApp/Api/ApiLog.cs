using FunctionApp.Core;

namespace FunctionApp.Api;

/// <summary>
/// The app's structured log lines. They carry ids, counts and outcomes only: never a token, signature, key or body.
/// Every value that can come from a request (platform segment, app id, command, reasons quoting input) goes through
/// <see cref="LogValue.Escape"/> here, so callers cannot forget it.
/// </summary>
internal static partial class ApiLog
{
    public const string CallbacksCategory = "FunctionApp.Api.Callbacks";
    public const string ApplyCategory = "FunctionApp.Api.Apply";

    public static void Callback(ILogger logger, LogLevel level, string platform, string? appId, string? command,
        int eventCount, string outcome, string? reason, long latencyMs) =>
        CallbackLine(logger, level, LogValue.Escape(platform)!, LogValue.Escape(appId), LogValue.Escape(command), eventCount, outcome,
            LogValue.Escape(reason), latencyMs);

    public static void RedeliveryNotScheduled(ILogger logger, string batchId, int part, Exception exception) =>
        RedeliveryNotScheduledLine(logger, LogValue.Escape(batchId)!, part, exception);

    public static void InvalidInvocation(ILogger logger, string functionName, string reason) =>
        InvalidInvocationLine(logger, functionName, LogValue.Escape(reason)!);

    public static void IngestorFailed(ILogger logger, string platform, Exception exception) =>
        IngestorFailedLine(logger, LogValue.Escape(platform)!, exception);

    public static void EnqueueFailed(ILogger logger, string platform, string? appId, string? command, Exception exception) =>
        EnqueueFailedLine(logger, LogValue.Escape(platform)!, LogValue.Escape(appId), LogValue.Escape(command), exception);

    [LoggerMessage(EventId = 4, Level = LogLevel.Error, Message = "Query {View} failed: the relationship store did not answer")]
    public static partial void StoreUnavailable(ILogger logger, string view, Exception exception);

    [LoggerMessage(EventId = 5, Level = LogLevel.Warning, Message = "Health probe {Probe} failed")]
    public static partial void ProbeFailed(ILogger logger, string probe, Exception exception);

    [LoggerMessage(EventId = 1,
        Message = "Callback platform={Platform} app={AppId} command={Command} events={EventCount} outcome={Outcome} reason={Reason} latencyMs={LatencyMs}")]
    private static partial void CallbackLine(ILogger logger, LogLevel level, string platform, string? appId, string? command,
        int eventCount, string outcome, string? reason, long latencyMs);

    [LoggerMessage(EventId = 9, Level = LogLevel.Warning,
        Message = "Batch batchId={BatchId} part={Part}: its redelivery could not be scheduled; the host redelivers the message")]
    private static partial void RedeliveryNotScheduledLine(ILogger logger, string batchId, int part, Exception exception);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning,
        Message = "Invocation {FunctionName} refused: the Functions host sent a payload this handler cannot read: {Reason}")]
    private static partial void InvalidInvocationLine(ILogger logger, string functionName, string reason);

    [LoggerMessage(EventId = 6, Level = LogLevel.Error,
        Message = "Callback platform={Platform} could not be processed: the ingestor failed")]
    private static partial void IngestorFailedLine(ILogger logger, string platform, Exception exception);

    [LoggerMessage(EventId = 7, Level = LogLevel.Error,
        Message = "Callback platform={Platform} app={AppId} command={Command}: the batches could not be queued")]
    private static partial void EnqueueFailedLine(ILogger logger, string platform, string? appId, string? command, Exception exception);
}
