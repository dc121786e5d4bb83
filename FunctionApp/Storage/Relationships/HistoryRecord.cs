using FunctionApp.Core;
using FunctionApp.Storage.Tables;

namespace FunctionApp.Storage.Relationships;

/// <summary>History rows: one per event in the owner's partition and one in the peer's, written whole (idempotent upserts).</summary>
internal static class HistoryRecord
{
    public static TableEntity ToEntity(RelationshipEvent e, CallbackSource source, string batchId, string user, string side)
    {
        var entity = new TableEntity(RelationshipKeys.UserPartition(source.AppId, user), RelationshipKeys.HistoryRow(e.OccurredAt, e.EventId))
        {
            ["AppId"] = source.AppId,
            ["User"] = user,
            ["OtherUser"] = side == "owner" ? e.Peer : e.Owner,
            ["Side"] = side,
            ["EventId"] = e.EventId,
            ["Kind"] = RelationshipKeys.KindName(e.Kind),
            ["Action"] = RelationshipKeys.ActionName(e.Action),
            ["Owner"] = e.Owner,
            ["Peer"] = e.Peer,
            ["OccurredAt"] = e.OccurredAt,
            ["ReceivedAt"] = source.ReceivedAt,
            ["Version"] = EventVersion.Of(e, source),
            ["Platform"] = source.Platform,
            ["Command"] = source.Command,
            ["ClientIp"] = source.ClientIp,
            ["OptPlatform"] = source.OptPlatform,
            ["OperationId"] = source.OperationId,
            ["BatchId"] = batchId,
            ["Attributes"] = AttributesJson.Write(e.Attributes),
        };
        return entity;
    }

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

/// <summary>Opaque continuation tokens: base64url of a tag and the service's next partition and row keys.</summary>
internal static class ContinuationToken
{
    public static string? Encode(char tag, TableContinuation? continuation)
    {
        if (continuation is null)
        {
            return null;
        }

        var text = $"{tag}1\n{continuation.NextPartitionKey}\n{continuation.NextRowKey}";
        return Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(text)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    public static TableContinuation? Decode(char tag, string? token)
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
            text = new System.Text.UTF8Encoding(false, true).GetString(Convert.FromBase64String(base64));
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException)
        {
            throw new ArgumentException("The continuation token is malformed.", nameof(token), ex);
        }

        var parts = text.Split('\n');
        if (parts.Length != 3 || parts[0] != $"{tag}1" || parts[1].Length == 0)
        {
            throw new ArgumentException("The continuation token is malformed or belongs to another kind of query.", nameof(token));
        }

        // The service's next keys are opaque, base64-like text (Azure "1!<length>!<base64>", Azurite plain base64):
        // anything else was not issued by it, and sending it would only make the service fail the query.
        if (!IsServiceKey(parts[1]) || !IsServiceKey(parts[2]))
        {
            throw new ArgumentException("The continuation token was not issued for this query.", nameof(token));
        }

        return new TableContinuation(parts[1], parts[2].Length == 0 ? null : parts[2]);
    }

    private static bool IsServiceKey(string key) =>
        key.Length <= 1024 && key.All(c => char.IsAsciiLetterOrDigit(c) || c is '+' or '/' or '=' or '!' or '-' or '_');
}
