using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using FunctionApp.Core;

namespace FunctionApp.Protocols.OpenIm;

/// <summary>
/// OpenIM relationship webhooks. The command comes from the URL (<c>.../&lt;command&gt;</c> since v3.4.2, or the
/// legacy <c>?command=</c>) and from the body's <c>callbackCommand</c>; when both are present they must agree, and a
/// mismatch is refused rather than guessed. With a callback key configured, the first path segment must be that key.
/// </summary>
internal sealed class OpenImCallbackHandler(OpenImOptions options, CallbackLimits limits)
{
    public const string Platform = "openim";

    public HandledCallback Handle(InboundCallback callback)
    {
        var urlCommand = CommandFromUrl(callback);
        if (callback.Body.Length > limits.MaxBodyBytes)
        {
            throw new CallbackRejectedException(CallbackProblemKind.TooLarge, $"The body is over the limit of {limits.MaxBodyBytes} bytes.");
        }

        using var document = JsonPayload.ParseObject(callback.Body);
        var root = document.RootElement;
        var bodyCommand = JsonPayload.OptionalString(root, "callbackCommand", "callbackCommand");
        if (string.IsNullOrWhiteSpace(bodyCommand))
        {
            bodyCommand = null;
        }

        if (urlCommand is not null && bodyCommand is not null && !string.Equals(urlCommand, bodyCommand, StringComparison.OrdinalIgnoreCase))
        {
            throw new CallbackRejectedException(CallbackProblemKind.CommandMismatch,
                $"The URL names {urlCommand} but the body's callbackCommand is {bodyCommand}.");
        }

        var command = urlCommand ?? bodyCommand
            ?? throw new CallbackRejectedException(CallbackProblemKind.CommandMismatch,
                "No command: expected .../<callbackCommand>, ?command=<callbackCommand> or the body's callbackCommand.");
        var known = OpenImCommands.All.FirstOrDefault(c => string.Equals(c, command, StringComparison.OrdinalIgnoreCase));
        if (known is null)
        {
            return new IgnoredCallback(Platform, options.AppId, command, $"{command} is not a relationship callback this app handles.", OpenImAnswers.Ok());
        }

        var operationId = Lookup.FindNonBlank(callback.Headers, OpenImCommands.OperationIdHeader);
        return new NormalizedCallback(
            Platform,
            options.AppId,
            known,
            ClientIp: null,
            OptPlatform: null,
            SourceTime: null,
            operationId,
            DeliveryKey: operationId,
            Read(known, root),
            OpenImAnswers.Ok(),
            OpenImAnswers.Error(CallbackProblemKind.Unavailable, "The callback could not be queued; please retry.", nameof(CallbackProblemKind.Unavailable)));
    }

