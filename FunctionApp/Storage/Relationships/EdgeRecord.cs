using System.Text.Json;
using FunctionApp.Core;
using FunctionApp.Storage.Tables;

namespace FunctionApp.Storage.Relationships;

/// <summary>One event's effect on one directed edge.</summary>
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
    IReadOnlyDictionary<string, string> Attributes);

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
    string? State,
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
    public const string Present = "present";
    public const string Absent = "absent";
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
                    State = change.Action == RelationshipAction.Added ? Present : Absent,
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

    public TableEntity ToEntity(string partitionKey, string rowKey)
    {
        var entity = new TableEntity(partitionKey, rowKey)
        {
            ["AppId"] = AppId,
            ["Owner"] = Owner,
            ["Peer"] = Peer,
            ["Kind"] = RelationshipKeys.KindName(Kind),
            ["State"] = State,
            ["Version"] = Version,
            ["EventId"] = EventId,
            ["Since"] = Since,
            ["Platform"] = Platform,
            ["Command"] = Command,
            ["Attributes"] = AttributesJson.Write(Attributes),
            ["FactsVersion"] = FactsVersion,
            ["FactsChangedAt"] = FactsChangedAt,
            ["Facts"] = FactsVersion is null ? null : AttributesJson.Write(Facts),
            ["LastChangedAt"] = LastChangedAt,
        };
        return entity;
    }

    public static EdgeRecord FromEntity(TableEntity entity) => new(
        entity.GetString("AppId") ?? "",
        entity.GetString("Owner") ?? "",
        entity.GetString("Peer") ?? "",
        RelationshipKeys.ParseKind(entity.GetString("Kind")),
        entity.GetString("State"),
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
}

/// <summary>Attributes as one JSON object property, names sorted, so any attribute name fits and rows stay readable.</summary>
internal static class AttributesJson
{
    public static string Write(IReadOnlyDictionary<string, string> attributes) =>
        JsonSerializer.Serialize(new SortedDictionary<string, string>(attributes.ToDictionary(), StringComparer.Ordinal));

    public static IReadOnlyDictionary<string, string> Read(string? json) =>
        string.IsNullOrEmpty(json) ? new Dictionary<string, string>() : JsonSerializer.Deserialize<Dictionary<string, string>>(json) ?? [];
}
