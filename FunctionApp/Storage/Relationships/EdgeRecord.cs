using System.Text.Json;
using Azure.Data.Tables;
using FunctionApp.Core;

namespace FunctionApp.Storage.Relationships;

/// <summary>An edge's state: <c>State</c> is <c>present</c>, or <c>absent</c> after a removal (a tombstone that keeps a late, older "added" out).</summary>
internal enum EdgeState
{
    Present,
    Absent,
}

/// <summary>One event's effect on one directed edge, at the version of the event's first receipt.</summary>
internal sealed record EdgeChange(
    string AppId,
    string Owner,
    string Peer,
    RelationshipKind Kind,
    RelationshipAction Action,
    string Version,
    string EventId,
    DateTimeOffset OccurredAt,
    string Platform,
    string Command,
    IReadOnlyDictionary<string, string> Attributes)
{
    /// <summary>The edge's row in its owner's partition of <c>RelationshipEdges</c>.</summary>
    public RowAddress OwnerRow => new(RelationshipKeys.UserPartition(AppId, Owner), RelationshipKeys.EdgeRow(Kind, Peer));

    /// <summary>The same edge's row in its peer's partition of <c>RelationshipEdgesByPeer</c>.</summary>
    public RowAddress MirrorRow => new(RelationshipKeys.UserPartition(AppId, Peer), RelationshipKeys.EdgeRow(Kind, Owner));
}

/// <summary>Where a row is in its table.</summary>
internal readonly record struct RowAddress(string PartitionKey, string RowKey);

/// <summary>An edge row as read, with the ETag a conditional write needs.</summary>
internal sealed record StoredEdge(EdgeRecord Record, Azure.ETag ETag);

