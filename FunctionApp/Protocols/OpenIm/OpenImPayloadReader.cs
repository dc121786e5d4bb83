using System.Text.Json;

namespace FunctionApp.Protocols.OpenIm;

/// <summary>Reads the typed payloads from a parsed body; throws <see cref="CallbackRejectedException"/> with the field's name.</summary>
internal static class OpenImPayloadReader
{
    public static OpenImAfterAddFriend ReadAfterAddFriend(JsonElement root, CallbackLimits limits) => new(
        JsonPayload.RequiredUserId(root, "fromUserID", "fromUserID", limits),
        JsonPayload.RequiredUserId(root, "toUserID", "toUserID", limits),
        JsonPayload.OptionalText(root, "reqMsg", "reqMsg", limits));

    public static OpenImAfterAddFriendAgree ReadAfterAddFriendAgree(JsonElement root, CallbackLimits limits)
    {
        var from = JsonPayload.RequiredUserId(root, "fromUserID", "fromUserID", limits);
        var responder = Either(
            JsonPayload.OptionalUserId(root, "blackUserID", "blackUserID", limits),
            JsonPayload.OptionalUserId(root, "toUserID", "toUserID", limits),
            "blackUserID", "toUserID")
            ?? throw new CallbackRejectedException(CallbackProblemKind.MissingField, "blackUserID (older servers: toUserID) is missing.");
        var handleResult = Either(
            JsonPayload.OptionalInteger(root, "HandleResult", "HandleResult"),
            JsonPayload.OptionalInteger(root, "handleResult", "handleResult"),
            "HandleResult", "handleResult");
        var handleMsg = Either(
            JsonPayload.OptionalText(root, "HandleMsg", "HandleMsg", limits),
            JsonPayload.OptionalText(root, "handleMsg", "handleMsg", limits),
            "HandleMsg", "handleMsg");
        return new OpenImAfterAddFriendAgree(from, responder, handleResult, handleMsg);
    }

    public static OpenImAfterImportFriends ReadAfterImportFriends(JsonElement root, CallbackLimits limits)
    {
        var owner = JsonPayload.RequiredUserId(root, "ownerUserID", "ownerUserID", limits);
        var friends = JsonPayload.RequiredArray(root, "friendUserIDs", "friendUserIDs", limits.MaxPairs)
            .EnumerateArray()
            .Select((friend, i) => JsonPayload.UserId(friend, $"friendUserIDs[{i}]", limits))
            .ToList();
        return new OpenImAfterImportFriends(owner, friends);
    }

    public static OpenImOwnerFriend ReadOwnerFriend(JsonElement root, CallbackLimits limits, bool withRemark) => new(
        JsonPayload.RequiredUserId(root, "ownerUserID", "ownerUserID", limits),
        JsonPayload.RequiredUserId(root, "friendUserID", "friendUserID", limits),
        withRemark ? JsonPayload.OptionalText(root, "remark", "remark", limits) : null);

    public static OpenImOwnerBlack ReadOwnerBlack(JsonElement root, CallbackLimits limits) => new(
        JsonPayload.RequiredUserId(root, "ownerUserID", "ownerUserID", limits),
        JsonPayload.RequiredUserId(root, "blackUserID", "blackUserID", limits));

    /// <summary>OpenIM releases spell some fields two ways; either may come, and if both come they must agree.</summary>
    private static T? Either<T>(T? first, T? second, string firstName, string secondName)
    {
        if (first is not null && second is not null && !EqualityComparer<T>.Default.Equals(first, second))
        {
            throw new CallbackRejectedException(CallbackProblemKind.InvalidValue,
                $"{firstName} and {secondName} are both present and differ; send one of them.");
        }

        return first ?? second;
    }
}
