using System.Buffers;
using System.Text.Json;
using FunctionApp.Core;

namespace FunctionApp.Api;

/// <summary>
/// The custom-handler invocation the Functions host sends as <c>POST /{FunctionName}</c>: only the Service Bus trigger
/// <c>ApplyRelationshipEvents</c>, since every HTTP function is forwarded raw to the route it names. The handler answers
/// <c>{"Outputs": {...}, "Logs": [...], "ReturnValue": null}</c>; a non-2xx answer fails the invocation. A payload
/// without the documented shape is a host fault: it gets 400 with the reason in <c>Logs</c> and a warning here.
/// A batch the store failed on (retried within the invocation first) is redelivered by a scheduled copy carrying its
/// redelivery state (read back from the trigger's <c>Metadata.ApplicationProperties</c>), and the answer is 2xx so
/// the host completes the original.
/// </summary>
internal static class FunctionsInvocationEndpoints
{
    public const string ApplyRelationshipEvents = "ApplyRelationshipEvents";

    /// <summary>The Service Bus trigger's binding name in <c>ApplyRelationshipEvents/function.json</c>.</summary>
    public const string ServiceBusTriggerBinding = "message";

    public static async Task ApplyRelationshipEventsAsync(HttpContext context)
    {
        var services = context.RequestServices;
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger(ApiLog.ApplyCategory);

        using var document = await ReadPayloadAsync(context, ApplyRelationshipEvents, maxBytes: null, logger);
        if (document is null)
        {
            return;
        }

        JsonElement message;
        try
        {
            message = InvocationPayload.ReadBinding(document.RootElement, ServiceBusTriggerBinding);
        }
        catch (InvalidInvocationException ex)
        {
            await RefuseAsync(context, ApplyRelationshipEvents, ex.Message, logger);
            return;
        }

        var root = document.RootElement;
        var deliveryCount = int.TryParse(InvocationPayload.ReadMetadata(root, "DeliveryCount"), System.Globalization.NumberStyles.None,
            System.Globalization.CultureInfo.InvariantCulture, out var count) ? count : 0;
        var properties = InvocationPayload.ReadMetadataProperties(root);
        var redelivery = RedeliveryState.FromProperties(properties);
        byte[] json = [];
        var outcome = await services.GetRequiredService<IRelationshipBatchProcessor>().ProcessAsync(
            () => json = ServiceBusMessageBody.Decode(message), new BatchDelivery(deliveryCount, redelivery), context.RequestAborted);
        var batch = outcome.Batch;
        var (status, log) = outcome.Kind switch
        {
            BatchOutcomeKind.Applied => (StatusCodes.Status200OK, $"Batch {batch!.BatchId} part {batch.Part}/{batch.PartCount} applied: {batch.Events.Count} events"),
            BatchOutcomeKind.RetryLater => await RedeliverAsync(services, json, RedeliveryState.OriginalMessageId(properties,
                InvocationPayload.ReadMetadata(root, "MessageId")) ?? batch!.BatchId, outcome, logger, context.RequestAborted),
            // The handler cannot settle the host's message itself: a non-2xx answer abandons it, and Service Bus
            // dead-letters it at the queue's max delivery count (at once, since it comes back at once).
            BatchOutcomeKind.NeverApplicable => (StatusCodes.Status400BadRequest, $"The message is not a relationship batch this build can apply: {outcome.Reason}"),
            _ => (StatusCodes.Status500InternalServerError,
                $"Batch {batch!.BatchId} part {batch.Part}/{batch.PartCount} is given up on and goes to the dead-letter queue: {outcome.Reason}"),
        };
        await WriteAsync(context, status, null, [log]);
    }

    /// <summary>
    /// Schedules the redelivery copy and answers 2xx, so the host completes the original; when the copy cannot be
    /// sent, 5xx, so the host abandons the original and Service Bus delivers it again at once.
    /// </summary>
    private static async Task<(int Status, string Log)> RedeliverAsync(IServiceProvider services, byte[] json, string originalMessageId,
        BatchOutcome outcome, ILogger logger, CancellationToken cancellationToken)
    {
        var batch = outcome.Batch!;
        var redelivery = outcome.Redelivery!;
        try
        {
            await services.GetRequiredService<IBatchRedeliveryScheduler>().ScheduleAsync(json, originalMessageId, redelivery, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            ApiLog.RedeliveryNotScheduled(logger, batch.BatchId, batch.Part, ex);
            return (StatusCodes.Status500InternalServerError,
                $"Batch {batch.BatchId} part {batch.Part}/{batch.PartCount} was not applied ({outcome.Reason}) and its redelivery could not be scheduled: the host redelivers it");
        }

        return (StatusCodes.Status200OK, string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"Batch {batch.BatchId} part {batch.Part}/{batch.PartCount} was not applied ({outcome.Reason}); redelivery {redelivery.Next.Generation} scheduled in {redelivery.Delay.TotalSeconds:0.###} s"));
    }

    /// <summary>
    /// Parses the invocation body; null (and the refusal written) when it is not JSON or over <paramref name="maxBytes"/>.
    /// A trigger's payload is as large as the message the host received (the entity's limit, not the server's default
    /// request limit), so it passes no limit.
    /// </summary>
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
            await WriteAsync(context, StatusCodes.Status413PayloadTooLarge, null, [$"The invocation payload is larger than {maxBytes} bytes."]);
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
