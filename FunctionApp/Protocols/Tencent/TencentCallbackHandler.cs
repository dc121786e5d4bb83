using System.Globalization;
using System.Text.Json;
using FunctionApp.Core;

namespace FunctionApp.Protocols.Tencent;

/// <summary>
/// Tencent Cloud Chat relationship callbacks: checks the app and signature, reads the payload and turns it into
/// events. Each pair of an after-callback is one directed edge (owner From_Account, peer To_Account); the
/// before-callbacks become friend-request history only and are answered so that the operation proceeds.
/// </summary>
internal sealed class TencentCallbackHandler(TencentOptions options, CallbackLimits limits)
{
    public const string Platform = "tencent";

    private static readonly CallbackAnswer EnqueueFailedAnswer = TencentAnswers.Fail(503, "The callback could not be queued; please retry.");

    /// <summary>What the URL says, once checked: the app, its signature and the source time Tencent claims.</summary>
    internal sealed record CheckedUrl(string AppId, string? Sign, string? RequestTimeText, DateTimeOffset? RequestTime);

    /// <summary>
    /// Checks everything the URL carries (served SdkAppid, Sign and RequestTime, path, contenttype) without the body,
    /// so hosts can refuse before reading it; throws <see cref="CallbackRejectedException"/> on bad input.
    /// </summary>
    public CheckedUrl CheckUrl(InboundCallback callback)
    {
        var query = callback.Query;
        var appId = Lookup.FindNonBlank(query, TencentQueryNames.SdkAppId)
            ?? throw new CallbackRejectedException(CallbackProblemKind.MissingAppId, "The SdkAppid query parameter is missing.");
        if (!options.Apps.TryGetValue(appId, out var token))
        {
            throw new CallbackRejectedException(CallbackProblemKind.Forbidden, $"SdkAppid {appId} is not served here.");
        }

        var sign = Lookup.FindNonBlank(query, TencentQueryNames.Sign);
        var requestTimeText = Lookup.FindNonBlank(query, TencentQueryNames.RequestTime);
        var maxSkew = TimeSpan.FromSeconds(options.MaxClockSkewSeconds);
        if (!string.IsNullOrEmpty(token))
        {
            var check = TencentSignature.Verify(token, sign, requestTimeText, callback.ReceivedAt, maxSkew);
            if (!check.IsValid)
            {
                throw new CallbackRejectedException(CallbackProblemKind.Unauthenticated, check.Failure!);
            }
        }

        var requestTime = NotAhead(ParseRequestTime(requestTimeText), "RequestTime", callback.ReceivedAt, maxSkew);
        if (callback.RestPath.Trim('/').Length > 0)
        {
            throw new CallbackRejectedException(CallbackProblemKind.NotFound,
                "Tencent callbacks are posted to /api/callbacks/tencent with no further path.");
        }

        var contentType = Lookup.FindNonBlank(query, TencentQueryNames.ContentType);
        if (contentType is not null && !string.Equals(contentType, "json", StringComparison.OrdinalIgnoreCase))
        {
            throw new CallbackRejectedException(CallbackProblemKind.InvalidValue, $"contenttype is '{contentType}'; only json is supported.");
        }

        return new CheckedUrl(appId, sign, requestTimeText, requestTime);
    }

    /// <summary>Returns the normalized callback, or an ignored one; throws <see cref="CallbackRejectedException"/> on bad input.</summary>
    public HandledCallback Handle(InboundCallback callback)
    {
        var query = callback.Query;
        var (appId, sign, requestTimeText, requestTime) = CheckUrl(callback);
        var maxSkew = TimeSpan.FromSeconds(options.MaxClockSkewSeconds);

        if (callback.Body.Length > limits.MaxBodyBytes)
        {
            throw new CallbackRejectedException(CallbackProblemKind.TooLarge,
                $"The body is over the limit of {limits.MaxBodyBytes} bytes.");
        }

        using var document = JsonPayload.ParseObject(callback.Body);
        var root = document.RootElement;
        var command = ResolveCommand(Lookup.FindNonBlank(query, TencentQueryNames.CallbackCommand),
            JsonPayload.OptionalString(root, "CallbackCommand", "CallbackCommand"));
        var known = TencentCommands.All.FirstOrDefault(c => string.Equals(c, command, StringComparison.OrdinalIgnoreCase));
        if (known is null)
        {
            return new IgnoredCallback(Platform, appId, command, $"{command} is not a relationship callback this app handles.", TencentAnswers.Ok());
        }

        var (events, eventTime, answer) = Read(known, root);
        var sourceTime = eventTime is { } ms ? NotAhead(FromUnixMilliseconds(ms, "EventTime"), "EventTime", callback.ReceivedAt, maxSkew) : requestTime;
        return new NormalizedCallback(
            Platform,
            appId,
            known,
            Lookup.FindNonBlank(query, TencentQueryNames.ClientIp),
            Lookup.FindNonBlank(query, TencentQueryNames.OptPlatform),
            sourceTime,
            OperationId: null,
            DeliveryKey: sign is null && requestTimeText is null ? null : $"sign={sign};requestTime={requestTimeText}",
            events,
            answer,
            EnqueueFailedAnswer);
    }

