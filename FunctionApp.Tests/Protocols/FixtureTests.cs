using System.Text.Json;
using FunctionApp.Core;
using FunctionApp.Protocols.OpenIm;
using FunctionApp.Protocols.Tencent;
using static FunctionApp.Tests.Protocols.CallbackFactory;

namespace FunctionApp.Tests.Protocols;

/// <summary>
/// Every documented request (and realistic variants) in Fixtures/&lt;platform&gt;/&lt;command&gt;/, each with its
/// expected events and answer beside it in &lt;name&gt;.expected.json.
/// </summary>
public class FixtureTests
{
    public static TheoryData<string, string> TencentFixtures() => Fixtures("tencent");

    public static TheoryData<string, string> OpenImFixtures() => Fixtures("openim");

    private static TheoryData<string, string> Fixtures(string platform)
    {
        var data = new TheoryData<string, string>();
        foreach (var file in Directory.EnumerateFiles(Path.Combine(FixturesRoot, platform), "*.json", SearchOption.AllDirectories)
                     .Where(f => !f.EndsWith(".expected.json", StringComparison.Ordinal))
                     .Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetFileName(Path.GetDirectoryName(file)!), Path.GetFileName(file));
        }

        return data;
    }

    [Fact]
    public void Every_command_of_both_platforms_has_a_documented_fixture()
    {
        foreach (var command in TencentCommands.All)
        {
            Assert.True(File.Exists(Path.Combine(FixturesRoot, "tencent", command, "documented.json")), command);
        }

        foreach (var command in OpenImCommands.All)
        {
            Assert.True(File.Exists(Path.Combine(FixturesRoot, "openim", command, "documented.json")), command);
        }
    }

    [Theory]
    [MemberData(nameof(TencentFixtures))]
    public void Tencent_fixture_normalizes_as_expected(string command, string file)
    {
        var body = File.ReadAllBytes(Path.Combine(FixturesRoot, "tencent", command, file));
        var result = Ingestor().Ingest(Tencent(command, body));

        AssertExpected(Path.Combine(FixturesRoot, "tencent", command, file), result, command, "tencent", CallbackFactory.UnsignedApp);
        Assert.All(result.Batches, b =>
        {
            Assert.Equal("10.0.0.7", b.Source.ClientIp);
            Assert.Equal("iOS", b.Source.OptPlatform);
        });
    }

    [Theory]
    [MemberData(nameof(OpenImFixtures))]
    public void OpenIm_fixture_normalizes_as_expected_with_the_command_in_the_path(string command, string file)
    {
        var path = Path.Combine(FixturesRoot, "openim", command, file);
        var result = Ingestor().Ingest(OpenIm(command, File.ReadAllBytes(path)));
        AssertExpected(path, result, command, "openim", "openim");
        Assert.All(result.Batches, b => Assert.Equal("op-1", b.Source.OperationId));
    }

    [Theory]
    [MemberData(nameof(OpenImFixtures))]
    public void OpenIm_fixture_normalizes_the_same_with_the_legacy_command_query(string command, string file)
    {
        var path = Path.Combine(FixturesRoot, "openim", command, file);
        var body = File.ReadAllBytes(path);
        var legacy = Ingestor().Ingest(OpenIm("", body, new Dictionary<string, string> { ["command"] = command }));
        var current = Ingestor().Ingest(OpenIm(command, body));

        AssertExpected(path, legacy, command, "openim", "openim");
        Assert.Equal(AllEvents(current), AllEvents(legacy), EventComparer.Instance);
    }

    private static void AssertExpected(string fixturePath, IngestResult result, string command, string platform, string appId)
    {
        using var expected = JsonDocument.Parse(File.ReadAllText(fixturePath.Replace(".json", ".expected.json", StringComparison.Ordinal)));
        var root = expected.RootElement;

        Assert.Equal(200, result.Answer.StatusCode);
        Assert.True(JsonElement.DeepEquals(root.GetProperty("answer"), AnswerJson(result)), result.Answer.Body);
        Assert.Equal("accepted", result.Outcome.Outcome);
        Assert.Equal(command, result.Outcome.Command);

        var events = AllEvents(result);
        var expectedEvents = root.GetProperty("events").EnumerateArray().ToList();
        Assert.Equal(expectedEvents.Count, events.Count);
        Assert.Equal(expectedEvents.Count, result.Outcome.EventCount);
        DateTimeOffset? sourceTime = root.TryGetProperty("sourceTimeUnixMs", out var ms) ? DateTimeOffset.FromUnixTimeMilliseconds(ms.GetInt64()) : null;
        for (var i = 0; i < events.Count; i++)
        {
            var want = expectedEvents[i];
            var got = events[i];
            Assert.Equal(want.GetProperty("kind").GetString(), JsonNamingOf(got.Kind));
            Assert.Equal(want.GetProperty("action").GetString(), JsonNamingOf(got.Action));
            Assert.Equal(want.GetProperty("owner").GetString(), got.Owner);
            Assert.Equal(want.GetProperty("peer").GetString(), got.Peer);
            var attributes = want.GetProperty("attributes").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);
            Assert.Equal(attributes.OrderBy(a => a.Key, StringComparer.Ordinal), got.Attributes.OrderBy(a => a.Key, StringComparer.Ordinal));
            Assert.Equal(sourceTime ?? ReceivedAt, got.OccurredAt);
            Assert.Matches("^[0-9a-f]{32}$", got.EventId);
        }

        Assert.Equal(events.Count, events.Select(e => e.EventId).Distinct().Count());
        Assert.All(result.Batches, b =>
        {
            Assert.Equal(platform, b.Source.Platform);
            Assert.Equal(appId, b.Source.AppId);
            Assert.Equal(command, b.Source.Command);
            Assert.Equal(sourceTime, b.Source.SourceTime);
            Assert.Equal(ReceivedAt, b.Source.ReceivedAt);
        });
        if (events.Count == 0)
        {
            Assert.Empty(result.Batches);
        }
    }

    private static string JsonNamingOf<T>(T value) where T : struct, Enum =>
        JsonSerializer.Serialize(value).Trim('"');
}

internal sealed class EventComparer : IEqualityComparer<RelationshipEvent>
{
    public static readonly EventComparer Instance = new();

    public bool Equals(RelationshipEvent? x, RelationshipEvent? y) =>
        x is not null && y is not null && x with { Attributes = y.Attributes } == y && x.Attributes.Count == y.Attributes.Count
        && x.Attributes.All(a => y.Attributes.TryGetValue(a.Key, out var v) && v == a.Value);

    public int GetHashCode(RelationshipEvent obj) => obj.EventId.GetHashCode(StringComparison.Ordinal);
}
