using System.Globalization;
using System.Security;
using System.Text;
using System.Xml.Linq;
using Azure;
using Azure.Core;
using FunctionApp.Storage.Http;

namespace FunctionApp.Storage.Queues;

/// <summary>A message as <see cref="QueueClient.ReceiveMessagesAsync"/> hands it out: invisible to others until it is deleted or its visibility ends.</summary>
/// <param name="PopReceipt">Proves this receipt of the message; needed to delete it or change its visibility.</param>
/// <param name="DequeueCount">How many times the message has been received, this time included.</param>
public sealed record QueueMessage(
    string MessageId,
    string PopReceipt,
    long DequeueCount,
    DateTimeOffset InsertedOn,
    DateTimeOffset? NextVisibleOn,
    string MessageText);

/// <summary>A message seen by <see cref="QueueClient.PeekMessagesAsync"/>: left where it is, so without a pop receipt.</summary>
public sealed record PeekedMessage(string MessageId, long DequeueCount, DateTimeOffset InsertedOn, string MessageText);

/// <summary>What the service answers when a message is put: its id and a receipt for changing it.</summary>
public sealed record SentMessage(string MessageId, string PopReceipt, DateTimeOffset InsertedOn, DateTimeOffset? NextVisibleOn);

/// <summary>A new receipt after a visibility change (the old one is no longer valid).</summary>
public sealed record UpdatedMessage(string PopReceipt, DateTimeOffset? NextVisibleOn);

/// <summary>The account's Queue service: hands out clients of its queues, which share one pipeline.</summary>
public sealed class QueueServiceClient(StorageAccount account, StorageClientOptions? options = null)
{
    private readonly StorageServiceConnection _service = new(account, StorageService.Queue, options);

    public QueueClient GetQueueClient(string queueName) => new(_service, queueName);
}

/// <summary>
/// A small client of one Azure Storage queue over the Queue service REST API, on the same pipeline and signing as the
/// Table client: the operations the standalone queue needs. Failed requests throw <see cref="RequestFailedException"/>
/// with status and service error code (for example 404 <c>QueueNotFound</c>, 400 <c>PopReceiptMismatch</c>).
/// </summary>
public sealed class QueueClient
{
    /// <summary>The service's limit on the text of one message (64 KiB).</summary>
    public const int MaxMessageTextLength = 64 * 1024;

    /// <summary>Most messages one receive or peek returns.</summary>
    public const int MaxMessagesPerReceive = 32;

    private readonly StorageServiceConnection _service;

    internal QueueClient(StorageServiceConnection service, string queueName)
    {
        ArgumentException.ThrowIfNullOrEmpty(queueName);
        _service = service;
        Name = queueName;
    }

    public string Name { get; }

    /// <summary>Creates the queue; returns false when it already existed.</summary>
    public async Task<bool> CreateIfNotExistsAsync(CancellationToken cancellationToken = default)
    {
        using var message = CreateMessage(RequestMethod.Put, Name);
        await SendAsync(message, cancellationToken).ConfigureAwait(false);
        // 201: created; 204: it exists with the same (no) metadata.
        return message.Response.Status switch
        {
            201 => true,
            204 => false,
            _ => throw StorageErrors.ToException(message.Response, $"Creating queue {Name}"),
        };
    }

    /// <summary>Deletes the queue and its messages; returns false when there was none.</summary>
    public async Task<bool> DeleteIfExistsAsync(CancellationToken cancellationToken = default)
    {
        using var message = CreateMessage(RequestMethod.Delete, Name);
        await SendAsync(message, cancellationToken).ConfigureAwait(false);
        if (message.Response.Status == 404)
        {
            return false;
        }

        StorageErrors.EnsureStatus(message.Response, $"Deleting queue {Name}", 204);
        return true;
    }

