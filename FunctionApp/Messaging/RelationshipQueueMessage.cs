using System.Globalization;
using System.Text;
using FunctionApp.Core;

namespace FunctionApp.Messaging;

/// <summary>
/// The standalone queue's message text: base64 of the UTF-8 JSON of one <see cref="RelationshipBatch"/>
/// (<see cref="RelationshipBatchJson"/>), so no character of the batch needs XML escaping. The queue clients keep the
/// SDK's <c>QueueMessageEncoding.None</c> and this codec does the base64 itself: the text on the wire is the same as
/// with <c>QueueMessageEncoding.Base64</c>, but a message that is not base64 is still received, and so reaches the
/// poison queue, instead of failing the whole receive in the SDK's decoder. A message the drain redelivers after a
/// store failure carries its <see cref="RedeliveryState"/> in front of that text (<see cref="RedeliveryPrefix"/>).
/// </summary>
public static class RelationshipQueueMessage
{
    /// <summary>
    /// Largest batch JSON (bytes) the ingestor puts in one standalone message. Base64 makes 4 characters of every 3
    /// bytes, and the service holds 64 KiB of text: 48 KiB would fill it exactly, 47 KiB (64,172 characters) keeps clear.
    /// </summary>
    public const int MaxBatchJsonBytes = 47 * 1024;

    public static string Encode(RelationshipBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        return Convert.ToBase64String(RelationshipBatchJson.Serialize(batch));
    }

    /// <summary>Marks a redelivered message's text: <c>retry:{generation}:{first failure, Unix ms}:{base64}</c> (':' is not base64).</summary>
    public const string RedeliveryPrefix = "retry:";

    /// <summary>The batch in a message; <see cref="InvalidBatchException"/> when the text is not base64 of one.</summary>
    public static RelationshipBatch Decode(string messageText) => RelationshipBatchJson.Deserialize(DecodeJson(Read(messageText).Payload));

    /// <summary>
    /// Splits a message text into the redelivery state it carries (null on a first delivery, or when the prefix does
    /// not parse: the text is then taken whole, and fails as not base64) and the payload, the base64 text as first put.
    /// </summary>
    public static (RedeliveryState? State, string Payload) Read(string messageText)
    {
        ArgumentNullException.ThrowIfNull(messageText);
        if (!messageText.StartsWith(RedeliveryPrefix, StringComparison.Ordinal))
        {
            return (null, messageText);
        }

        var parts = messageText.Split(':', 4);
        return parts.Length == 4
               && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var generation) && generation > 0
               && long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var milliseconds)
               && milliseconds <= DateTimeOffset.MaxValue.ToUnixTimeMilliseconds()
            ? (new RedeliveryState(generation, DateTimeOffset.FromUnixTimeMilliseconds(milliseconds)), parts[3])
            : (null, messageText);
    }

    /// <summary>The text of a redelivered message: the payload as first put, behind its redelivery state.</summary>
    public static string WithRedelivery(string payload, RedeliveryState state)
    {
        ArgumentNullException.ThrowIfNull(payload);
        return string.Create(CultureInfo.InvariantCulture, $"{RedeliveryPrefix}{state.Generation}:{state.FirstFailedAt.ToUnixTimeMilliseconds()}:{payload}");
    }

    /// <summary>The batch JSON in a payload; <see cref="InvalidBatchException"/> when it is not base64.</summary>
    public static byte[] DecodeJson(string payload)
    {
        ArgumentNullException.ThrowIfNull(payload);
        try
        {
            return Convert.FromBase64String(payload);
        }
        catch (FormatException ex)
        {
            throw new InvalidBatchException($"The message text is not base64 ({payload.Length} characters, starting '{Start(payload)}').", ex);
        }
    }

    private static string Start(string text)
    {
        var start = text.Length <= 16 ? text : text[..16];
        var printable = new StringBuilder(start.Length);
        foreach (var c in start)
        {
            printable.Append(char.IsControl(c) ? '?' : c);
        }

        return printable.ToString();
    }
}
