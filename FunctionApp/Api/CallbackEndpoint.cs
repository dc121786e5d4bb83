using System.Diagnostics;
using FunctionApp.Core;
using FunctionApp.Hosting;

namespace FunctionApp.Api;

/// <summary>
/// <c>POST /api/callbacks/{platform}/{**rest}</c>, served standalone and forwarded raw by the Functions host: ingest, put
/// the batches durably on the queue (Service Bus, or the standalone Storage queue), and only then answer in the
/// platform's format (or with the platform's failure answer when the queue refused them).
/// </summary>
internal static class CallbackEndpoint
{
    public static async Task HandleAsync(HttpContext context)
    {
        var started = Stopwatch.GetTimestamp();
        var services = context.RequestServices;
        var receivedAt = services.GetRequiredService<TimeProvider>().GetUtcNow();
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger(ApiLog.CallbacksCategory);

        if (!TryReadRoute(RawPath.Segments(context), out var platform, out var restPath))
        {
            await Problems.InvalidParameterAsync(context, "The callback path is not valid percent-encoded UTF-8.");
            return;
        }

        var ingestor = services.GetRequiredService<ICallbackIngestor>();
        var callback = new InboundCallback(
            platform,
            restPath,
            CallbackRequests.FirstValues(context.Request.Query),
            CallbackRequests.JoinedValues(context.Request.Headers),
            ReadOnlyMemory<byte>.Empty,
            receivedAt);

        // The signature or key is in the URL: refuse a caller without them before holding any of its body, and
        // close the connection rather than drain what it still sends.
        if (ingestor.RefuseBeforeBody(callback) is { } refused)
        {
            context.Response.Headers.Connection = "close";
            await AnswerAsync(context, logger, refused.Outcome, refused.Outcome.Outcome, refused.Outcome.Reason, refused.Answer, started);
            return;
        }

        var limit = services.GetRequiredService<CallbackBodyLimit>();
        var body = await CallbackRequests.ReadBoundedBodyAsync(context.Request, limit.ReadLimit, context.RequestAborted);
        callback = callback with { Body = body };

        IngestResult result;
        try
        {
            result = ingestor.Ingest(callback);
        }
        catch (Exception ex)
        {
            ApiLog.IngestorFailed(logger, platform, ex);
            await Problems.WriteAsync(context, StatusCodes.Status500InternalServerError, Problems.HttpError, "Callback not processed",
                "The callback could not be processed; nothing was recorded.");
            return;
        }

        var outcome = result.Outcome;
        var answer = result.Answer;
        string outcomeName = outcome.Outcome;
        var reason = outcome.Reason;
        if (CallbackRequests.ShouldQueue(result))
        {
            var queue = services.GetRequiredService<IRelationshipEventQueue>();
            try
            {
                await queue.EnqueueAsync(result.Batches, context.RequestAborted);
            }
            catch (Exception ex)
            {
                ApiLog.EnqueueFailed(logger, outcome.Platform, outcome.AppId, outcome.Command, ex);
                answer = result.EnqueueFailedAnswer;
                outcomeName = "enqueue-failed";
                reason = CallbackRequests.Describe(ex);
            }
        }

        await AnswerAsync(context, logger, outcome, outcomeName, reason, answer, started);
    }

    /// <summary>The one log line per callback, then the answer in the platform's format.</summary>
    private static Task AnswerAsync(HttpContext context, ILogger logger, IngestOutcome outcome, string outcomeName, string? reason,
        CallbackAnswer answer, long started)
    {
        ApiLog.Callback(logger, LevelOf(outcomeName), outcome.Platform, outcome.AppId, outcome.Command, outcome.EventCount,
            outcomeName, reason, (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds);

        context.Response.StatusCode = answer.StatusCode;
        context.Response.ContentType = answer.ContentType;
        return context.Response.WriteAsync(answer.Body, context.RequestAborted);
    }

    internal static LogLevel LevelOf(string outcome) =>
        outcome is "accepted" or "ignored" ? LogLevel.Information : LogLevel.Warning;

    /// <summary>Segments "api", "callbacks", platform, rest...: platform and rest decoded once each.</summary>
    private static bool TryReadRoute(string[] segments, out string platform, out string restPath)
    {
        restPath = string.Empty;
        if (segments.Length < 3 || !RawPath.TryDecodeSegment(segments[2], out platform))
        {
            platform = string.Empty;
            return false;
        }

        var rest = new string[segments.Length - 3];
        for (var i = 0; i < rest.Length; i++)
        {
            if (!RawPath.TryDecodeSegment(segments[i + 3], out rest[i]))
            {
                return false;
            }
        }

        restPath = string.Join('/', rest);
        return true;
    }
}