    private List<EventDraft> Read(string command, JsonElement root)
    {
        var none = new AttributeBuilder().Build();
        switch (command)
        {
            case OpenImCommands.AfterAddFriend:
                {
                    var payload = OpenImPayloadReader.ReadAfterAddFriend(root, limits);
                    return [new(RelationshipKind.FriendRequest, RelationshipAction.Requested, payload.FromUserId, payload.ToUserId,
                    new AttributeBuilder().Add("reqMsg", payload.ReqMsg).Build())];
                }

            case OpenImCommands.AfterAddFriendAgree:
                {
                    // open-im-server sends this from RespondFriendApply only when the answer is "agree" (HandleResult 1),
                    // after AgreeFriendRequest has written the friendship in both directions. fromUserID is the user who
                    // sent the request; the responder travels in a field tagged blackUserID (toUserID in older servers).
                    var payload = OpenImPayloadReader.ReadAfterAddFriendAgree(root, limits);
                    var attributes = new AttributeBuilder()
                        .Add("handleResult", payload.HandleResult)
                        .Add("handleMsg", payload.HandleMsg)
                        .Build();
                    if (payload.HandleResult is null or 1)
                    {
                        return
                        [
                            new(RelationshipKind.Friend, RelationshipAction.Added, payload.FromUserId, payload.ResponderUserId, attributes),
                        new(RelationshipKind.Friend, RelationshipAction.Added, payload.ResponderUserId, payload.FromUserId, attributes),
                    ];
                    }

                    // Any other answer (a refusal) makes no friends: keep it as request history only.
                    return [new(RelationshipKind.FriendRequest, RelationshipAction.Responded, payload.ResponderUserId, payload.FromUserId, attributes)];
                }

            case OpenImCommands.AfterImportFriends:
                {
                    // ImportFriends calls BecomeFriends, which writes owner -> friend and friend -> owner for every id:
                    // an import makes friends both ways, so each imported id yields two edges.
                    var payload = OpenImPayloadReader.ReadAfterImportFriends(root, limits);
                    return payload.FriendUserIds
                        .SelectMany(friend => new EventDraft[]
                        {
                        new(RelationshipKind.Friend, RelationshipAction.Added, payload.OwnerUserId, friend, none),
                        new(RelationshipKind.Friend, RelationshipAction.Added, friend, payload.OwnerUserId, none),
                        })
                        .ToList();
                }

            case OpenImCommands.AfterDeleteFriend:
                {
                    // DeleteFriend removes only the owner's side; the other user keeps the owner in their list.
                    var payload = OpenImPayloadReader.ReadOwnerFriend(root, limits, withRemark: false);
                    return [new(RelationshipKind.Friend, RelationshipAction.Removed, payload.OwnerUserId, payload.FriendUserId, none)];
                }

            case OpenImCommands.BeforeAddBlack:
                {
                    // OpenIM has no after-add-black callback: this is the only sign of a block. The answer lets it go ahead.
                    var payload = OpenImPayloadReader.ReadOwnerBlack(root, limits);
                    return [new(RelationshipKind.Block, RelationshipAction.Added, payload.OwnerUserId, payload.BlackUserId, none)];
                }

            case OpenImCommands.AfterRemoveBlack:
                {
                    var payload = OpenImPayloadReader.ReadOwnerBlack(root, limits);
                    return [new(RelationshipKind.Block, RelationshipAction.Removed, payload.OwnerUserId, payload.BlackUserId, none)];
                }

            case OpenImCommands.AfterSetFriendRemark:
                {
                    var payload = OpenImPayloadReader.ReadOwnerFriend(root, limits, withRemark: true);
                    return [new(RelationshipKind.Friend, RelationshipAction.Updated, payload.OwnerUserId, payload.FriendUserId,
                    new AttributeBuilder().Add("remark", payload.Remark).Build())];
                }

            default:
                throw new InvalidOperationException($"No reader for {command}.");
        }
    }

    /// <summary>
    /// RestPath is <c>[&lt;key&gt;/][&lt;command&gt;]</c>; the legacy form puts the command in <c>?command=</c>.
    /// Returns the URL's command, or null when the URL names none. Needs no body, so hosts call it (through
    /// <see cref="CallbackIngestor.RefuseBeforeBody"/>) before reading one.
    /// </summary>
    public string? CommandFromUrl(InboundCallback callback)
    {
        var segments = callback.RestPath.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (!string.IsNullOrEmpty(options.CallbackKey))
        {
            if (segments.Length == 0)
            {
                throw new CallbackRejectedException(CallbackProblemKind.Unauthenticated,
                    "The callback key is missing: the callback URL is /api/callbacks/openim/<key>.");
            }

            if (!KeysEqual(segments[0], options.CallbackKey))
            {
                throw new CallbackRejectedException(CallbackProblemKind.Forbidden, "The callback key is wrong.");
            }

            segments = segments[1..];
        }

        if (segments.Length > 1)
        {
            throw new CallbackRejectedException(CallbackProblemKind.NotFound,
                string.IsNullOrEmpty(options.CallbackKey)
                    ? "Unexpected path: expected /api/callbacks/openim[/<callbackCommand>] (no callback key is configured)."
                    : "Unexpected path: expected /api/callbacks/openim/<key>[/<callbackCommand>].");
        }

        var pathCommand = segments.Length == 1 ? segments[0] : null;
        var queryCommand = Lookup.FindNonBlank(callback.Query, OpenImCommands.CommandQueryName);
        if (pathCommand is not null && queryCommand is not null && !string.Equals(pathCommand, queryCommand, StringComparison.OrdinalIgnoreCase))
        {
            throw new CallbackRejectedException(CallbackProblemKind.CommandMismatch,
                $"The path names {pathCommand} but ?command= names {queryCommand}.");
        }

        return pathCommand ?? queryCommand;
    }

    /// <summary>Compares hashes so that neither the content nor the length of the key leaks through timing.</summary>
    private static bool KeysEqual(string given, string expected) =>
        CryptographicOperations.FixedTimeEquals(
            SHA256.HashData(Encoding.UTF8.GetBytes(given)),
            SHA256.HashData(Encoding.UTF8.GetBytes(expected)));
}
