using System.Text.Json;

namespace FunctionApp.Protocols.Tencent;

/// <summary>Reads the typed payloads from a parsed body; throws <see cref="CallbackRejectedException"/> with the field's path.</summary>
internal static class TencentPayloadReader
{
    public static TencentFriendAddCallback ReadFriendAdd(JsonElement root, CallbackLimits limits)
    {
        var pairs = JsonPayload.RequiredObjectArray(root, "PairList", "PairList", limits.MaxPairs)
            .Select((pair, i) => new TencentFriendAddPair(
                JsonPayload.RequiredUserId(pair, "From_Account", $"PairList[{i}].From_Account", limits),
                JsonPayload.RequiredUserId(pair, "To_Account", $"PairList[{i}].To_Account", limits),
                InitiatorOf(pair, $"PairList[{i}].Initiator_Account", limits)))
            .ToList();
        return new TencentFriendAddCallback(
            pairs,
            JsonPayload.OptionalText(root, "ClientCmd", "ClientCmd", limits),
            AdminOf(root, limits),
            JsonPayload.OptionalInteger(root, "ForceFlag", "ForceFlag"));
    }

    public static TencentPairListCallback ReadPairList(JsonElement root, CallbackLimits limits) =>
        new(JsonPayload.RequiredObjectArray(root, "PairList", "PairList", limits.MaxPairs)
            .Select((pair, i) => new TencentAccountPair(
                JsonPayload.RequiredUserId(pair, "From_Account", $"PairList[{i}].From_Account", limits),
                JsonPayload.RequiredUserId(pair, "To_Account", $"PairList[{i}].To_Account", limits)))
            .ToList());

    public static TencentPrevFriendAddCallback ReadPrevFriendAdd(JsonElement root, CallbackLimits limits)
    {
        var from = JsonPayload.RequiredUserId(root, "From_Account", "From_Account", limits);
        var items = JsonPayload.RequiredObjectArray(root, "FriendItem", "FriendItem", limits.MaxPairs)
            .Select((item, i) => new TencentFriendItem(
                JsonPayload.RequiredUserId(item, "To_Account", $"FriendItem[{i}].To_Account", limits),
                JsonPayload.OptionalText(item, "Remark", $"FriendItem[{i}].Remark", limits),
                JsonPayload.OptionalText(item, "GroupName", $"FriendItem[{i}].GroupName", limits),
                JsonPayload.OptionalText(item, "AddSource", $"FriendItem[{i}].AddSource", limits),
                JsonPayload.OptionalText(item, "AddWording", $"FriendItem[{i}].AddWording", limits)))
            .ToList();
        return new TencentPrevFriendAddCallback(
            JsonPayload.OptionalUserId(root, "Requester_Account", "Requester_Account", limits),
            from,
            items,
            JsonPayload.OptionalText(root, "AddType", "AddType", limits),
            JsonPayload.OptionalInteger(root, "ForceAddFlags", "ForceAddFlags"),
            JsonPayload.OptionalInteger(root, "EventTime", "EventTime"));
    }

    public static TencentPrevFriendResponseCallback ReadPrevFriendResponse(JsonElement root, CallbackLimits limits)
    {
        var from = JsonPayload.RequiredUserId(root, "From_Account", "From_Account", limits);
        var items = JsonPayload.RequiredObjectArray(root, "ResponseFriendItem", "ResponseFriendItem", limits.MaxPairs)
            .Select((item, i) => new TencentResponseFriendItem(
                JsonPayload.RequiredUserId(item, "To_Account", $"ResponseFriendItem[{i}].To_Account", limits),
                JsonPayload.OptionalText(item, "Remark", $"ResponseFriendItem[{i}].Remark", limits),
                JsonPayload.OptionalText(item, "TagName", $"ResponseFriendItem[{i}].TagName", limits),
                JsonPayload.OptionalText(item, "ResponseAction", $"ResponseFriendItem[{i}].ResponseAction", limits)))
            .ToList();
        return new TencentPrevFriendResponseCallback(
            JsonPayload.OptionalUserId(root, "Requester_Account", "Requester_Account", limits),
            from,
            items,
            JsonPayload.OptionalInteger(root, "EventTime", "EventTime"));
    }

    // Initiator_Account and Admin_Account are user ids when set, but Tencent sends "" for "none".
    private static string? InitiatorOf(JsonElement pair, string path, CallbackLimits limits) =>
        EmptyOrUserId(pair, "Initiator_Account", path, limits);

    private static string? AdminOf(JsonElement root, CallbackLimits limits) =>
        EmptyOrUserId(root, "Admin_Account", "Admin_Account", limits);

    private static string? EmptyOrUserId(JsonElement owner, string name, string path, CallbackLimits limits)
    {
        var text = JsonPayload.OptionalString(owner, name, path);
        return string.IsNullOrEmpty(text) ? text : JsonPayload.UserId(owner.GetProperty(name), path, limits);
    }
}
