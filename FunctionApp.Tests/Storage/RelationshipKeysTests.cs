using FunctionApp.Core;
using FunctionApp.Storage.Relationships;

namespace FunctionApp.Tests.Storage;

/// <summary>Table keys: what is escaped and what is not, how escapes read back, the key length limit and stored names.</summary>
public class RelationshipKeysTests
{
    [Theory]
    [InlineData("/", "%2F")]
    [InlineData("\\", "%5C")]
    [InlineData("#", "%23")]
    [InlineData("?", "%3F")]
    [InlineData("%", "%25")]
    [InlineData("|", "%7C")]
    [InlineData("\u0000", "%00")]
    [InlineData("\u001F", "%1F")]
    [InlineData("\u007F", "%7F")]
    [InlineData("\u009F", "%9F")]
    [InlineData("a|b/c", "a%7Cb%2Fc")]
    public void Characters_table_keys_forbid_the_escape_and_the_separator_become_two_hex_digits(string id, string key)
    {
        Assert.Equal(key, RelationshipKeys.Escape(id));
        Assert.Equal(id, RelationshipKeys.Unescape(key));
    }

    [Theory]
    [InlineData(" ")]
    [InlineData("~")]
    [InlineData("\u00A0")]
    [InlineData("'\"ü漢😀")]
    [InlineData("alice")]
    public void Other_characters_stay_as_they_are(string id)
    {
        Assert.Same(id, RelationshipKeys.Escape(id));
        Assert.Same(id, RelationshipKeys.Unescape(id));
    }

    [Theory]
    [InlineData("a%")]
    [InlineData("a%4")]
    [InlineData("%")]
    [InlineData("%zz")]
    [InlineData("%4g1")]
    public void A_truncated_or_malformed_escape_reads_as_it_is(string key)
    {
        Assert.Equal(key, RelationshipKeys.Unescape(key));
    }

    [Theory]
    [InlineData("%41", "A")]
    [InlineData("%41%42", "AB")]
    [InlineData("x%7c", "x|")]
    [InlineData("%2F%", "/%")]
    [InlineData("%2Fab", "/ab")]
    public void Escapes_read_back_wherever_they_are(string key, string id)
    {
        Assert.Equal(id, RelationshipKeys.Unescape(key));
    }

    [Fact]
    public void A_key_of_exactly_the_limit_is_made_and_one_character_more_is_refused()
    {
        Assert.Equal(RelationshipKeys.MaxKeyLength, RelationshipKeys.UserPartition("a", new string('u', RelationshipKeys.MaxKeyLength - 2)).Length);
        var error = Assert.Throws<ArgumentException>(() => RelationshipKeys.UserPartition("a", new string('u', RelationshipKeys.MaxKeyLength - 1)));
        Assert.Equal("A table key would be 513 characters long; the Table service allows 512.", error.Message);

        // Escaping counts: "friend|", "x" and 168 escaped "#" make a 512-character row key.
        Assert.Equal(RelationshipKeys.MaxKeyLength, RelationshipKeys.EdgeRow(RelationshipKind.Friend, "x" + new string('#', 168)).Length);
        Assert.Throws<ArgumentException>(() => RelationshipKeys.EdgeRow(RelationshipKind.Friend, new string('#', 169)));
        Assert.Throws<ArgumentException>(() => RelationshipKeys.ReceiptRow(new string('e', RelationshipKeys.MaxKeyLength)));
    }

    [Fact]
    public void Keys_have_their_documented_shapes()
    {
        Assert.Equal("1400000001|alice", RelationshipKeys.UserPartition("1400000001", "alice"));
        Assert.Equal("block|b%7Cc", RelationshipKeys.EdgeRow(RelationshipKind.Block, "b|c"));
        Assert.Equal("receipt|e%23", RelationshipKeys.ReceiptRow("e#"));
        Assert.Equal(("friend-request|", "friend-request}"), (RelationshipKeys.KindRangeStart(RelationshipKind.FriendRequest), RelationshipKeys.KindRangeEnd(RelationshipKind.FriendRequest)));
        Assert.Equal("0000000000000000000|0000000000000000000|e", RelationshipKeys.HistoryRow(DateTimeOffset.MaxValue, DateTimeOffset.MaxValue, "e"));
        Assert.Equal("3155378975999999999|e%2F", RelationshipKeys.LegacyHistoryRow(DateTimeOffset.MinValue, "e/"));
    }

    [Fact]
    public void Kinds_and_actions_read_back_from_their_stored_names()
    {
        foreach (var kind in Enum.GetValues<RelationshipKind>())
        {
            Assert.Equal(kind, RelationshipKeys.ParseKind(RelationshipKeys.KindName(kind)));
        }

        foreach (var action in Enum.GetValues<RelationshipAction>())
        {
            Assert.Equal(action, RelationshipKeys.ParseAction(RelationshipKeys.ActionName(action)));
        }

        Assert.Equal(["friend", "block", "friend-request"], Enum.GetValues<RelationshipKind>().Select(RelationshipKeys.KindName));
        Assert.Equal(["added", "removed", "updated", "requested", "responded"], Enum.GetValues<RelationshipAction>().Select(RelationshipKeys.ActionName));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("Friend")]
    [InlineData("unfriend")]
    public void An_unknown_kind_or_action_read_from_the_store_is_refused(string? name)
    {
        Assert.Contains($"'{name}'", Assert.Throws<FormatException>(() => RelationshipKeys.ParseKind(name)).Message, StringComparison.Ordinal);
        Assert.Contains($"'{name}'", Assert.Throws<FormatException>(() => RelationshipKeys.ParseAction(name)).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => RelationshipKeys.KindName((RelationshipKind)99));
        Assert.Throws<ArgumentOutOfRangeException>(() => RelationshipKeys.ActionName((RelationshipAction)99));
    }

    [Fact]
    public void Null_ids_and_keys_are_refused()
    {
        Assert.Equal("id", Assert.Throws<ArgumentNullException>(() => RelationshipKeys.Escape(null!)).ParamName);
        Assert.Equal("key", Assert.Throws<ArgumentNullException>(() => RelationshipKeys.Unescape(null!)).ParamName);
    }
}
