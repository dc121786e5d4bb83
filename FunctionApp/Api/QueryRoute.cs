namespace FunctionApp.Api;

/// <summary>Which view of a user the query API was asked for.</summary>
public enum QueryView
{
    Friends,
    Blocklist,
    FriendOf,
    BlockedBy,
    History,
}

/// <summary>A parsed query route, with app and user ids percent-decoded exactly once.</summary>
public sealed record QueryRoute(string AppId, string UserId, QueryView View)
{
    /// <summary>
    /// Parses <c>api/v1/apps/{appId}/users/{userId}/{view}</c> from still-encoded segments. Null with a null
    /// <paramref name="error"/>: no such route (404). Null with an error: the route matched but an id is invalid (400).
    /// </summary>
    public static QueryRoute? TryParse(IReadOnlyList<string> encodedSegments, out string? error)
    {
        ArgumentNullException.ThrowIfNull(encodedSegments);
        error = null;
        if (encodedSegments.Count != 7
            || !IsLiteral(encodedSegments[0], "api")
            || !IsLiteral(encodedSegments[1], "v1")
            || !IsLiteral(encodedSegments[2], "apps")
            || !IsLiteral(encodedSegments[4], "users")
            || ViewOf(encodedSegments[6]) is not { } view)
        {
            return null;
        }

        if (!TryDecodeId(encodedSegments[3], "appId", out var appId, out error)
            || !TryDecodeId(encodedSegments[5], "userId", out var userId, out error))
        {
            return null;
        }

        return new QueryRoute(appId, userId, view);
    }

    internal static bool IsLiteral(string segment, string literal) => segment.Equals(literal, StringComparison.OrdinalIgnoreCase);

    private static QueryView? ViewOf(string segment) => segment.ToUpperInvariant() switch
    {
        "FRIENDS" => QueryView.Friends,
        "BLOCKLIST" => QueryView.Blocklist,
        "FRIEND-OF" => QueryView.FriendOf,
        "BLOCKED-BY" => QueryView.BlockedBy,
        "HISTORY" => QueryView.History,
        _ => null,
    };

    internal static bool TryDecodeId(string encoded, string name, out string value, out string? error)
    {
        if (!RawPath.TryDecodeSegment(encoded, out value))
        {
            error = $"The {name} path segment is not valid percent-encoded UTF-8.";
            return false;
        }

        if (value.Length == 0)
        {
            error = $"The {name} path segment is empty.";
            return false;
        }

        error = null;
        return true;
    }
}