    private (IReadOnlyList<EventDraft> Events, long? EventTime, CallbackAnswer Answer) Read(string command, JsonElement root)
    {
        switch (command)
        {
            case TencentCommands.FriendAdd:
                {
                    var payload = TencentPayloadReader.ReadFriendAdd(root, limits);
                    var events = payload.PairList.Select(pair => new EventDraft(
                        RelationshipKind.Friend, RelationshipAction.Added, pair.FromAccount, pair.ToAccount,
                        new AttributeBuilder()
                            .Add("initiator", pair.InitiatorAccount)
                            .Add("clientCmd", payload.ClientCmd)
                            .Add("adminAccount", payload.AdminAccount)
                            .Add("forceFlag", payload.ForceFlag)
                            .Build())).ToList();
                    return (events, null, TencentAnswers.Ok());
                }

            case TencentCommands.FriendDelete:
                return (Pairs(root, RelationshipKind.Friend, RelationshipAction.Removed), null, TencentAnswers.Ok());
            case TencentCommands.BlackListAdd:
                return (Pairs(root, RelationshipKind.Block, RelationshipAction.Added), null, TencentAnswers.Ok());
            case TencentCommands.BlackListDelete:
                return (Pairs(root, RelationshipKind.Block, RelationshipAction.Removed), null, TencentAnswers.Ok());

            case TencentCommands.PrevFriendAdd:
                {
                    var payload = TencentPayloadReader.ReadPrevFriendAdd(root, limits);
                    var events = payload.FriendItem.Select(item => new EventDraft(
                        RelationshipKind.FriendRequest, RelationshipAction.Requested, payload.FromAccount, item.ToAccount,
                        new AttributeBuilder()
                            .Add("requester", payload.RequesterAccount)
                            .Add("remark", item.Remark)
                            .Add("groupName", item.GroupName)
                            .Add("addSource", item.AddSource)
                            .Add("addWording", item.AddWording)
                            .Add("addType", payload.AddType)
                            .Add("forceAddFlags", payload.ForceAddFlags)
                            .Build())).ToList();
                    return (events, payload.EventTime, TencentAnswers.OkProceed(payload.FriendItem.Select(i => i.ToAccount)));
                }

            case TencentCommands.PrevFriendResponse:
                {
                    var payload = TencentPayloadReader.ReadPrevFriendResponse(root, limits);
                    var events = payload.ResponseFriendItem.Select(item => new EventDraft(
                        RelationshipKind.FriendRequest, RelationshipAction.Responded, payload.FromAccount, item.ToAccount,
                        new AttributeBuilder()
                            .Add("requester", payload.RequesterAccount)
                            .Add("responseAction", item.ResponseAction)
                            .Add("remark", item.Remark)
                            .Add("tagName", item.TagName)
                            .Build())).ToList();
                    return (events, payload.EventTime, TencentAnswers.OkProceed(payload.ResponseFriendItem.Select(i => i.ToAccount)));
                }

            default:
                throw new InvalidOperationException($"No reader for {command}.");
        }
    }

    private List<EventDraft> Pairs(JsonElement root, RelationshipKind kind, RelationshipAction action) =>
        TencentPayloadReader.ReadPairList(root, limits).PairList
            .Select(pair => new EventDraft(kind, action, pair.FromAccount, pair.ToAccount, new AttributeBuilder().Build()))
            .ToList();

    /// <summary>The query names the command (Tencent documents it there); a body that says otherwise is refused.</summary>
    private static string ResolveCommand(string? fromQuery, string? fromBody)
    {
        if (fromQuery is not null && !string.IsNullOrWhiteSpace(fromBody) && !string.Equals(fromQuery, fromBody, StringComparison.OrdinalIgnoreCase))
        {
            throw new CallbackRejectedException(CallbackProblemKind.CommandMismatch,
                $"The CallbackCommand query parameter ({fromQuery}) and the body's CallbackCommand ({fromBody}) differ.");
        }

        return fromQuery ?? (string.IsNullOrWhiteSpace(fromBody)
            ? throw new CallbackRejectedException(CallbackProblemKind.CommandMismatch, "No CallbackCommand in the query or the body.")
            : fromBody);
    }

    private static DateTimeOffset? ParseRequestTime(string? text)
    {
        if (text is null)
        {
            return null;
        }

        if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            || seconds > DateTimeOffset.MaxValue.ToUnixTimeSeconds())
        {
            throw new CallbackRejectedException(CallbackProblemKind.InvalidValue, "RequestTime must be Unix seconds.");
        }

        return DateTimeOffset.FromUnixTimeSeconds(seconds);
    }

    /// <summary>
    /// The source time orders an edge's events, so a time in the future would beat every later event and freeze the
    /// edge: one more than the allowed skew ahead of the receive time is refused, whether or not the callback is signed.
    /// </summary>
    private static DateTimeOffset? NotAhead(DateTimeOffset? time, string field, DateTimeOffset receivedAt, TimeSpan maxSkew)
    {
        if (time is { } value && value - receivedAt > maxSkew)
        {
            throw new CallbackRejectedException(CallbackProblemKind.InvalidValue, string.Create(CultureInfo.InvariantCulture,
                $"{field} is {(long)(value - receivedAt).TotalSeconds} s ahead of the receive time; at most {(long)maxSkew.TotalSeconds} s is accepted."));
        }

        return time;
    }

    private static DateTimeOffset FromUnixMilliseconds(long milliseconds, string field) =>
        milliseconds >= 0 && milliseconds <= DateTimeOffset.MaxValue.ToUnixTimeMilliseconds()
            ? DateTimeOffset.FromUnixTimeMilliseconds(milliseconds)
            : throw new CallbackRejectedException(CallbackProblemKind.InvalidValue, $"{field} must be Unix milliseconds.");
}
