using FunctionApp.Core;
using FunctionApp.Messaging;
using FunctionApp.Tests.Hosting;

namespace FunctionApp.Tests.Messaging;

public sealed class RelationshipBatchProcessorTests
{
    private readonly RecordingBatchApplier _applier = new();
    private readonly CapturingLoggerProvider _logs = new();

    private RelationshipBatchProcessor Processor() => new(_applier, new Microsoft.Extensions.Logging.LoggerFactory([_logs]));

    [Fact]
    public async Task An_applied_batch_is_applied_with_the_batch_and_one_log_line()
    {
        var batch = Samples.Batch("b-ok", 2, 3);

        var outcome = await Processor().ProcessAsync(RelationshipBatchJson.Serialize(batch), deliveryCount: 4, CancellationToken.None);

        Assert.Equal((BatchOutcomeKind.Applied, "b-ok", (string?)null), (outcome.Kind, outcome.Batch!.BatchId, outcome.Reason));
        Assert.Equal("b-ok", Assert.Single(_applier.Applied).BatchId);
        Assert.Contains(_logs.Messages, m => m.StartsWith("Batch batchId=b-ok part=2/3", StringComparison.Ordinal)
            && m.Contains("outcome=applied", StringComparison.Ordinal) && m.Contains("deliveryCount=4", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_store_failure_is_retry_later_with_the_reason()
    {
        _applier.FailWith = new IOException("table service timed out\nsecond line");

        var outcome = await Processor().ProcessAsync(RelationshipBatchJson.Serialize(Samples.Batch("b-fail")), 1, CancellationToken.None);

        Assert.Equal(BatchOutcomeKind.RetryLater, outcome.Kind);
        Assert.Equal("IOException: table service timed out", outcome.Reason);
        Assert.Contains(_logs.Messages, m => m.Contains("batchId=b-fail", StringComparison.Ordinal) && m.Contains("outcome=failed", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("{\"schemaVersion\":99}", "schemaVersion 99")]
    [InlineData("not json", "not a relationship batch")]
    [InlineData("null", "JSON null")]
    public async Task A_message_that_is_no_batch_is_never_applicable_and_the_store_is_not_called(string body, string reason)
    {
        var outcome = await Processor().ProcessAsync(System.Text.Encoding.UTF8.GetBytes(body), 1, CancellationToken.None);

        Assert.Equal(BatchOutcomeKind.NeverApplicable, outcome.Kind);
        Assert.Contains(reason, outcome.Reason, StringComparison.Ordinal);
        Assert.Null(outcome.Batch);
        Assert.Empty(_applier.Applied);
    }
}
