namespace FunctionApp.Core;

/// <summary>Applies queued batches to the store: idempotent and order-safe (see README "Table layout").</summary>
public interface IRelationshipBatchApplier
{
    Task ApplyAsync(RelationshipBatch batch, CancellationToken cancellationToken);
}

/// <summary>The four views of current edges a user has.</summary>
public enum EdgeListKind
{
    /// <summary>Users in my friend list.</summary>
    Friends,
    /// <summary>Users in my blocklist.</summary>
    Blocklist,
    /// <summary>Users who have me in their friend list.</summary>
    FriendOf,
    /// <summary>Users who have me in their blocklist.</summary>
    BlockedBy,
}

/// <summary>One current edge seen from <c>userId</c>; <see cref="UserId"/> is the other user.</summary>
/// <param name="Since">When the edge's current added state began (version time of the event that added it).</param>
/// <param name="LastChangedAt">Version time of the latest event applied to the edge.</param>
/// <param name="Attributes">Per-edge facts from the platform (initiator, admin, forced flag, remark, ...).</param>
public sealed record EdgeView(
    string UserId,
    DateTimeOffset Since,
    DateTimeOffset LastChangedAt,
    string Platform,
    string Command,
    IReadOnlyDictionary<string, string> Attributes);

/// <summary>One history row: an event as it was applied.</summary>
public sealed record HistoryEntry(
    string EventId,
    RelationshipKind Kind,
    RelationshipAction Action,
    string Owner,
    string Peer,
    DateTimeOffset OccurredAt,
    DateTimeOffset ReceivedAt,
    string Platform,
    string Command,
    string? ClientIp,
    string? OptPlatform,
    string? OperationId,
    IReadOnlyDictionary<string, string> Attributes);

/// <summary>Which history rows to read. Null members do not filter.</summary>
public sealed record HistoryFilter(string? Peer, RelationshipKind? Kind);

/// <summary>A page of results; <see cref="Continuation"/> is opaque and null on the last page.</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, string? Continuation);

/// <summary>Reads the store. Continuation tokens are opaque to callers; a malformed one throws <see cref="ArgumentException"/>.</summary>
public interface IRelationshipQueries
{
    Task<Page<EdgeView>> ListEdgesAsync(string appId, string userId, EdgeListKind list, int top, string? continuation, CancellationToken cancellationToken);

    /// <summary>History of <paramref name="userId"/> as owner or peer, newest first.</summary>
    Task<Page<HistoryEntry>> ListHistoryAsync(string appId, string userId, HistoryFilter filter, int top, string? continuation, CancellationToken cancellationToken);
}
