using System.Globalization;
using FunctionApp.Core;
using Microsoft.Extensions.Primitives;

namespace FunctionApp.Api;

/// <summary>
/// <c>GET /api/v1/apps/{appId}/users/{userId}/friends|blocklist|friend-of|blocked-by|history</c>: reads the store.
/// One catch-all route, parsed from the raw request target, so that any user id round-trips (see <see cref="RawPath"/>).
/// </summary>
internal static class QueryEndpoints
{
    public const int DefaultTop = 100;
    public const int MaxTop = 1000;

    /// <summary>The Functions host's function-key query parameter: keys belong in a header, never in a URL.</summary>
    public const string FunctionKeyQueryParameter = "code";

    public static async Task HandleAsync(HttpContext context)
    {
        // A URL is written to proxy logs and request telemetry, so a key in it is refused even where the host took it.
        if (context.Request.Query.ContainsKey(FunctionKeyQueryParameter))
        {
            await Problems.InvalidParameterAsync(context,
                "Send the key in a header (x-functions-key on Azure Functions, x-api-key standalone), not in the code query parameter.");
            return;
        }

        // Keys may be scoped to apps, so the route (and its app id) is read first; refusals come before any store call.
        var route = QueryRoute.TryParse(RawPath.Segments(context), out var routeError);
        if (!await QueryApiAccess.AuthorizeAsync(context, route?.AppId))
        {
            return;
        }

        if (route is null)
        {
            await (routeError is null ? Problems.NotFoundAsync(context) : Problems.InvalidParameterAsync(context, routeError));
            return;
        }

        var query = context.Request.Query;
        if (!TryReadSingle(query, "top", out var topText, out var error)
            || !TryReadSingle(query, "continuation", out var continuation, out error)
            || !TryParseTop(topText, out var top, out error))
        {
            await Problems.InvalidParameterAsync(context, error!);
            return;
        }

        HistoryFilter? filter = null;
        if (route.View == QueryView.History)
        {
            if (!TryReadSingle(query, "peer", out var peer, out error)
                || !TryReadSingle(query, "kind", out var kindText, out error)
                || !TryParseKind(kindText, out var kind, out error))
            {
                await Problems.InvalidParameterAsync(context, error!);
                return;
            }

            filter = new HistoryFilter(peer, kind);
        }

        var queries = context.RequestServices.GetRequiredService<IRelationshipQueries>();

        try
        {
            if (filter is null)
            {
                var page = await queries.ListEdgesAsync(route.AppId, route.UserId, EdgeListOf(route.View), top, continuation, context.RequestAborted);
                await context.Response.WriteAsJsonAsync(page, ApiJsonContext.Default.PageEdgeView, "application/json", context.RequestAborted);
            }
            else
            {
                var page = await queries.ListHistoryAsync(route.AppId, route.UserId, filter, top, continuation, context.RequestAborted);
                await context.Response.WriteAsJsonAsync(page, ApiJsonContext.Default.PageHistoryEntry, "application/json", context.RequestAborted);
            }
        }
        catch (ArgumentException ex) when (!context.Response.HasStarted)
        {
            // The store's contract: a malformed continuation token (or another bad argument) throws ArgumentException.
            await (continuation is null
                ? Problems.InvalidParameterAsync(context, ex.Message)
                : Problems.WriteAsync(context, StatusCodes.Status400BadRequest, Problems.InvalidContinuation, "Invalid continuation",
                    "The continuation token is not one this API issued for this query."));
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The caller went away; nobody is left to answer.
        }
        catch (Exception ex) when (!context.Response.HasStarted)
        {
            ApiLog.StoreUnavailable(Logger(context), route.View.ToString(), ex);
            context.Response.Headers.RetryAfter = "5";
            await Problems.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, Problems.StoreUnavailable, "Store unavailable",
                "The relationship store did not answer. Try again later.");
        }
    }

    private static ILogger Logger(HttpContext context) =>
        context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("FunctionApp.Api.Queries");

    private static EdgeListKind EdgeListOf(QueryView view) => view switch
    {
        QueryView.Friends => EdgeListKind.Friends,
        QueryView.Blocklist => EdgeListKind.Blocklist,
        QueryView.FriendOf => EdgeListKind.FriendOf,
        QueryView.BlockedBy => EdgeListKind.BlockedBy,
        _ => throw new ArgumentOutOfRangeException(nameof(view), view, "Not an edge list."),
    };

    /// <summary>One value or none; an empty value counts as none. A parameter given twice is ambiguous: refused.</summary>
    private static bool TryReadSingle(IQueryCollection query, string name, out string? value, out string? error)
    {
        value = null;
        error = null;
        if (!query.TryGetValue(name, out StringValues values))
        {
            return true;
        }

        if (values.Count > 1)
        {
            error = $"Query parameter '{name}' is given more than once.";
            return false;
        }

        value = string.IsNullOrEmpty(values[0]) ? null : values[0];
        return true;
    }

    private static bool TryParseTop(string? text, out int top, out string? error)
    {
        error = null;
        if (text is null)
        {
            top = DefaultTop;
            return true;
        }

        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out top) && top is >= 1 and <= MaxTop)
        {
            return true;
        }

        error = $"Query parameter 'top' must be a whole number from 1 to {MaxTop}; it is '{text}'.";
        return false;
    }

    private static bool TryParseKind(string? text, out RelationshipKind? kind, out string? error)
    {
        error = null;
        kind = null;
        switch (text?.ToUpperInvariant())
        {
            case null:
                return true;
            case "FRIEND":
                kind = RelationshipKind.Friend;
                return true;
            case "BLOCK":
                kind = RelationshipKind.Block;
                return true;
            case "FRIEND-REQUEST":
                kind = RelationshipKind.FriendRequest;
                return true;
            default:
                error = $"Query parameter 'kind' must be friend, block or friend-request; it is '{text}'.";
                return false;
        }
    }
}
