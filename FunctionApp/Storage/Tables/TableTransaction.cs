using System.Globalization;
using System.Text;
using Azure;
using FunctionApp.Storage.Http;

namespace FunctionApp.Storage.Tables;

public enum TableTransactionActionType
{
    Add,
    UpdateReplace,
    UpdateMerge,
    UpsertReplace,
    UpsertMerge,
    Delete,
}

/// <summary>One operation of an entity group transaction. <paramref name="IfMatch"/> applies to updates and deletes (default: any).</summary>
public sealed record TableTransactionAction(TableTransactionActionType ActionType, TableEntity Entity, ETag IfMatch = default);

/// <summary>An entity group transaction failed: nothing was applied; <see cref="FailedActionIndex"/> names the operation the service refused.</summary>
public sealed class TableTransactionFailedException : RequestFailedException
{
    public TableTransactionFailedException(int status, string message, string? errorCode, int? failedActionIndex)
        : base(status, message, errorCode, null)
    {
        FailedActionIndex = failedActionIndex;
    }

    /// <summary>0-based index into the submitted actions, when the service said which one failed.</summary>
    public int? FailedActionIndex { get; }
}

/// <summary>The <c>$batch</c> wire format: a multipart/mixed batch holding one changeset of HTTP requests.</summary>
internal static class TableTransaction
{
    public const int MaxActions = 100;

    public sealed record Request(string ContentType, byte[] Body);

    public static Request Build(Uri endpoint, string tableName, IReadOnlyList<TableTransactionAction> actions)
    {
        ArgumentNullException.ThrowIfNull(actions);
        if (actions.Count is 0 or > MaxActions)
        {
            throw new ArgumentException($"A transaction holds 1 to {MaxActions} operations; got {actions.Count}.", nameof(actions));
        }

        var partitionKey = actions[0].Entity.PartitionKey;
        var rowKeys = new HashSet<string>(StringComparer.Ordinal);
        foreach (var action in actions)
        {
            if (!string.Equals(action.Entity.PartitionKey, partitionKey, StringComparison.Ordinal))
            {
                throw new ArgumentException("Every operation of a transaction must address the same partition.", nameof(actions));
            }

            if (!rowKeys.Add(action.Entity.RowKey))
            {
                throw new ArgumentException("A transaction may address each entity only once.", nameof(actions));
            }
        }

        var batchBoundary = "batch_" + Guid.NewGuid().ToString("N");
        var changesetBoundary = "changeset_" + Guid.NewGuid().ToString("N");
        var baseUri = endpoint.AbsoluteUri.TrimEnd('/') + "/";
        var body = new StringBuilder();
        body.Append("--").Append(batchBoundary).Append("\r\n")
            .Append("Content-Type: multipart/mixed; boundary=").Append(changesetBoundary).Append("\r\n\r\n");
        for (var i = 0; i < actions.Count; i++)
        {
            var action = actions[i];
            var entity = action.Entity;
            var (method, address, hasBody, ifMatch) = action.ActionType switch
            {
                TableTransactionActionType.Add => ("POST", tableName, true, (ETag?)null),
                TableTransactionActionType.UpdateReplace => ("PUT", Address(), true, OrAll(action.IfMatch)),
                TableTransactionActionType.UpdateMerge => ("MERGE", Address(), true, OrAll(action.IfMatch)),
                TableTransactionActionType.UpsertReplace => ("PUT", Address(), true, null),
                TableTransactionActionType.UpsertMerge => ("MERGE", Address(), true, null),
                TableTransactionActionType.Delete => ("DELETE", Address(), false, OrAll(action.IfMatch)),
                _ => throw new ArgumentOutOfRangeException(nameof(actions), action.ActionType, null),
            };
            string Address() => tableName + TableKeys.EntityAddress(entity.PartitionKey, entity.RowKey);

            body.Append("--").Append(changesetBoundary).Append("\r\n")
                .Append("Content-Type: application/http\r\n")
                .Append("Content-Transfer-Encoding: binary\r\n")
                .Append("Content-ID: ").Append((i + 1).ToString(CultureInfo.InvariantCulture)).Append("\r\n\r\n")
                .Append(method).Append(' ').Append(baseUri).Append(address).Append(" HTTP/1.1\r\n")
                .Append("Accept: application/json;odata=minimalmetadata\r\n")
                .Append("DataServiceVersion: 3.0\r\n");
            if (ifMatch is { } etag)
            {
                body.Append("If-Match: ").Append(etag.ToString()).Append("\r\n");
            }

            if (hasBody)
            {
                body.Append("Content-Type: application/json\r\n")
                    .Append("Prefer: return-no-content\r\n\r\n")
                    .Append(Encoding.UTF8.GetString(TableEntityJson.Serialize(entity))).Append("\r\n");
            }
            else
            {
                body.Append("\r\n");
            }
        }

        body.Append("--").Append(changesetBoundary).Append("--\r\n")
            .Append("--").Append(batchBoundary).Append("--\r\n");
        return new Request("multipart/mixed; boundary=" + batchBoundary, Encoding.UTF8.GetBytes(body.ToString()));
    }

    private static ETag OrAll(ETag etag) => etag == default ? ETag.All : etag;

    /// <summary>ETags of the operations in order; throws <see cref="TableTransactionFailedException"/> when one failed.</summary>
    public static IReadOnlyList<ETag> ParseResponse(string? contentType, string body, int actionCount, string tableName)
    {
        var responses = new List<(int Status, ETag ETag, string Body)>();
        using (var reader = new StringReader(body))
        {
            string? line;
            while ((line = reader.ReadLine()) is not null)
            {
                if (!line.StartsWith("HTTP/1.1 ", StringComparison.Ordinal))
                {
                    continue;
                }

                var status = int.Parse(line.AsSpan(9, 3), CultureInfo.InvariantCulture);
                var etag = default(ETag);
                while (!string.IsNullOrEmpty(line = reader.ReadLine()))
                {
                    if (line.StartsWith("ETag:", StringComparison.OrdinalIgnoreCase))
                    {
                        etag = new ETag(line[5..].Trim());
                    }
                }

                var content = new StringBuilder();
                while ((line = reader.ReadLine()) is not null && !line.StartsWith("--", StringComparison.Ordinal))
                {
                    content.Append(line).Append('\n');
                }

                responses.Add((status, etag, content.ToString().Trim()));
            }
        }

        var failure = responses.FirstOrDefault(r => r.Status >= 400);
        if (failure.Status != 0)
        {
            var (code, message) = StorageErrors.Parse(Encoding.UTF8.GetBytes(failure.Body));
            int? index = null;
            var colon = message?.IndexOf(':', StringComparison.Ordinal) ?? -1;
            if (colon > 0 && int.TryParse(message.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) && parsed < actionCount)
            {
                index = parsed;
            }

            var firstLine = message?.Split('\n')[0];
            throw new TableTransactionFailedException(failure.Status,
                $"A transaction on table {tableName} failed with {failure.Status}" + (code is null ? "" : $" ({code})") +
                (firstLine is null ? "." : $": {firstLine}"), code, index);
        }

        if (responses.Count != actionCount)
        {
            throw new RequestFailedException(0,
                $"A transaction on table {tableName} answered {responses.Count} operations of {actionCount} (content type {contentType}).");
        }

        return responses.Select(r => r.ETag).ToList();
    }
}
