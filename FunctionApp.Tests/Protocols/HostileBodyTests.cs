using System.Globalization;
using System.Text;
using System.Text.Json;
using FunctionApp.Core;
using static FunctionApp.Tests.Protocols.CallbackFactory;

namespace FunctionApp.Tests.Protocols;

/// <summary>Broken and hostile bodies: each gets a specific 4xx in the platform's format, and nothing is queued.</summary>
public class HostileBodyTests
{
    public static TheoryData<string, string> HostileFixtures()
    {
        var data = new TheoryData<string, string>();
        foreach (var platform in new[] { "tencent", "openim" })
        {
            foreach (var file in Directory.EnumerateFiles(Path.Combine(FixturesRoot, "hostile", platform), "*.json").Order(StringComparer.Ordinal))
            {
                data.Add(platform, Path.GetFileName(file));
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(HostileFixtures))]
    public void Hostile_fixture_is_refused_with_its_status(string platform, string file)
    {
        // File names read <status>-<command>-<what>.json.
        var parts = file.Split('-', 3);
        var status = int.Parse(parts[0], CultureInfo.InvariantCulture);
        var command = parts[1];
        var body = File.ReadAllBytes(Path.Combine(FixturesRoot, "hostile", platform, file));

        var result = platform == "tencent"
            ? Ingestor().Ingest(Tencent(command, body))
            : Ingestor().Ingest(OpenIm(command, body));

        AssertRefused(platform, result, status);
    }

    public static TheoryData<string, byte[], int> GeneratedHostileBodies() => new()
    {
        { "nesting 10,000 objects deep", Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("{\"a\":", 10_000)) + "1" + new string('}', 10_000)), 400 },
        { "one more pair than allowed", PairList(1001), 400 },
        { "a body one byte over the limit", new byte[1024 * 1024 + 1], 413 },
        { "lone high surrogate in a user id", Encoding.UTF8.GetBytes("{\"PairList\":[{\"From_Account\":\"a\\udbff\",\"To_Account\":\"b\"}]}"), 400 },
        { "overlong UTF-8 encoding", [(byte)'{', (byte)'"', 0xC0, 0xAF, (byte)'"', (byte)':', (byte)'1', (byte)'}'], 400 },
        { "a NUL byte outside strings", Encoding.UTF8.GetBytes("{\"PairList\":[]}\0"), 400 },
    };

    [Theory]
    [MemberData(nameof(GeneratedHostileBodies))]
    public void Generated_hostile_body_is_refused_by_both_platforms(string what, byte[] body, int status)
    {
        Assert.False(string.IsNullOrEmpty(what));
        AssertRefused("tencent", Ingestor().Ingest(Tencent("Sns.CallbackFriendAdd", body)), status);
        AssertRefused("openim", Ingestor().Ingest(OpenIm("callbackAfterImportFriendsCommand", body)), status);
    }

    [Fact]
    public void Too_many_import_ids_is_refused()
    {
        var ids = string.Join(",", Enumerable.Range(0, 11).Select(i => $"\"u{i}\""));
        var body = Utf8($"{{\"ownerUserID\":\"o\",\"friendUserIDs\":[{ids}]}}");
        var result = Ingestor(limits: l => l.MaxPairs = 10).Ingest(OpenIm("callbackAfterImportFriendsCommand", body));
        AssertRefused("openim", result, 400);
        Assert.Contains("at most 10", result.Outcome.Reason, StringComparison.Ordinal);
    }

    internal static byte[] PairList(int pairs, int idLength = 8) =>
        JsonSerializer.SerializeToUtf8Bytes(new
        {
            CallbackCommand = "Sns.CallbackFriendAdd",
            PairList = Enumerable.Range(0, pairs).Select(i => new Dictionary<string, string>
            {
                ["From_Account"] = "owner".PadRight(idLength, 'o'),
                ["To_Account"] = i.ToString("D6", CultureInfo.InvariantCulture).PadRight(idLength, 'p'),
                ["Initiator_Account"] = "owner".PadRight(idLength, 'o'),
            }),
            ClientCmd = "friend_add",
        });

    internal static void AssertRefused(string platform, IngestResult result, int status)
    {
        Assert.Equal(status, result.Answer.StatusCode);
        Assert.Empty(result.Batches);
        Assert.Equal("rejected", result.Outcome.Outcome);
        Assert.False(string.IsNullOrWhiteSpace(result.Outcome.Reason));
        Assert.Equal(result.Answer, result.EnqueueFailedAnswer);
        var answer = AnswerJson(result);
        if (platform == "tencent")
        {
            Assert.Equal("FAIL", answer.GetProperty("ActionStatus").GetString());
            Assert.Equal(1, answer.GetProperty("ErrorCode").GetInt32());
            Assert.Equal(result.Outcome.Reason, answer.GetProperty("ErrorInfo").GetString());
        }
        else
        {
            Assert.Equal(1, answer.GetProperty("actionCode").GetInt32());
            Assert.InRange(answer.GetProperty("errCode").GetInt32(), 20001, 29999);
            Assert.Equal(result.Outcome.Reason, answer.GetProperty("errMsg").GetString());
            Assert.Equal(0, answer.GetProperty("nextCode").GetInt32());
        }
    }
}
