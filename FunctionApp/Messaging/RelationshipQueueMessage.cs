using System.Text;
using FunctionApp.Core;

namespace FunctionApp.Messaging;

/// <summary>
/// The standalone queue's message text: base64 of the UTF-8 JSON of one <see cref="RelationshipBatch"/>
/// (<see cref="RelationshipBatchJson"/>), so no character of the batch needs XML escaping. The queue clients keep the
/// SDK's <c>QueueMessageEncoding.None</c> and this codec does the base64 itself: the text on the wire is the same as
/// with <c>QueueMessageEncoding.Base64</c>, but a message that is not base64 is still received, and so reaches the
/// poison queue, instead of failing the whole receive in the SDK's decoder.
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

    /// <summary>The batch in a message; <see cref="InvalidBatchException"/> when the text is not base64 of one.</summary>
    public static RelationshipBatch Decode(string messageText)
    {
        ArgumentNullException.ThrowIfNull(messageText);
        byte[] json;
        try
        {
            json = Convert.FromBase64String(messageText);
        }
        catch (FormatException ex)
        {
            throw new InvalidBatchException($"The message text is not base64 ({messageText.Length} characters, starting '{Start(messageText)}').", ex);
        }

        return RelationshipBatchJson.Deserialize(json);
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
