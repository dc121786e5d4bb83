using System.Text.Json;
using FunctionApp.Core;
using FunctionApp.Protocols.Tencent;
using static FunctionApp.Tests.Protocols.CallbackFactory;

namespace FunctionApp.Tests.Protocols;

public class SplittingAndPlatformTests
{
    [Fact]
    public void A_thousand_pair_callback_with_long_ids_is_split_into_parts_that_each_fit_and_together_hold_every_event_once()
    {
        var body = HostileBodyTests.PairList(1000, idLength: 128);
        var result = Ingestor().Ingest(Tencent(TencentCommands.FriendAdd, body));

        Assert.Equal(200, result.Answer.StatusCode);
        Assert.True(result.Batches.Count > 1, $"expected several parts, got {result.Batches.Count}");
        var batchId = result.Batches[0].BatchId;
        for (var i = 0; i < result.Batches.Count; i++)
        {
            var part = result.Batches[i];
            Assert.Equal(batchId, part.BatchId);
            Assert.Equal(i + 1, part.Part);
            Assert.Equal(result.Batches.Count, part.PartCount);
            var bytes = RelationshipBatchJson.Serialize(part);
            Assert.True(bytes.Length <= 192 * 1024, $"part {part.Part} is {bytes.Length} bytes");
            Assert.Equal(part.Events.Count, RelationshipBatchJson.Deserialize(bytes).Events.Count);
        }

        var events = AllEvents(result);
        Assert.Equal(1000, events.Count);
        Assert.Equal(1000, events.Select(e => e.EventId).Distinct().Count());
        using var document = JsonDocument.Parse(body);
        var expectedPeers = document.RootElement.GetProperty("PairList").EnumerateArray().Select(p => p.GetProperty("To_Account").GetString()).ToList();
        Assert.Equal(expectedPeers, events.Select(e => e.Peer));
    }

    [Fact]
    public void Parts_use_the_message_limit_closely_and_respect_a_smaller_limit()
    {
        var body = HostileBodyTests.PairList(200, idLength: 64);
        var result = Ingestor(limits: l => l.MaxMessageBytes = 16 * 1024).Ingest(Tencent(TencentCommands.FriendAdd, body));
        var sizes = result.Batches.Select(b => RelationshipBatchJson.Serialize(b).Length).ToList();
        Assert.True(sizes.Count > 2);
        Assert.All(sizes, size => Assert.InRange(size, 1, 16 * 1024));
        Assert.All(sizes.SkipLast(1), size => Assert.True(size > 14 * 1024, $"a part of {size} bytes wastes room"));
        Assert.Equal(200, AllEvents(result).Count);
    }

    [Fact]
    public void A_small_callback_is_one_part()
    {
        var result = Ingestor().Ingest(Tencent(TencentCommands.FriendAdd, HostileBodyTests.PairList(3)));
        var batch = Assert.Single(result.Batches);
        Assert.Equal((1, 1, RelationshipBatch.CurrentSchemaVersion), (batch.Part, batch.PartCount, batch.SchemaVersion));
    }

    [Fact]
    public void An_event_too_large_for_any_message_is_refused_with_413()
    {
        var result = Ingestor(limits: l => l.MaxMessageBytes = 600).Ingest(Tencent(TencentCommands.FriendAdd, HostileBodyTests.PairList(1, idLength: 128)));
        HostileBodyTests.AssertRefused("tencent", result, 413);
    }

    [Theory]
    [InlineData("wechat")]
    [InlineData("")]
    [InlineData("tencent2")]
    public void An_unknown_platform_gets_a_problem_details_404(string platform)
    {
        var callback = Tencent(TencentCommands.FriendAdd, HostileBodyTests.PairList(1)) with { Platform = platform };
        var result = Ingestor().Ingest(callback);
        Assert.Equal(404, result.Answer.StatusCode);
        Assert.Equal("application/problem+json", result.Answer.ContentType);
        Assert.Empty(result.Batches);
        Assert.Equal("rejected", result.Outcome.Outcome);
        var problem = AnswerJson(result);
        Assert.Equal(404, problem.GetProperty("status").GetInt32());
        Assert.Equal("Unknown callback platform", problem.GetProperty("title").GetString());
        Assert.Contains("/api/callbacks/openim", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("TENCENT")]
    [InlineData("Tencent")]
    public void Platform_is_matched_case_insensitively(string platform)
    {
        var callback = Tencent(TencentCommands.FriendAdd, HostileBodyTests.PairList(1)) with { Platform = platform };
        var result = Ingestor().Ingest(callback);
        Assert.Equal("tencent", Assert.Single(result.Batches).Source.Platform);
    }
}
