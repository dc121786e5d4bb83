using System.Diagnostics;
using FunctionApp.Core;
using FunctionApp.Messaging;
using FunctionApp.Tests.Hosting;
using Microsoft.Extensions.Time.Testing;

namespace FunctionApp.Tests.Messaging;

public sealed class RelationshipBatchProcessorTests
{
    private readonly RecordingBatchApplier _applier = new();
    private readonly CapturingLoggerProvider _logs = new();

    private RelationshipBatchProcessor Processor(RedeliveryOptions? options = null, TimeProvider? time = null) =>
        new(_applier, options ?? new RedeliveryOptions { RetryWithinDelivery = TimeSpan.Zero }, time ?? TimeProvider.System,
            new Microsoft.Extensions.Logging.LoggerFactory([_logs]));

    private static Func<ReadOnlyMemory<byte>> Body(RelationshipBatch batch) => () => RelationshipBatchJson.Serialize(batch);

    [Fact]
    public async Task An_applied_batch_is_applied_with_the_batch_and_one_log_line()
    {
        var batch = Samples.Batch("b-ok", 2, 3);

        var outcome = await Processor().ProcessAsync(Body(batch), new BatchDelivery(4), CancellationToken.None);

        Assert.Equal((BatchOutcomeKind.Applied, "b-ok", (string?)null), (outcome.Kind, outcome.Batch!.BatchId, outcome.Reason));
        Assert.Equal("b-ok", Assert.Single(_applier.Applied).BatchId);
        Assert.Contains(_logs.Messages, m => m.StartsWith("Batch batchId=b-ok part=2/3", StringComparison.Ordinal)
            && m.Contains("outcome=applied", StringComparison.Ordinal) && m.Contains("deliveryCount=4", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_store_failure_on_a_first_delivery_is_retry_later_with_the_first_redelivery()
    {
        _applier.FailWith = new IOException("table service timed out\nsecond line");
        var time = new FakeTimeProvider(Samples.Time);

        var outcome = await Processor(new RedeliveryOptions { RetryWithinDelivery = TimeSpan.Zero, FirstDelay = TimeSpan.FromSeconds(7) }, time)
            .ProcessAsync(Body(Samples.Batch("b-fail")), new BatchDelivery(1), CancellationToken.None);

        Assert.Equal(BatchOutcomeKind.RetryLater, outcome.Kind);
        Assert.Equal("IOException: table service timed out", outcome.Reason);
        Assert.Equal(new Redelivery(TimeSpan.FromSeconds(7), new RedeliveryState(1, Samples.Time)), outcome.Redelivery);
        Assert.Contains(_logs.Messages, m => m.Contains("batchId=b-fail", StringComparison.Ordinal) && m.Contains("outcome=retry", StringComparison.Ordinal)
            && m.Contains("redelivery=1 after 7 s", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_redelivered_batch_that_fails_again_carries_its_first_failure_on_with_a_longer_delay()
    {
        _applier.FailWith = new IOException("still down");
        var firstFailure = Samples.Time.AddMinutes(-3);

        var outcome = await Processor(new RedeliveryOptions { RetryWithinDelivery = TimeSpan.Zero, FirstDelay = TimeSpan.FromSeconds(10) },
                new FakeTimeProvider(Samples.Time))
            .ProcessAsync(Body(Samples.Batch()), new BatchDelivery(1, new RedeliveryState(3, firstFailure)), CancellationToken.None);

        Assert.Equal(new Redelivery(TimeSpan.FromSeconds(80), new RedeliveryState(4, firstFailure)), outcome.Redelivery);
    }

    [Fact]
    public async Task A_batch_failing_for_the_whole_retry_period_is_given_up_on_after_one_more_try()
    {
        _applier.FailWith = new IOException("still down");
        var options = new RedeliveryOptions { RetryWithinDelivery = TimeSpan.FromSeconds(30), ParkAfter = TimeSpan.FromHours(6) };
        var firstFailure = Samples.Time - TimeSpan.FromHours(6);

        var outcome = await Processor(options, new FakeTimeProvider(Samples.Time))
            .ProcessAsync(Body(Samples.Batch()), new BatchDelivery(1, new RedeliveryState(40, firstFailure)), CancellationToken.None);

        Assert.Equal(BatchOutcomeKind.RetryPeriodExceeded, outcome.Kind);
        Assert.Null(outcome.Redelivery);
        Assert.Equal(1, _applier.Calls);
        Assert.Contains("since 2023-11-14T16:13:20.0000000Z", outcome.Reason, StringComparison.Ordinal);
        Assert.Contains("IOException: still down", outcome.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_transient_store_failure_is_retried_within_the_delivery_and_applied()
    {
        _applier.FailWith = new IOException("blip");
        _applier.FailuresLeft = 2;

        var outcome = await Processor(new RedeliveryOptions { RetryWithinDelivery = TimeSpan.FromSeconds(20) })
            .ProcessAsync(Body(Samples.Batch("b-blip")), new BatchDelivery(1), CancellationToken.None);

        Assert.Equal(BatchOutcomeKind.Applied, outcome.Kind);
        Assert.Equal(3, _applier.Calls);
        Assert.Single(_applier.Applied);
    }

    [Fact]
    public async Task Retries_within_the_delivery_stop_at_their_bound_and_report_the_store_failure()
    {
        _applier.FailWith = new IOException("down");
        var clock = Stopwatch.StartNew();

        var outcome = await Processor(new RedeliveryOptions { RetryWithinDelivery = TimeSpan.FromSeconds(2.5) })
            .ProcessAsync(Body(Samples.Batch()), new BatchDelivery(1), CancellationToken.None);

        Assert.Equal(BatchOutcomeKind.RetryLater, outcome.Kind);
        Assert.Equal("IOException: down", outcome.Reason);
        Assert.InRange(_applier.Calls, 2, 4);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"{clock.Elapsed}");
    }

    [Fact]
    public async Task A_batch_the_store_can_never_hold_is_never_applicable_at_once_without_retries()
    {
        _applier.FailWith = new InvalidBatchException("The batch cannot be stored: a key is too long");

        var outcome = await Processor(new RedeliveryOptions { RetryWithinDelivery = TimeSpan.FromSeconds(20) })
            .ProcessAsync(Body(Samples.Batch("b-long")), new BatchDelivery(1), CancellationToken.None);

        Assert.Equal((BatchOutcomeKind.NeverApplicable, "b-long"), (outcome.Kind, outcome.Batch?.BatchId));
        Assert.Contains("key is too long", outcome.Reason, StringComparison.Ordinal);
        Assert.Equal(1, _applier.Calls);
    }

    [Theory]
    [InlineData("{\"schemaVersion\":99}", "schemaVersion 99")]
    [InlineData("not json", "not a relationship batch")]
    [InlineData("null", "JSON null")]
    public async Task A_message_that_is_no_batch_is_never_applicable_and_the_store_is_not_called(string body, string reason)
    {
        var outcome = await Processor().ProcessAsync(() => System.Text.Encoding.UTF8.GetBytes(body), new BatchDelivery(1), CancellationToken.None);

        Assert.Equal(BatchOutcomeKind.NeverApplicable, outcome.Kind);
        Assert.Contains(reason, outcome.Reason, StringComparison.Ordinal);
        Assert.Null(outcome.Batch);
        Assert.Equal(0, _applier.Calls);
    }

    [Fact]
    public async Task A_transport_form_that_cannot_be_read_is_never_applicable_with_the_readers_reason()
    {
        var outcome = await Processor().ProcessAsync(() => RelationshipQueueMessage.DecodeJson("not base64!"), new BatchDelivery(2), CancellationToken.None);

        Assert.Equal(BatchOutcomeKind.NeverApplicable, outcome.Kind);
        Assert.Contains("not base64", outcome.Reason, StringComparison.Ordinal);
        Assert.Contains(_logs.Messages, m => m.Contains("outcome=invalid", StringComparison.Ordinal) && m.Contains("not base64", StringComparison.Ordinal)
            && m.Contains("deliveryCount=2", StringComparison.Ordinal));
    }
}