    /// <summary>
    /// Puts a message. The text goes into XML as it is escaped; callers that want no escaping question (and the
    /// standalone queue does) send base64. <paramref name="timeToLive"/> null means the message never expires.
    /// </summary>
    /// <param name="visibilityTimeout">How long the new message stays invisible; null: visible at once.</param>
    public async Task<SentMessage> SendMessageAsync(
        string messageText,
        TimeSpan? visibilityTimeout = null,
        TimeSpan? timeToLive = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messageText);
        if (messageText.Length > MaxMessageTextLength)
        {
            throw new ArgumentException(
                $"The message text is {messageText.Length} characters long; a queue message holds at most {MaxMessageTextLength}.", nameof(messageText));
        }

        using var message = CreateMessage(RequestMethod.Post, Name + "/messages");
        if (visibilityTimeout is { } visibility)
        {
            message.Request.Uri.AppendQuery("visibilitytimeout", Seconds(visibility), escapeValue: false);
        }

        // -1: the message stays until it is deleted (the service default would drop it after 7 days).
        message.Request.Uri.AppendQuery("messagettl", timeToLive is { } ttl ? Seconds(ttl) : "-1", escapeValue: false);
        message.Request.Headers.SetValue("Content-Type", "application/xml");
        message.Request.Content = RequestContent.Create(Encoding.UTF8.GetBytes(
            "<QueueMessage><MessageText>" + SecurityElement.Escape(messageText) + "</MessageText></QueueMessage>"));
        await SendAsync(message, cancellationToken).ConfigureAwait(false);
        StorageErrors.EnsureStatus(message.Response, $"Putting a message on queue {Name}", 201);
        var item = MessageElements(message.Response).FirstOrDefault()
                   ?? throw new RequestFailedException(message.Response.Status, $"Putting a message on queue {Name}: the answer lists no message.");
        return new SentMessage(
            Required(item, "MessageId"),
            Required(item, "PopReceipt"),
            Time(Required(item, "InsertionTime")),
            OptionalTime(item, "TimeNextVisible"));
    }

    /// <summary>Receives up to <paramref name="maxMessages"/> (1..32) messages and hides them for <paramref name="visibilityTimeout"/>.</summary>
    public async Task<IReadOnlyList<QueueMessage>> ReceiveMessagesAsync(int maxMessages, TimeSpan visibilityTimeout, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxMessages, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxMessages, MaxMessagesPerReceive);
        using var message = CreateMessage(RequestMethod.Get, Name + "/messages");
        message.Request.Uri.AppendQuery("numofmessages", maxMessages.ToString(CultureInfo.InvariantCulture), escapeValue: false);
        message.Request.Uri.AppendQuery("visibilitytimeout", Seconds(visibilityTimeout), escapeValue: false);
        await SendAsync(message, cancellationToken).ConfigureAwait(false);
        StorageErrors.EnsureStatus(message.Response, $"Receiving messages from queue {Name}", 200);
        return [.. MessageElements(message.Response).Select(item => new QueueMessage(
            Required(item, "MessageId"),
            Required(item, "PopReceipt"),
            long.Parse(Required(item, "DequeueCount"), CultureInfo.InvariantCulture),
            Time(Required(item, "InsertionTime")),
            OptionalTime(item, "TimeNextVisible"),
            item.Element("MessageText")?.Value ?? string.Empty))];
    }

    /// <summary>Looks at up to <paramref name="maxMessages"/> (1..32) visible messages without receiving them.</summary>
    public async Task<IReadOnlyList<PeekedMessage>> PeekMessagesAsync(int maxMessages = 1, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxMessages, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxMessages, MaxMessagesPerReceive);
        using var message = CreateMessage(RequestMethod.Get, Name + "/messages");
        message.Request.Uri.AppendQuery("peekonly", "true", escapeValue: false);
        message.Request.Uri.AppendQuery("numofmessages", maxMessages.ToString(CultureInfo.InvariantCulture), escapeValue: false);
        await SendAsync(message, cancellationToken).ConfigureAwait(false);
        StorageErrors.EnsureStatus(message.Response, $"Peeking at queue {Name}", 200);
        return [.. MessageElements(message.Response).Select(item => new PeekedMessage(
            Required(item, "MessageId"),
            long.Parse(Required(item, "DequeueCount"), CultureInfo.InvariantCulture),
            Time(Required(item, "InsertionTime")),
            item.Element("MessageText")?.Value ?? string.Empty))];
    }

    /// <summary>Deletes a received message; throws 404 <c>MessageNotFound</c> or 400 <c>PopReceiptMismatch</c> when the receipt is stale.</summary>
    public async Task DeleteMessageAsync(string messageId, string popReceipt, CancellationToken cancellationToken = default)
    {
        using var message = CreateMessage(RequestMethod.Delete, MessagePath(messageId));
        message.Request.Uri.AppendQuery("popreceipt", popReceipt, escapeValue: true);
        await SendAsync(message, cancellationToken).ConfigureAwait(false);
        StorageErrors.EnsureStatus(message.Response, $"Deleting a message from queue {Name}", 204);
    }

    /// <summary>Makes a received message visible again after <paramref name="visibilityTimeout"/> (zero: at once), keeping its text.</summary>
    public async Task<UpdatedMessage> UpdateVisibilityAsync(string messageId, string popReceipt, TimeSpan visibilityTimeout, CancellationToken cancellationToken = default)
    {
        using var message = CreateMessage(RequestMethod.Put, MessagePath(messageId));
        message.Request.Uri.AppendQuery("popreceipt", popReceipt, escapeValue: true);
        message.Request.Uri.AppendQuery("visibilitytimeout", Seconds(visibilityTimeout), escapeValue: false);
        await SendAsync(message, cancellationToken).ConfigureAwait(false);
        StorageErrors.EnsureStatus(message.Response, $"Updating a message of queue {Name}", 204);
        var response = message.Response;
        response.Headers.TryGetValue("x-ms-popreceipt", out var newReceipt);
        response.Headers.TryGetValue("x-ms-time-next-visible", out var nextVisible);
        return new UpdatedMessage(
            newReceipt ?? throw new RequestFailedException(response.Status, $"Updating a message of queue {Name}: no new pop receipt in the answer."),
            string.IsNullOrEmpty(nextVisible) ? null : Time(nextVisible));
    }

    /// <summary>The service's approximate count of messages in the queue, visible or not (queue metadata).</summary>
    public async Task<int> GetApproximateMessageCountAsync(CancellationToken cancellationToken = default)
    {
        using var message = CreateMessage(RequestMethod.Get, Name);
        message.Request.Uri.AppendQuery("comp", "metadata", escapeValue: false);
        await SendAsync(message, cancellationToken).ConfigureAwait(false);
        StorageErrors.EnsureStatus(message.Response, $"Reading the metadata of queue {Name}", 200);
        return message.Response.Headers.TryGetValue("x-ms-approximate-messages-count", out var count)
               && int.TryParse(count, NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new RequestFailedException(message.Response.Status, $"Reading the metadata of queue {Name}: no message count in the answer.");
    }

    private string MessagePath(string messageId)
    {
        ArgumentException.ThrowIfNullOrEmpty(messageId);
        return Name + "/messages/" + Uri.EscapeDataString(messageId);
    }

    private HttpMessage CreateMessage(RequestMethod method, string path) => _service.CreateMessage(method, path);

    private Task SendAsync(HttpMessage message, CancellationToken cancellationToken) => _service.SendAsync(message, cancellationToken).AsTask();

    private static IEnumerable<XElement> MessageElements(Response response)
    {
        var content = response.Content.ToMemory();
        if (content.IsEmpty)
        {
            return [];
        }

        var root = XDocument.Parse(Encoding.UTF8.GetString(content.Span)).Root;
        return root?.Elements("QueueMessage") ?? [];
    }

    private static string Required(XElement item, string name) =>
        item.Element(name)?.Value ?? throw new FormatException($"The queue service's answer lacks {name}.");

    private static DateTimeOffset Time(string text) =>
        DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);

    private static DateTimeOffset? OptionalTime(XElement item, string name) =>
        item.Element(name)?.Value is { Length: > 0 } text ? Time(text) : null;

    private static string Seconds(TimeSpan value)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(value, TimeSpan.Zero);
        return ((long)Math.Ceiling(value.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
    }

}
