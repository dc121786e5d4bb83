namespace FunctionApp.Core;

/// <summary>
/// A callback as received, whichever host received it (the Functions host's invocation payload or the standalone
/// server's own route). Hosts fill this in and stay thin; everything platform-specific happens in the ingestor.
/// </summary>
/// <param name="Platform">The route segment after <c>/api/callbacks/</c> ("tencent", "openim"), as sent.</param>
/// <param name="RestPath">The rest of the path after the platform segment, without leading slash, unescaped; "" when none.</param>
/// <param name="Query">Query parameters, first value per name, names as sent (look-ups are case-insensitive).</param>
/// <param name="Headers">Request headers, names case-insensitive, multiple values joined with ",".</param>
/// <param name="Body">The raw request body.</param>
/// <param name="ReceivedAt">When the host received the request.</param>
public sealed record InboundCallback(
    string Platform,
    string RestPath,
    IReadOnlyDictionary<string, string> Query,
    IReadOnlyDictionary<string, string> Headers,
    ReadOnlyMemory<byte> Body,
    DateTimeOffset ReceivedAt);

/// <summary>An HTTP answer in the platform's own format.</summary>
public sealed record CallbackAnswer(int StatusCode, string ContentType, string Body);

/// <summary>What one callback came to, for the one structured log line per callback. Never holds a secret.</summary>
/// <param name="Outcome">"accepted", "ignored" (unknown command: acknowledged, nothing queued) or "rejected".</param>
/// <param name="Reason">Why it was ignored or rejected; null when accepted.</param>
public sealed record IngestOutcome(
    string Platform,
    string? AppId,
    string? Command,
    int EventCount,
    string Outcome,
    string? Reason);

/// <summary>
/// The ingestor's verdict. The host must put every batch durably on the queue before it sends <see cref="Answer"/>;
/// when it cannot, it sends <see cref="EnqueueFailedAnswer"/> instead, so an acknowledgement is never false.
/// </summary>
public sealed record IngestResult(
    CallbackAnswer Answer,
    CallbackAnswer EnqueueFailedAnswer,
    IReadOnlyList<RelationshipBatch> Batches,
    IngestOutcome Outcome);

/// <summary>Raw callback in, answer and normalized batches out. Pure: no I/O.</summary>
public interface ICallbackIngestor
{
    IngestResult Ingest(InboundCallback callback);

    /// <summary>
    /// Checks what the URL alone carries (platform, app, signature, key, path) before a host reads the body, so an
    /// unauthenticated caller holds no body buffer. Null when the callback may go on; otherwise the refusal, exactly
    /// as <see cref="Ingest"/> would answer it. The callback's <see cref="InboundCallback.Body"/> is ignored.
    /// </summary>
    IngestResult? RefuseBeforeBody(InboundCallback callback);
}
