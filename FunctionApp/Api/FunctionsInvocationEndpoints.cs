using System.Buffers;
using System.Diagnostics;
using System.Text.Json;
using FunctionApp.Core;
using FunctionApp.Hosting;

namespace FunctionApp.Api;

/// <summary>
/// The custom-handler invocations the Functions host sends as <c>POST /{FunctionName}</c>. The handler answers
/// <c>{"Outputs": {...}, "Logs": [...], "ReturnValue": null}</c>; a non-2xx answer fails the invocation. A payload
/// without the documented shape is a host fault: it gets 400 with the reason in <c>Logs</c> and a warning here.
/// </summary>
internal static class FunctionsInvocationEndpoints
{
    public const string ReceiveCallback = "ReceiveCallback";
    public const string ApplyRelationshipEvents = "ApplyRelationshipEvents";

    /// <summary>Trigger and output binding names in the function.json files.</summary>
    public const string HttpTriggerBinding = "req";
    public const string HttpOutputBinding = "res";
    public const string BatchesOutputBinding = "batches";
    public const string ServiceBusTriggerBinding = "message";

    /// <summary>
    /// Headroom over the callback body limit for one invocation payload: JSON escaping of the body as a string can
    /// grow it up to six times, base64 by a third, and headers and query come on top.
    /// </summary>
    internal static long InvocationSizeLimit(CallbackBodyLimit limit) => (6L * limit.MaxBodyBytes) + (1024 * 1024);

