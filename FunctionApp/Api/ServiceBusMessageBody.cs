using System.Text;
using System.Text.Json;
using FunctionApp.Core;

namespace FunctionApp.Api;

/// <summary>
/// Recovers the message bytes from <c>Data.message</c> of a Service Bus trigger invocation. The Functions host
/// converts the trigger value before handing it over: a value it can turn into an object arrives as a JSON object;
/// a string body arrives JSON-encoded once more (so as a string holding a quoted string); a byte body arrives as
/// base64. Hand-written payloads and older hosts also send the message text as a plain string. All are accepted.
/// </summary>
public static class ServiceBusMessageBody
{
    private const int MaxUnwrapDepth = 3;

    /// <summary>The message as UTF-8 JSON bytes; throws <see cref="InvalidBatchException"/> when it is none of the forms.</summary>
    public static byte[] Decode(JsonElement message) => message.ValueKind switch
    {
        JsonValueKind.Object => Encoding.UTF8.GetBytes(message.GetRawText()),
        JsonValueKind.String => DecodeText(message.GetString()!, depth: 0),
        _ => throw new InvalidBatchException($"The message arrived as JSON {message.ValueKind}, not as an object or a string."),
    };

    private static byte[] DecodeText(string text, int depth)
    {
        var trimmed = text.AsSpan().TrimStart("\uFEFF \t\r\n");
        if (trimmed.StartsWith("{"))
        {
            return Encoding.UTF8.GetBytes(trimmed.ToString());
        }

        if (depth < MaxUnwrapDepth && trimmed.StartsWith("\""))
        {
            string? inner;
            try
            {
                using var document = JsonDocument.Parse(trimmed.ToString());
                inner = document.RootElement.ValueKind == JsonValueKind.String ? document.RootElement.GetString() : null;
            }
            catch (JsonException ex)
            {
                throw new InvalidBatchException($"The message is a quoted string that is not valid JSON: {ex.Message}", ex);
            }

            return inner is null
                ? throw new InvalidBatchException("The message is a quoted value that is not a JSON string.")
                : DecodeText(inner, depth + 1);
        }

        if (depth < MaxUnwrapDepth && TryFromBase64(trimmed, out var bytes))
        {
            return DecodeText(Encoding.UTF8.GetString(bytes), depth + 1);
        }

        throw new InvalidBatchException("The message is neither a JSON object, nor a JSON string holding one, nor base64 of one.");
    }

    private static bool TryFromBase64(ReadOnlySpan<char> text, out byte[] bytes)
    {
        var trimmed = text.TrimEnd("\uFEFF \t\r\n");
        var buffer = new byte[(trimmed.Length * 3 / 4) + 3];
        if (trimmed.Length > 0 && Convert.TryFromBase64Chars(trimmed, buffer, out var written))
        {
            bytes = buffer[..written];
            return true;
        }

        bytes = [];
        return false;
    }
}
