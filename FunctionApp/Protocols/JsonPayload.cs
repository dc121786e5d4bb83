using System.Globalization;
using System.Text.Json;
using System.Text.Unicode;

namespace FunctionApp.Protocols;

/// <summary>
/// Strict reading of a callback body: one JSON object, valid UTF-8, bounded depth, no duplicate property names (a
/// duplicate would let two readers of the same body disagree on who the owner is), and a specific message for every
/// field of the wrong type. Field names are matched exactly as the platforms document them.
/// </summary>
internal static class JsonPayload
{
    private static readonly JsonDocumentOptions DocumentOptions = new()
    {
        MaxDepth = 32,
        AllowDuplicateProperties = false,
        CommentHandling = JsonCommentHandling.Disallow,
        AllowTrailingCommas = false,
    };

    public static JsonDocument ParseObject(ReadOnlyMemory<byte> body)
    {
        var bytes = body;
        if (bytes.Span.StartsWith("\uFEFF"u8))
        {
            bytes = bytes[3..];
        }

        if (bytes.Span.Trim(" \t\r\n"u8).IsEmpty)
        {
            throw new CallbackRejectedException(CallbackProblemKind.MalformedJson, "The body is empty; a JSON object was expected.");
        }

        if (!Utf8.IsValid(bytes.Span))
        {
            throw new CallbackRejectedException(CallbackProblemKind.MalformedJson, "The body is not valid UTF-8.");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(bytes, DocumentOptions);
        }
        catch (JsonException ex)
        {
            throw new CallbackRejectedException(CallbackProblemKind.MalformedJson, $"The body is not well-formed JSON: {ex.Message}", ex);
        }

        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            var kind = document.RootElement.ValueKind;
            document.Dispose();
            throw new CallbackRejectedException(CallbackProblemKind.WrongType, $"The body is a JSON {Describe(kind)}; a JSON object was expected.");
        }

        return document;
    }

    /// <summary>A user id that must be there: a non-blank string no longer than the limit.</summary>
    public static string RequiredUserId(JsonElement owner, string name, string path, CallbackLimits limits)
    {
        if (!owner.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            throw new CallbackRejectedException(CallbackProblemKind.MissingField, $"{path} is missing.");
        }

        return UserId(value, path, limits);
    }

    /// <summary>A user id that may be absent (or null); when present it obeys the same rules as a required one.</summary>
    public static string? OptionalUserId(JsonElement owner, string name, string path, CallbackLimits limits) =>
        owner.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? UserId(value, path, limits) : null;

    public static string UserId(JsonElement value, string path, CallbackLimits limits)
    {
        var text = StringValue(value, path);
        if (string.IsNullOrWhiteSpace(text))
        {
            throw new CallbackRejectedException(CallbackProblemKind.MissingField, $"{path} is empty.");
        }

        if (text.Length > limits.MaxUserIdLength)
        {
            throw new CallbackRejectedException(CallbackProblemKind.InvalidValue,
                $"{path} is {text.Length} characters long; at most {limits.MaxUserIdLength} are accepted.");
        }

        return text;
    }

    /// <summary>Free text (a remark, a request message); null when absent or null. Cut at the attribute limit.</summary>
    public static string? OptionalText(JsonElement owner, string name, string path, CallbackLimits limits)
    {
        if (!owner.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        var text = StringValue(value, path);
        if (text.Length <= limits.MaxAttributeLength)
        {
            return text;
        }

        // Never cut a surrogate pair in half: the result must stay valid Unicode.
        var cut = limits.MaxAttributeLength;
        if (cut > 0 && char.IsHighSurrogate(text[cut - 1]))
        {
            cut--;
        }

        return text[..cut];
    }

    /// <summary>An integer that may be absent (or null). Numeric strings are accepted too, since senders differ.</summary>
    public static long? OptionalInteger(JsonElement owner, string name, string path)
    {
        if (!owner.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind == JsonValueKind.Number)
        {
            return value.TryGetInt64(out var number)
                ? number
                : throw new CallbackRejectedException(CallbackProblemKind.InvalidValue, $"{path} must be a whole number within 64 bits.");
        }

        if (value.ValueKind == JsonValueKind.String)
        {
            return long.TryParse(StringValue(value, path), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var parsed)
                ? parsed
                : throw new CallbackRejectedException(CallbackProblemKind.InvalidValue, $"{path} must be a whole number.");
        }

        throw new CallbackRejectedException(CallbackProblemKind.WrongType, $"{path} must be a number, not a JSON {Describe(value.ValueKind)}.");
    }

    /// <summary>A string field that may be absent (or null), taken as sent.</summary>
    public static string? OptionalString(JsonElement owner, string name, string path) =>
        owner.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? StringValue(value, path) : null;

    /// <summary>An array of objects that must be there, with at most <paramref name="maxItems"/> items.</summary>
    public static IReadOnlyList<JsonElement> RequiredObjectArray(JsonElement owner, string name, string path, int maxItems)
    {
        var array = RequiredArray(owner, name, path, maxItems);
        var items = new List<JsonElement>(array.GetArrayLength());
        var index = 0;
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Object)
            {
                throw new CallbackRejectedException(CallbackProblemKind.WrongType,
                    $"{path}[{index}] must be an object, not a JSON {Describe(item.ValueKind)}.");
            }

            items.Add(item);
            index++;
        }

        return items;
    }

    public static JsonElement RequiredArray(JsonElement owner, string name, string path, int maxItems)
    {
        if (!owner.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            throw new CallbackRejectedException(CallbackProblemKind.MissingField, $"{path} is missing.");
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            throw new CallbackRejectedException(CallbackProblemKind.WrongType, $"{path} must be an array, not a JSON {Describe(value.ValueKind)}.");
        }

        var count = value.GetArrayLength();
        if (count > maxItems)
        {
            throw new CallbackRejectedException(CallbackProblemKind.TooManyItems, $"{path} holds {count} items; at most {maxItems} are accepted.");
        }

        return value;
    }

    private static string StringValue(JsonElement value, string path)
    {
        if (value.ValueKind != JsonValueKind.String)
        {
            throw new CallbackRejectedException(CallbackProblemKind.WrongType, $"{path} must be a string, not a JSON {Describe(value.ValueKind)}.");
        }

        try
        {
            return value.GetString()!;
        }
        catch (InvalidOperationException ex)
        {
            // A lone surrogate escape (\ud800) cannot become a .NET string that round-trips through storage.
            throw new CallbackRejectedException(CallbackProblemKind.InvalidValue, $"{path} is not valid Unicode text.", ex);
        }
    }

    public static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "object",
        JsonValueKind.Array => "array",
        JsonValueKind.String => "string",
        JsonValueKind.Number => "number",
        JsonValueKind.True or JsonValueKind.False => "boolean",
        JsonValueKind.Null => "null",
        _ => "value",
    };
}
