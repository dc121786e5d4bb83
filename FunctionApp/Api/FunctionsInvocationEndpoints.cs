using System.Buffers;
using System.Diagnostics;
using System.Text.Json;
using FunctionApp.Core;

namespace FunctionApp.Api;

/// <summary>
/// The custom-handler invocation the Functions host sends as <c>POST /{FunctionName}</c>: only the Service Bus trigger
/// <c>ApplyRelationshipEvents</c>, since every HTTP function is forwarded raw to the route it names. The handler answers
/// <c>{"Outputs": {...}, "Logs": [...], "ReturnValue": null}</c>; a non-2xx answer fails the invocation. A payload
/// without the documented shape is a host fault: it gets 400 with the reason in <c>Logs</c> and a warning here.
/// </summary>
internal static class FunctionsInvocationEndpoints
{
    public const string ApplyRelationshipEvents = "ApplyRelationshipEvents";

    /// <summary>The Service Bus trigger's binding name in <c>ApplyRelationshipEvents/function.json</c>.</summary>
    public const string ServiceBusTriggerBinding = "message";

    public static async Task ApplyRelationshipEventsAsync(HttpContext context)
    {
        var started = Stopwatch.GetTimestamp();
        var services = context.RequestServices;
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger(ApiLog.ApplyCategory);

        using var document = await ReadPayloadAsync(context, ApplyRelationshipEvents, logger);
        if (document is null)
        {
            return;
        }

        var deliveryCount = InvocationPayload.ReadMetadata(document.RootElement, "DeliveryCount");
        byte[] json;
        try
        {
            json = ServiceBusMessageBody.Decode(InvocationPayload.ReadBinding(document.RootElement, ServiceBusTriggerBinding));
        }
        catch (InvalidInvocationException ex)
        {
            await RefuseAsync(context, ApplyRelationshipEvents, ex.Message, logger);
            return;
        }
        catch (InvalidBatchException ex)
        {
            // Not even in one of the host's forms: fail every delivery so Service Bus dead-letters it, where it stays inspectable.
            ApiLog.Batch(logger, LogLevel.Error, null, 0, 0, null, 0, "invalid", ex.Message, deliveryCount, Elapsed(started), null);
            await WriteAsync(context, StatusCodes.Status400BadRequest, null, [$"The message is not a relationship batch this build can apply: {ex.Message}"]);
            return;
        }

        var count = int.TryParse(deliveryCount, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var parsed) ? parsed : 0;
        var outcome = await services.GetRequiredService<IRelationshipBatchProcessor>().ProcessAsync(json, count, context.RequestAborted);
        var batch = outcome.Batch;
        // A non-2xx answer fails the invocation: Service Bus redelivers (5xx, the store failed) until its max delivery
        // count dead-letters the message, which is all a message that can never be applied (4xx) can become.
        var (status, log) = outcome.Kind switch
        {
            BatchOutcomeKind.Applied => (StatusCodes.Status200OK, $"Batch {batch!.BatchId} part {batch.Part}/{batch.PartCount} applied: {batch.Events.Count} events"),
            BatchOutcomeKind.RetryLater => (StatusCodes.Status500InternalServerError,
                $"Batch {batch!.BatchId} part {batch.Part}/{batch.PartCount} was not applied and will be redelivered: {outcome.Reason}"),
            _ => (StatusCodes.Status400BadRequest, $"The message is not a relationship batch this build can apply: {outcome.Reason}"),
        };
        await WriteAsync(context, status, null, [log]);
    }

    private static long Elapsed(long started) => (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds;

    /// <summary>
    /// Parses the invocation body, which is as large as the message the host received (the entity's limit, not the
    /// server's default request limit); null (and the refusal written) when it is not JSON.
    /// </summary>
    private static async Task<JsonDocument?> ReadPayloadAsync(HttpContext context, string functionName, ILogger logger)
    {
        var sizeFeature = context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>();
        if (sizeFeature is { IsReadOnly: false })
        {
            sizeFeature.MaxRequestBodySize = null;
        }

        try
        {
            return await JsonDocument.ParseAsync(context.Request.Body, default, context.RequestAborted);
        }
        catch (JsonException ex)
        {
            await RefuseAsync(context, functionName, $"The invocation payload is not JSON: {ex.Message}", logger);
        }

        return null;
    }

    private static Task RefuseAsync(HttpContext context, string functionName, string reason, ILogger logger)
    {
        ApiLog.InvalidInvocation(logger, functionName, reason);
        return WriteAsync(context, StatusCodes.Status400BadRequest, null, [$"{functionName}: invalid invocation payload: {reason}"]);
    }

    /// <summary>Writes <c>{"Outputs": {...}, "Logs": [...], "ReturnValue": null}</c>.</summary>
    private static async Task WriteAsync(HttpContext context, int statusCode, Action<Utf8JsonWriter>? writeOutputs, IReadOnlyList<string> logs)
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
