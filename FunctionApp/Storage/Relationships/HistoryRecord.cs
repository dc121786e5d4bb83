using System.Text;
using Azure.Data.Tables;
using FunctionApp.Core;

namespace FunctionApp.Storage.Relationships;

/// <summary>Whose partition a history row is in: the event's owner's or its peer's (<c>Side</c> is <c>owner</c> or <c>peer</c>).</summary>
internal enum HistorySide
{
    Owner,
    Peer,
}

/// <summary>
/// One event as it was first received. A later copy of the same event id (a platform retry, a re-ingested batch)
/// carries its own receive time; once the stored receipt is known, the copy takes the first receipt's times and batch
/// (<see cref="AsFirstReceived"/>), so its version, history key and history row are those of the first receipt.
/// </summary>
internal sealed record ReceivedEvent(RelationshipEvent Event, CallbackSource Source, string BatchId, DateTimeOffset OccurredAt, DateTimeOffset ReceivedAt)
{
    public static ReceivedEvent Of(RelationshipEvent e, CallbackSource source, string batchId) => new(e, source, batchId, e.OccurredAt, source.ReceivedAt);

    public string EventId => Event.EventId;

    public string Version => EventVersion.Of(OccurredAt, ReceivedAt, EventId);

    /// <summary>The owner's history partition, which also holds the event's receipt.</summary>
    public string OwnerPartition => RelationshipKeys.UserPartition(Source.AppId, Event.Owner);

    public string PeerPartition => RelationshipKeys.UserPartition(Source.AppId, Event.Peer);

    /// <summary>A self-edge has one history row only.</summary>
    public bool HasPeerSide => Event.Owner != Event.Peer;

    public string HistoryRowKey => RelationshipKeys.HistoryRow(OccurredAt, ReceivedAt, EventId);

    public ReceivedEvent AsFirstReceived(Receipt first) => this with { OccurredAt = first.OccurredAt, ReceivedAt = first.ReceivedAt, BatchId = first.BatchId };
}

/// <summary>What the receipt row of an event keeps of its first receipt.</summary>
internal sealed record Receipt(string EventId, DateTimeOffset OccurredAt, DateTimeOffset ReceivedAt, string BatchId)
{
    public TableEntity ToEntity(string ownerPartition)
    {
        var entity = new TableEntity(ownerPartition, RelationshipKeys.ReceiptRow(EventId));
        Rows.Set(entity, "EventId", EventId);
        Rows.Set(entity, "OccurredAt", OccurredAt);
        Rows.Set(entity, "ReceivedAt", ReceivedAt);
        Rows.Set(entity, "BatchId", BatchId);
        return entity;
    }

    public static Receipt Of(ReceivedEvent e) => new(e.EventId, e.OccurredAt, e.ReceivedAt, e.BatchId);

    public static Receipt FromEntity(TableEntity entity) => new(
        entity.GetString("EventId") ?? "",
        entity.GetDateTimeOffset("OccurredAt") ?? throw new FormatException($"Receipt {entity.RowKey} has no OccurredAt."),
        entity.GetDateTimeOffset("ReceivedAt") ?? throw new FormatException($"Receipt {entity.RowKey} has no ReceivedAt."),
        entity.GetString("BatchId") ?? "");
}

