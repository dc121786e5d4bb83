using System.Text.Json;
using System.Xml.Linq;
using Azure;

namespace FunctionApp.Storage.Http;

/// <summary>
/// Turns a failed storage response into Azure.Core's <see cref="RequestFailedException"/> with the HTTP status and the
/// service's error code, read from <c>x-ms-error-code</c>, the JSON <c>odata.error</c> (Table) or the XML <c>Error</c> (Queue, Blob).
/// </summary>
public static class StorageErrors
{
    /// <summary>Throws the service's error unless the response has one of the <paramref name="expected"/> statuses.</summary>
    public static void EnsureStatus(Response response, string operation, params int[] expected)
    {
        ArgumentNullException.ThrowIfNull(response);
        ArgumentNullException.ThrowIfNull(expected);
        if (Array.IndexOf(expected, response.Status) < 0)
        {
            throw ToException(response, operation);
        }
    }

    public static RequestFailedException ToException(Response response, string operation)
    {
        ArgumentNullException.ThrowIfNull(response);
        var (code, message) = Parse(response.Content?.ToMemory() ?? ReadOnlyMemory<byte>.Empty);
        if (response.Headers.TryGetValue("x-ms-error-code", out var headerCode) && !string.IsNullOrEmpty(headerCode))
        {
            code = headerCode;
        }

        var text = $"{operation} failed with {response.Status} {response.ReasonPhrase}" +
                   (code is null ? "" : $" ({code})") + (message is null ? "." : $": {FirstLine(message)}");
        return new RequestFailedException(response.Status, text, code, null);
    }

    /// <summary>Error code and message from a Table (JSON) or Queue/Blob (XML) error body; nulls when there is none.</summary>
    public static (string? Code, string? Message) Parse(ReadOnlyMemory<byte> body)
    {
        var span = body.Span.TrimStart(" \t\r\n"u8);
        if (span.IsEmpty)
        {
            return (null, null);
        }

        try
        {
            if (span[0] == (byte)'{')
            {
                using var document = JsonDocument.Parse(body);
                if (document.RootElement.TryGetProperty("odata.error", out var error))
                {
                    var code = error.TryGetProperty("code", out var c) ? c.GetString() : null;
                    string? message = null;
                    if (error.TryGetProperty("message", out var m))
                    {
                        message = m.ValueKind == JsonValueKind.Object && m.TryGetProperty("value", out var v) ? v.GetString() : m.ToString();
                    }

                    return (code, message);
                }
            }
            else if (span[0] == (byte)'<')
            {
                var root = XDocument.Parse(System.Text.Encoding.UTF8.GetString(span)).Root;
                return (root?.Element("Code")?.Value, root?.Element("Message")?.Value);
            }
        }
        catch (Exception ex) when (ex is JsonException or System.Xml.XmlException)
        {
            // A body that is not a service error (a proxy's page, say) leaves only the status to report.
        }

        return (null, null);
    }

    private static string FirstLine(string message)
    {
        var newline = message.IndexOf('\n', StringComparison.Ordinal);
        return newline < 0 ? message : message[..newline];
    }
}
