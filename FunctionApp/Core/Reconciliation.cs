namespace FunctionApp.Core;

/// <summary>One entry of a user's friend list or blocklist as the platform's admin API lists it.</summary>
/// <param name="Peer">The other user.</param>
/// <param name="Attributes">The facts the API gives (Tencent AddTime, Remark, AddSource, group; OpenIM remark, addSource, createTime), by camelCase name.</param>
public sealed record PlatformEdge(string Peer, IReadOnlyDictionary<string, string> Attributes);

/// <summary>One list as read; <see cref="Complete"/> only when every page was read successfully.</summary>
public sealed record PlatformList(IReadOnlyList<PlatformEdge> Edges, bool Complete)
{
    public static PlatformList Empty { get; } = new([], false);
}

/// <summary>Why a user could not be reconciled (fully). Never a reason to remove an edge.</summary>
public enum ReconcileErrorKind
{
    /// <summary>The platform does not know the user.</summary>
    UnknownUser,
    /// <summary>The platform refused the admin credentials (UserSig, token).</summary>
    Unauthorized,
    /// <summary>The platform kept answering with its rate-limit code after the retries.</summary>
    RateLimited,
    /// <summary>Any other error code, an unreadable answer, or paging that does not advance.</summary>
    PlatformError,
    /// <summary>The platform did not answer in time.</summary>
    Timeout,
    /// <summary>The store could not be read or written.</summary>
    StoreError,
}

public sealed record ReconcileError(ReconcileErrorKind Kind, string Detail);

/// <summary>
/// A user's friend list and blocklist as read from the platform. <see cref="Error"/> is set when a read failed;
/// what was read before the failure is kept (its edges may still be added), but an incomplete list removes nothing.
/// </summary>
public sealed record PlatformSnapshot(PlatformList Friends, PlatformList Blocklist, int PagesRead, ReconcileError? Error)
{
    public bool IsComplete => Error is null && Friends.Complete && Blocklist.Complete;
}

/// <summary>Reads one app's user lists through the platform's admin REST API.</summary>
public interface IPlatformRelationshipReader
{
    /// <summary>"tencent" or "openim": the platform the corrective events are stored under.</summary>
    string Platform { get; }

    /// <summary>Every page of both lists; failures are reported in the snapshot, cancellation throws.</summary>
    Task<PlatformSnapshot> ReadAsync(string userId, CancellationToken cancellationToken);
}

/// <summary>The apps configured for reconciliation and their readers.</summary>
public interface IPlatformReaders
{
    IReadOnlyList<string> AppIds { get; }

    /// <summary>Null when <paramref name="appId"/> is not configured for reconciliation.</summary>
    IPlatformRelationshipReader? For(string appId);
}

/// <summary>What reconciling one user came to.</summary>
/// <param name="Outcome">"unchanged" (nothing written), "repaired" or "failed" (see <see cref="Error"/>; what could be added safely was still added).</param>
/// <param name="PagesRead">Platform pages read, both lists together.</param>
public sealed record ReconcileReport(
    string AppId,
    string UserId,
    string Outcome,
    int Added,
    int Removed,
    int Updated,
    int PagesRead,
    DateTimeOffset ReadStartedAt,
    ReconcileError? Error);

/// <summary>A slice of the users the store knows in one app, in key order.</summary>
/// <param name="Next">Where the next slice starts; null when the slice reached the end of the app's users.</param>
public sealed record KnownUsersSlice(IReadOnlyList<string> UserIds, string? Next);

/// <summary>Walks the users the store knows (owners and peers of any edge) of one app, in slices.</summary>
public interface IKnownUsers
{
    /// <param name="after">A <see cref="KnownUsersSlice.Next"/> value, or null to start at the first user.</param>
    Task<KnownUsersSlice> ListAsync(string appId, string? after, int max, CancellationToken cancellationToken);
}

/// <summary>Where the scheduled walk of each app stands, kept between runs and restarts.</summary>
public interface IReconcileCursors
{
    Task<string?> GetAsync(string appId, CancellationToken cancellationToken);

    /// <param name="cursor">Null: the walk finished, the next run starts again at the first user.</param>
    Task SetAsync(string appId, string? cursor, CancellationToken cancellationToken);
}
