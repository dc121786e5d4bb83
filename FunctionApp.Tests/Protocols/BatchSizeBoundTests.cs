using FunctionApp.Core;
using FunctionApp.Protocols;

namespace FunctionApp.Tests.Protocols;

/// <summary>The splitter skips measuring a batch whose size bound already fits; the bound must never be too low.</summary>
public class BatchSizeBoundTests
{
    private static RelationshipBatch Batch(string text, int events, int attributes)
    {
        var time = DateTimeOffset.MaxValue.ToOffset(TimeSpan.FromHours(-14)).AddTicks(-1);
        var source = new CallbackSource(text, text, text, text, text, time, time, text);
        var list = Enumerable.Range(0, events)
            .Select(i => new RelationshipEvent(text + i, RelationshipKind.FriendRequest, RelationshipAction.Responded, text, text, time,
                Enumerable.Range(0, attributes).ToDictionary(a => text + a, _ => text)))
            .ToList();
        return new RelationshipBatch(int.MaxValue, text, int.MinValue, int.MinValue, source, list);
    }

    public static TheoryData<string> Texts() => new()
    {
        "",
        "a",
        "plain-ascii-user-id",
        "\"\\\u0001\u001f<>&'+`",
        "é中文\u2028\u2029",
        "\U0001F600\U0001F600",
        new string('\u0001', 300),
    };

    [Theory]
    [MemberData(nameof(Texts))]
    public void The_bound_is_at_least_the_serialized_size(string text)
    {
        foreach (var (events, attributes) in new[] { (0, 0), (1, 0), (3, 7), (20, 2) })
        {
            var batch = Batch(text, events, attributes);
            Assert.True(BatchSplitter.MaxSerializedBytes(batch) >= RelationshipBatchJson.Serialize(batch).Length,
                $"bound below the size for {events} events with {attributes} attributes of '{text}'");
        }
    }

    [Fact]
    public void A_batch_that_fits_only_by_its_real_size_is_still_one_part()
    {
        var batch = Batch(new string('\u0001', 40), 3, 2);
        var size = RelationshipBatchJson.Serialize(batch).Length;
        Assert.True(BatchSplitter.MaxSerializedBytes(batch) > size);

        var parts = BatchSplitter.Split(batch.BatchId, batch.Source, batch.Events, size);

        Assert.Equal(batch.Events, Assert.Single(parts).Events);
    }
}