/// <summary>
/// The stored state of one directed edge (the same properties in <c>RelationshipEdges</c> and <c>RelationshipEdgesByPeer</c>).
/// Two independent registers, each won by the highest <see cref="EventVersion"/>: the state (added/removed) and the
/// facts (updated remarks). Folding is commutative and idempotent, so any order and any number of deliveries converge.
/// </summary>
internal sealed record EdgeRecord(
    string AppId,
    string Owner,
    string Peer,
    RelationshipKind Kind,
    EdgeState? State,
    string? Version,
    string? EventId,
    DateTimeOffset? Since,
    string? Platform,
    string? Command,
    IReadOnlyDictionary<string, string> Attributes,
    string? FactsVersion,
    DateTimeOffset? FactsChangedAt,
    IReadOnlyDictionary<string, string> Facts,
    DateTimeOffset LastChangedAt)
{
    private static readonly Dictionary<string, string> NoAttributes = [];

    /// <summary>The record after <paramref name="changes"/>, or null when they change nothing (already applied or superseded).</summary>
    public static EdgeRecord? Fold(EdgeRecord? current, IEnumerable<EdgeChange> changes)
    {
        var record = current;
        foreach (var change in changes)
        {
            record ??= new EdgeRecord(change.AppId, change.Owner, change.Peer, change.Kind,
                null, null, null, null, null, null, NoAttributes, null, null, NoAttributes, change.OccurredAt);
            if (change.Action == RelationshipAction.Updated)
            {
                if (EventVersion.IsNewer(change.Version, record.FactsVersion))
                {
                    record = record with { FactsVersion = change.Version, FactsChangedAt = change.OccurredAt, Facts = change.Attributes };
                }
            }
            else if (EventVersion.IsNewer(change.Version, record.Version))
            {
                record = record with
                {
                    State = change.Action == RelationshipAction.Added ? EdgeState.Present : EdgeState.Absent,
                    Version = change.Version,
                    EventId = change.EventId,
                    Since = change.OccurredAt,
                    Platform = change.Platform,
                    Command = change.Command,
                    Attributes = change.Attributes,
                };
            }
        }

        if (record is null || (current is not null && record.Version == current.Version && record.FactsVersion == current.FactsVersion))
        {
            return null;
        }

        var last = record.Since ?? record.FactsChangedAt ?? record.LastChangedAt;
        if (record.FactsChangedAt is { } facts && facts > last)
        {
            last = facts;
        }

        return record with { LastChangedAt = last };
    }

    /// <summary>True when applying <paramref name="changes"/> could not change this record.</summary>
    public bool Covers(IEnumerable<EdgeChange> changes) => changes.All(change => change.Action == RelationshipAction.Updated
        ? !EventVersion.IsNewer(change.Version, FactsVersion)
        : !EventVersion.IsNewer(change.Version, Version));

    /// <summary>Per-edge facts: those of the event that set the state, overlaid by a later update (a remark set after the add).</summary>
    public IReadOnlyDictionary<string, string> EffectiveAttributes()
    {
        if (FactsVersion is null || Facts.Count == 0 || (Version is not null && string.CompareOrdinal(FactsVersion, Version) < 0))
        {
            return Attributes;
        }

        var merged = new Dictionary<string, string>(Attributes, StringComparer.Ordinal);
        foreach (var (name, value) in Facts)
        {
            merged[name] = value;
        }

        return merged;
    }

    public TableEntity ToEntity(RowAddress row)
    {
        var entity = new TableEntity(row.PartitionKey, row.RowKey);
        Rows.Set(entity, "AppId", AppId);
        Rows.Set(entity, "Owner", Owner);
        Rows.Set(entity, "Peer", Peer);
        Rows.Set(entity, "Kind", RelationshipKeys.KindName(Kind));
        Rows.Set(entity, "State", State is { } state ? StateName(state) : null);
        Rows.Set(entity, "Version", Version);
        Rows.Set(entity, "EventId", EventId);
        Rows.Set(entity, "Since", Since);
        Rows.Set(entity, "Platform", Platform);
        Rows.Set(entity, "Command", Command);
        Rows.Set(entity, "Attributes", AttributesJson.Write(Attributes));
        Rows.Set(entity, "FactsVersion", FactsVersion);
        Rows.Set(entity, "FactsChangedAt", FactsChangedAt);
        Rows.Set(entity, "Facts", FactsVersion is null ? null : AttributesJson.Write(Facts));
        Rows.Set(entity, "LastChangedAt", LastChangedAt);
        return entity;
    }

    public static EdgeRecord FromEntity(TableEntity entity) => new(
        entity.GetString("AppId") ?? "",
        entity.GetString("Owner") ?? "",
        entity.GetString("Peer") ?? "",
        RelationshipKeys.ParseKind(entity.GetString("Kind")),
        ParseState(entity.GetString("State")),
        entity.GetString("Version"),
        entity.GetString("EventId"),
        entity.GetDateTimeOffset("Since"),
        entity.GetString("Platform"),
        entity.GetString("Command"),
        AttributesJson.Read(entity.GetString("Attributes")),
        entity.GetString("FactsVersion"),
        entity.GetDateTimeOffset("FactsChangedAt"),
        AttributesJson.Read(entity.GetString("Facts")),
        entity.GetDateTimeOffset("LastChangedAt") ?? DateTimeOffset.MinValue);

    /// <summary>The stored name of a state, as the README's Table layout gives it.</summary>
    public static string StateName(EdgeState state) => state switch
    {
        EdgeState.Present => "present",
        EdgeState.Absent => "absent",
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, null),
    };

    private static EdgeState? ParseState(string? name) => name switch
    {
        null => null,
        "present" => EdgeState.Present,
        "absent" => EdgeState.Absent,
        _ => throw new FormatException($"Unknown edge state '{name}' in the store."),
    };
}

/// <summary>Attributes as one JSON object property, names sorted, so any attribute name fits and rows stay readable.</summary>
internal static class AttributesJson
{
    public static string Write(IReadOnlyDictionary<string, string> attributes) =>
        JsonSerializer.Serialize(new SortedDictionary<string, string>(attributes.ToDictionary(), StringComparer.Ordinal));

    public static IReadOnlyDictionary<string, string> Read(string? json) =>
        string.IsNullOrEmpty(json) ? new Dictionary<string, string>() : JsonSerializer.Deserialize<Dictionary<string, string>>(json) ?? [];
}

/// <summary>Entity helpers shared by the row types.</summary>
internal static class Rows
{
    /// <summary>Sets a property, leaving it out when null, as earlier versions wrote rows.</summary>
    public static void Set(TableEntity entity, string name, object? value)
    {
        if (value is not null)
        {
            entity[name] = value;
        }
    }
}
