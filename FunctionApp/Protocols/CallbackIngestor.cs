using FunctionApp.Core;
using FunctionApp.Protocols.OpenIm;
using FunctionApp.Protocols.Tencent;

namespace FunctionApp.Protocols;

/// <summary>
/// Raw callback in, answer and normalized batches out, for every platform. Pure: no I/O, and "now" is the
/// callback's receive time. Bad input always becomes a 4xx answer in the platform's format, never an exception.
/// </summary>
public sealed class CallbackIngestor : ICallbackIngestor
{
    private readonly Func<int> _maxBatchJsonBytes;
    private readonly TencentCallbackHandler _tencent;
    private readonly OpenImCallbackHandler _openIm;

    /// <summary>Cuts batches to <see cref="CallbackLimits.MaxMessageBytes"/> (tools and tests without a queue).</summary>
    public CallbackIngestor(ProtocolOptions options)
        : this(options, () => options.Limits.MaxMessageBytes)
    {
    }

    /// <summary>Cuts batches to what one message of <paramref name="queue"/> holds (<see cref="IRelationshipEventQueue.MaxBatchJsonBytes"/>), read per callback.</summary>
    public CallbackIngestor(ProtocolOptions options, IRelationshipEventQueue queue)
        : this(options, () => queue.MaxBatchJsonBytes)
    {
        ArgumentNullException.ThrowIfNull(queue);
    }

    private CallbackIngestor(ProtocolOptions options, Func<int> maxBatchJsonBytes)
    {
        ArgumentNullException.ThrowIfNull(options);
        _maxBatchJsonBytes = maxBatchJsonBytes;
        _tencent = new TencentCallbackHandler(options.Tencent, options.Limits);
        _openIm = new OpenImCallbackHandler(options.OpenIm, options.Limits);
    }

    public IngestResult Ingest(InboundCallback callback)
    {
        ArgumentNullException.ThrowIfNull(callback);
        var platform = callback.Platform.Trim().ToLowerInvariant();
        switch (platform)
        {
            case TencentCallbackHandler.Platform:
                return Run(platform, callback, _tencent.Handle);
            case OpenImCallbackHandler.Platform:
                return Run(platform, callback, _openIm.Handle);
            default:
                return UnknownPlatform(callback);
        }
    }

    public IngestResult? RefuseBeforeBody(InboundCallback callback)
    {
        ArgumentNullException.ThrowIfNull(callback);
        var platform = callback.Platform.Trim().ToLowerInvariant();
        try
        {
            switch (platform)
            {
                case TencentCallbackHandler.Platform:
                    _tencent.CheckUrl(callback);
                    return null;
                case OpenImCallbackHandler.Platform:
                    _openIm.CommandFromUrl(callback);
                    return null;
                default:
                    return UnknownPlatform(callback);
            }
        }
        catch (CallbackRejectedException ex)
        {
            return Rejected(platform, ex);
        }
    }

    private static IngestResult UnknownPlatform(InboundCallback callback)
    {
        var notFound = ProblemDetailsAnswer.Create(404, "Unknown callback platform",
            $"No callback platform '{callback.Platform}': the routes are /api/callbacks/tencent and /api/callbacks/openim.");
        return new IngestResult(notFound, notFound, [], new IngestOutcome(callback.Platform, null, null, 0, "rejected", "unknown platform"));
    }

    /// <summary>A refusal in the platform's own format.</summary>
    private static IngestResult Rejected(string platform, CallbackRejectedException rejection)
    {
        var answer = platform == TencentCallbackHandler.Platform
            ? TencentAnswers.Fail(CallbackProblems.HttpStatus(rejection.Kind), rejection.Message)
            : OpenImAnswers.Error(rejection.Kind, rejection.Message, rejection.Kind.ToString());
        return new IngestResult(answer, answer, [], new IngestOutcome(platform, null, null, 0, "rejected", rejection.Message));
    }

    private IngestResult Run(
        string platform,
        InboundCallback callback,
        Func<InboundCallback, HandledCallback> handle)
    {
        try
        {
            switch (handle(callback))
            {
                case IgnoredCallback ignored:
                    return new IngestResult(ignored.Answer, ignored.Answer, [],
                        new IngestOutcome(platform, ignored.AppId, ignored.Command, 0, "ignored", ignored.Reason));
                case NormalizedCallback normalized:
                    var batches = Batch(normalized, callback);
                    return new IngestResult(
                        normalized.Answer,
                        batches.Count == 0 ? normalized.Answer : normalized.EnqueueFailedAnswer,
                        batches,
                        new IngestOutcome(platform, normalized.AppId, normalized.Command, normalized.Events.Count, "accepted", null));
                default:
                    throw new InvalidOperationException("Unexpected handler result.");
            }
        }
        catch (CallbackRejectedException ex)
        {
            return Rejected(platform, ex);
        }
    }

    private IReadOnlyList<RelationshipBatch> Batch(NormalizedCallback normalized, InboundCallback callback)
    {
        var ids = new EventIds(normalized.Platform, normalized.AppId, normalized.Command, normalized.DeliveryKey, callback.Body.Span, callback.ReceivedAt);
        var occurredAt = normalized.SourceTime ?? callback.ReceivedAt;
        var source = new CallbackSource(normalized.Platform, normalized.AppId, normalized.Command, normalized.ClientIp,
            normalized.OptPlatform, normalized.SourceTime, callback.ReceivedAt, normalized.OperationId);
        var events = normalized.Events
            .Select((draft, index) => new RelationshipEvent(ids.EventId(index), draft.Kind, draft.Action, draft.Owner, draft.Peer, occurredAt, draft.Attributes))
            .ToList();
        return BatchSplitter.Split(ids.BatchId(), source, events, _maxBatchJsonBytes());
    }
}
