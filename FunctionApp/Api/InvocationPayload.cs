using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using FunctionApp.Core;

namespace FunctionApp.Api;

/// <summary>
/// Reads the Functions host's custom-handler invocation payload, <c>{"Data": {...}, "Metadata": {...}}</c>.
/// Names are matched case-insensitively; every shape the host has used is accepted (see DESIGN.md section 2).
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
    /// Turns <c>Data.{bindingName}</c> of an HTTP trigger (<c>{Url, Method, Query, Headers, Params, Identities, Body}</c>)
    /// into an <see cref="InboundCallback"/>, reading at most <paramref name="readLimit"/> bytes of the body.
    /// </summary>
    public static InboundCallback ReadHttpTrigger(JsonElement root, string bindingName, int readLimit, DateTimeOffset receivedAt)
    {
        var request = ReadBinding(root, bindingName);
        if (request.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidInvocationException($"Data.{bindingName} is JSON {request.ValueKind}, not an HTTP request object.");
        }

        var headers = ReadHeaders(request);
        var (platform, restPath) = ReadRoute(request);
        return new InboundCallback(platform, restPath, ReadQuery(request), headers, ReadBody(request, headers, readLimit), receivedAt);
    }

    private static Dictionary<string, string> ReadHeaders(JsonElement request)
    {
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (!TryGetProperty(request, "Headers", out var element) || element.ValueKind is JsonValueKind.Null)
        {
            return headers;
        }

        if (element.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidInvocationException($"Headers is JSON {element.ValueKind}, not an object.");
        }

        foreach (var header in element.EnumerateObject())
        {
            // The host sends each header as an array of strings; older shapes sent a single string.
            headers[header.Name] = header.Value.ValueKind == JsonValueKind.Array
                ? string.Join(',', header.Value.EnumerateArray().Select(v => AsText(v) ?? string.Empty))
                : AsText(header.Value) ?? string.Empty;
        }

        return headers;
    }

    private static Dictionary<string, string> ReadQuery(JsonElement request)
    {
        var query = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (!TryGetProperty(request, "Query", out var element) || element.ValueKind is JsonValueKind.Null)
        {
            return query;
        }

        if (element.ValueKind == JsonValueKind.String)
        {
            // Older hosts send the query as a JSON-encoded string of the same object.
            var text = element.GetString()!;
            if (string.IsNullOrWhiteSpace(text))
            {
                return query;
            }

            try
            {
                using var document = JsonDocument.Parse(text);
                return document.RootElement.ValueKind == JsonValueKind.Object
                    ? CopyQuery(document.RootElement, query)
                    : throw new InvalidInvocationException($"Query is a string holding JSON {document.RootElement.ValueKind}, not an object.");
            }
            catch (JsonException ex)
            {
                throw new InvalidInvocationException($"Query is a string that is not JSON: {ex.Message}", ex);
            }
        }

        return element.ValueKind == JsonValueKind.Object
            ? CopyQuery(element, query)
            : throw new InvalidInvocationException($"Query is JSON {element.ValueKind}, not an object or a JSON string.");
    }

    private static Dictionary<string, string> CopyQuery(JsonElement source, Dictionary<string, string> query)
    {
        foreach (var parameter in source.EnumerateObject())
        {
            var value = parameter.Value.ValueKind == JsonValueKind.Array
                ? parameter.Value.EnumerateArray().Select(AsText).FirstOrDefault()
                : AsText(parameter.Value);
            query.TryAdd(parameter.Name, value ?? string.Empty);
        }

        return query;
    }

    /// <summary>The route values <c>platform</c> and <c>rest</c> from Params; from the Url path when Params lacks them.</summary>
    private static (string Platform, string RestPath) ReadRoute(JsonElement request)
    {
        if (TryGetProperty(request, "Params", out var parameters) && parameters.ValueKind == JsonValueKind.Object
            && TryGetProperty(parameters, "platform", out var platformElement) && AsText(platformElement) is { Length: > 0 } platform)
        {
            var rest = TryGetProperty(parameters, "rest", out var restElement) ? AsText(restElement) ?? string.Empty : string.Empty;
            return (platform, rest.TrimStart('/'));
        }

        if (TryGetProperty(request, "Url", out var urlElement) && AsText(urlElement) is { } url
            && Uri.TryCreate(url, UriKind.Absolute, out var uri))
        {
            var segments = uri.GetComponents(UriComponents.Path, UriFormat.UriEscaped).Split('/');
            var callbacks = Array.FindIndex(segments, s => s.Equals("callbacks", StringComparison.OrdinalIgnoreCase));
            if (callbacks >= 0 && callbacks + 1 < segments.Length)
            {
                var decoded = new string[segments.Length - callbacks - 1];
                for (var i = 0; i < decoded.Length; i++)
                {
                    if (!RawPath.TryDecodeSegment(segments[callbacks + 1 + i], out decoded[i]))
                    {
                        throw new InvalidInvocationException("The Url path is not valid percent-encoded UTF-8.");
                    }
                }

                if (decoded[0].Length > 0)
                {
                    return (decoded[0], string.Join('/', decoded.Skip(1)));
                }
            }
        }

        throw new InvalidInvocationException("The request has no 'platform' in Params and its Url has no /callbacks/{platform} path.");
    }

    private static byte[] ReadBody(JsonElement request, IReadOnlyDictionary<string, string> headers, int readLimit)
    {
        if (!TryGetProperty(request, "Body", out var element) || element.ValueKind is JsonValueKind.Null)
        {
            return [];
        }

        byte[] body;
        if (element.ValueKind == JsonValueKind.String)
        {
            var text = element.GetString()!;
            if (IsBase64Encoded(headers))
            {
                try
                {
                    body = Convert.FromBase64String(text);
                }
                catch (FormatException ex)
                {
                    throw new InvalidInvocationException("Body of an octet-stream or multipart request is not base64.", ex);
                }
            }
            else
            {
                body = Encoding.UTF8.GetBytes(text);
            }
        }
        else
        {
            // Not a shape the host sends today; keep the JSON as the platform sent it rather than refusing it.
            body = Encoding.UTF8.GetBytes(element.GetRawText());
        }

        return body.Length > readLimit ? body[..readLimit] : body;
    }

    /// <summary>The host passes octet-stream and multipart bodies as base64 of their bytes, every other body as text.</summary>
    private static bool IsBase64Encoded(IReadOnlyDictionary<string, string> headers) =>
        headers.TryGetValue("Content-Type", out var contentType)
        && MediaTypeHeaderValue.TryParse(contentType, out var mediaType)
        && mediaType.MediaType is { } name
        && (name.Equals("application/octet-stream", StringComparison.OrdinalIgnoreCase)
            || name.StartsWith("multipart/", StringComparison.OrdinalIgnoreCase));

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
