using System.Text.Json.Serialization;

namespace FunctionApp.Api;

/// <summary>An RFC 7807 problem body.</summary>
public sealed record ProblemBody(
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("title")] string Title,
    [property: JsonPropertyName("status")] int Status,
    [property: JsonPropertyName("detail")] string Detail);

/// <summary>The problem kinds the HTTP API answers with, and how they are written.</summary>
public static class Problems
{
    public const string ContentType = "application/problem+json";

    private const string TypePrefix = "urn:relationship-callbacks:problem:";

    public const string InvalidParameter = TypePrefix + "invalid-parameter";
    public const string InvalidContinuation = TypePrefix + "invalid-continuation";
    public const string ApiKeyRequired = TypePrefix + "api-key-required";
    public const string ApiKeyRejected = TypePrefix + "api-key-rejected";
    public const string LoopbackOnly = TypePrefix + "loopback-only";
    public const string NotFound = TypePrefix + "not-found";
    public const string MethodNotAllowed = TypePrefix + "method-not-allowed";
    public const string StoreUnavailable = TypePrefix + "store-unavailable";
    public const string HttpError = TypePrefix + "http-error";

    public static Task WriteAsync(HttpContext context, int status, string type, string title, string detail)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Response.StatusCode = status;
        return context.Response.WriteAsJsonAsync(
            new ProblemBody(type, title, status, detail), ApiJsonContext.Default.ProblemBody, ContentType, context.RequestAborted);
    }

    public static Task InvalidParameterAsync(HttpContext context, string detail) =>
        WriteAsync(context, StatusCodes.Status400BadRequest, InvalidParameter, "Invalid parameter", detail);

    public static Task NotFoundAsync(HttpContext context) =>
        WriteAsync(context, StatusCodes.Status404NotFound, NotFound, "Not found",
            "No route matches this path. The query API serves /api/v1/apps/{appId}/users/{userId}/friends|blocklist|friend-of|blocked-by|history and /api/health.");

    /// <summary>
    /// Turns a bodiless error status set by the framework (405 from routing, for example) into a problem body.
    /// </summary>
    internal static Task ForBareStatusCodeAsync(HttpContext context)
    {
        var status = context.Response.StatusCode;
        return status switch
        {
            StatusCodes.Status404NotFound => NotFoundAsync(context),
            StatusCodes.Status405MethodNotAllowed => WriteAsync(context, status, MethodNotAllowed, "Method not allowed",
                $"{context.Request.Method} is not allowed on this route."),
            _ => WriteAsync(context, status, HttpError, "HTTP error", $"The request ended with status {status}."),
        };
    }
}
