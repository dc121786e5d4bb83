using FunctionApp.Messaging;

namespace FunctionApp.Tests.Messaging;

public class AcknowledgementPressureTests
{
    private static readonly TimeSpan Target = TimeSpan.FromMilliseconds(100);

    private static EnqueueLatencyWindow Calm => new(20, 0, TimeSpan.FromMilliseconds(40));
    private static EnqueueLatencyWindow Slow => new(20, 0, TimeSpan.FromMilliseconds(101));
    private static EnqueueLatencyWindow Failing => new(20, 1, TimeSpan.FromMilliseconds(30));
    private static EnqueueLatencyWindow NoCallbacks => new(0, 0, TimeSpan.Zero);

    [Fact]
    public void The_limit_starts_at_the_maximum_and_a_calm_window_keeps_it_there()
    {
        var limit = new DrainConcurrencyLimit(4, Target);
        Assert.Equal(4, limit.Current);
        Assert.Equal(4, limit.Adjust(Calm));
        Assert.Equal(4, limit.Adjust(NoCallbacks));
    }

    [Fact]
    public void A_slow_window_halves_the_limit_down_to_a_pause()
    {
        var limit = new DrainConcurrencyLimit(8, Target);
        Assert.Equal([4, 2, 1, 0, 0], Enumerable.Range(0, 5).Select(_ => limit.Adjust(Slow)).ToArray());
    }

    [Fact]
    public void A_failed_enqueue_counts_as_congestion_however_fast_the_others_were()
    {
        var limit = new DrainConcurrencyLimit(4, Target);
        Assert.Equal(2, limit.Adjust(Failing));
    }

    [Fact]
    public void An_enqueue_exactly_at_the_target_is_not_congestion()
    {
        var limit = new DrainConcurrencyLimit(4, Target);
        limit.Adjust(Slow);
        Assert.Equal(3, limit.Adjust(new EnqueueLatencyWindow(5, 0, Target)));
    }

    [Fact]
    public void After_a_pause_the_limit_climbs_back_one_per_calm_window_and_stops_at_the_maximum()
    {
        var limit = new DrainConcurrencyLimit(4, Target);
        while (limit.Current > 0)
        {
            limit.Adjust(Slow);
        }

        Assert.Equal([1, 2, 3, 4, 4], new[] { NoCallbacks, Calm, NoCallbacks, Calm, Calm }.Select(limit.Adjust).ToArray());
    }

    [Fact]
    public void Alternating_load_settles_low_rather_than_at_the_maximum()
    {
        // One slow window in every three: halving outweighs the climbing, so the drain keeps well below its maximum.
        var limit = new DrainConcurrencyLimit(16, Target);
        var seen = new List<int>();
        for (var i = 0; i < 60; i++)
        {
            seen.Add(limit.Adjust(i % 3 == 0 ? Slow : Calm));
        }

        Assert.True(seen.Skip(30).Max() <= 4, string.Join(',', seen));
    }

    [Theory]
    [InlineData(0, 100)]
    [InlineData(4, 0)]
    public void A_limit_needs_a_positive_maximum_and_target(int maximum, int targetMilliseconds)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new DrainConcurrencyLimit(maximum, TimeSpan.FromMilliseconds(targetMilliseconds)));
    }

    [Fact]
    public void The_monitor_reports_count_failures_and_the_slowest_since_the_last_window_then_starts_afresh()
    {
        var monitor = new EnqueueLatencyMonitor();
        Assert.Equal(new EnqueueLatencyWindow(0, 0, TimeSpan.Zero), monitor.TakeWindow());

        monitor.Record(TimeSpan.FromMilliseconds(12), succeeded: true);
        monitor.Record(TimeSpan.FromMilliseconds(250), succeeded: true);
        monitor.Record(TimeSpan.FromMilliseconds(1000), succeeded: false);
        monitor.Record(TimeSpan.FromMilliseconds(30), succeeded: true);

        Assert.Equal(new EnqueueLatencyWindow(4, 1, TimeSpan.FromMilliseconds(1000)), monitor.TakeWindow());
        Assert.Equal(new EnqueueLatencyWindow(0, 0, TimeSpan.Zero), monitor.TakeWindow());
    }

    [Fact]
    public async Task The_monitor_loses_no_enqueue_recorded_from_many_threads()
    {
        var monitor = new EnqueueLatencyMonitor();
        var windows = new List<EnqueueLatencyWindow>();
        using var stop = new CancellationTokenSource();
        var reader = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                windows.Add(monitor.TakeWindow());
                await Task.Yield();
            }
        });

        await Task.WhenAll(Enumerable.Range(0, 8).Select(worker => Task.Run(() =>
        {
            for (var i = 0; i < 10_000; i++)
            {
                monitor.Record(TimeSpan.FromMilliseconds(i % 50), succeeded: i % 100 != 0);
            }
        })));
        await stop.CancelAsync();
        await reader;
        windows.Add(monitor.TakeWindow());

        Assert.Equal(80_000, windows.Sum(w => w.Enqueues));
        Assert.Equal(800, windows.Sum(w => w.Failed));
        Assert.Equal(TimeSpan.FromMilliseconds(49), windows.Max(w => w.Slowest));
    }
}
