using System.Text.Json;
using Azure;
using Azure.Core;
using FunctionApp.Storage.Http;

namespace FunctionApp.Storage.Tables;

/// <summary>Where a query stopped: the service's continuation, opaque to callers.</summary>
public sealed record TableContinuation(string NextPartitionKey, string? NextRowKey);

/// <summary>One page of a query.</summary>
public sealed record TableQueryPage(IReadOnlyList<TableEntity> Entities, TableContinuation? Continuation);

/// <summary>The account's Table service: hands out clients of its tables, which share one pipeline.</summary>
public sealed class TableServiceClient(StorageAccount account, StorageClientOptions? options = null)
{
    private readonly StorageServiceConnection _service = new(account, StorageService.Table, options);

    public TableClient GetTableClient(string tableName) => new(_service, tableName);
}

/// <summary>
/// A small client of one table over the Table service REST API (JSON, minimal metadata): the operations the
/// relationship store needs. Failed requests throw <see cref="RequestFailedException"/> with status and error code.
/// </summary>
public sealed class TableClient
{
    private const string JsonAccept = "application/json;odata=minimalmetadata";
    private static readonly RequestMethod Merge = new("MERGE");
    private readonly StorageServiceConnection _service;

    internal TableClient(StorageServiceConnection service, string tableName)
    {
        ArgumentException.ThrowIfNullOrEmpty(tableName);
        _service = service;
        Name = tableName;
    }

    public string Name { get; }

    /// <summary>Creates the table; returns false when it already existed.</summary>
    public async Task<bool> CreateIfNotExistsAsync(CancellationToken cancellationToken = default)
    {
        using var message = CreateMessage(RequestMethod.Post, "Tables");
        message.Request.Headers.SetValue("Content-Type", "application/json");
        message.Request.Headers.SetValue("Prefer", "return-no-content");
        message.Request.Content = RequestContent.Create(JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string> { ["TableName"] = Name }));
        await _service.SendAsync(message, cancellationToken).ConfigureAwait(false);
        var response = message.Response;
        if (response.Status is 201 or 204)
        {
            return true;
        }

