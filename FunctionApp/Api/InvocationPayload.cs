using System.Text.Json;

namespace FunctionApp.Api;

/// <summary>
/// Reads the Functions host's custom-handler invocation payload, <c>{"Data": {...}, "Metadata": {...}}</c>, of the one
/// invoked function, <c>ApplyRelationshipEvents</c> (HTTP functions are forwarded raw). Names are matched
/// case-insensitively; every shape the host has used is accepted (see DESIGN.md section 2).
/// </summary>
public static class InvocationPayload
{
    /// <summary>The <c>Data</c> entry of the trigger or input binding <paramref name="bindingName"/>.</summary>
    public static JsonElement ReadBinding(JsonElement root, string bindingName)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidInvocationException($"The invocation payload is JSON {root.ValueKind}, not an object.");
        }

        if (!TryGetProperty(root, "Data", out var data) || data.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidInvocationException("The invocation payload has no Data object.");
        }

        if (!TryGetProperty(data, bindingName, out var binding) || binding.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined)
        {
            throw new InvalidInvocationException($"The invocation payload has no Data.{bindingName}.");
        }

        return binding;
    }

    /// <summary>A value from <c>Metadata</c> as text (the Service Bus trigger's DeliveryCount, MessageId, ...), or null.</summary>
    public static string? ReadMetadata(JsonElement root, string name) =>
        root.ValueKind == JsonValueKind.Object
        && TryGetProperty(root, "Metadata", out var metadata)
        && metadata.ValueKind == JsonValueKind.Object
        && TryGetProperty(metadata, name, out var value)
            ? AsText(value)
            : null;

    /// <summary>
    /// The message's application properties from <c>Metadata.ApplicationProperties</c> (older hosts:
    /// <c>UserProperties</c>), a JSON object or a JSON string holding one, as a lookup by name: text as text, whole
    /// numbers as <see cref="long"/>; a name that is absent, or a payload without them, gives null.
    /// </summary>
    public static Func<string, object?> ReadMetadataProperties(JsonElement root)
    {
        var properties = new Dictionary<string, object?>(StringComparer.Ordinal);
        if (root.ValueKind == JsonValueKind.Object && TryGetProperty(root, "Metadata", out var metadata) && metadata.ValueKind == JsonValueKind.Object)
        {
            foreach (var name in new[] { "ApplicationProperties", "UserProperties" })
            {
                if (TryGetProperty(metadata, name, out var value) && Collect(value, properties))
                {
                    break;
                }
            }
        }

        return name => properties.GetValueOrDefault(name);
    }

    private static bool Collect(JsonElement value, Dictionary<string, object?> properties)
    {
        if (value.ValueKind == JsonValueKind.String)
        {
            try
            {
                using var inner = JsonDocument.Parse(value.GetString()!);
                return inner.RootElement.ValueKind == JsonValueKind.Object && Collect(inner.RootElement, properties);
            }
            catch (JsonException)
            {
                return false;
            }
        }

        if (value.ValueKind != JsonValueKind.Object)
        {
            return false;
        }

        foreach (var property in value.EnumerateObject())
        {
            properties[property.Name] = property.Value.ValueKind switch
            {
                JsonValueKind.String => property.Value.GetString(),
                JsonValueKind.Number when property.Value.TryGetInt64(out var number) => number,
                _ => AsText(property.Value),
            };
        }

        return true;
    }

    internal static bool TryGetProperty(JsonElement element, string name, out JsonElement value)
    {
        if (element.TryGetProperty(name, out value))
        {
            return true;
        }

        foreach (var property in element.EnumerateObject())
        {
            if (property.Name.Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                value = property.Value;
                return true;
            }
        }

        value = default;
        return false;
    }

    private static string? AsText(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString(),
        JsonValueKind.Null or JsonValueKind.Undefined => null,
        _ => value.GetRawText(),
    };
}
