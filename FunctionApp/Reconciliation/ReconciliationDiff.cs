using System.Globalization;
using FunctionApp.Core;
using FunctionApp.Protocols;

namespace FunctionApp.Reconciliation;

/// <summary>The corrective events for one user, and how many of each.</summary>
public sealed record ReconciliationPlan(RelationshipBatch? Batch, int Added, int Removed, int Updated);

/// <summary>
/// Platform lists against the store's present edges, as corrective events (command <c>reconcile</c>). Pure.
/// <list type="bullet">
/// <item>An edge the platform lists and the store lacks becomes <c>added</c>, with the API's facts as attributes.</item>
/// <item>An edge the store has and the platform lacks becomes <c>removed</c>, but only when both lists were read
/// completely: a failed or partial read never removes.</item>
/// <item>A friend whose remark differs becomes <c>updated</c> with the platform's remark.</item>
/// </list>
/// The events' time is the moment the platform read began, cut to the whole second (Tencent's callbacks carry whole
/// seconds), with the exact moment as receive time: a callback for a change after the read began ranks above the
/// repair, whatever order they are applied in, and an older one below it. Ids are deterministic per user and read.
/// </summary>
public static class ReconciliationDiff
{
    public const string Command = "reconcile";
    public const string RemarkAttribute = "remark";

    public static ReconciliationPlan Plan(
        string platform,
        string appId,
        string userId,
        DateTimeOffset readStartedAt,
        PlatformSnapshot snapshot,
        IReadOnlyList<EdgeView> storedFriends,
        IReadOnlyList<EdgeView> storedBlocklist)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(storedFriends);
        ArgumentNullException.ThrowIfNull(storedBlocklist);
        var mayRemove = snapshot.IsComplete;
        var changes = new List<(RelationshipKind Kind, RelationshipAction Action, string Peer, IReadOnlyDictionary<string, string> Attributes)>();
        Compare(RelationshipKind.Friend, snapshot.Friends, storedFriends, mayRemove, compareRemark: true, changes);
        Compare(RelationshipKind.Block, snapshot.Blocklist, storedBlocklist, mayRemove, compareRemark: false, changes);
        if (changes.Count == 0)
        {
            return new ReconciliationPlan(null, 0, 0, 0);
        }

        // A canonical order, so the same differences always get the same ids.
        changes.Sort((a, b) => (a.Kind, a.Action).CompareTo((b.Kind, b.Action)) is var byKind and not 0
            ? byKind
            : string.CompareOrdinal(a.Peer, b.Peer));
        var occurredAt = WholeSecond(readStartedAt);
        var ids = new EventIds(platform, appId, Command,
            "user:" + userId + "|read:" + readStartedAt.UtcTicks.ToString(CultureInfo.InvariantCulture), [], readStartedAt);
        var events = changes
            .Select((c, index) => new RelationshipEvent(ids.EventId(index), c.Kind, c.Action, userId, c.Peer, occurredAt, c.Attributes))
            .ToList();
        var source = new CallbackSource(platform, appId, Command, null, null, occurredAt, readStartedAt, null);
        var batch = new RelationshipBatch(RelationshipBatch.CurrentSchemaVersion, ids.BatchId(), 1, 1, source, events);
        return new ReconciliationPlan(batch,
            events.Count(e => e.Action == RelationshipAction.Added),
            events.Count(e => e.Action == RelationshipAction.Removed),
            events.Count(e => e.Action == RelationshipAction.Updated));
    }

    /// <summary>The read's start cut to the whole second (UTC), the time the corrective events carry.</summary>
    public static DateTimeOffset WholeSecond(DateTimeOffset time) =>
        new(time.UtcTicks - (time.UtcTicks % TimeSpan.TicksPerSecond), TimeSpan.Zero);

    private static void Compare(
        RelationshipKind kind,
        PlatformList platform,
        IReadOnlyList<EdgeView> stored,
        bool mayRemove,
        bool compareRemark,
        List<(RelationshipKind, RelationshipAction, string, IReadOnlyDictionary<string, string>)> changes)
    {
        var storedByPeer = new Dictionary<string, EdgeView>(StringComparer.Ordinal);
        foreach (var edge in stored)
        {
            storedByPeer.TryAdd(edge.UserId, edge);
        }

        var listed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var edge in platform.Edges)
        {
            if (!listed.Add(edge.Peer))
            {
                continue;
            }

            if (!storedByPeer.TryGetValue(edge.Peer, out var present))
            {
                changes.Add((kind, RelationshipAction.Added, edge.Peer, edge.Attributes));
            }
            else if (compareRemark && RemarkDiffers(edge.Attributes, present.Attributes, out var remark))
            {
                changes.Add((kind, RelationshipAction.Updated, edge.Peer, new Dictionary<string, string> { [RemarkAttribute] = remark }));
            }
        }

        if (!mayRemove)
        {
            return;
        }

        foreach (var peer in storedByPeer.Keys.Where(peer => !listed.Contains(peer)))
        {
            changes.Add((kind, RelationshipAction.Removed, peer, new Dictionary<string, string>()));
        }
    }

    /// <summary>An empty remark and none are the same: Tencent's add callbacks carry no remark at all.</summary>
    private static bool RemarkDiffers(IReadOnlyDictionary<string, string> platform, IReadOnlyDictionary<string, string> stored, out string remark)
    {
        remark = platform.GetValueOrDefault(RemarkAttribute) ?? "";
        return !string.Equals(remark, stored.GetValueOrDefault(RemarkAttribute) ?? "", StringComparison.Ordinal);
    }
}
