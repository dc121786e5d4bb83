using System.Globalization;
using System.Text;
using FunctionApp.Core;

namespace FunctionApp.Storage.Relationships;

/// <summary>
/// Table keys of the relationship tables. Ids are kept readable: only what Table keys forbid (<c>/ \ # ?</c>, control
/// characters U+0000-U+001F and U+007F-U+009F), the escape character <c>%</c> and the separator <c>|</c> become
/// <c>%XX</c> (the character's code, two hex digits); quotes and non-ASCII stay as they are. So every id round-trips
/// and <c>1400000001|alice</c> reads as it should in a table browser.
/// </summary>
public static class RelationshipKeys
{
    public const char Separator = '|';

    /// <summary>The Table service's key limit: 1 KiB of UTF-16, that is 512 characters.</summary>
    public const int MaxKeyLength = 512;

    public static string Escape(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        if (!id.Any(MustEscape))
        {
            return id;
        }

        var builder = new StringBuilder(id.Length + 8);
        foreach (var c in id)
        {
            if (MustEscape(c))
            {
                builder.Append('%').Append(((int)c).ToString("X2", CultureInfo.InvariantCulture));
            }
            else
            {
                builder.Append(c);
            }
        }

        return builder.ToString();
    }

    public static string Unescape(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (!key.Contains('%', StringComparison.Ordinal))
        {
            return key;
        }

        var builder = new StringBuilder(key.Length);
        for (var i = 0; i < key.Length; i++)
        {
            if (key[i] == '%' && i + 2 < key.Length
                && int.TryParse(key.AsSpan(i + 1, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var code))
            {
                builder.Append((char)code);
                i += 2;
            }
            else
            {
                builder.Append(key[i]);
            }
        }

        return builder.ToString();
    }

    private static bool MustEscape(char c) =>
        c is '/' or '\\' or '#' or '?' or '%' or Separator || c <= '\u001F' || c is >= '\u007F' and <= '\u009F';

    /// <summary>A user's partition in every relationship table: <c>{app}|{user}</c>.</summary>
    public static string UserPartition(string appId, string userId) => Checked(Escape(appId) + Separator + Escape(userId));

    /// <summary>An edge's row in its owner's (or peer's) partition: <c>{kind}|{other user}</c>.</summary>
    public static string EdgeRow(RelationshipKind kind, string otherUserId) => Checked(KindName(kind) + Separator + Escape(otherUserId));

    /// <summary>First row key of a kind's range; every row of the kind sorts at or after it and before <see cref="KindRangeEnd"/>.</summary>
    public static string KindRangeStart(RelationshipKind kind) => KindName(kind) + Separator;

    /// <summary>'}' is the character after '|', so this bounds the kind's range.</summary>
    public static string KindRangeEnd(RelationshipKind kind) => KindName(kind) + '}';

    /// <summary>
    /// A history row: <c>{inverted occurrence ticks}|{inverted receive ticks}|{event id}</c>, 19 digits each, so rows list
    /// newest first in the order the edge's <see cref="EventVersion"/> uses (source time, then receive time). Built from the
    /// event's first receipt, so every copy of an event maps to this one row.
    /// </summary>
    public static string HistoryRow(DateTimeOffset occurredAt, DateTimeOffset receivedAt, string eventId) =>
        Checked(Inverted(occurredAt) + Separator + Inverted(receivedAt) + Separator + Escape(eventId));

    /// <summary>The history row of earlier versions, <c>{inverted occurrence ticks}|{event id}</c>: still read, no longer written.</summary>
    public static string LegacyHistoryRow(DateTimeOffset occurredAt, string eventId) =>
        Checked(Inverted(occurredAt) + Separator + Escape(eventId));

    /// <summary>First row key after every history row (they begin with a digit); receipts sort after it.</summary>
    public const string HistoryRangeEnd = ":";

    /// <summary>Prefix of receipt rows in the owner's history partition.</summary>
    public const string ReceiptPrefix = "receipt|";

    /// <summary>An event's receipt row in its owner's history partition: <c>receipt|{event id}</c>.</summary>
    public static string ReceiptRow(string eventId) => Checked(ReceiptPrefix + Escape(eventId));

    private static string Inverted(DateTimeOffset time) =>
        (DateTimeOffset.MaxValue.UtcTicks - time.UtcTicks).ToString("D19", CultureInfo.InvariantCulture);

    public static string KindName(RelationshipKind kind) => kind switch
    {
        RelationshipKind.Friend => "friend",
        RelationshipKind.Block => "block",
        RelationshipKind.FriendRequest => "friend-request",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    public static RelationshipKind ParseKind(string? name) => name switch
    {
        "friend" => RelationshipKind.Friend,
        "block" => RelationshipKind.Block,
        "friend-request" => RelationshipKind.FriendRequest,
        _ => throw new FormatException($"Unknown relationship kind '{name}' in the store."),
    };

    public static string ActionName(RelationshipAction action) => action switch
    {
        RelationshipAction.Added => "added",
        RelationshipAction.Removed => "removed",
        RelationshipAction.Updated => "updated",
        RelationshipAction.Requested => "requested",
        RelationshipAction.Responded => "responded",
        _ => throw new ArgumentOutOfRangeException(nameof(action), action, null),
    };

    public static RelationshipAction ParseAction(string? name) => name switch
    {
        "added" => RelationshipAction.Added,
        "removed" => RelationshipAction.Removed,
        "updated" => RelationshipAction.Updated,
        "requested" => RelationshipAction.Requested,
        "responded" => RelationshipAction.Responded,
        _ => throw new FormatException($"Unknown relationship action '{name}' in the store."),
    };

    private static string Checked(string key) => key.Length <= MaxKeyLength
        ? key
        : throw new ArgumentException($"A table key would be {key.Length} characters long; the Table service allows {MaxKeyLength}.");
}