/// <summary>History rows: one per event in the owner's partition and one in the peer's, written whole.</summary>
internal static class HistoryRecord
{
    public static TableEntity ToEntity(ReceivedEvent received, HistorySide side)
    {
        var (e, source) = (received.Event, received.Source);
        var user = side == HistorySide.Owner ? e.Owner : e.Peer;
        var entity = new TableEntity(RelationshipKeys.UserPartition(source.AppId, user), received.HistoryRowKey);
        Rows.Set(entity, "AppId", source.AppId);
        Rows.Set(entity, "User", user);
        Rows.Set(entity, "OtherUser", side == HistorySide.Owner ? e.Peer : e.Owner);
        Rows.Set(entity, "Side", SideName(side));
        Rows.Set(entity, "EventId", e.EventId);
        Rows.Set(entity, "Kind", RelationshipKeys.KindName(e.Kind));
        Rows.Set(entity, "Action", RelationshipKeys.ActionName(e.Action));
        Rows.Set(entity, "Owner", e.Owner);
        Rows.Set(entity, "Peer", e.Peer);
        Rows.Set(entity, "OccurredAt", received.OccurredAt);
        Rows.Set(entity, "ReceivedAt", received.ReceivedAt);
        Rows.Set(entity, "Version", received.Version);
        Rows.Set(entity, "Platform", source.Platform);
        Rows.Set(entity, "Command", source.Command);
        Rows.Set(entity, "ClientIp", source.ClientIp);
        Rows.Set(entity, "OptPlatform", source.OptPlatform);
        Rows.Set(entity, "OperationId", source.OperationId);
        Rows.Set(entity, "BatchId", received.BatchId);
        Rows.Set(entity, "Attributes", AttributesJson.Write(e.Attributes));
        return entity;
    }

    public static string SideName(HistorySide side) => side switch
    {
        HistorySide.Owner => "owner",
        HistorySide.Peer => "peer",
        _ => throw new ArgumentOutOfRangeException(nameof(side), side, null),
    };

    public static HistoryEntry FromEntity(TableEntity entity) => new(
        entity.GetString("EventId") ?? "",
        RelationshipKeys.ParseKind(entity.GetString("Kind")),
        RelationshipKeys.ParseAction(entity.GetString("Action")),
        entity.GetString("Owner") ?? "",
        entity.GetString("Peer") ?? "",
        entity.GetDateTimeOffset("OccurredAt") ?? DateTimeOffset.MinValue,
        entity.GetDateTimeOffset("ReceivedAt") ?? DateTimeOffset.MinValue,
        entity.GetString("Platform") ?? "",
        entity.GetString("Command") ?? "",
        entity.GetString("ClientIp"),
        entity.GetString("OptPlatform"),
        entity.GetString("OperationId"),
        AttributesJson.Read(entity.GetString("Attributes")));
}

/// <summary>Opaque continuation tokens: base64url of a tag and the SDK's continuation token of the query.</summary>
internal static class ContinuationToken
{
    private const string Version = "2";

    public static string? Encode(char tag, string? continuation)
    {
        if (continuation is null)
        {
            return null;
        }

        var text = $"{tag}{Version}\n{continuation}";
        return Convert.ToBase64String(Encoding.UTF8.GetBytes(text)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    public static string? Decode(char tag, string? token)
    {
        if (token is null)
        {
            return null;
        }

        string text;
        try
        {
            var base64 = token.Replace('-', '+').Replace('_', '/');
            base64 = base64.PadRight(base64.Length + ((4 - (base64.Length % 4)) % 4), '=');
            text = new UTF8Encoding(false, true).GetString(Convert.FromBase64String(base64));
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException)
        {
            throw new ArgumentException("The continuation token is malformed.", nameof(token), ex);
        }

        var newline = text.IndexOf('\n', StringComparison.Ordinal);
        if (newline < 0 || text[..newline] != $"{tag}{Version}" || newline == text.Length - 1)
        {
            throw new ArgumentException("The continuation token is malformed, expired with an upgrade, or belongs to another kind of query.", nameof(token));
        }

        // The SDK's token is the service's next keys joined by a space; those keys are opaque, base64-like text
        // (Azure "1!<length>!<base64>", Azurite plain base64). Anything else was not issued by the service, and sending
        // it would only make the service fail the query.
        var continuation = text[(newline + 1)..];
        var keys = continuation.Split(' ');
        if (keys.Length > 2 || keys[0].Length == 0 || !keys.All(IsServiceKey))
        {
            throw new ArgumentException("The continuation token was not issued for this query.", nameof(token));
        }

        return continuation;
    }

    private static bool IsServiceKey(string key) =>
        key.Length <= 1024 && key.All(c => char.IsAsciiLetterOrDigit(c) || c is '+' or '/' or '=' or '!' or '-' or '_');
}
