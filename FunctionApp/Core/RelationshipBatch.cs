using System.Text.Json.Serialization;

namespace FunctionApp.Core;

/// <summary>What the relationship is: a friend edge, a blocklist edge, or a friend request (history only, no edge).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<RelationshipKind>))]
public enum RelationshipKind
{
    [JsonStringEnumMemberName("friend")] Friend,
    [JsonStringEnumMemberName("block")] Block,
    [JsonStringEnumMemberName("friend-request")] FriendRequest,
}

/// <summary>
/// What happened to the relationship. <see cref="Added"/> and <see cref="Removed"/> change an edge's state;
/// <see cref="Updated"/> changes an existing edge's facts (a remark) without changing its state;
/// <see cref="Requested"/> and <see cref="Responded"/> belong to friend requests and only enter history.
/// </summary>
[JsonConverter(typeof(JsonStringEnumConverter<RelationshipAction>))]
public enum RelationshipAction
{
    [JsonStringEnumMemberName("added")] Added,
    [JsonStringEnumMemberName("removed")] Removed,
    [JsonStringEnumMemberName("updated")] Updated,
    [JsonStringEnumMemberName("requested")] Requested,
    [JsonStringEnumMemberName("responded")] Responded,
}

/// <summary>The facts of the callback delivery that every event of a batch shares.</summary>
/// <param name="Platform">"tencent" or "openim".</param>
/// <param name="AppId">Tencent SdkAppid or the configured OpenIM app id.</param>
/// <param name="Command">The platform's callback command, as sent.</param>
/// <param name="ClientIp">Tencent's ClientIP query parameter, when sent.</param>
/// <param name="OptPlatform">Tencent's OptPlatform query parameter (client platform), when sent.</param>
/// <param name="SourceTime">A time the platform stated (Tencent EventTime or RequestTime), when sent.</param>
/// <param name="ReceivedAt">When this app received the callback.</param>
/// <param name="OperationId">OpenIM's operationID header, when sent.</param>
public sealed record CallbackSource(
    string Platform,
    string AppId,
    string Command,
    string? ClientIp,
    string? OptPlatform,
    DateTimeOffset? SourceTime,
    DateTimeOffset ReceivedAt,
    string? OperationId);

/// <summary>
/// One normalized relationship event: <paramref name="Peer"/> in <paramref name="Owner"/>'s list of <paramref name="Kind"/>.
/// </summary>
/// <param name="EventId">Deterministic: the same delivery always yields the same id, so redeliveries are recognised.</param>
/// <param name="OccurredAt">The source time where the platform sends one, else the receive time.</param>
/// <param name="Attributes">The platform's extra facts for this event (initiator, remark, force flag, ...), by camelCase name.</param>
public sealed record RelationshipEvent(
    string EventId,
    RelationshipKind Kind,
    RelationshipAction Action,
    string Owner,
    string Peer,
    DateTimeOffset OccurredAt,
    IReadOnlyDictionary<string, string> Attributes);

/// <summary>
/// The queue message: the normalized events of one callback, or one part of them when the callback is too large
/// for a single message. Parts of one callback share <see cref="BatchId"/>.
/// </summary>
public sealed record RelationshipBatch(
    int SchemaVersion,
    string BatchId,
    int Part,
    int PartCount,
    CallbackSource Source,
    IReadOnlyList<RelationshipEvent> Events)
{
    /// <summary>The message schema this build writes and reads.</summary>
    public const int CurrentSchemaVersion = 1;
}