        var error = StorageErrors.ToException(response, $"Creating table {Name}");
        return error.Status == 409 && error.ErrorCode == "TableAlreadyExists" ? false : throw error;
    }

    /// <summary>The entity, or null when there is none.</summary>
    public async Task<TableEntity?> GetEntityAsync(string partitionKey, string rowKey, CancellationToken cancellationToken = default)
    {
        using var message = CreateMessage(RequestMethod.Get, EntityPath(partitionKey, rowKey));
        await _service.SendAsync(message, cancellationToken).ConfigureAwait(false);
        var response = message.Response;
        if (response.Status == 404)
        {
            return null;
        }

        StorageErrors.EnsureStatus(response, "Reading an entity", 200);
        using var document = JsonDocument.Parse(response.Content.ToMemory());
        var entity = TableEntityJson.Read(document.RootElement);
        if (response.Headers.ETag is { } etag)
        {
            entity.ETag = etag;
        }

        return entity;
    }

    /// <summary>One page of entities matching <paramref name="filter"/> (null: all), starting at <paramref name="continuation"/>.</summary>
    /// <param name="top">Most entities in the page (the service caps a page at 1,000); null for the service's default.</param>
    public async Task<TableQueryPage> QueryAsync(
        string? filter,
        IReadOnlyCollection<string>? select = null,
        int? top = null,
        TableContinuation? continuation = null,
        CancellationToken cancellationToken = default)
    {
        using var message = CreateMessage(RequestMethod.Get, Name + "()");
        var uri = message.Request.Uri;
        if (!string.IsNullOrEmpty(filter))
        {
            uri.AppendQuery("$filter", filter, escapeValue: true);
        }

        if (select is { Count: > 0 })
        {
            uri.AppendQuery("$select", string.Join(',', select), escapeValue: true);
        }

        if (top is { } count)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(count, 1, nameof(top));
            uri.AppendQuery("$top", Math.Min(count, 1000).ToString(System.Globalization.CultureInfo.InvariantCulture), escapeValue: false);
        }

        if (continuation is not null)
        {
            uri.AppendQuery("NextPartitionKey", continuation.NextPartitionKey, escapeValue: true);
            if (continuation.NextRowKey is not null)
            {
                uri.AppendQuery("NextRowKey", continuation.NextRowKey, escapeValue: true);
            }
        }

        await _service.SendAsync(message, cancellationToken).ConfigureAwait(false);
        var response = message.Response;
        StorageErrors.EnsureStatus(response, $"Querying table {Name}", 200);
        using var document = JsonDocument.Parse(response.Content.ToMemory());
        var entities = document.RootElement.GetProperty("value").EnumerateArray().Select(TableEntityJson.Read).ToList();
        TableContinuation? next = null;
        if (response.Headers.TryGetValue("x-ms-continuation-NextPartitionKey", out var nextPartitionKey) && !string.IsNullOrEmpty(nextPartitionKey))
        {
            response.Headers.TryGetValue("x-ms-continuation-NextRowKey", out var nextRowKey);
            next = new TableContinuation(nextPartitionKey, string.IsNullOrEmpty(nextRowKey) ? null : nextRowKey);
        }

        return new TableQueryPage(entities, next);
    }

    /// <summary>Every entity matching <paramref name="filter"/>, following continuations.</summary>
    public async IAsyncEnumerable<TableEntity> QueryAllAsync(
        string? filter,
        IReadOnlyCollection<string>? select = null,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        TableContinuation? continuation = null;
        do
        {
            var page = await QueryAsync(filter, select, null, continuation, cancellationToken).ConfigureAwait(false);
            foreach (var entity in page.Entities)
            {
                yield return entity;
            }

            continuation = page.Continuation;
        }
        while (continuation is not null);
    }

    /// <summary>Inserts a new entity; 409 (EntityAlreadyExists) when it exists. Returns the new ETag.</summary>
    public Task<ETag> AddEntityAsync(TableEntity entity, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entity);
        return SendWriteAsync(RequestMethod.Post, Name, entity, default, "Inserting an entity", cancellationToken);
    }

    /// <summary>Inserts or replaces/merges, whatever is there.</summary>
    public Task<ETag> UpsertEntityAsync(TableEntity entity, TableUpdateMode mode = TableUpdateMode.Replace, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entity);
        return SendWriteAsync(mode == TableUpdateMode.Replace ? RequestMethod.Put : Merge,
            EntityPath(entity.PartitionKey, entity.RowKey), entity, default, "Upserting an entity", cancellationToken);
    }

    /// <summary>Updates an existing entity if its ETag is still <paramref name="ifMatch"/> (412 when stale; <see cref="ETag.All"/>: unconditional).</summary>
    public Task<ETag> UpdateEntityAsync(TableEntity entity, ETag ifMatch, TableUpdateMode mode = TableUpdateMode.Replace, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entity);
        return SendWriteAsync(mode == TableUpdateMode.Replace ? RequestMethod.Put : Merge,
            EntityPath(entity.PartitionKey, entity.RowKey), entity, IfMatch(ifMatch), "Updating an entity", cancellationToken);
    }

    /// <summary>Deletes the entity if its ETag is still <paramref name="ifMatch"/> (default: any). Returns false when it did not exist.</summary>
    public async Task<bool> DeleteEntityAsync(string partitionKey, string rowKey, ETag ifMatch = default, CancellationToken cancellationToken = default)
    {
        using var message = CreateMessage(RequestMethod.Delete, EntityPath(partitionKey, rowKey));
        message.Request.Headers.SetValue("If-Match", IfMatch(ifMatch).ToString());
        await _service.SendAsync(message, cancellationToken).ConfigureAwait(false);
        if (message.Response.Status == 404)
        {
            return false;
        }

        StorageErrors.EnsureStatus(message.Response, "Deleting an entity", 204);
        return true;
    }

    /// <summary>
    /// Applies up to 100 operations on one partition atomically (an entity group transaction). Returns the ETags of
    /// the written entities in order (default for deletes). On failure nothing is applied and
    /// <see cref="TableTransactionFailedException"/> says which operation failed.
    /// </summary>
    public async Task<IReadOnlyList<ETag>> SubmitTransactionAsync(IReadOnlyList<TableTransactionAction> actions, CancellationToken cancellationToken = default)
    {
        var batch = TableTransaction.Build(_service.Endpoint, Name, actions);
        using var message = CreateMessage(RequestMethod.Post, "$batch");
        message.Request.Headers.SetValue("Content-Type", batch.ContentType);
        message.Request.Content = RequestContent.Create(batch.Body);
        await _service.SendAsync(message, cancellationToken).ConfigureAwait(false);
        var response = message.Response;
        StorageErrors.EnsureStatus(response, $"A transaction on table {Name}", 202);
        response.Headers.TryGetValue("Content-Type", out var contentType);
        return TableTransaction.ParseResponse(contentType, response.Content.ToString(), actions.Count, Name);
    }

    private async Task<ETag> SendWriteAsync(RequestMethod method, string path, TableEntity entity, ETag? ifMatch, string operation, CancellationToken cancellationToken)
    {
        using var message = CreateMessage(method, path);
        message.Request.Headers.SetValue("Content-Type", "application/json");
        message.Request.Headers.SetValue("Prefer", "return-no-content");
        if (ifMatch is { } etag)
        {
            message.Request.Headers.SetValue("If-Match", etag.ToString());
        }

        message.Request.Content = RequestContent.Create(TableEntityJson.Serialize(entity));
        await _service.SendAsync(message, cancellationToken).ConfigureAwait(false);
        StorageErrors.EnsureStatus(message.Response, operation, 201, 204);
        return message.Response.Headers.ETag ?? default;
    }

    private HttpMessage CreateMessage(RequestMethod method, string path)
    {
        var message = _service.CreateMessage(method, path);
        var request = message.Request;
        request.Headers.SetValue("Accept", JsonAccept);
        request.Headers.SetValue("DataServiceVersion", "3.0");
        return message;
    }

    internal string EntityPath(string partitionKey, string rowKey) => Name + TableKeys.EntityAddress(partitionKey, rowKey);

    private static ETag IfMatch(ETag etag) => etag == default ? ETag.All : etag;

}

/// <summary>Key escaping for entity addresses in URLs.</summary>
public static class TableKeys
{
    /// <summary><c>(PartitionKey='..',RowKey='..')</c>: quotes doubled (OData), then percent-encoded (URL).</summary>
    public static string EntityAddress(string partitionKey, string rowKey)
    {
        ArgumentNullException.ThrowIfNull(partitionKey);
        ArgumentNullException.ThrowIfNull(rowKey);
        return $"(PartitionKey={Uri.EscapeDataString(ODataFilter.Quote(partitionKey))},RowKey={Uri.EscapeDataString(ODataFilter.Quote(rowKey))})";
    }
}
