using System.Text;
using System.Text.Json;
using FunctionApp.Core;

namespace FunctionApp.Protocols;

/// <summary>RFC 7807 answers, for requests that reach no platform (so no platform format applies).</summary>
public static class ProblemDetailsAnswer
{
    public const string ContentType = "application/problem+json";

    public static CallbackAnswer Create(int status, string title, string detail)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("type", "about:blank");
            writer.WriteString("title", title);
            writer.WriteNumber("status", status);
            writer.WriteString("detail", detail);
            writer.WriteEndObject();
        }

        return new CallbackAnswer(status, ContentType, Encoding.UTF8.GetString(buffer.ToArray()));
    }
}