    public static async Task ReceiveCallbackAsync(HttpContext context)
    {
        var started = Stopwatch.GetTimestamp();
        var services = context.RequestServices;
        var receivedAt = services.GetRequiredService<TimeProvider>().GetUtcNow();
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger(ApiLog.CallbacksCategory);
        var limit = services.GetRequiredService<CallbackBodyLimit>();

        using var document = await ReadPayloadAsync(context, ReceiveCallback, InvocationSizeLimit(limit), logger);
        if (document is null)
        {
            return;
        }

        InboundCallback callback;
        try
        {
            callback = InvocationPayload.ReadHttpTrigger(document.RootElement, HttpTriggerBinding, limit.ReadLimit, receivedAt);
        }
        catch (InvalidInvocationException ex)
        {
            await RefuseAsync(context, ReceiveCallback, ex.Message, logger);
            return;
        }

        var ingestor = services.GetRequiredService<ICallbackIngestor>();

        IngestResult result;
        try
        {
            result = ingestor.Ingest(callback);
        }
        catch (Exception ex)
        {
            ApiLog.IngestorFailed(logger, callback.Platform, ex);
            await WriteAsync(context, StatusCodes.Status500InternalServerError, null,
                [$"The callback could not be processed: {CallbackRequests.Describe(ex)}"]);
            return;
        }

        var outcome = result.Outcome;
        var batches = CallbackRequests.ShouldQueue(result) ? result.Batches : [];
        ApiLog.Callback(logger, CallbackEndpoint.LevelOf(outcome.Outcome), outcome.Platform, outcome.AppId, outcome.Command,
            outcome.EventCount, outcome.Outcome, outcome.Reason, (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds);

        var summary = $"Callback {outcome.Platform} app {outcome.AppId} command {outcome.Command}: {outcome.Outcome}, "
            + $"{outcome.EventCount} events in {batches.Count} messages" + (outcome.Reason is null ? "" : $" ({outcome.Reason})");
        await WriteAsync(context, StatusCodes.Status200OK, writer =>
        {
            writer.WriteStartObject(HttpOutputBinding);
            writer.WriteNumber("statusCode", result.Answer.StatusCode);
            writer.WriteString("body", result.Answer.Body);
            writer.WriteStartObject("headers");
            writer.WriteString("Content-Type", result.Answer.ContentType);
            writer.WriteEndObject();
            writer.WriteEndObject();

            // Objects, never strings: the host would base64-decode a string that happens to be valid base64.
            if (batches.Count > 0)
            {
                writer.WriteStartArray(BatchesOutputBinding);
                foreach (var batch in batches)
                {
                    // Straight into the answer: the same JSON as RelationshipBatchJson.Serialize without a copy.
                    JsonSerializer.Serialize(writer, batch, RelationshipBatchJsonContext.Default.RelationshipBatch);
                }

                writer.WriteEndArray();
            }
        }, [summary]);
    }

    public static async Task ApplyRelationshipEventsAsync(HttpContext context)
    {
        var started = Stopwatch.GetTimestamp();
        var services = context.RequestServices;
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger(ApiLog.ApplyCategory);

        using var document = await ReadPayloadAsync(context, ApplyRelationshipEvents, maxBytes: null, logger);
        if (document is null)
        {
            return;
        }

        var deliveryCount = InvocationPayload.ReadMetadata(document.RootElement, "DeliveryCount");
        RelationshipBatch batch;
        try
        {
            var message = InvocationPayload.ReadBinding(document.RootElement, ServiceBusTriggerBinding);
            batch = RelationshipBatchJson.Deserialize(ServiceBusMessageBody.Decode(message));
        }
        catch (InvalidInvocationException ex)
        {
            await RefuseAsync(context, ApplyRelationshipEvents, ex.Message, logger);
            return;
        }
        catch (InvalidBatchException ex)
        {
            // Can never be applied: fail every delivery so Service Bus dead-letters it, where it stays inspectable.
            ApiLog.Batch(logger, LogLevel.Error, null, 0, 0, null, 0, "invalid", ex.Message, deliveryCount, Elapsed(started), null);
            await WriteAsync(context, StatusCodes.Status400BadRequest, null, [$"The message is not a relationship batch this build can apply: {ex.Message}"]);
            return;
        }

        var applier = services.GetRequiredService<IRelationshipBatchApplier>();

        try
        {
            await applier.ApplyAsync(batch, context.RequestAborted);
        }
        catch (Exception ex)
        {
            var reason = CallbackRequests.Describe(ex);
            ApiLog.Batch(logger, LogLevel.Error, batch.BatchId, batch.Part, batch.PartCount, batch.Source.AppId, batch.Events.Count,
                "failed", reason, deliveryCount, Elapsed(started), ex);
            await WriteAsync(context, StatusCodes.Status500InternalServerError, null,
                [$"Batch {batch.BatchId} part {batch.Part}/{batch.PartCount} was not applied and will be redelivered: {reason}"]);
            return;
        }

        ApiLog.Batch(logger, LogLevel.Information, batch.BatchId, batch.Part, batch.PartCount, batch.Source.AppId, batch.Events.Count,
            "applied", null, deliveryCount, Elapsed(started), null);
        await WriteAsync(context, StatusCodes.Status200OK, null,
            [$"Batch {batch.BatchId} part {batch.Part}/{batch.PartCount} applied: {batch.Events.Count} events"]);
    }

    private static long Elapsed(long started) => (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds;

    /// <summary>Parses the invocation body; null (and the refusal written) when it is not JSON or too large.</summary>
    internal static async Task<JsonDocument?> ReadPayloadAsync(HttpContext context, string functionName, long? maxBytes, ILogger logger)
    {
        var sizeFeature = context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>();
        if (sizeFeature is { IsReadOnly: false })
        {
            sizeFeature.MaxRequestBodySize = maxBytes;
        }

        try
        {
            return await JsonDocument.ParseAsync(context.Request.Body, default, context.RequestAborted);
        }
        catch (JsonException ex)
        {
            await RefuseAsync(context, functionName, $"The invocation payload is not JSON: {ex.Message}", logger);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            ApiLog.InvalidInvocation(logger, functionName, "payload too large");
            await WriteAsync(context, StatusCodes.Status413PayloadTooLarge, null,
                [$"The invocation payload is larger than {maxBytes} bytes; the callback body is far over {AppSettingNames.CallbacksMaxBodyBytes}."]);
        }

        return null;
    }

    internal static Task RefuseAsync(HttpContext context, string functionName, string reason, ILogger logger)
    {
        ApiLog.InvalidInvocation(logger, functionName, reason);
        return WriteAsync(context, StatusCodes.Status400BadRequest, null, [$"{functionName}: invalid invocation payload: {reason}"]);
    }

    /// <summary>Writes <c>{"Outputs": {...}, "Logs": [...], "ReturnValue": null}</c>.</summary>
    internal static async Task WriteAsync(HttpContext context, int statusCode, Action<Utf8JsonWriter>? writeOutputs, IReadOnlyList<string> logs)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteStartObject("Outputs");
            writeOutputs?.Invoke(writer);
            writer.WriteEndObject();
            writer.WriteStartArray("Logs");
            foreach (var line in logs)
            {
                // The host writes these lines to its own log: they quote request values, so escape them like ours.
                writer.WriteStringValue(LogValue.Escape(line));
            }

            writer.WriteEndArray();
            writer.WriteNull("ReturnValue");
            writer.WriteEndObject();
        }

        context.Response.StatusCode = statusCode;
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = buffer.WrittenCount;
        await context.Response.Body.WriteAsync(buffer.WrittenMemory, context.RequestAborted);
    }
}
